/* health.c — monitor_health: a 0-100 score, trend, leak and threshold alerts, sampled limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/sdk.h>

#include "hm.h"

/* Scores of instances without samples (no sampler, or a process not running) still change as
 * restarts leave the window: they are re-evaluated at this pace. Unknown instances are swept
 * every HM_SWEEP_TICKS ticks. */
#define HM_TICK_MS 5000
#define HM_SWEEP_TICKS 12

static const struct vigil_config_key health_keys[] = {
    {"score_step", VIGIL_KEY_INT, "5", 0,
     "publish health.changed when the score moved by this many points (or level/trend changed)",
     NULL},
    {"trend_window", VIGIL_KEY_INT, "60", 0,
     "samples in the sliding window of the trend and of the memory-leak fit (3 to 3600)", NULL},
    {"trend_band", VIGIL_KEY_DOUBLE, "5", 0,
     "dead band of the trend: points the fitted score must move across the window", NULL},
    {"restart_window", VIGIL_KEY_DURATION, "5m", 0,
     "unexpected exits within this long lower the score", NULL},
    {"restart_penalty", VIGIL_KEY_DOUBLE, "10", 0, "points per unexpected exit in the window",
     NULL},
    {"restart_penalty_max", VIGIL_KEY_DOUBLE, "50", 0, "at most this many points for restarts",
     NULL},
    {"check_penalty", VIGIL_KEY_DOUBLE, "50", 0,
     "points per active failed liveness alert (unhealthy, watchdog)", NULL},
    {"memory_weight", VIGIL_KEY_DOUBLE, "40", 0,
     "points for memory use: 0 at half of limit_memory, all of them at the limit", NULL},
    {"cpu_weight", VIGIL_KEY_DOUBLE, "30", 0,
     "points for CPU use: 0 at half of limit_cpu, all of them at the limit", NULL},
    {"leak_penalty", VIGIL_KEY_DOUBLE, "10", 0,
     "points while a memory-leak alert is active (twice as many when critical)", NULL},
    {"raise_after", VIGIL_KEY_INT, "3", 0, "consecutive bad samples before an alert is raised",
     NULL},
    {"clear_after", VIGIL_KEY_INT, "3", 0, "consecutive good samples before it is cleared",
     NULL},
    {"memory_warning", VIGIL_KEY_PERCENT, "80%", 0, "memory-high warning, % of limit_memory",
     NULL},
    {"memory_critical", VIGIL_KEY_PERCENT, "95%", 0, "memory-high critical, % of limit_memory",
     NULL},
    {"memory_emergency", VIGIL_KEY_PERCENT, "100%", 0,
     "memory-high emergency, % of limit_memory", NULL},
    {"cpu_warning", VIGIL_KEY_PERCENT, "90%", 0, "cpu-high warning, % of limit_cpu", NULL},
    {"cpu_critical", VIGIL_KEY_PERCENT, "100%", 0, "cpu-high critical, % of limit_cpu", NULL},
    {"cpu_emergency", VIGIL_KEY_PERCENT, "150%", 0, "cpu-high emergency, % of limit_cpu", NULL},
    {"leak_r2", VIGIL_KEY_DOUBLE, "0.8", 0,
     "how well RSS must fit a rising line (r squared, 0 to 1) to be called a leak", NULL},
    {"leak_horizon", VIGIL_KEY_DURATION, "10m", 0,
     "memory-leak is critical when limit_memory would be reached sooner than this", NULL},
    {"leak_min_growth", VIGIL_KEY_PERCENT, "50%", 0,
     "without limit_memory, a leak must have grown RSS by this much over the window", NULL},
    {"limit_samples", VIGIL_KEY_INT, "3", 0,
     "consecutive samples over limit_memory or limit_cpu that make a violation", NULL},
    {"cpu_slack", VIGIL_KEY_PERCENT, "5%", 0,
     "a CPU sample is over limit_cpu only past the limit plus this share of it", NULL},
    {"enforce", VIGIL_KEY_BOOL, "true", 0,
     "act on limit_memory and limit_cpu from samples (on_limit); false: score and alert only",
     NULL},
    VIGIL_KEYS_END,
};

/* ---- events ------------------------------------------------------------------------------ */

static void hm_on_exited(struct hm *h, struct hm_inst *in, const struct vigil_ev_process_exited *x)
{
	int st;

	if (!x->expected) {
		in->exits[in->exit_head] = h->host->now_ms();
		in->exit_head = (in->exit_head + 1) % HM_MAX_EXITS;
		if (in->nexits < HM_MAX_EXITS)
			in->nexits++;
	}
	hm_new_process(h, in, 0);
	st = hm_proc_state(h, in->name);
	if (st == -ENOENT) {
		hm_remove(h, in); /* removed from the configuration */
		return;
	}
	hm_evaluate(h, in, 0);
	if (st == VIGIL_PROC_STOPPED || st == VIGIL_PROC_EXITED || st == VIGIL_PROC_FATAL) {
		/* Not coming back on its own: keep the counters, not the windows. */
		hm_ring_free(&in->scores);
		hm_ring_free(&in->rsss);
	}
}

static void hm_on_check_alert(struct hm *h, const struct vigil_ev_alert *a)
{
	unsigned bit;
	struct hm_inst *in;

	if (!a->alert)
		return;
	if (strcmp(a->alert, "unhealthy") == 0)
		bit = HM_CHECK_UNHEALTHY;
	else if (strcmp(a->alert, "watchdog") == 0)
		bit = HM_CHECK_WATCHDOG;
	else
		return; /* ours, or another monitor's */
	in = hm_get(h, a->hdr.subject);
	if (!in)
		return;
	if (a->hdr.type == VIGIL_EV_ALERT_RAISED)
		in->checks |= bit;
	else
		in->checks &= ~bit;
	hm_evaluate(h, in, 0);
}

static void hm_on_event(const struct vigil_event *ev, void *arg)
{
	struct hm *h = arg;
	struct hm_inst *in;
	int32_t pid;

	if (ev->type == VIGIL_EV_CONFIG_RELOADED) {
		hm_sweep(h); /* limits may have changed, instances gone */
		return;
	}
	if (!ev->subject)
		return;
	if (ev->type == VIGIL_EV_ALERT_RAISED || ev->type == VIGIL_EV_ALERT_CLEARED) {
		hm_on_check_alert(h, (const struct vigil_ev_alert *)(const void *)ev);
		return;
	}
	in = hm_get(h, ev->subject);
	if (!in) {
		if (!h->said_oom++)
			h->host->log(h->self, VIGIL_LOG_ERROR,
			             "out of memory: %s is not scored", ev->subject);
		return;
	}
	switch (ev->type) {
	case VIGIL_EV_METRICS_SAMPLE:
		hm_on_sample(h, in, (const struct vigil_ev_metrics_sample *)(const void *)ev);
		break;
	case VIGIL_EV_PROCESS_STARTING:
		hm_refresh_limits(h, in);
		break;
	case VIGIL_EV_PROCESS_RUNNING:
	case VIGIL_EV_PROCESS_ADOPTED:
		pid = ev->type == VIGIL_EV_PROCESS_RUNNING
		          ? ((const struct vigil_ev_process_running *)(const void *)ev)->pid
		          : ((const struct vigil_ev_process_adopted *)(const void *)ev)->pid;
		hm_refresh_limits(h, in);
		if (pid > 0 && pid != in->pid)
			hm_new_process(h, in, pid);
		break;
	case VIGIL_EV_PROCESS_EXITED:
		hm_on_exited(h, in, (const struct vigil_ev_process_exited *)(const void *)ev);
		break;
	default:
		break;
	}
}

static void hm_tick(void *arg)
{
	struct hm *h = arg;
	uint64_t now = h->host->now_ms();

	for (size_t i = 0; i < h->n; i++) {
		struct hm_inst *in = h->insts[i];

		if (now - in->last_sample_ms >= HM_TICK_MS && in->score >= 0)
			hm_evaluate(h, in, 0);
	}
	if (++h->ticks % HM_SWEEP_TICKS == 0)
		hm_sweep(h);
}

/* ---- configuration ----------------------------------------------------------------------- */

static int hm_bad(struct hm *h, const char *key, double v, const char *unit,
                  const char *expected)
{
	h->host->log(h->self, VIGIL_LOG_ERROR, "%s = %g%s: expected %s", key, v, unit, expected);
	return -EINVAL;
}

static int hm_int_in(struct hm *h, const struct vigil_config *cfg, const char *key, int64_t lo,
                     int64_t hi, int64_t *out)
{
	*out = h->host->cfg_int(cfg, key);
	if (*out < lo || *out > hi) {
		h->host->log(h->self, VIGIL_LOG_ERROR,
		             "%s = %" PRId64 ": expected a whole number from %" PRId64 " to %" PRId64,
		             key, *out, lo, hi);
		return -EINVAL;
	}
	return 0;
}

static int hm_points(struct hm *h, const struct vigil_config *cfg, const char *key, double *out)
{
	*out = h->host->cfg_double(cfg, key);
	return *out >= 0 && *out <= 100 ? 0 : hm_bad(h, key, *out, "", "points from 0 to 100");
}

/* warning <= critical <= emergency, all above 0. */
static int hm_thresholds(struct hm *h, const struct vigil_config *cfg, const char *what,
                         double *w, double *c, double *e)
{
	char kw[32], kc[32], ke[32];

	snprintf(kw, sizeof kw, "%s_warning", what);
	snprintf(kc, sizeof kc, "%s_critical", what);
	snprintf(ke, sizeof ke, "%s_emergency", what);
	*w = h->host->cfg_double(cfg, kw);
	*c = h->host->cfg_double(cfg, kc);
	*e = h->host->cfg_double(cfg, ke);
	if (*w <= 0)
		return hm_bad(h, kw, *w, "%", "a percentage above 0%");
	if (*c < *w) {
		h->host->log(h->self, VIGIL_LOG_ERROR,
		             "%s = %g%%: expected at least %s (%g%%)", kc, *c, kw, *w);
		return -EINVAL;
	}
	if (*e < *c) {
		h->host->log(h->self, VIGIL_LOG_ERROR,
		             "%s = %g%%: expected at least %s (%g%%)", ke, *e, kc, *c);
		return -EINVAL;
	}
	return 0;
}

static int health_configure(void *state, const struct vigil_config *cfg)
{
	struct hm *h = state;
	const struct vigil_host *host = h->host;
	struct hm_conf *c = &h->c;
	int64_t v;

	if (hm_int_in(h, cfg, "score_step", 1, 100, &v) < 0)
		return -EINVAL;
	c->score_step = (int)v;
	if (hm_int_in(h, cfg, "trend_window", 3, 3600, &v) < 0)
		return -EINVAL;
	c->trend_window = (uint32_t)v;
	if (hm_int_in(h, cfg, "raise_after", 1, 1000, &v) < 0)
		return -EINVAL;
	c->raise_after = (uint32_t)v;
	if (hm_int_in(h, cfg, "clear_after", 1, 1000, &v) < 0)
		return -EINVAL;
	c->clear_after = (uint32_t)v;
	if (hm_int_in(h, cfg, "limit_samples", 1, 1000, &v) < 0)
		return -EINVAL;
	c->limit_samples = (uint32_t)v;
	if (hm_points(h, cfg, "trend_band", &c->trend_band) < 0 ||
	    hm_points(h, cfg, "restart_penalty", &c->restart_penalty) < 0 ||
	    hm_points(h, cfg, "restart_penalty_max", &c->restart_penalty_max) < 0 ||
	    hm_points(h, cfg, "check_penalty", &c->check_penalty) < 0 ||
	    hm_points(h, cfg, "memory_weight", &c->memory_weight) < 0 ||
	    hm_points(h, cfg, "cpu_weight", &c->cpu_weight) < 0 ||
	    hm_points(h, cfg, "leak_penalty", &c->leak_penalty) < 0)
		return -EINVAL;
	c->restart_window_ms = host->cfg_duration_ms(cfg, "restart_window");
	c->leak_horizon_ms = host->cfg_duration_ms(cfg, "leak_horizon");
	if (c->restart_window_ms <= 0 || c->leak_horizon_ms <= 0) {
		host->log(h->self, VIGIL_LOG_ERROR, "%s = 0: expected a duration above 0, like %s",
		          c->restart_window_ms <= 0 ? "restart_window" : "leak_horizon",
		          c->restart_window_ms <= 0 ? "5m" : "10m");
		return -EINVAL;
	}
	if (hm_thresholds(h, cfg, "memory", &c->memory_warning, &c->memory_critical,
	                  &c->memory_emergency) < 0 ||
	    hm_thresholds(h, cfg, "cpu", &c->cpu_warning, &c->cpu_critical, &c->cpu_emergency) < 0)
		return -EINVAL;
	c->leak_r2 = host->cfg_double(cfg, "leak_r2");
	if (!(c->leak_r2 > 0 && c->leak_r2 <= 1))
		return hm_bad(h, "leak_r2", c->leak_r2, "",
		              "a number above 0 and at most 1, like 0.8");
	c->leak_min_growth = host->cfg_double(cfg, "leak_min_growth");
	if (c->leak_min_growth <= 0)
		return hm_bad(h, "leak_min_growth", c->leak_min_growth, "%",
		              "a percentage above 0%");
	c->cpu_slack = host->cfg_double(cfg, "cpu_slack");
	c->enforce = host->cfg_bool(cfg, "enforce");
	return 0;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static int health_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct hm *h = calloc(1, sizeof *h);

	if (!h)
		return -ENOMEM;
	h->host = host;
	h->self = self;
	*state = h;
	return 0;
}

static int health_start(void *state)
{
	struct hm *h = state;
	struct vigil_filter f;

	memset(&f, 0, sizeof f);
	vigil_filter_add(&f, VIGIL_EV_METRICS_SAMPLE);
	vigil_filter_add(&f, VIGIL_EV_PROCESS_STARTING);
	vigil_filter_add(&f, VIGIL_EV_PROCESS_RUNNING);
	vigil_filter_add(&f, VIGIL_EV_PROCESS_ADOPTED);
	vigil_filter_add(&f, VIGIL_EV_PROCESS_EXITED);
	vigil_filter_add(&f, VIGIL_EV_ALERT_RAISED);
	vigil_filter_add(&f, VIGIL_EV_ALERT_CLEARED);
	vigil_filter_add(&f, VIGIL_EV_CONFIG_RELOADED);
	/* A fleet sampled every second must not lose samples to a short stall. */
	f.queue_max = 8192;
	h->sub = h->host->subscribe(h->self, &f, hm_on_event, h);
	h->timer = h->host->timer_add(h->self, HM_TICK_MS, HM_TICK_MS, hm_tick, h);
	if (!h->sub || !h->timer) {
		h->host->log(h->self, VIGIL_LOG_ERROR,
		             "cannot subscribe to the bus or add a timer: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void health_stop(void *state)
{
	struct hm *h = state;

	if (h->sub)
		h->host->unsubscribe(h->sub);
	if (h->timer)
		h->host->timer_cancel(h->timer);
	h->sub = NULL;
	h->timer = NULL;
}

static void health_fini(void *state)
{
	struct hm *h = state;

	hm_free_all(h);
	free(h);
}

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_MONITOR, .name = "health", .version = VIGIL_VERSION_STRING,
                    .description = "scores every instance 0-100 from limits, restarts and "
                                   "liveness checks; trend, leak and threshold alerts; sampled "
                                   "limit_memory / limit_cpu enforcement",
                    .keys = health_keys, .init = health_init, .configure = health_configure,
                    .start = health_start, .stop = health_stop, .fini = health_fini);

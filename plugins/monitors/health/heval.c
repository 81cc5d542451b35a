/* heval.c — monitor_health per sample: alerts, leak detection, sampled limits, score, trend. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#define MSG_MAX 256

/* The alert conditions of an instance, in the order of their ids. */
enum hm_kind { K_MEM_HIGH, K_CPU_HIGH, K_LEAK, K_MEM_OVER, K_CPU_OVER, K_COUNT };

static const char *const alert_ids[K_COUNT] = {"memory-high", "cpu-high", "memory-leak",
                                               "memory-exceeded", "cpu-exceeded"};

static struct hm_alarm *hm_alarm_of(struct hm_inst *in, enum hm_kind k)
{
	switch (k) {
	case K_MEM_HIGH:
		return &in->mem_high;
	case K_CPU_HIGH:
		return &in->cpu_high;
	case K_LEAK:
		return &in->leak;
	case K_MEM_OVER:
		return &in->mem_over;
	default:
		return &in->cpu_over;
	}
}

VIGIL_PRINTF(5, 6)
static void hm_alert(struct hm *h, struct hm_inst *in, enum hm_kind k, int sev, const char *fmt,
                     ...)
{
	char msg[MSG_MAX];
	va_list ap;
	struct vigil_ev_alert ev;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof ev);
	ev.hdr.type = sev > 0 ? VIGIL_EV_ALERT_RAISED : VIGIL_EV_ALERT_CLEARED;
	ev.hdr.size = sizeof ev;
	ev.hdr.subject = in->name;
	ev.alert = alert_ids[k];
	ev.severity = hm_sev_name(sev > 0 ? (enum hm_sev)sev : (enum hm_sev)-sev);
	ev.message = msg;
	h->host->publish(h->self, &ev.hdr);
	h->host->log(h->self, sev > 0 ? VIGIL_LOG_WARN : VIGIL_LOG_INFO, "%s: %s %s (%s): %s",
	             in->name, alert_ids[k], sev > 0 ? "raised" : "cleared", ev.severity, msg);
}

void hm_clear_process_alerts(struct hm *h, struct hm_inst *in)
{
	for (int k = 0; k < K_COUNT; k++) {
		struct hm_alarm *a = hm_alarm_of(in, (enum hm_kind)k);

		if (a->active)
			hm_alert(h, in, (enum hm_kind)k, -(int)a->active,
			         "the process it was about is gone");
		memset(a, 0, sizeof *a);
	}
}

/* ---- memory leak ------------------------------------------------------------------------- */

struct hm_leak {
	enum hm_sev sev;
	int64_t exhaustion_ms; /* -1 = no leak or no limit */
	struct hm_fit f;
	double growth; /* bytes over the window, on the fitted line */
	double start;  /* the fitted line at the oldest point */
};

/* Steady growth: a rising line that fits (r² >= leak_r2) over at least half the window, still
 * rising over the last quarter of it, and big enough to matter: 1% of limit_memory with a
 * limit, leak_min_growth of the starting size without one. */
static void hm_leak_check(struct hm *h, struct hm_inst *in, struct hm_leak *l)
{
	const struct hm_ring *r = &in->rsss;
	uint32_t need = h->c.trend_window / 2 > 5 ? h->c.trend_window / 2 : 5, q;
	double remaining;

	memset(l, 0, sizeof *l);
	l->exhaustion_ms = -1;
	if (r->n < need || hm_fit(r, 0, &l->f) < 0)
		return;
	if (l->f.slope <= 0 || l->f.r2 < h->c.leak_r2)
		return;
	q = r->n / 4 ? r->n / 4 : 1;
	if (!(hm_ring_at(r, r->n - 1)->v > hm_ring_at(r, r->n - 1 - q)->v))
		return; /* flat lately: the growth stopped */
	l->growth = l->f.slope * l->f.span_ms;
	l->start = l->f.at_new - l->growth;
	if (in->limit_memory > 0) {
		if (l->growth < 0.01 * (double)in->limit_memory)
			return;
		remaining = (double)in->limit_memory - in->rss;
		l->exhaustion_ms = remaining > 0 ? (int64_t)(remaining / l->f.slope) : 0;
		l->sev = l->exhaustion_ms < h->c.leak_horizon_ms ? HM_SEV_CRITICAL : HM_SEV_WARNING;
		return;
	}
	if (l->start > 0 && l->growth > l->start * h->c.leak_min_growth / 100)
		l->sev = HM_SEV_WARNING;
}

static void hm_leak_alert(struct hm *h, struct hm_inst *in, int r, const struct hm_leak *l)
{
	char a[32], b[32], c[32], d[32];

	if (r < 0) {
		hm_alert(h, in, K_LEAK, r, "memory stopped growing steadily (%s now)",
		         hm_bytes(in->rss, a, sizeof a));
	} else if (in->limit_memory > 0) {
		hm_alert(h, in, K_LEAK, r,
		         "memory grows steadily by %s/min (r2 %.2f), %s now: limit_memory (%s) "
		         "reached in about %s",
		         hm_bytes(l->f.slope * 60000, a, sizeof a), l->f.r2,
		         hm_bytes(in->rss, b, sizeof b), hm_bytes((double)in->limit_memory, c, sizeof c),
		         hm_duration(l->exhaustion_ms, d, sizeof d));
	} else {
		hm_alert(h, in, K_LEAK, r,
		         "memory grows steadily by %s/min (r2 %.2f): +%.0f%% in %s, %s now (no "
		         "limit_memory)",
		         hm_bytes(l->f.slope * 60000, a, sizeof a), l->f.r2,
		         l->start > 0 ? 100 * l->growth / l->start : 0,
		         hm_duration((int64_t)l->f.span_ms, b, sizeof b), hm_bytes(in->rss, c, sizeof c));
	}
}

/* ---- thresholds against limits ----------------------------------------------------------- */

static void hm_usage_alerts(struct hm *h, struct hm_inst *in)
{
	const struct hm_conf *c = &h->c;
	char a[32], b[32];
	int r, prev;

	if (in->rss >= 0) {
		double pct = in->limit_memory > 0 ? 100 * in->rss / (double)in->limit_memory : 0;
		enum hm_sev s = in->limit_memory > 0 ? hm_grade(pct, c->memory_warning,
		                                                c->memory_critical,
		                                                c->memory_emergency)
		                                     : HM_SEV_NONE;

		prev = in->mem_high.active;
		r = hm_alarm_step(&in->mem_high, s, c->raise_after, c->clear_after);
		if (r > 0)
			hm_alert(h, in, K_MEM_HIGH, r, "memory %s is %.0f%% of limit_memory (%s)",
			         hm_bytes(in->rss, a, sizeof a), pct,
			         hm_bytes((double)in->limit_memory, b, sizeof b));
		else if (r < 0)
			hm_alert(h, in, K_MEM_HIGH, -prev,
			         "memory back under memory_warning (%s, %.0f%% of limit_memory)",
			         hm_bytes(in->rss, a, sizeof a), pct);
	}
	if (in->cpu >= 0) {
		double pct = in->limit_cpu > 0 ? 100 * in->cpu / in->limit_cpu : 0;
		enum hm_sev s = in->limit_cpu > 0 ? hm_grade(pct, c->cpu_warning, c->cpu_critical,
		                                             c->cpu_emergency)
		                                  : HM_SEV_NONE;

		prev = in->cpu_high.active;
		r = hm_alarm_step(&in->cpu_high, s, c->raise_after, c->clear_after);
		if (r > 0)
			hm_alert(h, in, K_CPU_HIGH, r,
			         "CPU %.0f%% (of one core) is %.0f%% of limit_cpu (%.0f%%)", in->cpu,
			         pct, in->limit_cpu);
		else if (r < 0)
			hm_alert(h, in, K_CPU_HIGH, -prev,
			         "CPU back under cpu_warning (%.0f%%, %.0f%% of limit_cpu)", in->cpu,
			         pct);
	}
}

/* ---- sampled limit enforcement ----------------------------------------------------------- */

static void hm_violate(struct hm *h, struct hm_inst *in, int cpu, double value, double max)
{
	static const char *const actions[] = {"restart", "stop", "alert"};
	static const char *const doing[] = {"restarting it", "stopping it", "alert only"};
	struct vigil_ev_limit_violated ev;
	char a[32], b[32];
	int rc = 0;

	memset(&ev, 0, sizeof ev);
	ev.hdr.type = VIGIL_EV_LIMIT_VIOLATED;
	ev.hdr.size = sizeof ev;
	ev.hdr.subject = in->name;
	ev.limit = cpu ? "cpu" : "memory";
	ev.value = value;
	ev.max = max;
	ev.action = actions[in->on_limit];
	ev.count = cpu ? ++in->viol_cpu : ++in->viol_mem;
	h->host->publish(h->self, &ev.hdr);
	if (cpu)
		h->host->log(h->self, VIGIL_LOG_WARN,
		             "%s: CPU %.0f%% over limit_cpu %.0f%% for %u samples: %s", in->name,
		             value, max, h->c.limit_samples, doing[in->on_limit]);
	else
		h->host->log(h->self, VIGIL_LOG_WARN,
		             "%s: memory %s over limit_memory %s for %u samples: %s", in->name,
		             hm_bytes(value, a, sizeof a), hm_bytes(max, b, sizeof b),
		             h->c.limit_samples, doing[in->on_limit]);
	switch (in->on_limit) {
	case HM_ACT_RESTART:
		rc = h->host->proc_control(in->name, VIGIL_ACT_RESTART, 0);
		break;
	case HM_ACT_STOP:
		rc = h->host->proc_control(in->name, VIGIL_ACT_STOP, 0);
		break;
	case HM_ACT_ALERT: {
		struct hm_alarm *al = cpu ? &in->cpu_over : &in->mem_over;

		memset(al, 0, sizeof *al);
		al->active = HM_SEV_CRITICAL;
		if (cpu)
			hm_alert(h, in, K_CPU_OVER, HM_SEV_CRITICAL,
			         "CPU %.0f%% over limit_cpu (%.0f%%) for %u samples", value, max,
			         h->c.limit_samples);
		else
			hm_alert(h, in, K_MEM_OVER, HM_SEV_CRITICAL,
			         "memory %s over limit_memory (%s) for %u samples",
			         hm_bytes(value, a, sizeof a), hm_bytes(max, b, sizeof b),
			         h->c.limit_samples);
		break;
	}
	}
	if (rc < 0)
		h->host->log(h->self, VIGIL_LOG_ERROR, "%s: cannot %s it: %s", in->name,
		             actions[in->on_limit], strerror(-rc));
}

/* One limit: `over` counts consecutive samples past it. After a violation `tripped` holds
 * until the process is replaced (restart, stop) or, for on_limit = alert, until a sample is
 * back under the limit, so one episode is one violation. */
static void hm_limit(struct hm *h, struct hm_inst *in, int cpu, double value, double max,
                     double trip)
{
	uint32_t *over = cpu ? &in->over_cpu : &in->over_mem;
	uint8_t *tripped = cpu ? &in->tripped_cpu : &in->tripped_mem;
	struct hm_alarm *al = cpu ? &in->cpu_over : &in->mem_over;
	int is_over = value > trip;

	if (is_over) {
		(*over)++;
	} else {
		*over = 0;
		if (in->on_limit == HM_ACT_ALERT)
			*tripped = 0;
	}
	if (al->active && hm_alarm_step(al, is_over ? HM_SEV_CRITICAL : HM_SEV_NONE, UINT32_MAX,
	                                h->c.clear_after) < 0)
		hm_alert(h, in, cpu ? K_CPU_OVER : K_MEM_OVER, -HM_SEV_CRITICAL,
		         "back under %s for %u samples", cpu ? "limit_cpu" : "limit_memory",
		         h->c.clear_after);
	if (*over >= h->c.limit_samples && !*tripped) {
		*over = 0;
		*tripped = 1;
		hm_violate(h, in, cpu, value, max);
	}
}

static void hm_limits(struct hm *h, struct hm_inst *in)
{
	if (!h->c.enforce)
		return;
	if (in->limit_memory > 0 && in->rss >= 0)
		hm_limit(h, in, 0, in->rss, (double)in->limit_memory, (double)in->limit_memory);
	if (in->limit_cpu > 0 && in->cpu >= 0)
		hm_limit(h, in, 1, in->cpu, in->limit_cpu,
		         in->limit_cpu * (1 + h->c.cpu_slack / 100));
}

/* ---- the sample ------------------------------------------------------------------------ */

void hm_on_sample(struct hm *h, struct hm_inst *in, const struct vigil_ev_metrics_sample *m)
{
	uint64_t now = h->host->now_ms();
	double rss = m->tree_rss_bytes >= 0 ? (double)m->tree_rss_bytes : (double)m->rss_bytes;
	double cpu = m->tree_cpu_pct >= 0 ? m->tree_cpu_pct : m->cpu_pct;
	double alpha = 2.0 / (h->c.raise_after + 1);
	struct hm_leak leak;
	int r, prev;

	if (m->pid > 0 && m->pid != in->pid)
		hm_new_process(h, in, m->pid);
	if ((hm_ring_init(&in->scores, h->c.trend_window) < 0 ||
	     hm_ring_init(&in->rsss, h->c.trend_window) < 0) &&
	    !h->said_oom++)
		h->host->log(h->self, VIGIL_LOG_ERROR,
		             "%s: out of memory: no trend or leak detection for it", in->name);
	in->last_sample_ms = now;
	in->rss = rss >= 0 ? rss : -1;
	in->cpu = cpu >= 0 ? cpu : -1;
	if (in->cpu >= 0)
		in->cpu_avg = in->cpu_avg < 0 ? in->cpu : in->cpu_avg + alpha * (in->cpu - in->cpu_avg);
	if (in->rss >= 0) {
		hm_ring_push(&in->rsss, now, in->rss);
		prev = in->leak.active;
		hm_leak_check(h, in, &leak);
		r = hm_alarm_step(&in->leak, leak.sev, h->c.raise_after, h->c.clear_after);
		if (r)
			hm_leak_alert(h, in, r < 0 ? -prev : r, &leak);
		/* The estimate goes with the alert: a sample that does not show the leak while
		 * it holds keeps the last one, so a borderline fit does not flap the events. */
		if (!in->leak.active || in->limit_memory <= 0)
			in->exhaustion_ms = -1;
		else if (leak.exhaustion_ms >= 0)
			in->exhaustion_ms = leak.exhaustion_ms;
	}
	hm_usage_alerts(h, in);
	hm_limits(h, in);
	hm_evaluate(h, in, 1);
}

/* ---- score and trend --------------------------------------------------------------------- */

uint32_t hm_recent_exits(const struct hm *h, const struct hm_inst *in)
{
	uint64_t now = h->host->now_ms();
	uint32_t n = 0;

	for (uint32_t i = 0; i < in->nexits; i++)
		n += now - in->exits[i] <= (uint64_t)h->c.restart_window_ms;
	return n;
}

/* 0 below half the limit, rising to 1 at the limit. */
static double hm_ramp(double used)
{
	double v = (used - 0.5) / 0.5;

	return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* How far the fitted line moved across the window, against the dead band; leaving a trend
 * takes falling back under half the band, so a value near the edge does not flap. */
static enum hm_trend hm_trend_of(const struct hm *h, const struct hm_inst *in)
{
	double band = h->c.trend_band, change;
	struct hm_fit f;

	if (in->scores.n < 3 || hm_fit(&in->scores, 0, &f) < 0)
		return HM_STABLE;
	change = f.slope * f.span_ms;
	if (in->trend_now == HM_IMPROVING && change > band / 2)
		return HM_IMPROVING;
	if (in->trend_now == HM_DEGRADING && change < -band / 2)
		return HM_DEGRADING;
	if (change > band)
		return HM_IMPROVING;
	if (change < -band)
		return HM_DEGRADING;
	return HM_STABLE;
}

/* The exhaustion estimate appeared, vanished or moved by more than a fifth. */
static int hm_exhaustion_moved(const struct hm_inst *in)
{
	int64_t a = in->pub_exhaustion_ms, b = in->exhaustion_ms;

	if ((a < 0) != (b < 0))
		return 1;
	return a >= 0 && llabs(b - a) * 5 > a;
}

static void hm_publish(struct hm *h, struct hm_inst *in, enum hm_level level)
{
	struct vigil_ev_health_changed ev;

	memset(&ev, 0, sizeof ev);
	ev.hdr.type = VIGIL_EV_HEALTH_CHANGED;
	ev.hdr.size = sizeof ev;
	ev.hdr.subject = in->name;
	ev.score = in->score_now;
	ev.previous = in->score;
	ev.level = hm_level_name(level);
	ev.trend = hm_trend_name(in->trend_now);
	ev.memory_penalty = in->pen[0];
	ev.cpu_penalty = in->pen[1];
	ev.restart_penalty = in->pen[2];
	ev.check_penalty = in->pen[3];
	ev.latency_penalty = in->pen[4];
	ev.memory_exhaustion_ms = in->exhaustion_ms;
	h->host->publish(h->self, &ev.hdr);
	in->score = in->score_now;
	in->level = level;
	in->trend = in->trend_now;
	in->pub_exhaustion_ms = in->exhaustion_ms;
}

void hm_evaluate(struct hm *h, struct hm_inst *in, int from_sample)
{
	const struct hm_conf *c = &h->c;
	double sum = 0, cap;
	enum hm_level level;
	int32_t score;

	memset(in->pen, 0, sizeof in->pen);
	if (in->limit_memory > 0 && in->rss >= 0)
		in->pen[0] = c->memory_weight * hm_ramp(in->rss / (double)in->limit_memory);
	if (in->leak.active)
		in->pen[0] += c->leak_penalty * (in->leak.active >= HM_SEV_CRITICAL ? 2 : 1);
	if (in->limit_cpu > 0 && in->cpu_avg >= 0)
		in->pen[1] = c->cpu_weight * hm_ramp(in->cpu_avg / in->limit_cpu);
	cap = c->restart_penalty_max;
	in->pen[2] = c->restart_penalty * hm_recent_exits(h, in);
	if (in->pen[2] > cap)
		in->pen[2] = cap;
	in->pen[3] = c->check_penalty * (((in->checks & HM_CHECK_UNHEALTHY) != 0) +
	                                 ((in->checks & HM_CHECK_WATCHDOG) != 0));
	in->pen[4] = 0; /* check latency is not on the bus yet */
	for (int i = 0; i < 5; i++)
		sum += in->pen[i];
	score = (int32_t)floor(100 - sum + 0.5);
	in->score_now = score < 0 ? 0 : score > 100 ? 100 : score;
	if (from_sample && in->scores.cap) {
		hm_ring_push(&in->scores, h->host->now_ms(), in->score_now);
		in->trend_now = hm_trend_of(h, in);
	}
	level = hm_level_of(in->score_now);
	if (in->score < 0 || abs(in->score_now - in->score) >= c->score_step ||
	    level != in->level || in->trend_now != in->trend || hm_exhaustion_moved(in))
		hm_publish(h, in, level);
}

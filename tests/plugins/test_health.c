/* test_health.c — the health monitor through the fake host: scores, trend, leaks, alerts, limits. */
#include <check.h>
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <vigil/testing.h>

/* The plugin is compiled into the test so its internals (fits, alarms) can be checked too;
 * the first test also loads the built .so to prove the real artifact is the same plugin. */
#include "../../plugins/monitors/health/health.c"
#include "../../plugins/monitors/health/heval.c"
#include "../../plugins/monitors/health/hinst.c"
#include "../../plugins/monitors/health/hmath.c"

#define MB (1024.0 * 1024.0)

static struct vigil_fake_host fh;
static const struct vigil_plugin *desc;
static void *state;
static struct vigil_proc_info procs[2];

static void setup(void)
{
	vigil_fake_host_init(&fh);
	fh.kind = "monitor";
	fh.instance = "health";
	fh.echo = getenv("VIGIL_TEST_ECHO") != NULL; /* to read the plugin's log lines */
	desc = vigil_plugin_entry_v1();
	fh.keys = desc->keys;
	memset(procs, 0, sizeof procs);
	procs[0].size = sizeof procs[0];
	procs[0].state = VIGIL_PROC_RUNNING;
	procs[0].name = "web";
	procs[0].program = "web";
	procs[0].instance = -1;
	procs[0].pid = 100;
	procs[0].on_limit = "restart";
	fh.procs = procs;
	fh.nprocs = 1;
	state = NULL;
}

static void teardown(void)
{
	if (state) {
		desc->stop(state);
		ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
		ck_assert_uint_eq(vigil_fake_sub_count(&fh), 0);
		desc->fini(state);
	}
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
}

/* Sets "key", "value", ... (NULL-terminated), instantiates and starts the monitor. */
static int start(const char *first, ...)
{
	const char *key = first;
	va_list ap;
	int rc;

	va_start(ap, first);
	while (key) {
		const char *value = va_arg(ap, const char *);

		ck_assert_int_eq(vigil_fake_cfg_set(&fh, key, value), 0);
		key = va_arg(ap, const char *);
	}
	va_end(ap);
	rc = vigil_fake_instantiate(&fh, desc, &state);
	if (rc < 0)
		return rc;
	return desc->start(state);
}

static struct hm *H(void)
{
	return state;
}

/* One second passes, then one sample of `name` arrives. -1 = not measured. */
static void sample_tree(const char *name, int32_t pid, double rss, double cpu, double tree_rss,
                        double tree_cpu)
{
	struct vigil_ev_metrics_sample m;

	memset(&m, 0, sizeof m);
	m.hdr.type = VIGIL_EV_METRICS_SAMPLE;
	m.hdr.size = sizeof m;
	m.hdr.subject = name;
	m.pid = pid;
	m.rss_bytes = (int64_t)rss;
	m.cpu_pct = cpu;
	m.tree_rss_bytes = (int64_t)tree_rss;
	m.tree_cpu_pct = tree_cpu;
	m.tree_procs = tree_rss >= 0 ? 2 : -1;
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(vigil_fake_deliver(&fh, &m.hdr), 1);
}

static void sample(const char *name, int32_t pid, double rss, double cpu)
{
	sample_tree(name, pid, rss, cpu, -1, -1);
}

static void exited(const char *name, int32_t pid, int expected)
{
	struct vigil_ev_process_exited x;

	memset(&x, 0, sizeof x);
	x.hdr.type = VIGIL_EV_PROCESS_EXITED;
	x.hdr.size = sizeof x;
	x.hdr.subject = name;
	x.program = name;
	x.pid = pid;
	x.exit_code = expected ? 0 : 1;
	x.expected = expected;
	x.status_known = 1;
	x.reason = "exited";
	ck_assert_int_eq(vigil_fake_deliver(&fh, &x.hdr), 1);
}

/* The core's liveness probe raising or clearing "unhealthy" / "watchdog". */
static void check_alert(const char *name, const char *id, int raised)
{
	struct vigil_ev_alert a;

	memset(&a, 0, sizeof a);
	a.hdr.type = raised ? VIGIL_EV_ALERT_RAISED : VIGIL_EV_ALERT_CLEARED;
	a.hdr.size = sizeof a;
	a.hdr.subject = name;
	a.alert = id;
	a.severity = "critical";
	a.message = "health check failed 3 times";
	ck_assert_int_eq(vigil_fake_deliver(&fh, &a.hdr), 1);
}

static const struct vigil_ev_alert *alert_at(size_t i)
{
	return (const struct vigil_ev_alert *)(const void *)fh.events[i];
}

/* Published alert events of `type` with this id (and severity, unless NULL). */
static size_t alerts(uint32_t type, const char *id, const char *severity)
{
	size_t n = 0;

	for (size_t i = 0; i < fh.nevents; i++)
		n += fh.events[i]->type == type && strcmp(alert_at(i)->alert, id) == 0 &&
		     (!severity || strcmp(alert_at(i)->severity, severity) == 0);
	return n;
}

/* Index of the first published event of `type` (with alert id `id` when not NULL), or -1. */
static long first_event(uint32_t type, const char *id)
{
	for (size_t i = 0; i < fh.nevents; i++)
		if (fh.events[i]->type == type && (!id || strcmp(alert_at(i)->alert, id) == 0))
			return (long)i;
	return -1;
}

static const struct vigil_ev_health_changed *last_health(void)
{
	return (const struct vigil_ev_health_changed *)(const void *)vigil_fake_event_last(
	    &fh, VIGIL_EV_HEALTH_CHANGED);
}

static const struct vigil_ev_limit_violated *last_violation(void)
{
	return (const struct vigil_ev_limit_violated *)(const void *)vigil_fake_event_last(
	    &fh, VIGIL_EV_LIMIT_VIOLATED);
}

static size_t health_events(void)
{
	return vigil_fake_event_count(&fh, VIGIL_EV_HEALTH_CHANGED);
}

/* ---- the artifact and its configuration --------------------------------------------------- */

START_TEST(built_plugin_loads)
{
	const char *dir = getenv("VIGIL_PLUGIN_DIR");
	char path[1024];
	void *lib, *sym, *st = NULL;
	vigil_plugin_entry_fn entry;
	const struct vigil_plugin *d;

	snprintf(path, sizeof path, "%s/monitor_health.so", dir ? dir : "lib/vigil/plugins");
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(lib, "dlopen %s: %s (set VIGIL_PLUGIN_DIR)", path, dlerror());
	sym = dlsym(lib, VIGIL_PLUGIN_ENTRY_SYMBOL);
	ck_assert_msg(sym, "%s exports no %s", path, VIGIL_PLUGIN_ENTRY_SYMBOL);
	memcpy(&entry, &sym, sizeof sym);
	d = entry();
	ck_assert_int_eq(d->kind, VIGIL_KIND_MONITOR);
	ck_assert_str_eq(d->name, "health");
	ck_assert_uint_eq(d->abi.abi_major, VIGIL_ABI_MAJOR);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, d, &st), 0);
	ck_assert_int_eq(d->start(st), 0);
	sample("web", 100, 10 * MB, 1);
	ck_assert_uint_eq(health_events(), 1);
	ck_assert_int_eq(last_health()->score, 100);
	d->stop(st);
	d->fini(st);
	dlclose(lib);
}
END_TEST

START_TEST(defaults)
{
	ck_assert_int_eq(start(NULL), 0);
	ck_assert_int_eq(H()->c.score_step, 5);
	ck_assert_uint_eq(H()->c.trend_window, 60);
	ck_assert_uint_eq(H()->c.raise_after, 3);
	ck_assert_uint_eq(H()->c.clear_after, 3);
	ck_assert_uint_eq(H()->c.limit_samples, 3);
	ck_assert_int_eq(H()->c.restart_window_ms, 300000);
	ck_assert_int_eq(H()->c.leak_horizon_ms, 600000);
	ck_assert_double_eq(H()->c.memory_warning, 80);
	ck_assert_double_eq(H()->c.memory_critical, 95);
	ck_assert_double_eq(H()->c.cpu_warning, 90);
	ck_assert_double_eq(H()->c.leak_r2, 0.8);
	ck_assert_double_eq(H()->c.leak_min_growth, 50);
	ck_assert_int_eq(H()->c.enforce, 1);
}
END_TEST

static const struct {
	const char *key, *value, *says;
} bad_configs[] = {
    {"score_step", "0", "score_step = 0: expected a whole number from 1 to 100"},
    {"trend_window", "2", "trend_window = 2"},
    {"raise_after", "0", "raise_after = 0"},
    {"clear_after", "100000", "clear_after = 100000"},
    {"limit_samples", "-1", "limit_samples = -1"},
    {"memory_critical", "70%", "memory_critical = 70%: expected at least memory_warning (80%)"},
    {"cpu_emergency", "95%", "cpu_emergency = 95%: expected at least cpu_critical (100%)"},
    {"memory_warning", "0%", "memory_warning = 0%: expected a percentage above 0%"},
    {"leak_r2", "1.5", "leak_r2 = 1.5"},
    {"leak_r2", "0", "leak_r2 = 0"},
    {"check_penalty", "150", "check_penalty = 150: expected points from 0 to 100"},
    {"restart_window", "0", "restart_window = 0"},
    {"leak_horizon", "0s", "leak_horizon = 0"},
    {"leak_min_growth", "0%", "leak_min_growth = 0%: expected"},
};

START_TEST(bad_config_refused)
{
	int i = _i;

	ck_assert_int_eq(start(bad_configs[i].key, bad_configs[i].value, NULL), -EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_msg(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, bad_configs[i].says) == 1,
	              "no error saying \"%s\"", bad_configs[i].says);
}
END_TEST

START_TEST(badly_typed_values_refused)
{
	/* The core refuses these before configure() runs; the fake does the same. */
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "memory_warning", "80"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "restart_window", "soon"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "enforce", "maybe"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "no_such_key", "1"), -EINVAL);
}
END_TEST

/* ---- arithmetic ---------------------------------------------------------------------------- */

START_TEST(fit_of_a_line_across_clock_wrap)
{
	struct hm_ring r;
	struct hm_fit f;
	uint64_t base = UINT32_MAX - 2500ull; /* the 32-bit times wrap inside the window */

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(hm_ring_init(&r, 5), 0);
	for (int i = 0; i < 8; i++)
		hm_ring_push(&r, base + 1000ull * (uint64_t)i, 10 + 0.5 * i);
	ck_assert_uint_eq(r.n, 5);
	ck_assert_double_eq(hm_ring_at(&r, 0)->v, 11.5);
	ck_assert_int_eq(hm_fit(&r, 0, &f), 0);
	ck_assert_uint_eq(f.n, 5);
	ck_assert_double_eq_tol(f.slope, 0.0005, 1e-9);
	ck_assert_double_eq_tol(f.r2, 1, 1e-9);
	ck_assert_double_eq_tol(f.span_ms, 4000, 1e-9);
	ck_assert_double_eq_tol(f.at_new, 13.5, 1e-6);
	ck_assert_int_eq(hm_fit(&r, 2, &f), 0);
	ck_assert_uint_eq(f.n, 2);

	/* Flat: no slope, and no fit to speak of. */
	hm_ring_clear(&r);
	for (int i = 0; i < 5; i++)
		hm_ring_push(&r, 1000ull * (uint64_t)i, 7);
	ck_assert_int_eq(hm_fit(&r, 0, &f), 0);
	ck_assert_double_eq(f.slope, 0);
	ck_assert_double_eq(f.r2, 0);
	hm_ring_clear(&r);
	hm_ring_push(&r, 1, 1);
	ck_assert_int_eq(hm_fit(&r, 0, &f), -EINVAL);
	hm_ring_free(&r);
}
END_TEST

START_TEST(levels)
{
	ck_assert_str_eq(hm_level_name(hm_level_of(100)), "healthy");
	ck_assert_str_eq(hm_level_name(hm_level_of(70)), "healthy");
	ck_assert_str_eq(hm_level_name(hm_level_of(69)), "degraded");
	ck_assert_str_eq(hm_level_name(hm_level_of(40)), "degraded");
	ck_assert_str_eq(hm_level_name(hm_level_of(39)), "unhealthy");
	ck_assert_str_eq(hm_level_name(hm_level_of(20)), "unhealthy");
	ck_assert_str_eq(hm_level_name(hm_level_of(19)), "critical");
	ck_assert_str_eq(hm_level_name(hm_level_of(0)), "critical");
}
END_TEST

/* ---- the score ----------------------------------------------------------------------------- */

START_TEST(first_sample_scores_healthy_and_repeats_are_quiet)
{
	const struct vigil_ev_health_changed *e;

	ck_assert_int_eq(start(NULL), 0);
	sample("web", 100, 10 * MB, -1);
	ck_assert_uint_eq(health_events(), 1);
	e = last_health();
	ck_assert_str_eq(e->hdr.subject, "web");
	ck_assert_int_eq(e->score, 100);
	ck_assert_int_eq(e->previous, -1);
	ck_assert_str_eq(e->level, "healthy");
	ck_assert_str_eq(e->trend, "stable");
	ck_assert_double_eq(e->memory_penalty + e->cpu_penalty + e->restart_penalty +
	                        e->check_penalty + e->latency_penalty,
	                    0);
	ck_assert_int_eq(e->memory_exhaustion_ms, -1);
	for (int i = 0; i < 20; i++)
		sample("web", 100, 10 * MB, 3);
	ck_assert_uint_eq(health_events(), 1);
}
END_TEST

START_TEST(memory_and_cpu_penalties)
{
	procs[0].limit_memory = (int64_t)(100 * MB);
	procs[0].limit_cpu = 100;
	ck_assert_int_eq(start("enforce", "false", NULL), 0);
	sample("web", 100, 75 * MB, -1); /* halfway from 50% to the limit: half of 40 points */
	ck_assert_double_eq_tol(last_health()->memory_penalty, 20, 1e-6);
	ck_assert_int_eq(last_health()->score, 80);
	ck_assert_str_eq(last_health()->level, "healthy");
	sample("web", 100, 100 * MB, -1);
	ck_assert_double_eq_tol(last_health()->memory_penalty, 40, 1e-6);
	ck_assert_int_eq(last_health()->score, 60);
	ck_assert_str_eq(last_health()->level, "degraded");
	/* CPU at the limit, sustained: all 30 points on top. */
	for (int i = 0; i < 10; i++)
		sample("web", 100, 100 * MB, 100);
	ck_assert_double_eq_tol(last_health()->cpu_penalty, 30, 1e-6);
	ck_assert_int_eq(last_health()->score, 30);
	ck_assert_str_eq(last_health()->level, "unhealthy");
	/* Back to idle and small: the score recovers. */
	for (int i = 0; i < 10; i++)
		sample("web", 100, 10 * MB, 0);
	ck_assert_int_eq(last_health()->score, 100);
}
END_TEST

START_TEST(score_step_filters_small_moves)
{
	procs[0].limit_memory = (int64_t)(100 * MB);
	ck_assert_int_eq(start("enforce", "false", NULL), 0);
	sample("web", 100, 50 * MB, -1);
	ck_assert_uint_eq(health_events(), 1);
	sample("web", 100, 54 * MB, -1); /* 3.2 points: 97 */
	ck_assert_uint_eq(health_events(), 1);
	sample("web", 100, 56 * MB, -1); /* 4.8 points: 95, five from the published 100 */
	ck_assert_uint_eq(health_events(), 2);
	ck_assert_int_eq(last_health()->score, 95);
	ck_assert_int_eq(last_health()->previous, 100);
}
END_TEST

START_TEST(failed_checks_lower_the_score)
{
	ck_assert_int_eq(start(NULL), 0);
	sample("web", 100, 10 * MB, -1);
	check_alert("web", "unhealthy", 1);
	ck_assert_int_eq(last_health()->score, 50);
	ck_assert_double_eq(last_health()->check_penalty, 50);
	ck_assert_str_eq(last_health()->level, "degraded");
	check_alert("web", "watchdog", 1);
	ck_assert_int_eq(last_health()->score, 0);
	ck_assert_str_eq(last_health()->level, "critical");
	check_alert("web", "watchdog", 0);
	ck_assert_int_eq(last_health()->score, 50);
	/* Alerts of other sources are not liveness checks. */
	check_alert("web", "runtime-exceeded", 1);
	ck_assert_int_eq(last_health()->score, 50);
	check_alert("web", "unhealthy", 0);
	ck_assert_int_eq(last_health()->score, 100);
	ck_assert_str_eq(last_health()->level, "healthy");
}
END_TEST

START_TEST(restarts_lower_the_score_within_the_window)
{
	ck_assert_int_eq(start(NULL), 0);
	sample("web", 100, 10 * MB, -1);
	for (int i = 0; i < 3; i++) {
		exited("web", 100 + i, 0);
		sample("web", 101 + i, 10 * MB, -1);
	}
	ck_assert_double_eq(last_health()->restart_penalty, 30);
	ck_assert_int_eq(last_health()->score, 70);
	ck_assert_str_eq(last_health()->level, "healthy");
	exited("web", 103, 0);
	ck_assert_int_eq(last_health()->score, 60);
	ck_assert_str_eq(last_health()->level, "degraded");
	/* A stop on request is not a failure. */
	exited("web", 104, 1);
	ck_assert_double_eq(last_health()->restart_penalty, 40);
	/* Capped at restart_penalty_max. */
	for (int i = 0; i < 10; i++)
		exited("web", 105, 0);
	ck_assert_double_eq(last_health()->restart_penalty, 50);
	ck_assert_int_eq(last_health()->score, 50);
	/* No samples any more, but the exits leave the window: the periodic pass sees it. */
	vigil_fake_advance(&fh, 5 * 60 * 1000 + 10000);
	ck_assert_int_eq(last_health()->score, 100);
	ck_assert_double_eq(last_health()->restart_penalty, 0);
}
END_TEST

/* ---- trend --------------------------------------------------------------------------------- */

static int saw_trend(const char *trend, size_t from)
{
	for (size_t i = from; i < fh.nevents; i++)
		if (fh.events[i]->type == VIGIL_EV_HEALTH_CHANGED &&
		    strcmp(((const struct vigil_ev_health_changed *)(const void *)fh.events[i])->trend,
		           trend) == 0)
			return 1;
	return 0;
}

START_TEST(trend_degrading_then_stable_then_improving)
{
	size_t mark;

	ck_assert_int_eq(start("trend_window", "10", NULL), 0);
	for (int i = 0; i < 12; i++)
		sample("web", 100, 10 * MB, 1);
	ck_assert_str_eq(last_health()->trend, "stable");
	check_alert("web", "unhealthy", 1);
	sample("web", 100, 10 * MB, 1);
	sample("web", 100, 10 * MB, 1);
	ck_assert_str_eq(last_health()->trend, "degrading");
	ck_assert_int_eq(last_health()->score, 50);
	/* Once the drop has left the window, the score is stable again (and said so). */
	mark = fh.nevents;
	for (int i = 0; i < 12; i++)
		sample("web", 100, 10 * MB, 1);
	ck_assert(saw_trend("stable", mark));
	ck_assert_str_eq(last_health()->trend, "stable");
	check_alert("web", "unhealthy", 0);
	mark = fh.nevents;
	for (int i = 0; i < 3; i++)
		sample("web", 100, 10 * MB, 1);
	ck_assert(saw_trend("improving", mark));
	ck_assert_int_eq(last_health()->score, 100);
}
END_TEST

START_TEST(trend_ignores_noise_inside_the_band)
{
	procs[0].limit_cpu = 100;
	ck_assert_int_eq(start("trend_window", "20", "enforce", "false", NULL), 0);
	srand(7);
	/* CPU jittering between 45% and 55% of the limit: a few points either way. */
	for (int i = 0; i < 200; i++)
		sample("web", 100, 10 * MB, 45 + rand() % 11);
	ck_assert(!saw_trend("degrading", 0));
	ck_assert(!saw_trend("improving", 0));
}
END_TEST

/* ---- memory leaks -------------------------------------------------------------------------- */

START_TEST(steady_climb_is_a_leak_before_the_limit)
{
	const struct vigil_ev_health_changed *e = NULL;
	long raised, violated;
	double rss = 100 * MB, at_raise = 0;

	procs[0].limit_memory = (int64_t)(512 * MB);
	ck_assert_int_eq(start(NULL), 0);
	for (int i = 0; i < 120 && !last_violation(); i++) {
		sample("web", 100, rss, 2);
		if (!at_raise && alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL)) {
			at_raise = rss;
			e = last_health();
		}
		rss += 4 * MB;
	}
	raised = first_event(VIGIL_EV_ALERT_RAISED, "memory-leak");
	violated = first_event(VIGIL_EV_LIMIT_VIOLATED, NULL);
	ck_assert_int_ge(raised, 0);
	ck_assert_int_ge(violated, 0);
	ck_assert_int_lt(raised, violated);
	/* Flagged with most of the headroom left: within about 35 samples of the first. */
	ck_assert_double_lt(at_raise, 250 * MB);
	/* 4 MiB/s with (512 - at_raise) MiB to go. */
	ck_assert_ptr_nonnull(e);
	ck_assert_int_gt(e->memory_exhaustion_ms, 0);
	ck_assert_double_eq_tol((double)e->memory_exhaustion_ms,
	                        (512 * MB - at_raise) / (4 * MB) * 1000, 3000);
	/* Less than leak_horizon (10m) away: critical at once. */
	ck_assert_str_eq(alert_at((size_t)raised)->severity, "critical");
	ck_assert_ptr_nonnull(strstr(alert_at((size_t)raised)->message, "limit_memory"));
	ck_assert_double_gt(e->memory_penalty, 0);
}
END_TEST

START_TEST(slow_leak_warns_then_turns_critical)
{
	double rss = 100 * MB;
	int i;

	procs[0].limit_memory = (int64_t)(1024 * MB);
	ck_assert_int_eq(start("enforce", "false", NULL), 0);
	for (i = 0; i < 2000 && !alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", "critical"); i++) {
		sample("web", 100, rss, 1);
		rss += 0.5 * MB;
	}
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", "warning"), 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", "critical"), 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-leak", NULL), 0);
	/* Critical once the limit is less than 10 minutes (300 MiB at 0.5 MiB/s) away. */
	ck_assert_double_gt(rss, 1024 * MB - 305 * MB);
	ck_assert_double_lt(rss, 1024 * MB - 290 * MB);
	ck_assert_int_le(last_health()->memory_exhaustion_ms, 600000);
}
END_TEST

START_TEST(leak_clears_when_growth_stops)
{
	double rss = 100 * MB;
	long cleared;

	procs[0].limit_memory = (int64_t)(1024 * MB);
	ck_assert_int_eq(start(NULL), 0);
	for (int i = 0; i < 60; i++, rss += 4 * MB)
		sample("web", 100, rss, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL), 1);
	for (int i = 0; i < 25; i++)
		sample("web", 100, rss, 1);
	cleared = first_event(VIGIL_EV_ALERT_CLEARED, "memory-leak");
	ck_assert_int_ge(cleared, 0);
	ck_assert_int_eq(last_health()->memory_exhaustion_ms, -1);
	/* Stays quiet on a plateau. */
	for (int i = 0; i < 100; i++)
		sample("web", 100, rss, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL), 1);
}
END_TEST

START_TEST(noise_is_not_a_leak)
{
	procs[0].limit_memory = (int64_t)(512 * MB);
	ck_assert_int_eq(start(NULL), 0);
	srand(3);
	for (int i = 0; i < 200; i++)
		sample("web", 100, 200 * MB + (rand() % 21 - 10) * MB, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL), 0);
}
END_TEST

START_TEST(leak_without_limit_needs_real_growth)
{
	ck_assert_int_eq(start(NULL), 0);
	/* No limit: 0.3 MiB/s from 150 MiB is +12% per window: not flagged. */
	for (int i = 0; i < 200; i++)
		sample("web", 100, 150 * MB + i * 0.3 * MB, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL), 0);
	/* A new process that doubles within the window: a warning, with no exhaustion estimate. */
	for (int i = 0; i < 40; i++)
		sample("web", 101, 10 * MB + i * 1 * MB, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", "warning"), 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-leak", NULL), 1);
	ck_assert_int_eq(last_health()->memory_exhaustion_ms, -1);
}
END_TEST

/* ---- hysteresis ---------------------------------------------------------------------------- */

START_TEST(alerts_raise_after_three_and_clear_after_three)
{
	procs[0].limit_memory = (int64_t)(100 * MB);
	ck_assert_int_eq(start("enforce", "false", NULL), 0);
	sample("web", 100, 85 * MB, -1);
	sample("web", 100, 85 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", NULL), 0);
	sample("web", 100, 85 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "warning"), 1);
	/* Alternating: no clear. */
	for (int i = 0; i < 20; i++)
		sample("web", 100, (i % 2 ? 85 : 50) * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-high", NULL), 0);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", NULL), 1);
	sample("web", 100, 50 * MB, -1);
	sample("web", 100, 50 * MB, -1);
	sample("web", 100, 50 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-high", "warning"), 1);
	/* Alternating again: no raise. */
	for (int i = 0; i < 20; i++)
		sample("web", 100, (i % 2 ? 85 : 50) * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", NULL), 1);
}
END_TEST

START_TEST(severities_escalate_and_step_down)
{
	procs[0].limit_memory = (int64_t)(100 * MB);
	ck_assert_int_eq(start("enforce", "false", NULL), 0);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 97 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "critical"), 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "warning"), 0);
	/* One spike is not an emergency. */
	sample("web", 100, 120 * MB, -1);
	sample("web", 100, 97 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "emergency"), 0);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 120 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "emergency"), 1);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 85 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", "warning"), 1);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 10 * MB, -1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-high", "warning"), 1);
	/* No limit_violated: enforce = false. */
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 0);
	ck_assert_uint_eq(fh.ncontrols, 0);
}
END_TEST

START_TEST(cpu_high_uses_its_own_thresholds)
{
	procs[0].limit_cpu = 200;
	ck_assert_int_eq(start("enforce", "false", "cpu_warning", "50%", NULL), 0);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 10 * MB, 110); /* 55% of the limit */
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "cpu-high", "warning"), 1);
	/* An unmeasured sample neither counts as good nor as bad. */
	sample("web", 100, 10 * MB, -1);
	sample("web", 100, 10 * MB, 10);
	sample("web", 100, 10 * MB, -1);
	sample("web", 100, 10 * MB, 10);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "cpu-high", NULL), 0);
	sample("web", 100, 10 * MB, 10);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "cpu-high", NULL), 1);
}
END_TEST

/* ---- sampled limits ------------------------------------------------------------------------ */

START_TEST(memory_hog_is_restarted)
{
	const struct vigil_ev_limit_violated *v;

	procs[0].limit_memory = (int64_t)(50 * MB);
	ck_assert_int_eq(start(NULL), 0);
	/* The tree counts, not the main process alone. */
	sample_tree("web", 100, 10 * MB, -1, 60 * MB, -1);
	sample_tree("web", 100, 10 * MB, 1, 60 * MB, 1);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 0);
	ck_assert_uint_eq(fh.ncontrols, 0);
	sample_tree("web", 100, 10 * MB, 1, 60 * MB, 1);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	v = last_violation();
	ck_assert_str_eq(v->hdr.subject, "web");
	ck_assert_str_eq(v->limit, "memory");
	ck_assert_double_eq(v->value, 60 * MB);
	ck_assert_double_eq(v->max, 50 * MB);
	ck_assert_str_eq(v->action, "restart");
	ck_assert_uint_eq(v->count, 1);
	ck_assert_uint_eq(fh.ncontrols, 1);
	ck_assert_str_eq(fh.controls[0].target, "web");
	ck_assert_int_eq(fh.controls[0].action, VIGIL_ACT_RESTART);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "over limit_memory"), 1);
	/* The old process lingers while it stops: no second request. */
	for (int i = 0; i < 5; i++)
		sample_tree("web", 100, 10 * MB, 1, 60 * MB, 1);
	ck_assert_uint_eq(fh.ncontrols, 1);
	/* The new process starts over, and is counted as the second violation. */
	exited("web", 100, 1);
	sample_tree("web", 101, 10 * MB, -1, 60 * MB, -1);
	sample_tree("web", 101, 10 * MB, 1, 60 * MB, 1);
	ck_assert_uint_eq(fh.ncontrols, 1);
	sample_tree("web", 101, 10 * MB, 1, 60 * MB, 1);
	ck_assert_uint_eq(fh.ncontrols, 2);
	ck_assert_uint_eq(last_violation()->count, 2);
}
END_TEST

START_TEST(on_limit_stop_stops)
{
	procs[0].limit_memory = (int64_t)(50 * MB);
	procs[0].on_limit = "stop";
	ck_assert_int_eq(start(NULL), 0);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 60 * MB, 1);
	ck_assert_str_eq(last_violation()->action, "stop");
	ck_assert_uint_eq(fh.ncontrols, 1);
	ck_assert_int_eq(fh.controls[0].action, VIGIL_ACT_STOP);
}
END_TEST

START_TEST(on_limit_alert_only_alerts_once_per_episode)
{
	procs[0].limit_memory = (int64_t)(50 * MB);
	procs[0].on_limit = "alert";
	ck_assert_int_eq(start(NULL), 0);
	for (int i = 0; i < 10; i++)
		sample("web", 100, 60 * MB, 1);
	ck_assert_uint_eq(fh.ncontrols, 0);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	ck_assert_str_eq(last_violation()->action, "alert");
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-exceeded", "critical"), 1);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 20 * MB, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-exceeded", NULL), 1);
	for (int i = 0; i < 3; i++)
		sample("web", 100, 60 * MB, 1);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 2);
	ck_assert_uint_eq(last_violation()->count, 2);
	ck_assert_uint_eq(fh.ncontrols, 0);
}
END_TEST

START_TEST(cpu_hog_is_acted_on_past_the_slack)
{
	procs[0].limit_cpu = 50;
	ck_assert_int_eq(start(NULL), 0);
	/* Throttled right at the limit by a cgroup: harmless. */
	for (int i = 0; i < 10; i++)
		sample("web", 100, 10 * MB, 52);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 0);
	/* An unmeasured sample does not break a run. */
	sample("web", 100, 10 * MB, 90);
	sample("web", 100, 10 * MB, -1);
	sample("web", 100, 10 * MB, 90);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 0);
	sample("web", 100, 10 * MB, 90);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	ck_assert_str_eq(last_violation()->limit, "cpu");
	ck_assert_double_eq(last_violation()->value, 90);
	ck_assert_double_eq(last_violation()->max, 50);
	ck_assert_uint_eq(fh.ncontrols, 1);
	ck_assert_int_eq(fh.controls[0].action, VIGIL_ACT_RESTART);
}
END_TEST

/* ---- instances come and go ------------------------------------------------------------------ */

START_TEST(instances_are_forgotten_and_memory_bounded)
{
	struct hm_inst *web;

	procs[0].limit_memory = (int64_t)(100 * MB);
	ck_assert_int_eq(start("enforce", "false", "trend_window", "20", NULL), 0);
	for (int i = 0; i < 500; i++)
		sample("web", 100, 85 * MB, 1);
	web = hm_find(H(), "web");
	ck_assert_ptr_nonnull(web);
	ck_assert_uint_eq(web->rsss.cap, 20);
	ck_assert_uint_eq(web->rsss.n, 20);
	ck_assert_uint_eq(web->scores.n, 20);
	for (int i = 0; i < 200; i++)
		exited("web", 100, 0);
	ck_assert_uint_eq(web->nexits, HM_MAX_EXITS);

	/* Its alerts go with the process. */
	for (int i = 0; i < 3; i++)
		sample("web", 101, 85 * MB, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_RAISED, "memory-high", NULL), 2);
	procs[0].state = VIGIL_PROC_STOPPED;
	exited("web", 101, 1);
	ck_assert_uint_eq(alerts(VIGIL_EV_ALERT_CLEARED, "memory-high", NULL), 2);
	ck_assert_ptr_nonnull(strstr(((const struct vigil_ev_alert *)(const void *)vigil_fake_event_last(
	                                  &fh, VIGIL_EV_ALERT_CLEARED))
	                                 ->message,
	                             "gone"));
	/* Stopped: the windows are freed, the instance is kept. */
	ck_assert_ptr_eq(hm_find(H(), "web"), web);
	ck_assert_uint_eq(web->rsss.cap, 0);
	ck_assert_uint_eq(web->scores.cap, 0);

	/* A name the core does not know is dropped at the next configuration reload. */
	sample("ghost", 7, 10 * MB, 1);
	ck_assert_ptr_nonnull(hm_find(H(), "ghost"));
	{
		struct vigil_ev_config_reloaded r;

		memset(&r, 0, sizeof r);
		r.hdr.type = VIGIL_EV_CONFIG_RELOADED;
		r.hdr.size = sizeof r;
		r.config_file = "/etc/vigil.conf";
		ck_assert_int_eq(vigil_fake_deliver(&fh, &r.hdr), 1);
	}
	ck_assert_ptr_null(hm_find(H(), "ghost"));
	ck_assert_ptr_eq(hm_find(H(), "web"), web);
	/* Removed from the configuration: forgotten on its exit. */
	fh.nprocs = 0;
	exited("web", 102, 1);
	ck_assert_ptr_null(hm_find(H(), "web"));
	ck_assert_uint_eq(H()->n, 0);
}
END_TEST

START_TEST(limits_follow_the_core)
{
	struct vigil_ev_process_starting s;

	ck_assert_int_eq(start(NULL), 0);
	sample("web", 100, 60 * MB, 1);
	ck_assert_int_eq(hm_find(H(), "web")->limit_memory, 0);
	/* A reload changed the program: its next start brings the new limits. */
	procs[0].limit_memory = (int64_t)(50 * MB);
	procs[0].on_limit = "alert";
	memset(&s, 0, sizeof s);
	s.hdr.type = VIGIL_EV_PROCESS_STARTING;
	s.hdr.size = sizeof s;
	s.hdr.subject = "web";
	s.program = "web";
	s.attempt = 1;
	ck_assert_int_eq(vigil_fake_deliver(&fh, &s.hdr), 1);
	ck_assert_int_eq(hm_find(H(), "web")->limit_memory, (int64_t)(50 * MB));
	ck_assert_int_eq(hm_find(H(), "web")->on_limit, HM_ACT_ALERT);
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("health");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, built_plugin_loads);
	tcase_add_test(tc, defaults);
	tcase_add_loop_test(tc, bad_config_refused, 0,
	                    (int)(sizeof bad_configs / sizeof bad_configs[0]));
	tcase_add_test(tc, badly_typed_values_refused);
	tcase_add_test(tc, fit_of_a_line_across_clock_wrap);
	tcase_add_test(tc, levels);
	tcase_add_test(tc, first_sample_scores_healthy_and_repeats_are_quiet);
	tcase_add_test(tc, memory_and_cpu_penalties);
	tcase_add_test(tc, score_step_filters_small_moves);
	tcase_add_test(tc, failed_checks_lower_the_score);
	tcase_add_test(tc, restarts_lower_the_score_within_the_window);
	tcase_add_test(tc, trend_degrading_then_stable_then_improving);
	tcase_add_test(tc, trend_ignores_noise_inside_the_band);
	tcase_add_test(tc, steady_climb_is_a_leak_before_the_limit);
	tcase_add_test(tc, slow_leak_warns_then_turns_critical);
	tcase_add_test(tc, leak_clears_when_growth_stops);
	tcase_add_test(tc, noise_is_not_a_leak);
	tcase_add_test(tc, leak_without_limit_needs_real_growth);
	tcase_add_test(tc, alerts_raise_after_three_and_clear_after_three);
	tcase_add_test(tc, severities_escalate_and_step_down);
	tcase_add_test(tc, cpu_high_uses_its_own_thresholds);
	tcase_add_test(tc, memory_hog_is_restarted);
	tcase_add_test(tc, on_limit_stop_stops);
	tcase_add_test(tc, on_limit_alert_only_alerts_once_per_episode);
	tcase_add_test(tc, cpu_hog_is_acted_on_past_the_slack);
	tcase_add_test(tc, instances_are_forgotten_and_memory_bounded);
	tcase_add_test(tc, limits_follow_the_core);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(health_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* test_fake_host.c — the SDK's fake host (vigil/testing.h) behaves like vigild where it matters. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <vigil/testing.h>

static struct vigil_fake_host fh;
static const struct vigil_host *h;

static void setup(void)
{
	vigil_fake_host_init(&fh);
	h = &fh.host;
}

static void teardown(void)
{
	vigil_fake_host_fini(&fh);
}

/* ---- bus ---- */

static char seen[16][64];
static size_t nseen;
static struct vigil_sub *self_sub;

static void record(const struct vigil_event *ev, void *arg)
{
	ck_assert_uint_lt(nseen, 16);
	snprintf(seen[nseen++], sizeof seen[0], "%s:%s:%s", (const char *)arg,
	         h->event_name(ev->type), ev->subject ? ev->subject : "-");
}

START_TEST(publish_copies_and_stamps)
{
	char program[] = "web";
	struct vigil_ev_process_fatal ev = {
	    .hdr = {.type = VIGIL_EV_PROCESS_FATAL, .size = sizeof ev, .subject = "web.0"},
	    .program = program,
	    .restarts = 3,
	    .reason = "3 restarts within 5m",
	};
	const struct vigil_ev_process_fatal *got;

	fh.now_ms = 1500;
	ck_assert_int_eq(h->publish(vigil_fake_self(&fh), &ev.hdr), 0);
	ck_assert_int_eq(h->publish(vigil_fake_self(&fh), &ev.hdr), 0);
	program[0] = 'X'; /* the publisher's memory is not referenced */
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_PROCESS_FATAL), 2);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_PROCESS_EXITED), 0);
	got = (const struct vigil_ev_process_fatal *)vigil_fake_event_last(&fh, 0);
	ck_assert_str_eq(got->program, "web");
	ck_assert_str_eq(got->reason, "3 restarts within 5m");
	ck_assert_str_eq(got->hdr.subject, "web.0");
	ck_assert_uint_eq(got->restarts, 3);
	ck_assert_uint_eq(got->hdr.seq, fh.events[0]->seq + 1);
	ck_assert_int_eq(got->hdr.time_us, (fh.wall_base_ms + 1500) * 1000);
}
END_TEST

START_TEST(publish_refuses_unknown_or_short)
{
	struct vigil_event bad = {.type = 99, .size = sizeof bad};
	struct vigil_event short_ev = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof short_ev};

	ck_assert_int_eq(h->publish(NULL, &bad), -EINVAL);
	ck_assert_int_eq(h->publish(NULL, &short_ev), -EINVAL);
	ck_assert_uint_eq(vigil_fake_event_count(&fh, 0), 0);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "publish refused"), 2);
}
END_TEST

START_TEST(event_names_round_trip)
{
	static const uint32_t types[] = {VIGIL_EV_SUPERVISOR_STARTED, VIGIL_EV_CONFIG_REJECTED,
	                                 VIGIL_EV_PROCESS_EXITED,     VIGIL_EV_TASK_FINISHED,
	                                 VIGIL_EV_METRICS_SAMPLE,     VIGIL_EV_ALERT_CLEARED,
	                                 VIGIL_EV_STORE_FAILED};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		ck_assert_uint_eq(h->event_type(h->event_name(types[i])), types[i]);
	ck_assert_str_eq(h->event_name(VIGIL_EV_PROCESS_EXITED), "process.exited");
	ck_assert_ptr_null(h->event_name(77));
	ck_assert_uint_eq(h->event_type("process.nothing"), 0);
}
END_TEST

START_TEST(filters_select_type_and_subject)
{
	struct vigil_filter exits = {.subject = NULL}, web = {.subject = "web"},
	                    all = {.subject = NULL};
	struct vigil_ev_process_exited ex = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof ex, .subject = "web"}};
	struct vigil_ev_process_ready rd = {
	    .hdr = {.type = VIGIL_EV_PROCESS_READY, .size = sizeof rd, .subject = "db"}};

	vigil_filter_add(&exits, VIGIL_EV_PROCESS_EXITED);
	ck_assert_ptr_nonnull(h->subscribe(NULL, &exits, record, "exits"));
	ck_assert_ptr_nonnull(h->subscribe(NULL, &web, record, "web"));
	ck_assert_ptr_nonnull(h->subscribe(NULL, &all, record, "all"));
	nseen = 0;
	ck_assert_int_eq(vigil_fake_deliver(&fh, &ex.hdr), 3);
	ck_assert_int_eq(vigil_fake_deliver(&fh, &rd.hdr), 1);
	ck_assert_uint_eq(nseen, 4);
	ck_assert_str_eq(seen[0], "exits:process.exited:web");
	ck_assert_str_eq(seen[1], "web:process.exited:web");
	ck_assert_str_eq(seen[2], "all:process.exited:web");
	ck_assert_str_eq(seen[3], "all:process.ready:db");
	ck_assert_uint_eq(vigil_fake_sub_count(&fh), 3);
	/* Delivered events are not what the plugin published. */
	ck_assert_uint_eq(vigil_fake_event_count(&fh, 0), 0);
}
END_TEST

static void republish_once(const struct vigil_event *ev, void *arg)
{
	struct vigil_ev_alert a = {
	    .hdr = {.type = VIGIL_EV_ALERT_RAISED, .size = sizeof a, .subject = "web"},
	    .alert = "again",
	};

	record(ev, arg);
	if (ev->type == VIGIL_EV_METRIC_CUSTOM)
		ck_assert_int_eq(h->publish(NULL, &a.hdr), 0);
}

START_TEST(dispatch_delivers_published_events_in_order)
{
	struct vigil_filter all = {.subject = NULL}; /* every type, every subject */
	struct vigil_ev_metric_custom m = {
	    .hdr = {.type = VIGIL_EV_METRIC_CUSTOM, .size = sizeof m}, .metric = "x", .value = 1};

	ck_assert_ptr_nonnull(h->subscribe(NULL, &all, republish_once, "s"));
	nseen = 0;
	ck_assert_int_eq(h->publish(NULL, &m.hdr), 0);
	ck_assert_uint_eq(nseen, 0); /* never synchronous */
	ck_assert_uint_eq(vigil_fake_dispatch(&fh), 2);
	ck_assert_str_eq(seen[0], "s:metric.custom:-");
	ck_assert_str_eq(seen[1], "s:alert.raised:web");
	ck_assert_uint_eq(vigil_fake_dispatch(&fh), 0);
}
END_TEST

static void unsubscribe_self(const struct vigil_event *ev, void *arg)
{
	record(ev, arg);
	h->unsubscribe(self_sub);
}

START_TEST(unsubscribe_inside_callback)
{
	struct vigil_filter all = {.subject = NULL}; /* every type, every subject */
	struct vigil_ev_config_reloaded full = {
	    .hdr = {.type = VIGIL_EV_CONFIG_RELOADED, .size = sizeof full}};

	self_sub = h->subscribe(NULL, &all, unsubscribe_self, "once");
	nseen = 0;
	ck_assert_int_eq(vigil_fake_deliver(&fh, &full.hdr), 1);
	ck_assert_int_eq(vigil_fake_deliver(&fh, &full.hdr), 0);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_uint_eq(vigil_fake_sub_count(&fh), 0);
}
END_TEST

static const struct vigil_event *kept;

static void keep(const struct vigil_event *ev, void *arg)
{
	(void)arg;
	kept = h->event_ref(ev);
}

START_TEST(event_ref_outlives_delivery)
{
	struct vigil_filter all = {.subject = NULL}; /* every type, every subject */
	struct vigil_ev_alert a = {.hdr = {.type = VIGIL_EV_ALERT_RAISED, .size = sizeof a},
	                           .alert = "memory-high",
	                           .severity = "warning"};

	h->subscribe(NULL, &all, keep, NULL);
	ck_assert_int_eq(vigil_fake_deliver(&fh, &a.hdr), 1);
	ck_assert_str_eq(((const struct vigil_ev_alert *)kept)->alert, "memory-high");
	h->event_unref(kept);
}
END_TEST

/* ---- timers ---- */

static char trace[256];

static void tick(void *arg)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%s@%llu ", (const char *)arg, (unsigned long long)h->now_ms());
	strncat(trace, buf, sizeof trace - strlen(trace) - 1);
}

static void add_later(void *arg)
{
	tick(arg);
	h->timer_add(NULL, 5, 0, tick, "late");
}

START_TEST(timers_fire_in_due_order_with_the_clock_set)
{
	trace[0] = '\0';
	h->timer_add(NULL, 30, 0, tick, "once");
	h->timer_add(NULL, 10, 20, tick, "every20");
	h->timer_add(NULL, 10, 0, add_later, "first");
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 3);
	ck_assert_uint_eq(vigil_fake_advance(&fh, 50), 6);
	ck_assert_str_eq(trace, "every20@10 first@10 late@15 once@30 every20@30 every20@50 ");
	ck_assert_uint_eq(h->now_ms(), 50);
	ck_assert_int_eq(h->wall_ms(), fh.wall_base_ms + 50);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 1); /* the periodic one */
	ck_assert_uint_eq(vigil_fake_advance(&fh, 9), 0);
}
END_TEST

START_TEST(cancel_before_and_after_firing)
{
	struct vigil_timer *t;

	trace[0] = '\0';
	t = h->timer_add(NULL, 10, 0, tick, "cancelled");
	h->timer_cancel(t);
	ck_assert_uint_eq(vigil_fake_advance(&fh, 100), 0);
	ck_assert_uint_eq(fh.errors, 0);

	t = h->timer_add(NULL, 10, 0, tick, "fired");
	ck_assert_uint_eq(vigil_fake_advance(&fh, 100), 1);
	h->timer_cancel(t); /* a use after free in vigild: the fake says so */
	ck_assert_uint_eq(fh.errors, 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "already fired"), 1);
}
END_TEST

/* ---- fd watches ---- */

static struct vigil_watch *watch;
static int fd_calls;

static void on_fd(int fd, uint32_t events, void *arg)
{
	(void)arg;
	ck_assert_int_eq(fd, 7);
	fd_calls++;
	if (events & VIGIL_FD_HUP)
		h->unwatch(watch);
}

START_TEST(fd_watches)
{
	fd_calls = 0;
	watch = h->watch_fd(NULL, 7, VIGIL_FD_IN, on_fd, NULL);
	ck_assert_ptr_nonnull(watch);
	ck_assert_uint_eq(vigil_fake_fd_ready(&fh, 7, VIGIL_FD_OUT), 0);
	ck_assert_uint_eq(vigil_fake_fd_ready(&fh, 8, VIGIL_FD_IN), 0);
	ck_assert_uint_eq(vigil_fake_fd_ready(&fh, 7, VIGIL_FD_IN), 1);
	ck_assert_int_eq(h->watch_modify(watch, VIGIL_FD_OUT), 0);
	ck_assert_uint_eq(vigil_fake_fd_ready(&fh, 7, VIGIL_FD_OUT), 1);
	ck_assert_uint_eq(vigil_fake_fd_ready(&fh, 7, VIGIL_FD_HUP), 1);
	ck_assert_uint_eq(vigil_fake_watch_count(&fh), 0);
	ck_assert_int_eq(fd_calls, 3);
	ck_assert_ptr_null(h->watch_fd(NULL, -1, VIGIL_FD_IN, on_fd, NULL));
}
END_TEST

/* ---- processes and daemon ---- */

static int count_proc(const struct vigil_proc_info *info, void *arg)
{
	(void)info;
	(*(int *)arg)++;
	return 0;
}

START_TEST(processes)
{
	struct vigil_proc_info procs[] = {
	    {.size = sizeof procs[0], .name = "web.0", .program = "web"},
	    {.size = sizeof procs[0], .name = "web.1", .program = "web"},
	    {.size = sizeof procs[0], .name = "db", .program = "db"},
	};
	int n = 0;

	fh.procs = procs;
	fh.nprocs = 3;
	ck_assert_int_eq(h->proc_foreach("web", count_proc, &n), 0);
	ck_assert_int_eq(n, 2);
	n = 0;
	ck_assert_int_eq(h->proc_foreach(NULL, count_proc, &n), 0);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(h->proc_foreach("nope", count_proc, &n), -ENOENT);
	ck_assert_int_eq(h->proc_control("web.1", VIGIL_ACT_SIGNAL, 1), 1);
	ck_assert_int_eq(h->proc_control("all", VIGIL_ACT_STOP, 0), 3);
	ck_assert_int_eq(h->proc_control("nope", VIGIL_ACT_STOP, 0), -ENOENT);
	ck_assert_int_eq(h->proc_control("db", (enum vigil_proc_action)42, 0), -EINVAL);
	ck_assert_uint_eq(fh.ncontrols, 3);
	ck_assert_str_eq(fh.controls[0].target, "web.1");
	ck_assert_int_eq(fh.controls[0].action, VIGIL_ACT_SIGNAL);
	ck_assert_int_eq(fh.controls[0].signo, 1);
	h->shutdown("enough");
	ck_assert_uint_eq(fh.shutdowns, 1);
	ck_assert_str_eq(fh.shutdown_reason, "enough");
}
END_TEST

/* ---- configuration ---- */

static const struct vigil_config_key keys[] = {
    {"interval", VIGIL_KEY_DURATION, "10s", 0, NULL, NULL},
    {"limit", VIGIL_KEY_SIZE, "64K", 0, NULL, NULL},
    {"cpu", VIGIL_KEY_PERCENT, "150%", 0, NULL, NULL},
    {"ratio", VIGIL_KEY_DOUBLE, NULL, 0, NULL, NULL},
    {"on", VIGIL_KEY_BOOL, "yes", 0, NULL, NULL},
    {"mode", VIGIL_KEY_MODE, "0660", 0, NULL, NULL},
    {"count", VIGIL_KEY_INT, NULL, 1, NULL, NULL},
    {"level", VIGIL_KEY_ENUM, "low", 0, NULL, "low|high"},
    VIGIL_KEYS_END,
};

START_TEST(config_values_and_defaults)
{
	const struct vigil_config *cfg = vigil_fake_config(&fh);

	fh.keys = keys;
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "count", "12"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "interval", "1500ms"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "interval", "2m"), 0); /* replaces */
	ck_assert_int_eq(h->cfg_int(cfg, "count"), 12);
	ck_assert_int_eq(h->cfg_duration_ms(cfg, "interval"), 120000);
	ck_assert_int_eq(h->cfg_size(cfg, "limit"), 65536);
	ck_assert(h->cfg_double(cfg, "cpu") == 150.0);
	ck_assert(h->cfg_double(cfg, "ratio") == 0.0);
	ck_assert_ptr_null(h->cfg_string(cfg, "ratio"));
	ck_assert_int_eq(h->cfg_bool(cfg, "on"), 1);
	ck_assert_int_eq(h->cfg_size(cfg, "mode"), 0660);
	ck_assert_str_eq(h->cfg_string(cfg, "level"), "low");
	ck_assert_uint_eq(fh.errors, 0);

	/* What the core would refuse before configure() runs. */
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "level", "medium"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "cpu", "150"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "interval", "10 parsecs"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "colour", "red"), -EINVAL);

	/* Reading an undeclared key is a plugin bug the fake reports. */
	ck_assert_ptr_null(h->cfg_string(cfg, "colour"));
	ck_assert_uint_eq(fh.errors, 1);
}
END_TEST

static int toy_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	host->log(self, VIGIL_LOG_INFO, "init as %s", host->instance_name(self));
	*state = (void *)host;
	return 0;
}

static int toy_configure(void *state, const struct vigil_config *cfg)
{
	const struct vigil_host *host = state;

	return host->cfg_int(cfg, "count") > 0 ? 0 : -ERANGE;
}

static int toy_fini_calls;

static void toy_fini(void *state)
{
	(void)state;
	toy_fini_calls++;
}

START_TEST(instantiate_runs_init_and_configure)
{
	struct vigil_plugin d = {.abi = {VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, sizeof d},
	                         .kind = VIGIL_KIND_MONITOR,
	                         .name = "toy",
	                         .keys = keys,
	                         .init = toy_init,
	                         .configure = toy_configure,
	                         .fini = toy_fini};
	void *state;

	fh.instance = "toy";
	toy_fini_calls = 0;
	/* count is required */
	ck_assert_int_eq(vigil_fake_instantiate(&fh, &d, &state), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "count", "0"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, &d, &state), -ERANGE);
	ck_assert_ptr_null(state);
	ck_assert_int_eq(toy_fini_calls, 1);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "count", "3"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, &d, &state), 0);
	ck_assert_ptr_eq(state, h);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "init as toy"), 2);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, NULL), 0);
}
END_TEST

static Suite *fake_suite(void)
{
	Suite *s = suite_create("fake_host");
	TCase *tc = tcase_create("fake_host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, publish_copies_and_stamps);
	tcase_add_test(tc, publish_refuses_unknown_or_short);
	tcase_add_test(tc, event_names_round_trip);
	tcase_add_test(tc, filters_select_type_and_subject);
	tcase_add_test(tc, dispatch_delivers_published_events_in_order);
	tcase_add_test(tc, unsubscribe_inside_callback);
	tcase_add_test(tc, event_ref_outlives_delivery);
	tcase_add_test(tc, timers_fire_in_due_order_with_the_clock_set);
	tcase_add_test(tc, cancel_before_and_after_firing);
	tcase_add_test(tc, fd_watches);
	tcase_add_test(tc, processes);
	tcase_add_test(tc, config_values_and_defaults);
	tcase_add_test(tc, instantiate_runs_init_and_configure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fake_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

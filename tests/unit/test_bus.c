/* test_bus.c — the typed event bus: registry, copy-once publish, queued FIFO delivery, lossy drops. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

/* ---- helpers ---- */

#define MAX_SEEN 8192

struct seen {
	size_t n;
	uint32_t type[MAX_SEEN];
	uint64_t seq[MAX_SEEN];
	int64_t val[MAX_SEEN]; /* a per-type payload number, to check which events arrived */
};

static int64_t payload(const struct vigil_event *ev)
{
	switch (ev->type) {
	case VIGIL_EV_METRICS_SAMPLE:
		return ((const struct vigil_ev_metrics_sample *)ev)->rss_bytes;
	case VIGIL_EV_PROCESS_RUNNING:
		return ((const struct vigil_ev_process_running *)ev)->pid;
	case VIGIL_EV_PROCESS_EXITED:
		return ((const struct vigil_ev_process_exited *)ev)->pid;
	default:
		return -1;
	}
}

static void record(const struct vigil_event *ev, void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, MAX_SEEN);
	s->type[s->n] = ev->type;
	s->seq[s->n] = ev->seq;
	s->val[s->n] = payload(ev);
	s->n++;
}

static struct seen *seen_new(void)
{
	struct seen *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	return s;
}

static int publish_sample(const char *subject, int64_t rss)
{
	struct vigil_ev_metrics_sample ev = {0};

	ev.hdr.type = VIGIL_EV_METRICS_SAMPLE;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = subject;
	ev.rss_bytes = rss;
	return bus_publish(&ev.hdr);
}

static int publish_running(const char *subject, int32_t pid)
{
	struct vigil_ev_process_running ev = {0};

	ev.hdr.type = VIGIL_EV_PROCESS_RUNNING;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = subject;
	ev.program = "web";
	ev.pid = pid;
	return bus_publish(&ev.hdr);
}

static struct vigil_filter filter_of(uint32_t type, const char *subject, uint32_t queue_max)
{
	struct vigil_filter f;

	memset(&f, 0, sizeof(f));
	if (type)
		vigil_filter_add(&f, type);
	f.subject = subject;
	f.queue_max = queue_max;
	return f;
}

static void setup(void)
{
	ck_assert_int_eq(bus_init(), 0);
}

static void teardown(void)
{
	struct bus_stats st;

	bus_fini();
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
}

/* ---- registry ---- */

START_TEST(registry_names_and_sizes)
{
	const struct bus_type *t = bus_type_info(VIGIL_EV_PROCESS_EXITED);

	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->name, "process.exited");
	ck_assert_uint_eq(t->min_size, sizeof(struct vigil_ev_process_exited));
	ck_assert_int_eq(t->cls, VIGIL_EVC_LOSSLESS);
	ck_assert_uint_eq(bus_type_by_name("process.exited"), VIGIL_EV_PROCESS_EXITED);
	ck_assert_str_eq(bus_type_name(VIGIL_EV_STORE_FAILED), "store.failed");
	ck_assert_int_eq(bus_type_info(VIGIL_EV_METRICS_SAMPLE)->cls, VIGIL_EVC_LOSSY);
	ck_assert_int_eq(bus_type_info(VIGIL_EV_METRIC_CUSTOM)->cls, VIGIL_EVC_LOSSY);
	ck_assert_ptr_null(bus_type_info(0));
	ck_assert_ptr_null(bus_type_info(5));
	ck_assert_ptr_null(bus_type_info(VIGIL_EV_LIMIT));
	ck_assert_ptr_null(bus_type_name(99));
	ck_assert_uint_eq(bus_type_by_name("process.nope"), 0);
	ck_assert_uint_eq(bus_type_by_name(NULL), 0);
}
END_TEST

static void count_types(const struct bus_type *t, void *arg)
{
	uint32_t *last = arg;

	ck_assert_uint_gt(t->type, last[0]);
	ck_assert_ptr_eq(bus_type_info(t->type), t);
	last[0] = t->type;
	last[1]++;
}

START_TEST(registry_foreach_ascending)
{
	uint32_t st[2] = {0, 0};

	bus_type_foreach(count_types, st);
	/* SPEC §5 lists 20 types; metric.custom and task.started are added. */
	ck_assert_uint_eq(st[1], 22);
	ck_assert_uint_eq(st[0], VIGIL_EV_STORE_FAILED);
}
END_TEST

/* ---- publish validation ---- */

START_TEST(rejects_unknown_type_and_short_size)
{
	struct vigil_ev_process_exited ev = {0};
	struct seen *s = seen_new();
	struct bus_stats st;

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, s));
	ev.hdr.type = 9;
	ev.hdr.size = sizeof(ev);
	ck_assert_int_eq(bus_publish(&ev.hdr), -EINVAL);
	ev.hdr.type = 1000;
	ck_assert_int_eq(bus_publish(&ev.hdr), -EINVAL);
	ev.hdr.type = VIGIL_EV_PROCESS_EXITED;
	ev.hdr.size = sizeof(ev) - 1;
	ck_assert_int_eq(bus_publish(&ev.hdr), -EINVAL);
	ev.hdr.size = 0;
	ck_assert_int_eq(bus_publish(&ev.hdr), -EINVAL);
	ev.hdr.size = 1u << 30;
	ck_assert_int_eq(bus_publish(&ev.hdr), -EINVAL);
	ck_assert_int_eq(bus_publish(NULL), -EINVAL);
	ck_assert_int_eq(bus_pending(), 0);
	ck_assert_uint_eq(bus_dispatch(100), 0);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.published, 0);
	ck_assert_uint_eq(st.live_blocks, 0);
	free(s);
}
END_TEST

/* A newer publisher's struct may be longer than ours: the extra bytes travel along. */
struct long_running {
	struct vigil_ev_process_running ev;
	int64_t extra;
};

static void long_cb(const struct vigil_event *ev, void *arg)
{
	const struct long_running *l = (const void *)ev;
	int *called = arg;

	ck_assert_uint_eq(ev->size, sizeof(*l));
	ck_assert_int_eq(l->extra, 0x1234567);
	ck_assert_str_eq(l->ev.program, "web");
	(*called)++;
}

START_TEST(accepts_longer_struct)
{
	struct long_running big;
	int called = 0;

	memset(&big, 0, sizeof(big));
	big.ev.hdr.type = VIGIL_EV_PROCESS_RUNNING;
	big.ev.hdr.size = sizeof(big);
	big.ev.program = "web";
	big.extra = 0x1234567;
	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, long_cb, &called));
	ck_assert_int_eq(bus_publish(&big.ev.hdr), 0);
	ck_assert_uint_eq(bus_dispatch(10), 1);
	ck_assert_int_eq(called, 1);
}
END_TEST

/* ---- ordering ---- */

START_TEST(fifo_per_subscriber_and_seq_increasing)
{
	struct seen *a = seen_new(), *b = seen_new();

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, a));
	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, b));
	for (int i = 0; i < 1000; i++) {
		if (i % 3 == 0)
			ck_assert_int_eq(publish_sample("web", i), 0);
		else
			ck_assert_int_eq(publish_running("web", i), 0);
	}
	ck_assert_int_ne(bus_pending(), 0);
	ck_assert_uint_eq(bus_dispatch(SIZE_MAX), 2000);
	ck_assert_int_eq(bus_pending(), 0);
	ck_assert_uint_eq(a->n, 1000);
	ck_assert_uint_eq(b->n, 1000);
	for (size_t i = 0; i < 1000; i++) {
		ck_assert_int_eq(a->val[i], (int64_t)i);
		ck_assert_int_eq(b->val[i], (int64_t)i);
		ck_assert_uint_eq(a->seq[i], b->seq[i]);
		if (i)
			ck_assert_uint_gt(a->seq[i], a->seq[i - 1]);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(budget_limits_and_round_robin)
{
	struct seen *a = seen_new(), *b = seen_new();
	struct bus_stats st;

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, a));
	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, b));
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(publish_running("web", i), 0);
	/* Four callbacks shared fairly: neither subscriber starves the other. */
	ck_assert_uint_eq(bus_dispatch(4), 4);
	ck_assert_uint_eq(a->n, 2);
	ck_assert_uint_eq(b->n, 2);
	ck_assert_int_ne(bus_pending(), 0);
	ck_assert_uint_eq(bus_dispatch(100), 16);
	ck_assert_uint_eq(a->n, 10);
	ck_assert_uint_eq(b->n, 10);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.published, 10);
	ck_assert_uint_eq(st.delivered, 20);
	free(a);
	free(b);
}
END_TEST

/* ---- publish inside a callback ---- */

struct chain {
	int depth;      /* how deep inside callbacks we are now */
	int max_depth;
	size_t n;
	int32_t order[16];
};

static void chain_cb(const struct vigil_event *ev, void *arg)
{
	struct chain *c = arg;
	int32_t pid = ((const struct vigil_ev_process_running *)ev)->pid;

	c->depth++;
	if (c->depth > c->max_depth)
		c->max_depth = c->depth;
	c->order[c->n++] = pid;
	/* Each first-generation event publishes two children; they must not run in here. */
	if (pid < 10) {
		ck_assert_int_eq(publish_running("web", pid * 10 + 10), 0);
		ck_assert_int_eq(publish_running("web", pid * 10 + 11), 0);
		ck_assert_int_ne(bus_pending(), 0);
		/* A nested dispatch is refused rather than delivering recursively. */
		ck_assert_uint_eq(bus_dispatch(100), 0);
	}
	c->depth--;
}

START_TEST(publish_inside_callback_is_queued)
{
	struct chain c = {0};
	struct vigil_filter f = filter_of(VIGIL_EV_PROCESS_RUNNING, NULL, 0);

	ck_assert_ptr_nonnull(bus_subscribe(NULL, &f, chain_cb, &c));
	ck_assert_int_eq(publish_running("web", 1), 0);
	ck_assert_int_eq(publish_running("web", 2), 0);
	ck_assert_uint_eq(bus_dispatch(SIZE_MAX), 6);
	ck_assert_int_eq(c.max_depth, 1);
	ck_assert_uint_eq(c.n, 6);
	/* FIFO by publish order: 1, 2, then 1's children, then 2's. */
	int32_t want[] = {1, 2, 20, 21, 30, 31};
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(c.order[i], want[i]);
}
END_TEST

/* ---- lifetime ---- */

static const struct vigil_event *kept_ev;

static void keep_cb(const struct vigil_event *ev, void *arg)
{
	(void)arg;
	kept_ev = bus_ref(ev);
}

START_TEST(ref_keeps_event_after_dispatch)
{
	struct bus_stats st;
	struct vigil_ev_process_exited ev = {0};
	char reason[] = "killed";

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, keep_cb, NULL));
	ev.hdr.type = VIGIL_EV_PROCESS_EXITED;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = "web";
	ev.program = "web";
	ev.pid = 4242;
	ev.reason = reason;
	ck_assert_int_eq(bus_publish(&ev.hdr), 0);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 1);
	ck_assert_uint_eq(bus_dispatch(10), 1);
	ck_assert_ptr_nonnull(kept_ev);
	/* Dispatch dropped its reference; ours keeps the block. */
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 1);
	const struct vigil_ev_process_exited *k = (const void *)kept_ev;
	ck_assert_int_eq(k->pid, 4242);
	ck_assert_str_eq(k->reason, "killed");
	ck_assert_str_eq(k->hdr.subject, "web");
	/* Even after the subscription and the bus are gone. */
	bus_fini();
	ck_assert_str_eq(k->program, "web");
	ck_assert_ptr_eq(bus_ref(kept_ev), kept_ev);
	bus_unref(kept_ev);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 1);
	bus_unref(kept_ev);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
	bus_unref(NULL);
	ck_assert_ptr_null(bus_ref(NULL));
}
END_TEST

START_TEST(no_subscriber_allocates_nothing)
{
	struct bus_stats st;

	ck_assert_int_eq(publish_running("web", 1), 0);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.published, 1);
	ck_assert_uint_eq(st.live_blocks, 0);
	ck_assert_int_eq(bus_pending(), 0);
}
END_TEST

START_TEST(fini_releases_queued_events)
{
	struct seen *s = seen_new();
	struct bus_stats st;

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, s));
	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, s));
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(publish_running("web", i), 0);
		ck_assert_int_eq(publish_sample("web", i), 0);
	}
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 200);
	bus_fini();
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
	ck_assert_uint_eq(s->n, 0);
	free(s);
}
END_TEST

/* ---- deep copy ---- */

static void check_copy_cb(const struct vigil_event *ev, void *arg)
{
	const struct vigil_ev_process_exited *e = (const void *)ev;
	int *called = arg;

	ck_assert_uint_eq(ev->type, VIGIL_EV_PROCESS_EXITED);
	ck_assert_uint_eq(ev->size, sizeof(*e));
	ck_assert_str_eq(ev->subject, "web.0");
	ck_assert_str_eq(e->program, "web");
	ck_assert_str_eq(e->reason, "exited");
	ck_assert_ptr_null(e->error);
	ck_assert_int_eq(e->exit_code, 3);
	ck_assert(e->cpu_s == 1.5);
	ck_assert_uint_gt(ev->seq, 0);
	ck_assert_int_gt(ev->time_us, 1500000000LL * 1000000);
	(*called)++;
}

START_TEST(strings_are_deep_copied)
{
	char subject[16] = "web.0", program[16] = "web", reason[16] = "exited";
	struct vigil_ev_process_exited ev = {0};
	int called = 0;

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, check_copy_cb, &called));
	ev.hdr.type = VIGIL_EV_PROCESS_EXITED;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = subject;
	ev.hdr.seq = 77777;  /* set by the bus, not the publisher */
	ev.program = program;
	ev.reason = reason;
	ev.error = NULL;
	ev.exit_code = 3;
	ev.cpu_s = 1.5;
	ck_assert_int_eq(bus_publish(&ev.hdr), 0);
	strcpy(subject, "XXXXXXX");
	strcpy(program, "YYYYYYY");
	strcpy(reason, "ZZZZZZZ");
	memset(&ev, 0x5a, sizeof(ev));
	ck_assert_uint_eq(bus_dispatch(10), 1);
	ck_assert_int_eq(called, 1);
}
END_TEST

/* ---- filters ---- */

START_TEST(filter_by_type_and_subject)
{
	struct seen *types = seen_new(), *subj = seen_new(), *both = seen_new(), *all = seen_new();
	struct vigil_filter ft = filter_of(VIGIL_EV_METRICS_SAMPLE, NULL, 0);
	struct vigil_filter fs = filter_of(0, "db", 0);
	struct vigil_filter fb = filter_of(VIGIL_EV_PROCESS_RUNNING, "db", 0);
	char dbname[] = "db";

	ck_assert_ptr_nonnull(bus_subscribe(NULL, &ft, record, types));
	ck_assert_ptr_nonnull(bus_subscribe(NULL, &fs, record, subj));
	/* The filter's subject is copied: changing the caller's buffer changes nothing. */
	fb.subject = dbname;
	ck_assert_ptr_nonnull(bus_subscribe(NULL, &fb, record, both));
	dbname[0] = 'x';
	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, record, all));

	ck_assert_int_eq(publish_sample("web", 1), 0);   /* types, all */
	ck_assert_int_eq(publish_sample("db", 2), 0);    /* types, subj, all */
	ck_assert_int_eq(publish_running("db", 3), 0);   /* subj, both, all */
	ck_assert_int_eq(publish_running("web", 4), 0);  /* all */
	ck_assert_int_eq(publish_running(NULL, 5), 0);   /* all */
	ck_assert_int_eq(publish_running("dbx", 6), 0);  /* all */
	bus_dispatch(SIZE_MAX);

	ck_assert_uint_eq(types->n, 2);
	ck_assert_int_eq(types->val[0], 1);
	ck_assert_int_eq(types->val[1], 2);
	ck_assert_uint_eq(subj->n, 2);
	ck_assert_int_eq(subj->val[0], 2);
	ck_assert_int_eq(subj->val[1], 3);
	ck_assert_uint_eq(both->n, 1);
	ck_assert_int_eq(both->val[0], 3);
	ck_assert_uint_eq(all->n, 6);
	free(types);
	free(subj);
	free(both);
	free(all);
}
END_TEST

/* ---- lossy drops ---- */

START_TEST(lagging_lossy_subscriber_keeps_newest)
{
	struct seen *s = seen_new(), *fast = seen_new();
	struct vigil_filter f = filter_of(0, NULL, 100);
	struct vigil_sub *sub, *fsub;
	struct bus_stats st;
	int32_t pid = 0;

	sub = bus_subscribe(NULL, &f, record, s);
	ck_assert_ptr_nonnull(sub);
	for (int i = 0; i < 5000; i++) {
		ck_assert_int_eq(publish_sample("web", i), 0);
		if (i % 50 == 0)
			ck_assert_int_eq(publish_running("web", pid++), 0);
	}
	ck_assert_uint_eq(bus_sub_dropped(sub), 4900);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.dropped, 4900);
	/* Queued: 100 samples plus every lossless event. */
	ck_assert_uint_eq(st.live_blocks, 100 + (uint64_t)pid);

	/* Unsubscribing releases everything it still held. */
	bus_unsubscribe(sub);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);

	/* A subscriber that keeps up loses nothing. */
	fsub = bus_subscribe(NULL, NULL, record, fast);
	ck_assert_ptr_nonnull(fsub);
	for (int i = 0; i < 5000; i++) {
		ck_assert_int_eq(publish_sample("web", i), 0);
		ck_assert_uint_eq(bus_dispatch(1), 1);
	}
	ck_assert_uint_eq(bus_sub_dropped(fsub), 0);
	ck_assert_uint_eq(fast->n, 5000);
	bus_unsubscribe(fsub);

	s->n = 0;
	sub = bus_subscribe(NULL, &f, record, s);
	ck_assert_ptr_nonnull(sub);

	/* And the lagging one again, this time dispatched. */
	pid = 0;
	for (int i = 0; i < 5000; i++) {
		ck_assert_int_eq(publish_sample("web", i), 0);
		if (i % 50 == 0)
			ck_assert_int_eq(publish_running("web", pid++), 0);
	}
	bus_dispatch(SIZE_MAX);
	ck_assert_uint_eq(bus_sub_dropped(sub), 4900);
	size_t samples = 0, running = 0;
	int64_t next_sample = 4900;
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			ck_assert_uint_gt(s->seq[i], s->seq[i - 1]);
		if (s->type[i] == VIGIL_EV_METRICS_SAMPLE) {
			ck_assert_int_eq(s->val[i], next_sample++);
			samples++;
		} else {
			ck_assert_int_eq(s->val[i], (int64_t)running);
			running++;
		}
	}
	ck_assert_uint_eq(samples, 100);
	ck_assert_uint_eq(running, (size_t)pid);
	ck_assert_uint_eq(pid, 100);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
	free(s);
	free(fast);
}
END_TEST

START_TEST(default_queue_max_is_1024)
{
	struct seen *s = seen_new();
	struct vigil_sub *sub = bus_subscribe(NULL, NULL, record, s);

	for (int i = 0; i < 1100; i++)
		ck_assert_int_eq(publish_sample(NULL, i), 0);
	ck_assert_uint_eq(bus_sub_dropped(sub), 1100 - 1024);
	ck_assert_uint_eq(bus_dispatch(SIZE_MAX), 1024);
	ck_assert_int_eq(s->val[0], 1100 - 1024);
	free(s);
}
END_TEST

/* ---- unsubscribe ---- */

struct unsub_ctx {
	struct vigil_sub *self, *other;
	int calls;
};

static void unsub_self_cb(const struct vigil_event *ev, void *arg)
{
	struct unsub_ctx *c = arg;

	(void)ev;
	c->calls++;
	bus_unsubscribe(c->self);
	bus_unsubscribe(c->self); /* twice is harmless */
}

static void unsub_other_cb(const struct vigil_event *ev, void *arg)
{
	struct unsub_ctx *c = arg;

	(void)ev;
	c->calls++;
	bus_unsubscribe(c->other);
}

START_TEST(unsubscribe_inside_callback)
{
	struct unsub_ctx self = {0}, killer = {0}, victim = {0};
	struct bus_stats st;

	self.self = bus_subscribe(NULL, NULL, unsub_self_cb, &self);
	killer.self = bus_subscribe(NULL, NULL, unsub_other_cb, &killer);
	victim.self = bus_subscribe(NULL, NULL, unsub_self_cb, &victim);
	killer.other = victim.self;
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(publish_running("web", i), 0);
	bus_dispatch(SIZE_MAX);
	/* self: one call, then gone with its 9 other events; killer: all 10; victim: never
	 * called, since round-robin reaches killer first and it drops victim's queue. */
	ck_assert_int_eq(self.calls, 1);
	ck_assert_int_eq(killer.calls, 10);
	ck_assert_int_eq(victim.calls, 0);
	ck_assert_int_eq(bus_pending(), 0);
	bus_unsubscribe(killer.self);
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
}
END_TEST

START_TEST(unsubscribe_owner)
{
	struct seen *a = seen_new(), *b = seen_new();
	int owner1, owner2;

	ck_assert_ptr_nonnull(bus_subscribe(&owner1, NULL, record, a));
	ck_assert_ptr_nonnull(bus_subscribe(&owner1, NULL, record, a));
	ck_assert_ptr_nonnull(bus_subscribe(&owner2, NULL, record, b));
	ck_assert_int_eq(publish_running("web", 1), 0);
	bus_unsubscribe_owner(&owner1);
	ck_assert_int_eq(publish_running("web", 2), 0);
	bus_dispatch(SIZE_MAX);
	ck_assert_uint_eq(a->n, 0);
	ck_assert_uint_eq(b->n, 2);
	free(a);
	free(b);
}
END_TEST

static Suite *bus_suite(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, registry_names_and_sizes);
	tcase_add_test(tc, registry_foreach_ascending);
	tcase_add_test(tc, rejects_unknown_type_and_short_size);
	tcase_add_test(tc, accepts_longer_struct);
	tcase_add_test(tc, fifo_per_subscriber_and_seq_increasing);
	tcase_add_test(tc, budget_limits_and_round_robin);
	tcase_add_test(tc, publish_inside_callback_is_queued);
	tcase_add_test(tc, ref_keeps_event_after_dispatch);
	tcase_add_test(tc, no_subscriber_allocates_nothing);
	tcase_add_test(tc, fini_releases_queued_events);
	tcase_add_test(tc, strings_are_deep_copied);
	tcase_add_test(tc, filter_by_type_and_subject);
	tcase_add_test(tc, lagging_lossy_subscriber_keeps_newest);
	tcase_add_test(tc, default_queue_max_is_1024);
	tcase_add_test(tc, unsubscribe_inside_callback);
	tcase_add_test(tc, unsubscribe_owner);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

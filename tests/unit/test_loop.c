/* test_loop.c — the epoll loop: timer order, periodic and cancelled timers, fd watches, signals. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bus.h"
#include "loop.h"

/* Every test arms this: a broken loop fails with a clear code instead of hanging. */
#define GUARD_MS 5000
#define GUARD_CODE 99

static void guard_cb(void *arg)
{
	(void)arg;
	loop_quit(GUARD_CODE);
}

static void setup(void)
{
	static const int sigs[] = {SIGUSR1, SIGUSR2, 0};

	ck_assert_int_eq(bus_init(), 0);
	ck_assert_int_eq(loop_init(sigs), 0);
	ck_assert_ptr_nonnull(loop_timer_add(GUARD_MS, 0, guard_cb, NULL));
}

static void teardown(void)
{
	struct bus_stats st;

	loop_fini();
	bus_fini();
	bus_get_stats(&st);
	ck_assert_uint_eq(st.live_blocks, 0);
}

static void quit_cb(void *arg)
{
	loop_quit((int)(intptr_t)arg);
}

/* ---- timers ---- */

struct order {
	int n;
	int got[64];
};

struct order_arg {
	struct order *o;
	int id;
};

static void order_cb(void *arg)
{
	struct order_arg *a = arg;

	a->o->got[a->o->n++] = a->id;
}

START_TEST(timers_fire_in_deadline_order)
{
	struct order o = {0};
	static const int delays[] = {40, 10, 30, 0, 20, 10};
	/* Equal deadlines keep the order they were armed in (ids 1 and 5 share 10 ms, and the
	 * clock may tick between the two adds, which only delays 5 further). */
	static const int want[] = {3, 1, 5, 4, 2, 0};
	struct order_arg args[6];
	uint64_t start = loop_now_ms();

	for (int i = 0; i < 6; i++) {
		args[i].o = &o;
		args[i].id = i;
		ck_assert_ptr_nonnull(loop_timer_add((uint64_t)delays[i], 0, order_cb, &args[i]));
	}
	ck_assert_ptr_nonnull(loop_timer_add(60, 0, quit_cb, (void *)7));
	ck_assert_int_eq(loop_run(), 7);
	ck_assert_int_eq(o.n, 6);
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(o.got[i], want[i]);
	ck_assert_uint_ge(loop_now_ms() - start, 60);
}
END_TEST

/* Thousands of timers, half of them cancelled: the heap must keep them ordered and never fire
 * one early or a cancelled one at all. */
#define MANY 5000

struct many {
	uint64_t deadline[MANY];
	struct loop_timer *t[MANY];
	int fired[MANY];
	uint64_t last_deadline;
	int n, out_of_order, early;
};

static struct many *M;

static void many_cb(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t now = loop_now_ms();

	M->fired[i]++;
	M->n++;
	/* Deadlines the test computed may be 1 ms off the loop's own; allow that much. */
	if (M->deadline[i] + 1 < M->last_deadline)
		M->out_of_order++;
	if (M->deadline[i] > M->last_deadline)
		M->last_deadline = M->deadline[i];
	if (now + 1 < M->deadline[i])
		M->early++;
}

START_TEST(many_timers_with_cancels)
{
	M = calloc(1, sizeof(*M));
	ck_assert_ptr_nonnull(M);
	srand(12345);
	for (int i = 0; i < MANY; i++) {
		uint64_t d = (uint64_t)(rand() % 80);

		M->deadline[i] = loop_now_ms() + d;
		M->t[i] = loop_timer_add(d, 0, many_cb, (void *)(intptr_t)i);
		ck_assert_ptr_nonnull(M->t[i]);
	}
	for (int i = 0; i < MANY; i += 2)
		loop_timer_cancel(M->t[i]);
	ck_assert_ptr_nonnull(loop_timer_add(120, 0, quit_cb, (void *)1));
	ck_assert_int_eq(loop_run(), 1);
	ck_assert_int_eq(M->n, MANY / 2);
	for (int i = 0; i < MANY; i++)
		ck_assert_int_eq(M->fired[i], i % 2);
	ck_assert_int_eq(M->out_of_order, 0);
	ck_assert_int_eq(M->early, 0);
	free(M);
}
END_TEST

struct periodic {
	struct loop_timer *t;
	int n;
	uint64_t start, at[5];
};

static void periodic_cb(void *arg)
{
	struct periodic *p = arg;

	p->at[p->n++] = loop_now_ms() - p->start;
	if (p->n == 5) {
		loop_timer_cancel(p->t);
		/* A late quit, to prove the cancelled timer never fires again. */
		ck_assert_ptr_nonnull(loop_timer_add(40, 0, quit_cb, (void *)3));
	}
}

START_TEST(periodic_timer_and_cancel_in_own_callback)
{
	struct periodic p = {0};

	p.start = loop_now_ms();
	p.t = loop_timer_add(5, 10, periodic_cb, &p);
	ck_assert_ptr_nonnull(p.t);
	ck_assert_int_eq(loop_run(), 3);
	ck_assert_int_eq(p.n, 5);
	/* First after 5 ms, then every 10 ms: never early. */
	for (int i = 0; i < 5; i++)
		ck_assert_uint_ge(p.at[i], 5 + 10 * (uint64_t)i);
}
END_TEST

struct canceller {
	struct loop_timer *victim[2];
	int victim_fired;
};

static void victim_cb(void *arg)
{
	struct canceller *c = arg;

	c->victim_fired++;
}

static void cancel_cb(void *arg)
{
	struct canceller *c = arg;

	loop_timer_cancel(c->victim[0]);
	loop_timer_cancel(c->victim[1]);
}

START_TEST(cancel_other_timers_inside_callback)
{
	struct canceller c = {0};

	/* victim[0] is due in the same pass as the canceller (armed after it, same or later
	 * deadline); victim[1] is due later. Neither may fire. */
	ck_assert_ptr_nonnull(loop_timer_add(0, 0, cancel_cb, &c));
	c.victim[0] = loop_timer_add(0, 0, victim_cb, &c);
	c.victim[1] = loop_timer_add(10, 0, victim_cb, &c);
	ck_assert_ptr_nonnull(c.victim[0]);
	ck_assert_ptr_nonnull(c.victim[1]);
	ck_assert_ptr_nonnull(loop_timer_add(30, 0, quit_cb, (void *)4));
	ck_assert_int_eq(loop_run(), 4);
	ck_assert_int_eq(c.victim_fired, 0);
}
END_TEST

static void oneshot_self_cancel_cb(void *arg)
{
	struct loop_timer **self = arg;

	loop_timer_cancel(*self);
	loop_quit(5);
}

START_TEST(cancel_oneshot_inside_own_callback)
{
	struct loop_timer *t = loop_timer_add(0, 0, oneshot_self_cancel_cb, &t);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(loop_run(), 5);
}
END_TEST

/* A timer armed from a timer callback with no delay runs on the next turn, not this pass. */
struct rearm {
	int n;
};

static void rearm_cb(void *arg)
{
	struct rearm *r = arg;

	if (++r->n == 1000) {
		loop_quit(6);
		return;
	}
	ck_assert_ptr_nonnull(loop_timer_add(0, 0, rearm_cb, r));
}

START_TEST(zero_delay_chain)
{
	struct rearm r = {0};

	ck_assert_ptr_nonnull(loop_timer_add(0, 0, rearm_cb, &r));
	ck_assert_int_eq(loop_run(), 6);
	ck_assert_int_eq(r.n, 1000);
}
END_TEST

START_TEST(quit_returns_code_and_loop_runs_again)
{
	ck_assert_ptr_nonnull(loop_timer_add(1, 0, quit_cb, (void *)42));
	ck_assert_int_eq(loop_run(), 42);
	ck_assert_ptr_nonnull(loop_timer_add(1, 0, quit_cb, (void *)0));
	ck_assert_int_eq(loop_run(), 0);
}
END_TEST

/* ---- fd watches ---- */

struct pipe_ctx {
	int fds[2];
	int calls;
	int quit_after;
	uint32_t events;
};

static void pipe_cb(int fd, uint32_t events, void *arg)
{
	struct pipe_ctx *p = arg;

	ck_assert_int_eq(fd, p->fds[0]);
	p->events = events;
	/* Not reading: a level-triggered watch fires again on the next turn. */
	if (++p->calls == p->quit_after)
		loop_quit(8);
}

START_TEST(fd_watch_fires_on_pipe_level_triggered)
{
	struct pipe_ctx p = {.quit_after = 3};
	struct loop_watch *w;

	ck_assert_int_eq(pipe2(p.fds, O_CLOEXEC | O_NONBLOCK), 0);
	w = loop_watch(p.fds[0], EPOLLIN, pipe_cb, &p);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(write(p.fds[1], "x", 1), 1);
	ck_assert_int_eq(loop_run(), 8);
	ck_assert_int_eq(p.calls, 3);
	ck_assert(p.events & EPOLLIN);

	/* Turned off: only the quit timer ends the run. */
	ck_assert_int_eq(loop_watch_modify(w, 0), 0);
	p.calls = 0;
	ck_assert_ptr_nonnull(loop_timer_add(20, 0, quit_cb, (void *)9));
	ck_assert_int_eq(loop_run(), 9);
	ck_assert_int_eq(p.calls, 0);

	loop_unwatch(w);
	close(p.fds[0]);
	close(p.fds[1]);
}
END_TEST

START_TEST(fd_watch_reports_hangup)
{
	struct pipe_ctx p = {.quit_after = 1};
	struct loop_watch *w;

	ck_assert_int_eq(pipe2(p.fds, O_CLOEXEC | O_NONBLOCK), 0);
	w = loop_watch(p.fds[0], EPOLLIN, pipe_cb, &p);
	ck_assert_ptr_nonnull(w);
	close(p.fds[1]);
	ck_assert_int_eq(loop_run(), 8);
	ck_assert(p.events & EPOLLHUP);
	loop_unwatch(w);
	close(p.fds[0]);
}
END_TEST

START_TEST(watch_rejects_bad_fd)
{
	errno = 0;
	ck_assert_ptr_null(loop_watch(-1, EPOLLIN, pipe_cb, NULL));
	ck_assert_int_ne(errno, 0);
	errno = 0;
	ck_assert_ptr_null(loop_watch(12345, EPOLLIN, pipe_cb, NULL));
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* Two ready pipes in one epoll batch: whichever runs first removes both watches, and the
 * other must not be called (ASan catches a use after free if it were freed too early). */
struct pair {
	int a[2], b[2];
	struct loop_watch *wa, *wb;
	int calls;
};

static void pair_cb(int fd, uint32_t events, void *arg)
{
	struct pair *p = arg;

	(void)fd;
	(void)events;
	p->calls++;
	loop_unwatch(p->wa);
	loop_unwatch(p->wb);
	ck_assert_ptr_nonnull(loop_timer_add(10, 0, quit_cb, (void *)10));
}

START_TEST(unwatch_inside_callback)
{
	struct pair p = {0};

	ck_assert_int_eq(pipe2(p.a, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(pipe2(p.b, O_CLOEXEC | O_NONBLOCK), 0);
	ck_assert_int_eq(write(p.a[1], "x", 1), 1);
	ck_assert_int_eq(write(p.b[1], "x", 1), 1);
	p.wa = loop_watch(p.a[0], EPOLLIN, pair_cb, &p);
	p.wb = loop_watch(p.b[0], EPOLLIN, pair_cb, &p);
	ck_assert_ptr_nonnull(p.wa);
	ck_assert_ptr_nonnull(p.wb);
	ck_assert_int_eq(loop_run(), 10);
	ck_assert_int_eq(p.calls, 1);
	close(p.a[0]);
	close(p.a[1]);
	close(p.b[0]);
	close(p.b[1]);
}
END_TEST

#define NPIPES 300

struct fan {
	int fds[NPIPES][2];
	struct loop_watch *w[NPIPES];
	int calls[NPIPES];
	int total;
};

static void fan_cb(int fd, uint32_t events, void *arg)
{
	struct fan *f = arg;
	char c;

	(void)events;
	for (int i = 0; i < NPIPES; i++) {
		if (f->fds[i][0] != fd)
			continue;
		ck_assert_int_eq(read(fd, &c, 1), 1);
		f->calls[i]++;
		loop_unwatch(f->w[i]);
	}
	if (++f->total == NPIPES)
		loop_quit(11);
}

START_TEST(many_watches)
{
	struct fan *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < NPIPES; i++) {
		ck_assert_int_eq(pipe2(f->fds[i], O_CLOEXEC | O_NONBLOCK), 0);
		f->w[i] = loop_watch(f->fds[i][0], EPOLLIN, fan_cb, f);
		ck_assert_ptr_nonnull(f->w[i]);
		ck_assert_int_eq(write(f->fds[i][1], "x", 1), 1);
	}
	ck_assert_int_eq(loop_run(), 11);
	for (int i = 0; i < NPIPES; i++) {
		ck_assert_int_eq(f->calls[i], 1);
		close(f->fds[i][0]);
		close(f->fds[i][1]);
	}
	free(f);
}
END_TEST

/* ---- signals ---- */

struct sigs {
	int usr1, usr2, other;
};

static void sig_cb(int signo, void *arg)
{
	struct sigs *s = arg;

	if (signo == SIGUSR1)
		s->usr1++;
	else if (signo == SIGUSR2)
		s->usr2++;
	else
		s->other++;
	if (s->usr1 && s->usr2)
		loop_quit(12);
}

START_TEST(signal_delivered_through_loop)
{
	struct sigs s = {0};
	sigset_t cur;

	/* loop_init blocked them, so raise() leaves them pending for the signalfd. */
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
	ck_assert_int_eq(sigismember(&cur, SIGUSR1), 1);
	ck_assert_int_eq(sigismember(&cur, SIGUSR2), 1);
	loop_on_signal(sig_cb, &s);
	ck_assert_int_eq(raise(SIGUSR1), 0);
	ck_assert_int_eq(raise(SIGUSR2), 0);
	ck_assert_int_eq(loop_run(), 12);
	ck_assert_int_eq(s.usr1, 1);
	ck_assert_int_eq(s.usr2, 1);
	ck_assert_int_eq(s.other, 0);
}
END_TEST

START_TEST(init_twice_is_refused)
{
	ck_assert_int_eq(loop_init(NULL), -EALREADY);
}
END_TEST

/* ---- the bus inside the loop ---- */

struct busctx {
	int delivered;
	int delivered_before_quit_returned;
};

static void publish_and_quit_cb(void *arg)
{
	struct vigil_ev_process_running ev = {0};

	(void)arg;
	ev.hdr.type = VIGIL_EV_PROCESS_RUNNING;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = "web";
	ev.program = "web";
	ev.pid = 77;
	ck_assert_int_eq(bus_publish(&ev.hdr), 0);
	/* Quit ends the run after this turn, and this turn still drains the bus. */
	loop_quit(13);
}

static void bus_cb(const struct vigil_event *ev, void *arg)
{
	struct busctx *c = arg;

	ck_assert_int_eq(((const struct vigil_ev_process_running *)ev)->pid, 77);
	c->delivered++;
}

START_TEST(bus_events_from_timer_delivered_same_run)
{
	struct busctx c = {0};

	ck_assert_ptr_nonnull(bus_subscribe(NULL, NULL, bus_cb, &c));
	ck_assert_ptr_nonnull(loop_timer_add(1, 0, publish_and_quit_cb, NULL));
	ck_assert_int_eq(loop_run(), 13);
	ck_assert_int_eq(c.delivered, 1);
	ck_assert_int_eq(bus_pending(), 0);
}
END_TEST

/* More queued events than one turn's budget: the loop keeps turning without waiting. */
static void flood_cb(void *arg)
{
	struct vigil_ev_metrics_sample ev = {0};

	(void)arg;
	ev.hdr.type = VIGIL_EV_METRICS_SAMPLE;
	ev.hdr.size = sizeof(ev);
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(bus_publish(&ev.hdr), 0);
}

static void count_cb(const struct vigil_event *ev, void *arg)
{
	int *n = arg;

	(void)ev;
	if (++*n == 10000)
		loop_quit(14);
}

START_TEST(bus_backlog_drains_over_turns)
{
	struct vigil_filter f;
	int n = 0;

	memset(&f, 0, sizeof(f));
	f.queue_max = 20000;
	ck_assert_ptr_nonnull(bus_subscribe(NULL, &f, count_cb, &n));
	ck_assert_ptr_nonnull(loop_timer_add(0, 0, flood_cb, NULL));
	ck_assert_int_eq(loop_run(), 14);
	ck_assert_int_eq(n, 10000);
}
END_TEST

static Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, timers_fire_in_deadline_order);
	tcase_add_test(tc, many_timers_with_cancels);
	tcase_add_test(tc, periodic_timer_and_cancel_in_own_callback);
	tcase_add_test(tc, cancel_other_timers_inside_callback);
	tcase_add_test(tc, cancel_oneshot_inside_own_callback);
	tcase_add_test(tc, zero_delay_chain);
	tcase_add_test(tc, quit_returns_code_and_loop_runs_again);
	tcase_add_test(tc, fd_watch_fires_on_pipe_level_triggered);
	tcase_add_test(tc, fd_watch_reports_hangup);
	tcase_add_test(tc, watch_rejects_bad_fd);
	tcase_add_test(tc, unwatch_inside_callback);
	tcase_add_test(tc, many_watches);
	tcase_add_test(tc, signal_delivered_through_loop);
	tcase_add_test(tc, init_twice_is_refused);
	tcase_add_test(tc, bus_events_from_timer_delivered_same_run);
	tcase_add_test(tc, bus_backlog_drains_over_turns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loop_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

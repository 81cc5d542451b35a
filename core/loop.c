/* loop.c — the daemon's one epoll loop: level-triggered fd watches, a timer min-heap, signalfd. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "loop.h"

#define LOOP_MAX_EVENTS 64
#define LOOP_BUS_BUDGET 4096
#define NOT_QUEUED SIZE_MAX

struct loop_watch {
	struct loop_watch *prev, *next; /* live watches, or the dead list (next only) */
	int fd;
	uint32_t events;
	bool dead;
	loop_fd_fn fn;
	void *arg;
};

struct loop_timer {
	uint64_t deadline; /* CLOCK_MONOTONIC ms */
	uint64_t period;
	uint64_t order; /* ties on deadline fire in the order they were armed */
	size_t idx;     /* position in the heap, NOT_QUEUED while firing */
	bool cancelled;
	loop_timer_fn fn;
	void *arg;
};

static struct {
	bool ready;
	int epfd;
	int sigfd;
	struct loop_watch sigwatch; /* the signalfd's own entry, so epoll data is always a watch */
	loop_signal_fn sig_fn;
	void *sig_arg;

	struct loop_watch *watches;
	struct loop_watch *dead; /* unwatched during a batch: epoll may still hand them to us */
	bool in_batch;

	struct loop_timer **heap;
	size_t heap_len, heap_cap;
	size_t ntimers; /* armed timers, including the one firing: the heap never grows to re-arm */
	uint64_t next_order;
	struct loop_timer *firing;

	bool quit;
	int code;
} L = {.epfd = -1, .sigfd = -1};

/* ---- clocks ---- */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t loop_now_ms(void)
{
	return mono_us() / 1000u;
}

uint64_t loop_now_us(void)
{
	return mono_us();
}

int64_t loop_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t loop_wall_ms(void)
{
	return loop_wall_us() / 1000;
}

/* ---- the timer heap ---- */

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->deadline < b->deadline || (a->deadline == b->deadline && a->order < b->order);
}

static void heap_set(size_t i, struct loop_timer *t)
{
	L.heap[i] = t;
	t->idx = i;
}

static void heap_up(size_t i)
{
	struct loop_timer *t = L.heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!timer_before(t, L.heap[parent]))
			break;
		heap_set(i, L.heap[parent]);
		i = parent;
	}
	heap_set(i, t);
}

static void heap_down(size_t i)
{
	struct loop_timer *t = L.heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= L.heap_len)
			break;
		if (c + 1 < L.heap_len && timer_before(L.heap[c + 1], L.heap[c]))
			c++;
		if (!timer_before(L.heap[c], t))
			break;
		heap_set(i, L.heap[c]);
		i = c;
	}
	heap_set(i, t);
}

/* Capacity is reserved in loop_timer_add, so this cannot fail. */
static void heap_insert(struct loop_timer *t)
{
	t->order = L.next_order++;
	heap_set(L.heap_len++, t);
	heap_up(t->idx);
}

static void heap_remove(struct loop_timer *t)
{
	size_t i = t->idx;
	struct loop_timer *last = L.heap[--L.heap_len];

	t->idx = NOT_QUEUED;
	if (last == t)
		return;
	heap_set(i, last);
	if (i > 0 && timer_before(last, L.heap[(i - 1) / 2]))
		heap_up(i);
	else
		heap_down(i);
}

struct loop_timer *loop_timer_add(uint64_t delay_ms, uint64_t period_ms, loop_timer_fn fn,
                                  void *arg)
{
	struct loop_timer *t;

	if (L.ntimers + 1 > L.heap_cap) {
		size_t ncap = L.heap_cap ? L.heap_cap * 2 : 64;
		struct loop_timer **nh = realloc(L.heap, ncap * sizeof(*nh));

		if (!nh)
			return NULL;
		L.heap = nh;
		L.heap_cap = ncap;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->deadline = loop_now_ms() + delay_ms;
	t->period = period_ms;
	t->fn = fn;
	t->arg = arg;
	L.ntimers++;
	heap_insert(t);
	return t;
}

static void timer_free(struct loop_timer *t)
{
	L.ntimers--;
	free(t);
}

void loop_timer_cancel(struct loop_timer *t)
{
	if (!t)
		return;
	/* Inside its own callback: run_timers still holds it and frees it afterwards. */
	if (t == L.firing) {
		t->cancelled = true;
		return;
	}
	if (t->idx != NOT_QUEUED)
		heap_remove(t);
	timer_free(t);
}

static void run_timers(void)
{
	uint64_t now = loop_now_ms();
	/* Timers armed (or re-armed) by these callbacks wait for the next turn, so a callback
	 * that keeps adding zero-delay timers cannot starve the fds. */
	uint64_t gen = L.next_order;

	while (L.heap_len) {
		struct loop_timer *t = L.heap[0];

		if (t->deadline > now || t->order >= gen)
			break;
		heap_remove(t);
		L.firing = t;
		t->fn(t->arg);
		L.firing = NULL;
		if (t->cancelled || t->period == 0) {
			timer_free(t);
			continue;
		}
		/* Keep the period's phase, but after a stall skip the missed ticks, not burst. */
		t->deadline += t->period;
		if (t->deadline <= now)
			t->deadline = now + t->period;
		heap_insert(t);
	}
}

static int next_timeout(void)
{
	uint64_t now, d;

	if (bus_pending())
		return 0;
	if (!L.heap_len)
		return -1;
	d = L.heap[0]->deadline;
	now = loop_now_ms();
	if (d <= now)
		return 0;
	return d - now > INT_MAX ? INT_MAX : (int)(d - now);
}

/* ---- fd watches ---- */

struct loop_watch *loop_watch(int fd, uint32_t events, loop_fd_fn fn, void *arg)
{
	struct loop_watch *w;
	struct epoll_event ev;

	if (!L.ready || fd < 0 || !fn) {
		errno = L.ready ? EINVAL : EBADF;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	w->next = L.watches;
	if (L.watches)
		L.watches->prev = w;
	L.watches = w;
	return w;
}

int loop_watch_modify(struct loop_watch *w, uint32_t events)
{
	struct epoll_event ev;

	if (!w || w->dead)
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = w;
	if (epoll_ctl(L.epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void loop_unwatch(struct loop_watch *w)
{
	if (!w || w->dead)
		return;
	/* The owner may already have closed the fd (which removed it from epoll): not an error. */
	epoll_ctl(L.epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->dead = true;
	if (w->prev)
		w->prev->next = w->next;
	else
		L.watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	/* Later entries of the current epoll batch may still point at w: free after the batch. */
	if (L.in_batch) {
		w->next = L.dead;
		L.dead = w;
	} else {
		free(w);
	}
}

static void free_dead_watches(void)
{
	while (L.dead) {
		struct loop_watch *w = L.dead;

		L.dead = w->next;
		free(w);
	}
}

/* ---- signals ---- */

void loop_on_signal(loop_signal_fn fn, void *arg)
{
	L.sig_fn = fn;
	L.sig_arg = arg;
}

static void on_signalfd(int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si[16];

	(void)events;
	(void)arg;
	/* Read every record: the fd is level-triggered, and a burst may hold several. */
	for (;;) {
		ssize_t n = read(fd, si, sizeof(si));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			if (L.sig_fn)
				L.sig_fn((int)si[i].ssi_signo, L.sig_arg);
		if ((size_t)n < sizeof(si))
			return;
	}
}

/* ---- lifetime and the run loop ---- */

int loop_init(const int *signals)
{
	sigset_t mask;
	struct epoll_event ev;
	bool any = false;
	int e;

	if (L.ready)
		return -EALREADY;
	sigemptyset(&mask);
	for (const int *s = signals; s && *s; s++) {
		if (sigaddset(&mask, *s) < 0)
			return -EINVAL;
		any = true;
	}
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (L.epfd < 0)
		return -errno;
	if (any) {
		/* Blocked for good: restoring the mask at fini would deliver pending signals with
		 * their default action. Children get a clean mask from spawn. */
		if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
			goto fail;
		L.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
		if (L.sigfd < 0)
			goto fail;
		memset(&L.sigwatch, 0, sizeof(L.sigwatch));
		L.sigwatch.fd = L.sigfd;
		L.sigwatch.events = EPOLLIN;
		L.sigwatch.fn = on_signalfd;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.ptr = &L.sigwatch;
		if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, L.sigfd, &ev) < 0)
			goto fail;
	}
	L.quit = false;
	L.code = 0;
	L.ready = true;
	return 0;
fail:
	e = errno;
	if (L.sigfd >= 0)
		close(L.sigfd);
	close(L.epfd);
	L.sigfd = L.epfd = -1;
	return -e;
}

void loop_fini(void)
{
	while (L.watches)
		loop_unwatch(L.watches);
	free_dead_watches();
	for (size_t i = 0; i < L.heap_len; i++)
		free(L.heap[i]);
	free(L.heap);
	L.heap = NULL;
	L.heap_len = L.heap_cap = L.ntimers = 0;
	if (L.sigfd >= 0)
		close(L.sigfd);
	if (L.epfd >= 0)
		close(L.epfd);
	L.sigfd = L.epfd = -1;
	L.sig_fn = NULL;
	L.sig_arg = NULL;
	L.ready = false;
}

void loop_quit(int code)
{
	L.quit = true;
	L.code = code;
}

static void run_batch(const struct epoll_event *evs, int n)
{
	L.in_batch = true;
	for (int i = 0; i < n; i++) {
		struct loop_watch *w = evs[i].data.ptr;

		if (!w->dead)
			w->fn(w->fd, evs[i].events, w->arg);
	}
	L.in_batch = false;
	free_dead_watches();
}

int loop_run(void)
{
	struct epoll_event evs[LOOP_MAX_EVENTS];
	int code;

	if (!L.ready)
		return -EBADF;
	while (!L.quit) {
		int n = epoll_wait(L.epfd, evs, LOOP_MAX_EVENTS, next_timeout());

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		run_batch(evs, n);
		run_timers();
		bus_dispatch(LOOP_BUS_BUDGET);
	}
	code = L.code;
	L.quit = false;
	L.code = 0;
	return code;
}

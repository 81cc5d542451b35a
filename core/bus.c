/* bus.c — the typed event bus: type registry, copy-once refcounted publish, per-subscriber queues. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"

/* A struct larger than this is a corrupt header, not a newer minor's struct. */
#define BUS_MAX_EVENT_SIZE (64u * 1024u)
#define BUS_DEFAULT_QUEUE_MAX 1024u
/* A queue that grew past this during a burst gives its memory back once it drains. */
#define RING_KEEP_CAP 256u

/* ---- the type registry ---- */

#define OFF(st, f) ((uint16_t)offsetof(struct st, f))
#define STRS(...) { __VA_ARGS__ }
#define T(id, nm, st, cl, strs) [id] = { id, nm, (uint32_t)sizeof(struct st), cl, strs }
#define LL VIGIL_EVC_LOSSLESS
#define LY VIGIL_EVC_LOSSY

/* Indexed by type, so the publish path looks a type up without searching. */
static const struct bus_type types[VIGIL_EV_LIMIT] = {
	T(VIGIL_EV_SUPERVISOR_STARTED, "supervisor.started", vigil_ev_supervisor_started, LL,
	  STRS(OFF(vigil_ev_supervisor_started, version),
	       OFF(vigil_ev_supervisor_started, config_file))),
	T(VIGIL_EV_SUPERVISOR_STOPPING, "supervisor.stopping", vigil_ev_supervisor_stopping, LL,
	  STRS(OFF(vigil_ev_supervisor_stopping, reason))),
	T(VIGIL_EV_CONFIG_RELOADED, "config.reloaded", vigil_ev_config_reloaded, LL,
	  STRS(OFF(vigil_ev_config_reloaded, config_file))),
	T(VIGIL_EV_CONFIG_REJECTED, "config.rejected", vigil_ev_config_rejected, LL,
	  STRS(OFF(vigil_ev_config_rejected, config_file), OFF(vigil_ev_config_rejected, error))),
	T(VIGIL_EV_PROCESS_STARTING, "process.starting", vigil_ev_process_starting, LL,
	  STRS(OFF(vigil_ev_process_starting, program), OFF(vigil_ev_process_starting, command))),
	T(VIGIL_EV_PROCESS_RUNNING, "process.running", vigil_ev_process_running, LL,
	  STRS(OFF(vigil_ev_process_running, program))),
	T(VIGIL_EV_PROCESS_READY, "process.ready", vigil_ev_process_ready, LL,
	  STRS(OFF(vigil_ev_process_ready, program), OFF(vigil_ev_process_ready, how))),
	T(VIGIL_EV_PROCESS_STOPPING, "process.stopping", vigil_ev_process_stopping, LL,
	  STRS(OFF(vigil_ev_process_stopping, program), OFF(vigil_ev_process_stopping, reason))),
	T(VIGIL_EV_PROCESS_EXITED, "process.exited", vigil_ev_process_exited, LL,
	  STRS(OFF(vigil_ev_process_exited, program), OFF(vigil_ev_process_exited, reason),
	       OFF(vigil_ev_process_exited, error))),
	T(VIGIL_EV_PROCESS_BACKOFF, "process.backoff", vigil_ev_process_backoff, LL,
	  STRS(OFF(vigil_ev_process_backoff, program), OFF(vigil_ev_process_backoff, policy))),
	T(VIGIL_EV_PROCESS_FATAL, "process.fatal", vigil_ev_process_fatal, LL,
	  STRS(OFF(vigil_ev_process_fatal, program), OFF(vigil_ev_process_fatal, reason))),
	T(VIGIL_EV_PROCESS_ADOPTED, "process.adopted", vigil_ev_process_adopted, LL,
	  STRS(OFF(vigil_ev_process_adopted, program))),
	T(VIGIL_EV_TASK_QUEUED, "task.queued", vigil_ev_task_queued, LL,
	  STRS(OFF(vigil_ev_task_queued, pool), OFF(vigil_ev_task_queued, name),
	       OFF(vigil_ev_task_queued, type), OFF(vigil_ev_task_queued, command))),
	T(VIGIL_EV_TASK_FINISHED, "task.finished", vigil_ev_task_finished, LL,
	  STRS(OFF(vigil_ev_task_finished, pool), OFF(vigil_ev_task_finished, name),
	       OFF(vigil_ev_task_finished, type), OFF(vigil_ev_task_finished, error))),
	T(VIGIL_EV_TASK_STARTED, "task.started", vigil_ev_task_started, LL,
	  STRS(OFF(vigil_ev_task_started, pool), OFF(vigil_ev_task_started, name),
	       OFF(vigil_ev_task_started, type))),
	T(VIGIL_EV_METRICS_SAMPLE, "metrics.sample", vigil_ev_metrics_sample, LY, STRS(0)),
	T(VIGIL_EV_HEALTH_CHANGED, "health.changed", vigil_ev_health_changed, LL,
	  STRS(OFF(vigil_ev_health_changed, level), OFF(vigil_ev_health_changed, trend))),
	T(VIGIL_EV_LIMIT_VIOLATED, "limit.violated", vigil_ev_limit_violated, LL,
	  STRS(OFF(vigil_ev_limit_violated, limit), OFF(vigil_ev_limit_violated, action))),
	T(VIGIL_EV_ALERT_RAISED, "alert.raised", vigil_ev_alert, LL,
	  STRS(OFF(vigil_ev_alert, alert), OFF(vigil_ev_alert, severity),
	       OFF(vigil_ev_alert, message))),
	T(VIGIL_EV_ALERT_CLEARED, "alert.cleared", vigil_ev_alert, LL,
	  STRS(OFF(vigil_ev_alert, alert), OFF(vigil_ev_alert, severity),
	       OFF(vigil_ev_alert, message))),
	T(VIGIL_EV_METRIC_CUSTOM, "metric.custom", vigil_ev_metric_custom, LY,
	  STRS(OFF(vigil_ev_metric_custom, metric), OFF(vigil_ev_metric_custom, unit))),
	T(VIGIL_EV_STORE_FAILED, "store.failed", vigil_ev_store_failed, LL,
	  STRS(OFF(vigil_ev_store_failed, message))),
};

#undef OFF
#undef STRS
#undef T
#undef LL
#undef LY

const struct bus_type *bus_type_info(uint32_t type)
{
	if (type >= VIGIL_EV_LIMIT || !types[type].name)
		return NULL;
	return &types[type];
}

const char *bus_type_name(uint32_t type)
{
	const struct bus_type *t = bus_type_info(type);

	return t ? t->name : NULL;
}

uint32_t bus_type_by_name(const char *name)
{
	if (!name)
		return 0;
	for (uint32_t i = 0; i < VIGIL_EV_LIMIT; i++)
		if (types[i].name && strcmp(types[i].name, name) == 0)
			return i;
	return 0;
}

void bus_type_foreach(void (*fn)(const struct bus_type *t, void *arg), void *arg)
{
	for (uint32_t i = 0; i < VIGIL_EV_LIMIT; i++)
		if (types[i].name)
			fn(&types[i], arg);
}

/* ---- event blocks ---- */

/* Sits in front of the event in the same allocation; the union keeps the event that follows
 * it aligned for any member type. */
union block_head {
	atomic_uint refs;
	max_align_t align;
};

/* Unref may run on any thread, so this one counter is atomic; the others are loop-only. */
static atomic_ullong live_blocks;

static union block_head *block_of(const struct vigil_event *ev)
{
	return (union block_head *)(void *)((char *)(uintptr_t)ev - sizeof(union block_head));
}

const struct vigil_event *bus_ref(const struct vigil_event *ev)
{
	if (ev)
		atomic_fetch_add_explicit(&block_of(ev)->refs, 1, memory_order_relaxed);
	return ev;
}

void bus_unref(const struct vigil_event *ev)
{
	union block_head *b;

	if (!ev)
		return;
	b = block_of(ev);
	/* acq_rel: whatever the last holder's thread read from the event happens before free. */
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
		free(b);
		atomic_fetch_sub_explicit(&live_blocks, 1, memory_order_relaxed);
	}
}

/* ---- subscriptions ---- */

/* A FIFO of borrowed references; capacity is a power of two so wrapping is a mask. */
struct ring {
	const struct vigil_event **v;
	size_t head, len, cap;
};

enum { Q_LOSSLESS = 0, Q_LOSSY = 1 };

struct vigil_sub {
	struct vigil_sub *prev, *next;   /* all live subscriptions */
	struct vigil_sub *rprev, *rnext; /* subscriptions with queued events (round-robin) */
	bool in_ready;
	bool dead;
	bool all_types;
	uint64_t types[VIGIL_EV_LIMIT / 64];
	char *subject;
	uint32_t queue_max;
	void *owner;
	vigil_event_fn fn;
	void *arg;
	/* Lossy events live in their own ring so dropping the oldest one is O(1); delivery
	 * merges both rings by seq, which keeps one FIFO order per subscriber. */
	struct ring q[2];
	uint64_t dropped;
};

static struct {
	struct vigil_sub *subs_head, *subs_tail;
	struct vigil_sub *ready_head, *ready_tail;
	struct vigil_sub *graveyard; /* unsubscribed during dispatch; freed when it ends */
	bool dispatching;
	uint64_t seq;
	uint64_t published, delivered, dropped;
} bus;

static int ring_push(struct ring *r, const struct vigil_event *ev)
{
	if (r->len == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 16;
		const struct vigil_event **nv;

		if (ncap > SIZE_MAX / sizeof(*nv))
			return -ENOMEM;
		nv = malloc(ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		for (size_t i = 0; i < r->len; i++)
			nv[i] = r->v[(r->head + i) & (r->cap - 1)];
		free(r->v);
		r->v = nv;
		r->head = 0;
		r->cap = ncap;
	}
	r->v[(r->head + r->len) & (r->cap - 1)] = ev;
	r->len++;
	return 0;
}

static const struct vigil_event *ring_peek(const struct ring *r)
{
	return r->len ? r->v[r->head] : NULL;
}

static const struct vigil_event *ring_pop(struct ring *r)
{
	const struct vigil_event *ev = r->v[r->head];

	r->head = (r->head + 1) & (r->cap - 1);
	if (--r->len == 0 && r->cap > RING_KEEP_CAP) {
		free(r->v);
		r->v = NULL;
		r->cap = 0;
		r->head = 0;
	}
	return ev;
}

static void ring_release(struct ring *r)
{
	for (size_t i = 0; i < r->len; i++)
		bus_unref(r->v[(r->head + i) & (r->cap - 1)]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void ready_push(struct vigil_sub *s)
{
	s->rnext = NULL;
	s->rprev = bus.ready_tail;
	if (bus.ready_tail)
		bus.ready_tail->rnext = s;
	else
		bus.ready_head = s;
	bus.ready_tail = s;
	s->in_ready = true;
}

static void ready_remove(struct vigil_sub *s)
{
	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else
		bus.ready_head = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	else
		bus.ready_tail = s->rprev;
	s->rprev = s->rnext = NULL;
	s->in_ready = false;
}

static size_t sub_queued(const struct vigil_sub *s)
{
	return s->q[Q_LOSSLESS].len + s->q[Q_LOSSY].len;
}

static bool sub_matches(const struct vigil_sub *s, const struct vigil_event *ev)
{
	if (!s->all_types && !(s->types[ev->type / 64] & ((uint64_t)1 << (ev->type % 64))))
		return false;
	if (s->subject && (!ev->subject || strcmp(s->subject, ev->subject) != 0))
		return false;
	return true;
}

/* Takes over one reference to ev on success. */
static int sub_enqueue(struct vigil_sub *s, const struct vigil_event *ev, enum vigil_event_class cls)
{
	int rc;

	if (cls == VIGIL_EVC_LOSSY) {
		if (s->q[Q_LOSSY].len >= s->queue_max) {
			bus_unref(ring_pop(&s->q[Q_LOSSY]));
			s->dropped++;
			bus.dropped++;
		}
		rc = ring_push(&s->q[Q_LOSSY], ev);
	} else {
		rc = ring_push(&s->q[Q_LOSSLESS], ev);
	}
	if (rc == 0 && !s->in_ready)
		ready_push(s);
	return rc;
}

/* The oldest queued event of s across both rings; s must have one. */
static const struct vigil_event *sub_dequeue(struct vigil_sub *s)
{
	const struct vigil_event *a = ring_peek(&s->q[Q_LOSSLESS]);
	const struct vigil_event *b = ring_peek(&s->q[Q_LOSSY]);

	if (a && (!b || a->seq < b->seq))
		return ring_pop(&s->q[Q_LOSSLESS]);
	return ring_pop(&s->q[Q_LOSSY]);
}

static void sub_free(struct vigil_sub *s)
{
	ring_release(&s->q[Q_LOSSLESS]);
	ring_release(&s->q[Q_LOSSY]);
	free(s->subject);
	free(s);
}

struct vigil_sub *bus_subscribe(void *owner, const struct vigil_filter *f, vigil_event_fn fn,
                                void *arg)
{
	struct vigil_sub *s;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->owner = owner;
	s->fn = fn;
	s->arg = arg;
	s->queue_max = BUS_DEFAULT_QUEUE_MAX;
	s->all_types = true;
	if (f) {
		memcpy(s->types, f->types, sizeof(s->types));
		for (size_t i = 0; i < VIGIL_EV_LIMIT / 64; i++)
			if (s->types[i])
				s->all_types = false;
		if (f->queue_max)
			s->queue_max = f->queue_max;
		if (f->subject) {
			s->subject = strdup(f->subject);
			if (!s->subject) {
				free(s);
				return NULL;
			}
		}
	}
	s->prev = bus.subs_tail;
	if (bus.subs_tail)
		bus.subs_tail->next = s;
	else
		bus.subs_head = s;
	bus.subs_tail = s;
	return s;
}

void bus_unsubscribe(struct vigil_sub *s)
{
	if (!s || s->dead)
		return;
	s->dead = true;
	if (s->prev)
		s->prev->next = s->next;
	else
		bus.subs_head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		bus.subs_tail = s->prev;
	if (s->in_ready)
		ready_remove(s);
	ring_release(&s->q[Q_LOSSLESS]);
	ring_release(&s->q[Q_LOSSY]);
	/* The dispatcher may be inside this very subscription's callback and look at it when the
	 * callback returns, so only free it once dispatch is over. */
	if (bus.dispatching) {
		s->next = bus.graveyard;
		bus.graveyard = s;
	} else {
		sub_free(s);
	}
}

void bus_unsubscribe_owner(void *owner)
{
	struct vigil_sub *s = bus.subs_head, *next;

	for (; s; s = next) {
		next = s->next;
		if (s->owner == owner)
			bus_unsubscribe(s);
	}
}

uint64_t bus_sub_dropped(const struct vigil_sub *s)
{
	return s ? s->dropped : 0;
}

/* ---- publish and dispatch ---- */

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *get_str(const void *base, uint16_t off)
{
	const char *s;

	memcpy(&s, (const char *)base + off, sizeof(s));
	return s;
}

static void set_str(void *base, uint16_t off, const char *s)
{
	memcpy((char *)base + off, &s, sizeof(s));
}

int bus_publish(const struct vigil_event *ev)
{
	const struct bus_type *t;
	uint16_t offs[1 + sizeof(t->strings) / sizeof(t->strings[0])];
	size_t noffs = 0, total, nq = 0;
	union block_head *b;
	struct vigil_event *copy;
	char *p;
	int rc = 0;

	if (!ev)
		return -EINVAL;
	t = bus_type_info(ev->type);
	if (!t || ev->size < t->min_size || ev->size > BUS_MAX_EVENT_SIZE)
		return -EINVAL;

	bus.seq++;
	bus.published++;

	bool any = false;
	for (struct vigil_sub *s = bus.subs_head; s && !any; s = s->next)
		any = sub_matches(s, ev);
	if (!any)
		return 0;

	offs[noffs++] = (uint16_t)offsetof(struct vigil_event, subject);
	for (size_t i = 0; i < sizeof(t->strings) / sizeof(t->strings[0]) && t->strings[i]; i++)
		offs[noffs++] = t->strings[i];

	total = sizeof(union block_head) + ev->size;
	for (size_t i = 0; i < noffs; i++) {
		const char *s = get_str(ev, offs[i]);

		if (s)
			total += strlen(s) + 1;
	}
	b = malloc(total);
	if (!b)
		return -ENOMEM;
	/* One reference for this function; each queue gets its own below. */
	atomic_init(&b->refs, 1);
	atomic_fetch_add_explicit(&live_blocks, 1, memory_order_relaxed);

	copy = (struct vigil_event *)(void *)(b + 1);
	memcpy(copy, ev, ev->size);
	p = (char *)copy + ev->size;
	for (size_t i = 0; i < noffs; i++) {
		const char *s = get_str(ev, offs[i]);

		if (s) {
			size_t n = strlen(s) + 1;

			memcpy(p, s, n);
			set_str(copy, offs[i], p);
			p += n;
		}
	}
	copy->seq = bus.seq;
	copy->time_us = wall_us();

	/* Nothing can release a queued reference while we are here (single loop thread), so the
	 * count is settled once, after the queues took theirs. */
	for (struct vigil_sub *s = bus.subs_head; s; s = s->next) {
		if (!sub_matches(s, copy))
			continue;
		if (sub_enqueue(s, copy, t->cls) == 0)
			nq++;
		else
			rc = -ENOMEM;
	}
	atomic_fetch_add_explicit(&b->refs, (unsigned)nq, memory_order_relaxed);
	bus_unref(copy);
	return rc;
}

int bus_pending(void)
{
	return bus.ready_head != NULL;
}

size_t bus_dispatch(size_t budget)
{
	size_t n = 0;

	/* A callback that drains the bus itself would deliver recursively. */
	if (bus.dispatching)
		return 0;
	bus.dispatching = true;
	while (n < budget && bus.ready_head) {
		struct vigil_sub *s = bus.ready_head;
		const struct vigil_event *ev;

		ready_remove(s);
		ev = sub_dequeue(s);
		s->fn(ev, s->arg);
		n++;
		bus.delivered++;
		bus_unref(ev);
		/* Round-robin: a busy subscriber goes to the back after each delivery. A publish
		 * inside the callback may already have put it back. */
		if (!s->dead && !s->in_ready && sub_queued(s))
			ready_push(s);
	}
	bus.dispatching = false;
	while (bus.graveyard) {
		struct vigil_sub *s = bus.graveyard;

		bus.graveyard = s->next;
		sub_free(s);
	}
	return n;
}

/* ---- lifetime and stats ---- */

int bus_init(void)
{
	bus_fini();
	return 0;
}

void bus_fini(void)
{
	while (bus.subs_head)
		bus_unsubscribe(bus.subs_head);
	while (bus.graveyard) {
		struct vigil_sub *s = bus.graveyard;

		bus.graveyard = s->next;
		sub_free(s);
	}
	bus.ready_head = bus.ready_tail = NULL;
	bus.published = bus.delivered = bus.dropped = 0;
	/* seq is never reset: it stays strictly increasing for the life of the process. */
}

void bus_get_stats(struct bus_stats *out)
{
	out->published = bus.published;
	out->delivered = bus.delivered;
	out->dropped = bus.dropped;
	out->live_blocks = atomic_load_explicit(&live_blocks, memory_order_relaxed);
}

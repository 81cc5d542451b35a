/* queue.c — store_sqlite's write records and the bounded in-memory queue they wait in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sq.h"

uint64_t sq_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *copy_str(char **p, const char *s)
{
	size_t n;
	char *d;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = *p;
	memcpy(d, s, n);
	*p += n;
	return d;
}

struct sq_rec *sq_rec_new(enum sq_rec_kind kind, const char *const *str)
{
	size_t len = sizeof(struct sq_rec);
	struct sq_rec *r;
	char *p;

	for (size_t i = 0; str && i < SQ_NSTR; i++)
		if (str[i])
			len += strlen(str[i]) + 1;
	r = calloc(1, len);
	if (!r)
		return NULL;
	p = (char *)(r + 1);
	r->kind = kind;
	r->expected = -1;
	r->priority = -1;
	for (size_t i = 0; str && i < SQ_NSTR; i++)
		r->s[i] = copy_str(&p, str[i]);
	return r;
}

void sq_list_free(struct sq_list *l)
{
	struct sq_rec *r = l->head, *next;

	for (; r; r = next) {
		next = r->next;
		free(r);
	}
	l->head = l->tail = NULL;
	l->n = 0;
}

static void list_push(struct sq_list *l, struct sq_rec *r)
{
	r->next = NULL;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

/* front goes before l; front is left empty. */
static void list_prepend(struct sq_list *l, struct sq_list *front)
{
	if (!front->head)
		return;
	front->tail->next = l->head;
	if (!l->tail)
		l->tail = front->tail;
	l->head = front->head;
	l->n += front->n;
	front->head = front->tail = NULL;
	front->n = 0;
}

struct slot {
	struct sq_rec *r;
	size_t pos;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = strcmp(x->r->s[SQ_NAME], y->r->s[SQ_NAME]);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Registry writes are idempotent final states (the last put or remove of a name wins), so
 * only the last record per name needs to survive a long outage. Rare: O(n log n). */
static void compact_registry(struct sq_store *st)
{
	struct sq_list *l = &st->reg;
	struct slot *v = malloc(l->n * sizeof(*v));
	struct sq_rec **keep;
	size_t n = 0, kept = 0;

	if (!v)
		return;
	for (struct sq_rec *r = l->head; r; r = r->next, n++)
		v[n] = (struct slot){r, n};
	qsort(v, n, sizeof(*v), slot_cmp);
	keep = calloc(n, sizeof(*keep));
	if (!keep) {
		free(v);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && strcmp(v[i].r->s[SQ_NAME], v[i + 1].r->s[SQ_NAME]) == 0)
			free(v[i].r);
		else
			keep[v[i].pos] = v[i].r;
	}
	l->head = l->tail = NULL;
	l->n = 0;
	for (size_t i = 0; i < n; i++)
		if (keep[i]) {
			list_push(l, keep[i]);
			kept++;
		}
	free(keep);
	free(v);
	st->host->log(
	    st->self, VIGIL_LOG_INFO,
	    "write queue: compacted %zu waiting registry writes to %zu (one per instance)", n,
	    kept);
}

static void enforce_bound(struct sq_store *st)
{
	while (st->hist.n > SQ_QUEUE_MAX) {
		struct sq_rec *r = st->hist.head;

		st->hist.head = r->next;
		if (!st->hist.head)
			st->hist.tail = NULL;
		st->hist.n--;
		free(r);
		st->dropped++;
		if (!st->drop_logged) {
			st->drop_logged = 1;
			st->host->log(
			    st->self, VIGIL_LOG_ERROR,
			    "write queue full (%d history records waiting for %s): dropping "
			    "the oldest run history until the database can be written again",
			    SQ_QUEUE_MAX, st->path);
		}
	}
	/* Compacting shrinks the registry queue to one record per instance; only run it again
	 * when that has doubled, so a huge number of instances cannot make every push O(n). */
	if (st->reg.n > SQ_QUEUE_MAX && (st->reg.n & (st->reg.n - 1)) == 0)
		compact_registry(st);
}

int sq_queue_push(struct sq_store *st, struct sq_rec *r)
{
	int registry = r->kind == SQ_REC_PUT || r->kind == SQ_REC_REMOVE;
	size_t before = st->reg.n + st->hist.n;

	if (before == 0)
		st->first_ms = sq_mono_ms();
	list_push(registry ? &st->reg : &st->hist, r);
	enforce_bound(st);
	/* Registry records are written at once: after a crash of vigild, an entry still in
	 * memory would be a process nobody adopts. History waits for flush_interval. Wake the
	 * writer only when that changes its plan: one wakeup per batch, not one per record. */
	return before == 0 || before + 1 == SQ_BATCH_NOW || (registry && st->reg.n == 1);
}

void sq_queue_unshift(struct sq_store *st, struct sq_list *reg, struct sq_list *hist)
{
	list_prepend(&st->reg, reg);
	list_prepend(&st->hist, hist);
	if (st->reg.n + st->hist.n && !st->first_ms)
		st->first_ms = sq_mono_ms();
	enforce_bound(st);
}

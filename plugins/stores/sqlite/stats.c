/* stats.c — store_sqlite's statistics: runs and tasks per program, type or pool. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq.h"

/* One row per finished run or task: key, duration (ms), success, timeout, cpu, rss. The file's
 * rows that queued records change are read from the TEMP copy instead (see query.c). The rows
 * come unsorted (one pass over the table); grouping and percentiles are done here, which costs
 * a fraction of SQL window functions (a sort of every row). */
static const char runs_src[] =
    "SELECT ifnull(program, name), ended_at_ms - started_at_ms, ifnull(expected, 0) = 1,"
    " ifnull(expected, 0) = 0 AND reason = 'start-timeout', cpu_s, peak_rss_bytes"
    " FROM %s.runs WHERE ended_at_ms IS NOT NULL AND ended_at_ms >= :since";

/* Cancelled tasks are left out: withdrawing a task says nothing about how it does. A task that
 * never ran (it could not start) lasted 0 ms. */
static const char tasks_src[] =
    "SELECT ifnull(%s, ''), ifnull(duration_ms, 0), state = 'succeeded', state = 'timeout',"
    " cpu_s, peak_rss_bytes FROM %s.tasks"
    " WHERE state IN ('succeeded', 'failed', 'timeout', 'killed') AND ended_at_ms >= :since";

struct group {
	char *key;
	uint64_t runs, ok, timeouts;
	double cpu_s;
	int64_t rss; /* -1 = none known */
	int64_t *d;  /* durations */
	size_t nd, cap;
};

struct groups {
	struct group *v; /* open addressing by key hash */
	size_t cap, n;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int grow(struct groups *g)
{
	size_t cap = g->cap ? g->cap * 2 : 64;
	struct group *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < g->cap; i++) {
		size_t j;

		if (!g->v[i].key)
			continue;
		for (j = hash(g->v[i].key) & (cap - 1); v[j].key; j = (j + 1) & (cap - 1))
			;
		v[j] = g->v[i];
	}
	free(g->v);
	g->v = v;
	g->cap = cap;
	return 0;
}

static struct group *group_of(struct groups *g, const char *key)
{
	size_t i;

	if ((g->n + 1) * 2 > g->cap && grow(g) < 0)
		return NULL;
	for (i = hash(key) & (g->cap - 1); g->v[i].key; i = (i + 1) & (g->cap - 1))
		if (strcmp(g->v[i].key, key) == 0)
			return &g->v[i];
	if (!(g->v[i].key = strdup(key)))
		return NULL;
	g->v[i].rss = -1;
	g->n++;
	return &g->v[i];
}

static void groups_free(struct groups *g)
{
	for (size_t i = 0; i < g->cap; i++) {
		free(g->v[i].key);
		free(g->v[i].d);
	}
	free(g->v);
}

static int add_row(struct groups *g, sqlite3_stmt *s)
{
	const char *key = (const char *)sqlite3_column_text(s, 0);
	struct group *gr = group_of(g, key ? key : "");

	if (!gr)
		return -ENOMEM;
	if (gr->nd == gr->cap) {
		size_t cap = gr->cap ? gr->cap * 2 : 16;
		int64_t *d = realloc(gr->d, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		gr->d = d;
		gr->cap = cap;
	}
	gr->d[gr->nd++] = sqlite3_column_int64(s, 1);
	gr->runs++;
	gr->ok += sqlite3_column_int(s, 2) != 0;
	gr->timeouts += sqlite3_column_int(s, 3) != 0;
	gr->cpu_s += sqlite3_column_double(s, 4); /* NULL reads as 0 */
	if (sqlite3_column_type(s, 5) != SQLITE_NULL && sqlite3_column_int64(s, 5) > gr->rss)
		gr->rss = sqlite3_column_int64(s, 5);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = *(const struct group *const *)a,
	                   *y = *(const struct group *const *)b;

	return strcmp(x->key, y->key);
}

/* Nearest rank: the p-th percentile of n sorted values is the ceil(p * n / 100)-th. */
static int64_t nearest_rank(const int64_t *sorted, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return sorted[rank ? rank - 1 : 0];
}

static int emit(struct groups *g, vigil_stats_fn fn, void *arg)
{
	struct group **order = malloc((g->n ? g->n : 1) * sizeof(*order));
	size_t n = 0;
	int ret = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < g->cap; i++)
		if (g->v[i].key)
			order[n++] = &g->v[i];
	qsort(order, n, sizeof(*order), cmp_group);
	for (size_t i = 0; i < n && !ret; i++) {
		struct group *gr = order[i];
		struct vigil_stats_row row = {
		    .size = sizeof(row),
		    .key = gr->key,
		    .runs = gr->runs,
		    .successes = gr->ok,
		    .failures = gr->runs - gr->ok - gr->timeouts,
		    .timeouts = gr->timeouts,
		    .success_rate = (double)gr->ok / (double)gr->runs,
		    .cpu_s = gr->cpu_s,
		    .peak_rss_bytes = gr->rss,
		};

		qsort(gr->d, gr->nd, sizeof(*gr->d), cmp_i64);
		row.p50_ms = nearest_rank(gr->d, gr->nd, 50);
		row.p95_ms = nearest_rank(gr->d, gr->nd, 95);
		row.max_ms = gr->d[gr->nd - 1];
		ret = fn(&row, arg);
	}
	free(order);
	return ret;
}

int sq_stats_query(struct sq_store *st, const struct vigil_stats_query *q, vigil_stats_fn fn,
                   void *arg)
{
	struct groups g = {0};
	sqlite3_stmt *s = NULL;
	struct sq_err err = {0};
	const char *by;
	char sql[2048], file[512], temp[512];
	int programs, rc, ret = 0;

	if (!q || q->size < sizeof(*q) || !fn)
		return -EINVAL;
	by = q->by && *q->by ? q->by : "type";
	if (strcmp(by, "type") != 0 && strcmp(by, "program") != 0 && strcmp(by, "pool") != 0)
		return -EINVAL;
	programs = strcmp(by, "program") == 0;
	if (programs) {
		snprintf(file, sizeof(file), runs_src, "main");
		snprintf(temp, sizeof(temp), runs_src, "temp");
	} else {
		snprintf(file, sizeof(file), tasks_src, by, "main");
		snprintf(temp, sizeof(temp), tasks_src, by, "temp");
	}
	snprintf(sql, sizeof(sql), "%s AND id NOT IN (SELECT id FROM temp.%s) UNION ALL %s", file,
	         programs ? "runs" : "tasks", temp);
	rc = sq_snapshot_begin(st, &err);
	if (rc < 0) {
		st->host->log(st->self, VIGIL_LOG_WARN, "stats query: %s", err.msg);
		return rc;
	}
	rc = sqlite3_prepare_v2(st->rd.h, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":since"),
		                   q->since_ms > 0 ? q->since_ms : INT64_MIN);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		rc = SQLITE_OK;
		ret = add_row(&g, s);
		if (ret < 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_OK && rc != SQLITE_DONE) {
		ret = sq_fail(&err, st->rd.h, rc, "cannot compute statistics from %s", st->path);
		st->host->log(st->self, VIGIL_LOG_WARN, "stats query: %s", err.msg);
	}
	sqlite3_finalize(s);
	sq_snapshot_end(st);
	if (ret == 0)
		ret = emit(&g, fn, arg);
	groups_free(&g);
	return ret;
}

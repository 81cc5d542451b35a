/* query.c — store_sqlite's reads: the read connection, snapshots with the queue, history_query. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq.h"

/* Queries run on the loop thread through a read-only connection of their own: in WAL mode
 * the writer never blocks it. What is still queued (not committed yet) is applied, with the
 * writer's own statements, to TEMP tables named runs and tasks that shadow the file's for
 * unqualified names: a TEMP row is a file row a queued record changes (copied first) or a row
 * it adds. A query reads "file rows not in TEMP" + "TEMP rows". ROLLBACK empties TEMP again. */

#define RUN_COLS                                                                                   \
	"id, name, program, pid, started_at_ms, ended_at_ms, exit_code, signal, reason, error,"    \
	" cpu_s, peak_rss_bytes, priority, tags, expected"
#define TASK_COLS                                                                                  \
	"id, name, type, pool, priority, state, pid, exit_code, signal, submitted_at_ms,"          \
	" started_at_ms, ended_at_ms, duration_ms, cpu_s, peak_rss_bytes, attempts, error,"        \
	" command"

static const char temp_schema[] =
    "PRAGMA temp_store = MEMORY;"
    "CREATE TEMP TABLE runs (id INTEGER PRIMARY KEY, name TEXT, program TEXT, pid INTEGER,"
    " started_at_ms INTEGER, ended_at_ms INTEGER, exit_code INTEGER, signal INTEGER,"
    " reason TEXT, error TEXT, cpu_s REAL, peak_rss_bytes INTEGER, priority TEXT, tags TEXT,"
    " expected INTEGER);"
    "CREATE INDEX temp.runs_open ON runs(name, pid) WHERE ended_at_ms IS NULL;"
    "CREATE TEMP TABLE tasks (id TEXT PRIMARY KEY NOT NULL, name TEXT, type TEXT, pool TEXT,"
    " priority TEXT, state TEXT, pid INTEGER, exit_code INTEGER, signal INTEGER,"
    " submitted_at_ms INTEGER, started_at_ms INTEGER, ended_at_ms INTEGER,"
    " duration_ms INTEGER, cpu_s REAL, peak_rss_bytes INTEGER, attempts INTEGER, error TEXT,"
    " command TEXT);";

void sq_reader_close(struct sq_reader *rd)
{
	sqlite3_stmt **all[] = {&rd->seq, &rd->copy_runs, &rd->copy_task, &rd->max_id};

	sq_hist_finalize(&rd->hs);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (rd->h)
		sqlite3_close_v2(rd->h);
	rd->h = NULL;
}

static int prep(sqlite3 *h, const char *sql, sqlite3_stmt **s)
{
	return sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
}

static int reader_open(struct sq_store *st, struct sq_err *err)
{
	struct sq_reader *rd = &st->rd;
	uint64_t gen;
	int rc;

	pthread_mutex_lock(&st->mu);
	gen = st->file_gen;
	pthread_mutex_unlock(&st->mu);
	if (rd->h && rd->file_gen == gen)
		return 0;
	sq_reader_close(rd);
	rc = sqlite3_open_v2(st->path, &rd->h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(err, rd->h, rc, "cannot open %s to read the history", st->path);
		sq_reader_close(rd);
		return err->code;
	}
	sqlite3_extended_result_codes(rd->h, 1);
	/* A WAL reader waits only while another connection recovers the WAL: briefly. */
	sqlite3_busy_timeout(rd->h, 200);
	rc = sqlite3_exec(rd->h, temp_schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sq_hist_prepare(rd->h, &rd->hs);
	if (rc == SQLITE_OK)
		rc = prep(rd->h,
		          "INSERT OR IGNORE INTO temp.runs(" RUN_COLS ") SELECT " RUN_COLS
		          " FROM main.runs WHERE name = ?1 AND ended_at_ms IS NULL",
		          &rd->copy_runs);
	if (rc == SQLITE_OK)
		rc = prep(rd->h,
		          "INSERT OR IGNORE INTO temp.tasks(" TASK_COLS ") SELECT " TASK_COLS
		          " FROM main.tasks WHERE id = ?1",
		          &rd->copy_task);
	if (rc == SQLITE_OK)
		rc = prep(rd->h, "SELECT value FROM main.meta WHERE key = 'batch_seq'", &rd->seq);
	if (rc == SQLITE_OK)
		rc = prep(rd->h, "SELECT max(id) FROM main.runs", &rd->max_id);
	if (rc != SQLITE_OK) {
		sq_fail(err, rd->h, rc, "cannot read the history in %s", st->path);
		sq_reader_close(rd);
		return err->code;
	}
	rd->file_gen = gen;
	return 0;
}

static int step_int(sqlite3_stmt *s, int64_t *v)
{
	int rc = sqlite3_step(s);

	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Applies one queued record to the TEMP copy: the file rows it may change come first. */
static int overlay(struct sq_reader *rd, const struct sq_rec *r)
{
	sqlite3_stmt *copy;
	int rc;

	switch (r->kind) {
	case SQ_REC_RUN_BEGIN:
	case SQ_REC_RUN_ADOPT:
	case SQ_REC_RUN_END:
		copy = rd->copy_runs;
		break;
	case SQ_REC_TASK_QUEUED:
	case SQ_REC_TASK_STARTED:
	case SQ_REC_TASK_FINISHED:
		copy = rd->copy_task;
		break;
	default:
		return SQLITE_OK;
	}
	sqlite3_bind_text(copy, 1, r->s[SQ_NAME], -1, SQLITE_STATIC);
	rc = sqlite3_step(copy);
	sqlite3_reset(copy);
	if (rc != SQLITE_DONE)
		return rc;
	/* A run added here gets the id the writer will most likely give it. */
	rc = sq_apply_hist(&rd->hs, r, rd->next_id);
	if (rc == SQLITE_OK && sqlite3_last_insert_rowid(rd->h) == rd->next_id)
		rd->next_id++;
	return rc;
}

int sq_snapshot_begin(struct sq_store *st, struct sq_err *err)
{
	struct sq_reader *rd = &st->rd;
	int64_t committed = 0, max_id = 0;
	int rc = reader_open(st, err);

	if (rc < 0)
		return rc;
	rc = sqlite3_exec(rd->h, "BEGIN", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		sq_fail(err, rd->h, rc, "cannot read %s", st->path);
		sq_reader_close(rd);
		return err->code;
	}
	/* Under mu the writer can neither take a batch nor drop the one it is committing; it may
	 * commit. The snapshot starts with the read of batch_seq: the batch in flight is in it
	 * exactly when its number is there. */
	pthread_mutex_lock(&st->mu);
	rc = step_int(rd->seq, &committed);
	if (rc == SQLITE_OK)
		rc = step_int(rd->max_id, &max_id);
	rd->next_id = max_id + 1;
	if (rc == SQLITE_OK && st->fly_hist && st->fly_seq > (uint64_t)committed)
		for (const struct sq_rec *r = st->fly_hist->head; r && rc == SQLITE_OK; r = r->next)
			rc = overlay(rd, r);
	for (const struct sq_rec *r = st->hist.head; r && rc == SQLITE_OK; r = r->next)
		rc = overlay(rd, r);
	pthread_mutex_unlock(&st->mu);
	if (rc != SQLITE_OK) {
		sq_fail(err, rd->h, rc, "cannot read the history in %s", st->path);
		sqlite3_exec(rd->h, "ROLLBACK", NULL, NULL, NULL);
		sq_reader_close(rd);
		return err->code;
	}
	return 0;
}

void sq_snapshot_end(struct sq_store *st)
{
	if (st->rd.h)
		sqlite3_exec(st->rd.h, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- history_query ---- */

static const char *nz(const char *s)
{
	return s && *s ? s : NULL;
}

struct sql {
	char text[4096];
	size_t len;
};

static void add(struct sql *q, const char *fmt, ...) VIGIL_PRINTF(2, 3);

static void add(struct sql *q, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (q->len >= sizeof(q->text))
		return;
	va_start(ap, fmt);
	n = vsnprintf(q->text + q->len, sizeof(q->text) - q->len, fmt, ap);
	va_end(ap);
	q->len += n > 0 ? (size_t)n : 0;
}

/* The WHERE of one arm; the same named parameters serve both arms. */
static void where_runs(struct sql *s, const struct vigil_history_query *q, int file)
{
	add(s, " WHERE 1");
	if (nz(q->name))
		add(s, " AND (name = :name OR program = :name)");
	/* Open runs are few (one per running instance): look them up rather than walk the
	 * whole history in time order. */
	if (nz(q->state) && strcmp(q->state, "running") == 0 && file)
		add(s, " AND id IN (SELECT id FROM main.runs WHERE ended_at_ms IS NULL)");
	else if (nz(q->state) && strcmp(q->state, "running") == 0)
		add(s, " AND ended_at_ms IS NULL");
	else if (nz(q->state))
		add(s, " AND ended_at_ms IS NOT NULL AND reason = :state");
	if (nz(q->priority))
		add(s, " AND priority = :prio");
	/* One whole tag of the comma-joined list ("a,b" is two tags, never one). */
	if (nz(q->tag) && strchr(q->tag, ','))
		add(s, " AND 0");
	else if (nz(q->tag))
		add(s, " AND instr(',' || tags || ',', ',' || :tag || ',') > 0");
	if (q->since_ms)
		add(s, " AND (ended_at_ms IS NULL OR ended_at_ms >= :since)");
	if (q->until_ms)
		add(s, " AND started_at_ms < :until");
}

static void where_tasks(struct sql *s, const struct vigil_history_query *q)
{
	add(s, " WHERE 1");
	if (nz(q->name))
		add(s, " AND (name = :name OR id = :name)");
	if (nz(q->state))
		add(s, " AND state = :state");
	if (nz(q->type))
		add(s, " AND type = :type");
	if (nz(q->priority))
		add(s, " AND priority = :prio");
	if (q->since_ms)
		add(s, " AND (ended_at_ms IS NULL OR ended_at_ms >= :since)");
	if (q->until_ms)
		add(s, " AND submitted_at_ms < :until");
}

static void bind_named(sqlite3_stmt *s, const char *param, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, param);

	if (i > 0)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_named_int(sqlite3_stmt *s, const char *param, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, param);

	if (i > 0)
		sqlite3_bind_int64(s, i, v);
}

static int prepare_arm(sqlite3 *h, int tasks, const struct vigil_history_query *q, uint32_t limit,
                       sqlite3_stmt **out)
{
	static const char run_cols[] =
	    "id, name, program, pid, started_at_ms, ended_at_ms, exit_code, signal, reason,"
	    " error, cpu_s, peak_rss_bytes, priority, tags, NULL";
	static const char task_cols[] =
	    "id, name, pool, pid, submitted_at_ms, ended_at_ms, exit_code, signal, state,"
	    " error, cpu_s, peak_rss_bytes, priority, type, started_at_ms";
	const char *cols = tasks ? task_cols : run_cols, *table = tasks ? "tasks" : "runs";
	struct sql s = {.len = 0};
	int rc;

	/* Both halves are ordered by the same index expression, so SQLite merges them rather
	 * than sorting: the file's half walks its time index newest first and stops early. */
	add(&s, "SELECT %s FROM main.%s", cols, table);
	if (tasks)
		where_tasks(&s, q);
	else
		where_runs(&s, q, 1);
	add(&s, " AND id NOT IN (SELECT id FROM temp.%s) UNION ALL SELECT %s FROM temp.%s", table,
	    cols, table);
	if (tasks)
		where_tasks(&s, q);
	else
		where_runs(&s, q, 0);
	add(&s, " ORDER BY 5 DESC, 1 DESC LIMIT %u", limit);
	if (s.len >= sizeof(s.text))
		return SQLITE_TOOBIG;
	rc = sqlite3_prepare_v2(h, s.text, -1, out, NULL);
	if (rc != SQLITE_OK)
		return rc;
	bind_named(*out, ":name", nz(q->name));
	bind_named(*out, ":state", nz(q->state));
	bind_named(*out, ":type", nz(q->type));
	bind_named(*out, ":prio", nz(q->priority));
	bind_named(*out, ":tag", nz(q->tag));
	bind_named_int(*out, ":since", q->since_ms);
	bind_named_int(*out, ":until", q->until_ms);
	return SQLITE_OK;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int64_t col_int(sqlite3_stmt *s, int i, int64_t null)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? null : sqlite3_column_int64(s, i);
}

static void fill_row(sqlite3_stmt *s, int tasks, struct vigil_history_row *row, char *id,
                     size_t idlen)
{
	int open = sqlite3_column_type(s, 5) == SQLITE_NULL;

	memset(row, 0, sizeof(*row));
	row->size = sizeof(*row);
	row->kind = tasks ? "task" : "program";
	if (tasks) {
		row->id = col_text(s, 0);
	} else {
		snprintf(id, idlen, "%lld", (long long)sqlite3_column_int64(s, 0));
		row->id = id;
	}
	row->name = col_text(s, 1);
	row->program = col_text(s, 2);
	row->pid = (int32_t)col_int(s, 3, 0);
	row->started_at_ms = sqlite3_column_int64(s, 4);
	row->ended_at_ms = col_int(s, 5, 0);
	row->exit_code = (int32_t)col_int(s, 6, -1);
	row->signal = (int32_t)col_int(s, 7, 0);
	if (tasks) {
		row->state = col_text(s, 8);
		/* A task's start is when it first ran; one that never ran shows its submission. */
		row->started_at_ms = col_int(s, 14, row->started_at_ms);
		row->type = col_text(s, 13);
	} else {
		row->reason = col_text(s, 8);
		row->state = open ? "running" : row->reason ? row->reason : "unknown";
		row->tags = col_text(s, 13);
	}
	row->error = col_text(s, 9);
	row->cpu_s = sqlite3_column_type(s, 10) == SQLITE_NULL ? -1 : sqlite3_column_double(s, 10);
	row->peak_rss_bytes = col_int(s, 11, -1);
	row->priority = col_text(s, 12);
}

/* Steps s to its next row; *live = 0 at the end. */
static int next(sqlite3_stmt *s, int *live)
{
	int rc;

	if (!s) {
		*live = 0;
		return SQLITE_OK;
	}
	rc = sqlite3_step(s);
	*live = rc == SQLITE_ROW;
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int sq_history_query(struct sq_store *st, const struct vigil_history_query *q, vigil_history_fn fn,
                     void *arg)
{
	sqlite3_stmt *runs = NULL, *tasks = NULL;
	struct sq_err err = {0};
	uint32_t limit, sent = 0;
	int rc, want_runs, want_tasks, run_live = 0, task_live = 0, ret = 0;

	if (!q || q->size < sizeof(*q) || !fn)
		return -EINVAL;
	if (nz(q->kind) && strcmp(q->kind, "program") != 0 && strcmp(q->kind, "task") != 0)
		return -EINVAL;
	limit = q->limit ? q->limit : 1000;
	/* A task type selects tasks only; a tag, programs only (tasks carry none). */
	want_runs = (!nz(q->kind) || strcmp(q->kind, "program") == 0) && !nz(q->type);
	want_tasks = (!nz(q->kind) || strcmp(q->kind, "task") == 0) && !nz(q->tag);
	if (!want_runs && !want_tasks)
		return 0;
	rc = sq_snapshot_begin(st, &err);
	if (rc < 0) {
		st->host->log(st->self, VIGIL_LOG_WARN, "history query: %s", err.msg);
		return rc;
	}
	rc = SQLITE_OK;
	if (want_runs)
		rc = prepare_arm(st->rd.h, 0, q, limit, &runs);
	if (rc == SQLITE_OK && want_tasks)
		rc = prepare_arm(st->rd.h, 1, q, limit, &tasks);
	if (rc == SQLITE_OK)
		rc = next(runs, &run_live);
	if (rc == SQLITE_OK)
		rc = next(tasks, &task_live);
	/* Merge the two newest-first streams. */
	while (rc == SQLITE_OK && sent < limit && (run_live || task_live)) {
		struct vigil_history_row row;
		char id[32];
		int take_task = !run_live || (task_live && sqlite3_column_int64(tasks, 4) >
		                                               sqlite3_column_int64(runs, 4));

		fill_row(take_task ? tasks : runs, take_task, &row, id, sizeof(id));
		sent++;
		ret = fn(&row, arg);
		if (ret)
			break;
		rc = take_task ? next(tasks, &task_live) : next(runs, &run_live);
	}
	if (rc != SQLITE_OK) {
		ret = sq_fail(&err, st->rd.h, rc, "cannot read the history in %s", st->path);
		st->host->log(st->self, VIGIL_LOG_WARN, "history query: %s", err.msg);
	}
	sqlite3_finalize(runs);
	sqlite3_finalize(tasks);
	sq_snapshot_end(st);
	return ret;
}

/* apply.c — store_sqlite's writes: the statements, one transaction per batch, retention. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sq.h"

static int prepare(sqlite3 *h, const char *sql, sqlite3_stmt **s)
{
	return sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
}

/* Unqualified table names: on the reader's connection they resolve to its TEMP tables. */
int sq_hist_prepare(sqlite3 *h, struct sq_hist_stmts *hs)
{
	int rc;

	/* Both look in runs_open, the partial index of open runs: a few rows, however long the
	 * history of the instance (its runs_name_started range grows with every run). */
	rc = prepare(h,
	             "SELECT max(id) FROM runs WHERE name = ?1 AND pid = ?2"
	             " AND ended_at_ms IS NULL",
	             &hs->find_open);
	/* A new run of an instance means any other open run of it ended without our hearing of
	 * it (the daemon died meanwhile): close those as "lost" so open runs = running now. */
	if (rc == SQLITE_OK)
		rc = prepare(h,
		             "UPDATE runs SET ended_at_ms = max(started_at_ms, ?3), reason = 'lost'"
		             " WHERE name = ?1 AND pid <> ?2 AND ended_at_ms IS NULL",
		             &hs->close_stale);
	/* ?12 is the id: NULL (the next rowid) for the writer, chosen by the reader. */
	if (rc == SQLITE_OK)
		rc = prepare(
		    h,
		    "INSERT INTO runs(id, name, program, pid, started_at_ms, ended_at_ms,"
		    " exit_code, signal, reason, error, cpu_s, peak_rss_bytes, priority, tags,"
		    " expected)"
		    " VALUES(?12, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13, ?14, ?15)",
		    &hs->run_insert);
	if (rc == SQLITE_OK)
		rc = prepare(h,
		             "UPDATE runs SET ended_at_ms = ?2, exit_code = ?3, signal = ?4,"
		             " reason = ?5, error = ?6, cpu_s = ?7, peak_rss_bytes = ?8,"
		             " expected = ?9, priority = ifnull(priority, ?10),"
		             " tags = ifnull(tags, ?11) WHERE id = ?1",
		             &hs->run_end);
	if (rc == SQLITE_OK)
		rc = prepare(h,
		             "INSERT INTO tasks(id, name, type, pool, priority, state,"
		             " submitted_at_ms, attempts, command)"
		             " VALUES(?1, ?2, ?3, ?4, ?5, 'queued', ?6, 0, ?7)"
		             " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
		             " type = excluded.type, pool = excluded.pool,"
		             " priority = excluded.priority, state = 'queued',"
		             " submitted_at_ms = excluded.submitted_at_ms,"
		             " command = ifnull(excluded.command, command)",
		             &hs->task_queued);
	if (rc == SQLITE_OK)
		rc =
		    prepare(h,
		            "INSERT INTO tasks(id, name, type, pool, state, pid, submitted_at_ms,"
		            " started_at_ms, attempts)"
		            " VALUES(?1, ?2, ?3, ?4, 'running', ?5, ?6, ?7, ?8)"
		            " ON CONFLICT(id) DO UPDATE SET state = 'running', pid = excluded.pid,"
		            " started_at_ms = excluded.started_at_ms, attempts = excluded.attempts",
		            &hs->task_started);
	if (rc == SQLITE_OK)
		rc = prepare(
		    h,
		    "INSERT INTO tasks(id, name, type, pool, priority, state, exit_code,"
		    " signal, submitted_at_ms, started_at_ms, ended_at_ms, duration_ms,"
		    " cpu_s, peak_rss_bytes, attempts, error)"
		    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		    " ?15, ?16)"
		    " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
		    " type = excluded.type, pool = excluded.pool,"
		    " priority = excluded.priority, state = excluded.state,"
		    " exit_code = excluded.exit_code, signal = excluded.signal,"
		    " submitted_at_ms = excluded.submitted_at_ms,"
		    " started_at_ms = excluded.started_at_ms,"
		    " ended_at_ms = excluded.ended_at_ms, duration_ms = excluded.duration_ms,"
		    " cpu_s = excluded.cpu_s, peak_rss_bytes = excluded.peak_rss_bytes,"
		    " attempts = excluded.attempts, error = excluded.error",
		    &hs->task_finished);
	return rc;
}

void sq_hist_finalize(struct sq_hist_stmts *hs)
{
	sqlite3_stmt **all[] = {&hs->find_open,    &hs->close_stale, &hs->run_insert,
	                        &hs->run_end,      &hs->task_queued, &hs->task_started,
	                        &hs->task_finished};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

static const char *const prune_sql[5] = {
    "DELETE FROM runs WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1",
    "DELETE FROM tasks WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1",
    "DELETE FROM alerts WHERE cleared_at_ms IS NOT NULL AND cleared_at_ms < ?1",
    "DELETE FROM violations WHERE at_ms < ?1",
    "DELETE FROM metrics WHERE minute_ms < ?1",
};

int sq_db_prepare(struct sq_db *db)
{
	int rc = sq_hist_prepare(db->h, &db->hs);

	if (rc == SQLITE_OK)
		rc =
		    prepare(db->h,
		            "INSERT OR REPLACE INTO registry(name, program, pid, pgid, start_ticks,"
		            " boot_id, started_at_ms, state, restarts, updated_ms, pid_ino)"
		            " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		            &db->put);
	if (rc == SQLITE_OK)
		rc = prepare(db->h, "DELETE FROM registry WHERE name = ?1", &db->remove);
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "INSERT INTO alerts(subject, alert, severity, message, raised_at_ms,"
		             " cleared_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
		             &db->alert_raise);
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "UPDATE alerts SET cleared_at_ms = ?3 WHERE id = (SELECT max(id)"
		             " FROM alerts WHERE subject IS ?1 AND alert = ?2"
		             " AND cleared_at_ms IS NULL)",
		             &db->alert_clear);
	if (rc == SQLITE_OK)
		rc =
		    prepare(db->h,
		            "INSERT INTO violations(subject, limit_name, value, max, action, count,"
		            " at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		            &db->violation);
	/* Samples fold into one row per instance and minute: a sum for the average, the
	 * largest values, and the last of the counters. */
	if (rc == SQLITE_OK)
		rc = prepare(
		    db->h,
		    "INSERT INTO metrics(name, minute_ms, samples, cpu_pct_sum, cpu_pct_max,"
		    " rss_bytes_max, rss_bytes_last, vms_bytes_max, threads_max, fds_max,"
		    " read_bytes, write_bytes, tree_procs_max, tree_cpu_pct_max,"
		    " tree_rss_bytes_max)"
		    " VALUES(?1, ?2, 1, ?3, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
		    " ON CONFLICT(name, minute_ms) DO UPDATE SET samples = samples + 1,"
		    " cpu_pct_sum = cpu_pct_sum + excluded.cpu_pct_sum,"
		    " cpu_pct_max = max(cpu_pct_max, excluded.cpu_pct_max),"
		    " rss_bytes_max = max(rss_bytes_max, excluded.rss_bytes_max),"
		    " rss_bytes_last = excluded.rss_bytes_last,"
		    " vms_bytes_max = max(vms_bytes_max, excluded.vms_bytes_max),"
		    " threads_max = max(threads_max, excluded.threads_max),"
		    " fds_max = max(fds_max, excluded.fds_max),"
		    " read_bytes = excluded.read_bytes, write_bytes = excluded.write_bytes,"
		    " tree_procs_max = max(tree_procs_max, excluded.tree_procs_max),"
		    " tree_cpu_pct_max = max(tree_cpu_pct_max, excluded.tree_cpu_pct_max),"
		    " tree_rss_bytes_max = max(tree_rss_bytes_max,"
		    " excluded.tree_rss_bytes_max)",
		    &db->metric);
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "INSERT OR REPLACE INTO meta(key, value) VALUES('batch_seq', ?1)",
		             &db->seq);
	for (int i = 0; i < 5 && rc == SQLITE_OK; i++)
		rc = prepare(db->h, prune_sql[i], &db->prune[i]);
	return rc;
}

void sq_db_close(struct sq_db *db)
{
	sqlite3_stmt **all[] = {&db->put,       &db->remove,   &db->alert_raise, &db->alert_clear,
	                        &db->violation, &db->metric,   &db->seq,         &db->prune[0],
	                        &db->prune[1],  &db->prune[2], &db->prune[3],    &db->prune[4]};

	sq_hist_finalize(&db->hs);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (db->h)
		sqlite3_close_v2(db->h);
	db->h = NULL;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Binds v unless it is negative (unknown): then NULL. */
static void bind_known(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static void bind_prio(sqlite3_stmt *s, int i, int32_t prio)
{
	if (prio >= 0 && prio < VIGIL_PRIO_COUNT)
		sqlite3_bind_text(s, i, vigil_priority_name((enum vigil_priority)prio), -1,
		                  SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

static int run_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int apply_put(struct sq_db *db, const struct sq_rec *r)
{
	sqlite3_stmt *s = db->put;

	bind_text(s, 1, r->s[SQ_NAME]);
	bind_text(s, 2, r->s[SQ_PROGRAM]);
	sqlite3_bind_int(s, 3, r->pid);
	sqlite3_bind_int(s, 4, r->pgid);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)r->start_ticks);
	bind_text(s, 6, r->s[SQ_BOOT]);
	sqlite3_bind_int64(s, 7, r->started_at_ms);
	bind_text(s, 8, vigil_proc_state_name((enum vigil_proc_state)r->state));
	sqlite3_bind_int64(s, 9, r->restarts);
	sqlite3_bind_int64(s, 10, r->updated_ms);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)r->pid_ino);
	return run_done(s);
}

static int find_open(struct sq_hist_stmts *hs, const struct sq_rec *r, int64_t *id)
{
	sqlite3_stmt *s = hs->find_open;
	int rc;

	*id = 0;
	bind_text(s, 1, r->s[SQ_NAME]);
	sqlite3_bind_int(s, 2, r->pid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* ended, exit_code, signal, reason, error, cpu_s, peak_rss at at..at+6, expected at at+7. */
static void bind_end(sqlite3_stmt *s, int at, const struct sq_rec *r)
{
	sqlite3_bind_int64(s, at, r->ended_at_ms);
	if (r->status_known && r->exit_code >= 0)
		sqlite3_bind_int(s, at + 1, r->exit_code);
	if (r->status_known && r->signal > 0)
		sqlite3_bind_int(s, at + 2, r->signal);
	bind_text(s, at + 3, r->s[SQ_REASON]);
	bind_text(s, at + 4, r->s[SQ_ERROR]);
	if (r->status_known && r->cpu_s >= 0)
		sqlite3_bind_double(s, at + 5, r->cpu_s);
	if (r->status_known && r->peak_rss_bytes >= 0)
		sqlite3_bind_int64(s, at + 6, r->peak_rss_bytes);
}

static int insert_run(struct sq_hist_stmts *hs, const struct sq_rec *r, int64_t started,
                      int64_t new_id)
{
	sqlite3_stmt *s = hs->run_insert;

	bind_text(s, 1, r->s[SQ_NAME]);
	bind_text(s, 2, r->s[SQ_PROGRAM]);
	sqlite3_bind_int(s, 3, r->pid);
	sqlite3_bind_int64(s, 4, started);
	if (r->kind == SQ_REC_RUN_END) {
		bind_end(s, 5, r);
		bind_known(s, 15, r->expected);
	}
	if (new_id > 0)
		sqlite3_bind_int64(s, 12, new_id);
	bind_prio(s, 13, r->priority);
	bind_text(s, 14, r->s[SQ_TAGS]);
	return run_done(s);
}

static int apply_run(struct sq_hist_stmts *hs, const struct sq_rec *r, int64_t new_id)
{
	int64_t id;
	int rc;

	if (r->kind != SQ_REC_RUN_END) {
		sqlite3_bind_text(hs->close_stale, 1, r->s[SQ_NAME], -1, SQLITE_STATIC);
		sqlite3_bind_int(hs->close_stale, 2, r->pid);
		sqlite3_bind_int64(hs->close_stale, 3, r->started_at_ms);
		rc = run_done(hs->close_stale);
		if (rc != SQLITE_OK)
			return rc;
	}
	rc = find_open(hs, r, &id);
	if (rc != SQLITE_OK)
		return rc;
	if (r->kind != SQ_REC_RUN_END) {
		if (id) /* already open: an adoption of a run we recorded before the restart */
			return SQLITE_OK;
		return insert_run(hs, r, r->started_at_ms, new_id);
	}
	if (id) {
		sqlite3_bind_int64(hs->run_end, 1, id);
		bind_end(hs->run_end, 2, r);
		bind_known(hs->run_end, 9, r->expected);
		bind_prio(hs->run_end, 10, r->priority);
		bind_text(hs->run_end, 11, r->s[SQ_TAGS]);
		return run_done(hs->run_end);
	}
	/* No open run (a spawn failure never ran, or its start was dropped while the database was
	 * failing): record the whole run, dated back by its runtime. */
	return insert_run(hs, r, r->ended_at_ms - (r->runtime_ms > 0 ? r->runtime_ms : 0), new_id);
}

static int apply_task(struct sq_hist_stmts *hs, const struct sq_rec *r)
{
	sqlite3_stmt *s;

	switch (r->kind) {
	case SQ_REC_TASK_QUEUED:
		s = hs->task_queued;
		bind_text(s, 1, r->s[SQ_NAME]);
		bind_text(s, 2, r->s[SQ_TASK]);
		bind_text(s, 3, r->s[SQ_TYPE]);
		bind_text(s, 4, r->s[SQ_PROGRAM]);
		bind_prio(s, 5, r->priority);
		sqlite3_bind_int64(s, 6, r->submitted_at_ms);
		bind_text(s, 7, r->s[SQ_COMMAND]);
		break;
	case SQ_REC_TASK_STARTED:
		s = hs->task_started;
		bind_text(s, 1, r->s[SQ_NAME]);
		bind_text(s, 2, r->s[SQ_TASK]);
		bind_text(s, 3, r->s[SQ_TYPE]);
		bind_text(s, 4, r->s[SQ_PROGRAM]);
		sqlite3_bind_int(s, 5, r->pid);
		sqlite3_bind_int64(s, 6, r->submitted_at_ms);
		sqlite3_bind_int64(s, 7, r->started_at_ms);
		sqlite3_bind_int64(s, 8, r->restarts);
		break;
	default: {
		/* A task that never started has no exit, duration or usage. */
		int ran = r->started_at_ms > 0;

		s = hs->task_finished;
		bind_text(s, 1, r->s[SQ_NAME]);
		bind_text(s, 2, r->s[SQ_TASK]);
		bind_text(s, 3, r->s[SQ_TYPE]);
		bind_text(s, 4, r->s[SQ_PROGRAM]);
		bind_prio(s, 5, r->priority);
		bind_text(s, 6, vigil_task_state_name((enum vigil_task_state)r->state));
		if (ran)
			bind_known(s, 7, r->exit_code);
		if (r->signal > 0)
			sqlite3_bind_int(s, 8, r->signal);
		sqlite3_bind_int64(s, 9, r->submitted_at_ms);
		if (ran) {
			sqlite3_bind_int64(s, 10, r->started_at_ms);
			bind_known(s, 12, r->runtime_ms);
			if (r->cpu_s >= 0)
				sqlite3_bind_double(s, 13, r->cpu_s);
			bind_known(s, 14, r->peak_rss_bytes);
		}
		sqlite3_bind_int64(s, 11, r->ended_at_ms);
		sqlite3_bind_int64(s, 15, r->restarts);
		bind_text(s, 16, r->s[SQ_ERROR]);
		break;
	}
	}
	return run_done(s);
}

int sq_apply_hist(struct sq_hist_stmts *hs, const struct sq_rec *r, int64_t new_id)
{
	switch (r->kind) {
	case SQ_REC_RUN_BEGIN:
	case SQ_REC_RUN_ADOPT:
	case SQ_REC_RUN_END:
		return apply_run(hs, r, new_id);
	case SQ_REC_TASK_QUEUED:
	case SQ_REC_TASK_STARTED:
	case SQ_REC_TASK_FINISHED:
		return apply_task(hs, r);
	default:
		return SQLITE_OK;
	}
}

static int apply_alert(struct sq_db *db, const struct sq_rec *r)
{
	sqlite3_stmt *s;
	int rc;

	if (r->kind == SQ_REC_ALERT_CLEARED) {
		s = db->alert_clear;
		bind_text(s, 1, r->s[SQ_NAME]);
		bind_text(s, 2, r->s[SQ_REASON]);
		sqlite3_bind_int64(s, 3, r->ended_at_ms);
		rc = run_done(s);
		if (rc != SQLITE_OK || sqlite3_changes(db->h) > 0)
			return rc;
		/* The raise is not on record (raised before this store ran): a cleared-only row. */
	}
	s = db->alert_raise;
	bind_text(s, 1, r->s[SQ_NAME]);
	bind_text(s, 2, r->s[SQ_REASON] ? r->s[SQ_REASON] : "");
	bind_text(s, 3, r->s[SQ_TYPE]);
	bind_text(s, 4, r->s[SQ_ERROR]);
	sqlite3_bind_int64(s, 5, r->ended_at_ms);
	if (r->kind == SQ_REC_ALERT_CLEARED)
		sqlite3_bind_int64(s, 6, r->ended_at_ms);
	return run_done(s);
}

static int apply_other(struct sq_db *db, const struct sq_rec *r)
{
	sqlite3_stmt *s;

	switch (r->kind) {
	case SQ_REC_ALERT_RAISED:
	case SQ_REC_ALERT_CLEARED:
		return apply_alert(db, r);
	case SQ_REC_VIOLATION:
		s = db->violation;
		bind_text(s, 1, r->s[SQ_NAME]);
		bind_text(s, 2, r->s[SQ_REASON] ? r->s[SQ_REASON] : "");
		sqlite3_bind_double(s, 3, r->value);
		sqlite3_bind_double(s, 4, r->max);
		bind_text(s, 5, r->s[SQ_TYPE]);
		sqlite3_bind_int64(s, 6, r->restarts);
		sqlite3_bind_int64(s, 7, r->ended_at_ms);
		return run_done(s);
	case SQ_REC_METRIC:
		s = db->metric;
		bind_text(s, 1, r->s[SQ_NAME]);
		sqlite3_bind_int64(s, 2, r->ended_at_ms - r->ended_at_ms % 60000);
		sqlite3_bind_double(s, 3, r->m.cpu_pct);
		sqlite3_bind_int64(s, 4, r->m.rss_bytes);
		sqlite3_bind_int64(s, 5, r->m.vms_bytes);
		sqlite3_bind_int(s, 6, r->m.threads);
		sqlite3_bind_int(s, 7, r->m.fds);
		sqlite3_bind_int64(s, 8, r->m.read_bytes);
		sqlite3_bind_int64(s, 9, r->m.write_bytes);
		sqlite3_bind_int(s, 10, r->m.tree_procs);
		sqlite3_bind_double(s, 11, r->m.tree_cpu_pct);
		sqlite3_bind_int64(s, 12, r->m.tree_rss_bytes);
		return run_done(s);
	default:
		return sq_apply_hist(&db->hs, r, 0);
	}
}

static int exec(sqlite3 *h, const char *sql)
{
	return sqlite3_exec(h, sql, NULL, NULL, NULL);
}

int sq_db_write(struct sq_store *st, struct sq_db *db, const struct sq_list *reg,
                const struct sq_list *hist, uint64_t seq, struct sq_err *err)
{
	int rc = exec(db->h, "BEGIN IMMEDIATE");

	if (rc != SQLITE_OK)
		return sq_fail(err, db->h, rc, "cannot write %s", st->path);
	for (const struct sq_rec *r = reg->head; r && rc == SQLITE_OK; r = r->next) {
		if (r->kind == SQ_REC_PUT) {
			rc = apply_put(db, r);
		} else {
			sqlite3_bind_text(db->remove, 1, r->s[SQ_NAME], -1, SQLITE_STATIC);
			rc = run_done(db->remove);
		}
	}
	for (const struct sq_rec *r = hist->head; r && rc == SQLITE_OK; r = r->next)
		rc = apply_other(db, r);
	if (rc == SQLITE_OK && hist->n) {
		sqlite3_bind_int64(db->seq, 1, (sqlite3_int64)seq);
		rc = run_done(db->seq);
	}
	if (rc == SQLITE_OK)
		rc = exec(db->h, "COMMIT");
	if (rc != SQLITE_OK) {
		sq_fail(err, db->h, rc, "cannot write %s", st->path);
		exec(db->h, "ROLLBACK");
		return err->code;
	}
	return 0;
}

int sq_db_prune(struct sq_store *st, struct sq_db *db, int64_t counts[5], struct sq_err *err)
{
	struct timespec ts;
	int64_t now_ms;
	int rc;

	memset(counts, 0, 5 * sizeof(counts[0]));
	if (st->retention_ms <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	rc = exec(db->h, "BEGIN IMMEDIATE");
	for (int i = 0; i < 5 && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(db->prune[i], 1, now_ms - st->retention_ms);
		rc = run_done(db->prune[i]);
		counts[i] = sqlite3_changes(db->h);
	}
	if (rc == SQLITE_OK)
		rc = exec(db->h, "COMMIT");
	if (rc != SQLITE_OK) {
		sq_fail(err, db->h, rc, "cannot prune old history from %s", st->path);
		exec(db->h, "ROLLBACK");
		return err->code;
	}
	return 0;
}

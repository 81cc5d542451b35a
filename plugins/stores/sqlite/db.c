/* db.c — store_sqlite's SQL: open, schema migrations, corrupt-file recovery, batch writes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sq.h"

/* Forward migrations: migrations[i] takes schema version i to i + 1, inside one transaction.
 * Append only; never edit a released step. Later work adds tasks, alerts and metrics tables
 * as new steps (see docs/store.md). */
static const char *const migrations[SQ_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE registry ("
    " name TEXT PRIMARY KEY NOT NULL,"
    " program TEXT,"
    " pid INTEGER NOT NULL,"
    " pgid INTEGER NOT NULL,"
    " start_ticks INTEGER NOT NULL,"
    " boot_id TEXT,"
    " started_at_ms INTEGER NOT NULL,"
    " state TEXT NOT NULL,"
    " restarts INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " program TEXT,"
    " pid INTEGER NOT NULL,"
    " started_at_ms INTEGER NOT NULL,"
    " ended_at_ms INTEGER,"
    " exit_code INTEGER,"
    " signal INTEGER,"
    " reason TEXT,"
    " error TEXT,"
    " cpu_s REAL,"
    " peak_rss_bytes INTEGER);"
    "CREATE INDEX runs_name_started ON runs(name, started_at_ms);"
    "CREATE INDEX runs_ended ON runs(ended_at_ms);",
};

/* The OS error behind rc, for the codes where SQLite keeps one (it is stale otherwise). */
static int sys_errno(sqlite3 *h, int rc)
{
	int c = rc & 0xff;

	if (!h || (c != SQLITE_IOERR && c != SQLITE_CANTOPEN && c != SQLITE_FULL))
		return 0;
	return sqlite3_system_errno(h);
}

static int errno_of(sqlite3 *h, int rc)
{
	int sys = sys_errno(h, rc);

	switch (rc & 0xff) {
	case SQLITE_OK:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return sys ? -sys : -ENOSPC;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EILSEQ;
	case SQLITE_TOOBIG:
		return -E2BIG;
	default:
		return sys ? -sys : -EIO;
	}
}

static int fail(struct sq_err *err, sqlite3 *h, int rc, const char *fmt, ...) VIGIL_PRINTF(4, 5);

/* Fills err: msg = the formatted context + ": " + detail, detail = SQLite's words (and the
 * OS error when there is one). */
static int fail(struct sq_err *err, sqlite3 *h, int rc, const char *fmt, ...)
{
	char context[256];
	va_list ap;
	int sys = sys_errno(h, rc);

	va_start(ap, fmt);
	vsnprintf(context, sizeof(context), fmt, ap);
	va_end(ap);
	if (!h)
		snprintf(err->detail, sizeof(err->detail), "%s", sqlite3_errstr(rc));
	else if (sys)
		snprintf(err->detail, sizeof(err->detail), "%s (%s)", sqlite3_errmsg(h),
		         strerror(sys));
	else
		snprintf(err->detail, sizeof(err->detail), "%s", sqlite3_errmsg(h));
	snprintf(err->msg, sizeof(err->msg), "%s: %s", context, err->detail);
	err->sqlite_code = rc;
	err->code = errno_of(h, rc);
	return err->code;
}

int sq_err_is_corrupt(const struct sq_err *err)
{
	int c = err->sqlite_code & 0xff;

	return c == SQLITE_CORRUPT || c == SQLITE_NOTADB;
}

static int exec(sqlite3 *h, const char *sql)
{
	return sqlite3_exec(h, sql, NULL, NULL, NULL);
}

/* Runs a one-row statement and copies its first column as text ("" when none). */
static int query_text(sqlite3 *h, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(h, sql, -1, &s, NULL);

	out[0] = '\0';
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		if (t)
			snprintf(out, outlen, "%s", (const char *)t);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

static int migrate(struct sq_store *st, sqlite3 *h, struct sq_err *err)
{
	sqlite3_stmt *s = NULL;
	int64_t version = 0;
	int rc;

	rc = exec(h, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return fail(err, h, rc, "cannot lock %s to check its schema", st->path);
	rc = exec(h, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value)");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key = 'schema_version'",
		                        -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			version = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
		sqlite3_finalize(s);
	}
	if (rc != SQLITE_OK) {
		fail(err, h, rc, "cannot read the schema version of %s", st->path);
		goto rollback;
	}
	if (version > SQ_SCHEMA_VERSION || version < 0) {
		snprintf(
		    err->msg, sizeof(err->msg),
		    "%s has schema version %lld, but this store_sqlite knows versions up to %d: "
		    "it was written by a newer vigil; run that version, or set [store.sqlite] "
		    "path to another file",
		    st->path, (long long)version, SQ_SCHEMA_VERSION);
		snprintf(err->detail, sizeof(err->detail), "schema version %lld is too new",
		         (long long)version);
		err->code = -EPROTO;
		err->sqlite_code = SQLITE_OK;
		goto rollback;
	}
	for (int64_t v = version; v < SQ_SCHEMA_VERSION; v++) {
		rc = exec(h, migrations[v]);
		if (rc != SQLITE_OK) {
			fail(err, h, rc, "cannot migrate %s from schema version %lld to %lld",
			     st->path, (long long)v, (long long)v + 1);
			goto rollback;
		}
	}
	if (version != SQ_SCHEMA_VERSION) {
		char sql[128];

		snprintf(sql, sizeof(sql),
		         "INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', %d)",
		         SQ_SCHEMA_VERSION);
		rc = exec(h, sql);
		if (rc != SQLITE_OK) {
			fail(err, h, rc, "cannot record the schema version of %s", st->path);
			goto rollback;
		}
	}
	rc = exec(h, "COMMIT");
	if (rc != SQLITE_OK) {
		fail(err, h, rc, "cannot commit the schema of %s", st->path);
		goto rollback;
	}
	if (version != SQ_SCHEMA_VERSION)
		st->host->log(st->self, version ? VIGIL_LOG_INFO : VIGIL_LOG_DEBUG,
		              "%s: schema version %lld -> %d", st->path, (long long)version,
		              SQ_SCHEMA_VERSION);
	return 0;
rollback:
	exec(h, "ROLLBACK");
	return err->code;
}

static int prepare(sqlite3 *h, const char *sql, sqlite3_stmt **s)
{
	return sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL);
}

static int prepare_all(struct sq_db *db)
{
	int rc;

	rc = prepare(
	    db->h,
	    "INSERT OR REPLACE INTO registry(name, program, pid, pgid, start_ticks, boot_id,"
	    " started_at_ms, state, restarts, updated_ms)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	    &db->put);
	if (rc == SQLITE_OK)
		rc = prepare(db->h, "DELETE FROM registry WHERE name = ?1", &db->remove);
	/* The unary + keeps the planner on runs_name_started: by runs_ended, "ended_at_ms IS
	 * NULL" would scan every open run, once per record (quadratic after an outage). */
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "SELECT max(id) FROM runs WHERE name = ?1 AND pid = ?2"
		             " AND +ended_at_ms IS NULL",
		             &db->find_open);
	/* A new run of an instance means any other open run of it ended without our hearing of
	 * it (the daemon died meanwhile): close those as "lost" so open runs = running now. */
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "UPDATE runs SET ended_at_ms = max(started_at_ms, ?3), reason = 'lost'"
		             " WHERE name = ?1 AND pid <> ?2 AND +ended_at_ms IS NULL",
		             &db->close_stale);
	if (rc == SQLITE_OK)
		rc = prepare(
		    db->h,
		    "INSERT INTO runs(name, program, pid, started_at_ms, ended_at_ms, exit_code,"
		    " signal, reason, error, cpu_s, peak_rss_bytes)"
		    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		    &db->run_insert);
	if (rc == SQLITE_OK)
		rc = prepare(
		    db->h,
		    "UPDATE runs SET ended_at_ms = ?2, exit_code = ?3, signal = ?4, reason = ?5,"
		    " error = ?6, cpu_s = ?7, peak_rss_bytes = ?8 WHERE id = ?1",
		    &db->run_end);
	if (rc == SQLITE_OK)
		rc = prepare(db->h,
		             "DELETE FROM runs WHERE ended_at_ms IS NOT NULL AND ended_at_ms < ?1",
		             &db->prune);
	return rc;
}

void sq_db_close(struct sq_db *db)
{
	sqlite3_stmt **all[] = {&db->put,        &db->remove,  &db->find_open, &db->close_stale,
	                        &db->run_insert, &db->run_end, &db->prune};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
	if (db->h)
		sqlite3_close_v2(db->h);
	db->h = NULL;
}

/* Renames path (and its WAL) to PATH.corrupt-TIMESTAMP so a person can look at it later.
 * Returns 0 with *dst allocated, or -errno. */
static int move_aside(struct sq_store *st, char **dst)
{
	char stamp[32], *src = NULL, *wal = NULL;
	time_t now = time(NULL);
	struct tm tm;
	struct stat sb;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(dst, "%s.corrupt-%s", st->path, stamp) < 0)
		return -ENOMEM;
	for (int i = 1; lstat(*dst, &sb) == 0 && i < 100; i++) {
		free(*dst);
		if (asprintf(dst, "%s.corrupt-%s-%d", st->path, stamp, i) < 0)
			return -ENOMEM;
	}
	if (rename(st->path, *dst) < 0) {
		rc = -errno;
		free(*dst);
		*dst = NULL;
		return rc;
	}
	if (asprintf(&src, "%s-wal", st->path) >= 0 && asprintf(&wal, "%s-wal", *dst) >= 0 &&
	    rename(src, wal) < 0 && errno != ENOENT)
		unlink(src);
	free(src);
	free(wal);
	if (asprintf(&src, "%s-shm", st->path) >= 0) {
		unlink(src);
		free(src);
	}
	return 0;
}

static int open_once(struct sq_store *st, struct sq_db *db, int verify, struct sq_err *err)
{
	char mode[32], check[128];
	int rc;

	rc =
	    sqlite3_open_v2(st->path, &db->h,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot open %s", st->path);
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, st->busy_ms);
	/* WAL: readers (vigilctl ps --history, registry_load) never block the writer, and with
	 * synchronous=NORMAL a commit does not fsync (only checkpoints do): a crash may lose the
	 * last commits, never corrupt the file. */
	rc = query_text(db->h, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot use %s", st->path);
	if (strcmp(mode, "wal") != 0)
		st->host->log(
		    st->self, VIGIL_LOG_WARN,
		    "%s: journal mode is %s, not wal (the file system may not support it)",
		    st->path, mode);
	rc = exec(db->h, "PRAGMA synchronous = NORMAL");
	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot use %s", st->path);
	if (verify) {
		rc = query_text(db->h, "PRAGMA quick_check", check, sizeof(check));
		if (rc != SQLITE_OK)
			return fail(err, db->h, rc, "cannot check %s", st->path);
		if (strcmp(check, "ok") != 0) {
			snprintf(err->detail, sizeof(err->detail), "damaged: %s", check);
			snprintf(err->msg, sizeof(err->msg), "%s is %s", st->path, err->detail);
			err->code = -EILSEQ;
			err->sqlite_code = SQLITE_CORRUPT;
			return err->code;
		}
	}
	rc = migrate(st, db->h, err);
	if (rc < 0)
		return rc;
	rc = prepare_all(db);
	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot prepare the statements of %s", st->path);
	return 0;
}

int sq_db_open(struct sq_store *st, struct sq_db *db, int verify, struct sq_err *err)
{
	char *aside = NULL;
	struct sq_err first;
	int rc;

	rc = open_once(st, db, verify, err);
	if (rc == 0 || !sq_err_is_corrupt(err))
		goto out;
	sq_db_close(db);
	first = *err;
	rc = move_aside(st, &aside);
	if (rc < 0) {
		snprintf(err->msg, sizeof(err->msg), "%.400s (and it cannot be moved aside: %s)",
		         first.msg, strerror(-rc));
		err->code = first.code;
		return err->code;
	}
	st->host->log(
	    st->self, VIGIL_LOG_ERROR,
	    "%s is not a usable SQLite database (%s): moved it to %s and created a new "
	    "one; run history is lost, the registry is rebuilt from the running processes",
	    st->path, first.detail, aside);
	free(aside);
	rc = open_once(st, db, 0, err);
out:
	if (rc < 0)
		sq_db_close(db);
	return rc;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
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

	bind_text(s, 1, r->name);
	bind_text(s, 2, r->program);
	sqlite3_bind_int(s, 3, r->pid);
	sqlite3_bind_int(s, 4, r->pgid);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)r->start_ticks);
	bind_text(s, 6, r->boot_id);
	sqlite3_bind_int64(s, 7, r->started_at_ms);
	bind_text(s, 8, vigil_proc_state_name((enum vigil_proc_state)r->state));
	sqlite3_bind_int64(s, 9, r->restarts);
	sqlite3_bind_int64(s, 10, r->updated_ms);
	return run_done(s);
}

static int find_open(struct sq_db *db, const struct sq_rec *r, int64_t *id)
{
	sqlite3_stmt *s = db->find_open;
	int rc;

	*id = 0;
	bind_text(s, 1, r->name);
	sqlite3_bind_int(s, 2, r->pid);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void bind_end(sqlite3_stmt *s, int at, const struct sq_rec *r)
{
	sqlite3_bind_int64(s, at, r->ended_at_ms);
	if (r->status_known && r->exit_code >= 0)
		sqlite3_bind_int(s, at + 1, r->exit_code);
	if (r->status_known && r->signal > 0)
		sqlite3_bind_int(s, at + 2, r->signal);
	bind_text(s, at + 3, r->reason);
	bind_text(s, at + 4, r->error);
	if (r->status_known && r->cpu_s >= 0)
		sqlite3_bind_double(s, at + 5, r->cpu_s);
	if (r->status_known && r->peak_rss_bytes >= 0)
		sqlite3_bind_int64(s, at + 6, r->peak_rss_bytes);
}

static int apply_run(struct sq_db *db, const struct sq_rec *r)
{
	int64_t id;
	int rc;

	if (r->kind != SQ_REC_RUN_END) {
		sqlite3_bind_text(db->close_stale, 1, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(db->close_stale, 2, r->pid);
		sqlite3_bind_int64(db->close_stale, 3, r->started_at_ms);
		rc = run_done(db->close_stale);
		if (rc != SQLITE_OK)
			return rc;
	}
	rc = find_open(db, r, &id);
	if (rc != SQLITE_OK)
		return rc;
	if (r->kind != SQ_REC_RUN_END) {
		if (id) /* already open: an adoption of a run we recorded before the restart */
			return SQLITE_OK;
		bind_text(db->run_insert, 1, r->name);
		bind_text(db->run_insert, 2, r->program);
		sqlite3_bind_int(db->run_insert, 3, r->pid);
		sqlite3_bind_int64(db->run_insert, 4, r->started_at_ms);
		return run_done(db->run_insert);
	}
	if (id) {
		sqlite3_bind_int64(db->run_end, 1, id);
		bind_end(db->run_end, 2, r);
		return run_done(db->run_end);
	}
	/* No open run (a spawn failure never ran, or its start was dropped while the database was
	 * failing): record the whole run, dated back by its runtime. */
	bind_text(db->run_insert, 1, r->name);
	bind_text(db->run_insert, 2, r->program);
	sqlite3_bind_int(db->run_insert, 3, r->pid);
	sqlite3_bind_int64(db->run_insert, 4,
	                   r->ended_at_ms - (r->runtime_ms > 0 ? r->runtime_ms : 0));
	bind_end(db->run_insert, 5, r);
	return run_done(db->run_insert);
}

int sq_db_write(struct sq_store *st, struct sq_db *db, const struct sq_list *reg,
                const struct sq_list *hist, struct sq_err *err)
{
	int rc = exec(db->h, "BEGIN IMMEDIATE");

	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot write %s", st->path);
	for (const struct sq_rec *r = reg->head; r && rc == SQLITE_OK; r = r->next) {
		if (r->kind == SQ_REC_PUT) {
			rc = apply_put(db, r);
		} else {
			sqlite3_bind_text(db->remove, 1, r->name, -1, SQLITE_STATIC);
			rc = run_done(db->remove);
		}
	}
	for (const struct sq_rec *r = hist->head; r && rc == SQLITE_OK; r = r->next)
		rc = apply_run(db, r);
	if (rc == SQLITE_OK)
		rc = exec(db->h, "COMMIT");
	if (rc != SQLITE_OK) {
		fail(err, db->h, rc, "cannot write %s", st->path);
		exec(db->h, "ROLLBACK");
		return err->code;
	}
	return 0;
}

int sq_db_prune(struct sq_store *st, struct sq_db *db, int64_t *deleted, struct sq_err *err)
{
	struct timespec ts;
	int64_t now_ms;
	int rc;

	*deleted = 0;
	if (st->retention_ms <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	sqlite3_bind_int64(db->prune, 1, now_ms - st->retention_ms);
	rc = run_done(db->prune);
	if (rc != SQLITE_OK)
		return fail(err, db->h, rc, "cannot prune old runs from %s", st->path);
	*deleted = sqlite3_changes(db->h);
	return 0;
}

static enum vigil_proc_state state_of(const char *name)
{
	for (int i = 0; name && i < VIGIL_PROC_STATE_COUNT; i++)
		if (strcmp(vigil_proc_state_name((enum vigil_proc_state)i), name) == 0)
			return (enum vigil_proc_state)i;
	return VIGIL_PROC_UNKNOWN;
}

int sq_db_load(struct sq_store *st, int (*fn)(const struct vigil_registry_entry *e, void *arg),
               void *arg, struct sq_err *err)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	rc = sqlite3_open_v2(st->path, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(h, st->busy_ms);
		rc = sqlite3_prepare_v2(
		    h,
		    "SELECT name, program, pid, pgid, start_ticks, boot_id,"
		    " started_at_ms, state, restarts FROM registry ORDER BY name",
		    -1, &s, NULL);
	}
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct vigil_registry_entry e = {
		    .size = sizeof(e),
		    .name = (const char *)sqlite3_column_text(s, 0),
		    .program = (const char *)sqlite3_column_text(s, 1),
		    .pid = sqlite3_column_int(s, 2),
		    .pgid = sqlite3_column_int(s, 3),
		    .start_ticks = (uint64_t)sqlite3_column_int64(s, 4),
		    .boot_id = (const char *)sqlite3_column_text(s, 5),
		    .started_at_ms = sqlite3_column_int64(s, 6),
		    .state = state_of((const char *)sqlite3_column_text(s, 7)),
		    .restarts = (uint32_t)sqlite3_column_int64(s, 8),
		};

		rc = SQLITE_OK;
		if (!e.name)
			continue;
		ret = fn(&e, arg);
		if (ret)
			break;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		ret = fail(err, h, rc, "cannot read the registry from %s", st->path);
	sqlite3_finalize(s);
	sqlite3_close_v2(h);
	return ret;
}

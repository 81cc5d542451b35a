/* db.c — store_sqlite's file: open, schema migrations, corrupt-file recovery, registry load. */
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
 * Append only; never edit a released step (see docs/store.md). */
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
    /* 1 -> 2: what a run was started as, and whether it ended as expected (a success code,
     * or stopped on request); runs of version 1 get the closest guess. Tasks, alerts, limit
     * violations, and metrics folded to one row per instance and minute. */
    "ALTER TABLE runs ADD COLUMN priority TEXT;"
    "ALTER TABLE runs ADD COLUMN tags TEXT;"
    "ALTER TABLE runs ADD COLUMN expected INTEGER;"
    "UPDATE runs SET expected = (reason = 'stopped' OR (reason = 'exited' AND exit_code = 0))"
    " WHERE ended_at_ms IS NOT NULL;"
    /* ended_at_ms in the time indexes: "--since" is decided in the index, and only the
     * rows that match are read. */
    "CREATE INDEX runs_started ON runs(started_at_ms, ended_at_ms);"
    "CREATE INDEX runs_program_started ON runs(program, started_at_ms);"
    "CREATE INDEX runs_open ON runs(name, pid) WHERE ended_at_ms IS NULL;"
    "CREATE INDEX runs_reason_started ON runs(reason, started_at_ms);"
    "CREATE TABLE tasks ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " name TEXT,"
    " type TEXT,"
    " pool TEXT,"
    " priority TEXT,"
    " state TEXT NOT NULL,"
    " pid INTEGER,"
    " exit_code INTEGER,"
    " signal INTEGER,"
    " submitted_at_ms INTEGER NOT NULL,"
    " started_at_ms INTEGER,"
    " ended_at_ms INTEGER,"
    " duration_ms INTEGER,"
    " cpu_s REAL,"
    " peak_rss_bytes INTEGER,"
    " attempts INTEGER,"
    " error TEXT,"
    " command TEXT);"
    "CREATE INDEX tasks_submitted ON tasks(submitted_at_ms, ended_at_ms);"
    "CREATE INDEX tasks_name_submitted ON tasks(name, submitted_at_ms);"
    "CREATE INDEX tasks_type_submitted ON tasks(type, submitted_at_ms);"
    "CREATE INDEX tasks_state_submitted ON tasks(state, submitted_at_ms);"
    "CREATE INDEX tasks_ended ON tasks(ended_at_ms);"
    "CREATE TABLE alerts ("
    " id INTEGER PRIMARY KEY,"
    " subject TEXT,"
    " alert TEXT NOT NULL,"
    " severity TEXT,"
    " message TEXT,"
    " raised_at_ms INTEGER NOT NULL,"
    " cleared_at_ms INTEGER);"
    "CREATE INDEX alerts_subject ON alerts(subject, alert);"
    "CREATE INDEX alerts_raised ON alerts(raised_at_ms);"
    "CREATE TABLE violations ("
    " id INTEGER PRIMARY KEY,"
    " subject TEXT,"
    " limit_name TEXT NOT NULL,"
    " value REAL,"
    " max REAL,"
    " action TEXT,"
    " count INTEGER,"
    " at_ms INTEGER NOT NULL);"
    "CREATE INDEX violations_at ON violations(at_ms);"
    "CREATE TABLE metrics ("
    " name TEXT NOT NULL,"
    " minute_ms INTEGER NOT NULL,"
    " samples INTEGER NOT NULL,"
    " cpu_pct_sum REAL, cpu_pct_max REAL,"
    " rss_bytes_max INTEGER, rss_bytes_last INTEGER, vms_bytes_max INTEGER,"
    " threads_max INTEGER, fds_max INTEGER,"
    " read_bytes INTEGER, write_bytes INTEGER,"
    " tree_procs_max INTEGER, tree_cpu_pct_max REAL, tree_rss_bytes_max INTEGER,"
    " PRIMARY KEY(name, minute_ms)) WITHOUT ROWID;"
    "CREATE INDEX metrics_minute ON metrics(minute_ms);",
    /* 2 -> 3: the pidfs inode of the registered process (0 where unknown). */
    "ALTER TABLE registry ADD COLUMN pid_ino INTEGER NOT NULL DEFAULT 0;",
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

/* Fills err: msg = the formatted context + ": " + detail, detail = SQLite's words (and the
 * OS error when there is one). */
int sq_fail(struct sq_err *err, sqlite3 *h, int rc, const char *fmt, ...)
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
		return sq_fail(err, h, rc, "cannot lock %s to check its schema", st->path);
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
		sq_fail(err, h, rc, "cannot read the schema version of %s", st->path);
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
			sq_fail(err, h, rc, "cannot migrate %s from schema version %lld to %lld",
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
			sq_fail(err, h, rc, "cannot record the schema version of %s", st->path);
			goto rollback;
		}
	}
	rc = exec(h, "COMMIT");
	if (rc != SQLITE_OK) {
		sq_fail(err, h, rc, "cannot commit the schema of %s", st->path);
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
		return sq_fail(err, db->h, rc, "cannot open %s", st->path);
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, st->busy_ms);
	/* WAL: readers (vigilctl ps --history, registry_load) never block the writer, and with
	 * synchronous=NORMAL a commit does not fsync (only checkpoints do): a crash may lose the
	 * last commits, never corrupt the file. */
	rc = query_text(db->h, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
	if (rc != SQLITE_OK)
		return sq_fail(err, db->h, rc, "cannot use %s", st->path);
	if (strcmp(mode, "wal") != 0)
		st->host->log(
		    st->self, VIGIL_LOG_WARN,
		    "%s: journal mode is %s, not wal (the file system may not support it)",
		    st->path, mode);
	rc = exec(db->h, "PRAGMA synchronous = NORMAL");
	if (rc != SQLITE_OK)
		return sq_fail(err, db->h, rc, "cannot use %s", st->path);
	if (verify) {
		rc = query_text(db->h, "PRAGMA quick_check", check, sizeof(check));
		if (rc != SQLITE_OK)
			return sq_fail(err, db->h, rc, "cannot check %s", st->path);
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
	rc = sq_db_prepare(db);
	if (rc != SQLITE_OK)
		return sq_fail(err, db->h, rc, "cannot prepare the statements of %s", st->path);
	/* Batch numbers go on from the file's: a reader takes a batch whose number the file
	 * already holds for committed (see query.c). */
	rc = query_text(db->h, "SELECT value FROM meta WHERE key = 'batch_seq'", check,
	                sizeof(check));
	if (rc != SQLITE_OK)
		return sq_fail(err, db->h, rc, "cannot read %s", st->path);
	pthread_mutex_lock(&st->mu);
	if (strtoull(check, NULL, 10) > st->batch_seq)
		st->batch_seq = strtoull(check, NULL, 10);
	pthread_mutex_unlock(&st->mu);
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
	pthread_mutex_lock(&st->mu);
	st->file_gen++; /* the reader still has the old file open */
	pthread_mutex_unlock(&st->mu);
	rc = open_once(st, db, 0, err);
out:
	if (rc < 0)
		sq_db_close(db);
	return rc;
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
		    " started_at_ms, state, restarts, pid_ino FROM registry ORDER BY name",
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
		    .pid_ino = (uint64_t)sqlite3_column_int64(s, 9),
		};

		rc = SQLITE_OK;
		if (!e.name)
			continue;
		ret = fn(&e, arg);
		if (ret)
			break;
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		ret = sq_fail(err, h, rc, "cannot read the registry from %s", st->path);
	sqlite3_finalize(s);
	sqlite3_close_v2(h);
	return ret;
}

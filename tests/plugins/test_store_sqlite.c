/* test_store_sqlite.c — store_sqlite.so on the fake host: registry, history, batching, failures. */
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <vigil/testing.h>

/* ------------------------------------------------------------------------------------------
 * sqlite3, to look at the file the plugin wrote. The test binaries link only vigilcore, check
 * and jansson, so the library is opened at run time (the plugin depends on it anyway). */

static int (*p_open)(const char *, sqlite3 **);
static int (*p_exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *,
                     char **);
static int (*p_close)(sqlite3 *);

static void load_sym(void *lib, const char *name, void *fnptr)
{
	void *sym = dlsym(lib, name);

	ck_assert_msg(sym, "libsqlite3 has no %s", name);
	memcpy(fnptr, &sym, sizeof(sym));
}

static void sql_init(void)
{
	void *lib;

	if (p_open)
		return;
	lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_GLOBAL);
	ck_assert_msg(lib, "dlopen libsqlite3.so.0: %s", dlerror());
	load_sym(lib, "sqlite3_open", &p_open);
	load_sym(lib, "sqlite3_exec", &p_exec);
	load_sym(lib, "sqlite3_close", &p_close);
}

static sqlite3 *sql_open(const char *path)
{
	sqlite3 *db = NULL;

	sql_init();
	ck_assert_int_eq(p_open(path, &db), SQLITE_OK);
	return db;
}

static void sql_do(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = p_exec(db, sql, NULL, NULL, &msg);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
}

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path);

	sql_do(db, sql);
	p_close(db);
}

struct cell {
	int rows;
	char text[256];
	int null;
};

static int first_cell(void *arg, int n, char **vals, char **cols)
{
	struct cell *c = arg;

	(void)cols;
	if (c->rows++ == 0 && n > 0) {
		c->null = vals[0] == NULL;
		snprintf(c->text, sizeof(c->text), "%s", vals[0] ? vals[0] : "");
	}
	return 0;
}

/* The first column of the first row as text; "NULL" for a NULL, "NOROW" for no row. */
static const char *sql_text(const char *path, const char *fmt, ...) VIGIL_PRINTF(2, 3);

static const char *sql_text(const char *path, const char *fmt, ...)
{
	static char out[256];
	struct cell c = {0};
	char sql[1024], *msg = NULL;
	sqlite3 *db = sql_open(path);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	rc = p_exec(db, sql, first_cell, &c, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	p_close(db);
	snprintf(out, sizeof(out), "%s", c.rows == 0 ? "NOROW" : c.null ? "NULL" : c.text);
	return out;
}

static long long sql_int(const char *path, const char *sql)
{
	return strtoll(sql_text(path, "%s", sql), NULL, 10);
}

/* ------------------------------------------------------------------------------------------
 * The fake host of <vigil/testing.h>, with two additions for a plugin that has a thread:
 * host->log is documented as callable from any thread and the store's writer does call it, but
 * the fake records lines without a lock, so log calls and the test's reads of fh.logs are
 * serialised here; and the fd the plugin watches is noted so a poll() can stand in for the
 * loop. */

static struct vigil_fake_host fh;
static void (*fake_log)(struct vigil_instance *, enum vigil_log_level, const char *, ...);
static struct vigil_watch *(*fake_watch_fd)(struct vigil_instance *, int, uint32_t, vigil_fd_fn,
                                            void *);
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_cv = PTHREAD_COND_INITIALIZER;
static size_t log_mark; /* lines before it were "cleared" */
static int watched_fd = -1;
static char state_dir[256];

static void locked_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt,
                       ...) VIGIL_PRINTF(3, 4);

static void locked_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt,
                       ...)
{
	char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	pthread_mutex_lock(&log_mu);
	fake_log(self, level, "%s", line ? line : "(out of memory)");
	pthread_cond_broadcast(&log_cv);
	pthread_mutex_unlock(&log_mu);
	free(line);
}

static struct vigil_watch *recording_watch_fd(struct vigil_instance *self, int fd, uint32_t events,
                                              vigil_fd_fn fn, void *arg)
{
	watched_fd = fd;
	return fake_watch_fd(self, fd, events, fn, arg);
}

static int count_locked(const char *needle)
{
	int n = 0;

	for (size_t i = log_mark; i < fh.nlogs; i++)
		n += strstr(fh.logs[i].text, needle) != NULL;
	return n;
}

static int logs_matching(const char *needle)
{
	int n;

	pthread_mutex_lock(&log_mu);
	n = count_locked(needle);
	pthread_mutex_unlock(&log_mu);
	return n;
}

/* Waits (on the log condition, not a sleep) until `count` lines contain needle. */
static int wait_log(const char *needle, int count, int timeout_ms)
{
	struct timespec until;
	int ok = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&log_mu);
	while (!(ok = count_locked(needle) >= count))
		if (pthread_cond_timedwait(&log_cv, &log_mu, &until) == ETIMEDOUT) {
			ok = count_locked(needle) >= count;
			break;
		}
	pthread_mutex_unlock(&log_mu);
	return ok;
}

/* Sums the "(X ms)" of every "committed N records" line; returns the number of lines. */
static int commit_stats(long *records, double *ms)
{
	int n = 0;

	*records = 0;
	*ms = 0;
	pthread_mutex_lock(&log_mu);
	for (size_t i = log_mark; i < fh.nlogs; i++) {
		long r;
		double t;

		if (sscanf(fh.logs[i].text, "committed %ld records in one transaction (%lf ms)", &r,
		           &t) == 2) {
			n++;
			*records += r;
			*ms += t;
		}
	}
	pthread_mutex_unlock(&log_mu);
	return n;
}

static void clear_logs(void)
{
	pthread_mutex_lock(&log_mu);
	log_mark = fh.nlogs;
	pthread_mutex_unlock(&log_mu);
}

static int failed_count(void)
{
	return (int)vigil_fake_event_count(&fh, VIGIL_EV_STORE_FAILED);
}

static const struct vigil_ev_store_failed *last_failed(void)
{
	const struct vigil_event *ev = vigil_fake_event_last(&fh, VIGIL_EV_STORE_FAILED);

	ck_assert_ptr_nonnull(ev);
	ck_assert_uint_ge(ev->size, sizeof(struct vigil_ev_store_failed));
	return (const void *)ev;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t real_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stands in for the loop: runs the plugin's fd watch until store.failed was published
 * `count` times, or timeout_ms passed. */
static int loop_until_failed(int count, int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;

	ck_assert_int_ge(watched_fd, 0);
	while (failed_count() < count) {
		struct pollfd pfd = {.fd = watched_fd, .events = POLLIN};
		uint64_t now = mono_ms();

		if (now >= end)
			return 0;
		if (poll(&pfd, 1, (int)(end - now)) == 1)
			vigil_fake_fd_ready(&fh, watched_fd, VIGIL_FD_IN);
	}
	return 1;
}

/* Delivers ev about `subject`, stamped with wall clock time_ms. */
static void deliver(struct vigil_event *ev, const char *subject, int64_t time_ms)
{
	ev->subject = subject;
	fh.wall_base_ms = time_ms - (int64_t)fh.now_ms;
	ck_assert_int_eq(vigil_fake_deliver(&fh, ev), 1);
	vigil_fake_advance(&fh, 0); /* the end of the loop's turn: the writer is woken */
}

static void ev_running(const char *name, const char *program, int32_t pid, int64_t at_ms)
{
	struct vigil_ev_process_running e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_RUNNING, .size = sizeof(e)},
	    .program = program,
	    .pid = pid,
	    .spawn_us = 800,
	};

	deliver(&e.hdr, name, at_ms);
}

static void ev_exited(const char *name, int32_t pid, int64_t at_ms, int32_t code, int32_t sig,
                      const char *reason, const char *error, double cpu, int64_t rss,
                      int64_t run_ms)
{
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof(e)},
	    .program = name,
	    .pid = pid,
	    .exit_code = code,
	    .signal = sig,
	    .status_known = 1,
	    .runtime_ms = run_ms,
	    .reason = reason,
	    .error = error,
	    .cpu_s = cpu,
	    .peak_rss_bytes = rss,
	};

	deliver(&e.hdr, name, at_ms);
}

static void ev_adopted(const char *name, int32_t pid, int64_t started_ms, int64_t at_ms)
{
	struct vigil_ev_process_adopted e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_ADOPTED, .size = sizeof(e)},
	    .program = name,
	    .pid = pid,
	    .started_at_ms = started_ms,
	};

	deliver(&e.hdr, name, at_ms);
}

/* ------------------------------------------------------------------------------------------
 * The plugin under test: the built store_sqlite.so (it needs libsqlite3, which the test
 * binaries do not link), one instance at a time. */

static void *plugin_lib;
static const struct vigil_plugin *plugin_desc;

struct store {
	const struct vigil_store_ops *ops;
	void *state;
};

static void plugin_load(void)
{
	const char *dir = getenv("VIGIL_PLUGIN_DIR");
	char path[1024];
	vigil_plugin_entry_fn entry;

	if (plugin_lib)
		return;
	snprintf(path, sizeof(path), "%s/store_sqlite.so", dir ? dir : "lib/vigil/plugins");
	plugin_lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(plugin_lib, "dlopen %s: %s (set VIGIL_PLUGIN_DIR)", path, dlerror());
	load_sym(plugin_lib, VIGIL_PLUGIN_ENTRY_SYMBOL, &entry);
	plugin_desc = entry();
	ck_assert_int_eq(plugin_desc->kind, VIGIL_KIND_STORE);
	ck_assert_str_eq(plugin_desc->name, "sqlite");
}

/* init + configure + start with key/value pairs (NULL-terminated); returns start()'s result. */
static int store_open(struct store *s, ...)
{
	va_list ap;

	plugin_load();
	memset(s, 0, sizeof(*s));
	vigil_fake_cfg_clear(&fh);
	fh.keys = plugin_desc->keys;
	va_start(ap, s);
	for (const char *k; (k = va_arg(ap, const char *));)
		ck_assert_int_eq(vigil_fake_cfg_set(&fh, k, va_arg(ap, const char *)), 0);
	va_end(ap);
	s->ops = plugin_desc->ops;
	ck_assert_int_eq(vigil_fake_instantiate(&fh, plugin_desc, &s->state), 0);
	return plugin_desc->start(s->state);
}

static void store_close(struct store *s)
{
	plugin_desc->stop(s->state);
	plugin_desc->fini(s->state);
	s->state = NULL;
}

static struct vigil_registry_entry entry_of(const char *name, int32_t pid)
{
	return (struct vigil_registry_entry){
	    .size = sizeof(struct vigil_registry_entry),
	    .name = name,
	    .program = "prog",
	    .pid = pid,
	    .pgid = pid,
	    .start_ticks = 9000000000ULL + (uint64_t)pid,
	    .boot_id = "3b1f6a2e-boot",
	    .started_at_ms = 1700000000000LL + pid,
	    .state = VIGIL_PROC_RUNNING,
	    .restarts = 2,
	};
}

struct loaded {
	int n;
	struct vigil_registry_entry e[8];
	char names[8][32], programs[8][32], boots[8][64];
};

static int collect(const struct vigil_registry_entry *e, void *arg)
{
	struct loaded *l = arg;

	if (l->n < 8) {
		l->e[l->n] = *e;
		snprintf(l->names[l->n], 32, "%s", e->name);
		snprintf(l->programs[l->n], 32, "%s", e->program ? e->program : "");
		snprintf(l->boots[l->n], 64, "%s", e->boot_id ? e->boot_id : "");
		l->n++;
	}
	return 0;
}

static char db_path[512];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void setup(void)
{
	snprintf(state_dir, sizeof(state_dir), "/tmp/vigil-store-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	snprintf(db_path, sizeof(db_path), "%s/registry.db", state_dir);
	vigil_fake_host_init(&fh);
	fh.kind = "store";
	fh.instance = "sqlite";
	fh.state_dir = state_dir;
	fh.echo = getenv("TEST_VERBOSE") != NULL;
	fake_log = fh.host.log;
	fh.host.log = locked_log;
	fake_watch_fd = fh.host.watch_fd;
	fh.host.watch_fd = recording_watch_fd;
	log_mark = 0;
	watched_fd = -1;
}

static void teardown(void)
{
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
	nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------
 * Registry */

START_TEST(registry_roundtrip_across_reopen)
{
	struct store s;
	struct loaded l = {0};
	struct vigil_registry_entry e;

	ck_assert_int_eq(store_open(&s, NULL), 0);
	e = entry_of("web.0", 100);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	e = entry_of("web.1", 101);
	e.state = VIGIL_PROC_STARTING;
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	e = entry_of("db", 200);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	/* A second put of an instance replaces the first. */
	e = entry_of("web.0", 150);
	e.program = "web";
	e.restarts = 7;
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	store_close(&s);

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(s.ops->registry_load(s.state, collect, &l), 0);
	ck_assert_int_eq(l.n, 3);
	/* Loaded in name order: db, web.0, web.1. */
	ck_assert_str_eq(l.names[0], "db");
	ck_assert_str_eq(l.names[1], "web.0");
	ck_assert_str_eq(l.names[2], "web.1");
	ck_assert_str_eq(l.programs[1], "web");
	ck_assert_int_eq(l.e[1].pid, 150);
	ck_assert_int_eq(l.e[1].pgid, 150);
	ck_assert_uint_eq(l.e[1].start_ticks, 9000000150ULL);
	ck_assert_str_eq(l.boots[1], "3b1f6a2e-boot");
	ck_assert_int_eq(l.e[1].started_at_ms, 1700000000150LL);
	ck_assert_int_eq(l.e[1].state, VIGIL_PROC_RUNNING);
	ck_assert_uint_eq(l.e[1].restarts, 7);
	ck_assert_int_eq(l.e[2].state, VIGIL_PROC_STARTING);
	ck_assert_uint_eq(l.e[0].size, sizeof(struct vigil_registry_entry));
	store_close(&s);

	ck_assert_str_eq(sql_text(db_path, "SELECT value FROM meta WHERE key='schema_version'"),
	                 "3");
	ck_assert_str_eq(sql_text(db_path, "PRAGMA journal_mode"), "wal");
}
END_TEST

START_TEST(registry_remove)
{
	struct store s;
	struct loaded l = {0};
	struct vigil_registry_entry e = entry_of("api", 300);

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM registry WHERE name='api'"), 1);
	ck_assert_int_eq(s.ops->registry_remove(s.state, "api"), 0);
	ck_assert_int_eq(s.ops->registry_remove(s.state, "never-there"), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM registry"), 0);
	store_close(&s);

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(s.ops->registry_load(s.state, collect, &l), 0);
	ck_assert_int_eq(l.n, 0);
	store_close(&s);
}
END_TEST

static int stop_at_first(const struct vigil_registry_entry *e, void *arg)
{
	(*(int *)arg)++;
	(void)e;
	return 42;
}

START_TEST(registry_load_stops_when_told_and_sees_unflushed_puts)
{
	struct store s;
	struct vigil_registry_entry a = entry_of("a", 1), b = entry_of("b", 2);
	int calls = 0;

	ck_assert_int_eq(store_open(&s, "flush_interval", "1h", NULL), 0);
	ck_assert_int_eq(s.ops->registry_put(s.state, &a), 0);
	ck_assert_int_eq(s.ops->registry_put(s.state, &b), 0);
	ck_assert_int_eq(s.ops->registry_load(s.state, stop_at_first, &calls), 42);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(s.ops->registry_put(s.state, &(struct vigil_registry_entry){.size = 4}),
	                 -EINVAL);
	ck_assert_int_eq(s.ops->registry_remove(s.state, NULL), -EINVAL);
	store_close(&s);
}
END_TEST

/* Every fd the plugin opened on its files is close-on-exec (children must not inherit them). */
START_TEST(database_fds_are_cloexec)
{
	struct store s;
	struct vigil_registry_entry e = entry_of("x", 1);
	DIR *d;
	struct dirent *de;
	int seen = 0;

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	d = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		char link[600], target[600];
		ssize_t n;
		int fd = atoi(de->d_name);

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, state_dir, strlen(state_dir)) != 0 &&
		    strncmp(target, "anon_inode:[eventfd]", 20) != 0)
			continue;
		seen++;
		ck_assert_msg(fcntl(fd, F_GETFD) & FD_CLOEXEC, "%s is not O_CLOEXEC", target);
	}
	closedir(d);
	ck_assert_int_ge(seen, 2);
	store_close(&s);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Run history from the bus */

START_TEST(runs_recorded_from_events)
{
	struct store s;
	const int64_t t = 1700000000000LL;

	/* Fixed timestamps from 2023: retention 0 so they are not pruned at the reopen. */
	ck_assert_int_eq(store_open(&s, "retention", "0", NULL), 0);
	ev_running("web", "web", 100, t);
	ev_exited("web", 100, t + 5000, 3, 0, "exited", NULL, 1.5, 1234567, 5000);
	ev_running("web", "web", 101, t + 6000);
	ev_exited("web", 101, t + 9000, -1, 9, "killed", NULL, 0.25, 2048, 3000);
	/* exec failed: no process.running, a whole run is recorded from the exit alone */
	ev_exited("bad", 0, t + 10000, -1, 0, "spawn-failed",
	          "exec /nope: No such file or directory", 0, 0, 0);
	/* found alive after a daemon restart, twice: one run */
	ev_adopted("api", 200, t - 86400000LL, t + 11000);
	ev_adopted("api", 200, t - 86400000LL, t + 12000);
	/* web.2 runs, then starts again with another pid without our hearing of the exit */
	ev_running("web.2", "web", 102, t + 13000);
	ev_running("web.2", "web", 103, t + 14000);
	ck_assert_int_eq(s.ops->flush(s.state), 0);

	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM runs"), 6);
	ck_assert_str_eq(sql_text(db_path,
	                          "SELECT started_at_ms || ',' || ended_at_ms || ',' || "
	                          "exit_code || ',' || ifnull(signal, 'N') || ',' || reason "
	                          "|| ',' || cpu_s || ',' || peak_rss_bytes || ',' || "
	                          "ifnull(error, 'N') || ',' || program FROM runs WHERE "
	                          "name='web' AND pid=100"),
	                 "1700000000000,1700000005000,3,N,exited,1.5,1234567,N,web");
	ck_assert_str_eq(sql_text(db_path,
	                          "SELECT ifnull(exit_code, 'N') || ',' || signal || ',' || "
	                          "reason FROM runs WHERE name='web' AND pid=101"),
	                 "N,9,killed");
	ck_assert_str_eq(sql_text(db_path, "SELECT started_at_ms || ',' || ended_at_ms || ',' || "
	                                   "reason || ',' || error FROM runs WHERE name='bad'"),
	                 "1700000010000,1700000010000,spawn-failed,"
	                 "exec /nope: No such file or directory");
	ck_assert_str_eq(sql_text(db_path,
	                          "SELECT started_at_ms || ',' || ifnull(ended_at_ms, 'open')"
	                          " FROM runs WHERE name='api' AND pid=200"),
	                 "1699913600000,open");
	ck_assert_str_eq(sql_text(db_path, "SELECT ended_at_ms || ',' || reason FROM runs WHERE "
	                                   "name='web.2' AND pid=102"),
	                 "1700000014000,lost");
	ck_assert_str_eq(sql_text(db_path, "SELECT ifnull(ended_at_ms, 'open') FROM runs WHERE "
	                                   "name='web.2' AND pid=103"),
	                 "open");

	/* The daemon restarts and adopts web.2 (pid 103): the open run is kept, not duplicated;
	 * then it exits and that run is closed. */
	store_close(&s);
	ck_assert_int_eq(store_open(&s, "retention", "0", NULL), 0);
	ev_adopted("web.2", 103, t + 14000, t + 20000);
	ev_exited("web.2", 103, t + 21000, 0, 0, "exited", NULL, 2.0, 4096, 7000);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM runs WHERE name='web.2'"), 2);
	ck_assert_str_eq(sql_text(db_path, "SELECT started_at_ms || ',' || ended_at_ms || ',' || "
	                                   "exit_code FROM runs WHERE name='web.2' AND pid=103"),
	                 "1700000014000,1700000021000,0");
	store_close(&s);
}
END_TEST

/* An adopted process's exit status cannot be known: the run is closed without code or usage. */
START_TEST(run_of_unknown_status)
{
	struct store s;
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof(e)},
	    .program = "api",
	    .pid = 77,
	    .exit_code = -1,
	    .status_known = 0,
	    .reason = "lost",
	    .runtime_ms = 1000,
	};

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ev_adopted("api", 77, 1000, 2000);
	deliver(&e.hdr, "api", 5000);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_str_eq(sql_text(db_path,
	                          "SELECT ended_at_ms || ',' || ifnull(exit_code, 'N') || ','"
	                          " || ifnull(cpu_s, 'N') || ',' || reason FROM runs"),
	                 "5000,N,N,lost");
	store_close(&s);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Batching */

START_TEST(batching_many_puts_few_transactions)
{
	struct store s;
	const int n = 20000;
	double t0, t1, t2, batch_ms, per_put_us, single_ms;
	long records;
	int batches, single_n = 200;
	char name[32];

	ck_assert_int_eq(store_open(&s, NULL), 0); /* flush_interval 200ms */
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		struct vigil_registry_entry e = entry_of(name, i);

		snprintf(name, sizeof(name), "p%d", i);
		ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	}
	t1 = now_s();
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	t2 = now_s();
	batches = commit_stats(&records, &batch_ms);
	ck_assert_int_eq(records, n);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM registry"), n);
	/* A registry record is committed at once, with everything that arrived while the
	 * previous transaction was being committed: however fast the writer is, each
	 * transaction (~40 us at the least) carries many puts (~2 us each), so 20000 puts take
	 * at most a few hundred transactions, not 20000. */
	ck_assert_int_ge(batches, 1);
	ck_assert_int_le(batches, n / 10);
	per_put_us = (t1 - t0) * 1e6 / n;

	/* For comparison: one transaction per put (put + flush). */
	clear_logs();
	t0 = now_s();
	for (int i = 0; i < single_n; i++) {
		struct vigil_registry_entry e = entry_of("solo", i);

		ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
		ck_assert_int_eq(s.ops->flush(s.state), 0);
	}
	single_ms = (now_s() - t0) * 1e3 / single_n;
	fprintf(stderr,
	        "store_sqlite batching: %d puts: %.2f us per put on the loop thread (enqueue); "
	        "%d transactions, %.2f ms per batch of ~%ld records (%.2f us per record); "
	        "flush drained in %.1f ms; one put per transaction: %.3f ms per put+flush\n",
	        n, per_put_us, batches, batch_ms / batches, records / batches,
	        batch_ms * 1e3 / (double)records, (t2 - t1) * 1e3, single_ms);

	/* A lone history write waits about flush_interval to be batched, then is committed
	 * unasked (registry writes do not wait, see above). */
	clear_logs();
	{
		double waited;

		t0 = now_s();
		ev_running("late", "late", 1, 1000);
		ck_assert(wait_log("committed 1 records", 1, 5000));
		waited = now_s() - t0;
		ck_assert_msg(waited >= 0.15, "committed after %.3fs, before flush_interval",
		              waited);
	}
	store_close(&s);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Retention */

START_TEST(retention_prunes_old_closed_runs)
{
	struct store s;
	char sql[512];
	int64_t now = real_wall_ms(), day = 86400000LL;

	ck_assert_int_eq(store_open(&s, NULL), 0);
	store_close(&s);
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO runs(name, pid, started_at_ms, ended_at_ms) VALUES"
	    "('old', 1, %lld, %lld), ('recent', 2, %lld, %lld), ('still-running', 3, %lld, NULL)",
	    (long long)(now - 10 * day), (long long)(now - 9 * day), (long long)(now - 10 * day),
	    (long long)(now - 3600000), (long long)(now - 10 * day));
	sql_exec(db_path, sql);

	ck_assert_int_eq(store_open(&s, "retention", "7d", NULL), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert(wait_log("pruned 1 runs", 1, 5000));
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM runs WHERE name='old'"), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM runs"), 2);
	store_close(&s);

	/* retention = 0 keeps everything. */
	ck_assert_int_eq(store_open(&s, "retention", "0", NULL), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM runs"), 2);
	store_close(&s);
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Damaged and foreign files */

START_TEST(corrupt_file_moved_aside)
{
	struct store s;
	struct loaded l = {0};
	struct vigil_registry_entry e = entry_of("web", 10);
	static const char junk[] = "this is not an SQLite database, it is a text file\n";
	FILE *f = fopen(db_path, "w");
	DIR *d;
	struct dirent *de;
	char aside[512] = "";

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 200; i++)
		fputs(junk, f);
	fclose(f);

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(logs_matching("is not a usable SQLite database"), 1);
	ck_assert_int_eq(logs_matching("moved it to"), 1);
	d = opendir(state_dir);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "registry.db.corrupt-", 20) == 0)
			snprintf(aside, sizeof(aside), "%s/%s", state_dir, de->d_name);
	closedir(d);
	ck_assert_msg(aside[0], "no registry.db.corrupt-* in %s", state_dir);
	{
		struct stat sb;

		ck_assert_int_eq(stat(aside, &sb), 0);
		ck_assert_int_eq(sb.st_size, 200 * (sizeof(junk) - 1));
	}
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(s.ops->registry_load(s.state, collect, &l), 0);
	ck_assert_int_eq(l.n, 1);
	ck_assert_int_eq(failed_count(), 0);
	store_close(&s);
}
END_TEST

START_TEST(newer_schema_refused)
{
	struct store s;

	ck_assert_int_eq(store_open(&s, NULL), 0);
	store_close(&s);
	sql_exec(db_path, "UPDATE meta SET value = 99 WHERE key = 'schema_version'");
	clear_logs();

	ck_assert_int_eq(store_open(&s, NULL), -EPROTO);
	ck_assert_int_eq(
	    logs_matching("has schema version 99, but this store_sqlite knows versions "
	                  "up to 3"),
	    1);
	ck_assert_int_eq(logs_matching(db_path), 1);
	plugin_desc->fini(s.state);
	/* Left untouched for the newer vigil. */
	ck_assert_str_eq(sql_text(db_path, "SELECT value FROM meta WHERE key='schema_version'"),
	                 "99");
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Failures: supervision goes on, store.failed is published from the loop thread, the queue is
 * kept and written once the database works again. Tests run as root, where a 0500 directory
 * does not stop writes, so failures are made another way: the path is a directory, another
 * connection holds the write lock, RLIMIT_FSIZE makes the disk "full". */

START_TEST(unwritable_path_keeps_plugin_alive)
{
	const struct vigil_ev_store_failed *f;
	struct store s;
	struct loaded l = {0};
	struct vigil_registry_entry e = entry_of("web", 42);
	char dir[600];

	snprintf(dir, sizeof(dir), "%s/db-is-a-dir", state_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(store_open(&s, "path", dir, NULL), 0);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ev_running("web", "web", 42, 1000);
	ck_assert_msg(loop_until_failed(1, 10000), "no store.failed published");
	f = last_failed();
	ck_assert_str_eq(f->hdr.subject, "sqlite");
	ck_assert_int_ne(f->error, 0);
	ck_assert_msg(strstr(f->message, dir), "message does not name the file: %s", f->message);
	ck_assert_uint_eq(f->pending, 2);
	/* Retries (each flush is one) neither log nor publish again. */
	ck_assert_int_lt(s.ops->flush(s.state), 0);
	ck_assert_int_lt(s.ops->flush(s.state), 0);
	ck_assert_int_eq(logs_matching("are retried; supervision goes on"), 1);
	loop_until_failed(2, 300);
	ck_assert_int_eq(failed_count(), 1);

	/* The path becomes usable: everything queued is written and the recovery is logged. */
	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(logs_matching("is writable again"), 1);
	ck_assert_int_eq(sql_int(dir, "SELECT count(*) FROM runs WHERE name='web' AND pid=42"), 1);
	ck_assert_int_eq(s.ops->registry_load(s.state, collect, &l), 0);
	ck_assert_int_eq(l.n, 1);
	store_close(&s);
}
END_TEST

START_TEST(lock_timeout_then_recovery)
{
	const struct vigil_ev_store_failed *f;
	struct store s;
	struct vigil_registry_entry e = entry_of("web", 7);
	sqlite3 *other;

	ck_assert_int_eq(store_open(&s, "busy_timeout", "100ms", NULL), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	other = sql_open(db_path);
	sql_do(other, "BEGIN EXCLUSIVE");
	sql_do(other, "DELETE FROM registry");

	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ck_assert_int_eq(s.ops->flush(s.state), -EBUSY);
	ck_assert(loop_until_failed(1, 5000));
	f = last_failed();
	ck_assert_int_eq(f->error, EBUSY);
	ck_assert_uint_eq(f->pending, 1);
	ck_assert_msg(strstr(f->message, "locked"), "%s", f->message);

	sql_do(other, "COMMIT");
	p_close(other);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT pid FROM registry WHERE name='web'"), 7);
	ck_assert_int_eq(logs_matching("is writable again"), 1);
	store_close(&s);
}
END_TEST

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : 0;
}

START_TEST(disk_full_then_recovery)
{
	const struct vigil_ev_store_failed *f;
	struct store s;
	struct rlimit old, lim;
	char wal[600], big[2048], name[32];
	off_t cap;

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	/* Files may not grow past their current size (+ a page): writes fail with EFBIG, the
	 * way they fail with ENOSPC on a full disk. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	cap = file_size(db_path) > file_size(wal) ? file_size(db_path) : file_size(wal);
	lim = (struct rlimit){.rlim_cur = (rlim_t)cap + 4096, .rlim_max = old.rlim_max};
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 500; i++) {
		struct vigil_registry_entry e = entry_of(name, i);

		snprintf(name, sizeof(name), "big%d", i);
		e.program = big;
		ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	}
	ck_assert_int_lt(s.ops->flush(s.state), 0);
	ck_assert(loop_until_failed(1, 5000));
	f = last_failed();
	fprintf(stderr, "store_sqlite disk full: store.failed error=%d (%s) pending=%llu: %s\n",
	        f->error, strerror(f->error), (unsigned long long)f->pending, f->message);
	ck_assert_int_ne(f->error, 0);
	ck_assert_uint_eq(f->pending, 500);

	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM registry"), 500);
	ck_assert_int_eq(logs_matching("is writable again"), 1);
	store_close(&s);
}
END_TEST

/* While the database is down the queue is bounded: the oldest history goes, registry writes
 * stay (compacted). */
START_TEST(queue_bound_drops_oldest_history_only)
{
	struct store s;
	char dir[600], name[32];
	const int extra = 10, runs = 100000 + extra;

	snprintf(dir, sizeof(dir), "%s/db-is-a-dir", state_dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(store_open(&s, "path", dir, NULL), 0);
	for (int i = 0; i < 5; i++) {
		struct vigil_registry_entry e = entry_of(name, i);

		snprintf(name, sizeof(name), "reg%d", i);
		ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	}
	for (int i = 0; i < runs; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		ev_running(name, "r", i + 1, 1000 + i);
	}
	ck_assert_int_lt(s.ops->flush(s.state), 0);
	ck_assert_int_eq(logs_matching("write queue full"), 1);

	ck_assert_int_eq(rmdir(dir), 0);
	ck_assert_int_eq(s.ops->flush(s.state), 0);
	ck_assert_int_eq(logs_matching("10 run history records were dropped"), 1);
	ck_assert_int_eq(sql_int(dir, "SELECT count(*) FROM registry"), 5);
	ck_assert_int_eq(sql_int(dir, "SELECT count(*) FROM runs"), 100000);
	/* The oldest were dropped. */
	ck_assert_int_eq(sql_int(dir, "SELECT min(pid) FROM runs"), extra + 1);
	store_close(&s);
}
END_TEST

/* Writes that arrive after stop() (exits during shutdown) are still saved by fini(). */
START_TEST(writes_after_stop_saved_at_fini)
{
	struct store s;
	struct vigil_registry_entry e = entry_of("late", 5);

	ck_assert_int_eq(store_open(&s, NULL), 0);
	ev_running("late", "late", 5, 1000);
	plugin_desc->stop(s.state);
	ev_exited("late", 5, 2000, 0, 0, "stopped", NULL, 0.1, 100, 1000);
	ck_assert_int_eq(s.ops->registry_put(s.state, &e), 0);
	ck_assert_int_eq(s.ops->registry_remove(s.state, "late"), 0);
	plugin_desc->fini(s.state);
	ck_assert_str_eq(sql_text(db_path, "SELECT ended_at_ms || ',' || reason FROM runs"),
	                 "2000,stopped");
	ck_assert_int_eq(sql_int(db_path, "SELECT count(*) FROM registry"), 0);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store_sqlite");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, registry_roundtrip_across_reopen);
	tcase_add_test(tc, registry_remove);
	tcase_add_test(tc, registry_load_stops_when_told_and_sees_unflushed_puts);
	tcase_add_test(tc, database_fds_are_cloexec);
	tcase_add_test(tc, runs_recorded_from_events);
	tcase_add_test(tc, run_of_unknown_status);
	tcase_add_test(tc, batching_many_puts_few_transactions);
	tcase_add_test(tc, retention_prunes_old_closed_runs);
	tcase_add_test(tc, corrupt_file_moved_aside);
	tcase_add_test(tc, newer_schema_refused);
	tcase_add_test(tc, unwritable_path_keeps_plugin_alive);
	tcase_add_test(tc, lock_timeout_then_recovery);
	tcase_add_test(tc, disk_full_then_recovery);
	tcase_add_test(tc, queue_bound_drops_oldest_history_only);
	tcase_add_test(tc, writes_after_stop_saved_at_fini);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

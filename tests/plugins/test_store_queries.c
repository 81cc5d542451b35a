/* test_store_queries.c — store_sqlite.so: tasks, priorities and tags, history and stats queries. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <vigil/testing.h>

/* ------------------------------------------------------------------------------------------
 * sqlite3, opened at run time (the test binaries do not link it), to look at the file. */

static int (*p_open)(const char *, sqlite3 **);
static int (*p_exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *,
                     char **);
static int (*p_close)(sqlite3 *);

static void load_sym(void *lib, const char *name, void *fnptr)
{
	void *sym = dlsym(lib, name);

	ck_assert_msg(sym, "no symbol %s", name);
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

static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	sql_init();
	ck_assert_int_eq(p_open(path, &db), SQLITE_OK);
	rc = p_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	p_close(db);
}

struct rows {
	char text[4096];
	size_t len;
};

/* Every row as "a,b,c", rows joined with " | " (NULL as "N"). */
static int join_row(void *arg, int n, char **vals, char **cols)
{
	struct rows *r = arg;

	(void)cols;
	if (r->len)
		r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, " | ");
	for (int i = 0; i < n && r->len < sizeof(r->text); i++)
		r->len += (size_t)snprintf(r->text + r->len, sizeof(r->text) - r->len, "%s%s",
		                           i ? "," : "", vals[i] ? vals[i] : "N");
	return 0;
}

static const char *sql_rows(const char *path, const char *sql)
{
	static struct rows r;
	sqlite3 *db = NULL;
	char *msg = NULL;
	int rc;

	sql_init();
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(p_open(path, &db), SQLITE_OK);
	rc = p_exec(db, sql, join_row, &r, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "?");
	p_close(db);
	return r.text;
}

/* ------------------------------------------------------------------------------------------
 * The fake host, with a locked log (the store's writer thread logs too) and the processes and
 * task the core would know. */

static struct vigil_fake_host fh;
static void (*fake_log)(struct vigil_instance *, enum vigil_log_level, const char *, ...);
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char state_dir[256], db_path[512];

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
	pthread_mutex_unlock(&log_mu);
	free(line);
}

static int logs_matching(const char *needle)
{
	int n = 0;

	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < fh.nlogs; i++)
		n += strstr(fh.logs[i].text, needle) != NULL;
	pthread_mutex_unlock(&log_mu);
	return n;
}

static const char *const web_tags[] = {"frontend", "public", NULL};
static const char *const db_tags[] = {"storage", NULL};
static const char *const no_tags[] = {NULL};

static const struct vigil_proc_info procs[] = {
    {.size = sizeof(struct vigil_proc_info),
     .name = "web.0",
     .program = "web",
     .priority = VIGIL_PRIO_HIGH,
     .tags = web_tags},
    {.size = sizeof(struct vigil_proc_info),
     .name = "web.1",
     .program = "web",
     .priority = VIGIL_PRIO_HIGH,
     .tags = web_tags},
    {.size = sizeof(struct vigil_proc_info),
     .name = "db",
     .program = "db",
     .priority = VIGIL_PRIO_CRITICAL,
     .tags = db_tags},
    {.size = sizeof(struct vigil_proc_info),
     .name = "batch",
     .program = "batch",
     .priority = VIGIL_PRIO_LOW,
     .tags = no_tags},
};

/* The core holds a queued task: its command line is only known this way. */
static int fake_task_foreach(const char *id, vigil_task_fn fn, void *arg)
{
	char command[64];
	struct vigil_task_info info = {.size = sizeof(info), .id = id, .command = command};

	if (!id)
		return 0;
	snprintf(command, sizeof(command), "run-%s --fast", id);
	return fn(&info, arg);
}

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
	snprintf(state_dir, sizeof(state_dir), "/tmp/vigil-queries-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(state_dir));
	snprintf(db_path, sizeof(db_path), "%s/registry.db", state_dir);
	vigil_fake_host_init(&fh);
	fh.kind = "store";
	fh.instance = "sqlite";
	fh.state_dir = state_dir;
	fh.echo = getenv("TEST_VERBOSE") != NULL;
	fh.procs = procs;
	fh.nprocs = sizeof(procs) / sizeof(procs[0]);
	fake_log = fh.host.log;
	fh.host.log = locked_log;
	fh.host.task_foreach = fake_task_foreach;
}

static void teardown(void)
{
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
	nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------------------------------
 * The plugin */

static void *plugin_lib;
static const struct vigil_plugin *plugin_desc;
static const struct vigil_store_ops *ops;
static void *state;

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
	ops = plugin_desc->ops;
	ck_assert(ops->history_query != NULL);
	ck_assert(ops->stats_query != NULL);
}

/* Opens with key/value pairs (NULL-terminated). retention 0 unless given: the seeded times
 * are from 2023. */
static void store_open(const char *k, ...)
{
	va_list ap;

	plugin_load();
	vigil_fake_cfg_clear(&fh);
	fh.keys = plugin_desc->keys;
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "retention", "0"), 0);
	va_start(ap, k);
	for (; k; k = va_arg(ap, const char *))
		ck_assert_int_eq(vigil_fake_cfg_set(&fh, k, va_arg(ap, const char *)), 0);
	va_end(ap);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, plugin_desc, &state), 0);
	ck_assert_int_eq(plugin_desc->start(state), 0);
}

static void store_close(void)
{
	plugin_desc->stop(state);
	plugin_desc->fini(state);
	state = NULL;
}

/* ------------------------------------------------------------------------------------------
 * Events */

static const int64_t T = 1700000000000LL;

static void stamp(int64_t time_ms)
{
	fh.wall_base_ms = time_ms - (int64_t)fh.now_ms;
}

static void deliver(struct vigil_event *ev, const char *subject, int64_t time_ms)
{
	ev->subject = subject;
	stamp(time_ms);
	ck_assert_int_eq(vigil_fake_deliver(&fh, ev), 1);
}

/* task.started is not in the fake host's type table: hand it to the subscription directly,
 * stamped as the bus would. */
static void deliver_direct(struct vigil_event *ev, const char *subject, int64_t time_ms)
{
	int calls = 0;

	ev->subject = subject;
	ev->time_us = time_ms * 1000;
	ev->seq = ++fh.seq;
	for (struct vigil_fake_sub_ *s = fh.subs; s; s = s->next) {
		const uint64_t *m = s->filter.types;

		if (s->dead || !(m[ev->type / 64] & ((uint64_t)1 << (ev->type % 64))))
			continue;
		s->fn(ev, s->arg);
		calls++;
	}
	ck_assert_int_eq(calls, 1);
}

static void running(const char *name, const char *program, int32_t pid, int64_t at)
{
	struct vigil_ev_process_running e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_RUNNING, .size = sizeof(e)},
	    .program = program,
	    .pid = pid,
	};

	deliver(&e.hdr, name, T + at);
}

static void exited(const char *name, const char *program, int32_t pid, int64_t at, int32_t code,
                   int32_t sig, int expected, const char *reason, int64_t run_ms, double cpu,
                   int64_t rss)
{
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof(e)},
	    .program = program,
	    .pid = pid,
	    .exit_code = code,
	    .signal = sig,
	    .status_known = 1,
	    .expected = expected,
	    .runtime_ms = run_ms,
	    .reason = reason,
	    .error = strcmp(reason, "spawn-failed") == 0 ? "exec /nope: No such file" : NULL,
	    .cpu_s = cpu,
	    .peak_rss_bytes = rss,
	};

	deliver(&e.hdr, name, T + at);
}

static void queued(const char *id, const char *name, const char *type, const char *pool,
                   enum vigil_priority prio, int64_t at)
{
	struct vigil_ev_task_queued e = {
	    .hdr = {.type = VIGIL_EV_TASK_QUEUED, .size = sizeof(e)},
	    .pool = pool,
	    .name = name,
	    .type = type,
	    .priority = prio,
	};

	deliver(&e.hdr, id, T + at);
}

static void started(const char *id, const char *name, const char *type, const char *pool,
                    int32_t pid, int64_t submitted, int64_t at)
{
	struct vigil_ev_task_started e = {
	    .hdr = {.type = VIGIL_EV_TASK_STARTED, .size = sizeof(e)},
	    .pool = pool,
	    .name = name,
	    .type = type,
	    .pid = pid,
	    .attempt = 1,
	    .queued_ms = at - submitted,
	};

	deliver_direct(&e.hdr, id, T + at);
}

static void finished(const char *id, const char *name, const char *type, const char *pool,
                     enum vigil_priority prio, enum vigil_task_state st, int64_t submitted,
                     int64_t start, int64_t at, int32_t code, int32_t sig, double cpu, int64_t rss)
{
	struct vigil_ev_task_finished e = {
	    .hdr = {.type = VIGIL_EV_TASK_FINISHED, .size = sizeof(e)},
	    .pool = pool,
	    .name = name,
	    .type = type,
	    .state = st,
	    .exit_code = code,
	    .signal = sig,
	    .duration_ms = start >= 0 ? at - start : 0,
	    .cpu_s = cpu,
	    .peak_rss_bytes = rss,
	    .priority = prio,
	    .attempts = start >= 0 ? 1 : 0,
	    .submitted_at_ms = T + submitted,
	    .started_at_ms = start >= 0 ? T + start : 0,
	    .error = NULL,
	};

	deliver(&e.hdr, id, T + at);
}

/* ------------------------------------------------------------------------------------------
 * Query helpers */

struct got {
	char labels[2048];
	size_t len;
	int n;
	struct vigil_history_row row[32];
	char strs[32][8][64];
};

static const char *keep(struct got *g, int slot, const char *s)
{
	if (!s)
		return NULL;
	snprintf(g->strs[g->n][slot], 64, "%s", s);
	return g->strs[g->n][slot];
}

/* A run is labelled "instance/pid", a task by its id. */
static int collect_row(const struct vigil_history_row *r, void *arg)
{
	struct got *g = arg;

	ck_assert_uint_eq(r->size, sizeof(*r));
	if (r->kind[0] == 'p')
		g->len += (size_t)snprintf(g->labels + g->len, sizeof(g->labels) - g->len,
		                           "%s%s/%d", g->n ? " " : "", r->name, r->pid);
	else
		g->len += (size_t)snprintf(g->labels + g->len, sizeof(g->labels) - g->len, "%s%s",
		                           g->n ? " " : "", r->id);
	if (g->n < 32) {
		struct vigil_history_row *c = &g->row[g->n];

		*c = *r;
		c->kind = keep(g, 0, r->kind);
		c->name = keep(g, 1, r->name);
		c->program = keep(g, 2, r->program);
		c->id = keep(g, 3, r->id);
		c->state = keep(g, 4, r->state);
		c->type = keep(g, 5, r->type);
		c->priority = keep(g, 6, r->priority);
		c->tags = keep(g, 7, r->tags);
		c->reason = c->error = NULL;
	}
	g->n++;
	return 0;
}

static struct vigil_history_query hq(void)
{
	return (struct vigil_history_query){.size = sizeof(struct vigil_history_query)};
}

static struct got *query(struct vigil_history_query q)
{
	static struct got g;

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(ops->history_query(state, &q, collect_row, &g), 0);
	return &g;
}

static const char *labels(struct vigil_history_query q)
{
	return query(q)->labels;
}

static const struct vigil_history_row *find(struct got *g, const char *label_or_id)
{
	for (int i = 0; i < g->n && i < 32; i++) {
		char l[80];

		if (g->row[i].kind[0] == 'p')
			snprintf(l, sizeof(l), "%s/%d", g->row[i].name, g->row[i].pid);
		else
			snprintf(l, sizeof(l), "%s", g->row[i].id);
		if (strcmp(l, label_or_id) == 0)
			return &g->row[i];
	}
	ck_abort_msg("no row %s in %s", label_or_id, g->labels);
	return NULL;
}

/* ------------------------------------------------------------------------------------------
 * The seeded history of the filter tests (times relative to T, in ms):
 *
 *   run web.0/100  0 .. 10000 exited 0          task t-1 compile build default normal
 *   run web.0/101  20000 .. 23000 killed 9           2000 -> 2500 .. 4500 succeeded
 *   run web.0/102  30000 .. open                 task t-2 compile build default high
 *   run web.1/200  5000 .. 6000 exited 1             3000 -> 3100 .. 3600 failed 2
 *   run web.1/201  7000 .. 50000 stopped         task t-3 unit test gpu critical
 *   run db/300     1000 .. open                      8000 -> 8000 .. 18000 timeout
 *   run batch/0    40000 spawn-failed            task t-4 unit test gpu low
 *   run batch/401  41000 .. 46000 start-timeout      9000 .. cancelled 9500, never ran
 *                                                task t-5 compile build default normal
 *                                                    60000, queued
 *                                                task t-6 integration test gpu normal
 *                                                    61000 -> 61500 running
 * web.* are high priority with tags frontend,public; db critical with storage; batch low.
 */

static void seed_event(int i)
{
	switch (i) {
	case 0:
		running("web.0", "web", 100, 0);
		break;
	case 1:
		running("db", "db", 300, 1000);
		break;
	case 2:
		queued("t-1", "compile", "build", "default", VIGIL_PRIO_NORMAL, 2000);
		break;
	case 3:
		started("t-1", "compile", "build", "default", 1001, 2000, 2500);
		break;
	case 4:
		queued("t-2", "compile", "build", "default", VIGIL_PRIO_HIGH, 3000);
		break;
	case 5:
		started("t-2", "compile", "build", "default", 1002, 3000, 3100);
		break;
	case 6:
		finished("t-2", "compile", "build", "default", VIGIL_PRIO_HIGH, VIGIL_TASK_FAILED,
		         3000, 3100, 3600, 2, 0, 0.25, 3000);
		break;
	case 7:
		finished("t-1", "compile", "build", "default", VIGIL_PRIO_NORMAL,
		         VIGIL_TASK_SUCCEEDED, 2000, 2500, 4500, 0, 0, 1.5, 1000);
		break;
	case 8:
		running("web.1", "web", 200, 5000);
		break;
	case 9:
		exited("web.1", "web", 200, 6000, 1, 0, 0, "exited", 1000, 0.1, 100);
		break;
	case 10:
		running("web.1", "web", 201, 7000);
		break;
	case 11:
		queued("t-3", "unit", "test", "gpu", VIGIL_PRIO_CRITICAL, 8000);
		break;
	case 12:
		started("t-3", "unit", "test", "gpu", 1003, 8000, 8000);
		break;
	case 13:
		queued("t-4", "unit", "test", "gpu", VIGIL_PRIO_LOW, 9000);
		break;
	case 14:
		finished("t-4", "unit", "test", "gpu", VIGIL_PRIO_LOW, VIGIL_TASK_CANCELLED, 9000,
		         -1, 9500, -1, 0, 0, 0);
		break;
	case 15:
		exited("web.0", "web", 100, 10000, 0, 0, 1, "exited", 10000, 2.5, 5000);
		break;
	case 16:
		finished("t-3", "unit", "test", "gpu", VIGIL_PRIO_CRITICAL, VIGIL_TASK_TIMEOUT,
		         8000, 8000, 18000, -1, 9, 9.75, 8000);
		break;
	case 17:
		running("web.0", "web", 101, 20000);
		break;
	case 18:
		exited("web.0", "web", 101, 23000, -1, 9, 0, "killed", 3000, 0.5, 700);
		break;
	case 19:
		running("web.0", "web", 102, 30000);
		break;
	case 20:
		exited("batch", "batch", 0, 40000, -1, 0, 0, "spawn-failed", 0, 0, 0);
		break;
	case 21:
		running("batch", "batch", 401, 41000);
		break;
	case 22:
		exited("batch", "batch", 401, 46000, -1, 15, 0, "start-timeout", 5000, 0, 0);
		break;
	case 23:
		exited("web.1", "web", 201, 50000, 0, 0, 1, "stopped", 43000, 1, 200);
		break;
	case 24:
		queued("t-5", "compile", "build", "default", VIGIL_PRIO_NORMAL, 60000);
		break;
	case 25:
		queued("t-6", "integration", "test", "gpu", VIGIL_PRIO_NORMAL, 61000);
		break;
	case 26:
		started("t-6", "integration", "test", "gpu", 1006, 61000, 61500);
		break;
	default:
		ck_abort_msg("no seed event %d", i);
	}
}

#define SEED_EVENTS 27

static void check_filters(void)
{
	struct vigil_history_query q;
	struct got *g;
	const struct vigil_history_row *r;

	q = hq();
	ck_assert_str_eq(labels(q), "t-6 t-5 batch/401 batch/0 web.0/102 web.0/101 t-4 t-3 "
	                            "web.1/201 web.1/200 t-2 t-1 db/300 web.0/100");
	q = hq();
	q.kind = "program";
	ck_assert_str_eq(labels(q), "batch/401 batch/0 web.0/102 web.0/101 web.1/201 web.1/200 "
	                            "db/300 web.0/100");
	q.kind = "task";
	ck_assert_str_eq(labels(q), "t-6 t-5 t-4 t-3 t-2 t-1");

	/* name: an instance, a program, a task name or a task id */
	q = hq();
	q.name = "web";
	ck_assert_str_eq(labels(q), "web.0/102 web.0/101 web.1/201 web.1/200 web.0/100");
	q.name = "web.0";
	ck_assert_str_eq(labels(q), "web.0/102 web.0/101 web.0/100");
	q.name = "compile";
	ck_assert_str_eq(labels(q), "t-5 t-2 t-1");
	q.name = "t-3";
	ck_assert_str_eq(labels(q), "t-3");
	q.name = "nothing";
	ck_assert_str_eq(labels(q), "");

	/* state: running = open runs and running tasks; else the end reason or task state */
	q = hq();
	q.state = "running";
	ck_assert_str_eq(labels(q), "t-6 web.0/102 db/300");
	q.state = "exited";
	ck_assert_str_eq(labels(q), "web.1/200 web.0/100");
	q.state = "killed";
	ck_assert_str_eq(labels(q), "web.0/101");
	q.state = "stopped";
	ck_assert_str_eq(labels(q), "web.1/201");
	q.state = "spawn-failed";
	ck_assert_str_eq(labels(q), "batch/0");
	q.state = "start-timeout";
	ck_assert_str_eq(labels(q), "batch/401");
	q.state = "queued";
	ck_assert_str_eq(labels(q), "t-5");
	q.state = "succeeded";
	ck_assert_str_eq(labels(q), "t-1");
	q.state = "cancelled";
	ck_assert_str_eq(labels(q), "t-4");
	q.state = "timeout";
	ck_assert_str_eq(labels(q), "t-3");

	/* type selects tasks; tag selects programs; priority both */
	q = hq();
	q.type = "build";
	ck_assert_str_eq(labels(q), "t-5 t-2 t-1");
	q.type = "test";
	ck_assert_str_eq(labels(q), "t-6 t-4 t-3");
	q = hq();
	q.priority = "high";
	ck_assert_str_eq(labels(q), "web.0/102 web.0/101 web.1/201 web.1/200 t-2 web.0/100");
	q.priority = "critical";
	ck_assert_str_eq(labels(q), "t-3 db/300");
	q.priority = "low";
	ck_assert_str_eq(labels(q), "batch/401 batch/0 t-4");
	q = hq();
	q.tag = "frontend";
	ck_assert_str_eq(labels(q), "web.0/102 web.0/101 web.1/201 web.1/200 web.0/100");
	q.tag = "public";
	ck_assert_str_eq(labels(q), "web.0/102 web.0/101 web.1/201 web.1/200 web.0/100");
	q.tag = "storage";
	ck_assert_str_eq(labels(q), "db/300");
	q.tag = "front"; /* a whole tag, not a part of one */
	ck_assert_str_eq(labels(q), "");
	q.tag = "frontend,public";
	ck_assert_str_eq(labels(q), "");

	/* time: still open at since, or started after it; started before until */
	q = hq();
	q.since_ms = T + 25000;
	ck_assert_str_eq(labels(q), "t-6 t-5 batch/401 batch/0 web.0/102 web.1/201 db/300");
	q = hq();
	q.until_ms = T + 6000;
	ck_assert_str_eq(labels(q), "web.1/200 t-2 t-1 db/300 web.0/100");
	q.since_ms = T + 9200;
	q.until_ms = T + 9600;
	ck_assert_str_eq(labels(q), "t-4 t-3 web.1/201 db/300 web.0/100");

	/* combined, and the limit (newest first) */
	q = hq();
	q.kind = "program";
	q.name = "web";
	q.state = "exited";
	ck_assert_str_eq(labels(q), "web.1/200 web.0/100");
	q = hq();
	q.kind = "task";
	q.tag = "frontend";
	ck_assert_str_eq(labels(q), "");
	q = hq();
	q.limit = 3;
	ck_assert_str_eq(labels(q), "t-6 t-5 batch/401");
	q.limit = 1;
	q.type = "test";
	q.priority = "normal";
	ck_assert_str_eq(labels(q), "t-6");

	/* the fields of the rows */
	g = query(hq());
	r = find(g, "web.0/101");
	ck_assert_str_eq(r->kind, "program");
	ck_assert_str_eq(r->program, "web");
	ck_assert_str_eq(r->state, "killed");
	ck_assert_str_eq(r->priority, "high");
	ck_assert_str_eq(r->tags, "frontend,public");
	ck_assert_ptr_null(r->type);
	ck_assert_int_eq(r->started_at_ms, T + 20000);
	ck_assert_int_eq(r->ended_at_ms, T + 23000);
	ck_assert_int_eq(r->exit_code, -1);
	ck_assert_int_eq(r->signal, 9);
	ck_assert_double_eq(r->cpu_s, 0.5);
	ck_assert_int_eq(r->peak_rss_bytes, 700);
	ck_assert_int_gt(atoi(r->id), 0);
	r = find(g, "web.0/102");
	ck_assert_str_eq(r->state, "running");
	ck_assert_int_eq(r->ended_at_ms, 0);
	ck_assert_int_eq(r->exit_code, -1);
	ck_assert_double_eq(r->cpu_s, -1);
	ck_assert_int_eq(r->peak_rss_bytes, -1);
	r = find(g, "batch/0");
	ck_assert_str_eq(r->priority, "low");
	ck_assert_ptr_null(r->tags);
	ck_assert_int_eq(r->started_at_ms, T + 40000);
	ck_assert_int_eq(r->ended_at_ms, T + 40000);
	r = find(g, "t-1");
	ck_assert_str_eq(r->kind, "task");
	ck_assert_str_eq(r->name, "compile");
	ck_assert_str_eq(r->program, "default");
	ck_assert_str_eq(r->state, "succeeded");
	ck_assert_str_eq(r->type, "build");
	ck_assert_str_eq(r->priority, "normal");
	ck_assert_int_eq(r->pid, 1001);
	ck_assert_int_eq(r->started_at_ms, T + 2500);
	ck_assert_int_eq(r->ended_at_ms, T + 4500);
	ck_assert_int_eq(r->exit_code, 0);
	ck_assert_double_eq(r->cpu_s, 1.5);
	ck_assert_int_eq(r->peak_rss_bytes, 1000);
	r = find(g, "t-4"); /* cancelled while queued: never ran */
	ck_assert_int_eq(r->started_at_ms, T + 9000);
	ck_assert_int_eq(r->ended_at_ms, T + 9500);
	ck_assert_int_eq(r->exit_code, -1);
	ck_assert_double_eq(r->cpu_s, -1);
	r = find(g, "t-6");
	ck_assert_str_eq(r->state, "running");
	ck_assert_int_eq(r->ended_at_ms, 0);
	ck_assert_int_eq(r->pid, 1006);
}

/* _i: 0 = everything committed; 1 = everything still queued; 2 = half of it committed, so
 * queued records change committed rows (runs ended, tasks finished). */
START_TEST(history_filters_exact)
{
	int flush_after = _i == 0 ? SEED_EVENTS : _i == 1 ? 0 : 13;
	struct vigil_history_query bad = hq();

	store_open("flush_interval", "1h", NULL);
	for (int i = 0; i < SEED_EVENTS; i++) {
		seed_event(i);
		if (i + 1 == flush_after)
			ck_assert_int_eq(ops->flush(state), 0);
	}
	check_filters();
	bad.kind = "daemon";
	ck_assert_int_eq(ops->history_query(state, &bad, collect_row, query(hq())), -EINVAL);
	bad = hq();
	bad.size = 8;
	ck_assert_int_eq(ops->history_query(state, &bad, collect_row, query(hq())), -EINVAL);
	/* Written, and read back after a restart, the answers are the same. */
	store_close();
	store_open(NULL, NULL);
	check_filters();
	store_close();
}
END_TEST

static int stop_at_two(const struct vigil_history_row *r, void *arg)
{
	(void)r;
	return ++*(int *)arg == 2 ? 7 : 0;
}

START_TEST(history_callback_stops)
{
	struct vigil_history_query q = hq();
	int calls = 0;

	store_open(NULL, NULL);
	for (int i = 0; i < SEED_EVENTS; i++)
		seed_event(i);
	ck_assert_int_eq(ops->history_query(state, &q, stop_at_two, &calls), 7);
	ck_assert_int_eq(calls, 2);
	store_close();
}
END_TEST

/* The rows in the file: priority, tags and expected of runs; tasks with their command. */
START_TEST(tables_from_events)
{
	store_open(NULL, NULL);
	for (int i = 0; i < SEED_EVENTS; i++)
		seed_event(i);
	ck_assert_int_eq(ops->flush(state), 0);
	store_close();
	ck_assert_str_eq(sql_rows(db_path, "SELECT name, pid, priority, ifnull(tags, 'N'),"
	                                   " ifnull(expected, 'N') FROM runs ORDER BY id"),
	                 "web.0,100,high,frontend,public,1 | db,300,critical,storage,N | "
	                 "web.1,200,high,frontend,public,0 | web.1,201,high,frontend,public,1 | "
	                 "web.0,101,high,frontend,public,0 | web.0,102,high,frontend,public,N | "
	                 "batch,0,low,N,0 | batch,401,low,N,0");
	ck_assert_str_eq(
	    sql_rows(db_path,
	             "SELECT id, name, type, pool, priority, state, pid, exit_code, signal,"
	             " submitted_at_ms - 1700000000000, started_at_ms - 1700000000000,"
	             " ended_at_ms - 1700000000000, duration_ms, cpu_s, peak_rss_bytes, attempts,"
	             " error, command FROM tasks ORDER BY id"),
	    "t-1,compile,build,default,normal,succeeded,1001,0,N,2000,2500,4500,2000,1.5,1000,1,N,"
	    "run-t-1 --fast | "
	    "t-2,compile,build,default,high,failed,1002,2,N,3000,3100,3600,500,0.25,3000,1,N,"
	    "run-t-2 --fast | "
	    "t-3,unit,test,gpu,critical,timeout,1003,N,9,8000,8000,18000,10000,9.75,8000,1,N,"
	    "run-t-3 --fast | "
	    "t-4,unit,test,gpu,low,cancelled,N,N,N,9000,N,9500,N,N,N,0,N,run-t-4 --fast | "
	    "t-5,compile,build,default,normal,queued,N,N,N,60000,N,N,N,N,N,0,N,run-t-5 --fast | "
	    "t-6,integration,test,gpu,normal,running,1006,N,N,61000,61500,N,N,N,N,1,N,"
	    "run-t-6 --fast");
}
END_TEST

/* A task whose task.queued was never seen (published before the store started) still gets its
 * row from task.started, and its final state from task.finished. */
START_TEST(task_without_queued_event)
{
	store_open(NULL, NULL);
	started("late", "job", "build", "default", 55, 100, 400);
	ck_assert_str_eq(labels(hq()), "late");
	finished("late", "job", "build", "default", VIGIL_PRIO_HIGH, VIGIL_TASK_SUCCEEDED, 100, 400,
	         900, 0, 0, 0.5, 10);
	ck_assert_int_eq(ops->flush(state), 0);
	store_close();
	ck_assert_str_eq(sql_rows(db_path, "SELECT id, state, pid, priority, submitted_at_ms - "
	                                   "1700000000000, duration_ms FROM tasks"),
	                 "late,succeeded,55,high,100,500");
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Statistics */

struct stat_rows {
	int n;
	struct vigil_stats_row row[8];
	char keys[8][32];
};

static int collect_stat(const struct vigil_stats_row *r, void *arg)
{
	struct stat_rows *s = arg;

	ck_assert_uint_eq(r->size, sizeof(*r));
	ck_assert_int_lt(s->n, 8);
	s->row[s->n] = *r;
	snprintf(s->keys[s->n], 32, "%s", r->key);
	s->row[s->n].key = s->keys[s->n];
	s->n++;
	return 0;
}

static struct stat_rows *stats(const char *by, int64_t since)
{
	static struct stat_rows s;
	struct vigil_stats_query q = {.size = sizeof(q), .by = by, .since_ms = since};

	memset(&s, 0, sizeof(s));
	ck_assert_int_eq(ops->stats_query(state, &q, collect_stat, &s), 0);
	return &s;
}

static void check_stat(const struct vigil_stats_row *r, const char *key, uint64_t runs, uint64_t ok,
                       uint64_t failed, uint64_t timeouts, int64_t p50, int64_t p95, int64_t max,
                       double cpu, int64_t rss)
{
	ck_assert_str_eq(r->key, key);
	ck_assert_uint_eq(r->runs, runs);
	ck_assert_uint_eq(r->successes, ok);
	ck_assert_uint_eq(r->failures, failed);
	ck_assert_uint_eq(r->timeouts, timeouts);
	ck_assert_double_eq_tol(r->success_rate, (double)ok / (double)runs, 1e-12);
	ck_assert_int_eq(r->p50_ms, p50);
	ck_assert_int_eq(r->p95_ms, p95);
	ck_assert_int_eq(r->max_ms, max);
	ck_assert_double_eq_tol(r->cpu_s, cpu, 1e-9);
	ck_assert_int_eq(r->peak_rss_bytes, rss);
}

/* api: 20 runs of 100..2000 ms (run i lasts i * 100): 1-14 expected, 15-17 exit 1, 18 killed,
 * 19-20 start-timeout. worker: one run of 700 ms, one spawn failure, one still running.
 * Tasks build/ci: 10 of 10..100 ms: 1-7 succeeded, 8 failed, 9 killed, 10 timeout, plus a
 * cancelled and a queued one (not counted). lint/ci: 5, 1, 3 ms succeeded; lint/other: a
 * spawn failure that never ran. */
static void seed_stats(void)
{
	char id[16];

	for (int i = 1; i <= 20; i++) {
		int64_t start = (int64_t)i * 10000, end = start + i * 100;
		int ok = i <= 14;

		running("api", "api", 1000 + i, start);
		if (i <= 17)
			exited("api", "api", 1000 + i, end, ok ? 0 : 1, 0, ok, "exited", i * 100,
			       0.5, i * 1000);
		else if (i == 18)
			exited("api", "api", 1000 + i, end, -1, 9, 0, "killed", i * 100, 0.5,
			       i * 1000);
		else
			exited("api", "api", 1000 + i, end, -1, 15, 0, "start-timeout", i * 100,
			       0.5, i * 1000);
	}
	running("worker", "worker", 500, 1000);
	exited("worker", "worker", 500, 1700, 0, 0, 1, "exited", 700, 2, 64);
	exited("worker", "worker", 0, 2000, -1, 0, 0, "spawn-failed", 0, 0, 0);
	running("worker", "worker", 501, 3000);
	for (int i = 1; i <= 10; i++) {
		enum vigil_task_state s = i <= 7   ? VIGIL_TASK_SUCCEEDED
		                          : i == 8 ? VIGIL_TASK_FAILED
		                          : i == 9 ? VIGIL_TASK_KILLED
		                                   : VIGIL_TASK_TIMEOUT;

		snprintf(id, sizeof(id), "b-%d", i);
		queued(id, "make", "build", "ci", VIGIL_PRIO_NORMAL, i * 1000);
		finished(id, "make", "build", "ci", VIGIL_PRIO_NORMAL, s, i * 1000, i * 1000,
		         i * 1000 + i * 10, s == VIGIL_TASK_SUCCEEDED ? 0 : 1, 0, 0.25, i * 100);
	}
	queued("b-c", "make", "build", "ci", VIGIL_PRIO_NORMAL, 20000);
	finished("b-c", "make", "build", "ci", VIGIL_PRIO_NORMAL, VIGIL_TASK_CANCELLED, 20000,
	         20000, 29000, -1, 9, 3, 99999);
	queued("b-q", "make", "build", "ci", VIGIL_PRIO_NORMAL, 30000);
	finished("l-1", "lint", "lint", "ci", VIGIL_PRIO_LOW, VIGIL_TASK_SUCCEEDED, 0, 100, 105, 0,
	         0, 0.125, 50);
	finished("l-2", "lint", "lint", "ci", VIGIL_PRIO_LOW, VIGIL_TASK_SUCCEEDED, 0, 200, 201, 0,
	         0, 0.125, 60);
	finished("l-3", "lint", "lint", "ci", VIGIL_PRIO_LOW, VIGIL_TASK_SUCCEEDED, 0, 300, 303, 0,
	         0, 0.125, 70);
	finished("l-4", "lint", "lint", "other", VIGIL_PRIO_LOW, VIGIL_TASK_FAILED, 0, -1, 400, -1,
	         0, 0, 0);
}

static void check_stats(void)
{
	struct stat_rows *s;

	s = stats("program", 0);
	ck_assert_int_eq(s->n, 2);
	check_stat(&s->row[0], "api", 20, 14, 4, 2, 1000, 1900, 2000, 10.0, 20000);
	check_stat(&s->row[1], "worker", 2, 1, 1, 0, 0, 700, 700, 2.0, 64);
	/* Runs that ended at or after since: api 15..20 (1500..2000 ms). */
	s = stats("program", T + 150000);
	ck_assert_int_eq(s->n, 1);
	check_stat(&s->row[0], "api", 6, 0, 4, 2, 1700, 2000, 2000, 3.0, 20000);

	s = stats("type", 0);
	ck_assert_int_eq(s->n, 2);
	check_stat(&s->row[0], "build", 10, 7, 2, 1, 50, 100, 100, 2.5, 1000);
	check_stat(&s->row[1], "lint", 4, 3, 1, 0, 1, 5, 5, 0.375, 70);
	s = stats(NULL, 0); /* by type */
	ck_assert_int_eq(s->n, 2);
	ck_assert_str_eq(s->row[0].key, "build");

	s = stats("pool", 0);
	ck_assert_int_eq(s->n, 2);
	/* 1, 3, 5, 10, 20, ... 100: the 7th is 40, the 13th 100 */
	check_stat(&s->row[0], "ci", 13, 10, 2, 1, 40, 100, 100, 2.875, 1000);
	check_stat(&s->row[1], "other", 1, 0, 1, 0, 0, 0, 0, 0, -1);
	s = stats("pool", T + 9000);
	ck_assert_int_eq(s->n, 1);
	check_stat(&s->row[0], "ci", 2, 0, 1, 1, 90, 100, 100, 0.5, 1000);
}

/* _i: 0 = committed, 1 = still queued */
START_TEST(stats_exact)
{
	struct vigil_stats_query bad = {.size = sizeof(bad), .by = "host"};
	struct stat_rows s;

	store_open("flush_interval", "1h", NULL);
	seed_stats();
	if (_i == 0)
		ck_assert_int_eq(ops->flush(state), 0);
	check_stats();
	ck_assert_int_eq(ops->stats_query(state, &bad, collect_stat, &s), -EINVAL);
	bad.size = 4;
	bad.by = "type";
	ck_assert_int_eq(ops->stats_query(state, &bad, collect_stat, &s), -EINVAL);
	store_close();
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Alerts, violations, metrics, retention */

static void alert(uint32_t type, const char *subject, const char *id, int64_t at)
{
	struct vigil_ev_alert e = {
	    .hdr = {.type = type, .size = sizeof(e)},
	    .alert = id,
	    .severity = "critical",
	    .message = "memory above 90%",
	};

	deliver(&e.hdr, subject, T + at);
}

static void sample(const char *subject, int64_t at, double cpu, int64_t rss)
{
	struct vigil_ev_metrics_sample e = {
	    .hdr = {.type = VIGIL_EV_METRICS_SAMPLE, .size = sizeof(e)},
	    .pid = 10,
	    .cpu_pct = cpu,
	    .rss_bytes = rss,
	    .vms_bytes = rss * 2,
	    .threads = 3,
	    .fds = 7,
	    .read_bytes = at,
	    .write_bytes = 2 * at,
	    .tree_procs = 2,
	    .tree_cpu_pct = cpu * 2,
	    .tree_rss_bytes = rss * 3,
	};

	deliver(&e.hdr, subject, T + at);
}

START_TEST(alerts_violations_metrics)
{
	struct vigil_ev_limit_violated v = {
	    .hdr = {.type = VIGIL_EV_LIMIT_VIOLATED, .size = sizeof(v)},
	    .limit = "memory",
	    .value = 300e6,
	    .max = 256e6,
	    .action = "restart",
	    .count = 2,
	};

	store_open(NULL, NULL);
	alert(VIGIL_EV_ALERT_RAISED, "web", "memory-high", 1000);
	alert(VIGIL_EV_ALERT_RAISED, "db", "memory-high", 1500);
	alert(VIGIL_EV_ALERT_CLEARED, "web", "memory-high", 4000);
	alert(VIGIL_EV_ALERT_CLEARED, "api", "cpu-high", 5000); /* its raise was never seen */
	deliver(&v.hdr, "web", T + 2000);
	/* T is 20 s into its minute: 0..39 s fall in one minute, 40 s in the next */
	sample("web", 0, 10, 100);
	sample("web", 1000, 30, 300);
	sample("web", 39000, 20, 200);
	sample("web", 40000, 50, 50);
	sample("db", 1000, 1, 1);
	ck_assert_int_eq(ops->flush(state), 0);
	store_close();
	ck_assert_str_eq(sql_rows(db_path, "SELECT subject, alert, severity, message,"
	                                   " raised_at_ms - 1700000000000,"
	                                   " ifnull(cleared_at_ms - 1700000000000, 'N')"
	                                   " FROM alerts ORDER BY id"),
	                 "web,memory-high,critical,memory above 90%,1000,4000 | "
	                 "db,memory-high,critical,memory above 90%,1500,N | "
	                 "api,cpu-high,critical,memory above 90%,5000,5000");
	ck_assert_str_eq(sql_rows(db_path, "SELECT subject, limit_name, value, max, action, count,"
	                                   " at_ms - 1700000000000 FROM violations"),
	                 "web,memory,300000000.0,256000000.0,restart,2,2000");
	ck_assert_str_eq(
	    sql_rows(db_path, "SELECT name, minute_ms % 60000, (minute_ms - 1699999980000) / 60000,"
	                      " samples, cpu_pct_sum, cpu_pct_max, rss_bytes_max, rss_bytes_last,"
	                      " vms_bytes_max, threads_max, fds_max, read_bytes, write_bytes,"
	                      " tree_procs_max, tree_cpu_pct_max, tree_rss_bytes_max"
	                      " FROM metrics ORDER BY name, minute_ms"),
	    "db,0,0,1,1.0,1.0,1,1,2,3,7,1000,2000,2,2.0,3 | "
	    "web,0,0,3,60.0,30.0,300,200,600,3,7,39000,78000,2,60.0,900 | "
	    "web,0,1,1,50.0,50.0,50,50,100,3,7,40000,80000,2,100.0,150");
}
END_TEST

START_TEST(retention_prunes_every_history_table)
{
	char sql[2048];
	long long now = (long long)time(NULL) * 1000, old = now - 10LL * 86400000,
	          fresh = now - 1000;

	store_open(NULL, NULL);
	store_close();
	snprintf(
	    sql, sizeof(sql),
	    "INSERT INTO runs(name, pid, started_at_ms, ended_at_ms) VALUES"
	    " ('old', 1, %lld, %lld), ('open', 2, %lld, NULL), ('new', 3, %lld, %lld);"
	    "INSERT INTO tasks(id, state, submitted_at_ms, ended_at_ms) VALUES"
	    " ('t-old', 'failed', %lld, %lld), ('t-queued', 'queued', %lld, NULL),"
	    " ('t-new', 'succeeded', %lld, %lld);"
	    "INSERT INTO alerts(alert, raised_at_ms, cleared_at_ms) VALUES"
	    " ('a-old', %lld, %lld), ('a-open', %lld, NULL), ('a-new', %lld, %lld);"
	    "INSERT INTO violations(limit_name, at_ms) VALUES ('cpu', %lld), ('cpu', %lld);"
	    "INSERT INTO metrics(name, minute_ms, samples) VALUES ('w', %lld, 1), ('w', %lld, 1);",
	    old, old, old, fresh, fresh, old, old, old, fresh, fresh, old, old, old, fresh, fresh,
	    old, fresh, old, fresh);
	sql_exec(db_path, sql);
	store_open("retention", "7d", NULL);
	ck_assert_int_eq(ops->flush(state), 0);
	store_close();
	ck_assert_int_eq(logs_matching("pruned 1 runs, 1 tasks, 1 alerts, 1 violations and 1 "
	                               "metric rows older than the retention"),
	                 1);
	ck_assert_str_eq(
	    sql_rows(db_path, "SELECT group_concat(name) FROM (SELECT name FROM runs ORDER BY id)"),
	    "open,new");
	ck_assert_str_eq(
	    sql_rows(db_path, "SELECT group_concat(id) FROM (SELECT id FROM tasks ORDER BY id)"),
	    "t-new,t-queued");
	ck_assert_str_eq(
	    sql_rows(db_path,
	             "SELECT group_concat(alert) FROM (SELECT alert FROM alerts ORDER BY id)"),
	    "a-open,a-new");
	ck_assert_str_eq(sql_rows(db_path, "SELECT count(*) FROM violations"), "1");
	ck_assert_str_eq(sql_rows(db_path, "SELECT count(*) FROM metrics"), "1");
}
END_TEST

/* ------------------------------------------------------------------------------------------
 * Migration from schema version 1 (the tables as the first release created them) */

static const char schema_v1[] =
    "PRAGMA journal_mode = WAL;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value);"
    "INSERT INTO meta VALUES('schema_version', 1);"
    "CREATE TABLE registry ("
    " name TEXT PRIMARY KEY NOT NULL, program TEXT, pid INTEGER NOT NULL,"
    " pgid INTEGER NOT NULL, start_ticks INTEGER NOT NULL, boot_id TEXT,"
    " started_at_ms INTEGER NOT NULL, state TEXT NOT NULL, restarts INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY, name TEXT NOT NULL, program TEXT, pid INTEGER NOT NULL,"
    " started_at_ms INTEGER NOT NULL, ended_at_ms INTEGER, exit_code INTEGER,"
    " signal INTEGER, reason TEXT, error TEXT, cpu_s REAL, peak_rss_bytes INTEGER);"
    "CREATE INDEX runs_name_started ON runs(name, started_at_ms);"
    "CREATE INDEX runs_ended ON runs(ended_at_ms);"
    "INSERT INTO registry VALUES('web.0', 'web', 4242, 4242, 99, 'boot', 1700000000000,"
    " 'running', 3, 1700000000000);"
    "INSERT INTO runs(name, program, pid, started_at_ms, ended_at_ms, exit_code, signal,"
    " reason) VALUES"
    " ('web.0', 'web', 1, 1700000000000, 1700000001000, 0, NULL, 'exited'),"
    " ('web.0', 'web', 2, 1700000002000, 1700000003000, 3, NULL, 'exited'),"
    " ('web.0', 'web', 3, 1700000004000, 1700000005000, NULL, 15, 'stopped'),"
    " ('web.0', 'web', 4, 1700000006000, 1700000007000, NULL, 9, 'killed'),"
    " ('web.0', 'web', 4242, 1700000008000, NULL, NULL, NULL, NULL);";

static int count_entries(const struct vigil_registry_entry *e, void *arg)
{
	ck_assert_str_eq(e->name, "web.0");
	ck_assert_int_eq(e->pid, 4242);
	(*(int *)arg)++;
	return 0;
}

START_TEST(migration_from_version_1)
{
	struct vigil_history_query q = hq();
	struct stat_rows *s;
	int entries = 0;

	sql_exec(db_path, schema_v1);
	store_open(NULL, NULL);
	ck_assert_int_eq(logs_matching("schema version 1 -> 3"), 1);
	ck_assert_int_eq(ops->registry_load(state, count_entries, &entries), 0);
	ck_assert_int_eq(entries, 1);
	/* The old runs answer queries: "expected" was derived from how they ended. */
	ck_assert_str_eq(labels(q), "web.0/4242 web.0/4 web.0/3 web.0/2 web.0/1");
	q.state = "running";
	ck_assert_str_eq(labels(q), "web.0/4242");
	s = stats("program", 0);
	ck_assert_int_eq(s->n, 1);
	check_stat(&s->row[0], "web", 4, 2, 2, 0, 1000, 1000, 1000, 0, -1);
	/* New history goes on in the migrated file. */
	exited("web.0", "web", 4242, 9000, 0, 0, 1, "exited", 1000, 0.5, 10);
	queued("t-9", "job", "build", "default", VIGIL_PRIO_NORMAL, 9500);
	ck_assert_int_eq(ops->flush(state), 0);
	store_close();
	ck_assert_str_eq(sql_rows(db_path, "SELECT value FROM meta WHERE key='schema_version'"),
	                 "3");
	ck_assert_str_eq(sql_rows(db_path, "SELECT pid, ifnull(expected, 'N'), ifnull(priority,"
	                                   " 'N') FROM runs ORDER BY id"),
	                 "1,1,N | 2,0,N | 3,1,N | 4,0,N | 4242,1,high");
	ck_assert_str_eq(sql_rows(db_path, "SELECT id, state FROM tasks"), "t-9,queued");
	ck_assert_str_eq(sql_rows(db_path, "SELECT count(*) FROM sqlite_master WHERE name IN"
	                                   " ('alerts', 'violations', 'metrics', 'runs_started',"
	                                   " 'tasks_submitted')"),
	                 "5");
}
END_TEST

static Suite *queries_suite(void)
{
	Suite *s = suite_create("store_queries");
	TCase *tc = tcase_create("queries");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, history_filters_exact, 0, 3);
	tcase_add_test(tc, history_callback_stops);
	tcase_add_test(tc, tables_from_events);
	tcase_add_test(tc, task_without_queued_event);
	tcase_add_loop_test(tc, stats_exact, 0, 2);
	tcase_add_test(tc, alerts_violations_metrics);
	tcase_add_test(tc, retention_prunes_every_history_table);
	tcase_add_test(tc, migration_from_version_1);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queries_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* storebench.c — store_sqlite.so costs: registry writes, metric samples, queries over 100k rows. */
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

/* Usage: storebench PLUGIN_DIR [RUNS TASKS]  (default 50000 runs + 50000 tasks = 100 000 rows)
 *
 * The plugin is driven through the fake host of <vigil/testing.h> (no daemon), on a database
 * in a fresh directory under $TMPDIR (kept when STOREBENCH_KEEP is set). Times are wall-clock on
 * this thread (the "loop") and, for commits, what the writer thread logs per transaction. */

#define INSTANCES 100

static struct vigil_fake_host fh;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static long commits, committed;
static double commit_ms;
static char dir[256];
static struct vigil_proc_info procs[INSTANCES];
static char names[INSTANCES][16], programs[INSTANCES][16];
static const char *const tag_sets[3][3] = {
    {"web", "public", NULL}, {"batch", NULL, NULL}, {"storage", NULL, NULL}};

static void bench_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt, ...)
    VIGIL_PRINTF(3, 4);

/* Called by the writer thread too: counts the commits it reports, prints warnings. */
static void bench_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	long n;
	double ms;

	(void)self;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_mu);
	if (sscanf(line, "committed %ld records in one transaction (%lf ms)", &n, &ms) == 2) {
		commits++;
		committed += n;
		commit_ms += ms;
	} else if (level >= VIGIL_LOG_WARN) {
		fprintf(stderr, "store: %s\n", line);
	}
	pthread_mutex_unlock(&log_mu);
}

static void commit_reset(void)
{
	pthread_mutex_lock(&log_mu);
	commits = committed = 0;
	commit_ms = 0;
	pthread_mutex_unlock(&log_mu);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n samples (sorted in place). */
static double pct(double *v, int n, int p)
{
	int rank = (n * p + 99) / 100;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[rank < 1 ? 0 : rank - 1];
}

static const struct vigil_plugin *desc;
static const struct vigil_store_ops *ops;
static void *st;

static void open_store(const char *plugin_dir, const char *flush_interval)
{
	char path[1024];
	void *lib;
	vigil_plugin_entry_fn entry;
	void *sym;

	if (!desc) {
		snprintf(path, sizeof(path), "%s/store_sqlite.so", plugin_dir);
		lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			fprintf(stderr, "storebench: dlopen %s: %s\n", path, dlerror());
			exit(1);
		}
		sym = dlsym(lib, VIGIL_PLUGIN_ENTRY_SYMBOL);
		memcpy(&entry, &sym, sizeof(sym));
		desc = entry();
		ops = desc->ops;
	}
	vigil_fake_cfg_clear(&fh);
	fh.keys = desc->keys;
	vigil_fake_cfg_set(&fh, "retention", "0");
	vigil_fake_cfg_set(&fh, "flush_interval", flush_interval);
	if (vigil_fake_instantiate(&fh, desc, &st) < 0 || desc->start(st) < 0) {
		fprintf(stderr, "storebench: the store did not start\n");
		exit(1);
	}
}

static void close_store(void)
{
	desc->stop(st);
	desc->fini(st);
}

static void deliver(struct vigil_event *ev, const char *subject, int64_t at_ms)
{
	ev->subject = subject;
	fh.wall_base_ms = at_ms - (int64_t)fh.now_ms;
	vigil_fake_deliver(&fh, ev);
}

static void run_events(int i, int64_t start, int64_t end)
{
	static const char *const reasons[] = {"exited", "killed", "start-timeout", "spawn-failed"};
	int inst = i % INSTANCES, r = i % 100 < 90 ? 0 : i % 100 < 95 ? 1 : i % 100 < 96 ? 2 : 3;
	struct vigil_ev_process_running run = {
	    .hdr = {.type = VIGIL_EV_PROCESS_RUNNING, .size = sizeof(run)},
	    .program = programs[inst],
	    .pid = 10000 + i,
	};
	struct vigil_ev_process_exited ex = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof(ex)},
	    .program = programs[inst],
	    .pid = r == 3 ? 0 : 10000 + i,
	    .exit_code = r == 0 ? i % 7 == 0 : -1,
	    .signal = r == 1 ? 9 : 0,
	    .status_known = 1,
	    .expected = r == 0 && i % 7 != 0,
	    .runtime_ms = r == 3 ? 0 : end - start,
	    .reason = reasons[r],
	    .cpu_s = (double)(i % 50) / 10,
	    .peak_rss_bytes = (int64_t)(i % 1000) * 4096,
	};

	if (r != 3)
		deliver(&run.hdr, names[inst], start);
	deliver(&ex.hdr, names[inst], end);
}

static void task_events(int i, int64_t submitted, int64_t end)
{
	static const char *const types[] = {"build", "test", "deploy", "lint"};
	char id[32], name[32];
	const char *type = i % 100 == 0 ? "audit" : types[i % 4];
	struct vigil_ev_task_queued q = {
	    .hdr = {.type = VIGIL_EV_TASK_QUEUED, .size = sizeof(q)},
	    .pool = i % 3 ? "default" : "gpu",
	    .name = name,
	    .type = type,
	    .priority = (enum vigil_priority)(i % 4),
	};
	struct vigil_ev_task_finished f = {
	    .hdr = {.type = VIGIL_EV_TASK_FINISHED, .size = sizeof(f)},
	    .pool = q.pool,
	    .name = name,
	    .type = type,
	    .state = i % 10 ? VIGIL_TASK_SUCCEEDED : VIGIL_TASK_FAILED,
	    .exit_code = i % 10 ? 0 : 1,
	    .duration_ms = end - submitted - 50,
	    .cpu_s = 0.5,
	    .peak_rss_bytes = 1 << 20,
	    .priority = q.priority,
	    .attempts = 1,
	    .submitted_at_ms = submitted,
	    .started_at_ms = submitted + 50,
	};

	snprintf(id, sizeof(id), "b-%d", i);
	snprintf(name, sizeof(name), "job%d", i % 500);
	deliver(&q.hdr, id, submitted);
	deliver(&f.hdr, id, end);
}

static int count_row(const struct vigil_history_row *r, void *arg)
{
	(void)r;
	(*(long *)arg)++;
	return 0;
}

static int count_stat(const struct vigil_stats_row *r, void *arg)
{
	(void)r;
	(*(long *)arg)++;
	return 0;
}

#define REPS 30

/* Runs q REPS times: prints p50/p95 latency and the rows of the last run. */
static void time_query(const char *what, struct vigil_history_query q)
{
	double t[REPS];
	long rows = 0;

	for (int i = 0; i < REPS; i++) {
		double t0 = now_us();

		rows = 0;
		if (ops->history_query(st, &q, count_row, &rows) != 0) {
			fprintf(stderr, "storebench: history_query failed\n");
			exit(1);
		}
		t[i] = now_us() - t0;
	}
	printf("  %-58s %6ld rows  p50 %8.3f ms  p95 %8.3f ms\n", what, rows,
	       pct(t, REPS, 50) / 1e3, pct(t, REPS, 95) / 1e3);
}

static void time_stats(const char *by)
{
	struct vigil_stats_query q = {.size = sizeof(q), .by = by};
	double t[REPS];
	long rows = 0;
	char what[64];

	for (int i = 0; i < REPS; i++) {
		double t0 = now_us();

		rows = 0;
		if (ops->stats_query(st, &q, count_stat, &rows) != 0) {
			fprintf(stderr, "storebench: stats_query failed\n");
			exit(1);
		}
		t[i] = now_us() - t0;
	}
	snprintf(what, sizeof(what), "stats --by %s", by);
	printf("  %-58s %6ld rows  p50 %8.3f ms  p95 %8.3f ms\n", what, rows,
	       pct(t, REPS, 50) / 1e3, pct(t, REPS, 95) / 1e3);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void registry_writes(const char *plugin_dir)
{
	const int n = 20000, solo = 500;
	double t0, loop_us, rt[500];
	struct vigil_registry_entry e = {
	    .size = sizeof(e),
	    .program = "svc",
	    .pgid = 1,
	    .boot_id = "boot",
	    .state = VIGIL_PROC_RUNNING,
	};

	open_store(plugin_dir, "200ms");
	commit_reset();
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		e.name = names[i % INSTANCES];
		e.pid = i;
		e.state = (enum vigil_proc_state)(i % 3);
		ops->registry_put(st, &e);
	}
	loop_us = (now_us() - t0) / n;
	ops->flush(st);
	pthread_mutex_lock(&log_mu);
	printf("registry write per process state change (%d registry_put, 100 instances):\n", n);
	printf("  loop thread (queue the record)       %8.2f us per put\n", loop_us);
	printf("  writer thread (commit)               %8.2f us per record, %ld transactions of"
	       " ~%ld records, %.2f ms each\n",
	       commit_ms * 1e3 / (double)committed, commits, committed / commits,
	       commit_ms / (double)commits);
	pthread_mutex_unlock(&log_mu);
	for (int i = 0; i < solo; i++) {
		t0 = now_us();
		e.pid = i;
		ops->registry_put(st, &e);
		ops->flush(st);
		rt[i] = now_us() - t0;
	}
	printf("  one put committed alone (put+flush)  p50 %.3f ms  p95 %.3f ms\n",
	       pct(rt, solo, 50) / 1e3, pct(rt, solo, 95) / 1e3);
	close_store();
}

static void metric_samples(const char *plugin_dir)
{
	const int ticks = 600;
	double t0, loop_us;
	int64_t base = 1700000000000LL;
	struct vigil_ev_metrics_sample m = {
	    .hdr = {.type = VIGIL_EV_METRICS_SAMPLE, .size = sizeof(m)},
	    .cpu_pct = 12.5,
	    .rss_bytes = 1 << 24,
	    .vms_bytes = 1 << 26,
	    .threads = 4,
	    .fds = 12,
	};
	double sum = 0;

	open_store(plugin_dir, "200ms");
	commit_reset();
	/* One sampling round = one sample per instance; ticks rounds, one per second. */
	for (int t = 0; t < ticks; t++) {
		t0 = now_us();
		for (int i = 0; i < INSTANCES; i++) {
			m.rss_bytes = (1 << 24) + t * 4096 + i;
			deliver(&m.hdr, names[i], base + (int64_t)t * 1000);
		}
		sum += now_us() - t0;
	}
	loop_us = sum / (ticks * INSTANCES);
	ops->flush(st);
	pthread_mutex_lock(&log_mu);
	printf("metric samples (%d rounds of one metrics.sample per instance, %d instances,"
	       " folded to one row per instance and minute):\n",
	       ticks, INSTANCES);
	printf("  loop thread (queue the record)       %8.2f us per sample, %.1f us per round"
	       " of %d\n",
	       loop_us, loop_us * INSTANCES, INSTANCES);
	printf("  writer thread (upsert)               %8.2f us per sample, %.1f us per round\n",
	       commit_ms * 1e3 / (double)committed,
	       commit_ms * 1e3 / (double)committed * INSTANCES);
	pthread_mutex_unlock(&log_mu);
	close_store();
}

static void queries(const char *plugin_dir, int nruns, int ntasks, const char *db)
{
	struct vigil_history_query q = {.size = sizeof(q)};
	int64_t now = 1700000000000LL, span = 6LL * 86400 * 1000;
	double t0, seed_s, t[REPS];
	sqlite3 *h;
	sqlite3_stmt *s;
	long long rows = 0;

	open_store(plugin_dir, "200ms");
	t0 = now_us();
	/* Interleaved in time order: run i and task i start at the same spot of the span. */
	for (int i = 0; i < (nruns > ntasks ? nruns : ntasks); i++) {
		int64_t at = now - span + span * i / (nruns > ntasks ? nruns : ntasks);

		if (i < nruns)
			run_events(i, at, at + 1000 + (i % 60) * 1000);
		if (i < ntasks)
			task_events(i, at, at + 200 + (i % 30) * 100);
		/* Seeding outpaces any writer: keep the queue below its bound (100 000). */
		if (i % 5000 == 4999)
			ops->flush(st);
	}
	ops->flush(st);
	seed_s = (now_us() - t0) / 1e6;
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h,
	                       "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM tasks)",
	                       -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			rows = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	printf("history: %lld rows (%d runs, %d tasks) seeded through events in %.2f s\n", rows,
	       nruns, ntasks, seed_s);
	printf("history_query on the loop thread, everything committed (%d repetitions):\n", REPS);
	q.limit = 1000;
	time_query("ps --history (newest 1000, no filter)", q);
	q.kind = "program";
	time_query("ps --history --kind program (newest 1000)", q);
	q = (struct vigil_history_query){.size = sizeof(q), .limit = 1000, .name = "svc-7"};
	time_query("selective: --name svc-7 (one instance of 100)", q);
	q = (struct vigil_history_query){.size = sizeof(q), .limit = 1000, .type = "audit"};
	time_query("selective: --type audit (1% of tasks)", q);
	q = (struct vigil_history_query){
	    .size = sizeof(q), .limit = 1000, .state = "start-timeout"};
	time_query("selective: --state start-timeout (1% of runs)", q);
	q = (struct vigil_history_query){.size = sizeof(q), .limit = 1000, .tag = "storage"};
	time_query("selective: --tag storage (1/3 of instances)", q);
	q = (struct vigil_history_query){
	    .size = sizeof(q), .limit = 1000, .since_ms = now - 3600 * 1000};
	time_query("selective: --since 1h (the last hour of 6 days)", q);
	q = (struct vigil_history_query){.size = sizeof(q), .limit = 1000, .state = "running"};
	time_query("--state running (open runs: none)", q);
	time_stats("program");
	time_stats("type");
	time_stats("pool");
	close_store();

	/* With records still queued: the query applies them to its TEMP copy. */
	open_store(plugin_dir, "1h");
	for (int i = 0; i < 200; i++)
		run_events(nruns + i, now + i * 10, now + i * 10 + 5);
	printf("history_query with 200 process events (100 runs) queued, not committed:\n");
	q = (struct vigil_history_query){.size = sizeof(q), .limit = 1000};
	time_query("ps --history (newest 1000), overlay of the queue", q);
	q.name = "svc-7";
	time_query("selective: --name svc-7, overlay of the queue", q);
	/* The alternative: commit synchronously, then query. */
	for (int i = 0; i < REPS; i++) {
		for (int k = 0; k < 100; k++)
			run_events(nruns + 200 + i * 100 + k, now + 10000 + i * 1000 + k,
			           now + 10000 + i * 1000 + k + 1);
		t0 = now_us();
		ops->flush(st);
		t[i] = now_us() - t0;
	}
	printf("  %-58s %6s       p50 %8.3f ms  p95 %8.3f ms\n",
	       "alternative: flush() of 200 queued events before a query", "",
	       pct(t, REPS, 50) / 1e3, pct(t, REPS, 95) / 1e3);
	close_store();
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	int nruns = argc > 3 ? atoi(argv[2]) : 50000, ntasks = argc > 3 ? atoi(argv[3]) : 50000;
	char db[600];

	if (argc < 2) {
		fprintf(stderr, "usage: storebench PLUGIN_DIR [RUNS TASKS]\n");
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/vigil-storebench-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	vigil_fake_host_init(&fh);
	fh.kind = "store";
	fh.instance = "sqlite";
	fh.state_dir = dir;
	fh.host.log = bench_log;
	for (int i = 0; i < INSTANCES; i++) {
		snprintf(names[i], sizeof(names[i]), "svc-%d", i);
		snprintf(programs[i], sizeof(programs[i]), "prog%d", i / 10);
		procs[i] = (struct vigil_proc_info){
		    .size = sizeof(procs[i]),
		    .name = names[i],
		    .program = programs[i],
		    .priority = (enum vigil_priority)(i % 4),
		    .tags = tag_sets[i % 3],
		};
	}
	fh.procs = procs;
	fh.nprocs = INSTANCES;
	printf("store_sqlite bench: sqlite %s, database in %s\n", sqlite3_libversion(), dir);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	registry_writes(argv[1]);
	metric_samples(argv[1]);
	queries(argv[1], nruns, ntasks, db);
	vigil_fake_host_fini(&fh);
	if (getenv("STOREBENCH_KEEP"))
		printf("kept %s\n", db);
	else
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

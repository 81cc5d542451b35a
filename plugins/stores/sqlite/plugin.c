/* plugin.c — store_sqlite: descriptor, lifecycle and store ops. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sq.h"

static const struct vigil_config_key sq_keys[] = {
    {"path", VIGIL_KEY_PATH, "${state_dir}/registry.db", 0,
     "SQLite database holding the PID registry and the run history", NULL},
    {"retention", VIGIL_KEY_DURATION, "7d", 0,
     "finished runs and tasks, alerts, violations and metrics older than this are pruned "
     "(0 = keep forever)",
     NULL},
    {"flush_interval", VIGIL_KEY_DURATION, "200ms", 0,
     "how long a write may wait to be batched with others into one transaction", NULL},
    {"busy_timeout", VIGIL_KEY_DURATION, "2s", 0,
     "how long a write waits for a lock held by another process before it is retried later", NULL},
    VIGIL_KEYS_END,
};

static int sq_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct sq_store *st = calloc(1, sizeof(*st));
	pthread_condattr_t ca;

	if (!st)
		return -ENOMEM;
	st->host = host;
	st->self = self;
	st->efd = -1;
	st->flush_ms = 200;
	st->busy_ms = 2000;
	st->retention_ms = 7LL * 24 * 3600 * 1000;
	pthread_mutex_init(&st->mu, NULL);
	/* The writer sleeps until monotonic deadlines: a wall clock jump must not stall it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&st->done, NULL);
	*state = st;
	return 0;
}

static int sq_configure(void *state, const struct vigil_config *cfg)
{
	static const char var[] = "${state_dir}";
	struct sq_store *st = state;
	const struct vigil_host *h = st->host;
	const char *path = h->cfg_string(cfg, "path");
	int64_t busy = h->cfg_duration_ms(cfg, "busy_timeout");
	char *copy;

	/* The core expands ${state_dir} in values; a default it passed through verbatim, or no
	 * value at all, still means the file in the state directory. */
	if (!path || strncmp(path, var, sizeof(var) - 1) == 0) {
		const char *rest = path ? path + sizeof(var) - 1 : "/registry.db";

		if (asprintf(&copy, "%s%s", h->state_dir(), rest) < 0)
			return -ENOMEM;
	} else if (!(copy = strdup(path))) {
		return -ENOMEM;
	}
	free(st->path);
	st->path = copy;
	st->retention_ms = h->cfg_duration_ms(cfg, "retention");
	st->flush_ms = h->cfg_duration_ms(cfg, "flush_interval");
	if (st->flush_ms < 0)
		st->flush_ms = 0;
	st->busy_ms = busy < 0 ? 0 : busy > INT_MAX ? INT_MAX : (int)busy;
	return 0;
}

/* The default path when start() or registry_load() runs without configure() (no section). */
static int ensure_path(struct sq_store *st)
{
	if (st->path)
		return 0;
	if (asprintf(&st->path, "%s/registry.db", st->host->state_dir()) < 0) {
		st->path = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Opens the database on the loop thread at startup, so that a file this plugin must refuse
 * (a newer schema) stops the daemon instead of failing later. Other failures are left to the
 * writer, which retries them and reports store.failed. */
static int open_at_startup(struct sq_store *st)
{
	struct sq_err err = {0};
	int rc;

	if (st->thread_on || st->db.h)
		return 0;
	rc = sq_db_open(st, &st->db, 0, &err);
	if (rc == -EPROTO) {
		st->host->log(st->self, VIGIL_LOG_ERROR, "%s", err.msg);
		return rc;
	}
	return 0;
}

static void on_failure_signal(int fd, uint32_t events, void *arg)
{
	struct sq_store *st = arg;
	struct vigil_ev_store_failed ev = {0};
	char msg[sizeof(st->fail_msg)];
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing new. */
	}
	pthread_mutex_lock(&st->mu);
	if (st->fail_gen == st->fail_pub_gen) {
		pthread_mutex_unlock(&st->mu);
		return;
	}
	st->fail_pub_gen = st->fail_gen;
	ev.error = -st->fail_code;
	ev.pending = st->reg.n + st->hist.n + st->inflight;
	snprintf(msg, sizeof(msg), "%s", st->fail_msg);
	pthread_mutex_unlock(&st->mu);

	ev.hdr.type = VIGIL_EV_STORE_FAILED;
	ev.hdr.size = sizeof(ev);
	ev.hdr.subject = st->host->instance_name(st->self);
	ev.message = msg;
	st->host->publish(st->self, &ev.hdr);
}

static int sq_start(void *state)
{
	struct sq_store *st = state;
	struct sq_err err = {0};
	int rc;

	rc = ensure_path(st);
	if (rc < 0)
		return rc;
	rc = open_at_startup(st);
	if (rc < 0)
		return rc;
	st->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (st->efd < 0)
		return -errno;
	st->watch = st->host->watch_fd(st->self, st->efd, VIGIL_FD_IN, on_failure_signal, st);
	if (!st->watch)
		return -errno ? -errno : -ENOMEM;
	pthread_mutex_lock(&st->mu);
	if (st->fail_gen != st->fail_pub_gen) /* a failure before start() still gets published */
		eventfd_write(st->efd, 1);
	pthread_mutex_unlock(&st->mu);
	rc = sq_events_subscribe(st);
	if (rc < 0)
		return rc;
	/* The read connection for queries opens now, while the file is known to be fine; when
	 * it is not, the first query tries again. */
	if (sq_snapshot_begin(st, &err) == 0)
		sq_snapshot_end(st);
	return sq_writer_start(st);
}

/* Shutdown: write what is queued and stop the thread. Writes that still arrive (exits of the
 * processes being stopped) are queued and written synchronously by fini(). */
static void sq_stop(void *state)
{
	sq_writer_stop(state);
}

static void sq_fini(void *state)
{
	struct sq_store *st = state;
	size_t lost;

	if (!st)
		return;
	if (st->wake_timer)
		st->host->timer_cancel(st->wake_timer);
	st->wake_timer = NULL;
	sq_writer_stop(st);
	if (st->reg.n + st->hist.n && st->path)
		sq_writer_flush(st);
	lost = st->reg.n + st->hist.n;
	if (lost)
		st->host->log(
		    st->self, VIGIL_LOG_ERROR,
		    "%zu registry and history writes could not be saved to %s and are lost", lost,
		    st->path);
	sq_list_free(&st->reg);
	sq_list_free(&st->hist);
	sq_reader_close(&st->rd);
	sq_db_close(&st->db);
	if (st->sub)
		st->host->unsubscribe(st->sub);
	if (st->watch)
		st->host->unwatch(st->watch);
	if (st->efd >= 0)
		close(st->efd);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->done);
	pthread_mutex_destroy(&st->mu);
	free(st->path);
	free(st);
}

static int sq_registry_put(void *state, const struct vigil_registry_entry *e)
{
	struct sq_store *st = state;
	struct sq_rec *r;

	/* A core of ABI 1.0 without pid_ino passes a shorter entry: that is fine. */
	if (!e || e->size < offsetof(struct vigil_registry_entry, pid_ino) || !e->name)
		return -EINVAL;
	r = sq_rec_new(SQ_REC_PUT, (const char *const[SQ_NSTR]){
	                               [SQ_NAME] = e->name,
	                               [SQ_PROGRAM] = e->program,
	                               [SQ_BOOT] = e->boot_id,
	                           });
	if (!r)
		return -ENOMEM;
	r->pid = e->pid;
	r->pgid = e->pgid;
	r->start_ticks = e->start_ticks;
	if (e->size >= offsetof(struct vigil_registry_entry, pid_ino) + sizeof e->pid_ino)
		r->pid_ino = e->pid_ino;
	r->started_at_ms = e->started_at_ms;
	r->state = (int32_t)e->state;
	r->restarts = e->restarts;
	r->updated_ms = st->host->wall_ms();
	sq_enqueue(st, r);
	return 0;
}

static int sq_registry_remove(void *state, const char *name)
{
	struct sq_store *st = state;
	struct sq_rec *r;

	if (!name)
		return -EINVAL;
	r = sq_rec_new(SQ_REC_REMOVE, (const char *const[SQ_NSTR]){[SQ_NAME] = name});
	if (!r)
		return -ENOMEM;
	sq_enqueue(st, r);
	return 0;
}

static int sq_registry_load(void *state, int (*fn)(const struct vigil_registry_entry *e, void *arg),
                            void *arg)
{
	struct sq_store *st = state;
	struct sq_err err = {0};
	int rc;

	rc = ensure_path(st);
	if (rc == 0)
		rc = open_at_startup(st);
	if (rc < 0)
		return rc;
	/* Entries put before the load must be visible to it. */
	sq_writer_flush(st);
	rc = sq_db_load(st, fn, arg, &err);
	if (rc < 0)
		st->host->log(
		    st->self, VIGIL_LOG_ERROR,
		    "%s; processes left running by a previous vigild will not be recognised",
		    err.msg);
	return rc;
}

static int sq_flush(void *state)
{
	return sq_writer_flush(state);
}

static int sq_history(void *state, const struct vigil_history_query *q, vigil_history_fn fn,
                      void *arg)
{
	return sq_history_query(state, q, fn, arg);
}

static int sq_stats(void *state, const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg)
{
	return sq_stats_query(state, q, fn, arg);
}

static const struct vigil_store_ops sq_ops = {
    .size = sizeof(struct vigil_store_ops),
    .registry_put = sq_registry_put,
    .registry_remove = sq_registry_remove,
    .registry_load = sq_registry_load,
    .flush = sq_flush,
    .history_query = sq_history,
    .stats_query = sq_stats,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_STORE, .name = "sqlite", .version = VIGIL_VERSION_STRING,
                    .description = "PID registry and the history of runs, tasks, alerts and "
                                   "metrics in an SQLite database (WAL, batched by a writer "
                                   "thread)",
                    .keys = sq_keys, .init = sq_init, .configure = sq_configure, .start = sq_start,
                    .stop = sq_stop, .fini = sq_fini, .ops = &sq_ops);

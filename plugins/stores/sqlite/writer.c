/* writer.c — store_sqlite's writer thread: commits the queue in batches, retries on failure. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sq.h"

static double elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

/* Tells the loop thread a failure is waiting to be published (the writer may not publish). */
static void poke_loop(struct sq_store *st)
{
	uint64_t one = 1;

	if (st->efd >= 0 && write(st->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is already non-zero, the loop will look anyway. */
	}
}

/* A line to log once mu is released: host->log may block on its output, and the loop thread
 * takes mu to queue every write. */
struct pending_log {
	enum vigil_log_level level;
	char text[800];
};

/* Called with mu held, after an attempt that failed. */
static void note_failure(struct sq_store *st, const struct sq_err *err, struct pending_log *out)
{
	size_t pending = st->reg.n + st->hist.n;

	st->backoff_ms = st->backoff_ms ? st->backoff_ms * 2 : SQ_RETRY_MIN_MS;
	if (st->backoff_ms > SQ_RETRY_MAX_MS)
		st->backoff_ms = SQ_RETRY_MAX_MS;
	st->retry_at_ms = sq_mono_ms() + st->backoff_ms;
	st->recheck = sq_err_is_corrupt(err);
	st->fail_code = err->code;
	snprintf(st->fail_msg, sizeof(st->fail_msg), "%s", err->msg);
	if (st->failing)
		return; /* logged and published once per outage, not per retry */
	st->failing = 1;
	st->fail_since_ms = sq_mono_ms();
	st->fail_gen++;
	out->level = VIGIL_LOG_ERROR;
	snprintf(out->text, sizeof(out->text),
	         "%s; writes wait in memory (%zu so far) and are retried; supervision goes on",
	         err->msg, pending);
	poke_loop(st);
}

/* Called with mu held, after an attempt that succeeded. */
static void note_success(struct sq_store *st, size_t wrote, struct pending_log *out)
{
	double secs = (double)(sq_mono_ms() - st->fail_since_ms) / 1000.0;

	st->backoff_ms = 0;
	st->retry_at_ms = 0;
	st->recheck = 0;
	if (st->failing && st->dropped) {
		out->level = VIGIL_LOG_INFO;
		snprintf(out->text, sizeof(out->text),
		         "%s is writable again after %.1fs: wrote %zu waiting records; %llu run "
		         "history records were dropped meanwhile",
		         st->path, secs, wrote, (unsigned long long)st->dropped);
	} else if (st->failing) {
		out->level = VIGIL_LOG_INFO;
		snprintf(out->text, sizeof(out->text),
		         "%s is writable again after %.1fs: wrote %zu waiting records", st->path,
		         secs, wrote);
	} else if (st->dropped) {
		out->level = VIGIL_LOG_WARN;
		snprintf(out->text, sizeof(out->text),
		         "write queue drained; %llu run history records had been dropped",
		         (unsigned long long)st->dropped);
	}
	st->failing = 0;
	st->dropped = 0;
	st->drop_logged = 0;
}

/* One attempt: open if needed, prune if due, write the batch if asked. Called without mu, by
 * the owner of the connection (the writer thread, or the loop thread when there is none).
 * Returns 0 or the error of the attempt. */
static int attempt(struct sq_store *st, int take_batch, int prune_due)
{
	struct sq_list reg = {0}, hist = {0};
	struct sq_err err = {0};
	struct pending_log line = {VIGIL_LOG_INFO, ""};
	struct timespec t0;
	uint64_t seq = 0;
	size_t n = 0;
	int rc = 0;

	if (take_batch) {
		pthread_mutex_lock(&st->mu);
		reg = st->reg;
		hist = st->hist;
		st->reg = (struct sq_list){0};
		st->hist = (struct sq_list){0};
		st->first_ms = 0;
		n = reg.n + hist.n;
		st->inflight = n;
		/* Readers see this history through fly_hist until it is committed. */
		st->fly_hist = &hist;
		st->fly_seq = seq = ++st->batch_seq;
		pthread_mutex_unlock(&st->mu);
	}
	if (!st->db.h)
		rc = sq_db_open(st, &st->db, st->recheck, &err);
	if (rc == 0 && prune_due) {
		int64_t c[5];

		rc = sq_db_prune(st, &st->db, c, &err);
		if (rc == 0) {
			st->next_prune_ms = sq_mono_ms() + SQ_PRUNE_EVERY_MS;
			if (c[0] + c[1] + c[2] + c[3] + c[4])
				st->host->log(st->self, VIGIL_LOG_INFO,
				              "pruned %lld runs, %lld tasks, %lld alerts, %lld "
				              "violations and %lld metric rows older than the "
				              "retention from %s",
				              (long long)c[0], (long long)c[1], (long long)c[2],
				              (long long)c[3], (long long)c[4], st->path);
		}
	}
	if (rc == 0 && n) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = sq_db_write(st, &st->db, &reg, &hist, seq, &err);
		if (rc == 0)
			st->host->log(st->self, VIGIL_LOG_DEBUG,
			              "committed %zu records in one transaction (%.3f ms)", n,
			              elapsed_ms(&t0));
	}
	/* A failed connection is reopened at the next attempt: a lock, a full disk or a damaged
	 * file all start over from a clean handle (and a damaged file gets checked). */
	if (rc < 0 && st->db.h)
		sq_db_close(&st->db);

	pthread_mutex_lock(&st->mu);
	st->inflight = 0;
	st->fly_hist = NULL;
	if (rc < 0) {
		sq_queue_unshift(st, &reg, &hist);
		note_failure(st, &err, &line);
	} else {
		if (n) {
			st->batches++;
			st->written += n;
		}
		note_success(st, n, &line);
	}
	pthread_mutex_unlock(&st->mu);
	if (line.text[0])
		st->host->log(st->self, line.level, "%s", line.text);
	sq_list_free(&reg);
	sq_list_free(&hist);
	return rc;
}

static void deadline_of(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = (time_t)(ms / 1000);
	ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

static void *writer_main(void *arg)
{
	struct sq_store *st = arg;

	pthread_mutex_lock(&st->mu);
	for (;;) {
		uint64_t now = sq_mono_ms(), wake = UINT64_MAX, target = st->flush_req;
		size_t pending = st->reg.n + st->hist.n;
		int want_flush = target != st->flush_done;
		int may_retry = !st->failing || now >= st->retry_at_ms || want_flush;
		int batch_due, open_due, prune_due, rc;

		if (st->quit)
			break;
		batch_due = pending && may_retry &&
		            (want_flush || st->reg.n || pending >= SQ_BATCH_NOW ||
		             now >= st->first_ms + (uint64_t)st->flush_ms);
		open_due = !st->db.h && may_retry;
		prune_due = now >= st->next_prune_ms && (st->db.h || open_due);
		if (!batch_due && !open_due && !prune_due && !want_flush) {
			struct timespec ts;

			if (pending)
				wake = st->first_ms + (uint64_t)st->flush_ms;
			/* Failing: no attempt before the retry time, but one then even with
			 * nothing queued, so the recovery is noticed and logged. */
			if (st->failing && (!pending || st->retry_at_ms > wake))
				wake = st->retry_at_ms;
			if (st->next_prune_ms < wake)
				wake = st->next_prune_ms;
			if (wake == UINT64_MAX) {
				pthread_cond_wait(&st->wake, &st->mu);
			} else {
				deadline_of(wake, &ts);
				pthread_cond_timedwait(&st->wake, &st->mu, &ts);
			}
			continue;
		}
		pthread_mutex_unlock(&st->mu);
		rc = attempt(st, batch_due, prune_due);
		pthread_mutex_lock(&st->mu);
		if (want_flush) {
			st->flush_done = target;
			st->flush_rc = rc;
			pthread_cond_broadcast(&st->done);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int sq_writer_start(struct sq_store *st)
{
	static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	sigset_t all, old;
	int rc;

	if (st->thread_on)
		return 0;
	pthread_mutex_lock(&st->mu);
	st->quit = 0;
	pthread_mutex_unlock(&st->mu);
	/* The loop takes its signals through signalfd; the writer must never be picked to run a
	 * handler or to consume one. Faults stay deliverable. */
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&all, faults[i]);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&st->thread, NULL, writer_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	st->thread_on = 1;
	return 0;
}

int sq_writer_flush(struct sq_store *st)
{
	uint64_t target;
	int rc;

	if (!st->thread_on)
		return attempt(st, 1, 0);
	pthread_mutex_lock(&st->mu);
	target = ++st->flush_req;
	pthread_cond_signal(&st->wake);
	while (st->flush_done < target)
		pthread_cond_wait(&st->done, &st->mu);
	rc = st->flush_rc;
	pthread_mutex_unlock(&st->mu);
	return rc;
}

void sq_writer_stop(struct sq_store *st)
{
	if (!st->thread_on)
		return;
	sq_writer_flush(st);
	pthread_mutex_lock(&st->mu);
	st->quit = 1;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thread, NULL);
	st->thread_on = 0;
}

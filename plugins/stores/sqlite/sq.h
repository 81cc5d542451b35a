/* sq.h — store_sqlite internals: records, the write queue, the writer thread, the database. */
#ifndef VIGIL_STORE_SQLITE_SQ_H
#define VIGIL_STORE_SQLITE_SQ_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>
#include <vigil/sdk.h>

/* Nothing here is exported: the plugin is linked with hidden visibility and a version script
 * that keeps only vigil_plugin_entry_v1. The sq_ prefix marks the plugin's own functions. */

#define SQ_SCHEMA_VERSION 1

/* Writes are committed at once (without waiting for flush_interval) past this many records. */
#define SQ_BATCH_NOW 1000
/* History records kept in memory while the database cannot be written; past it the oldest
 * history records are dropped. Registry records are never dropped (they are compacted). */
#define SQ_QUEUE_MAX 100000
/* Retry delays of a failing database, doubling from MIN to MAX. */
#define SQ_RETRY_MIN_MS 250
#define SQ_RETRY_MAX_MS 30000
#define SQ_PRUNE_EVERY_MS (3600 * 1000)

enum sq_rec_kind {
	SQ_REC_PUT = 1,   /* registry upsert */
	SQ_REC_REMOVE,    /* registry delete */
	SQ_REC_RUN_BEGIN, /* process.running */
	SQ_REC_RUN_ADOPT, /* process.adopted */
	SQ_REC_RUN_END,   /* process.exited */
};

/* One queued write. Strings live in the same allocation, after the struct. */
struct sq_rec {
	struct sq_rec *next;
	enum sq_rec_kind kind;
	const char *name;
	const char *program;
	const char *boot_id;
	const char *reason;
	const char *error;
	int32_t pid;
	int32_t pgid;
	uint64_t start_ticks;
	int64_t started_at_ms;
	int64_t ended_at_ms;
	int64_t updated_ms;
	int64_t runtime_ms;
	int32_t state;
	uint32_t restarts;
	int status_known;
	int32_t exit_code;
	int32_t signal;
	double cpu_s;
	int64_t peak_rss_bytes;
};

struct sq_list {
	struct sq_rec *head, *tail;
	size_t n;
};

/* An error for the user: a negative errno and a sentence naming the file. */
struct sq_err {
	int code;
	int sqlite_code;
	char msg[600];    /* what failed, naming the file, and why */
	char detail[256]; /* only why */
};

/* The write connection and its prepared statements. Owned by the writer thread while it runs,
 * by the loop thread before it starts and after it is joined. */
struct sq_db {
	sqlite3 *h;
	sqlite3_stmt *put, *remove, *find_open, *close_stale, *run_insert, *run_end, *prune;
};

struct sq_store {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *path;
	int64_t retention_ms; /* 0 = keep forever */
	int64_t flush_ms;
	int busy_ms;

	/* Writer-owned (see struct sq_db). */
	struct sq_db db;
	int recheck;            /* last failure looked like corruption: verify at reopen */
	uint64_t next_prune_ms; /* monotonic */
	uint64_t retry_at_ms;   /* monotonic; 0 = no failure pending */
	uint64_t backoff_ms;

	/* Shared between the loop thread and the writer, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t wake;      /* loop → writer: records queued, flush asked, quit */
	pthread_cond_t done;      /* writer → flush(): a flush request was served */
	struct sq_list reg, hist; /* registry and history records, each FIFO */
	uint64_t first_ms;        /* monotonic time the oldest queued record arrived */
	size_t inflight;          /* records taken by the writer, not yet committed */
	uint64_t flush_req, flush_done;
	int flush_rc;
	int quit;
	int failing;
	int fail_code;
	char fail_msg[600];
	uint64_t fail_since_ms;
	uint64_t fail_gen; /* bumped at each new failure episode */
	uint64_t dropped;  /* history records dropped in this failure episode */
	int drop_logged;
	uint64_t batches; /* committed transactions */
	uint64_t written; /* records committed */

	/* Loop-thread only. */
	pthread_t thread;
	int thread_on;
	int efd; /* writer → loop: a failure to publish */
	struct vigil_watch *watch;
	struct vigil_sub *sub;
	uint64_t fail_pub_gen;
};

/* queue.c — records and the bounded queue. The caller holds st->mu for the sq_queue_* calls. */
struct sq_rec *sq_rec_new(enum sq_rec_kind kind, const char *name, const char *program,
                          const char *boot_id, const char *reason, const char *error);
void sq_list_free(struct sq_list *l);
void sq_queue_push(struct sq_store *st, struct sq_rec *r);
/* Puts a batch that failed back in front of the queue, then applies the bound. */
void sq_queue_unshift(struct sq_store *st, struct sq_list *reg, struct sq_list *hist);
uint64_t sq_mono_ms(void);

/* writer.c — the writer thread and the synchronous path used when it is not running. */
int sq_writer_start(struct sq_store *st);
/* Writes everything queued now; waits for the writer. 0 or the error of that attempt. */
int sq_writer_flush(struct sq_store *st);
/* Flushes, then joins the thread (later writes go through sq_writer_flush synchronously). */
void sq_writer_stop(struct sq_store *st);

/* db.c — everything that talks SQL. Called by whoever owns the connection. */
/* Opens (creating, migrating, and moving a corrupt file aside) the write connection. */
int sq_db_open(struct sq_store *st, struct sq_db *db, int verify, struct sq_err *err);
void sq_db_close(struct sq_db *db);
/* Applies both lists in one transaction. */
int sq_db_write(struct sq_store *st, struct sq_db *db, const struct sq_list *reg,
                const struct sq_list *hist, struct sq_err *err);
/* Deletes runs that ended before now - retention. */
int sq_db_prune(struct sq_store *st, struct sq_db *db, int64_t *deleted, struct sq_err *err);
/* Reads the registry through a read-only connection of its own. */
int sq_db_load(struct sq_store *st, int (*fn)(const struct vigil_registry_entry *e, void *arg),
               void *arg, struct sq_err *err);
/* 1 when the error means the file itself is damaged. */
int sq_err_is_corrupt(const struct sq_err *err);

#endif

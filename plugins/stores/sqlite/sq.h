/* sq.h — store_sqlite internals: records, the write queue, the writer thread, the database. */
#ifndef VIGIL_STORE_SQLITE_SQ_H
#define VIGIL_STORE_SQLITE_SQ_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>
#include <vigil/sdk.h>

/* Nothing here is exported: the plugin is linked with hidden visibility and a version script
 * that keeps only vigil_plugin_entry_v1. The sq_ prefix marks the plugin's own functions. */

#define SQ_SCHEMA_VERSION 3

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
	SQ_REC_TASK_QUEUED,
	SQ_REC_TASK_STARTED,
	SQ_REC_TASK_FINISHED,
	SQ_REC_ALERT_RAISED,
	SQ_REC_ALERT_CLEARED,
	SQ_REC_VIOLATION, /* limit.violated */
	SQ_REC_METRIC,    /* metrics.sample, folded into its minute by the writer */
};

/* The strings of a record, by role. Kinds reuse the slots as noted. */
enum sq_str {
	SQ_NAME,    /* instance; task id; subject of an alert, violation or sample */
	SQ_PROGRAM, /* program; task pool */
	SQ_BOOT,    /* registry boot id */
	SQ_REASON,  /* how a run ended; alert id; violated limit */
	SQ_ERROR,   /* spawn/task error; alert message */
	SQ_TAGS,    /* comma-joined tags of a run */
	SQ_TYPE,    /* task type; alert severity; violation action */
	SQ_TASK,    /* task name */
	SQ_COMMAND, /* task command line */
	SQ_NSTR
};

/* A metrics.sample. */
struct sq_metric {
	double cpu_pct, tree_cpu_pct;
	int64_t rss_bytes, vms_bytes, read_bytes, write_bytes, tree_rss_bytes;
	int32_t threads, fds, tree_procs;
};

/* One queued write. Strings live in the same allocation, after the struct. */
struct sq_rec {
	struct sq_rec *next;
	enum sq_rec_kind kind;
	const char *s[SQ_NSTR];
	int32_t pid;
	int32_t pgid;
	uint64_t start_ticks;
	uint64_t pid_ino;
	int64_t started_at_ms;
	int64_t ended_at_ms; /* also the time of an alert, violation or sample */
	int64_t updated_ms;
	int64_t runtime_ms; /* also a task's duration */
	int64_t submitted_at_ms;
	int32_t state;     /* registry: enum vigil_proc_state; task: enum vigil_task_state */
	uint32_t restarts; /* also a task's attempts, a violation's count */
	int status_known;
	int32_t expected; /* -1 unknown */
	int32_t priority; /* enum vigil_priority, -1 unknown */
	int32_t exit_code;
	int32_t signal;
	double cpu_s;
	int64_t peak_rss_bytes;
	double value, max; /* limit.violated */
	struct sq_metric m;
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

/* The statements that apply history records. The writer prepares them on the file; the reader
 * prepares the same SQL on its own connection, where TEMP tables named runs and tasks shadow
 * the file's, to apply what is still queued to a private copy (see query.c). */
struct sq_hist_stmts {
	sqlite3_stmt *find_open, *close_stale, *run_insert, *run_end;
	sqlite3_stmt *task_queued, *task_started, *task_finished;
};

/* The write connection and its prepared statements. Owned by the writer thread while it runs,
 * by the loop thread before it starts and after it is joined. */
struct sq_db {
	sqlite3 *h;
	struct sq_hist_stmts hs;
	sqlite3_stmt *put, *remove, *alert_raise, *alert_clear, *violation, *metric, *seq;
	sqlite3_stmt *prune[5];
};

/* The read connection (loop thread only): history and statistics queries. */
struct sq_reader {
	sqlite3 *h;
	struct sq_hist_stmts hs;
	sqlite3_stmt *seq, *copy_runs, *copy_task, *max_id;
	uint64_t file_gen; /* st->file_gen it was opened at */
	int64_t next_id;   /* id of the next run added to the private copy */
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
	struct vigil_timer *wake_timer; /* loop thread only: a wake-up due after this turn */
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
	/* The batch the writer is committing: its history is invisible to readers until the
	 * commit, which also stores fly_seq as meta 'batch_seq'. */
	const struct sq_list *fly_hist;
	uint64_t fly_seq;
	uint64_t batch_seq; /* last sequence number handed out */
	uint64_t file_gen;  /* bumped when the file is moved aside and created anew */

	/* Loop-thread only. */
	pthread_t thread;
	int thread_on;
	int efd; /* writer → loop: a failure to publish */
	struct vigil_watch *watch;
	struct vigil_sub *sub;
	uint64_t fail_pub_gen;
	struct sq_reader rd;
};

/* queue.c — records and the bounded queue. The caller holds st->mu for the sq_queue_* calls. */
/* A record of kind with the strings str[SQ_NSTR] (NULL entries, or str NULL, for none). */
struct sq_rec *sq_rec_new(enum sq_rec_kind kind, const char *const *str);
void sq_list_free(struct sq_list *l);
/* Queues r; 1 when the writer should be woken for it (sq_enqueue does that). */
int sq_queue_push(struct sq_store *st, struct sq_rec *r);
/* Puts a batch that failed back in front of the queue, then applies the bound. */
void sq_queue_unshift(struct sq_store *st, struct sq_list *reg, struct sq_list *hist);
uint64_t sq_mono_ms(void);

/* events.c — the bus side: process, task, alert, violation and metric events to records. */
int sq_events_subscribe(struct sq_store *st);
void sq_enqueue(struct sq_store *st, struct sq_rec *r);

/* writer.c — the writer thread and the synchronous path used when it is not running. */
int sq_writer_start(struct sq_store *st);
/* Writes everything queued now; waits for the writer. 0 or the error of that attempt. */
int sq_writer_flush(struct sq_store *st);
/* Flushes, then joins the thread (later writes go through sq_writer_flush synchronously). */
void sq_writer_stop(struct sq_store *st);

/* db.c — opening the file: schema, migrations, damaged files, the registry at startup. */
/* Opens (creating, migrating, and moving a corrupt file aside) the write connection. */
int sq_db_open(struct sq_store *st, struct sq_db *db, int verify, struct sq_err *err);
void sq_db_close(struct sq_db *db);
/* Reads the registry through a read-only connection of its own. */
int sq_db_load(struct sq_store *st, int (*fn)(const struct vigil_registry_entry *e, void *arg),
               void *arg, struct sq_err *err);
/* 1 when the error means the file itself is damaged. */
int sq_err_is_corrupt(const struct sq_err *err);
/* Fills err from an SQLite result code (context formatted, then SQLite's words). */
int sq_fail(struct sq_err *err, sqlite3 *h, int rc, const char *fmt, ...) VIGIL_PRINTF(4, 5);

/* apply.c — writing batches: the statements, one transaction per batch, retention. */
int sq_hist_prepare(sqlite3 *h, struct sq_hist_stmts *hs);
void sq_hist_finalize(struct sq_hist_stmts *hs);
/* Applies one history record of a run or task kind with hs. An SQLite result code. */
int sq_apply_hist(struct sq_hist_stmts *hs, const struct sq_rec *r, int64_t new_id);
int sq_db_prepare(struct sq_db *db);
/* Applies both lists in one transaction, recording seq as meta 'batch_seq'. */
int sq_db_write(struct sq_store *st, struct sq_db *db, const struct sq_list *reg,
                const struct sq_list *hist, uint64_t seq, struct sq_err *err);
/* Deletes history that ended before now - retention; counts[5] = runs, tasks, alerts,
 * violations, metric rows deleted. */
int sq_db_prune(struct sq_store *st, struct sq_db *db, int64_t counts[5], struct sq_err *err);

/* query.c — the read connection and history_query. */
void sq_reader_close(struct sq_reader *rd);
/* Opens the read connection if needed and starts a snapshot holding what is queued too: the
 * TEMP runs and tasks of the connection are the file's rows that queued records change, and
 * the rows they add. Ends with sq_snapshot_end. */
int sq_snapshot_begin(struct sq_store *st, struct sq_err *err);
void sq_snapshot_end(struct sq_store *st);
int sq_history_query(struct sq_store *st, const struct vigil_history_query *q, vigil_history_fn fn,
                     void *arg);

/* stats.c */
int sq_stats_query(struct sq_store *st, const struct vigil_stats_query *q, vigil_stats_fn fn,
                   void *arg);

#endif

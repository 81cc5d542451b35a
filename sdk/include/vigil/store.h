/* store.h — stores: persistence of the PID registry and of the history, behind one interface. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <vigil/proc.h>

/* One live registry entry: enough to recognise the process after a daemon restart. */
struct vigil_registry_entry {
	uint32_t size;
	const char *name;          /* instance */
	const char *program;
	int32_t pid;
	int32_t pgid;
	uint64_t start_ticks;      /* field 22 of /proc/PID/stat: start time in clock ticks */
	const char *boot_id;       /* /proc/sys/kernel/random/boot_id */
	int64_t started_at_ms;     /* wall clock */
	enum vigil_proc_state state;
	uint32_t restarts;
	uint64_t pid_ino;          /* inode of a pidfd of the process where pidfds have their own
	                            * file system (pidfs, Linux 6.9+): unique per process even
	                            * when a pid is reused within one clock tick; 0 = unknown */
};

/* A history query (`vigilctl ps --history`). A NULL string or 0 number does not filter. */
struct vigil_history_query {
	uint32_t size;
	const char *kind;          /* "program", "task", or NULL for both */
	const char *name;          /* an instance, a program, or a task name or id */
	const char *state;         /* "running" (still open) or how the run ended: "exited",
	                            * "killed", "stopped", "spawn-failed", "start-timeout", "lost" */
	const char *type;          /* task type */
	const char *priority;      /* low, normal, high, critical */
	const char *tag;           /* one tag the program carries */
	int64_t since_ms;          /* runs still open at, or started after, this wall time */
	int64_t until_ms;          /* runs started before this wall time */
	uint32_t limit;            /* newest first; 0 = 1000 */
};

/* One run (one start -> exit of a program instance) or one task. Borrowed for the callback. */
struct vigil_history_row {
	uint32_t size;
	const char *kind;          /* "program" or "task" */
	const char *name;          /* instance, or task name */
	const char *program;       /* program, or pool for a task */
	const char *id;            /* run or task id */
	int32_t pid;
	const char *state;         /* "running" or how it ended (see the query) */
	const char *type;          /* task type, NULL for programs */
	const char *priority;
	const char *tags;          /* comma-separated, may be NULL */
	int64_t started_at_ms;
	int64_t ended_at_ms;       /* 0 while open */
	int32_t exit_code;         /* -1 unknown or killed */
	int32_t signal;
	const char *reason;
	const char *error;
	double cpu_s;              /* -1 unknown */
	int64_t peak_rss_bytes;    /* -1 unknown */
};

typedef int (*vigil_history_fn)(const struct vigil_history_row *row, void *arg);

/* Statistics over the history (`vigilctl stats`). */
struct vigil_stats_query {
	uint32_t size;
	const char *by;            /* "type", "program" or "pool" */
	int64_t since_ms;          /* 0 = everything kept */
};

struct vigil_stats_row {
	uint32_t size;
	const char *key;           /* the type, program or pool */
	uint64_t runs;
	uint64_t successes;
	uint64_t failures;         /* failed, killed and spawn failures */
	uint64_t timeouts;
	double success_rate;       /* successes / runs, 0..1 */
	int64_t p50_ms, p95_ms, max_ms; /* durations */
	double cpu_s;              /* total */
	int64_t peak_rss_bytes;    /* the largest */
};

typedef int (*vigil_stats_fn)(const struct vigil_stats_row *row, void *arg);

/* ops of a VIGIL_KIND_STORE plugin. All on the loop thread; a store must not block on disk in
 * these calls (queue the write, batch it, or hand it to a writer thread). History (runs, tasks,
 * alerts, metrics) is recorded by the store itself from the bus, so a new backend needs no
 * core change. A store that cannot write publishes store.failed and keeps what it can. */
struct vigil_store_ops {
	uint32_t size;
	/* Insert or replace the entry of e->name. Mandatory. 0 or -errno. */
	int (*registry_put)(void *state, const struct vigil_registry_entry *e);
	/* Remove the entry of name (the instance is not running any more). Mandatory. */
	int (*registry_remove)(void *state, const char *name);
	/* Calls fn for every entry, at startup. Strings borrowed for the call. Mandatory. */
	int (*registry_load)(void *state,
	                     int (*fn)(const struct vigil_registry_entry *e, void *arg), void *arg);
	/* Optional: write everything queued now (shutdown, tests). May block. */
	int (*flush)(void *state);
	/* Optional: calls fn for each run/task matching q, newest first; what is still queued for
	 * writing is included. A read; it may take a few milliseconds on the loop thread.
	 * Returns 0, -ENOSYS, or -errno. */
	int (*history_query)(void *state, const struct vigil_history_query *q, vigil_history_fn fn,
	                     void *arg);
	/* Optional: one row per key, computed by the store over runs and tasks. Like
	 * history_query, a read on the loop thread. 0, -ENOSYS, -EINVAL (bad `by`), -errno. */
	int (*stats_query)(void *state, const struct vigil_stats_query *q, vigil_stats_fn fn,
	                   void *arg);
};

#endif

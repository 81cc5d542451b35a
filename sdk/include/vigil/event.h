/* event.h — the typed event bus: event type numbers, the common header and one struct per type. */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#include <vigil/proc.h>

/* Event types. Values are explicit and never reused; new types are appended (minor ABI bump).
 * Every type has a name ("process.exited") and a struct below whose first member is the
 * common header. Types below VIGIL_EV_LIMIT fit the subscription mask. */
enum vigil_event_type {
	VIGIL_EV_SUPERVISOR_STARTED = 1,
	VIGIL_EV_SUPERVISOR_STOPPING = 2,
	VIGIL_EV_CONFIG_RELOADED = 3,
	VIGIL_EV_CONFIG_REJECTED = 4,
	VIGIL_EV_PROCESS_STARTING = 10,
	VIGIL_EV_PROCESS_RUNNING = 11,
	VIGIL_EV_PROCESS_READY = 12,
	VIGIL_EV_PROCESS_STOPPING = 13,
	VIGIL_EV_PROCESS_EXITED = 14,
	VIGIL_EV_PROCESS_BACKOFF = 15,
	VIGIL_EV_PROCESS_FATAL = 16,
	VIGIL_EV_PROCESS_ADOPTED = 17,
	VIGIL_EV_TASK_QUEUED = 30,
	VIGIL_EV_TASK_FINISHED = 31,
	VIGIL_EV_TASK_STARTED = 32,
	VIGIL_EV_METRICS_SAMPLE = 40,
	VIGIL_EV_HEALTH_CHANGED = 41,
	VIGIL_EV_LIMIT_VIOLATED = 42,
	VIGIL_EV_ALERT_RAISED = 43,
	VIGIL_EV_ALERT_CLEARED = 44,
	VIGIL_EV_METRIC_CUSTOM = 45,
	VIGIL_EV_STORE_FAILED = 50,
};
#define VIGIL_EV_LIMIT 128 /* every type value is < VIGIL_EV_LIMIT */

/* Delivery class of a type. Lossless events are never dropped; a lossy event (a metric
 * sample) is dropped, oldest first, from the queue of a subscriber that lags, and counted. */
enum vigil_event_class {
	VIGIL_EVC_LOSSLESS = 0,
	VIGIL_EVC_LOSSY = 1,
};

/* The common header, first member of every event struct. `type` and `size` are set by the
 * publisher (size = sizeof the concrete struct); `seq` and `time_us` are set by the bus.
 * `subject` names what the event is about: an instance name for process.* events, a task id
 * for task.*, a plugin instance for store.failed; NULL for supervisor-wide events. */
struct vigil_event {
	uint32_t type;
	uint32_t size;
	uint64_t seq;     /* bus-wide sequence number, strictly increasing */
	int64_t time_us;  /* wall clock (Unix microseconds) at publish */
	const char *subject;
};

/* supervisor.started */
struct vigil_ev_supervisor_started {
	struct vigil_event hdr;
	int32_t pid;
	const char *version;
	const char *config_file;
	uint32_t programs;        /* configured program instances */
};

/* supervisor.stopping */
struct vigil_ev_supervisor_stopping {
	struct vigil_event hdr;
	const char *reason;       /* "signal SIGTERM", "shutdown command", ... */
	int64_t timeout_ms;       /* shutdown_timeout */
};

/* config.reloaded */
struct vigil_ev_config_reloaded {
	struct vigil_event hdr;
	const char *config_file;
	uint32_t added, removed, changed, unchanged;
};

/* config.rejected */
struct vigil_ev_config_rejected {
	struct vigil_event hdr;
	const char *config_file;
	const char *error;        /* the full message, naming file, section and key */
};

/* process.starting: the core is about to spawn the instance (subject = instance). */
struct vigil_ev_process_starting {
	struct vigil_event hdr;
	const char *program;
	const char *command;
	uint32_t attempt;         /* 1 for the first start, +1 per automatic restart */
};

/* process.running: exec succeeded, the program runs (not necessarily ready yet). */
struct vigil_ev_process_running {
	struct vigil_event hdr;
	const char *program;
	int32_t pid;
	int64_t spawn_us;         /* fork→exec confirmed, microseconds */
};

/* process.ready: readiness reached; the instance is in state running. */
struct vigil_ev_process_ready {
	struct vigil_event hdr;
	const char *program;
	int32_t pid;
	const char *how;          /* "none", "delay", "notify", "tcp", ... */
	int64_t ready_ms;         /* from spawn to ready */
};

/* process.stopping: a stop was started (stop signal sent). */
struct vigil_ev_process_stopping {
	struct vigil_event hdr;
	const char *program;
	int32_t pid;
	int32_t signal;
	const char *reason;       /* "operator", "shutdown", "reload", "limit", ... */
};

/* process.exited: the main process ended, or never exec'd (spawn_failed). */
struct vigil_ev_process_exited {
	struct vigil_event hdr;
	const char *program;
	int32_t pid;
	int32_t exit_code;        /* -1 when killed by a signal or unknown */
	int32_t signal;           /* terminating signal, 0 = none */
	int32_t status_known;     /* 0 for an adopted process whose status cannot be known */
	int32_t expected;         /* 1 = a success code, or stopped on request */
	int64_t runtime_ms;
	const char *reason;       /* "exited", "killed", "stopped", "spawn-failed", "start-timeout", "lost" */
	const char *error;        /* spawn failure text ("exec /x: No such file or directory"), else NULL */
	double cpu_s;             /* user+system CPU seconds of the main process (wait4) */
	int64_t peak_rss_bytes;   /* ru_maxrss of the main process */
};

/* process.backoff: a restart is scheduled after delay_ms. */
struct vigil_ev_process_backoff {
	struct vigil_event hdr;
	const char *program;
	int64_t delay_ms;
	uint32_t restarts;        /* restarts so far */
	const char *policy;       /* policy instance that decided */
};

/* process.fatal: the restart policy gave up. */
struct vigil_ev_process_fatal {
	struct vigil_event hdr;
	const char *program;
	uint32_t restarts;
	const char *reason;       /* the policy's reason, e.g. "10 restarts within 5m" */
};

/* process.adopted: found alive at startup and watched again. */
struct vigil_ev_process_adopted {
	struct vigil_event hdr;
	const char *program;
	int32_t pid;
	int64_t started_at_ms;    /* original start, wall clock */
};

/* task.queued (subject = task id) */
struct vigil_ev_task_queued {
	struct vigil_event hdr;
	const char *pool;
	const char *name;
	const char *type;
	enum vigil_priority priority;
	uint32_t position;        /* 0-based position in the queue */
	const char *command;      /* the argv, joined for display */
	int64_t submitted_at_ms;
};

/* task.started (subject = task id): a run of the task was spawned. */
struct vigil_ev_task_started {
	struct vigil_event hdr;
	const char *pool;
	const char *name;
	const char *type;
	int32_t pid;
	uint32_t attempt;
	int64_t queued_ms;        /* from submission (or retry) to spawn */
};

/* task.finished (subject = task id) */
struct vigil_ev_task_finished {
	struct vigil_event hdr;
	const char *pool;
	const char *name;
	const char *type;
	enum vigil_task_state state;   /* succeeded, failed, timeout, killed, cancelled */
	int32_t exit_code;
	int32_t signal;
	int64_t duration_ms;
	double cpu_s;
	int64_t peak_rss_bytes;
	enum vigil_priority priority;
	uint32_t attempts;
	int64_t submitted_at_ms;
	int64_t started_at_ms;
	const char *error;        /* why it could not start, or NULL */
};

/* metrics.sample (lossy): one sample of one instance (its whole tree in the tree_* fields). */
struct vigil_ev_metrics_sample {
	struct vigil_event hdr;
	int32_t pid;
	double cpu_pct;           /* of one core */
	int64_t rss_bytes;
	int64_t vms_bytes;
	int32_t threads;
	int32_t fds;
	int64_t read_bytes;
	int64_t write_bytes;
	int64_t ctx_switches;
	int64_t uptime_ms;
	int32_t tree_procs;
	double tree_cpu_pct;
	int64_t tree_rss_bytes;
};

/* health.changed: score, level or trend changed. The *_penalty fields are the points the
 * score lost to each factor (score = 100 - their sum, at least 0). */
struct vigil_ev_health_changed {
	struct vigil_event hdr;
	int32_t score;            /* 0..100 */
	int32_t previous;
	const char *level;        /* healthy, degraded, unhealthy, critical */
	const char *trend;        /* improving, stable, degrading */
	double memory_penalty;    /* memory use against limit_memory */
	double cpu_penalty;       /* CPU use against limit_cpu */
	double restart_penalty;   /* restarts within the window */
	double check_penalty;     /* failed liveness checks */
	double latency_penalty;   /* slow liveness checks */
	int64_t memory_exhaustion_ms; /* at the current growth, limit_memory is reached in this
	                               * long; -1 = not growing or no limit */
};

/* limit.violated */
struct vigil_ev_limit_violated {
	struct vigil_event hdr;
	const char *limit;        /* "memory", "cpu", "runtime", "nofile", "nproc" */
	double value;             /* observed */
	double max;               /* configured */
	const char *action;       /* restart, stop, alert */
	uint32_t count;           /* violations of this limit so far */
};

/* alert.raised / alert.cleared share one struct. */
struct vigil_ev_alert {
	struct vigil_event hdr;
	const char *alert;        /* stable id of the condition, e.g. "memory-high" */
	const char *severity;     /* warning, critical, emergency */
	const char *message;
};

/* metric.custom: a named value from a third-party monitor (lossy). */
struct vigil_ev_metric_custom {
	struct vigil_event hdr;
	const char *metric;       /* e.g. "hello.counter" */
	double value;
	const char *unit;         /* may be NULL */
};

/* store.failed: a store could not persist (subject = store instance). */
struct vigil_ev_store_failed {
	struct vigil_event hdr;
	int32_t error;            /* errno-style code */
	const char *message;
	uint64_t pending;         /* records kept in memory, waiting for the store to recover */
};

/* A subscription filter. A type is selected when bit (type % 64) of types[type / 64] is set;
 * an all-zero mask selects every type. `subject` NULL selects every subject. The strings are
 * copied by subscribe. */
struct vigil_filter {
	uint64_t types[VIGIL_EV_LIMIT / 64];
	const char *subject;
	uint32_t queue_max;       /* lossy events queued before the oldest is dropped; 0 = 1024 */
};

static inline void vigil_filter_add(struct vigil_filter *f, uint32_t type)
{
	if (type < VIGIL_EV_LIMIT)
		f->types[type / 64] |= (uint64_t)1 << (type % 64);
}

#endif

/* proc.h — the process model shared by the core and every plugin: states, priorities, info. */
#ifndef VIGIL_PROC_H
#define VIGIL_PROC_H

#include <vigil/vigil.h>

/* State of one supervised program instance (SPEC §3). Values are part of the ABI. */
enum vigil_proc_state {
	VIGIL_PROC_STOPPED = 0,  /* not running, and not meant to be */
	VIGIL_PROC_STARTING = 1, /* spawned (or spawning), not ready yet */
	VIGIL_PROC_RUNNING = 2,  /* running and ready */
	VIGIL_PROC_STOPPING = 3, /* stop signal sent, waiting for the exit */
	VIGIL_PROC_EXITED = 4,   /* exited and will not be restarted (restart mode said no) */
	VIGIL_PROC_BACKOFF = 5,  /* exited, waiting for the restart delay */
	VIGIL_PROC_FATAL = 6,    /* the restart policy gave up */
	VIGIL_PROC_ADOPTED = 7,  /* found alive after a daemon restart; watched by pidfd */
	VIGIL_PROC_UNKNOWN = 8,
};
#define VIGIL_PROC_STATE_COUNT 9

/* State of a submitted task (SPEC §3). */
enum vigil_task_state {
	VIGIL_TASK_QUEUED = 0,
	VIGIL_TASK_STARTING = 1,
	VIGIL_TASK_RUNNING = 2,
	VIGIL_TASK_STOPPING = 3,
	VIGIL_TASK_SUCCEEDED = 4,
	VIGIL_TASK_FAILED = 5,
	VIGIL_TASK_TIMEOUT = 6,
	VIGIL_TASK_KILLED = 7,
	VIGIL_TASK_CANCELLED = 8,
};
#define VIGIL_TASK_STATE_COUNT 9

/* Priority: start order (critical first), stop order (reverse), queue order, nice, oom_score_adj. */
enum vigil_priority {
	VIGIL_PRIO_LOW = 0,
	VIGIL_PRIO_NORMAL = 1,
	VIGIL_PRIO_HIGH = 2,
	VIGIL_PRIO_CRITICAL = 3,
};
#define VIGIL_PRIO_COUNT 4

/* What an operator or a plugin asks the core to do to a target (see vigil_host.proc_control). */
enum vigil_proc_action {
	VIGIL_ACT_START = 1,
	VIGIL_ACT_STOP = 2,
	VIGIL_ACT_RESTART = 3,
	VIGIL_ACT_SIGNAL = 4,
};

/* A snapshot of one program instance. Handed to callbacks by the core; every pointer in it is
 * borrowed and valid only for the duration of the callback. Fields the core cannot know read
 * as -1 (numbers) or NULL (strings). Appended fields are guarded by `size`. */
struct vigil_proc_info {
	uint32_t size;               /* sizeof(struct vigil_proc_info) of the core that filled it */
	enum vigil_proc_state state;
	const char *name;            /* instance name: "web" or "web.0" */
	const char *program;         /* program section name: "web" */
	const char *command;         /* the command line as configured */
	int32_t instance;            /* 0..numprocs-1, or -1 when numprocs = 1 */
	int32_t pid;                 /* main process, 0 when none */
	enum vigil_priority priority;
	int64_t started_at_ms;       /* wall clock (Unix ms) of the current/last start, 0 = never */
	int64_t state_since_ms;      /* wall clock of the last state change */
	uint32_t restarts;           /* automatic restarts since the daemon started it */
	int32_t exit_code;           /* last exit code, -1 = none/unknown */
	int32_t exit_signal;         /* last terminating signal, 0 = none */
	const char *last_reason;     /* why it last stopped: "exited", "killed", "spawn-failed", ... */
	const char *const *tags;     /* NULL-terminated */
	const char *stdout_log;      /* captured stdout file, NULL when not captured */
	const char *stderr_log;      /* captured stderr file, NULL when not captured */
	double cpu_pct;              /* last sampled CPU % of one core, -1 = not sampled */
	int64_t rss_bytes;           /* last sampled RSS, -1 = not sampled */
	int32_t health;              /* last health score 0..100, -1 = not scored */
	int64_t limit_memory;        /* bytes, 0 = none */
	double limit_cpu;            /* % of one core, 0 = none */
	int64_t limit_runtime_ms;    /* 0 = none */
	int64_t limit_nofile;        /* 0 = inherited */
	int64_t limit_nproc;         /* 0 = none */
	const char *on_limit;        /* restart, stop, alert */
	int64_t check_latency_us;    /* duration of the last liveness check, -1 = none yet */
	uint32_t check_failures;     /* consecutive failed liveness checks of this run */
	const char *status;          /* the last STATUS= of a notify program, or NULL */
};

/* One active alert of an instance. */
struct vigil_alert_info {
	const char *alert;           /* stable id: "memory-high", "unhealthy", ... */
	const char *severity;        /* warning, critical, emergency */
	const char *message;
	int64_t since_ms;            /* wall clock when raised */
};

/* What the core knows of an instance's health, gathered from the bus (health.changed,
 * alert.raised / alert.cleared, limit.violated). Borrowed for the callback. */
struct vigil_health_info {
	uint32_t size;
	const char *name;
	int32_t score;               /* -1 = never scored (no health monitor) */
	const char *level;           /* NULL when never scored */
	const char *trend;
	double memory_penalty, cpu_penalty, restart_penalty, check_penalty, latency_penalty;
	int64_t memory_exhaustion_ms;
	const struct vigil_alert_info *alerts; /* the active ones */
	uint32_t nalerts;
	uint32_t alerts_raised;      /* since the daemon started */
	uint32_t violations;         /* every limit.violated */
	uint32_t violations_memory, violations_cpu, violations_runtime, violations_nofile,
	    violations_nproc;
	int64_t last_violation_ms;   /* 0 = none */
};

/* A task to run once, in a pool (`vigilctl run`). Strings are copied by task_submit. */
struct vigil_task_spec {
	uint32_t size;               /* sizeof(struct vigil_task_spec) */
	const char *pool;            /* NULL = "default" */
	const char *name;            /* NULL = the program's file name */
	const char *type;            /* the agent type, free text; NULL = "task" */
	enum vigil_priority priority;
	int64_t timeout_ms;          /* 0 = the pool's default_timeout */
	const char *cwd;             /* NULL = the pool's directory */
	const char *const *env;      /* "KEY=value", NULL-terminated; added to the pool's */
	const char *const *argv;     /* NULL-terminated; argv[0] is looked up in PATH */
};

/* A snapshot of one task. Borrowed for the callback; -1 / NULL where unknown. */
struct vigil_task_info {
	uint32_t size;
	const char *id;
	const char *name;
	const char *type;
	const char *pool;
	const char *command;         /* the argv, joined for display */
	enum vigil_task_state state;
	enum vigil_priority priority;
	int32_t pid;                 /* while running */
	uint32_t attempt;            /* 1 for the first run, +1 per retry */
	uint32_t queue_position;     /* 0-based while queued */
	int64_t submitted_at_ms;     /* wall clock */
	int64_t started_at_ms;       /* 0 = not yet */
	int64_t ended_at_ms;         /* 0 = not yet */
	int64_t timeout_ms;
	int32_t exit_code;           /* -1 = none (yet), or killed by a signal */
	int32_t signal;
	int64_t duration_ms;         /* of the last run */
	double cpu_s;                /* user+system of the last run (wait4) */
	int64_t peak_rss_bytes;      /* ru_maxrss of the last run */
	const char *error;           /* why it could not start, or NULL */
};

static inline const char *vigil_proc_state_name(enum vigil_proc_state s)
{
	static const char *const names[VIGIL_PROC_STATE_COUNT] = {
		"stopped", "starting", "running", "stopping", "exited",
		"backoff", "fatal", "adopted", "unknown"};
	return (unsigned)s < VIGIL_PROC_STATE_COUNT ? names[s] : "unknown";
}

static inline const char *vigil_task_state_name(enum vigil_task_state s)
{
	static const char *const names[VIGIL_TASK_STATE_COUNT] = {
		"queued", "starting", "running", "stopping", "succeeded",
		"failed", "timeout", "killed", "cancelled"};
	return (unsigned)s < VIGIL_TASK_STATE_COUNT ? names[s] : "unknown";
}

static inline const char *vigil_priority_name(enum vigil_priority p)
{
	static const char *const names[VIGIL_PRIO_COUNT] = {"low", "normal", "high", "critical"};
	return (unsigned)p < VIGIL_PRIO_COUNT ? names[p] : "normal";
}

#endif

/* host.h — the table of core functions a plugin may call (the plugin's only way into the core). */
#ifndef VIGIL_HOST_H
#define VIGIL_HOST_H

#include <vigil/config.h>
#include <vigil/event.h>
#include <vigil/proc.h>
#include <vigil/store.h>

/* Threading: vigild runs one loop thread. Every host function must be called from it (that is,
 * from a plugin callback), unless its comment says otherwise. Every plugin callback is called
 * on it. A callback must never block: use fd watches and timers, or a thread of your own that
 * hands results back through a pipe watched with watch_fd. */

struct vigil_instance; /* one configured instance of a plugin (opaque) */
struct vigil_sub;      /* a bus subscription (opaque) */
struct vigil_timer;    /* a timer (opaque) */
struct vigil_watch;    /* an fd watch (opaque) */

enum vigil_log_level {
	VIGIL_LOG_DEBUG = 0,
	VIGIL_LOG_INFO = 1,
	VIGIL_LOG_WARN = 2,
	VIGIL_LOG_ERROR = 3,
};

/* fd watch event bits (same values as EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
#define VIGIL_FD_IN 0x001u
#define VIGIL_FD_OUT 0x004u
#define VIGIL_FD_ERR 0x008u
#define VIGIL_FD_HUP 0x010u

/* A loaded plugin instance, as listed by plugin_foreach. Borrowed for the callback. */
struct vigil_plugin_info {
	uint32_t size;
	const char *kind;        /* "monitor", "policy", "store", "frontend" */
	const char *plugin;      /* plugin name ("backoff") */
	const char *instance;    /* instance name ("backoff" or the LABEL) */
	const char *section;     /* config section ("policy.backoff.fast"), or the default's name */
	const char *version;     /* the plugin's version */
	const char *description;
	const char *file;        /* absolute path of the .so */
	uint16_t abi_major, abi_minor;
};

typedef void (*vigil_event_fn)(const struct vigil_event *ev, void *arg);
typedef void (*vigil_timer_fn)(void *arg);
typedef void (*vigil_fd_fn)(int fd, uint32_t events, void *arg);
/* Iteration callbacks return 0 to go on, anything else to stop (that value is returned). */
typedef int (*vigil_proc_fn)(const struct vigil_proc_info *info, void *arg);
typedef int (*vigil_plugin_fn)(const struct vigil_plugin_info *info, void *arg);
typedef int (*vigil_task_fn)(const struct vigil_task_info *info, void *arg);
typedef int (*vigil_health_fn)(const struct vigil_health_info *info, void *arg);

struct vigil_host {
	uint32_t size;           /* sizeof(struct vigil_host) of the core; fields past it are absent */
	uint16_t abi_major, abi_minor;
	const char *version;     /* VIGIL_VERSION_STRING of the core */

	/* --- logging and identity --- */
	/* Logs one line prefixed "[kind.instance]". No trailing newline. Any thread. */
	void (*log)(struct vigil_instance *self, enum vigil_log_level level, const char *fmt, ...)
		VIGIL_PRINTF(3, 4);
	/* The instance name (LABEL, or NAME when unlabelled). Owned by the core. */
	const char *(*instance_name)(const struct vigil_instance *self);
	/* The absolute state directory. Owned by the core, valid for the life of the process. */
	const char *(*state_dir)(void);

	/* --- configuration (during configure() only; cfg is borrowed) --- */
	/* The value of a declared key after defaults, or NULL if absent without default. */
	const char *(*cfg_string)(const struct vigil_config *cfg, const char *key);
	int64_t (*cfg_int)(const struct vigil_config *cfg, const char *key);
	int (*cfg_bool)(const struct vigil_config *cfg, const char *key);
	double (*cfg_double)(const struct vigil_config *cfg, const char *key);      /* DOUBLE, PERCENT */
	int64_t (*cfg_duration_ms)(const struct vigil_config *cfg, const char *key);
	int64_t (*cfg_size)(const struct vigil_config *cfg, const char *key);       /* bytes; MODE too */

	/* --- event bus --- */
	/* Copies ev (ev->size bytes and every string the type declares) into one refcounted block,
	 * stamps seq and time, and queues it for every matching subscriber. Never delivers
	 * synchronously: a publish inside a callback is delivered after it returns.
	 * Returns 0, -EINVAL (unknown type or size smaller than the type's struct). */
	int (*publish)(struct vigil_instance *self, const struct vigil_event *ev);
	/* Subscribes fn(ev, arg) to the events `filter` selects. The event is borrowed for the call;
	 * keep it with event_ref. Returns NULL on ENOMEM. */
	struct vigil_sub *(*subscribe)(struct vigil_instance *self, const struct vigil_filter *filter,
	                               vigil_event_fn fn, void *arg);
	/* Removes a subscription; queued events for it are released. Safe inside its callback. */
	void (*unsubscribe)(struct vigil_sub *sub);
	/* Lossy events dropped for this subscriber so far. */
	uint64_t (*sub_dropped)(const struct vigil_sub *sub);
	/* Takes / releases a reference to a delivered event. Any thread. */
	const struct vigil_event *(*event_ref)(const struct vigil_event *ev);
	void (*event_unref)(const struct vigil_event *ev);
	/* "process.exited" for VIGIL_EV_PROCESS_EXITED; NULL when unknown. */
	const char *(*event_name)(uint32_t type);
	/* The type of a name, 0 when unknown. */
	uint32_t (*event_type)(const char *name);

	/* --- loop --- */
	/* Calls fn(arg) after delay_ms, then every period_ms if period_ms > 0. A one-shot timer is
	 * freed after it fires; never cancel it after that. Returns NULL on ENOMEM. */
	struct vigil_timer *(*timer_add)(struct vigil_instance *self, uint64_t delay_ms,
	                                 uint64_t period_ms, vigil_timer_fn fn, void *arg);
	void (*timer_cancel)(struct vigil_timer *t);
	/* Calls fn(fd, events, arg) when fd is ready for `events` (VIGIL_FD_*), level-triggered.
	 * The fd stays owned by the caller: unwatch before closing it. NULL on error (errno set). */
	struct vigil_watch *(*watch_fd)(struct vigil_instance *self, int fd, uint32_t events,
	                                vigil_fd_fn fn, void *arg);
	int (*watch_modify)(struct vigil_watch *w, uint32_t events);
	void (*unwatch)(struct vigil_watch *w); /* safe inside its own callback */
	uint64_t (*now_ms)(void);  /* monotonic milliseconds */
	int64_t (*wall_ms)(void);  /* Unix milliseconds */

	/* --- processes --- */
	/* Calls fn for each instance selected by target: a program, an instance, a group, "all",
	 * or NULL (= all). Returns -ENOENT when target names nothing, else the last fn result. */
	int (*proc_foreach)(const char *target, vigil_proc_fn fn, void *arg);
	/* Asks for action on every instance of target (as above). Asynchronous: the outcome is
	 * reported through process.* events. signo is used by VIGIL_ACT_SIGNAL only.
	 * Returns the number of instances acted on, -ENOENT, or -EINVAL. */
	int (*proc_control)(const char *target, enum vigil_proc_action action, int signo);

	/* --- plugins and daemon --- */
	int (*plugin_foreach)(vigil_plugin_fn fn, void *arg);
	/* Starts the orderly shutdown (reverse priority, shutdown_timeout); returns at once. */
	void (*shutdown)(const char *reason);

	/* --- history and daemon control --- */
	/* Queries the store's history (see store.h). -ENOSYS when the store cannot. */
	int (*history_query)(const struct vigil_history_query *q, vigil_history_fn fn, void *arg);
	/* Re-reads the configuration: adds, removes and restarts only what changed. Returns 0,
	 * or -1 with a message in err when the new file is rejected (nothing changed then). */
	int (*reload)(char *err, size_t len);
	/* Re-executes vigild in place after the current loop turn, keeping every child (a
	 * zero-downtime upgrade). Returns 0, or -errno when it cannot (nothing changed then). */
	int (*reexec)(void);
	/* Statistics from the store (see store.h). -ENOSYS when the store cannot. */
	int (*stats_query)(const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg);

	/* --- tasks --- */
	/* Queues a task; its id is written to id. Returns 0, or a negative errno with a message
	 * in err: -ENOENT no such pool, -EAGAIN the pool's queue is full, -EPERM refused by
	 * [security], -EINVAL a bad spec. The outcome comes as task.* events. */
	int (*task_submit)(const struct vigil_task_spec *spec, char *id, size_t idlen, char *err,
	                   size_t errlen);
	/* Cancels a queued task, or stops a running one (it ends `cancelled`). 0, -ENOENT,
	 * -EALREADY (it has finished). */
	int (*task_cancel)(const char *id);
	/* Calls fn for the task `id`, or for every task the core still holds when id is NULL
	 * (queued, running, and the most recent finished ones). -ENOENT when id is unknown. */
	int (*task_foreach)(const char *id, vigil_task_fn fn, void *arg);

	/* --- health --- */
	/* Calls fn with the health record of each instance selected by target (as proc_foreach).
	 * -ENOENT when target names nothing. */
	int (*health_foreach)(const char *target, vigil_health_fn fn, void *arg);
};

#endif

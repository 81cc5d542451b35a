/* inst.h — one supervised program instance: its runtime record and helpers around it. */
#ifndef VIGIL_CORE_INST_H
#define VIGIL_CORE_INST_H

#include <stdint.h>
#include <sys/types.h>

#include <vigil/sdk.h>

#include "conf.h"
#include "logcap.h"

struct loop_timer;
struct loop_watch;
struct probe;

struct proc {
	char *name;                    /* "web" or "web.0" */
	const struct conf_program *prog;
	int instance;                  /* -1 when numprocs = 1 */
	size_t index_all;              /* position in config order */
	enum vigil_proc_state state;
	int64_t state_since_ms;

	pid_t pid;                     /* main process, 0 = none */
	pid_t pgid;                    /* its process group while any member may live, else 0 */
	pid_t last_pid;
	uint64_t pid_ticks, pid_ino;   /* pid's start time and pidfs inode when known at spawn */
	uint64_t spawn_us;             /* monotonic */
	uint64_t started_mono;         /* monotonic ms */
	int64_t started_at_ms;         /* wall */
	int spawn_fd;                  /* exec report pipe while exec is pending, else -1 */
	int pidfd;                     /* adopted (not our child): exit seen through it, else -1 */
	struct loop_watch *pidfd_watch;
	int status_unknown;            /* the last exit's status could not be known (adopted) */
	int recovered;                 /* taken over at startup: sup_start_all leaves it alone */
	int removing;                  /* gone from the config: freed once down */
	int reload_mark;
	struct loop_watch *spawn_watch;
	char *spawn_error;             /* why the last start failed, or NULL */
	int spawn_failed;
	int start_timed_out;

	struct loop_timer *timer;      /* the state's timer: start, stop or backoff */
	struct loop_timer *ready_timer;/* ready = delay:D */
	struct loop_timer *runtime_timer; /* limit_runtime */
	uint32_t runtime_violations;
	int waiting;                   /* start requested, dependencies not ready */
	int want_down;                 /* stopped on purpose: never restart */
	int restart_after_stop;
	const char *stop_reason;

	uint32_t restarts;
	int exit_code, exit_signal;
	const char *last_reason;
	int64_t runtime_ms;
	double cpu_s;
	int64_t peak_rss;
	int64_t backoff_ms;
	char *fatal_reason;            /* why the policy gave up, or NULL */

	struct vigil_instance *policy;
	void *policy_mem;

	struct logcap out, err;
	struct probe *probe;           /* readiness and liveness checks (probe.c), or NULL */
	char notify_status[256];       /* the last STATUS= it sent (notify protocol) */
	int64_t check_latency_us;      /* the last health check's duration, -1 = none yet */
	uint32_t check_failures;       /* consecutive failed health checks of this run */
	uint32_t unhealthy_count;      /* times on_unhealthy acted (health checks, watchdog) */
	unsigned probe_alerts;         /* raised, not yet cleared: 1 "unhealthy", 2 "watchdog" */

	double cpu_pct;                /* cached from metrics.sample, -1 = none */
	int64_t rss_bytes;
	int health;
};

struct proc *proc_new(const struct conf_program *prog, int instance);
void proc_free(struct proc *p);

/* Fills a vigil_proc_info borrowing p's strings. */
void proc_fill_info(const struct proc *p, struct vigil_proc_info *info);

/* The child's environment: the daemon's (or a minimal one for clear_env), the program's
 * `environment`, and VIGIL_NAME / VIGIL_PROGRAM / VIGIL_INSTANCE. */
char **proc_build_env(const struct proc *p, char *const *base);

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot); 0 when unreadable. */
uint64_t proc_start_ticks(pid_t pid);
/* The same, and the state letter of field 3 ('Z' for a zombie). */
uint64_t proc_stat_start(pid_t pid, char *state);
void proc_read_boot_id(char *buf, size_t len);
/* The inode of a pidfd on pidfs (unique per process), or 0 where pidfds have no file system of
 * their own (before Linux 6.9). proc_pid_ino opens one for pid. */
uint64_t proc_pidfd_ino(int pidfd);
uint64_t proc_pid_ino(pid_t pid);
/* Replaces a text of the instance (NULL or "" = none); kept on the heap only while it is set,
 * since most instances never have one. */
void proc_set_text(char **slot, const char *text);

/* Tells the policy an operator started the instance: its failures are forgotten. */
void proc_policy_reset(struct proc *p);

#endif

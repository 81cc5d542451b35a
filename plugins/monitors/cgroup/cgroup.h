/* cgroup.h — internal to monitor_cgroup: the hierarchy plan and the cgroup file helpers. */
#ifndef VIGIL_MONITOR_CGROUP_H
#define VIGIL_MONITOR_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vigil/sdk.h>

/* The controllers we use. A controller lives in exactly one hierarchy: a v1 mount of its own
 * (or shared, "cpu,cpuacct") or the unified v2 one. The freezer is only needed where the
 * membership hierarchy has neither cgroup.kill nor cgroup.freeze. */
enum cg_ctrl {
	CG_MEMORY = 0,
	CG_PIDS = 1,
	CG_CPU = 2,
	CG_FREEZER = 3,
	CG_NCTRL = 4,
};

/* How kill_tree(SIGKILL) empties an instance's cgroup. */
enum cg_kill {
	CG_KILL_NONE = 0,      /* no membership hierarchy: the core signals the process group */
	CG_KILL_FILE = 1,      /* v2 cgroup.kill (5.14+) */
	CG_KILL_FREEZE_V2 = 2, /* v2 cgroup.freeze, signal every pid, thaw */
	CG_KILL_FREEZE_V1 = 3, /* v1 freezer.state, signal every pid, thaw */
	CG_KILL_SCAN = 4,      /* signal every pid until no new one appears */
};

#define CG_MAX_HIER 6

/* One hierarchy we use. */
struct cg_hier {
	int v2;         /* cgroup2 */
	char *own;      /* vigild's own cgroup dir in it (mount point + our path) */
	char *base;     /* the per-daemon parent: own/<parent>; instance groups go below */
	unsigned ctrls; /* controllers it offers (bits 1 << enum cg_ctrl) */
};

/* What detection found and setup made usable. */
struct cg_plan {
	struct cg_hier h[CG_MAX_HIER];
	size_t nh;
	int procs;          /* index of the membership hierarchy (cgroup.procs, kill), -1 = none */
	int ctrl[CG_NCTRL]; /* index of the hierarchy enforcing each controller, -1 = none */
	enum cg_kill kill;
	int swap;       /* 1 = the memory hierarchy can limit swap (memsw / memory.swap.max) */
	int moved_self; /* v2: vigild moved itself into own/supervisor */
	char why[768];  /* what is missing and why, for the one start log line */
};

/* detect.c — reads <proc_self>/mountinfo and <proc_self>/cgroup into a plan of candidate
 * hierarchies (no side effect). Returns 0 or -errno (the files could not be read). */
int cg_detect(struct cg_plan *plan, const char *proc_self);
/* Makes the candidates usable: v2 controllers enabled (moving self_pid into a "supervisor"
 * leaf when the rule of no internal processes asks for it), base dirs created; drops what
 * fails and assigns roles. Always leaves a consistent plan (maybe with no membership). */
void cg_setup(struct cg_plan *plan, const char *parent, pid_t self_pid);
/* Removes the base dirs when they are empty. */
void cg_teardown(struct cg_plan *plan);
void cg_plan_free(struct cg_plan *plan);
/* The one line saying which mode and why. */
void cg_describe(const struct cg_plan *plan, char *buf, size_t len);
const char *cg_ctrl_name(enum cg_ctrl c);

/* cgfs.c — small synchronous file operations on cgroupfs (each is one syscall or a few). */
int cg_write(const char *path, const char *text);
int cg_writef(const char *path, const char *fmt, ...) VIGIL_PRINTF(2, 3);
/* Reads at most len-1 bytes, NUL-terminates. Returns the length or -errno. */
ssize_t cg_read(const char *path, char *buf, size_t len);
/* The value of "key N" in a flat keyed file (memory.events, memory.oom_control, cpu.stat).
 * -ENOENT when the file or the key is absent. */
int cg_read_key(const char *path, const char *key, int64_t *out);
/* The numbers of a file holding one per line (cgroup.procs): *pids malloc'd. */
int cg_read_pids(const char *path, pid_t **pids, size_t *n);
/* 0 = made, 1 = it existed, -errno. */
int cg_mkdir(const char *path);
int cg_exists(const char *path);
/* snprintf into buf; -ENAMETOOLONG when it does not fit. */
int cg_path(char *buf, size_t len, const char *fmt, ...) VIGIL_PRINTF(3, 4);

/* ---- the plugin's state (cgroup.c, limits.c) ---- */

#define CG_CPU_PERIOD_US 100000
#define CG_RMDIR_TRIES 6 /* 50 ms doubling: about 3 s for dying processes to go */
#define CG_RMDIR_FIRST_MS 50

/* Warned-once bits of a unit. */
#define CG_WARN_SWAP (1u << CG_NCTRL)

struct cg;

/* One program instance's cgroup (one dir in each hierarchy we use). Kept for the life of the
 * plugin, so the OOM count of an instance survives its restarts. */
struct cg_unit {
	struct cg_unit *next;
	struct cg *cg;
	char *name;
	int signalled;   /* kill_tree reached it since the last attach */
	int exists;      /* its dirs may exist */
	unsigned warned; /* limits we said are not enforced (1 << enum cg_ctrl, CG_WARN_SWAP) */
	int64_t limit_memory; /* as of the last attach, for limit.violated */
	char on_limit[8];     /* restart, stop or alert, as of the last attach */
	/* OOM watch: v2 inotify on memory.events, v1 an eventfd on memory.oom_control. */
	int oom_wd, oom_efd, oom_ctl;
	struct vigil_watch *oom_watch;
	int64_t oom_seen; /* the kernel's oom_kill counter when last read */
	uint32_t ooms;    /* OOM kills reported for this instance */
	struct vigil_timer *rmdir_timer;
	unsigned rmdir_tries;
};

struct cg {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *parent;
	const char *proc_self; /* where mountinfo and cgroup are read: tests point it elsewhere */
	pid_t self_pid;
	struct cg_plan plan;
	int planned;
	struct cg_unit *units;
	int ino_fd; /* one inotify for every v2 memory.events */
	struct vigil_watch *ino_watch;
};

/* cgroup.c — base/<name>[/file] in hierarchy i; -ENAMETOOLONG. */
int cg_unit_path(const struct cg *cg, size_t i, const char *name, const char *file, char *buf,
                 size_t len);

/* limits.c — writes every limit of info (0 = back to unlimited); -errno when one is refused. */
int cg_apply_limits(struct cg *cg, struct cg_unit *u, const struct vigil_proc_info *info);
/* Starts watching the unit's OOM counter (once per cgroup dir); a failure is logged. */
void cg_oom_watch(struct cg_unit *u);
void cg_oom_unwatch(struct cg_unit *u);
/* Reads the counter and publishes limit.violated for what is new. fallback_delta is used on a
 * v1 kernel without an oom_kill counter. */
void cg_oom_check(struct cg_unit *u, int64_t fallback_delta);

#endif

/* pf.h — monitor_procfs internals: what one /proc read yields, and the reads themselves. */
#ifndef VIGIL_MONITOR_PROCFS_PF_H
#define VIGIL_MONITOR_PROCFS_PF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vigil/sdk.h>

/* Nothing here is exported: the plugin is linked with hidden visibility and a version script
 * that keeps only vigil_plugin_entry_v1. The pf_ prefix marks the plugin's own functions. */

/* The fields of /proc/PID/stat the monitor uses (proc(5) numbering in the comments). */
struct pf_stat {
	char state;           /* 3: R S D Z X ... */
	int32_t session;      /* 6 */
	uint64_t cpu_ticks;   /* 14 utime + 15 stime, clock ticks, the whole thread group */
	int32_t threads;      /* 20 */
	uint64_t start_ticks; /* 22: clock ticks after boot */
	int64_t vms_bytes;    /* 23 */
	int64_t rss_pages;    /* 24 */
};

/* Files kept open for pread() from offset 0 (the kernel regenerates the text on every read),
 * up to `budget` of them so the monitor never starves the daemon of descriptors. The stat
 * files, read on every sample, come first: "spare" files (io, status, read less often) are
 * kept only within `spare_max`, what the stat files leave of the budget. */
struct pf_files {
	int budget;
	int open;       /* all kept files */
	int spare_open; /* of which spare */
	int spare_max;
};

/* Parses one /proc/PID/stat line (NUL-terminated). The command name may hold spaces and
 * parentheses, so fields are counted from its last ')'. Returns 0 or -EINVAL. */
int pf_parse_stat(const char *text, struct pf_stat *st);
/* voluntary + nonvoluntary context switches from /proc/PID/status. 0 or -ENOENT. */
int pf_parse_status(const char *text, int64_t *ctx_switches);
/* read_bytes and write_bytes (storage I/O) from /proc/PID/io. 0 or -ENOENT. */
int pf_parse_io(const char *text, int64_t *read_bytes, int64_t *write_bytes);

/* Reads /proc/PID/NAME into buf (NUL-terminated), through *fd when it is open; else opens the
 * file and keeps it in *fd while the budget allows (fd NULL: never kept; spare: a spare file).
 * A failed read closes *fd. Returns the
 * length, or a negative errno: -ESRCH or -ENOENT when the process is gone (normal), -EACCES
 * when we may not read it, -EMFILE/-ENFILE when out of descriptors. */
ssize_t pf_read(struct pf_files *files, int *fd, int spare, int32_t pid, const char *name,
                char *buf, size_t len);
/* Closes a kept file (fd -1 is fine) and gives its place back to the budget. */
void pf_close(struct pf_files *files, int *fd, int spare);

/* Entries of /proc/PID/fd, read with getdents64 into buf (no allocation). Returns the count
 * or a negative errno as pf_read. */
int pf_count_fds(int32_t pid, char *buf, size_t len);

/* Calls fn(pid, arg) for every process in the /proc directory open as dirfd (rewound first),
 * reading with getdents64 into buf. Returns 0 or a negative errno. */
int pf_list_pids(int dirfd, char *buf, size_t len, void (*fn)(int32_t pid, void *arg), void *arg);

/* ---- the monitor ------------------------------------------------------------------------- */

/* The interval is cut into up to this many slices; each samples its share of the instances,
 * so the reads are spread over the interval instead of landing in one burst. */
#define PF_SLICES 10
#define PF_MIN_SLICE_MS 10
/* Every this many /proc scans, the session of every process is read again, so a pid reused
 * between two scans cannot stay misfiled for long. */
#define PF_RESCAN_EVERY 60
/* Reads land here: /proc/PID/status can pass 4 KiB on big machines. */
#define PF_BUF 16384

/* One supervised instance that has a main process. */
struct pf_entry {
	char *name;
	int32_t pid;
	uint32_t seen;  /* refresh generation */
	uint32_t phase; /* spreads the every-Nth-sample reads over the fleet */
	uint32_t samples;
	int fd_stat, fd_io, fd_status;
	uint64_t start_ticks;
	uint64_t prev_ticks;
	int64_t prev_ns; /* CLOCK_BOOTTIME of the previous sample; 0 = none */
	int32_t fds;
	int64_t read_bytes, write_bytes, ctx_switches;
	int32_t members; /* first member of the session in tasks[], -1 = none */
	unsigned io_denied : 1, fd_denied : 1;
};

/* One process seen in /proc. Only members of a supervised session are read every sample;
 * for the others we only remember the session, so a scan reads the stat of new pids only. */
struct pf_task {
	int32_t pid, sid;
	int32_t next; /* next member of the same session, -1 */
	int fd_stat;
	uint64_t start_ticks;
	uint64_t prev_ticks;
	int64_t prev_ns; /* 0 = not sampled yet */
};

/* One instance of the monitor. */
struct procfs {
	const struct vigil_host *host;
	struct vigil_instance *self;
	uint64_t interval_ms, slice_ms;
	unsigned nslices, slice;
	uint32_t fd_interval;
	int tree;
	struct vigil_timer *timer;
	long hz;
	int64_t page_size;
	struct pf_files files;

	struct pf_entry *entries;
	size_t nentries, cap_entries;
	int32_t *slots; /* pid -> entry index + 1, open addressing */
	size_t nslots;
	uint32_t gen, next_phase;
	size_t added; /* entries added by the current refresh */

	int proc_dir;
	struct pf_task *tasks, *tasks_next;
	size_t ntasks, cap_tasks;
	size_t nmembers; /* tasks in a supervised session, as of the last scan */
	int32_t *pids;
	size_t npids, cap_pids;
	unsigned scans;

	unsigned said_io, said_fd, said_emfile, said_read, said_scan, said_oom; /* log once */
	char buf[PF_BUF];
};

/* Clock ticks as nanoseconds. */
static inline int64_t pf_ticks_ns(const struct procfs *pf, uint64_t ticks)
{
	return (int64_t)(ticks / (uint64_t)pf->hz) * 1000000000 +
	       (int64_t)(ticks % (uint64_t)pf->hz) * 1000000000 / pf->hz;
}

/* Ticks of CPU time over ns of real time, as a percentage of one core. */
static inline double pf_pct(const struct procfs *pf, uint64_t ticks, int64_t ns)
{
	return ns > 0 ? (double)pf_ticks_ns(pf, ticks) * 100.0 / (double)ns : 0.0;
}

/* procfs.c: the instance table. */
long pf_lookup(const struct procfs *pf, int32_t pid);
void pf_balance(struct procfs *pf);

/* pftree.c: sessions. Lists /proc and files every process under its session (slice 0). */
void pf_scan(struct procfs *pf);
/* Fills the tree_* figures of ev (cpu_pct, rss_bytes set) from e's session members. */
void pf_sample_tree(struct procfs *pf, struct pf_entry *e, int64_t now, int64_t prev_ns,
                    struct vigil_ev_metrics_sample *ev);

#endif

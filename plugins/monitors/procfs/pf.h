/* pf.h — monitor_procfs internals: what one /proc read yields, and the reads themselves. */
#ifndef VIGIL_MONITOR_PROCFS_PF_H
#define VIGIL_MONITOR_PROCFS_PF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
 * up to `budget` of them so the monitor never starves the daemon of descriptors. */
struct pf_files {
	int budget;
	int open;
};

/* Parses one /proc/PID/stat line (NUL-terminated). The command name may hold spaces and
 * parentheses, so fields are counted from its last ')'. Returns 0 or -EINVAL. */
int pf_parse_stat(const char *text, struct pf_stat *st);
/* voluntary + nonvoluntary context switches from /proc/PID/status. 0 or -ENOENT. */
int pf_parse_status(const char *text, int64_t *ctx_switches);
/* read_bytes and write_bytes (storage I/O) from /proc/PID/io. 0 or -ENOENT. */
int pf_parse_io(const char *text, int64_t *read_bytes, int64_t *write_bytes);

/* Reads /proc/PID/NAME into buf (NUL-terminated), through *fd when it is open; else opens the
 * file and keeps it in *fd while the budget allows (fd NULL: never kept). A failed read closes
 * *fd. Returns the
 * length, or a negative errno: -ESRCH or -ENOENT when the process is gone (normal), -EACCES
 * when we may not read it, -EMFILE/-ENFILE when out of descriptors. */
ssize_t pf_read(struct pf_files *files, int *fd, int32_t pid, const char *name, char *buf,
                size_t len);
/* Closes a kept file (fd -1 is fine) and gives its place back to the budget. */
void pf_close(struct pf_files *files, int *fd);

/* Entries of /proc/PID/fd, read with getdents64 into buf (no allocation). Returns the count
 * or a negative errno as pf_read. */
int pf_count_fds(int32_t pid, char *buf, size_t len);

/* Calls fn(pid, arg) for every process in the /proc directory open as dirfd (rewound first),
 * reading with getdents64 into buf. Returns 0 or a negative errno. */
int pf_list_pids(int dirfd, char *buf, size_t len, void (*fn)(int32_t pid, void *arg),
                 void *arg);

#endif

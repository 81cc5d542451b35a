/* spawn.h — fork + exec with everything set up in between, and exec errors reported back. */
#ifndef VIGIL_CORE_SPAWN_H
#define VIGIL_CORE_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

#define SPAWN_FD_NULL (-1)    /* /dev/null */
#define SPAWN_FD_INHERIT (-2) /* keep the daemon's fd */

/* Everything the child needs, prepared by the parent: the child only makes async-signal-safe
 * calls, because the daemon may have threads (a store's writer). */
struct spawn_req {
	const char *path;          /* absolute path of the program (resolved by the parent) */
	char *const *argv;
	char *const *envp;
	const char *cwd;           /* NULL = keep */
	mode_t umask;              /* (mode_t)-1 = keep */
	int stdout_fd, stderr_fd;  /* fds to dup2, or SPAWN_FD_NULL / SPAWN_FD_INHERIT */
	int set_ids;               /* drop privileges to uid/gid/groups */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	int ngroups;
	int no_new_privs;
	int64_t rlimit_nofile;     /* 0 = keep */
	int64_t rlimit_nproc;      /* 0 = keep */
	int64_t rlimit_core;       /* -1 = keep */
	int nice;                  /* applied when != 0; failure ignored (not permitted) */
	int oom_score_adj;         /* applied when != 0; failure ignored */
	int hold_fd;               /* >= 0: the child waits for EOF/a byte on it before exec */
	int hold_wfd;              /* the write end of that pipe (closed in the child) */
};

/* Notes which signals the daemon ignores (SIGPIPE and what it inherited ignored): children
 * get them back at their default. Called once at start-up, before any spawn. */
void spawn_init(void);

/* What spawn_launch knows once it returns. */
struct spawn_out {
	pid_t pid;
	int errfd;            /* the exec report pipe to watch, or -1: the outcome is known */
	int exec_failed;      /* (errfd = -1) exec, or a step before it, failed: msg says why */
	uint64_t start_ticks; /* the child's start time as in /proc/PID/stat, 0 = not known */
	uint64_t pid_ino;     /* its pidfs inode (Linux 6.9+), 0 = not known */
	char msg[256];
};

/* Starts a child in a new session (so its process group is its pid) and its setup. The
 * outcome is known at once unless the child must wait for a hold (or sync is 0): then errfd is
 * the read end of the error pipe (non-blocking, CLOEXEC), which reaches EOF when exec
 * succeeded or yields a failure record (spawn_result). Returns 0 or -errno (clone/fork). */
int spawn_launch(const struct spawn_req *req, int sync, struct spawn_out *out);

/* Reads the outcome from errfd. Returns 1 when exec succeeded, 0 when the child reported a
 * failure (msg filled: "chdir /srv/web: No such file or directory"), -EAGAIN when nothing is
 * known yet. */
int spawn_result(int errfd, char *msg, size_t len);

/* spawn_launch(req[i], 1, &out[i]) for n requests that need no hold, from this thread and a
 * second one at once (each clone waits for its child's exec: two cores do twice the work);
 * rc[i] is what spawn_launch returned. */
void spawn_launch_many(const struct spawn_req *const *req, struct spawn_out *out, int *rc,
                       size_t n);

/* Resolves argv0 against PATH (from envp, else the default path) like execvp would.
 * Returns a malloc'd absolute path, or NULL with errno (ENOENT, EACCES). */
char *spawn_resolve(const char *argv0, char *const *envp, const char *cwd);

#endif

/* spawn.c — fork/exec of supervised programs: session, rlimits, ids, fds, error pipe. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inst.h"

/* What the child writes to the error pipe when a step fails. */
struct spawn_failure {
	int err;
	char step[16];
	char arg[240];
};

static void scopy(char *dst, size_t len, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < len; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

/* Where the child reports a failure: the error pipe, or — when it shares our memory and we
 * resume only once it has exec'd or exited — a record of ours it writes directly. */
struct sink {
	int fd;
	struct spawn_failure *shared;
};

static _Noreturn void child_fail(const struct sink *k, const char *step, const char *arg)
{
	struct spawn_failure f;
	memset(&f, 0, sizeof f);
	f.err = errno ? errno : EIO;
	scopy(f.step, sizeof f.step, step);
	scopy(f.arg, sizeof f.arg, arg);
	if (k->shared) {
		*k->shared = f;
	} else {
		ssize_t r = write(k->fd, &f, sizeof f);
		(void)r;
	}
	_exit(127);
}

static void set_limit(const struct sink *k, int resource, int64_t value, const char *what)
{
	struct rlimit rl;
	rl.rlim_cur = rl.rlim_max = (rlim_t)value;
	if (resource == RLIMIT_NOFILE || resource == RLIMIT_NPROC) {
		/* Raising the hard limit needs privilege: keep the soft one within it instead. */
		struct rlimit old;
		if (getrlimit(resource, &old) == 0 && old.rlim_max != RLIM_INFINITY &&
		    (rlim_t)value > old.rlim_max && geteuid() != 0)
			rl.rlim_cur = rl.rlim_max = old.rlim_max;
	}
	if (setrlimit(resource, &rl) < 0)
		child_fail(k, "setrlimit", what);
}

static void write_oom_adj(int value)
{
	char buf[16];
	int n = 0, v = value < 0 ? -value : value;
	char tmp[12];
	int t = 0;
	do {
		tmp[t++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (value < 0)
		buf[n++] = '-';
	while (t)
		buf[n++] = tmp[--t];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t r = write(fd, buf, (size_t)n);
		(void)r;
		close(fd);
	}
}

/* The signals the daemon ignores, which a child would inherit ignored across exec. */
static sigset_t ignored;

void spawn_init(void)
{
	sigemptyset(&ignored);
	sigaddset(&ignored, SIGPIPE);
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&ignored, s);
	}
}

static _Noreturn void child(const struct spawn_req *r, struct sink *k)
{
	/* The daemon blocks signals for its signalfd and ignores SIGPIPE and what it was started
	 * with ignored (spawn_init); handlers do not survive exec: undo the rest. */
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&ignored, s))
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (setsid() < 0)
		child_fail(k, "setsid", "");

	if (r->hold_fd >= 0) {
		/* Wait for the parent to place us (a cgroup, say): one byte means go. */
		char c;
		ssize_t n;
		close(r->hold_wfd);
		while ((n = read(r->hold_fd, &c, 1)) < 0 && errno == EINTR)
			;
		if (n != 1) {
			errno = ECANCELED;
			child_fail(k, "attach", "the supervisor cancelled the start");
		}
		close(r->hold_fd);
	}

	/* The daemon keeps 0-2 open, so every fd handed to us here is >= 3. */
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nullfd < 0)
		child_fail(k, "open", "/dev/null");
	int outfd = r->stdout_fd == SPAWN_FD_NULL ? nullfd : r->stdout_fd;
	int efd = r->stderr_fd == SPAWN_FD_NULL ? nullfd : r->stderr_fd;
	if (dup2(nullfd, 0) < 0)
		child_fail(k, "dup2", "stdin");
	if (r->stdout_fd != SPAWN_FD_INHERIT && dup2(outfd, 1) < 0)
		child_fail(k, "dup2", "stdout");
	if (r->stderr_fd != SPAWN_FD_INHERIT && dup2(efd, 2) < 0)
		child_fail(k, "dup2", "stderr");
	/* Keep 0-2 and the error pipe, moved to 3 (CLOEXEC: exec closes it, which is the signal). */
	unsigned first = 3;
	if (!k->shared) {
		if (k->fd != 3) {
			if (dup3(k->fd, 3, O_CLOEXEC) < 0)
				child_fail(k, "dup3", "");
			k->fd = 3;
		}
		first = 4;
	}
	if (syscall(SYS_close_range, first, ~0U, 0U) < 0) {
		for (int fd = (int)first; fd < 65536; fd++)
			close(fd);
	}

	if (r->rlimit_nofile > 0)
		set_limit(k, RLIMIT_NOFILE, r->rlimit_nofile, "nofile");
	if (r->rlimit_nproc > 0)
		set_limit(k, RLIMIT_NPROC, r->rlimit_nproc, "nproc");
	if (r->rlimit_core >= 0)
		set_limit(k, RLIMIT_CORE, r->rlimit_core, "core");
	if (r->nice)
		(void)setpriority(PRIO_PROCESS, 0, r->nice);
	if (r->oom_score_adj)
		write_oom_adj(r->oom_score_adj);

	if (r->umask != (mode_t)-1)
		umask(r->umask);
	if (r->cwd && chdir(r->cwd) < 0)
		child_fail(k, "chdir", r->cwd);

	if (r->set_ids) {
		/* Raw system calls, as posix_spawn makes them: glibc's wrappers would apply the
		 * change to every thread of the daemon (whose memory we share), not just to us. */
		if (syscall(SYS_setgroups, (size_t)r->ngroups, r->groups) < 0)
			child_fail(k, "setgroups", "");
		if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) < 0)
			child_fail(k, "setgid", "");
		if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) < 0)
			child_fail(k, "setuid", "");
		/* Verify the drop stuck: getting root back must be impossible. */
		if (r->uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0) {
			errno = EPERM;
			child_fail(k, "setuid", "privileges could be regained");
		}
	}
	if (r->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(k, "prctl", "no_new_privs");

	execve(r->path, r->argv, r->envp);
	child_fail(k, "exec", r->path);
}

struct clone_arg {
	const struct spawn_req *req;
	struct sink sink;
};

static int clone_child(void *arg)
{
	struct clone_arg *a = arg;
	child(a->req, &a->sink);
}

static void failure_text(const struct spawn_failure *f, char *msg, size_t len)
{
	if (f->arg[0])
		snprintf(msg, len, "%s %s: %s", f->step, f->arg, strerror(f->err));
	else
		snprintf(msg, len, "%s: %s", f->step, strerror(f->err));
}

static uint64_t boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The stack a child runs on until it execs: one per thread that launches. */
#define CHILD_STACK (64 * 1024)

static int launch(const struct spawn_req *req, int sync, struct spawn_out *out, char *stack_top);

/* The loop thread's: it launches one child at a time. */
static char loop_stack[CHILD_STACK] __attribute__((aligned(16)));

int spawn_launch(const struct spawn_req *req, int sync, struct spawn_out *out)
{
	return launch(req, sync, out, loop_stack + sizeof loop_stack);
}

/* spawn_launch_many's second thread, started at its first use and kept (blocked signals,
 * inherited from the loop thread, so the signalfd still gets them all). */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	int started, busy;
	uint64_t gen;
	const struct spawn_req *const *req;
	struct spawn_out *out;
	int *rc;
	size_t n, next; /* next: the next item to take, by either thread (atomic) */
} M = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .go = PTHREAD_COND_INITIALIZER,
       .done = PTHREAD_COND_INITIALIZER};

static void take_items(char *stack_top)
{
	size_t i;
	while ((i = __atomic_fetch_add(&M.next, 1, __ATOMIC_RELAXED)) < M.n)
		M.rc[i] = launch(M.req[i], 1, &M.out[i], stack_top);
}

static void *helper_main(void *arg)
{
	static char stack[CHILD_STACK] __attribute__((aligned(16)));
	uint64_t seen = 0;
	(void)arg;
	pthread_mutex_lock(&M.mu);
	for (;;) {
		while (M.gen == seen)
			pthread_cond_wait(&M.go, &M.mu);
		seen = M.gen;
		pthread_mutex_unlock(&M.mu);
		take_items(stack + sizeof stack);
		pthread_mutex_lock(&M.mu);
		M.busy = 0;
		pthread_cond_signal(&M.done);
	}
	return NULL;
}

void spawn_launch_many(const struct spawn_req *const *req, struct spawn_out *out, int *rc,
                       size_t n)
{
	pthread_t t;
#if defined(__SANITIZE_ADDRESS__)
	M.started = -1; /* launch() forks there: one thread at a time */
#endif
	if (!M.started && n > 1) {
		M.started = pthread_create(&t, NULL, helper_main, NULL) == 0 ? 1 : -1;
		if (M.started > 0)
			pthread_detach(t);
	}
	M.req = req;
	M.out = out;
	M.rc = rc;
	M.n = n;
	M.next = 0;
	int helped = M.started > 0 && n > 1;
	if (helped) {
		pthread_mutex_lock(&M.mu);
		M.busy = 1;
		M.gen++;
		pthread_cond_signal(&M.go);
		pthread_mutex_unlock(&M.mu);
	}
	take_items(loop_stack + sizeof loop_stack);
	if (helped) {
		pthread_mutex_lock(&M.mu);
		while (M.busy)
			pthread_cond_wait(&M.done, &M.mu);
		pthread_mutex_unlock(&M.mu);
	}
}

static int launch(const struct spawn_req *req, int sync, struct spawn_out *out, char *stack_top)
{
	/* Without a hold (nobody must place the child before exec), the child shares our memory
	 * and we are suspended until it execs or exits, as with posix_spawn: no page tables are
	 * copied, which makes a start several times cheaper than fork(), and the outcome is known
	 * when clone returns — the child writes a failure into our memory before it exits, so no
	 * pipe is needed. The child runs on a stack of its own and makes only system calls, so it
	 * cannot disturb ours. With a hold it must wait for us: fork, and report through a pipe. */
	static long hz;
	(void)stack_top;
	memset(out, 0, sizeof *out);
	out->errfd = -1;
#if defined(__SANITIZE_ADDRESS__)
	/* ASan cannot follow a child that runs on our memory with a stack of its own. */
	const int shared_vm = 0;
	(void)sync;
#else
	const int shared_vm = req->hold_fd < 0 && sync;
#endif
	if (shared_vm) {
		struct spawn_failure f;
		memset(&f, 0, sizeof f);
		struct clone_arg a = {req, {-1, &f}};
		int pidfd = -1;
		if (!hz)
			hz = sysconf(_SC_CLK_TCK);
		/* The kernel stamps the child's start (CLOCK_BOOTTIME, shown in clock ticks) inside
		 * clone: when the clock reads the same tick before and after, that tick is it, and
		 * /proc/PID/stat need not be read. */
		uint64_t before = boot_ns();
		pid_t c = clone(clone_child, stack_top, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
		                &a, &pidfd);
		if (c < 0 && (errno == EMFILE || errno == ENFILE)) {
			/* no descriptor for the pidfd: start anyway, the inode is only a plus */
			pidfd = -1;
			c = clone(clone_child, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
		}
		if (c < 0)
			return -errno;
		uint64_t after = boot_ns();
		uint64_t tick = hz > 0 ? 1000000000u / (uint64_t)hz : 0;
		if (tick && before / tick == after / tick)
			out->start_ticks = before / tick;
		if (pidfd >= 0) {
			out->pid_ino = proc_pidfd_ino(pidfd);
			close(pidfd);
		}
		out->pid = c;
		out->exec_failed = f.err != 0;
		if (f.err) {
			f.step[sizeof f.step - 1] = '\0';
			f.arg[sizeof f.arg - 1] = '\0';
			failure_text(&f, out->msg, sizeof out->msg);
		}
		return 0;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pid_t c = fork();
	if (c == 0) {
		/* A failure record is far smaller than a pipe's buffer: O_NONBLOCK cannot lose it. */
		close(p[0]);
		struct sink k = {p[1], NULL};
		child(req, &k);
	}
	if (c < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	close(p[1]);
	out->pid = c;
	out->errfd = p[0];
	return 0;
}

int spawn_result(int errfd, char *msg, size_t len)
{
	struct spawn_failure f;
	ssize_t n = read(errfd, &f, sizeof f);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : 1;
	if (n == 0)
		return 1;
	if ((size_t)n < sizeof f) {
		snprintf(msg, len, "spawn failed (short report)");
		return 0;
	}
	f.step[sizeof f.step - 1] = '\0';
	f.arg[sizeof f.arg - 1] = '\0';
	failure_text(&f, msg, len);
	return 0;
}

char *spawn_resolve(const char *argv0, char *const *envp, const char *cwd)
{
	char buf[PATH_MAX];
	if (strchr(argv0, '/')) {
		if (argv0[0] == '/' || !cwd)
			snprintf(buf, sizeof buf, "%s", argv0);
		else
			snprintf(buf, sizeof buf, "%s/%s", cwd, argv0);
		if (access(buf, F_OK) < 0)
			return NULL;
		return strdup(buf);
	}
	const char *path = NULL;
	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	int saw_eacces = 0;
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n == 0)
			snprintf(buf, sizeof buf, "%s/%s", cwd ? cwd : ".", argv0);
		else
			snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, argv0);
		struct stat st;
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(buf, X_OK) == 0)
				return strdup(buf);
			saw_eacces = 1;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return NULL;
}

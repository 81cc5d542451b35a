/* vbench.c — the benchmark's timing helper: keeper, exec watcher, latencies, cleanup. */
/*
 * One binary, several subcommands (bench/run drives them; none is meant for users):
 *
 *   vbench keep OPTIONS -- CMD...         run a supervisor under a subreaper keeper, time
 *                                         until N supervised programs have exec'd
 *   vbench tree KEEPER RUNID              memory and CPU of the supervisor processes
 *   vbench cpu KEEPER RUNID SECONDS       CPU % of one core used by them over a window
 *   vbench restart KEEPER RUNID N COUNT TIMEOUT
 *                                         kill -9 COUNT programs one by one, print the ms
 *                                         until each replacement has exec'd
 *   vbench timecmd COUNT TIMEOUT [-f SECONDS] [-g GAP_MS] [-m MAX_SECONDS] -- CMD...
 *                                         wall time of each run of CMD, in ms (COUNT runs,
 *                                         or runs for SECONDS; -m: no new run after
 *                                         MAX_SECONDS once 3 are done)
 *   vbench crash RUNID MS DIR             the crash-storm program
 *   vbench stat                           n, p50, p95, p99, max of the numbers on stdin
 *   vbench reap RUNID DIR                 kill every process of this run that is left
 *
 * Supervised programs are recognised by their argv: `sleep 999999.RUNID I` (long-running
 * program I) and `vbench crash RUNID ...` (storm program). "Running" means "has exec'd":
 * exec events come from the kernel's process connector (NETLINK_CONNECTOR, needs root),
 * stamped by the kernel with CLOCK_MONOTONIC, so nothing is polled.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 1, 2))) static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "vbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t got = 0;
	while (got < len - 1) {
		ssize_t r = read(fd, buf + got, len - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

/* ---- recognising supervised programs ---------------------------------------------------- */

static char g_long[64]; /* "999999.RUNID" */
static const char *g_runid;

enum prog { PROG_NONE, PROG_LONG, PROG_CRASH };

/* What pid is: one of our programs (and which long program), or not. */
static enum prog classify(int pid, long *idx)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	ssize_t n = read_small(path, buf, sizeof buf);
	if (n <= 0)
		return PROG_NONE;
	const char *argv[5] = {0};
	int argc = 0;
	for (const char *p = buf; p < buf + n && argc < 5; p += strlen(p) + 1)
		argv[argc++] = p;
	if (argc >= 3 && strcmp(argv[1], g_long) == 0) {
		if (idx)
			*idx = strtol(argv[2], NULL, 10);
		return PROG_LONG;
	}
	if (argc >= 3 && strcmp(argv[1], "crash") == 0 && strcmp(argv[2], g_runid) == 0)
		return PROG_CRASH;
	return PROG_NONE;
}

static void set_runid(const char *runid)
{
	g_runid = runid;
	snprintf(g_long, sizeof g_long, "999999.%s", runid);
}

/* ---- /proc walking -------------------------------------------------------------------- */

struct pinfo {
	int pid, ppid;
	unsigned long long start, ticks;
};

/* Every process: pid, ppid, start time, utime+stime. Returns the count, *out malloc'd. */
static int scan_all(struct pinfo **out)
{
	size_t cap = 4096, n = 0;
	struct pinfo *v = malloc(cap * sizeof *v);
	DIR *d = opendir("/proc");
	struct dirent *e;
	if (!v || !d)
		die("cannot read %s", "/proc");
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[64], buf[1024];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if (read_small(path, buf, sizeof buf) <= 0)
			continue;
		char *p = strrchr(buf, ')');
		if (!p)
			continue;
		/* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
		 * utime stime cutime cstime priority nice threads itreal starttime */
		char st;
		int ppid;
		unsigned long long ut, stt, start;
		if (sscanf(p + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
				  "%*d %*d %llu",
			   &st, &ppid, &ut, &stt, &start) != 5)
			continue;
		if (n == cap) {
			cap *= 2;
			v = realloc(v, cap * sizeof *v);
			if (!v)
				die("out of memory");
		}
		v[n].pid = atoi(e->d_name);
		v[n].ppid = ppid;
		v[n].start = start;
		v[n].ticks = ut + stt;
		n++;
	}
	closedir(d);
	*out = v;
	return (int)n;
}

/* Marks in `in` the processes below root (root excluded). Quadratic-free: iterate to a
 * fixed point over the pid-indexed membership table. */
static int subtree(const struct pinfo *v, int n, int root, unsigned char **in_out)
{
	int maxpid = 1;
	for (int i = 0; i < n; i++)
		if (v[i].pid > maxpid)
			maxpid = v[i].pid;
	unsigned char *in = calloc((size_t)maxpid + 1, 1);
	if (!in)
		die("out of memory");
	if (root <= maxpid)
		in[root] = 2;
	int changed = 1, count = 0;
	while (changed) {
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (in[v[i].pid] || v[i].ppid <= 0 || v[i].ppid > maxpid || !in[v[i].ppid])
				continue;
			in[v[i].pid] = 1;
			changed = 1;
			count++;
		}
	}
	*in_out = in;
	return count;
}

static unsigned long long task_ns(int pid)
{
	char path[64], buf[256];
	unsigned long long sum = 0;
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char p2[96];
		snprintf(p2, sizeof p2, "/proc/%d/task/%s/schedstat", pid, e->d_name);
		if (read_small(p2, buf, sizeof buf) > 0)
			sum += strtoull(buf, NULL, 10);
	}
	closedir(d);
	return sum;
}

static void rollup(int pid, unsigned long long *rss, unsigned long long *pss)
{
	char path[64], buf[2048];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
	if (read_small(path, buf, sizeof buf) <= 0)
		return;
	char *p = strstr(buf, "\nRss:");
	if (p)
		*rss += strtoull(p + 5, NULL, 10);
	p = strstr(buf, "\nPss:");
	if (p)
		*pss += strtoull(p + 5, NULL, 10);
}

struct sample {
	int nsup, nprog;
	unsigned long long rss_kb, pss_kb, ticks, ns;
	int *pids;
	unsigned long long *starts, *cpu;
};

/* The supervisor processes: the keeper's subtree minus the supervised programs. */
static void sample_tree(int keeper, int with_mem, struct sample *s)
{
	struct pinfo *v;
	unsigned char *in;
	int n = scan_all(&v);
	subtree(v, n, keeper, &in);
	memset(s, 0, sizeof *s);
	s->pids = calloc((size_t)n + 1, sizeof *s->pids);
	s->starts = calloc((size_t)n + 1, sizeof *s->starts);
	s->cpu = calloc((size_t)n + 1, sizeof *s->cpu);
	for (int i = 0; i < n; i++) {
		if (v[i].pid > 0 && in[v[i].pid] != 1)
			continue;
		if (classify(v[i].pid, NULL) != PROG_NONE) {
			s->nprog++;
			continue;
		}
		unsigned long long ns = task_ns(v[i].pid);
		s->pids[s->nsup] = v[i].pid;
		s->starts[s->nsup] = v[i].start;
		s->cpu[s->nsup] = ns;
		s->nsup++;
		s->ticks += v[i].ticks;
		s->ns += ns;
		if (with_mem)
			rollup(v[i].pid, &s->rss_kb, &s->pss_kb);
	}
	free(in);
	free(v);
}

static void sample_free(struct sample *s)
{
	free(s->pids);
	free(s->starts);
	free(s->cpu);
}

static int cmd_tree(int argc, char **argv)
{
	if (argc != 4)
		die("usage: vbench tree KEEPER RUNID");
	set_runid(argv[3]);
	struct sample s;
	sample_tree(atoi(argv[2]), 1, &s);
	printf("nsup=%d nprog=%d rss_kb=%llu pss_kb=%llu cpu_ns=%llu ticks=%llu\n", s.nsup, s.nprog,
	       s.rss_kb, s.pss_kb, s.ns, s.ticks);
	sample_free(&s);
	return 0;
}

/* CPU over a window: per process (pid + start time), so processes that come and go count
 * for the part of the window they lived in. */
static int cmd_cpu(int argc, char **argv)
{
	if (argc != 5)
		die("usage: vbench cpu KEEPER RUNID SECONDS");
	set_runid(argv[3]);
	int keeper = atoi(argv[2]);
	double secs = atof(argv[4]);
	struct sample a, b;
	uint64_t t0 = now_ns();
	sample_tree(keeper, 0, &a);
	uint64_t target = t0 + (uint64_t)(secs * 1e9);
	for (uint64_t t; (t = now_ns()) < target;) {
		struct timespec ts = {(time_t)((target - t) / 1000000000ull),
				      (long)((target - t) % 1000000000ull)};
		nanosleep(&ts, NULL);
	}
	uint64_t t1 = now_ns();
	sample_tree(keeper, 0, &b);
	unsigned long long used = 0, ticks = b.ticks - (b.ticks >= a.ticks ? a.ticks : b.ticks);
	for (int i = 0; i < b.nsup; i++) {
		unsigned long long before = 0;
		for (int j = 0; j < a.nsup; j++)
			if (a.pids[j] == b.pids[i] && a.starts[j] == b.starts[i]) {
				before = a.cpu[j];
				break;
			}
		used += b.cpu[i] - (b.cpu[i] >= before ? before : b.cpu[i]);
	}
	double win = (double)(t1 - t0);
	printf("cpu_pct=%.4f ticks_pct=%.3f window_s=%.2f nsup=%d\n", 100.0 * (double)used / win,
	       100.0 * (double)ticks / (double)sysconf(_SC_CLK_TCK) / (win / 1e9), win / 1e9, b.nsup);
	sample_free(&a);
	sample_free(&b);
	return 0;
}

/* ---- the process connector ------------------------------------------------------------- */

static int cn_open(void)
{
	int s = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
	if (s < 0)
		die("process connector: %s (run bench/run as root)", strerror(errno));
	int sz = 64 << 20;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) < 0)
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0};
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0)
		die("process connector: bind: %s (run bench/run as root)", strerror(errno));
	/* nlmsghdr, cn_msg, then the op: built in a buffer (cn_msg ends in a flexible array). */
	union {
		struct nlmsghdr h;
		char b[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))];
	} m;
	memset(&m, 0, sizeof m);
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op));
	m.h.nlmsg_type = NLMSG_DONE;
	struct cn_msg *c = NLMSG_DATA(&m.h);
	c->id.idx = CN_IDX_PROC;
	c->id.val = CN_VAL_PROC;
	c->len = sizeof(enum proc_cn_mcast_op);
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	memcpy(c->data, &op, sizeof op);
	if (send(s, &m, m.h.nlmsg_len, 0) < 0)
		die("process connector: %s", strerror(errno));
	return s;
}

/* One exec event (pid and kernel timestamp); 0 = timeout, -1 = events were lost. */
static int cn_next_exec(int s, uint64_t deadline, int *pid, uint64_t *ts)
{
	static union {
		struct nlmsghdr h;
		char b[65536];
	} u;
	char *buf = u.b;
	static size_t len, off;
	for (;;) {
		while (off < len) {
			struct nlmsghdr *h = (struct nlmsghdr *)(buf + off);
			if (!NLMSG_OK(h, len - off))
				break;
			off += NLMSG_ALIGN(h->nlmsg_len);
			struct cn_msg *c = NLMSG_DATA(h);
			/* The event sits at a 4-byte offset: copy it out to read it aligned. */
			struct proc_event e;
			size_t have = h->nlmsg_len - NLMSG_LENGTH(sizeof *c);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof *c))
				continue;
			memset(&e, 0, sizeof e);
			memcpy(&e, c->data, have < sizeof e ? have : sizeof e);
			if (e.what == PROC_EVENT_EXEC) {
				*pid = e.event_data.exec.process_pid;
				*ts = e.timestamp_ns;
				return 1;
			}
		}
		len = off = 0;
		uint64_t now = now_ns();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = s, .events = POLLIN};
		int r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r == 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t got = recv(s, buf, sizeof u.b, 0);
		if (got < 0 && errno == ENOBUFS)
			return -1;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("process connector: %s", strerror(errno));
		len = (size_t)got;
	}
}

/* Live supervised programs now (after a connector overflow, a scan is the truth). */
static int count_progs(void)
{
	struct pinfo *v;
	int n = scan_all(&v), c = 0;
	for (int i = 0; i < n; i++)
		if (classify(v[i].pid, NULL) != PROG_NONE)
			c++;
	free(v);
	return c;
}

/* ---- keep: launch a supervisor, time start-all, then keep and clean up ------------------- */

static volatile sig_atomic_t g_stop;
static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* SIGKILL everything below us until nothing is left (new children may appear meanwhile). */
static int kill_subtree(int root, double max_s)
{
	uint64_t end = now_ns() + (uint64_t)(max_s * 1e9);
	int left = 0;
	do {
		struct pinfo *v;
		unsigned char *in;
		int n = scan_all(&v);
		subtree(v, n, root, &in);
		left = 0;
		for (int i = 0; i < n; i++)
			if (in[v[i].pid] == 1 && kill(v[i].pid, SIGKILL) == 0)
				left++;
		free(in);
		free(v);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (left) {
			struct timespec ts = {0, 20000000};
			nanosleep(&ts, NULL);
		}
	} while (left && now_ns() < end);
	return left;
}

static void write_file(const char *path, const char *text)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static int cmd_keep(int argc, char **argv)
{
	long want = 0;
	double timeout = 60, grace = 5;
	int stopsig = SIGTERM, i;
	const char *out = NULL, *log = "/dev/null", *pidfile = NULL;
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++) {
		if (i + 1 >= argc)
			die("keep: %s needs a value", argv[i]);
		if (!strcmp(argv[i], "-n"))
			want = atol(argv[++i]);
		else if (!strcmp(argv[i], "-R"))
			set_runid(argv[++i]);
		else if (!strcmp(argv[i], "-o"))
			out = argv[++i];
		else if (!strcmp(argv[i], "-t"))
			timeout = atof(argv[++i]);
		else if (!strcmp(argv[i], "-g"))
			grace = atof(argv[++i]);
		else if (!strcmp(argv[i], "-k"))
			stopsig = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-l"))
			log = argv[++i];
		else if (!strcmp(argv[i], "-p"))
			pidfile = argv[++i];
		else
			die("keep: unknown option %s", argv[i]);
	}
	if (i >= argc - 1 || !g_runid || !out)
		die("usage: vbench keep -R RUNID -n N -o OUT [-t S] [-g S] [-k SIG] [-l LOG] "
			  "[-p PIDFILE] -- CMD...");
	char **cmd = argv + i + 1;

	/* Whatever happens to bench/run, we clean up: parent death, Ctrl-C, TERM. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		g_stop = 1;
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	int cn = cn_open();
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	uint64_t t0 = now_ns();
	pid_t sup = fork();
	if (sup < 0)
		die("fork: %s", strerror(errno));
	if (sup == 0) {
		/* A session of its own: Ctrl-C on the terminal reaches us, not the supervisor. */
		setsid();
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, 0);
		int nul = open("/dev/null", O_RDONLY);
		dup2(nul, 0);
		if (logfd >= 0) {
			dup2(logfd, 1);
			dup2(logfd, 2);
		}
		execvp(cmd[0], cmd);
		fprintf(stderr, "vbench: exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (pidfile) {
		char b[32];
		snprintf(b, sizeof b, "%d\n", (int)sup);
		write_file(pidfile, b);
	}

	/* Count execs of distinct supervised programs until `want` of them run. */
	long seen = 0;
	int lossy = 0, pid;
	uint64_t ts = 0, deadline = t0 + (uint64_t)(timeout * 1e9);
	char res[256];
	while (seen < want && !g_stop) {
		int r = cn_next_exec(cn, deadline, &pid, &ts);
		if (r == 0)
			break;
		if (r < 0) {
			lossy = 1;
			seen = count_progs();
			ts = now_ns();
			continue;
		}
		if (classify(pid, NULL) != PROG_NONE)
			seen++;
		int st;
		if (waitpid(sup, &st, WNOHANG) == sup) {
			snprintf(res, sizeof res, "died status=%d seen=%ld\n", st, seen);
			write_file(out, res);
			sup = -1;
			break;
		}
	}
	close(cn);
	if (sup > 0) {
		if (seen >= want)
			snprintf(res, sizeof res, "ok %.6f%s\n", (double)(ts - t0) / 1e9,
				 lossy ? " lossy" : "");
		else if (g_stop)
			snprintf(res, sizeof res, "interrupted seen=%ld\n", seen);
		else
			snprintf(res, sizeof res, "timeout %.0f seen=%ld\n", timeout, seen);
		write_file(out, res);
	}

	/* Keep: reap orphans until told to stop. */
	while (!g_stop) {
		int st;
		pid_t w = waitpid(-1, &st, 0);
		if (w < 0 && errno == ECHILD) {
			struct timespec t = {0, 100000000};
			nanosleep(&t, NULL);
		}
		if (w == sup)
			sup = -1;
	}
	/* Stop: ask the supervisor, give it `grace`, then kill the whole tree. */
	if (sup > 0) {
		kill(sup, stopsig);
		uint64_t end = now_ns() + (uint64_t)(grace * 1e9);
		while (now_ns() < end) {
			pid_t w = waitpid(-1, NULL, WNOHANG);
			if (w == sup)
				break;
			if (w <= 0) {
				struct timespec t = {0, 10000000};
				nanosleep(&t, NULL);
			}
		}
	}
	int left = kill_subtree(getpid(), 20);
	if (left)
		fprintf(stderr, "vbench keep: %d processes would not die\n", left);
	return left ? 1 : 0;
}

/* ---- restart latency ------------------------------------------------------------------- */

static int cmd_restart(int argc, char **argv)
{
	if (argc != 7)
		die("usage: vbench restart KEEPER RUNID N COUNT TIMEOUT");
	set_runid(argv[3]);
	long n = atol(argv[4]), count = atol(argv[5]);
	double timeout = atof(argv[6]);
	if (n < 1 || count < 1 || count > n)
		die("restart: need 1 <= COUNT <= N");
	int *pidof = calloc((size_t)n, sizeof *pidof);
	struct pinfo *v;
	int np = scan_all(&v);
	for (int i = 0; i < np; i++) {
		long idx;
		if (classify(v[i].pid, &idx) == PROG_LONG && idx >= 0 && idx < n)
			pidof[idx] = v[i].pid;
	}
	free(v);
	/* Victim k is program k*N/COUNT, killed at k * 50 ms whether or not the previous one is
	 * back: every victim is another program that has run for a while, so no peer's "not
	 * more often than once a second" rule applies, and a slow peer's latencies (a 1 s poll)
	 * overlap instead of adding up. */
	struct victim {
		long idx;
		int old;
		uint64_t t0, lat;
		int state; /* 0 waiting to be killed, 1 killed, 2 replaced, 3 failed */
	} *vic = calloc((size_t)count, sizeof *vic);
	int cn = cn_open(), lossy = 0, pid;
	uint64_t start = now_ns() + 1000000, ts;
	long killed = 0, open = 0;
	for (long k = 0; k < count; k++) {
		vic[k].idx = (k * n) / count;
		vic[k].old = pidof[vic[k].idx];
	}
	for (;;) {
		uint64_t now = now_ns();
		while (killed < count && now >= start + (uint64_t)killed * 50000000ull) {
			struct victim *x = &vic[killed++];
			x->t0 = now_ns();
			if (!x->old || kill(x->old, SIGKILL) < 0)
				x->state = 3;
			else {
				x->state = 1;
				open++;
			}
		}
		if (!open && killed == count)
			break;
		uint64_t deadline = killed < count ? start + (uint64_t)killed * 50000000ull
						   : now + 50000000ull;
		int r = cn_next_exec(cn, deadline, &pid, &ts);
		if (r < 0)
			lossy = 1;
		if (r > 0) {
			long got;
			if (classify(pid, &got) == PROG_LONG)
				for (long k = 0; k < killed; k++)
					if (vic[k].state == 1 && vic[k].idx == got && pid != vic[k].old) {
						vic[k].state = 2;
						vic[k].lat = ts - vic[k].t0;
						open--;
					}
		}
		now = now_ns();
		for (long k = 0; k < killed; k++)
			if (vic[k].state == 1 && now - vic[k].t0 > (uint64_t)(timeout * 1e9)) {
				vic[k].state = 3;
				open--;
			}
	}
	for (long k = 0; k < count; k++) {
		if (vic[k].state == 2)
			printf("%.3f%s\n", (double)vic[k].lat / 1e6, lossy ? " lossy" : "");
		else if (!vic[k].old)
			printf("missing %ld\n", vic[k].idx);
		else
			printf("timeout %ld\n", vic[k].idx);
	}
	close(cn);
	free(vic);
	free(pidof);
	return 0;
}

/* ---- timing commands ------------------------------------------------------------------- */

static int cmd_timecmd(int argc, char **argv)
{
	if (argc < 6)
		die("usage: vbench timecmd COUNT TIMEOUT [-f SECONDS] [-g GAP_MS] [-m MAX_SECONDS] -- "
		    "CMD...");
	long count = atol(argv[2]);
	double timeout = atof(argv[3]), for_s = 0, gap_ms = 0, max_s = 0;
	int i;
	for (i = 4; i < argc && strcmp(argv[i], "--"); i += 2) {
		if (i + 1 >= argc)
			die("timecmd: %s needs a value", argv[i]);
		if (!strcmp(argv[i], "-f"))
			for_s = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-g"))
			gap_ms = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "-m"))
			max_s = atof(argv[i + 1]);
		else
			die("timecmd: unknown option %s", argv[i]);
	}
	if (i >= argc - 1)
		die("timecmd: no command");
	char **cmd = argv + i + 1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	uint64_t begin = now_ns(), end = for_s > 0 ? begin + (uint64_t)(for_s * 1e9) : 0;
	for (long k = 0; for_s > 0 ? now_ns() < end : k < count; k++) {
		if (max_s > 0 && k >= 3 && now_ns() - begin > (uint64_t)(max_s * 1e9))
			break;
		pid_t pid;
		uint64_t t0 = now_ns();
		int err = posix_spawnp(&pid, cmd[0], &fa, NULL, cmd, environ);
		if (err)
			die("cannot run %s", cmd[0]);
		int st = 0, done = 0;
		uint64_t deadline = t0 + (uint64_t)(timeout * 1e9);
		while (!done) {
			pid_t w = waitpid(pid, &st, WNOHANG);
			if (w == pid) {
				done = 1;
				break;
			}
			if (now_ns() > deadline) {
				kill(pid, SIGKILL);
				waitpid(pid, &st, 0);
				break;
			}
			/* Fine-grained at first (most commands take a few ms), coarser later. */
			struct timespec t = {0, now_ns() - t0 < 20000000 ? 50000 : 1000000};
			nanosleep(&t, NULL);
		}
		uint64_t t1 = now_ns();
		if (!done)
			printf("timeout\n");
		else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			printf("%.3f fail=%d\n", (double)(t1 - t0) / 1e6,
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		else
			printf("%.3f\n", (double)(t1 - t0) / 1e6);
		fflush(stdout);
		if (gap_ms > 0) {
			struct timespec t = {(time_t)(gap_ms / 1000), (long)(((long)gap_ms % 1000) * 1000000)};
			nanosleep(&t, NULL);
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	return 0;
}

/* ---- the crash-storm program ------------------------------------------------------------ */

static int cmd_crash(int argc, char **argv)
{
	if (argc != 5)
		die("usage: vbench crash RUNID MS DIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/stop", argv[4]);
	if (access(path, F_OK) == 0) {
		/* The storm is over: stay up, so the supervisor has nothing more to record. */
		for (;;)
			pause();
	}
	long ms = atol(argv[3]);
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
	snprintf(path, sizeof path, "%s/exits", argv[4]);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t r = write(fd, "x", 1);
		(void)r;
		close(fd);
	}
	return 73;
}

/* ---- statistics ------------------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p)
{
	/* nearest rank */
	int k = (int)(p / 100.0 * n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int cmd_stat(void)
{
	int cap = 1024, n = 0, bad = 0;
	double *v = malloc((size_t)cap * sizeof *v);
	char line[256];
	while (fgets(line, sizeof line, stdin)) {
		char *end;
		double x = strtod(line, &end);
		if (end == line || (*end && *end != '\n' && *end != ' ')) {
			bad++;
			continue;
		}
		if (n == cap)
			v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
		v[n++] = x;
	}
	if (!n) {
		printf("n=0 bad=%d\n", bad);
		free(v);
		return 0;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("n=%d bad=%d min=%.6g med=%.6g p50=%.6g p95=%.6g p99=%.6g max=%.6g\n", n, bad, v[0],
	       med, pct(v, n, 50), pct(v, n, 95), pct(v, n, 99), v[n - 1]);
	free(v);
	return 0;
}

/* ---- the safety net --------------------------------------------------------------------- */

static int cmd_reap(int argc, char **argv)
{
	if (argc != 4)
		die("usage: vbench reap RUNID DIR");
	set_runid(argv[2]);
	const char *dir = argv[3];
	size_t dl = strlen(dir);
	int total = 0;
	for (int round = 0; round < 50; round++) {
		struct pinfo *v;
		int n = scan_all(&v), hit = 0;
		for (int i = 0; i < n; i++) {
			if (v[i].pid == getpid())
				continue;
			char path[64], link[4096];
			int ours = classify(v[i].pid, NULL) != PROG_NONE;
			if (!ours) {
				snprintf(path, sizeof path, "/proc/%d/cwd", v[i].pid);
				ssize_t l = readlink(path, link, sizeof link - 1);
				if (l > 0) {
					link[l] = '\0';
					ours = strncmp(link, dir, dl) == 0 && (link[dl] == '/' || !link[dl]);
				}
			}
			if (ours && kill(v[i].pid, SIGKILL) == 0)
				hit++;
		}
		free(v);
		total += hit;
		if (!hit)
			break;
		struct timespec t = {0, 50000000};
		nanosleep(&t, NULL);
	}
	if (total)
		fprintf(stderr, "vbench reap: killed %d leftover processes\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: vbench keep|tree|cpu|restart|timecmd|crash|stat|reap ...");
	const char *c = argv[1];
	if (!strcmp(c, "keep"))
		return cmd_keep(argc, argv);
	if (!strcmp(c, "tree"))
		return cmd_tree(argc, argv);
	if (!strcmp(c, "cpu"))
		return cmd_cpu(argc, argv);
	if (!strcmp(c, "restart"))
		return cmd_restart(argc, argv);
	if (!strcmp(c, "timecmd"))
		return cmd_timecmd(argc, argv);
	if (!strcmp(c, "crash"))
		return cmd_crash(argc, argv);
	if (!strcmp(c, "stat"))
		return cmd_stat();
	if (!strcmp(c, "reap"))
		return cmd_reap(argc, argv);
	die("unknown subcommand %s", c);
}

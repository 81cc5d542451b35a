/* test_cgroup.c — monitor_cgroup on real cgroups (as root) and on fake cgroup trees. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vigil/testing.h>

/* The plugin is compiled into the test: its static functions and state come with it. */
#include "../../plugins/monitors/cgroup/cgfs.c"
#include "../../plugins/monitors/cgroup/detect.c"
#include "../../plugins/monitors/cgroup/limits.c"
#include "../../plugins/monitors/cgroup/cgroup.c"

#define SKIP_CODE 77

static struct vigil_fake_host fh;
static const struct vigil_plugin *desc;
static const struct vigil_monitor_ops *ops;
static struct cg *cg;
static char parent[64];
static char tmpdir[256]; /* fake /proc/self or fake cgroup tree, removed at teardown */
static pid_t kids[16];   /* every process a test learnt about, killed at teardown */
static size_t nkids;

/* ---- what the host offers, found once by a probe in a child process ---- */

struct avail {
	int real;    /* a usable membership hierarchy */
	int v1_only; /* the same without the v2 hierarchy (v1 freezer or scan) */
	int memory, pids, cpu;
	int freeze_v2;  /* cgroup.freeze in the membership hierarchy */
	int v1_freezer; /* v1-only mode kills by freezing */
	char reason[600];
};
static struct avail av;

/* ---- small helpers ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(int ms)
{
	poll(NULL, 0, ms);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *slurp(const char *path)
{
	static char buf[4096];

	if (cg_read(path, buf, sizeof buf) < 0)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Waits until pid has exited (it may be a zombie), up to timeout_ms. */
static int wait_gone(pid_t pid, int timeout_ms)
{
	int fd = pidfd_of(pid), r;
	struct pollfd p;

	if (fd < 0)
		return errno == ESRCH;
	p.fd = fd;
	p.events = POLLIN;
	r = poll(&p, 1, timeout_ms);
	close(fd);
	return r == 1;
}

static void remember(pid_t pid)
{
	if (nkids < sizeof kids / sizeof kids[0])
		kids[nkids++] = pid;
}

/* Reaps every child (we are a subreaper, so orphaned grandchildren come back to us), for up
 * to 10 s: something still alive then is the janitor's. */
static void reap_all(void)
{
	long long end = now_ms() + 10000;

	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno != EINTR)
			return; /* ECHILD: all reaped */
		if (p == 0) {
			if (now_ms() > end)
				return;
			nap(5);
		}
	}
}

/* ---- the janitor: cleans up after a test that could not ----
 *
 * In CK_FORK mode a failed assertion exits the test process without its teardown, and a
 * timeout kills its process group; the processes a test started have groups of their own
 * (as the core's children do) and the escaped ones left even those. So every test has a
 * janitor: a process outside the test's group and not its child, which waits until the test
 * process is gone (EOF on a pipe only the test holds), then empties the cgroups it was told
 * about, removes them, and removes temporary trees. It reads lines "cg BASE" and "rm DIR". */
static int janitor_fd = -1;

static void janitor_sweep(const char *base)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/web.0/cgroup.procs", base);
	for (int pass = 0; pass < 500; pass++) {
		pid_t *pids;
		size_t n;

		if (cg_read_pids(path, &pids, &n) < 0 || n == 0) {
			free(pids);
			break;
		}
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		nap(10);
	}
	snprintf(path, sizeof path, "%s/web.0", base);
	rmdir(path);
	rmdir(base);
}

static void janitor_main(int rfd)
{
	char *text = NULL, buf[4096];
	size_t len = 0;
	ssize_t n;

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	while ((n = read(rfd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
		char *grown;

		if (n <= 0)
			continue;
		grown = realloc(text, len + (size_t)n + 1);
		if (!grown)
			_exit(1);
		text = grown;
		memcpy(text + len, buf, (size_t)n);
		len += (size_t)n;
		text[len] = '\0';
	}
	for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "cg ", 3) == 0)
			janitor_sweep(line + 3);
		else if (strncmp(line, "rm ", 3) == 0)
			nftw(line + 3, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	_exit(0);
}

static void janitor_start(void)
{
	int p[2];
	pid_t mid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	/* Forked twice, before we become a subreaper, so it is not our child to reap. */
	mid = fork();
	ck_assert_int_ge(mid, 0);
	if (mid == 0) {
		close(p[1]);
		if (fork() == 0)
			janitor_main(p[0]);
		_exit(0);
	}
	close(p[0]);
	ck_assert_int_eq(waitpid(mid, NULL, 0), mid);
	janitor_fd = p[1];
}

VIGIL_PRINTF(1, 2)
static void janitor_tell(const char *fmt, ...)
{
	char line[4200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ck_assert(n > 0 && (size_t)n < sizeof line);
	ck_assert_int_eq(write(janitor_fd, line, (size_t)n), n);
}

/* ---- children the way the core spawns them: forked, then held until placed ---- */

typedef void (*program_fn)(int report, long arg);

struct kid {
	pid_t pid;
	int hold;   /* write "g" to let it run */
	int report; /* what it reports */
};

static struct kid spawn_held(program_fn prog, long arg)
{
	int hold[2], rep[2];
	struct kid k;

	ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(rep, O_CLOEXEC), 0);
	k.pid = fork();
	ck_assert_int_ge(k.pid, 0);
	if (k.pid == 0) {
		char c;

		/* exec would reset the handlers the test framework installed; do it by hand. */
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test that dies takes its children along */
		close(janitor_fd);                /* the janitor waits for the test alone */
		setpgid(0, 0);
		close(hold[1]);
		close(rep[0]);
		if (read(hold[0], &c, 1) != 1)
			_exit(111);
		prog(rep[1], arg);
		_exit(0);
	}
	setpgid(k.pid, k.pid);
	remember(k.pid);
	close(hold[0]);
	close(rep[1]);
	k.hold = hold[1];
	k.report = rep[0];
	return k;
}

static void release(struct kid *k)
{
	ck_assert_int_eq(write(k->hold, "g", 1), 1);
	close(k->hold);
	k->hold = -1;
}

static long read_report(struct kid *k, int timeout_ms)
{
	struct pollfd p = {.fd = k->report, .events = POLLIN};
	long v = -1;

	ck_assert_msg(poll(&p, 1, timeout_ms) == 1, "the child reported nothing in %d ms",
	              timeout_ms);
	ck_assert_int_eq(read(k->report, &v, sizeof v), (ssize_t)sizeof v);
	return v;
}

static void report(int fd, long v)
{
	if (write(fd, &v, sizeof v) != (ssize_t)sizeof v)
		_exit(112);
}

static void prog_pause(int rep, long arg)
{
	(void)arg;
	report(rep, getpid());
	for (;;)
		pause();
}

/* A daemon-style double fork: the grandchild leaves the process group and the session.
 * arg = 1: the grandchild ignores SIGTERM. */
static void prog_escape(int rep, long arg)
{
	pid_t p = fork();

	if (p == 0) {
		setsid();
		if (fork() == 0) {
			if (arg)
				signal(SIGTERM, SIG_IGN);
			report(rep, getpid());
			for (;;)
				pause();
		}
		_exit(0);
	}
	for (;;)
		pause();
}

/* Touches arg MiB, one page at a time, then reports. */
static void prog_alloc(int rep, long arg)
{
	size_t len = (size_t)arg << 20;
	char *p = malloc(len);

	if (!p)
		_exit(113);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	report(rep, 0);
	for (;;)
		pause();
}

/* Forks arg children that pause; reports how many forks succeeded. */
static void prog_forks(int rep, long arg)
{
	long ok = 0;

	for (long i = 0; i < arg; i++) {
		pid_t p = fork();

		if (p == 0) {
			for (;;)
				pause();
		}
		ok += p > 0;
	}
	report(rep, ok);
	for (;;)
		pause();
}

static void prog_spin(int rep, long arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	report(rep, getpid());
	for (;;)
		n++;
}

/* ---- the plugin through the fake host ---- */

static void setup(void)
{
	vigil_fake_host_init(&fh);
	fh.kind = "monitor";
	fh.instance = "cgroup";
	fh.echo = getenv("VIGIL_TEST_ECHO") != NULL;
	desc = vigil_plugin_entry_v1();
	ops = desc->ops;
	fh.keys = desc->keys;
	cg = NULL;
	nkids = 0;
	tmpdir[0] = '\0';
	snprintf(parent, sizeof parent, "vigil-test-%d", (int)getpid());
	janitor_start();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void teardown(void)
{
	for (size_t i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	/* Whatever a failed test left in a real cgroup (forked children we never saw). */
	if (cg && cg->plan.procs >= 0 &&
	    (!tmpdir[0] || strncmp(cg->plan.h[cg->plan.procs].base, tmpdir, strlen(tmpdir)) != 0))
		(void)cg_kill_all(cg, "web.0");
	reap_all();
	if (cg)
		desc->fini(cg);
	cg = NULL;
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	close(janitor_fd); /* the janitor finds nothing left, and goes */
	janitor_fd = -1;
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
}

/* init, configure, start; proc_self NULL = the real /proc/self. */
static void start(const char *proc_self)
{
	size_t lines = vigil_fake_log_count(&fh, VIGIL_LOG_DEBUG, "cgroup mode:");
	void *state;

	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "parent", parent), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	cg = state;
	if (proc_self)
		cg->proc_self = proc_self;
	ck_assert_int_eq(desc->start(cg), 0);
	for (size_t i = 0; i < cg->plan.nh; i++)
		janitor_tell("cg %s\n", cg->plan.h[i].base);
	/* One line says which mode and why. */
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_DEBUG, "cgroup mode:"), lines + 1);
}

static struct vigil_proc_info info_of(const char *name, int64_t mem, int64_t nproc, double cpu)
{
	struct vigil_proc_info i;

	memset(&i, 0, sizeof i);
	i.size = sizeof i;
	i.state = VIGIL_PROC_STARTING;
	i.name = name;
	i.program = "web";
	i.command = "/bin/true";
	i.instance = 0;
	i.limit_memory = mem;
	i.limit_nproc = nproc;
	i.limit_cpu = cpu;
	return i;
}

/* base/web.0/file of the hierarchy enforcing ctrl (-1: the membership hierarchy). */
static const char *unit_file(int ctrl, const char *file)
{
	static char path[4096];
	int h = ctrl < 0 ? cg->plan.procs : cg->plan.ctrl[ctrl];

	ck_assert_int_ge(h, 0);
	ck_assert_int_eq(cg_unit_path(cg, (size_t)h, "web.0", file, path, sizeof path), 0);
	return path;
}

/* 1 when /proc/PID/cgroup puts pid in .../<parent>/web.0 in the hierarchy of ctrl (-1 =
 * membership). */
static int in_unit(pid_t pid, int ctrl)
{
	char path[64], want[128], *text, *line;
	int h = ctrl < 0 ? cg->plan.procs : cg->plan.ctrl[ctrl];
	const struct cg_hier *hier = &cg->plan.h[h];
	const char *key = hier->v2 ? "" : NULL;
	int found = 0;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof want, "/%s/web.0", parent);
	text = read_all(path);
	ck_assert_ptr_nonnull(text);
	if (!key) {
		for (int c = 0; c < CG_NCTRL && !key; c++)
			if (hier->ctrls & (1u << c))
				key = ctrl_names[c];
	}
	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t pl, wl = strlen(want);

		if (!c2)
			continue;
		*c2 = '\0';
		if (hier->v2 ? strcmp(line, "0:") != 0 : !has_token(c1 + 1, key, ','))
			continue;
		pl = strlen(c2 + 1);
		found = pl >= wl && strcmp(c2 + 1 + pl - wl, want) == 0;
	}
	free(text);
	return found;
}

/* Delivers fd readiness the way the loop would, for up to timeout_ms. */
static int pump_watches(int timeout_ms)
{
	long long end = now_ms() + timeout_ms;

	do {
		struct pollfd p[8];
		int n = 0;

		for (struct vigil_fake_watch_ *w = fh.watches; w && n < 8; w = w->next)
			if (!w->dead)
				p[n++] = (struct pollfd){.fd = w->fd, .events = POLLIN};
		if (n && poll(p, (nfds_t)n, 50) > 0) {
			for (int i = 0; i < n; i++)
				if (p[i].revents & POLLIN)
					vigil_fake_fd_ready(&fh, p[i].fd, VIGIL_FD_IN);
			return 1;
		}
		if (!n)
			nap(50);
	} while (now_ms() < end);
	return 0;
}

/* Fires the rmdir retries until every dir of web.0 is gone; 1 when they are. */
static int unit_gone(void)
{
	for (int i = 0; i < 40; i++) {
		int left = 0;
		char path[4096];

		for (size_t h = 0; h < cg->plan.nh; h++) {
			ck_assert_int_eq(cg_unit_path(cg, h, "web.0", NULL, path, sizeof path), 0);
			left += cg_exists(path);
		}
		if (!left)
			return 1;
		nap(25);
		vigil_fake_advance(&fh, 50);
	}
	return 0;
}

/* After stop/fini: the per-daemon parents we made are gone too. */
static void assert_bases_removed(char bases[][4096], size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(!cg_exists(bases[i]), "%s was not removed", bases[i]);
}

static size_t save_bases(char bases[][4096])
{
	for (size_t i = 0; i < cg->plan.nh; i++)
		snprintf(bases[i], 4096, "%s", cg->plan.h[i].base);
	return cg->plan.nh;
}

/* ---- real cgroups ---- */

START_TEST(places_child_before_exec_with_limits)
{
	struct vigil_proc_info info = info_of("web.0", 64 << 20, 32, 150);
	char bases[CG_MAX_HIER][4096];
	size_t nb;
	struct kid k;

	start(NULL);
	ck_assert_int_ge(cg->plan.procs, 0);
	k = spawn_held(prog_pause, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	/* Placed while still held: everything it runs from now on is inside. */
	ck_assert_msg(in_unit(k.pid, -1), "pid %d is not in the membership cgroup", (int)k.pid);
	for (int c = CG_MEMORY; c <= CG_CPU; c++)
		if (cg->plan.ctrl[c] >= 0)
			ck_assert_msg(in_unit(k.pid, c), "pid %d not in the %s cgroup", (int)k.pid,
			              cg_ctrl_name(c));
	if (cg->plan.ctrl[CG_MEMORY] >= 0) {
		int v2 = cg->plan.h[cg->plan.ctrl[CG_MEMORY]].v2;

		ck_assert_str_eq(
		    slurp(unit_file(CG_MEMORY, v2 ? "memory.max" : "memory.limit_in_bytes")),
		    "67108864");
		if (cg->plan.swap)
			ck_assert_str_eq(
			    slurp(unit_file(CG_MEMORY, v2 ? "memory.swap.max"
			                                  : "memory.memsw.limit_in_bytes")),
			    v2 ? "0" : "67108864");
	}
	if (cg->plan.ctrl[CG_PIDS] >= 0)
		ck_assert_str_eq(slurp(unit_file(CG_PIDS, "pids.max")), "32");
	if (cg->plan.ctrl[CG_CPU] >= 0) {
		if (cg->plan.h[cg->plan.ctrl[CG_CPU]].v2) {
			ck_assert_str_eq(slurp(unit_file(CG_CPU, "cpu.max")), "150000 100000");
		} else {
			ck_assert_str_eq(slurp(unit_file(CG_CPU, "cpu.cfs_quota_us")), "150000");
			ck_assert_str_eq(slurp(unit_file(CG_CPU, "cpu.cfs_period_us")), "100000");
		}
	}
	release(&k);
	ck_assert_int_eq(read_report(&k, 5000), k.pid);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	ck_assert(wait_gone(k.pid, 5000));
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
	nb = save_bases(bases);
	desc->stop(cg);
	desc->fini(cg);
	cg = NULL;
	assert_bases_removed(bases, nb);
}
END_TEST

/* A restart finds its cgroup again and the new limits replace the old ones. */
START_TEST(restart_reuses_the_cgroup_with_new_limits)
{
	struct vigil_proc_info info = info_of("web.0", 64 << 20, 32, 150);
	struct kid k;

	start(NULL);
	k = spawn_held(prog_pause, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	kill(k.pid, SIGKILL);
	reap_all();
	/* It is still there (say the retry has not run yet): attach again, larger and unlimited. */
	info = info_of("web.0", 256 << 20, 0, 0);
	k = spawn_held(prog_pause, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	ck_assert(in_unit(k.pid, -1));
	if (cg->plan.ctrl[CG_MEMORY] >= 0 && !cg->plan.h[cg->plan.ctrl[CG_MEMORY]].v2) {
		ck_assert_str_eq(slurp(unit_file(CG_MEMORY, "memory.limit_in_bytes")), "268435456");
		if (cg->plan.swap)
			ck_assert_str_eq(slurp(unit_file(CG_MEMORY, "memory.memsw.limit_in_bytes")),
			                 "268435456");
	}
	if (cg->plan.ctrl[CG_PIDS] >= 0)
		ck_assert_str_eq(slurp(unit_file(CG_PIDS, "pids.max")), "max");
	if (cg->plan.ctrl[CG_CPU] >= 0 && !cg->plan.h[cg->plan.ctrl[CG_CPU]].v2)
		ck_assert_str_eq(slurp(unit_file(CG_CPU, "cpu.cfs_quota_us")), "-1");
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}
END_TEST

/* The grandchild setsid()s and double-forks: the process group no longer holds it, the
 * cgroup does. Runs in every kill mode the host offers (see the loop tests below). */
static void escaped_grandchild_is_killed(void)
{
	struct vigil_proc_info info = info_of("web.0", 0, 0, 0);
	struct kid k;
	pid_t g;

	k = spawn_held(prog_escape, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	g = (pid_t)read_report(&k, 5000);
	remember(g);
	ck_assert_int_ne(getpgid(g), k.pid);        /* left the process group */
	ck_assert_int_ne(getsid(g), getsid(k.pid)); /* and the session */
	ck_assert(in_unit(g, -1));                  /* but not the cgroup */
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	ck_assert_msg(wait_gone(g, 5000), "the escaped grandchild %d survived kill_tree", (int)g);
	ck_assert(wait_gone(k.pid, 5000));
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}

START_TEST(kill_tree_reaches_what_left_the_process_group)
{
	start(NULL);
	escaped_grandchild_is_killed();
}
END_TEST

START_TEST(kill_tree_by_freezing_v2)
{
	start(NULL);
	ck_assert(cg->plan.h[cg->plan.procs].v2);
	cg->plan.kill = CG_KILL_FREEZE_V2; /* as on a kernel before cgroup.kill (5.14) */
	escaped_grandchild_is_killed();
}
END_TEST

/* A copy of /proc/self without the cgroup2 mount: a v1-only host. */
static void fake_v1_only_proc(void)
{
	char path[512], *mounts, *line, *out;
	size_t len = 0;

	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-cgtest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	janitor_tell("rm %s\n", tmpdir);
	mounts = read_all("/proc/self/mountinfo");
	ck_assert_ptr_nonnull(mounts);
	out = calloc(1, strlen(mounts) + 1);
	for (line = strtok(mounts, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, " - cgroup2 "))
			continue;
		len += (size_t)sprintf(out + len, "%s\n", line);
	}
	snprintf(path, sizeof path, "%s/mountinfo", tmpdir);
	write_text(path, out);
	free(out);
	free(mounts);
	out = read_all("/proc/self/cgroup");
	snprintf(path, sizeof path, "%s/cgroup", tmpdir);
	write_text(path, out);
	free(out);
}

START_TEST(kill_tree_on_a_v1_only_host)
{
	fake_v1_only_proc();
	start(tmpdir);
	ck_assert_int_ge(cg->plan.procs, 0);
	ck_assert(!cg->plan.h[cg->plan.procs].v2);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "cgroup mode: v1"), 1);
	ck_assert_int_eq(cg->plan.kill, av.v1_freezer ? CG_KILL_FREEZE_V1 : CG_KILL_SCAN);
	escaped_grandchild_is_killed();
}
END_TEST

START_TEST(kill_tree_by_scanning_pids)
{
	fake_v1_only_proc();
	start(tmpdir);
	cg->plan.kill = CG_KILL_SCAN; /* no freezer either */
	escaped_grandchild_is_killed();
}
END_TEST

/* A stop signals the tree with stop_signal: every pid gets it, not only the group. */
START_TEST(stop_signal_reaches_every_pid_then_detach_kills_the_rest)
{
	struct vigil_proc_info info = info_of("web.0", 0, 0, 0);
	struct kid k;
	pid_t g;

	start(NULL);
	k = spawn_held(prog_escape, 1); /* the grandchild ignores SIGTERM */
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	g = (pid_t)read_report(&k, 5000);
	remember(g);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGTERM), 1);
	ck_assert(wait_gone(k.pid, 5000));
	ck_assert_int_eq(waitpid(k.pid, NULL, 0), k.pid);
	ck_assert_msg(!wait_gone(g, 100), "a grandchild that ignores SIGTERM died of it");
	/* The main process is gone and the stop was for the whole tree: nothing may stay. */
	ops->detach(cg, &info);
	ck_assert_msg(wait_gone(g, 5000), "detach after a stop left %d alive", (int)g);
	reap_all();
	ck_assert(unit_gone());
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

/* Without a stop (the main process died on its own) detach does not kill: the core decides. */
START_TEST(detach_keeps_a_cgroup_that_still_holds_processes)
{
	struct vigil_proc_info info = info_of("web.0", 0, 0, 0);
	struct kid k;
	pid_t g;

	start(NULL);
	k = spawn_held(prog_escape, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	g = (pid_t)read_report(&k, 5000);
	remember(g);
	kill(k.pid, SIGKILL);
	ck_assert_int_eq(waitpid(k.pid, NULL, 0), k.pid);
	ops->detach(cg, &info);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 1);
	vigil_fake_advance(&fh, 10000); /* every retry */
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "still holds processes"), 1);
	ck_assert(in_unit(g, -1));
	ck_assert_int_eq(kill(g, 0), 0);
	/* The next stop of the instance still finds it. */
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	ck_assert(wait_gone(g, 5000));
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}
END_TEST

/* vigild restarted (orphans = adopt): the new daemon never attached the instance, but its
 * cgroup is still there under our parent and holds the tree. */
START_TEST(adopted_instance_is_found_by_its_cgroup)
{
	struct vigil_proc_info info = info_of("web.0", 0, 0, 0);
	struct kid k;
	pid_t g;

	start(NULL);
	k = spawn_held(prog_escape, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	g = (pid_t)read_report(&k, 5000);
	remember(g);
	desc->stop(cg); /* the old daemon goes; its instance stays */
	desc->fini(cg);
	cg = NULL;
	start(NULL);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	ck_assert(wait_gone(g, 5000));
	ck_assert(wait_gone(k.pid, 5000));
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}
END_TEST

START_TEST(oom_kill_is_reported_as_limit_violated)
{
	struct vigil_proc_info info = info_of("web.0", 32 << 20, 0, 0);
	const struct vigil_ev_limit_violated *ev;
	struct kid k;
	int status;

	start(NULL);
	k = spawn_held(prog_alloc, 256);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	ck_assert_uint_ge(vigil_fake_watch_count(&fh), 1);
	release(&k);
	ck_assert_msg(wait_gone(k.pid, 20000), "a 256M allocation survived a 32M limit");
	ck_assert_int_eq(waitpid(k.pid, &status, 0), k.pid);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
	ck_assert_msg(pump_watches(5000), "no OOM notification arrived");
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	ev = (const void *)vigil_fake_event_last(&fh, VIGIL_EV_LIMIT_VIOLATED);
	ck_assert_str_eq(ev->hdr.subject, "web.0");
	ck_assert_str_eq(ev->limit, "memory");
	ck_assert_str_eq(ev->action, "restart");
	ck_assert_uint_eq(ev->count, 1);
	ck_assert(ev->max == (double)(32 << 20));
	ck_assert(ev->value > 0);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "OOM killer"), 1);
	ops->detach(cg, &info); /* nothing new: no second event */
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	reap_all();
	ck_assert(unit_gone());
	ck_assert_uint_eq(vigil_fake_watch_count(&fh), cg->ino_watch ? 1 : 0);
}
END_TEST

START_TEST(pids_max_holds_a_fork_bomb)
{
	struct vigil_proc_info info = info_of("web.0", 0, 4, 0);
	struct kid k;

	start(NULL);
	k = spawn_held(prog_forks, 10);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	/* Itself plus three: pids.max = 4. */
	ck_assert_int_eq(read_report(&k, 5000), 3);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}
END_TEST

START_TEST(cpu_quota_throttles_a_spinner)
{
	struct vigil_proc_info info = info_of("web.0", 0, 0, 10);
	struct kid k;
	int64_t throttled = 0;
	long long end;

	start(NULL);
	k = spawn_held(prog_spin, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	release(&k);
	ck_assert_int_eq(read_report(&k, 5000), k.pid);
	for (end = now_ms() + 5000; now_ms() < end && throttled == 0; nap(50))
		ck_assert_int_eq(
		    cg_read_key(unit_file(CG_CPU, "cpu.stat"), "nr_throttled", &throttled), 0);
	ck_assert_msg(throttled > 0, "a spinner at limit_cpu = 10%% was never throttled");
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	reap_all();
	ops->detach(cg, &info);
	ck_assert(unit_gone());
}
END_TEST

/* ---- fake hierarchies: the host kinds this machine is not ---- */

static void fake_file(const char *rel, const char *text)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	write_text(path, text);
}

static void fake_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
}

static const char *fake_read(const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	return slurp(path);
}

/* A pure cgroup v2 host: one hierarchy at TMP/cg with controllers, vigild in /svc. The
 * control files are plain files, so what the plugin writes can be read back. */
static void fake_v2_host(const char *procs)
{
	char text[512], rel[256];
	static const char *const unit_files[] = {"cgroup.procs", "memory.max", "memory.swap.max",
	                                         "pids.max",     "cpu.max",    "cgroup.kill",
	                                         "cgroup.freeze"};

	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-cgtest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	janitor_tell("rm %s\n", tmpdir);
	snprintf(text, sizeof text,
	         "21 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
	         "30 21 0:26 / %s/cg rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n",
	         tmpdir);
	fake_file("mountinfo", text);
	fake_file("cgroup", "0::/svc\n");
	fake_dir("cg");
	fake_dir("cg/svc");
	fake_file("cg/svc/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma\n");
	fake_file("cg/svc/cgroup.type", "domain\n");
	fake_file("cg/svc/cgroup.procs", procs);
	fake_file("cg/svc/cgroup.subtree_control", "");
	fake_dir("cg/svc/supervisor");
	fake_file("cg/svc/supervisor/cgroup.procs", "");
	snprintf(rel, sizeof rel, "cg/svc/%s", parent);
	fake_dir(rel);
	snprintf(rel, sizeof rel, "cg/svc/%s/cgroup.subtree_control", parent);
	fake_file(rel, "");
	snprintf(rel, sizeof rel, "cg/svc/%s/cgroup.kill", parent);
	fake_file(rel, "");
	snprintf(rel, sizeof rel, "cg/svc/%s/memory.swap.max", parent);
	fake_file(rel, "max\n");
	snprintf(rel, sizeof rel, "cg/svc/%s/web.0", parent);
	fake_dir(rel);
	for (size_t i = 0; i < sizeof unit_files / sizeof unit_files[0]; i++) {
		snprintf(rel, sizeof rel, "cg/svc/%s/web.0/%s", parent, unit_files[i]);
		fake_file(rel, "");
	}
	snprintf(rel, sizeof rel, "cg/svc/%s/web.0/memory.events", parent);
	fake_file(rel, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
}

static const char *unit_rel(const char *file)
{
	static char rel[256];

	snprintf(rel, sizeof rel, "cg/svc/%s/web.0/%s", parent, file);
	return rel;
}

START_TEST(pure_v2_host_enables_controllers_and_writes_v2_limits)
{
	struct vigil_proc_info info = info_of("web.0", 64 << 20, 32, 150);
	const struct vigil_ev_limit_violated *ev;
	char procs[32], path[512];
	struct kid k;
	int status;

	snprintf(procs, sizeof procs, "%d\n", (int)getpid());
	fake_v2_host(procs);
	snprintf(path, sizeof path, "%s", tmpdir);
	start(path);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "cgroup mode: v2:"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "vigild moved itself"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "kill_tree by cgroup.kill"), 1);
	ck_assert_int_eq(atoi(fake_read("cg/svc/supervisor/cgroup.procs")), getpid());
	ck_assert_int_eq(cg->plan.ctrl[CG_MEMORY], cg->plan.procs);
	ck_assert_int_eq(cg->plan.ctrl[CG_PIDS], cg->plan.procs);
	ck_assert_int_eq(cg->plan.ctrl[CG_CPU], cg->plan.procs);
	ck_assert(cg->plan.swap);

	k = spawn_held(prog_pause, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	ck_assert_int_eq(atoi(fake_read(unit_rel("cgroup.procs"))), k.pid);
	ck_assert_str_eq(fake_read(unit_rel("memory.max")), "67108864");
	ck_assert_str_eq(fake_read(unit_rel("memory.swap.max")), "0");
	ck_assert_str_eq(fake_read(unit_rel("pids.max")), "32");
	ck_assert_str_eq(fake_read(unit_rel("cpu.max")), "150000 100000");

	/* OOM: memory.events changes, inotify says so. */
	snprintf(path, sizeof path, "%s/%s", tmpdir, unit_rel("memory.events"));
	write_text(path, "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
	ck_assert(pump_watches(2000));
	ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_LIMIT_VIOLATED), 1);
	ev = (const void *)vigil_fake_event_last(&fh, VIGIL_EV_LIMIT_VIOLATED);
	ck_assert_uint_eq(ev->count, 2);
	ck_assert(ev->max == (double)(64 << 20));

	/* SIGKILL goes through cgroup.kill; other signals to every listed pid. */
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 1);
	ck_assert_str_eq(fake_read(unit_rel("cgroup.kill")), "1");
	ck_assert_int_eq(kill(k.pid, 0), 0);
	release(&k);
	ck_assert_int_eq(read_report(&k, 5000), k.pid);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGTERM), 1);
	ck_assert_int_eq(waitpid(k.pid, &status, 0), k.pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}
END_TEST

START_TEST(v2_cgroup_shared_with_other_processes_gives_membership_only)
{
	struct vigil_proc_info info = info_of("web.0", 64 << 20, 32, 150);
	char procs[32];
	struct kid k;

	snprintf(procs, sizeof procs, "%d\n1\n", (int)getpid());
	fake_v2_host(procs);
	start(tmpdir);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "cgroup mode: v2:"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "holds 1 other process"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "no memory controller"), 1);
	ck_assert_str_eq(fake_read("cg/svc/supervisor/cgroup.procs"), "");
	ck_assert_int_ge(cg->plan.procs, 0);
	ck_assert_int_eq(cg->plan.ctrl[CG_MEMORY], -1);
	k = spawn_held(prog_pause, 0);
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	ck_assert_int_eq(atoi(fake_read(unit_rel("cgroup.procs"))), k.pid);
	ck_assert_str_eq(fake_read(unit_rel("memory.max")), "");
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "limit_memory is not enforced"),
	                  1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "limit_nproc is not enforced"),
	                  1);
	/* Said once per instance, not at every restart. */
	ck_assert_int_eq(ops->attach(cg, &info, k.pid), 0);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "limit_memory is not enforced"),
	                  1);
}
END_TEST

START_TEST(no_cgroups_is_one_line_then_a_no_op)
{
	struct vigil_proc_info info = info_of("web.0", 64 << 20, 32, 150);

	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-cgtest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	janitor_tell("rm %s\n", tmpdir);
	fake_file("mountinfo", "21 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n");
	fake_file("cgroup", "0::/\n");
	start(tmpdir);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "cgroup mode: none"), 1);
	ck_assert_uint_eq(fh.nlogs, 1);
	ck_assert_int_eq(ops->attach(cg, &info, getpid()), 0);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 0);
	ops->detach(cg, &info);
	ck_assert_uint_eq(fh.nlogs, 1);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	ck_assert_uint_eq(vigil_fake_watch_count(&fh), 0);
}
END_TEST

START_TEST(detect_reads_mountinfo_like_the_kernel_writes_it)
{
	struct cg_plan plan;
	char text[2048];

	snprintf(tmpdir, sizeof tmpdir, "/tmp/vigil-cgtest-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	janitor_tell("rm %s\n", tmpdir);
	/* This machine's shape, in a container whose memory mount shows only its subtree, with
	 * an escaped space in a mount point and an optional field before the separator. */
	snprintf(
	    text, sizeof text,
	    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
	    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
	    "35 31 0:32 /box /sys/fs/cgroup/mem\\040ory rw - cgroup cgroup rw,memory\n"
	    "36 31 0:33 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	    "37 31 0:34 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
	    "38 31 0:35 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
	    "39 31 0:36 / /sys/fs/cgroup/pids2 rw - cgroup cgroup rw,pids\n"
	    "41 31 0:38 / %s/unified rw - cgroup2 cgroup2 rw\n",
	    tmpdir);
	fake_file("mountinfo", text);
	fake_file("cgroup", "9:name=systemd:/\n8:pids:/a\n6:freezer:/\n4:memory:/box/c\n"
	                    "1:cpu,cpuacct:/\n0::/u\n");
	fake_dir("unified");
	fake_dir("unified/u");
	fake_file("unified/u/cgroup.controllers", "hugetlb\n");
	ck_assert_int_eq(cg_detect(&plan, tmpdir), 0);
	ck_assert_uint_eq(plan.nh, 5);
	ck_assert_str_eq(plan.h[0].own, "/sys/fs/cgroup/cpu,cpuacct");
	ck_assert_uint_eq(plan.h[0].ctrls, 1u << CG_CPU);
	ck_assert_str_eq(plan.h[1].own, "/sys/fs/cgroup/mem ory/c");
	ck_assert_uint_eq(plan.h[1].ctrls, 1u << CG_MEMORY);
	ck_assert_str_eq(plan.h[2].own, "/sys/fs/cgroup/pids/a");
	ck_assert_str_eq(plan.h[3].own, "/sys/fs/cgroup/freezer");
	ck_assert_uint_eq(plan.h[3].ctrls, 1u << CG_FREEZER);
	ck_assert(plan.h[4].v2);
	ck_assert_uint_eq(plan.h[4].ctrls, 0); /* hugetlb only: nothing for us */
	snprintf(text, sizeof text, "%s/unified/u", tmpdir);
	ck_assert_str_eq(plan.h[4].own, text);
	cg_plan_free(&plan);

	/* Our cgroup outside what a mount shows cannot be used, and says so. */
	fake_file("cgroup", "8:pids:/elsewhere\n0::/u\n");
	fake_file("mountinfo", "36 31 0:33 /box /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n");
	ck_assert_int_eq(cg_detect(&plan, tmpdir), 0);
	ck_assert_uint_eq(plan.nh, 0);
	ck_assert_ptr_nonnull(strstr(plan.why, "outside the mount"));
	cg_plan_free(&plan);

	ck_assert_int_lt(cg_detect(&plan, "/nonexistent"), 0);
	ck_assert_ptr_nonnull(strstr(plan.why, "/nonexistent/mountinfo"));
	cg_plan_free(&plan);
}
END_TEST

START_TEST(configure_refuses_a_parent_that_is_not_one_name)
{
	static const char *const bad[] = {"a/b", "..", ".hidden", "sp ace", ""};
	void *state;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(vigil_fake_cfg_set(&fh, "parent", bad[i]), 0);
		ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), -EINVAL);
		ck_assert_ptr_null(state);
	}
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "parent = \"a/b\""), 1);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "parent", "vigil-prod_2.x"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	ck_assert_str_eq(((struct cg *)state)->parent, "vigil-prod_2.x");
	desc->fini(state);
}
END_TEST

START_TEST(attach_refuses_a_name_that_is_not_a_directory_name)
{
	struct vigil_proc_info info = info_of("../escape", 0, 0, 0);
	char procs[32];

	snprintf(procs, sizeof procs, "%d\n", (int)getpid());
	fake_v2_host(procs);
	start(tmpdir);
	ck_assert_int_eq(ops->attach(cg, &info, getpid()), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "cannot name a cgroup"), 1);
	ck_assert_int_eq(ops->kill_tree(cg, &info, SIGKILL), 0);
}
END_TEST

/* ---- the probe and the suite ---- */

/* Runs detection and setup in a child (setup may move the process and makes dirs), cleans
 * up, and reports what a test process would get. */
static void probe(const char *proc_self, struct avail *out)
{
	int p[2];
	pid_t pid;

	memset(out, 0, sizeof *out);
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct cg_plan plan;
		struct avail a;
		char name[64];

		memset(&a, 0, sizeof a);
		snprintf(name, sizeof name, "vigil-probe-%d", (int)getpid());
		if (cg_detect(&plan, proc_self) == 0)
			cg_setup(&plan, name, getpid());
		a.real = plan.procs >= 0;
		a.memory = plan.ctrl[CG_MEMORY] >= 0;
		a.pids = plan.ctrl[CG_PIDS] >= 0;
		a.cpu = plan.ctrl[CG_CPU] >= 0;
		if (a.real && plan.h[plan.procs].v2) {
			char f[4096];

			snprintf(f, sizeof f, "%s/cgroup.freeze", plan.h[plan.procs].base);
			a.freeze_v2 = cg_exists(f);
		}
		a.v1_freezer = plan.kill == CG_KILL_FREEZE_V1;
		cg_describe(&plan, a.reason, sizeof a.reason);
		cg_teardown(&plan);
		cg_plan_free(&plan);
		if (write(p[1], &a, sizeof a) != (ssize_t)sizeof a)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], out, sizeof *out) != (ssize_t)sizeof *out)
		snprintf(out->reason, sizeof out->reason, "the probe failed");
	close(p[0]);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	Suite *s = suite_create("monitor_cgroup");
	TCase *fake = tcase_create("fake"), *real = tcase_create("real");
	struct avail v1;
	char v1dir[] = "/tmp/vigil-cgprobe-XXXXXX", path[600];
	int failed, nreal = 0, skipped = 0;

	probe("/proc/self", &av);
	memset(&v1, 0, sizeof v1);
	if (av.real && mkdtemp(v1dir)) {
		/* The same host without its v2 hierarchy. */
		char *m = read_all("/proc/self/mountinfo"), *c = read_all("/proc/self/cgroup");
		FILE *f;

		snprintf(path, sizeof path, "%s/mountinfo", v1dir);
		if (m && c && (f = fopen(path, "w"))) {
			for (char *l = strtok(m, "\n"); l; l = strtok(NULL, "\n"))
				if (!strstr(l, " - cgroup2 "))
					fprintf(f, "%s\n", l);
			fclose(f);
			snprintf(path, sizeof path, "%s/cgroup", v1dir);
			if ((f = fopen(path, "w"))) {
				fputs(c, f);
				fclose(f);
				probe(v1dir, &v1);
			}
		}
		free(m);
		free(c);
		nftw(v1dir, rm_entry, 4, FTW_DEPTH | FTW_PHYS);
	}
	av.v1_only = v1.real && v1.reason[0] && strstr(v1.reason, "cgroup mode: v1");
	av.v1_freezer = v1.v1_freezer;
	printf("host: %s\n", av.reason[0] ? av.reason : "?");

	tcase_add_checked_fixture(fake, setup, teardown);
	tcase_add_checked_fixture(real, setup, teardown);
	tcase_set_timeout(real, 60);
	tcase_add_test(fake, pure_v2_host_enables_controllers_and_writes_v2_limits);
	tcase_add_test(fake, v2_cgroup_shared_with_other_processes_gives_membership_only);
	tcase_add_test(fake, no_cgroups_is_one_line_then_a_no_op);
	tcase_add_test(fake, detect_reads_mountinfo_like_the_kernel_writes_it);
	tcase_add_test(fake, configure_refuses_a_parent_that_is_not_one_name);
	tcase_add_test(fake, attach_refuses_a_name_that_is_not_a_directory_name);

	/* Check has no skip: a test the host cannot run is not added, and said so. */
#define REAL(t, cond, why)                                                                         \
	do {                                                                                       \
		nreal++;                                                                           \
		if (av.real && (cond)) {                                                           \
			tcase_add_test(real, t);                                                   \
		} else {                                                                           \
			printf("SKIP: %s: %s\n", #t, !av.real ? av.reason : (why));                \
			skipped++;                                                                 \
		}                                                                                  \
	} while (0)
	REAL(places_child_before_exec_with_limits, 1, "");
	REAL(restart_reuses_the_cgroup_with_new_limits, 1, "");
	REAL(kill_tree_reaches_what_left_the_process_group, 1, "");
	REAL(stop_signal_reaches_every_pid_then_detach_kills_the_rest, 1, "");
	REAL(detach_keeps_a_cgroup_that_still_holds_processes, 1, "");
	REAL(adopted_instance_is_found_by_its_cgroup, 1, "");
	REAL(kill_tree_by_freezing_v2, av.freeze_v2, "no cgroup.freeze in a v2 hierarchy");
	REAL(kill_tree_on_a_v1_only_host, av.v1_only, "no writable cgroup v1 hierarchy");
	REAL(kill_tree_by_scanning_pids, av.v1_only, "no writable cgroup v1 hierarchy");
	REAL(oom_kill_is_reported_as_limit_violated, av.memory, "no memory controller");
	REAL(pids_max_holds_a_fork_bomb, av.pids, "no pids controller");
	REAL(cpu_quota_throttles_a_spinner, av.cpu, "no cpu controller");
	suite_add_tcase(s, fake);
	suite_add_tcase(s, real);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (failed)
		return 1;
	/* Nothing on real cgroups could run: say SKIP to CTest rather than pass. */
	return skipped == nreal ? SKIP_CODE : 0;
}

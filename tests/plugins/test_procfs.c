/* test_procfs.c — the procfs monitor through the fake host, against real child processes. */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vigil/testing.h>

/* The plugin is compiled into the test so its internals (parsers, tables) can be checked too;
 * the first test also loads the built .so to prove the real artifact works the same way. */
#include "../../plugins/monitors/procfs/pfread.c"
#include "../../plugins/monitors/procfs/pftree.c"
#include "../../plugins/monitors/procfs/procfs.c"

#define MB (1024 * 1024)
#define MAX_KIDS 32

static struct vigil_fake_host fh;
static const struct vigil_plugin *desc;
static void *state;
static struct vigil_proc_info procs[MAX_KIDS];
static char names[MAX_KIDS][16];
static pid_t kids[MAX_KIDS];
static int cmd_fd[MAX_KIDS]; /* write end of each child's command pipe */
static int ack_fd[MAX_KIDS]; /* read end of its answers */
static int nkids;

static void setup(void)
{
	vigil_fake_host_init(&fh);
	fh.kind = "monitor";
	fh.instance = "procfs";
	desc = vigil_plugin_entry_v1();
	fh.keys = desc->keys;
	fh.procs = procs;
	fh.nprocs = 0;
	state = NULL;
	nkids = 0;
	memset(procs, 0, sizeof procs);
}

static void teardown(void)
{
	if (state) {
		desc->stop(state);
		desc->fini(state);
	}
	for (int i = 0; i < nkids; i++) {
		if (kids[i] > 0) {
			kill(-kids[i], SIGKILL); /* the child's session is its process group */
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
		close(cmd_fd[i]);
		close(ack_fd[i]);
	}
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
}

/* Sets "key", "value", ... (NULL-terminated), instantiates and starts the monitor. */
static int start(const char *first, ...)
{
	const char *key = first;
	va_list ap;
	int rc;

	va_start(ap, first);
	while (key) {
		const char *value = va_arg(ap, const char *);

		ck_assert_int_eq(vigil_fake_cfg_set(&fh, key, value), 0);
		key = va_arg(ap, const char *);
	}
	va_end(ap);
	rc = vigil_fake_instantiate(&fh, desc, &state);
	if (rc < 0)
		return rc;
	return desc->start(state);
}

/* ---- children ---------------------------------------------------------------------------- */

enum mode {
	IDLE,      /* waits for commands */
	HOG,       /* touches 50 MB, then waits */
	SPIN,      /* burns CPU */
	TREE,      /* a grandchild in the session (touching 20 MB) and one that leaves it */
	TREE_SPIN, /* idle itself, with a grandchild in the session that burns CPU */
};

static void tell(int fd, pid_t pid)
{
	int32_t v = (int32_t)pid;

	if (write(fd, &v, sizeof v) != sizeof v)
		_exit(3);
}

static void touch(size_t bytes)
{
	volatile char *p = malloc(bytes);

	if (!p)
		_exit(4);
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

static void spin(void)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
}

/* Serves commands from fd: 'f' opens 20 more fds and answers on out; EOF exits. */
static void serve(int fd, int out)
{
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == 'f') {
			for (int i = 0; i < 20; i++)
				if (dup(0) < 0)
					_exit(5);
			tell(out, getpid());
		}
	}
	_exit(0);
}

/* A grandchild in the child's session: dies with it. */
static pid_t grandchild(int ready, void (*body)(void), size_t bytes, int leave)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (leave)
			setsid();
		if (bytes)
			touch(bytes);
		tell(ready, getpid());
		if (body)
			body();
		for (;;)
			pause();
	}
	return pid;
}

/* Forks a child in its own session (as vigild starts every program) that reports the pids of
 * itself and its grandchildren on a pipe once ready. Registers it as instance `name`. Returns
 * the index of the child; *pids receives what it reported. */
static int spawn(const char *name, enum mode mode, int32_t *pids, int npids)
{
	int ready[2], cmd[2], i = nkids;
	pid_t pid;

	ck_assert_int_lt(nkids, MAX_KIDS);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(cmd, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setsid();
		close(ready[0]);
		close(cmd[1]);
		switch (mode) {
		case HOG:
			touch(50 * MB);
			break;
		case TREE:
			grandchild(ready[1], NULL, 20 * MB, 0);
			grandchild(ready[1], NULL, 0, 1);
			break;
		case TREE_SPIN:
			grandchild(ready[1], spin, 0, 0);
			break;
		default:
			break;
		}
		tell(ready[1], getpid());
		if (mode == SPIN)
			spin();
		serve(cmd[0], ready[1]);
	}
	close(ready[1]);
	close(cmd[0]);
	kids[i] = pid;
	cmd_fd[i] = cmd[1];
	ack_fd[i] = ready[0];
	nkids++;
	for (int k = 0; k < npids; k++) {
		struct pollfd p = {.fd = ready[0], .events = POLLIN};

		ck_assert_msg(poll(&p, 1, 10000) == 1, "child %s not ready within 10s", name);
		ck_assert_int_eq(read(ready[0], &pids[k], sizeof pids[k]), sizeof pids[k]);
	}

	snprintf(names[i], sizeof names[i], "%s", name);
	procs[i].size = sizeof procs[i];
	procs[i].state = VIGIL_PROC_RUNNING;
	procs[i].name = names[i];
	procs[i].program = names[i];
	procs[i].instance = -1;
	procs[i].pid = pid;
	fh.nprocs = (size_t)nkids;
	return i;
}

/* Asks child i to open 20 more fds and waits until it has. */
static void more_fds(int i)
{
	struct pollfd p = {.fd = ack_fd[i], .events = POLLIN};
	int32_t pid;

	ck_assert_int_eq(write(cmd_fd[i], "f", 1), 1);
	ck_assert_msg(poll(&p, 1, 10000) == 1, "child %d did not answer within 10s", i);
	ck_assert_int_eq(read(ack_fd[i], &pid, sizeof pid), sizeof pid);
	ck_assert_int_eq(pid, kids[i]);
}

/* ---- reading what the monitor published -------------------------------------------------- */

static size_t samples_of(const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < fh.nevents; i++)
		n += fh.events[i]->type == VIGIL_EV_METRICS_SAMPLE &&
		     strcmp(fh.events[i]->subject, name) == 0;
	return n;
}

static const struct vigil_ev_metrics_sample *last_of(const char *name)
{
	for (size_t i = fh.nevents; i-- > 0;)
		if (fh.events[i]->type == VIGIL_EV_METRICS_SAMPLE &&
		    strcmp(fh.events[i]->subject, name) == 0)
			return (const struct vigil_ev_metrics_sample *)(const void *)fh.events[i];
	return NULL;
}

/* /proc/PID/stat of a process, read the way a user would check it. */
static struct pf_stat stat_of(pid_t pid)
{
	struct pf_files none = {0, 0, 0, 0};
	struct pf_stat st;
	char buf[1024];

	ck_assert_int_gt(pf_read(&none, NULL, 0, pid, "stat", buf, sizeof buf), 0);
	ck_assert_int_eq(pf_parse_stat(buf, &st), 0);
	return st;
}

static uint64_t ticks_of(pid_t pid)
{
	return stat_of(pid).cpu_ticks;
}

/* Of the pids a child reported (in no particular order), the one in its session, not itself. */
static pid_t in_session(int i, const int32_t *pids, int npids)
{
	for (int k = 0; k < npids; k++)
		if (pids[k] != kids[i] && stat_of(pids[k]).session == kids[i])
			return pids[k];
	ck_abort_msg("no grandchild in the session of child %d", i);
	return -1;
}

/* Waits (bounded) until pid is a zombie: dead but not reaped by its parent. */
static void wait_zombie(pid_t pid)
{
	for (int waited = 0; stat_of(pid).state != 'Z'; waited += 10) {
		ck_assert_msg(waited < 10000, "pid %d still alive after SIGKILL", (int)pid);
		poll(NULL, 0, 10);
	}
}

/* CPU time must really pass between two samples: wait (bounded) until pid has burnt `ticks`
 * more clock ticks than `since`. */
static void wait_cpu(pid_t pid, uint64_t since, uint64_t ticks)
{
	for (int waited = 0; ticks_of(pid) < since + ticks; waited += 10) {
		ck_assert_msg(waited < 30000, "pid %d burnt no CPU for 30s", (int)pid);
		poll(NULL, 0, 10);
	}
}

/* What a stopwatch says: the CPU % of pid between two calls, measured by the test itself. */
struct stopwatch {
	uint64_t ticks;
	int64_t ns;
};

static struct stopwatch stopwatch(pid_t pid)
{
	struct stopwatch w = {ticks_of(pid), pf_now_ns()};

	return w;
}

static double stopwatch_pct(pid_t pid, struct stopwatch since)
{
	struct stopwatch now = stopwatch(pid);

	return (double)(now.ticks - since.ticks) * 1e9 / (double)sysconf(_SC_CLK_TCK) * 100.0 /
	       (double)(now.ns - since.ns);
}

/* The spinner must show as busy, and as busy as the test's own measurement of the same window
 * says (the machine may be loaded: then both are lower). */
static void assert_busy(double pct, double measured)
{
	ck_assert_msg(pct > 25.0 && pct < 110.0, "cpu %.1f%% for a spinner", pct);
	ck_assert_msg(pct > measured - 15.0 && pct < measured + 15.0,
	              "cpu %.1f%%, the test measured %.1f%%", pct, measured);
}

static int open_fds(void)
{
	return pf_count_fds(getpid(), (char[4096]){0}, 4096);
}

/* ---- tests ------------------------------------------------------------------------------- */

START_TEST(built_plugin_loads)
{
	const char *dir = getenv("VIGIL_PLUGIN_DIR");
	char path[1024];
	void *lib, *sym;
	vigil_plugin_entry_fn entry;
	const struct vigil_plugin *d;
	void *st = NULL;

	snprintf(path, sizeof path, "%s/monitor_procfs.so", dir ? dir : "lib/vigil/plugins");
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(lib, "dlopen %s: %s (set VIGIL_PLUGIN_DIR)", path, dlerror());
	sym = dlsym(lib, VIGIL_PLUGIN_ENTRY_SYMBOL);
	ck_assert_msg(sym, "%s exports no %s", path, VIGIL_PLUGIN_ENTRY_SYMBOL);
	memcpy(&entry, &sym, sizeof sym);
	d = entry();
	ck_assert_int_eq(d->kind, VIGIL_KIND_MONITOR);
	ck_assert_str_eq(d->name, "procfs");
	ck_assert_uint_eq(d->abi.abi_major, VIGIL_ABI_MAJOR);
	ck_assert_ptr_nonnull(d->ops);

	spawn("web", IDLE, (int32_t[1]){0}, 1);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, d, &st), 0);
	ck_assert_int_eq(d->start(st), 0);
	vigil_fake_advance(&fh, 1000);
	ck_assert_uint_eq(samples_of("web"), 1);
	ck_assert_int_eq(last_of("web")->pid, kids[0]);
	d->stop(st);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	d->fini(st);
	dlclose(lib);
}
END_TEST

START_TEST(defaults_and_bad_config)
{
	struct procfs *pf;

	ck_assert_int_eq(start(NULL), 0);
	pf = state;
	ck_assert_uint_eq(pf->interval_ms, 1000);
	ck_assert_uint_eq(pf->nslices, 10);
	ck_assert_uint_eq(pf->fd_interval, 5);
	ck_assert_int_eq(pf->tree, 1);
	desc->stop(state);
	desc->fini(state);
	state = NULL;

	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(start("interval", "5ms", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "interval = 5ms"), 1);
	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(start("fd_interval", "0", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "fd_interval = 0"), 1);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "tree", "maybe"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "interval_ms", "1s"), -EINVAL);

	/* An interval that 10 does not divide gets fewer, exact slices. */
	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(start("interval", "15ms", NULL), 0);
	pf = state;
	ck_assert_uint_eq(pf->nslices, 1);
	ck_assert_uint_eq(pf->slice_ms, 15);
	desc->stop(state);
	desc->fini(state);
	state = NULL;
	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(start("interval", "1001ms", NULL), 0);
	pf = state;
	ck_assert_uint_eq(pf->nslices * pf->slice_ms, 1001);
}
END_TEST

START_TEST(parses_proc_text)
{
	struct pf_stat st;
	int64_t a = 0, b = 0;
	/* A command name with spaces and parentheses, negative fields (tpgid, nice). */
	const char *line =
	    "4242 (we(i)rd) name) S 1 4242 4242 0 -1 4194560 120 0 0 0 7 5 0 0 20 -5 3 0 "
	    "123456 8192000 1500 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

	ck_assert_int_eq(pf_parse_stat(line, &st), 0);
	ck_assert_int_eq(st.state, 'S');
	ck_assert_int_eq(st.session, 4242);
	ck_assert_uint_eq(st.cpu_ticks, 12);
	ck_assert_int_eq(st.threads, 3);
	ck_assert_uint_eq(st.start_ticks, 123456);
	ck_assert_int_eq(st.vms_bytes, 8192000);
	ck_assert_int_eq(st.rss_pages, 1500);
	ck_assert_int_eq(pf_parse_stat("4242 (x) S 1 2 3", &st), -EINVAL);
	ck_assert_int_eq(pf_parse_stat("garbage", &st), -EINVAL);
	ck_assert_int_eq(pf_parse_stat("1 (x) S 1 2 abc 4", &st), -EINVAL);

	ck_assert_int_eq(pf_parse_status("Name:\tx\nvoluntary_ctxt_switches:\t10\n"
	                                 "nonvoluntary_ctxt_switches:\t3\n",
	                                 &a),
	                 0);
	ck_assert_int_eq(a, 13);
	ck_assert_int_eq(pf_parse_status("Name:\tx\n", &a), -ENOENT);
	ck_assert_int_eq(pf_parse_io("rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\n"
	                             "write_bytes: 8192\ncancelled_write_bytes: 0\n",
	                             &a, &b),
	                 0);
	ck_assert_int_eq(a, 4096);
	ck_assert_int_eq(b, 8192);
}
END_TEST

START_TEST(samples_a_memory_hog)
{
	const struct vigil_ev_metrics_sample *s;
	int64_t uptime;

	spawn("hog", HOG, (int32_t[1]){0}, 1);
	ck_assert_int_eq(start(NULL), 0);
	vigil_fake_advance(&fh, 999);
	ck_assert_uint_eq(samples_of("hog"), 0); /* one interval for the first sample */
	vigil_fake_advance(&fh, 1);
	ck_assert_uint_eq(samples_of("hog"), 1);
	s = last_of("hog");
	ck_assert_int_eq(s->pid, kids[0]);
	ck_assert_msg(s->rss_bytes >= 50 * MB, "rss %" PRId64, s->rss_bytes);
	ck_assert_int_ge(s->vms_bytes, s->rss_bytes);
	ck_assert_int_ge(s->threads, 1);
	ck_assert_int_ge(s->fds, 3);
	ck_assert_int_ge(s->read_bytes, 0);
	ck_assert_int_ge(s->write_bytes, 0);
	ck_assert_int_ge(s->ctx_switches, 1);
	ck_assert_int_ge(s->uptime_ms, 0);
	ck_assert_int_lt(s->uptime_ms, 60000);
	ck_assert(s->cpu_pct == -1.0); /* first sample of a pid: nothing to compare with */
	ck_assert_int_eq(s->tree_procs, 1);
	ck_assert_int_eq(s->tree_rss_bytes, s->rss_bytes);
	ck_assert(s->tree_cpu_pct == -1.0);
	uptime = s->uptime_ms;

	vigil_fake_advance(&fh, 1000);
	ck_assert_uint_eq(samples_of("hog"), 2);
	s = last_of("hog");
	ck_assert(s->cpu_pct >= 0.0 && s->cpu_pct < 20.0);
	ck_assert(s->tree_cpu_pct == s->cpu_pct);
	ck_assert_int_ge(s->uptime_ms, uptime);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, NULL), 0);
}
END_TEST

START_TEST(spinner_shows_high_cpu)
{
	const struct vigil_ev_metrics_sample *s;
	struct stopwatch w;

	spawn("spin", SPIN, (int32_t[1]){0}, 1);
	ck_assert_int_eq(start(NULL), 0);
	w = stopwatch(kids[0]);
	vigil_fake_advance(&fh, 1000);
	ck_assert(last_of("spin")->cpu_pct == -1.0);
	wait_cpu(kids[0], w.ticks, 30);
	vigil_fake_advance(&fh, 1000);
	s = last_of("spin");
	assert_busy(s->cpu_pct, stopwatch_pct(kids[0], w));
	ck_assert(s->tree_cpu_pct == s->cpu_pct);
}
END_TEST

START_TEST(tree_counts_the_session_only)
{
	const struct vigil_ev_metrics_sample *s;
	int32_t pids[3];
	pid_t stays;
	int i;

	i = spawn("tree", TREE, pids, 3);
	stays = in_session(i, pids, 3);
	ck_assert_int_eq(start(NULL), 0);
	vigil_fake_advance(&fh, 1000);
	s = last_of("tree");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->tree_procs, 2);
	ck_assert_msg(s->tree_rss_bytes >= s->rss_bytes + 20 * MB,
	              "tree rss %" PRId64 " rss %" PRId64, s->tree_rss_bytes, s->rss_bytes);
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(last_of("tree")->tree_procs, 2);

	/* The grandchild dies; the child does not reap it: a zombie is not counted. */
	kill(stays, SIGKILL);
	wait_zombie(stays);
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(last_of("tree")->tree_procs, 1);
	ck_assert_int_eq(last_of("tree")->tree_rss_bytes, last_of("tree")->rss_bytes);
}
END_TEST

START_TEST(tree_cpu_includes_a_spinning_grandchild)
{
	const struct vigil_ev_metrics_sample *s;
	int32_t pids[2];
	struct stopwatch w;
	pid_t spinner;

	spinner = in_session(spawn("work", TREE_SPIN, pids, 2), pids, 2);
	ck_assert_int_eq(start(NULL), 0);
	w = stopwatch(spinner);
	vigil_fake_advance(&fh, 1000);
	wait_cpu(spinner, w.ticks, 30);
	vigil_fake_advance(&fh, 1000);
	s = last_of("work");
	ck_assert_int_eq(s->tree_procs, 2);
	ck_assert_msg(s->cpu_pct >= 0.0 && s->cpu_pct < 10.0, "cpu_pct %.1f", s->cpu_pct);
	assert_busy(s->tree_cpu_pct - s->cpu_pct, stopwatch_pct(spinner, w));
}
END_TEST

START_TEST(vanished_processes_are_skipped_quietly)
{
	int32_t pid;
	pid_t gone;

	spawn("a", IDLE, &pid, 1);
	spawn("b", IDLE, &pid, 1);
	spawn("z", IDLE, &pid, 1);
	ck_assert_int_eq(start(NULL), 0);
	vigil_fake_advance(&fh, 1000);
	ck_assert_uint_eq(samples_of("a") + samples_of("b") + samples_of("z"), 3);

	/* b exits and is reaped; z exits and stays a zombie (not reaped yet). */
	kill(kids[1], SIGKILL);
	waitpid(kids[1], NULL, 0);
	gone = kids[1];
	kids[1] = 0;
	kill(kids[2], SIGKILL);
	wait_zombie(kids[2]);
	vigil_fake_advance(&fh, 1000);
	ck_assert_uint_eq(samples_of("a"), 2);
	ck_assert_uint_eq(samples_of("b"), 1);
	ck_assert_uint_eq(samples_of("z"), 1);

	/* The core still names the dead pid (it has not noticed yet): nothing breaks. */
	procs[1].pid = gone;
	vigil_fake_advance(&fh, 3000);
	ck_assert_uint_eq(samples_of("b"), 1);
	ck_assert_uint_eq(samples_of("a"), 5);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_DEBUG, NULL), 0);
}
END_TEST

START_TEST(files_are_closed_when_processes_go)
{
	int32_t pid;
	int before = open_fds();

	spawn("a", IDLE, &pid, 1);
	spawn("b", IDLE, &pid, 1);
	before += 4; /* the command and answer pipes of the two children */
	ck_assert_int_eq(start(NULL), 0);
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(open_fds(), before + 1 + 2 * 3); /* /proc, then stat, io, status each */

	/* detach (the core reaped a): its files go at once. */
	((const struct vigil_monitor_ops *)desc->ops)->detach(state, &procs[0]);
	ck_assert_int_eq(open_fds(), before + 1 + 3);

	/* b is no longer supervised: its files go at the next refresh. */
	fh.nprocs = 0;
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(open_fds(), before + 1);
	desc->stop(state);
	desc->fini(state);
	state = NULL;
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

START_TEST(reads_are_spread_over_the_interval)
{
	int32_t pid;

	for (int i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof name, "w%d", i);
		spawn(name, IDLE, &pid, 1);
	}
	ck_assert_int_eq(start(NULL), 0);
	for (int slice = 1; slice <= 20; slice++) {
		vigil_fake_advance(&fh, 100);
		ck_assert_uint_eq(vigil_fake_event_count(&fh, VIGIL_EV_METRICS_SAMPLE),
		                  (size_t)slice * 2);
	}
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(samples_of(names[i]), 2);
}
END_TEST

/* Opens 20 fds in child i between two samples; returns the fds of the two samples. */
static void fds_across_samples(int i, int32_t *first, int32_t *second)
{
	vigil_fake_advance(&fh, 1000);
	*first = last_of(names[i])->fds;
	more_fds(i);
	vigil_fake_advance(&fh, 1000);
	*second = last_of(names[i])->fds;
}

START_TEST(fd_interval_one_counts_every_sample)
{
	int32_t pid, a, b;
	int i = spawn("web", IDLE, &pid, 1);

	ck_assert_int_eq(start("fd_interval", "1", NULL), 0);
	fds_across_samples(i, &a, &b);
	ck_assert_int_ge(a, 3);
	ck_assert_int_eq(b, a + 20);
}
END_TEST

START_TEST(fd_interval_keeps_the_last_count_between)
{
	int32_t pid, a, b;
	int i = spawn("web", IDLE, &pid, 1);

	ck_assert_int_eq(start("fd_interval", "1000000", NULL), 0);
	fds_across_samples(i, &a, &b);
	ck_assert_int_ge(a, 3);
	ck_assert_int_eq(b, a); /* not counted again yet, and not -1 */
}
END_TEST

START_TEST(tree_off_reports_unknown_tree_figures)
{
	const struct vigil_ev_metrics_sample *s;
	int32_t pids[3];

	spawn("tree", TREE, pids, 3);
	ck_assert_int_eq(start("tree", "false", NULL), 0);
	vigil_fake_advance(&fh, 1000);
	s = last_of("tree");
	ck_assert_int_eq(s->tree_procs, -1);
	ck_assert_int_eq(s->tree_rss_bytes, -1);
	ck_assert(s->tree_cpu_pct == -1.0);
	ck_assert_uint_eq(((struct procfs *)state)->ntasks, 0); /* /proc was never scanned */
}
END_TEST

START_TEST(descriptors_stay_within_a_quarter_of_the_limit)
{
	struct rlimit rl;
	int32_t pid;
	int before;

	/* 20 instances, 3 files each to keep, but only 128 / 4 = 32 may stay open. */
	for (int i = 0; i < 20; i++) {
		char name[16];

		snprintf(name, sizeof name, "w%d", i);
		spawn(name, IDLE, &pid, 1);
	}
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = 128;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	before = open_fds();
	ck_assert_int_eq(start(NULL), 0);
	vigil_fake_advance(&fh, 2000);
	for (int i = 0; i < 20; i++)
		ck_assert_uint_eq(samples_of(names[i]), 2);
	ck_assert_int_eq(open_fds(), before + 1 + 32);
	/* The stat files, read on every sample, are the ones kept. */
	for (size_t i = 0; i < ((struct procfs *)state)->nentries; i++)
		ck_assert_int_ge(((struct procfs *)state)->entries[i].fd_stat, 0);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, NULL), 0);
}
END_TEST

static Suite *procfs_suite(void)
{
	Suite *s = suite_create("procfs");
	TCase *tc = tcase_create("sample");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, built_plugin_loads);
	tcase_add_test(tc, defaults_and_bad_config);
	tcase_add_test(tc, parses_proc_text);
	tcase_add_test(tc, samples_a_memory_hog);
	tcase_add_test(tc, spinner_shows_high_cpu);
	tcase_add_test(tc, tree_counts_the_session_only);
	tcase_add_test(tc, tree_cpu_includes_a_spinning_grandchild);
	tcase_add_test(tc, vanished_processes_are_skipped_quietly);
	tcase_add_test(tc, files_are_closed_when_processes_go);
	tcase_add_test(tc, reads_are_spread_over_the_interval);
	tcase_add_test(tc, fd_interval_one_counts_every_sample);
	tcase_add_test(tc, fd_interval_keeps_the_last_count_between);
	tcase_add_test(tc, tree_off_reports_unknown_tree_figures);
	tcase_add_test(tc, descriptors_stay_within_a_quarter_of_the_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(procfs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

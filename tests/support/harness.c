/* harness.c — starts a real vigild in a temp dir, follows its events, checks for leftovers. */
#include "harness.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

const char *vd_config(const char *fmt, ...)
{
	static char buf[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return buf;
}

long long vd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *vd_victim(void)
{
	return env_or("VICTIM", "victim");
}

static int pidfd_of(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int vd_wait_gone(pid_t pid, int timeout_ms)
{
	int fd = pidfd_of(pid);
	if (fd < 0)
		return errno == ESRCH ? 0 : -1;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	close(fd);
	if (r > 0)
		return 0;
	/* A zombie is readable too; one that is not our child may not be reaped yet. */
	return kill(pid, 0) == 0 ? -1 : 0;
}

char *vd_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	size_t r;
	while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

char *vd_wait_file(const char *path, const char *needle, int timeout_ms)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	inotify_add_watch(in, dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO);
	long long deadline = vd_now_ms() + timeout_ms;
	char *s = NULL;
	for (;;) {
		s = vd_read_file(path);
		if (s && strstr(s, needle))
			break;
		free(s);
		s = NULL;
		long long left = deadline - vd_now_ms();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = in, .events = POLLIN};
		if (poll(&p, 1, (int)left) > 0) {
			char buf[4096];
			while (read(in, buf, sizeof buf) > 0)
				;
		}
	}
	close(in);
	return s;
}

/* A failed assertion ends the test process at once (exit), skipping vd_stop: whatever a test
 * started must still not survive it. Every mark and daemon of this process is remembered and
 * killed at exit. */
static struct {
	char marks[16][64];
	pid_t daemons[16];
	int n;
} started;

static int find_marked(const char *mark, pid_t *out, int max);

static void kill_leftovers(void)
{
	for (int i = 0; i < started.n; i++) {
		/* vigild first, the orderly way: it stops its programs, cgroups included. */
		if (started.daemons[i] > 0 && kill(started.daemons[i], SIGTERM) == 0 &&
		    vd_wait_gone(started.daemons[i], 5000) < 0)
			kill(started.daemons[i], SIGKILL);
		/* Then whatever is left, until nothing is: a process may fork while we kill. */
		for (int round = 0; round < 100; round++) {
			pid_t left[256];
			int n = find_marked(started.marks[i], left, 256);
			if (n == 0)
				break;
			for (int k = 0; k < n && k < 256; k++)
				kill(left[k], SIGKILL);
			vd_wait_gone(left[0], 20);
		}
	}
}

static void remember(const char *mark, pid_t daemon)
{
	static int registered;
	if (!registered) {
		atexit(kill_leftovers);
		registered = 1;
	}
	for (int i = 0; i < started.n; i++)
		if (strcmp(started.marks[i], mark) == 0) {
			started.daemons[i] = daemon;
			return;
		}
	if (started.n < 16) {
		snprintf(started.marks[started.n], sizeof started.marks[0], "%s", mark);
		started.daemons[started.n++] = daemon;
	}
}

static void write_config(struct vd *vd, const char *body)
{
	static int counter;
	snprintf(vd->dir, sizeof vd->dir, "/tmp/vigil-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(vd->dir));
	snprintf(vd->config, sizeof vd->config, "%s/vigil.ini", vd->dir);
	snprintf(vd->state, sizeof vd->state, "%s/state", vd->dir);
	snprintf(vd->socket, sizeof vd->socket, "%s/vigil.sock", vd->state);
	snprintf(vd->mark, sizeof vd->mark, "vt-%d-%d-%lld", (int)getpid(), counter++, vd_now_ms());
	FILE *f = fopen(vd->config, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[vigil]\nstate_dir = %s\nplugin_path = %s\nlog_level = debug\n"
	           "shutdown_timeout = 10s\n%s\n",
	        vd->state, env_or("VIGIL_PLUGIN_DIR", "."), body);
	fclose(f);
}

/* Starts `vigilctl --json events -f` and keeps its stdout. */
static void open_events(struct vd *vd)
{
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		dup2(p[1], 1);
		execl(env_or("VIGILCTL", "vigilctl"), "vigilctl", "-s", vd->socket, "--json", "events",
		      "-f", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	vd->events_pid = c;
	vd->events_fd = p[0];
	vd->evcap = 1 << 16;
	vd->evbuf = malloc(vd->evcap);
	vd->evlen = 0;
	vd->backlog = json_array();
	/* The stream replays recent events first: supervisor.started proves it is connected. */
	json_t *ev = vd_wait_event(vd, "supervisor.started", NULL, 10000);
	ck_assert_msg(ev != NULL, "no supervisor.started on the event stream");
	json_decref(ev);
}

static void close_events(struct vd *vd)
{
	if (vd->events_pid > 0) {
		close(vd->events_fd);
		free(vd->evbuf);
		vd->evbuf = NULL;
		kill(vd->events_pid, SIGTERM);
		waitpid(vd->events_pid, NULL, 0);
		vd->events_pid = 0;
	}
	json_decref(vd->backlog);
	vd->backlog = NULL;
}

/* Starts vigild on the existing config; waits for READY=1 (or its exit). */
static int launch(struct vd *vd, char *err_out, size_t len)
{
	char notify[300];
	snprintf(notify, sizeof notify, "%s/notify.sock", vd->dir);
	unlink(notify);
	int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", notify);
	ck_assert_int_eq(bind(ns, (struct sockaddr *)&sa, sizeof sa), 0);

	char errpath[300];
	snprintf(errpath, sizeof errpath, "%s/vigild.stderr", vd->dir);
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		/* If the test process dies, so does its daemon (which then stops its programs). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		setenv("NOTIFY_SOCKET", notify, 1);
		setenv("VIGIL_TEST_MARK", vd->mark, 1);
		if (err_out) {
			int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 2);
		}
		execl(env_or("VIGILD", "vigild"), "vigild", "-c", vd->config, (char *)NULL);
		_exit(127);
	}
	vd->pid = c;
	remember(vd->mark, c);
	int pfd = pidfd_of(c);
	struct pollfd pf[2] = {{.fd = ns, .events = POLLIN}, {.fd = pfd, .events = POLLIN}};
	long long deadline = vd_now_ms() + 20000;
	int ready = 0, status = -1;
	while (!ready && vd_now_ms() < deadline) {
		int r = poll(pf, 2, (int)(deadline - vd_now_ms()));
		if (r <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			char buf[256];
			ssize_t n = recv(ns, buf, sizeof buf - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			ready = strstr(buf, "READY=1") != NULL;
		}
		if (!ready && (pf[1].revents & POLLIN)) {
			waitpid(c, &status, 0);
			vd->pid = -1;
			break;
		}
	}
	close(ns);
	close(pfd);
	if (err_out) {
		char *s = vd_read_file(errpath);
		snprintf(err_out, len, "%s", s ? s : "");
		free(s);
	}
	if (!ready) {
		ck_assert_msg(vd->pid < 0, "vigild did not become ready within 20 s");
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	open_events(vd);
	return -1;
}

int vd_try_start(struct vd *vd, const char *body, char *err_out, size_t len)
{
	memset(vd, 0, sizeof *vd);
	vd->pid = -1;
	write_config(vd, body);
	return launch(vd, err_out, len);
}

void vd_kill9(struct vd *vd)
{
	ck_assert_int_gt(vd->pid, 0);
	kill(vd->pid, SIGKILL);
	int status;
	waitpid(vd->pid, &status, 0);
	vd->pid = -1;
	close_events(vd);
}

void vd_reexec(struct vd *vd)
{
	char notify[300];
	snprintf(notify, sizeof notify, "%s/notify.sock", vd->dir);
	unlink(notify);
	int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", notify);
	ck_assert_int_eq(bind(ns, (struct sockaddr *)&sa, sizeof sa), 0);
	close_events(vd);
	ck_assert_int_eq(kill(vd->pid, SIGUSR2), 0);
	struct pollfd p = {.fd = ns, .events = POLLIN};
	char buf[256] = "";
	long long deadline = vd_now_ms() + 20000;
	while (!strstr(buf, "READY=1") && vd_now_ms() < deadline) {
		if (poll(&p, 1, (int)(deadline - vd_now_ms())) <= 0)
			continue;
		ssize_t n = recv(ns, buf, sizeof buf - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
	close(ns);
	ck_assert_msg(strstr(buf, "READY=1") != NULL, "vigild was not ready again after reexec");
	open_events(vd);
}

void vd_relaunch(struct vd *vd)
{
	int r = launch(vd, NULL, 0);
	ck_assert_msg(r == -1, "vigild exited with %d before becoming ready", r);
}

void vd_prepare(struct vd *vd, const char *body)
{
	memset(vd, 0, sizeof *vd);
	vd->pid = -1;
	write_config(vd, body);
}

void vd_relaunch_log(struct vd *vd)
{
	char err[4096];
	int r = launch(vd, err, sizeof err);
	ck_assert_msg(r == -1, "vigild exited with %d before becoming ready: %s", r, err);
}

const char *vd_log_path(struct vd *vd)
{
	static char buf[320];
	snprintf(buf, sizeof buf, "%s/vigild.stderr", vd->dir);
	return buf;
}

int vd_halt(struct vd *vd)
{
	int status = 0;
	ck_assert_int_gt(vd->pid, 0);
	kill(vd->pid, SIGTERM);
	int r = vd_wait_gone(vd->pid, 30000);
	if (r < 0)
		kill(vd->pid, SIGKILL);
	waitpid(vd->pid, &status, 0);
	ck_assert_msg(r == 0, "vigild did not exit within 30 s of SIGTERM");
	vd->pid = -1;
	close_events(vd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *vd_rfc3339_now(char *buf, size_t len)
{
	static long long last_ms;
	struct timespec ts;
	long long ms;
	/* Times are kept to the millisecond: wait for the next one rather than repeat one. */
	do {
		clock_gettime(CLOCK_REALTIME, &ts);
		ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	} while (ms <= last_ms);
	last_ms = ms;
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
	return buf;
}

long long vd_parse_time_ms(const char *s)
{
	struct tm tm;
	int ms = 0;
	memset(&tm, 0, sizeof tm);
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

void vd_rewrite_config(struct vd *vd, const char *body)
{
	FILE *f = fopen(vd->config, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[vigil]\nstate_dir = %s\nplugin_path = %s\nlog_level = debug\n"
	           "shutdown_timeout = 10s\n%s\n",
	        vd->state, env_or("VIGIL_PLUGIN_DIR", "."), body);
	fclose(f);
}

void vd_start(struct vd *vd, const char *body)
{
	int r = vd_try_start(vd, body, NULL, 0);
	ck_assert_msg(r == -1, "vigild exited with %d before becoming ready", r);
}

/* type "task." (ending in a dot) selects every type it starts. */
static int matches(json_t *ev, const char *type, const char *subject)
{
	const char *t = json_string_value(json_object_get(ev, "type"));
	size_t n = strlen(type);
	if (!t || (n && type[n - 1] == '.' ? strncmp(t, type, n) != 0 : strcmp(t, type) != 0))
		return 0;
	if (!subject)
		return 1;
	const char *s = json_string_value(json_object_get(ev, "subject"));
	return s && strcmp(s, subject) == 0;
}

json_t *vd_wait_event(struct vd *vd, const char *type, const char *subject, int timeout_ms)
{
	size_t i;
	json_t *ev;
	json_array_foreach(vd->backlog, i, ev) {
		if (matches(ev, type, subject)) {
			json_incref(ev);
			json_array_remove(vd->backlog, i);
			return ev;
		}
	}
	long long deadline = vd_now_ms() + timeout_ms;
	for (;;) {
		char *nl = memchr(vd->evbuf, '\n', vd->evlen);
		if (!nl) {
			long long left = deadline - vd_now_ms();
			if (left <= 0)
				return NULL;
			struct pollfd p = {.fd = vd->events_fd, .events = POLLIN};
			if (poll(&p, 1, (int)left) <= 0)
				return NULL;
			if (vd->evcap - vd->evlen < 4096)
				vd->evbuf = realloc(vd->evbuf, vd->evcap *= 2);
			ssize_t r = read(vd->events_fd, vd->evbuf + vd->evlen, vd->evcap - vd->evlen);
			if (r <= 0)
				return NULL;
			vd->evlen += (size_t)r;
			continue;
		}
		*nl = '\0';
		ev = json_loads(vd->evbuf, 0, NULL);
		size_t used = (size_t)(nl - vd->evbuf) + 1;
		memmove(vd->evbuf, nl + 1, vd->evlen - used);
		vd->evlen -= used;
		if (!ev)
			continue;
		if (matches(ev, type, subject))
			return ev;
		json_array_append_new(vd->backlog, ev);
	}
}

json_t *vd_next_event(struct vd *vd, const char *prefix, int timeout_ms)
{
	return vd_wait_event(vd, prefix, NULL, timeout_ms);
}

static int run_ctl(struct vd *vd, int json, char **text, const char *arg, va_list ap)
{
	const char *argv[64];
	int n = 0;
	argv[n++] = "vigilctl";
	argv[n++] = "-s";
	argv[n++] = vd->socket;
	if (json)
		argv[n++] = "--json";
	for (const char *a = arg; a && n < 63; a = va_arg(ap, const char *))
		argv[n++] = a;
	argv[n] = NULL;
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t c = fork();
	if (c == 0) {
		dup2(p[1], 1);
		execv(env_or("VIGILCTL", "vigilctl"), (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while ((r = read(p[0], buf + len, cap - len - 1)) > 0) {
		len += (size_t)r;
		if (cap - len < 1024)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(p[0]);
	int status;
	waitpid(c, &status, 0);
	*text = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int vd_ctl(struct vd *vd, json_t **out, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	char *text;
	int rc = run_ctl(vd, 1, &text, arg, ap);
	va_end(ap);
	if (out)
		*out = json_loads(text, JSON_DECODE_ANY, NULL);
	free(text);
	return rc;
}

int vd_ctl_text(struct vd *vd, char **out, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	int rc = run_ctl(vd, 0, out, arg, ap);
	va_end(ap);
	return rc;
}

json_t *vd_status(struct vd *vd, const char *name)
{
	json_t *doc = NULL;
	if (vd_ctl(vd, &doc, "status", name, (char *)NULL) != 0 || !doc) {
		json_decref(doc);
		return NULL;
	}
	json_t *procs = json_object_get(doc, "processes"), *p, *found = NULL;
	size_t i;
	json_array_foreach(procs, i, p) {
		const char *n = json_string_value(json_object_get(p, "name"));
		if (n && strcmp(n, name) == 0) {
			found = p;
			json_incref(found);
			break;
		}
	}
	json_decref(doc);
	return found;
}

const char *vd_state(struct vd *vd, const char *name)
{
	static char buf[32];
	json_t *p = vd_status(vd, name);
	snprintf(buf, sizeof buf, "%s", p ? json_string_value(json_object_get(p, "state")) : "?");
	json_decref(p);
	return buf;
}

int vd_pid(struct vd *vd, const char *name)
{
	json_t *p = vd_status(vd, name);
	int pid = p ? (int)json_integer_value(json_object_get(p, "pid")) : -1;
	json_decref(p);
	return pid;
}

/* Every live process whose environment carries our mark. */
static int find_marked(const char *mark, pid_t *out, int max)
{
	char want[128];
	int n = snprintf(want, sizeof want, "VIGIL_TEST_MARK=%s", mark);
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		char path[64], buf[16384];
		snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, buf, sizeof buf);
		close(fd);
		for (ssize_t off = 0; off < len; off += (ssize_t)strnlen(buf + off, (size_t)(len - off)) + 1)
			if (len - off >= n + 1 && memcmp(buf + off, want, (size_t)n + 1) == 0) {
				if (found < max)
					out[found] = pid;
				found++;
				break;
			}
	}
	if (d)
		closedir(d);
	return found;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

int vd_stop(struct vd *vd)
{
	int status = 0;
	if (vd->pid > 0) {
		kill(vd->pid, SIGTERM);
		int r = vd_wait_gone(vd->pid, 30000);
		if (r < 0)
			kill(vd->pid, SIGKILL);
		waitpid(vd->pid, &status, 0);
		ck_assert_msg(r == 0, "vigild did not exit within 30 s of SIGTERM");
		vd->pid = -1;
	}
	close_events(vd);
	/* Nothing this test started may survive the daemon. */
	pid_t left[64];
	int n = find_marked(vd->mark, left, 64);
	for (int i = 0; i < n && i < 64; i++)
		kill(left[i], SIGKILL);
	nftw(vd->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	ck_assert_msg(n == 0, "%d process(es) started by the test survived vigild (first: %d)", n,
	              n ? (int)left[0] : 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *vd_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long vd_jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

int vd_contains(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

int vd_status_pids(struct vd *vd, int *pids, int max, const char *state, const char *target)
{
	json_t *doc = NULL, *p;
	size_t i;
	int n = 0;
	ck_assert_int_eq(vd_ctl(vd, &doc, "status", target, (char *)NULL), 0);
	json_array_foreach(json_object_get(doc, "processes"), i, p) {
		const char *st = vd_jstr(p, "state");
		if (state && (!st || strcmp(st, state) != 0))
			continue;
		if (n < max)
			pids[n] = (int)vd_jint(p, "pid");
		n++;
	}
	json_decref(doc);
	return n;
}

void vd_wait_ready(struct vd *vd, const char *program, int n)
{
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s.%d", program, i);
		json_t *ev = vd_wait_event(vd, "process.ready", n > 1 ? name : program, 20000);
		ck_assert_msg(ev != NULL, "%s never became ready", n > 1 ? name : program);
		json_decref(ev);
	}
}

/* test_probes.c — real vigild: ready = notify|tcp|http|exec, watchdog, health checks, alerts. */
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

/* A TCP port nobody listens on right now (the kernel's pick). */
static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	socklen_t len = sizeof sa;
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Waits for an event and checks one string field of it; returns it (decref it). */
static json_t *expect(struct vd *vd, const char *type, const char *subject, const char *key,
                      const char *value, int timeout_ms)
{
	json_t *ev = vd_wait_event(vd, type, subject, timeout_ms);
	ck_assert_msg(ev != NULL, "no %s for %s within %d ms", type, subject, timeout_ms);
	if (key)
		ck_assert_msg(strcmp(vd_jstr(ev, key), value) == 0, "%s of %s: %s is '%s', not '%s'",
		              type, subject, key, vd_jstr(ev, key), value);
	return ev;
}

static void expect_free(struct vd *vd, const char *type, const char *subject, const char *key,
                        const char *value, int timeout_ms)
{
	json_decref(expect(vd, type, subject, key, value, timeout_ms));
}

static int send_dgram(const char *path, const void *buf, size_t len, int pass_fd)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {
	    .msg_name = &sa, .msg_namelen = sizeof sa, .msg_iov = &iov, .msg_iovlen = 1};
	if (pass_fd >= 0) {
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof ctl;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
	}
	ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);
	int e = errno;
	close(fd);
	errno = e;
	return r < 0 ? -1 : 0;
}

/* How many of pid's fds are open on target (control connections come and go; this does not). */
static int count_fds_on(pid_t pid, const char *target)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char link[400], to[400];
		snprintf(link, sizeof link, "%s/%s", path, e->d_name);
		ssize_t len = readlink(link, to, sizeof to - 1);
		if (len > 0) {
			to[len] = '\0';
			n += strcmp(to, target) == 0;
		}
	}
	closedir(d);
	return n;
}

/* Whether vigild (pid) has a file whose path contains what mapped (its /proc/PID/maps). */
static int maps_has(pid_t pid, const char *what)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	char *maps = vd_read_file(path);
	ck_assert_msg(maps != NULL, "cannot read %s", path);
	int found = strstr(maps, what) != NULL;
	free(maps);
	return found;
}

/* A copy of vigild in DIR/bin with no lib/vigil/modules beside it: a build or an install whose
 * modules are missing. dir gets DIR; VIGILD points to the copy. remove_copy may come as soon as
 * vigild runs (its modules are looked for beside the path it was started from). */
static void vigild_without_modules(char *dir, size_t len)
{
	static char src[512]; /* the real one: VIGILD names the copy afterwards */
	if (!src[0]) {
		ck_assert_msg(getenv("VIGILD") != NULL, "VIGILD is not set");
		snprintf(src, sizeof src, "%s", getenv("VIGILD"));
	}
	snprintf(dir, len, "/tmp/vigil-test-nomod-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char bin[300], dst[320];
	snprintf(bin, sizeof bin, "%s/bin", dir);
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	snprintf(dst, sizeof dst, "%s/vigild", bin);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert_msg(in >= 0 && out >= 0, "cannot copy %s to %s: %s", src, dst, strerror(errno));
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
	setenv("VIGILD", dst, 1);
}

static void remove_copy(const char *dir)
{
	char path[320];
	snprintf(path, sizeof path, "%s/bin/vigild", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/bin", dir);
	rmdir(path);
	rmdir(dir);
}

START_TEST(notify_readiness_gates_a_dependent)
{
	struct vd vd;
	vd_start(&vd, config("[program.db]\ncommand = %s notify 300\nready = notify\n"
	                     "[program.web]\ncommand = %s sleep\ndepends_on = db\n"
	                     "[program.kid]\ncommand = %s notify-child\nready = notify\n",
	                     vd_victim(), vd_victim(), vd_victim()));
	json_t *ready = expect(&vd, "process.ready", "db", "how", "notify", 10000);
	ck_assert_int_ge(vd_jint(ready, "ready_ms"), 250);
	long long ready_seq = vd_jint(ready, "seq");
	json_decref(ready);
	json_t *start = expect(&vd, "process.starting", "web", NULL, NULL, 10000);
	ck_assert_msg(vd_jint(start, "seq") > ready_seq,
	              "the dependent started (seq %lld) before db was ready (seq %lld)",
	              vd_jint(start, "seq"), ready_seq);
	json_decref(start);
	expect_free(&vd, "process.ready", "web", "how", "none", 10000);
	/* READY=1 from a child of the main process (same session) counts too */
	expect_free(&vd, "process.ready", "kid", "how", "notify", 10000);
	ck_assert_str_eq(vd_state(&vd, "db"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(notify_environment_only_for_notify_programs)
{
	struct vd vd;
	char plain[] = "/tmp/vigil-test-env-plain-XXXXXX",
	     noti[] = "/tmp/vigil-test-env-noti-XXXXXX";
	close(mkstemp(plain));
	close(mkstemp(noti));
	unlink(plain);
	unlink(noti);
	vd_start(&vd, config("[program.plain]\ncommand = %s dump-state %s\n"
	                     "[program.noti]\ncommand = %s dump-state %s\nready = notify\n"
	                     "watchdog = 3s\n",
	                     vd_victim(), plain, vd_victim(), noti));
	char *p = vd_wait_file(plain, "env:VIGIL_NAME", 5000);
	char *n = vd_wait_file(noti, "env:VIGIL_NAME", 5000);
	unlink(plain);
	unlink(noti);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(n);
	ck_assert_msg(!strstr(p, "NOTIFY_SOCKET") && !strstr(p, "WATCHDOG_"), "%s", p);
	char want[400];
	snprintf(want, sizeof want, "\nenv:NOTIFY_SOCKET=%s/notify.sock\n", vd.state);
	ck_assert_msg(strstr(n, want), "%s", n);
	ck_assert_msg(strstr(n, "\nenv:WATCHDOG_USEC=3000000\n"), "%s", n);
	/* the socket is the daemon's user's only */
	struct stat st;
	char sock[400];
	snprintf(sock, sizeof sock, "%s/notify.sock", vd.state);
	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(p);
	free(n);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(notify_as_another_user)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: running a program as another user needs root\n");
		return;
	}
	struct vd vd;
	/* nobody cannot enter state_dir (0750): it is handed the abstract socket */
	vd_start(&vd, config("[program.n]\ncommand = %s notify 0\nuser = nobody\n"
	                     "group = nogroup\nready = notify\nwatchdog = 1s\n",
	                     vd_victim()));
	expect_free(&vd, "process.ready", "n", "how", "notify", 10000);
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", "n", 2500));
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "n", (char *)NULL), 0);
	expect_free(&vd, "alert.raised", "n", "alert", "watchdog", 5000);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(notify_never_ready_fails_at_start_timeout)
{
	struct vd vd;
	vd_start(&vd, config("[program.mute]\ncommand = %s not-ready\nready = notify\n"
	                     "start_timeout = 500ms\nrestart = never\n",
	                     vd_victim()));
	json_t *ev = expect(&vd, "process.exited", "mute", "reason", "start-timeout", 10000);
	ck_assert_int_ge(vd_jint(ev, "runtime_ms"), 450);
	json_decref(ev);
	ck_assert_str_eq(vd_state(&vd, "mute"), "stopped");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(foreign_and_malformed_datagrams_are_ignored)
{
	struct vd vd;
	vd_start(&vd, config("[program.mute]\ncommand = %s not-ready\nready = notify\n"
	                     "start_timeout = 60s\n",
	                     vd_victim()));
	expect_free(&vd, "process.running", "mute", NULL, NULL, 10000);
	char sock[400];
	snprintf(sock, sizeof sock, "%s/notify.sock", vd.state);
	int before = count_fds_on(vd.pid, "/dev/null");
	ck_assert_int_ge(before, 0);

	/* We are no process of the instance: our READY=1 must not count. */
	ck_assert_int_eq(send_dgram(sock, "READY=1", 7, -1), 0);
	ck_assert_int_eq(send_dgram(sock, "READY=1\nSTATUS=spoofed", 22, -1), 0);
	ck_assert_int_eq(send_dgram(sock, "", 0, -1), 0);
	static char big[8192];
	memset(big, 'A', sizeof big);
	memcpy(big, "READY=1\n", 8);
	ck_assert_int_eq(send_dgram(sock, big, sizeof big, -1), 0);
	ck_assert_int_eq(send_dgram(sock, "\0\0READY=1\xff\xfe", 11, -1), 0);
	ck_assert_int_eq(send_dgram(sock, "garbage without equals\n=\n==\n", 28, -1), 0);
	/* An fd handed to the daemon is closed, not kept. */
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(send_dgram(sock, "FDSTORE=1", 9, devnull), 0);
	close(devnull);

	/* Two round trips: the first may be answered in the loop turn that reads the
	 * datagrams, the second comes after it. */
	for (int i = 0; i < 2; i++)
		ck_assert_str_eq(vd_state(&vd, "mute"), "starting");
	ck_assert_int_eq(count_fds_on(vd.pid, "/dev/null"), before);
	ck_assert_ptr_null(vd_wait_event(&vd, "process.ready", "mute", 0));
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(watchdog_timeout_restarts)
{
	struct vd vd;
	vd_start(&vd, config("[program.wd]\ncommand = %s notify 0\nready = notify\n"
	                     "watchdog = 1s\n",
	                     vd_victim()));
	json_t *ev = expect(&vd, "process.ready", "wd", "how", "notify", 10000);
	long long pid1 = vd_jint(ev, "pid");
	json_decref(ev);
	/* pings keep it alive beyond the watchdog period */
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", "wd", 2500));
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "wd", (char *)NULL), 0);
	ev = expect(&vd, "alert.raised", "wd", "alert", "watchdog", 5000);
	ck_assert_str_eq(vd_jstr(ev, "severity"), "critical");
	ck_assert_ptr_nonnull(strstr(vd_jstr(ev, "message"), "WATCHDOG=1"));
	json_decref(ev);
	expect_free(&vd, "process.stopping", "wd", "reason", "watchdog", 5000);
	ev = expect(&vd, "process.ready", "wd", "how", "notify", 10000);
	ck_assert_int_ne(vd_jint(ev, "pid"), pid1);
	json_decref(ev);
	/* the new run pings again */
	expect_free(&vd, "alert.cleared", "wd", "alert", "watchdog", 5000);
	ck_assert_str_eq(vd_state(&vd, "wd"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(tcp_and_http_readiness)
{
	struct vd vd;
	int p1 = free_port(), p2 = free_port(), p3 = free_port();
	vd_start(&vd, config("[program.t]\ncommand = %s listen %d 300\nready = tcp:%d\n"
	                     "[program.h]\ncommand = %s listen %d 300\n"
	                     "ready = http://127.0.0.1:%d/ready\n"
	                     "[program.err]\ncommand = %s listen %d\n"
	                     "ready = http://localhost:%d/status/503\nstart_timeout = 1s\n"
	                     "restart = never\n",
	                     vd_victim(), p1, p1, vd_victim(), p2, p2, vd_victim(), p3, p3));
	json_t *ev = expect(&vd, "process.ready", "t", "how", "tcp", 10000);
	ck_assert_int_ge(vd_jint(ev, "ready_ms"), 250);
	json_decref(ev);
	ev = expect(&vd, "process.ready", "h", "how", "http", 10000);
	ck_assert_int_ge(vd_jint(ev, "ready_ms"), 250);
	json_decref(ev);
	/* 5xx is not ready: the start fails at start_timeout */
	expect_free(&vd, "process.exited", "err", "reason", "start-timeout", 10000);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(exec_readiness)
{
	struct vd vd;
	char flag[] = "/tmp/vigil-test-flag-XXXXXX";
	close(mkstemp(flag));
	unlink(flag);
	vd_start(&vd, config("[program.e]\ncommand = %s sleep\nready = exec:/usr/bin/test -e %s\n"
	                     "[program.slow]\ncommand = %s sleep\nready = exec:%s sleep\n"
	                     "health_timeout = 200ms\nstart_timeout = 1s\nrestart = never\n",
	                     vd_victim(), flag, vd_victim(), vd_victim()));
	expect_free(&vd, "process.running", "e", NULL, NULL, 10000);
	ck_assert_str_eq(vd_state(&vd, "e"), "starting");
	int fd = open(flag, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	expect_free(&vd, "process.ready", "e", "how", "exec", 10000);
	unlink(flag);
	/* a check that hangs is killed at health_timeout; the start fails at start_timeout, and
	 * vd_stop finds none of the check processes left */
	expect_free(&vd, "process.exited", "slow", "reason", "start-timeout", 10000);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(liveness_failures_restart_after_n)
{
	struct vd vd;
	int port = free_port();
	vd_start(&vd, config("[program.svc]\ncommand = %s listen %d\nready = tcp:%d\n"
	                     "health_check = tcp:127.0.0.1:%d\nhealth_interval = 200ms\n"
	                     "health_timeout = 500ms\nhealth_failures = 2\n",
	                     vd_victim(), port, port, port));
	json_t *ev = expect(&vd, "process.ready", "svc", "how", "tcp", 10000);
	long long pid1 = vd_jint(ev, "pid");
	json_decref(ev);
	/* passing checks raise nothing */
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", "svc", 700));
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "svc", (char *)NULL), 0);
	ev = expect(&vd, "alert.raised", "svc", "alert", "unhealthy", 5000);
	ck_assert_str_eq(vd_jstr(ev, "severity"), "critical");
	ck_assert_msg(strstr(vd_jstr(ev, "message"), "2 health checks failed") &&
	                  strstr(vd_jstr(ev, "message"), "Connection refused"),
	              "message: %s", vd_jstr(ev, "message"));
	json_decref(ev);
	expect_free(&vd, "process.stopping", "svc", "reason", "unhealthy", 5000);
	ev = expect(&vd, "process.ready", "svc", NULL, NULL, 10000);
	ck_assert_int_ne(vd_jint(ev, "pid"), pid1);
	json_decref(ev);
	expect_free(&vd, "alert.cleared", "svc", "alert", "unhealthy", 5000);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(on_unhealthy_alert_only_raises)
{
	struct vd vd;
	int port = free_port();
	vd_start(&vd, config("[program.svc]\ncommand = %s listen %d\nready = tcp:%d\n"
	                     "health_check = http://127.0.0.1:%d/health\nhealth_interval = 200ms\n"
	                     "health_failures = 2\non_unhealthy = alert\n",
	                     vd_victim(), port, port, port));
	json_t *ev = expect(&vd, "process.ready", "svc", NULL, NULL, 10000);
	int pid = (int)vd_jint(ev, "pid");
	json_decref(ev);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "svc", (char *)NULL), 0);
	ev = expect(&vd, "alert.raised", "svc", "alert", "unhealthy", 5000);
	ck_assert_ptr_nonnull(strstr(vd_jstr(ev, "message"), "GET http://127.0.0.1:"));
	json_decref(ev);
	/* raised once, not again for every failure after the second */
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", "svc", 800));
	ck_assert_str_eq(vd_state(&vd, "svc"), "running");
	ck_assert_int_eq(vd_pid(&vd, "svc"), pid);
	/* listening again: the next check clears it */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "svc", (char *)NULL), 0);
	expect_free(&vd, "alert.cleared", "svc", "alert", "unhealthy", 5000);
	ck_assert_ptr_null(vd_wait_event(&vd, "process.stopping", "svc", 0));
	ck_assert_int_eq(vd_pid(&vd, "svc"), pid);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(exec_health_check_timeout_stops)
{
	struct vd vd;
	vd_start(&vd, config("[program.svc]\ncommand = %s sleep\n"
	                     "health_check = exec:%s sleep\nhealth_interval = 300ms\n"
	                     "health_timeout = 200ms\nhealth_failures = 1\non_unhealthy = stop\n",
	                     vd_victim(), vd_victim()));
	expect_free(&vd, "process.ready", "svc", NULL, NULL, 10000);
	json_t *ev = expect(&vd, "alert.raised", "svc", "alert", "unhealthy", 5000);
	ck_assert_msg(strstr(vd_jstr(ev, "message"), "timed out after 200 ms"), "message: %s",
	              vd_jstr(ev, "message"));
	json_decref(ev);
	expect_free(&vd, "process.stopping", "svc", "reason", "unhealthy", 5000);
	expect_free(&vd, "process.exited", "svc", NULL, NULL, 5000);
	ck_assert_str_eq(vd_state(&vd, "svc"), "stopped");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(checks_go_on_after_reexec_and_restart)
{
	struct vd vd;
	int port = free_port();
	vd_start(&vd, config("[program.wd]\ncommand = %s notify 0\nready = notify\n"
	                     "watchdog = 1s\n"
	                     "[program.svc]\ncommand = %s listen %d\nready = tcp:%d\n"
	                     "health_check = tcp:%d\nhealth_interval = 200ms\n"
	                     "health_failures = 2\non_unhealthy = alert\n",
	                     vd_victim(), vd_victim(), port, port, port));
	expect_free(&vd, "process.ready", "wd", NULL, NULL, 10000);
	expect_free(&vd, "process.ready", "svc", NULL, NULL, 10000);
	int wd = vd_pid(&vd, "wd"), svc = vd_pid(&vd, "svc");

	/* A reexec hands the instances over: the pings reach the new image's socket. */
	vd_reexec(&vd);
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", NULL, 1500));
	ck_assert_int_eq(vd_pid(&vd, "wd"), wd);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "svc", (char *)NULL), 0);
	expect_free(&vd, "alert.raised", "svc", "alert", "unhealthy", 5000);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "svc", (char *)NULL), 0);
	expect_free(&vd, "alert.cleared", "svc", "alert", "unhealthy", 5000);

	/* After a crash of vigild the instances are adopted and still watched. */
	vd_kill9(&vd);
	vd_relaunch(&vd);
	ck_assert_str_eq(vd_state(&vd, "wd"), "adopted");
	ck_assert_ptr_null(vd_wait_event(&vd, "alert.raised", "wd", 1500));
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "USR1", "wd", (char *)NULL), 0);
	expect_free(&vd, "alert.raised", "wd", "alert", "watchdog", 5000);
	ck_assert_int_eq(vd_pid(&vd, "svc"), svc);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(libcurl_only_with_an_http_check)
{
	struct vd vd;
	int p1 = free_port(), p2 = free_port();
	const char *t = config("[program.t]\ncommand = %s listen %d 300\nready = tcp:%d\n",
	                       vd_victim(), p1, p1);
	char first[1024];
	snprintf(first, sizeof first, "%s", t);
	vd_start(&vd, first);
	expect_free(&vd, "process.ready", "t", "how", "tcp", 10000);
	/* no http:// check: the http_check module and libcurl are not mapped */
	ck_assert_msg(!maps_has(vd.pid, "libcurl"), "vigild maps libcurl without an http check");
	ck_assert(!maps_has(vd.pid, "http_check.so"));

	/* a reload that adds one opens the module, and the check works */
	vd_rewrite_config(&vd, config("%s[program.h]\ncommand = %s listen %d 300\n"
	                              "ready = http://127.0.0.1:%d/ready\n",
	                              first, vd_victim(), p2, p2));
	ck_assert_int_eq(vd_ctl(&vd, NULL, "reload", (char *)NULL), 0);
	expect_free(&vd, "process.ready", "h", "how", "http", 10000);
	ck_assert(maps_has(vd.pid, "http_check.so"));
	ck_assert(maps_has(vd.pid, "libcurl"));
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(http_check_module_missing_is_a_config_error)
{
	struct vd vd;
	char dir[256], err[4096];
	json_t *doc = NULL;
	int port = free_port();
	vigild_without_modules(dir, sizeof dir);

	/* at startup: exit 100, naming the program, the key and the module's file */
	int rc = vd_try_start(&vd,
	                      config("[program.h]\ncommand = %s listen %d 300\n"
	                             "ready = http://127.0.0.1:%d/ready\n",
	                             vd_victim(), port, port),
	                      err, sizeof err);
	remove_copy(dir);
	if (rc < 0) /* it started: stop it and what it started before failing */
		vd_stop(&vd);
	ck_assert_msg(rc == 100, "vigild exited %d: %s", rc, err);
	ck_assert_msg(strstr(err, "[program.h] ready = http://127.0.0.1:") &&
	                  strstr(err, "/lib/vigil/modules/http_check.so: cannot load:") &&
	                  strstr(err, dir),
	              "the error does not name the program, key and module: %s", err);
	vd_stop(&vd);

	/* without http checks the same binary runs; a reload that adds one is refused and
	 * changes nothing */
	vigild_without_modules(dir, sizeof dir);
	vd_start(&vd, config("[program.t]\ncommand = %s sleep\n", vd_victim()));
	remove_copy(dir);
	expect_free(&vd, "process.running", "t", NULL, NULL, 10000);
	int pid = vd_pid(&vd, "t");
	vd_rewrite_config(&vd, config("[program.t]\ncommand = %s sleep\n"
	                              "[program.h]\ncommand = %s sleep\n"
	                              "health_check = http://127.0.0.1:%d/health\n",
	                              vd_victim(), vd_victim(), port));
	ck_assert_int_eq(vd_ctl(&vd, &doc, "reload", (char *)NULL), 100);
	const char *msg = vd_jstr(json_object_get(doc, "error"), "message");
	ck_assert_msg(strstr(msg, "[program.h] health_check = http://") &&
	                  strstr(msg, "http_check.so: cannot load:"),
	              "reload error: %s", msg);
	json_decref(doc);
	ck_assert_ptr_null(vd_status(&vd, "h"));
	ck_assert_int_eq(vd_pid(&vd, "t"), pid);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("probes");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, notify_readiness_gates_a_dependent);
	tcase_add_test(tc, notify_environment_only_for_notify_programs);
	tcase_add_test(tc, notify_as_another_user);
	tcase_add_test(tc, notify_never_ready_fails_at_start_timeout);
	tcase_add_test(tc, foreign_and_malformed_datagrams_are_ignored);
	tcase_add_test(tc, watchdog_timeout_restarts);
	tcase_add_test(tc, tcp_and_http_readiness);
	tcase_add_test(tc, libcurl_only_with_an_http_check);
	tcase_add_test(tc, http_check_module_missing_is_a_config_error);
	tcase_add_test(tc, exec_readiness);
	tcase_add_test(tc, liveness_failures_restart_after_n);
	tcase_add_test(tc, on_unhealthy_alert_only_raises);
	tcase_add_test(tc, exec_health_check_timeout_stops);
	tcase_add_test(tc, checks_go_on_after_reexec_and_restart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

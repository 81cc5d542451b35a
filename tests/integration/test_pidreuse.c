/* test_pidreuse.c — a recorded pid taken by another process after a crash is left alone. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Writes text to a /proc file; 0 or -errno. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int e = errno;
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -e;
}

/* A user (when not root), PID and mount namespace for the children of this process; the next
 * fork is the namespace's init. 0 or -errno. */
static int enter_namespaces(void)
{
	int flags = CLONE_NEWPID | CLONE_NEWNS;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (uid != 0)
		flags |= CLONE_NEWUSER;
	if (unshare(flags) < 0)
		return -errno;
	if (uid != 0) {
		char map[64];
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
		int rc = write_file("/proc/self/uid_map", map);
		write_file("/proc/self/setgroups", "deny");
		snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
		if (rc == 0)
			rc = write_file("/proc/self/gid_map", map);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* In the init of the new namespace: its own /proc, so pids read there are the namespace's. */
static int remount_proc(void)
{
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return -errno;
	return 0;
}

/* Can this machine give us the namespaces? Asked in a throwaway child. */
static const char *namespaces_refused(void)
{
	static char why[160];
	pid_t c = fork();
	if (c == 0) {
		int rc = enter_namespaces();
		if (rc < 0)
			_exit(10 + (-rc & 0xff) % 100);
		pid_t init = fork();
		if (init == 0)
			_exit(remount_proc() < 0 ? 1 : 0);
		int st;
		waitpid(init, &st, 0);
		_exit(WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 2);
	}
	int st;
	waitpid(c, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return NULL;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
		snprintf(why, sizeof why, "cannot mount /proc in a new PID namespace");
	else
		snprintf(why, sizeof why, "cannot create a PID namespace (unshare: exit %d)",
		         WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return why;
}

/* A process that blocks every signal it can: a signal sent to it stays pending, where the test
 * sees it; SIGKILL ends it and SIGSTOP stops it, which the test sees as well. */
static pid_t decoy_at(pid_t want)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%d", (int)want - 1);
	ck_assert_int_eq(write_file("/proc/sys/kernel/ns_last_pid", buf), 0);
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		sigset_t all;
		sigfillset(&all);
		sigprocmask(SIG_BLOCK, &all, NULL);
		for (;;)
			pause();
	}
	return c;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot; 0 when unknown. */
static unsigned long long start_ticks(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	char *s = vd_read_file(path), *p = s ? strrchr(s, ')') : NULL;
	unsigned long long t = 0;
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
	                       "%*d %*d %llu", &t) != 1)
		t = 0;
	free(s);
	return t;
}

/* "SigPnd" / "ShdPnd" / "State" line of /proc/PID/status. */
static void status_line(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *s = vd_read_file(path), *p = s ? strstr(s, key) : NULL;
	out[0] = '\0';
	if (p) {
		p += strlen(key);
		p += strspn(p, ":\t ");
		snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	}
	free(s);
}

/* Do pidfds have inodes of their own (pidfs)? */
static int have_pidfs(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	struct statfs sf;
	int yes = fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == 0x50494446;
	if (fd >= 0)
		close(fd);
	return yes;
}

/* The body of the test, as init (pid 1) of the namespace; a failed assertion exits non-zero. */
static void as_init(void)
{
	struct vd vd;
	ck_assert_int_eq(getpid(), 1);
	ck_assert_int_eq(remount_proc(), 0);
	char body[512];
	snprintf(body, sizeof body, "[program.s]\ncommand = %s sleep\n", vd_victim());
	vd_start(&vd, body);
	json_t *ev = vd_wait_event(&vd, "process.ready", "s", 20000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	int pid = vd_pid(&vd, "s");
	ck_assert_int_gt(pid, 1);

	unsigned long long ticks = start_ticks(pid);
	ck_assert_int_gt(ticks, 0);
	vd_kill9(&vd);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	/* its orphan came to us, the namespace's init: reap it, so its pid is free */
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	/* Where pidfds live on pidfs (Linux 6.9+), vigild tells processes apart by the pidfd's
	 * inode, so even a reuse within the same clock tick is caught: take the first decoy.
	 * Elsewhere only the start time (10 ms ticks) can: the decoy must start a tick later, as
	 * any reuse after a pid wrap-around does. Bounded: a tick is 10 ms. */
	int same_tick_ok = have_pidfs();
	pid_t decoy;
	long long deadline = vd_now_ms() + 2000;
	for (;;) {
		decoy = decoy_at(pid);
		ck_assert_msg(decoy == pid, "the decoy got pid %d, not %d", (int)decoy, pid);
		if (same_tick_ok || start_ticks(decoy) != ticks)
			break;
		kill(decoy, SIGKILL);
		waitpid(decoy, NULL, 0);
		ck_assert_msg(vd_now_ms() < deadline, "the clock tick did not move in 2 s");
	}

	vd_relaunch(&vd);
	ev = vd_wait_event(&vd, "process.exited", "s", 5000);
	ck_assert_msg(ev != NULL, "the entry of pid %d was not closed", pid);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "lost");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")), pid);
	json_decref(ev);
	ev = vd_wait_event(&vd, "process.adopted", "s", 0);
	ck_assert_msg(ev == NULL, "the decoy was adopted as s");
	ev = vd_wait_event(&vd, "process.ready", "s", 10000);
	ck_assert_ptr_nonnull(ev);
	int fresh = (int)json_integer_value(json_object_get(ev, "pid"));
	json_decref(ev);
	ck_assert_int_ne(fresh, pid);
	ck_assert_int_eq(vd_pid(&vd, "s"), fresh);
	ck_assert_str_eq(vd_state(&vd, "s"), "running");

	/* the decoy: alive, not stopped, nothing pending */
	ck_assert_int_eq(waitpid(decoy, NULL, WNOHANG), 0);
	char state[64], pnd[64], shd[64];
	status_line(decoy, "State", state, sizeof state);
	status_line(decoy, "SigPnd", pnd, sizeof pnd);
	status_line(decoy, "ShdPnd", shd, sizeof shd);
	ck_assert_msg(state[0] == 'S', "decoy state: %s", state);
	ck_assert_msg(strspn(pnd, "0") == strlen(pnd) && strspn(shd, "0") == strlen(shd),
	              "the decoy was signalled: SigPnd %s ShdPnd %s", pnd, shd);
	ck_assert_int_eq(vd_stop(&vd), 0);
	ck_assert_int_eq(waitpid(decoy, NULL, WNOHANG), 0);
	kill(decoy, SIGKILL);
	waitpid(decoy, NULL, 0);
}

START_TEST(reused_pid_is_not_adopted)
{
	/* The namespaces are made in a child: after unshare(CLONE_NEWPID) a process can no longer
	 * start threads, which LeakSanitizer needs at exit. */
	pid_t outer = fork();
	ck_assert_int_ge(outer, 0);
	if (outer == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (enter_namespaces() < 0)
			_exit(2);
		pid_t init = fork();
		if (init == 0) {
			/* the namespace, with everything in it, dies with this test */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			as_init();
			_exit(0);
		}
		int ist = 0;
		if (init < 0 || waitpid(init, &ist, 0) != init)
			_exit(3);
		_exit(WIFEXITED(ist) ? WEXITSTATUS(ist) : 4);
	}
	int st;
	ck_assert_int_eq(waitpid(outer, &st, 0), outer);
	/* A failure inside already reported its message; keep it (a new one would replace it). */
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		_exit(1);
}
END_TEST

int main(void)
{
	const char *why = namespaces_refused();
	if (why) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	Suite *s = suite_create("pidreuse");
	TCase *tc = tcase_create("pidreuse");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, reused_pid_is_not_adopted);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

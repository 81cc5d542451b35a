/* test_lifecycle.c — real vigild, real children: start, stop, restart, crash loops, kill. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

static int json_int(json_t *o, const char *key)
{
	return (int)json_integer_value(json_object_get(o, key));
}

START_TEST(start_stop_restart)
{
	struct vd vd;
	vd_start(&vd, config("[program.sleeper]\ncommand = %s sleep\n", vd_victim()));
	json_t *ev = vd_wait_event(&vd, "process.ready", "sleeper", 10000);
	ck_assert_ptr_nonnull(ev);
	int pid = json_int(ev, "pid");
	json_decref(ev);
	ck_assert_int_gt(pid, 0);
	ck_assert_str_eq(vd_state(&vd, "sleeper"), "running");
	ck_assert_int_eq(vd_pid(&vd, "sleeper"), pid);

	/* stop waits for the target state */
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "stop", "sleeper", (char *)NULL), 0);
	json_decref(doc);
	ck_assert_str_eq(vd_state(&vd, "sleeper"), "stopped");
	ck_assert_int_eq(vd_wait_gone(pid, 2000), 0);

	ck_assert_int_eq(vd_ctl(&vd, NULL, "start", "sleeper", (char *)NULL), 0);
	ck_assert_str_eq(vd_state(&vd, "sleeper"), "running");
	int pid2 = vd_pid(&vd, "sleeper");
	ck_assert_int_gt(pid2, 0);
	ck_assert_int_ne(pid2, pid);

	ck_assert_int_eq(vd_ctl(&vd, NULL, "restart", "sleeper", (char *)NULL), 0);
	int pid3 = vd_pid(&vd, "sleeper");
	ck_assert_int_gt(pid3, 0);
	ck_assert_int_ne(pid3, pid2);
	ck_assert_int_eq(vd_wait_gone(pid2, 2000), 0);

	/* unknown names are exit code 3 */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "nosuch", (char *)NULL), 3);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(crash_backoff_then_fatal)
{
	struct vd vd;
	vd_start(&vd, config("[program.crasher]\ncommand = %s exit 3\nrestart_policy = quick\n"
	                     "[policy.backoff.quick]\ninitial = 100ms\nmultiplier = 2\nmax = 10s\n"
	                     "jitter = 0\nmax_restarts = 3\nwindow = 1m\n",
	                     vd_victim()));
	long long last = 0;
	for (int i = 0; i < 3; i++) {
		json_t *ex = vd_wait_event(&vd, "process.exited", "crasher", 10000);
		ck_assert_ptr_nonnull(ex);
		ck_assert_int_eq(json_int(ex, "exit_code"), 3);
		json_decref(ex);
		json_t *bo = vd_wait_event(&vd, "process.backoff", "crasher", 10000);
		ck_assert_ptr_nonnull(bo);
		long long delay = json_integer_value(json_object_get(bo, "delay_ms"));
		json_decref(bo);
		ck_assert_int_eq(delay, 100LL << i); /* 100, 200, 400: growing */
		ck_assert_int_gt(delay, last);
		last = delay;
	}
	json_t *fatal = vd_wait_event(&vd, "process.fatal", "crasher", 10000);
	ck_assert_ptr_nonnull(fatal);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(fatal, "reason")), "3"));
	json_decref(fatal);
	ck_assert_str_eq(vd_state(&vd, "crasher"), "fatal");
	json_t *st = vd_status(&vd, "crasher");
	ck_assert_int_eq(json_int(st, "restarts"), 3);
	ck_assert_int_eq(json_int(st, "exit_code"), 3);
	json_decref(st);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(ignore_term_is_killed_after_stop_timeout)
{
	struct vd vd;
	vd_start(&vd, config("[program.stubborn]\ncommand = %s ignore-term\nstop_timeout = 1s\n",
	                     vd_victim()));
	json_t *ev = vd_wait_event(&vd, "process.ready", "stubborn", 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	/* The victim prints before it sleeps; wait until it ignores TERM for sure. */
	char out[400];
	snprintf(out, sizeof out, "%s/logs/stubborn.out.log", vd.state);
	free(vd_wait_file(out, "ignoring SIGTERM", 5000));
	long long t0 = vd_now_ms();
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "stubborn", (char *)NULL), 0);
	long long took = vd_now_ms() - t0;
	ev = vd_wait_event(&vd, "process.exited", "stubborn", 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(json_int(ev, "signal"), SIGKILL);
	json_decref(ev);
	ck_assert_int_ge(took, 900);
	ck_assert_int_le(took, 1500);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(grandchild_gone_after_stop)
{
	struct vd vd;
	char pgfile[] = "/tmp/vigil-test-pgid-XXXXXX";
	int fd = mkstemp(pgfile);
	ck_assert_int_ge(fd, 0);
	close(fd);
	vd_start(&vd, config("[program.forker]\ncommand = %s double-fork %s\nstop_timeout = 2s\n",
	                     vd_victim(), pgfile));
	json_t *ev = vd_wait_event(&vd, "process.ready", "forker", 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	char *s = vd_wait_file(pgfile, "\n", 5000);
	int pgid = s ? atoi(s) : 0;
	free(s);
	unlink(pgfile);
	ck_assert_int_gt(pgid, 0);
	ck_assert_int_eq(kill(-pgid, 0), 0); /* the grandchild runs in the group */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "forker", (char *)NULL), 0);
	/* stop returned: the whole group is gone, grandchild included (it ignores SIGTERM) */
	ck_assert_int_eq(kill(-pgid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(exec_failure_is_reported)
{
	struct vd vd;
	char plain[] = "/tmp/vigil-test-noexec-XXXXXX";
	int fd = mkstemp(plain);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(plain, 0644);
	vd_start(&vd, config("[program.ghost]\ncommand = /nonexistent/program --flag\nrestart = never\n"
	                     "[program.noexec]\ncommand = %s\nrestart = never\n", plain));
	json_t *ev = vd_wait_event(&vd, "process.exited", "ghost", 10000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "spawn-failed");
	const char *err = json_string_value(json_object_get(ev, "error"));
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "/nonexistent/program") && strstr(err, "No such file"),
	              "error was: %s", err);
	json_decref(ev);
	ev = vd_wait_event(&vd, "process.exited", "noexec", 10000);
	ck_assert_ptr_nonnull(ev);
	err = json_string_value(json_object_get(ev, "error"));
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, plain) && strstr(err, "Permission denied"), "error was: %s", err);
	json_decref(ev);
	unlink(plain);
	ck_assert_str_eq(vd_state(&vd, "ghost"), "exited");
	/* start reports the failure and exits 1 */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "start", "ghost", (char *)NULL), 1);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(exec_failure_with_restarts_goes_fatal)
{
	struct vd vd;
	vd_start(&vd, "[program.ghost]\ncommand = /nonexistent/program\nrestart_policy = quick\n"
	              "[policy.backoff.quick]\ninitial = 50ms\nmax_restarts = 2\nwindow = 1m\n");
	json_t *ev = vd_wait_event(&vd, "process.fatal", "ghost", 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(instances_groups_and_order)
{
	struct vd vd;
	vd_start(&vd, config("[program.db]\ncommand = %s sleep\npriority = critical\nready = delay:300ms\n"
	                     "[program.web]\ncommand = %s sleep\nnumprocs = 3\ndepends_on = db\n"
	                     "[program.idle]\ncommand = %s sleep\nautostart = false\n"
	                     "[group.front]\nprograms = web, idle\n",
	                     vd_victim(), vd_victim(), vd_victim()));
	json_t *dbready = vd_wait_event(&vd, "process.ready", "db", 10000);
	ck_assert_ptr_nonnull(dbready);
	long long dbseq = json_integer_value(json_object_get(dbready, "seq"));
	json_decref(dbready);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "web.%d", i);
		json_t *st = vd_wait_event(&vd, "process.starting", name, 10000);
		ck_assert_ptr_nonnull(st);
		/* depends_on: no web instance starts before db is ready */
		ck_assert_int_gt(json_integer_value(json_object_get(st, "seq")), dbseq);
		json_decref(st);
		st = vd_wait_event(&vd, "process.ready", name, 10000);
		ck_assert_ptr_nonnull(st);
		json_decref(st);
	}
	ck_assert_str_eq(vd_state(&vd, "idle"), "stopped");
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "status", "front", (char *)NULL), 0);
	ck_assert_int_eq(json_array_size(json_object_get(doc, "processes")), 4);
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "front", (char *)NULL), 0);
	ck_assert_str_eq(vd_state(&vd, "web.1"), "stopped");
	ck_assert_str_eq(vd_state(&vd, "db"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(shutdown_stops_in_reverse_order)
{
	struct vd vd;
	vd_start(&vd, config("[program.base]\ncommand = %s sleep\npriority = critical\n"
	                     "[program.mid]\ncommand = %s sleep\npriority = high\n"
	                     "[program.top]\ncommand = %s sleep\npriority = low\n",
	                     vd_victim(), vd_victim(), vd_victim()));
	const char *names[] = {"base", "mid", "top"};
	for (int i = 0; i < 3; i++) {
		json_t *ev = vd_wait_event(&vd, "process.ready", names[i], 10000);
		ck_assert_ptr_nonnull(ev);
		json_decref(ev);
	}
	ck_assert_int_eq(vd_ctl(&vd, NULL, "shutdown", (char *)NULL), 0);
	long long seq[3];
	for (int i = 0; i < 3; i++) {
		json_t *ev = vd_wait_event(&vd, "process.exited", names[i], 10000);
		ck_assert_ptr_nonnull(ev);
		seq[i] = json_integer_value(json_object_get(ev, "seq"));
		json_decref(ev);
	}
	ck_assert_int_lt(seq[2], seq[1]); /* low before high */
	ck_assert_int_lt(seq[1], seq[0]); /* high before critical */
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(output_is_captured)
{
	struct vd vd;
	vd_start(&vd, config("[program.talker]\ncommand = %s echo hello world\n"
	                     "[program.spammer]\ncommand = %s spam 20000\nlog_max_size = 64K\n"
	                     "log_backups = 2\n",
	                     vd_victim(), vd_victim()));
	char path[400];
	snprintf(path, sizeof path, "%s/logs/talker.out.log", vd.state);
	char *s = vd_wait_file(path, "hello world", 5000);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "hello world"));
	free(s);
	char *text = NULL;
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "logs", "talker", "--stderr", (char *)NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "hello world"));
	free(text);
	/* rotation keeps log_backups files of about log_max_size */
	snprintf(path, sizeof path, "%s/logs/spammer.out.log.1", vd.state);
	struct stat st;
	free(vd_wait_file(path, "", 5000));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_ge(st.st_size, 64 * 1024);
	ck_assert_int_le(st.st_size, 64 * 1024 + 65536);
	snprintf(path, sizeof path, "%s/logs/spammer.out.log.3", vd.state);
	ck_assert_int_ne(stat(path, &st), 0);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(child_environment_is_as_configured)
{
	struct vd vd;
	char dump[] = "/tmp/vigil-test-dump-XXXXXX";
	int fd = mkstemp(dump);
	close(fd);
	unlink(dump);
	/* vigild is started with signals ignored (as by nohup): its programs must not be */
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	vd_start(&vd, config("[program.dumper]\ncommand = %s dump-state %s\ndirectory = /tmp\n"
	                     "umask = 027\nclear_env = true\nenvironment = FOO=bar, SPACED=\"a b\"\n"
	                     "limit_nofile = 256\n[security]\nno_new_privs = true\n",
	                     vd_victim(), dump));
	char *s = vd_wait_file(dump, "env:VIGIL_NAME", 5000);
	unlink(dump);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "\nfds=0,1,2\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nblocked_signals=0\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nignored_signals=0\n"), "%s", s);
	ck_assert_msg(strstr(s, "\numask=0027\n"), "%s", s);
	ck_assert_msg(strstr(s, "\ncwd=/tmp\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nrlimit_nofile=256\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nno_new_privs=1\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nenv:FOO=bar\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nenv:SPACED=a b\n"), "%s", s);
	ck_assert_msg(strstr(s, "\nenv:VIGIL_NAME=dumper\n"), "%s", s);
	ck_assert_msg(!strstr(s, "VIGIL_PLUGIN_DIR"), "clear_env leaked the environment: %s", s);
	/* its own session: pgid == sid == pid */
	int pid = atoi(strstr(s, "pid=") + 4);
	char want[64];
	snprintf(want, sizeof want, "\npgid=%d\nsid=%d\n", pid, pid);
	ck_assert_msg(strstr(s, want), "%s", s);
	free(s);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(privileges_are_dropped)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: dropping privileges needs root\n");
		return;
	}
	struct vd vd;
	char dump[] = "/tmp/vigil-test-dump-XXXXXX";
	int fd = mkstemp(dump);
	close(fd);
	unlink(dump);
	vd_start(&vd, config("[program.nobody]\ncommand = %s dump-state %s\nuser = nobody\n"
	                     "group = nogroup\n",
	                     vd_victim(), dump));
	char *s = vd_wait_file(dump, "env:VIGIL_NAME", 5000);
	unlink(dump);
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strstr(s, "\nuid=65534\neuid=65534\ngid=65534\negid=65534\n"), "%s", s);
	ck_assert_msg(strstr(s, "\ngroups=65534\n"), "%s", s);
	free(s);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(second_instance_exits_111)
{
	struct vd vd;
	vd_start(&vd, "");
	pid_t c = fork();
	if (c == 0) {
		int null = open("/dev/null", 1);
		dup2(null, 2);
		execl(getenv("VIGILD"), "vigild", "-c", vd.config, (char *)NULL);
		_exit(127);
	}
	int status;
	waitpid(c, &status, 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 111);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* Garbage on the control socket never hurts the daemon. */
START_TEST(socket_garbage)
{
	struct vd vd;
	vd_start(&vd, config("[program.sleeper]\ncommand = %s sleep\n", vd_victim()));
	static const struct {
		const char *data;
		size_t len;
	} junk[] = {
		{"\x00\x00\x00\x00", 4},                  /* zero length */
		{"\xff\xff\xff\xff", 4},                  /* 4 GiB */
		{"\x00\x00\x00\x05{\"cm", 8},             /* truncated */
		{"\x00\x00\x00\x03" "abc", 7},               /* not JSON */
		{"\x00\x00\x00\x02[]", 6},                /* not an object */
		{"\x00\x00\x00\x10{\"cmd\":\"nosuch\"}", 20}, /* unknown command */
		{"\x00\x00\x00\x0b{\"cmd\":123}", 15},     /* wrong type */
		{"GET / HTTP/1.1\r\n\r\n", 18},
	};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", vd.socket);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
		ck_assert_int_eq(write(fd, junk[i].data, junk[i].len), (ssize_t)junk[i].len);
		shutdown(fd, SHUT_WR);
		char buf[4096];
		while (read(fd, buf, sizeof buf) > 0)
			;
		close(fd);
	}
	/* many connections that just vanish */
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", vd.socket);
		connect(fd, (struct sockaddr *)&sa, sizeof sa);
		close(fd);
	}
	ck_assert_str_eq(vd_state(&vd, "sleeper"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(single_program_config_uses_defaults)
{
	struct vd vd;
	vd_start(&vd, config("[program.x]\ncommand = %s sleep\n", vd_victim()));
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "plugins", (char *)NULL), 0);
	json_t *list = json_object_get(doc, "plugins");
	int store = 0, policy = 0, ctl = 0;
	size_t i;
	json_t *p;
	json_array_foreach(list, i, p) {
		const char *kind = json_string_value(json_object_get(p, "kind"));
		const char *name = json_string_value(json_object_get(p, "name"));
		store += !strcmp(kind, "store") && !strcmp(name, "sqlite");
		policy += !strcmp(kind, "policy") && !strcmp(name, "backoff");
		ctl += !strcmp(kind, "frontend") && !strcmp(name, "ctl");
	}
	json_decref(doc);
	ck_assert_int_eq(store, 1);
	ck_assert_int_eq(policy, 1);
	ck_assert_int_eq(ctl, 1);
	ck_assert_str_eq(vd_state(&vd, "x"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(runtime_limit_is_enforced)
{
	struct vd vd;
	vd_start(&vd, config("[program.once]\ncommand = %s sleep\nlimit_runtime = 300ms\n"
	                     "on_limit = stop\n"
	                     "[program.cycler]\ncommand = %s sleep\nlimit_runtime = 300ms\n",
	                     vd_victim(), vd_victim()));
	json_t *ev = vd_wait_event(&vd, "limit.violated", "once", 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "limit")), "runtime");
	ck_assert_str_eq(json_string_value(json_object_get(ev, "action")), "stop");
	json_decref(ev);
	ev = vd_wait_event(&vd, "process.exited", "once", 5000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_str_eq(vd_state(&vd, "once"), "stopped");
	/* on_limit = restart (the default): a new run after each violation */
	for (int i = 0; i < 2; i++) {
		ev = vd_wait_event(&vd, "limit.violated", "cycler", 5000);
		ck_assert_ptr_nonnull(ev);
		ck_assert_int_eq(json_int(ev, "count"), i + 1);
		json_decref(ev);
		ev = vd_wait_event(&vd, "process.ready", "cycler", 5000);
		ck_assert_ptr_nonnull(ev);
		json_decref(ev);
	}
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, start_stop_restart);
	tcase_add_test(tc, crash_backoff_then_fatal);
	tcase_add_test(tc, ignore_term_is_killed_after_stop_timeout);
	tcase_add_test(tc, grandchild_gone_after_stop);
	tcase_add_test(tc, exec_failure_is_reported);
	tcase_add_test(tc, exec_failure_with_restarts_goes_fatal);
	tcase_add_test(tc, instances_groups_and_order);
	tcase_add_test(tc, shutdown_stops_in_reverse_order);
	tcase_add_test(tc, output_is_captured);
	tcase_add_test(tc, child_environment_is_as_configured);
	tcase_add_test(tc, privileges_are_dropped);
	tcase_add_test(tc, second_instance_exits_111);
	tcase_add_test(tc, socket_garbage);
	tcase_add_test(tc, single_program_config_uses_defaults);
	tcase_add_test(tc, runtime_limit_is_enforced);
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

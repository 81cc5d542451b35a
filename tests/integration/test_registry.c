/* test_registry.c — surviving vigild's own crash, reexec and reload, with real processes. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

START_TEST(kill9_then_adopt)
{
	struct vd vd;
	vd_start(&vd, config("[program.s]\ncommand = %s sleep\nnumprocs = 20\n", vd_victim()));
	vd_wait_ready(&vd, "s", 20);
	int before[20];
	ck_assert_int_eq(vd_status_pids(&vd, before, 20, "running", NULL), 20);

	vd_kill9(&vd);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(kill(before[i], 0), 0); /* the programs outlive vigild */
	long long t0 = vd_now_ms();
	vd_relaunch(&vd);
	for (int i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof name, "s.%d", i);
		json_t *ev = vd_wait_event(&vd, "process.adopted", name, 2000);
		ck_assert_msg(ev != NULL, "%s was not adopted", name);
		ck_assert(vd_contains(before, 20, vd_jint(ev, "pid")));
		json_decref(ev);
	}
	ck_assert_int_le(vd_now_ms() - t0, 4000);
	int after[20];
	ck_assert_int_eq(vd_status_pids(&vd, after, 20, "adopted", NULL), 20);
	for (int i = 0; i < 20; i++)
		ck_assert(vd_contains(before, 20, after[i]));
	/* exactly 20 live instances: nothing was started next to the adopted ones */
	ck_assert_int_eq(vd_status_pids(&vd, after, 20, NULL, NULL), 20);

	/* an adopted process can be stopped, and its exit is recorded with an unknown status */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "s.3", (char *)NULL), 0);
	json_t *ev = vd_wait_event(&vd, "process.exited", "s.3", 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert(json_is_false(json_object_get(ev, "status_known")));
	json_decref(ev);
	ck_assert_int_eq(vd_wait_gone(before[3], 2000), 0);
	/* and restarted as an ordinary child */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "start", "s.3", (char *)NULL), 0);
	ck_assert_str_eq(vd_state(&vd, "s.3"), "running");

	/* a crash of an adopted process is seen and it is restarted */
	kill(before[5], SIGKILL);
	ev = vd_wait_event(&vd, "process.exited", "s.5", 5000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ev = vd_wait_event(&vd, "process.ready", "s.5", 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_int_eq(vd_stop(&vd), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(vd_wait_gone(before[i], 2000), 0);
}
END_TEST

START_TEST(kill9_then_orphans_kill)
{
	struct vd vd;
	vd_start(&vd, config("orphans = kill\n[program.s]\ncommand = %s sleep\nnumprocs = 5\n",
	                     vd_victim()));
	vd_wait_ready(&vd, "s", 5);
	int before[5];
	ck_assert_int_eq(vd_status_pids(&vd, before, 5, "running", NULL), 5);
	vd_kill9(&vd);
	vd_relaunch(&vd);
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof name, "s.%d", i);
		json_t *ev = vd_wait_event(&vd, "process.ready", name, 10000);
		ck_assert_ptr_nonnull(ev);
		ck_assert(!vd_contains(before, 5, vd_jint(ev, "pid")));
		json_decref(ev);
	}
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(vd_wait_gone(before[i], 2000), 0);
	int after[5];
	ck_assert_int_eq(vd_status_pids(&vd, after, 5, "running", NULL), 5);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(dead_entries_are_lost)
{
	struct vd vd;
	vd_start(&vd, config("[program.s]\ncommand = %s sleep\n", vd_victim()));
	vd_wait_ready(&vd, "s", 1);
	int pid = vd_pid(&vd, "s");
	vd_kill9(&vd);
	kill(pid, SIGKILL); /* dies while no vigild watches */
	ck_assert_int_eq(vd_wait_gone(pid, 2000), 0);
	vd_relaunch(&vd);
	json_t *ev = vd_wait_event(&vd, "process.exited", "s", 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(json_string_value(json_object_get(ev, "reason")), "lost");
	ck_assert_int_eq(vd_jint(ev, "pid"), pid);
	json_decref(ev);
	ev = vd_wait_event(&vd, "process.ready", "s", 10000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_ne(vd_jint(ev, "pid"), pid);
	json_decref(ev);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(reexec_keeps_children)
{
	struct vd vd;
	vd_start(&vd, config("[program.steady]\ncommand = %s sleep\nnumprocs = 7\n"
	                     "[program.flap]\ncommand = %s exit 7 100\nnumprocs = 3\n"
	                     "restart_policy = fast\n"
	                     "[policy.backoff.fast]\ninitial = 0\nmax_restarts = 0\n",
	                     vd_victim(), vd_victim()));
	vd_wait_ready(&vd, "steady", 7);
	int before[7];
	ck_assert_int_eq(vd_status_pids(&vd, before, 7, "running", "steady"), 7);
	int pid = vd.pid;
	vd_reexec(&vd);
	ck_assert_int_eq(vd.pid, pid); /* exec keeps the pid: the children are still ours */
	/* exits after the reexec are still seen by their parent, with their code */
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof name, "flap.%d", i);
		json_t *ev = vd_wait_event(&vd, "process.exited", name, 5000);
		ck_assert_msg(ev != NULL, "no exit of %s after the reexec", name);
		ck_assert_int_eq(vd_jint(ev, "exit_code"), 7);
		ck_assert(json_is_true(json_object_get(ev, "status_known")));
		json_decref(ev);
	}
	int after[7];
	ck_assert_int_eq(vd_status_pids(&vd, after, 7, "running", "steady"), 7);
	for (int i = 0; i < 7; i++)
		ck_assert_msg(vd_contains(before, 7, after[i]), "pid %d was not kept", after[i]);
	ck_assert_int_eq(kill(vd.pid, 0), 0);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(reload_adds_removes_changes)
{
	struct vd vd;
	const char *v = vd_victim();
	vd_start(&vd, config("[program.keep]\ncommand = %s sleep\n"
	                     "[program.change]\ncommand = %s sleep\n"
	                     "[program.drop]\ncommand = %s sleep\n",
	                     v, v, v));
	vd_wait_ready(&vd, "keep", 1);
	vd_wait_ready(&vd, "change", 1);
	vd_wait_ready(&vd, "drop", 1);
	int keep = vd_pid(&vd, "keep"), change = vd_pid(&vd, "change"), drop = vd_pid(&vd, "drop");

	/* a broken file changes nothing */
	vd_rewrite_config(&vd, "[program.keep]\ncommand = /bin/sleep 1\nbogus_key = 1\n");
	kill(vd.pid, SIGHUP);
	json_t *ev = vd_wait_event(&vd, "config.rejected", NULL, 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(ev, "error")), "bogus_key"));
	json_decref(ev);
	ck_assert_int_eq(vd_pid(&vd, "keep"), keep);
	ck_assert_int_eq(vd_pid(&vd, "drop"), drop);

	vd_rewrite_config(&vd, config("[program.keep]\ncommand = %s sleep\n"
	                              "[program.change]\ncommand = %s sleep\nstop_timeout = 3s\n"
	                              "[program.fresh]\ncommand = %s sleep\n",
	                              v, v, v));
	kill(vd.pid, SIGHUP);
	ev = vd_wait_event(&vd, "config.reloaded", NULL, 5000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(vd_jint(ev, "added"), 1);
	ck_assert_int_eq(vd_jint(ev, "removed"), 1);
	ck_assert_int_eq(vd_jint(ev, "changed"), 1);
	ck_assert_int_eq(vd_jint(ev, "unchanged"), 1);
	json_decref(ev);
	vd_wait_ready(&vd, "fresh", 1);
	vd_wait_ready(&vd, "change", 1);
	ck_assert_int_eq(vd_wait_gone(drop, 5000), 0);
	ck_assert_int_eq(vd_wait_gone(change, 5000), 0);
	ck_assert_int_eq(vd_pid(&vd, "keep"), keep);
	ck_assert_int_ne(vd_pid(&vd, "change"), change);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "status", "drop", (char *)NULL), 3);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("survival");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, kill9_then_adopt);
	tcase_add_test(tc, kill9_then_orphans_kill);
	tcase_add_test(tc, dead_entries_are_lost);
	tcase_add_test(tc, reexec_keeps_children);
	tcase_add_test(tc, reload_adds_removes_changes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

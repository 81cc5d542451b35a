/* test_fsm.c — the supervision state machine as a pure function. */
#include <check.h>
#include <stdlib.h>

#include "fsm.h"

static struct fsm_step must(enum vigil_proc_state s, enum fsm_event e)
{
	struct fsm_step st;
	ck_assert_msg(fsm_step(s, e, &st) == 0, "%s + %s has no transition",
	              vigil_proc_state_name(s), fsm_event_name(e));
	return st;
}

static void expect(enum vigil_proc_state s, enum fsm_event e, enum vigil_proc_state next,
                   unsigned actions)
{
	struct fsm_step st = must(s, e);
	ck_assert_msg(st.next == next, "%s + %s -> %s, expected %s", vigil_proc_state_name(s),
	              fsm_event_name(e), vigil_proc_state_name(st.next), vigil_proc_state_name(next));
	ck_assert_msg((st.actions & actions) == actions, "%s + %s: actions %#x lack %#x",
	              vigil_proc_state_name(s), fsm_event_name(e), st.actions, actions);
}

START_TEST(normal_life)
{
	expect(VIGIL_PROC_STOPPED, FE_START, VIGIL_PROC_STARTING, FA_SPAWN | FA_PUBLISH);
	expect(VIGIL_PROC_STARTING, FE_SPAWNED, VIGIL_PROC_STARTING, FA_PUBLISH);
	expect(VIGIL_PROC_STARTING, FE_READY, VIGIL_PROC_RUNNING, FA_CANCEL_TIMER | FA_PUBLISH);
	expect(VIGIL_PROC_RUNNING, FE_STOP, VIGIL_PROC_STOPPING, FA_SIGNAL_STOP | FA_PUBLISH);
	expect(VIGIL_PROC_STOPPING, FE_EXIT, VIGIL_PROC_STOPPED, FA_CANCEL_TIMER | FA_PUBLISH);
}
END_TEST

START_TEST(crash_and_restart)
{
	expect(VIGIL_PROC_RUNNING, FE_EXIT, VIGIL_PROC_EXITED, FA_DECIDE | FA_PUBLISH);
	expect(VIGIL_PROC_EXITED, FE_RESTART_LATER, VIGIL_PROC_BACKOFF, FA_ARM_BACKOFF);
	expect(VIGIL_PROC_BACKOFF, FE_TIMEOUT, VIGIL_PROC_STARTING, FA_SPAWN);
	expect(VIGIL_PROC_EXITED, FE_RESTART_NOW, VIGIL_PROC_STARTING, FA_SPAWN);
	expect(VIGIL_PROC_EXITED, FE_GIVE_UP, VIGIL_PROC_FATAL, FA_PUBLISH);
	expect(VIGIL_PROC_EXITED, FE_NO_RESTART, VIGIL_PROC_EXITED, 0);
	/* an operator can always bring a fatal program back */
	expect(VIGIL_PROC_FATAL, FE_START, VIGIL_PROC_STARTING, FA_SPAWN);
}
END_TEST

START_TEST(failed_starts)
{
	expect(VIGIL_PROC_STARTING, FE_SPAWN_FAILED, VIGIL_PROC_EXITED, FA_DECIDE);
	expect(VIGIL_PROC_STARTING, FE_EXIT, VIGIL_PROC_EXITED, FA_DECIDE);
	/* not ready in time: stopped like any stop, then decided by the caller */
	expect(VIGIL_PROC_STARTING, FE_TIMEOUT, VIGIL_PROC_STOPPING, FA_SIGNAL_STOP);
	expect(VIGIL_PROC_STOPPED, FE_RESTART_LATER, VIGIL_PROC_BACKOFF, FA_ARM_BACKOFF);
	expect(VIGIL_PROC_STOPPED, FE_GIVE_UP, VIGIL_PROC_FATAL, FA_PUBLISH);
}
END_TEST

START_TEST(stop_paths)
{
	expect(VIGIL_PROC_STOPPING, FE_TIMEOUT, VIGIL_PROC_STOPPING, FA_SIGNAL_KILL);
	expect(VIGIL_PROC_BACKOFF, FE_STOP, VIGIL_PROC_STOPPED, FA_CANCEL_TIMER);
	expect(VIGIL_PROC_STARTING, FE_STOP, VIGIL_PROC_STOPPING, FA_SIGNAL_STOP);
	expect(VIGIL_PROC_FATAL, FE_STOP, VIGIL_PROC_FATAL, 0);
	expect(VIGIL_PROC_STOPPED, FE_STOP, VIGIL_PROC_STOPPED, 0);
	/* a start while stopping does not spawn a second copy */
	struct fsm_step st = must(VIGIL_PROC_STOPPING, FE_START);
	ck_assert_int_eq(st.next, VIGIL_PROC_STOPPING);
	ck_assert_int_eq(st.actions & FA_SPAWN, 0);
}
END_TEST

/* Properties over the whole table. */
START_TEST(table_properties)
{
	for (int s = 0; s < VIGIL_PROC_STATE_COUNT; s++) {
		for (int e = 0; e < FE_COUNT; e++) {
			struct fsm_step st;
			if (fsm_step((enum vigil_proc_state)s, (enum fsm_event)e, &st) < 0)
				continue;
			ck_assert_int_lt(st.next, VIGIL_PROC_STATE_COUNT);
			/* only a state without a live process may spawn */
			if (st.actions & FA_SPAWN)
				ck_assert_msg(s != VIGIL_PROC_RUNNING && s != VIGIL_PROC_STARTING &&
				                  s != VIGIL_PROC_STOPPING && s != VIGIL_PROC_ADOPTED,
				              "%s + %s spawns over a live process",
				              vigil_proc_state_name(s), fsm_event_name(e));
			/* spawning always lands in starting */
			if (st.actions & FA_SPAWN)
				ck_assert_int_eq(st.next, VIGIL_PROC_STARTING);
			/* a stop never leads to a start */
			if (e == FE_STOP)
				ck_assert_int_eq(st.actions & FA_SPAWN, 0);
		}
		/* every state accepts a stop, and START is meaningful everywhere */
		struct fsm_step st;
		ck_assert_int_eq(fsm_step((enum vigil_proc_state)s, FE_STOP, &st), 0);
		ck_assert_int_eq(fsm_step((enum vigil_proc_state)s, FE_START, &st), 0);
	}
	struct fsm_step st;
	ck_assert_int_eq(fsm_step(VIGIL_PROC_RUNNING, FE_SPAWNED, &st), -1);
	ck_assert_int_eq(fsm_step((enum vigil_proc_state)99, FE_START, &st), -1);
	ck_assert_int_eq(fsm_step(VIGIL_PROC_RUNNING, (enum fsm_event)99, &st), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fsm");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, normal_life);
	tcase_add_test(tc, crash_and_restart);
	tcase_add_test(tc, failed_starts);
	tcase_add_test(tc, stop_paths);
	tcase_add_test(tc, table_properties);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

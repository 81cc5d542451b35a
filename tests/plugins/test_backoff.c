/* test_backoff.c — the backoff restart policy, driven through the fake host. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include <vigil/testing.h>

/* The plugin is compiled into the test: its static functions and entry point come with it. */
#include "../../plugins/policies/backoff/backoff.c"

static struct vigil_fake_host fh;
static const struct vigil_plugin *desc;
static const struct vigil_policy_ops *ops;
static void *state;
static void *memory; /* the per-instance slot the core would keep */

static void setup(void)
{
	vigil_fake_host_init(&fh);
	fh.kind = "policy";
	fh.instance = "backoff";
	desc = vigil_plugin_entry_v1();
	ops = desc->ops;
	fh.keys = desc->keys;
	state = NULL;
	memory = NULL;
}

static void teardown(void)
{
	if (memory)
		ops->release(state, memory);
	if (state)
		desc->fini(state);
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
}

/* Sets "key", "value", ... (NULL-terminated) and instantiates the policy. */
static int configure(const char *first, ...)
{
	va_list ap;
	const char *key = first;

	va_start(ap, first);
	while (key) {
		const char *value = va_arg(ap, const char *);

		if (vigil_fake_cfg_set(&fh, key, value) < 0) {
			va_end(ap);
			return -EINVAL;
		}
		key = va_arg(ap, const char *);
	}
	va_end(ap);
	return vigil_fake_instantiate(&fh, desc, &state);
}

/* The instance ran for runtime_ms and exited with code 1: what does the policy say? The fake
 * clock moves by the run time first, as it would between a restart and the next exit. */
static struct vigil_decision exited(uint64_t runtime_ms)
{
	struct vigil_exit_info e;
	struct vigil_decision d;

	vigil_fake_advance(&fh, runtime_ms);
	memset(&e, 0, sizeof e);
	e.size = sizeof e;
	e.name = "web";
	e.pid = 4242;
	e.exit_code = 1;
	e.runtime_ms = runtime_ms;
	e.now_ms = fh.now_ms;
	memset(&d, 0, sizeof d);
	ck_assert_int_eq(ops->decide(state, &memory, &e, &d), 0);
	return d;
}

/* exited(), then wait the delay the policy asked for, as the core would before restarting. */
static struct vigil_decision crash(uint64_t runtime_ms)
{
	struct vigil_decision d = exited(runtime_ms);

	if (d.verdict == VIGIL_RESTART_AFTER)
		vigil_fake_advance(&fh, d.delay_ms);
	return d;
}

START_TEST(delays_double_from_initial)
{
	static const uint64_t want[] = {1000, 2000, 4000, 8000, 16000};

	ck_assert_int_eq(configure("jitter", "0", "max_restarts", "0", NULL), 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		struct vigil_decision d = crash(100);

		ck_assert_int_eq(d.verdict, VIGIL_RESTART_AFTER);
		ck_assert_uint_eq(d.delay_ms, want[i]);
	}
}
END_TEST

START_TEST(delay_is_capped_at_max)
{
	static const uint64_t want[] = {1000, 3000, 9000, 20000, 20000, 20000};

	ck_assert_int_eq(
	    configure("jitter", "0", "multiplier", "3", "max", "20s", "max_restarts", "0", NULL),
	    0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		ck_assert_uint_eq(crash(0).delay_ms, want[i]);
}
END_TEST

START_TEST(gives_up_after_max_restarts_within_window)
{
	struct vigil_decision d;

	ck_assert_int_eq(configure("jitter", "0", "max_restarts", "3", "window", "5m", NULL), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(crash(500).verdict, VIGIL_RESTART_AFTER);
	d = crash(500);
	ck_assert_int_eq(d.verdict, VIGIL_GIVE_UP);
	ck_assert_str_eq(d.reason, "3 restarts within 5m");
}
END_TEST

START_TEST(restarts_spread_over_more_than_window_never_give_up)
{
	/* Each run lasts 40s (shorter than reset_after), so 3 restarts never fit in 1m. */
	ck_assert_int_eq(configure("jitter", "0", "max", "1s", "max_restarts", "2", "window", "1m",
	                           "reset_after", "10m", NULL),
	                 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_ne(crash(40000).verdict, VIGIL_GIVE_UP);
}
END_TEST

START_TEST(zero_max_restarts_never_gives_up)
{
	ck_assert_int_eq(configure("initial", "0", "max", "0", "max_restarts", "0", NULL), 0);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(crash(0).verdict, VIGIL_RESTART_NOW);
}
END_TEST

START_TEST(long_run_resets_delay_and_history)
{
	struct vigil_decision d;

	ck_assert_int_eq(configure("jitter", "0", "max_restarts", "3", "window", "1h",
	                           "reset_after", "30s", NULL),
	                 0);
	ck_assert_uint_eq(crash(1000).delay_ms, 1000);
	ck_assert_uint_eq(crash(1000).delay_ms, 2000);
	ck_assert_uint_eq(crash(1000).delay_ms, 4000);
	/* A 30s run: the failures are forgotten, so no give-up and the delay starts over. */
	d = crash(30000);
	ck_assert_int_eq(d.verdict, VIGIL_RESTART_AFTER);
	ck_assert_uint_eq(d.delay_ms, 1000);
	ck_assert_uint_eq(crash(1000).delay_ms, 2000);
	ck_assert_uint_eq(crash(1000).delay_ms, 4000);
	ck_assert_int_eq(crash(1000).verdict, VIGIL_GIVE_UP);
}
END_TEST

START_TEST(reset_forgets)
{
	ck_assert_int_eq(configure("jitter", "0", "max_restarts", "2", NULL), 0);
	crash(0);
	crash(0);
	ck_assert_int_eq(exited(0).verdict, VIGIL_GIVE_UP);
	ops->reset(state, &memory); /* an operator started it again */
	ck_assert_uint_eq(crash(0).delay_ms, 1000);
}
END_TEST

START_TEST(jitter_stays_within_bounds)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	ck_assert_int_eq(configure("initial", "10s", "max", "1m", "multiplier", "1", "jitter",
	                           "0.3", "max_restarts", "0", NULL),
	                 0);
	for (int i = 0; i < 2000; i++) {
		struct vigil_decision d = crash(0);

		ck_assert_int_eq(d.verdict, VIGIL_RESTART_AFTER);
		ck_assert_uint_ge(d.delay_ms, 7000);
		ck_assert_uint_le(d.delay_ms, 13000);
		lo = d.delay_ms < lo ? d.delay_ms : lo;
		hi = d.delay_ms > hi ? d.delay_ms : hi;
	}
	/* It does spread: both ends of the range are reached roughly. */
	ck_assert_uint_lt(lo, 7500);
	ck_assert_uint_gt(hi, 12500);
}
END_TEST

START_TEST(jitter_never_exceeds_max)
{
	ck_assert_int_eq(
	    configure("initial", "10s", "max", "10s", "jitter", "1", "max_restarts", "0", NULL), 0);
	for (int i = 0; i < 500; i++)
		ck_assert_uint_le(crash(0).delay_ms, 10000);
}
END_TEST

START_TEST(defaults_follow_the_spec)
{
	struct vigil_decision d;

	ck_assert_int_eq(configure(NULL), 0);
	d = exited(0);
	ck_assert_int_eq(d.verdict, VIGIL_RESTART_AFTER);
	ck_assert_uint_ge(d.delay_ms, 800); /* initial 1s, jitter 0.2 */
	ck_assert_uint_le(d.delay_ms, 1200);
	/* max_restarts 10 within 5m: 10 restarts in quick succession, then give up. */
	for (int i = 1; i < 10; i++)
		ck_assert_int_ne(exited(0).verdict, VIGIL_GIVE_UP);
	d = exited(0);
	ck_assert_int_eq(d.verdict, VIGIL_GIVE_UP);
	ck_assert_str_eq(d.reason, "10 restarts within 5m");
}
END_TEST

START_TEST(zero_initial_restarts_now)
{
	ck_assert_int_eq(configure("initial", "0", "max_restarts", "0", NULL), 0);
	ck_assert_int_eq(crash(0).verdict, VIGIL_RESTART_NOW);
}
END_TEST

START_TEST(bad_config_is_refused)
{
	ck_assert_int_eq(configure("initial", "10s", "max", "5s", NULL), -EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "max must be >= initial"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "max = 5s"), 1);

	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(configure("multiplier", "0.5", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "multiplier = 0.5"), 1);

	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(configure("jitter", "1.5", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "jitter = 1.5"), 1);

	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(configure("max_restarts", "-1", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "max_restarts = -1"), 1);

	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(configure("window", "0", NULL), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "window = 0"), 1);

	/* Values of the wrong type never reach configure: the core refuses the file. */
	vigil_fake_cfg_clear(&fh);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "initial", "soon"), -EINVAL);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "maximum", "1s"), -EINVAL);
}
END_TEST

START_TEST(instances_keep_separate_memory)
{
	void *other = NULL;
	struct vigil_exit_info e = {.size = sizeof e, .name = "db", .exit_code = 1};
	struct vigil_decision d;

	ck_assert_int_eq(configure("jitter", "0", NULL), 0);
	crash(0);
	crash(0);
	ck_assert_int_eq(ops->decide(state, &other, &e, &d), 0);
	ck_assert_uint_eq(d.delay_ms, 1000);
	ops->release(state, other);
}
END_TEST

static Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("decide");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, delays_double_from_initial);
	tcase_add_test(tc, delay_is_capped_at_max);
	tcase_add_test(tc, gives_up_after_max_restarts_within_window);
	tcase_add_test(tc, restarts_spread_over_more_than_window_never_give_up);
	tcase_add_test(tc, zero_max_restarts_never_gives_up);
	tcase_add_test(tc, long_run_resets_delay_and_history);
	tcase_add_test(tc, reset_forgets);
	tcase_add_test(tc, jitter_stays_within_bounds);
	tcase_add_test(tc, jitter_never_exceeds_max);
	tcase_add_test(tc, defaults_follow_the_spec);
	tcase_add_test(tc, zero_initial_restarts_now);
	tcase_add_test(tc, bad_config_is_refused);
	tcase_add_test(tc, instances_keep_separate_memory);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backoff_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

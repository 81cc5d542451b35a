/* test_fixed_unit.c — unit test of the fixed_delay_policy example: decide(), reset() and
 * release() called directly, the way the core calls them, with the SDK's fake host. */
#include <stdio.h>
#include <string.h>

#include "fixed.c"

#include <vigil/testing.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static struct vigil_decision decide(const struct vigil_plugin *d, void *state, void **memory,
                                    uint64_t runtime_ms)
{
	const struct vigil_policy_ops *ops = d->ops;
	struct vigil_exit_info exit = {
	    .size = sizeof exit, .name = "web", .pid = 42, .exit_code = 1, .runtime_ms = runtime_ms};
	struct vigil_decision out;

	memset(&out, 0, sizeof out);
	CHECK(ops->decide(state, memory, &exit, &out) == 0);
	return out;
}

static void same_delay_then_give_up(void)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	const struct vigil_policy_ops *ops = d->ops;
	void *state, *memory = NULL; /* the per-instance slot the core keeps */
	struct vigil_decision out;

	vigil_fake_host_init(&fh);
	CHECK(vigil_fake_cfg_set(&fh, "delay", "300ms") == 0);
	CHECK(vigil_fake_cfg_set(&fh, "max_restarts", "2") == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);

	for (int i = 0; i < 2; i++) {
		out = decide(d, state, &memory, 10);
		CHECK(out.verdict == VIGIL_RESTART_AFTER);
		CHECK(out.delay_ms == 300);
	}
	out = decide(d, state, &memory, 10);
	CHECK(out.verdict == VIGIL_GIVE_UP);
	CHECK(strstr(out.reason, "2 restarts") != NULL);

	ops->reset(state, &memory); /* an operator started it again */
	CHECK(decide(d, state, &memory, 10).verdict == VIGIL_RESTART_AFTER);

	/* A long run forgets: reset_after defaults to 60s. */
	decide(d, state, &memory, 10);
	CHECK(decide(d, state, &memory, 60000).verdict == VIGIL_RESTART_AFTER);

	ops->release(state, memory);
	d->fini(state);
	CHECK(fh.errors == 0);
	vigil_fake_host_fini(&fh);
}

static void never_gives_up_by_default(void)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	void *state, *memory = NULL;

	vigil_fake_host_init(&fh);
	CHECK(vigil_fake_cfg_set(&fh, "delay", "0") == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);
	for (int i = 0; i < 1000; i++)
		CHECK(decide(d, state, &memory, 10).verdict == VIGIL_RESTART_NOW);
	((const struct vigil_policy_ops *)d->ops)->release(state, memory);
	d->fini(state);

	CHECK(vigil_fake_cfg_set(&fh, "max_restarts", "-1") == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == -EINVAL);
	CHECK(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "max_restarts = -1") == 1);
	vigil_fake_host_fini(&fh);
}

int main(void)
{
	same_delay_then_give_up();
	never_gives_up_by_default();
	if (failures) {
		fprintf(stderr, "test_fixed_unit: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_fixed_unit: ok\n");
	return 0;
}

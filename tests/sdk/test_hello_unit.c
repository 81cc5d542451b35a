/* test_hello_unit.c — unit test of the hello_monitor example with the SDK's fake host, built
 * the way a plugin author builds it: against the installed SDK only, no test framework. */
#include <stdio.h>
#include <string.h>

#include "hello.c" /* the plugin under test, statics and all */

#include <vigil/testing.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* The counter is published every interval, as metric.custom, and nothing before. */
static void publishes_on_its_timer(void)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	const struct vigil_ev_metric_custom *m;
	void *state;

	vigil_fake_host_init(&fh);
	CHECK(vigil_fake_cfg_set(&fh, "interval", "2s") == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);
	CHECK(d->start(state) == 0);

	vigil_fake_advance(&fh, 1999);
	CHECK(vigil_fake_event_count(&fh, VIGIL_EV_METRIC_CUSTOM) == 0);
	vigil_fake_advance(&fh, 1);
	CHECK(vigil_fake_event_count(&fh, VIGIL_EV_METRIC_CUSTOM) == 1);
	vigil_fake_advance(&fh, 4000);
	CHECK(vigil_fake_event_count(&fh, VIGIL_EV_METRIC_CUSTOM) == 3);

	m = (const void *)vigil_fake_event_last(&fh, VIGIL_EV_METRIC_CUSTOM);
	CHECK(m != NULL);
	if (m) {
		CHECK(strcmp(m->metric, "hello.counter") == 0);
		CHECK(m->value == 3.0);
		CHECK(m->unit && strcmp(m->unit, "count") == 0);
	}

	d->stop(state);
	CHECK(vigil_fake_timers_pending(&fh) == 0);
	d->fini(state);
	CHECK(fh.errors == 0);
	vigil_fake_host_fini(&fh);
}

/* What the core would refuse never reaches configure(); what configure() refuses is logged. */
static void refuses_bad_configuration(void)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	void *state;

	vigil_fake_host_init(&fh);
	fh.keys = d->keys; /* from now on cfg_set checks keys and values as the core would */
	CHECK(vigil_fake_cfg_set(&fh, "intervall", "2s") == -EINVAL); /* undeclared key */
	CHECK(vigil_fake_cfg_set(&fh, "interval", "soon") == -EINVAL); /* not a duration */
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);           /* defaults are fine */
	d->fini(state);

	CHECK(vigil_fake_cfg_set(&fh, "interval", "0") == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == -EINVAL);
	CHECK(state == NULL);
	CHECK(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "interval = 0") == 1);
	CHECK(fh.errors == 0);
	vigil_fake_host_fini(&fh);
}

int main(void)
{
	publishes_on_its_timer();
	refuses_bad_configuration();
	if (failures) {
		fprintf(stderr, "test_hello_unit: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_hello_unit: ok\n");
	return 0;
}

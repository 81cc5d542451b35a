/* hello.c — an example monitor: publishes a custom metric (a counter) on a timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/sdk.h>

/* One per configured instance: [monitor.hello] or [monitor.hello.LABEL]. */
struct hello {
	const struct vigil_host *host; /* the core's table; valid until fini */
	struct vigil_instance *self;   /* our instance handle, for log/publish/timer_add */
	uint64_t interval_ms;
	char metric[64];               /* copied: cfg strings are only valid inside configure() */
	double count;
	struct vigil_timer *timer;     /* periodic, cancelled in stop() */
};

/* The core validates the section against this table before configure() runs. */
static const struct vigil_config_key hello_keys[] = {
    {"interval", VIGIL_KEY_DURATION, "5s", 0, "how often the metric is published", NULL},
    {"metric", VIGIL_KEY_STRING, "hello.counter", 0, "name of the published metric", NULL},
    VIGIL_KEYS_END,
};

static int hello_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct hello *h = calloc(1, sizeof *h);

	if (!h)
		return -ENOMEM;
	h->host = host;
	h->self = self;
	*state = h;
	return 0;
}

static int hello_configure(void *state, const struct vigil_config *cfg)
{
	struct hello *h = state;
	const char *metric = h->host->cfg_string(cfg, "metric");

	h->interval_ms = (uint64_t)h->host->cfg_duration_ms(cfg, "interval");
	if (h->interval_ms == 0) {
		h->host->log(h->self, VIGIL_LOG_ERROR, "interval = 0: expected a duration > 0");
		return -EINVAL;
	}
	if (!metric || !metric[0] || strlen(metric) >= sizeof h->metric) {
		h->host->log(h->self, VIGIL_LOG_ERROR, "metric: expected 1 to %zu characters",
		             sizeof h->metric - 1);
		return -EINVAL;
	}
	strcpy(h->metric, metric);
	return 0;
}

/* Runs on the loop thread every interval_ms. */
static void hello_tick(void *arg)
{
	struct hello *h = arg;
	struct vigil_ev_metric_custom ev = {
	    .hdr = {.type = VIGIL_EV_METRIC_CUSTOM, .size = sizeof ev},
	    .metric = h->metric,
	    .value = ++h->count,
	    .unit = "count",
	};

	/* publish copies the event and its strings: a stack event is fine. */
	if (h->host->publish(h->self, &ev.hdr) < 0)
		h->host->log(h->self, VIGIL_LOG_WARN, "cannot publish %s", h->metric);
}

static int hello_start(void *state)
{
	struct hello *h = state;

	h->timer = h->host->timer_add(h->self, h->interval_ms, h->interval_ms, hello_tick, h);
	if (!h->timer)
		return -ENOMEM;
	h->host->log(h->self, VIGIL_LOG_INFO, "publishing %s every %llu ms", h->metric,
	             (unsigned long long)h->interval_ms);
	return 0;
}

static void hello_stop(void *state)
{
	struct hello *h = state;

	if (h->timer)
		h->host->timer_cancel(h->timer);
	h->timer = NULL;
}

static void hello_fini(void *state)
{
	free(state);
}

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_MONITOR, .name = "hello", .version = "1.0.0",
                    .description = "example: publishes a counter as metric.custom",
                    .keys = hello_keys, .init = hello_init, .configure = hello_configure,
                    .start = hello_start, .stop = hello_stop, .fini = hello_fini);

/* xmlreport.c — frontend_xmlreport.so: writes vigil's report (SPEC §6) to a file periodically. */
#include "xr.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LOG(xr, lvl, ...) (xr)->host->log((xr)->self, VIGIL_LOG_##lvl, __VA_ARGS__)

/* The first report waits this long after start (capped by interval), so that what autostart
 * launches is in it. */
#define XR_FIRST_DELAY_MS 2000

static const struct vigil_config_key xr_keys[] = {
    {"path", VIGIL_KEY_PATH, "${state_dir}/report.xml", 0,
     "the report file, replaced atomically at every write", NULL},
    {"interval", VIGIL_KEY_DURATION, "60s", 0,
     "how often the report is written (also once shortly after start and once at stop)", NULL},
    {"since", VIGIL_KEY_DURATION, "24h", 0,
     "window of the task list and the statistics (0 = all the store keeps)", NULL},
    {"format", VIGIL_KEY_ENUM, "xml", 0, "xml (validates against vigil-report-1.xsd) or json",
     "xml|json"},
    {"max_tasks", VIGIL_KEY_INT, "1000", 0,
     "most tasks listed (newest first); the list says when it is truncated", NULL},
    {"mode", VIGIL_KEY_MODE, "0640", 0, "permissions of the report file", NULL},
    VIGIL_KEYS_END,
};

static int xr_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct xr *xr = calloc(1, sizeof *xr);

	if (!xr)
		return -ENOMEM;
	xr->host = host;
	xr->self = self;
	xr->efd = -1;
	if (pthread_mutex_init(&xr->mu, NULL) != 0) {
		free(xr);
		return -ENOMEM;
	}
	if (pthread_cond_init(&xr->cv, NULL) != 0) {
		pthread_mutex_destroy(&xr->mu);
		free(xr);
		return -ENOMEM;
	}
	*state = xr;
	return 0;
}

/* The core expands ${state_dir} in values and defaults; a host that hands the default through
 * unexpanded (a test's fake) still gets a usable path. */
static char *xr_expand_path(struct xr *xr, const char *v)
{
	static const char var[] = "${state_dir}";
	const char *dir;
	char *out;

	if (strncmp(v, var, sizeof var - 1) != 0)
		return strdup(v);
	dir = xr->host->state_dir ? xr->host->state_dir() : NULL;
	if (!dir)
		dir = ".";
	if (asprintf(&out, "%s%s", dir, v + sizeof var - 1) < 0)
		return NULL;
	return out;
}

/* Octal, as in the file: a generic size getter would read "0640" as decimal. */
static int xr_parse_mode(const char *s, mode_t *out)
{
	unsigned long m;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	m = strtoul(s, &end, 8);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || *end || m > 0777)
		return -EINVAL;
	*out = (mode_t)m;
	return 0;
}

static int xr_configure(void *state, const struct vigil_config *cfg)
{
	struct xr *xr = state;
	const struct vigil_host *h = xr->host;
	const char *path = h->cfg_string(cfg, "path");
	int64_t max_tasks = h->cfg_int(cfg, "max_tasks");

	if (!path || !*path || path[strlen(path) - 1] == '/') {
		LOG(xr, ERROR, "path: expected the path of the report file, got '%s'",
		    path ? path : "");
		return -EINVAL;
	}
	free(xr->path);
	xr->path = xr_expand_path(xr, path);
	if (!xr->path)
		return -ENOMEM;
	if (strlen(xr->path) > 4000) {
		LOG(xr, ERROR, "path: too long (%zu bytes, at most 4000)", strlen(xr->path));
		return -EINVAL;
	}
	xr->interval_ms = h->cfg_duration_ms(cfg, "interval");
	if (xr->interval_ms < 1000) {
		LOG(xr, ERROR,
		    "interval = %" PRId64 "ms: expected at least 1s (the report walks the "
		    "whole registry)",
		    xr->interval_ms);
		return -EINVAL;
	}
	xr->window_ms = h->cfg_duration_ms(cfg, "since");
	if (xr->window_ms < 0) {
		LOG(xr, ERROR, "since: expected a duration like 24h, or 0 for everything");
		return -EINVAL;
	}
	if (report_format_parse(h->cfg_string(cfg, "format"), &xr->format) < 0) {
		LOG(xr, ERROR, "format: expected xml or json");
		return -EINVAL;
	}
	if (max_tasks < 1 || max_tasks > 100000) {
		LOG(xr, ERROR, "max_tasks = %" PRId64 ": expected 1 to 100000", max_tasks);
		return -EINVAL;
	}
	xr->max_tasks = (uint32_t)max_tasks;
	if (xr_parse_mode(h->cfg_string(cfg, "mode"), &xr->mode) < 0) {
		LOG(xr, ERROR, "mode: expected an octal file mode like 0640, got '%s'",
		    h->cfg_string(cfg, "mode"));
		return -EINVAL;
	}
	return 0;
}

/* Renders the report on the loop thread (host queries must run here) and hands the bytes to
 * the writer, which does the slow part (write, fsync, rename). */
static void xr_generate(struct xr *xr, int at_stop)
{
	struct report_options opt = {
	    .format = xr->format,
	    .max_tasks = xr->max_tasks,
	};
	struct report *r;
	size_t len = 0;
	int err = 0;
	char *doc = NULL;

	if (xr->window_ms > 0)
		opt.since_ms = xr->host->wall_ms() - xr->window_ms;
	r = report_collect(xr->host, &opt, &err);
	if (!r) {
		LOG(xr, ERROR, "cannot generate the report for %s: %s", xr->path, strerror(-err));
		return;
	}
	/* vigild may release its programs before it stops its plugins: then the last report
	 * that still shows them says more than an empty one would */
	if (at_stop && r->nprograms == 0 && xr->programs > 0) {
		LOG(xr, DEBUG, "programs already released at stop: %s keeps the last report",
		    xr->path);
		report_free(r);
		return;
	}
	xr->programs = r->nprograms;
	doc = report_write(r, xr->format, 0, &len);
	report_free(r);
	if (!doc) {
		LOG(xr, ERROR, "cannot generate the report for %s: %s", xr->path, strerror(ENOMEM));
		return;
	}
	xr_writer_submit(xr, doc, len);
}

static void xr_tick(void *arg)
{
	xr_generate(arg, 0);
}

/* The writer finished one or more documents: say what changed, once per change (a disk that
 * stays full is logged once, not every interval). */
static void xr_on_result(int fd, uint32_t events, void *arg)
{
	struct xr *xr = arg;
	uint64_t n, seen;
	char error[sizeof xr->error];

	(void)events;
	if (read(fd, &n, sizeof n) < 0) {
		/* EAGAIN: already drained */
	}
	pthread_mutex_lock(&xr->mu);
	seen = xr->written + xr->failures;
	memcpy(error, xr->error, sizeof error); /* the latest outcome: empty after a success */
	pthread_mutex_unlock(&xr->mu);
	if (seen == xr->seen)
		return;
	xr->seen = seen;
	if (error[0] && !xr->failing) {
		xr->failing = 1;
		LOG(xr, ERROR, "cannot write the report: %s (tried again every interval)", error);
	} else if (!error[0] && xr->failing) {
		xr->failing = 0;
		LOG(xr, INFO, "report written again to %s", xr->path);
	} else if (!error[0]) {
		LOG(xr, DEBUG, "report written to %s", xr->path);
	}
}

static int xr_start(void *state)
{
	struct xr *xr = state;
	uint64_t first = XR_FIRST_DELAY_MS;
	int rc;

	xr->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (xr->efd < 0) {
		rc = -errno;
		LOG(xr, ERROR, "eventfd: %s", strerror(-rc));
		return rc;
	}
	xr->watch = xr->host->watch_fd(xr->self, xr->efd, VIGIL_FD_IN, xr_on_result, xr);
	if (!xr->watch)
		return -ENOMEM;
	rc = xr_writer_start(xr);
	if (rc < 0) {
		LOG(xr, ERROR, "cannot start the writer thread: %s", strerror(-rc));
		return rc;
	}
	if ((int64_t)first > xr->interval_ms)
		first = (uint64_t)xr->interval_ms;
	xr->timer = xr->host->timer_add(xr->self, first, (uint64_t)xr->interval_ms, xr_tick, xr);
	if (!xr->timer)
		return -ENOMEM;
	if (xr->interval_ms % 1000)
		LOG(xr, INFO, "writing the report to %s every %" PRId64 "ms", xr->path,
		    xr->interval_ms);
	else
		LOG(xr, INFO, "writing the report to %s every %" PRId64 "s", xr->path,
		    xr->interval_ms / 1000);
	return 0;
}

/* Shutdown: one last report, so the file shows how the daemon left things. */
static void xr_stop(void *state)
{
	struct xr *xr = state;

	if (xr->timer) {
		xr->host->timer_cancel(xr->timer);
		xr->timer = NULL;
	}
	if (xr->thread_started)
		xr_generate(xr, 1);
}

static void xr_fini(void *state)
{
	struct xr *xr = state;

	xr_writer_stop(xr); /* writes the last report first */
	if (xr->watch)
		xr->host->unwatch(xr->watch);
	if (xr->efd >= 0)
		close(xr->efd);
	free(xr->pending);
	pthread_cond_destroy(&xr->cv);
	pthread_mutex_destroy(&xr->mu);
	free(xr->path);
	free(xr);
}

static const struct vigil_frontend_ops xr_ops = {.size = sizeof(struct vigil_frontend_ops)};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_FRONTEND, .name = "xmlreport", .version = "1.0",
                    .description = "writes the XML report (vigil-report-1.xsd) to a file",
                    .keys = xr_keys, .init = xr_init, .configure = xr_configure, .start = xr_start,
                    .stop = xr_stop, .fini = xr_fini, .ops = &xr_ops);

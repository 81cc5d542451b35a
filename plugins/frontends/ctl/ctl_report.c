/* ctl_report.c — `report [--format xml|json] [--since D]`: the report of SPEC §6 in one reply. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/report.h"
#include "../../../modules/report_xml.h"

typedef char *(*ctl_xml_fn)(const struct report *r, int compact, size_t *len);

/* The XML writer is modules/report_xml.so (libxml2), opened at the first XML report and kept:
 * vigild maps libxml2 only once someone asks for one. NULL with err naming the file. */
static ctl_xml_fn ctl_xml_writer(char *err, size_t len)
{
	static const struct report_xml_module *mod;

	if (!mod)
		mod = (const struct report_xml_module *)modload_open(
		    REPORT_XML_MODULE, REPORT_XML_IFACE, sizeof *mod, err, len);
	return mod ? mod->xml : NULL;
}

/* The reply with the first n tasks of r (newest first). NULL on ENOMEM. */
static json_t *report_reply(struct report *r, enum report_format fmt, ctl_xml_fn xml, size_t n)
{
	size_t all = r->ntasks;
	int truncated = r->tasks_truncated;
	json_t *reply = NULL;

	/* cut the list in the model and put it back, so report_free still frees every task */
	if (n < all) {
		r->ntasks = n;
		r->tasks_truncated = 1;
	}
	if (fmt == REPORT_XML) {
		size_t len;
		char *doc = xml(r, n < all, &len);

		if (doc) {
			reply = json_pack("{s:b,s:s,s:s%}", "ok", 1, "format", "xml", "document",
			                  doc, len);
			free(doc);
		}
	} else {
		json_t *j = report_json(r);

		if (j)
			reply = json_pack("{s:b,s:s,s:o}", "ok", 1, "format", "json", "report", j);
	}
	r->ntasks = all;
	r->tasks_truncated = truncated;
	return reply;
}

static int parse_options(struct ctl_conn *c, const json_t *req, struct report_options *opt)
{
	const json_t *fmt = json_object_get(req, "format"), *by = json_object_get(req, "by");
	const json_t *since = json_object_get(req, "since");
	int64_t max = 0;
	char err[256];

	if (fmt && !json_is_null(fmt) &&
	    (!json_is_string(fmt) || report_format_parse(json_string_value(fmt), &opt->format))) {
		ctl_send_error(c, PROTO_USAGE,
		               "bad request: \"format\" must be \"xml\" or \"json\"");
		return -EINVAL;
	}
	if (by && !json_is_null(by)) {
		if (!json_is_string(by) || (strcmp(json_string_value(by), "type") != 0 &&
		                            strcmp(json_string_value(by), "program") != 0 &&
		                            strcmp(json_string_value(by), "pool") != 0)) {
			ctl_send_error(
			    c, PROTO_USAGE,
			    "bad request: \"by\" must be \"type\", \"program\" or \"pool\"");
			return -EINVAL;
		}
		opt->stats_by = json_string_value(by);
	}
	if (since && !json_is_null(since)) {
		if (ctl_parse_when(since, c->ctl->host->wall_ms(), &opt->since_ms, err,
		                   sizeof err) != 0) {
			ctl_send_error(c, PROTO_USAGE, "bad since: %s", err);
			return -EINVAL;
		}
		if (opt->since_ms == 0)
			opt->since_ms = 1; /* "since the epoch" is still a window */
	}
	if (ctl_opt_int(c, req, "max_tasks", 1, 1000000, &max) != 0)
		return -EINVAL;
	opt->max_tasks = (uint32_t)max;
	return 0;
}

/* The report is built on the loop thread; a reply over PROTO_MAX_MSG is retried compact and
 * with half the tasks each time, and says so in "warning". */
void ctl_cmd_report(struct ctl_conn *c, const json_t *req)
{
	struct report_options opt = {.format = REPORT_XML};
	struct report *r;
	unsigned char *frame = NULL;
	size_t n, len = 0;
	json_t *reply;
	ctl_xml_fn xml = NULL;
	int err = 0;

	if (parse_options(c, req, &opt) != 0)
		return;
	if (opt.format == REPORT_XML) {
		char why[768];

		xml = ctl_xml_writer(why, sizeof why);
		if (!xml) {
			c->ctl->host->log(c->ctl->self, VIGIL_LOG_ERROR, "report --format xml: %s",
			                  why);
			ctl_send_error(c, PROTO_FAILED,
			               "report --format xml: %s (--format json works without it)",
			               why);
			return;
		}
	}
	r = report_collect(c->ctl->host, &opt, &err);
	if (!r) {
		ctl_send_error(c, err == -EINVAL ? PROTO_USAGE : PROTO_TEMPFAIL, "report: %s",
		               err == -EINVAL ? "bad options" : strerror(-err));
		return;
	}
	for (n = r->ntasks;; n /= 2) {
		reply = report_reply(r, opt.format, xml, n);
		if (!reply) {
			err = -ENOMEM;
			break;
		}
		if (n < r->ntasks) {
			char warn[160];

			snprintf(warn, sizeof warn,
			         "the report lists the newest %zu of %zu tasks to fit the %u-byte "
			         "message limit (narrow it with --since)",
			         n, r->ntasks, PROTO_MAX_MSG);
			json_object_set_new(reply, "warning", json_string(warn));
		}
		frame = proto_encode(reply, &len, &err);
		json_decref(reply);
		if (frame || err != -EMSGSIZE || n == 0)
			break;
	}
	if (frame) {
		ctl_send_frame(c, frame, len);
		free(frame);
	} else if (err == -EMSGSIZE) {
		ctl_send_error(c, PROTO_FAILED,
		               "report: larger than the %u-byte message limit even without tasks",
		               PROTO_MAX_MSG);
	} else {
		ctl_send_error(c, PROTO_TEMPFAIL, "report: out of memory");
	}
	report_free(r);
}

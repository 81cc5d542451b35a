/* ctl_cmd.c — request dispatch and the one-shot commands (status, signal, plugins, ...). */
#include "ctl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/vjson.h"

int ctl_opt_bool(struct ctl_conn *c, const json_t *req, const char *key, int *out)
{
	const json_t *v = json_object_get(req, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		ctl_send_error(c, PROTO_USAGE, "bad request: \"%s\" must be true or false", key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

int ctl_opt_int(struct ctl_conn *c, const json_t *req, const char *key, int64_t min, int64_t max,
                int64_t *out)
{
	const json_t *v = json_object_get(req, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		ctl_send_error(c, PROTO_USAGE,
		               "bad request: \"%s\" must be an integer from %lld to %lld", key,
		               (long long)min, (long long)max);
		return -EINVAL;
	}
	*out = json_integer_value(v);
	return 0;
}

const json_t *ctl_req_args(struct ctl_conn *c, const json_t *req, size_t min)
{
	const json_t *a = json_object_get(req, "args");
	size_t i;
	const json_t *v;

	if (!a || json_is_null(a))
		a = c->ctl->no_args;
	if (!json_is_array(a)) {
		ctl_send_error(c, PROTO_USAGE, "bad request: \"args\" must be an array of strings");
		return NULL;
	}
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v)) {
			ctl_send_error(
			    c, PROTO_USAGE,
			    "bad request: \"args\" must be an array of strings (item %zu is not)",
			    i);
			return NULL;
		}
	}
	if (json_array_size(a) < min) {
		ctl_send_error(c, PROTO_USAGE, "bad request: %s needs at least %zu argument%s",
		               json_string_value(json_object_get(req, "cmd")), min,
		               min == 1 ? "" : "s");
		return NULL;
	}
	return a;
}

static int seen_cb(const struct vigil_proc_info *info, void *arg)
{
	(void)info;
	(void)arg;
	return 0;
}

int ctl_check_targets(struct ctl_conn *c, const json_t *args, size_t first)
{
	size_t i;

	for (i = first; i < json_array_size(args); i++) {
		const char *t = json_string_value(json_array_get(args, i));

		if (c->ctl->host->proc_foreach(t, seen_cb, NULL) == -ENOENT) {
			ctl_send_error(c, PROTO_NOENT, "no such program, instance or group: %s", t);
			return -ENOENT;
		}
	}
	return 0;
}

/* A group and one of its programs may both be named: each instance is listed once. seen holds
 * the names listed so far (only when several targets are given). 1 when already listed. */
static int listed_before(json_t *seen, const char *name)
{
	if (!seen)
		return 0;
	if (json_object_get(seen, name))
		return 1;
	json_object_set_new_nocheck(seen, name, json_true());
	return 0;
}

struct collect {
	struct ctl *ctl;
	json_t *arr;
	json_t *seen;
	int64_t now_ms;
	int failed;
};

static int collect_cb(const struct vigil_proc_info *info, void *arg)
{
	struct collect *col = arg;
	json_t *o;

	if (listed_before(col->seen, info->name))
		return 0;
	o = vjson_proc_info(info, col->now_ms);
	if (!o || json_array_append_new(col->arr, o) != 0)
		col->failed = 1;
	return 0;
}

int ctl_collect_status(struct ctl *ctl, json_t *targets, json_t *arr, const char **missing)
{
	struct collect col = {.ctl = ctl, .arr = arr, .now_ms = ctl->host->wall_ms()};
	size_t i;
	int rc = 0;

	if (!targets || json_array_size(targets) == 0) {
		ctl->host->proc_foreach(NULL, collect_cb, &col); /* no programs: an empty list */
		return col.failed ? -ENOMEM : 0;
	}
	if (json_array_size(targets) > 1)
		col.seen = json_object();
	for (i = 0; i < json_array_size(targets) && rc == 0; i++) {
		const char *t = json_string_value(json_array_get(targets, i));

		if (ctl->host->proc_foreach(t, collect_cb, &col) == -ENOENT) {
			*missing = t;
			rc = -ENOENT;
		}
	}
	json_decref(col.seen);
	return rc ? rc : col.failed ? -ENOMEM : 0;
}

/* ---- status ---- */

/* A status reply being written: one instance at a time is built by jansson and encoded
 * straight into the frame, so a reply for 100 000 programs never exists as one tree. */
struct status_out {
	struct proto_buf b;
	unsigned char sel[VJSON_PROC_NFIELDS]; /* the members asked for, in order */
	size_t nsel;
	int rows; /* arrays of values instead of objects */
	size_t count;
	int64_t now_ms;
	json_t *seen;
};

/* Encodes v (a reference this takes) into the reply, as every reply is encoded. */
static void st_dump(struct status_out *o, json_t *v)
{
	if ((!v || json_dump_callback(v, proto_buf_dump_cb, &o->b,
	                              JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0) &&
	    !o->b.err)
		o->b.err = -ENOMEM;
	json_decref(v);
}

/* One instance: an object, or a row. */
static int st_cb(const struct vigil_proc_info *info, void *arg)
{
	struct status_out *o = arg;
	json_t *v;
	size_t i;

	if (listed_before(o->seen, info->name))
		return 0;
	v = o->rows ? json_array() : json_object();
	for (i = 0; v && i < o->nsel; i++) {
		json_t *f = vjson_proc_field(info, o->now_ms, o->sel[i]);
		int r = o->rows ? json_array_append_new(v, f)
		                : json_object_set_new_nocheck(v, vjson_proc_fields[o->sel[i]], f);

		if (r != 0) {
			json_decref(v);
			v = NULL;
		}
	}
	if (o->count++)
		proto_buf_lit(&o->b, ",");
	st_dump(o, v);
	return o->b.err ? 1 : 0; /* full or out of memory: stop here */
}

/* "fields": the members to write, in that order (absent: all of them). 0, or -EINVAL after a
 * usage reply. */
static int st_fields(struct ctl_conn *c, const json_t *req, struct status_out *o)
{
	const json_t *fields = json_object_get(req, "fields"), *v;
	unsigned char used[VJSON_PROC_NFIELDS] = {0};
	size_t i;
	int k;

	if (!fields || json_is_null(fields)) {
		for (k = 0; k < VJSON_PROC_NFIELDS; k++)
			o->sel[o->nsel++] = (unsigned char)k;
		return 0;
	}
	if (!json_is_array(fields) || json_array_size(fields) == 0) {
		ctl_send_error(c, PROTO_USAGE,
		               "bad request: \"fields\" must be a non-empty array of field names");
		return -EINVAL;
	}
	json_array_foreach(fields, i, v)
	{
		const char *name = json_string_value(v);

		if (!name) {
			ctl_send_error(c, PROTO_USAGE,
			               "bad request: \"fields\" must be an array of strings (item "
			               "%zu is not)",
			               i);
			return -EINVAL;
		}
		for (k = 0; k < VJSON_PROC_NFIELDS && strcmp(vjson_proc_fields[k], name) != 0; k++)
			;
		if (k == VJSON_PROC_NFIELDS) {
			char known[256] = "";

			for (k = 0; k < VJSON_PROC_NFIELDS; k++)
				snprintf(known + strlen(known), sizeof known - strlen(known),
				         "%s%s",
				         k == 0                          ? ""
				         : k + 1 == VJSON_PROC_NFIELDS ? " or "
				                                         : ", ",
				         vjson_proc_fields[k]);
			ctl_send_error(c, PROTO_USAGE,
			               "bad request: unknown status field \"%.64s\" (expected %s)",
			               name, known);
			return -EINVAL;
		}
		if (used[k]) {
			ctl_send_error(c, PROTO_USAGE,
			               "bad request: status field \"%s\" is listed twice", name);
			return -EINVAL;
		}
		used[k] = 1;
		o->sel[o->nsel++] = (unsigned char)k;
	}
	return 0;
}

/* status [TARGET...] ["fields": [...]] ["rows": true] */
static void cmd_status(struct ctl_conn *c, const json_t *req)
{
	const json_t *args = ctl_req_args(c, req, 0);
	struct status_out o = {.b.max = PROTO_HDR_LEN + PROTO_MAX_REPLY};
	const char *missing = NULL;
	size_t i;

	if (!args || st_fields(c, req, &o) != 0 || ctl_opt_bool(c, req, "rows", &o.rows) != 0)
		return;
	o.now_ms = c->ctl->host->wall_ms();
	proto_buf_frame_begin(&o.b);
	if (o.rows) {
		json_t *names = json_array();

		for (i = 0; names && i < o.nsel; i++)
			if (json_array_append_new(names, json_string(vjson_proc_fields[o.sel[i]])))
				break;
		proto_buf_lit(&o.b, "{\"ok\":true,\"fields\":");
		st_dump(&o, names);
		proto_buf_lit(&o.b, ",\"rows\":[");
	} else {
		proto_buf_lit(&o.b, "{\"ok\":true,\"processes\":[");
	}
	if (json_array_size(args) == 0) {
		c->ctl->host->proc_foreach(NULL, st_cb, &o); /* no programs: an empty list */
	} else {
		if (json_array_size(args) > 1)
			o.seen = json_object();
		for (i = 0; i < json_array_size(args) && !missing && !o.b.err; i++) {
			const char *t = json_string_value(json_array_get(args, i));

			if (c->ctl->host->proc_foreach(t, st_cb, &o) == -ENOENT)
				missing = t;
		}
		json_decref(o.seen);
	}
	proto_buf_lit(&o.b, "]}");
	if (missing) {
		free(o.b.p);
		ctl_send_error(c, PROTO_NOENT, "no such program, instance or group: %s", missing);
		return;
	}
	ctl_send_buf(c, &o.b);
}

/* signal SIG TARGET...: SIG is a name ("TERM", "SIGTERM") or a number. */
static void cmd_signal(struct ctl_conn *c, const json_t *req)
{
	const json_t *args = json_object_get(req, "args");
	const json_t *sig = json_array_get(args, 0);
	const char *missing = NULL, *name;
	int signo = 0, total = 0, running = 0;
	json_t *targets, *arr, *v;
	size_t i;

	if (!json_is_array(args) || json_array_size(args) < 2 ||
	    !(json_is_string(sig) || json_is_integer(sig))) {
		ctl_send_error(c, PROTO_USAGE,
		               "bad request: signal needs \"args\": [SIG, TARGET...]");
		return;
	}
	for (i = 1; i < json_array_size(args); i++) {
		if (!json_is_string(json_array_get(args, i))) {
			ctl_send_error(c, PROTO_USAGE,
			               "bad request: signal targets must be strings");
			return;
		}
	}
	if (json_is_integer(sig)) {
		if (json_integer_value(sig) > 0 && json_integer_value(sig) < 128)
			signo = (int)json_integer_value(sig);
		if (!proto_signal_name(signo)) {
			ctl_send_error(c, PROTO_USAGE, "unknown signal %lld",
			               (long long)json_integer_value(sig));
			return;
		}
	} else if (proto_parse_signal(json_string_value(sig), &signo) != 0) {
		ctl_send_error(
		    c, PROTO_USAGE,
		    "unknown signal '%s' (expected a name like TERM or HUP, or a number)",
		    json_string_value(sig));
		return;
	}
	if (ctl_check_targets(c, args, 1) != 0)
		return;
	for (i = 1; i < json_array_size(args); i++) {
		int n = c->ctl->host->proc_control(json_string_value(json_array_get(args, i)),
		                                   VIGIL_ACT_SIGNAL, signo);
		if (n > 0)
			total += n;
	}
	name = proto_signal_name(signo);
	targets = json_array();
	arr = json_array();
	for (i = 1; i < json_array_size(args); i++)
		json_array_append(targets, json_array_get(args, i));
	ctl_collect_status(c->ctl, targets, arr, &missing);
	json_decref(targets);
	/* the core may count instances without a process: say so rather than "sent" */
	json_array_foreach(arr, i, v)
	{
		if (json_is_integer(json_object_get(v, "pid")))
			running++;
	}
	if (total == 0 || running == 0) {
		json_decref(arr);
		ctl_send_error(c, PROTO_FAILED, "%s%s: not running, no signal sent",
		               json_string_value(json_array_get(args, 1)),
		               json_array_size(args) > 2 ? " ..." : "");
		return;
	}
	ctl_send(c, json_pack("{s:b,s:s,s:i,s:i,s:o}", "ok", 1, "signal", name, "signo", signo,
	                      "signalled", total, "processes", arr));
}

static int plugin_cb(const struct vigil_plugin_info *info, void *arg)
{
	char abi[16];

	snprintf(abi, sizeof abi, "%u.%u", info->abi_major, info->abi_minor);
	json_array_append_new(
	    arg,
	    json_pack("{s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o}", "kind", vjson_string(info->kind), "name",
	              vjson_string(info->plugin), "instance", vjson_string(info->instance),
	              "section", vjson_string(info->section), "version",
	              vjson_string(info->version), "abi", abi, "file", vjson_string(info->file),
	              "description", vjson_string(info->description)));
	return 0;
}

static void cmd_plugins(struct ctl_conn *c)
{
	json_t *arr = json_array();

	c->ctl->host->plugin_foreach(plugin_cb, arr);
	ctl_send(c, json_pack("{s:b,s:o}", "ok", 1, "plugins", arr));
}

static void cmd_version(struct ctl_conn *c)
{
	const struct vigil_host *h = c->ctl->host;
	char abi[16];

	snprintf(abi, sizeof abi, "%u.%u", h->abi_major, h->abi_minor);
	ctl_send(c, json_pack("{s:b,s:s,s:s}", "ok", 1, "version", h->version, "abi", abi));
}

static void cmd_shutdown(struct ctl_conn *c)
{
	c->ctl->host->log(c->ctl->self, VIGIL_LOG_INFO, "shutdown requested by uid %u (pid %d)",
	                  (unsigned)c->uid, (int)c->pid);
	/* the reply goes out first: shutdown() only starts the orderly stop */
	ctl_send(c, json_pack("{s:b}", "ok", 1));
	c->ctl->host->shutdown("vigilctl shutdown");
}

static void cmd_reexec(struct ctl_conn *c)
{
	const struct vigil_host *h = c->ctl->host;
	int rc;

	if (!CTL_HOST_HAS(h, reexec)) {
		ctl_send_error(c, PROTO_FAILED, "reexec: not supported by this vigild");
		return;
	}
	h->log(c->ctl->self, VIGIL_LOG_INFO, "reexec requested by uid %u (pid %d)",
	       (unsigned)c->uid, (int)c->pid);
	/* reexec() only schedules the exec for after this loop turn, and ctl_send() writes at
	 * once: the reply reaches the client before the old image goes, and a refusal can
	 * still be told */
	rc = h->reexec();
	if (rc < 0) {
		ctl_send_error(c, rc == -ESHUTDOWN ? PROTO_FAILED : PROTO_TEMPFAIL,
		               "cannot re-execute vigild: %s",
		               rc == -ESHUTDOWN ? "it is shutting down" : strerror(-rc));
		return;
	}
	ctl_send(c, json_pack("{s:b}", "ok", 1));
}

static const struct {
	const char *name;
	void (*fn)(struct ctl_conn *c, const json_t *req);
} with_req[] = {
    {"status", cmd_status},     {"signal", cmd_signal},     {"logs", ctl_cmd_logs},
    {"events", ctl_cmd_events}, {"run", ctl_cmd_run},       {"wait", ctl_cmd_wait},
    {"cancel", ctl_cmd_cancel}, {"ps", ctl_cmd_ps},         {"stats", ctl_cmd_stats},
    {"health", ctl_cmd_health}, {"report", ctl_cmd_report},
};

static const struct {
	const char *name;
	void (*fn)(struct ctl_conn *c);
} without_req[] = {
    {"plugins", cmd_plugins},   {"shutdown", cmd_shutdown}, {"version", cmd_version},
    {"reload", ctl_cmd_reload}, {"reexec", cmd_reexec},
};

void ctl_handle_request(struct ctl_conn *c, json_t *req)
{
	char err[256];
	const char *cmd = proto_request_cmd(req, err, sizeof err);
	size_t i;

	if (!cmd) {
		ctl_send_error(c, PROTO_USAGE, "bad request: %s", err);
		c->closing = 1;
		return;
	}
	if (strcmp(cmd, "start") == 0 || strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0) {
		ctl_cmd_control(c, cmd, req);
		return;
	}
	for (i = 0; i < sizeof with_req / sizeof with_req[0]; i++) {
		if (strcmp(cmd, with_req[i].name) == 0) {
			with_req[i].fn(c, req);
			return;
		}
	}
	for (i = 0; i < sizeof without_req / sizeof without_req[0]; i++) {
		if (strcmp(cmd, without_req[i].name) == 0) {
			without_req[i].fn(c);
			return;
		}
	}
	ctl_send_error(c, PROTO_USAGE, "unknown command '%s'", cmd);
	c->closing = 1;
}

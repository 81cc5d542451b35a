/* ctl_cmd.c — request dispatch and the one-shot commands (status, signal, plugins, ...). */
#include "ctl.h"

#include <errno.h>
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

struct collect {
	struct ctl *ctl;
	json_t *arr;
	int64_t now_ms;
	int dedupe;
	int failed;
};

static int collect_cb(const struct vigil_proc_info *info, void *arg)
{
	struct collect *col = arg;
	size_t i;
	json_t *v, *o;

	/* a group and one of its programs may both be named: list each instance once */
	if (col->dedupe) {
		json_array_foreach(col->arr, i, v)
		{
			if (strcmp(json_string_value(json_object_get(v, "name")), info->name) == 0)
				return 0;
		}
	}
	o = vjson_proc_info(info, col->now_ms);
	if (!o || json_array_append_new(col->arr, o) != 0)
		col->failed = 1;
	return 0;
}

int ctl_collect_status(struct ctl *ctl, json_t *targets, json_t *arr, const char **missing)
{
	struct collect col = {.ctl = ctl, .arr = arr, .now_ms = ctl->host->wall_ms()};
	size_t i;

	if (!targets || json_array_size(targets) == 0) {
		ctl->host->proc_foreach(NULL, collect_cb, &col); /* no programs: an empty list */
		return col.failed ? -ENOMEM : 0;
	}
	col.dedupe = json_array_size(targets) > 1;
	for (i = 0; i < json_array_size(targets); i++) {
		const char *t = json_string_value(json_array_get(targets, i));

		if (ctl->host->proc_foreach(t, collect_cb, &col) == -ENOENT) {
			*missing = t;
			return -ENOENT;
		}
	}
	return col.failed ? -ENOMEM : 0;
}

static void cmd_status(struct ctl_conn *c, const json_t *req)
{
	const json_t *args = ctl_req_args(c, req, 0);
	const char *missing = NULL;
	json_t *arr;
	int rc;

	if (!args)
		return;
	arr = json_array();
	rc = ctl_collect_status(c->ctl, (json_t *)args, arr, &missing);
	if (rc == -ENOENT) {
		json_decref(arr);
		ctl_send_error(c, PROTO_NOENT, "no such program, instance or group: %s", missing);
		return;
	}
	ctl_send(c, json_pack("{s:b,s:o}", "ok", 1, "processes", arr));
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

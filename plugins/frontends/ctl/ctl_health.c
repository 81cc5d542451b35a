/* ctl_health.c — `health NAME`: score, factors, trend, active alerts and violation counts. */
#include "ctl.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../../common/report.h"
#include "../../common/vjson.h"

struct health_walk {
	json_t *list;
	int failed;
};

static json_t *penalty(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *alerts_json(const struct vigil_health_info *h)
{
	json_t *arr = json_array();
	uint32_t i;

	for (i = 0; arr && h->alerts && i < h->nalerts; i++) {
		const struct vigil_alert_info *a = &h->alerts[i];

		if (json_array_append_new(arr, json_pack("{s:o,s:o,s:o,s:o}", "alert",
		                                         vjson_string(a->alert), "severity",
		                                         vjson_string(a->severity), "message",
		                                         vjson_string(a->message), "since",
		                                         ctl_time_json(a->since_ms))) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* One instance's record as the reply object of SPEC §4 (plus factors and counters). */
static json_t *health_json(const struct vigil_health_info *h)
{
	int scored = h->score >= 0;
	json_t *o;

	/* a record from a core older than this struct: only its name can be trusted */
	if (h->size < sizeof *h)
		return json_pack("{s:o,s:n,s:n,s:n,s:n,s:n,s:[],s:n,s:n}", "name",
		                 vjson_string(h->name), "score", "level", "trend", "factors",
		                 "memory_exhaustion_s", "alerts", "alerts_raised", "violations");
	o = json_pack("{s:o,s:o,s:o,s:o}", "name", vjson_string(h->name), "score",
	              scored ? json_integer(h->score) : json_null(), "level",
	              scored ? vjson_string(h->level ? h->level : report_health_level(h->score))
	                     : json_null(),
	              "trend", scored ? vjson_string(h->trend) : json_null());
	if (!o)
		return NULL;
	/* the points lost to each factor: nothing was lost when nothing was scored */
	if (json_object_set_new(
	        o, "factors",
	        scored ? json_pack("{s:o,s:o,s:o,s:o,s:o}", "memory", penalty(h->memory_penalty),
	                           "cpu", penalty(h->cpu_penalty), "restarts",
	                           penalty(h->restart_penalty), "checks", penalty(h->check_penalty),
	                           "latency", penalty(h->latency_penalty))
	               : json_null()) != 0 ||
	    json_object_set_new(o, "memory_exhaustion_s",
	                        h->memory_exhaustion_ms >= 0
	                            ? json_real((double)h->memory_exhaustion_ms / 1000.0)
	                            : json_null()) != 0 ||
	    json_object_set_new(o, "alerts", alerts_json(h)) != 0 ||
	    json_object_set_new(o, "alerts_raised", json_integer(h->alerts_raised)) != 0 ||
	    json_object_set_new(
	        o, "violations",
	        json_pack(
	            "{s:I,s:I,s:I,s:I,s:I,s:I}", "memory", (json_int_t)h->violations_memory, "cpu",
	            (json_int_t)h->violations_cpu, "runtime", (json_int_t)h->violations_runtime,
	            "nofile", (json_int_t)h->violations_nofile, "nproc",
	            (json_int_t)h->violations_nproc, "total", (json_int_t)h->violations)) != 0 ||
	    json_object_set_new(o, "last_violation", ctl_time_json(h->last_violation_ms)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int health_cb(const struct vigil_health_info *info, void *arg)
{
	struct health_walk *w = arg;
	json_t *o = health_json(info);

	if (!o || json_array_append_new(w->list, o) != 0)
		w->failed = 1;
	return 0;
}

/* health NAME: one instance gives SPEC's object; a NAME that selects several (a program with
 * numprocs > 1, a group, all) gives {"instances": [...]}, one object each. */
void ctl_cmd_health(struct ctl_conn *c, const json_t *req)
{
	const struct vigil_host *h = c->ctl->host;
	const json_t *args = ctl_req_args(c, req, 1);
	struct health_walk w = {0};
	const char *name;
	json_t *reply;
	int rc;

	if (!args)
		return;
	if (json_array_size(args) != 1) {
		ctl_send_error(c, PROTO_USAGE, "bad request: health takes exactly one NAME");
		return;
	}
	if (!CTL_HOST_HAS(h, health_foreach)) {
		ctl_send_error(c, PROTO_FAILED, "health: not supported by this vigild");
		return;
	}
	name = json_string_value(json_array_get(args, 0));
	w.list = json_array();
	if (!w.list) {
		ctl_send(c, NULL);
		return;
	}
	rc = h->health_foreach(name, health_cb, &w);
	if (rc == -ENOENT) {
		json_decref(w.list);
		ctl_send_error(c, PROTO_NOENT, "no such program, instance or group: %s", name);
		return;
	}
	if (w.failed || rc < 0) {
		json_decref(w.list);
		ctl_send_error(c, PROTO_TEMPFAIL, "health %s: %s", name,
		               w.failed ? "out of memory" : strerror(-rc));
		return;
	}
	if (json_array_size(w.list) == 1 && strcmp(name, "all") != 0) {
		reply = json_incref(json_array_get(w.list, 0));
		json_decref(w.list);
		json_object_set_new(reply, "ok", json_true());
	} else {
		reply = json_pack("{s:b,s:o}", "ok", 1, "instances", w.list);
	}
	ctl_send(c, reply);
}

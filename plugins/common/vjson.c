/* vjson.c — JSON views of events and process info, one serializer per event type. */
#include "vjson.h"
#include "utf8.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vjson_time(char *buf, size_t len, int64_t unix_us)
{
	time_t secs;
	int64_t ms;
	struct tm tm;
	size_t n;

	/* floor division so times before 1970 still print sensibly */
	secs = (time_t)(unix_us >= 0 ? unix_us / 1000000 : -((-unix_us + 999999) / 1000000));
	ms = (unix_us - (int64_t)secs * 1000000) / 1000;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)ms);
}


char *vjson_utf8_clean(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;
	char *out;

	/* each bad byte becomes 3 bytes at most */
	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(len * 3 + 1);
	if (!out)
		return NULL;
	while (i < len) {
		uint32_t cp;
		size_t n = u[i] ? vigil_utf8_decode(u + i, len - i, &cp) : 0;

		if (n) {
			memcpy(out + o, u + i, n);
			o += n;
			i += n;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

json_t *vjson_string(const char *s)
{
	json_t *j;
	char *clean;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	/* not UTF-8 (a command line, a path, program output): keep what is readable */
	clean = vjson_utf8_clean(s, strlen(s));
	if (!clean)
		return NULL;
	j = json_string(clean);
	free(clean);
	return j;
}

static int put(json_t *o, const char *key, json_t *v)
{
	return json_object_set_new(o, key, v);
}

static int put_str(json_t *o, const char *key, const char *s)
{
	return put(o, key, vjson_string(s));
}

static int put_int(json_t *o, const char *key, int64_t v)
{
	return put(o, key, json_integer((json_int_t)v));
}

/* An integer that the SDK documents as "-1 = unknown". */
static int put_known(json_t *o, const char *key, int64_t v)
{
	return put(o, key, v < 0 ? json_null() : json_integer((json_int_t)v));
}

static int put_real(json_t *o, const char *key, double v)
{
	return put(o, key, isfinite(v) ? json_real(v) : json_null());
}

static int put_real_known(json_t *o, const char *key, double v)
{
	return put(o, key, isfinite(v) && v >= 0 ? json_real(v) : json_null());
}

static int put_bool(json_t *o, const char *key, int v)
{
	return put(o, key, json_boolean(v));
}

static int put_time_ms(json_t *o, const char *key, int64_t unix_ms)
{
	char buf[40];

	if (unix_ms <= 0)
		return put(o, key, json_null());
	vjson_time(buf, sizeof buf, unix_ms * 1000);
	return put_str(o, key, buf);
}

#define EV(T) const struct T *e = (const struct T *)ev

static int ser_supervisor_started(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_supervisor_started);
	return put_int(o, "pid", e->pid) | put_str(o, "version", e->version) |
	       put_str(o, "config_file", e->config_file) | put_int(o, "programs", e->programs);
}

static int ser_supervisor_stopping(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_supervisor_stopping);
	return put_str(o, "reason", e->reason) | put_int(o, "timeout_ms", e->timeout_ms);
}

static int ser_config_reloaded(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_config_reloaded);
	return put_str(o, "config_file", e->config_file) | put_int(o, "added", e->added) |
	       put_int(o, "removed", e->removed) | put_int(o, "changed", e->changed) |
	       put_int(o, "unchanged", e->unchanged);
}

static int ser_config_rejected(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_config_rejected);
	return put_str(o, "config_file", e->config_file) | put_str(o, "error", e->error);
}

static int ser_process_starting(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_starting);
	return put_str(o, "program", e->program) | put_str(o, "command", e->command) |
	       put_int(o, "attempt", e->attempt);
}

static int ser_process_running(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_running);
	return put_str(o, "program", e->program) | put_int(o, "pid", e->pid) |
	       put_int(o, "spawn_us", e->spawn_us);
}

static int ser_process_ready(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_ready);
	return put_str(o, "program", e->program) | put_int(o, "pid", e->pid) |
	       put_str(o, "how", e->how) | put_int(o, "ready_ms", e->ready_ms);
}

static int ser_process_stopping(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_stopping);
	return put_str(o, "program", e->program) | put_int(o, "pid", e->pid) |
	       put_int(o, "signal", e->signal) | put_str(o, "reason", e->reason);
}

static int ser_process_exited(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_exited);
	return put_str(o, "program", e->program) | put_int(o, "pid", e->pid) |
	       put_known(o, "exit_code", e->exit_code) | put_int(o, "signal", e->signal) |
	       put_bool(o, "status_known", e->status_known) | put_bool(o, "expected", e->expected) |
	       put_int(o, "runtime_ms", e->runtime_ms) | put_str(o, "reason", e->reason) |
	       put_str(o, "error", e->error) | put_real_known(o, "cpu_s", e->cpu_s) |
	       put_known(o, "peak_rss_bytes", e->peak_rss_bytes);
}

static int ser_process_backoff(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_backoff);
	return put_str(o, "program", e->program) | put_int(o, "delay_ms", e->delay_ms) |
	       put_int(o, "restarts", e->restarts) | put_str(o, "policy", e->policy);
}

static int ser_process_fatal(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_fatal);
	return put_str(o, "program", e->program) | put_int(o, "restarts", e->restarts) |
	       put_str(o, "reason", e->reason);
}

static int ser_process_adopted(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_process_adopted);
	return put_str(o, "program", e->program) | put_int(o, "pid", e->pid) |
	       put_time_ms(o, "started_at", e->started_at_ms);
}

/* Whether ev carries the struct up to and including member (fields appended to a struct after
 * its first version are written only when the publisher's struct has them). */
#define VJSON_HAS(T, member)                                                                       \
	(ev->size >= offsetof(struct T, member) + sizeof(((struct T *)0)->member))

static int ser_task_queued(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_task_queued);
	int rc = put_str(o, "pool", e->pool) | put_str(o, "name", e->name) |
	         put_str(o, "task_type", e->type) |
	         put_str(o, "priority", vigil_priority_name(e->priority)) |
	         put_int(o, "position", e->position);

	if (VJSON_HAS(vigil_ev_task_queued, submitted_at_ms))
		rc |= put_str(o, "command", e->command) |
		      put_time_ms(o, "submitted_at", e->submitted_at_ms);
	return rc;
}

static int ser_task_started(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_task_started);
	return put_str(o, "pool", e->pool) | put_str(o, "name", e->name) |
	       put_str(o, "task_type", e->type) | put_int(o, "pid", e->pid) |
	       put_int(o, "attempt", e->attempt) | put_int(o, "queued_ms", e->queued_ms);
}

static int ser_task_finished(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_task_finished);
	int rc = put_str(o, "pool", e->pool) | put_str(o, "name", e->name) |
	         put_str(o, "task_type", e->type) |
	         put_str(o, "state", vigil_task_state_name(e->state)) |
	         put_known(o, "exit_code", e->exit_code) | put_int(o, "signal", e->signal) |
	         put_int(o, "duration_ms", e->duration_ms) | put_real_known(o, "cpu_s", e->cpu_s) |
	         put_known(o, "peak_rss_bytes", e->peak_rss_bytes);

	if (VJSON_HAS(vigil_ev_task_finished, error))
		rc |= put_str(o, "priority", vigil_priority_name(e->priority)) |
		      put_int(o, "attempts", e->attempts) |
		      put_time_ms(o, "submitted_at", e->submitted_at_ms) |
		      put_time_ms(o, "started_at", e->started_at_ms) |
		      put_str(o, "error", e->error);
	return rc;
}

static int ser_metrics_sample(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_metrics_sample);
	return put_int(o, "pid", e->pid) | put_real_known(o, "cpu_pct", e->cpu_pct) |
	       put_known(o, "rss_bytes", e->rss_bytes) | put_known(o, "vms_bytes", e->vms_bytes) |
	       put_known(o, "threads", e->threads) | put_known(o, "fds", e->fds) |
	       put_known(o, "read_bytes", e->read_bytes) |
	       put_known(o, "write_bytes", e->write_bytes) |
	       put_known(o, "ctx_switches", e->ctx_switches) |
	       put_known(o, "uptime_ms", e->uptime_ms) | put_known(o, "tree_procs", e->tree_procs) |
	       put_real_known(o, "tree_cpu_pct", e->tree_cpu_pct) |
	       put_known(o, "tree_rss_bytes", e->tree_rss_bytes);
}

static int ser_health_changed(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_health_changed);
	int rc = put_known(o, "score", e->score) | put_known(o, "previous", e->previous) |
	         put_str(o, "level", e->level) | put_str(o, "trend", e->trend);

	if (VJSON_HAS(vigil_ev_health_changed, memory_exhaustion_ms))
		rc |= put_real(o, "memory_penalty", e->memory_penalty) |
		      put_real(o, "cpu_penalty", e->cpu_penalty) |
		      put_real(o, "restart_penalty", e->restart_penalty) |
		      put_real(o, "check_penalty", e->check_penalty) |
		      put_real(o, "latency_penalty", e->latency_penalty) |
		      put_known(o, "memory_exhaustion_ms", e->memory_exhaustion_ms);
	return rc;
}

static int ser_limit_violated(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_limit_violated);
	return put_str(o, "limit", e->limit) | put_real(o, "value", e->value) |
	       put_real(o, "max", e->max) | put_str(o, "action", e->action) |
	       put_int(o, "count", e->count);
}

static int ser_alert(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_alert);
	return put_str(o, "alert", e->alert) | put_str(o, "severity", e->severity) |
	       put_str(o, "message", e->message);
}

static int ser_metric_custom(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_metric_custom);
	return put_str(o, "metric", e->metric) | put_real(o, "value", e->value) |
	       put_str(o, "unit", e->unit);
}

static int ser_store_failed(json_t *o, const struct vigil_event *ev)
{
	EV(vigil_ev_store_failed);
	return put_int(o, "error", e->error) | put_str(o, "message", e->message) |
	       put_int(o, "pending", (int64_t)e->pending);
}

struct serializer {
	uint32_t type;
	size_t size;
	int (*fn)(json_t *o, const struct vigil_event *ev);
};

#define SER(T, S, F)                                                                               \
	{                                                                                          \
		T, sizeof(struct S), F                                                             \
	}
/* A struct that grew: serialized from the end of its first version on (S up to M). */
#define SER_FROM(T, S, M, F)                                                                       \
	{                                                                                          \
		T, offsetof(struct S, M), F                                                        \
	}

static const struct serializer serializers[] = {
    SER(VIGIL_EV_SUPERVISOR_STARTED, vigil_ev_supervisor_started, ser_supervisor_started),
    SER(VIGIL_EV_SUPERVISOR_STOPPING, vigil_ev_supervisor_stopping, ser_supervisor_stopping),
    SER(VIGIL_EV_CONFIG_RELOADED, vigil_ev_config_reloaded, ser_config_reloaded),
    SER(VIGIL_EV_CONFIG_REJECTED, vigil_ev_config_rejected, ser_config_rejected),
    SER(VIGIL_EV_PROCESS_STARTING, vigil_ev_process_starting, ser_process_starting),
    SER(VIGIL_EV_PROCESS_RUNNING, vigil_ev_process_running, ser_process_running),
    SER(VIGIL_EV_PROCESS_READY, vigil_ev_process_ready, ser_process_ready),
    SER(VIGIL_EV_PROCESS_STOPPING, vigil_ev_process_stopping, ser_process_stopping),
    SER(VIGIL_EV_PROCESS_EXITED, vigil_ev_process_exited, ser_process_exited),
    SER(VIGIL_EV_PROCESS_BACKOFF, vigil_ev_process_backoff, ser_process_backoff),
    SER(VIGIL_EV_PROCESS_FATAL, vigil_ev_process_fatal, ser_process_fatal),
    SER(VIGIL_EV_PROCESS_ADOPTED, vigil_ev_process_adopted, ser_process_adopted),
    SER_FROM(VIGIL_EV_TASK_QUEUED, vigil_ev_task_queued, command, ser_task_queued),
    SER(VIGIL_EV_TASK_STARTED, vigil_ev_task_started, ser_task_started),
    SER_FROM(VIGIL_EV_TASK_FINISHED, vigil_ev_task_finished, priority, ser_task_finished),
    SER(VIGIL_EV_METRICS_SAMPLE, vigil_ev_metrics_sample, ser_metrics_sample),
    SER_FROM(VIGIL_EV_HEALTH_CHANGED, vigil_ev_health_changed, memory_penalty, ser_health_changed),
    SER(VIGIL_EV_LIMIT_VIOLATED, vigil_ev_limit_violated, ser_limit_violated),
    SER(VIGIL_EV_ALERT_RAISED, vigil_ev_alert, ser_alert),
    SER(VIGIL_EV_ALERT_CLEARED, vigil_ev_alert, ser_alert),
    SER(VIGIL_EV_METRIC_CUSTOM, vigil_ev_metric_custom, ser_metric_custom),
    SER(VIGIL_EV_STORE_FAILED, vigil_ev_store_failed, ser_store_failed),
};

json_t *vjson_event(const struct vigil_event *ev, const char *type_name)
{
	char tbuf[40], nbuf[32];
	json_t *o;
	size_t i;
	int rc;

	o = json_object();
	if (!o)
		return NULL;
	vjson_time(tbuf, sizeof tbuf, ev->time_us);
	if (!type_name) {
		snprintf(nbuf, sizeof nbuf, "event.%u", (unsigned)ev->type);
		type_name = nbuf;
	}
	rc = put(o, "seq", json_integer((json_int_t)ev->seq)) | put_str(o, "time", tbuf) |
	     put_str(o, "type", type_name) | put_str(o, "subject", ev->subject);
	for (i = 0; i < sizeof serializers / sizeof serializers[0]; i++) {
		/* a struct shorter than ours comes from an older publisher: header only */
		if (serializers[i].type == ev->type && ev->size >= serializers[i].size) {
			rc |= serializers[i].fn(o, ev);
			break;
		}
	}
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *const vjson_proc_fields[VJSON_PROC_NFIELDS] = {
    "name",     "program",   "instance", "state",    "pid",        "uptime_s",
    "restarts", "exit_code", "exit_signal", "reason", "cpu_pct",   "rss_bytes",
    "health",   "priority",  "started_at", "state_since", "tags",  "command",
};

static json_t *known(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *time_ms(int64_t unix_ms)
{
	char buf[40];

	if (unix_ms <= 0)
		return json_null();
	vjson_time(buf, sizeof buf, unix_ms * 1000);
	return json_string(buf);
}

json_t *vjson_proc_field(const struct vigil_proc_info *info, int64_t now_ms, int field)
{
	json_t *tags;

	switch (field) {
	case 0:
		return vjson_string(info->name);
	case 1:
		return vjson_string(info->program);
	case 2:
		return known(info->instance);
	case 3:
		return vjson_string(vigil_proc_state_name(info->state));
	case 4:
		return known(info->pid > 0 ? info->pid : -1);
	case 5:
		if (info->pid <= 0 || info->started_at_ms <= 0)
			return json_null();
		return json_integer(now_ms > info->started_at_ms
		                        ? (now_ms - info->started_at_ms) / 1000
		                        : 0);
	case 6:
		return json_integer(info->restarts);
	case 7:
		return known(info->exit_code);
	case 8:
		return known(info->exit_signal > 0 ? info->exit_signal : -1);
	case 9:
		return vjson_string(info->last_reason);
	case 10:
		return isfinite(info->cpu_pct) && info->cpu_pct >= 0 ? json_real(info->cpu_pct)
		                                                     : json_null();
	case 11:
		return known(info->rss_bytes);
	case 12:
		return known(info->health);
	case 13:
		return vjson_string(vigil_priority_name(info->priority));
	case 14:
		return time_ms(info->started_at_ms);
	case 15:
		return time_ms(info->state_since_ms);
	case 16:
		tags = json_array();
		for (const char *const *t = info->tags; tags && t && *t; t++)
			if (json_array_append_new(tags, vjson_string(*t)) < 0) {
				json_decref(tags);
				return NULL;
			}
		return tags;
	case 17:
		return vjson_string(info->command);
	default:
		return NULL;
	}
}

json_t *vjson_proc_info(const struct vigil_proc_info *info, int64_t now_ms)
{
	json_t *o = json_object();

	for (int f = 0; o && f < VJSON_PROC_NFIELDS; f++)
		if (json_object_set_new(o, vjson_proc_fields[f], vjson_proc_field(info, now_ms, f)) <
		    0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

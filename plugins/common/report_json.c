/* report_json.c — the report model written as JSON with jansson: the XML's content, by name. */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Same idea as the XML side: a failure is remembered, the object is dropped at the end. */
struct rep_jw {
	int failed;
};

/* Takes v (json_object_set_new releases it even when it fails). */
static void rep_j_set(struct rep_jw *w, json_t *o, const char *key, json_t *v)
{
	if (!o) {
		json_decref(v);
		w->failed = 1;
	} else if (!v || json_object_set_new(o, key, v) < 0) {
		w->failed = 1;
	}
}

/* The model's strings are clean UTF-8 without NUL: json_stringn cannot refuse them. */
static json_t *rep_j_str(const char *s)
{
	return s ? json_stringn(s, strlen(s)) : json_null();
}

static json_t *rep_j_int(int known, int64_t v)
{
	return known ? json_integer((json_int_t)v) : json_null();
}

static json_t *rep_j_real(double v)
{
	return isfinite(v) && v >= 0 ? json_real(v) : json_null();
}

static json_t *rep_j_time(int64_t ms)
{
	char buf[40];

	return report_time(buf, sizeof buf, ms) ? json_string(buf) : json_null();
}

/* Appends v (taken) and returns it, borrowed, to be filled; NULL on failure. */
static json_t *rep_j_push(struct rep_jw *w, json_t *arr, json_t *v)
{
	if (!arr) {
		json_decref(v);
		v = NULL;
	}
	if (!v || json_array_append_new(arr, v) < 0) {
		w->failed = 1;
		return NULL;
	}
	return v;
}

static json_t *rep_j_supervisor(struct rep_jw *w, const struct report *r)
{
	json_t *o = json_object(), *plugins = json_array();
	char abi[32];

	snprintf(abi, sizeof abi, "%u.%u", r->abi_major, r->abi_minor);
	rep_j_set(w, o, "host", rep_j_str(r->host));
	rep_j_set(w, o, "version", rep_j_str(r->version));
	rep_j_set(w, o, "abi", json_string(abi));
	rep_j_set(w, o, "pid", json_integer(r->pid));
	rep_j_set(w, o, "started_at", rep_j_time(r->started_ms));
	rep_j_set(w, o, "uptime_s",
	          rep_j_int(r->started_ms > 0 && r->generated_ms >= r->started_ms,
	                    (r->generated_ms - r->started_ms) / 1000));
	rep_j_set(w, o, "state_dir", rep_j_str(r->state_dir));
	for (size_t i = 0; i < r->nplugins; i++) {
		const struct report_plugin *p = &r->plugins[i];
		json_t *j = rep_j_push(w, plugins, json_object());

		snprintf(abi, sizeof abi, "%u.%u", p->abi_major, p->abi_minor);
		rep_j_set(w, j, "kind", rep_j_str(p->kind));
		rep_j_set(w, j, "name", rep_j_str(p->plugin));
		rep_j_set(w, j, "instance", rep_j_str(p->instance));
		rep_j_set(w, j, "section", rep_j_str(p->section));
		rep_j_set(w, j, "version", rep_j_str(p->version));
		rep_j_set(w, j, "abi", json_string(abi));
		rep_j_set(w, j, "file", rep_j_str(p->file));
		rep_j_set(w, j, "description", rep_j_str(p->description));
	}
	rep_j_set(w, o, "plugins", plugins);
	return o;
}

static json_t *rep_j_instance(struct rep_jw *w, const struct report *r,
                              const struct report_instance *in)
{
	json_t *o = json_object(), *health = json_null(), *alerts = json_null(),
	       *viol = json_null(), *last = json_object();
	size_t i;

	rep_j_set(w, o, "name", rep_j_str(in->name));
	rep_j_set(w, o, "index", rep_j_int(in->index >= 0, in->index));
	rep_j_set(w, o, "state", json_string(vigil_proc_state_name(in->state)));
	rep_j_set(w, o, "state_since", rep_j_time(in->state_since_ms));
	rep_j_set(w, o, "pid", rep_j_int(in->pid > 0, in->pid));
	rep_j_set(w, o, "started_at", rep_j_time(in->started_ms));
	rep_j_set(w, o, "uptime_s",
	          rep_j_int(in->pid > 0 && in->started_ms > 0 && r->generated_ms >= in->started_ms,
	                    (r->generated_ms - in->started_ms) / 1000));
	rep_j_set(w, o, "restarts", json_integer(in->restarts));
	rep_j_set(w, last, "code", rep_j_int(in->exit_code >= 0, in->exit_code));
	rep_j_set(w, last, "signal",
	          rep_j_int(in->exit_signal > 0 && in->exit_signal < 128, in->exit_signal));
	rep_j_set(w, last, "reason", rep_j_str(in->last_reason));
	rep_j_set(w, o, "last_exit", last);
	rep_j_set(w, o, "cpu_pct", rep_j_real(in->cpu_pct));
	rep_j_set(w, o, "rss_bytes", rep_j_int(in->rss_bytes >= 0, in->rss_bytes));
	if (in->health >= 0) {
		health = json_object();
		rep_j_set(w, health, "score", json_integer(in->health));
		rep_j_set(w, health, "level",
		          json_string(in->level ? in->level : report_health_level(in->health)));
		rep_j_set(w, health, "trend", rep_j_str(in->trend));
	}
	rep_j_set(w, o, "health", health);
	if (in->health_known) {
		uint64_t total = 0;

		alerts = json_array();
		for (i = 0; i < in->nalerts; i++) {
			json_t *a = rep_j_push(w, alerts, json_object());

			rep_j_set(w, a, "id", rep_j_str(in->alerts[i].id));
			rep_j_set(w, a, "severity", rep_j_str(in->alerts[i].severity));
			rep_j_set(w, a, "since", rep_j_time(in->alerts[i].since_ms));
			rep_j_set(w, a, "message", rep_j_str(in->alerts[i].message));
		}
		viol = json_object();
		rep_j_set(w, viol, "items", json_array());
		for (i = 0; i < in->nviolations; i++) {
			json_t *v = rep_j_push(w, json_object_get(viol, "items"), json_object());

			total += in->violations[i].count;
			rep_j_set(w, v, "name", rep_j_str(in->violations[i].name));
			rep_j_set(w, v, "source", json_string("limit"));
			rep_j_set(w, v, "count", json_integer((json_int_t)in->violations[i].count));
		}
		rep_j_set(w, viol, "total", json_integer((json_int_t)total));
	}
	rep_j_set(w, o, "alerts", alerts);
	rep_j_set(w, o, "violations", viol);
	rep_j_set(w, o, "stdout_log", rep_j_str(in->stdout_log));
	rep_j_set(w, o, "stderr_log", rep_j_str(in->stderr_log));
	return o;
}

static json_t *rep_j_programs(struct rep_jw *w, const struct report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->nprograms; i++) {
		const struct report_program *p = &r->programs[i];
		json_t *o = rep_j_push(w, arr, json_object()), *tags = json_array(),
		       *limits = json_object(), *inst = json_array();

		rep_j_set(w, o, "name", rep_j_str(p->name));
		rep_j_set(w, o, "priority", json_string(vigil_priority_name(p->priority)));
		rep_j_set(w, o, "command", rep_j_str(p->command));
		for (size_t j = 0; j < p->ntags; j++)
			rep_j_push(w, tags, rep_j_str(p->tags[j]));
		rep_j_set(w, o, "tags", tags);
		rep_j_set(w, limits, "memory_bytes",
		          rep_j_int(p->limit_memory > 0, p->limit_memory));
		rep_j_set(w, limits, "cpu_pct",
		          p->limit_cpu > 0 ? rep_j_real(p->limit_cpu) : json_null());
		rep_j_set(w, limits, "runtime_ms",
		          rep_j_int(p->limit_runtime_ms > 0, p->limit_runtime_ms));
		rep_j_set(w, limits, "nofile", rep_j_int(p->limit_nofile > 0, p->limit_nofile));
		rep_j_set(w, limits, "nproc", rep_j_int(p->limit_nproc > 0, p->limit_nproc));
		rep_j_set(w, o, "limits", limits);
		for (size_t j = 0; j < p->ninst; j++)
			rep_j_push(w, inst, rep_j_instance(w, r, &p->inst[j]));
		rep_j_set(w, o, "instances", inst);
	}
	return arr;
}

static json_t *rep_j_tasks(struct rep_jw *w, const struct report *r)
{
	json_t *o = json_object(), *items = json_array();

	rep_j_set(w, o, "since", rep_j_time(r->since_ms));
	rep_j_set(w, o, "count", json_integer((json_int_t)r->ntasks));
	rep_j_set(w, o, "truncated", json_boolean(r->tasks_truncated));
	rep_j_set(w, o, "history", json_string(report_history_name(r->history)));
	for (size_t i = 0; i < r->ntasks; i++) {
		const struct report_task *t = &r->tasks[i];
		json_t *j = rep_j_push(w, items, json_object());

		rep_j_set(w, j, "id", rep_j_str(t->id ? t->id : ""));
		rep_j_set(w, j, "name", rep_j_str(t->name));
		rep_j_set(w, j, "type", rep_j_str(t->type));
		rep_j_set(w, j, "pool", rep_j_str(t->pool));
		rep_j_set(w, j, "state", json_string(report_task_state_name(t->state)));
		rep_j_set(w, j, "priority",
		          t->priority >= 0
		              ? json_string(vigil_priority_name((enum vigil_priority)t->priority))
		              : json_null());
		rep_j_set(w, j, "pid", rep_j_int(t->pid > 0, t->pid));
		rep_j_set(w, j, "submitted_at", rep_j_time(t->submitted_ms));
		rep_j_set(w, j, "started_at", rep_j_time(t->started_ms));
		rep_j_set(w, j, "ended_at", rep_j_time(t->ended_ms));
		rep_j_set(w, j, "exit_code", rep_j_int(t->exit_code >= 0, t->exit_code));
		rep_j_set(w, j, "signal", rep_j_int(t->signal > 0 && t->signal < 128, t->signal));
		rep_j_set(w, j, "duration_ms", rep_j_int(t->duration_ms >= 0, t->duration_ms));
		rep_j_set(w, j, "cpu_s", rep_j_real(t->cpu_s));
		rep_j_set(w, j, "peak_rss_bytes",
		          rep_j_int(t->peak_rss_bytes >= 0, t->peak_rss_bytes));
		rep_j_set(w, j, "attempts", rep_j_int(t->attempts > 0, t->attempts));
		rep_j_set(w, j, "timeout_ms", rep_j_int(t->timeout_ms > 0, t->timeout_ms));
		rep_j_set(w, j, "queue_position",
		          rep_j_int(t->queue_position >= 0, t->queue_position));
		rep_j_set(w, j, "command", rep_j_str(t->command));
		rep_j_set(w, j, "reason", rep_j_str(t->reason));
		rep_j_set(w, j, "error", rep_j_str(t->error));
	}
	rep_j_set(w, o, "items", items);
	return o;
}

static json_t *rep_j_stats(struct rep_jw *w, const struct report *r)
{
	json_t *o = json_object(), *groups = json_array();

	rep_j_set(w, o, "by", json_string(r->stats_by ? r->stats_by : "type"));
	rep_j_set(w, o, "since", rep_j_time(r->since_ms));
	rep_j_set(w, o, "available", json_boolean(r->stats_available));
	for (size_t i = 0; i < r->nstats; i++) {
		const struct report_stat *s = &r->stats[i];
		json_t *g = rep_j_push(w, groups, json_object());

		rep_j_set(w, g, "key", rep_j_str(s->key ? s->key : ""));
		rep_j_set(w, g, "runs", json_integer((json_int_t)s->runs));
		rep_j_set(w, g, "successes", json_integer((json_int_t)s->successes));
		rep_j_set(w, g, "failures", json_integer((json_int_t)s->failures));
		rep_j_set(w, g, "timeouts", json_integer((json_int_t)s->timeouts));
		rep_j_set(w, g, "success_rate",
		          s->success_rate <= 1 ? rep_j_real(s->success_rate) : json_null());
		rep_j_set(w, g, "p50_ms", rep_j_int(s->p50_ms >= 0, s->p50_ms));
		rep_j_set(w, g, "p95_ms", rep_j_int(s->p95_ms >= 0, s->p95_ms));
		rep_j_set(w, g, "max_ms", rep_j_int(s->max_ms >= 0, s->max_ms));
		rep_j_set(w, g, "cpu_s", rep_j_real(s->cpu_s));
		rep_j_set(w, g, "peak_rss_bytes",
		          rep_j_int(s->peak_rss_bytes >= 0, s->peak_rss_bytes));
	}
	rep_j_set(w, o, "groups", groups);
	return o;
}

json_t *report_json(const struct report *r)
{
	struct rep_jw w = {0};
	json_t *o = json_object();

	rep_j_set(&w, o, "schema", json_string(REPORT_NAMESPACE));
	rep_j_set(&w, o, "schema_version", json_string(REPORT_SCHEMA_VERSION));
	rep_j_set(&w, o, "generated_at", rep_j_time(r->generated_ms > 0 ? r->generated_ms : 1));
	rep_j_set(&w, o, "supervisor", rep_j_supervisor(&w, r));
	rep_j_set(&w, o, "programs", rep_j_programs(&w, r));
	rep_j_set(&w, o, "tasks", rep_j_tasks(&w, r));
	rep_j_set(&w, o, "statistics", rep_j_stats(&w, r));
	if (w.failed) {
		json_decref(o);
		return NULL;
	}
	return o;
}

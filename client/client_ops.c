/* client_ops.c — libvigil-client's typed calls: tasks (run, wait, cancel), status and ps. */
#include "client_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- reading replies ---- */

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int64_t int_of(const json_t *o, const char *key, int64_t unknown)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? (int64_t)json_number_value(v) : unknown;
}

static double real_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* RFC 3339 UTC as vigild writes it ("2026-11-27T03:04:05.123Z") to Unix ms; 0 otherwise. */
static int64_t time_of(const json_t *o, const char *key)
{
	const char *s = str_of(o, key);
	struct tm tm;
	int ms = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t * 1000 + ms;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int state_of(const char *s, enum vigil_task_state *out)
{
	for (int i = 0; s && i < VIGIL_TASK_STATE_COUNT; i++)
		if (strcmp(s, vigil_task_state_name((enum vigil_task_state)i)) == 0) {
			*out = (enum vigil_task_state)i;
			return 0;
		}
	return -EINVAL;
}

static enum vigil_priority prio_of(const char *s)
{
	for (int i = 0; s && i < VIGIL_PRIO_COUNT; i++)
		if (strcmp(s, vigil_priority_name((enum vigil_priority)i)) == 0)
			return (enum vigil_priority)i;
	return VIGIL_PRIO_NORMAL;
}

/* Fills what fits of the caller's struct (its size says how much it has). */
static void fill_task(const json_t *o, struct vigil_client_task *out)
{
	struct vigil_client_task t;
	size_t n = out->size && out->size < sizeof t ? out->size : sizeof t;

	memset(&t, 0, sizeof t);
	t.size = (uint32_t)n;
	copy_str(t.id, sizeof t.id, str_of(o, "id"));
	copy_str(t.name, sizeof t.name, str_of(o, "name"));
	copy_str(t.type, sizeof t.type, str_of(o, "type"));
	copy_str(t.pool, sizeof t.pool, str_of(o, "pool"));
	t.state = VIGIL_TASK_QUEUED;
	state_of(str_of(o, "state"), &t.state);
	t.priority = prio_of(str_of(o, "priority"));
	t.pid = (int32_t)int_of(o, "pid", 0);
	t.exit_code = (int32_t)int_of(o, "exit_code", -1);
	t.signal = (int32_t)int_of(o, "signal", 0);
	t.attempts = (uint32_t)int_of(o, "attempts", 0);
	t.submitted_at_ms = time_of(o, "submitted_at");
	t.started_at_ms = time_of(o, "started_at");
	t.ended_at_ms = time_of(o, "ended_at");
	t.duration_s = real_of(o, "duration_s");
	t.cpu_s = real_of(o, "cpu_s");
	t.peak_rss_bytes = int_of(o, "peak_rss_bytes", -1);
	copy_str(t.error, sizeof t.error, str_of(o, "start_error"));
	memcpy(out, &t, n);
}

void cl_entry(const json_t *o, struct vigil_client_entry *e, char **json_text)
{
	memset(e, 0, sizeof *e);
	e->size = sizeof *e;
	e->kind = str_of(o, "kind");
	if (!e->kind)
		e->kind = "program"; /* status lists instances only */
	e->name = str_of(o, "name");
	e->program = str_of(o, "program");
	if (!e->program)
		e->program = str_of(o, "pool");
	e->id = str_of(o, "id");
	e->state = str_of(o, "state");
	e->type = str_of(o, "type");
	e->priority = str_of(o, "priority");
	e->pid = (int32_t)int_of(o, "pid", 0);
	e->exit_code = (int32_t)int_of(o, "exit_code", -1);
	e->signal = (int32_t)int_of(o, "signal", 0);
	if (e->signal < 0)
		e->signal = 0;
	e->health = (int32_t)int_of(o, "health", -1);
	e->started_at_ms = time_of(o, "started_at");
	e->ended_at_ms = time_of(o, "ended_at");
	e->live = !json_is_false(json_object_get(o, "live"));
	e->restarts = int_of(o, "restarts", -1);
	e->cpu_pct = real_of(o, "cpu_pct");
	e->rss_bytes = int_of(o, "rss_bytes", -1);
	*json_text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12));
	e->json = *json_text;
}

static json_t *new_request(struct vigil_client *c, const char *cmd)
{
	json_t *r = json_pack("{s:s}", "cmd", cmd);

	if (!r)
		cl_fail(c, -ENOMEM, "out of memory");
	return r;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static int bad_arg(struct vigil_client *c, const char *what)
{
	return cl_fail(c, -EINVAL, "%s", what);
}

/* ---- tasks ---- */

static json_t *strv_json(const char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		if (json_array_append_new(a, json_string(*v)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

VIGIL_CLIENT_API int vigil_client_submit(struct vigil_client *c, const struct vigil_task_spec *spec,
                                         char *id, size_t idlen)
{
	json_t *req, *reply = NULL, *argv, *env = NULL;
	const char *got;
	int rc;

	if (!spec || spec->size < sizeof *spec || !spec->argv || !spec->argv[0] || !id || !idlen)
		return bad_arg(c,
		               "vigil_client_submit: spec (with size and argv) and id are needed");
	if ((unsigned)spec->priority >= VIGIL_PRIO_COUNT)
		return bad_arg(c, "vigil_client_submit: bad priority");
	req = new_request(c, "run");
	argv = strv_json(spec->argv);
	if (spec->env)
		env = strv_json(spec->env);
	if (!req || !argv || (spec->env && !env)) {
		json_decref(req);
		json_decref(argv);
		json_decref(env);
		return cl_fail(c, -ENOMEM, "out of memory");
	}
	json_object_set_new(req, "argv", argv);
	if (env)
		json_object_set_new(req, "env", env);
	set_str(req, "pool", spec->pool);
	set_str(req, "name", spec->name);
	set_str(req, "type", spec->type);
	set_str(req, "cwd", spec->cwd);
	set_str(req, "priority", vigil_priority_name(spec->priority));
	if (spec->timeout_ms > 0)
		json_object_set_new(req, "timeout_ms", json_integer(spec->timeout_ms));
	rc = cl_call(c, req, cl_deadline(c, 0), &reply);
	json_decref(req);
	if (rc == 0) {
		got = str_of(reply, "id");
		if (!got)
			rc = cl_fail(c, -EPROTO, "vigild's reply to run has no id");
		else if (strlen(got) >= idlen)
			rc = cl_fail(c, -ENOBUFS, "task id %s does not fit in %zu bytes", got,
			             idlen);
		else
			memcpy(id, got, strlen(got) + 1);
	}
	json_decref(reply);
	return rc;
}

VIGIL_CLIENT_API int vigil_client_wait(struct vigil_client *c, const char *id, int64_t timeout_ms,
                                       struct vigil_client_task *out)
{
	json_t *req, *reply = NULL;
	int rc;

	if (!id || !*id || !out)
		return bad_arg(c, "vigil_client_wait: an id and a result struct are needed");
	req = new_request(c, "wait");
	if (!req)
		return -ENOMEM;
	json_object_set_new(req, "args", json_pack("[s]", id));
	if (timeout_ms > 0)
		json_object_set_new(req, "timeout_ms", json_integer(timeout_ms));
	rc = cl_call(c, req, cl_deadline(c, timeout_ms > 0 ? timeout_ms : -1), &reply);
	json_decref(req);
	if (rc == 0)
		fill_task(reply, out);
	else if (rc > 0 && json_is_object(json_object_get(reply, "task")))
		fill_task(json_object_get(reply, "task"), out); /* timed out: where it stands */
	json_decref(reply);
	return rc;
}

VIGIL_CLIENT_API int vigil_client_cancel(struct vigil_client *c, const char *id)
{
	json_t *req, *reply = NULL;
	int rc;

	if (!id || !*id)
		return bad_arg(c, "vigil_client_cancel: an id is needed");
	req = new_request(c, "cancel");
	if (!req)
		return -ENOMEM;
	json_object_set_new(req, "args", json_pack("[s]", id));
	rc = cl_call(c, req, cl_deadline(c, 0), &reply);
	json_decref(req);
	json_decref(reply);
	return rc;
}

struct find_task {
	const char *id;
	struct vigil_client_task *out;
	int found;
};

static int find_task_cb(const struct vigil_client_entry *e, void *arg)
{
	struct find_task *f = arg;
	json_t *o;

	if (!e->id || strcmp(e->id, f->id) != 0 || !e->kind || strcmp(e->kind, "task") != 0)
		return 0;
	o = json_loads(e->json, 0, NULL);
	if (o)
		fill_task(o, f->out);
	json_decref(o);
	f->found = 1;
	return 1;
}

VIGIL_CLIENT_API int vigil_client_task_status(struct vigil_client *c, const char *id,
                                              struct vigil_client_task *out)
{
	struct vigil_client_query q = {.size = sizeof q, .kind = "task", .name = id};
	struct find_task f = {.id = id, .out = out};
	int rc;

	if (!id || !*id || !out)
		return bad_arg(c, "vigil_client_task_status: an id and a result struct are needed");
	/* what the daemon holds first; its history only for a task it has let go of */
	rc = vigil_client_ps(c, &q, find_task_cb, &f);
	if (rc == 0 && !f.found) {
		q.history = 1;
		rc = vigil_client_ps(c, &q, find_task_cb, &f);
		if (rc == VIGIL_CLIENT_FAILED)
			rc = 0; /* no history to look in: it is unknown */
	}
	if (rc == 0 && !f.found)
		rc = cl_fail(c, VIGIL_CLIENT_NOENT, "no such task: %s", id);
	return rc;
}

VIGIL_CLIENT_API int vigil_client_exit_status(const struct vigil_client_task *t)
{
	switch (t->state) {
	case VIGIL_TASK_TIMEOUT:
		return 124;
	case VIGIL_TASK_CANCELLED:
		return 125;
	case VIGIL_TASK_SUCCEEDED:
	case VIGIL_TASK_FAILED:
	case VIGIL_TASK_KILLED:
		if (t->signal > 0)
			return 128 + t->signal;
		if (t->exit_code >= 0)
			return t->exit_code & 0xff;
		return t->state == VIGIL_TASK_SUCCEEDED ? 0 : 127;
	default:
		return -EINPROGRESS;
	}
}

/* ---- status and ps ---- */

static int each_entry(struct vigil_client *c, json_t *reply, const char *key,
                      vigil_client_entry_fn fn, void *arg)
{
	const json_t *list = json_object_get(reply, key), *o;
	size_t i;

	if (!json_is_array(list))
		return cl_fail(c, -EPROTO, "vigild's reply has no \"%s\" list", key);
	json_array_foreach(list, i, o)
	{
		struct vigil_client_entry e;
		char *text = NULL;
		int stop;

		cl_entry(o, &e, &text);
		stop = fn(&e, arg);
		free(text);
		if (stop)
			break;
	}
	return 0;
}

VIGIL_CLIENT_API int vigil_client_status(struct vigil_client *c, const char *target,
                                         vigil_client_entry_fn fn, void *arg)
{
	json_t *req = new_request(c, "status"), *reply = NULL;
	int rc;

	if (!req)
		return -ENOMEM;
	if (!fn) {
		json_decref(req);
		return bad_arg(c, "vigil_client_status: a callback is needed");
	}
	if (target)
		json_object_set_new(req, "args", json_pack("[s]", target));
	rc = cl_call(c, req, cl_deadline(c, 0), &reply);
	json_decref(req);
	if (rc == 0)
		rc = each_entry(c, reply, "processes", fn, arg);
	json_decref(reply);
	return rc;
}

VIGIL_CLIENT_API int vigil_client_ps(struct vigil_client *c, const struct vigil_client_query *q,
                                     vigil_client_entry_fn fn, void *arg)
{
	json_t *req = new_request(c, "ps"), *reply = NULL;
	int rc;

	if (!req)
		return -ENOMEM;
	if (!fn || (q && q->size < sizeof *q)) {
		json_decref(req);
		return bad_arg(c,
		               "vigil_client_ps: a callback (and a query with its size) is needed");
	}
	if (q) {
		if (q->name)
			json_object_set_new(req, "args", json_pack("[s]", q->name));
		set_str(req, "kind", q->kind);
		set_str(req, "state", q->state);
		set_str(req, "health", q->health);
		set_str(req, "type", q->type);
		set_str(req, "priority", q->priority);
		set_str(req, "tag", q->tag);
		set_str(req, "since", q->since);
		set_str(req, "until", q->until);
		if (q->history)
			json_object_set_new(req, "history", json_true());
		if (q->limit)
			json_object_set_new(req, "limit", json_integer(q->limit));
	}
	rc = cl_call(c, req, cl_deadline(c, 0), &reply);
	json_decref(req);
	if (rc == 0)
		rc = each_entry(c, reply, "entries", fn, arg);
	json_decref(reply);
	return rc;
}

/* ctl_task.c — run, wait, cancel and reload: replies that may wait, without blocking, for one event. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/vjson.h"

#define ID_MAX 64

/* A reply that waits for task.finished of one task, or for config.reloaded. */
struct ctl_pending {
	uint32_t type;        /* VIGIL_EV_TASK_FINISHED or VIGIL_EV_CONFIG_RELOADED */
	char id[ID_MAX];      /* the task */
	int64_t since_us;     /* events older than the request are not about it */
	uint64_t deadline_ms; /* monotonic; 0 = none */
	int64_t timeout_ms;   /* as asked, for the message */
	struct vigil_timer *poll;
};

/* ---- JSON views ---- */

static json_t *known_int(int64_t v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *signal_json(int32_t signo)
{
	return signo > 0 ? json_integer(signo) : json_null();
}

json_t *ctl_task_json(const struct vigil_task_info *t)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "id", vjson_string(t->id));
	json_object_set_new(o, "name", vjson_string(t->name));
	json_object_set_new(o, "type", vjson_string(t->type));
	json_object_set_new(o, "pool", vjson_string(t->pool));
	json_object_set_new(o, "priority", json_string(vigil_priority_name(t->priority)));
	json_object_set_new(o, "state", json_string(vigil_task_state_name(t->state)));
	json_object_set_new(o, "pid", t->pid > 0 ? json_integer(t->pid) : json_null());
	json_object_set_new(o, "exit_code", known_int(t->signal > 0 ? -1 : t->exit_code));
	json_object_set_new(o, "signal", signal_json(t->signal));
	json_object_set_new(o, "duration_s",
	                    t->started_at_ms ? json_real((double)t->duration_ms / 1000.0)
	                                     : json_null());
	json_object_set_new(o, "cpu_s", t->cpu_s >= 0 && t->started_at_ms ? json_real(t->cpu_s)
	                                                                   : json_null());
	json_object_set_new(o, "peak_rss_bytes",
	                    t->started_at_ms ? known_int(t->peak_rss_bytes) : json_null());
	json_object_set_new(o, "attempts", json_integer(t->attempt));
	json_object_set_new(o, "submitted_at", ctl_time_json(t->submitted_at_ms));
	json_object_set_new(o, "started_at", ctl_time_json(t->started_at_ms));
	json_object_set_new(o, "ended_at", ctl_time_json(t->ended_at_ms));
	json_object_set_new(o, "timeout_ms", t->timeout_ms > 0 ? json_integer(t->timeout_ms)
	                                                       : json_null());
	if (t->state == VIGIL_TASK_QUEUED)
		json_object_set_new(o, "queue_position", json_integer(t->queue_position));
	json_object_set_new(o, "command", vjson_string(t->command));
	json_object_set_new(o, "error", vjson_string(t->error));
	return o;
}

/* The same view from task.finished, for a task the core no longer holds. */
static json_t *finished_json(const struct vigil_ev_task_finished *e)
{
	struct vigil_task_info t;

	memset(&t, 0, sizeof t);
	t.size = sizeof t;
	t.id = e->hdr.subject;
	t.name = e->name;
	t.type = e->type;
	t.pool = e->pool;
	t.state = e->state;
	t.priority = e->priority;
	t.attempt = e->attempts;
	t.submitted_at_ms = e->submitted_at_ms;
	t.started_at_ms = e->started_at_ms;
	t.ended_at_ms = e->hdr.time_us / 1000;
	t.exit_code = e->exit_code;
	t.signal = e->signal;
	t.duration_ms = e->duration_ms;
	t.cpu_s = e->cpu_s;
	t.peak_rss_bytes = e->peak_rss_bytes;
	t.error = e->error;
	return ctl_task_json(&t);
}

static int task_state_of(const char *name, enum vigil_task_state *out)
{
	int i;

	for (i = 0; name && i < VIGIL_TASK_STATE_COUNT; i++) {
		if (strcmp(vigil_task_state_name((enum vigil_task_state)i), name) == 0) {
			*out = (enum vigil_task_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int is_final(enum vigil_task_state s)
{
	return s >= VIGIL_TASK_SUCCEEDED;
}

/* ---- snapshots ---- */

struct snap {
	json_t *json;
	enum vigil_task_state state;
	int found;
};

static int snap_cb(const struct vigil_task_info *info, void *arg)
{
	struct snap *s = arg;

	s->found = 1;
	s->state = info->state;
	s->json = ctl_task_json(info);
	return 0;
}

/* The task as the core holds it: 0 (s filled), -ENOENT, -ENOSYS, -ENOMEM. */
static int task_snap(struct ctl *ctl, const char *id, struct snap *s)
{
	int rc;

	memset(s, 0, sizeof *s);
	if (!CTL_HOST_HAS(ctl->host, task_foreach))
		return -ENOSYS;
	rc = ctl->host->task_foreach(id, snap_cb, s);
	if (rc == -ENOENT || !s->found)
		return -ENOENT;
	return s->json ? 0 : -ENOMEM;
}

static int hist_cb(const struct vigil_history_row *row, void *arg)
{
	struct snap *s = arg;
	struct vigil_task_info t;

	if (!row->kind || strcmp(row->kind, "task") != 0 || !row->id)
		return 0;
	memset(&t, 0, sizeof t);
	t.size = sizeof t;
	t.id = row->id;
	t.name = row->name;
	t.type = row->type;
	t.pool = row->program;
	t.pid = row->ended_at_ms ? 0 : row->pid;
	t.priority = VIGIL_PRIO_NORMAL;
	for (int p = 0; row->priority && p < VIGIL_PRIO_COUNT; p++)
		if (strcmp(row->priority, vigil_priority_name((enum vigil_priority)p)) == 0)
			t.priority = (enum vigil_priority)p;
	t.state = VIGIL_TASK_QUEUED;
	task_state_of(row->state, &t.state);
	t.started_at_ms = row->started_at_ms;
	t.ended_at_ms = row->ended_at_ms;
	t.exit_code = row->exit_code;
	t.signal = row->signal;
	t.duration_ms = row->ended_at_ms && row->started_at_ms
	                    ? row->ended_at_ms - row->started_at_ms
	                    : 0;
	t.cpu_s = row->cpu_s;
	t.peak_rss_bytes = row->peak_rss_bytes;
	t.error = row->error;
	s->found = 1;
	s->state = t.state;
	s->json = ctl_task_json(&t);
	/* the row knows no attempts or submission time */
	if (s->json) {
		json_object_del(s->json, "attempts");
		json_object_del(s->json, "submitted_at");
	}
	return 1;
}

/* A task the core no longer holds (more than it keeps have finished since, or vigild was
 * restarted): the store may still know it. 0 or -ENOENT. */
static int task_from_history(struct ctl *ctl, const char *id, struct snap *s)
{
	struct vigil_history_query q;

	memset(s, 0, sizeof *s);
	if (!CTL_HOST_HAS(ctl->host, history_query))
		return -ENOENT;
	memset(&q, 0, sizeof q);
	q.size = sizeof q;
	q.kind = "task";
	q.name = id;
	q.limit = 50;
	ctl->host->history_query(&q, hist_cb, s);
	return s->found && s->json ? 0 : -ENOENT;
}

/* ---- replies ---- */

static void send_task(struct ctl_conn *c, json_t *task)
{
	json_object_set_new(task, "ok", json_true());
	ctl_send(c, task);
}

static int no_tasks(struct ctl_conn *c, const char *cmd)
{
	ctl_send_error(c, PROTO_FAILED, "%s: this vigild does not run tasks", cmd);
	return -ENOSYS;
}

/* One positional argument: the task id. NULL after a usage reply. */
static const char *task_id_arg(struct ctl_conn *c, const json_t *req, const char *cmd)
{
	const json_t *args = ctl_req_args(c, req, 1);
	const char *id;

	if (!args)
		return NULL;
	if (json_array_size(args) != 1) {
		ctl_send_error(c, PROTO_USAGE, "bad request: %s takes exactly one task ID", cmd);
		return NULL;
	}
	id = json_string_value(json_array_get(args, 0));
	if (!*id || strlen(id) >= ID_MAX) {
		ctl_send_error(c, PROTO_NOENT, "no such task: %.80s", id);
		return NULL;
	}
	return id;
}

/* ---- waiting ---- */

void ctl_pending_free(struct ctl_conn *c)
{
	if (!c->pend)
		return;
	if (c->pend->poll)
		c->ctl->host->timer_cancel(c->pend->poll);
	free(c->pend);
	c->pend = NULL;
}

static void pending_done(struct ctl_conn *c, json_t *reply)
{
	ctl_pending_free(c);
	ctl_send(c, reply);
	ctl_conn_idle(c);
}

void ctl_pending_abort(struct ctl_conn *c, const char *why)
{
	ctl_pending_free(c);
	ctl_send_error(c, PROTO_FAILED, "%s", why);
	c->busy = CTL_IDLE;
}

static void task_timed_out(struct ctl_conn *c)
{
	struct ctl_pending *p = c->pend;
	struct snap s;
	json_t *e;
	char d[32];

	snprintf(d, sizeof d, "%lld ms", (long long)p->timeout_ms);
	if (p->timeout_ms % 1000 == 0)
		snprintf(d, sizeof d, "%lld s", (long long)(p->timeout_ms / 1000));
	task_snap(c->ctl, p->id, &s);
	e = proto_error(PROTO_FAILED, "timed out after %s waiting for task %s (state %s)", d,
	                p->id, s.json ? vigil_task_state_name(s.state) : "unknown");
	if (e && s.json)
		json_object_set_new(e, "task", s.json);
	else
		json_decref(s.json);
	pending_done(c, e);
}

static void pending_poll_cb(void *arg)
{
	struct ctl_conn *c = arg;
	struct ctl_pending *p = c->pend;
	struct snap s;

	if (!p)
		return;
	if (p->type == VIGIL_EV_CONFIG_RELOADED) {
		/* the core took the file but published nothing: say what we know */
		p->poll = NULL; /* a one-shot timer is gone once it fired */
		pending_done(c, json_pack("{s:b}", "ok", 1));
	} else if (task_snap(c->ctl, p->id, &s) == 0 && is_final(s.state)) {
		send_task(c, s.json);
		ctl_pending_free(c);
		ctl_conn_idle(c);
	} else {
		json_decref(s.json);
		if (p->deadline_ms && c->ctl->host->now_ms() >= p->deadline_ms)
			task_timed_out(c);
	}
	ctl_conn_reap(c);
}

static int pending_start(struct ctl_conn *c, uint32_t type, const char *id, int64_t timeout_ms,
                         int64_t since_us)
{
	const struct vigil_host *h = c->ctl->host;
	struct ctl_pending *p = calloc(1, sizeof *p);

	if (!p) {
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return -ENOMEM;
	}
	p->type = type;
	snprintf(p->id, sizeof p->id, "%s", id ? id : "");
	p->since_us = since_us;
	p->timeout_ms = timeout_ms;
	p->deadline_ms = timeout_ms > 0 ? h->now_ms() + (uint64_t)timeout_ms : 0;
	/* events drive the wait; the poll is the deadline and a safety net */
	if (type == VIGIL_EV_CONFIG_RELOADED)
		p->poll = h->timer_add(c->ctl->self, CTL_RELOAD_WAIT_MS, 0, pending_poll_cb, c);
	else
		p->poll = h->timer_add(c->ctl->self, CTL_TASK_POLL_MS, CTL_TASK_POLL_MS,
		                       pending_poll_cb, c);
	if (!p->poll) {
		free(p);
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return -ENOMEM;
	}
	c->pend = p;
	c->busy = CTL_PENDING;
	return 0;
}

void ctl_pending_event(struct ctl_conn *c, const struct vigil_event *ev)
{
	struct ctl_pending *p = c->pend;
	struct snap s;

	if (!p || ev->type != p->type || ev->time_us < p->since_us)
		return;
	if (p->type == VIGIL_EV_CONFIG_RELOADED) {
		const struct vigil_ev_config_reloaded *e = (const void *)ev;

		if (ev->size < sizeof *e)
			return;
		pending_done(c, json_pack("{s:b,s:o,s:i,s:i,s:i,s:i}", "ok", 1, "config_file",
		                          vjson_string(e->config_file), "added", (int)e->added,
		                          "removed", (int)e->removed, "changed", (int)e->changed,
		                          "unchanged", (int)e->unchanged));
		return;
	}
	if (!ev->subject || strcmp(ev->subject, p->id) != 0 ||
	    ev->size < sizeof(struct vigil_ev_task_finished))
		return;
	if (task_snap(c->ctl, p->id, &s) == 0 && is_final(s.state)) {
		send_task(c, s.json);
		ctl_pending_free(c);
		ctl_conn_idle(c);
		return;
	}
	json_decref(s.json);
	/* the core let go of it already: the event says it all */
	json_t *t = finished_json((const struct vigil_ev_task_finished *)ev);

	ctl_pending_free(c);
	if (t)
		send_task(c, t);
	else
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
	ctl_conn_idle(c);
}

/* Replies now when the task has finished, else waits for it. */
static void wait_for(struct ctl_conn *c, const char *id, int64_t timeout_ms)
{
	struct snap s;
	int rc = task_snap(c->ctl, id, &s);

	if (rc == -ENOENT && task_from_history(c->ctl, id, &s) == 0) {
		if (is_final(s.state)) {
			send_task(c, s.json);
		} else {
			json_decref(s.json);
			ctl_send_error(c, PROTO_FAILED,
			               "task %s is not run by this vigild any more (it was %s when "
			               "it was last recorded)",
			               id, vigil_task_state_name(s.state));
		}
		return;
	}
	if (rc == -ENOENT) {
		ctl_send_error(c, PROTO_NOENT, "no such task: %s", id);
		return;
	}
	if (rc < 0) {
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return;
	}
	if (is_final(s.state)) {
		send_task(c, s.json);
		return;
	}
	json_decref(s.json);
	/* task.finished comes once, at the very end (not per retry): any one for id is it */
	pending_start(c, VIGIL_EV_TASK_FINISHED, id, timeout_ms, 0);
}

void ctl_cmd_wait(struct ctl_conn *c, const json_t *req)
{
	const char *id = task_id_arg(c, req, "wait");
	int64_t timeout = 0;

	if (!id || ctl_opt_int(c, req, "timeout_ms", 0, INT64_C(86400000) * 365, &timeout) != 0)
		return;
	if (!CTL_HOST_HAS(c->ctl->host, task_foreach)) {
		no_tasks(c, "wait");
		return;
	}
	wait_for(c, id, timeout);
}

void ctl_cmd_cancel(struct ctl_conn *c, const json_t *req)
{
	const struct vigil_host *h = c->ctl->host;
	const char *id = task_id_arg(c, req, "cancel");
	struct snap s;
	int wait, rc;

	if (!id || ctl_opt_bool(c, req, "wait", &wait) != 0)
		return;
	if (!CTL_HOST_HAS(h, task_cancel) || !CTL_HOST_HAS(h, task_foreach)) {
		no_tasks(c, "cancel");
		return;
	}
	rc = h->task_cancel(id);
	if (rc == -ENOENT && task_from_history(c->ctl, id, &s) == 0) {
		json_decref(s.json);
		ctl_send_error(c, PROTO_FAILED, "task %s has already finished (%s)", id,
		               vigil_task_state_name(s.state));
		return;
	}
	if (rc == -ENOENT) {
		ctl_send_error(c, PROTO_NOENT, "no such task: %s", id);
		return;
	}
	if (rc == -EALREADY) {
		const char *st = "finished";

		if (task_snap(c->ctl, id, &s) == 0)
			st = vigil_task_state_name(s.state);
		json_decref(s.json);
		ctl_send_error(c, PROTO_FAILED, "task %s has already finished (%s)", id, st);
		return;
	}
	if (rc < 0) {
		ctl_send_error(c, PROTO_FAILED, "cannot cancel task %s: %s", id, strerror(-rc));
		return;
	}
	h->log(c->ctl->self, VIGIL_LOG_INFO, "task %s cancelled by uid %u (pid %d)", id,
	       (unsigned)c->uid, (int)c->pid);
	if (wait) {
		wait_for(c, id, 0);
		return;
	}
	if (task_snap(c->ctl, id, &s) != 0) {
		ctl_send(c, json_pack("{s:b,s:s,s:s}", "ok", 1, "id", id, "state", "cancelled"));
		return;
	}
	send_task(c, s.json);
}

/* ---- run ---- */

static int opt_string(struct ctl_conn *c, const json_t *req, const char *key, const char **out)
{
	const json_t *v = json_object_get(req, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		ctl_send_error(c, PROTO_USAGE, "bad request: \"%s\" must be a string", key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* An array of strings as a NULL-terminated vector borrowing them; *out NULL when absent. */
static int opt_strv(struct ctl_conn *c, const json_t *req, const char *key, const char ***out)
{
	const json_t *v = json_object_get(req, key), *item;
	const char **vec;
	size_t i;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		ctl_send_error(c, PROTO_USAGE, "bad request: \"%s\" must be an array of strings",
		               key);
		return -EINVAL;
	}
	vec = calloc(json_array_size(v) + 1, sizeof *vec);
	if (!vec) {
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item)) {
			free(vec);
			ctl_send_error(c, PROTO_USAGE,
			               "bad request: \"%s\" must be an array of strings (item %zu "
			               "is not)",
			               key, i);
			return -EINVAL;
		}
		vec[i] = json_string_value(item);
	}
	*out = vec;
	return 0;
}

static int submit_code(int rc)
{
	switch (rc) {
	case -ENOENT:
		return PROTO_NOENT;
	case -EAGAIN:
		return PROTO_TEMPFAIL;
	case -EINVAL:
		return PROTO_USAGE;
	default:
		return PROTO_FAILED;
	}
}

void ctl_cmd_run(struct ctl_conn *c, const json_t *req)
{
	const struct vigil_host *h = c->ctl->host;
	struct vigil_task_spec spec;
	const char *prio = NULL, **argv = NULL, **env = NULL;
	char id[ID_MAX], err[512] = "";
	int64_t timeout = 0;
	int wait = 0, rc, p;
	struct snap s;

	memset(&spec, 0, sizeof spec);
	spec.size = sizeof spec;
	spec.priority = VIGIL_PRIO_NORMAL;
	if (opt_string(c, req, "pool", &spec.pool) || opt_string(c, req, "name", &spec.name) ||
	    opt_string(c, req, "type", &spec.type) || opt_string(c, req, "cwd", &spec.cwd) ||
	    opt_string(c, req, "priority", &prio) || ctl_opt_bool(c, req, "wait", &wait) ||
	    ctl_opt_int(c, req, "timeout_ms", 0, INT64_C(86400000) * 365, &timeout))
		return;
	if (prio) {
		for (p = 0; p < VIGIL_PRIO_COUNT; p++)
			if (strcmp(prio, vigil_priority_name((enum vigil_priority)p)) == 0)
				break;
		if (p == VIGIL_PRIO_COUNT) {
			ctl_send_error(c, PROTO_USAGE,
			               "bad priority '%.40s' (expected low, normal, high or critical)",
			               prio);
			return;
		}
		spec.priority = (enum vigil_priority)p;
	}
	if (opt_strv(c, req, "argv", &argv) != 0)
		return;
	if (!argv || !argv[0] || !*argv[0]) {
		free(argv);
		ctl_send_error(c, PROTO_USAGE, "bad request: run needs \"argv\": [CMD, ARG...]");
		return;
	}
	if (opt_strv(c, req, "env", &env) != 0) {
		free(argv);
		return;
	}
	if (!CTL_HOST_HAS(h, task_submit) || !CTL_HOST_HAS(h, task_foreach)) {
		free(argv);
		free(env);
		no_tasks(c, "run");
		return;
	}
	spec.argv = argv;
	spec.env = env;
	spec.timeout_ms = timeout;
	rc = h->task_submit(&spec, id, sizeof id, err, sizeof err);
	free(argv);
	free(env);
	if (rc < 0) {
		ctl_send_error(c, submit_code(rc), "%s", err[0] ? err : strerror(-rc));
		return;
	}
	h->log(c->ctl->self, VIGIL_LOG_DEBUG, "task %s submitted by uid %u (pid %d)", id,
	       (unsigned)c->uid, (int)c->pid);
	if (wait) {
		wait_for(c, id, 0);
		return;
	}
	/* the id and where the task stands now (it may even have failed to spawn already) */
	if (task_snap(c->ctl, id, &s) != 0) {
		ctl_send(c, json_pack("{s:b,s:s,s:s}", "ok", 1, "id", id, "state", "queued"));
		return;
	}
	send_task(c, s.json);
}

/* ---- reload ---- */

void ctl_cmd_reload(struct ctl_conn *c)
{
	const struct vigil_host *h = c->ctl->host;
	char err[1024] = "";
	int64_t since_us;

	if (!CTL_HOST_HAS(h, reload)) {
		ctl_send_error(c, PROTO_FAILED, "reload: not supported by this vigild");
		return;
	}
	h->log(c->ctl->self, VIGIL_LOG_INFO, "reload requested by uid %u (pid %d)",
	       (unsigned)c->uid, (int)c->pid);
	/* the counts come with config.reloaded, published (queued) during the call */
	since_us = h->wall_ms() * 1000;
	if (h->reload(err, sizeof err) != 0) {
		ctl_send_error(c, PROTO_CONFIG, "%s",
		               err[0] ? err : "the configuration was rejected; nothing changed");
		return;
	}
	pending_start(c, VIGIL_EV_CONFIG_RELOADED, NULL, 0, since_us);
}

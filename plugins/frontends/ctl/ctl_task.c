/* ctl_task.c — run, wait, cancel, reload: replies that wait, without blocking, for one event. */
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
	struct ctl_tsnap s;
	json_t *e;
	char d[32];

	snprintf(d, sizeof d, "%lld ms", (long long)p->timeout_ms);
	if (p->timeout_ms % 1000 == 0)
		snprintf(d, sizeof d, "%lld s", (long long)(p->timeout_ms / 1000));
	ctl_task_snap(c->ctl, p->id, &s);
	e = proto_error(PROTO_FAILED, "timed out after %s waiting for task %s (state %s)", d, p->id,
	                s.json ? vigil_task_state_name(s.state) : "unknown");
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
	struct ctl_tsnap s;

	if (!p)
		return;
	if (p->type == VIGIL_EV_CONFIG_RELOADED) {
		/* the core took the file but published nothing: say what we know */
		p->poll = NULL; /* a one-shot timer is gone once it fired */
		pending_done(c, json_pack("{s:b}", "ok", 1));
	} else if (ctl_task_snap(c->ctl, p->id, &s) == 0 && ctl_task_final(s.state)) {
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
	struct ctl_tsnap s;
	json_t *t;

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
	if (ctl_task_snap(c->ctl, p->id, &s) == 0 && ctl_task_final(s.state)) {
		t = s.json;
	} else {
		/* the core let go of it already: the event says it all */
		json_decref(s.json);
		t = ctl_task_finished_json((const struct vigil_ev_task_finished *)ev);
	}
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
	struct ctl_tsnap s;
	int rc = ctl_task_snap(c->ctl, id, &s);

	if (rc == -ENOENT && ctl_task_from_history(c->ctl, id, &s) == 0) {
		if (ctl_task_final(s.state)) {
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
	if (ctl_task_final(s.state)) {
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
	struct ctl_tsnap s;
	int wait, rc;

	if (!id || ctl_opt_bool(c, req, "wait", &wait) != 0)
		return;
	if (!CTL_HOST_HAS(h, task_cancel) || !CTL_HOST_HAS(h, task_foreach)) {
		no_tasks(c, "cancel");
		return;
	}
	rc = h->task_cancel(id);
	if (rc == -ENOENT && ctl_task_from_history(c->ctl, id, &s) == 0) {
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

		if (ctl_task_snap(c->ctl, id, &s) == 0)
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
	if (ctl_task_snap(c->ctl, id, &s) != 0) {
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
	struct ctl_tsnap s;

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
			ctl_send_error(
			    c, PROTO_USAGE,
			    "bad priority '%.40s' (expected low, normal, high or critical)", prio);
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
	if (ctl_task_snap(c->ctl, id, &s) != 0) {
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

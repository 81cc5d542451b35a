/* ctl_wait.c — start/stop/restart: act, then wait (without blocking) for the target states. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wait_item {
	char *name;
	int32_t orig_pid;
	enum vigil_proc_state state; /* last seen */
	int phase;        /* restart: 0 = the old run has not ended yet, 1 = waiting for the new */
	int saw_starting; /* a process.starting after the request */
	int done;
	char *error; /* why it failed; NULL when it reached the target state */
};

struct ctl_wait {
	enum vigil_proc_action act;
	struct wait_item *items;
	size_t n;
	int64_t since_us;     /* events older than the request are not about it */
	uint64_t deadline_ms; /* monotonic */
	struct vigil_timer *poll;
	json_t *targets;
};

struct snap {
	enum vigil_proc_state state;
	int32_t pid;
	int found;
};

static int snap_cb(const struct vigil_proc_info *info, void *arg)
{
	struct snap *s = arg;

	s->state = info->state;
	s->pid = info->pid;
	s->found = 1;
	return 0;
}

struct gather {
	struct wait_item *items;
	size_t n, cap;
	int failed;
};

static int gather_cb(const struct vigil_proc_info *info, void *arg)
{
	struct gather *g = arg;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->items[i].name, info->name) == 0)
			return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 8;
		struct wait_item *p = realloc(g->items, cap * sizeof *p);

		if (!p) {
			g->failed = 1;
			return 1;
		}
		g->items = p;
		g->cap = cap;
	}
	memset(&g->items[g->n], 0, sizeof g->items[g->n]);
	g->items[g->n].name = strdup(info->name);
	if (!g->items[g->n].name) {
		g->failed = 1;
		return 1;
	}
	g->items[g->n].orig_pid = info->pid;
	g->items[g->n].state = info->state;
	g->n++;
	return 0;
}

static void items_free(struct wait_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i].name);
		free(items[i].error);
	}
	free(items);
}

void ctl_wait_free(struct ctl_conn *c)
{
	struct ctl_wait *w = c->wait;

	if (!w)
		return;
	if (w->poll)
		c->ctl->host->timer_cancel(w->poll);
	items_free(w->items, w->n);
	json_decref(w->targets);
	free(w);
	c->wait = NULL;
}

static void item_fail(struct wait_item *it, const char *fmt, const char *a, const char *b)
{
	char msg[512];

	snprintf(msg, sizeof msg, fmt, a, b);
	it->error = strdup(msg);
	it->done = 1;
}

static const char *during(enum vigil_proc_action act)
{
	return act == VIGIL_ACT_RESTART ? "restarting" : "starting";
}

static void item_exited(struct ctl_wait *w, struct wait_item *it,
                        const struct vigil_ev_process_exited *e)
{
	char num[64];

	if (e->error && *e->error) {
		item_fail(it, "%s: %s", it->name, e->error);
	} else if (e->reason && strcmp(e->reason, "start-timeout") == 0) {
		item_fail(it, "%s: not ready within its start_timeout%s", it->name, "");
	} else if (e->signal > 0) {
		const char *sig = proto_signal_name(e->signal);

		snprintf(num, sizeof num, "%s%s while %s", sig ? "SIG" : "", sig ? sig : "?",
		         during(w->act));
		item_fail(it, "%s was killed by signal %s", it->name, num);
	} else if (e->exit_code >= 0) {
		snprintf(num, sizeof num, "%d while %s", e->exit_code, during(w->act));
		item_fail(it, "%s exited with code %s", it->name, num);
	} else {
		snprintf(num, sizeof num, "%s", e->reason ? e->reason : "unknown reason");
		item_fail(it, "%s ended while starting (%s)", it->name, num);
	}
}

/* Moves one instance along, from an event about it (ev) or from its current state (ev NULL). */
static void item_step(struct ctl_conn *c, struct wait_item *it, const struct vigil_event *ev)
{
	struct ctl_wait *w = c->wait;
	struct snap s = {0};
	int starting = w->act == VIGIL_ACT_START || (w->act == VIGIL_ACT_RESTART && it->phase);

	if (it->done)
		return;
	if (ev) {
		if (w->act == VIGIL_ACT_STOP) {
			if (ev->type == VIGIL_EV_PROCESS_EXITED)
				it->done = 1;
			return;
		}
		if (w->act == VIGIL_ACT_RESTART && !it->phase) {
			if (ev->type == VIGIL_EV_PROCESS_EXITED ||
			    ev->type == VIGIL_EV_PROCESS_FATAL)
				it->phase = 1;
			if (ev->type == VIGIL_EV_PROCESS_STARTING)
				it->phase = it->saw_starting = 1;
			return;
		}
		if (starting) {
			if (ev->type == VIGIL_EV_PROCESS_STARTING)
				it->saw_starting = 1;
			else if (ev->type == VIGIL_EV_PROCESS_READY)
				it->done = 1;
			else if (ev->type == VIGIL_EV_PROCESS_EXITED &&
			         ev->size >= sizeof(struct vigil_ev_process_exited))
				item_exited(w, it, (const struct vigil_ev_process_exited *)ev);
			else if (ev->type == VIGIL_EV_PROCESS_FATAL &&
			         ev->size >= sizeof(struct vigil_ev_process_fatal))
				item_fail(it, "%s: gave up: %s", it->name,
				          ((const struct vigil_ev_process_fatal *)ev)->reason
				              ? ((const struct vigil_ev_process_fatal *)ev)->reason
				              : "restart policy gave up");
		}
		return;
	}
	c->ctl->host->proc_foreach(it->name, snap_cb, &s);
	if (!s.found) {
		item_fail(it, "%s: no longer configured%s", it->name, "");
		return;
	}
	it->state = s.state;
	switch (w->act) {
	case VIGIL_ACT_STOP:
		if (s.state == VIGIL_PROC_STOPPED || s.state == VIGIL_PROC_EXITED ||
		    s.state == VIGIL_PROC_FATAL)
			it->done = 1;
		break;
	case VIGIL_ACT_START:
		if (s.state == VIGIL_PROC_RUNNING || s.state == VIGIL_PROC_ADOPTED)
			it->done = 1;
		break;
	default:
		if (!it->phase && (s.state == VIGIL_PROC_STOPPED || s.state == VIGIL_PROC_EXITED ||
		                   s.state == VIGIL_PROC_FATAL || s.state == VIGIL_PROC_BACKOFF))
			it->phase = 1;
		if (s.pid > 0 && s.pid != it->orig_pid)
			it->phase = it->saw_starting = 1;
		if (it->phase && it->saw_starting && s.state == VIGIL_PROC_RUNNING)
			it->done = 1;
		break;
	}
}

static void wait_finish(struct ctl_conn *c, int timed_out)
{
	struct ctl_wait *w = c->wait;
	json_t *arr = json_array(), *reply;
	char *msg = NULL;
	size_t len = 0, i;
	const char *missing = NULL;
	FILE *f = open_memstream(&msg, &len);

	for (i = 0; f && i < w->n; i++) {
		struct wait_item *it = &w->items[i];

		if (it->error)
			fprintf(f, "%s%s", ftell(f) ? "; " : "", it->error);
	}
	if (f && timed_out) {
		int first = 1;

		for (i = 0; i < w->n; i++) {
			if (w->items[i].done)
				continue;
			if (first)
				fprintf(f, "%stimed out waiting for ", ftell(f) ? "; " : "");
			fprintf(f, "%s%s (state %s)", first ? "" : ", ", w->items[i].name,
			        vigil_proc_state_name(w->items[i].state));
			first = 0;
		}
	}
	if (f)
		fclose(f);
	ctl_collect_status(c->ctl, w->targets, arr, &missing);
	if (msg && *msg) {
		reply = proto_error(PROTO_FAILED, "%s", msg);
		if (reply)
			json_object_set_new(reply, "processes", arr);
		else
			json_decref(arr);
	} else {
		reply = json_pack("{s:b,s:o}", "ok", 1, "processes", arr);
	}
	free(msg);
	ctl_wait_free(c);
	ctl_send(c, reply);
	ctl_conn_idle(c);
}

static int all_done(const struct ctl_wait *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!w->items[i].done)
			return 0;
	return 1;
}

static void wait_poll_cb(void *arg)
{
	struct ctl_conn *c = arg;
	struct ctl_wait *w = c->wait;
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n; i++)
		item_step(c, &w->items[i], NULL);
	if (all_done(w))
		wait_finish(c, 0);
	else if (c->ctl->host->now_ms() >= w->deadline_ms)
		wait_finish(c, 1);
	ctl_conn_reap(c);
}

void ctl_wait_event(struct ctl_conn *c, const struct vigil_event *ev)
{
	struct ctl_wait *w = c->wait;
	size_t i;

	if (!w || !ev->subject || ev->time_us < w->since_us)
		return;
	for (i = 0; i < w->n; i++) {
		if (strcmp(w->items[i].name, ev->subject) == 0) {
			item_step(c, &w->items[i], ev);
			item_step(c, &w->items[i], NULL);
		}
	}
	if (all_done(w))
		wait_finish(c, 0);
}

void ctl_wait_abort(struct ctl_conn *c, const char *why)
{
	ctl_wait_free(c);
	ctl_send_error(c, PROTO_FAILED, "%s", why);
	c->busy = CTL_IDLE;
}

void ctl_cmd_control(struct ctl_conn *c, const char *cmd, const json_t *req)
{
	const struct vigil_host *h = c->ctl->host;
	const json_t *args = ctl_req_args(c, req, 1);
	struct gather g = {0};
	struct ctl_wait *w;
	enum vigil_proc_action act;
	int64_t timeout = CTL_DEFAULT_TIMEOUT_MS;
	int no_wait;
	size_t i;

	act = strcmp(cmd, "start") == 0  ? VIGIL_ACT_START
	      : strcmp(cmd, "stop") == 0 ? VIGIL_ACT_STOP
	                                 : VIGIL_ACT_RESTART;
	if (!args || ctl_opt_bool(c, req, "no_wait", &no_wait) != 0 ||
	    ctl_opt_int(c, req, "timeout_ms", 1, INT64_C(86400000) * 365, &timeout) != 0 ||
	    ctl_check_targets(c, args, 0) != 0)
		return;
	for (i = 0; i < json_array_size(args) && !g.failed; i++)
		h->proc_foreach(json_string_value(json_array_get(args, i)), gather_cb, &g);
	w = calloc(1, sizeof *w);
	if (g.failed || !w) {
		items_free(g.items, g.n);
		free(w);
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return;
	}
	w->act = act;
	w->items = g.items;
	w->n = g.n;
	w->targets = json_deep_copy(args);
	w->since_us = h->wall_ms() * 1000;
	w->deadline_ms = h->now_ms() + (uint64_t)timeout;
	for (i = 0; i < json_array_size(args); i++) {
		const char *t = json_string_value(json_array_get(args, i));
		int rc = h->proc_control(t, act, 0);

		if (rc < 0 && rc != -ENOENT) {
			ctl_send_error(c, PROTO_FAILED, "cannot %s %s: %s", cmd, t, strerror(-rc));
			items_free(w->items, w->n);
			json_decref(w->targets);
			free(w);
			return;
		}
	}
	c->wait = w;
	for (i = 0; i < w->n; i++) {
		struct wait_item *it = &w->items[i];

		/* restarting something that does not run is starting it */
		if (act == VIGIL_ACT_RESTART && it->state != VIGIL_PROC_STARTING &&
		    it->state != VIGIL_PROC_RUNNING && it->state != VIGIL_PROC_STOPPING &&
		    it->state != VIGIL_PROC_ADOPTED)
			it->phase = 1;
		item_step(c, it, NULL);
		if (no_wait)
			it->done = 1;
	}
	c->busy = CTL_WAITING;
	if (all_done(w)) {
		wait_finish(c, 0);
		return;
	}
	/* events drive the wait; the poll is a safety net for changes that publish nothing */
	w->poll = h->timer_add(c->ctl->self, CTL_WAIT_POLL_MS, CTL_WAIT_POLL_MS, wait_poll_cb, c);
	if (!w->poll) {
		ctl_wait_abort(c, "out of memory");
		return;
	}
}

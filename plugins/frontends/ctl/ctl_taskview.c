/* ctl_taskview.c — what the ctl plugin says about a task: JSON views, snapshots, the history. */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/vjson.h"

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
	json_object_set_new(o, "cpu_s",
	                    t->cpu_s >= 0 && t->started_at_ms ? json_real(t->cpu_s) : json_null());
	json_object_set_new(o, "peak_rss_bytes",
	                    t->started_at_ms ? known_int(t->peak_rss_bytes) : json_null());
	json_object_set_new(o, "attempts", json_integer(t->attempt));
	json_object_set_new(o, "submitted_at", ctl_time_json(t->submitted_at_ms));
	json_object_set_new(o, "started_at", ctl_time_json(t->started_at_ms));
	json_object_set_new(o, "ended_at", ctl_time_json(t->ended_at_ms));
	json_object_set_new(o, "timeout_ms",
	                    t->timeout_ms > 0 ? json_integer(t->timeout_ms) : json_null());
	if (t->state == VIGIL_TASK_QUEUED)
		json_object_set_new(o, "queue_position", json_integer(t->queue_position));
	json_object_set_new(o, "command", vjson_string(t->command));
	json_object_set_new(o, "start_error", vjson_string(t->error));
	return o;
}

/* The same view from task.finished, for a task the core no longer holds. */
json_t *ctl_task_finished_json(const struct vigil_ev_task_finished *e)
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

int ctl_task_final(enum vigil_task_state s)
{
	return s >= VIGIL_TASK_SUCCEEDED;
}

/* ---- snapshots ---- */

static int tsnap_cb(const struct vigil_task_info *info, void *arg)
{
	struct ctl_tsnap *s = arg;

	s->found = 1;
	s->state = info->state;
	s->json = ctl_task_json(info);
	return 0;
}

/* The task as the core holds it: 0 (s filled), -ENOENT, -ENOSYS, -ENOMEM. */
int ctl_task_snap(struct ctl *ctl, const char *id, struct ctl_tsnap *s)
{
	int rc;

	memset(s, 0, sizeof *s);
	if (!CTL_HOST_HAS(ctl->host, task_foreach))
		return -ENOSYS;
	rc = ctl->host->task_foreach(id, tsnap_cb, s);
	if (rc == -ENOENT || !s->found)
		return -ENOENT;
	return s->json ? 0 : -ENOMEM;
}

static int thist_cb(const struct vigil_history_row *row, void *arg)
{
	struct ctl_tsnap *s = arg;
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
	t.duration_ms =
	    row->ended_at_ms && row->started_at_ms ? row->ended_at_ms - row->started_at_ms : 0;
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
int ctl_task_from_history(struct ctl *ctl, const char *id, struct ctl_tsnap *s)
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
	ctl->host->history_query(&q, thist_cb, s);
	return s->found && s->json ? 0 : -ENOENT;
}

/* ctl_ps.c — ps (live programs and tasks, plus the store's history) and stats. */
#include "ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/vjson.h"

/* A program run and its live instance are the same run when they started this close. */
#define SAME_RUN_MS 2000

static const char *const known_states[] = {
    /* programs */
    "stopped", "starting", "running", "stopping", "exited", "backoff", "fatal", "adopted",
    "unknown",
    /* tasks */
    "queued", "succeeded", "failed", "timeout", "killed", "cancelled",
    /* how a recorded run ended */
    "spawn-failed", "start-timeout", "lost", NULL};

static const char *const health_levels[] = {"healthy", "degraded", "unhealthy", "critical", NULL};

struct filter {
	const char *kind, *name, *state, *health, *type, *priority, *tag;
	int64_t since_ms, until_ms; /* 0 = none */
	int history;                /* 1 asked for, 2 implied by since/until */
	uint32_t limit;
};

/* What the filter looks at, from any of the three sources. */
struct view {
	const char *kind, *name, *program, *id, *state, *type, *priority;
	const char *const *tagv;  /* live programs */
	const char *tags;         /* history: comma-separated */
	int32_t health;           /* -1 = not scored */
	int64_t start_ms, end_ms; /* 0 = never started / still open */
	int open;
};

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

static const char *health_level(int32_t score)
{
	return score >= 70   ? "healthy"
	       : score >= 40 ? "degraded"
	       : score >= 20 ? "unhealthy"
	                     : "critical";
}

static int has_tag(const struct view *v, const char *tag)
{
	size_t n = strlen(tag);
	const char *p;

	for (const char *const *t = v->tagv; t && *t; t++)
		if (strcmp(*t, tag) == 0)
			return 1;
	for (p = v->tags; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && *p == ' ')
			p++, len--;
		if (len == n && strncmp(p, tag, n) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int matches(const struct filter *f, const struct view *v)
{
	if (f->kind && strcmp(f->kind, v->kind) != 0)
		return 0;
	if (f->name &&
	    !((v->name && strcmp(f->name, v->name) == 0) ||
	      (v->program && strcmp(v->kind, "program") == 0 && strcmp(f->name, v->program) == 0) ||
	      (v->id && strcmp(f->name, v->id) == 0)))
		return 0;
	if (f->state && (!v->state || strcmp(f->state, v->state) != 0))
		return 0;
	if (f->health && (v->health < 0 || strcmp(f->health, health_level(v->health)) != 0))
		return 0;
	if (f->type && (!v->type || strcmp(f->type, v->type) != 0))
		return 0;
	if (f->priority && (!v->priority || strcmp(f->priority, v->priority) != 0))
		return 0;
	if (f->tag && !has_tag(v, f->tag))
		return 0;
	/* a run matches a window it overlaps; what never ran overlaps none */
	if ((f->since_ms || f->until_ms) && !v->start_ms)
		return 0;
	if (f->since_ms && !v->open && v->end_ms < f->since_ms)
		return 0;
	if (f->until_ms && v->start_ms >= f->until_ms)
		return 0;
	return 1;
}

static json_t *entry_json(const struct view *v)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "kind", json_string(v->kind));
	json_object_set_new(o, "name", vjson_string(v->name));
	json_object_set_new(o, "id", vjson_string(v->id));
	json_object_set_new(o, "state", vjson_string(v->state));
	json_object_set_new(o, "type", vjson_string(v->type));
	json_object_set_new(o, "priority", vjson_string(v->priority));
	json_object_set_new(o, "started_at", ctl_time_json(v->start_ms));
	json_object_set_new(o, "ended_at", ctl_time_json(v->open ? 0 : v->end_ms));
	json_object_set_new(o, "health", v->health >= 0 ? json_integer(v->health) : json_null());
	return o;
}

/* ---- collecting ---- */

struct live_prog {
	json_t *entry; /* borrowed from the reply */
	char *name;
	int32_t pid;
	int64_t start_ms;
	int merged;
};

struct ps {
	struct ctl *ctl;
	const struct filter *f;
	json_t *entries;
	json_t *task_ids; /* every task the core holds: its view wins over the store's */
	struct live_prog *progs;
	size_t nprogs, cap;
	int failed;
};

static void add_entry(struct ps *ps, json_t *o)
{
	if (!o || json_array_append_new(ps->entries, o) != 0)
		ps->failed = 1;
}

static int live_prog_cb(const struct vigil_proc_info *info, void *arg)
{
	struct ps *ps = arg;
	struct view v = {.kind = "program", .health = info->health};
	int open = info->state == VIGIL_PROC_STARTING || info->state == VIGIL_PROC_RUNNING ||
	           info->state == VIGIL_PROC_STOPPING || info->state == VIGIL_PROC_ADOPTED;
	json_t *o, *tags;

	v.name = info->name;
	v.program = info->program;
	v.state = vigil_proc_state_name(info->state);
	v.priority = vigil_priority_name(info->priority);
	v.tagv = info->tags;
	v.start_ms = info->started_at_ms;
	v.open = open && info->started_at_ms;
	v.end_ms = !open && info->started_at_ms ? info->state_since_ms : 0;
	if (!matches(ps->f, &v))
		return 0;
	o = entry_json(&v);
	if (!o) {
		ps->failed = 1;
		return 1;
	}
	json_object_set_new(o, "program", vjson_string(info->program));
	json_object_set_new(o, "pid", info->pid > 0 ? json_integer(info->pid) : json_null());
	json_object_set_new(o, "exit_code",
	                    info->exit_code >= 0 && info->exit_signal <= 0
	                        ? json_integer(info->exit_code)
	                        : json_null());
	json_object_set_new(o, "signal",
	                    info->exit_signal > 0 ? json_integer(info->exit_signal) : json_null());
	json_object_set_new(o, "reason", vjson_string(info->last_reason));
	tags = json_array();
	for (const char *const *t = info->tags; t && *t && tags; t++)
		json_array_append_new(tags, vjson_string(*t));
	json_object_set_new(o, "tags", tags ? tags : json_null());
	json_object_set_new(o, "live", json_true());
	add_entry(ps, o);
	if (ps->failed)
		return 1;
	if (ps->nprogs == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 16;
		struct live_prog *p = realloc(ps->progs, cap * sizeof *p);

		if (!p) {
			ps->failed = 1;
			return 1;
		}
		ps->progs = p;
		ps->cap = cap;
	}
	ps->progs[ps->nprogs] = (struct live_prog){.entry = o,
	                                           .name = strdup(info->name),
	                                           .pid = info->pid,
	                                           .start_ms = info->started_at_ms};
	if (!ps->progs[ps->nprogs].name)
		ps->failed = 1;
	ps->nprogs++;
	return 0;
}

static int live_task_cb(const struct vigil_task_info *t, void *arg)
{
	struct ps *ps = arg;
	struct view v = {.kind = "task", .health = -1};
	json_t *o;

	json_object_set_new(ps->task_ids, t->id, json_true());
	v.name = t->name;
	v.program = t->pool;
	v.id = t->id;
	v.state = vigil_task_state_name(t->state);
	v.type = t->type;
	v.priority = vigil_priority_name(t->priority);
	/* one that never ran is placed in time by its submission, as the store does */
	v.start_ms = t->started_at_ms ? t->started_at_ms : t->submitted_at_ms;
	v.end_ms = t->ended_at_ms;
	v.open = t->ended_at_ms == 0;
	if (!matches(ps->f, &v))
		return 0;
	o = ctl_task_json(t);
	if (!o) {
		ps->failed = 1;
		return 1;
	}
	json_object_set_new(o, "kind", json_string("task"));
	json_object_set_new(o, "health", json_null());
	json_object_set_new(o, "live", json_true());
	add_entry(ps, o);
	return ps->failed;
}

static int64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/* A recorded run of a listed live instance: that instance's line tells it better. */
static int merge_run(struct ps *ps, const struct vigil_history_row *row)
{
	for (size_t i = 0; i < ps->nprogs; i++) {
		struct live_prog *p = &ps->progs[i];

		if (p->merged || strcmp(p->name, row->name) != 0)
			continue;
		if (!((p->pid > 0 && p->pid == row->pid) ||
		      (p->start_ms && absdiff(p->start_ms, row->started_at_ms) <= SAME_RUN_MS)))
			continue;
		p->merged = 1;
		if (row->id)
			json_object_set_new(p->entry, "id", vjson_string(row->id));
		return 1;
	}
	return 0;
}

static int ps_hist_cb(const struct vigil_history_row *row, void *arg)
{
	struct ps *ps = arg;
	int task = row->kind && strcmp(row->kind, "task") == 0;
	struct view v = {.kind = task ? "task" : "program", .health = -1};
	json_t *o;

	if (task && row->id && json_object_get(ps->task_ids, row->id))
		return 0;
	v.name = row->name;
	v.program = row->program;
	v.id = row->id;
	v.state = row->state;
	v.type = row->type;
	v.priority = row->priority;
	v.tags = row->tags;
	v.start_ms = row->started_at_ms;
	v.end_ms = row->ended_at_ms;
	v.open = row->ended_at_ms == 0;
	if (!matches(ps->f, &v))
		return 0;
	if (!task && row->name && merge_run(ps, row))
		return 0;
	o = entry_json(&v);
	if (!o) {
		ps->failed = 1;
		return 1;
	}
	json_object_set_new(o, task ? "pool" : "program", vjson_string(row->program));
	json_object_set_new(o, "pid", row->pid > 0 ? json_integer(row->pid) : json_null());
	json_object_set_new(o, "exit_code",
	                    row->exit_code >= 0 && row->signal <= 0 ? json_integer(row->exit_code)
	                                                            : json_null());
	json_object_set_new(o, "signal", row->signal > 0 ? json_integer(row->signal) : json_null());
	if (!task)
		json_object_set_new(o, "reason", vjson_string(row->reason));
	json_object_set_new(o, "start_error", vjson_string(row->error));
	json_object_set_new(o, "cpu_s", row->cpu_s >= 0 ? json_real(row->cpu_s) : json_null());
	json_object_set_new(o, "peak_rss_bytes",
	                    row->peak_rss_bytes >= 0 ? json_integer(row->peak_rss_bytes)
	                                             : json_null());
	if (!task && row->tags) {
		json_t *tags = json_array();
		char *copy = strdup(row->tags), *save = NULL, *tok;

		for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && tags;
		     tok = strtok_r(NULL, ",", &save))
			json_array_append_new(tags, vjson_string(tok + strspn(tok, " ")));
		free(copy);
		json_object_set_new(o, "tags", tags ? tags : json_null());
	}
	json_object_set_new(o, "live", json_false());
	add_entry(ps, o);
	return ps->failed;
}

/* ---- the request ---- */

static int opt_str(struct ctl_conn *c, const json_t *req, const char *key, const char **out)
{
	const json_t *v = json_object_get(req, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		ctl_send_error(c, PROTO_USAGE, "bad request: \"%s\" must be a non-empty string",
		               key);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int opt_choice(struct ctl_conn *c, const json_t *req, const char *key,
                      const char *const *choices, const char *expected, const char **out)
{
	if (opt_str(c, req, key, out) != 0)
		return -EINVAL;
	if (*out && !in_list(*out, choices)) {
		ctl_send_error(c, PROTO_USAGE, "bad %s '%.40s' (expected %s)", key, *out, expected);
		return -EINVAL;
	}
	return 0;
}

static int opt_when(struct ctl_conn *c, const json_t *req, const char *key, int64_t *out)
{
	const json_t *v = json_object_get(req, key);
	char err[256];

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (ctl_parse_when(v, c->ctl->host->wall_ms(), out, err, sizeof err) != 0) {
		ctl_send_error(c, PROTO_USAGE, "bad %s: %s", key, err);
		return -EINVAL;
	}
	if (*out == 0)
		*out = 1; /* "since the epoch" is still a window */
	return 0;
}

static int ps_parse_filter(struct ctl_conn *c, const json_t *req, struct filter *f)
{
	static const char *const kinds[] = {"program", "task", NULL};
	static const char *const prios[] = {"low", "normal", "high", "critical", NULL};
	const json_t *args = ctl_req_args(c, req, 0);
	int64_t limit = 0;
	int history;

	memset(f, 0, sizeof *f);
	if (!args)
		return -EINVAL;
	if (json_array_size(args) > 1) {
		ctl_send_error(c, PROTO_USAGE, "bad request: ps takes at most one NAME");
		return -EINVAL;
	}
	f->name = json_string_value(json_array_get(args, 0));
	if (opt_choice(c, req, "kind", kinds, "program or task", &f->kind) ||
	    opt_choice(c, req, "state", known_states,
	               "a process state, a task state or how a run ended: stopped, starting, "
	               "running, stopping, exited, backoff, fatal, adopted, queued, succeeded, "
	               "failed, timeout, killed, cancelled, spawn-failed, start-timeout, lost",
	               &f->state) ||
	    opt_choice(c, req, "health", health_levels, "healthy, degraded, unhealthy or critical",
	               &f->health) ||
	    opt_choice(c, req, "priority", prios, "low, normal, high or critical", &f->priority) ||
	    opt_str(c, req, "type", &f->type) || opt_str(c, req, "tag", &f->tag) ||
	    opt_when(c, req, "since", &f->since_ms) || opt_when(c, req, "until", &f->until_ms) ||
	    ctl_opt_bool(c, req, "history", &history) ||
	    ctl_opt_int(c, req, "limit", 0, 1000000, &limit))
		return -EINVAL;
	f->limit = (uint32_t)limit;
	f->history = history ? 1 : f->since_ms || f->until_ms ? 2 : 0;
	return 0;
}

void ctl_cmd_ps(struct ctl_conn *c, const json_t *req)
{
	const struct vigil_host *h = c->ctl->host;
	struct filter f;
	struct ps ps = {.ctl = c->ctl, .f = &f};
	json_t *reply;
	const char *warning = NULL;
	int rc = 0;

	if (ps_parse_filter(c, req, &f) != 0)
		return;
	ps.entries = json_array();
	ps.task_ids = json_object();
	if (!ps.entries || !ps.task_ids)
		ps.failed = 1;
	/* live first: programs in configuration order, then tasks in submission order */
	if (!ps.failed && (!f.kind || strcmp(f.kind, "program") == 0))
		h->proc_foreach(NULL, live_prog_cb, &ps);
	if (!ps.failed && CTL_HOST_HAS(h, task_foreach))
		h->task_foreach(NULL, live_task_cb, &ps);
	/* then what only the store remembers, newest first; health is never recorded there */
	if (!ps.failed && f.history && !f.health) {
		struct vigil_history_query q;

		memset(&q, 0, sizeof q);
		q.size = sizeof q;
		q.kind = f.kind;
		q.name = f.name;
		q.state = f.state;
		q.type = f.type;
		q.priority = f.priority;
		q.tag = f.tag;
		q.since_ms = f.since_ms;
		q.until_ms = f.until_ms;
		q.limit = f.limit;
		rc = CTL_HOST_HAS(h, history_query) ? h->history_query(&q, ps_hist_cb, &ps)
		                                    : -ENOSYS;
		if (rc > 0)
			rc = 0;
	}
	for (size_t i = 0; i < ps.nprogs; i++)
		free(ps.progs[i].name);
	free(ps.progs);
	json_decref(ps.task_ids);
	if (ps.failed) {
		json_decref(ps.entries);
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return;
	}
	if (rc < 0 && f.history == 1) {
		json_decref(ps.entries);
		if (rc == -ENOSYS)
			ctl_send_error(
			    c, PROTO_FAILED,
			    "history is not available: the store of this vigild does not "
			    "answer queries");
		else
			ctl_send_error(c, PROTO_FAILED, "cannot read the history: %s",
			               strerror(-rc));
		return;
	}
	if (rc < 0)
		warning = rc == -ENOSYS ? "history is not available (the store does not answer "
		                          "queries): only live entries are listed"
		                        : "cannot read the history: only live entries are listed";
	reply = json_pack("{s:b,s:o,s:b}", "ok", 1, "entries", ps.entries, "history",
	                  f.history && !f.health && rc == 0);
	if (reply && warning)
		json_object_set_new(reply, "warning", json_string(warning));
	ctl_send(c, reply);
}

/* ---- stats ---- */

static int stats_cb(const struct vigil_stats_row *r, void *arg)
{
	json_t *o = json_object();

	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "key", vjson_string(r->key));
	json_object_set_new(o, "runs", json_integer((json_int_t)r->runs));
	json_object_set_new(o, "successes", json_integer((json_int_t)r->successes));
	json_object_set_new(o, "failures", json_integer((json_int_t)r->failures));
	json_object_set_new(o, "timeouts", json_integer((json_int_t)r->timeouts));
	json_object_set_new(o, "success_rate", json_real(r->success_rate));
	json_object_set_new(o, "p50_ms", r->runs ? json_integer(r->p50_ms) : json_null());
	json_object_set_new(o, "p95_ms", r->runs ? json_integer(r->p95_ms) : json_null());
	json_object_set_new(o, "max_ms", r->runs ? json_integer(r->max_ms) : json_null());
	json_object_set_new(o, "cpu_s", r->cpu_s >= 0 ? json_real(r->cpu_s) : json_null());
	json_object_set_new(o, "peak_rss_bytes",
	                    r->peak_rss_bytes >= 0 ? json_integer(r->peak_rss_bytes) : json_null());
	return json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

void ctl_cmd_stats(struct ctl_conn *c, const json_t *req)
{
	static const char *const bys[] = {"type", "program", "pool", NULL};
	const struct vigil_host *h = c->ctl->host;
	struct vigil_stats_query q;
	const char *by = NULL;
	json_t *rows;
	int64_t since = 0;
	int rc;

	if (!ctl_req_args(c, req, 0) ||
	    opt_choice(c, req, "by", bys, "type, program or pool", &by) ||
	    opt_when(c, req, "since", &since))
		return;
	if (!CTL_HOST_HAS(h, stats_query)) {
		ctl_send_error(c, PROTO_FAILED,
		               "statistics are not available: this vigild cannot "
		               "compute them");
		return;
	}
	memset(&q, 0, sizeof q);
	q.size = sizeof q;
	q.by = by ? by : "type";
	q.since_ms = since;
	rows = json_array();
	if (!rows) {
		ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		return;
	}
	rc = h->stats_query(&q, stats_cb, rows);
	if (rc < 0) {
		json_decref(rows);
		if (rc == -ENOSYS)
			ctl_send_error(
			    c, PROTO_FAILED,
			    "statistics are not available: the store of this vigild does "
			    "not answer queries");
		else if (rc == -EINVAL)
			ctl_send_error(c, PROTO_USAGE,
			               "bad by '%s' (expected type, program or pool)", q.by);
		else if (rc == -ENOMEM)
			ctl_send_error(c, PROTO_TEMPFAIL, "out of memory");
		else
			ctl_send_error(c, PROTO_FAILED, "cannot compute statistics: %s",
			               strerror(-rc));
		return;
	}
	ctl_send(c, json_pack("{s:b,s:s,s:o,s:o}", "ok", 1, "by", q.by, "since",
	                      ctl_time_json(since), "stats", rows));
}

/* report_collect.c — the report's snapshot: collected through the host table into the model. */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A host table field exists when the core's table is long enough to hold it (and it is set):
 * tasks, history, stats and health were appended late, and a fake host may leave them NULL. */
#define REP_HAS(h, f)                                                                              \
	((h)->size >= offsetof(struct vigil_host, f) + sizeof((h)->f) && (h)->f != NULL)

/* ---------------------------------- collecting ---------------------------------- */

/* An open-addressing map of names (copied) to two indexes. It holds the task ids listed (each
 * task once), and where each instance went in the model, by the name the core gave it: raw,
 * since two names may clean to the same text; indexes, since the arrays grow during the walk. */
struct rep_slot {
	char *name;
	size_t prog, inst;
};

struct rep_map {
	struct rep_slot *slots;
	size_t cap, n;
};

struct rep_ctx {
	const struct vigil_host *host;
	const struct report_options *opt;
	struct report *r;
	int err; /* first failure (-ENOMEM) */
	size_t tasks_cap, programs_cap;
	uint32_t max_tasks;
	struct rep_map ids;    /* the task ids listed */
	struct rep_map inst;   /* the instances, by the core's name */
	uint64_t history_rows; /* rows the store handed over */
};

/* Cleans src into *dst; NULL stays NULL. Records ENOMEM in the context. */
static void rep_dup(struct rep_ctx *c, char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return;
	*dst = report_text_clean(src);
	if (!*dst)
		c->err = -ENOMEM;
}

static void *rep_grow(struct rep_ctx *c, void *arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	p = realloc(arr, ncap * elem);
	if (!p) {
		c->err = -ENOMEM;
		return NULL;
	}
	memset((char *)p + *cap * elem, 0, (ncap - *cap) * elem);
	*cap = ncap;
	return p;
}

static int rep_plugin_cb(const struct vigil_plugin_info *info, void *arg)
{
	static const char *const kinds[] = {"monitor", "policy", "store", "frontend"};
	struct rep_ctx *c = arg;
	struct report *r = c->r;
	struct report_plugin *p, *arr;
	size_t i;

	for (i = 0; i < 4; i++)
		if (info->kind && strcmp(info->kind, kinds[i]) == 0)
			break;
	if (i == 4)
		return 0; /* a kind this version cannot describe */
	arr = realloc(r->plugins, (r->nplugins + 1) * sizeof *arr);
	if (!arr) {
		c->err = -ENOMEM;
		return 1;
	}
	r->plugins = arr;
	p = &arr[r->nplugins++];
	memset(p, 0, sizeof *p);
	rep_dup(c, &p->kind, kinds[i]);
	rep_dup(c, &p->plugin, info->plugin ? info->plugin : "");
	rep_dup(c, &p->instance,
	        info->instance ? info->instance
	        : info->plugin ? info->plugin
	                       : "");
	rep_dup(c, &p->section, info->section);
	rep_dup(c, &p->version, info->version);
	rep_dup(c, &p->description, info->description);
	rep_dup(c, &p->file, info->file);
	p->abi_major = info->abi_major;
	p->abi_minor = info->abi_minor;
	return c->err ? 1 : 0;
}

static struct report_program *rep_program(struct rep_ctx *c, const struct vigil_proc_info *info)
{
	struct report *r = c->r;
	const char *name = info->program ? info->program : info->name ? info->name : "";
	struct report_program *p;
	char *clean = report_text_clean(name);
	size_t i;

	if (!clean) {
		c->err = -ENOMEM;
		return NULL;
	}
	/* instances of a program come one after the other: look at the last one first */
	for (i = r->nprograms; i-- > 0;) {
		if (strcmp(r->programs[i].name, clean) == 0) {
			free(clean);
			return &r->programs[i];
		}
	}
	p = rep_grow(c, r->programs, &c->programs_cap, r->nprograms + 1, sizeof *p);
	if (!p) {
		free(clean);
		return NULL;
	}
	r->programs = p;
	p = &r->programs[r->nprograms++];
	p->name = clean;
	rep_dup(c, &p->command, info->command);
	p->priority =
	    (unsigned)info->priority < VIGIL_PRIO_COUNT ? info->priority : VIGIL_PRIO_NORMAL;
	for (const char *const *t = info->tags; t && *t; t++) {
		char **tags = realloc(p->tags, (p->ntags + 1) * sizeof *tags);

		if (!tags) {
			c->err = -ENOMEM;
			break;
		}
		p->tags = tags;
		rep_dup(c, &tags[p->ntags++], *t);
	}
	p->limit_memory = info->limit_memory > 0 ? info->limit_memory : 0;
	p->limit_cpu = info->limit_cpu > 0 ? info->limit_cpu : 0;
	p->limit_runtime_ms = info->limit_runtime_ms > 0 ? info->limit_runtime_ms : 0;
	p->limit_nofile = info->limit_nofile > 0 ? info->limit_nofile : 0;
	p->limit_nproc = info->limit_nproc > 0 ? info->limit_nproc : 0;
	return p;
}

static size_t rep_id_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 ^ (unsigned char)*s++;
	return h;
}

static struct rep_slot *rep_map_get(const struct rep_map *m, const char *name)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = rep_id_hash(name) & (m->cap - 1); m->slots[i].name; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->slots[i].name, name) == 0)
			return &m->slots[i];
	return NULL;
}

/* 1 when name is there already (it keeps its indexes), 0 when added, -ENOMEM. */
static int rep_map_put(struct rep_map *m, const char *name, size_t prog, size_t inst)
{
	size_t i;

	if (m->n * 2 >= m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 64;
		struct rep_slot *n = calloc(ncap, sizeof *n);

		if (!n)
			return -ENOMEM;
		for (i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->slots[i].name)
				continue;
			for (j = rep_id_hash(m->slots[i].name) & (ncap - 1); n[j].name;
			     j = (j + 1) & (ncap - 1))
				;
			n[j] = m->slots[i];
		}
		free(m->slots);
		m->slots = n;
		m->cap = ncap;
	}
	for (i = rep_id_hash(name) & (m->cap - 1); m->slots[i].name; i = (i + 1) & (m->cap - 1))
		if (strcmp(m->slots[i].name, name) == 0)
			return 1;
	m->slots[i] = (struct rep_slot){.name = strdup(name), .prog = prog, .inst = inst};
	if (!m->slots[i].name)
		return -ENOMEM;
	m->n++;
	return 0;
}

static void rep_map_free(struct rep_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].name);
	free(m->slots);
}

static int rep_proc_cb(const struct vigil_proc_info *info, void *arg)
{
	struct rep_ctx *c = arg;
	struct report_program *p = rep_program(c, info);
	struct report_instance *in, *arr;

	if (!p)
		return 1;
	arr = realloc(p->inst, (p->ninst + 1) * sizeof *arr);
	if (!arr) {
		c->err = -ENOMEM;
		return 1;
	}
	p->inst = arr;
	in = &arr[p->ninst++];
	memset(in, 0, sizeof *in);
	rep_dup(c, &in->name, info->name ? info->name : p->name);
	in->index = info->instance;
	in->state =
	    (unsigned)info->state < VIGIL_PROC_STATE_COUNT ? info->state : VIGIL_PROC_UNKNOWN;
	in->state_since_ms = info->state_since_ms;
	in->pid = info->pid > 0 ? info->pid : 0;
	in->started_ms = info->started_at_ms;
	in->restarts = info->restarts;
	in->exit_code = info->exit_code;
	in->exit_signal = info->exit_signal > 0 ? info->exit_signal : 0;
	rep_dup(c, &in->last_reason, info->last_reason);
	in->cpu_pct = info->cpu_pct;
	in->rss_bytes = info->rss_bytes;
	/* the score the core's health record holds replaces this one (they come from the same
	 * health.changed); this one stays for a core without health records */
	in->health = info->health >= 0 && info->health <= 100 ? info->health : -1;
	rep_dup(c, &in->stdout_log, info->stdout_log);
	rep_dup(c, &in->stderr_log, info->stderr_log);
	if (info->name && !c->err) {
		int rc =
		    rep_map_put(&c->inst, info->name, (size_t)(p - c->r->programs), p->ninst - 1);

		if (rc < 0)
			c->err = rc;
	}
	return c->err ? 1 : 0;
}

static int rep_health_cb(const struct vigil_health_info *h, void *arg)
{
	struct rep_ctx *c = arg;
	const struct rep_slot *at = h->name ? rep_map_get(&c->inst, h->name) : NULL;
	struct report_instance *in;
	int rc;

	/* an instance that appeared after the process walk is not in this snapshot */
	if (!at)
		return 0;
	in = &c->r->programs[at->prog].inst[at->inst];
	if (in->health_known)
		return 0;
	rc = report_health_apply(in, h);
	if (rc < 0) {
		c->err = rc;
		return 1;
	}
	return 0;
}

/* The state of a history row: task state names as they are; a program-style ending mapped. */
static enum vigil_task_state rep_row_state(const struct vigil_history_row *row)
{
	int i;

	for (i = 0; row->state && i < VIGIL_TASK_STATE_COUNT; i++)
		if (strcmp(row->state, vigil_task_state_name((enum vigil_task_state)i)) == 0)
			return (enum vigil_task_state)i;
	if (row->ended_at_ms <= 0)
		return row->state ? VIGIL_TASK_RUNNING : VIGIL_TASK_STATE_COUNT;
	if (row->signal > 0)
		return VIGIL_TASK_KILLED;
	if (row->exit_code == 0)
		return VIGIL_TASK_SUCCEEDED;
	return VIGIL_TASK_FAILED;
}

static int rep_priority(const char *s)
{
	for (int i = 0; s && i < VIGIL_PRIO_COUNT; i++)
		if (strcmp(s, vigil_priority_name((enum vigil_priority)i)) == 0)
			return i;
	return -1;
}

static struct report_task *rep_task_new(struct rep_ctx *c)
{
	struct report *r = c->r;
	struct report_task *t;

	if (r->ntasks >= c->max_tasks) {
		r->tasks_truncated = 1;
		return NULL;
	}
	t = rep_grow(c, r->tasks, &c->tasks_cap, r->ntasks + 1, sizeof *t);
	if (!t)
		return NULL;
	r->tasks = t;
	t = &r->tasks[r->ntasks++];
	t->priority = -1;
	t->exit_code = -1;
	t->duration_ms = -1;
	t->cpu_s = -1;
	t->peak_rss_bytes = -1;
	t->queue_position = -1;
	return t;
}

static int rep_in_window(const struct rep_ctx *c, const struct vigil_task_info *info)
{
	int64_t since = c->r->since_ms;

	return since <= 0 || info->ended_at_ms <= 0 || info->ended_at_ms >= since ||
	       info->submitted_at_ms >= since;
}

/* 1 when id was listed already, else 0 (and it is remembered); -ENOMEM. The core and the store
 * may both know a task, and a store may keep one row per attempt. */
static int rep_seen(struct rep_ctx *c, const char *id)
{
	return rep_map_put(&c->ids, id, 0, 0);
}

static int rep_task_cb(const struct vigil_task_info *info, void *arg)
{
	struct rep_ctx *c = arg;
	struct report_task *t;
	int seen;

	if (!info->id || !rep_in_window(c, info))
		return 0;
	seen = rep_seen(c, info->id);
	if (seen < 0) {
		c->err = seen;
		return 1;
	}
	if (seen)
		return 0;
	t = rep_task_new(c);
	if (!t)
		return c->err ? 1 : 0; /* over the cap: the list says it is truncated */
	rep_dup(c, &t->id, info->id);
	rep_dup(c, &t->name, info->name);
	rep_dup(c, &t->type, info->type);
	rep_dup(c, &t->pool, info->pool);
	rep_dup(c, &t->command, info->command);
	rep_dup(c, &t->error, info->error);
	t->state =
	    (unsigned)info->state < VIGIL_TASK_STATE_COUNT ? info->state : VIGIL_TASK_STATE_COUNT;
	t->priority = (unsigned)info->priority < VIGIL_PRIO_COUNT ? (int)info->priority : -1;
	t->pid = info->pid > 0 ? info->pid : 0;
	t->submitted_ms = info->submitted_at_ms;
	t->started_ms = info->started_at_ms;
	t->ended_ms = info->ended_at_ms;
	t->exit_code = info->exit_code;
	t->signal = info->signal > 0 ? info->signal : 0;
	/* a run that has not started has no duration, cpu or rss yet, whatever the struct holds */
	if (info->started_at_ms > 0) {
		t->duration_ms = info->duration_ms;
		t->cpu_s = info->cpu_s;
		t->peak_rss_bytes = info->peak_rss_bytes;
	}
	t->attempts = info->attempt;
	t->timeout_ms = info->timeout_ms;
	if (info->state == VIGIL_TASK_QUEUED)
		t->queue_position = info->queue_position;
	return c->err ? 1 : 0;
}

static int rep_history_cb(const struct vigil_history_row *row, void *arg)
{
	struct rep_ctx *c = arg;
	struct report_task *t;
	const char *id = row->id;
	int seen;

	c->history_rows++;
	if (!id || (row->kind && strcmp(row->kind, "task") != 0))
		return 0;
	/* listed already: by the core (its view is fresher), or a newer row of the same task */
	seen = rep_seen(c, id);
	if (seen < 0) {
		c->err = seen;
		return 1;
	}
	if (seen)
		return 0;
	t = rep_task_new(c);
	if (!t)
		return 1; /* full (or out of memory): stop the query */
	rep_dup(c, &t->id, row->id);
	rep_dup(c, &t->name, row->name);
	rep_dup(c, &t->type, row->type);
	rep_dup(c, &t->pool, row->program);
	rep_dup(c, &t->reason, row->reason);
	rep_dup(c, &t->error, row->error);
	t->state = rep_row_state(row);
	t->priority = rep_priority(row->priority);
	t->pid = row->pid > 0 && row->ended_at_ms <= 0 ? row->pid : 0;
	t->started_ms = row->started_at_ms;
	t->ended_ms = row->ended_at_ms;
	t->exit_code = row->exit_code;
	t->signal = row->signal > 0 ? row->signal : 0;
	if (row->started_at_ms > 0 && row->ended_at_ms >= row->started_at_ms)
		t->duration_ms = row->ended_at_ms - row->started_at_ms;
	t->cpu_s = row->cpu_s;
	t->peak_rss_bytes = row->peak_rss_bytes;
	return c->err ? 1 : 0;
}

/* Newest first: by submission, else start; ties by id so the order is stable. */
static int rep_task_cmp(const void *a, const void *b)
{
	const struct report_task *x = a, *y = b;
	int64_t tx = x->submitted_ms > 0 ? x->submitted_ms : x->started_ms;
	int64_t ty = y->submitted_ms > 0 ? y->submitted_ms : y->started_ms;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

static void rep_collect_tasks(struct rep_ctx *c)
{
	const struct vigil_host *h = c->host;
	struct report *r = c->r;
	int rc;

	if (REP_HAS(h, task_foreach)) {
		h->task_foreach(NULL, rep_task_cb, c);
		if (c->err)
			return;
	}
	r->history = REPORT_HISTORY_UNAVAILABLE;
	if (REP_HAS(h, history_query)) {
		struct vigil_history_query q = {
		    .size = sizeof q,
		    .kind = "task",
		    .since_ms = r->since_ms > 0 ? r->since_ms : 0,
		};
		/* room for the tasks the core listed (the store knows them too) and one more than
		 * fits, so that a full list is known to be truncated */
		uint64_t limit = (uint64_t)c->max_tasks + c->ids.n + 1;

		q.limit = limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit;
		rc = h->history_query(&q, rep_history_cb, c);
		if (c->err)
			return;
		/* the store stopped at the limit: older tasks may be missing even if some rows
		 * were duplicates and the list is not full */
		if (rc >= 0 && c->history_rows >= q.limit)
			r->tasks_truncated = 1;
		if (rc >= 0)
			r->history = REPORT_HISTORY_INCLUDED;
		else if (rc != -ENOSYS)
			r->history = REPORT_HISTORY_FAILED;
	}
	if (r->ntasks > 1)
		qsort(r->tasks, r->ntasks, sizeof *r->tasks, rep_task_cmp);
}

static int rep_stats_cb(const struct vigil_stats_row *row, void *arg)
{
	struct rep_ctx *c = arg;
	struct report *r = c->r;
	struct report_stat *s, *arr;

	arr = realloc(r->stats, (r->nstats + 1) * sizeof *arr);
	if (!arr) {
		c->err = -ENOMEM;
		return 1;
	}
	r->stats = arr;
	s = &arr[r->nstats++];
	memset(s, 0, sizeof *s);
	rep_dup(c, &s->key, row->key ? row->key : "");
	s->runs = row->runs;
	s->successes = row->successes;
	s->failures = row->failures;
	s->timeouts = row->timeouts;
	s->success_rate = row->runs ? row->success_rate : -1;
	s->p50_ms = row->runs ? row->p50_ms : -1;
	s->p95_ms = row->runs ? row->p95_ms : -1;
	s->max_ms = row->runs ? row->max_ms : -1;
	s->cpu_s = row->cpu_s;
	s->peak_rss_bytes = row->peak_rss_bytes;
	return c->err ? 1 : 0;
}

static void rep_collect_stats(struct rep_ctx *c)
{
	const struct vigil_host *h = c->host;
	struct report *r = c->r;
	struct vigil_stats_query q = {
	    .size = sizeof q, .by = r->stats_by, .since_ms = r->since_ms > 0 ? r->since_ms : 0};
	int rc;

	r->stats_available = 0;
	if (!REP_HAS(h, stats_query))
		return;
	rc = h->stats_query(&q, rep_stats_cb, c);
	if (c->err)
		return;
	r->stats_available = rc >= 0;
	if (rc < 0) {
		/* a half-answered query is no statistics */
		for (size_t i = 0; i < r->nstats; i++)
			free(r->stats[i].key);
		free(r->stats);
		r->stats = NULL;
		r->nstats = 0;
	}
}

/* The daemon's start: field 22 of /proc/self/stat (clock ticks after boot, on the clock that
 * counts suspend) placed on the wall clock. A re-exec keeps the process, so this is the first
 * start. 0 when unknown. */
static int64_t rep_proc_started_ms(void)
{
	char buf[1024], *p;
	unsigned long long ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec wall, boot;
	FILE *f;
	size_t n;
	int field;

	f = fopen("/proc/self/stat", "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return 0;
	p++;
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &ticks) != 1 || hz <= 0)
		return 0;
	if (clock_gettime(CLOCK_REALTIME, &wall) < 0 || clock_gettime(CLOCK_BOOTTIME, &boot) < 0)
		return 0;
	return ((int64_t)wall.tv_sec - boot.tv_sec) * 1000 +
	       (wall.tv_nsec - boot.tv_nsec) / 1000000 +
	       (int64_t)(ticks * 1000 / (unsigned long long)hz);
}

static void rep_collect_supervisor(struct rep_ctx *c)
{
	const struct vigil_host *h = c->host;
	struct report *r = c->r;
	char host[HOST_NAME_MAX + 1];

	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	rep_dup(c, &r->host, host);
	rep_dup(c, &r->version, h->version ? h->version : VIGIL_VERSION_STRING);
	rep_dup(c, &r->state_dir, h->state_dir ? h->state_dir() : NULL);
	r->abi_major = h->abi_major;
	r->abi_minor = h->abi_minor;
	r->pid = (int32_t)getpid();
	/* the process's start, not supervisor.started: a re-exec publishes that one again but
	 * keeps the process (and every child) running */
	r->started_ms = c->opt->started_ms;
	if (r->started_ms <= 0)
		r->started_ms = rep_proc_started_ms();
}

struct report *report_collect(const struct vigil_host *host, const struct report_options *opt,
                              int *err)
{
	static const struct report_options defaults = {.format = REPORT_XML};
	struct rep_ctx c = {.host = host, .opt = opt ? opt : &defaults};
	const char *by = c.opt->stats_by ? c.opt->stats_by : "type";
	struct report *r;

	if (strcmp(by, "type") != 0 && strcmp(by, "program") != 0 && strcmp(by, "pool") != 0) {
		*err = -EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	c.r = r;
	c.max_tasks = c.opt->max_tasks ? c.opt->max_tasks : REPORT_MAX_TASKS;
	/* static strings, whatever the caller's stats_by points to */
	r->stats_by = strcmp(by, "type") == 0      ? "type"
	              : strcmp(by, "program") == 0 ? "program"
	                                           : "pool";
	r->generated_ms = host->wall_ms();
	r->since_ms = c.opt->since_ms > 0 ? c.opt->since_ms : 0;
	rep_collect_supervisor(&c);
	if (!c.err)
		host->plugin_foreach(rep_plugin_cb, &c);
	if (!c.err)
		host->proc_foreach(NULL, rep_proc_cb, &c);
	/* a core without health records: alerts and violations stay unknown */
	if (!c.err && REP_HAS(host, health_foreach))
		host->health_foreach(NULL, rep_health_cb, &c);
	if (!c.err)
		rep_collect_tasks(&c);
	if (!c.err)
		rep_collect_stats(&c);
	rep_map_free(&c.ids);
	rep_map_free(&c.inst);
	if (c.err) {
		report_free(r);
		*err = c.err;
		return NULL;
	}
	return r;
}

/* report_xml.c — the report model written as XML with libxml2 (namespace urn:vigil:report:1). */
#include "report.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Every helper does nothing once something failed (or its parent is missing), so the writer
 * reads straight and checks once at the end. */
struct rep_xw {
	xmlNsPtr ns;
	int failed;
};

static xmlNodePtr rep_x_node(struct rep_xw *w, xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	if (!parent)
		return NULL;
	n = xmlNewChild(parent, w->ns, BAD_CAST name, NULL);
	if (!n)
		w->failed = 1;
	return n;
}

/* xmlNewTextChild escapes the text (xmlNewChild would parse entity references in it). */
static xmlNodePtr rep_x_text(struct rep_xw *w, xmlNodePtr parent, const char *name,
                             const char *text)
{
	xmlNodePtr n;

	if (!parent || !text)
		return NULL;
	n = xmlNewTextChild(parent, w->ns, BAD_CAST name, BAD_CAST text);
	if (!n)
		w->failed = 1;
	return n;
}

/* Attribute values are stored as given and escaped on output (<, &, ", newlines, tabs). */
static void rep_x_attr(struct rep_xw *w, xmlNodePtr n, const char *name, const char *value)
{
	if (n && value && !xmlNewProp(n, BAD_CAST name, BAD_CAST value))
		w->failed = 1;
}

static void rep_x_i64(struct rep_xw *w, xmlNodePtr n, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	rep_x_attr(w, n, name, buf);
}

static void rep_x_u64(struct rep_xw *w, xmlNodePtr n, const char *name, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%" PRIu64, v);
	rep_x_attr(w, n, name, buf);
}

static void rep_x_dec(struct rep_xw *w, xmlNodePtr n, const char *name, double v, int places)
{
	char buf[64];

	if (report_decimal(buf, sizeof buf, v, places))
		rep_x_attr(w, n, name, buf);
}

static void rep_x_time(struct rep_xw *w, xmlNodePtr n, const char *name, int64_t ms)
{
	char buf[40];

	if (report_time(buf, sizeof buf, ms))
		rep_x_attr(w, n, name, buf);
}

static void rep_x_supervisor(struct rep_xw *w, xmlNodePtr root, const struct report *r)
{
	xmlNodePtr sup = rep_x_node(w, root, "supervisor"), plugins;
	char abi[32];

	snprintf(abi, sizeof abi, "%u.%u", r->abi_major, r->abi_minor);
	rep_x_attr(w, sup, "version", r->version ? r->version : "");
	rep_x_attr(w, sup, "abi", abi);
	rep_x_i64(w, sup, "pid", r->pid > 0 ? r->pid : 1);
	rep_x_time(w, sup, "started", r->started_ms);
	if (r->started_ms > 0 && r->generated_ms >= r->started_ms)
		rep_x_i64(w, sup, "uptimeSeconds", (r->generated_ms - r->started_ms) / 1000);
	rep_x_text(w, sup, "host", r->host ? r->host : "");
	rep_x_text(w, sup, "stateDir", r->state_dir);
	plugins = rep_x_node(w, sup, "plugins");
	for (size_t i = 0; i < r->nplugins; i++) {
		const struct report_plugin *p = &r->plugins[i];
		xmlNodePtr n = rep_x_node(w, plugins, "plugin");

		snprintf(abi, sizeof abi, "%u.%u", p->abi_major, p->abi_minor);
		rep_x_attr(w, n, "kind", p->kind);
		rep_x_attr(w, n, "name", p->plugin);
		rep_x_attr(w, n, "instance", p->instance);
		rep_x_attr(w, n, "section", p->section);
		rep_x_attr(w, n, "version", p->version);
		rep_x_attr(w, n, "abi", abi);
		rep_x_text(w, n, "file", p->file);
		rep_x_text(w, n, "description", p->description);
	}
}

static void rep_x_instance(struct rep_xw *w, xmlNodePtr prog, const struct report *r,
                           const struct report_instance *in)
{
	xmlNodePtr n = rep_x_node(w, prog, "instance"), e;
	size_t i;

	rep_x_attr(w, n, "name", in->name);
	if (in->index >= 0)
		rep_x_i64(w, n, "index", in->index);
	rep_x_attr(w, n, "state", vigil_proc_state_name(in->state));
	rep_x_time(w, n, "stateSince", in->state_since_ms);
	if (in->pid > 0)
		rep_x_i64(w, n, "pid", in->pid);
	rep_x_time(w, n, "started", in->started_ms);
	if (in->pid > 0 && in->started_ms > 0 && r->generated_ms >= in->started_ms)
		rep_x_i64(w, n, "uptimeSeconds", (r->generated_ms - in->started_ms) / 1000);
	rep_x_u64(w, n, "restarts", in->restarts);
	if (in->exit_code >= 0 || in->exit_signal > 0 || in->last_reason) {
		e = rep_x_node(w, n, "lastExit");
		if (in->exit_code >= 0)
			rep_x_i64(w, e, "code", in->exit_code);
		if (in->exit_signal > 0 && in->exit_signal < 128)
			rep_x_i64(w, e, "signal", in->exit_signal);
		rep_x_attr(w, e, "reason", in->last_reason);
	}
	if (in->cpu_pct >= 0 || in->rss_bytes >= 0) {
		e = rep_x_node(w, n, "metrics");
		rep_x_dec(w, e, "cpuPercent", in->cpu_pct, 3);
		if (in->rss_bytes >= 0)
			rep_x_i64(w, e, "rssBytes", in->rss_bytes);
	}
	if (in->health >= 0) {
		e = rep_x_node(w, n, "health");
		rep_x_i64(w, e, "score", in->health);
		rep_x_attr(w, e, "level", in->level ? in->level : report_health_level(in->health));
		rep_x_attr(w, e, "trend", in->trend);
	}
	if (in->health_known) {
		uint64_t total = 0;

		e = rep_x_node(w, n, "alerts");
		for (i = 0; i < in->nalerts; i++) {
			xmlNodePtr a = rep_x_text(
			    w, e, "alert", in->alerts[i].message ? in->alerts[i].message : "");
			rep_x_attr(w, a, "id", in->alerts[i].id);
			rep_x_attr(w, a, "severity", in->alerts[i].severity);
			rep_x_time(w, a, "since", in->alerts[i].since_ms);
		}
		for (i = 0; i < in->nviolations; i++)
			total += in->violations[i].count;
		e = rep_x_node(w, n, "violations");
		rep_x_u64(w, e, "total", total);
		for (i = 0; i < in->nviolations; i++) {
			xmlNodePtr v = rep_x_node(w, e, "violation");

			rep_x_attr(w, v, "name", in->violations[i].name);
			rep_x_attr(w, v, "source", "limit");
			rep_x_u64(w, v, "count", in->violations[i].count);
		}
	}
	rep_x_attr(w, rep_x_text(w, n, "log", in->stdout_log), "stream", "stdout");
	rep_x_attr(w, rep_x_text(w, n, "log", in->stderr_log), "stream", "stderr");
}

static void rep_x_programs(struct rep_xw *w, xmlNodePtr root, const struct report *r)
{
	xmlNodePtr progs = rep_x_node(w, root, "programs");

	for (size_t i = 0; i < r->nprograms; i++) {
		const struct report_program *p = &r->programs[i];
		xmlNodePtr n = rep_x_node(w, progs, "program"), e;

		rep_x_attr(w, n, "name", p->name);
		rep_x_attr(w, n, "priority", vigil_priority_name(p->priority));
		rep_x_text(w, n, "command", p->command);
		if (p->ntags) {
			e = rep_x_node(w, n, "tags");
			for (size_t j = 0; j < p->ntags; j++)
				rep_x_text(w, e, "tag", p->tags[j]);
		}
		if (p->limit_memory || p->limit_cpu > 0 || p->limit_runtime_ms || p->limit_nofile ||
		    p->limit_nproc) {
			e = rep_x_node(w, n, "limits");
			if (p->limit_memory)
				rep_x_i64(w, e, "memoryBytes", p->limit_memory);
			if (p->limit_cpu > 0)
				rep_x_dec(w, e, "cpuPercent", p->limit_cpu, 3);
			if (p->limit_runtime_ms)
				rep_x_i64(w, e, "runtimeMs", p->limit_runtime_ms);
			if (p->limit_nofile)
				rep_x_i64(w, e, "nofile", p->limit_nofile);
			if (p->limit_nproc)
				rep_x_i64(w, e, "nproc", p->limit_nproc);
		}
		for (size_t j = 0; j < p->ninst; j++)
			rep_x_instance(w, n, r, &p->inst[j]);
	}
}

static void rep_x_tasks(struct rep_xw *w, xmlNodePtr root, const struct report *r)
{
	xmlNodePtr tasks = rep_x_node(w, root, "tasks");

	rep_x_time(w, tasks, "since", r->since_ms);
	rep_x_u64(w, tasks, "count", r->ntasks);
	rep_x_attr(w, tasks, "truncated", r->tasks_truncated ? "true" : "false");
	rep_x_attr(w, tasks, "history", report_history_name(r->history));
	for (size_t i = 0; i < r->ntasks; i++) {
		const struct report_task *t = &r->tasks[i];
		xmlNodePtr n = rep_x_node(w, tasks, "task");

		rep_x_attr(w, n, "id", t->id ? t->id : "");
		rep_x_attr(w, n, "name", t->name);
		rep_x_attr(w, n, "type", t->type);
		rep_x_attr(w, n, "pool", t->pool);
		rep_x_attr(w, n, "state", report_task_state_name(t->state));
		if (t->priority >= 0)
			rep_x_attr(w, n, "priority",
			           vigil_priority_name((enum vigil_priority)t->priority));
		if (t->pid > 0)
			rep_x_i64(w, n, "pid", t->pid);
		rep_x_time(w, n, "submitted", t->submitted_ms);
		rep_x_time(w, n, "started", t->started_ms);
		rep_x_time(w, n, "ended", t->ended_ms);
		if (t->exit_code >= 0)
			rep_x_i64(w, n, "exitCode", t->exit_code);
		if (t->signal > 0 && t->signal < 128)
			rep_x_i64(w, n, "signal", t->signal);
		if (t->duration_ms >= 0)
			rep_x_i64(w, n, "durationMs", t->duration_ms);
		rep_x_dec(w, n, "cpuSeconds", t->cpu_s, 3);
		if (t->peak_rss_bytes >= 0)
			rep_x_i64(w, n, "peakRssBytes", t->peak_rss_bytes);
		if (t->attempts > 0)
			rep_x_u64(w, n, "attempts", t->attempts);
		if (t->timeout_ms > 0)
			rep_x_i64(w, n, "timeoutMs", t->timeout_ms);
		if (t->queue_position >= 0)
			rep_x_i64(w, n, "queuePosition", t->queue_position);
		rep_x_text(w, n, "command", t->command);
		rep_x_text(w, n, "reason", t->reason);
		rep_x_text(w, n, "error", t->error);
	}
}

static void rep_x_stats(struct rep_xw *w, xmlNodePtr root, const struct report *r)
{
	xmlNodePtr st = rep_x_node(w, root, "statistics");

	rep_x_attr(w, st, "by", r->stats_by ? r->stats_by : "type");
	rep_x_time(w, st, "since", r->since_ms);
	rep_x_attr(w, st, "available", r->stats_available ? "true" : "false");
	for (size_t i = 0; i < r->nstats; i++) {
		const struct report_stat *s = &r->stats[i];
		xmlNodePtr n = rep_x_node(w, st, "group");

		rep_x_attr(w, n, "key", s->key ? s->key : "");
		rep_x_u64(w, n, "runs", s->runs);
		rep_x_u64(w, n, "successes", s->successes);
		rep_x_u64(w, n, "failures", s->failures);
		rep_x_u64(w, n, "timeouts", s->timeouts);
		if (s->success_rate <= 1)
			rep_x_dec(w, n, "successRate", s->success_rate, 4);
		if (s->p50_ms >= 0)
			rep_x_i64(w, n, "p50Ms", s->p50_ms);
		if (s->p95_ms >= 0)
			rep_x_i64(w, n, "p95Ms", s->p95_ms);
		if (s->max_ms >= 0)
			rep_x_i64(w, n, "maxMs", s->max_ms);
		rep_x_dec(w, n, "cpuSeconds", s->cpu_s, 3);
		if (s->peak_rss_bytes >= 0)
			rep_x_i64(w, n, "peakRssBytes", s->peak_rss_bytes);
	}
}

char *report_xml(const struct report *r, int compact, size_t *len)
{
	struct rep_xw w = {0};
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlChar *mem = NULL;
	int size = 0;
	char *out = NULL;

	xmlInitParser(); /* idempotent; libxml2 is shared with whatever else the daemon loaded */
	doc = xmlNewDoc(BAD_CAST "1.0");
	if (!doc)
		return NULL;
	root = xmlNewDocNode(doc, NULL, BAD_CAST "report", NULL);
	if (!root)
		goto out;
	xmlDocSetRootElement(doc, root);
	w.ns = xmlNewNs(root, BAD_CAST REPORT_NAMESPACE, NULL);
	if (!w.ns)
		goto out;
	xmlSetNs(root, w.ns);
	rep_x_attr(&w, root, "schemaVersion", REPORT_SCHEMA_VERSION);
	rep_x_time(&w, root, "generated", r->generated_ms > 0 ? r->generated_ms : 1);
	rep_x_supervisor(&w, root, r);
	rep_x_programs(&w, root, r);
	rep_x_tasks(&w, root, r);
	rep_x_stats(&w, root, r);
	if (w.failed)
		goto out;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", compact ? 0 : 1);
	if (!mem || size <= 0)
		goto out;
	/* a malloc'd copy: the caller frees with free(), whatever allocator libxml2 was given */
	out = malloc((size_t)size + 1);
	if (out) {
		memcpy(out, mem, (size_t)size);
		out[size] = '\0';
		*len = (size_t)size;
	}
out:
	if (mem)
		xmlFree(mem);
	xmlFreeDoc(doc);
	return out;
}

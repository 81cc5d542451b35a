/* vigilctl_out.c — human output of vigilctl: aligned tables, event lines, log lines. */
#include "vigilctl.h"

#include <stdlib.h>
#include <string.h>

#include <vigil/client.h>

#include "util.h"

#define MAX_COLS 12

struct table {
	size_t ncols;
	const char *head[MAX_COLS];
	size_t width[MAX_COLS];
	char **cells;        /* rows * ncols */
	const char **colour; /* per row: ANSI code of the colour column, or NULL */
	size_t rows, cap;
	int colour_col; /* -1 = none */
};

static void table_add(struct table *t, char **row, const char *colour)
{
	size_t i;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = realloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
		t->colour = realloc(t->colour, t->cap * sizeof *t->colour);
		if (!t->cells || !t->colour) {
			fputs("vigilctl: out of memory\n", stderr);
			exit(111);
		}
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->rows * t->ncols + i] = row[i];
		if (strlen(row[i]) > t->width[i])
			t->width[i] = strlen(row[i]);
	}
	t->colour[t->rows++] = colour;
}

static void table_print(FILE *f, struct table *t)
{
	size_t r, i;

	for (i = 0; i < t->ncols; i++)
		if (strlen(t->head[i]) > t->width[i])
			t->width[i] = strlen(t->head[i]);
	for (r = 0; r <= t->rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *cell = r == 0 ? t->head[i] : t->cells[(r - 1) * t->ncols + i];
			int last = i + 1 == t->ncols;
			const char *col =
			    r > 0 && (int)i == t->colour_col ? t->colour[r - 1] : NULL;

			if (col)
				fprintf(f, "\033[%sm%s\033[0m", col, cell);
			else
				fputs(cell, f);
			if (!last)
				fprintf(f, "%*s", (int)(t->width[i] - strlen(cell) + 2), "");
		}
		fputc('\n', f);
	}
	for (r = 0; r < t->rows * t->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(t->colour);
}

static char *xstr(const char *s)
{
	char *d = strdup(s ? s : "-");

	if (!d) {
		fputs("vigilctl: out of memory\n", stderr);
		exit(111);
	}
	return d;
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An integer member, or NULL ('-') when null or absent. */
static char *jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	char buf[32];

	if (!json_is_number(v))
		return xstr("-");
	snprintf(buf, sizeof buf, "%lld", (long long)json_number_value(v));
	return xstr(buf);
}

static const char *state_colour(const char *state)
{
	static const struct {
		const char *state, *colour;
	} map[] = {
	    {"running", "32"}, {"adopted", "36"}, {"starting", "33"}, {"stopping", "33"},
	    {"backoff", "33"}, {"fatal", "1;31"}, {"exited", "35"},
	};
	size_t i;

	for (i = 0; state && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].state, state) == 0)
			return map[i].colour;
	return NULL;
}

static void print_status(FILE *f, const json_t *reply, int colour)
{
	struct table t = {
	    .ncols = 8,
	    .head = {"NAME", "STATE", "PID", "UPTIME", "RESTARTS", "CPU%", "RSS", "HEALTH"},
	    .colour_col = colour ? 1 : -1};
	const json_t *procs = json_object_get(reply, "processes"), *p;
	size_t i;

	json_array_foreach(procs, i, p)
	{
		char *row[8], buf[32];
		const json_t *v;

		row[0] = xstr(jstr(p, "name"));
		row[1] = xstr(jstr(p, "state"));
		row[2] = jint(p, "pid");
		v = json_object_get(p, "uptime_s");
		if (json_is_number(v)) {
			/* whole seconds: "0s" reads better than util's "0ms" */
			if (json_number_value(v) < 1)
				snprintf(buf, sizeof buf, "0s");
			else
				util_fmt_duration(buf, sizeof buf,
				                  (int64_t)(json_number_value(v) * 1000));
			row[3] = xstr(buf);
		} else {
			row[3] = xstr("-");
		}
		row[4] = jint(p, "restarts");
		v = json_object_get(p, "cpu_pct");
		if (json_is_number(v)) {
			snprintf(buf, sizeof buf, "%.1f", json_number_value(v));
			row[5] = xstr(buf);
		} else {
			row[5] = xstr("-");
		}
		v = json_object_get(p, "rss_bytes");
		if (json_is_number(v)) {
			util_fmt_size(buf, sizeof buf, (int64_t)json_number_value(v));
			row[6] = xstr(buf);
		} else {
			row[6] = xstr("-");
		}
		row[7] = jint(p, "health");
		table_add(&t, row, state_colour(jstr(p, "state")));
	}
	table_print(f, &t);
}

static void print_plugins(FILE *f, const json_t *reply)
{
	struct table t = {.ncols = 7,
	                  .head = {"KIND", "NAME", "INSTANCE", "SECTION", "VERSION", "ABI", "FILE"},
	                  .colour_col = -1};
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(reply, "plugins"), i, p)
	{
		char *row[7] = {xstr(jstr(p, "kind")),     xstr(jstr(p, "name")),
		                xstr(jstr(p, "instance")), xstr(jstr(p, "section")),
		                xstr(jstr(p, "version")),  xstr(jstr(p, "abi")),
		                xstr(jstr(p, "file"))};

		table_add(&t, row, NULL);
	}
	table_print(f, &t);
}

static void print_signal(FILE *f, const json_t *reply)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_object_get(reply, "processes"), i, p)
	{
		const json_t *pid = json_object_get(p, "pid");

		if (json_is_integer(pid))
			fprintf(f, "%s: sent SIG%s to pid %lld\n", jstr(p, "name"),
			        jstr(reply, "signal"), (long long)json_integer_value(pid));
		else
			fprintf(f, "%s: not running\n", jstr(p, "name"));
	}
}

/* A value for an event line: strings bare unless they need quotes. */
static void print_value(FILE *f, const json_t *v)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		if (*s && !strpbrk(s, " \t\n\"'=\\")) {
			fputs(s, f);
			return;
		}
	}
	if (json_is_real(v)) {
		fprintf(f, "%g", json_real_value(v));
		return;
	}
	json_dumpf(v, f, JSON_ENCODE_ANY | JSON_COMPACT);
}

static void print_event(FILE *f, const json_t *ev)
{
	const char *key;
	const json_t *v;

	fprintf(f, "%s %s %s", jstr(ev, "time") ? jstr(ev, "time") : "-",
	        jstr(ev, "type") ? jstr(ev, "type") : "-",
	        jstr(ev, "subject") ? jstr(ev, "subject") : "-");
	json_object_foreach((json_t *)ev, key, v)
	{
		if (json_is_null(v) || !strcmp(key, "seq") || !strcmp(key, "time") ||
		    !strcmp(key, "type") || !strcmp(key, "subject"))
			continue;
		fprintf(f, " %s=", key);
		print_value(f, v);
	}
	fputc('\n', f);
}

static void print_generic(FILE *f, const json_t *reply)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)reply, key, v)
	{
		if (!strcmp(key, "ok"))
			continue;
		fprintf(f, "%s: ", key);
		print_value(f, v);
		fputc('\n', f);
	}
}

/* "2026-11-27T03:04:05.123Z" as "2026-11-27 03:04:05" (UTC); "-" when absent. */
static char *jtime(const json_t *o, const char *key)
{
	const char *t = jstr(o, key);
	char buf[24];

	if (!t || strlen(t) < 19)
		return xstr("-");
	memcpy(buf, t, 19);
	buf[10] = ' ';
	buf[19] = '\0';
	return xstr(buf);
}

static const char *task_colour(const char *state)
{
	static const struct {
		const char *state, *colour;
	} map[] = {
	    {"succeeded", "32"}, {"running", "32"},   {"queued", "36"},
	    {"starting", "33"},  {"stopping", "33"},  {"failed", "1;31"},
	    {"killed", "1;31"},  {"timeout", "1;31"}, {"cancelled", "35"},
	};
	size_t i;

	for (i = 0; state && i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].state, state) == 0)
			return map[i].colour;
	return state_colour(state);
}

static void print_ps(FILE *f, const json_t *reply, int colour)
{
	struct table t = {.ncols = 11,
	                  .head = {"KIND", "NAME", "ID", "PID", "STATE", "TYPE", "PRIORITY",
	                           "STARTED", "ENDED", "EXIT", "HEALTH"},
	                  .colour_col = colour ? 4 : -1};
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(reply, "entries"), i, e)
	{
		const json_t *sig = json_object_get(e, "signal");
		char *row[11], buf[32];

		row[0] = xstr(jstr(e, "kind"));
		row[1] = xstr(jstr(e, "name"));
		row[2] = xstr(jstr(e, "id"));
		row[3] = jint(e, "pid");
		row[4] = xstr(jstr(e, "state"));
		row[5] = xstr(jstr(e, "type"));
		row[6] = xstr(jstr(e, "priority"));
		row[7] = jtime(e, "started_at");
		row[8] = jtime(e, "ended_at");
		if (json_is_integer(sig) && json_integer_value(sig) > 0) {
			snprintf(buf, sizeof buf, "SIG%s",
			         util_signal_name((int)json_integer_value(sig)));
			row[9] = xstr(buf);
		} else {
			row[9] = jint(e, "exit_code");
		}
		row[10] = jint(e, "health");
		table_add(&t, row, task_colour(jstr(e, "state")));
	}
	table_print(f, &t);
}

static char *fmt_ms(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	char buf[32];

	if (!json_is_number(v))
		return xstr("-");
	util_fmt_duration(buf, sizeof buf, (int64_t)json_number_value(v));
	return xstr(buf);
}

static void print_stats(FILE *f, const json_t *reply)
{
	struct table t = {.ncols = 11,
	                  .head = {"KEY", "RUNS", "OK", "FAILED", "TIMEOUT", "SUCCESS", "P50",
	                           "P95", "MAX", "CPU", "PEAK_RSS"},
	                  .colour_col = -1};
	const json_t *r, *v;
	size_t i;

	json_array_foreach(json_object_get(reply, "stats"), i, r)
	{
		char *row[11], buf[32];

		row[0] = xstr(jstr(r, "key"));
		row[1] = jint(r, "runs");
		row[2] = jint(r, "successes");
		row[3] = jint(r, "failures");
		row[4] = jint(r, "timeouts");
		v = json_object_get(r, "success_rate");
		snprintf(buf, sizeof buf, "%.1f%%",
		         json_is_number(v) ? json_number_value(v) * 100 : 0);
		row[5] = xstr(json_is_number(v) ? buf : "-");
		row[6] = fmt_ms(r, "p50_ms");
		row[7] = fmt_ms(r, "p95_ms");
		row[8] = fmt_ms(r, "max_ms");
		v = json_object_get(r, "cpu_s");
		snprintf(buf, sizeof buf, "%.2fs", json_is_number(v) ? json_number_value(v) : 0);
		row[9] = xstr(json_is_number(v) ? buf : "-");
		v = json_object_get(r, "peak_rss_bytes");
		if (json_is_number(v))
			util_fmt_size(buf, sizeof buf, (int64_t)json_number_value(v));
		row[10] = xstr(json_is_number(v) ? buf : "-");
		table_add(&t, row, NULL);
	}
	table_print(f, &t);
}

/* "t1-3 (make): failed, exit 2, after 1.2s (cpu 0.85s, peak rss 20.0M)" */
static void print_task(FILE *f, const json_t *t)
{
	const json_t *code = json_object_get(t, "exit_code"), *sig = json_object_get(t, "signal");
	const json_t *dur = json_object_get(t, "duration_s"), *cpu = json_object_get(t, "cpu_s");
	const json_t *rss = json_object_get(t, "peak_rss_bytes");
	char buf[32];

	fprintf(f, "%s", jstr(t, "id") ? jstr(t, "id") : "-");
	if (jstr(t, "name"))
		fprintf(f, " (%s)", jstr(t, "name"));
	fprintf(f, ": %s", jstr(t, "state") ? jstr(t, "state") : "unknown");
	if (json_is_integer(sig) && json_integer_value(sig) > 0)
		fprintf(f, ", signal SIG%s", util_signal_name((int)json_integer_value(sig)));
	else if (json_is_integer(code))
		fprintf(f, ", exit %lld", (long long)json_integer_value(code));
	if (jstr(t, "start_error")) {
		/* it never ran: no duration or resources to tell */
		fprintf(f, ": %s\n", jstr(t, "start_error"));
		return;
	}
	if (json_is_number(dur) && jstr(t, "ended_at")) {
		util_fmt_duration(buf, sizeof buf, (int64_t)(json_number_value(dur) * 1000));
		fprintf(f, ", after %s", buf);
	}
	if (json_is_number(cpu) || json_is_number(rss)) {
		fprintf(f, " (");
		if (json_is_number(cpu))
			fprintf(f, "cpu %.2fs%s", json_number_value(cpu),
			        json_is_number(rss) ? ", " : "");
		if (json_is_number(rss)) {
			util_fmt_size(buf, sizeof buf, (int64_t)json_number_value(rss));
			fprintf(f, "peak rss %s", buf);
		}
		fprintf(f, ")");
	}
	fputc('\n', f);
}

int out_task_exit(const json_t *task)
{
	struct vigil_client_task t;
	const char *state = jstr(task, "state");
	const json_t *code = json_object_get(task, "exit_code"),
	             *sig = json_object_get(task, "signal");
	int i, rc;

	memset(&t, 0, sizeof t);
	t.size = sizeof t;
	t.state = VIGIL_TASK_QUEUED;
	for (i = 0; state && i < VIGIL_TASK_STATE_COUNT; i++)
		if (strcmp(state, vigil_task_state_name((enum vigil_task_state)i)) == 0)
			t.state = (enum vigil_task_state)i;
	t.exit_code = json_is_integer(code) ? (int32_t)json_integer_value(code) : -1;
	t.signal = json_is_integer(sig) ? (int32_t)json_integer_value(sig) : 0;
	rc = vigil_client_exit_status(&t);
	return rc < 0 ? EX_FAILED : rc;
}

void out_reply(FILE *f, enum out_kind kind, const json_t *reply, int colour)
{
	const json_t *v;
	size_t i;

	switch (kind) {
	case OUT_STATUS:
		print_status(f, reply, colour);
		break;
	case OUT_SIGNAL:
		print_signal(f, reply);
		break;
	case OUT_LOGS:
		json_array_foreach(json_object_get(reply, "lines"), i, v)
		    fprintf(f, "%s\n", json_string_value(v));
		break;
	case OUT_EVENTS:
		json_array_foreach(json_object_get(reply, "events"), i, v) print_event(f, v);
		break;
	case OUT_PLUGINS:
		print_plugins(f, reply);
		break;
	case OUT_SHUTDOWN:
		fputs("vigild is shutting down\n", f);
		break;
	case OUT_VERSION:
		fprintf(f, "vigild %s (plugin ABI %s)\n", jstr(reply, "version"),
		        jstr(reply, "abi") ? jstr(reply, "abi") : "?");
		break;
	case OUT_RUN:
		/* only the id, so that id=$(vigilctl run -- ...) works */
		fprintf(f, "%s\n", jstr(reply, "id") ? jstr(reply, "id") : "-");
		break;
	case OUT_TASK:
		print_task(f, reply);
		break;
	case OUT_CANCEL:
		if (jstr(reply, "state") && strcmp(jstr(reply, "state"), "cancelled") == 0)
			fprintf(f, "%s: cancelled\n", jstr(reply, "id"));
		else
			fprintf(f, "%s: stopping (it will end cancelled)\n", jstr(reply, "id"));
		break;
	case OUT_PS:
		print_ps(f, reply, colour);
		break;
	case OUT_STATS:
		print_stats(f, reply);
		break;
	case OUT_RELOAD:
		if (json_is_integer(json_object_get(reply, "added")))
			fprintf(
			    f,
			    "reloaded %s: %lld added, %lld removed, %lld changed, %lld unchanged\n",
			    jstr(reply, "config_file") ? jstr(reply, "config_file") : "",
			    json_integer_value(json_object_get(reply, "added")),
			    json_integer_value(json_object_get(reply, "removed")),
			    json_integer_value(json_object_get(reply, "changed")),
			    json_integer_value(json_object_get(reply, "unchanged")));
		else
			fputs("reloaded\n", f);
		break;
	case OUT_REEXEC:
		fputs("vigild is re-executing (its programs keep running)\n", f);
		break;
	case OUT_HEALTH:
		out_health(f, reply, colour);
		break;
	default:
		print_generic(f, reply);
		break;
	}
}

void out_stream_item(FILE *f, enum out_kind kind, const json_t *item)
{
	if (kind == OUT_LOGS) {
		const char *line = jstr(item, "line");

		fprintf(f, "%s\n", line ? line : "");
	} else if (kind == OUT_EVENTS) {
		print_event(f, item);
	} else {
		print_value(f, item);
		fputc('\n', f);
	}
	fflush(f);
}

/* vigilctl_out.c — human output of vigilctl: aligned tables, event lines, log lines. */
#include "vigilctl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/client.h>

#include "util.h"

#define MAX_COLS 12
#define CELL_LEN 48 /* a number, a duration, a size, a time */

/* An aligned table: the cells are copied into one block of text as the rows come, the widths
 * kept up to date, and the whole table written at the end in a few large writes. */
struct table {
	size_t ncols;
	const char *head[MAX_COLS];
	size_t width[MAX_COLS];
	char *text;          /* the cells, each NUL-terminated, row after row */
	size_t *cell;        /* rows * ncols offsets into text */
	const char **colour; /* per row: ANSI code of the colour column, or NULL */
	size_t text_len, text_cap, rows, cap;
	int colour_col; /* -1 = none */
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fputs("vigilctl: out of memory\n", stderr);
		exit(EX_TEMPFAIL);
	}
	return p;
}

/* Adds a row of ncols cells (NULL is "-"); the cells are copied. */
static void table_add(struct table *t, const char *const *row, const char *colour)
{
	size_t i;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->cell = xrealloc(t->cell, t->cap * t->ncols * sizeof *t->cell);
		t->colour = xrealloc(t->colour, t->cap * sizeof *t->colour);
	}
	for (i = 0; i < t->ncols; i++) {
		const char *s = row[i] ? row[i] : "-";
		size_t n = strlen(s);

		if (t->text_cap - t->text_len <= n) {
			t->text_cap = (t->text_cap ? t->text_cap * 2 : 4096) + n;
			t->text = xrealloc(t->text, t->text_cap);
		}
		memcpy(t->text + t->text_len, s, n + 1);
		t->cell[t->rows * t->ncols + i] = t->text_len;
		t->text_len += n + 1;
		if (n > t->width[i])
			t->width[i] = n;
	}
	t->colour[t->rows++] = colour;
}

/* Output gathered in memory and written in large pieces (one write for most tables). */
struct outbuf {
	FILE *f;
	char *p;
	size_t len, cap;
};

static void out_put(struct outbuf *o, const char *s, size_t n)
{
	if (o->cap - o->len < n) {
		if (o->len) {
			fwrite(o->p, 1, o->len, o->f);
			o->len = 0;
		}
		if (o->cap < n) {
			o->cap = n > 65536 ? n : 65536;
			o->p = xrealloc(o->p, o->cap);
		}
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_pad(struct outbuf *o, size_t n)
{
	static const char spaces[] = "                                ";

	for (; n > sizeof spaces - 1; n -= sizeof spaces - 1)
		out_put(o, spaces, sizeof spaces - 1);
	out_put(o, spaces, n);
}

static void table_print(FILE *f, struct table *t)
{
	struct outbuf o = {.f = f};
	size_t r, i;

	for (i = 0; i < t->ncols; i++)
		if (strlen(t->head[i]) > t->width[i])
			t->width[i] = strlen(t->head[i]);
	for (r = 0; r <= t->rows; r++) {
		for (i = 0; i < t->ncols; i++) {
			const char *cell =
			    r == 0 ? t->head[i] : t->text + t->cell[(r - 1) * t->ncols + i];
			const char *col =
			    r > 0 && (int)i == t->colour_col ? t->colour[r - 1] : NULL;
			size_t n = strlen(cell);

			if (col) {
				out_put(&o, "\033[", 2);
				out_put(&o, col, strlen(col));
				out_put(&o, "m", 1);
			}
			out_put(&o, cell, n);
			if (col)
				out_put(&o, "\033[0m", 4);
			if (i + 1 < t->ncols)
				out_pad(&o, t->width[i] - n + 2);
		}
		out_put(&o, "\n", 1);
	}
	fwrite(o.p, 1, o.len, f);
	free(o.p);
	free(t->text);
	free(t->cell);
	free(t->colour);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A string value, or NULL ('-'). */
static const char *vstr(const json_t *v)
{
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An integer value in buf, or NULL ('-') when null or absent. (Not snprintf: a big table
 * has thousands of them.) */
static const char *vint(const json_t *v, char *buf)
{
	char tmp[24], *p = tmp + sizeof tmp;
	long long n;
	unsigned long long u;

	if (!json_is_number(v))
		return NULL;
	if (!json_is_integer(v) && !(fabs(json_real_value(v)) < 9e18)) {
		snprintf(buf, CELL_LEN, "%g", json_real_value(v));
		return buf;
	}
	n = json_is_integer(v) ? (long long)json_integer_value(v) : (long long)json_real_value(v);
	u = n < 0 ? -(unsigned long long)n : (unsigned long long)n;
	*--p = '\0';
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (n < 0)
		*--p = '-';
	memcpy(buf, p, (size_t)(tmp + sizeof tmp - p));
	return buf;
}

static const char *jint(const json_t *o, const char *key, char *buf)
{
	return vint(json_object_get(o, key), buf);
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

/* The columns of the status table, as the members that fill them. */
static const char *const status_cols[] = {"name",     "state",   "pid",       "uptime_s",
                                          "restarts", "cpu_pct", "rss_bytes", "health"};
#define STATUS_NCOLS (sizeof status_cols / sizeof status_cols[0])

/* The last uptime formatted: programs started together share it, row after row. */
struct uptime_memo {
	double secs;
	char text[CELL_LEN];
};

static void status_row(struct table *t, const json_t *const *v, struct uptime_memo *up)
{
	char cells[STATUS_NCOLS][CELL_LEN];
	const char *row[STATUS_NCOLS];

	row[0] = vstr(v[0]);
	row[1] = vstr(v[1]);
	row[2] = vint(v[2], cells[2]);
	row[3] = NULL;
	if (json_is_number(v[3])) {
		if (json_number_value(v[3]) != up->secs || !up->text[0]) {
			up->secs = json_number_value(v[3]);
			/* whole seconds: "0s" reads better than util's "0ms" */
			if (up->secs < 1)
				snprintf(up->text, CELL_LEN, "0s");
			else
				util_fmt_duration(up->text, CELL_LEN, (int64_t)(up->secs * 1000));
		}
		row[3] = up->text;
	}
	row[4] = vint(v[4], cells[4]);
	row[5] = NULL;
	if (json_is_number(v[5])) {
		snprintf(cells[5], CELL_LEN, "%.1f", json_number_value(v[5]));
		row[5] = cells[5];
	}
	row[6] = NULL;
	if (json_is_number(v[6])) {
		util_fmt_size(cells[6], CELL_LEN, (int64_t)json_number_value(v[6]));
		row[6] = cells[6];
	}
	row[7] = vint(v[7], cells[7]);
	table_add(t, row, state_colour(row[1]));
}

/* A status reply is {"processes": [{...}]}, or, when the request asked for rows,
 * {"fields": [NAME...], "rows": [[VALUE...]]}. */
static void print_status(FILE *f, const json_t *reply, int colour)
{
	struct table t = {
	    .ncols = STATUS_NCOLS,
	    .head = {"NAME", "STATE", "PID", "UPTIME", "RESTARTS", "CPU%", "RSS", "HEALTH"},
	    .colour_col = colour ? 1 : -1};
	const json_t *rows = json_object_get(reply, "rows"), *p, *v[STATUS_NCOLS];
	struct uptime_memo up = {0};
	size_t i, k;

	if (json_is_array(rows)) {
		const json_t *fields = json_object_get(reply, "fields");
		size_t at[STATUS_NCOLS];

		for (k = 0; k < STATUS_NCOLS; k++) {
			at[k] = (size_t)-1;
			json_array_foreach(fields, i, p)
			{
				if (json_is_string(p) &&
				    strcmp(json_string_value(p), status_cols[k]) == 0)
					at[k] = i;
			}
		}
		json_array_foreach(rows, i, p)
		{
			for (k = 0; k < STATUS_NCOLS; k++)
				v[k] = json_array_get(p, at[k]); /* NULL when out of range */
			status_row(&t, v, &up);
		}
	} else {
		json_array_foreach(json_object_get(reply, "processes"), i, p)
		{
			for (k = 0; k < STATUS_NCOLS; k++)
				v[k] = json_object_get(p, status_cols[k]);
			status_row(&t, v, &up);
		}
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
		const char *row[7] = {jstr(p, "kind"),    jstr(p, "name"),    jstr(p, "instance"),
		                      jstr(p, "section"), jstr(p, "version"), jstr(p, "abi"),
		                      jstr(p, "file")};

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

/* "2026-11-27T03:04:05.123Z" as "2026-11-27 03:04:05" (UTC) in buf; NULL ('-') when absent. */
static const char *jtime(const json_t *o, const char *key, char *buf)
{
	const char *t = jstr(o, key);

	if (!t || strlen(t) < 19)
		return NULL;
	memcpy(buf, t, 19);
	buf[10] = ' ';
	buf[19] = '\0';
	return buf;
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
		const char *row[11];
		char cells[11][CELL_LEN];

		row[0] = jstr(e, "kind");
		row[1] = jstr(e, "name");
		row[2] = jstr(e, "id");
		row[3] = jint(e, "pid", cells[3]);
		row[4] = jstr(e, "state");
		row[5] = jstr(e, "type");
		row[6] = jstr(e, "priority");
		row[7] = jtime(e, "started_at", cells[7]);
		row[8] = jtime(e, "ended_at", cells[8]);
		if (json_is_integer(sig) && json_integer_value(sig) > 0) {
			snprintf(cells[9], CELL_LEN, "SIG%s",
			         util_signal_name((int)json_integer_value(sig)));
			row[9] = cells[9];
		} else {
			row[9] = jint(e, "exit_code", cells[9]);
		}
		row[10] = jint(e, "health", cells[10]);
		table_add(&t, row, task_colour(row[4]));
	}
	table_print(f, &t);
}

static const char *fmt_ms(const json_t *o, const char *key, char *buf)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return NULL;
	util_fmt_duration(buf, CELL_LEN, (int64_t)json_number_value(v));
	return buf;
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
		const char *row[11];
		char cells[11][CELL_LEN];

		row[0] = jstr(r, "key");
		row[1] = jint(r, "runs", cells[1]);
		row[2] = jint(r, "successes", cells[2]);
		row[3] = jint(r, "failures", cells[3]);
		row[4] = jint(r, "timeouts", cells[4]);
		v = json_object_get(r, "success_rate");
		snprintf(cells[5], CELL_LEN, "%.1f%%",
		         json_is_number(v) ? json_number_value(v) * 100 : 0);
		row[5] = json_is_number(v) ? cells[5] : NULL;
		row[6] = fmt_ms(r, "p50_ms", cells[6]);
		row[7] = fmt_ms(r, "p95_ms", cells[7]);
		row[8] = fmt_ms(r, "max_ms", cells[8]);
		v = json_object_get(r, "cpu_s");
		snprintf(cells[9], CELL_LEN, "%.2fs", json_is_number(v) ? json_number_value(v) : 0);
		row[9] = json_is_number(v) ? cells[9] : NULL;
		v = json_object_get(r, "peak_rss_bytes");
		if (json_is_number(v))
			util_fmt_size(cells[10], CELL_LEN, (int64_t)json_number_value(v));
		row[10] = json_is_number(v) ? cells[10] : NULL;
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

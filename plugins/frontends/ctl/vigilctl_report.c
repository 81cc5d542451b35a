/* vigilctl_report.c — `vigilctl report` (the document to stdout or, atomically, to a file) and
 * the human view of `vigilctl health`. */
#include "vigilctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A temporary file next to path, filled, flushed and renamed over path: a reader of path sees
 * the old report or the new one, never half of one. */
static int write_atomic(const char *path, const char *text, size_t len)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + sizeof ".tmp.XXXXXX");
	mode_t um;
	int fd, rc;

	if (!tmp)
		return vigilctl_error(EX_TEMPFAIL, "out of memory");
	memcpy(tmp, path, n);
	memcpy(tmp + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = vigilctl_error(EX_FAILED, "report: cannot create a file next to %s: %s", path,
		                    strerror(errno));
		free(tmp);
		return rc;
	}
	/* mkstemp makes it 0600: a report is for reading, as any new file under the umask */
	um = umask(0);
	umask(um);
	rc = write_all(fd, text, len);
	if (!rc && fchmod(fd, 0666 & ~um) != 0)
		rc = -errno;
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) != 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		free(tmp);
		return vigilctl_error(EX_FAILED, "report: cannot write %s: %s", path,
		                      strerror(-rc));
	}
	free(tmp);
	return EX_OK;
}

int out_report(const json_t *reply, const char *path)
{
	const json_t *doc = json_object_get(reply, "document");
	const json_t *rep = json_object_get(reply, "report");
	char *text = NULL;
	size_t len;
	int rc;

	if (json_is_string(doc)) {
		/* with --json and no file, the XML stays inside one JSON document */
		if (vigilctl_json && !path)
			text = json_dumps(reply, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		else
			text = strdup(json_string_value(doc));
	} else if (json_is_object(rep)) {
		text =
		    json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	} else {
		return vigilctl_error(EX_FAILED, "report: vigild sent no document");
	}
	if (!text)
		return vigilctl_error(EX_TEMPFAIL, "out of memory");
	len = strlen(text);
	if (path) {
		/* a document ends with a newline, as on stdout */
		char *t = realloc(text, len + 2);

		if (!t) {
			free(text);
			return vigilctl_error(EX_TEMPFAIL, "out of memory");
		}
		text = t;
		if (len == 0 || text[len - 1] != '\n')
			text[len++] = '\n';
		text[len] = '\0';
		rc = write_atomic(path, text, len);
		free(text);
		if (rc == EX_OK && vigilctl_json) {
			json_t *o = json_pack("{s:s,s:s,s:I}", "format",
			                      json_is_string(doc) ? "xml" : "json", "file", path,
			                      "bytes", (json_int_t)len);

			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
			json_decref(o);
		}
		return rc;
	}
	fputs(text, stdout);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', stdout);
	free(text);
	return fflush(stdout) == 0 ? EX_OK
	                           : vigilctl_error(EX_FAILED, "report: cannot write to stdout: %s",
	                                            strerror(errno));
}

/* ---- health ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

static long long jcount(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* "2026-11-27T03:04:05.123Z" as "2026-11-27 03:04:05" (UTC) in buf (>= 20 bytes); NULL when
 * absent. */
static const char *short_time(const json_t *o, const char *key, char *buf)
{
	const char *t = jstr(o, key);

	if (!t || strlen(t) < 19)
		return NULL;
	memcpy(buf, t, 19);
	buf[10] = ' ';
	buf[19] = '\0';
	return buf;
}

static const char *level_colour(const char *level)
{
	if (!level)
		return NULL;
	if (strcmp(level, "healthy") == 0)
		return "32";
	return strcmp(level, "degraded") == 0 ? "33" : "1;31";
}

/* The active alerts as an aligned table, indented under the instance. */
static void print_alerts(FILE *f, const json_t *alerts, int colour)
{
	size_t w_id = strlen("ALERT"), w_sev = strlen("SEVERITY"), i;
	const json_t *a;
	char tb[24];

	json_array_foreach(alerts, i, a)
	{
		if (strlen(or_dash(jstr(a, "alert"))) > w_id)
			w_id = strlen(or_dash(jstr(a, "alert")));
		if (strlen(or_dash(jstr(a, "severity"))) > w_sev)
			w_sev = strlen(or_dash(jstr(a, "severity")));
	}
	fprintf(f, "  %-*s  %-*s  %-19s  MESSAGE\n", (int)w_id, "ALERT", (int)w_sev, "SEVERITY",
	        "SINCE");
	json_array_foreach(alerts, i, a)
	{
		const char *sev = or_dash(jstr(a, "severity"));
		const char *col = !colour ? NULL : strcmp(sev, "warning") == 0 ? "33" : "1;31";

		fprintf(f, "  %-*s  ", (int)w_id, or_dash(jstr(a, "alert")));
		if (col)
			fprintf(f, "\033[%sm%s\033[0m%*s  ", col, sev, (int)(w_sev - strlen(sev)),
			        "");
		else
			fprintf(f, "%-*s  ", (int)w_sev, sev);
		fprintf(f, "%-19s  %s\n", or_dash(short_time(a, "since", tb)),
		        or_dash(jstr(a, "message")));
	}
}

/* One instance's record as a block of lines (docs/vigilctl.md shows one). */
static void print_health_one(FILE *f, const json_t *h, int colour)
{
	static const char *const factors[] = {"memory", "cpu", "restarts", "checks", "latency"};
	static const char *const limits[] = {"memory", "cpu", "runtime", "nofile", "nproc"};
	const json_t *score = json_object_get(h, "score"), *fo = json_object_get(h, "factors");
	const json_t *viol = json_object_get(h, "violations");
	const json_t *alerts = json_object_get(h, "alerts");
	const json_t *ex = json_object_get(h, "memory_exhaustion_s");
	const char *level = jstr(h, "level"), *col = colour ? level_colour(level) : NULL;
	const char *last;
	char buf[32];
	size_t i;

	fprintf(f, "%s: ", or_dash(jstr(h, "name")));
	if (!json_is_integer(score))
		fputs("not scored (no health monitor, or no sample yet)\n", f);
	else if (col)
		fprintf(f, "\033[%sm%lld/100 %s\033[0m, trend %s\n", col,
		        (long long)json_integer_value(score), or_dash(level),
		        jstr(h, "trend") ? jstr(h, "trend") : "unknown");
	else
		fprintf(f, "%lld/100 %s, trend %s\n", (long long)json_integer_value(score),
		        or_dash(level), jstr(h, "trend") ? jstr(h, "trend") : "unknown");
	if (json_is_object(fo)) {
		fputs("  factors (points lost):", f);
		for (i = 0; i < sizeof factors / sizeof factors[0]; i++) {
			const json_t *v = json_object_get(fo, factors[i]);

			if (json_is_number(v))
				fprintf(f, "%s %s %.1f", i ? "," : "", factors[i],
				        json_number_value(v));
			else
				fprintf(f, "%s %s -", i ? "," : "", factors[i]);
		}
		fputc('\n', f);
	}
	if (json_is_number(ex)) {
		util_fmt_duration(buf, sizeof buf, (int64_t)(json_number_value(ex) * 1000));
		fprintf(f, "  memory limit reached in: %s (at the current growth)\n", buf);
	}
	if (json_is_object(viol)) {
		fputs("  violations:", f);
		for (i = 0; i < sizeof limits / sizeof limits[0]; i++)
			fprintf(f, "%s %s %lld", i ? "," : "", limits[i], jcount(viol, limits[i]));
		last = short_time(h, "last_violation", buf);
		fprintf(f, " (total %lld%s%s)\n", jcount(viol, "total"), last ? ", last " : "",
		        last ? last : "");
	}
	fprintf(f, "  alerts: %zu active, %lld raised since vigild started\n",
	        json_array_size(alerts), jcount(h, "alerts_raised"));
	if (json_array_size(alerts))
		print_alerts(f, alerts, colour);
}

void out_health(FILE *f, const json_t *reply, int colour)
{
	const json_t *list = json_object_get(reply, "instances"), *h;
	size_t i;

	if (!list) {
		print_health_one(f, reply, colour);
		return;
	}
	json_array_foreach(list, i, h)
	{
		if (i)
			fputc('\n', f);
		print_health_one(f, h, colour);
	}
}

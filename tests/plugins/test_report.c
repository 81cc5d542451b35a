/* test_report.c — the report (XML, JSON, schema, XSLT) and frontend_xmlreport.so's atomic writer,
 * driven through the fake host with hostile names, messages and health records. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#ifdef VIGIL_HAVE_LIBXSLT
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>
#endif

#include <vigil/testing.h>

/* The report and the plugin are compiled into the test, as one translation unit. */
#include "../../plugins/common/report.c"
#include "../../plugins/common/report_collect.c"
#include "../../plugins/common/report_health.c"
#include "../../plugins/common/report_xml.c"
#include "../../plugins/common/report_json.c"
#include "../../plugins/common/report_render.c"
#include "../../plugins/frontends/xmlreport/xr_write.c"
#include "../../plugins/frontends/xmlreport/xmlreport.c"

/* ====================================== hostile data ====================================== */

/* Markup, quotes, a CDATA end, control characters, an ANSI escape, bytes that are not UTF-8
 * (a lone 0xff, an overlong '/', a truncated sequence, a UTF-16 surrogate), a non-character,
 * and the whitespace XML keeps. */
#define HOSTILE                                                                                    \
	"<b>&amp;\"q\" 'a' ]]> \x01\x07\x1b[31m \xff\xfe \xc0\xaf \xe2\x82 \xed\xa0\x80 "          \
	"\xef\xbf\xbf caf\xc3\xa9 \xf0\x9f\x98\x80\ttab\nline\rcr"

static const char *const web_tags[] = {"front<end>", "a&b", "q\"uo't", "\xff", NULL};
static const char *const no_tags[] = {NULL};

#define WALL0 INT64_C(1700000000000) /* the fake's wall clock at now_ms = 0 */

static struct vigil_proc_info procs[] = {
    {.size = sizeof(struct vigil_proc_info),
     .state = VIGIL_PROC_RUNNING,
     .name = "web.0",
     .program = "web",
     .command = "/usr/bin/web --title=" HOSTILE,
     .instance = 0,
     .pid = 4242,
     .priority = VIGIL_PRIO_HIGH,
     .started_at_ms = WALL0 - 3600000,
     .state_since_ms = WALL0 - 3599000,
     .restarts = 2,
     .exit_code = 1,
     .exit_signal = 0,
     .last_reason = "exited",
     .tags = web_tags,
     .stdout_log = "/var/log/web<0>.out",
     .stderr_log = NULL,
     .cpu_pct = 12.5,
     .rss_bytes = 10485760,
     .health = 85,
     .limit_memory = 536870912,
     .limit_cpu = 150,
     .limit_runtime_ms = 0,
     .limit_nofile = 1024,
     .limit_nproc = 0},
    {.size = sizeof(struct vigil_proc_info),
     .state = VIGIL_PROC_BACKOFF,
     .name = "web.1",
     .program = "web",
     .command = "/usr/bin/web --title=" HOSTILE,
     .instance = 1,
     .pid = 0,
     .priority = VIGIL_PRIO_HIGH,
     .started_at_ms = WALL0 - 5000,
     .state_since_ms = WALL0 - 1000,
     .restarts = 7,
     .exit_code = -1,
     .exit_signal = 9,
     .last_reason = "killed <oom> & more",
     .tags = web_tags,
     .cpu_pct = -1,
     .rss_bytes = -1,
     .health = 15,
     .limit_memory = 536870912,
     .limit_cpu = 150,
     .limit_nofile = 1024},
    {.size = sizeof(struct vigil_proc_info),
     .state = VIGIL_PROC_STOPPED,
     .name = "odd\xff<&>\"'",
     .program = "odd\xff<&>\"'",
     .command = HOSTILE,
     .instance = -1,
     .pid = 0,
     .priority = VIGIL_PRIO_LOW,
     .started_at_ms = 0,
     .state_since_ms = 0,
     .restarts = 0,
     .exit_code = -1,
     .exit_signal = 0,
     .last_reason = NULL,
     .tags = no_tags,
     .cpu_pct = -1,
     .rss_bytes = -1,
     .health = -1},
};
#define NPROCS (sizeof procs / sizeof procs[0])

static struct vigil_plugin_info plugins[] = {
    {.size = sizeof(struct vigil_plugin_info),
     .kind = "store",
     .plugin = "sqlite",
     .instance = "sqlite",
     .section = "store.sqlite",
     .version = "1.0",
     .description = "registry & history <sqlite>",
     .file = "/usr/lib/vigil/plugins/store_sqlite.so",
     .abi_major = 1,
     .abi_minor = 0},
    {.size = sizeof(struct vigil_plugin_info),
     .kind = "policy",
     .plugin = "backoff",
     .instance = "fast",
     .section = "policy.backoff.fast",
     .version = HOSTILE,
     .description = HOSTILE,
     .file = "/p/policy_backoff.so",
     .abi_major = 1,
     .abi_minor = 0},
    /* a kind the report cannot describe is left out */
    {.size = sizeof(struct vigil_plugin_info),
     .kind = "bogus",
     .plugin = "x",
     .instance = "x",
     .abi_major = 1,
     .abi_minor = 0},
};

static struct vigil_task_info core_tasks[] = {
    {.size = sizeof(struct vigil_task_info),
     .id = "t-queued",
     .name = "build <main> & \"test\"",
     .type = "build",
     .pool = "agents",
     .command = "make " HOSTILE,
     .state = VIGIL_TASK_QUEUED,
     .priority = VIGIL_PRIO_CRITICAL,
     .attempt = 1,
     .queue_position = 3,
     .submitted_at_ms = WALL0 - 1000,
     .exit_code = -1,
     .duration_ms = 0,
     .cpu_s = 0,
     .peak_rss_bytes = 0,
     .timeout_ms = 1800000},
    {.size = sizeof(struct vigil_task_info),
     .id = "t-running",
     .name = "n\xc0\xaf",
     .type = "b\x01",
     .pool = "agents",
     .command = "sleep 100",
     .state = VIGIL_TASK_RUNNING,
     .priority = VIGIL_PRIO_NORMAL,
     .pid = 777,
     .attempt = 2,
     .submitted_at_ms = WALL0 - 9000,
     .started_at_ms = WALL0 - 8000,
     .exit_code = -1,
     .duration_ms = -1,
     .cpu_s = -1,
     .peak_rss_bytes = -1},
    {.size = sizeof(struct vigil_task_info),
     .id = "t-done",
     .name = "lint",
     .type = "build",
     .pool = "agents",
     .command = "lint ]]>",
     .state = VIGIL_TASK_TIMEOUT,
     .priority = VIGIL_PRIO_LOW,
     .attempt = 1,
     .submitted_at_ms = WALL0 - 60000,
     .started_at_ms = WALL0 - 59000,
     .ended_at_ms = WALL0 - 29000,
     .exit_code = -1,
     .signal = 15,
     .duration_ms = 30000,
     .cpu_s = 1.25,
     .peak_rss_bytes = 2048,
     .timeout_ms = 30000,
     .error = "timed out <30s> & killed"},
    /* finished before any 1-hour window: left out then */
    {.size = sizeof(struct vigil_task_info),
     .id = "t-old",
     .name = "old",
     .type = "build",
     .pool = "agents",
     .command = "old",
     .state = VIGIL_TASK_SUCCEEDED,
     .priority = VIGIL_PRIO_NORMAL,
     .attempt = 1,
     .submitted_at_ms = WALL0 - 7200000,
     .started_at_ms = WALL0 - 7199000,
     .ended_at_ms = WALL0 - 7100000,
     .exit_code = 0,
     .duration_ms = 99000,
     .cpu_s = 0.5,
     .peak_rss_bytes = 4096},
};
static size_t ncore_tasks = sizeof core_tasks / sizeof core_tasks[0];

static struct vigil_history_row hist_rows[] = {
    /* the store also knows a task the core holds: listed once, the core's way */
    {.size = sizeof(struct vigil_history_row),
     .kind = "task",
     .name = "lint",
     .program = "agents",
     .id = "t-done",
     .state = "timeout",
     .type = "build",
     .priority = "low",
     .started_at_ms = WALL0 - 59000,
     .ended_at_ms = WALL0 - 29000,
     .exit_code = -1,
     .signal = 15,
     .cpu_s = 1.25,
     .peak_rss_bytes = 2048},
    {.size = sizeof(struct vigil_history_row),
     .kind = "task",
     .name = "deploy \xff<&>",
     .program = "ops",
     .id = "h-1",
     .pid = 100,
     .state = "failed",
     .type = "deploy",
     .priority = "high",
     .started_at_ms = WALL0 - 1800000,
     .ended_at_ms = WALL0 - 1700000,
     .exit_code = 3,
     .signal = 0,
     .reason = "exited",
     .error = "exit 3: " HOSTILE,
     .cpu_s = 2.5,
     .peak_rss_bytes = 1 << 20},
    /* an earlier attempt of h-1: a task is listed once, as its newest row says */
    {.size = sizeof(struct vigil_history_row),
     .kind = "task",
     .name = "deploy \xff<&>",
     .program = "ops",
     .id = "h-1",
     .pid = 99,
     .state = "killed",
     .type = "deploy",
     .priority = "high",
     .started_at_ms = WALL0 - 1850000,
     .ended_at_ms = WALL0 - 1840000,
     .exit_code = -1,
     .signal = 9,
     .cpu_s = 0.5,
     .peak_rss_bytes = 1 << 20},
    /* a state name the report does not know: derived from the exit */
    {.size = sizeof(struct vigil_history_row),
     .kind = "task",
     .name = "x",
     .program = "ops",
     .id = "h-2",
     .state = "exited",
     .type = "deploy",
     .priority = "bogus",
     .started_at_ms = WALL0 - 2000000,
     .ended_at_ms = WALL0 - 1990000,
     .exit_code = 0,
     .cpu_s = -1,
     .peak_rss_bytes = -1},
    {.size = sizeof(struct vigil_history_row),
     .kind = "task",
     .name = "ancient",
     .program = "ops",
     .id = "h-3",
     .state = "succeeded",
     .type = "deploy",
     .priority = "low",
     .started_at_ms = WALL0 - 90000000,
     .ended_at_ms = WALL0 - 89000000,
     .exit_code = 0,
     .cpu_s = 0.1,
     .peak_rss_bytes = 100},
};
#define NHIST (sizeof hist_rows / sizeof hist_rows[0])

static struct vigil_stats_row stat_rows[] = {
    {.size = sizeof(struct vigil_stats_row),
     .key = "build",
     .runs = 10,
     .successes = 7,
     .failures = 2,
     .timeouts = 1,
     .success_rate = 0.7,
     .p50_ms = 1500,
     .p95_ms = 29000,
     .max_ms = 30000,
     .cpu_s = 12.345,
     .peak_rss_bytes = 1 << 24},
    {.size = sizeof(struct vigil_stats_row),
     .key = "de<p>loy & \xff\"",
     .runs = 3,
     .successes = 1,
     .failures = 2,
     .timeouts = 0,
     .success_rate = 1.0 / 3,
     .p50_ms = 100,
     .p95_ms = 200,
     .max_ms = 250,
     .cpu_s = 0.001,
     .peak_rss_bytes = 0},
    {.size = sizeof(struct vigil_stats_row),
     .key = "never",
     .runs = 0,
     .cpu_s = 0,
     .peak_rss_bytes = -1},
};
#define NSTATS (sizeof stat_rows / sizeof stat_rows[0])

/* What the fake store answers, and what it was asked. */
static int history_rc, stats_rc;
static struct vigil_history_query last_hq;
static struct vigil_stats_query last_sq;
static unsigned history_rows_given;

static int fake_task_foreach(const char *id, vigil_task_fn fn, void *arg)
{
	int rc = 0;

	ck_assert_ptr_null(id);
	for (size_t i = 0; i < ncore_tasks && !rc; i++)
		rc = fn(&core_tasks[i], arg);
	return rc;
}

static int fake_history(const struct vigil_history_query *q, vigil_history_fn fn, void *arg)
{
	uint32_t limit = q->limit ? q->limit : 1000, n = 0;
	int rc = 0;

	last_hq = *q;
	if (history_rc < 0)
		return history_rc;
	for (size_t i = 0; i < NHIST && !rc && n < limit; i++) {
		if (q->since_ms && hist_rows[i].ended_at_ms &&
		    hist_rows[i].started_at_ms < q->since_ms)
			continue;
		n++;
		history_rows_given++;
		rc = fn(&hist_rows[i], arg);
	}
	return rc;
}

static int fake_stats(const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg)
{
	int rc = 0;

	last_sq = *q;
	if (stats_rc < 0)
		return stats_rc;
	for (size_t i = 0; i < NSTATS && !rc; i++)
		rc = fn(&stat_rows[i], arg);
	return rc;
}

static struct vigil_fake_host fh;

/* A fake daemon with programs, plugins, tasks, a store with history and statistics. */
static void host_up(void)
{
	vigil_fake_host_init(&fh);
	fh.kind = "frontend";
	fh.instance = "xmlreport";
	fh.procs = procs;
	fh.nprocs = NPROCS;
	fh.plugins = plugins;
	fh.nplugins = sizeof plugins / sizeof plugins[0];
	fh.host.task_foreach = fake_task_foreach;
	fh.host.history_query = fake_history;
	fh.host.stats_query = fake_stats;
	history_rc = stats_rc = 0;
	history_rows_given = 0;
	ncore_tasks = sizeof core_tasks / sizeof core_tasks[0];
	memset(&last_hq, 0, sizeof last_hq);
	memset(&last_sq, 0, sizeof last_sq);
}

static void host_down(void)
{
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
}

/* ===================================== XML helpers ===================================== */

static char *source_path(const char *rel)
{
	const char *src = getenv("VIGIL_SOURCE_DIR");
	char *p;

	if (src && *src) {
		ck_assert_int_ge(asprintf(&p, "%s/%s", src, rel), 0);
	} else { /* run by hand: this file is tests/plugins/test_report.c */
		const char *slash = strrchr(__FILE__, '/');

		ck_assert_int_ge(asprintf(&p, "%.*s/../../%s", slash ? (int)(slash - __FILE__) : 1,
		                          slash ? __FILE__ : ".", rel),
		                 0);
	}
	return p;
}

static xmlSchemaPtr schema(void)
{
	static xmlSchemaPtr s;

	if (!s) {
		char *path = source_path("sdk/schema/vigil-report-1.xsd");
		xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(path);

		ck_assert_ptr_nonnull(pc);
		s = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
		ck_assert_msg(s, "cannot load the schema %s", path);
		free(path);
	}
	return s;
}

/* Parses (strictly: no recovery, no network) and validates; returns the document. */
static xmlDocPtr parse_valid(const char *buf, size_t len)
{
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, "report.xml", "UTF-8", XML_PARSE_NONET);
	xmlSchemaValidCtxtPtr vc;
	int rc;

	ck_assert_msg(doc, "the report is not well-formed XML:\n%.2000s", buf);
	vc = xmlSchemaNewValidCtxt(schema());
	ck_assert_ptr_nonnull(vc);
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	ck_assert_msg(rc == 0, "the report does not validate (%d):\n%.4000s", rc, buf);
	return doc;
}

static xmlXPathObjectPtr xpath(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;

	ck_assert_ptr_nonnull(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "v", BAD_CAST REPORT_NAMESPACE);
	o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	xmlXPathFreeContext(ctx);
	ck_assert_msg(o, "bad xpath %s", expr);
	return o;
}

static long xcount(xmlDocPtr doc, const char *expr)
{
	char e[512];
	xmlXPathObjectPtr o;
	double n;

	snprintf(e, sizeof e, "count(%s)", expr);
	o = xpath(doc, e);
	n = o->floatval;
	xmlXPathFreeObject(o);
	return (long)n;
}

/* The string value of expr, malloc'd ("" when it selects nothing). */
static char *xstr(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr o = xpath(doc, expr);
	xmlChar *s = xmlXPathCastToString(o);
	char *out = strdup((const char *)s);

	xmlFree(s);
	xmlXPathFreeObject(o);
	return out;
}

static void assert_xstr(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xstr(doc, expr);

	ck_assert_msg(strcmp(got, want) == 0, "%s: got '%s', want '%s'", expr, got, want);
	free(got);
}

/* expr's string value is the clean form of raw (what the report promises for hostile text). */
static void assert_xclean(xmlDocPtr doc, const char *expr, const char *raw)
{
	char *want = report_text_clean(raw);

	assert_xstr(doc, expr, want);
	free(want);
}

static char *tmpdir_new(void)
{
	char *d = strdup("/tmp/vigil-report-XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(d));
	return d;
}

static void tmpdir_rm(char *d)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
	free(d);
}

static void write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f, "cannot open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* `xmllint --noout --schema vigil-report-1.xsd FILE`: 0 valid, 77 when xmllint is missing. */
static int xmllint_validate(const char *file)
{
	char *xsd = source_path("sdk/schema/vigil-report-1.xsd");
	char *argv[] = {"xmllint", "--noout", "--nonet", "--schema", xsd, (char *)file, NULL};
	pid_t pid;
	int st;

	/* (fork + exec: core/spawn.h, on the include path of tests, hides <spawn.h>) */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	free(xsd);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	if (WEXITSTATUS(st) == 127)
		return 77;
	return WEXITSTATUS(st);
}

static void assert_xmllint(const char *buf, size_t len)
{
	char *dir = tmpdir_new(), path[512];
	int rc;

	snprintf(path, sizeof path, "%s/report.xml", dir);
	write_file(path, buf, len);
	rc = xmllint_validate(path);
	if (rc == 77)
		fprintf(stderr, "NOTE: xmllint is not installed: validated with libxml2 only\n");
	else
		ck_assert_msg(rc == 0, "xmllint --schema rejects the report (exit %d)", rc);
	tmpdir_rm(dir);
}

static char *render(enum report_format fmt, int64_t since_ms, uint32_t max_tasks, size_t *len)
{
	struct report_options opt = {.format = fmt,
	                             .since_ms = since_ms,
	                             .max_tasks = max_tasks,
	                             .started_ms = WALL0 - 7200000};
	int err = 0;
	char *doc = report_render(&fh.host, &opt, len, &err);

	ck_assert_msg(doc, "report_render: %s", strerror(-err));
	ck_assert_uint_eq(strlen(doc), *len);
	return doc;
}

/* ====================================== clean text ====================================== */

static void assert_clean(const char *in, const char *want)
{
	char *got = report_text_clean(in);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "clean(%s) = '%s', want '%s'", in, got, want);
	free(got);
}

#define FFFD "\xef\xbf\xbd"

START_TEST(clean_text)
{
	assert_clean("plain caf\xc3\xa9 \xf0\x9f\x98\x80 <&>\"'",
	             "plain caf\xc3\xa9 \xf0\x9f\x98\x80 <&>\"'");
	assert_clean("\t\n\r", "\t\n\r"); /* the whitespace XML keeps */
	assert_clean("a\x01"
	             "b\x1b"
	             "c\x7f",
	             "a" FFFD "b" FFFD "c\x7f"); /* C0 controls go */
	assert_clean("\xff", FFFD);
	assert_clean("\xc0\xaf", FFFD FFFD);                      /* overlong '/' */
	assert_clean("\xe2\x82", FFFD FFFD);                      /* truncated */
	assert_clean("\xed\xa0\x80", FFFD FFFD FFFD);             /* a UTF-16 surrogate */
	assert_clean("\xef\xbf\xbe|\xef\xbf\xbf", FFFD "|" FFFD); /* U+FFFE, U+FFFF */
	assert_clean("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);    /* past U+10FFFF */
	assert_clean("", "");
	ck_assert_ptr_null(report_text_clean(NULL));
}
END_TEST

START_TEST(formatting)
{
	char buf[64];

	ck_assert_int_eq(report_time(buf, sizeof buf, WALL0 + 123), 1);
	ck_assert_str_eq(buf, "2023-11-14T22:13:20.123Z");
	ck_assert_int_eq(report_time(buf, sizeof buf, 0), 0);
	ck_assert_int_eq(report_time(buf, sizeof buf, INT64_MAX), 0);
	ck_assert_int_eq(report_decimal(buf, sizeof buf, 12.5, 3), 1);
	ck_assert_str_eq(buf, "12.500");
	ck_assert_int_eq(report_decimal(buf, sizeof buf, 0.99996, 4), 1);
	ck_assert_str_eq(buf, "1.0000");
	ck_assert_int_eq(report_decimal(buf, sizeof buf, 1e20, 3), 1);
	ck_assert_str_eq(buf, "100000000000000000000");
	ck_assert_int_eq(report_decimal(buf, sizeof buf, -1, 3), 0);
	ck_assert_int_eq(report_decimal(buf, sizeof buf, 0.0 / 0.0, 3), 0);
	ck_assert_str_eq(report_health_level(70), "healthy");
	ck_assert_str_eq(report_health_level(69), "degraded");
	ck_assert_str_eq(report_health_level(20), "unhealthy");
	ck_assert_str_eq(report_health_level(19), "critical");
}
END_TEST

/* ==================================== the XML report ==================================== */

START_TEST(xml_hostile_validates)
{
	size_t len;
	char *buf, pid[32];
	xmlDocPtr doc;

	host_up();
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	assert_xmllint(buf, len);

	/* the supervisor */
	assert_xstr(doc, "/v:report/@schemaVersion", "1.0");
	assert_xstr(doc, "/v:report/@generated", "2023-11-14T22:13:20.000Z");
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	assert_xstr(doc, "//v:supervisor/@pid", pid);
	assert_xstr(doc, "//v:supervisor/@version", VIGIL_VERSION_STRING);
	assert_xstr(doc, "//v:supervisor/@abi", "1.0");
	assert_xstr(doc, "//v:supervisor/@started", "2023-11-14T20:13:20.000Z");
	assert_xstr(doc, "//v:supervisor/@uptimeSeconds", "7200");
	assert_xstr(doc, "//v:supervisor/v:stateDir", "/tmp");
	ck_assert_int_eq(xcount(doc, "//v:plugins/v:plugin"), 2); /* "bogus" left out */
	assert_xstr(doc, "//v:plugin[@instance='fast']/@section", "policy.backoff.fast");
	assert_xclean(doc, "//v:plugin[@instance='fast']/@version", HOSTILE);
	assert_xclean(doc, "//v:plugin[@instance='fast']/v:description", HOSTILE);

	/* programs and instances, hostile text intact (cleaned only where it had to be) */
	ck_assert_int_eq(xcount(doc, "//v:program"), 2);
	ck_assert_int_eq(xcount(doc, "//v:instance"), 3);
	assert_xstr(doc, "//v:program[1]/@name", "web");
	assert_xstr(doc, "//v:program[1]/@priority", "high");
	assert_xclean(doc, "//v:program[1]/v:command", "/usr/bin/web --title=" HOSTILE);
	assert_xclean(doc, "//v:program[2]/@name", "odd\xff<&>\"'");
	assert_xclean(doc, "//v:program[2]/v:command", HOSTILE);
	ck_assert_int_eq(xcount(doc, "//v:program[1]/v:tags/v:tag"), 4);
	assert_xstr(doc, "//v:program[1]/v:tags/v:tag[1]", "front<end>");
	assert_xstr(doc, "//v:program[1]/v:tags/v:tag[3]", "q\"uo't");
	assert_xstr(doc, "//v:program[1]/v:tags/v:tag[4]", FFFD);
	ck_assert_int_eq(xcount(doc, "//v:program[2]/v:tags"), 0);
	assert_xstr(doc, "//v:program[1]/v:limits/@memoryBytes", "536870912");
	assert_xstr(doc, "//v:program[1]/v:limits/@cpuPercent", "150.000");
	assert_xstr(doc, "//v:program[1]/v:limits/@nofile", "1024");
	ck_assert_int_eq(xcount(doc, "//v:program[1]/v:limits/@runtimeMs"), 0);
	ck_assert_int_eq(xcount(doc, "//v:program[2]/v:limits"), 0);

	assert_xstr(doc, "//v:instance[@name='web.0']/@state", "running");
	assert_xstr(doc, "//v:instance[@name='web.0']/@index", "0");
	assert_xstr(doc, "//v:instance[@name='web.0']/@pid", "4242");
	assert_xstr(doc, "//v:instance[@name='web.0']/@uptimeSeconds", "3600");
	assert_xstr(doc, "//v:instance[@name='web.0']/@restarts", "2");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:lastExit/@code", "1");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:metrics/@cpuPercent", "12.500");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:metrics/@rssBytes", "10485760");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@score", "85");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@level", "healthy");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:log[@stream='stdout']",
	            "/var/log/web<0>.out");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.0']/v:log"), 1);
	assert_xstr(doc, "//v:instance[@name='web.1']/@state", "backoff");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/@pid"), 0);
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:lastExit/@code"), 0);
	assert_xstr(doc, "//v:instance[@name='web.1']/v:lastExit/@signal", "9");
	assert_xstr(doc, "//v:instance[@name='web.1']/v:lastExit/@reason", "killed <oom> & more");
	assert_xstr(doc, "//v:instance[@name='web.1']/v:health/@level", "critical");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:metrics"), 0);
	ck_assert_int_eq(xcount(doc, "//v:program[2]/v:instance/@index"), 0);
	/* the core has a health record of each instance with nothing in it: known to have no
	 * alerts and no violations (empty, not absent), and the process table's score stays */
	ck_assert_int_eq(xcount(doc, "//v:program[2]/v:instance/*[not(self::v:alerts or "
	                             "self::v:violations)]"),
	                 0); /* nothing else known */
	ck_assert_int_eq(xcount(doc, "//v:instance/v:alerts"), 3);
	ck_assert_int_eq(xcount(doc, "//v:alerts/*"), 0);
	ck_assert_int_eq(xcount(doc, "//v:instance/v:violations[@total='0']"), 3);
	ck_assert_int_eq(xcount(doc, "//v:violations/*"), 0);
	ck_assert_int_eq(xcount(doc, "//v:health/@trend"), 0);

	/* tasks: the core's and the store's, each once, newest first */
	assert_xstr(doc, "//v:tasks/@count", "7");
	assert_xstr(doc, "//v:tasks/@truncated", "false");
	assert_xstr(doc, "//v:tasks/@history", "included");
	ck_assert_int_eq(xcount(doc, "//v:tasks/@since"), 0);
	ck_assert_int_eq(xcount(doc, "//v:task"), 7);
	ck_assert_int_eq(xcount(doc, "//v:task[@id='t-done']"), 1);
	assert_xstr(doc, "//v:task[1]/@id", "t-queued");
	assert_xstr(doc, "//v:task[2]/@id", "t-running");
	assert_xstr(doc, "//v:task[7]/@id", "h-3");
	assert_xclean(doc, "//v:task[@id='t-queued']/@name", "build <main> & \"test\"");
	assert_xclean(doc, "//v:task[@id='t-queued']/v:command", "make " HOSTILE);
	assert_xstr(doc, "//v:task[@id='t-queued']/@state", "queued");
	assert_xstr(doc, "//v:task[@id='t-queued']/@priority", "critical");
	assert_xstr(doc, "//v:task[@id='t-queued']/@queuePosition", "3");
	assert_xstr(doc, "//v:task[@id='t-queued']/@submitted", "2023-11-14T22:13:19.000Z");
	assert_xstr(doc, "//v:task[@id='t-queued']/@timeoutMs", "1800000");
	ck_assert_int_eq(xcount(doc, "//v:task[@id='t-queued']/@started | "
	                             "//v:task[@id='t-queued']/@durationMs | "
	                             "//v:task[@id='t-queued']/@cpuSeconds"),
	                 0);
	assert_xclean(doc, "//v:task[@id='t-running']/@name", "n\xc0\xaf");
	assert_xclean(doc, "//v:task[@id='t-running']/@type", "b\x01");
	assert_xstr(doc, "//v:task[@id='t-running']/@pid", "777");
	assert_xstr(doc, "//v:task[@id='t-running']/@attempts", "2");
	assert_xstr(doc, "//v:task[@id='t-done']/@state", "timeout");
	assert_xstr(doc, "//v:task[@id='t-done']/@signal", "15");
	ck_assert_int_eq(xcount(doc, "//v:task[@id='t-done']/@exitCode"), 0);
	assert_xstr(doc, "//v:task[@id='t-done']/@durationMs", "30000");
	assert_xstr(doc, "//v:task[@id='t-done']/@cpuSeconds", "1.250");
	assert_xstr(doc, "//v:task[@id='t-done']/v:command", "lint ]]>");
	assert_xstr(doc, "//v:task[@id='t-done']/v:error", "timed out <30s> & killed");
	assert_xclean(doc, "//v:task[@id='h-1']/@name", "deploy \xff<&>");
	assert_xstr(doc, "//v:task[@id='h-1']/@pool", "ops");
	ck_assert_int_eq(xcount(doc, "//v:task[@id='h-1']"), 1);
	assert_xstr(doc, "//v:task[@id='h-1']/@state", "failed");
	assert_xstr(doc, "//v:task[@id='h-1']/@exitCode", "3");
	assert_xstr(doc, "//v:task[@id='h-1']/@durationMs", "100000");
	assert_xstr(doc, "//v:task[@id='h-1']/v:reason", "exited");
	assert_xclean(doc, "//v:task[@id='h-1']/v:error", "exit 3: " HOSTILE);
	ck_assert_int_eq(xcount(doc, "//v:task[@id='h-1']/@pid"), 0); /* it has ended */
	assert_xstr(doc, "//v:task[@id='h-2']/@state", "succeeded");
	ck_assert_int_eq(xcount(doc, "//v:task[@id='h-2']/@priority"), 0);
	ck_assert_str_eq(last_hq.kind, "task");
	ck_assert_int_eq(last_hq.since_ms, 0);
	ck_assert_uint_eq(last_hq.limit, REPORT_MAX_TASKS + 4 + 1); /* + the core's 4 */

	/* statistics */
	assert_xstr(doc, "//v:statistics/@by", "type");
	assert_xstr(doc, "//v:statistics/@available", "true");
	ck_assert_int_eq(xcount(doc, "//v:statistics/v:group"), 3);
	assert_xstr(doc, "//v:group[1]/@successRate", "0.7000");
	assert_xstr(doc, "//v:group[1]/@p95Ms", "29000");
	assert_xstr(doc, "//v:group[1]/@cpuSeconds", "12.345");
	assert_xclean(doc, "//v:group[2]/@key", "de<p>loy & \xff\"");
	assert_xstr(doc, "//v:group[2]/@successRate", "0.3333");
	assert_xstr(doc, "//v:group[3]/@runs", "0");
	ck_assert_int_eq(xcount(doc, "//v:group[3]/@successRate | //v:group[3]/@p50Ms | "
	                             "//v:group[3]/@peakRssBytes"),
	                 0);
	ck_assert_str_eq(last_sq.by, "type");

	/* nothing of the raw bytes made it through: the text is valid UTF-8 with no controls */
	ck_assert_ptr_null(strstr(buf, "\x01"));
	ck_assert_ptr_null(strstr(buf, "\xff"));
	ck_assert_ptr_null(strstr(buf, "&#1;"));
	xmlFreeDoc(doc);
	free(buf);
	host_down();
}
END_TEST

START_TEST(compact_and_empty)
{
	size_t len;
	char *buf;
	xmlDocPtr doc;
	struct report_options opt = {.format = REPORT_XML, .compact = 1};
	int err = 0;

	host_up();
	fh.nprocs = 0;
	fh.nplugins = 0;
	fh.host.task_foreach = NULL;
	fh.host.history_query = NULL;
	fh.host.stats_query = NULL;
	buf = report_render(&fh.host, &opt, &len, &err);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_null(strstr(buf, "\n  <")); /* no indentation */
	doc = parse_valid(buf, len);
	ck_assert_int_eq(xcount(doc, "//v:program | //v:task | //v:group | //v:plugin"), 0);
	assert_xstr(doc, "//v:tasks/@history", "unavailable");
	assert_xstr(doc, "//v:statistics/@available", "false");
	ck_assert(xcount(doc, "//v:supervisor/@started") == 1); /* from /proc/self/stat */
	xmlFreeDoc(doc);
	free(buf);

	/* a NULL options pointer is the default: XML, indented, no window */
	buf = report_render(&fh.host, NULL, &len, &err);
	ck_assert_ptr_nonnull(buf);
	xmlFreeDoc(parse_valid(buf, len));
	free(buf);

	opt.stats_by = "colour";
	ck_assert_ptr_null(report_render(&fh.host, &opt, &len, &err));
	ck_assert_int_eq(err, -EINVAL);
	opt.stats_by = "pool";
	opt.format = (enum report_format)7;
	ck_assert_ptr_null(report_render(&fh.host, &opt, &len, &err));
	ck_assert_int_eq(err, -EINVAL);
	host_down();
}
END_TEST

START_TEST(window_and_cap)
{
	int64_t since = WALL0 - 3600000;
	size_t len;
	char *buf;
	xmlDocPtr doc;

	host_up();
	buf = render(REPORT_XML, since, 0, &len);
	doc = parse_valid(buf, len);
	/* t-old ended before the window, h-3 started before it */
	assert_xstr(doc, "//v:tasks/@count", "5");
	ck_assert_int_eq(xcount(doc, "//v:task[@id='t-old' or @id='h-3']"), 0);
	assert_xstr(doc, "//v:tasks/@since", "2023-11-14T21:13:20.000Z");
	assert_xstr(doc, "//v:statistics/@since", "2023-11-14T21:13:20.000Z");
	ck_assert_int_eq(last_hq.since_ms, since);
	ck_assert_int_eq(last_sq.since_ms, since);
	xmlFreeDoc(doc);
	free(buf);

	/* a cap: the newest the core holds first, then the list says it is cut */
	history_rows_given = 0;
	buf = render(REPORT_XML, 0, 2, &len);
	doc = parse_valid(buf, len);
	assert_xstr(doc, "//v:tasks/@count", "2");
	assert_xstr(doc, "//v:tasks/@truncated", "true");
	assert_xstr(doc, "//v:task[1]/@id", "t-queued");
	assert_xstr(doc, "//v:task[2]/@id", "t-running");
	ck_assert_uint_eq(last_hq.limit, 2 + 4 + 1);
	ck_assert_uint_le(history_rows_given, 2); /* the query was stopped, not read to the end */
	xmlFreeDoc(doc);
	free(buf);
	host_down();
}
END_TEST

START_TEST(store_without_history)
{
	size_t len;
	char *buf;
	xmlDocPtr doc;

	host_up();
	/* the store says it cannot: the core's tasks only, and it says so */
	history_rc = stats_rc = -ENOSYS;
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	assert_xstr(doc, "//v:tasks/@history", "unavailable");
	assert_xstr(doc, "//v:tasks/@count", "4");
	assert_xstr(doc, "//v:statistics/@available", "false");
	ck_assert_int_eq(xcount(doc, "//v:group"), 0);
	xmlFreeDoc(doc);
	free(buf);

	/* a failing store */
	history_rc = stats_rc = -EIO;
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	assert_xstr(doc, "//v:tasks/@history", "failed");
	assert_xstr(doc, "//v:statistics/@available", "false");
	xmlFreeDoc(doc);
	free(buf);

	/* an older core whose host table ends before the task functions */
	history_rc = stats_rc = 0;
	fh.host.size = (uint32_t)offsetof(struct vigil_host, history_query);
	buf = render(REPORT_JSON, 0, 0, &len);
	{
		json_error_t jerr;
		json_t *j = json_loads(buf, 0, &jerr);

		ck_assert_msg(j, "JSON: %s", jerr.text);
		ck_assert_uint_eq(
		    json_array_size(json_object_get(json_object_get(j, "tasks"), "items")), 0);
		ck_assert_str_eq(
		    json_string_value(json_object_get(json_object_get(j, "tasks"), "history")),
		    "unavailable");
		json_decref(j);
	}
	free(buf);
	fh.host.size = sizeof fh.host;
	host_down();
}
END_TEST

/* ================================== the JSON report ================================== */

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(v, "no key %s", key);
	return json_is_null(v) ? NULL : json_string_value(v);
}

START_TEST(json_same_content)
{
	size_t xlen, jlen, i;
	char *xbuf, *jbuf, expr[256];
	xmlDocPtr doc;
	json_error_t jerr;
	json_t *j, *progs, *tasks, *groups, *t, *inst;
	long ninst = 0;

	host_up();
	xbuf = render(REPORT_XML, 0, 0, &xlen);
	jbuf = render(REPORT_JSON, 0, 0, &jlen);
	doc = parse_valid(xbuf, xlen);
	j = json_loads(jbuf, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(j, "the JSON report does not parse: %s (line %d)", jerr.text, jerr.line);

	ck_assert_str_eq(jstr(j, "schema"), REPORT_NAMESPACE);
	ck_assert_str_eq(jstr(j, "generated_at"), "2023-11-14T22:13:20.000Z");
	ck_assert_uint_eq(
	    json_array_size(json_object_get(json_object_get(j, "supervisor"), "plugins")),
	    (size_t)xcount(doc, "//v:plugin"));
	progs = json_object_get(j, "programs");
	ck_assert_uint_eq(json_array_size(progs), (size_t)xcount(doc, "//v:program"));
	for (i = 0; i < json_array_size(progs); i++) {
		json_t *p = json_array_get(progs, i);

		snprintf(expr, sizeof expr, "//v:program[%zu]/@name", i + 1);
		assert_xstr(doc, expr, jstr(p, "name"));
		snprintf(expr, sizeof expr, "//v:program[%zu]/v:command", i + 1);
		assert_xstr(doc, expr, jstr(p, "command"));
		ninst += (long)json_array_size(json_object_get(p, "instances"));
	}
	ck_assert_int_eq(ninst, xcount(doc, "//v:instance"));

	tasks = json_object_get(json_object_get(j, "tasks"), "items");
	ck_assert_uint_eq(json_array_size(tasks), (size_t)xcount(doc, "//v:task"));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "tasks"), "count")),
	                 xcount(doc, "//v:task"));
	json_array_foreach(tasks, i, t)
	{
		snprintf(expr, sizeof expr, "//v:task[%zu]/@id", i + 1);
		assert_xstr(doc, expr, jstr(t, "id"));
		snprintf(expr, sizeof expr, "//v:task[%zu]/@state", i + 1);
		assert_xstr(doc, expr, jstr(t, "state"));
		if (jstr(t, "name")) {
			snprintf(expr, sizeof expr, "//v:task[%zu]/@name", i + 1);
			assert_xstr(doc, expr, jstr(t, "name"));
		}
	}
	/* unknown is null, not absent and not a made-up number */
	t = json_array_get(tasks, 0);
	ck_assert(json_is_null(json_object_get(t, "started_at")));
	ck_assert(json_is_null(json_object_get(t, "exit_code")));
	ck_assert_int_eq(json_integer_value(json_object_get(t, "queue_position")), 3);
	inst = json_array_get(json_object_get(json_array_get(progs, 0), "instances"), 1);
	ck_assert_str_eq(jstr(inst, "name"), "web.1");
	ck_assert(json_is_null(json_object_get(inst, "pid")));

	groups = json_object_get(json_object_get(j, "statistics"), "groups");
	ck_assert_uint_eq(json_array_size(groups), (size_t)xcount(doc, "//v:group"));
	snprintf(expr, sizeof expr, "//v:group[2]/@key");
	assert_xstr(doc, expr, jstr(json_array_get(groups, 1), "key"));
	ck_assert(json_is_true(json_object_get(json_object_get(j, "statistics"), "available")));

	json_decref(j);
	xmlFreeDoc(doc);
	free(xbuf);
	free(jbuf);
	host_down();
}
END_TEST

/* ================================ health, alerts, violations ================================ */

/* The core's health records (host->health_foreach), hostile where text can be. */
static const struct vigil_alert_info web0_alerts[] = {
    {.alert = "memory-high",
     .severity = "critical",
     .message = "rss " HOSTILE,
     .since_ms = WALL0 - 5000},
    /* an id full of markup, a severity the schema does not know, no message */
    {.alert = "cpu<&>\"\xff", .severity = "bogus", .message = NULL, .since_ms = 0},
};

static const struct vigil_alert_info odd_alerts[] = {
    {.alert = "]]>", .severity = "emergency", .message = HOSTILE, .since_ms = WALL0 - 1},
};

static const struct vigil_health_info health_recs[] = {
    {.size = sizeof(struct vigil_health_info),
     .name = "web.0",
     .score = 64, /* the process table says 85: the record is the newer word */
     .level = "degraded",
     .trend = "degrading",
     .memory_penalty = 20,
     .memory_exhaustion_ms = 600000,
     .alerts = web0_alerts,
     .nalerts = 2,
     .alerts_raised = 5,
     .violations = 6,
     .violations_memory = 2,
     .violations_runtime = 1,
     .violations_nproc = 3,
     .last_violation_ms = WALL0 - 2000},
    /* never scored: whatever level or trend it holds is not written, the process table's
     * score (15) stays; one limit violated */
    {.size = sizeof(struct vigil_health_info),
     .name = "web.1",
     .score = -1,
     .level = "healthy",
     .trend = "improving",
     .memory_exhaustion_ms = -1,
     .violations = 4,
     .violations_cpu = 4,
     .last_violation_ms = WALL0 - 3000},
    /* found by the raw, hostile name; a level and a trend the schema does not know */
    {.size = sizeof(struct vigil_health_info),
     .name = "odd\xff<&>\"'",
     .score = 50,
     .level = "so-so",
     .trend = "sideways",
     .memory_exhaustion_ms = -1,
     .alerts = odd_alerts,
     .nalerts = 1,
     .alerts_raised = 1,
     .violations = 1,
     .violations_nofile = 1},
};
#define NHEALTH (sizeof health_recs / sizeof health_recs[0])

static json_t *json_instance(json_t *j, size_t prog, size_t inst)
{
	json_t *p = json_array_get(json_object_get(j, "programs"), prog);

	ck_assert_ptr_nonnull(p);
	return json_array_get(json_object_get(p, "instances"), inst);
}

static void assert_json_clean(json_t *o, const char *key, const char *raw)
{
	char *want = report_text_clean(raw);

	ck_assert_msg(jstr(o, key) && strcmp(jstr(o, key), want) == 0, "%s: got '%s', want '%s'",
	              key, jstr(o, key) ? jstr(o, key) : "(null)", want);
	free(want);
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", key);
	return json_integer_value(v);
}

START_TEST(health_records_xml)
{
	size_t len;
	char *buf;
	xmlDocPtr doc;

	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	assert_xmllint(buf, len);

	/* web.0: score, level and trend from the record */
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@score", "64");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@level", "degraded");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@trend", "degrading");
	/* the active alerts, in the core's order, hostile text cleaned */
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.0']/v:alerts/v:alert"), 2);
	assert_xstr(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[1]/@id", "memory-high");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[1]/@severity", "critical");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[1]/@since",
	            "2023-11-14T22:13:15.000Z");
	assert_xclean(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[1]", "rss " HOSTILE);
	assert_xclean(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[2]/@id", "cpu<&>\"\xff");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[2]/@severity", "warning");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[2]/@since"), 0);
	assert_xstr(doc, "//v:instance[@name='web.0']/v:alerts/v:alert[2]", "");
	/* the violated limits only, from the per-limit counters, all of source "limit" */
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/@total", "6");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.0']/v:violations/v:violation"), 3);
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/v:violation[1]/@name", "memory");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/v:violation[1]/@count", "2");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/v:violation[2]/@name",
	            "runtime");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/v:violation[3]/@name", "nproc");
	assert_xstr(doc, "//v:instance[@name='web.0']/v:violations/v:violation[3]/@count", "3");
	ck_assert_int_eq(xcount(doc, "//v:violation[@source!='limit']"), 0);
	ck_assert_int_eq(xcount(doc, "//v:violation[@count='0']"), 0);

	/* web.1: not scored by the record; the process table's score, no trend */
	assert_xstr(doc, "//v:instance[@name='web.1']/v:health/@score", "15");
	assert_xstr(doc, "//v:instance[@name='web.1']/v:health/@level", "critical");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:health/@trend"), 0);
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:alerts"), 1);
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:alerts/*"), 0);
	assert_xstr(doc, "//v:instance[@name='web.1']/v:violations/@total", "4");
	assert_xstr(doc, "//v:instance[@name='web.1']/v:violations/v:violation/@name", "cpu");

	/* the hostile-named instance: matched by its raw name; an unknown level is derived from
	 * the score, an unknown trend left out */
	assert_xstr(doc, "//v:program[2]/v:instance/v:health/@score", "50");
	assert_xstr(doc, "//v:program[2]/v:instance/v:health/@level", "degraded");
	ck_assert_int_eq(xcount(doc, "//v:program[2]/v:instance/v:health/@trend"), 0);
	assert_xstr(doc, "//v:program[2]/v:instance/v:alerts/v:alert/@id", "]]>");
	assert_xstr(doc, "//v:program[2]/v:instance/v:alerts/v:alert/@severity", "emergency");
	assert_xclean(doc, "//v:program[2]/v:instance/v:alerts/v:alert", HOSTILE);
	assert_xstr(doc, "//v:program[2]/v:instance/v:violations/v:violation/@name", "nofile");

	/* none of the raw bytes made it through */
	ck_assert_ptr_null(strstr(buf, "\x01"));
	ck_assert_ptr_null(strstr(buf, "\xff"));
	ck_assert_ptr_null(strstr(buf, "\x1b"));
	xmlFreeDoc(doc);
	free(buf);
	host_down();
}
END_TEST

START_TEST(health_records_json)
{
	size_t len;
	char *buf;
	json_error_t jerr;
	json_t *j, *inst, *alerts, *viol, *items;

	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	buf = render(REPORT_JSON, 0, 0, &len);
	j = json_loads(buf, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(j, "the JSON report does not parse: %s (line %d)", jerr.text, jerr.line);

	inst = json_instance(j, 0, 0);
	ck_assert_str_eq(jstr(inst, "name"), "web.0");
	ck_assert_int_eq(jint(json_object_get(inst, "health"), "score"), 64);
	ck_assert_str_eq(jstr(json_object_get(inst, "health"), "level"), "degraded");
	ck_assert_str_eq(jstr(json_object_get(inst, "health"), "trend"), "degrading");
	alerts = json_object_get(inst, "alerts");
	ck_assert_uint_eq(json_array_size(alerts), 2);
	ck_assert_str_eq(jstr(json_array_get(alerts, 0), "id"), "memory-high");
	ck_assert_str_eq(jstr(json_array_get(alerts, 0), "severity"), "critical");
	ck_assert_str_eq(jstr(json_array_get(alerts, 0), "since"), "2023-11-14T22:13:15.000Z");
	assert_json_clean(json_array_get(alerts, 0), "message", "rss " HOSTILE);
	assert_json_clean(json_array_get(alerts, 1), "id", "cpu<&>\"\xff");
	ck_assert_str_eq(jstr(json_array_get(alerts, 1), "severity"), "warning");
	ck_assert_ptr_null(jstr(json_array_get(alerts, 1), "since"));
	ck_assert_ptr_null(jstr(json_array_get(alerts, 1), "message"));
	viol = json_object_get(inst, "violations");
	ck_assert_int_eq(jint(viol, "total"), 6);
	items = json_object_get(viol, "items");
	ck_assert_uint_eq(json_array_size(items), 3);
	ck_assert_str_eq(jstr(json_array_get(items, 0), "name"), "memory");
	ck_assert_str_eq(jstr(json_array_get(items, 0), "source"), "limit");
	ck_assert_int_eq(jint(json_array_get(items, 0), "count"), 2);
	ck_assert_str_eq(jstr(json_array_get(items, 2), "name"), "nproc");

	inst = json_instance(j, 0, 1);
	ck_assert_int_eq(jint(json_object_get(inst, "health"), "score"), 15);
	ck_assert_ptr_null(jstr(json_object_get(inst, "health"), "trend"));
	ck_assert(json_is_array(json_object_get(inst, "alerts")));
	ck_assert_uint_eq(json_array_size(json_object_get(inst, "alerts")), 0);
	ck_assert_int_eq(jint(json_object_get(inst, "violations"), "total"), 4);

	inst = json_instance(j, 1, 0);
	assert_json_clean(inst, "name", "odd\xff<&>\"'");
	ck_assert_str_eq(jstr(json_object_get(inst, "health"), "level"), "degraded");
	alerts = json_object_get(inst, "alerts");
	ck_assert_str_eq(jstr(json_array_get(alerts, 0), "id"), "]]>");
	assert_json_clean(json_array_get(alerts, 0), "message", HOSTILE);
	ck_assert_ptr_null(strstr(buf, "\xff"));
	json_decref(j);
	free(buf);
	host_down();
}
END_TEST

/* A core without health records (an older host table, or none given): alerts and violations
 * are unknown, left out (null in JSON), not written as empty. */
START_TEST(health_unknown_without_records)
{
	struct vigil_health_info shorty = health_recs[0];
	size_t len;
	char *buf;
	xmlDocPtr doc;
	json_t *j;

	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	fh.host.size = (uint32_t)offsetof(struct vigil_host, health_foreach);
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	ck_assert_int_eq(xcount(doc, "//v:alerts | //v:violations"), 0);
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@score", "85"); /* the table's */
	ck_assert_int_eq(xcount(doc, "//v:health/@trend"), 0);
	xmlFreeDoc(doc);
	free(buf);
	fh.host.size = sizeof fh.host;

	fh.host.health_foreach = NULL;
	buf = render(REPORT_JSON, 0, 0, &len);
	j = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_null(json_object_get(json_instance(j, 0, 0), "alerts")));
	ck_assert(json_is_null(json_object_get(json_instance(j, 0, 0), "violations")));
	json_decref(j);
	free(buf);

	/* a record shorter than this version's struct is not read: that instance is unknown */
	fh.host.health_foreach = vigil_fake_health_foreach_;
	shorty.size = (uint32_t)offsetof(struct vigil_health_info, violations_memory);
	fh.health = &shorty;
	fh.nhealth = 1;
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.0']/v:alerts"), 0);
	assert_xstr(doc, "//v:instance[@name='web.0']/v:health/@score", "85");
	ck_assert_int_eq(xcount(doc, "//v:instance[@name='web.1']/v:alerts"), 1);
	xmlFreeDoc(doc);
	free(buf);
	host_down();
}
END_TEST

/* ============================ schema: strict, and open to growth ============================ */

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

/* Validates without printing (the negative cases are expected to fail). */
static int validates(xmlDocPtr doc)
{
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema());
	int rc;

	xmlSchemaSetValidErrors(vc, quiet, quiet, NULL);
	rc = xmlSchemaValidateDoc(vc, doc);

	xmlSchemaFreeValidCtxt(vc);
	return rc == 0;
}

static xmlNodePtr first(xmlDocPtr doc, const char *expr)
{
	xmlXPathObjectPtr o = xpath(doc, expr);
	xmlNodePtr n;

	ck_assert_msg(o->nodesetval && o->nodesetval->nodeNr > 0, "%s selects nothing", expr);
	n = o->nodesetval->nodeTab[0];
	xmlXPathFreeObject(o);
	return n;
}

START_TEST(schema_extension_rules)
{
	size_t len;
	char *buf;
	xmlDocPtr doc;
	xmlNodePtr root, n;
	xmlNsPtr later;

	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	buf = render(REPORT_XML, 0, 0, &len);

	/* what a later 1.x may add: elements of its own namespace at the ends, attributes */
	doc = parse_valid(buf, len);
	root = xmlDocGetRootElement(doc);
	later = xmlNewNs(root, BAD_CAST "urn:vigil:report:1.1", BAD_CAST "v11");
	ck_assert_ptr_nonnull(xmlNewChild(root, later, BAD_CAST "cluster", BAD_CAST "x"));
	ck_assert_ptr_nonnull(xmlNewChild(first(doc, "//v:instance"), later, BAD_CAST "gpu", NULL));
	ck_assert_ptr_nonnull(xmlNewChild(first(doc, "//v:task"), later, BAD_CAST "cost", NULL));
	ck_assert_ptr_nonnull(
	    xmlNewProp(first(doc, "//v:instance"), BAD_CAST "cgroup", BAD_CAST "/a"));
	ck_assert_ptr_nonnull(xmlNewProp(first(doc, "//v:group"), BAD_CAST "p99Ms", BAD_CAST "1"));
	ck_assert_msg(validates(doc), "a 1.x extension must validate");
	xmlFreeDoc(doc);

	/* what earlier reports wrote still validates: a violation counted per alert id */
	doc = parse_valid(buf, len);
	n = first(doc, "//v:violation");
	xmlSetProp(n, BAD_CAST "source", BAD_CAST "alert");
	xmlSetProp(n, BAD_CAST "name", BAD_CAST "memory-high");
	ck_assert_msg(validates(doc), "source=\"alert\" must stay valid");
	xmlSetProp(n, BAD_CAST "source", BAD_CAST "bus");
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);

	/* what it may not: new elements of this namespace, values outside the enumerations,
	 * timestamps that are not UTC, a task listed twice, a missing required part */
	doc = parse_valid(buf, len);
	n = first(doc, "//v:tasks");
	ck_assert_ptr_nonnull(xmlNewChild(n, n->ns, BAD_CAST "surprise", NULL));
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);
	doc = parse_valid(buf, len);
	xmlSetProp(first(doc, "//v:instance"), BAD_CAST "state", BAD_CAST "sleeping");
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);
	doc = parse_valid(buf, len);
	xmlSetProp(xmlDocGetRootElement(doc), BAD_CAST "generated",
	           BAD_CAST "2023-11-14T23:13:20.000+01:00");
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);
	doc = parse_valid(buf, len);
	xmlSetProp(first(doc, "//v:task[2]"), BAD_CAST "id", BAD_CAST "t-queued");
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);
	doc = parse_valid(buf, len);
	n = first(doc, "//v:statistics");
	xmlUnlinkNode(n);
	xmlFreeNode(n);
	ck_assert(!validates(doc));
	xmlFreeDoc(doc);
	free(buf);
	host_down();
}
END_TEST

/* ====================================== the XSLT ====================================== */

START_TEST(xslt_to_html)
{
	char *xsl = source_path("sdk/schema/vigil-report-1.xsl");
	size_t len;
	char *buf;
	xmlDocPtr doc, style;

	/* well-formed, and an XSLT 1.0 stylesheet, whatever the machine has */
	style = xmlReadFile(xsl, NULL, XML_PARSE_NONET);
	ck_assert_msg(style, "%s is not well-formed XML", xsl);
	ck_assert_str_eq((const char *)xmlDocGetRootElement(style)->name, "stylesheet");
	ck_assert_str_eq((const char *)xmlDocGetRootElement(style)->ns->href,
	                 "http://www.w3.org/1999/XSL/Transform");
	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	buf = render(REPORT_XML, 0, 0, &len);
	doc = parse_valid(buf, len);
#ifdef VIGIL_HAVE_LIBXSLT
	{
		xsltStylesheetPtr ss = xsltParseStylesheetDoc(style);
		xmlDocPtr html;
		xmlChar *out = NULL;
		int olen = 0;

		ck_assert_msg(ss, "libxslt rejects %s", xsl);
		html = xsltApplyStylesheet(ss, doc, NULL);
		ck_assert_ptr_nonnull(html);
		ck_assert_int_eq(xsltSaveResultToString(&out, &olen, html, ss), 0);
		ck_assert_ptr_nonnull(out);
		ck_assert_ptr_nonnull(strstr((char *)out, "<html"));
		ck_assert_ptr_nonnull(strstr((char *)out, "Programs (2,"));
		ck_assert_ptr_nonnull(strstr((char *)out, "3 instances)"));
		ck_assert_ptr_nonnull(strstr((char *)out, "Tasks (7)"));
		ck_assert_ptr_nonnull(strstr((char *)out, "Statistics by type"));
		ck_assert_ptr_nonnull(strstr((char *)out, "timed out &lt;30s&gt; &amp; killed"));
		/* the hostile markup is text on the page, never markup */
		ck_assert_ptr_nonnull(strstr((char *)out, "&lt;b&gt;&amp;amp;"));
		ck_assert_ptr_null(strstr((char *)out, "<b>&amp;"));
		ck_assert_ptr_nonnull(strstr((char *)out, "12.5%"));
		ck_assert_ptr_nonnull(strstr((char *)out, "10.0 MiB"));
		/* the health records: trend, alerts (markup in an id is text) and violations */
		ck_assert_ptr_nonnull(strstr((char *)out, "64 (degrading)"));
		ck_assert_ptr_nonnull(strstr((char *)out, "memory-high: rss "));
		ck_assert_ptr_nonnull(strstr((char *)out, "cpu&lt;&amp;&gt;"));
		ck_assert_ptr_nonnull(strstr((char *)out, "6 violations"));
		xmlFree(out);
		xmlFreeDoc(html);
		xsltFreeStylesheet(ss); /* frees style */
		xsltCleanupGlobals();
	}
#else
	fprintf(stderr,
	        "NOTE: libxslt not found at build time: %s checked for well-formedness "
	        "only (apply it with xsltproc, see docs/report-format.md)\n",
	        xsl);
	xmlFreeDoc(style);
#endif
	xmlFreeDoc(doc);
	free(buf);
	free(xsl);
	host_down();
}
END_TEST

/* ================================ the plugin: file writer ================================ */

/* Waits (on the writer's eventfd, as the loop would) until n results are in and handled. */
static void wait_results(struct xr *xr, uint64_t n)
{
	for (;;) {
		struct pollfd p = {.fd = xr->efd, .events = POLLIN};
		uint64_t got;

		pthread_mutex_lock(&xr->mu);
		got = xr->written + xr->failures;
		pthread_mutex_unlock(&xr->mu);
		if (got >= n && xr->seen >= n)
			return;
		ck_assert_msg(poll(&p, 1, 20000) == 1, "the report writer did not finish in 20s");
		ck_assert_uint_eq(vigil_fake_fd_ready(&fh, xr->efd, VIGIL_FD_IN), 1);
	}
}

static uint64_t xr_written(struct xr *xr)
{
	uint64_t n;

	pthread_mutex_lock(&xr->mu);
	n = xr->written;
	pthread_mutex_unlock(&xr->mu);
	return n;
}

/* Names in dir other than "." and "..", for the leftover check. */
static int dir_entries(const char *dir, char *names, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	names[0] = '\0';
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		strncat(names, de->d_name, len - strlen(names) - 2);
		strcat(names, " ");
	}
	closedir(d);
	return n;
}

static xmlDocPtr file_valid(const char *path)
{
	size_t len;
	char *buf = read_file(path, &len);
	xmlDocPtr doc = parse_valid(buf, len);

	free(buf);
	return doc;
}

static void *plugin_up(const char *dir, const char *path, const char *interval)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	void *state = NULL;

	fh.state_dir = dir;
	if (path)
		ck_assert_int_eq(vigil_fake_cfg_set(&fh, "path", path), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "interval", interval), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "since", "1h"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	ck_assert_int_eq(desc->start(state), 0);
	return state;
}

START_TEST(plugin_writes_atomically)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	char *dir = tmpdir_new(), path[512], stale[512], names[1024];
	struct stat st1, st2;
	struct xr *xr;
	xmlDocPtr doc;
	int rc;

	ck_assert_str_eq(desc->name, "xmlreport");
	ck_assert_int_eq(desc->kind, VIGIL_KIND_FRONTEND);
	snprintf(path, sizeof path, "%s/report.xml", dir);
	/* a crash in the middle of an earlier write left this */
	snprintf(stale, sizeof stale, "%s/.report.xml.tmp.AbC123", dir);
	write_file(stale, "<half", 5);

	host_up();
	xr = plugin_up(dir, NULL, "10s"); /* the default path: ${state_dir}/report.xml */
	ck_assert_str_eq(xr->path, path);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "every 10s"), 1);

	/* once, shortly after start */
	vigil_fake_advance(&fh, 1999);
	ck_assert_int_eq(access(path, F_OK), -1);
	vigil_fake_advance(&fh, 1);
	wait_results(xr, 1);
	ck_assert_uint_eq(xr_written(xr), 1);
	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_int_eq(st1.st_mode & 07777, 0640);
	doc = file_valid(path);
	assert_xstr(doc, "//v:tasks/@since", "2023-11-14T21:13:22.000Z"); /* now - 1h */
	assert_xstr(doc, "//v:tasks/@count", "5");
	xmlFreeDoc(doc);
	rc = xmllint_validate(path);
	ck_assert_msg(rc == 0 || rc == 77, "xmllint rejects %s (exit %d)", path, rc);
	ck_assert_int_eq(dir_entries(dir, names, sizeof names), 1); /* the stale temp is gone */

	/* then every interval, with what changed meanwhile, replacing the file (a new inode:
	 * renamed over, never rewritten in place) */
	ncore_tasks = 1;
	vigil_fake_advance(&fh, 10000);
	wait_results(xr, 2);
	ck_assert_int_eq(stat(path, &st2), 0);
	ck_assert(st1.st_ino != st2.st_ino);
	doc = file_valid(path);
	assert_xstr(doc, "//v:tasks/@count", "4"); /* t-done now from the store */
	xmlFreeDoc(doc);
	ck_assert_int_eq(dir_entries(dir, names, sizeof names), 1);
	ck_assert_msg(strcmp(names, "report.xml ") == 0, "left in the directory: %s", names);

	/* and once more at stop, written before fini returns */
	fh.nprocs = 1;
	desc->stop(xr);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	desc->fini(xr);
	doc = file_valid(path);
	ck_assert_int_eq(xcount(doc, "//v:instance"), 1);
	xmlFreeDoc(doc);
	ck_assert_int_eq(dir_entries(dir, names, sizeof names), 1);
	host_down();
	tmpdir_rm(dir);
}
END_TEST

/* vigild may free its programs before it stops its plugins: the stop-time report then keeps
 * the last one that showed them instead of replacing it with an empty list. */
START_TEST(plugin_stop_after_programs_released)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	char *dir = tmpdir_new(), path[512];
	struct xr *xr;
	xmlDocPtr doc;

	snprintf(path, sizeof path, "%s/report.xml", dir);
	host_up();
	xr = plugin_up(dir, path, "60s");
	vigil_fake_advance(&fh, 2000);
	wait_results(xr, 1);
	fh.nprocs = 0;
	desc->stop(xr);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_DEBUG, "keeps the last report"), 1);
	desc->fini(xr);
	doc = file_valid(path);
	ck_assert_int_eq(xcount(doc, "//v:instance"), 3);
	xmlFreeDoc(doc);
	host_down();
	tmpdir_rm(dir);
}
END_TEST

/* Many programs with long hostile commands: a document big enough (hundreds of KiB) that a
 * write in place would be caught half done. */
static struct vigil_proc_info *big_procs(size_t n)
{
	static char names[400][16];
	struct vigil_proc_info *p = calloc(n, sizeof *p);

	ck_assert_uint_le(n, 400);
	for (size_t i = 0; i < n; i++) {
		p[i] = procs[0];
		snprintf(names[i], sizeof names[i], "big.%zu", i);
		p[i].name = names[i];
		p[i].program = "big";
		p[i].instance = (int32_t)i;
		p[i].command = "/bin/x " HOSTILE HOSTILE HOSTILE HOSTILE HOSTILE HOSTILE HOSTILE
		    HOSTILE HOSTILE HOSTILE;
	}
	return p;
}

/* The reader: opens and reads the report in a loop until told to stop; a read that is not a
 * whole document (missing, empty, cut short) is counted. Forked before the writer thread
 * exists, and uses no malloc. */
static void reader_main(const char *path, int stop_fd, int result_fd)
{
	static char buf[8 << 20];
	static const char tail[] = "</report>\n";
	int counts[2] = {0, 0}; /* reads, bad */

	for (;;) {
		struct pollfd p = {.fd = stop_fd, .events = POLLIN};
		size_t len = 0;
		ssize_t n;
		int fd;

		if (poll(&p, 1, 0) == 1)
			break;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			counts[1]++;
			continue;
		}
		while ((n = read(fd, buf + len, sizeof buf - len)) > 0)
			len += (size_t)n;
		close(fd);
		counts[0]++;
		if (len < sizeof tail || strncmp(buf, "<?xml", 5) != 0 ||
		    memcmp(buf + len - (sizeof tail - 1), tail, sizeof tail - 1) != 0)
			counts[1]++;
	}
	if (write(result_fd, counts, sizeof counts) != sizeof counts)
		_exit(2);
	_exit(0);
}

START_TEST(plugin_reader_never_sees_a_partial_file)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	char *dir = tmpdir_new(), path[512], *buf;
	struct vigil_proc_info *big = big_procs(300);
	int stop[2], result[2], counts[2], st;
	size_t len, small_len = 0, big_len = 0;
	struct xr *xr;
	pid_t pid;

	snprintf(path, sizeof path, "%s/report.xml", dir);
	host_up();
	fh.state_dir = dir;
	/* a first complete file, so that the reader always has one to open */
	buf = render(REPORT_XML, 0, 0, &len);
	write_file(path, buf, len);
	free(buf);
	ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(result, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		reader_main(path, stop[0], result[1]);

	xr = plugin_up(dir, path, "1s");
	for (uint64_t i = 1; i <= 40; i++) {
		struct stat sb;

		/* alternate big and small documents */
		fh.procs = i % 2 ? big : procs;
		fh.nprocs = i % 2 ? 300 : NPROCS;
		vigil_fake_advance(&fh, 1000);
		wait_results(xr, i);
		ck_assert_int_eq(stat(path, &sb), 0);
		if (i % 2)
			big_len = (size_t)sb.st_size;
		else
			small_len = (size_t)sb.st_size;
	}
	ck_assert_uint_eq(xr_written(xr), 40);
	ck_assert_uint_gt(big_len, 4 * small_len);
	ck_assert_int_eq(write(stop[1], "x", 1), 1);
	ck_assert_int_eq(read(result[0], counts, sizeof counts), (ssize_t)sizeof counts);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fprintf(stderr, "reader: %d reads of a %zu/%zu-byte report during 40 writes, %d partial\n",
	        counts[0], big_len, small_len, counts[1]);
	ck_assert_int_gt(counts[0], 0);
	ck_assert_int_eq(counts[1], 0);
	xmlFreeDoc(file_valid(path));

	desc->stop(xr);
	desc->fini(xr);
	host_down();
	free(big);
	tmpdir_rm(dir);
}
END_TEST

START_TEST(plugin_write_failure_logged_once)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	char *dir = tmpdir_new(), sub[512], path[600];
	struct xr *xr;

	snprintf(sub, sizeof sub, "%s/not-yet", dir);
	snprintf(path, sizeof path, "%s/report.xml", sub);
	host_up();
	xr = plugin_up(dir, path, "5s");
	vigil_fake_advance(&fh, 2000);
	wait_results(xr, 1);
	vigil_fake_advance(&fh, 5000);
	wait_results(xr, 2);
	/* said once, naming the place and the reason, not at every interval */
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "cannot write the report"), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, sub), 1);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "No such file or directory"),
	                  1);
	ck_assert_uint_eq(xr_written(xr), 0);

	ck_assert_int_eq(mkdir(sub, 0750), 0);
	vigil_fake_advance(&fh, 5000);
	wait_results(xr, 3);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "report written again"), 1);
	xmlFreeDoc(file_valid(path));
	desc->stop(xr);
	desc->fini(xr);
	host_down();
	tmpdir_rm(dir);
}
END_TEST

START_TEST(plugin_json_with_health)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	char *dir = tmpdir_new(), path[512];
	struct vigil_ev_alert a = {
	    .hdr = {.type = VIGIL_EV_ALERT_RAISED, .size = sizeof a, .subject = "web.1"},
	    .alert = "from-the-bus",
	    .severity = "critical",
	    .message = "not the report's business"};
	json_error_t jerr;
	json_t *j, *inst;
	struct xr *xr;

	snprintf(path, sizeof path, "%s/report.json", dir);
	host_up();
	fh.health = health_recs;
	fh.nhealth = NHEALTH;
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "format", "json"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "mode", "0600"), 0);
	xr = plugin_up(dir, path, "60s");
	/* the plugin follows no bus events: alerts come from the core's health records */
	ck_assert_int_eq(vigil_fake_deliver(&fh, &a.hdr), 0);
	vigil_fake_advance(&fh, 2000);
	wait_results(xr, 1);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(j, "%s: %s", path, jerr.text);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "programs")), 2);
	inst = json_instance(j, 0, 0);
	ck_assert_uint_eq(json_array_size(json_object_get(inst, "alerts")), 2);
	assert_json_clean(json_array_get(json_object_get(inst, "alerts"), 0), "message",
	                  "rss " HOSTILE);
	ck_assert_int_eq(jint(json_object_get(inst, "violations"), "total"), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(json_instance(j, 0, 1), "alerts")), 0);
	json_decref(j);
	{
		struct stat sb;

		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_int_eq(sb.st_mode & 07777, 0600);
	}
	desc->stop(xr);
	desc->fini(xr);
	host_down();
	tmpdir_rm(dir);
}
END_TEST

static int configure_with(const char *key, const char *value)
{
	const struct vigil_plugin *desc = vigil_plugin_entry_v1();
	void *state = NULL;
	int rc;

	host_up();
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "path", "/tmp/r.xml"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, key, value), 0);
	rc = vigil_fake_instantiate(&fh, desc, &state);
	if (rc < 0)
		ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, key), 1);
	if (state)
		desc->fini(state);
	host_down();
	return rc;
}

START_TEST(plugin_config_errors)
{
	ck_assert_int_eq(configure_with("interval", "500ms"), -EINVAL);
	ck_assert_int_eq(configure_with("path", "/tmp/dir/"), -EINVAL);
	ck_assert_int_eq(configure_with("max_tasks", "0"), -EINVAL);
	ck_assert_int_eq(configure_with("max_tasks", "100001"), -EINVAL);
	ck_assert_int_eq(configure_with("mode", "01777"), -EINVAL);
	ck_assert_int_eq(configure_with("since", "0"), 0);
	ck_assert_int_eq(configure_with("interval", "1s"), 0);
}
END_TEST

START_TEST(atomic_write_helper)
{
	char *dir = tmpdir_new(), path[512], err[512], names[256];
	size_t len;
	char *back;

	snprintf(path, sizeof path, "%s/x/r.xml", dir);
	ck_assert_int_eq(xr_write_atomic(path, 0640, "a", 1, err, sizeof err), -ENOENT);
	ck_assert_msg(strstr(err, "cannot create a temporary file in") && strstr(err, "/x:"), "%s",
	              err);
	snprintf(path, sizeof path, "%s/r.xml", dir);
	ck_assert_int_eq(xr_write_atomic(path, 0600, "first", 5, err, sizeof err), 0);
	ck_assert_int_eq(xr_write_atomic(path, 0600, "second!", 7, err, sizeof err), 0);
	back = read_file(path, &len);
	ck_assert_str_eq(back, "second!");
	free(back);
	ck_assert_int_eq(dir_entries(dir, names, sizeof names), 1);
	/* a path that is a directory: refused with the name, nothing left behind */
	ck_assert_int_lt(xr_write_atomic(dir, 0600, "z", 1, err, sizeof err), 0);
	ck_assert_int_eq(dir_entries(dir, names, sizeof names), 1);
	tmpdir_rm(dir);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, clean_text);
	tcase_add_test(tc, formatting);
	tcase_add_test(tc, xml_hostile_validates);
	tcase_add_test(tc, compact_and_empty);
	tcase_add_test(tc, window_and_cap);
	tcase_add_test(tc, store_without_history);
	tcase_add_test(tc, json_same_content);
	tcase_add_test(tc, health_records_xml);
	tcase_add_test(tc, health_records_json);
	tcase_add_test(tc, health_unknown_without_records);
	tcase_add_test(tc, schema_extension_rules);
	tcase_add_test(tc, xslt_to_html);
	tcase_add_test(tc, plugin_writes_atomically);
	tcase_add_test(tc, plugin_stop_after_programs_released);
	tcase_add_test(tc, plugin_reader_never_sees_a_partial_file);
	tcase_add_test(tc, plugin_write_failure_logged_once);
	tcase_add_test(tc, plugin_json_with_health);
	tcase_add_test(tc, plugin_config_errors);
	tcase_add_test(tc, atomic_write_helper);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	LIBXML_TEST_VERSION
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

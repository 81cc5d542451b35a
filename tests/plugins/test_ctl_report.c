/* test_ctl_report.c — frontend_ctl's health and report commands and the event fields they rely
 * on, through the fake host. */
#include "ctl_fixture.h"

#include <libgen.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ======================= event fields (vjson) ======================= */

START_TEST(health_changed_fields)
{
	struct vigil_ev_health_changed e = {
	    .hdr = {.type = VIGIL_EV_HEALTH_CHANGED, .size = sizeof e, .subject = "web"},
	    .score = 62,
	    .previous = 80,
	    .level = "degraded",
	    .trend = "degrading",
	    .memory_penalty = 20.5,
	    .cpu_penalty = 0,
	    .restart_penalty = 10,
	    .check_penalty = 5,
	    .latency_penalty = 2.5,
	    .memory_exhaustion_ms = 90000,
	};
	json_t *o = vjson_event(&e.hdr, "health.changed");

	ck_assert_int_eq(json_integer_value(json_object_get(o, "score")), 62);
	ck_assert(json_real_value(json_object_get(o, "memory_penalty")) == 20.5);
	ck_assert(json_real_value(json_object_get(o, "restart_penalty")) == 10);
	ck_assert(json_real_value(json_object_get(o, "check_penalty")) == 5);
	ck_assert(json_real_value(json_object_get(o, "latency_penalty")) == 2.5);
	ck_assert(json_is_real(json_object_get(o, "cpu_penalty")));
	ck_assert_int_eq(json_integer_value(json_object_get(o, "memory_exhaustion_ms")), 90000);
	json_decref(o);
	/* -1: not growing, or no limit */
	e.memory_exhaustion_ms = -1;
	o = vjson_event(&e.hdr, "health.changed");
	ck_assert(json_is_null(json_object_get(o, "memory_exhaustion_ms")));
	json_decref(o);
	/* a publisher whose struct stops before the penalties: score and level only */
	e.hdr.size = (uint32_t)offsetof(struct vigil_ev_health_changed, memory_penalty);
	o = vjson_event(&e.hdr, "health.changed");
	ck_assert_str_eq(jstr(o, "level"), "degraded");
	ck_assert_ptr_null(json_object_get(o, "memory_penalty"));
	json_decref(o);
}
END_TEST

START_TEST(task_event_fields)
{
	struct vigil_ev_task_queued q = {
	    .hdr = {.type = VIGIL_EV_TASK_QUEUED, .size = sizeof q, .subject = "t1-1"},
	    .pool = "builds",
	    .name = "make",
	    .type = "build",
	    .priority = VIGIL_PRIO_CRITICAL,
	    .position = 3,
	    .command = "make -j4 all",
	    .submitted_at_ms = INT64_C(1795748645000),
	};
	struct vigil_ev_task_started st = {
	    .hdr = {.type = VIGIL_EV_TASK_STARTED, .size = sizeof st, .subject = "t1-1"},
	    .pool = "builds",
	    .name = "make",
	    .type = "build",
	    .pid = 77,
	    .attempt = 2,
	    .queued_ms = 15,
	};
	struct vigil_ev_task_finished fin = {
	    .hdr = {.type = VIGIL_EV_TASK_FINISHED, .size = sizeof fin, .subject = "t1-1"},
	    .state = VIGIL_TASK_FAILED,
	    .exit_code = -1,
	    .priority = VIGIL_PRIO_HIGH,
	    .attempts = 3,
	    .submitted_at_ms = INT64_C(1795748645000),
	    .started_at_ms = INT64_C(1795748646500),
	    .error = "exec nope: No such file or directory",
	};
	json_t *o;

	o = vjson_event(&q.hdr, "task.queued");
	ck_assert_str_eq(jstr(o, "command"), "make -j4 all");
	ck_assert_str_eq(jstr(o, "submitted_at"), "2026-11-27T03:04:05.000Z");
	ck_assert_str_eq(jstr(o, "priority"), "critical");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "position")), 3);
	json_decref(o);
	/* the first version of task.queued ended at position */
	q.hdr.size = (uint32_t)offsetof(struct vigil_ev_task_queued, command);
	o = vjson_event(&q.hdr, "task.queued");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "position")), 3);
	ck_assert_ptr_null(json_object_get(o, "command"));
	json_decref(o);

	o = vjson_event(&st.hdr, "task.started");
	ck_assert_str_eq(jstr(o, "pool"), "builds");
	ck_assert_str_eq(jstr(o, "name"), "make");
	ck_assert_str_eq(jstr(o, "task_type"), "build");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "pid")), 77);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "attempt")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(o, "queued_ms")), 15);
	json_decref(o);

	o = vjson_event(&fin.hdr, "task.finished");
	ck_assert_str_eq(jstr(o, "state"), "failed");
	ck_assert(json_is_null(json_object_get(o, "exit_code")));
	ck_assert_str_eq(jstr(o, "priority"), "high");
	ck_assert_int_eq(json_integer_value(json_object_get(o, "attempts")), 3);
	ck_assert_str_eq(jstr(o, "submitted_at"), "2026-11-27T03:04:05.000Z");
	ck_assert_str_eq(jstr(o, "started_at"), "2026-11-27T03:04:06.500Z");
	ck_assert_str_eq(jstr(o, "error"), "exec nope: No such file or directory");
	json_decref(o);
	/* not started yet, no error: null */
	fin.started_at_ms = 0;
	fin.error = NULL;
	o = vjson_event(&fin.hdr, "task.finished");
	ck_assert(json_is_null(json_object_get(o, "started_at")));
	ck_assert(json_is_null(json_object_get(o, "error")));
	json_decref(o);
	fin.hdr.size = (uint32_t)offsetof(struct vigil_ev_task_finished, priority);
	o = vjson_event(&fin.hdr, "task.finished");
	ck_assert_str_eq(jstr(o, "state"), "failed");
	ck_assert_ptr_null(json_object_get(o, "attempts"));
	json_decref(o);
}
END_TEST

/* ======================= health ======================= */

static struct vigil_alert_info web_alerts[] = {
    {.alert = "memory-high",
     .severity = "warning",
     .message = "rss 900M of 1G",
     .since_ms = INT64_C(1795748640000)},
};

static struct vigil_health_info web_health;

static void health_world(void)
{
	memset(&web_health, 0, sizeof web_health);
	web_health.size = sizeof web_health;
	web_health.name = "web";
	web_health.score = 55;
	web_health.level = "degraded";
	web_health.trend = "degrading";
	web_health.memory_penalty = 30;
	web_health.restart_penalty = 10;
	web_health.check_penalty = 5;
	web_health.memory_exhaustion_ms = 120000;
	web_health.alerts = web_alerts;
	web_health.nalerts = 1;
	web_health.alerts_raised = 4;
	web_health.violations = 3;
	web_health.violations_memory = 2;
	web_health.violations_cpu = 1;
	web_health.last_violation_ms = INT64_C(1795748641000);
	fh.health = &web_health;
	fh.nhealth = 1;
}

START_TEST(health_scored)
{
	json_t *r, *f, *a, *v;

	start_plugin();
	health_world();
	r = ask("{\"cmd\":\"health\",\"args\":[\"web\"]}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	ck_assert_str_eq(jstr(r, "name"), "web");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "score")), 55);
	ck_assert_str_eq(jstr(r, "level"), "degraded");
	ck_assert_str_eq(jstr(r, "trend"), "degrading");
	f = json_object_get(r, "factors");
	ck_assert(json_number_value(json_object_get(f, "memory")) == 30);
	ck_assert(json_number_value(json_object_get(f, "cpu")) == 0);
	ck_assert(json_number_value(json_object_get(f, "restarts")) == 10);
	ck_assert(json_number_value(json_object_get(f, "checks")) == 5);
	ck_assert(json_number_value(json_object_get(f, "latency")) == 0);
	ck_assert(json_number_value(json_object_get(r, "memory_exhaustion_s")) == 120);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "alerts_raised")), 4);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "alerts")), 1);
	a = json_array_get(json_object_get(r, "alerts"), 0);
	ck_assert_str_eq(jstr(a, "alert"), "memory-high");
	ck_assert_str_eq(jstr(a, "severity"), "warning");
	ck_assert_str_eq(jstr(a, "message"), "rss 900M of 1G");
	ck_assert_str_eq(jstr(a, "since"), "2026-11-27T03:04:00.000Z");
	v = json_object_get(r, "violations");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "memory")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "cpu")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "runtime")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "nofile")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "nproc")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "total")), 3);
	ck_assert_str_eq(jstr(r, "last_violation"), "2026-11-27T03:04:01.000Z");
	json_decref(r);

	/* the level follows the score when the core gives none */
	web_health.level = NULL;
	web_health.score = 15;
	web_health.memory_exhaustion_ms = -1;
	r = ask("{\"cmd\":\"health\",\"args\":[\"web\"]}");
	ck_assert_str_eq(jstr(r, "level"), "critical");
	ck_assert(json_is_null(json_object_get(r, "memory_exhaustion_s")));
	json_decref(r);
}
END_TEST

START_TEST(health_unscored)
{
	json_t *r, *v;

	start_plugin();
	/* no health monitor: the fake's record has score -1 */
	r = ask("{\"cmd\":\"health\",\"args\":[\"db\"]}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	ck_assert_str_eq(jstr(r, "name"), "db");
	ck_assert(json_is_null(json_object_get(r, "score")));
	ck_assert(json_is_null(json_object_get(r, "level")));
	ck_assert(json_is_null(json_object_get(r, "trend")));
	ck_assert(json_is_null(json_object_get(r, "factors")));
	ck_assert(json_is_null(json_object_get(r, "memory_exhaustion_s")));
	ck_assert(json_is_null(json_object_get(r, "last_violation")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "alerts")), 0);
	v = json_object_get(r, "violations");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "total")), 0);
	json_decref(r);
}
END_TEST

START_TEST(health_several_instances)
{
	json_t *r, *list;

	/* a program with numprocs = 2 (web.0, web.1) and db */
	set_proc(0, "web.0", "web", VIGIL_PROC_RUNNING, 100);
	set_proc(1, "web.1", "web", VIGIL_PROC_RUNNING, 101);
	procs[0].instance = 0;
	procs[1].instance = 1;
	start_plugin();
	r = ask("{\"cmd\":\"health\",\"args\":[\"web\"]}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	ck_assert_ptr_null(json_object_get(r, "name"));
	list = json_object_get(r, "instances");
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_str_eq(jstr(json_array_get(list, 0), "name"), "web.0");
	ck_assert_str_eq(jstr(json_array_get(list, 1), "name"), "web.1");
	ck_assert_ptr_nonnull(json_object_get(json_array_get(list, 1), "violations"));
	json_decref(r);
	/* one instance of it: the object itself */
	r = ask("{\"cmd\":\"health\",\"args\":[\"web.1\"]}");
	ck_assert_str_eq(jstr(r, "name"), "web.1");
	json_decref(r);
	/* all: always the list */
	r = ask("{\"cmd\":\"health\",\"args\":[\"all\"]}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "instances")), 3);
	json_decref(r);
}
END_TEST

START_TEST(health_errors)
{
	json_t *r;

	start_plugin();
	r = ask("{\"cmd\":\"health\",\"args\":[\"nope\"]}");
	ck_assert_int_eq(error_code(r), 3);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "nope"));
	json_decref(r);
	r = ask("{\"cmd\":\"health\"}");
	ck_assert_int_eq(error_code(r), 2);
	json_decref(r);
	r = ask("{\"cmd\":\"health\",\"args\":[\"web\",\"db\"]}");
	ck_assert_int_eq(error_code(r), 2);
	json_decref(r);
	/* a core without health records */
	fh.host.health_foreach = NULL;
	r = ask("{\"cmd\":\"health\",\"args\":[\"web\"]}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "not supported"));
	json_decref(r);
}
END_TEST

/* ======================= report ======================= */

#define BIG_TASKS 1100
static struct vigil_task_info big[BIG_TASKS];
static char big_ids[BIG_TASKS][16];
static char big_cmd[2048];
static const char *const odd_tags[] = {"a<b", "x&y", "q\"uote'", NULL};

/* A document that parses and validates against the shipped schema. */
static void assert_valid_xml(const char *doc, size_t len)
{
	char xsd[1024];
	const char *src = getenv("VIGIL_SOURCE_DIR");
	char here[] = __FILE__;
	xmlSchemaParserCtxtPtr pc;
	xmlSchemaValidCtxtPtr vc;
	xmlSchemaPtr schema;
	xmlDocPtr d;

	d = xmlReadMemory(doc, (int)len, "report.xml", NULL, XML_PARSE_NONET);
	ck_assert_msg(d != NULL, "the report is not well-formed XML");
	if (src)
		snprintf(xsd, sizeof xsd, "%s/sdk/schema/vigil-report-1.xsd", src);
	else /* run by hand: the tree this file is in */
		snprintf(xsd, sizeof xsd, "%s/../../sdk/schema/vigil-report-1.xsd", dirname(here));
	pc = xmlSchemaNewParserCtxt(xsd);
	schema = xmlSchemaParse(pc);
	ck_assert_msg(schema != NULL, "cannot read %s", xsd);
	vc = xmlSchemaNewValidCtxt(schema);
	ck_assert_int_eq(xmlSchemaValidateDoc(vc, d), 0);
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	xmlFreeDoc(d);
}

START_TEST(report_xml_reply)
{
	const char *doc;
	json_t *r;

	procs[0].command = "/bin/sh -c 'echo \"<hi>\" && true'";
	procs[0].tags = odd_tags;
	start_plugin();
	health_world();
	r = ask("{\"cmd\":\"report\"}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	ck_assert_str_eq(jstr(r, "format"), "xml");
	ck_assert_ptr_null(json_object_get(r, "warning"));
	doc = jstr(r, "document");
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(strncmp(doc, "<?xml", 5), 0);
	ck_assert_ptr_nonnull(strstr(doc, "echo \"&lt;hi&gt;\" &amp;&amp; true"));
	ck_assert_ptr_nonnull(strstr(doc, "x&amp;y"));
	ck_assert_ptr_nonnull(strstr(doc, "memory-high"));
	assert_valid_xml(doc, strlen(doc));
	json_decref(r);
	/* the same, asked for explicitly with a window */
	r = ask("{\"cmd\":\"report\",\"format\":\"xml\",\"since\":\"2h\",\"by\":\"program\"}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	assert_valid_xml(jstr(r, "document"), strlen(jstr(r, "document")));
	json_decref(r);
}
END_TEST

START_TEST(report_json_reply)
{
	json_t *r, *rep, *progs;

	start_plugin();
	health_world();
	r = ask("{\"cmd\":\"report\",\"format\":\"json\"}");
	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s", error_msg(r));
	ck_assert_str_eq(jstr(r, "format"), "json");
	ck_assert_ptr_null(json_object_get(r, "document"));
	rep = json_object_get(r, "report");
	ck_assert(json_is_object(rep));
	ck_assert(json_is_object(json_object_get(rep, "supervisor")));
	progs = json_object_get(rep, "programs");
	ck_assert_uint_eq(json_array_size(progs), 3);
	ck_assert(json_is_object(json_object_get(rep, "tasks")));
	json_decref(r);
}
END_TEST

START_TEST(report_errors)
{
	static const char *const bad[] = {
	    "{\"cmd\":\"report\",\"format\":\"yaml\"}",
	    "{\"cmd\":\"report\",\"format\":3}",
	    "{\"cmd\":\"report\",\"since\":\"yesterday-ish\"}",
	    "{\"cmd\":\"report\",\"by\":\"colour\"}",
	    "{\"cmd\":\"report\",\"max_tasks\":0}",
	};

	start_plugin();
	expect_usage_errors(bad, sizeof bad / sizeof bad[0]);
}
END_TEST

/* A report over the 1 MiB message limit: fewer tasks, said in "warning", still valid. */
START_TEST(report_fits_the_message_limit)
{
	const char *fmts[] = {"xml", "json"};
	size_t i;

	memset(big_cmd, 'x', sizeof big_cmd - 1);
	for (i = 0; i < sizeof big_cmd - 1; i += 64)
		memcpy(big_cmd + i, "<&\"", 3); /* what escaping makes longer */
	big_cmd[sizeof big_cmd - 1] = '\0';
	for (i = 0; i < BIG_TASKS; i++) {
		snprintf(big_ids[i], sizeof big_ids[i], "t1-%zu", i + 1);
		memset(&big[i], 0, sizeof big[i]);
		big[i].size = sizeof big[i];
		big[i].id = big_ids[i];
		big[i].name = "bulk";
		big[i].type = "bulk";
		big[i].pool = "default";
		big[i].command = big_cmd;
		big[i].state = VIGIL_TASK_SUCCEEDED;
		big[i].priority = VIGIL_PRIO_NORMAL;
		big[i].attempt = 1;
		big[i].submitted_at_ms = fh.wall_base_ms - 10000 + (int64_t)i;
		big[i].started_at_ms = big[i].submitted_at_ms + 1;
		big[i].ended_at_ms = big[i].submitted_at_ms + 2;
		big[i].exit_code = 0;
		big[i].duration_ms = 1;
		big[i].cpu_s = -1;
		big[i].peak_rss_bytes = -1;
	}
	fh.tasks = big;
	fh.ntasks = BIG_TASKS;
	start_plugin();
	for (i = 0; i < 2; i++) {
		char req[128];
		json_t *r, *tasks;

		snprintf(req, sizeof req, "{\"cmd\":\"report\",\"format\":\"%s\"}", fmts[i]);
		r = ask(req);
		ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s: %s", fmts[i],
		              error_msg(r));
		ck_assert_ptr_nonnull(jstr(r, "warning"));
		ck_assert_ptr_nonnull(strstr(jstr(r, "warning"), "1048576"));
		if (i == 0) {
			const char *doc = jstr(r, "document");

			ck_assert_ptr_nonnull(strstr(doc, "truncated=\"true\""));
			assert_valid_xml(doc, strlen(doc));
		} else {
			tasks = json_object_get(json_object_get(r, "report"), "tasks");
			ck_assert(json_is_true(json_object_get(tasks, "truncated")));
			ck_assert_int_gt(json_integer_value(json_object_get(tasks, "count")), 0);
			ck_assert_int_lt(json_integer_value(json_object_get(tasks, "count")), 1000);
		}
		json_decref(r);
	}
	/* a cap that fits from the start: no warning */
	{
		json_t *r = ask("{\"cmd\":\"report\",\"format\":\"json\",\"max_tasks\":10}");

		ck_assert_ptr_null(json_object_get(r, "warning"));
		ck_assert_int_eq(
		    json_integer_value(json_object_get(
		        json_object_get(json_object_get(r, "report"), "tasks"), "count")),
		    10);
		json_decref(r);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ctl_report");
	TCase *ev = tcase_create("events");
	TCase *health = tcase_create("health");
	TCase *report = tcase_create("report");
	SRunner *sr;
	int failed;

	tcase_add_test(ev, health_changed_fields);
	tcase_add_test(ev, task_event_fields);
	suite_add_tcase(s, ev);
	tcase_add_checked_fixture(health, setup, teardown);
	tcase_add_test(health, health_scored);
	tcase_add_test(health, health_unscored);
	tcase_add_test(health, health_several_instances);
	tcase_add_test(health, health_errors);
	suite_add_tcase(s, health);
	tcase_add_checked_fixture(report, setup, teardown);
	tcase_set_timeout(report, 60);
	tcase_add_test(report, report_xml_reply);
	tcase_add_test(report, report_json_reply);
	tcase_add_test(report, report_errors);
	tcase_add_test(report, report_fits_the_message_limit);
	suite_add_tcase(s, report);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

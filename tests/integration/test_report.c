/* test_report.c — real vigild: `vigilctl report` (XML valid against the schema, JSON) and
 * `vigilctl health`. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char cfg[4096];

/* `xmllint --noout --nonet --schema vigil-report-1.xsd FILE`: its exit status (0 = valid),
 * or 77 when xmllint is not installed. */
static int xmllint(const char *file)
{
	const char *src = getenv("VIGIL_SOURCE_DIR");
	char xsd[1024];
	int status;
	pid_t pid;

	snprintf(xsd, sizeof xsd, "%s/sdk/schema/vigil-report-1.xsd", src ? src : ".");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = {"xmllint", "--noout",    "--nonet", "--schema",
		                xsd,       (char *)file, NULL};

		execvp(argv[0], argv);
		_exit(77);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Nothing but `name` in dir: the atomic write left no temporary file behind. */
static void assert_only_file(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			ck_assert_str_eq(e->d_name, name);
	}
	closedir(d);
}

/* Whether vigild (pid) has a file whose path contains what mapped (its /proc/PID/maps). */
static int maps_has(pid_t pid, const char *what)
{
	char path[64], *maps;
	int found;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	maps = vd_read_file(path);
	ck_assert_msg(maps != NULL, "cannot read %s", path);
	found = strstr(maps, what) != NULL;
	free(maps);
	return found;
}

START_TEST(report_xml_and_json)
{
	char out_dir[512], out[600], *text = NULL;
	struct vd vd;
	json_t *doc = NULL, *ev;
	int rc;

	/* markup characters in a command, tags and a task name must stay well-formed */
	snprintf(cfg, sizeof cfg,
	         "[program.odd]\ncommand = %s echo <a&b> 'q\"x' \"it's\"\n"
	         "tags = a<b, x&y, \"it's\"\n",
	         vd_victim());
	vd_start(&vd, cfg);
	json_decref(vd_wait_event(&vd, "process.running", "odd", 10000));
	rc = vd_ctl(&vd, &doc, "run", "--name", "t<&\"'", "--wait", "--", vd_victim(), "exit", "0",
	            NULL);
	ck_assert_int_eq(rc, 0);
	json_decref(doc);
	ev = vd_wait_event(&vd, "task.finished", NULL, 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	/* the XML writer (report_xml.so, libxml2) is opened by the first XML report, not before */
	ck_assert_msg(!maps_has(vd.pid, "libxml2"), "vigild maps libxml2 before any report");
	ck_assert_int_eq(vd_ctl(&vd, NULL, "report", "--format", "json", NULL), 0);
	ck_assert(!maps_has(vd.pid, "libxml2"));

	/* -o FILE: the XML, validated by xmllint */
	snprintf(out_dir, sizeof out_dir, "%s/out", vd.dir);
	ck_assert_int_eq(mkdir(out_dir, 0755), 0);
	snprintf(out, sizeof out, "%s/report.xml", out_dir);
	rc = vd_ctl_text(&vd, &text, "report", "--format", "xml", "-o", out, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(text, ""); /* the document went to the file */
	free(text);
	assert_only_file(out_dir, "report.xml");
	text = vd_read_file(out);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(strncmp(text, "<?xml", 5), 0);
	ck_assert(maps_has(vd.pid, "report_xml.so"));
	ck_assert_ptr_nonnull(strstr(text, "&lt;a&amp;b&gt;"));
	ck_assert_ptr_nonnull(strstr(text, "x&amp;y"));
	free(text);
	rc = xmllint(out);
	ck_assert_msg(rc == 0 || rc == 77, "xmllint rejected %s (exit %d)", out, rc);
	/* written again over the old one */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "report", "-o", out, "--since", "1h", NULL), 0);
	free(text);
	assert_only_file(out_dir, "report.xml");

	/* no -o: the document on stdout */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "report", NULL), 0);
	ck_assert_int_eq(strncmp(text, "<?xml", 5), 0);
	ck_assert_ptr_nonnull(strstr(text, "</report>"));
	free(text);

	/* --json --format json: the report object itself */
	ck_assert_int_eq(vd_ctl(&vd, &doc, "report", "--format", "json", NULL), 0);
	ck_assert_ptr_nonnull(doc);
	ck_assert(json_is_object(json_object_get(doc, "supervisor")));
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "programs")), 1);
	ck_assert_str_eq(vd_jstr(json_array_get(json_object_get(doc, "programs"), 0), "command") +
	                     strlen(vd_victim()),
	                 " echo <a&b> 'q\"x' \"it's\"");
	ck_assert(json_is_object(json_object_get(doc, "tasks")));
	json_decref(doc);

	/* bad options are usage errors, before anything is asked */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "report", "--format", "yaml", NULL), 2);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "report", "--since", "soon", NULL), 2);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(health_after_a_score)
{
	struct vd vd;
	json_t *ev, *doc = NULL, *v;
	char *text = NULL;
	long long score;

	snprintf(cfg, sizeof cfg,
	         "[monitor.procfs]\ninterval = 200ms\n"
	         "[monitor.health]\n"
	         "[program.calm]\ncommand = %s sleep\n",
	         vd_victim());
	vd_start(&vd, cfg);
	ev = vd_wait_event(&vd, "health.changed", "calm", 15000);
	ck_assert_msg(ev != NULL, "no health.changed for calm within 15 s");
	/* the event carries the factors too */
	ck_assert_ptr_nonnull(json_object_get(ev, "memory_penalty"));
	ck_assert_ptr_nonnull(json_object_get(ev, "latency_penalty"));
	ck_assert_ptr_nonnull(json_object_get(ev, "memory_exhaustion_ms"));
	json_decref(ev);

	ck_assert_int_eq(vd_ctl(&vd, &doc, "health", "calm", NULL), 0);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(vd_jstr(doc, "name"), "calm");
	ck_assert_msg(json_is_integer(json_object_get(doc, "score")), "score is not a number");
	score = json_integer_value(json_object_get(doc, "score"));
	ck_assert_int_ge(score, 0);
	ck_assert_int_le(score, 100);
	ck_assert_str_ne(vd_jstr(doc, "level"), "");
	ck_assert_str_ne(vd_jstr(doc, "trend"), "");
	ck_assert(json_is_object(json_object_get(doc, "factors")));
	ck_assert(json_is_array(json_object_get(doc, "alerts")));
	v = json_object_get(doc, "violations");
	ck_assert(json_is_integer(json_object_get(v, "total")));
	ck_assert(json_is_integer(json_object_get(v, "memory")));
	json_decref(doc);

	/* for humans */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "health", "calm", NULL), 0);
	ck_assert_msg(strstr(text, "calm: ") && strstr(text, "/100") && strstr(text, "violations:"),
	              "health output: %s", text);
	free(text);

	ck_assert_int_eq(vd_ctl(&vd, NULL, "health", "nothing-here", NULL), 3);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* A build or an install whose report_xml.so is missing: vigild runs, the JSON report works,
 * and an XML report is refused with a message naming the file. */
START_TEST(report_module_missing)
{
	const char *src = getenv("VIGILD");
	char dir[256], bin[300], dst[320], buf[65536], *text = NULL;
	struct vd vd;
	json_t *doc = NULL;
	const char *msg;
	ssize_t n;
	int in, out;

	/* a copy of vigild in DIR/bin, no DIR/lib/vigil/modules (the plugins come from
	 * plugin_path as usual) */
	ck_assert_ptr_nonnull(src);
	snprintf(dir, sizeof dir, "/tmp/vigil-test-nomod-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(bin, sizeof bin, "%s/bin", dir);
	ck_assert_int_eq(mkdir(bin, 0755), 0);
	snprintf(dst, sizeof dst, "%s/vigild", bin);
	in = open(src, O_RDONLY | O_CLOEXEC);
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ck_assert(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof buf)) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	setenv("VIGILD", dst, 1);

	snprintf(cfg, sizeof cfg, "[program.a]\ncommand = %s sleep\n", vd_victim());
	vd_start(&vd, cfg);
	/* modules are looked for beside the path vigild was started from, copy or not */
	unlink(dst);
	rmdir(bin);
	rmdir(dir);
	ck_assert_int_eq(vd_ctl(&vd, &doc, "report", "--format", "json", NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "programs")), 1);
	json_decref(doc);
	doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "report", "--format", "xml", NULL), 1);
	msg = vd_jstr(json_object_get(doc, "error"), "message");
	ck_assert_msg(strstr(msg, dir) &&
	                  strstr(msg, "/lib/vigil/modules/report_xml.so: cannot load:") &&
	                  strstr(msg, "--format json"),
	              "report error: %s", msg);
	json_decref(doc);
	/* for humans too, on stderr, and the daemon goes on */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "report", NULL), 1);
	free(text);
	ck_assert_str_eq(vd_state(&vd, "a"), "running");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* [frontend.xmlreport] in a real vigild: it links the XML writer itself and writes a valid
 * report; `vigilctl report` (through the module) works beside it. */
START_TEST(xmlreport_frontend)
{
	char path[600], *text, *doc_text = NULL;
	struct vd vd;
	int rc;

	snprintf(cfg, sizeof cfg,
	         "[frontend.xmlreport]\npath = ${state_dir}/out.xml\ninterval = 1s\n"
	         "[program.w]\ncommand = %s sleep\ntags = web\n",
	         vd_victim());
	vd_start(&vd, cfg);
	json_decref(vd_wait_event(&vd, "process.running", "w", 10000));
	snprintf(path, sizeof path, "%s/out.xml", vd.state);
	text = vd_wait_file(path, "name=\"w\"", 15000);
	ck_assert_msg(text != NULL, "no report naming program w in %s within 15 s", path);
	ck_assert_int_eq(strncmp(text, "<?xml", 5), 0);
	ck_assert_ptr_nonnull(strstr(text, "</report>"));
	free(text);
	rc = xmllint(path);
	ck_assert_msg(rc == 0 || rc == 77, "xmllint rejected %s (exit %d)", path, rc);
	ck_assert_int_eq(vd_ctl_text(&vd, &doc_text, "report", NULL), 0);
	ck_assert_ptr_nonnull(strstr(doc_text, "</report>"));
	free(doc_text);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, report_xml_and_json);
	tcase_add_test(tc, health_after_a_score);
	tcase_add_test(tc, report_module_missing);
	tcase_add_test(tc, xmlreport_frontend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* test_examples.c — the SDK examples, built out of tree by run.sh, loaded into a real vigild:
 * each must show up in `vigilctl plugins` and do its job, seen from outside. */
#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/vigil.h>

#include "harness.h"

/* What the configuration below asks of the examples. */
#define DELAY_MS 300
#define MAX_RESTARTS 2

static char work[256]; /* this test's own files: the hook script, its output, the JSONL file */
static char cfg[8192];

static const char *env(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s is not set (run through tests/sdk/run.sh)", name);
	return v;
}

static void make_work(void)
{
	char path[400];
	FILE *f;

	/* Under run.sh's directory, which it removes even when a test fails half-way. */
	snprintf(work, sizeof work, "%s/run-XXXXXX", env("SDK_WORK"));
	ck_assert_ptr_nonnull(mkdtemp(work));
	snprintf(path, sizeof path, "%s/hook.sh", work);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	/* The webhook passes the event in the environment; $1 is the file to append to. */
	fputs("#!/bin/sh\n"
	      "echo \"hook saw $VIGIL_EVENT\"\n"
	      "printf '%s %s %s\\n' \"$VIGIL_EVENT\" \"$VIGIL_SUBJECT\" \"$VIGIL_REASON\" >> \"$1\"\n",
	      f);
	fclose(f);
	snprintf(cfg, sizeof cfg,
	         "[monitor.hello]\ninterval = 100ms\n"
	         "[policy.fixed]\ndelay = %dms\nmax_restarts = %d\n"
	         "[store.jsonl]\npath = %s/events.jsonl\n"
	         "[frontend.webhook]\ncommand = /bin/sh %s/hook.sh %s/hook.out\n"
	         "[program.sleeper]\ncommand = %s sleep\n"
	         "[program.crasher]\ncommand = %s exit 3\nrestart_policy = fixed\n",
	         DELAY_MS, MAX_RESTARTS, work, work, work, vd_victim(), vd_victim());
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_work(void)
{
	if (work[0])
		nftw(work, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	work[0] = '\0';
}

static void start(struct vd *vd)
{
	char err[256];

	make_work();
	/* stderr goes to $dir/vigild.stderr, where the debug log can be read while it runs. */
	int rc = vd_try_start(vd, cfg, err, sizeof err);
	ck_assert_msg(rc == -1, "vigild exited with %d before becoming ready: %s", rc, err);
}

static void stop(struct vd *vd)
{
	int rc = vd_stop(vd);

	remove_work();
	ck_assert_int_eq(rc, 0);
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Every example shows up with its kind, name, instance, section, version, ABI and file, and
 * the file is the one built by run.sh (under SDK_WORK), not anything from vigil's tree. */
START_TEST(plugins_listed)
{
	static const char *const want[][3] = {
	    {"monitor", "hello", "monitor_hello.so"},
	    {"policy", "fixed", "policy_fixed.so"},
	    {"store", "jsonl", "store_jsonl.so"},
	    {"frontend", "webhook", "frontend_webhook.so"},
	};
	const char *root = env("SDK_WORK");
	struct vd vd;
	json_t *doc = NULL, *p;
	char abi[16], section[64], *text = NULL;
	size_t i;

	start(&vd);
	snprintf(abi, sizeof abi, "%d.%d", VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
	ck_assert_int_eq(vd_ctl(&vd, &doc, "plugins", (char *)NULL), 0);
	ck_assert_ptr_nonnull(doc);
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
		json_t *found = NULL;

		json_array_foreach(json_object_get(doc, "plugins"), i, p)
			if (strcmp(jstr(p, "kind"), want[k][0]) == 0 &&
			    strcmp(jstr(p, "name"), want[k][1]) == 0)
				found = p;
		ck_assert_msg(found != NULL, "%s %s not in vigilctl plugins", want[k][0],
		              want[k][1]);
		snprintf(section, sizeof section, "%s.%s", want[k][0], want[k][1]);
		ck_assert_str_eq(jstr(found, "instance"), want[k][1]);
		ck_assert_str_eq(jstr(found, "section"), section);
		ck_assert_str_eq(jstr(found, "version"), "1.0.0");
		ck_assert_str_eq(jstr(found, "abi"), abi);
		ck_assert_msg(strncmp(jstr(found, "file"), root, strlen(root)) == 0,
		              "%s was loaded from %s, not from the out-of-tree build in %s",
		              section, jstr(found, "file"), root);
		const char *file = jstr(found, "file");
		size_t fl = strlen(file), wl = strlen(want[k][2]);
		ck_assert_msg(fl > wl && strcmp(file + fl - wl, want[k][2]) == 0 &&
		                  file[fl - wl - 1] == '/',
		              "file %s", file);
	}
	json_decref(doc);

	/* The human table says the same. */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "plugins", (char *)NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "KIND"));
	ck_assert_ptr_nonnull(strstr(text, "ABI"));
	ck_assert_ptr_nonnull(strstr(text, "FILE"));
	for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
		ck_assert_msg(strstr(text, want[k][2]) != NULL, "%s not in: %s", want[k][2], text);
	free(text);
	stop(&vd);
}
END_TEST

/* hello_monitor: metric.custom every interval, counting up. */
START_TEST(hello_publishes_metric)
{
	struct vd vd;
	double last = 0;

	start(&vd);
	for (int i = 0; i < 3; i++) {
		json_t *ev = vd_wait_event(&vd, "metric.custom", NULL, 5000);

		ck_assert_msg(ev != NULL, "no metric.custom within 5 s (%d seen)", i);
		ck_assert_str_eq(jstr(ev, "metric"), "hello.counter");
		ck_assert_str_eq(jstr(ev, "unit"), "count");
		double v = json_number_value(json_object_get(ev, "value"));
		ck_assert_msg(v > last, "value %g after %g", v, last);
		last = v;
		json_decref(ev);
	}
	stop(&vd);
}
END_TEST

/* fixed_delay_policy decides every restart of the crasher with the configured delay, then
 * gives up; webhook_frontend runs its command on the give-up; jsonl_store wrote it all. */
START_TEST(crash_loop_policy_webhook_store)
{
	struct vd vd;
	json_t *ev;
	char path[400], want[200], *s;

	start(&vd);
	for (int i = 0; i < MAX_RESTARTS; i++) {
		ev = vd_wait_event(&vd, "process.exited", "crasher", 10000);
		ck_assert_msg(ev != NULL, "no process.exited %d", i + 1);
		ck_assert_int_eq(jint(ev, "exit_code"), 3);
		json_decref(ev);
		ev = vd_wait_event(&vd, "process.backoff", "crasher", 10000);
		ck_assert_msg(ev != NULL, "no process.backoff %d", i + 1);
		ck_assert_int_eq(jint(ev, "delay_ms"), DELAY_MS);
		ck_assert_str_eq(jstr(ev, "policy"), "fixed");
		json_decref(ev);
	}
	ev = vd_wait_event(&vd, "process.fatal", "crasher", 10000);
	ck_assert_msg(ev != NULL, "the fixed policy never gave up");
	snprintf(want, sizeof want, "gave up after %d restarts", MAX_RESTARTS);
	ck_assert_msg(strstr(jstr(ev, "reason"), want), "reason: %s", jstr(ev, "reason"));
	json_decref(ev);

	/* The webhook ran the command with the event in its environment... */
	snprintf(path, sizeof path, "%s/hook.out", work);
	snprintf(want, sizeof want, "process.fatal crasher gave up after %d restarts", MAX_RESTARTS);
	s = vd_wait_file(path, want, 10000);
	ck_assert_msg(s != NULL, "%s never got '%s'", path, want);
	free(s);
	/* ...and vigild logged what the command printed. */
	snprintf(path, sizeof path, "%s/vigild.stderr", vd.dir);
	s = vd_wait_file(path, "[frontend.webhook] hook", 10000);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(strstr(s, "hook saw process.fatal"));
	free(s);

	/* The operator starts it again: reset() gives it a fresh count, so it is restarted with
	 * the delay again rather than given up on at once. */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "start", "--no-wait", "crasher", (char *)NULL), 0);
	ev = vd_wait_event(&vd, "process.backoff", "crasher", 10000);
	ck_assert_msg(ev != NULL, "no process.backoff after start: reset() was not honoured");
	ck_assert_int_eq(jint(ev, "delay_ms"), DELAY_MS);
	json_decref(ev);

	/* The JSONL file holds every lifecycle event, one valid JSON object per line, in order. */
	snprintf(path, sizeof path, "%s/events.jsonl", work);
	s = vd_wait_file(path, "\"type\":\"process.fatal\"", 10000);
	ck_assert_msg(s != NULL, "%s has no process.fatal line", path);
	int lines = 0, started = 0, running = 0, exited = 0, backoff = 0, fatal = 0;
	long long last_seq = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *type;

		ck_assert_msg(o != NULL, "not JSON (%s): %s", jerr.text, line);
		lines++;
		ck_assert_msg(jint(o, "seq") > last_seq, "seq goes back: %s", line);
		last_seq = jint(o, "seq");
		type = jstr(o, "type");
		started += strcmp(type, "supervisor.started") == 0;
		running += strcmp(type, "process.running") == 0 &&
		           strcmp(jstr(o, "subject"), "sleeper") == 0;
		exited += strcmp(type, "process.exited") == 0 && jint(o, "exit_code") == 3;
		backoff += strcmp(type, "process.backoff") == 0 && jint(o, "delay_ms") == DELAY_MS;
		fatal += strcmp(type, "process.fatal") == 0;
		ck_assert_msg(strncmp(type, "metric", 6) != 0, "a lossy event in the log: %s", line);
		json_decref(o);
	}
	free(s);
	ck_assert_int_eq(started, 1);
	ck_assert_int_ge(running, 1);
	ck_assert_int_ge(exited, MAX_RESTARTS + 1);
	ck_assert_int_ge(backoff, MAX_RESTARTS);
	ck_assert_int_ge(fatal, 1);
	stop(&vd);
}
END_TEST

/* jsonl_store keeps the registry: put when an instance runs, removed when it stops. */
START_TEST(store_registry)
{
	struct vd vd;
	char path[400], *s;

	start(&vd);
	snprintf(path, sizeof path, "%s/vigild.stderr", vd.dir);
	s = vd_wait_file(path, "[store.jsonl] registry: put sleeper", 10000);
	ck_assert_msg(s != NULL, "the store never got registry_put for sleeper");
	free(s);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "sleeper", (char *)NULL), 0);
	s = vd_wait_file(path, "[store.jsonl] registry: removed sleeper", 10000);
	ck_assert_msg(s != NULL, "the store never got registry_remove for sleeper");
	free(s);
	stop(&vd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create(getenv("SDK_VARIANT") ? getenv("SDK_VARIANT") : "sdk_examples");
	TCase *tc = tcase_create("examples");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, plugins_listed);
	tcase_add_test(tc, hello_publishes_metric);
	tcase_add_test(tc, crash_loop_policy_webhook_store);
	tcase_add_test(tc, store_registry);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_VERBOSE);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

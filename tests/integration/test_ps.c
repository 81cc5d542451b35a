/* test_ps.c — `vigilctl ps` filters on a history seeded by real programs and tasks with known
 * outcomes, live and after vigild was restarted on the same state dir. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "kind:name" of every entry, sorted and comma-joined: the rows, whatever their order. */
static char *rows_of(json_t *doc)
{
	json_t *list = json_object_get(doc, "entries"), *e;
	size_t i, n = json_array_size(list);
	char **items = calloc(n + 1, sizeof *items);
	json_array_foreach(list, i, e) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s:%s", vd_jstr(e, "kind"), vd_jstr(e, "name"));
		items[i] = strdup(buf);
	}
	qsort(items, n, sizeof *items, cmp_str);
	char *out = calloc(1, 4096);
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, ",");
		strncat(out, items[i], 4000 - strlen(out));
		free(items[i]);
	}
	free(items);
	return out;
}

/* Runs `vigilctl --json ps ARGS...` and checks the rows (see rows_of) are exactly `want`. */
#define PS_IS(vd, want, ...)                                                                      \
	do {                                                                                      \
		json_t *doc_ = NULL;                                                              \
		int rc_ = vd_ctl(vd, &doc_, "ps", __VA_ARGS__, (char *)NULL);                     \
		ck_assert_msg(rc_ == 0 && doc_, "ps %s exited %d", #__VA_ARGS__, rc_);            \
		char *got_ = rows_of(doc_);                                                       \
		ck_assert_msg(strcmp(got_, want) == 0, "ps %s:\n  got  %s\n  want %s",            \
		              #__VA_ARGS__, got_, want);                                          \
		free(got_);                                                                       \
		json_decref(doc_);                                                                \
	} while (0)

/* The entry of one name in `ps ARGS...` (a new reference), or NULL. */
static json_t *ps_entry(struct vd *vd, const char *name, const char *a1, const char *a2)
{
	json_t *doc = NULL, *e, *found = NULL;
	size_t i;
	ck_assert_int_eq(vd_ctl(vd, &doc, "ps", a1, a2, (char *)NULL), 0);
	json_array_foreach(json_object_get(doc, "entries"), i, e) {
		if (!found && strcmp(vd_jstr(e, "name"), name) == 0)
			found = json_incref(e);
	}
	json_decref(doc);
	return found;
}

/* vigilctl run --name N --type T --priority P --pool POOL [--wait] -- victim A1 [A2]. */
static void run_task(struct vd *vd, const char *name, const char *type, const char *prio,
                     const char *pool, int wait, const char *a1, const char *a2)
{
	const char *v[16] = {"--name", name, "--type", type, "--priority", prio, "--pool", pool};
	int n = 8;
	if (wait)
		v[n++] = "--wait";
	v[n++] = "--";
	v[n++] = vd_victim();
	v[n++] = a1;
	v[n++] = a2;
	json_t *doc = NULL;
	int rc = vd_ctl(vd, &doc, "run", v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
	                v[9], v[10], v[11], v[12], v[13], (char *)NULL);
	ck_assert_msg(doc != NULL && (wait || rc == 0), "run %s exited %d", name, rc);
	json_decref(doc);
}

/* An instant strictly after everything that happened so far (times are in ms). */
static const char *instant(char *buf, size_t len)
{
	vd_rfc3339_now(buf, len);
	return vd_rfc3339_now(buf, len);
}

START_TEST(ps_filters_on_a_seeded_history)
{
	struct vd vd;
	vd_start(&vd, config("[program.web]\ncommand = %s sleep\npriority = high\ntags = front, edge\n"
	                     "[program.crash]\ncommand = %s exit 3\nrestart = never\n"
	                     "[program.killme]\ncommand = %s sleep\nrestart = never\ntags = edge\n"
	                     "[program.idle]\ncommand = %s sleep\nautostart = false\n"
	                     "[pool.p]\nmax_concurrent = 1\n",
	                     vd_victim(), vd_victim(), vd_victim(), vd_victim()));
	json_t *ev;
	ck_assert_ptr_nonnull(ev = vd_wait_event(&vd, "process.ready", "web", 10000));
	json_decref(ev);
	ck_assert_ptr_nonnull(ev = vd_wait_event(&vd, "process.ready", "killme", 10000));
	json_decref(ev);
	ck_assert_ptr_nonnull(ev = vd_wait_event(&vd, "process.exited", "crash", 10000));
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "exit_code")), 3);
	json_decref(ev);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "signal", "KILL", "killme", NULL), 0);
	ck_assert_ptr_nonnull(ev = vd_wait_event(&vd, "process.exited", "killme", 10000));
	ck_assert_str_eq(vd_jstr(ev, "reason"), "killed");
	json_decref(ev);

	/* phase A: three tasks that end: succeeded, failed (2), timeout */
	run_task(&vd, "a1", "build", "high", "default", 1, "exit", "0");
	run_task(&vd, "a2", "build", "low", "default", 1, "exit", "2");
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "run", "--name", "a3", "--type", "lint", "--timeout",
	                        "300ms", "--wait", "--", vd_victim(), "sleep", NULL),
	                 124);
	json_decref(doc);
	char t1[40];
	instant(t1, sizeof t1);

	/* phase B: one running, two queued behind it (one cancelled), one that ends */
	run_task(&vd, "b1", "lint", "normal", "p", 0, "sleep", NULL);
	run_task(&vd, "b2", "build", "critical", "p", 0, "exit", "0");
	run_task(&vd, "b3", "deploy", "normal", "default", 1, "exit", "0");
	run_task(&vd, "b4", "lint", "normal", "p", 0, "exit", "0");
	json_t *b4 = ps_entry(&vd, "b4", "--kind", "task");
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", vd_jstr(b4, "id"), NULL), 0);
	json_decref(b4);
	json_t *b1 = ps_entry(&vd, "b1", "--kind", "task");
	ck_assert_str_eq(vd_jstr(b1, "state"), "running");
	json_decref(b1);

	/* live: what vigild runs and holds */
	PS_IS(&vd,
	      "program:crash,program:idle,program:killme,program:web,task:a1,task:a2,task:a3,"
	      "task:b1,task:b2,task:b3,task:b4",
	      "--limit", "1000");
	PS_IS(&vd, "program:web,task:b1", "--state", "running");
	PS_IS(&vd, "program:crash,program:killme", "--state", "exited");
	PS_IS(&vd, "program:idle", "--state", "stopped");
	PS_IS(&vd, "task:a1,task:a2,task:b2", "--type", "build");
	PS_IS(&vd, "task:a2", "--type", "build", "--state", "failed");
	PS_IS(&vd, "task:a3", "--state", "timeout");
	PS_IS(&vd, "task:b2", "--kind", "task", "--state", "queued");
	PS_IS(&vd, "task:b4", "--state", "cancelled");
	PS_IS(&vd, "program:web,task:a1", "--priority", "high");
	PS_IS(&vd, "task:a2", "--priority", "low");
	PS_IS(&vd, "task:b2", "--priority", "critical");
	PS_IS(&vd, "program:killme,program:web", "--tag", "edge");
	PS_IS(&vd, "program:web", "--tag", "front");
	PS_IS(&vd, "", "--tag", "back");
	PS_IS(&vd, "program:crash", "crash");
	/* no monitor scores anything in this config: no entry has a level */
	PS_IS(&vd, "", "--health", "healthy");
	PS_IS(&vd, "program:crash,program:idle,program:killme,program:web", "--kind", "program");

	/* time windows (they bring in the history; its rows merge into the live lines) */
	PS_IS(&vd, "program:web,task:b1,task:b2,task:b3,task:b4", "--since", t1);
	PS_IS(&vd, "task:b1,task:b4", "--since", t1, "--type", "lint");
	PS_IS(&vd, "program:crash,program:killme,program:web,task:a1,task:a2,task:a3", "--until",
	      t1);
	PS_IS(&vd, "program:crash,program:killme,program:web,task:a1,task:a2,task:a3,task:b1,"
	           "task:b2,task:b3,task:b4",
	      "--since", "1h");
	/* a run that ended killed is only in the history (the instance itself is "exited") */
	PS_IS(&vd, "program:killme", "--history", "--state", "killed");
	json_t *k = ps_entry(&vd, "killme", "--history", "--state=killed");
	ck_assert(json_is_false(json_object_get(k, "live")));
	ck_assert_int_eq(json_integer_value(json_object_get(k, "signal")), 9);
	json_decref(k);
	/* the live web line carries the id of its open run */
	json_t *w = ps_entry(&vd, "web", "--history", NULL);
	ck_assert(json_is_true(json_object_get(w, "live")));
	ck_assert_ptr_nonnull(vd_jstr(w, "id"));
	json_decref(w);

	/* bad filters are usage errors */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "ps", "--state", "runing", NULL), 2);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "ps", "--since", "yesterday", NULL), 2);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "ps", "--health", "great", NULL), 2);
	/* and the human table */
	char *text = NULL;
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "ps", "--type", "build", NULL), 0);
	ck_assert_ptr_nonnull(strstr(text, "KIND"));
	ck_assert_ptr_nonnull(strstr(text, "STARTED"));
	ck_assert_ptr_nonnull(strstr(text, "a2"));
	free(text);

	/* restart vigild on the same state: tasks are history now (b1, b2 ended cancelled by
	 * the shutdown); web runs again, its first run ended "stopped" */
	ck_assert_int_eq(vd_halt(&vd), 0);
	vd_relaunch(&vd);
	ck_assert_ptr_nonnull(ev = vd_wait_event(&vd, "process.ready", "web", 10000));
	json_decref(ev);
	PS_IS(&vd, "", "--kind", "task");
	PS_IS(&vd, "task:a1,task:a2,task:a3,task:b1,task:b2,task:b3,task:b4", "--kind", "task",
	      "--history");
	static const char *const final[][2] = {{"a1", "succeeded"}, {"a2", "failed"},
	                                       {"a3", "timeout"},   {"b1", "cancelled"},
	                                       {"b2", "cancelled"}, {"b3", "succeeded"},
	                                       {"b4", "cancelled"}};
	for (size_t i = 0; i < sizeof final / sizeof final[0]; i++) {
		json_t *e = ps_entry(&vd, final[i][0], "--kind=task", "--history");
		ck_assert_msg(e && !strcmp(vd_jstr(e, "state"), final[i][1]), "%s is %s, expected %s",
		              final[i][0], e ? vd_jstr(e, "state") : "missing", final[i][1]);
		ck_assert(json_is_false(json_object_get(e, "live")));
		json_decref(e);
	}
	PS_IS(&vd, "task:a2", "--history", "--type", "build", "--state", "failed");
	PS_IS(&vd, "task:a1,task:a2", "--history", "--type", "build", "--until", t1);
	PS_IS(&vd, "program:web,program:web", "web", "--history");
	PS_IS(&vd, "program:web", "web", "--history", "--state", "stopped");
	PS_IS(&vd, "program:killme", "--history", "--state", "killed");
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *ps_suite(void)
{
	Suite *s = suite_create("ps");
	TCase *tc = tcase_create("ps");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, ps_filters_on_a_seeded_history);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ps_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

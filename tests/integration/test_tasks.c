/* test_tasks.c — real vigild, real tasks: queue order, concurrency, timeouts, cancel, retries,
 * wait exit codes, a full queue, and libvigil-client driving it all. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vigil/client.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

/* `vigilctl --json run ARGS...`: the id of the new task (static buffer per slot). */
static const char *run_task(struct vd *vd, char out[64], const char *arg, ...)
{
	const char *argv[32] = {NULL};
	int n = 0;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	/* vd_ctl is variadic: spell out up to 12 arguments */
	json_t *doc = NULL;
	int rc = vd_ctl(vd, &doc, "run", argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
	                argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], (char *)NULL);
	ck_assert_msg(rc == 0 && doc, "vigilctl run %s ... exited %d", arg, rc);
	snprintf(out, 64, "%s", vd_jstr(doc, "id"));
	json_decref(doc);
	return out;
}

/* The next task.started / task.finished of id. */
static json_t *task_event(struct vd *vd, const char *type, const char *id)
{
	json_t *ev = vd_wait_event(vd, type, id, 20000);
	ck_assert_msg(ev != NULL, "no %s for %s", type, id);
	return ev;
}

/* Every process whose process group is pgid. */
static int group_members(pid_t pgid, pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && getpgid(pid) == pgid && n < max)
			out[n++] = pid;
	}
	if (d)
		closedir(d);
	return n;
}

/* ---- queue order and concurrency ---- */

START_TEST(priority_order_under_a_full_pool)
{
	struct vd vd;
	vd_start(&vd, config("[pool.q]\nmax_concurrent = 1\n"));
	char blocker[64], ids[8][64];
	run_task(&vd, blocker, "--pool", "q", "--name", "blocker", "--", vd_victim(), "sleep", NULL);
	json_decref(task_event(&vd, "task.started", blocker));
	/* mixed order; each name says its level and its rank within it */
	static const char *const order[8][2] = {
		{"low", "low-1"},   {"normal", "normal-1"}, {"high", "high-1"},
		{"critical", "critical-1"}, {"low", "low-2"}, {"critical", "critical-2"},
		{"normal", "normal-2"}, {"high", "high-2"},
	};
	for (int i = 0; i < 8; i++)
		run_task(&vd, ids[i], "--pool", "q", "--priority", order[i][0], "--name", order[i][1],
		         "--", vd_victim(), "exit", "0", NULL);
	/* queued: the queue positions follow the priorities already */
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "ps", "--kind", "task", "--state", "queued", NULL), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "entries")), 8);
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", blocker, NULL), 0);
	static const char *const expect[8] = {"critical-1", "critical-2", "high-1", "high-2",
	                                      "normal-1", "normal-2", "low-1", "low-2"};
	/* started in priority order, FIFO within a level, and never two at once */
	int running = 1; /* the blocker */
	for (int got = 0; got < 8;) {
		json_t *ev = vd_next_event(&vd, "task.", 20000);
		ck_assert_ptr_nonnull(ev);
		if (!strcmp(vd_jstr(ev, "type"), "task.finished")) {
			running--;
		} else if (!strcmp(vd_jstr(ev, "type"), "task.started")) {
			running++;
			ck_assert_msg(running <= 1,
			              "%d tasks of a max_concurrent = 1 pool run at once", running);
			ck_assert_str_eq(vd_jstr(ev, "name"), expect[got]);
			got++;
		}
		json_decref(ev);
	}
	for (int i = 0; i < 8; i++) {
		json_t *w = NULL;
		ck_assert_int_eq(vd_ctl(&vd, &w, "wait", ids[i], NULL), 0);
		json_decref(w);
	}
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(max_concurrent_never_exceeded)
{
	struct vd vd;
	vd_start(&vd, config("[pool.c]\nmax_concurrent = 3\n"));
	char ids[12][64], delay[16];
	for (int i = 0; i < 12; i++) {
		snprintf(delay, sizeof delay, "%d", 50 + (i % 4) * 40);
		run_task(&vd, ids[i], "--pool", "c", "--", vd_victim(), "exit", "0", delay, NULL);
	}
	/* the stream in order: +1 per start, -1 per finish */
	int running = 0, peak = 0, started = 0, finished = 0;
	while (finished < 12) {
		json_t *ev = vd_next_event(&vd, "task.", 20000);
		ck_assert_ptr_nonnull(ev);
		if (!strcmp(vd_jstr(ev, "type"), "task.started")) {
			started++;
			running++;
		} else if (!strcmp(vd_jstr(ev, "type"), "task.finished")) {
			running--;
			finished++;
		}
		peak = running > peak ? running : peak;
		ck_assert_msg(running <= 3, "%d tasks run at once in a pool of 3", running);
		json_decref(ev);
	}
	ck_assert_int_eq(started, 12);
	ck_assert_int_le(peak, 3);
	ck_assert_int_ge(peak, 2); /* and the pool was used in parallel */
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* ---- timeout and cancel end the whole tree ---- */

static void tree_ends(const char *how)
{
	struct vd vd;
	vd_start(&vd, config("[pool.t]\nmax_concurrent = 2\nstop_timeout = 2s\n"));
	char pgfile[512], id[64];
	snprintf(pgfile, sizeof pgfile, "%s/pgid", vd.dir);
	if (!strcmp(how, "timeout"))
		run_task(&vd, id, "--pool", "t", "--timeout", "1s", "--", vd_victim(), "double-fork",
		         pgfile, NULL);
	else
		run_task(&vd, id, "--pool", "t", "--", vd_victim(), "double-fork", pgfile, NULL);
	char *s = vd_wait_file(pgfile, "\n", 10000);
	ck_assert_ptr_nonnull(s);
	pid_t pgid = (pid_t)atoi(s);
	free(s);
	pid_t members[8];
	int n = group_members(pgid, members, 8);
	ck_assert_msg(n == 2, "expected the task and its grandchild in group %d, found %d",
	              (int)pgid, n);
	if (!strcmp(how, "cancel"))
		ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", id, NULL), 0);
	json_t *w = NULL;
	int rc = vd_ctl(&vd, &w, "wait", id, NULL);
	ck_assert_int_eq(rc, !strcmp(how, "timeout") ? 124 : 125);
	ck_assert_str_eq(vd_jstr(w, "state"), !strcmp(how, "timeout") ? "timeout" : "cancelled");
	json_decref(w);
	/* the grandchild ignores SIGTERM and left its parent: only the tree kill ends it */
	for (int i = 0; i < n; i++)
		ck_assert_msg(vd_wait_gone(members[i], 5000) == 0, "pid %d of the task's tree lives on",
		              (int)members[i]);
	ck_assert_int_eq(vd_stop(&vd), 0);
}

START_TEST(timeout_ends_the_tree)
{
	tree_ends("timeout");
}
END_TEST

START_TEST(cancel_ends_the_tree)
{
	tree_ends("cancel");
}
END_TEST

START_TEST(cancel_queued)
{
	struct vd vd;
	vd_start(&vd, config("[pool.one]\nmax_concurrent = 1\n"));
	char a[64], b[64];
	run_task(&vd, a, "--pool", "one", "--", vd_victim(), "sleep", NULL);
	run_task(&vd, b, "--pool", "one", "--", vd_victim(), "sleep", NULL);
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "cancel", b, NULL), 0);
	ck_assert_str_eq(vd_jstr(doc, "state"), "cancelled"); /* never ran: at once */
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", b, NULL), 1); /* already finished */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", "t0-no-such", NULL), 3);
	ck_assert_int_eq(vd_ctl(&vd, &doc, "cancel", "--wait", a, NULL), 125);
	ck_assert_str_eq(vd_jstr(doc, "state"), "cancelled");
	json_decref(doc);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* ---- retries ---- */

START_TEST(retries_paced_by_the_policy)
{
	struct vd vd;
	vd_start(&vd, config("[pool.r]\nretries = 3\nrestart_policy = steady\n"
	                     "[policy.backoff.steady]\ninitial = 300ms\nmultiplier = 2\nmax = 10s\n"
	                     "jitter = 0\nreset_after = 0\nmax_restarts = 0\n"));
	char id[64];
	run_task(&vd, id, "--pool", "r", "--", vd_victim(), "exit", "1", NULL);
	long long t[4];
	for (int i = 0; i < 4; i++) {
		json_t *ev = task_event(&vd, "task.started", id);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "attempt")), i + 1);
		t[i] = vd_parse_time_ms(vd_jstr(ev, "time"));
		ck_assert_int_ge(t[i], 0);
		json_decref(ev);
	}
	json_t *fin = task_event(&vd, "task.finished", id);
	ck_assert_str_eq(vd_jstr(fin, "state"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(fin, "attempts")), 4);
	json_decref(fin);
	/* 300 ms, 600 ms, 1200 ms after each failure (the runs themselves take a few ms; a
	 * loaded machine may add some, never take any away) */
	long long want[3] = {300, 600, 1200};
	for (int i = 0; i < 3; i++) {
		long long gap = t[i + 1] - t[i];
		ck_assert_msg(gap >= want[i] && gap < want[i] + 1000,
		              "retry %d came %lld ms after the previous run (expected ~%lld)", i + 1,
		              gap, want[i]);
	}
	/* wait exits with the last run's code */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "wait", id, NULL), 1);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* ---- wait exit codes, a full queue ---- */

START_TEST(wait_exit_codes)
{
	struct vd vd;
	vd_start(&vd, "");
	json_t *doc = NULL;
	/* run --wait exits with the task's code */
	ck_assert_int_eq(vd_ctl(&vd, &doc, "run", "--wait", "--", vd_victim(), "exit", "7", NULL), 7);
	ck_assert_str_eq(vd_jstr(doc, "state"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "exit_code")), 7);
	ck_assert_ptr_nonnull(json_object_get(doc, "duration_s"));
	ck_assert_ptr_nonnull(json_object_get(doc, "cpu_s"));
	ck_assert_ptr_nonnull(json_object_get(doc, "peak_rss_bytes"));
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", "--wait", "--", vd_victim(), "exit", "0", NULL), 0);
	/* killed by signal N: 128 + N */
	ck_assert_int_eq(vd_ctl(&vd, &doc, "run", "--wait", "--", "/bin/sh", "-c", "kill -USR1 $$",
	                        NULL),
	                 128 + SIGUSR1);
	ck_assert_str_eq(vd_jstr(doc, "state"), "killed");
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "signal")), SIGUSR1);
	json_decref(doc);
	/* its own timeout: 124, as timeout(1) */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", "--wait", "--timeout", "300ms", "--", vd_victim(),
	                        "sleep", NULL),
	                 124);
	/* not started at all: 127 */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", "--wait", "--", "/no/such/program", NULL), 127);
	/* wait on a task that runs, from another vigilctl */
	char id[64];
	run_task(&vd, id, "--", vd_victim(), "exit", "5", "300", NULL);
	ck_assert_int_eq(vd_ctl(&vd, &doc, "wait", id, NULL), 5);
	ck_assert_str_eq(vd_jstr(doc, "id"), id);
	json_decref(doc);
	/* and again once it is over: the same answer */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "wait", id, NULL), 5);
	/* wait --timeout that runs out: 1, the task goes on */
	run_task(&vd, id, "--", vd_victim(), "sleep", NULL);
	ck_assert_int_eq(vd_ctl(&vd, &doc, "wait", "--timeout", "300ms", id, NULL), 1);
	ck_assert_ptr_nonnull(strstr(vd_jstr(json_object_get(doc, "error"), "message"), "timed out"));
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", id, NULL), 0);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "wait", "t0-no-such", NULL), 3);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "wait", NULL), 2);
	/* human output: one line */
	char *text = NULL;
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "wait", id, NULL), 125);
	ck_assert_ptr_nonnull(strstr(text, ": cancelled"));
	free(text);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

START_TEST(full_queue_is_111)
{
	struct vd vd;
	vd_start(&vd, config("[pool.small]\nmax_concurrent = 1\nqueue_max = 2\n"));
	char ids[3][64];
	for (int i = 0; i < 3; i++)
		run_task(&vd, ids[i], "--pool", "small", "--", vd_victim(), "sleep", NULL);
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "run", "--pool", "small", "--", vd_victim(), "sleep",
	                        NULL),
	                 111);
	ck_assert_ptr_nonnull(strstr(vd_jstr(json_object_get(doc, "error"), "message"), "queue is full"));
	json_decref(doc);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", "--pool", "nope", "--", "/bin/true", NULL), 3);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", "--priority", "urgent", "--", "/bin/true", NULL),
	                 2);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "run", NULL), 2);
	/* a place frees up: accepted again */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "cancel", ids[2], NULL), 0);
	char again[64];
	run_task(&vd, again, "--pool", "small", "--", vd_victim(), "exit", "0", NULL);
	/* shutdown cancels what is queued and stops what runs */
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

/* ---- the client library ---- */

struct seen {
	int programs, tasks;
	char state[32];
};

static int count_cb(const struct vigil_client_entry *e, void *arg)
{
	struct seen *s = arg;
	ck_assert_uint_eq(e->size, sizeof *e);
	if (!strcmp(e->kind, "program")) {
		s->programs++;
		snprintf(s->state, sizeof s->state, "%s", e->state);
		ck_assert_int_gt(e->pid, 0);
	} else {
		s->tasks++;
	}
	return 0;
}

START_TEST(client_library)
{
	struct vd vd;
	vd_start(&vd, config("[program.web]\ncommand = %s sleep\n[pool.lib]\nmax_concurrent = 2\n",
	                     vd_victim()));
	json_decref(vd_wait_event(&vd, "process.ready", "web", 10000));
	int err = 0;
	struct vigil_client *c = vigil_client_connect(vd.socket, &err);
	ck_assert_msg(c != NULL, "connect: %s", strerror(-err));
	vigil_client_set_timeout(c, 30000);

	/* an event stream on a second connection, from now on */
	struct vigil_client *evc = vigil_client_connect(vd.socket, &err);
	ck_assert_ptr_nonnull(evc);
	const char *types[] = {"task.finished", NULL};
	ck_assert_int_eq(vigil_client_events_open(evc, types, NULL, 0), 0);

	/* submit of mixed priorities, then wait for each */
	const char *ok[] = {vd_victim(), "exit", "0", NULL};
	const char *bad[] = {vd_victim(), "exit", "9", NULL};
	const char *env[] = {"FOO=bar", NULL};
	char ids[4][64];
	for (int i = 0; i < 4; i++) {
		struct vigil_task_spec spec = {.size = sizeof spec,
		                               .pool = "lib",
		                               .name = "libtask",
		                               .type = "libtest",
		                               .priority = (enum vigil_priority)i,
		                               .env = env,
		                               .argv = i == 2 ? bad : ok};
		ck_assert_int_eq(vigil_client_submit(c, &spec, ids[i], sizeof ids[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		struct vigil_client_task t = {.size = sizeof t};
		ck_assert_int_eq(vigil_client_wait(c, ids[i], 0, &t), 0);
		ck_assert_str_eq(t.id, ids[i]);
		ck_assert_str_eq(t.type, "libtest");
		ck_assert_str_eq(t.pool, "lib");
		ck_assert_int_eq(t.priority, i);
		ck_assert_int_eq(t.state, i == 2 ? VIGIL_TASK_FAILED : VIGIL_TASK_SUCCEEDED);
		ck_assert_int_eq(t.exit_code, i == 2 ? 9 : 0);
		ck_assert_int_eq(vigil_client_exit_status(&t), i == 2 ? 9 : 0);
		ck_assert(t.duration_s >= 0 && t.cpu_s >= 0);
		ck_assert_int_gt(t.started_at_ms, 0);
	}
	/* the stream saw all four end */
	int ends = 0;
	while (ends < 4) {
		struct vigil_client_event ev;
		ck_assert_int_eq(vigil_client_events_next(evc, &ev, 10000), 0);
		ck_assert_str_eq(ev.type, "task.finished");
		ck_assert_str_eq(vigil_client_event_str(&ev, "pool"), "lib");
		double code = -1;
		ck_assert_int_eq(vigil_client_event_num(&ev, "exit_code", &code), 0);
		ck_assert(code == 0 || code == 9);
		ck_assert_int_gt(ev.time_us, 0);
		ends++;
	}
	ck_assert_int_eq(vigil_client_status(evc, NULL, count_cb, NULL), -EBUSY);
	vigil_client_close(evc);

	/* cancel, status of a task, errors */
	const char *slow[] = {vd_victim(), "sleep", NULL};
	struct vigil_task_spec spec = {.size = sizeof spec, .pool = "lib", .argv = slow};
	char id[64];
	ck_assert_int_eq(vigil_client_submit(c, &spec, id, sizeof id), 0);
	struct vigil_client_task t = {.size = sizeof t};
	ck_assert_int_eq(vigil_client_task_status(c, id, &t), 0);
	ck_assert(t.state == VIGIL_TASK_STARTING || t.state == VIGIL_TASK_RUNNING ||
	          t.state == VIGIL_TASK_QUEUED);
	ck_assert_int_eq(vigil_client_wait(c, id, 200, &t), VIGIL_CLIENT_FAILED);
	ck_assert_ptr_nonnull(strstr(vigil_client_error(c), "timed out"));
	ck_assert_int_eq(vigil_client_cancel(c, id), 0);
	ck_assert_int_eq(vigil_client_wait(c, id, 0, &t), 0);
	ck_assert_int_eq(t.state, VIGIL_TASK_CANCELLED);
	ck_assert_int_eq(vigil_client_exit_status(&t), 125);
	ck_assert_int_eq(vigil_client_cancel(c, id), VIGIL_CLIENT_FAILED);
	ck_assert_int_eq(vigil_client_wait(c, "t0-no-such", 0, &t), VIGIL_CLIENT_NOENT);
	ck_assert_int_eq(vigil_client_task_status(c, "t0-no-such", &t), VIGIL_CLIENT_NOENT);
	spec.pool = "nope";
	ck_assert_int_eq(vigil_client_submit(c, &spec, id, sizeof id), VIGIL_CLIENT_NOENT);
	ck_assert_ptr_nonnull(strstr(vigil_client_error(c), "no such pool"));
	spec.pool = NULL;
	spec.argv = NULL;
	ck_assert_int_eq(vigil_client_submit(c, &spec, id, sizeof id), -EINVAL);

	/* status and ps */
	struct seen s = {0};
	ck_assert_int_eq(vigil_client_status(c, NULL, count_cb, &s), 0);
	ck_assert_int_eq(s.programs, 1);
	ck_assert_str_eq(s.state, "running");
	ck_assert_int_eq(vigil_client_status(c, "nope", count_cb, &s), VIGIL_CLIENT_NOENT);
	memset(&s, 0, sizeof s);
	struct vigil_client_query q = {.size = sizeof q, .type = "libtest"};
	ck_assert_int_eq(vigil_client_ps(c, &q, count_cb, &s), 0);
	ck_assert_int_eq(s.tasks, 4);
	ck_assert_int_eq(s.programs, 0);
	q.state = "nonsense";
	ck_assert_int_eq(vigil_client_ps(c, &q, count_cb, &s), VIGIL_CLIENT_USAGE);

	/* raw JSON */
	char *reply = NULL;
	ck_assert_int_eq(vigil_client_request(c, "{\"cmd\":\"version\"}", &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply, "\"version\""));
	vigil_client_free(reply);
	ck_assert_int_eq(vigil_client_request(c, "{\"cmd\":\"status\",\"args\":[\"x\"]}", &reply),
	                 3);
	ck_assert_ptr_nonnull(strstr(reply, "\"error\""));
	vigil_client_free(reply);
	ck_assert_int_eq(vigil_client_request(c, "not json", &reply), -EINVAL);
	vigil_client_close(c);

	/* no daemon there */
	char nowhere[400];
	snprintf(nowhere, sizeof nowhere, "%s/nobody.sock", vd.dir);
	ck_assert_ptr_null(vigil_client_connect(nowhere, &err));
	ck_assert_int_eq(err, -ENOENT);

	/* the example program: 20 tasks of mixed priority through the library */
	char example[512], cmd[1200];
	snprintf(example, sizeof example, "%s", getenv("VIGILCTL") ? getenv("VIGILCTL") : "");
	char *slash = strrchr(example, '/');
	if (slash) {
		strcpy(slash + 1, "submit_tasks");
		snprintf(cmd, sizeof cmd, "%s -s %s -p lib -n 20 > %s/example.out 2>&1", example,
		         vd.socket, vd.dir);
		ck_assert_int_eq(system(cmd), 0);
		snprintf(cmd, sizeof cmd, "%s/example.out", vd.dir);
		char *out = vd_read_file(cmd);
		ck_assert_ptr_nonnull(out);
		ck_assert_msg(strstr(out, "done: 17 succeeded 2 failed 1 killed, 0 unexpected") != NULL,
		              "%s", out);
		free(out);
	}
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *tasks_suite(void)
{
	Suite *s = suite_create("tasks");
	TCase *tc = tcase_create("tasks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, priority_order_under_a_full_pool);
	tcase_add_test(tc, max_concurrent_never_exceeded);
	tcase_add_test(tc, timeout_ends_the_tree);
	tcase_add_test(tc, cancel_ends_the_tree);
	tcase_add_test(tc, cancel_queued);
	tcase_add_test(tc, retries_paced_by_the_policy);
	tcase_add_test(tc, wait_exit_codes);
	tcase_add_test(tc, full_queue_is_111);
	tcase_add_test(tc, client_library);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tasks_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

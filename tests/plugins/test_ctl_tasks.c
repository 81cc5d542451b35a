/* test_ctl_tasks.c — frontend_ctl.so's run, wait, cancel, ps, stats, reload and reexec against a
 * fake host that models tasks, the store's history and the daemon's reload. */
#include "ctl_fixture.h"

/* ======================= times (pure functions) ======================= */

START_TEST(durations)
{
	int64_t ms = 0;

	ck_assert_int_eq(ctl_parse_duration_ms("2h", &ms), 0);
	ck_assert_int_eq(ms, 7200000);
	ck_assert_int_eq(ctl_parse_duration_ms("1h30m", &ms), 0);
	ck_assert_int_eq(ms, 5400000);
	ck_assert_int_eq(ctl_parse_duration_ms(" 1500ms ", &ms), 0);
	ck_assert_int_eq(ms, 1500);
	ck_assert_int_eq(ctl_parse_duration_ms("90", &ms), 0); /* bare = seconds */
	ck_assert_int_eq(ms, 90000);
	ck_assert_int_eq(ctl_parse_duration_ms("1.5d", &ms), 0);
	ck_assert_int_eq(ms, 129600000);
	ck_assert_int_eq(ctl_parse_duration_ms("30m1h", &ms), -EINVAL); /* large to small */
	ck_assert_int_eq(ctl_parse_duration_ms("1m30", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration_ms("2x", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration_ms("", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_duration_ms("h", &ms), -EINVAL);
}
END_TEST

START_TEST(timestamps)
{
	int64_t ms = 0;

	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27T03:04:05Z", &ms), 0);
	ck_assert_int_eq(ms, INT64_C(1795748645000));
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27T03:04:05.123Z", &ms), 0);
	ck_assert_int_eq(ms, INT64_C(1795748645123));
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27t05:04:05+02:00", &ms), 0);
	ck_assert_int_eq(ms, INT64_C(1795748645000));
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27 03:04:05", &ms), 0); /* no offset = UTC */
	ck_assert_int_eq(ms, INT64_C(1795748645000));
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27", &ms), 0);
	ck_assert_int_eq(ms, INT64_C(1795737600000));
	ck_assert_int_eq(ctl_parse_rfc3339("2026-02-31T00:00:00Z", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27T25:00:00Z", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_rfc3339("2026-11-27T03:04:05Zjunk", &ms), -EINVAL);
	ck_assert_int_eq(ctl_parse_rfc3339("yesterday", &ms), -EINVAL);
}
END_TEST

START_TEST(when)
{
	char err[256];
	int64_t ms = 0;
	json_t *v;

	v = json_string("2h");
	ck_assert_int_eq(ctl_parse_when(v, 10000000, &ms, err, sizeof err), 0);
	ck_assert_int_eq(ms, 10000000 - 7200000);
	json_decref(v);
	v = json_integer(42);
	ck_assert_int_eq(ctl_parse_when(v, 10000000, &ms, err, sizeof err), 0);
	ck_assert_int_eq(ms, 42);
	json_decref(v);
	v = json_string("2026-11-27T03:04:05Z");
	ck_assert_int_eq(ctl_parse_when(v, 10000000, &ms, err, sizeof err), 0);
	ck_assert_int_eq(ms, INT64_C(1795748645000));
	json_decref(v);
	v = json_string("soon");
	ck_assert_int_eq(ctl_parse_when(v, 10000000, &ms, err, sizeof err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "'soon'"));
	json_decref(v);
	v = json_true();
	ck_assert_int_eq(ctl_parse_when(v, 10000000, &ms, err, sizeof err), -EINVAL);
	json_decref(v);
}
END_TEST

/* ======================= a fake core with tasks, history and reload ======================= */

#define NTASKS 8
static struct vigil_task_info tasks[NTASKS];
static size_t ntasks;
static struct vigil_task_spec last_spec;
static char last_argv[8][64], last_env[8][64], last_strs[5][64];
static int submit_rc, cancel_rc, history_rc, stats_rc, reload_rc, reexec_rc;
static int reloads, reexecs;
static const char *reload_error;
static struct vigil_history_row hist[8];
static size_t nhist;
static struct vigil_history_query last_q;
static int history_calls;

static struct vigil_task_info *add_task(const char *id, const char *name, const char *type,
                                        enum vigil_task_state st, enum vigil_priority prio)
{
	struct vigil_task_info *t = &tasks[ntasks++];

	memset(t, 0, sizeof *t);
	t->size = sizeof *t;
	t->id = id;
	t->name = name;
	t->type = type;
	t->pool = "default";
	t->command = name;
	t->state = st;
	t->priority = prio;
	t->attempt = 1;
	t->exit_code = -1;
	t->submitted_at_ms = fh.wall_base_ms;
	if (st != VIGIL_TASK_QUEUED)
		t->started_at_ms = fh.wall_base_ms + 10;
	if (st == VIGIL_TASK_RUNNING)
		t->pid = 4000 + (int)ntasks;
	if (st >= VIGIL_TASK_SUCCEEDED) {
		t->ended_at_ms = fh.wall_base_ms + 1010;
		t->duration_ms = 1000;
		t->exit_code = st == VIGIL_TASK_SUCCEEDED ? 0 : 3;
		t->cpu_s = 0.25;
		t->peak_rss_bytes = 1 << 20;
	}
	return t;
}

static struct vigil_task_info *find_task(const char *id)
{
	for (size_t i = 0; i < ntasks; i++)
		if (strcmp(tasks[i].id, id) == 0)
			return &tasks[i];
	return NULL;
}

static int fake_submit(const struct vigil_task_spec *spec, char *id, size_t idlen, char *err,
                       size_t errlen)
{
	size_t i;

	last_spec = *spec;
	for (i = 0; i < 8 && spec->argv && spec->argv[i]; i++)
		snprintf(last_argv[i], sizeof last_argv[i], "%s", spec->argv[i]);
	last_argv[i][0] = '\0';
	for (i = 0; i < 8 && spec->env && spec->env[i]; i++)
		snprintf(last_env[i], sizeof last_env[i], "%s", spec->env[i]);
	last_env[i][0] = '\0';
	last_spec.argv = NULL;
	last_spec.env = NULL;
	/* the request's strings go with it: keep copies */
	const char **strs[] = {&last_spec.pool, &last_spec.name, &last_spec.type, &last_spec.cwd};
	for (i = 0; i < 4; i++)
		if (*strs[i]) {
			snprintf(last_strs[i], sizeof last_strs[i], "%s", *strs[i]);
			*strs[i] = last_strs[i];
		}
	if (submit_rc) {
		snprintf(err, errlen, "refused on purpose (%d)", submit_rc);
		return submit_rc;
	}
	snprintf(id, idlen, "t1-%zu", ntasks + 1);
	/* the id must stay valid: keep it in a static table */
	static char ids[NTASKS][16];
	snprintf(ids[ntasks], sizeof ids[ntasks], "%s", id);
	add_task(ids[ntasks], "job", "task", VIGIL_TASK_RUNNING, spec->priority);
	return 0;
}

static int fake_cancel(const char *id)
{
	struct vigil_task_info *t = find_task(id);

	if (cancel_rc)
		return cancel_rc;
	if (!t)
		return -ENOENT;
	if (t->state >= VIGIL_TASK_SUCCEEDED)
		return -EALREADY;
	t->state = t->state == VIGIL_TASK_QUEUED ? VIGIL_TASK_CANCELLED : VIGIL_TASK_STOPPING;
	return 0;
}

static int fake_task_foreach(const char *id, vigil_task_fn fn, void *arg)
{
	int r = 0;

	if (id) {
		struct vigil_task_info *t = find_task(id);

		return t ? fn(t, arg) : -ENOENT;
	}
	for (size_t i = 0; i < ntasks && r == 0; i++)
		r = fn(&tasks[i], arg);
	return r;
}

static int fake_history(const struct vigil_history_query *q, vigil_history_fn fn, void *arg)
{
	int r = 0;

	history_calls++;
	last_q = *q;
	if (history_rc)
		return history_rc;
	for (size_t i = 0; i < nhist && r == 0; i++) {
		const struct vigil_history_row *h = &hist[i];

		/* the store's own filters, coarsely: kind and name */
		if (q->kind && strcmp(q->kind, h->kind) != 0)
			continue;
		if (q->name && strcmp(q->name, h->name) != 0 && (!h->id || strcmp(q->name, h->id)))
			continue;
		r = fn(h, arg);
	}
	return r;
}

static int fake_stats(const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg)
{
	struct vigil_stats_row r = {.size = sizeof r,
	                            .key = "build",
	                            .runs = 4,
	                            .successes = 3,
	                            .failures = 1,
	                            .success_rate = 0.75,
	                            .p50_ms = 100,
	                            .p95_ms = 900,
	                            .max_ms = 1000,
	                            .cpu_s = 1.5,
	                            .peak_rss_bytes = 2048};

	if (stats_rc)
		return stats_rc;
	if (strcmp(q->by, "type") != 0)
		r.key = q->by;
	return fn(&r, arg);
}

static int fake_reload(char *err, size_t len)
{
	reloads++;
	if (reload_rc)
		snprintf(err, len, "%s", reload_error);
	return reload_rc;
}

static int fake_reexec(void)
{
	reexecs++;
	return reexec_rc;
}

static void add_hist(const char *kind, const char *name, const char *program, const char *id,
                     int32_t pid, const char *st, int64_t start, int64_t end)
{
	struct vigil_history_row *h = &hist[nhist++];

	memset(h, 0, sizeof *h);
	h->size = sizeof *h;
	h->kind = kind;
	h->name = name;
	h->program = program;
	h->id = id;
	h->pid = pid;
	h->state = st;
	h->priority = "normal";
	h->started_at_ms = start;
	h->ended_at_ms = end;
	h->exit_code = end ? 0 : -1;
	h->cpu_s = -1;
	h->peak_rss_bytes = -1;
	if (strcmp(kind, "task") == 0)
		h->type = "task";
	else
		h->tags = "front, edge";
}

static void task_setup(void)
{
	setup();
	ntasks = nhist = 0;
	submit_rc = cancel_rc = history_rc = stats_rc = reload_rc = reexec_rc = 0;
	reloads = reexecs = history_calls = 0;
	fh.host.task_submit = fake_submit;
	fh.host.task_cancel = fake_cancel;
	fh.host.task_foreach = fake_task_foreach;
	fh.host.history_query = fake_history;
	fh.host.stats_query = fake_stats;
	fh.host.reload = fake_reload;
	fh.host.reexec = fake_reexec;
}

static void deliver_finished(const char *id, enum vigil_task_state st, int code, int sig)
{
	struct vigil_task_info *t = find_task(id);
	struct vigil_ev_task_finished e = {
	    .hdr = {.type = VIGIL_EV_TASK_FINISHED, .size = sizeof e, .subject = id},
	    .pool = "default",
	    .name = "job",
	    .type = "task",
	    .state = st,
	    .exit_code = code,
	    .signal = sig,
	    .duration_ms = 1500,
	    .cpu_s = 0.5,
	    .peak_rss_bytes = 4096,
	    .attempts = 1,
	};

	if (t) {
		t->state = st;
		t->exit_code = code;
		t->signal = sig;
		t->pid = 0;
		t->ended_at_ms = fh.wall_base_ms + (int64_t)fh.now_ms;
		t->duration_ms = 1500;
	}
	ck_assert_int_ge(vigil_fake_deliver(&fh, &e.hdr), 1);
}

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ======================= run ======================= */

START_TEST(run_submits)
{
	json_t *r;

	start_plugin();
	r = ask("{\"cmd\":\"run\",\"argv\":[\"/bin/make\",\"-j4\"],\"pool\":\"builds\","
	        "\"name\":\"mk\",\"type\":\"build\",\"priority\":\"critical\","
	        "\"timeout_ms\":5000,\"cwd\":\"/srv\",\"env\":[\"A=1\",\"B=two words\"]}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_str_eq(jstr(r, "id"), "t1-1");
	ck_assert_str_eq(jstr(r, "state"), "running");
	json_decref(r);
	ck_assert_str_eq(last_spec.pool, "builds");
	ck_assert_str_eq(last_spec.name, "mk");
	ck_assert_str_eq(last_spec.type, "build");
	ck_assert_str_eq(last_spec.cwd, "/srv");
	ck_assert_int_eq(last_spec.priority, VIGIL_PRIO_CRITICAL);
	ck_assert_int_eq(last_spec.timeout_ms, 5000);
	ck_assert_str_eq(last_argv[0], "/bin/make");
	ck_assert_str_eq(last_argv[1], "-j4");
	ck_assert_str_eq(last_argv[2], "");
	ck_assert_str_eq(last_env[1], "B=two words");
	/* defaults: NULL strings, normal priority, timeout 0 = the pool's */
	json_decref(ask("{\"cmd\":\"run\",\"argv\":[\"true\"]}"));
	ck_assert_ptr_null(last_spec.pool);
	ck_assert_int_eq(last_spec.priority, VIGIL_PRIO_NORMAL);
	ck_assert_int_eq(last_spec.timeout_ms, 0);
	ck_assert_str_eq(last_env[0], "");
}
END_TEST

START_TEST(run_errors)
{
	static const struct {
		int rc, code;
	} map[] = {{-ENOENT, 3}, {-EAGAIN, 111}, {-EINVAL, 2}, {-EPERM, 1}, {-ESHUTDOWN, 1}};
	static const char *const bad[] = {
	    "{\"cmd\":\"run\"}",
	    "{\"cmd\":\"run\",\"argv\":[]}",
	    "{\"cmd\":\"run\",\"argv\":[\"\"]}",
	    "{\"cmd\":\"run\",\"argv\":\"true\"}",
	    "{\"cmd\":\"run\",\"argv\":[1]}",
	    "{\"cmd\":\"run\",\"argv\":[\"true\"],\"priority\":\"urgent\"}",
	    "{\"cmd\":\"run\",\"argv\":[\"true\"],\"timeout_ms\":-1}",
	    "{\"cmd\":\"run\",\"argv\":[\"true\"],\"env\":\"A=1\"}",
	    "{\"cmd\":\"run\",\"argv\":[\"true\"],\"pool\":7}",
	};
	size_t i;
	json_t *r;

	start_plugin();
	for (i = 0; i < sizeof map / sizeof map[0]; i++) {
		submit_rc = map[i].rc;
		r = ask("{\"cmd\":\"run\",\"argv\":[\"true\"]}");
		ck_assert_int_eq(error_code(r), map[i].code);
		ck_assert_ptr_nonnull(strstr(error_msg(r), "refused on purpose"));
		json_decref(r);
	}
	submit_rc = 0;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = ask(bad[i]);
		ck_assert_msg(error_code(r) == 2, "%s gave %d", bad[i], error_code(r));
		json_decref(r);
	}
	ck_assert_uint_eq(ntasks, 0);
	/* a core without tasks */
	fh.host.task_submit = NULL;
	r = ask("{\"cmd\":\"run\",\"argv\":[\"true\"]}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "does not run tasks"));
	json_decref(r);
}
END_TEST

START_TEST(run_wait)
{
	int fd;
	json_t *r;
	char c;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"run\",\"argv\":[\"sleep\",\"1\"],\"wait\":true}");
	spin();
	ck_assert_uint_eq(ntasks, 1);
	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1); /* no reply while it runs */
	deliver_finished("t1-2", VIGIL_TASK_FAILED, 4, 0); /* another task: not ours */
	vigil_fake_advance(&fh, 1000);
	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	deliver_finished("t1-1", VIGIL_TASK_KILLED, -1, 9);
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_str_eq(jstr(r, "id"), "t1-1");
	ck_assert_str_eq(jstr(r, "state"), "killed");
	ck_assert(json_is_null(json_object_get(r, "exit_code")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "signal")), 9);
	ck_assert(json_real_value(json_object_get(r, "duration_s")) == 1.5);
	json_decref(r);
	close(fd);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

/* ======================= wait and cancel ======================= */

START_TEST(wait_replies)
{
	int fd;
	json_t *r;
	char c;

	start_plugin();
	add_task("t9-1", "done", "build", VIGIL_TASK_SUCCEEDED, VIGIL_PRIO_HIGH);
	add_task("t9-2", "busy", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_LOW);
	/* already finished: at once, with the fields of SPEC §4 */
	r = ask("{\"cmd\":\"wait\",\"args\":[\"t9-1\"]}");
	ck_assert_str_eq(jstr(r, "state"), "succeeded");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "exit_code")), 0);
	ck_assert(json_is_null(json_object_get(r, "signal")));
	ck_assert(json_real_value(json_object_get(r, "duration_s")) == 1.0);
	ck_assert(json_real_value(json_object_get(r, "cpu_s")) == 0.25);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "peak_rss_bytes")), 1 << 20);
	ck_assert_str_eq(jstr(r, "started_at"), "2026-11-27T03:04:05.010Z");
	ck_assert_str_eq(jstr(r, "priority"), "high");
	ck_assert_ptr_null(json_object_get(r, "error")); /* "error" is for error replies */
	json_decref(r);
	r = ask("{\"cmd\":\"wait\",\"args\":[\"t9-9\"]}");
	ck_assert_int_eq(error_code(r), 3);
	json_decref(r);
	r = ask("{\"cmd\":\"wait\",\"args\":[]}");
	ck_assert_int_eq(error_code(r), 2);
	json_decref(r);
	/* running: the reply waits for task.finished */
	fd = client();
	send_json(fd, "{\"cmd\":\"wait\",\"args\":[\"t9-2\"]}");
	spin();
	vigil_fake_advance(&fh, 5000);
	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	deliver_finished("t9-2", VIGIL_TASK_FAILED, 3, 0);
	r = recv_json(fd);
	ck_assert_str_eq(jstr(r, "state"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "exit_code")), 3);
	json_decref(r);
	/* the connection serves the next request */
	send_json(fd, "{\"cmd\":\"version\"}");
	r = recv_json(fd);
	ck_assert_ptr_nonnull(json_object_get(r, "version"));
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(wait_timeout_and_poll)
{
	struct vigil_task_info *t;
	int fd;
	json_t *r;

	start_plugin();
	t = add_task("t9-1", "busy", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_NORMAL);
	fd = client();
	send_json(fd, "{\"cmd\":\"wait\",\"args\":[\"t9-1\"],\"timeout_ms\":1000}");
	spin();
	vigil_fake_advance(&fh, 1000);
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "timed out after 1 s"));
	ck_assert_str_eq(jstr(json_object_get(r, "task"), "state"), "running");
	json_decref(r);
	/* no event at all (a core that publishes none): the poll sees the end */
	send_json(fd, "{\"cmd\":\"wait\",\"args\":[\"t9-1\"]}");
	spin();
	t->state = VIGIL_TASK_TIMEOUT;
	t->signal = 15;
	vigil_fake_advance(&fh, CTL_TASK_POLL_MS);
	r = recv_json(fd);
	ck_assert_str_eq(jstr(r, "state"), "timeout");
	json_decref(r);
	close(fd);
	spin();
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

START_TEST(wait_forgotten_task_from_history)
{
	json_t *r;

	start_plugin();
	add_hist("task", "old", "default", "t0-5", 0, "timeout", fh.wall_base_ms - 5000,
	         fh.wall_base_ms - 1000);
	add_hist("task", "lost", "default", "t0-6", 55, "running", fh.wall_base_ms - 5000, 0);
	r = ask("{\"cmd\":\"wait\",\"args\":[\"t0-5\"]}");
	ck_assert_str_eq(jstr(r, "state"), "timeout");
	ck_assert(json_real_value(json_object_get(r, "duration_s")) == 4.0);
	json_decref(r);
	r = ask("{\"cmd\":\"wait\",\"args\":[\"t0-6\"]}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "not run by this vigild any more"));
	json_decref(r);
}
END_TEST

START_TEST(wait_client_gone_and_shutdown)
{
	int fd;
	json_t *r;

	start_plugin();
	add_task("t9-1", "busy", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_NORMAL);
	fd = client();
	send_json(fd, "{\"cmd\":\"wait\",\"args\":[\"t9-1\"]}");
	spin();
	close(fd);
	spin();
	spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	deliver_finished("t9-1", VIGIL_TASK_SUCCEEDED, 0, 0);
	/* a waiter when the daemon stops gets an error, not silence */
	add_task("t9-2", "busy", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_NORMAL);
	fd = client();
	send_json(fd, "{\"cmd\":\"wait\",\"args\":[\"t9-2\"]}");
	spin();
	desc->stop(state);
	desc->fini(state);
	state = NULL;
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "shutting down"));
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(cancel_replies)
{
	int fd;
	json_t *r;

	start_plugin();
	add_task("t9-1", "q", "build", VIGIL_TASK_QUEUED, VIGIL_PRIO_NORMAL);
	add_task("t9-2", "r", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_NORMAL);
	add_task("t9-3", "d", "build", VIGIL_TASK_SUCCEEDED, VIGIL_PRIO_NORMAL);
	r = ask("{\"cmd\":\"cancel\",\"args\":[\"t9-1\"]}");
	ck_assert_str_eq(jstr(r, "state"), "cancelled");
	json_decref(r);
	r = ask("{\"cmd\":\"cancel\",\"args\":[\"t9-2\"]}");
	ck_assert_str_eq(jstr(r, "state"), "stopping");
	json_decref(r);
	r = ask("{\"cmd\":\"cancel\",\"args\":[\"t9-3\"]}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "already finished (succeeded)"));
	json_decref(r);
	r = ask("{\"cmd\":\"cancel\",\"args\":[\"t9-7\"]}");
	ck_assert_int_eq(error_code(r), 3);
	json_decref(r);
	/* --wait: the reply comes with the end */
	add_task("t9-4", "r2", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_NORMAL);
	fd = client();
	send_json(fd, "{\"cmd\":\"cancel\",\"args\":[\"t9-4\"],\"wait\":true}");
	spin();
	deliver_finished("t9-4", VIGIL_TASK_CANCELLED, -1, 15);
	r = recv_json(fd);
	ck_assert_str_eq(jstr(r, "state"), "cancelled");
	json_decref(r);
	close(fd);
}
END_TEST

/* ======================= ps and stats ======================= */

static json_t *entries(const char *req)
{
	json_t *r = ask(req), *e;

	ck_assert_msg(json_is_true(json_object_get(r, "ok")), "%s: %s", req, error_msg(r));
	e = json_incref(json_object_get(r, "entries"));
	json_decref(r);
	return e;
}

static int has_entry(const json_t *list, const char *kind, const char *name, const char *id)
{
	const json_t *e;
	size_t i;

	json_array_foreach(list, i, e)
	{
		if (strcmp(jstr(e, "kind"), kind) == 0 && strcmp(jstr(e, "name"), name) == 0 &&
		    (!id || (jstr(e, "id") && strcmp(jstr(e, "id"), id) == 0)))
			return 1;
	}
	return 0;
}

static const char *const web_tags[] = {"front", "edge", NULL};

static void ps_world(void)
{
	/* web runs (health 80, tags), db stopped after a run, quiet never ran */
	for (int i = 0; i < 3; i++)
		procs[i].priority = VIGIL_PRIO_NORMAL;
	procs[0].health = 80;
	procs[0].tags = web_tags;
	procs[0].started_at_ms = fh.wall_base_ms - 3600000;
	procs[1].state = VIGIL_PROC_EXITED;
	procs[1].started_at_ms = fh.wall_base_ms - 7200000;
	procs[1].state_since_ms = fh.wall_base_ms - 7000000;
	procs[1].exit_code = 1;
	procs[1].health = 30;
	add_task("t9-1", "mk", "build", VIGIL_TASK_RUNNING, VIGIL_PRIO_HIGH);
	add_task("t9-2", "lint", "check", VIGIL_TASK_FAILED, VIGIL_PRIO_LOW);
	add_task("t9-3", "mk2", "build", VIGIL_TASK_QUEUED, VIGIL_PRIO_CRITICAL);
	/* history: web's open run (the live line), an older web run, a task the core forgot,
	 * and t9-2 again (the core's view wins) */
	add_hist("program", "web", "web", "17", 100, "running", fh.wall_base_ms - 3600000, 0);
	add_hist("task", "lint", "default", "t9-2", 0, "running", fh.wall_base_ms - 100, 0);
	add_hist("task", "old", "default", "t0-1", 0, "succeeded", fh.wall_base_ms - 90000000,
	         fh.wall_base_ms - 89000000);
	add_hist("program", "web", "web", "12", 90, "killed", fh.wall_base_ms - 9000000,
	         fh.wall_base_ms - 8000000);
}

START_TEST(ps_live)
{
	json_t *e;

	start_plugin();
	ps_world();
	e = entries("{\"cmd\":\"ps\"}");
	ck_assert_uint_eq(json_array_size(e), 6); /* 3 programs, 3 tasks, no history */
	ck_assert_uint_eq(history_calls, 0);
	ck_assert_str_eq(jstr(json_array_get(e, 0), "name"), "web");
	ck_assert_str_eq(jstr(json_array_get(e, 3), "id"), "t9-1");
	ck_assert(json_is_null(json_object_get(json_array_get(e, 2), "started_at")));
	ck_assert_str_eq(jstr(json_array_get(e, 1), "ended_at"), "2026-11-27T01:07:25.000Z");
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"state\":\"running\"}");
	ck_assert_uint_eq(json_array_size(e), 2);
	ck_assert(has_entry(e, "program", "web", NULL) && has_entry(e, "task", "mk", NULL));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"type\":\"build\"}");
	ck_assert_uint_eq(json_array_size(e), 2);
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"priority\":\"low\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert(has_entry(e, "task", "lint", NULL));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"health\":\"healthy\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert(has_entry(e, "program", "web", NULL));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"health\":\"unhealthy\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert(has_entry(e, "program", "db", NULL));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"tag\":\"edge\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"kind\":\"task\"}");
	ck_assert_uint_eq(json_array_size(e), 3);
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"args\":[\"t9-3\"]}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert_str_eq(jstr(json_array_get(e, 0), "state"), "queued");
	json_decref(e);
}
END_TEST

START_TEST(ps_history_merged)
{
	json_t *e;
	const json_t *web;

	start_plugin();
	ps_world();
	e = entries("{\"cmd\":\"ps\",\"history\":true}");
	/* 6 live + web's killed run + the forgotten task; web's open run is its live line,
	 * t9-2 is the core's */
	ck_assert_uint_eq(json_array_size(e), 8);
	web = json_array_get(e, 0);
	ck_assert_str_eq(jstr(web, "id"), "17");
	ck_assert(json_is_true(json_object_get(web, "live")));
	ck_assert(has_entry(e, "program", "web", "12"));
	ck_assert(has_entry(e, "task", "old", "t0-1"));
	ck_assert_str_eq(jstr(json_array_get(e, 4), "state"), "failed"); /* t9-2, live */
	ck_assert(json_is_false(json_object_get(json_array_get(e, 7), "live")));
	json_decref(e);
	/* a window: what overlaps the last 2 h (implies the history) */
	e = entries("{\"cmd\":\"ps\",\"since\":\"2h\"}");
	ck_assert_uint_eq(history_calls, 2);
	ck_assert_int_eq(last_q.since_ms, fh.wall_base_ms - 7200000);
	/* web (open), db (ended 7000 s ago), mk, lint, mk2; not quiet (never ran), not the
	 * runs that ended before */
	ck_assert_uint_eq(json_array_size(e), 5);
	ck_assert(!has_entry(e, "program", "quiet", NULL));
	ck_assert(!has_entry(e, "task", "old", NULL));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"until\":\"2026-11-26T10:00:00Z\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert(has_entry(e, "task", "old", "t0-1"));
	json_decref(e);
	e = entries("{\"cmd\":\"ps\",\"history\":true,\"state\":\"killed\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert(has_entry(e, "program", "web", "12"));
	json_decref(e);
	/* health is never in the history: not even asked */
	history_calls = 0;
	e = entries("{\"cmd\":\"ps\",\"history\":true,\"health\":\"healthy\"}");
	ck_assert_uint_eq(json_array_size(e), 1);
	ck_assert_uint_eq(history_calls, 0);
	json_decref(e);
}
END_TEST

START_TEST(ps_errors)
{
	static const char *const bad[] = {
	    "{\"cmd\":\"ps\",\"state\":\"runing\"}",
	    "{\"cmd\":\"ps\",\"health\":\"great\"}",
	    "{\"cmd\":\"ps\",\"priority\":\"urgent\"}",
	    "{\"cmd\":\"ps\",\"kind\":\"thing\"}",
	    "{\"cmd\":\"ps\",\"since\":\"soon\"}",
	    "{\"cmd\":\"ps\",\"until\":true}",
	    "{\"cmd\":\"ps\",\"history\":\"yes\"}",
	    "{\"cmd\":\"ps\",\"type\":\"\"}",
	    "{\"cmd\":\"ps\",\"args\":[\"a\",\"b\"]}",
	};
	size_t i;
	json_t *r;

	start_plugin();
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = ask(bad[i]);
		ck_assert_msg(error_code(r) == 2, "%s gave %d", bad[i], error_code(r));
		json_decref(r);
	}
	/* a store without queries: an error when asked for, a warning when implied */
	history_rc = -ENOSYS;
	r = ask("{\"cmd\":\"ps\",\"history\":true}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "history is not available"));
	json_decref(r);
	r = ask("{\"cmd\":\"ps\",\"since\":\"1h\"}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert(json_is_false(json_object_get(r, "history")));
	ck_assert_ptr_nonnull(strstr(jstr(r, "warning"), "only live entries"));
	json_decref(r);
}
END_TEST

START_TEST(stats_replies)
{
	json_t *r, *row;

	start_plugin();
	r = ask("{\"cmd\":\"stats\"}");
	ck_assert_str_eq(jstr(r, "by"), "type");
	ck_assert(json_is_null(json_object_get(r, "since")));
	row = json_array_get(json_object_get(r, "stats"), 0);
	ck_assert_str_eq(jstr(row, "key"), "build");
	ck_assert_int_eq(json_integer_value(json_object_get(row, "runs")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(row, "p95_ms")), 900);
	ck_assert(json_real_value(json_object_get(row, "success_rate")) == 0.75);
	json_decref(r);
	r = ask("{\"cmd\":\"stats\",\"by\":\"pool\",\"since\":\"2026-11-27T00:00:00Z\"}");
	ck_assert_str_eq(jstr(r, "since"), "2026-11-27T00:00:00.000Z");
	ck_assert_str_eq(jstr(json_array_get(json_object_get(r, "stats"), 0), "key"), "pool");
	json_decref(r);
	r = ask("{\"cmd\":\"stats\",\"by\":\"colour\"}");
	ck_assert_int_eq(error_code(r), 2);
	json_decref(r);
	stats_rc = -ENOSYS;
	r = ask("{\"cmd\":\"stats\"}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "not available"));
	json_decref(r);
}
END_TEST

/* ======================= reload and reexec ======================= */

START_TEST(reload_replies)
{
	struct vigil_ev_config_reloaded ev = {
	    .hdr = {.type = VIGIL_EV_CONFIG_RELOADED, .size = sizeof ev},
	    .config_file = "/etc/vigil.ini",
	    .added = 1,
	    .changed = 2,
	    .unchanged = 3,
	};
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"reload\"}");
	spin();
	ck_assert_int_eq(reloads, 1);
	vigil_fake_deliver(&fh, &ev.hdr);
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "added")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "changed")), 2);
	ck_assert_str_eq(jstr(r, "config_file"), "/etc/vigil.ini");
	json_decref(r);
	/* no event: the reply still comes */
	send_json(fd, "{\"cmd\":\"reload\"}");
	spin();
	vigil_fake_advance(&fh, CTL_RELOAD_WAIT_MS);
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
	/* a broken file: exit code 100 and the core's message */
	reload_rc = -1;
	reload_error = "/etc/vigil.ini:3: unknown key 'comand' in [program.web]";
	r = ask("{\"cmd\":\"reload\"}");
	ck_assert_int_eq(error_code(r), 100);
	ck_assert_str_eq(error_msg(r), reload_error);
	json_decref(r);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

START_TEST(reexec_replies)
{
	json_t *r;

	start_plugin();
	r = ask("{\"cmd\":\"reexec\"}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(reexecs, 1);
	json_decref(r);
	reexec_rc = -ESHUTDOWN;
	r = ask("{\"cmd\":\"reexec\"}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "shutting down"));
	json_decref(r);
	fh.host.reexec = NULL;
	r = ask("{\"cmd\":\"reexec\"}");
	ck_assert_int_eq(error_code(r), 1);
	json_decref(r);
}
END_TEST

START_TEST(events_without_replay)
{
	int fd;
	json_t *r;

	start_plugin();
	deliver_finished("t9-9", VIGIL_TASK_SUCCEEDED, 0, 0); /* remembered in the ring */
	fd = client();
	send_json(fd, "{\"cmd\":\"events\",\"follow\":true,\"replay\":false}");
	spin();
	deliver_finished("t9-8", VIGIL_TASK_FAILED, 1, 0);
	r = recv_json(fd);
	ck_assert_str_eq(jstr(json_object_get(r, "stream"), "subject"), "t9-8");
	json_decref(r);
	close(fd);
}
END_TEST

static Suite *tasks_suite(void)
{
	Suite *s = suite_create("ctl_tasks");
	TCase *times = tcase_create("times");
	TCase *cmds = tcase_create("commands");

	tcase_add_test(times, durations);
	tcase_add_test(times, timestamps);
	tcase_add_test(times, when);
	suite_add_tcase(s, times);

	tcase_add_checked_fixture(cmds, task_setup, teardown);
	tcase_set_timeout(cmds, 30);
	tcase_add_test(cmds, run_submits);
	tcase_add_test(cmds, run_errors);
	tcase_add_test(cmds, run_wait);
	tcase_add_test(cmds, wait_replies);
	tcase_add_test(cmds, wait_timeout_and_poll);
	tcase_add_test(cmds, wait_forgotten_task_from_history);
	tcase_add_test(cmds, wait_client_gone_and_shutdown);
	tcase_add_test(cmds, cancel_replies);
	tcase_add_test(cmds, ps_live);
	tcase_add_test(cmds, ps_history_merged);
	tcase_add_test(cmds, ps_errors);
	tcase_add_test(cmds, stats_replies);
	tcase_add_test(cmds, reload_replies);
	tcase_add_test(cmds, reexec_replies);
	tcase_add_test(cmds, events_without_replay);
	suite_add_tcase(s, cmds);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tasks_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

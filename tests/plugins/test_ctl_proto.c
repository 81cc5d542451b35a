/* test_ctl_proto.c — the control protocol (framing, requests, JSON views) and frontend_ctl.so
 * itself, driven through the fake host with real Unix sockets. */

#include "ctl_fixture.h"

/* ======================= framing and requests (pure functions) ======================= */

START_TEST(frame_partial_reads)
{
	unsigned char buf[64];
	size_t len = frame_of(buf, "{\"cmd\":\"status\"}"), body = 0, i;

	/* every prefix short of the whole frame asks for more */
	for (i = 0; i < len; i++)
		ck_assert_int_eq(proto_frame_check(buf, i, &body), 0);
	ck_assert_int_eq(proto_frame_check(buf, len, &body), (ssize_t)len);
	ck_assert_uint_eq(body, len - PROTO_HDR_LEN);
}
END_TEST

START_TEST(frame_back_to_back)
{
	unsigned char buf[128];
	size_t a = frame_of(buf, "{\"cmd\":\"a\"}"), body = 0;
	size_t b = frame_of(buf + a, "{\"cmd\":\"version\"}");

	ck_assert_int_eq(proto_frame_check(buf, a + b, &body), (ssize_t)a);
	ck_assert_int_eq(proto_frame_check(buf + a, b, &body), (ssize_t)b);
	ck_assert_uint_eq(body, strlen("{\"cmd\":\"version\"}"));
}
END_TEST

START_TEST(frame_bad_lengths)
{
	unsigned char buf[8] = {0};
	size_t body = 0;

	ck_assert_int_eq(proto_frame_check(buf, 4, &body), -EMSGSIZE); /* zero */
	proto_put_header(buf, PROTO_MAX_MSG + 1);
	ck_assert_int_eq(proto_frame_check(buf, 4, &body), -EMSGSIZE);
	proto_put_header(buf, 0xffffffffu);
	ck_assert_int_eq(proto_frame_check(buf, 8, &body), -EMSGSIZE);
	/* the largest legal length is only incomplete */
	proto_put_header(buf, PROTO_MAX_MSG);
	ck_assert_int_eq(proto_frame_check(buf, 8, &body), 0);
	ck_assert(buf[0] == 0x00 && buf[1] == 0x10 && buf[2] == 0 && buf[3] == 0);
}
END_TEST

START_TEST(encode_round_trip)
{
	json_t *o = json_pack("{s:s,s:[i,s]}", "cmd", "status", "args", 1,
	                      "w\xc3\xa9"
	                      "b");
	unsigned char *frame;
	size_t len = 0, body = 0;
	char err[128];
	json_t *back;
	int e = 1;

	frame = proto_encode(o, &len, &e);
	ck_assert_ptr_nonnull(frame);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(proto_frame_check(frame, len, &body), (ssize_t)len);
	back = proto_parse((const char *)frame + PROTO_HDR_LEN, body, err, sizeof err);
	ck_assert_ptr_nonnull(back);
	ck_assert(json_equal(o, back));
	json_decref(back);
	json_decref(o);
	free(frame);
}
END_TEST

START_TEST(encode_too_large)
{
	char *big = malloc(PROTO_MAX_MSG + 1);
	json_t *o;
	size_t len = 0;
	int e = 0;

	memset(big, 'a', PROTO_MAX_MSG);
	big[PROTO_MAX_MSG] = '\0';
	o = json_pack("{s:s}", "x", big);
	ck_assert_ptr_null(proto_encode(o, &len, &e));
	ck_assert_int_eq(e, -EMSGSIZE);
	json_decref(o);
	free(big);
}
END_TEST

START_TEST(frame_reply_limits)
{
	unsigned char buf[8] = {0};
	size_t body = 0;

	/* a reply may be far larger than a request */
	proto_put_header(buf, PROTO_MAX_MSG + 1);
	ck_assert_int_eq(proto_frame_check(buf, 8, &body), -EMSGSIZE);
	ck_assert_int_eq(proto_frame_check_max(buf, 8, PROTO_MAX_REPLY, &body), 0);
	proto_put_header(buf, PROTO_MAX_REPLY);
	ck_assert_int_eq(proto_frame_check_max(buf, 8, PROTO_MAX_REPLY, &body), 0);
	ck_assert_uint_eq(proto_get_header(buf), PROTO_MAX_REPLY);
	proto_put_header(buf, PROTO_MAX_REPLY + 1);
	ck_assert_int_eq(proto_frame_check_max(buf, 8, PROTO_MAX_REPLY, &body), -EMSGSIZE);
	proto_put_header(buf, 0);
	ck_assert_int_eq(proto_frame_check_max(buf, 8, PROTO_MAX_REPLY, &body), -EMSGSIZE);
}
END_TEST

START_TEST(encode_large_reply)
{
	size_t n = 3 * PROTO_MAX_MSG, len = 0, body = 0;
	char *big = malloc(n + 1);
	unsigned char *frame;
	json_t *o, *back;
	char err[128];
	int e = 0;

	memset(big, 'a', n);
	big[n] = '\0';
	o = json_pack("{s:s}", "x", big);
	ck_assert_ptr_null(proto_encode(o, &len, &e)); /* a request that big is refused */
	ck_assert_int_eq(e, -EMSGSIZE);
	frame = proto_encode_max(o, PROTO_MAX_REPLY, &len, &e);
	ck_assert_ptr_nonnull(frame);
	ck_assert_int_eq(e, 0);
	ck_assert_int_eq(proto_frame_check_max(frame, len, PROTO_MAX_REPLY, &body), (ssize_t)len);
	back = proto_parse((const char *)frame + PROTO_HDR_LEN, body, err, sizeof err);
	ck_assert(json_equal(o, back));
	json_decref(back);
	json_decref(o);
	free(frame);
	free(big);
}
END_TEST

START_TEST(buf_limit)
{
	struct proto_buf b = {.max = 16};

	proto_buf_frame_begin(&b);
	proto_buf_lit(&b, "{\"a\":1}");
	ck_assert_int_eq(proto_buf_frame_end(&b), 0);
	ck_assert_uint_eq(proto_get_header(b.p), 7);
	proto_buf_lit(&b, "0123456789"); /* past max: refused, and it stays so */
	ck_assert_int_eq(b.err, -EMSGSIZE);
	proto_buf_lit(&b, "x");
	ck_assert_uint_eq(b.len, 11);
	ck_assert_int_eq(b.err, -EMSGSIZE);
	ck_assert_int_eq(proto_buf_frame_end(&b), -EMSGSIZE);
	free(b.p);
}
END_TEST

START_TEST(parse_rejects)
{
	static const char *const bad[] = {
	    "{\"cmd\"", /* truncated */
	    "[]",       /* not an object */
	    "42",
	    "\"status\"",
	    "{\"cmd\":\"\xff\"}",            /* not UTF-8 */
	    "{\"cmd\":\"a\\u0000b\"}",       /* NUL */
	    "{\"cmd\":\"a\",\"cmd\":\"b\"}", /* duplicate key */
	    "{} {}",                         /* two documents */
	    "",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_msg(proto_parse(bad[i], strlen(bad[i]), err, sizeof err) == NULL,
		              "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
	}
}
END_TEST

START_TEST(request_cmd)
{
	char err[128];
	json_t *r;

	r = json_pack("{s:s}", "cmd", "status");
	ck_assert_str_eq(proto_request_cmd(r, err, sizeof err), "status");
	json_decref(r);
	r = json_pack("{s:i}", "cmd", 3);
	ck_assert_ptr_null(proto_request_cmd(r, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "string"));
	json_decref(r);
	r = json_pack("{s:s}", "cmd", "");
	ck_assert_ptr_null(proto_request_cmd(r, err, sizeof err));
	json_decref(r);
	r = json_object();
	ck_assert_ptr_null(proto_request_cmd(r, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "no \"cmd\""));
	json_decref(r);
}
END_TEST

START_TEST(error_replies)
{
	const char *msg = NULL;
	json_t *e = proto_error(PROTO_NOENT, "no such program: %s",
	                        "w\xff"
	                        "b");
	json_t *ok = json_pack("{s:b}", "ok", 1);
	json_t *odd = json_pack("{s:{s:s}}", "error", "code", "x");

	ck_assert_ptr_nonnull(e); /* a message quoting bytes that are not UTF-8 still goes out */
	ck_assert_int_eq(proto_reply_error(e, &msg), 3);
	ck_assert_str_eq(msg, "no such program: w?b");
	ck_assert_int_eq(proto_reply_error(ok, &msg), 0);
	ck_assert_int_eq(proto_reply_error(odd, &msg), PROTO_FAILED);
	json_decref(e);
	json_decref(ok);
	json_decref(odd);
}
END_TEST

START_TEST(signals)
{
	int s = 0;

	ck_assert_int_eq(proto_parse_signal("TERM", &s), 0);
	ck_assert_int_eq(s, SIGTERM);
	ck_assert_int_eq(proto_parse_signal("sighup", &s), 0);
	ck_assert_int_eq(s, SIGHUP);
	ck_assert_int_eq(proto_parse_signal(" 9 ", &s), 0);
	ck_assert_int_eq(s, 9);
	ck_assert_int_eq(proto_parse_signal("SIGUSR1", &s), 0);
	ck_assert_int_eq(s, SIGUSR1);
	ck_assert_int_eq(proto_parse_signal("0", &s), -EINVAL);
	ck_assert_int_eq(proto_parse_signal("999", &s), -EINVAL);
	ck_assert_int_eq(proto_parse_signal("NOPE", &s), -EINVAL);
	ck_assert_int_eq(proto_parse_signal("", &s), -EINVAL);
	ck_assert_int_eq(proto_parse_signal("9x", &s), -EINVAL);
	ck_assert_str_eq(proto_signal_name(SIGKILL), "KILL");
	ck_assert_ptr_null(proto_signal_name(0));
}
END_TEST

/* ======================= JSON views ======================= */

START_TEST(time_format)
{
	char buf[40];

	vjson_time(buf, sizeof buf, 0);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	vjson_time(buf, sizeof buf, INT64_C(1795748645123456)); /* 2026-11-27T03:04:05.123456Z */
	ck_assert_str_eq(buf, "2026-11-27T03:04:05.123Z");
	vjson_time(buf, sizeof buf, -1000); /* a millisecond before the epoch */
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
}
END_TEST

START_TEST(utf8_clean)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"plain", "plain"},
	    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
	    {"a\xff"
	     "b",
	     "a\xef\xbf\xbd"
	     "b"},
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                 /* overlong */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
	    {"end\xe2\x82", "end\xef\xbf\xbd\xef\xbf\xbd"},           /* truncated */
	    {"\xf4\x90\x80\x80",
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = vjson_utf8_clean(cases[i].in, strlen(cases[i].in));

		ck_assert_str_eq(out, cases[i].out);
		free(out);
	}
	{
		char *out = vjson_utf8_clean("a\0b", 3); /* NUL cannot go into a JSON string */

		ck_assert_str_eq(out, "a\xef\xbf\xbd"
		                      "b");
		free(out);
	}
}
END_TEST

START_TEST(event_exited_json)
{
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED,
	            .size = sizeof e,
	            .seq = 7,
	            .time_us = INT64_C(1795748645123456),
	            .subject = "web.0"},
	    .program = "web",
	    .pid = 123,
	    .exit_code = -1,
	    .signal = 9,
	    .status_known = 1,
	    .runtime_ms = 1500,
	    .reason = "killed",
	    .error = NULL,
	    .cpu_s = 0.25,
	    .peak_rss_bytes = -1,
	};
	json_t *j = vjson_event(&e.hdr, "process.exited");

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "seq")), 7);
	ck_assert_str_eq(json_string_value(json_object_get(j, "time")), "2026-11-27T03:04:05.123Z");
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "process.exited");
	ck_assert_str_eq(json_string_value(json_object_get(j, "subject")), "web.0");
	ck_assert_str_eq(json_string_value(json_object_get(j, "program")), "web");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), 123);
	ck_assert(json_is_null(json_object_get(j, "exit_code")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "signal")), 9);
	ck_assert(json_is_true(json_object_get(j, "status_known")));
	ck_assert(json_is_false(json_object_get(j, "expected")));
	ck_assert(json_is_null(json_object_get(j, "error")));
	ck_assert(json_is_null(json_object_get(j, "peak_rss_bytes")));
	ck_assert(json_real_value(json_object_get(j, "cpu_s")) == 0.25);
	json_decref(j);
}
END_TEST

/* Every type of event.h has a serializer that writes its fields. */
START_TEST(event_every_type)
{
	static const struct {
		uint32_t type;
		size_t size;
		const char *field;
	} types[] = {
	    {VIGIL_EV_SUPERVISOR_STARTED, sizeof(struct vigil_ev_supervisor_started), "programs"},
	    {VIGIL_EV_SUPERVISOR_STOPPING, sizeof(struct vigil_ev_supervisor_stopping),
	     "timeout_ms"},
	    {VIGIL_EV_CONFIG_RELOADED, sizeof(struct vigil_ev_config_reloaded), "unchanged"},
	    {VIGIL_EV_CONFIG_REJECTED, sizeof(struct vigil_ev_config_rejected), "error"},
	    {VIGIL_EV_PROCESS_STARTING, sizeof(struct vigil_ev_process_starting), "attempt"},
	    {VIGIL_EV_PROCESS_RUNNING, sizeof(struct vigil_ev_process_running), "spawn_us"},
	    {VIGIL_EV_PROCESS_READY, sizeof(struct vigil_ev_process_ready), "ready_ms"},
	    {VIGIL_EV_PROCESS_STOPPING, sizeof(struct vigil_ev_process_stopping), "signal"},
	    {VIGIL_EV_PROCESS_EXITED, sizeof(struct vigil_ev_process_exited), "runtime_ms"},
	    {VIGIL_EV_PROCESS_BACKOFF, sizeof(struct vigil_ev_process_backoff), "delay_ms"},
	    {VIGIL_EV_PROCESS_FATAL, sizeof(struct vigil_ev_process_fatal), "restarts"},
	    {VIGIL_EV_PROCESS_ADOPTED, sizeof(struct vigil_ev_process_adopted), "started_at"},
	    {VIGIL_EV_TASK_QUEUED, sizeof(struct vigil_ev_task_queued), "position"},
	    {VIGIL_EV_TASK_STARTED, sizeof(struct vigil_ev_task_started), "queued_ms"},
	    {VIGIL_EV_TASK_FINISHED, sizeof(struct vigil_ev_task_finished), "duration_ms"},
	    {VIGIL_EV_METRICS_SAMPLE, sizeof(struct vigil_ev_metrics_sample), "tree_rss_bytes"},
	    {VIGIL_EV_HEALTH_CHANGED, sizeof(struct vigil_ev_health_changed), "score"},
	    {VIGIL_EV_LIMIT_VIOLATED, sizeof(struct vigil_ev_limit_violated), "count"},
	    {VIGIL_EV_ALERT_RAISED, sizeof(struct vigil_ev_alert), "severity"},
	    {VIGIL_EV_ALERT_CLEARED, sizeof(struct vigil_ev_alert), "message"},
	    {VIGIL_EV_METRIC_CUSTOM, sizeof(struct vigil_ev_metric_custom), "value"},
	    {VIGIL_EV_STORE_FAILED, sizeof(struct vigil_ev_store_failed), "pending"},
	};
	union {
		struct vigil_event hdr;
		char bytes[512];
	} u;
	size_t i;

	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		json_t *j;

		memset(&u, 0, sizeof u);
		u.hdr.type = types[i].type;
		u.hdr.size = (uint32_t)types[i].size;
		j = vjson_event(&u.hdr, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_msg(json_object_get(j, types[i].field) != NULL, "type %u lacks %s",
		              types[i].type, types[i].field);
		json_decref(j);
		/* a struct shorter than ours (an older publisher) gives the header only */
		u.hdr.size = sizeof(struct vigil_event);
		j = vjson_event(&u.hdr, "x.y");
		ck_assert_ptr_null(json_object_get(j, types[i].field));
		ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "x.y");
		json_decref(j);
	}
}
END_TEST

START_TEST(event_odd_values)
{
	struct vigil_ev_metric_custom m = {
	    .hdr = {.type = VIGIL_EV_METRIC_CUSTOM, .size = sizeof m, .subject = "w\xffx"},
	    .metric = "m",
	    .value = 0.0 / 0.0,
	    .unit = NULL,
	};
	json_t *j = vjson_event(&m.hdr, NULL);

	ck_assert(json_is_null(json_object_get(j, "value"))); /* NaN is not JSON */
	ck_assert_str_eq(json_string_value(json_object_get(j, "subject")), "w\xef\xbf\xbdx");
	ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "event.45");
	json_decref(j);
}
END_TEST

START_TEST(proc_info_json)
{
	static const char *const tags[] = {"a", "b", NULL};
	struct vigil_proc_info p = {
	    .size = sizeof p,
	    .state = VIGIL_PROC_RUNNING,
	    .name = "web.1",
	    .program = "web",
	    .instance = 1,
	    .pid = 42,
	    .started_at_ms = 10000,
	    .restarts = 2,
	    .exit_code = -1,
	    .tags = tags,
	    .cpu_pct = -1,
	    .rss_bytes = 1048576,
	    .health = -1,
	};
	json_t *j = vjson_proc_info(&p, 75500);

	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "web.1");
	ck_assert_str_eq(json_string_value(json_object_get(j, "state")), "running");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "pid")), 42);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "uptime_s")), 65);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "restarts")), 2);
	ck_assert(json_is_null(json_object_get(j, "exit_code")));
	ck_assert(json_is_null(json_object_get(j, "cpu_pct")));
	ck_assert(json_is_null(json_object_get(j, "health")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "rss_bytes")), 1048576);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "tags")), 2);
	json_decref(j);
	p.pid = 0; /* no process: no pid, no uptime */
	p.state = VIGIL_PROC_STOPPED;
	j = vjson_proc_info(&p, 75500);
	ck_assert(json_is_null(json_object_get(j, "pid")));
	ck_assert(json_is_null(json_object_get(j, "uptime_s")));
	json_decref(j);
}
END_TEST

START_TEST(config_checks)
{
	char longp[200];

	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = '\0';
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "socket", longp), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "too long"), 1);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "socket", sock_path), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "allow_uids", "0, no-such-user-here"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), -EINVAL);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "no-such-user-here"), 1);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "allow_uids", "root, 1000"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "allow_groups", "0"), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	ck_assert_uint_eq(((struct ctl *)state)->n_allow_uids, 2);
	ck_assert_uint_eq(((struct ctl *)state)->allow_uids[1], 1000);
}
END_TEST

START_TEST(socket_file)
{
	struct stat st;

	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "mode", "0600"), 0);
	start_plugin();
	ck_assert_int_eq(stat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	desc->stop(state);
	ck_assert_int_eq(stat(sock_path, &st), -1); /* removed by stop() */
}
END_TEST

START_TEST(socket_stale_and_busy)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	void *second = NULL;

	/* a socket file nobody listens on is stale: replaced */
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	ck_assert_int_eq(bind(other, (struct sockaddr *)&sa, sizeof sa), 0);
	close(other);
	start_plugin();
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_INFO, "stale"), 1);
	/* a live one belongs to someone else: refused */
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &second), 0);
	ck_assert_int_eq(desc->start(second), -EADDRINUSE);
	desc->fini(second);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "another vigild"), 1);
	/* the refused instance left the socket of the first alone */
	json_decref(ask("{\"cmd\":\"version\"}"));
}
END_TEST

START_TEST(socket_not_a_socket)
{
	int fd = open(sock_path, O_CREAT | O_WRONLY, 0600);

	close(fd);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "socket", sock_path), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	ck_assert_int_eq(desc->start(state), -EEXIST);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_ERROR, "not a socket"), 1);
}
END_TEST

START_TEST(status_replies)
{
	json_t *r, *p;

	start_plugin();
	r = ask("{\"cmd\":\"status\"}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 3);
	p = json_array_get(json_object_get(r, "processes"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "db");
	ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "stopped");
	ck_assert(json_is_null(json_object_get(p, "pid")));
	json_decref(r);
	/* a target named twice is listed once */
	r = ask("{\"cmd\":\"status\",\"args\":[\"web\",\"web\",\"db\"]}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 2);
	json_decref(r);
	r = ask("{\"cmd\":\"status\",\"args\":[\"web\",\"nope\"]}");
	ck_assert_int_eq(error_code(r), 3);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "nope"));
	json_decref(r);
}
END_TEST

/* Every kind of value a status object carries. */
static void odd_procs(void)
{
	static const char *const tags[] = {"front", "t\xffx", "", NULL};

	procs[0].instance = 0;
	procs[0].tags = tags;
	procs[0].cpu_pct = 12.5;
	procs[0].rss_bytes = 10485760;
	procs[0].health = 88;
	procs[0].restarts = 3;
	procs[0].exit_code = 1;
	procs[0].last_reason = "exited";
	procs[0].priority = VIGIL_PRIO_HIGH;
	procs[0].started_at_ms = INT64_C(1795748600123);
	procs[0].state_since_ms = INT64_C(1795748640456);
	procs[0].command = "/usr/bin/web --name \"a\tb\" \xc3\xa9\xff";
	procs[1].exit_signal = 9;
	procs[1].last_reason = "killed";
	procs[1].state_since_ms = 1000;
	procs[1].cpu_pct = 0;
	procs[1].health = 0;
	procs[1].command = "db";
	procs[2].cpu_pct = 1.0 / 3;
	procs[2].started_at_ms = INT64_C(1795748645001); /* after "now": uptime 0 */
	procs[2].pid = 7;
}

/* got has exactly the members of want, in the same order, with the same values. */
static void assert_same_object(const json_t *want, const json_t *got)
{
	void *wi = json_object_iter((json_t *)want), *gi = json_object_iter((json_t *)got);

	for (; wi && gi; wi = json_object_iter_next((json_t *)want, wi),
	                 gi = json_object_iter_next((json_t *)got, gi)) {
		ck_assert_str_eq(json_object_iter_key(gi), json_object_iter_key(wi));
		ck_assert_msg(json_equal(json_object_iter_value(wi), json_object_iter_value(gi)),
		              "member %s differs", json_object_iter_key(wi));
	}
	ck_assert_msg(!wi && !gi, "not the same members");
}

START_TEST(status_objects_as_before)
{
	json_t *r;
	size_t i;

	odd_procs();
	start_plugin();
	r = ask("{\"cmd\":\"status\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 3);
	for (i = 0; i < 3; i++) {
		/* as the tree was sent before: encoded with 12 significant digits */
		json_t *tree = vjson_proc_info(&procs[i], fh.host.wall_ms()), *want;
		size_t len = 0;
		int e = 0;
		unsigned char *frame = proto_encode(tree, &len, &e);
		char err[128];

		want = proto_parse((const char *)frame + PROTO_HDR_LEN, len - PROTO_HDR_LEN, err,
		                   sizeof err);
		assert_same_object(want, json_array_get(json_object_get(r, "processes"), i));
		json_decref(want);
		json_decref(tree);
		free(frame);
	}
	json_decref(r);
}
END_TEST

START_TEST(status_fields_and_rows)
{
	json_t *all, *full, *r, *p, *row;
	size_t i, k;
	int fd;

	odd_procs();
	start_plugin();
	all = ask("{\"cmd\":\"status\"}");
	full = json_object_get(all, "processes");
	/* only the members asked for, in that order */
	r = ask("{\"cmd\":\"status\",\"fields\":[\"health\",\"name\",\"cpu_pct\",\"tags\"]}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 3);
	json_array_foreach(json_object_get(r, "processes"), i, p)
	{
		json_t *want =
		    json_pack("{s:O,s:O,s:O,s:O}", "health",
		              json_object_get(json_array_get(full, i), "health"), "name",
		              json_object_get(json_array_get(full, i), "name"), "cpu_pct",
		              json_object_get(json_array_get(full, i), "cpu_pct"), "tags",
		              json_object_get(json_array_get(full, i), "tags"));

		assert_same_object(want, p);
		json_decref(want);
	}
	json_decref(r);
	/* rows: the names once, then the values in their order */
	r = ask("{\"cmd\":\"status\",\"fields\":[\"name\",\"state\",\"pid\",\"uptime_s\","
	        "\"restarts\",\"cpu_pct\",\"rss_bytes\",\"health\"],\"rows\":true}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_ptr_null(json_object_get(r, "processes"));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "fields")), 8);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "rows")), 3);
	json_array_foreach(json_object_get(r, "rows"), i, row)
	{
		ck_assert_uint_eq(json_array_size(row), 8);
		for (k = 0; k < 8; k++) {
			const char *f =
			    json_string_value(json_array_get(json_object_get(r, "fields"), k));

			ck_assert_msg(json_equal(json_array_get(row, k),
			                         json_object_get(json_array_get(full, i), f)),
			              "row %zu, %s", i, f);
		}
	}
	json_decref(r);
	/* rows without fields: every member, in the order of the objects */
	r = ask("{\"cmd\":\"status\",\"rows\":true,\"args\":[\"web\"]}");
	row = json_array_get(json_object_get(r, "rows"), 0);
	k = 0;
	for (void *it = json_object_iter(json_array_get(full, 0)); it;
	     it = json_object_iter_next(json_array_get(full, 0), it), k++) {
		ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "fields"), k)),
		                 json_object_iter_key(it));
		ck_assert(json_equal(json_array_get(row, k), json_object_iter_value(it)));
	}
	ck_assert_uint_eq(json_array_size(row), k);
	json_decref(r);
	/* targets still select, once each, in the order named */
	r = ask("{\"cmd\":\"status\",\"args\":[\"db\",\"web\",\"db\"],\"fields\":[\"name\"],"
	        "\"rows\":true}");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_array_get(json_object_get(r, "rows"), 0), 0)),
	    "db");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "rows")), 2);
	json_decref(r);
	r = ask("{\"cmd\":\"status\",\"args\":[\"nope\"],\"fields\":[\"name\"]}");
	ck_assert_int_eq(error_code(r), 3);
	json_decref(r);
	/* an unknown field is a usage error naming it; the connection stays usable */
	fd = client();
	send_json(fd, "{\"cmd\":\"status\",\"fields\":[\"name\",\"colour\"]}");
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 2);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "unknown status field \"colour\""));
	json_decref(r);
	send_json(fd, "{\"cmd\":\"status\",\"fields\":[\"name\"]}");
	r = recv_json(fd);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 3);
	json_decref(r);
	close(fd);
	json_decref(all);
}
END_TEST

START_TEST(status_bad_fields)
{
	static const char *const bad[] = {
	    "{\"cmd\":\"status\",\"fields\":\"name\"}",
	    "{\"cmd\":\"status\",\"fields\":[]}",
	    "{\"cmd\":\"status\",\"fields\":[\"name\",7]}",
	    "{\"cmd\":\"status\",\"fields\":[\"pid\",\"name\",\"pid\"]}",
	    "{\"cmd\":\"status\",\"fields\":[\"Name\"]}",
	    "{\"cmd\":\"status\",\"rows\":\"yes\"}",
	};

	start_plugin();
	expect_usage_errors(bad, sizeof bad / sizeof bad[0]);
}
END_TEST

/* More programs than fit in the old 1 MiB message, and than the 4 MiB a stream may leave
 * unread: one reply is sent whole, however large. */
START_TEST(status_larger_than_a_request)
{
	enum { N = 6000 };
	static struct vigil_proc_info big[N];
	static char names[N][16];
	char command[701], *text;
	json_t *r;
	size_t i;

	memset(command, 'x', sizeof command - 1);
	command[sizeof command - 1] = '\0';
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "p%zu", i);
		big[i] = procs[0];
		big[i].name = big[i].program = names[i];
		big[i].command = command;
	}
	fh.procs = big;
	fh.nprocs = N;
	start_plugin();
	r = ask("{\"cmd\":\"status\"}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), N);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(r, "processes"), N - 1), "name")),
	                 "p5999");
	text = json_dumps(r, JSON_COMPACT);
	ck_assert_uint_gt(strlen(text), CTL_OUT_MAX);
	free(text);
	json_decref(r);
	r = ask("{\"cmd\":\"status\",\"fields\":[\"name\",\"pid\"],\"rows\":true}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "rows")), N);
	json_decref(r);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "does not read"), 0);
	fh.procs = procs;
	fh.nprocs = 3;
}
END_TEST

START_TEST(garbage_closes)
{
	static const char *const bad[] = {
	    "{\"cmd\":", "[1,2]", "{\"args\":[]}", "{\"cmd\":\"fly\"}", "{\"cmd\":7}",
	};
	unsigned char zero[4] = {0}, big[4] = {0x7f, 0xff, 0xff, 0xff};
	size_t i;
	int fd;
	json_t *r;

	start_plugin();
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fd = client();
		send_json(fd, bad[i]);
		r = recv_json(fd);
		ck_assert_msg(error_code(r) == 2, "%s gave %d", bad[i], error_code(r));
		json_decref(r);
		assert_closed(fd);
		close(fd);
	}
	fd = client();
	send_raw(fd, zero, 4);
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 2);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "length 0"));
	json_decref(r);
	assert_closed(fd);
	close(fd);
	fd = client();
	send_raw(fd, big, 4);
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 2);
	json_decref(r);
	assert_closed(fd);
	close(fd);
	/* a truncated message, then the client stops writing */
	fd = client();
	send_raw(fd, "\0\0\0\x20{\"cmd\"", 10);
	shutdown(fd, SHUT_WR);
	r = recv_json(fd);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "truncated"));
	json_decref(r);
	assert_closed(fd);
	close(fd);
	/* and the daemon still serves */
	r = ask("{\"cmd\":\"version\"}");
	ck_assert_str_eq(json_string_value(json_object_get(r, "version")), fh.host.version);
	json_decref(r);
	for (i = 0; i < 10; i++)
		spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
}
END_TEST

START_TEST(bad_arguments)
{
	static const char *const bad[] = {
	    "{\"cmd\":\"status\",\"args\":\"web\"}",
	    "{\"cmd\":\"status\",\"args\":[1]}",
	    "{\"cmd\":\"logs\",\"args\":[\"web\"],\"lines\":\"x\"}",
	    "{\"cmd\":\"logs\",\"args\":[\"web\"],\"lines\":-1}",
	    "{\"cmd\":\"events\",\"follow\":\"yes\"}",
	    "{\"cmd\":\"events\",\"types\":[\"no.such\"]}",
	    "{\"cmd\":\"events\",\"types\":7}",
	    "{\"cmd\":\"start\",\"args\":[]}",
	    "{\"cmd\":\"start\",\"args\":[\"web\"],\"timeout_ms\":0}",
	    "{\"cmd\":\"signal\",\"args\":[\"NOPE\",\"web\"]}",
	    "{\"cmd\":\"signal\",\"args\":[\"TERM\"]}",
	    "{\"cmd\":\"logs\",\"args\":[\"web\",\"db\"]}",
	};

	start_plugin();
	expect_usage_errors(bad, sizeof bad / sizeof bad[0]);
}
END_TEST

START_TEST(partial_and_pipelined)
{
	unsigned char buf[256];
	size_t len, i;
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	len = frame_of(buf, "{\"cmd\":\"version\"}");
	for (i = 0; i < len; i++) { /* one byte at a time */
		send_raw(fd, buf + i, 1);
		spin();
	}
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* three requests in one write: three replies, in order, on the same connection */
	len = frame_of(buf, "{\"cmd\":\"version\"}");
	len += frame_of(buf + len, "{\"cmd\":\"health\",\"args\":[\"web\"]}");
	len += frame_of(buf + len, "{\"cmd\":\"status\",\"args\":[\"db\"]}");
	send_raw(fd, buf, len);
	r = recv_json(fd);
	ck_assert_ptr_nonnull(json_object_get(r, "version"));
	json_decref(r);
	r = recv_json(fd);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "web");
	json_decref(r);
	r = recv_json(fd);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 1);
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(pipelined_replies_paced)
{
	unsigned char buf[64];
	size_t len;
	int fd, i, sent = 0, rcvbuf = 4096;
	struct ctl_conn *c;
	json_t *r;

	start_plugin();
	fd = client();
	len = frame_of(buf, "{\"cmd\":\"status\"}");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* ask for ~2 MB of replies and read none of them yet */
	while (sent < 2000) {
		if (send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len)
			sent++;
		else
			ck_assert_int_eq(errno, EAGAIN);
		if (sent % 64 == 0)
			spin();
	}
	for (i = 0; i < 100; i++)
		spin();
	/* the daemon answers at the pace the client reads: it holds little, drops nobody */
	c = ((struct ctl *)state)->conns;
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 1);
	ck_assert_uint_lt(ctl_out_pending(c), CTL_OUT_HIGH + 4096);
	ck_assert_uint_eq(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "does not read"), 0);
	/* every reply comes once the client reads, in order */
	for (i = 0; i < sent; i++) {
		r = recv_json(fd);
		ck_assert_msg(r && json_array_size(json_object_get(r, "processes")) == 3,
		              "reply %d", i);
		json_decref(r);
	}
	send_json(fd, "{\"cmd\":\"version\"}");
	r = recv_json(fd);
	ck_assert_ptr_nonnull(json_object_get(r, "version"));
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(flooding_client_dropped)
{
	unsigned char buf[64];
	size_t len;
	int fd, i;

	start_plugin();
	fd = client();
	len = frame_of(buf, "{\"cmd\":\"status\"}");
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* more requests than the daemon buffers (1 MiB), and no reply read: neither side could
	 * move on, so the client is dropped */
	for (i = 0; i < 200000 && ((struct ctl *)state)->nconns; i++) {
		if (send(fd, buf, len, MSG_NOSIGNAL) < 0 && errno != EAGAIN)
			break;
		if (i % 64 == 0)
			spin();
	}
	for (i = 0; i < 50; i++)
		spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
	ck_assert_uint_ge(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "does not read"), 1);
	close(fd);
	json_decref(ask("{\"cmd\":\"version\"}"));
}
END_TEST

START_TEST(too_many_connections)
{
	int fds[CTL_MAX_CONNS + 1], i;
	json_t *r;

	start_plugin();
	for (i = 0; i < CTL_MAX_CONNS; i++)
		fds[i] = client();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, CTL_MAX_CONNS);
	fds[CTL_MAX_CONNS] = client();
	r = recv_json(fds[CTL_MAX_CONNS]);
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "too many"));
	json_decref(r);
	for (i = 0; i <= CTL_MAX_CONNS; i++)
		close(fds[i]);
	for (i = 0; i < 20 && ((struct ctl *)state)->nconns; i++)
		spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
}
END_TEST

START_TEST(peer_not_allowed)
{
	int sv[2];
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP peer_not_allowed: needs root to connect as another user\n");
		return;
	}
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "mode", "0666"), 0);
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "allow_groups", "4242"), 0);
	start_plugin();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		/* nobody, first without then with the allowed supplementary group */
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		gid_t groups[1] = {4242};
		int round;

		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
		for (round = 0; round < 2; round++) {
			pid_t p = fork();

			if (p == 0) {
				int fd;
				unsigned char buf[512];
				ssize_t n;

				if (setgroups(round, groups) || setgid(65534) || setuid(65534))
					_exit(3);
				fd = socket(AF_UNIX, SOCK_STREAM, 0);
				if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
					_exit(4);
				/* a refused client may find the connection closed before it
				 * writes: the reason is still there to read */
				n = (ssize_t)frame_of(buf, "{\"cmd\":\"version\"}");
				if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0 && errno != EPIPE &&
				    errno != ECONNRESET)
					_exit(6);
				/* the header, then exactly the body: an allowed client stays
				 * connected */
				n = recv(fd, buf, 4, MSG_WAITALL);
				if (n == 4) {
					size_t len = (size_t)buf[2] << 8 | buf[3];

					n = recv(fd, buf, len < sizeof buf ? len : sizeof buf,
					         MSG_WAITALL);
					if (n > 0 && write(sv[1], buf, (size_t)n) < 0)
						_exit(5);
				}
				if (write(sv[1], "\n", 1) < 0)
					_exit(5);
				_exit(0);
			}
			waitpid(p, NULL, 0);
		}
		_exit(0);
	}
	close(sv[1]);
	{
		char out[1024];
		size_t got = 0;
		int i;

		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		for (i = 0; i < 1000; i++) {
			ssize_t n = read(sv[0], out + got, sizeof out - 1 - got);

			if (n == 0)
				break;
			if (n > 0)
				got += (size_t)n;
			spin();
		}
		out[got] = '\0';
		ck_assert_msg(strstr(out, "permission denied for uid 65534") != NULL, "%s", out);
		ck_assert_msg(strstr(out, "\"version\"") != NULL, "%s", out);
	}
	waitpid(pid, &status, 0);
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	close(sv[0]);
}
END_TEST

/* The event the core would publish for an instance. */
static void deliver_ready(const char *name)
{
	struct vigil_ev_process_ready e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_READY, .size = sizeof e, .subject = name},
	    .program = name,
	    .pid = 200,
	    .how = "none",
	};

	ck_assert_int_ge(vigil_fake_deliver(&fh, &e.hdr), 1);
}

START_TEST(start_waits_for_ready)
{
	int fd;
	json_t *r, *p;
	char c;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"start\",\"args\":[\"db\"]}");
	spin();
	ck_assert_uint_eq(fh.ncontrols, 1);
	ck_assert_str_eq(fh.controls[0].target, "db");
	ck_assert_int_eq(fh.controls[0].action, VIGIL_ACT_START);
	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1); /* no reply while starting */
	procs[1].state = VIGIL_PROC_STARTING;
	vigil_fake_advance(&fh, 300); /* polls: still starting */
	ck_assert_int_eq(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	procs[1].state = VIGIL_PROC_RUNNING;
	procs[1].pid = 200;
	deliver_ready("db");
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	p = json_array_get(json_object_get(r, "processes"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(p, "state")), "running");
	json_decref(r);
	close(fd);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

START_TEST(start_already_running)
{
	json_t *r;

	start_plugin();
	r = ask("{\"cmd\":\"start\",\"args\":[\"web\"]}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = ask("{\"cmd\":\"stop\",\"args\":[\"db\"]}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = ask("{\"cmd\":\"start\",\"args\":[\"nope\"]}");
	ck_assert_int_eq(error_code(r), 3);
	json_decref(r);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
}
END_TEST

START_TEST(start_fails)
{
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof e, .subject = "db"},
	    .program = "db",
	    .exit_code = -1,
	    .reason = "spawn-failed",
	    .error = "exec /nope: No such file or directory",
	};
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"start\",\"args\":[\"db\"]}");
	spin();
	procs[1].state = VIGIL_PROC_BACKOFF;
	vigil_fake_deliver(&fh, &e.hdr);
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_str_eq(error_msg(r), "db: exec /nope: No such file or directory");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "processes")), 1);
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(start_times_out)
{
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"start\",\"args\":[\"db\",\"quiet\"],\"timeout_ms\":500}");
	spin();
	procs[1].state = VIGIL_PROC_STARTING;
	procs[2].state = VIGIL_PROC_STARTING;
	vigil_fake_advance(&fh, 600);
	r = recv_json(fd);
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_str_eq(error_msg(r), "timed out waiting for db (state starting), quiet (state "
	                               "starting)");
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(stop_and_restart)
{
	struct vigil_ev_process_exited ex = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof ex, .subject = "web"},
	    .program = "web",
	    .exit_code = -1,
	    .signal = 15,
	    .expected = 1,
	    .reason = "stopped",
	};
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"stop\",\"args\":[\"web\"]}");
	spin();
	procs[0].state = VIGIL_PROC_STOPPING;
	vigil_fake_advance(&fh, 100);
	procs[0].state = VIGIL_PROC_STOPPED;
	procs[0].pid = 0;
	vigil_fake_deliver(&fh, &ex.hdr);
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	/* restart: the old run ends, a new one starts and gets ready */
	procs[0].state = VIGIL_PROC_RUNNING;
	procs[0].pid = 300;
	send_json(fd, "{\"cmd\":\"restart\",\"args\":[\"web\"]}");
	spin();
	ck_assert_int_eq(fh.controls[fh.ncontrols - 1].action, VIGIL_ACT_RESTART);
	vigil_fake_advance(&fh, 100); /* still the old pid: not done */
	procs[0].state = VIGIL_PROC_STOPPING;
	vigil_fake_deliver(&fh, &ex.hdr);
	procs[0].state = VIGIL_PROC_STARTING;
	procs[0].pid = 301;
	vigil_fake_advance(&fh, 100);
	procs[0].state = VIGIL_PROC_RUNNING;
	deliver_ready("web");
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_array_get(json_object_get(r, "processes"), 0), "pid")),
	                 301);
	json_decref(r);
	close(fd);
}
END_TEST

START_TEST(wait_client_vanishes)
{
	int fd;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"start\",\"args\":[\"db\"]}");
	spin();
	close(fd);
	spin();
	spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
	ck_assert_uint_eq(vigil_fake_timers_pending(&fh), 0);
	vigil_fake_advance(&fh, 70000);
	deliver_ready("db");
}
END_TEST

START_TEST(no_wait_signal_shutdown_plugins)
{
	struct vigil_plugin_info pl = {.size = sizeof pl,
	                               .kind = "frontend",
	                               .plugin = "ctl",
	                               .instance = "ctl",
	                               .section = "frontend.ctl",
	                               .version = "0.1.0",
	                               .file = "/x/frontend_ctl.so",
	                               .abi_major = 1,
	                               .abi_minor = 0};
	json_t *r;

	fh.plugins = &pl;
	fh.nplugins = 1;
	start_plugin();
	r = ask("{\"cmd\":\"start\",\"args\":[\"db\"],\"no_wait\":true}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	r = ask("{\"cmd\":\"signal\",\"args\":[\"SIGHUP\",\"web\"]}");
	ck_assert_str_eq(json_string_value(json_object_get(r, "signal")), "HUP");
	ck_assert_int_eq(fh.controls[fh.ncontrols - 1].signo, SIGHUP);
	json_decref(r);
	r = ask("{\"cmd\":\"signal\",\"args\":[9,\"web\"]}");
	ck_assert_int_eq(fh.controls[fh.ncontrols - 1].signo, 9);
	json_decref(r);
	r = ask("{\"cmd\":\"signal\",\"args\":[\"TERM\",\"db\"]}"); /* db has no process */
	ck_assert_int_eq(error_code(r), 1);
	json_decref(r);
	r = ask("{\"cmd\":\"plugins\"}");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(r, "plugins"), 0), "abi")),
	                 "1.0");
	json_decref(r);
	r = ask("{\"cmd\":\"shutdown\"}");
	ck_assert(json_is_true(json_object_get(r, "ok")));
	ck_assert_uint_eq(fh.shutdowns, 1);
	ck_assert_str_eq(fh.shutdown_reason, "vigilctl shutdown");
	json_decref(r);
}
END_TEST

static void deliver_exited(const char *subject, int code)
{
	struct vigil_ev_process_exited e = {
	    .hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof e, .subject = subject},
	    .program = subject,
	    .exit_code = code,
	    .reason = "exited",
	};

	vigil_fake_deliver(&fh, &e.hdr);
}

START_TEST(events_ring_and_follow)
{
	int fd, i;
	json_t *r, *evs, *item;

	start_plugin();
	for (i = 0; i < 300; i++)
		deliver_exited(i % 2 ? "web" : "db", i);
	deliver_ready("web");
	r = ask("{\"cmd\":\"events\"}");
	evs = json_object_get(r, "events");
	ck_assert_uint_eq(json_array_size(evs), CTL_RING_LOSSLESS);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, 255), "type")),
	                 "process.ready");
	json_decref(r);
	r = ask("{\"cmd\":\"events\",\"types\":[\"process.ready\"]}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "events")), 1);
	json_decref(r);
	r = ask("{\"cmd\":\"events\",\"types\":[\"process.*\"],\"subject\":\"db\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "events")), 127);
	json_decref(r);
	/* follow: the recent ones, then each new one as it comes */
	fd = client();
	send_json(fd, "{\"cmd\":\"events\",\"follow\":true,\"types\":[\"process.ready\"]}");
	r = recv_json(fd);
	ck_assert_ptr_nonnull(json_object_get(r, "stream"));
	json_decref(r);
	deliver_exited("web", 1); /* filtered out */
	deliver_ready("db");
	r = recv_json(fd);
	item = json_object_get(r, "stream");
	ck_assert_str_eq(json_string_value(json_object_get(item, "subject")), "db");
	ck_assert_str_eq(json_string_value(json_object_get(item, "type")), "process.ready");
	json_decref(r);
	/* the daemon stops: the stream ends cleanly */
	desc->stop(state);
	desc->fini(state);
	state = NULL;
	r = recv_json(fd);
	ck_assert(json_is_true(json_object_get(r, "end")));
	json_decref(r);
	assert_closed(fd);
	close(fd);
}
END_TEST

START_TEST(stream_reader_dropped)
{
	int fd, i, rcvbuf = 4096;

	start_plugin();
	fd = client();
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	send_json(fd, "{\"cmd\":\"events\",\"follow\":true,\"replay\":false}");
	for (i = 0; i < 20; i++)
		spin();
	/* lifecycle events are never skipped: a follower that lets 4 MiB pile up is dropped */
	for (i = 0; i < 60000 && ((struct ctl *)state)->nconns; i++) {
		deliver_exited("web", i);
		if (i % 256 == 0)
			spin();
	}
	for (i = 0; i < 20; i++)
		spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
	ck_assert_uint_ge(vigil_fake_log_count(&fh, VIGIL_LOG_WARN, "does not read"), 1);
	close(fd);
	json_decref(ask("{\"cmd\":\"version\"}"));
}
END_TEST

static void write_log(const char *path, const char *mode, const char *text)
{
	FILE *f = fopen(path, mode);

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(logs_tail)
{
	FILE *f = fopen(log_path, "w");
	json_t *r, *lines;
	int i;

	/* a big file: the tail must come from its end */
	for (i = 0; i < 200000; i++)
		fprintf(f, "line %d\n", i);
	fputs("last without newline", f);
	fclose(f);
	start_plugin();
	r = ask("{\"cmd\":\"logs\",\"args\":[\"web\"],\"lines\":3}");
	lines = json_object_get(r, "lines");
	ck_assert_uint_eq(json_array_size(lines), 3);
	ck_assert_str_eq(json_string_value(json_array_get(lines, 0)), "line 199998");
	ck_assert_str_eq(json_string_value(json_array_get(lines, 2)), "last without newline");
	ck_assert_str_eq(json_string_value(json_object_get(r, "output")), "stdout");
	json_decref(r);
	r = ask("{\"cmd\":\"logs\",\"args\":[\"web\"]}"); /* default 10 */
	ck_assert_uint_eq(json_array_size(json_object_get(r, "lines")), 10);
	json_decref(r);
	r = ask("{\"cmd\":\"logs\",\"args\":[\"web\"],\"lines\":100000}"); /* capped read */
	ck_assert_uint_gt(json_array_size(json_object_get(r, "lines")), 1000);
	ck_assert_uint_lt(json_array_size(json_object_get(r, "lines")), 100000);
	json_decref(r);
	r = ask("{\"cmd\":\"logs\",\"args\":[\"web\"],\"stderr\":true}");
	ck_assert_int_eq(error_code(r), 1);
	ck_assert_ptr_nonnull(strstr(error_msg(r), "web: stderr is not captured"));
	json_decref(r);
	r = ask("{\"cmd\":\"logs\",\"args\":[\"db\"]}");
	ck_assert_str_eq(error_msg(r), "db: stdout is not captured (stdout = null or inherit)");
	json_decref(r);
	write_log(log_path, "w",
	          "a\xff"
	          "b\n\n");
	r = ask("{\"cmd\":\"logs\",\"args\":[\"web\"]}");
	lines = json_object_get(r, "lines");
	ck_assert_uint_eq(json_array_size(lines), 2);
	ck_assert_str_eq(json_string_value(json_array_get(lines, 0)), "a\xef\xbf\xbd"
	                                                              "b");
	ck_assert_str_eq(json_string_value(json_array_get(lines, 1)), "");
	json_decref(r);
}
END_TEST

static const char *stream_line(json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "stream"), "line"));
}

START_TEST(logs_follow_rotation)
{
	char rotated[160];
	int fd;
	json_t *r;

	snprintf(rotated, sizeof rotated, "%s.1", log_path);
	write_log(log_path, "w", "old 1\nold 2\n");
	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"logs\",\"args\":[\"web\"],\"lines\":1,\"follow\":true}");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "old 2");
	json_decref(r);
	write_log(log_path, "a", "new 1\npart");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "new 1");
	json_decref(r);
	write_log(log_path, "a", "ial\n");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "partial");
	json_decref(r);
	/* rotated by rename: the rest of the old file, then the new file from its start */
	write_log(log_path, "a", "before rename\n");
	ck_assert_int_eq(rename(log_path, rotated), 0);
	write_log(log_path, "w", "fresh\n");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "before rename");
	json_decref(r);
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "fresh");
	json_decref(r);
	/* truncated in place */
	write_log(log_path, "w", "");
	spin();
	write_log(log_path, "a", "after truncate\n");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "after truncate");
	json_decref(r);
	/* deleted, then created again */
	ck_assert_int_eq(unlink(log_path), 0);
	spin();
	write_log(log_path, "w", "reborn\n");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "reborn");
	json_decref(r);
	close(fd);
	spin();
	spin();
	ck_assert_uint_eq(((struct ctl *)state)->nconns, 0);
}
END_TEST

START_TEST(logs_follow_missing_file)
{
	int fd;
	json_t *r;

	start_plugin();
	fd = client();
	send_json(fd, "{\"cmd\":\"logs\",\"args\":[\"web\"],\"follow\":true}");
	spin();
	write_log(log_path, "w", "first\n");
	r = recv_json(fd);
	ck_assert_str_eq(stream_line(r), "first");
	json_decref(r);
	close(fd);
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *proto = tcase_create("protocol");
	TCase *views = tcase_create("json");
	TCase *plugin = tcase_create("plugin");

	tcase_add_test(proto, frame_partial_reads);
	tcase_add_test(proto, frame_back_to_back);
	tcase_add_test(proto, frame_bad_lengths);
	tcase_add_test(proto, encode_round_trip);
	tcase_add_test(proto, encode_too_large);
	tcase_add_test(proto, frame_reply_limits);
	tcase_add_test(proto, encode_large_reply);
	tcase_add_test(proto, buf_limit);
	tcase_add_test(proto, parse_rejects);
	tcase_add_test(proto, request_cmd);
	tcase_add_test(proto, error_replies);
	tcase_add_test(proto, signals);
	suite_add_tcase(s, proto);

	tcase_add_test(views, time_format);
	tcase_add_test(views, utf8_clean);
	tcase_add_test(views, event_exited_json);
	tcase_add_test(views, event_every_type);
	tcase_add_test(views, event_odd_values);
	tcase_add_test(views, proc_info_json);
	suite_add_tcase(s, views);

	tcase_add_checked_fixture(plugin, setup, teardown);
	tcase_set_timeout(plugin, 30);
	tcase_add_test(plugin, config_checks);
	tcase_add_test(plugin, socket_file);
	tcase_add_test(plugin, socket_stale_and_busy);
	tcase_add_test(plugin, socket_not_a_socket);
	tcase_add_test(plugin, status_replies);
	tcase_add_test(plugin, status_objects_as_before);
	tcase_add_test(plugin, status_fields_and_rows);
	tcase_add_test(plugin, status_bad_fields);
	tcase_add_test(plugin, status_larger_than_a_request);
	tcase_add_test(plugin, garbage_closes);
	tcase_add_test(plugin, bad_arguments);
	tcase_add_test(plugin, partial_and_pipelined);
	tcase_add_test(plugin, pipelined_replies_paced);
	tcase_add_test(plugin, flooding_client_dropped);
	tcase_add_test(plugin, too_many_connections);
	tcase_add_test(plugin, peer_not_allowed);
	tcase_add_test(plugin, start_waits_for_ready);
	tcase_add_test(plugin, start_already_running);
	tcase_add_test(plugin, start_fails);
	tcase_add_test(plugin, start_times_out);
	tcase_add_test(plugin, stop_and_restart);
	tcase_add_test(plugin, wait_client_vanishes);
	tcase_add_test(plugin, no_wait_signal_shutdown_plugins);
	tcase_add_test(plugin, events_ring_and_follow);
	tcase_add_test(plugin, stream_reader_dropped);
	tcase_add_test(plugin, logs_tail);
	tcase_add_test(plugin, logs_follow_rotation);
	tcase_add_test(plugin, logs_follow_missing_file);
	suite_add_tcase(s, plugin);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

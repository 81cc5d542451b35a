/* ctl_fixture.h — frontend_ctl.so compiled into a Check suite and driven through the fake host
 * over real Unix sockets; shared by test_ctl_proto.c and test_ctl_tasks.c. */
#ifndef VIGIL_TEST_CTL_FIXTURE_H
#define VIGIL_TEST_CTL_FIXTURE_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vigil/testing.h>

/* The plugin and its shared code are compiled into the test, as one translation unit. */
#include "../../plugins/common/vjson.c"
#include "../../plugins/frontends/ctl/proto.c"
#include "../../plugins/frontends/ctl/ctl.c"
#include "../../plugins/frontends/ctl/ctl_conn.c"
#include "../../plugins/frontends/ctl/ctl_cmd.c"
#include "../../plugins/frontends/ctl/ctl_wait.c"
#include "../../plugins/frontends/ctl/ctl_events.c"
#include "../../plugins/frontends/ctl/ctl_logs.c"
#include "../../plugins/frontends/ctl/ctl_task.c"
#include "../../plugins/frontends/ctl/ctl_taskview.c"
#include "../../plugins/frontends/ctl/ctl_ps.c"
#include "../../plugins/frontends/ctl/ctl_time.c"
#include "../../plugins/frontends/ctl/ctl_health.c"
#include "../../plugins/frontends/ctl/ctl_report.c"
#include "../../plugins/common/report.c"
#include "../../plugins/common/report_collect.c"
#include "../../plugins/common/report_health.c"
#include "../../plugins/common/report_xml.c"
#include "../../plugins/common/report_json.c"

static inline size_t frame_of(unsigned char *buf, const char *body)
{
	size_t n = strlen(body);

	proto_put_header(buf, (uint32_t)n);
	memcpy(buf + PROTO_HDR_LEN, body, n);
	return PROTO_HDR_LEN + n;
}

/* ======================= the plugin, through the fake host ======================= */

static struct vigil_fake_host fh;
static const struct vigil_plugin *desc;
static void *state;
static char dir[64], sock_path[128];
static struct vigil_proc_info procs[3];
static char log_path[128];

static inline void set_proc(int i, const char *name, const char *program,
                            enum vigil_proc_state st, int32_t pid)
{
	memset(&procs[i], 0, sizeof procs[i]);
	procs[i].size = sizeof procs[i];
	procs[i].name = name;
	procs[i].program = program;
	procs[i].state = st;
	procs[i].pid = pid;
	procs[i].instance = -1;
	procs[i].exit_code = -1;
	procs[i].cpu_pct = -1;
	procs[i].rss_bytes = -1;
	procs[i].health = -1;
	procs[i].started_at_ms = pid ? 1000 : 0;
}

static inline void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof dir, "/tmp/vigil-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof sock_path, "%s/ctl.sock", dir);
	snprintf(log_path, sizeof log_path, "%s/web.out.log", dir);
	vigil_fake_host_init(&fh);
	fh.kind = "frontend";
	fh.instance = "ctl";
	fh.wall_base_ms = INT64_C(1795748645000);
	desc = vigil_plugin_entry_v1();
	fh.keys = desc->keys;
	set_proc(0, "web", "web", VIGIL_PROC_RUNNING, 100);
	procs[0].stdout_log = log_path;
	set_proc(1, "db", "db", VIGIL_PROC_STOPPED, 0);
	set_proc(2, "quiet", "quiet", VIGIL_PROC_STOPPED, 0);
	fh.procs = procs;
	fh.nprocs = 3;
	state = NULL;
}

static inline void teardown(void)
{
	char cmd[128];

	if (state) {
		desc->stop(state);
		desc->fini(state);
	}
	ck_assert_uint_eq(fh.errors, 0);
	vigil_fake_host_fini(&fh);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static inline void start_plugin(void)
{
	ck_assert_int_eq(vigil_fake_cfg_set(&fh, "socket", sock_path), 0);
	ck_assert_int_eq(vigil_fake_instantiate(&fh, desc, &state), 0);
	ck_assert_int_eq(desc->start(state), 0);
}

/* One turn of a loop: waits up to 5 ms for the plugin's fds, tells it what is ready, runs due
 * zero-delay timers and delivers queued events. */
static inline void spin(void)
{
	struct pollfd pfd[256];
	size_t n = 0, i;

	for (struct vigil_fake_watch_ *w = fh.watches; w && n < 256; w = w->next) {
		if (w->dead)
			continue;
		pfd[n].fd = w->fd;
		pfd[n].events = (short)((w->events & VIGIL_FD_IN ? POLLIN : 0) |
		                        (w->events & VIGIL_FD_OUT ? POLLOUT : 0));
		pfd[n++].revents = 0;
	}
	if (poll(pfd, n, 5) > 0) {
		for (i = 0; i < n; i++) {
			uint32_t ev = 0;

			if (!pfd[i].revents)
				continue;
			ev |= pfd[i].revents & POLLIN ? VIGIL_FD_IN : 0;
			ev |= pfd[i].revents & POLLOUT ? VIGIL_FD_OUT : 0;
			ev |= pfd[i].revents & POLLERR ? VIGIL_FD_ERR : 0;
			ev |= pfd[i].revents & POLLHUP ? VIGIL_FD_HUP : 0;
			vigil_fake_fd_ready(&fh, pfd[i].fd, ev);
		}
	}
	vigil_fake_advance(&fh, 0);
	vigil_fake_dispatch(&fh);
}

static inline int client(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	spin(); /* accept */
	return fd;
}

static inline void send_raw(int fd, const void *p, size_t len)
{
	ck_assert_int_eq(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static inline void send_json(int fd, const char *text)
{
	unsigned char buf[4096];

	send_raw(fd, buf, frame_of(buf, text));
}

/* Reads the next message, spinning the plugin meanwhile. NULL when the daemon hung up. */
static inline json_t *recv_json(int fd)
{
	unsigned char hdr[4];
	size_t got = 0, len, body_got = 0;
	char *body, err[256];
	json_t *j;
	int i;

	for (i = 0; i < 400 && got < 4; i++) {
		ssize_t n = recv(fd, hdr + got, 4 - got, MSG_DONTWAIT);

		if (n == 0)
			return NULL;
		if (n > 0)
			got += (size_t)n;
		else
			spin();
	}
	ck_assert_msg(got == 4, "no reply");
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	body = malloc(len);
	for (i = 0; i < 400 && body_got < len; i++) {
		ssize_t n = recv(fd, body + body_got, len - body_got, MSG_DONTWAIT);

		ck_assert_int_ne(n, 0);
		if (n > 0)
			body_got += (size_t)n;
		else
			spin();
	}
	ck_assert_uint_eq(body_got, len);
	j = proto_parse(body, len, err, sizeof err);
	ck_assert_msg(j != NULL, "bad reply: %s", err);
	free(body);
	return j;
}

/* The daemon closed the connection (after what it had to say). */
static inline void assert_closed(int fd)
{
	char c;
	int i;

	for (i = 0; i < 400; i++) {
		ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return;
		ck_assert_int_lt(n, 1);
		spin();
	}
	ck_abort_msg("connection still open");
}

static inline int error_code(const json_t *r)
{
	const char *msg;

	return proto_reply_error(r, &msg);
}

static inline const char *error_msg(const json_t *r)
{
	const char *msg = "";

	proto_reply_error(r, &msg);
	return msg;
}

static inline json_t *ask(const char *text)
{
	int fd = client();
	json_t *r;

	send_json(fd, text);
	r = recv_json(fd);
	close(fd);
	return r;
}

/* Each request must be refused as a usage error (code 2). */
static inline void expect_usage_errors(const char *const *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *r = ask(bad[i]);

		ck_assert_msg(error_code(r) == 2, "%s gave %d", bad[i], error_code(r));
		json_decref(r);
	}
}

#endif

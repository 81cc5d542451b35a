/* attempt.c — tcp:, http:// and exec: checks on the loop: non-blocking connect, libcurl, spawn. */
#include "attempt.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inst.h"
#include "launch.h"
#include "log.h"
#include "loop.h"
#include "spawn.h"
#include "sup_int.h"
#include "util.h"

extern char **environ;

/* An exec: check's process. It outlives its check when the check times out or is cancelled
 * (it is killed then), until the reap hook collects it. */
struct exec_rec {
	pid_t pid;
	int errfd;             /* spawn's exec report */
	struct attempt *owner; /* NULL once nobody waits for the outcome */
	struct exec_rec *next;
};

struct attempt {
	int kind;
	attempt_done_fn done;
	void *arg;
	uint64_t start_us;
	int64_t timeout_ms;
	struct loop_timer *timer; /* the timeout */
	struct loop_timer *defer; /* an outcome known at start, delivered from the loop */
	int defer_ok;
	char why[256];
	char what[160]; /* "connect 127.0.0.1:8080", the URL, the command */
	int fd;         /* tcp */
	struct loop_watch *watch;
	CURL *easy; /* http */
	char curl_err[CURL_ERROR_SIZE];
	struct exec_rec *ex; /* exec */
};

static struct {
	CURLM *multi;
	int curl_ready;
	struct loop_timer *curl_timer;
	struct exec_rec *execs;
} C;

/* --- common ------------------------------------------------------------------------------- */

static void release(struct attempt *c)
{
	if (c->timer)
		loop_timer_cancel(c->timer);
	if (c->defer)
		loop_timer_cancel(c->defer);
	if (c->watch)
		loop_unwatch(c->watch);
	if (c->fd >= 0)
		close(c->fd);
	if (c->easy) {
		curl_multi_remove_handle(C.multi, c->easy);
		curl_easy_cleanup(c->easy);
	}
	if (c->ex) {
		/* Nobody wants its outcome: the reap hook collects it. */
		kill(-c->ex->pid, SIGKILL);
		c->ex->owner = NULL;
	}
	free(c);
}

static void finish(struct attempt *c, int ok, const char *why)
{
	attempt_done_fn done = c->done;
	void *arg = c->arg;
	int64_t latency = (int64_t)(loop_now_us() - c->start_us);
	char msg[sizeof c->why + sizeof c->what + 4];
	if (ok)
		msg[0] = '\0';
	else
		snprintf(msg, sizeof msg, "%s", why ? why : "failed");
	release(c);
	done(arg, ok, latency, ok ? NULL : msg);
}

static void on_defer(void *arg)
{
	struct attempt *c = arg;
	c->defer = NULL;
	finish(c, c->defer_ok, c->why);
}

static void defer_outcome(struct attempt *c, int ok, const char *fmt, ...) VIGIL_PRINTF(3, 4);
static void defer_outcome(struct attempt *c, int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof c->why, fmt, ap);
	va_end(ap);
	c->defer_ok = ok;
	if (c->timer) {
		loop_timer_cancel(c->timer);
		c->timer = NULL;
	}
	c->defer = loop_timer_add(0, 0, on_defer, c);
}

static void on_timeout(void *arg)
{
	struct attempt *c = arg;
	char why[sizeof c->what + 64];
	c->timer = NULL;
	snprintf(why, sizeof why, "%s: timed out after %lld ms", c->what, (long long)c->timeout_ms);
	finish(c, 0, why);
}

/* --- tcp: a non-blocking connect watched for EPOLLOUT ---------------------------------------- */

static void on_tcp(int fd, uint32_t events, void *arg)
{
	struct attempt *c = arg;
	(void)events;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0) {
		finish(c, 1, NULL);
		return;
	}
	char why[sizeof c->what + 64];
	snprintf(why, sizeof why, "%s: %s", c->what, strerror(err));
	finish(c, 0, why);
}

static void start_tcp(struct attempt *c, const struct conf_check *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	int v6 = strchr(spec->host, ':') != NULL;
	snprintf(c->what, sizeof c->what, v6 ? "connect [%s]:%d" : "connect %s:%d", spec->host,
	         spec->port);
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)spec->port);
		inet_pton(AF_INET6, spec->host, &in6->sin6_addr);
		len = sizeof *in6;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)spec->port);
		inet_pton(AF_INET, spec->host, &in4->sin_addr);
		len = sizeof *in4;
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		defer_outcome(c, 0, "%s: socket: %s", c->what, strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, len) == 0) {
		defer_outcome(c, 1, "connected");
		return;
	}
	if (errno != EINPROGRESS) {
		defer_outcome(c, 0, "%s: %s", c->what, strerror(errno));
		return;
	}
	c->watch = loop_watch(c->fd, EPOLLOUT, on_tcp, c);
	if (!c->watch)
		defer_outcome(c, 0, "%s: cannot watch the socket: %s", c->what, strerror(errno));
}

/* --- http: libcurl's multi interface, its sockets and timer on the loop ------------------- */

static void curl_drain(void)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(C.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct attempt *c = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (!c)
			continue;
		CURLcode rc = m->data.result;
		long code = 0;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		char why[sizeof c->what + CURL_ERROR_SIZE + 32];
		if (rc != CURLE_OK) {
			snprintf(why, sizeof why, "%s: %s", c->what,
			         c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
			finish(c, 0, why);
		} else if (code >= 200 && code < 400) {
			finish(c, 1, NULL);
		} else {
			snprintf(why, sizeof why, "%s: HTTP %ld", c->what, code);
			finish(c, 0, why);
		}
	}
}

static void on_curl_fd(int fd, uint32_t events, void *arg)
{
	(void)arg;
	int flags = 0, running;
	if (events & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(C.multi, fd, flags, &running);
	curl_drain();
}

static void on_curl_timer(void *arg)
{
	(void)arg;
	int running;
	C.curl_timer = NULL;
	curl_multi_socket_action(C.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_drain();
}

static int curl_sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)e;
	(void)userp;
	struct loop_watch *w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			loop_unwatch(w);
			curl_multi_assign(C.multi, s, NULL);
		}
		return 0;
	}
	uint32_t ev =
	    ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (w) {
		loop_watch_modify(w, ev);
		return 0;
	}
	w = loop_watch(s, ev, on_curl_fd, NULL);
	if (!w) {
		log_warn("health check: cannot watch a libcurl socket: %s", strerror(errno));
		return -1;
	}
	curl_multi_assign(C.multi, s, w);
	return 0;
}

static int curl_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	(void)m;
	(void)userp;
	if (C.curl_timer) {
		loop_timer_cancel(C.curl_timer);
		C.curl_timer = NULL;
	}
	if (timeout_ms >= 0)
		C.curl_timer = loop_timer_add((uint64_t)timeout_ms, 0, on_curl_timer, NULL);
	return 0;
}

static size_t curl_discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

static int curl_setup(void)
{
	if (C.multi)
		return 0;
	if (!C.curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		C.curl_ready = 1;
	}
	C.multi = curl_multi_init();
	if (!C.multi)
		return -1;
	curl_multi_setopt(C.multi, CURLMOPT_SOCKETFUNCTION, curl_sock_cb);
	curl_multi_setopt(C.multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	return 0;
}

static void start_http(struct attempt *c, const struct conf_check *spec)
{
	snprintf(c->what, sizeof c->what, "GET %s", spec->target);
	if (curl_setup() < 0 || !(c->easy = curl_easy_init())) {
		defer_outcome(c, 0, "%s: libcurl could not be set up", c->what);
		return;
	}
	CURL *e = c->easy;
	curl_easy_setopt(e, CURLOPT_URL, spec->target);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	/* Our timer decides; libcurl's own limit is only a backstop. */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout_ms + 1000));
	/* A health check asks the program, not a proxy, and never a kept-alive connection that
	 * would succeed after the program stopped listening. */
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "vigil-check/" VIGIL_VERSION_STRING);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_discard);
	if (curl_multi_add_handle(C.multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		c->easy = NULL;
		defer_outcome(c, 0, "%s: libcurl refused the request", c->what);
	}
}

/* --- exec: a child like the program, collected by the reap hook --------------------------- */

static void start_exec(struct attempt *c, const struct conf_check *spec, struct proc *p)
{
	const struct conf_program *g = p->prog;
	snprintf(c->what, sizeof c->what, "exec %s", spec->target);
	struct spawn_req req;
	memset(&req, 0, sizeof req);
	gid_t groups[256];
	char err[256];
	if (launch_prepare(g, S.conf ? S.conf->security.no_new_privs : 0, &req, groups, err,
	                   sizeof err) < 0) {
		defer_outcome(c, 0, "%s: %s", c->what, err);
		return;
	}
	req.rlimit_core = -1;
	req.argv = spec->argv;
	req.stdout_fd = SPAWN_FD_NULL;
	req.stderr_fd = SPAWN_FD_NULL;
	if (g->stderr_mode == OUT_LOG && p->err.wfd >= 0)
		req.stderr_fd = p->err.wfd;
	else if (g->stderr_mode == OUT_STDOUT && g->stdout_mode == OUT_LOG && p->out.wfd >= 0)
		req.stderr_fd = p->out.wfd;
	else if (g->stderr_mode == OUT_INHERIT)
		req.stderr_fd = SPAWN_FD_INHERIT;
	char **env = proc_build_env(p, environ);
	req.envp = env;
	char *path = spawn_resolve(spec->argv[0], env, g->directory);
	if (!path) {
		defer_outcome(c, 0, "%s: %s", c->what,
		              errno == ENOENT && !strchr(spec->argv[0], '/')
		                  ? "command not found in PATH"
		                  : strerror(errno));
		util_strv_free(env);
		return;
	}
	req.path = path;
	pid_t pid;
	int errfd;
	int r = spawn_start(&req, &pid, &errfd);
	free(path);
	util_strv_free(env);
	if (r < 0) {
		defer_outcome(c, 0, "%s: fork: %s", c->what, strerror(-r));
		return;
	}
	struct exec_rec *x = util_xcalloc(1, sizeof *x);
	x->pid = pid;
	x->errfd = errfd;
	x->owner = c;
	x->next = C.execs;
	C.execs = x;
	c->ex = x;
}

static int on_reaped(pid_t pid, int status, const struct rusage *ru)
{
	(void)ru;
	struct exec_rec **pp = &C.execs, *x;
	while ((x = *pp) && x->pid != pid)
		pp = &x->next;
	if (!x)
		return 0;
	*pp = x->next;
	/* Whatever it left in its process group goes with it. */
	kill(-pid, SIGKILL);
	char msg[256] = "";
	int exec_ok = spawn_result(x->errfd, msg, sizeof msg);
	close(x->errfd);
	struct attempt *c = x->owner;
	free(x);
	if (!c)
		return 1;
	c->ex = NULL;
	char why[sizeof c->what + sizeof msg + 8];
	if (exec_ok == 0)
		snprintf(why, sizeof why, "%s: %s", c->what, msg);
	else if (WIFSIGNALED(status))
		snprintf(why, sizeof why, "%s: killed by SIG%s", c->what,
		         util_signal_name(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		snprintf(why, sizeof why, "%s: exit code %d", c->what, WEXITSTATUS(status));
	else
		why[0] = '\0';
	finish(c, why[0] == '\0', why);
	return 1;
}

/* --- entry points ------------------------------------------------------------------------- */

struct attempt *attempt_start(const struct conf_check *spec, struct proc *p, int64_t timeout_ms,
                              attempt_done_fn done, void *arg)
{
	struct attempt *c = util_xcalloc(1, sizeof *c);
	c->kind = spec->kind;
	c->done = done;
	c->arg = arg;
	c->fd = -1;
	c->start_us = loop_now_us();
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	c->timer = loop_timer_add((uint64_t)c->timeout_ms, 0, on_timeout, c);
	switch (spec->kind) {
	case CHECK_TCP:
		start_tcp(c, spec);
		break;
	case CHECK_HTTP:
		start_http(c, spec);
		break;
	case CHECK_EXEC:
		start_exec(c, spec, p);
		break;
	default:
		defer_outcome(c, 1, "no check");
		break;
	}
	return c;
}

void attempt_cancel(struct attempt *c)
{
	if (c)
		release(c);
}

int attempt_init(void)
{
	return sup_add_reap_hook(on_reaped);
}

void attempt_fini(void)
{
	for (struct exec_rec *x = C.execs, *next; x; x = next) {
		next = x->next;
		kill(-x->pid, SIGKILL);
		close(x->errfd);
		if (x->owner)
			x->owner->ex = NULL;
		free(x);
	}
	C.execs = NULL;
	if (C.curl_timer)
		loop_timer_cancel(C.curl_timer);
	C.curl_timer = NULL;
	if (C.multi)
		curl_multi_cleanup(C.multi);
	C.multi = NULL;
	if (C.curl_ready)
		curl_global_cleanup();
	C.curl_ready = 0;
}

/* attempt.c — tcp:, http:// and exec: checks on the loop: connect, the http_check module, spawn. */
#include "attempt.h"

#include <arpa/inet.h>
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
#include "modload.h"
#include "http_check.h"
#include "spawn.h"
#include "sup_int.h"
#include "util.h"

extern char **environ;

/* An exec: check's process. It outlives its check when the check times out or is cancelled
 * (it is killed then), until the reap hook collects it. */
struct exec_rec {
	pid_t pid;
	int errfd;             /* spawn's exec report, or -1: known at spawn (failed, fail) */
	char *fail;            /* why exec failed, when known at spawn */
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
	struct http_check *http;
	struct exec_rec *ex; /* exec */
};

static struct {
	const struct http_check_module *http; /* NULL until an http:// check needs it */
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
	if (c->http)
		C.http->cancel(c->http);
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

/* --- http: the http_check module (libcurl), opened on first need ------------------------- */

static void http_warn(const char *msg)
{
	log_warn("%s", msg);
}

/* The loop, lent to the module as it is. */
static const struct http_check_host http_host = {
    .watch = loop_watch,
    .watch_modify = loop_watch_modify,
    .unwatch = loop_unwatch,
    .timer_add = loop_timer_add,
    .timer_cancel = loop_timer_cancel,
    .warn = http_warn,
};

int attempt_http_load(char *err, size_t len)
{
	if (C.http)
		return 0;
	const struct vigil_module_head *h =
	    modload_open(HTTP_CHECK_MODULE, HTTP_CHECK_IFACE, sizeof *C.http, err, len);
	if (!h)
		return -1;
	C.http = (const struct http_check_module *)h;
	C.http->init(&http_host);
	log_debug("http:// checks: loaded %s.so", HTTP_CHECK_MODULE);
	return 0;
}

static void on_http(void *arg, int ok, const char *why)
{
	struct attempt *c = arg;
	c->http = NULL; /* the module released it */
	if (ok) {
		finish(c, 1, NULL);
		return;
	}
	char msg[sizeof c->what + 300];
	snprintf(msg, sizeof msg, "%s: %s", c->what, why);
	finish(c, 0, msg);
}

static void start_http(struct attempt *c, const struct conf_check *spec)
{
	char err[sizeof c->why];
	snprintf(c->what, sizeof c->what, "GET %s", spec->target);
	/* Loaded with the configuration already (probe_check_conf); this only covers a caller
	 * that did not check it. */
	if (attempt_http_load(err, sizeof err) < 0) {
		defer_outcome(c, 0, "%s: %s", c->what, err);
		return;
	}
	c->http = C.http->start(spec->target, c->timeout_ms, on_http, c, err, sizeof err);
	if (!c->http)
		defer_outcome(c, 0, "%s: %s", c->what, err);
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
	struct spawn_out o;
	int r = spawn_launch(&req, 1, &o);
	free(path);
	util_strv_free(env);
	if (r < 0) {
		defer_outcome(c, 0, "%s: fork: %s", c->what, strerror(-r));
		return;
	}
	struct exec_rec *x = util_xcalloc(1, sizeof *x);
	x->pid = o.pid;
	x->errfd = o.errfd;
	x->fail = o.errfd < 0 && o.exec_failed ? util_xstrdup(o.msg) : NULL;
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
	int exec_ok = 1;
	if (x->errfd >= 0) {
		exec_ok = spawn_result(x->errfd, msg, sizeof msg);
		close(x->errfd);
	} else if (x->fail) {
		exec_ok = 0;
		snprintf(msg, sizeof msg, "%s", x->fail);
	}
	free(x->fail);
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
		if (x->errfd >= 0)
			close(x->errfd);
		if (x->owner)
			x->owner->ex = NULL;
		free(x->fail);
		free(x);
	}
	C.execs = NULL;
	/* The module stays loaded (never closed); libcurl is released. */
	if (C.http)
		C.http->fini();
}

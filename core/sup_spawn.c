/* sup_spawn.c — starting an instance: capture, launch preparation, exec report, readiness. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "launch.h"
#include "log.h"
#include "logcap.h"
#include "loop.h"
#include "probe.h"
#include "sandbox.h"
#include "spawn.h"
#include "sup_int.h"
#include "util.h"

extern char **environ;

/* --- spawning ---------------------------------------------------------------------------- */

static void on_spawn_pipe(int fd, uint32_t events, void *arg);
static void on_runtime_limit(void *arg);
static void exec_known(struct proc *p, int r, const char *msg);

void sup_close_spawn_pipe(struct proc *p)
{
	if (p->spawn_watch) {
		loop_unwatch(p->spawn_watch);
		p->spawn_watch = NULL;
	}
	if (p->spawn_fd >= 0) {
		close(p->spawn_fd);
		p->spawn_fd = -1;
	}
}

int sup_open_capture(struct proc *p, struct logcap *lc, const char *stream)
{
	if (lc->wfd >= 0)
		return 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/logs/%s.%s.log", S.conf->state_dir, p->name, stream);
	int r = logcap_open(lc, path, S.fifo_dir, p->prog->log_max_size, p->prog->log_backups);
	if (r < 0) {
		char err[4200];
		snprintf(err, sizeof err, "cannot open %s: %s", path, strerror(-r));
		proc_set_text(&p->spawn_error, err);
	}
	return r;
}




void sup_detach_monitors(struct proc *p)
{
	struct vigil_proc_info info;
	proc_fill_info(p, &info);
	launch_detach(S.plugins, &info);
}

/* A start being prepared or launched: what the child needs lives here until it has exec'd. */
struct prep {
	struct proc *p;
	struct spawn_req req;
	gid_t groups[256];
	char **env;
	char *path;
	char err[256];
	int hold[2];
};

/* While starting everything (sup_batch_begin..sup_batch_run), starts that need no hold are
 * prepared here and launched together, from two threads (spawn_launch_many). */
#define BATCH_MAX 16
static struct {
	int on;
	size_t n;
	struct prep items[BATCH_MAX];
} B;

static void prep_free(struct prep *x)
{
	free(x->path);
	util_strv_free(x->env);
	x->path = NULL;
	x->env = NULL;
}

static void spawn_failed(struct prep *x)
{
	struct proc *p = x->p;
	prep_free(x);
	p->spawn_failed = 1;
	p->last_reason = "spawn-failed";
	p->runtime_ms = 0;
	if (x->err[0])
		proc_set_text(&p->spawn_error, x->err); /* else sup_open_capture said why */
	log_warn("%s: %s", p->name, p->spawn_error ? p->spawn_error : "cannot start");
	sup_step(p, FE_SPAWN_FAILED);
}

/* Everything up to the clone. 0, or -1 when the start failed (spawn_failed() done). */
static int spawn_prepare(struct proc *p, struct prep *x)
{
	const struct conf_program *g = p->prog;
	memset(x, 0, sizeof *x);
	x->p = p;
	x->hold[0] = x->hold[1] = -1;
	x->req.argv = g->argv;
	x->req.stdout_fd = x->req.stderr_fd = SPAWN_FD_NULL;

	proc_set_text(&p->spawn_error, NULL);
	p->spawn_failed = 0;
	p->status_unknown = 0;
	p->exit_code = -1;
	p->exit_signal = 0;
	p->spawn_us = loop_now_us();
	p->started_mono = loop_now_ms();
	p->started_at_ms = loop_wall_ms();

	if (g->stdout_mode == OUT_LOG) {
		if (sup_open_capture(p, &p->out, "out") < 0)
			goto fail;
		x->req.stdout_fd = p->out.wfd;
	} else if (g->stdout_mode == OUT_INHERIT) {
		x->req.stdout_fd = SPAWN_FD_INHERIT;
	}
	if (g->stderr_mode == OUT_LOG) {
		if (sup_open_capture(p, &p->err, "err") < 0)
			goto fail;
		x->req.stderr_fd = p->err.wfd;
	} else if (g->stderr_mode == OUT_STDOUT) {
		x->req.stderr_fd = x->req.stdout_fd;
	} else if (g->stderr_mode == OUT_INHERIT) {
		x->req.stderr_fd = SPAWN_FD_INHERIT;
	}

	if (launch_prepare(g, S.conf->security.no_new_privs, &x->req, x->groups, x->err,
	                   sizeof x->err) < 0)
		goto fail;
	x->env = proc_build_env(p, environ);
	x->path = spawn_resolve(g->argv[0], x->env, g->directory);
	if (!x->path) {
		snprintf(x->err, sizeof x->err, "exec %s: %s", g->argv[0],
		         errno == ENOENT && !strchr(g->argv[0], '/') ? "command not found in PATH"
		                                                      : strerror(errno));
		goto fail;
	}
	/* Checked at every start: the file may have been replaced since the config was read. */
	if (!sandbox_command_ok(&S.conf->security, x->path, x->err, sizeof x->err))
		goto fail;
	x->req.path = x->path;
	x->env = probe_child_env(p, x->env, x->req.set_ids ? x->req.uid : S.euid);
	x->req.envp = x->env;
	x->req.hold_fd = x->req.hold_wfd = -1;
	if (launch_need_hold(S.plugins) && pipe2(x->hold, O_CLOEXEC) == 0) {
		x->req.hold_fd = x->hold[0];
		x->req.hold_wfd = x->hold[1];
	}
	return 0;
fail:
	spawn_failed(x);
	return -1;
}

/* Everything after the clone (r and o as spawn_launch gave them). */
static void spawn_finish(struct prep *x, int r, const struct spawn_out *o)
{
	struct proc *p = x->p;
	const struct conf_program *g = p->prog;
	if (x->hold[0] >= 0)
		close(x->hold[0]);
	if (r < 0) {
		if (x->hold[1] >= 0)
			close(x->hold[1]);
		snprintf(x->err, sizeof x->err, "fork: %s", strerror(-r));
		spawn_failed(x);
		return;
	}
	p->pid = o->pid;
	p->spawn_fd = o->errfd;
	p->pid_ticks = o->start_ticks;
	p->pid_ino = o->pid_ino;
	p->pgid = p->pid;
	p->last_pid = p->pid;
	sup_pid_put(p);
	if (x->hold[1] >= 0) {
		/* The child waits before exec until every monitor has placed it; one that
		 * cannot fails the start (the child is killed and the reap says why). */
		struct vigil_proc_info info;
		proc_fill_info(p, &info);
		if (launch_attach(S.plugins, &info, p->pid, x->hold[1], x->err, sizeof x->err) < 0) {
			/* The child was killed before exec: nothing may report this start as
			 * exec'd; the reap finishes it as spawn-failed. */
			p->spawn_failed = 1;
			proc_set_text(&p->spawn_error, x->err);
			sup_close_spawn_pipe(p);
			log_warn("%s: %s", p->name, x->err);
			sup_arm_timer(p, g->start_timeout_ms);
			prep_free(x);
			return;
		}
	}
	if (p->spawn_fd >= 0) {
		p->spawn_watch = loop_watch(p->spawn_fd, EPOLLIN, on_spawn_pipe, p);
		if (!p->spawn_watch)
			log_error("%s: cannot watch the spawn pipe: %s", p->name, strerror(errno));
	}
	sup_arm_timer(p, g->start_timeout_ms);
	if (g->limit_runtime_ms > 0)
		p->runtime_timer =
			loop_timer_add((uint64_t)g->limit_runtime_ms, 0, on_runtime_limit, p);
	prep_free(x);
	sup_store_put(p);
	if (p->spawn_fd < 0)
		exec_known(p, o->exec_failed ? 0 : 1, o->msg);
}

void sup_spawn(struct proc *p)
{
	if (B.on && B.n < BATCH_MAX && !launch_need_hold(S.plugins)) {
		if (spawn_prepare(p, &B.items[B.n]) == 0)
			B.n++;
		return;
	}
	struct prep x;
	if (spawn_prepare(p, &x) < 0)
		return;
	struct spawn_out o;
	int r = spawn_launch(&x.req, 1, &o);
	spawn_finish(&x, r, &o);
}

void sup_batch_begin(void)
{
	B.on = 1;
}

int sup_batch_full(void)
{
	return B.n >= BATCH_MAX;
}

void sup_batch_run(void)
{
	const struct spawn_req *req[BATCH_MAX] = {0};
	struct spawn_out out[BATCH_MAX];
	int rc[BATCH_MAX] = {0};
	size_t n = B.n;
	B.on = 0;
	B.n = 0;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		req[i] = &B.items[i].req;
	spawn_launch_many(req, out, rc, n);
	/* Finishing may start more (an instance that waited for these): not batched. */
	for (size_t i = 0; i < n; i++)
		spawn_finish(&B.items[i], rc[i], &out[i]);
}

/* limit_runtime: the run is over its time; on_limit says what that means. */
static void on_runtime_limit(void *arg)
{
	struct proc *p = arg;
	static const char *const actions[] = {"restart", "stop", "alert"};
	p->runtime_timer = NULL;
	p->runtime_violations++;
	int action = p->prog->on_limit;
	log_warn("%s: ran longer than limit_runtime (%lld ms): %s", p->name,
	         (long long)p->prog->limit_runtime_ms, actions[action]);
	struct vigil_ev_limit_violated e = {
		.hdr = {.type = VIGIL_EV_LIMIT_VIOLATED, .size = sizeof e, .subject = p->name},
		.limit = "runtime",
		.value = (double)(loop_now_ms() - p->started_mono),
		.max = (double)p->prog->limit_runtime_ms,
		.action = actions[action],
		.count = p->runtime_violations,
	};
	bus_publish(&e.hdr);
	if (action == ON_LIMIT_ALERT) {
		struct vigil_ev_alert a = {
			.hdr = {.type = VIGIL_EV_ALERT_RAISED, .size = sizeof a, .subject = p->name},
			.alert = "runtime-exceeded",
			.severity = "warning",
			.message = "the run is longer than limit_runtime",
		};
		bus_publish(&a.hdr);
		return;
	}
	p->restart_after_stop = action == ON_LIMIT_RESTART;
	sup_request_stop(p, "limit");
}

static void on_ready_delay(void *arg)
{
	struct proc *p = arg;
	p->ready_timer = NULL;
	sup_step(p, FE_READY);
}

/* The exec outcome is known: r = 1 exec succeeded, 0 it failed (msg says why). */
static void exec_known(struct proc *p, int r, const char *msg)
{
	if (r == 1 && p->spawn_failed)
		return; /* killed before exec (a monitor refused it): not a successful exec */
	if (r == 0) {
		/* The child exits 127 right after: the reap finishes the failure. */
		proc_set_text(&p->spawn_error, msg);
		p->spawn_failed = 1;
		log_warn("%s: %s", p->name, msg);
		return;
	}
	sup_step(p, FE_SPAWNED);
	if (p->state != VIGIL_PROC_STARTING)
		return;
	if (p->prog->ready == READY_DELAY && p->prog->ready_delay_ms > 0)
		p->ready_timer = loop_timer_add((uint64_t)p->prog->ready_delay_ms, 0, on_ready_delay, p);
	else if (p->prog->ready == READY_NOTIFY || p->prog->ready == READY_CHECK)
		probe_ready_begin(p);
	else
		sup_step(p, FE_READY);
}

/* The exec report pipe is readable: EOF means exec succeeded. */
void sup_spawn_outcome(struct proc *p)
{
	char msg[256];
	int r = spawn_result(p->spawn_fd, msg, sizeof msg);
	if (r == -EAGAIN)
		return;
	sup_close_spawn_pipe(p);
	exec_known(p, r, msg);
}

static void on_spawn_pipe(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	sup_spawn_outcome(arg);
}


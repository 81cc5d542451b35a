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

void sup_spawn(struct proc *p)
{
	const struct conf_program *g = p->prog;
	struct spawn_req req;
	memset(&req, 0, sizeof req);
	req.argv = g->argv;
	req.stdout_fd = req.stderr_fd = SPAWN_FD_NULL;
	gid_t groups[256];
	char **env = NULL;
	char *path = NULL;
	char err[256] = "";

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
		req.stdout_fd = p->out.wfd;
	} else if (g->stdout_mode == OUT_INHERIT) {
		req.stdout_fd = SPAWN_FD_INHERIT;
	}
	if (g->stderr_mode == OUT_LOG) {
		if (sup_open_capture(p, &p->err, "err") < 0)
			goto fail;
		req.stderr_fd = p->err.wfd;
	} else if (g->stderr_mode == OUT_STDOUT) {
		req.stderr_fd = req.stdout_fd;
	} else if (g->stderr_mode == OUT_INHERIT) {
		req.stderr_fd = SPAWN_FD_INHERIT;
	}

	if (launch_prepare(g, S.conf->security.no_new_privs, &req, groups, err, sizeof err) < 0)
		goto fail;
	env = proc_build_env(p, environ);
	path = spawn_resolve(g->argv[0], env, g->directory);
	if (!path) {
		snprintf(err, sizeof err, "exec %s: %s", g->argv[0],
		         errno == ENOENT && !strchr(g->argv[0], '/') ? "command not found in PATH"
		                                                      : strerror(errno));
		goto fail;
	}
	/* Checked at every start: the file may have been replaced since the config was read. */
	if (!sandbox_command_ok(&S.conf->security, path, err, sizeof err))
		goto fail;
	req.path = path;
	env = probe_child_env(p, env, req.set_ids ? req.uid : S.euid);
	req.envp = env;

	int hold[2] = {-1, -1};
	if (launch_need_hold(S.plugins) && pipe2(hold, O_CLOEXEC) == 0) {
		req.hold_fd = hold[0];
		req.hold_wfd = hold[1];
	}
	struct spawn_out o;
	int r = spawn_launch(&req, 1, &o);
	if (hold[0] >= 0)
		close(hold[0]);
	if (r < 0) {
		if (hold[1] >= 0)
			close(hold[1]);
		snprintf(err, sizeof err, "fork: %s", strerror(-r));
		goto fail;
	}
	p->pid = o.pid;
	p->spawn_fd = o.errfd;
	p->pid_ticks = o.start_ticks;
	p->pid_ino = o.pid_ino;
	p->pgid = p->pid;
	p->last_pid = p->pid;
	sup_pid_put(p);
	if (hold[1] >= 0) {
		/* The child waits before exec until every monitor has placed it; one that
		 * cannot fails the start (the child is killed and the reap says why). */
		struct vigil_proc_info info;
		proc_fill_info(p, &info);
		if (launch_attach(S.plugins, &info, p->pid, hold[1], err, sizeof err) < 0) {
			/* The child was killed before exec: nothing may report this start as
			 * exec'd; the reap finishes it as spawn-failed. */
			p->spawn_failed = 1;
			proc_set_text(&p->spawn_error, err);
			sup_close_spawn_pipe(p);
			log_warn("%s: %s", p->name, err);
			sup_arm_timer(p, g->start_timeout_ms);
			free(path);
			util_strv_free(env);
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
	free(path);
	util_strv_free(env);
	sup_store_put(p);
	if (p->spawn_fd < 0)
		exec_known(p, o.exec_failed ? 0 : 1, o.msg);
	return;
fail:
	free(path);
	util_strv_free(env);
	p->spawn_failed = 1;
	p->last_reason = "spawn-failed";
	p->runtime_ms = 0;
	if (err[0])
		proc_set_text(&p->spawn_error, err); /* else sup_open_capture said why */
	log_warn("%s: %s", p->name, p->spawn_error ? p->spawn_error : "cannot start");
	sup_step(p, FE_SPAWN_FAILED);
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


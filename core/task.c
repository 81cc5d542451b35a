/* task.c — pools of one-shot tasks: priority queues, spawning, timeouts, retries, accounting. */
#include "task.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "launch.h"
#include "log.h"
#include "sandbox.h"
#include "loop.h"
#include "spawn.h"
#include "sup.h"
#include "util.h"

extern char **environ;

enum stop_why { STOP_NONE = 0, STOP_TIMEOUT, STOP_CANCEL };

struct pool;

struct task {
	char id[40];
	char *name, *type, *command, *cwd;
	char **argv, **env;
	struct pool *pool;
	enum vigil_task_state state;
	enum vigil_priority priority;
	pid_t pid;
	int spawn_fd;
	struct loop_watch *spawn_watch;
	struct loop_timer *timer;   /* timeout, then the kill; or the retry delay */
	enum stop_why stop;
	uint32_t attempt;
	int64_t timeout_ms;
	int64_t submitted_ms, started_ms, ended_ms;
	uint64_t queued_mono, started_mono;
	int exit_code, signal;
	double cpu_s;
	int64_t peak_rss, duration_ms;
	char error[256];
	void *policy_mem;
	struct task *qnext;         /* in its pool's queue */
	struct task *prev, *next;   /* every task the core holds, oldest first */
};

struct pool {
	const struct conf_pool *conf;
	struct vigil_instance *policy;
	struct task *head[VIGIL_PRIO_COUNT], *tail[VIGIL_PRIO_COUNT];
	size_t queued;
	int running;
};

static struct {
	const struct vigil_conf *conf;
	const struct conf_security *sec; /* the current [security]: reload replaces it */
	struct loader_set *plugins;
	struct pool *pools;
	size_t npools;
	struct task *first, *last;
	size_t finished;            /* finished tasks still held */
	size_t active;              /* queued + running + waiting to retry */
	uint64_t seq;
	char prefix[16];
	int shutting_down;
	char dir[4096];             /* ${state_dir}/tasks */
} T;

static void dispatch(struct pool *pl);

static int is_final(enum vigil_task_state s)
{
	return s >= VIGIL_TASK_SUCCEEDED;
}

static struct pool *find_pool(const char *name)
{
	for (size_t i = 0; i < T.npools; i++)
		if (strcmp(T.pools[i].conf->name, name) == 0)
			return &T.pools[i];
	return NULL;
}

static struct task *find(const char *id)
{
	for (struct task *t = T.last; t; t = t->prev)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

static uint32_t queue_position(const struct task *t)
{
	uint32_t n = 0;
	for (int p = VIGIL_PRIO_CRITICAL; p >= 0; p--)
		for (struct task *q = t->pool->head[p]; q; q = q->qnext) {
			if (q == t)
				return n;
			n++;
		}
	return n;
}

static void fill_info(const struct task *t, struct vigil_task_info *i)
{
	memset(i, 0, sizeof *i);
	i->size = sizeof *i;
	i->id = t->id;
	i->name = t->name;
	i->type = t->type;
	i->pool = t->pool->conf->name;
	i->command = t->command;
	i->state = t->state;
	i->priority = t->priority;
	i->pid = t->pid;
	i->attempt = t->attempt;
	i->queue_position = t->state == VIGIL_TASK_QUEUED ? queue_position(t) : 0;
	i->submitted_at_ms = t->submitted_ms;
	i->started_at_ms = t->started_ms;
	i->ended_at_ms = t->ended_ms;
	i->timeout_ms = t->timeout_ms;
	i->exit_code = t->exit_code;
	i->signal = t->signal;
	i->duration_ms = t->duration_ms;
	i->cpu_s = t->cpu_s;
	i->peak_rss_bytes = t->peak_rss;
	i->error = t->error[0] ? t->error : NULL;
}

/* What monitors see of a task: an instance named after its id, in its pool's "program". */
static void proc_view(const struct task *t, struct vigil_proc_info *i)
{
	const struct conf_program *g = &t->pool->conf->task;
	memset(i, 0, sizeof *i);
	i->size = sizeof *i;
	i->state = t->state == VIGIL_TASK_RUNNING ? VIGIL_PROC_RUNNING : VIGIL_PROC_STARTING;
	i->name = t->id;
	i->program = t->pool->conf->name;
	i->command = t->command;
	i->instance = -1;
	i->pid = t->pid;
	i->priority = t->priority;
	i->started_at_ms = t->started_ms;
	i->exit_code = -1;
	i->cpu_pct = -1;
	i->rss_bytes = -1;
	i->health = -1;
	i->limit_memory = g->limit_memory;
	i->limit_cpu = g->limit_cpu;
	i->limit_runtime_ms = t->timeout_ms;
	i->limit_nofile = g->limit_nofile;
	i->limit_nproc = g->limit_nproc;
}

static void cancel_timer(struct task *t)
{
	if (t->timer) {
		loop_timer_cancel(t->timer);
		t->timer = NULL;
	}
}

static void output_path(const struct task *t, const char *stream, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.%s.log", T.dir, t->id, stream);
}

static void free_task(struct task *t, int remove_output)
{
	char path[4200];
	if (remove_output) {
		output_path(t, "out", path, sizeof path);
		unlink(path);
		output_path(t, "err", path, sizeof path);
		unlink(path);
	}
	if (t->policy_mem && t->pool->policy) {
		const struct vigil_policy_ops *ops = t->pool->policy->desc.ops;
		if (ops->release)
			ops->release(t->pool->policy->state, t->policy_mem);
	}
	cancel_timer(t);
	if (t->spawn_watch)
		loop_unwatch(t->spawn_watch);
	if (t->spawn_fd >= 0)
		close(t->spawn_fd);
	free(t->name);
	free(t->type);
	free(t->command);
	free(t->cwd);
	util_strv_free(t->argv);
	util_strv_free(t->env);
	free(t);
}

static void unlink_all(struct task *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		T.first = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		T.last = t->prev;
}

/* Finished tasks beyond TASK_KEEP_FINISHED go (the store keeps their history). */
static void trim_finished(void)
{
	for (struct task *t = T.first; t && T.finished > TASK_KEEP_FINISHED;) {
		struct task *n = t->next;
		if (is_final(t->state)) {
			unlink_all(t);
			free_task(t, 1);
			T.finished--;
		}
		t = n;
	}
}

static void enqueue(struct task *t)
{
	struct pool *pl = t->pool;
	t->state = VIGIL_TASK_QUEUED;
	t->queued_mono = loop_now_ms();
	t->qnext = NULL;
	if (pl->tail[t->priority])
		pl->tail[t->priority]->qnext = t;
	else
		pl->head[t->priority] = t;
	pl->tail[t->priority] = t;
	pl->queued++;
}

static struct task *dequeue(struct pool *pl)
{
	for (int p = VIGIL_PRIO_CRITICAL; p >= 0; p--) {
		struct task *t = pl->head[p];
		if (!t)
			continue;
		pl->head[p] = t->qnext;
		if (!pl->head[p])
			pl->tail[p] = NULL;
		t->qnext = NULL;
		pl->queued--;
		return t;
	}
	return NULL;
}

static void unqueue(struct task *t)
{
	struct pool *pl = t->pool;
	struct task **pp = &pl->head[t->priority], *prev = NULL;
	while (*pp && *pp != t) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (!*pp)
		return;
	*pp = t->qnext;
	if (pl->tail[t->priority] == t)
		pl->tail[t->priority] = prev;
	t->qnext = NULL;
	pl->queued--;
}

static void publish_finished(struct task *t)
{
	struct vigil_ev_task_finished e = {
		.hdr = {.type = VIGIL_EV_TASK_FINISHED, .size = sizeof e, .subject = t->id},
		.pool = t->pool->conf->name,
		.name = t->name,
		.type = t->type,
		.state = t->state,
		.exit_code = t->exit_code,
		.signal = t->signal,
		.duration_ms = t->duration_ms,
		.cpu_s = t->cpu_s,
		.peak_rss_bytes = t->peak_rss,
		.priority = t->priority,
		.attempts = t->attempt,
		.submitted_at_ms = t->submitted_ms,
		.started_at_ms = t->started_ms,
		.error = t->error[0] ? t->error : NULL,
	};
	bus_publish(&e.hdr);
}

static void finish(struct task *t, enum vigil_task_state state)
{
	cancel_timer(t);
	t->state = state;
	t->ended_ms = loop_wall_ms();
	T.active--;
	T.finished++;
	publish_finished(t);
	trim_finished();
	if (T.shutting_down)
		sup_task_progress();
}

static void on_retry(void *arg)
{
	struct task *t = arg;
	t->timer = NULL;
	enqueue(t);
	dispatch(t->pool);
}

/* A run failed: retry it (paced by the pool's restart policy) or give up. */
static void failed_run(struct task *t, enum vigil_task_state state)
{
	struct pool *pl = t->pool;
	if (T.shutting_down || t->attempt > (uint32_t)pl->conf->retries || !pl->policy) {
		finish(t, state);
		return;
	}
	const struct vigil_policy_ops *ops = pl->policy->desc.ops;
	struct vigil_exit_info info = {
		.size = sizeof info,
		.name = t->id,
		.pid = t->pid,
		.exit_code = t->exit_code,
		.signal = t->signal,
		.spawn_failed = t->error[0] != '\0',
		.runtime_ms = (uint64_t)t->duration_ms,
		.now_ms = loop_now_ms(),
	};
	struct vigil_decision d;
	memset(&d, 0, sizeof d);
	if (ops->decide(pl->policy->state, &t->policy_mem, &info, &d) < 0 ||
	    d.verdict == VIGIL_GIVE_UP) {
		finish(t, state);
		return;
	}
	log_info("task %s: attempt %u ended %s; retrying in %llu ms", t->id, t->attempt,
	         vigil_task_state_name(state),
	         (unsigned long long)(d.verdict == VIGIL_RESTART_AFTER ? d.delay_ms : 0));
	t->state = VIGIL_TASK_QUEUED;
	if (d.verdict == VIGIL_RESTART_AFTER && d.delay_ms > 0) {
		t->timer = loop_timer_add(d.delay_ms, 0, on_retry, t);
		return;
	}
	enqueue(t);
}

static void signal_tree(struct task *t, int sig)
{
	if (!t->pid)
		return;
	if (t->pool->conf->task.kill_tree) {
		struct vigil_proc_info info;
		proc_view(t, &info);
		launch_kill_tree(T.plugins, &info, t->pid, sig);
	}
	kill(t->pid, sig);
}

static void on_kill(void *arg)
{
	struct task *t = arg;
	t->timer = NULL;
	log_warn("task %s: still alive %lld ms after SIG%s: SIGKILL", t->id,
	         (long long)t->pool->conf->task.stop_timeout_ms,
	         util_signal_name(t->pool->conf->task.stop_signal));
	signal_tree(t, SIGKILL);
}

static void stop_task(struct task *t, enum stop_why why)
{
	if (t->stop != STOP_NONE || !t->pid)
		return;
	t->stop = why;
	t->state = VIGIL_TASK_STOPPING;
	cancel_timer(t);
	signal_tree(t, t->pool->conf->task.stop_signal);
	if (t->pool->conf->task.stop_signal != SIGKILL)
		signal_tree(t, SIGCONT);
	t->timer = loop_timer_add((uint64_t)t->pool->conf->task.stop_timeout_ms, 0, on_kill, t);
}

static void on_timeout(void *arg)
{
	struct task *t = arg;
	t->timer = NULL;
	log_warn("task %s: timed out after %lld ms", t->id, (long long)t->timeout_ms);
	stop_task(t, STOP_TIMEOUT);
}

static void close_spawn(struct task *t)
{
	if (t->spawn_watch) {
		loop_unwatch(t->spawn_watch);
		t->spawn_watch = NULL;
	}
	if (t->spawn_fd >= 0) {
		close(t->spawn_fd);
		t->spawn_fd = -1;
	}
}

static void exec_known(struct task *t, int failed, const char *msg)
{
	if (failed) {
		snprintf(t->error, sizeof t->error, "%s", msg);
		return; /* the child exits 127; the reap ends the run */
	}
	if (t->state == VIGIL_TASK_STARTING)
		t->state = VIGIL_TASK_RUNNING;
}

static void exec_outcome(struct task *t)
{
	char msg[sizeof t->error];
	int r = spawn_result(t->spawn_fd, msg, sizeof msg);
	if (r == -EAGAIN)
		return;
	close_spawn(t);
	exec_known(t, r == 0, msg);
}

static void on_spawn_pipe(int fd, uint32_t events, void *arg)
{
	(void)fd;
	(void)events;
	exec_outcome(arg);
}

static int open_output(struct task *t, int mode, const char *stream, int *fd)
{
	*fd = mode == OUT_NULL ? SPAWN_FD_NULL : SPAWN_FD_INHERIT;
	if (mode != OUT_LOG)
		return 0;
	char path[4200];
	output_path(t, stream, path, sizeof path);
	*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0640);
	if (*fd < 0) {
		snprintf(t->error, sizeof t->error, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* One run of t; on any failure before exec the run ends failed with the reason. */
static void start_run(struct task *t)
{
	struct pool *pl = t->pool;
	const struct conf_program *g = &pl->conf->task;
	struct spawn_req req;
	gid_t groups[256];
	char extra0[80], extra1[300], extra2[300], extra3[32];
	char *extra[] = {extra0, extra1, extra2, extra3, NULL};
	int outfd = SPAWN_FD_NULL, errfd = SPAWN_FD_NULL, hold[2] = {-1, -1};
	char *path = NULL;
	char **env = NULL;

	memset(&req, 0, sizeof req);
	t->attempt++;
	t->error[0] = '\0';
	t->exit_code = -1;
	t->signal = 0;
	t->stop = STOP_NONE;
	t->state = VIGIL_TASK_STARTING;
	t->started_ms = loop_wall_ms();
	t->started_mono = loop_now_ms();
	pl->running++;

	if (launch_prepare(g, T.sec->no_new_privs, &req, groups, t->error,
	                   sizeof t->error) < 0)
		goto fail;
	req.nice = (int[]){10, 0, -5, -10}[t->priority & 3];
	req.oom_score_adj = (int[]){300, 0, -300, -900}[t->priority & 3];
	if (t->cwd)
		req.cwd = t->cwd;
	snprintf(extra0, sizeof extra0, "VIGIL_TASK_ID=%s", t->id);
	snprintf(extra1, sizeof extra1, "VIGIL_TASK_NAME=%s", t->name);
	snprintf(extra2, sizeof extra2, "VIGIL_TASK_TYPE=%s", t->type);
	snprintf(extra3, sizeof extra3, "VIGIL_TASK_ATTEMPT=%u", t->attempt);
	char **env1 = launch_env(environ, g->clear_env, g->environment, extra);
	env = launch_env(env1, 0, t->env, NULL);
	util_strv_free(env1);
	path = spawn_resolve(t->argv[0], env, req.cwd);
	if (!path) {
		snprintf(t->error, sizeof t->error, "exec %s: %s", t->argv[0],
		         errno == ENOENT && !strchr(t->argv[0], '/') ? "command not found in PATH"
		                                                      : strerror(errno));
		goto fail;
	}
	/* Checked again at each run: the file may have changed since the submission. */
	if (!sandbox_command_ok(T.sec, path, t->error, sizeof t->error) ||
	    !sandbox_dir_ok(T.sec, req.cwd, t->error, sizeof t->error))
		goto fail;
	if (open_output(t, g->stdout_mode, "out", &outfd) < 0)
		goto fail;
	if (g->stderr_mode == OUT_STDOUT)
		errfd = outfd;
	else if (open_output(t, g->stderr_mode, "err", &errfd) < 0)
		goto fail;
	req.path = path;
	req.argv = t->argv;
	req.envp = env;
	req.stdout_fd = outfd;
	req.stderr_fd = errfd;
	if (launch_need_hold(T.plugins) && pipe2(hold, O_CLOEXEC) == 0) {
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
		snprintf(t->error, sizeof t->error, "fork: %s", strerror(-r));
		goto fail;
	}
	t->pid = o.pid;
	t->spawn_fd = o.errfd;
	if (hold[1] >= 0) {
		struct vigil_proc_info info;
		proc_view(t, &info);
		launch_attach(T.plugins, &info, t->pid, hold[1], t->error, sizeof t->error);
	}
	if (t->spawn_fd >= 0)
		t->spawn_watch = loop_watch(t->spawn_fd, EPOLLIN, on_spawn_pipe, t);
	else
		exec_known(t, o.exec_failed, o.msg);
	if (t->timeout_ms > 0)
		t->timer = loop_timer_add((uint64_t)t->timeout_ms, 0, on_timeout, t);
	struct vigil_ev_task_started e = {
		.hdr = {.type = VIGIL_EV_TASK_STARTED, .size = sizeof e, .subject = t->id},
		.pool = pl->conf->name,
		.name = t->name,
		.type = t->type,
		.pid = t->pid,
		.attempt = t->attempt,
		.queued_ms = (int64_t)(t->started_mono - t->queued_mono),
	};
	bus_publish(&e.hdr);
	goto out;
fail:
	log_warn("task %s: %s", t->id, t->error);
	pl->running--;
	t->duration_ms = 0;
	t->ended_ms = loop_wall_ms();
	failed_run(t, VIGIL_TASK_FAILED);
out:
	if (outfd >= 0)
		close(outfd);
	if (errfd >= 0 && errfd != outfd)
		close(errfd);
	free(path);
	util_strv_free(env);
}

static void dispatch(struct pool *pl)
{
	while (!T.shutting_down && pl->running < pl->conf->max_concurrent) {
		struct task *t = dequeue(pl);
		if (!t)
			break;
		start_run(t);
	}
}

static int on_reaped(pid_t pid, int status, const struct rusage *ru)
{
	struct task *t = NULL;
	for (struct task *q = T.last; q && !t; q = q->prev)
		if (q->pid == pid && (q->state == VIGIL_TASK_STARTING ||
		                      q->state == VIGIL_TASK_RUNNING ||
		                      q->state == VIGIL_TASK_STOPPING))
			t = q;
	if (!t)
		return 0;
	if (t->spawn_fd >= 0)
		exec_outcome(t);
	close_spawn(t);
	struct pool *pl = t->pool;
	pl->running--;
	t->duration_ms = (int64_t)(loop_now_ms() - t->started_mono);
	t->cpu_s = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	           (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
	t->peak_rss = (int64_t)ru->ru_maxrss * 1024;
	if (WIFSIGNALED(status)) {
		t->signal = WTERMSIG(status);
		t->exit_code = -1;
	} else {
		t->exit_code = WEXITSTATUS(status);
	}
	/* A task ends with its whole tree; monitors forget it either way. */
	struct vigil_proc_info info;
	proc_view(t, &info);
	if (pl->conf->task.kill_tree)
		launch_kill_tree(T.plugins, &info, t->pid, SIGKILL);
	launch_detach(T.plugins, &info);
	t->pid = 0;
	cancel_timer(t);
	enum stop_why why = t->stop;
	t->stop = STOP_NONE;
	if (why == STOP_TIMEOUT)
		failed_run(t, VIGIL_TASK_TIMEOUT);
	else if (why == STOP_CANCEL)
		finish(t, VIGIL_TASK_CANCELLED);
	else if (t->error[0])
		failed_run(t, VIGIL_TASK_FAILED);
	else if (t->signal)
		failed_run(t, VIGIL_TASK_KILLED);
	else if (t->exit_code == 0)
		finish(t, VIGIL_TASK_SUCCEEDED);
	else
		failed_run(t, VIGIL_TASK_FAILED);
	dispatch(pl);
	return 1;
}

int task_submit(const struct vigil_task_spec *spec, char *id, size_t idlen, char *err,
                size_t errlen)
{
	if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
		snprintf(err, errlen, "no command to run");
		return -EINVAL;
	}
	if ((unsigned)spec->priority >= VIGIL_PRIO_COUNT) {
		snprintf(err, errlen, "bad priority %d", (int)spec->priority);
		return -EINVAL;
	}
	if (T.shutting_down) {
		snprintf(err, errlen, "vigild is shutting down");
		return -ESHUTDOWN;
	}
	const char *pname = spec->pool && *spec->pool ? spec->pool : "default";
	struct pool *pl = find_pool(pname);
	if (!pl) {
		snprintf(err, errlen, "no such pool: %s", pname);
		return -ENOENT;
	}
	if (pl->queued >= (size_t)pl->conf->queue_max &&
	    pl->running >= pl->conf->max_concurrent) {
		snprintf(err, errlen, "pool %s: the queue is full (%d tasks waiting)", pname,
		         pl->conf->queue_max);
		return -EAGAIN;
	}
	for (const char *const *e = spec->env; e && *e; e++)
		if (!strchr(*e, '=') || **e == '=') {
			snprintf(err, errlen, "bad environment entry '%s': expected KEY=value", *e);
			return -EINVAL;
		}
	if (spec->cwd && spec->cwd[0] != '/') {
		snprintf(err, errlen, "the working directory must be absolute: %s", spec->cwd);
		return -EINVAL;
	}
	/* [security]: refuse at submission what would be refused at run time. */
	const struct conf_security *sec = T.sec;
	if (!sandbox_dir_ok(sec, spec->cwd ? spec->cwd : pl->conf->task.directory, err, errlen))
		return -EPERM;
	if (sec->allowed_commands && sec->allowed_commands[0]) {
		char **env = launch_env(environ, 0, pl->conf->task.environment,
		                        (char *const *)spec->env);
		char *path = spawn_resolve(spec->argv[0], env,
		                           spec->cwd ? spec->cwd : pl->conf->task.directory);
		util_strv_free(env);
		if (!path) {
			snprintf(err, errlen, "exec %s: %s", spec->argv[0], strerror(errno));
			return -EINVAL;
		}
		int ok = sandbox_command_ok(sec, path, err, errlen);
		free(path);
		if (!ok)
			return -EPERM;
	}

	struct task *t = util_xcalloc(1, sizeof *t);
	snprintf(t->id, sizeof t->id, "%s-%llu", T.prefix, (unsigned long long)++T.seq);
	t->pool = pl;
	t->argv = util_strv_dup((char *const *)spec->argv);
	t->env = util_strv_dup((char *const *)spec->env);
	const char *base = strrchr(spec->argv[0], '/');
	t->name = util_xstrdup(spec->name && *spec->name ? spec->name
	                                                  : base ? base + 1 : spec->argv[0]);
	t->type = util_xstrdup(spec->type && *spec->type ? spec->type : "task");
	t->cwd = spec->cwd ? util_xstrdup(spec->cwd) : NULL;
	t->priority = spec->priority;
	t->timeout_ms = spec->timeout_ms > 0 ? spec->timeout_ms : pl->conf->default_timeout_ms;
	t->submitted_ms = loop_wall_ms();
	t->exit_code = -1;
	t->spawn_fd = -1;
	size_t len = 0;
	for (char **a = t->argv; *a; a++)
		len += strlen(*a) + 1;
	t->command = util_xmalloc(len + 1);
	t->command[0] = '\0';
	for (char **a = t->argv; *a; a++) {
		strcat(t->command, *a);
		if (a[1])
			strcat(t->command, " ");
	}
	t->prev = T.last;
	if (T.last)
		T.last->next = t;
	else
		T.first = t;
	T.last = t;
	T.active++;
	enqueue(t);
	struct vigil_ev_task_queued e = {
		.hdr = {.type = VIGIL_EV_TASK_QUEUED, .size = sizeof e, .subject = t->id},
		.pool = pname,
		.name = t->name,
		.type = t->type,
		.priority = t->priority,
		.position = queue_position(t),
		.command = t->command,
		.submitted_at_ms = t->submitted_ms,
	};
	bus_publish(&e.hdr);
	snprintf(id, idlen, "%s", t->id);
	dispatch(pl);
	return 0;
}

int task_cancel(const char *id)
{
	struct task *t = find(id);
	if (!t)
		return -ENOENT;
	if (is_final(t->state))
		return -EALREADY;
	if (t->state == VIGIL_TASK_QUEUED) {
		unqueue(t);
		cancel_timer(t); /* a retry waiting for its delay */
		finish(t, VIGIL_TASK_CANCELLED);
		return 0;
	}
	stop_task(t, STOP_CANCEL);
	return 0;
}

int task_foreach(const char *id, vigil_task_fn fn, void *arg)
{
	struct vigil_task_info info;
	if (id) {
		struct task *t = find(id);
		if (!t)
			return -ENOENT;
		fill_info(t, &info);
		return fn(&info, arg);
	}
	int r = 0;
	for (struct task *t = T.first; t && r == 0; t = t->next) {
		fill_info(t, &info);
		r = fn(&info, arg);
	}
	return r;
}

void task_shutdown(void)
{
	T.shutting_down = 1;
	for (struct task *t = T.first; t;) {
		struct task *n = t->next;
		if (t->state == VIGIL_TASK_QUEUED) {
			unqueue(t);
			cancel_timer(t);
			finish(t, VIGIL_TASK_CANCELLED);
		} else if (!is_final(t->state)) {
			stop_task(t, STOP_CANCEL);
		}
		t = n;
	}
}

void task_reload(const struct vigil_conf *conf)
{
	T.sec = &conf->security;
}

void task_kill_all(void)
{
	for (struct task *t = T.first; t; t = t->next)
		if (t->pid)
			signal_tree(t, SIGKILL);
}

size_t task_active(void)
{
	return T.active;
}

int task_init(const struct vigil_conf *conf, struct loader_set *plugins)
{
	memset(&T, 0, sizeof T);
	T.conf = conf;
	T.sec = &conf->security;
	T.plugins = plugins;
	T.npools = conf->npools;
	T.pools = util_xcalloc(T.npools ? T.npools : 1, sizeof *T.pools);
	for (size_t i = 0; i < T.npools; i++) {
		T.pools[i].conf = &conf->pools[i];
		T.pools[i].policy =
		    loader_find(plugins, VIGIL_KIND_POLICY, conf->pools[i].restart_policy);
	}
	/* Ids stay unique across restarts of the daemon: the prefix is its start time. */
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	uint64_t v = (uint64_t)loop_wall_ms() / 1000;
	char tmp[16];
	int n = 0;
	do {
		tmp[n++] = digits[v % 36];
		v /= 36;
	} while (v && n < 15);
	T.prefix[0] = 't';
	for (int k = 0; k < n; k++)
		T.prefix[k + 1] = tmp[n - 1 - k];
	T.prefix[n + 1] = '\0';
	snprintf(T.dir, sizeof T.dir, "%s/tasks", conf->state_dir);
	if (mkdir(T.dir, 0750) < 0 && errno != EEXIST)
		log_warn("cannot create %s: %s", T.dir, strerror(errno));
	return sup_add_reap_hook(on_reaped);
}

void task_fini(void)
{
	while (T.first) {
		struct task *t = T.first;
		unlink_all(t);
		free_task(t, 0);
	}
	free(T.pools);
	memset(&T, 0, sizeof T);
}

/* sup.c — supervision: instances of programs driven through the fsm, spawning and reaping. */
#include "sup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "fsm.h"
#include "log.h"
#include "logcap.h"
#include "loop.h"
#include "inst.h"
#include "launch.h"
#include "namemap.h"
#include "sup_int.h"
#include "probe.h"
#include "util.h"


struct sup_state sup_g;



/* --- pid table ------------------------------------------------------------------------- */

/* Deleted slots hold the tombstone so probe chains stay intact; the table is rebuilt when
 * live entries plus tombstones reach half of it. */
static struct proc tomb;
#define PROC_TOMB (&tomb)

static size_t pid_slot(pid_t pid, size_t cap)
{
	return ((size_t)pid * 2654435761u) & (cap - 1);
}

void sup_pid_put(struct proc *p)
{
	if (S.pidcap == 0 || (S.pidcount + S.pidtombs + 1) * 2 >= S.pidcap) {
		size_t cap = S.pidcap ? S.pidcap : 256;
		while ((S.pidcount + 1) * 4 >= cap)
			cap *= 2;
		struct proc **t = util_xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < S.pidcap; i++) {
			struct proc *q = S.pidtab[i];
			if (!q || q == PROC_TOMB)
				continue;
			size_t j = pid_slot(q->pid, cap);
			while (t[j])
				j = (j + 1) & (cap - 1);
			t[j] = q;
		}
		free(S.pidtab);
		S.pidtab = t;
		S.pidcap = cap;
		S.pidtombs = 0;
	}
	size_t j = pid_slot(p->pid, S.pidcap);
	while (S.pidtab[j] && S.pidtab[j] != PROC_TOMB)
		j = (j + 1) & (S.pidcap - 1);
	if (S.pidtab[j] == PROC_TOMB)
		S.pidtombs--;
	S.pidtab[j] = p;
	S.pidcount++;
}

struct proc *sup_pid_get(pid_t pid, size_t *slot)
{
	if (!S.pidcap)
		return NULL;
	size_t j = pid_slot(pid, S.pidcap);
	for (size_t n = 0; n < S.pidcap && S.pidtab[j]; n++) {
		struct proc *q = S.pidtab[j];
		if (q != PROC_TOMB && q->pid == pid) {
			if (slot)
				*slot = j;
			return q;
		}
		j = (j + 1) & (S.pidcap - 1);
	}
	return NULL;
}

void sup_pid_del(struct proc *p)
{
	size_t slot;
	if (sup_pid_get(p->pid, &slot) == p) {
		S.pidtab[slot] = PROC_TOMB;
		S.pidcount--;
		S.pidtombs++;
	}
}

/* --- helpers ----------------------------------------------------------------------------- */

int sup_is_down(const struct proc *p)
{
	return p->pid == 0 && p->pgid == 0 &&
	       (p->state == VIGIL_PROC_STOPPED || p->state == VIGIL_PROC_EXITED ||
	        p->state == VIGIL_PROC_FATAL || p->state == VIGIL_PROC_UNKNOWN);
}

void sup_cancel_timer(struct proc *p)
{
	if (p->timer) {
		loop_timer_cancel(p->timer);
		p->timer = NULL;
	}
}

static void on_timer(void *arg)
{
	struct proc *p = arg;
	p->timer = NULL;
	sup_step(p, FE_TIMEOUT);
}

void sup_arm_timer(struct proc *p, int64_t ms)
{
	sup_cancel_timer(p);
	if (ms > 0)
		p->timer = loop_timer_add((uint64_t)ms, 0, on_timer, p);
}

static int is_success(const struct proc *p)
{
	if (p->exit_signal || p->spawn_failed)
		return 0;
	for (size_t i = 0; i < p->prog->nsuccess_codes; i++)
		if (p->prog->success_codes[i] == p->exit_code)
			return 1;
	return 0;
}

void sup_store_put(struct proc *p)
{
	const struct vigil_store_ops *ops = S.store ? S.store->desc.ops : NULL;
	if (!ops || !p->pid)
		return;
	struct vigil_registry_entry e = {
		.size = sizeof e,
		.name = p->name,
		.program = p->prog->name,
		.pid = p->pid,
		.pgid = p->pgid,
		.start_ticks = p->pid_ticks ? p->pid_ticks : proc_start_ticks(p->pid),
		.boot_id = S.boot_id,
		.started_at_ms = p->started_at_ms,
		.state = p->state,
		.restarts = p->restarts,
		.pid_ino = p->pid_ino ? p->pid_ino : proc_pid_ino(p->pid),
	};
	int r = ops->registry_put(S.store->state, &e);
	if (r < 0)
		log_warn("%s: the registry could not record pid %d (%s): after a crash of vigild it "
		         "would not be adopted",
		         p->name, (int)p->pid, strerror(-r));
}

void sup_store_remove(struct proc *p)
{
	const struct vigil_store_ops *ops = S.store ? S.store->desc.ops : NULL;
	if (ops)
		ops->registry_remove(S.store->state, p->name);
}

/* Sends sig to the instance: its whole tree when kill_tree (a monitor may know better than
 * the process group, e.g. a cgroup), else the main process. */
/* Signals the main process; through its pidfd when it is adopted (not our child, so its pid
 * could be reused without a zombie holding it). */
void sup_kill_main(struct proc *p, int sig)
{
	if (!p->pid)
		return;
	if (p->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	else
		kill(p->pid, sig);
}

void sup_signal(struct proc *p, int sig)
{
	if (p->prog->kill_tree && p->pgid) {
		struct vigil_proc_info info;
		proc_fill_info(p, &info);
		launch_kill_tree(S.plugins, &info, p->pgid, sig);
		if (!p->pid || kill(-p->pgid, 0) == 0)
			return;
	}
	sup_kill_main(p, sig);
}

/* --- events -------------------------------------------------------------------------------- */

void sup_publish_state(struct proc *p, enum fsm_event ev)
{
	switch (p->state) {
	case VIGIL_PROC_STARTING:
		if (ev == FE_SPAWNED) {
			struct vigil_ev_process_running e = {
				.hdr = {.type = VIGIL_EV_PROCESS_RUNNING, .size = sizeof e, .subject = p->name},
				.program = p->prog->name,
				.pid = p->pid,
				.spawn_us = (int64_t)(loop_now_us() - p->spawn_us),
			};
			bus_publish(&e.hdr);
		} else {
			struct vigil_ev_process_starting e = {
				.hdr = {.type = VIGIL_EV_PROCESS_STARTING, .size = sizeof e, .subject = p->name},
				.program = p->prog->name,
				.command = p->prog->command,
				.attempt = p->restarts + 1,
			};
			bus_publish(&e.hdr);
		}
		break;
	case VIGIL_PROC_RUNNING: {
		struct vigil_ev_process_ready e = {
			.hdr = {.type = VIGIL_EV_PROCESS_READY, .size = sizeof e, .subject = p->name},
			.program = p->prog->name,
			.pid = p->pid,
			.how = probe_ready_how(p->prog),
			.ready_ms = (int64_t)((loop_now_us() - p->spawn_us) / 1000),
		};
		bus_publish(&e.hdr);
		break;
	}
	case VIGIL_PROC_STOPPING: {
		struct vigil_ev_process_stopping e = {
			.hdr = {.type = VIGIL_EV_PROCESS_STOPPING, .size = sizeof e, .subject = p->name},
			.program = p->prog->name,
			.pid = p->pid,
			.signal = p->prog->stop_signal,
			.reason = p->stop_reason ? p->stop_reason : "operator",
		};
		bus_publish(&e.hdr);
		break;
	}
	case VIGIL_PROC_STOPPED:
	case VIGIL_PROC_EXITED: {
		struct vigil_ev_process_exited e = {
			.hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof e, .subject = p->name},
			.program = p->prog->name,
			.pid = p->last_pid,
			.exit_code = p->exit_code,
			.signal = p->exit_signal,
			.status_known = !p->status_unknown,
			.expected = !p->spawn_failed && (p->state == VIGIL_PROC_STOPPED || is_success(p)),
			.runtime_ms = p->runtime_ms,
			.reason = p->last_reason,
			.error = p->spawn_error,
			.cpu_s = p->cpu_s,
			.peak_rss_bytes = p->peak_rss,
		};
		bus_publish(&e.hdr);
		break;
	}
	case VIGIL_PROC_BACKOFF: {
		struct vigil_ev_process_backoff e = {
			.hdr = {.type = VIGIL_EV_PROCESS_BACKOFF, .size = sizeof e, .subject = p->name},
			.program = p->prog->name,
			.delay_ms = p->backoff_ms,
			.restarts = p->restarts,
			.policy = p->prog->restart_policy,
		};
		bus_publish(&e.hdr);
		break;
	}
	case VIGIL_PROC_FATAL: {
		struct vigil_ev_process_fatal e = {
			.hdr = {.type = VIGIL_EV_PROCESS_FATAL, .size = sizeof e, .subject = p->name},
			.program = p->prog->name,
			.restarts = p->restarts,
			.reason = p->fatal_reason ? p->fatal_reason : "",
		};
		bus_publish(&e.hdr);
		break;
	}
	default:
		break;
	}
}

/* --- decisions ---------------------------------------------------------------------------- */

static enum fsm_event decide(struct proc *p)
{
	const struct conf_program *g = p->prog;
	int failed = !is_success(p);
	if (p->want_down || S.shutting_down || g->restart == RESTART_NEVER ||
	    (g->restart == RESTART_ON_FAILURE && !failed))
		return FE_NO_RESTART;
	if (!p->policy)
		return FE_RESTART_NOW;
	const struct vigil_policy_ops *ops = p->policy->desc.ops;
	struct vigil_exit_info info = {
		.size = sizeof info,
		.name = p->name,
		.pid = p->last_pid,
		.exit_code = p->exit_code,
		.signal = p->exit_signal,
		.spawn_failed = p->spawn_failed,
		.runtime_ms = (uint64_t)p->runtime_ms,
		.now_ms = loop_now_ms(),
	};
	struct vigil_decision d;
	memset(&d, 0, sizeof d);
	int r = ops->decide(p->policy->state, &p->policy_mem, &info, &d);
	if (r < 0) {
		log_error("%s: policy %s failed (%s): giving up", p->name, p->policy->name,
		          strerror(-r));
		char why[128];
		snprintf(why, sizeof why, "policy error: %s", strerror(-r));
		proc_set_text(&p->fatal_reason, why);
		return FE_GIVE_UP;
	}
	switch (d.verdict) {
	case VIGIL_RESTART_NOW:
		return FE_RESTART_NOW;
	case VIGIL_RESTART_AFTER:
		p->backoff_ms = (int64_t)d.delay_ms;
		return d.delay_ms ? FE_RESTART_LATER : FE_RESTART_NOW;
	default:
		d.reason[sizeof d.reason - 1] = '\0';
		proc_set_text(&p->fatal_reason, d.reason[0] ? d.reason : "the restart policy gave up");
		return FE_GIVE_UP;
	}
}

/* --- the state machine driver ------------------------------------------------------------ */

void sup_step(struct proc *p, enum fsm_event ev)
{
	struct fsm_step st;
	if (fsm_step(p->state, ev, &st) < 0) {
		log_debug("%s: event %s ignored in state %s", p->name, fsm_event_name(ev),
		          vigil_proc_state_name(p->state));
		return;
	}
	enum vigil_proc_state prev = p->state;
	if (prev == VIGIL_PROC_STARTING && ev == FE_TIMEOUT) {
		p->start_timed_out = 1;
		log_warn("%s: not ready within start_timeout (%lld ms): stopping it", p->name,
		         (long long)p->prog->start_timeout_ms);
	}
	if (st.next != prev || ev == FE_SPAWNED) {
		p->state = st.next;
		p->state_since_ms = loop_wall_ms();
	}
	if (st.actions & FA_CANCEL_TIMER) {
		sup_cancel_timer(p);
		if (p->ready_timer) {
			loop_timer_cancel(p->ready_timer);
			p->ready_timer = NULL;
		}
	}
	/* An automatic restart counts before process.starting says which attempt this is. */
	if ((st.actions & FA_SPAWN) && (ev == FE_RESTART_NOW || ev == FE_TIMEOUT))
		p->restarts++;
	if ((st.actions & FA_PUBLISH) && (st.next != prev || ev == FE_SPAWNED))
		sup_publish_state(p, ev);
	if (st.next != prev)
		probe_state_changed(p, prev);
	if (st.actions & FA_SPAWN) {
		sup_spawn(p);
		return;
	}
	if (st.actions & FA_SIGNAL_STOP) {
		if (p->pid) {
			sup_signal(p, p->prog->stop_signal);
			if (p->prog->stop_signal != SIGKILL && p->prog->stop_signal != SIGCONT)
				sup_signal(p, SIGCONT); /* a stopped process must wake to die */
		}
		sup_arm_timer(p, p->prog->stop_timeout_ms);
	}
	if (st.actions & FA_SIGNAL_KILL) {
		log_warn("%s: still alive %lld ms after SIG%s, sending SIGKILL", p->name,
		         (long long)p->prog->stop_timeout_ms, util_signal_name(p->prog->stop_signal));
		sup_signal(p, SIGKILL);
		if (p->pgid)
			kill(-p->pgid, SIGKILL);
	}
	if (st.actions & FA_ARM_BACKOFF)
		sup_arm_timer(p, p->backoff_ms);
	if (st.actions & FA_DECIDE) {
		sup_step(p, decide(p));
		return;
	}
	if (st.next == VIGIL_PROC_RUNNING && prev != VIGIL_PROC_RUNNING)
		sup_start_waiting();
	if (st.next == VIGIL_PROC_STOPPED && prev == VIGIL_PROC_STOPPING) {
		sup_store_remove(p);
		if (p->start_timed_out) {
			p->start_timed_out = 0;
			sup_step(p, decide(p));
			return;
		}
		if (p->restart_after_stop && !S.shutting_down) {
			p->restart_after_stop = 0;
			p->want_down = 0;
			sup_step(p, FE_START);
			return;
		}
	}
	if (p->removing && sup_is_down(p))
		sup_schedule_sweep();
	if (S.shutting_down && sup_is_down(p))
		sup_advance_shutdown();
}

/* --- reaping ------------------------------------------------------------------------------ */

void sup_finish_exit(struct proc *p)
{
	sup_detach_monitors(p);
	sup_store_remove(p);
	sup_step(p, FE_EXIT);
}

static void on_main_exit(struct proc *p, int status, const struct rusage *ru)
{
	sup_pid_del(p);
	if (p->spawn_fd >= 0)
		sup_spawn_outcome(p); /* the exec report is in the pipe by now */
	sup_close_spawn_pipe(p);
	if (p->ready_timer) {
		loop_timer_cancel(p->ready_timer);
		p->ready_timer = NULL;
	}
	if (p->runtime_timer) {
		loop_timer_cancel(p->runtime_timer);
		p->runtime_timer = NULL;
	}
	p->pid = 0;
	p->pid_ticks = p->pid_ino = 0;
	p->runtime_ms = (int64_t)(loop_now_ms() - p->started_mono);
	p->cpu_s = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	           (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
	p->peak_rss = (int64_t)ru->ru_maxrss * 1024;
	if (WIFSIGNALED(status)) {
		p->exit_signal = WTERMSIG(status);
		p->exit_code = -1;
		p->last_reason = "killed";
	} else {
		p->exit_signal = 0;
		p->exit_code = WEXITSTATUS(status);
		p->last_reason = "exited";
	}
	if (p->start_timed_out) {
		p->last_reason = "start-timeout";
		p->spawn_failed = 1;
	} else if (p->spawn_failed) {
		p->last_reason = "spawn-failed";
	} else if (p->state == VIGIL_PROC_STOPPING) {
		p->last_reason = "stopped";
	}

	if (p->prog->kill_tree && p->pgid) {
		if (p->state == VIGIL_PROC_STOPPING && kill(-p->pgid, 0) == 0) {
			S.maybe_lingering = 1;
			return; /* wait for the rest of the group; the stop timer still runs */
		}
		/* The main process died on its own: what it left behind (in its group, or in its
		 * cgroup when a monitor knows one) must not outlive it, or the next start would run
		 * beside it. */
		if (p->state != VIGIL_PROC_STOPPING)
			sup_signal(p, SIGKILL);
	}
	p->pgid = 0;
	sup_finish_exit(p);
}

/* A storm of exits must not starve everything else on the loop: each reap works for at most
 * a slice, then lets the loop poll its descriptors (the control socket above all) and goes on
 * from a zero-delay timer. SIGCHLD does not queue, so the rest must be fetched that way. */
static void reap_rest(void *arg)
{
	(void)arg;
	S.reap_timer = NULL;
	sup_reap();
}

void sup_reap(void)
{
	uint64_t t0 = loop_now_us();
	for (;;) {
		if (loop_now_us() - t0 >= SUP_SLICE_US) {
			if (!S.reap_timer)
				S.reap_timer = loop_timer_add(0, 0, reap_rest, NULL);
			return;
		}
		int status;
		struct rusage ru;
		pid_t pid = wait4(-1, &status, WNOHANG, &ru);
		if (pid <= 0)
			break;
		struct proc *p = sup_pid_get(pid, NULL);
		if (p)
			on_main_exit(p, status, &ru);
		else
			for (int h = 0; h < S.nreap_hooks && S.reap_hooks[h](pid, status, &ru) == 0; h++)
				;
	}
	if (!S.maybe_lingering)
		return;
	/* Instances whose main process is gone but whose group lived on. */
	S.maybe_lingering = 0;
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (p->pid || !p->pgid)
			continue;
		if (kill(-p->pgid, 0) < 0 && errno == ESRCH) {
			p->pgid = 0;
			sup_finish_exit(p);
		} else {
			S.maybe_lingering = 1;
		}
	}
}

/* --- queries and control ---------------------------------------------------------------- */

/* What a target names, resolved once per request rather than once per instance: the store
 * and the frontends look instances up by name for every event, so this is on hot paths. */
struct target {
	const char *name;             /* NULL = all */
	struct proc *one;             /* an instance name: exactly that instance */
	const struct conf_group *group;
};

static void target_resolve(struct target *t, const char *name)
{
	memset(t, 0, sizeof *t);
	if (!name || strcmp(name, "all") == 0)
		return;
	t->name = name;
	/* Program names have no dot and no group may share one, so an instance name (web.0, or
	 * web for a program of one instance) cannot name anything else. */
	t->one = sup_find(name);
	if (t->one && t->one->removing)
		t->one = NULL; /* a reload may have made web into web.0, web.1...: look at all */
	if (!t->one)
		t->group = conf_find_group(S.conf, name);
}

static int target_has(const struct target *t, const struct proc *p)
{
	if (!t->name)
		return 1;
	if (t->one)
		return p == t->one;
	if (strcmp(p->prog->name, t->name) == 0)
		return 1;
	if (t->group)
		for (char **m = t->group->programs; *m; m++)
			if (strcmp(*m, p->prog->name) == 0)
				return 1;
	return 0;
}

static int visit(struct proc *p, vigil_proc_fn fn, void *arg)
{
	struct vigil_proc_info info;
	proc_fill_info(p, &info);
	return fn(&info, arg);
}

int sup_foreach(const char *target, vigil_proc_fn fn, void *arg)
{
	struct target t;
	int found = 0, r = 0;
	target_resolve(&t, target);
	if (t.one)
		return visit(t.one, fn, arg);
	for (size_t i = 0; i < S.nprocs && r == 0; i++) {
		if (!target_has(&t, S.procs[i]))
			continue;
		found = 1;
		r = visit(S.procs[i], fn, arg);
	}
	if (!found && t.name)
		return -ENOENT;
	return r;
}

int sup_control(const char *target, enum vigil_proc_action action, int signo)
{
	int n = 0, found = 0;
	struct target t;
	if (action == VIGIL_ACT_SIGNAL && (signo <= 0 || signo >= NSIG))
		return -EINVAL;
	if (S.shutting_down && action != VIGIL_ACT_STOP && action != VIGIL_ACT_SIGNAL)
		return -ESHUTDOWN;
	target_resolve(&t, target);
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (!target_has(&t, p))
			continue;
		found = 1;
		n++;
		switch (action) {
		case VIGIL_ACT_START:
			proc_policy_reset(p);
			if (p->state != VIGIL_PROC_RUNNING && p->state != VIGIL_PROC_STARTING)
				sup_request_start(p);
			break;
		case VIGIL_ACT_STOP:
			sup_request_stop(p, "operator");
			break;
		case VIGIL_ACT_RESTART:
			proc_policy_reset(p);
			if (p->pid) {
				p->restart_after_stop = 1;
				sup_request_stop(p, "restart");
			} else {
				sup_request_start(p);
			}
			break;
		case VIGIL_ACT_SIGNAL:
			sup_kill_main(p, signo);
			break;
		default:
			return -EINVAL;
		}
	}
	if (!found)
		return -ENOENT;
	return n;
}

int sup_add_reap_hook(sup_reap_fn fn)
{
	if (S.nreap_hooks >= (int)(sizeof S.reap_hooks / sizeof S.reap_hooks[0]))
		return -ENOSPC;
	S.reap_hooks[S.nreap_hooks++] = fn;
	return 0;
}

size_t sup_count(void)
{
	return S.nprocs;
}

/* --- metrics cache ------------------------------------------------------------------------- */

struct proc *sup_find(const char *name)
{
	return name ? namemap_get(&S.byname, name) : NULL;
}

static void on_metrics(const struct vigil_event *ev, void *arg)
{
	(void)arg;
	struct proc *p = sup_find(ev->subject);
	if (!p)
		return;
	if (ev->type == VIGIL_EV_METRICS_SAMPLE) {
		const struct vigil_ev_metrics_sample *m = (const void *)ev;
		p->cpu_pct = m->cpu_pct;
		p->rss_bytes = m->rss_bytes;
	} else if (ev->type == VIGIL_EV_HEALTH_CHANGED) {
		p->health = ((const struct vigil_ev_health_changed *)ev)->score;
	}
}

/* --- setup ---------------------------------------------------------------------------------- */

int sup_init(const struct vigil_conf *conf, struct loader_set *plugins)
{
	memset(&S, 0, sizeof S);
	S.conf = conf;
	S.plugins = plugins;
	S.euid = geteuid();
	for (struct vigil_instance *i = plugins->head; i; i = i->next)
		if (i->desc.kind == VIGIL_KIND_STORE) {
			S.store = i;
			break;
		}
	proc_read_boot_id(S.boot_id, sizeof S.boot_id);

	char logs[4096];
	snprintf(logs, sizeof logs, "%s/logs", conf->state_dir);
	if (mkdir(logs, 0750) < 0 && errno != EEXIST)
		log_warn("cannot create %s: %s", logs, strerror(errno));
	logcap_fifo_dir(conf->state_dir, S.fifo_dir, sizeof S.fifo_dir);

	size_t total = 0;
	for (size_t i = 0; i < conf->nprograms; i++)
		total += (size_t)conf->programs[i].numprocs;
	S.procs = util_xcalloc(total ? total : 1, sizeof *S.procs);
	for (size_t i = 0; i < conf->nprograms; i++) {
		const struct conf_program *g = &conf->programs[i];
		struct vigil_instance *pol = loader_find(plugins, VIGIL_KIND_POLICY, g->restart_policy);
		if (!pol)
			log_warn("%s: restart policy '%s' is not loaded: restarts are immediate",
			         g->name, g->restart_policy);
		for (int k = 0; k < g->numprocs; k++) {
			struct proc *p = proc_new(g, g->numprocs > 1 ? k : -1);
			p->policy = pol;
			p->index_all = S.nprocs;
			S.procs[S.nprocs++] = p;
			namemap_put(&S.byname, p->name, p);
		}
	}

	struct vigil_filter f;
	memset(&f, 0, sizeof f);
	vigil_filter_add(&f, VIGIL_EV_METRICS_SAMPLE);
	vigil_filter_add(&f, VIGIL_EV_HEALTH_CHANGED);
	S.metrics_sub = bus_subscribe(NULL, &f, on_metrics, NULL);
	probe_init(conf);
	return 0;
}

void sup_fini(void)
{
	sup_start_all_cancel();
	if (S.metrics_sub)
		bus_unsubscribe(S.metrics_sub);
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		sup_cancel_timer(p);
		if (p->ready_timer)
			loop_timer_cancel(p->ready_timer);
		if (p->runtime_timer)
			loop_timer_cancel(p->runtime_timer);
		sup_close_spawn_pipe(p);
		proc_free(p);
	}
	if (S.shutdown_timer)
		loop_timer_cancel(S.shutdown_timer);
	if (S.sweep_timer)
		loop_timer_cancel(S.sweep_timer);
	if (S.reap_timer)
		loop_timer_cancel(S.reap_timer);
	free(S.procs);
	free(S.pidtab);
	namemap_clear(&S.byname);
	sup_reload_fini();
	probe_fini();
	memset(&S, 0, sizeof S);
}

/* sup_order.c — when instances start and stop: dependencies, priorities, shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "loop.h"
#include "probe.h"
#include "sup_int.h"
#include "task.h"
#include "util.h"

/* --- ordering: dependencies, priorities, shutdown ------------------------------------------ */

static int program_ready(const char *program)
{
	int any = 0;
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *q = S.procs[i];
		if (strcmp(q->prog->name, program) != 0)
			continue;
		any = 1;
		if (q->state != VIGIL_PROC_RUNNING && q->state != VIGIL_PROC_ADOPTED)
			return 0;
	}
	return any;
}

static int deps_ready(const struct proc *p)
{
	for (char **d = p->prog->depends_on; d && *d; d++)
		if (!program_ready(*d))
			return 0;
	return 1;
}

void sup_request_start(struct proc *p)
{
	p->want_down = 0;
	if (!deps_ready(p)) {
		if (!p->waiting)
			log_info("%s: waiting for its dependencies to be ready", p->name);
		p->waiting = 1;
		S.maybe_waiting = 1;
		return;
	}
	p->waiting = 0;
	sup_step(p, FE_START);
}

/* Called whenever an instance becomes ready: the scan is skipped when nothing waits, so that
 * starting N programs does not cost N scans of N. */
void sup_start_waiting(void)
{
	if (S.shutting_down || !S.maybe_waiting)
		return;
	S.maybe_waiting = 0;
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (p->waiting && deps_ready(p)) {
			p->waiting = 0;
			sup_step(p, FE_START);
		} else if (p->waiting) {
			S.maybe_waiting = 1;
		}
	}
}

static int cmp_priority(const void *a, const void *b)
{
	const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;
	if (x->prog->priority != y->prog->priority)
		return y->prog->priority - x->prog->priority;
	return x->index_all < y->index_all ? -1 : x->index_all > y->index_all;
}

/* Starting everything is done in slices of SUP_SLICE_US, continued from a zero-delay timer:
 * with thousands of programs the loop still answers vigilctl between slices, and the store
 * commits the registry as it goes. */
static struct {
	struct proc **order; /* autostart order; NULL when no start of everything is under way */
	size_t n, next;
	struct loop_timer *timer;
	void (*done)(void);
} A;

static void start_slice(void *arg)
{
	(void)arg;
	A.timer = NULL;
	uint64_t t0 = loop_now_us();
	sup_batch_begin();
	while (A.next < A.n && !S.shutting_down) {
		if (sup_batch_full()) {
			sup_batch_run();
			sup_batch_begin();
		}
		if (arg && loop_now_us() - t0 >= SUP_SLICE_US) {
			sup_batch_run();
			A.timer = loop_timer_add(0, 0, start_slice, &A);
			return;
		}
		struct proc *p = A.order[A.next++];
		probe_resume(p); /* taken over running: its checks start again */
		/* Only what nobody has acted on since start-up: an instance an operator stopped,
		 * started or that has run already is left as it is. */
		if (p->prog->autostart && !p->recovered && !p->want_down && !p->waiting &&
		    p->state == VIGIL_PROC_STOPPED && !p->removing)
			sup_request_start(p);
	}
	sup_batch_run();
	void (*done)(void) = S.shutting_down ? NULL : A.done;
	free(A.order);
	memset(&A, 0, sizeof A);
	if (done)
		done();
}

void sup_start_all(void (*done)(void))
{
	sup_start_all_finish();
	A.order = util_xcalloc(S.nprocs ? S.nprocs : 1, sizeof *A.order);
	memcpy(A.order, S.procs, S.nprocs * sizeof *A.order);
	A.n = S.nprocs;
	A.done = done;
	qsort(A.order, A.n, sizeof *A.order, cmp_priority);
	start_slice(&A);
}

void sup_start_all_finish(void)
{
	if (!A.order)
		return;
	if (A.timer)
		loop_timer_cancel(A.timer);
	start_slice(NULL); /* the rest at once: NULL = no slicing */
}

void (*sup_start_all_cancel(void))(void)
{
	void (*done)(void) = A.done;
	if (A.timer)
		loop_timer_cancel(A.timer);
	free(A.order);
	memset(&A, 0, sizeof A);
	return done;
}

int sup_start_all_pending(void)
{
	return A.order != NULL;
}

void sup_request_stop(struct proc *p, const char *reason)
{
	p->waiting = 0;
	p->want_down = 1;
	p->stop_reason = reason;
	sup_step(p, FE_STOP);
}

/* May p stop now? Not while something that depends on it, or something of lower priority,
 * is still up: those go first. */
static int may_stop_now(const struct proc *p)
{
	for (size_t i = 0; i < S.nprocs; i++) {
		const struct proc *q = S.procs[i];
		if (q == p || sup_is_down(q))
			continue;
		if (q->prog->priority < p->prog->priority)
			return 0;
		for (char **d = q->prog->depends_on; d && *d; d++)
			if (strcmp(*d, p->prog->name) == 0)
				return 0;
	}
	return 1;
}

void sup_advance_shutdown(void)
{
	size_t up = 0;
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (sup_is_down(p))
			continue;
		up++;
		if (p->state == VIGIL_PROC_STOPPING)
			continue;
		if (p->state == VIGIL_PROC_BACKOFF || may_stop_now(p))
			sup_request_stop(p, "shutdown");
	}
	if (up == 0 && task_active() == 0) {
		if (S.shutdown_timer) {
			loop_timer_cancel(S.shutdown_timer);
			S.shutdown_timer = NULL;
		}
		log_info("every program is down");
		loop_quit(0);
	}
}

static void on_shutdown_late(void *arg)
{
	(void)arg;
	S.shutdown_timer = NULL;
	log_warn("shutdown did not finish within shutdown_timeout: exiting");
	loop_quit(0);
}

static void on_shutdown_timeout(void *arg)
{
	(void)arg;
	log_warn("shutdown_timeout reached: killing what is left");
	task_kill_all();
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (!sup_is_down(p)) {
			sup_signal(p, SIGKILL);
			if (p->pgid)
				kill(-p->pgid, SIGKILL);
		}
	}
	S.shutdown_timer = loop_timer_add(5000, 0, on_shutdown_late, NULL);
}

void sup_shutdown(const char *reason)
{
	if (S.shutting_down)
		return;
	S.shutting_down = 1;
	log_info("shutting down (%s)", reason);
	struct vigil_ev_supervisor_stopping e = {
		.hdr = {.type = VIGIL_EV_SUPERVISOR_STOPPING, .size = sizeof e},
		.reason = reason,
		.timeout_ms = S.conf->shutdown_timeout_ms,
	};
	bus_publish(&e.hdr);
	for (size_t i = 0; i < S.nprocs; i++) {
		S.procs[i]->waiting = 0;
		S.procs[i]->want_down = 1;
	}
	task_shutdown();
	S.shutdown_timer = loop_timer_add((uint64_t)S.conf->shutdown_timeout_ms, 0,
	                                  on_shutdown_timeout, NULL);
	sup_advance_shutdown();
}

void sup_task_progress(void)
{
	if (S.shutting_down)
		sup_advance_shutdown();
}

int sup_shutting_down(void)
{
	return S.shutting_down;
}


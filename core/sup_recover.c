/* sup_recover.c — taking over processes after a crash (registry + pidfd) or a reexec (state). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "loop.h"
#include "sup_int.h"
#include "util.h"

#define STATE_MAGIC "vigil-reexec 1"

static const char *orphans_name(int mode)
{
	return mode == ORPHANS_KILL ? "kill" : mode == ORPHANS_IGNORE ? "ignore" : "adopt";
}

/* Reopens the captured streams so what the program wrote while no vigild read is drained. */
static void reopen_capture(struct proc *p)
{
	if (p->prog->stdout_mode == OUT_LOG)
		sup_open_capture(p, &p->out, "out");
	if (p->prog->stderr_mode == OUT_LOG)
		sup_open_capture(p, &p->err, "err");
}

static void on_adopted_exit(int fd, uint32_t events, void *arg)
{
	struct proc *p = arg;
	(void)fd;
	(void)events;
	if (p->pidfd_watch)
		loop_unwatch(p->pidfd_watch);
	p->pidfd_watch = NULL;
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
	sup_pid_del(p);
	p->pid = 0;
	p->pid_ticks = p->pid_ino = 0;
	/* Not our child: only its parent could learn the status. */
	p->status_unknown = 1;
	p->exit_code = -1;
	p->exit_signal = 0;
	p->runtime_ms = (int64_t)(loop_now_ms() - p->started_mono);
	p->cpu_s = -1;
	p->peak_rss = -1;
	p->last_reason = p->state == VIGIL_PROC_STOPPING ? "stopped" : "exited";
	log_info("%s: adopted process exited (its exit status cannot be known: it is not our child)",
	         p->name);
	/* Its group's other members were reparented to init, which reaps them whenever it
	 * does: waiting for the group to empty could take seconds, so finish it now. */
	if (p->prog->kill_tree && p->pgid)
		kill(-p->pgid, SIGKILL);
	p->pgid = 0;
	sup_finish_exit(p);
}

static int watch_adopted(struct proc *p, int pidfd)
{
	p->pidfd = pidfd;
	p->pidfd_watch = loop_watch(pidfd, EPOLLIN, on_adopted_exit, p);
	if (!p->pidfd_watch) {
		close(pidfd);
		p->pidfd = -1;
		return -errno;
	}
	return 0;
}

/* Publishes the end of a run that vigild did not see: the process is gone (or was not ours). */
static void publish_lost(const char *name, const char *program, int32_t pid, const char *reason)
{
	struct vigil_ev_process_exited e = {
		.hdr = {.type = VIGIL_EV_PROCESS_EXITED, .size = sizeof e, .subject = name},
		.program = program,
		.pid = pid,
		.exit_code = -1,
		.status_known = 0,
		.reason = reason,
		.cpu_s = -1,
		.peak_rss_bytes = -1,
	};
	bus_publish(&e.hdr);
}

struct recover {
	int orphans;
	unsigned adopted, killed, lost, ignored;
	/* Entries are collected first: registry_load runs inside the store, which must not be
	 * called back (registry_put/remove) while it iterates. */
	struct vigil_registry_entry *v;
	char **names, **programs, **boots;
	size_t n, cap;
};

static int collect(const struct vigil_registry_entry *e, void *arg)
{
	struct recover *r = arg;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = realloc(r->v, r->cap * sizeof *r->v);
		r->names = realloc(r->names, r->cap * sizeof *r->names);
		r->programs = realloc(r->programs, r->cap * sizeof *r->programs);
		r->boots = realloc(r->boots, r->cap * sizeof *r->boots);
		if (!r->v || !r->names || !r->programs || !r->boots)
			abort();
	}
	r->v[r->n] = *e;
	r->names[r->n] = util_xstrdup(e->name ? e->name : "");
	r->programs[r->n] = util_xstrdup(e->program ? e->program : "");
	r->boots[r->n] = util_xstrdup(e->boot_id ? e->boot_id : "");
	r->n++;
	return 0;
}

/* Is the recorded process still the one we started? Same boot, the pid alive, and the same
 * start time: a reused pid has a later start time. Returns a pidfd, or -1. */
static int verify(const struct vigil_registry_entry *e, const char *boot)
{
	if (e->pid <= 0 || strcmp(boot, S.boot_id) != 0)
		return -1;
	int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
	if (fd < 0)
		return -1;
	/* Read the start time after opening the pidfd: if it matches now, the pidfd refers to
	 * our process and cannot be recycled under us. */
	char state;
	uint64_t ticks = proc_stat_start(e->pid, &state);
	/* A zombie is as good as gone: it only waits for its new parent to reap it. */
	if (ticks == 0 || ticks != e->start_ticks || state == 'Z' || state == 'X') {
		close(fd);
		return -1;
	}
	/* The start time counts in clock ticks (10 ms): a pid reused within one tick would pass.
	 * Where pidfds have inodes of their own, the inode tells processes apart for sure. */
	uint64_t ino = proc_pidfd_ino(fd);
	if (e->size >= offsetof(struct vigil_registry_entry, pid_ino) + sizeof e->pid_ino &&
	    e->pid_ino && ino && ino != e->pid_ino) {
		close(fd);
		return -1;
	}
	return fd;
}

static void recover_one(struct recover *r, size_t i)
{
	const struct vigil_registry_entry *e = &r->v[i];
	const char *name = r->names[i];
	struct proc *p = sup_find(name);
	int fd = verify(e, r->boots[i]);
	const struct vigil_store_ops *ops = S.store ? S.store->desc.ops : NULL;

	if (fd < 0) {
		r->lost++;
		log_info("%s: pid %d recorded as running is gone (or its pid was reused): lost", name,
		         (int)e->pid);
		publish_lost(name, r->programs[i], e->pid, "lost");
		if (ops)
			ops->registry_remove(S.store->state, name);
		return;
	}
	if (!p || r->orphans == ORPHANS_IGNORE) {
		if (!p && r->orphans != ORPHANS_IGNORE) {
			/* Its program is no longer configured: nothing would supervise it. */
			r->killed++;
			log_warn("%s: pid %d is alive but no longer configured: killing it", name,
			         (int)e->pid);
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			if (e->pgid == e->pid)
				kill(-e->pgid, SIGKILL);
			publish_lost(name, r->programs[i], e->pid, "removed");
		} else {
			r->ignored++;
			log_warn("%s: pid %d is alive; orphans = ignore: leaving it unsupervised", name,
			         (int)e->pid);
			publish_lost(name, r->programs[i], e->pid, "ignored");
		}
		close(fd);
		if (ops)
			ops->registry_remove(S.store->state, name);
		return;
	}

	p->pid = e->pid;
	p->pid_ticks = p->pid_ino = 0;
	p->last_pid = e->pid;
	p->pgid = e->pgid;
	p->started_at_ms = e->started_at_ms;
	int64_t age = loop_wall_ms() - e->started_at_ms;
	p->started_mono = loop_now_ms() - (uint64_t)(age > 0 ? age : 0);
	p->restarts = e->restarts;
	p->state = VIGIL_PROC_ADOPTED;
	p->state_since_ms = loop_wall_ms();
	p->recovered = 1;
	sup_pid_put(p);
	if (watch_adopted(p, fd) < 0)
		log_error("%s: cannot watch adopted pid %d: %s", p->name, (int)p->pid,
		          strerror(errno));
	reopen_capture(p);
	struct vigil_ev_process_adopted ev = {
		.hdr = {.type = VIGIL_EV_PROCESS_ADOPTED, .size = sizeof ev, .subject = p->name},
		.program = p->prog->name,
		.pid = p->pid,
		.started_at_ms = p->started_at_ms,
	};
	bus_publish(&ev.hdr);
	if (r->orphans == ORPHANS_KILL) {
		r->killed++;
		log_info("%s: pid %d found alive; orphans = kill: killing it and starting afresh",
		         p->name, (int)p->pid);
		p->restart_after_stop = 1;
		sup_request_stop(p, "orphans = kill");
		sup_signal(p, SIGKILL);
		return;
	}
	r->adopted++;
	log_info("%s: adopted pid %d (running since %" PRId64 " ms ago)", p->name, (int)p->pid, age);
	sup_store_put(p);
}

void sup_recover(int orphans)
{
	const struct vigil_store_ops *ops = S.store ? S.store->desc.ops : NULL;
	if (!ops)
		return;
	struct recover r = {.orphans = orphans};
	int rc = ops->registry_load(S.store->state, collect, &r);
	if (rc < 0)
		log_error("cannot read the registry from store %s: %s", S.store->name, strerror(-rc));
	for (size_t i = 0; i < r.n; i++) {
		recover_one(&r, i);
		free(r.names[i]);
		free(r.programs[i]);
		free(r.boots[i]);
	}
	if (r.n)
		log_info("registry: %zu entries: %u adopted, %u killed (orphans = %s), %u lost, %u "
		         "ignored",
		         r.n, r.adopted, r.killed, orphans_name(orphans), r.lost, r.ignored);
	free(r.v);
	free(r.names);
	free(r.programs);
	free(r.boots);
}

/* --- reexec: the state handed to the next image -------------------------------------------- */

int sup_save_state(const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", STATE_MAGIC);
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < S.nprocs; i++) {
		const struct proc *p = S.procs[i];
		fprintf(f,
		        "%s\t%d\t%d\t%d\t%" PRId64 "\t%" PRIu64 "\t%u\t%d\t%d\t%d\t%d\t%d\t%" PRIu64
		        "\n",
		        p->name, (int)p->state, (int)p->pid, (int)p->pgid, p->started_at_ms,
		        (uint64_t)(now - p->started_mono), p->restarts, p->exit_code, p->exit_signal,
		        p->want_down, p->pidfd >= 0, p->restart_after_stop,
		        p->pid ? proc_start_ticks(p->pid) : 0);
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		int e = errno;
		fclose(f);
		return -e;
	}
	fclose(f);
	return 0;
}

int sup_restore_state(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[1024];
	if (!fgets(line, sizeof line, f) || strncmp(line, STATE_MAGIC, strlen(STATE_MAGIC)) != 0) {
		fclose(f);
		return -EINVAL;
	}
	unsigned restored = 0;
	while (fgets(line, sizeof line, f)) {
		char name[256];
		int state, pid, pgid, code, sig, down, adopted, restart = 0;
		int64_t started;
		uint64_t age, ticks = 0;
		unsigned restarts;
		int nf = sscanf(line,
		                "%255[^\t]\t%d\t%d\t%d\t%" SCNd64 "\t%" SCNu64
		                "\t%u\t%d\t%d\t%d\t%d\t%d\t%" SCNu64,
		                name, &state, &pid, &pgid, &started, &age, &restarts, &code, &sig,
		                &down, &adopted, &restart, &ticks);
		if (nf != 11 && nf != 13)
			continue;
		struct proc *p = sup_find(name);
		if (!p) {
			/* Removed from the config while we were away: it is still our child. */
			if (pid > 0) {
				log_warn("%s: pid %d is no longer configured: killing it", name, pid);
				kill(pgid > 0 ? -pgid : pid, SIGKILL);
			}
			continue;
		}
		p->recovered = 1;
		p->restarts = restarts;
		p->exit_code = code;
		p->exit_signal = sig;
		p->want_down = down;
		p->started_at_ms = started;
		p->started_mono = loop_now_ms() - age;
		p->state_since_ms = loop_wall_ms();
		p->restart_after_stop = restart;
		if (pid <= 0 && state == VIGIL_PROC_STOPPING) {
			/* The main process is gone, its group was still dying: keep waiting for it,
			 * with a fresh stop_timeout. */
			p->state = VIGIL_PROC_STOPPING;
			if (pgid > 0 && kill(-pgid, 0) == 0) {
				p->pgid = pgid;
				S.maybe_lingering = 1;
				sup_arm_timer(p, p->prog->stop_timeout_ms);
			} else {
				sup_step(p, FE_EXIT);
			}
			continue;
		}
		if (pid <= 0) {
			/* Between runs: stopped, exited or fatal stay so; a pending restart or start
			 * happens now. */
			p->state = (enum vigil_proc_state)state;
			if (p->state == VIGIL_PROC_BACKOFF || p->state == VIGIL_PROC_STARTING) {
				p->state = VIGIL_PROC_EXITED;
				if (!down)
					sup_step(p, FE_RESTART_NOW);
			}
			continue;
		}
		p->pid = pid;
		p->pid_ticks = p->pid_ino = 0;
		p->last_pid = pid;
		p->pgid = pgid;
		sup_pid_put(p);
		reopen_capture(p);
		restored++;
		if (adopted) {
			/* Adopted before the reexec: still not our child, and its pid may have been
			 * reused meanwhile: check it is still the same process. */
			struct vigil_registry_entry e = {.size = sizeof e, .pid = pid, .start_ticks = ticks};
			int fd = ticks ? verify(&e, S.boot_id) : -1;
			p->state = VIGIL_PROC_ADOPTED;
			if (fd < 0 || watch_adopted(p, fd) < 0) {
				p->pgid = 0; /* gone: its group number may be someone else's now */
				on_adopted_exit(-1, 0, p);
			}
			continue;
		}
		/* Our own child, so its exit will still come through wait4 with its status. */
		if (state == VIGIL_PROC_STOPPING) {
			p->state = VIGIL_PROC_STOPPING;
			sup_arm_timer(p, p->prog->stop_timeout_ms);
		} else {
			p->state = VIGIL_PROC_RUNNING;
		}
	}
	fclose(f);
	log_info("reexec: %u running instances taken over", restored);
	return 0;
}

/* limits.c — monitor_cgroup: writing the memory, pids and cpu limits; reporting OOM kills. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup.h"

/* ---- OOM kills ---- */

/* Reads the kernel's oom_kill counter of the unit's memory cgroup and reports what is new. */
void cg_oom_check(struct cg_unit *u, int64_t fallback_delta)
{
	struct cg *cg = u->cg;
	int m = cg->plan.ctrl[CG_MEMORY];
	int v2 = m >= 0 && cg->plan.h[m].v2;
	char path[4096];
	int64_t count = 0, peak = -1;
	int64_t delta;

	if (m < 0 ||
	    cg_unit_path(cg, (size_t)m, u->name, v2 ? "memory.events" : "memory.oom_control", path,
	                 sizeof path) < 0)
		return;
	if (cg_read_key(path, "oom_kill", &count) == 0) {
		delta = count - u->oom_seen;
		u->oom_seen = count;
	} else {
		delta = fallback_delta; /* an old v1 kernel: one eventfd wake per OOM */
	}
	if (delta <= 0)
		return;
	u->ooms += (uint32_t)delta;
	if (cg_unit_path(cg, (size_t)m, u->name, v2 ? "memory.peak" : "memory.max_usage_in_bytes",
	                 path, sizeof path) == 0) {
		char buf[64];

		if (cg_read(path, buf, sizeof buf) > 0)
			peak = strtoll(buf, NULL, 10);
	}
	cg->host->log(cg->self, VIGIL_LOG_WARN,
	              "%s: the kernel OOM killer killed %" PRId64 " process(es) at limit_memory = "
	              "%" PRId64 " bytes (%" PRIu32 " so far)",
	              u->name, delta, u->limit_memory, u->ooms);
	struct vigil_ev_limit_violated ev = {
	    .hdr = {.type = VIGIL_EV_LIMIT_VIOLATED, .size = sizeof ev, .subject = u->name},
	    .limit = "memory",
	    .value = (double)(peak > 0 ? peak : u->limit_memory),
	    .max = (double)u->limit_memory,
	    .action = u->on_limit,
	    .count = u->ooms,
	};
	cg->host->publish(cg->self, &ev.hdr);
	/* The kernel killed a process; the restart mode brings the program back. A program that
	 * must stay down after a violation is stopped here. */
	if (strcmp(u->on_limit, "stop") == 0)
		cg->host->proc_control(u->name, VIGIL_ACT_STOP, 0);
}

static void cg_on_inotify(int fd, uint32_t events, void *arg)
{
	struct cg *cg = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)events;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ie = (const struct inotify_event *)(void *)p;

			for (struct cg_unit *u = cg->units; u; u = u->next)
				if (u->oom_wd == ie->wd && !(ie->mask & IN_IGNORED))
					cg_oom_check(u, 0);
			p += sizeof *ie + ie->len;
		}
	}
}

static void cg_on_eventfd(int fd, uint32_t events, void *arg)
{
	struct cg_unit *u = arg;
	uint64_t v = 0;

	(void)events;
	if (read(fd, &v, sizeof v) == (ssize_t)sizeof v)
		cg_oom_check(u, (int64_t)v);
}

void cg_oom_unwatch(struct cg_unit *u)
{
	if (u->oom_watch)
		u->cg->host->unwatch(u->oom_watch);
	u->oom_watch = NULL;
	if (u->oom_wd >= 0 && u->cg->ino_fd >= 0)
		inotify_rm_watch(u->cg->ino_fd, u->oom_wd);
	if (u->oom_efd >= 0)
		close(u->oom_efd);
	if (u->oom_ctl >= 0)
		close(u->oom_ctl);
	u->oom_wd = u->oom_efd = u->oom_ctl = -1;
}

/* Starts watching the unit's OOM counter (once per cgroup dir). Failure only costs reports. */
void cg_oom_watch(struct cg_unit *u)
{
	struct cg *cg = u->cg;
	int m = cg->plan.ctrl[CG_MEMORY];
	char path[4096];
	int r = 0;

	if (u->oom_wd >= 0 || u->oom_efd >= 0)
		return;
	if (cg->plan.h[m].v2) {
		if (cg->ino_fd < 0) {
			cg->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
			if (cg->ino_fd >= 0)
				cg->ino_watch = cg->host->watch_fd(cg->self, cg->ino_fd,
				                                   VIGIL_FD_IN, cg_on_inotify, cg);
			if (cg->ino_fd < 0 || !cg->ino_watch) {
				r = -errno;
				goto fail;
			}
		}
		if ((r = cg_unit_path(cg, (size_t)m, u->name, "memory.events", path, sizeof path)) <
		    0)
			goto fail;
		u->oom_wd = inotify_add_watch(cg->ino_fd, path, IN_MODIFY);
		if (u->oom_wd < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		char ctl[4096];

		if ((r = cg_unit_path(cg, (size_t)m, u->name, "memory.oom_control", path,
		                      sizeof path)) < 0 ||
		    (r = cg_unit_path(cg, (size_t)m, u->name, "cgroup.event_control", ctl,
		                      sizeof ctl)) < 0)
			goto fail;
		u->oom_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		u->oom_ctl = open(path, O_RDONLY | O_CLOEXEC);
		if (u->oom_efd < 0 || u->oom_ctl < 0) {
			r = -errno;
			goto fail;
		}
		if ((r = cg_writef(ctl, "%d %d", u->oom_efd, u->oom_ctl)) < 0)
			goto fail;
		u->oom_watch =
		    cg->host->watch_fd(cg->self, u->oom_efd, VIGIL_FD_IN, cg_on_eventfd, u);
		if (!u->oom_watch) {
			r = -errno;
			goto fail;
		}
	}
	if (cg_read_key(path, "oom_kill", &u->oom_seen) < 0)
		u->oom_seen = 0;
	return;
fail:
	cg->host->log(cg->self, VIGIL_LOG_WARN,
	              "%s: cannot watch %s for OOM kills (%s): they will not be reported as "
	              "limit.violated",
	              u->name, path, strerror(r < 0 ? -r : EIO));
	cg_oom_unwatch(u);
}

/* ---- limits ---- */

VIGIL_PRINTF(5, 6)
static int cg_set(struct cg *cg, const struct cg_unit *u, int ctrl, const char *file,
                  const char *fmt, ...)
{
	char path[4096], value[64];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	r = cg_unit_path(cg, (size_t)cg->plan.ctrl[ctrl], u->name, file, path, sizeof path);
	if (r == 0)
		r = cg_write(path, value);
	if (r < 0 && r != -ENOENT)
		cg->host->log(cg->self, VIGIL_LOG_ERROR, "%s: cannot write %s to %s: %s", u->name,
		              value, path, strerror(-r));
	return r;
}

static void cg_warn_once(struct cg *cg, struct cg_unit *u, unsigned bit, const char *what)
{
	if (u->warned & bit)
		return;
	u->warned |= bit;
	cg->host->log(cg->self, VIGIL_LOG_WARN, "%s: %s", u->name, what);
}

static int cg_memory(struct cg *cg, struct cg_unit *u, int64_t bytes)
{
	int m = cg->plan.ctrl[CG_MEMORY], r, swap;

	if (m < 0) {
		if (bytes)
			cg_warn_once(
			    cg, u, (1u << CG_MEMORY),
			    "limit_memory is not enforced by a cgroup (no memory controller)");
		return 0;
	}
	if (cg->plan.h[m].v2) {
		r = bytes ? cg_set(cg, u, CG_MEMORY, "memory.max", "%" PRId64, bytes)
		          : cg_set(cg, u, CG_MEMORY, "memory.max", "max");
		if (r < 0)
			return r;
		swap = cg_set(cg, u, CG_MEMORY, "memory.swap.max", bytes ? "0" : "max");
	} else {
		/* memsw (memory + swap) must never be below limit_in_bytes: lift it first. */
		swap = cg_set(cg, u, CG_MEMORY, "memory.memsw.limit_in_bytes", "-1");
		r = bytes ? cg_set(cg, u, CG_MEMORY, "memory.limit_in_bytes", "%" PRId64, bytes)
		          : cg_set(cg, u, CG_MEMORY, "memory.limit_in_bytes", "-1");
		if (r < 0)
			return r;
		if (swap == 0 && bytes)
			swap = cg_set(cg, u, CG_MEMORY, "memory.memsw.limit_in_bytes", "%" PRId64,
			              bytes);
	}
	if (swap == -ENOENT && bytes)
		cg_warn_once(cg, u, CG_WARN_SWAP,
		             "limit_memory does not cover swap (swap accounting is off): the "
		             "process may swap beyond it");
	else if (swap < 0 && swap != -ENOENT)
		return swap;
	return 0;
}

static int cg_pids(struct cg *cg, struct cg_unit *u, int64_t n)
{
	if (cg->plan.ctrl[CG_PIDS] < 0) {
		if (n)
			cg_warn_once(
			    cg, u, (1u << CG_PIDS),
			    "limit_nproc is not enforced by a cgroup (no pids controller): "
			    "RLIMIT_NPROC only");
		return 0;
	}
	return n ? cg_set(cg, u, CG_PIDS, "pids.max", "%" PRId64, n)
	         : cg_set(cg, u, CG_PIDS, "pids.max", "max");
}

/* limit_cpu is % of one core: 150% = 150 ms of CPU time per 100 ms period. */
static int cg_cpu(struct cg *cg, struct cg_unit *u, double pct)
{
	int c = cg->plan.ctrl[CG_CPU], r;
	long long quota = pct > 0 ? (long long)(pct * (CG_CPU_PERIOD_US / 100) + 0.5) : -1;

	if (c < 0) {
		if (pct > 0)
			cg_warn_once(cg, u, (1u << CG_CPU),
			             "limit_cpu is not enforced by a cgroup (no cpu controller)");
		return 0;
	}
	if (pct > 0 && quota < 1000)
		quota = 1000; /* the kernel's smallest quota, 1 ms */
	if (cg->plan.h[c].v2)
		return quota > 0
		           ? cg_set(cg, u, CG_CPU, "cpu.max", "%lld %d", quota, CG_CPU_PERIOD_US)
		           : cg_set(cg, u, CG_CPU, "cpu.max", "max %d", CG_CPU_PERIOD_US);
	r = cg_set(cg, u, CG_CPU, "cpu.cfs_period_us", "%d", CG_CPU_PERIOD_US);
	if (r < 0)
		return r;
	return cg_set(cg, u, CG_CPU, "cpu.cfs_quota_us", "%lld", quota);
}

int cg_apply_limits(struct cg *cg, struct cg_unit *u, const struct vigil_proc_info *info)
{
	/* The limit fields are in ABI 1.0; a shorter struct would be a core bug, not a host. */
	int has =
	    info->size >= offsetof(struct vigil_proc_info, limit_nproc) + sizeof info->limit_nproc;
	int64_t memory = has ? info->limit_memory : 0, nproc = has ? info->limit_nproc : 0;
	double cpu = has ? info->limit_cpu : 0;
	int r;

	u->limit_memory = memory;
	snprintf(u->on_limit, sizeof u->on_limit, "%s",
	         info->size >= offsetof(struct vigil_proc_info, on_limit) + sizeof info->on_limit &&
	                 info->on_limit
	             ? info->on_limit
	             : "restart");
	if ((r = cg_memory(cg, u, memory)) < 0 || (r = cg_pids(cg, u, nproc)) < 0)
		return r;
	return cg_cpu(cg, u, cpu);
}

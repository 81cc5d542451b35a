/* cgroup.c — monitor_cgroup: one cgroup per program instance, its limits, OOM reports, kill_tree. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <fcntl.h>
#include <unistd.h>

#include <vigil/sdk.h>

#include "cgroup.h"

#define CG_CPU_PERIOD_US 100000
#define CG_RMDIR_TRIES 6      /* 50 ms doubling: about 3 s for dying processes to go */
#define CG_RMDIR_FIRST_MS 50

/* Warned-once bits of a unit. */
#define CG_WARN_MEMORY (1u << CG_MEMORY)
#define CG_WARN_PIDS (1u << CG_PIDS)
#define CG_WARN_CPU (1u << CG_CPU)
#define CG_WARN_SWAP (1u << 4)

struct cg;

/* One program instance's cgroup (one dir in each hierarchy we use). Kept for the life of the
 * plugin, so the OOM count of an instance survives its restarts. */
struct cg_unit {
	struct cg_unit *next;
	struct cg *cg;
	char *name;
	int signalled;           /* kill_tree reached it since the last attach */
	int exists;              /* its dirs may exist */
	unsigned warned;
	int64_t limit_memory;    /* as of the last attach, for limit.violated */
	/* OOM watch: v2 inotify on memory.events, v1 an eventfd on memory.oom_control. */
	int oom_wd, oom_efd, oom_ctl;
	struct vigil_watch *oom_watch;
	int64_t oom_seen;        /* the kernel's oom_kill counter when last read */
	uint32_t ooms;           /* OOM kills reported for this instance */
	struct vigil_timer *rmdir_timer;
	unsigned rmdir_tries;
};

struct cg {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *parent;
	const char *proc_self; /* where mountinfo and cgroup are read: tests point it elsewhere */
	pid_t self_pid;
	struct cg_plan plan;
	int planned;
	struct cg_unit *units;
	int ino_fd;
	struct vigil_watch *ino_watch;
};

static const struct vigil_config_key cg_keys[] = {
    {"parent", VIGIL_KEY_STRING, "vigil", 0,
     "name of the per-daemon cgroup that holds one cgroup per program instance", NULL},
    VIGIL_KEYS_END,
};

/* A cgroup dir name: no '/', not '.' or '..', nothing a shell or the kernel would trip on. */
static int cg_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 200 || s[0] == '.')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* base/<name>[/file] in hierarchy i. */
static int cg_unit_path(const struct cg *cg, size_t i, const char *name, const char *file,
                        char *buf, size_t len)
{
	const char *base = cg->plan.h[i].base;

	return file ? cg_path(buf, len, "%s/%s/%s", base, name, file)
	            : cg_path(buf, len, "%s/%s", base, name);
}

static struct cg_unit *cg_unit_find(struct cg *cg, const char *name)
{
	for (struct cg_unit *u = cg->units; u; u = u->next)
		if (strcmp(u->name, name) == 0)
			return u;
	return NULL;
}

static struct cg_unit *cg_unit_get(struct cg *cg, const char *name)
{
	struct cg_unit *u = cg_unit_find(cg, name);

	if (u)
		return u;
	u = calloc(1, sizeof *u);
	if (!u || !(u->name = strdup(name))) {
		free(u);
		return NULL;
	}
	u->cg = cg;
	u->oom_wd = u->oom_efd = u->oom_ctl = -1;
	u->next = cg->units;
	cg->units = u;
	return u;
}

/* The unit of an instance; for one we never attached (adopted after a daemon restart) only
 * when a cgroup of that name is there from our previous run. */
static struct cg_unit *cg_unit_adopt(struct cg *cg, const char *name)
{
	struct cg_unit *u = cg_unit_find(cg, name);
	char path[4096];

	if (u)
		return u;
	if (cg_unit_path(cg, (size_t)cg->plan.procs, name, NULL, path, sizeof path) < 0 ||
	    !cg_exists(path))
		return NULL;
	u = cg_unit_get(cg, name);
	if (u)
		u->exists = 1;
	return u;
}

/* ---- OOM kills ---- */

/* Reads the kernel's oom_kill counter of the unit's memory cgroup and reports what is new. */
static void cg_oom_check(struct cg_unit *u, int64_t fallback_delta)
{
	struct cg *cg = u->cg;
	int m = cg->plan.ctrl[CG_MEMORY];
	int v2 = m >= 0 && cg->plan.h[m].v2;
	char path[4096];
	int64_t count = 0, peak = -1;
	int64_t delta;

	if (m < 0 || cg_unit_path(cg, (size_t)m, u->name,
	                          v2 ? "memory.events" : "memory.oom_control", path,
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
	if (cg_unit_path(cg, (size_t)m, u->name,
	                 v2 ? "memory.peak" : "memory.max_usage_in_bytes", path, sizeof path) == 0) {
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
	    /* on_limit is not in vigil_proc_info yet; restart is its default. */
	    .action = "restart",
	    .count = u->ooms,
	};
	cg->host->publish(cg->self, &ev.hdr);
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

static void cg_oom_unwatch(struct cg_unit *u)
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
static void cg_oom_watch(struct cg_unit *u)
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
				cg->ino_watch = cg->host->watch_fd(cg->self, cg->ino_fd, VIGIL_FD_IN,
				                                   cg_on_inotify, cg);
			if (cg->ino_fd < 0 || !cg->ino_watch) {
				r = -errno;
				goto fail;
			}
		}
		if ((r = cg_unit_path(cg, (size_t)m, u->name, "memory.events", path,
		                      sizeof path)) < 0)
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
		u->oom_watch = cg->host->watch_fd(cg->self, u->oom_efd, VIGIL_FD_IN, cg_on_eventfd, u);
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
			cg_warn_once(cg, u, CG_WARN_MEMORY,
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
			cg_warn_once(cg, u, CG_WARN_PIDS,
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
			cg_warn_once(cg, u, CG_WARN_CPU,
			             "limit_cpu is not enforced by a cgroup (no cpu controller)");
		return 0;
	}
	if (pct > 0 && quota < 1000)
		quota = 1000; /* the kernel's smallest quota, 1 ms */
	if (cg->plan.h[c].v2)
		return quota > 0 ? cg_set(cg, u, CG_CPU, "cpu.max", "%lld %d", quota, CG_CPU_PERIOD_US)
		                 : cg_set(cg, u, CG_CPU, "cpu.max", "max %d", CG_CPU_PERIOD_US);
	r = cg_set(cg, u, CG_CPU, "cpu.cfs_period_us", "%d", CG_CPU_PERIOD_US);
	if (r < 0)
		return r;
	return cg_set(cg, u, CG_CPU, "cpu.cfs_quota_us", "%lld", quota);
}

/* ---- membership and signals ---- */

/* pid lists are short: a linear search beats building anything. */
static int cg_has(const pid_t *v, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return 1;
	return 0;
}

/* Signals every pid in the instance's cgroup. For SIGKILL the list is read again until it
 * holds no pid not yet signalled: a process forking meanwhile has its child listed by then.
 * Returns how many processes were signalled, or -errno (-ENOENT: no such cgroup). */
static int cg_signal_all(struct cg *cg, const char *name, int signo)
{
	char path[4096];
	pid_t *done = NULL, *now;
	size_t ndone = 0, n;
	int r, total = 0;

	r = cg_unit_path(cg, (size_t)cg->plan.procs, name, "cgroup.procs", path, sizeof path);
	for (int pass = 0; r == 0 && pass < (signo == SIGKILL ? 32 : 1); pass++) {
		int fresh = 0;

		r = cg_read_pids(path, &now, &n);
		if (r < 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (cg_has(done, ndone, now[i]))
				continue;
			if (i == 0 && kill(now[i], signo) == 0)
				total++;
			fresh++;
		}
		free(done);
		done = now;
		ndone = n;
		if (!fresh)
			break;
	}
	free(done);
	return r < 0 ? r : total;
}

/* Empties the instance's cgroup with SIGKILL. Returns 1 when it held processes, 0 when it
 * was empty, -errno. */
static int cg_kill_all(struct cg *cg, const char *name)
{
	char path[4096], freeze[4096];
	pid_t *pids;
	size_t n;
	int r;

	if ((r = cg_unit_path(cg, (size_t)cg->plan.procs, name, "cgroup.procs", path,
	                      sizeof path)) < 0 ||
	    (r = cg_read_pids(path, &pids, &n)) < 0)
		return r;
	free(pids);
	if (!n)
		return 0;
	if (cg->plan.kill == CG_KILL_FILE) {
		if ((r = cg_unit_path(cg, (size_t)cg->plan.procs, name, "cgroup.kill", path,
		                      sizeof path)) < 0 ||
		    (r = cg_write(path, "0")) < 0)
			return r;
		return 1;
	}
	/* Frozen processes cannot fork while we go through the list; the freeze completes
	 * asynchronously, which the repeated reading in cg_signal_all covers. A v1 frozen task
	 * dies only once thawed, so thaw afterwards in every case. */
	freeze[0] = '\0';
	r = 0;
	if (cg->plan.kill == CG_KILL_FREEZE_V2)
		r = cg_unit_path(cg, (size_t)cg->plan.procs, name, "cgroup.freeze", freeze,
		                 sizeof freeze);
	else if (cg->plan.kill == CG_KILL_FREEZE_V1)
		r = cg_unit_path(cg, (size_t)cg->plan.ctrl[CG_FREEZER], name, "freezer.state",
		                 freeze, sizeof freeze);
	if (r < 0)
		freeze[0] = '\0';
	if (freeze[0])
		(void)cg_write(freeze, cg->plan.kill == CG_KILL_FREEZE_V2 ? "1" : "FROZEN");
	r = cg_signal_all(cg, name, SIGKILL);
	if (freeze[0])
		(void)cg_write(freeze, cg->plan.kill == CG_KILL_FREEZE_V2 ? "0" : "THAWED");
	return r < 0 ? r : 1;
}

/* ---- cleanup ---- */

/* rmdir the unit's dirs. Returns 0 when all are gone, -EBUSY while processes remain. */
static int cg_unit_remove(struct cg_unit *u)
{
	struct cg *cg = u->cg;
	char path[4096];
	int busy = 0;

	for (size_t i = 0; i < cg->plan.nh; i++) {
		if (cg_unit_path(cg, i, u->name, NULL, path, sizeof path) < 0)
			continue;
		if (rmdir(path) < 0 && errno != ENOENT)
			busy = 1;
	}
	if (busy)
		return -EBUSY;
	cg_oom_unwatch(u);
	u->exists = 0;
	return 0;
}

static void cg_on_rmdir_timer(void *arg)
{
	struct cg_unit *u = arg;
	struct cg *cg = u->cg;

	u->rmdir_timer = NULL;
	if (cg_unit_remove(u) == 0)
		return;
	if (++u->rmdir_tries < CG_RMDIR_TRIES) {
		u->rmdir_timer = cg->host->timer_add(cg->self, CG_RMDIR_FIRST_MS << u->rmdir_tries, 0,
		                                     cg_on_rmdir_timer, u);
		return;
	}
	cg->host->log(cg->self, VIGIL_LOG_WARN,
	              "%s: its cgroup %s/%s still holds processes; it is kept and used again at "
	              "the next start",
	              u->name, cg->plan.h[cg->plan.procs].base, u->name);
}

static void cg_rmdir_cancel(struct cg_unit *u)
{
	if (u->rmdir_timer)
		u->cg->host->timer_cancel(u->rmdir_timer);
	u->rmdir_timer = NULL;
	u->rmdir_tries = 0;
}

/* ---- monitor ops ---- */

static int cg_attach(void *state, const struct vigil_proc_info *info, int32_t pid)
{
	struct cg *cg = state;
	struct cg_unit *u;
	char path[4096];
	int r;

	if (cg->plan.procs < 0)
		return 0;
	if (!cg_name_ok(info->name)) {
		cg->host->log(cg->self, VIGIL_LOG_ERROR,
		              "instance name \"%s\" cannot name a cgroup (expected letters, digits, "
		              "'.', '-', '_')",
		              info->name ? info->name : "");
		return -EINVAL;
	}
	u = cg_unit_get(cg, info->name);
	if (!u)
		return -ENOMEM;
	cg_rmdir_cancel(u);
	u->signalled = 0;
	u->exists = 1;
	for (size_t i = 0; i < cg->plan.nh; i++) {
		if ((r = cg_unit_path(cg, i, u->name, NULL, path, sizeof path)) < 0 ||
		    (r = cg_mkdir(path)) < 0) {
			cg->host->log(cg->self, VIGIL_LOG_ERROR, "%s: cannot create the cgroup %s: %s",
			              u->name, path, strerror(-r));
			return r;
		}
	}
	u->limit_memory = info->limit_memory;
	if ((r = cg_memory(cg, u, info->limit_memory)) < 0 ||
	    (r = cg_pids(cg, u, info->limit_nproc)) < 0 || (r = cg_cpu(cg, u, info->limit_cpu)) < 0)
		return r;
	for (size_t i = 0; i < cg->plan.nh; i++) {
		if ((r = cg_unit_path(cg, i, u->name, "cgroup.procs", path, sizeof path)) < 0 ||
		    (r = cg_writef(path, "%" PRId32, pid)) < 0) {
			cg->host->log(cg->self, VIGIL_LOG_ERROR, "%s: cannot move pid %" PRId32
			              " into %s: %s", u->name, pid, path, strerror(-r));
			return r;
		}
	}
	if (info->limit_memory > 0 && cg->plan.ctrl[CG_MEMORY] >= 0)
		cg_oom_watch(u);
	cg->host->log(cg->self, VIGIL_LOG_DEBUG, "%s: pid %" PRId32 " placed in %s/%s", u->name,
	              pid, cg->plan.h[cg->plan.procs].base, u->name);
	return 0;
}

static int cg_kill_tree(void *state, const struct vigil_proc_info *info, int signo)
{
	struct cg *cg = state;
	struct cg_unit *u;
	int r;

	if (cg->plan.procs < 0 || !cg_name_ok(info->name))
		return 0;
	/* Without a unit (an adopted instance) its cgroup may still exist from our last run. */
	u = cg_unit_adopt(cg, info->name);
	if (u)
		u->signalled = 1;
	r = signo == SIGKILL ? cg_kill_all(cg, info->name) : cg_signal_all(cg, info->name, signo);
	if (r == -ENOENT || r == 0)
		return 0; /* nothing there: the process group is the core's best guess */
	if (r < 0) {
		cg->host->log(cg->self, VIGIL_LOG_WARN, "%s: cannot signal its cgroup: %s",
		              info->name, strerror(-r));
		return 0;
	}
	return 1;
}

static void cg_detach(void *state, const struct vigil_proc_info *info)
{
	struct cg *cg = state;
	struct cg_unit *u;

	if (cg->plan.procs < 0 || !cg_name_ok(info->name))
		return;
	u = cg_unit_adopt(cg, info->name);
	if (!u || !u->exists)
		return;
	if (u->oom_watch || u->oom_wd >= 0)
		cg_oom_check(u, 0); /* the notification may still be queued behind the reap */
	/* A stop was signalling the tree: what left the process group must go too. */
	if (u->signalled)
		(void)cg_kill_all(cg, u->name);
	cg_rmdir_cancel(u);
	if (cg_unit_remove(u) < 0)
		u->rmdir_timer = cg->host->timer_add(cg->self, CG_RMDIR_FIRST_MS, 0,
		                                     cg_on_rmdir_timer, u);
}

/* ---- lifecycle ---- */

static int cg_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct cg *cg = calloc(1, sizeof *cg);

	if (!cg)
		return -ENOMEM;
	cg->host = host;
	cg->self = self;
	cg->proc_self = "/proc/self";
	cg->self_pid = getpid();
	cg->ino_fd = -1;
	cg->plan.procs = -1;
	*state = cg;
	return 0;
}

static int cg_configure(void *state, const struct vigil_config *cfg)
{
	struct cg *cg = state;
	const char *parent = cg->host->cfg_string(cfg, "parent");

	if (!cg_name_ok(parent)) {
		cg->host->log(cg->self, VIGIL_LOG_ERROR,
		              "parent = \"%s\": expected one cgroup name (letters, digits, '.', '-', "
		              "'_'; no '/', not starting with '.')",
		              parent ? parent : "");
		return -EINVAL;
	}
	free(cg->parent);
	cg->parent = strdup(parent);
	return cg->parent ? 0 : -ENOMEM;
}

static int cg_start(void *state)
{
	struct cg *cg = state;
	char line[2048];

	if (cg_detect(&cg->plan, cg->proc_self) == 0)
		cg_setup(&cg->plan, cg->parent ? cg->parent : "vigil", cg->self_pid);
	cg->planned = 1;
	cg_describe(&cg->plan, line, sizeof line);
	cg->host->log(cg->self, cg->plan.procs < 0 ? VIGIL_LOG_WARN : VIGIL_LOG_INFO, "%s", line);
	return 0;
}

static void cg_stop(void *state)
{
	struct cg *cg = state;

	for (struct cg_unit *u = cg->units; u; u = u->next) {
		cg_rmdir_cancel(u);
		if (u->exists)
			(void)cg_unit_remove(u);
		cg_oom_unwatch(u);
	}
	if (cg->ino_watch)
		cg->host->unwatch(cg->ino_watch);
	cg->ino_watch = NULL;
	if (cg->planned)
		cg_teardown(&cg->plan);
}

static void cg_fini(void *state)
{
	struct cg *cg = state;

	cg_stop(cg);
	while (cg->units) {
		struct cg_unit *u = cg->units;

		cg->units = u->next;
		free(u->name);
		free(u);
	}
	if (cg->ino_fd >= 0)
		close(cg->ino_fd);
	cg_plan_free(&cg->plan);
	free(cg->parent);
	free(cg);
}

static const struct vigil_monitor_ops cg_ops = {
    .size = sizeof(struct vigil_monitor_ops),
    .attach = cg_attach,
    .detach = cg_detach,
    .kill_tree = cg_kill_tree,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_MONITOR, .name = "cgroup", .version = VIGIL_VERSION_STRING,
                    .description = "one cgroup per program instance: memory, pids and cpu "
                                   "limits, OOM kill reports, kill_tree that nothing escapes",
                    .keys = cg_keys, .init = cg_init, .configure = cg_configure,
                    .start = cg_start, .stop = cg_stop, .fini = cg_fini, .ops = &cg_ops);

/* cgroup.c — monitor_cgroup: one cgroup per program instance; placement, kill_tree, cleanup. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

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
int cg_unit_path(const struct cg *cg, size_t i, const char *name, const char *file, char *buf,
                 size_t len)
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
			if (kill(now[i], signo) == 0)
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
		    (r = cg_write(path, "1")) < 0)
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
		u->rmdir_timer = cg->host->timer_add(cg->self, CG_RMDIR_FIRST_MS << u->rmdir_tries,
		                                     0, cg_on_rmdir_timer, u);
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
		cg->host->log(
		    cg->self, VIGIL_LOG_ERROR,
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
			cg->host->log(cg->self, VIGIL_LOG_ERROR,
			              "%s: cannot create the cgroup %s: %s", u->name, path,
			              strerror(-r));
			return r;
		}
	}
	if ((r = cg_apply_limits(cg, u, info)) < 0)
		return r;
	for (size_t i = 0; i < cg->plan.nh; i++) {
		if ((r = cg_unit_path(cg, i, u->name, "cgroup.procs", path, sizeof path)) < 0 ||
		    (r = cg_writef(path, "%" PRId32, pid)) < 0) {
			cg->host->log(cg->self, VIGIL_LOG_ERROR,
			              "%s: cannot move pid %" PRId32 " into %s: %s", u->name, pid,
			              path, strerror(-r));
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
		u->rmdir_timer =
		    cg->host->timer_add(cg->self, CG_RMDIR_FIRST_MS, 0, cg_on_rmdir_timer, u);
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
		cg->host->log(
		    cg->self, VIGIL_LOG_ERROR,
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
                    .keys = cg_keys, .init = cg_init, .configure = cg_configure, .start = cg_start,
                    .stop = cg_stop, .fini = cg_fini, .ops = &cg_ops);

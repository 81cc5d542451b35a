/* launch.c — what programs and tasks share before and around spawn: env, ids, limits, monitors. */
#include "launch.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int env_key_eq(const char *a, const char *b)
{
	while (*a && *a != '=' && *a == *b)
		a++, b++;
	return (*a == '=' || !*a) && (*b == '=' || !*b);
}

static void env_set(char ***env, size_t *n, size_t *cap, const char *kv)
{
	for (size_t i = 0; i < *n; i++)
		if (env_key_eq((*env)[i], kv)) {
			free((*env)[i]);
			(*env)[i] = util_xstrdup(kv);
			return;
		}
	if (*n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 32;
		char **e = realloc(*env, *cap * sizeof *e);
		if (!e)
			abort();
		*env = e;
	}
	(*env)[(*n)++] = util_xstrdup(kv);
	(*env)[*n] = NULL;
}

char **launch_env(char *const *base, int clear_env, char *const *environment,
                  char *const *extra)
{
	static const char *const keep[] = {"PATH", "HOME", "USER", "LANG", NULL};
	char **env = NULL;
	size_t n = 0, cap = 0;
	int have_path = 0;
	for (char *const *e = base; e && *e; e++) {
		if (clear_env) {
			int ok = 0;
			for (const char *const *k = keep; *k; k++)
				ok |= env_key_eq(*e, *k);
			if (!ok)
				continue;
		}
		have_path |= env_key_eq(*e, "PATH");
		env_set(&env, &n, &cap, *e);
	}
	if (!have_path)
		env_set(&env, &n, &cap, "PATH=/usr/local/bin:/usr/bin:/bin");
	for (char *const *e = environment; e && *e; e++)
		env_set(&env, &n, &cap, *e);
	for (char *const *e = extra; e && *e; e++)
		env_set(&env, &n, &cap, *e);
	if (!env)
		env = util_xcalloc(1, sizeof *env);
	return env;
}

static int resolve_ids(const struct conf_program *g, struct spawn_req *req, gid_t *groups,
                       char *err, size_t errlen)
{
	if (!g->user && !g->group)
		return 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	const char *uname = NULL;
	if (g->user) {
		struct passwd *pw = getpwnam(g->user);
		if (!pw) {
			snprintf(err, errlen, "user '%s' does not exist", g->user);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		uname = pw->pw_name;
	}
	if (g->group) {
		struct group *gr = getgrnam(g->group);
		if (!gr) {
			snprintf(err, errlen, "group '%s' does not exist", g->group);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (geteuid() != 0 && (uid != geteuid() || gid != getegid())) {
		snprintf(err, errlen, "cannot switch to user/group: vigild is not running as root");
		return -1;
	}
	int ngroups = 256;
	if (uname) {
		if (getgrouplist(uname, gid, groups, &ngroups) < 0) {
			groups[0] = gid;
			ngroups = 1;
		}
	} else {
		groups[0] = gid;
		ngroups = 1;
	}
	req->set_ids = geteuid() == 0;
	req->uid = uid;
	req->gid = gid;
	req->groups = groups;
	req->ngroups = ngroups;
	return 0;
}

int launch_prepare(const struct conf_program *g, int no_new_privs, struct spawn_req *req,
                   gid_t *groups, char *err, size_t errlen)
{
	/* SPEC §3: nice and oom_score_adj per priority, applied when permitted. */
	static const int nice_of[VIGIL_PRIO_COUNT] = {10, 0, -5, -10};
	static const int oom_of[VIGIL_PRIO_COUNT] = {300, 0, -300, -900};
	req->cwd = g->directory;
	req->umask = g->umask;
	req->no_new_privs = no_new_privs;
	req->rlimit_nofile = g->limit_nofile;
	req->rlimit_nproc = g->limit_nproc;
	req->rlimit_core = g->limit_core;
	req->nice = nice_of[g->priority & 3];
	req->oom_score_adj = oom_of[g->priority & 3];
	req->hold_fd = req->hold_wfd = -1;
	return resolve_ids(g, req, groups, err, errlen);
}

int launch_need_hold(const struct loader_set *plugins)
{
	for (struct vigil_instance *m = plugins->head; m; m = m->next) {
		const struct vigil_monitor_ops *ops = m->desc.ops;
		if (m->desc.kind == VIGIL_KIND_MONITOR && ops && ops->attach)
			return 1;
	}
	return 0;
}

int launch_attach(const struct loader_set *plugins, const struct vigil_proc_info *info,
                  pid_t pid, int holdfd, char *err, size_t errlen)
{
	for (struct vigil_instance *m = plugins->head; m; m = m->next) {
		const struct vigil_monitor_ops *ops = m->desc.ops;
		if (m->desc.kind != VIGIL_KIND_MONITOR || !ops || !ops->attach)
			continue;
		int r = ops->attach(m->state, info, pid);
		if (r < 0) {
			snprintf(err, errlen, "monitor %s: attach: %s", m->name, strerror(-r));
			kill(pid, SIGKILL);
			close(holdfd);
			return -1;
		}
	}
	int r = write(holdfd, "g", 1) == 1 ? 0 : -1;
	if (r < 0)
		snprintf(err, errlen, "cannot release the child: %s", strerror(errno));
	close(holdfd);
	return r;
}

void launch_detach(const struct loader_set *plugins, const struct vigil_proc_info *info)
{
	for (struct vigil_instance *m = plugins->head; m; m = m->next) {
		const struct vigil_monitor_ops *ops = m->desc.ops;
		if (m->desc.kind == VIGIL_KIND_MONITOR && ops && ops->detach)
			ops->detach(m->state, info);
	}
}

void launch_kill_tree(const struct loader_set *plugins, const struct vigil_proc_info *info,
                      pid_t pgid, int sig)
{
	for (struct vigil_instance *m = plugins->head; m; m = m->next) {
		const struct vigil_monitor_ops *ops = m->desc.ops;
		if (m->desc.kind == VIGIL_KIND_MONITOR && ops && ops->kill_tree &&
		    ops->kill_tree(m->state, info, sig) == 1)
			return;
	}
	if (pgid > 0)
		kill(-pgid, sig);
}

/* detect.c — finds the cgroup hierarchies of this host, makes them usable and names the mode. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"

static const char *const ctrl_names[CG_NCTRL] = {"memory", "pids", "cpu", "freezer"};

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned)c < CG_NCTRL ? ctrl_names[c] : "?";
}

VIGIL_PRINTF(2, 3)
static void why(struct cg_plan *plan, const char *fmt, ...)
{
	size_t used = strlen(plan->why);
	va_list ap;

	if (used + 3 >= sizeof plan->why)
		return;
	if (used) {
		strcpy(plan->why + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(plan->why + used, sizeof plan->why - used, fmt, ap);
	va_end(ap);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	char chunk[4096];

	if (!f)
		return NULL;
	while ((n = (ssize_t)fread(chunk, 1, sizeof chunk, f)) > 0) {
		char *grown = realloc(buf, len + (size_t)n + 1);

		if (!grown) {
			free(buf);
			fclose(f);
			errno = ENOMEM;
			return NULL;
		}
		buf = grown;
		memcpy(buf + len, chunk, (size_t)n);
		len += (size_t)n;
	}
	fclose(f);
	if (!buf)
		buf = calloc(1, 1);
	else
		buf[len] = '\0';
	return buf;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static int has_token(const char *list, const char *token, char sep)
{
	size_t tl = strlen(token);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, sep);
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == tl && strncmp(p, token, tl) == 0)
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

struct mnt {
	char *root, *point, *fstype, *opts;
};

/* Splits one mountinfo line in place: "id parent maj:min root point opts [optional...] -
 * fstype source superopts". */
static int parse_mount(char *line, struct mnt *m)
{
	char *f[6], *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(line, " ", &save); tok && n < 6; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 6)
		return -1;
	while (tok && strcmp(tok, "-") != 0)
		tok = strtok_r(NULL, " ", &save);
	if (!tok)
		return -1;
	m->fstype = strtok_r(NULL, " ", &save);
	(void)strtok_r(NULL, " ", &save); /* source */
	m->opts = strtok_r(NULL, " ", &save);
	if (!m->fstype || !m->opts)
		return -1;
	m->root = f[3];
	m->point = f[4];
	unescape(m->root);
	unescape(m->point);
	return 0;
}

/* Our path in a hierarchy ("/a/b") relative to what the mount shows (root "/a"): "/b". */
static const char *relative(const char *mroot, const char *path)
{
	size_t rl = strlen(mroot);

	if (strcmp(mroot, "/") == 0)
		return path;
	if (strncmp(path, mroot, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
		return path[rl] ? path + rl : "/";
	return NULL;
}

static char *join_own(const char *point, const char *rel)
{
	size_t len = strlen(point) + strlen(rel) + 1;
	char *s = malloc(len);

	if (s)
		snprintf(s, len, "%s%s", point, strcmp(rel, "/") == 0 ? "" : rel);
	return s;
}

/* The path of our cgroup for controller `c` (v1) or of the unified hierarchy (c = NULL). */
static const char *own_path(char *cgroups, const char *c)
{
	static char found[4096];

	for (char *line = cgroups; line && *line;) {
		char *next = strchr(line, '\n');
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t len = next ? (size_t)(next - line) : strlen(line);

		if (c1 && c2 && (size_t)(c2 - line) < len) {
			size_t clen = (size_t)(c2 - c1 - 1);
			char ctrls[256];

			if (clen < sizeof ctrls) {
				memcpy(ctrls, c1 + 1, clen);
				ctrls[clen] = '\0';
				if (c ? has_token(ctrls, c, ',')
				      : (clen == 0 && c1 - line == 1 && line[0] == '0')) {
					size_t plen = len - (size_t)(c2 + 1 - line);

					if (plen >= sizeof found)
						return NULL;
					memcpy(found, c2 + 1, plen);
					found[plen] = '\0';
					return found;
				}
			}
		}
		line = next ? next + 1 : NULL;
	}
	return NULL;
}

static int add_hier(struct cg_plan *plan, int v2, char *own, unsigned ctrls)
{
	struct cg_hier *h;

	if (!own)
		return -ENOMEM;
	if (plan->nh == CG_MAX_HIER) {
		free(own);
		return -ENOSPC;
	}
	h = &plan->h[plan->nh++];
	memset(h, 0, sizeof *h);
	h->v2 = v2;
	h->own = own;
	h->ctrls = ctrls;
	return 0;
}

int cg_detect(struct cg_plan *plan, const char *proc_self)
{
	char path[4096], *mounts, *cgroups;
	int have_v2 = 0;

	memset(plan, 0, sizeof *plan);
	plan->procs = -1;
	for (int c = 0; c < CG_NCTRL; c++)
		plan->ctrl[c] = -1;
	snprintf(path, sizeof path, "%s/mountinfo", proc_self);
	mounts = read_all(path);
	if (!mounts) {
		why(plan, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof path, "%s/cgroup", proc_self);
	cgroups = read_all(path);
	if (!cgroups) {
		int e = errno;

		why(plan, "cannot read %s: %s", path, strerror(e));
		free(mounts);
		return -e;
	}

	for (char *line = mounts, *next; line && *line; line = next) {
		struct mnt m;
		const char *mine, *rel;
		unsigned ctrls = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (parse_mount(line, &m) < 0)
			continue;
		if (strcmp(m.fstype, "cgroup2") == 0) {
			if (have_v2++)
				continue; /* a bind mount of the same hierarchy */
			mine = own_path(cgroups, NULL);
		} else if (strcmp(m.fstype, "cgroup") == 0) {
			const char *first = NULL;

			for (int c = 0; c < CG_NCTRL; c++) {
				if (has_token(m.opts, ctrl_names[c], ',') && plan->ctrl[c] < 0) {
					ctrls |= 1u << c;
					if (!first)
						first = ctrl_names[c];
				}
			}
			if (!ctrls)
				continue;
			mine = own_path(cgroups, first);
		} else {
			continue;
		}
		if (!mine) {
			why(plan, "%s is not listed in %s/cgroup", m.point, proc_self);
			continue;
		}
		rel = relative(m.root, mine);
		if (!rel) {
			why(plan, "our cgroup %s lies outside the mount %s (root %s)", mine,
			    m.point, m.root);
			continue;
		}
		if (add_hier(plan, !ctrls, join_own(m.point, rel), ctrls) < 0)
			continue;
		/* Mark v1 controllers taken, so a second mount of the same one is ignored. */
		for (int c = 0; c < CG_NCTRL; c++)
			if (ctrls & (1u << c))
				plan->ctrl[c] = (int)plan->nh - 1;
	}

	/* Controllers not bound to a v1 mount may be offered by the v2 hierarchy. */
	for (size_t i = 0; i < plan->nh; i++) {
		struct cg_hier *h = &plan->h[i];
		char list[512];

		if (!h->v2)
			continue;
		snprintf(path, sizeof path, "%s/cgroup.controllers", h->own);
		if (cg_read(path, list, sizeof list) < 0)
			list[0] = '\0';
		list[strcspn(list, "\n")] = '\0';
		for (int c = CG_MEMORY; c <= CG_CPU; c++)
			if (plan->ctrl[c] < 0 && has_token(list, ctrl_names[c], ' '))
				h->ctrls |= 1u << c;
	}
	for (int c = 0; c < CG_NCTRL; c++)
		plan->ctrl[c] = -1;
	free(mounts);
	free(cgroups);
	return 0;
}

/* v2: controllers may be enabled only in a cgroup without processes (the root excepted), so
 * vigild leaves its own cgroup for a leaf of it first. Returns the controllers enabled. */
static unsigned enable_v2(struct cg_plan *plan, struct cg_hier *h, pid_t self_pid)
{
	char path[4096];
	unsigned want = h->ctrls & ((1u << CG_MEMORY) | (1u << CG_PIDS) | (1u << CG_CPU)), got = 0;
	int r;

	if (!want)
		return 0;
	snprintf(path, sizeof path, "%s/cgroup.type", h->own);
	if (cg_exists(path)) { /* not the root cgroup, which alone may hold processes */
		pid_t *pids;
		size_t n, others = 0;

		snprintf(path, sizeof path, "%s/cgroup.procs", h->own);
		r = cg_read_pids(path, &pids, &n);
		for (size_t i = 0; r == 0 && i < n; i++)
			others += pids[i] != self_pid;
		free(pids);
		if (r < 0) {
			why(plan, "cannot read %s: %s", path, strerror(-r));
			return 0;
		}
		if (others) {
			why(plan,
			    "v2 controllers unused: %s holds %zu other process(es) besides "
			    "vigild, and controllers can only be enabled in a cgroup without "
			    "processes (give vigild a cgroup of its own, e.g. systemd "
			    "Delegate=yes)",
			    h->own, others);
			return 0;
		}
		snprintf(path, sizeof path, "%s/supervisor", h->own);
		r = cg_mkdir(path);
		if (r >= 0) {
			snprintf(path, sizeof path, "%s/supervisor/cgroup.procs", h->own);
			r = cg_writef(path, "%d", (int)self_pid);
		}
		if (r < 0) {
			why(plan, "v2 controllers unused: cannot move vigild into %s: %s", path,
			    strerror(-r));
			return 0;
		}
		plan->moved_self = 1;
	}
	snprintf(path, sizeof path, "%s/cgroup.subtree_control", h->own);
	for (int c = CG_MEMORY; c <= CG_CPU; c++) {
		if (!(want & (1u << c)))
			continue;
		r = cg_writef(path, "+%s", ctrl_names[c]);
		if (r < 0)
			why(plan, "cannot enable %s in %s: %s", ctrl_names[c], path, strerror(-r));
		else
			got |= 1u << c;
	}
	return got;
}

static int make_base(struct cg_plan *plan, struct cg_hier *h, const char *parent)
{
	size_t len = strlen(h->own) + strlen(parent) + 2;
	int r;

	h->base = malloc(len);
	if (!h->base)
		return -ENOMEM;
	snprintf(h->base, len, "%s/%s", h->own, parent);
	r = cg_mkdir(h->base);
	if (r < 0) {
		why(plan, "cannot create %s: %s", h->base, strerror(-r));
		return r;
	}
	return 0;
}

static void drop(struct cg_hier *h)
{
	free(h->own);
	free(h->base);
	memset(h, 0, sizeof *h);
}

void cg_setup(struct cg_plan *plan, const char *parent, pid_t self_pid)
{
	char path[4096];
	int v2 = -1, freezer_needed = 1;
	size_t n = 0;

	for (size_t i = 0; i < plan->nh; i++) {
		struct cg_hier *h = &plan->h[i];
		unsigned got;

		if (!h->v2)
			continue;
		got = enable_v2(plan, h, self_pid);
		if (make_base(plan, h, parent) < 0) {
			drop(h);
			continue;
		}
		h->ctrls = got;
		snprintf(path, sizeof path, "%s/cgroup.subtree_control", h->base);
		for (int c = CG_MEMORY; c <= CG_CPU; c++) {
			int r;

			if (!(got & (1u << c)))
				continue;
			r = cg_writef(path, "+%s", ctrl_names[c]);
			if (r < 0) {
				why(plan, "cannot enable %s in %s: %s", ctrl_names[c], path,
				    strerror(-r));
				h->ctrls &= ~(1u << c);
			}
		}
		v2 = (int)i;
		snprintf(path, sizeof path, "%s/cgroup.kill", h->base);
		if (cg_exists(path)) {
			plan->kill = CG_KILL_FILE;
			freezer_needed = 0;
		} else {
			snprintf(path, sizeof path, "%s/cgroup.freeze", h->base);
			if (cg_exists(path)) {
				plan->kill = CG_KILL_FREEZE_V2;
				freezer_needed = 0;
			}
		}
	}
	for (size_t i = 0; i < plan->nh; i++) {
		struct cg_hier *h = &plan->h[i];

		if (h->v2 || !h->own)
			continue;
		if (!freezer_needed)
			h->ctrls &= ~(1u << CG_FREEZER);
		if (!h->ctrls || make_base(plan, h, parent) < 0)
			drop(h);
	}

	/* Compact, then give every role to one hierarchy. */
	for (size_t i = 0; i < plan->nh; i++) {
		if (!plan->h[i].own)
			continue;
		if ((int)i == v2)
			v2 = (int)n;
		plan->h[n++] = plan->h[i];
	}
	plan->nh = n;
	for (size_t i = 0; i < plan->nh; i++)
		for (int c = 0; c < CG_NCTRL; c++)
			if ((plan->h[i].ctrls & (1u << c)) && plan->ctrl[c] < 0)
				plan->ctrl[c] = (int)i;
	if (v2 >= 0) {
		plan->procs = v2;
	} else {
		static const int order[] = {CG_PIDS, CG_MEMORY, CG_CPU, CG_FREEZER};

		for (size_t k = 0; k < 4 && plan->procs < 0; k++)
			plan->procs = plan->ctrl[order[k]];
	}
	if (plan->procs < 0)
		plan->kill = CG_KILL_NONE;
	else if (v2 < 0 || plan->kill == CG_KILL_NONE)
		plan->kill = plan->ctrl[CG_FREEZER] >= 0 ? CG_KILL_FREEZE_V1 : CG_KILL_SCAN;
	if (plan->ctrl[CG_MEMORY] >= 0) {
		const struct cg_hier *m = &plan->h[plan->ctrl[CG_MEMORY]];

		snprintf(path, sizeof path, "%s/%s", m->base,
		         m->v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
		plan->swap = cg_exists(path);
	}
	for (int c = CG_MEMORY; c <= CG_CPU; c++)
		if (plan->ctrl[c] < 0 && plan->procs >= 0)
			why(plan, "no %s controller available", ctrl_names[c]);
}

void cg_teardown(struct cg_plan *plan)
{
	for (size_t i = 0; i < plan->nh; i++) {
		struct cg_hier *h = &plan->h[i];

		/* rmdir refuses a cgroup with children, so this removes it only when empty;
		 * one left by an earlier run goes too: it carries our name. */
		if (h->base)
			(void)rmdir(h->base);
	}
}

void cg_plan_free(struct cg_plan *plan)
{
	for (size_t i = 0; i < plan->nh; i++)
		drop(&plan->h[i]);
	plan->nh = 0;
}

static void append(char *buf, size_t len, const char *fmt, ...) VIGIL_PRINTF(3, 4);
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

void cg_describe(const struct cg_plan *plan, char *buf, size_t len)
{
	static const char *const kills[] = {
	    "the process group", "cgroup.kill", "freezing with cgroup.freeze",
	    "freezing with the v1 freezer", "signalling every pid in cgroup.procs"};
	int v1_limits = 0;
	const char *sep = "";

	buf[0] = '\0';
	if (plan->procs < 0) {
		append(buf, len,
		       "cgroup mode: none (%s): limits fall back to sampling, kill_tree to the "
		       "process group",
		       plan->why[0] ? plan->why : "no cgroup hierarchy is mounted");
		return;
	}
	for (int c = CG_MEMORY; c <= CG_CPU; c++)
		v1_limits |= plan->ctrl[c] >= 0 && !plan->h[plan->ctrl[c]].v2;
	if (!plan->h[plan->procs].v2)
		append(buf, len, "cgroup mode: v1 (no cgroup v2 hierarchy): ");
	else if (v1_limits)
		append(buf, len,
		       "cgroup mode: hybrid (limits in cgroup v1, membership and kill in "
		       "cgroup v2): ");
	else
		append(buf, len, "cgroup mode: v2: ");
	for (int c = CG_MEMORY; c <= CG_CPU; c++) {
		if (plan->ctrl[c] < 0)
			continue;
		append(buf, len, "%s%s in %s", sep, ctrl_names[c], plan->h[plan->ctrl[c]].base);
		sep = ", ";
	}
	append(buf, len, "%smembership in %s, kill_tree by %s", sep, plan->h[plan->procs].base,
	       kills[plan->kill]);
	if (plan->ctrl[CG_MEMORY] >= 0)
		append(buf, len,
		       plan->swap ? "; swap limited too"
		                  : "; swap NOT limited (no memory.swap.max / "
		                    "memory.memsw.limit_in_bytes: swap accounting is off)");
	if (plan->moved_self)
		append(buf, len, "; vigild moved itself into %s/supervisor",
		       plan->h[plan->procs].own);
	if (plan->why[0])
		append(buf, len, "; %s", plan->why);
}

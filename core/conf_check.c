/* conf_check.c — the checks across sections (groups, depends_on, plugin instances) and hashes. */
#include "conf.h"
#include "conf_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *const plugin_kinds[] = {NULL, "monitor", "policy", "store", "frontend"};

void *conf_grow(void *arr, size_t n, size_t size)
{
	void *p = realloc(arr, (n + 1) * size);
	if (!p)
		abort();
	memset((char *)p + n * size, 0, size);
	return p;
}

static int line_of(const struct conf_section *sec, const char *key)
{
	const struct conf_kv *kv = conf_section_get(sec, key);
	return kv ? kv->line : sec->line;
}

static const struct conf_section *section_of(const struct vigil_conf *c, const char *file, int line)
{
	for (size_t i = 0; i < c->nsections; i++)
		if (c->sections[i].line == line && strcmp(c->sections[i].file, file) == 0)
			return &c->sections[i];
	return NULL;
}

int conf_check_groups(struct vigil_conf *c, const struct conf_section **gsec,
                      struct conf_error *err)
{
	const char **names = util_xcalloc(c->nprograms + 1, sizeof(char *));
	for (size_t i = 0; i < c->nprograms; i++)
		names[i] = c->programs[i].name;
	int rc = 0;
	for (size_t g = 0; g < c->ngroups && rc == 0; g++) {
		const struct conf_group *grp = &c->groups[g];
		const struct conf_section *sec = gsec[g];
		if (conf_find_program(c, grp->name)) {
			const struct conf_program *p = conf_find_program(c, grp->name);
			conf_errf(
			    err, sec->file, sec->line, sec->name, NULL,
			    "'%s' is already a program (%s:%d); a group needs a name of its own",
			    grp->name, p->file, p->line);
			rc = -1;
		} else if (!grp->programs[0]) {
			conf_errf(err, sec->file, line_of(sec, "programs"), sec->name, "programs",
			          "expected at least one program");
			rc = -1;
		}
		for (size_t i = 0; rc == 0 && grp->programs[i]; i++) {
			if (conf_find_program(c, grp->programs[i]))
				continue;
			const char *h = util_closest(grp->programs[i], names, c->nprograms);
			conf_errf(err, sec->file, line_of(sec, "programs"), sec->name, "programs",
			          "no program '%s'%s%s%s", grp->programs[i],
			          h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "");
			rc = -1;
		}
	}
	free(names);
	return rc;
}

int conf_check_depends(struct vigil_conf *c, struct conf_error *err)
{
	const char **names = util_xcalloc(c->nprograms + 1, sizeof(char *));
	for (size_t i = 0; i < c->nprograms; i++)
		names[i] = c->programs[i].name;
	int rc = 0;
	for (size_t i = 0; i < c->nprograms && rc == 0; i++) {
		const struct conf_program *p = &c->programs[i];
		for (size_t d = 0; rc == 0 && p->depends_on[d]; d++) {
			const char *dep = p->depends_on[d];
			int self = strcmp(dep, p->name) == 0;
			if (!self && conf_find_program(c, dep))
				continue;
			const struct conf_section *sec = section_of(c, p->file, p->line);
			const char *h = self ? NULL : util_closest(dep, names, c->nprograms);
			if (self)
				conf_errf(err, p->file, line_of(sec, "depends_on"), sec->name,
				          "depends_on", "a program cannot depend on itself");
			else
				conf_errf(err, p->file, line_of(sec, "depends_on"), sec->name,
				          "depends_on", "no program '%s'%s%s%s", dep,
				          h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "");
			rc = -1;
		}
	}
	/* Depth-first search; state 1 = on the current path, 2 = done. The path is the stack. */
	int *state = util_xcalloc(c->nprograms + 1, sizeof(int));
	size_t *path = util_xcalloc(c->nprograms + 1, sizeof(size_t));
	size_t *next = util_xcalloc(c->nprograms + 1, sizeof(size_t));
	for (size_t root = 0; rc == 0 && root < c->nprograms; root++) {
		if (state[root])
			continue;
		size_t depth = 0;
		path[depth++] = root;
		state[root] = 1;
		next[root] = 0;
		while (depth > 0 && rc == 0) {
			size_t u = path[depth - 1];
			const char *dep = c->programs[u].depends_on[next[u]];
			if (!dep) {
				state[u] = 2;
				depth--;
				continue;
			}
			next[u]++;
			size_t v = (size_t)(conf_find_program(c, dep) - c->programs);
			if (state[v] == 2)
				continue;
			if (state[v] == 0) {
				state[v] = 1;
				next[v] = 0;
				path[depth++] = v;
				continue;
			}
			/* A cycle: from v along the path back to v. */
			struct conf_buf b = {0};
			size_t from = 0;
			while (path[from] != v)
				from++;
			for (size_t k = from; k < depth; k++) {
				conf_buf_puts(&b, c->programs[path[k]].name);
				conf_buf_puts(&b, " -> ");
			}
			conf_buf_puts(&b, c->programs[v].name);
			const struct conf_program *p = &c->programs[v];
			const struct conf_section *sec = section_of(c, p->file, p->line);
			conf_errf(err, p->file, line_of(sec, "depends_on"), sec->name, "depends_on",
			          "dependency cycle: %s", b.s);
			free(b.s);
			rc = -1;
		}
	}
	free(state);
	free(path);
	free(next);
	free(names);
	return rc;
}

static int has_instance(const struct vigil_conf *c, enum vigil_plugin_kind kind,
                        const char *instance)
{
	for (size_t i = 0; i < c->nplugins; i++)
		if (c->plugins[i].kind == kind && strcmp(c->plugins[i].instance, instance) == 0)
			return 1;
	return 0;
}

static void add_default(struct vigil_conf *c, enum vigil_plugin_kind kind, const char *name)
{
	c->plugins = conf_grow(c->plugins, c->nplugins, sizeof(*c->plugins));
	struct conf_plugin *p = &c->plugins[c->nplugins++];
	p->kind = kind;
	p->plugin = util_xstrdup(name);
	p->instance = util_xstrdup(name);
	p->sec = NULL;
}

int conf_check_plugins(struct vigil_conf *c, struct conf_error *err)
{
	int stores = 0, policies = 0, ctl = 0;
	for (size_t i = 0; i < c->nplugins; i++) {
		const struct conf_plugin *p = &c->plugins[i];
		for (size_t j = 0; j < i; j++) {
			const struct conf_plugin *q = &c->plugins[j];
			if (q->kind != p->kind || strcmp(q->instance, p->instance) != 0)
				continue;
			conf_errf(
			    err, p->sec->file, p->sec->line, p->sec->name, NULL,
			    "duplicate instance: [%s] (%s:%d) is also %s instance '%s'; give one "
			    "a label of its own, e.g. [%s.%s.other]",
			    q->sec->name, q->sec->file, q->sec->line, plugin_kinds[p->kind],
			    p->instance, plugin_kinds[p->kind], p->plugin);
			return -1;
		}
		stores += p->kind == VIGIL_KIND_STORE;
		policies += p->kind == VIGIL_KIND_POLICY;
		ctl += p->kind == VIGIL_KIND_FRONTEND && strcmp(p->plugin, "ctl") == 0;
	}
	/* SPEC §2: what the file names none of is loaded with its defaults. The backoff policy
	 * also comes when a program relies on it (restart_policy's default) and no instance of
	 * that name exists, so adding [policy.backoff.fast] does not break the other programs. */
	int need_backoff = policies == 0;
	for (size_t i = 0; i < c->nprograms && !need_backoff; i++)
		need_backoff = strcmp(c->programs[i].restart_policy, "backoff") == 0 &&
		               !has_instance(c, VIGIL_KIND_POLICY, "backoff");
	for (size_t i = 0; i < c->npools && !need_backoff; i++)
		need_backoff = strcmp(c->pools[i].restart_policy, "backoff") == 0 &&
		               !has_instance(c, VIGIL_KIND_POLICY, "backoff");
	if (!stores)
		add_default(c, VIGIL_KIND_STORE, "sqlite");
	if (need_backoff)
		add_default(c, VIGIL_KIND_POLICY, "backoff");
	if (!ctl)
		add_default(c, VIGIL_KIND_FRONTEND, "ctl");

	/* Programs, then pools (their task template carries the pool's restart_policy). */
	for (size_t i = 0; i < c->nprograms + c->npools; i++) {
		const struct conf_program *p =
		    i < c->nprograms ? &c->programs[i] : &c->pools[i - c->nprograms].task;
		if (has_instance(c, VIGIL_KIND_POLICY, p->restart_policy))
			continue;
		const char *names[64];
		size_t n = 0;
		struct conf_buf list = {0};
		for (size_t k = 0; k < c->nplugins; k++) {
			if (c->plugins[k].kind != VIGIL_KIND_POLICY)
				continue;
			if (n < 64)
				names[n++] = c->plugins[k].instance;
			conf_buf_puts(&list, list.len ? ", " : "");
			conf_buf_puts(&list, c->plugins[k].instance);
		}
		const char *h = util_closest(p->restart_policy, names, n);
		const struct conf_section *sec = section_of(c, p->file, p->line);
		conf_errf(
		    err, p->file, line_of(sec, "restart_policy"), sec->name, "restart_policy",
		    "no policy instance '%s'%s%s%s; the policies are: %s (add [policy.NAME] or "
		    "[policy.NAME.%s])",
		    p->restart_policy, h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "",
		    list.s ? list.s : "none", p->restart_policy);
		free(list.s);
		return -1;
	}
	return 0;
}

static void h_bytes(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= 1099511628211ULL;
	}
}

static void h_str(uint64_t *h, const char *s)
{
	/* NULL and "" differ; the length keeps "ab","c" apart from "a","bc". */
	size_t n = s ? strlen(s) : (size_t)-1;
	h_bytes(h, &n, sizeof(n));
	if (s)
		h_bytes(h, s, strlen(s));
}

static void h_strv(uint64_t *h, char *const *v)
{
	size_t n = util_strv_len(v);
	h_bytes(h, &n, sizeof(n));
	for (size_t i = 0; i < n; i++)
		h_str(h, v[i]);
}

#define H(h, x) h_bytes((h), &(x), sizeof(x))

uint64_t conf_program_hash(const struct conf_program *p)
{
	uint64_t h = 14695981039346656037ULL;
	h_str(&h, p->name);
	h_str(&h, p->command);
	h_strv(&h, p->argv);
	H(&h, p->numprocs);
	h_str(&h, p->directory);
	h_str(&h, p->user);
	h_str(&h, p->group);
	h_strv(&h, p->environment);
	H(&h, p->clear_env);
	H(&h, p->umask);
	H(&h, p->autostart);
	H(&h, p->priority);
	h_strv(&h, p->depends_on);
	H(&h, p->restart);
	H(&h, p->nsuccess_codes);
	for (size_t i = 0; i < p->nsuccess_codes; i++)
		H(&h, p->success_codes[i]);
	h_str(&h, p->restart_policy);
	H(&h, p->ready);
	H(&h, p->ready_delay_ms);
	H(&h, p->ready_check.kind);
	h_str(&h, p->ready_check.target);
	H(&h, p->watchdog_ms);
	H(&h, p->health_check.kind);
	h_str(&h, p->health_check.target);
	H(&h, p->health_interval_ms);
	H(&h, p->health_timeout_ms);
	H(&h, p->health_failures);
	H(&h, p->on_unhealthy);
	H(&h, p->start_timeout_ms);
	H(&h, p->stop_signal);
	H(&h, p->stop_timeout_ms);
	H(&h, p->kill_tree);
	H(&h, p->stdout_mode);
	H(&h, p->stderr_mode);
	H(&h, p->log_max_size);
	H(&h, p->log_backups);
	H(&h, p->limit_memory);
	H(&h, p->limit_cpu);
	H(&h, p->limit_runtime_ms);
	H(&h, p->limit_nofile);
	H(&h, p->limit_nproc);
	H(&h, p->limit_core);
	H(&h, p->on_limit);
	h_strv(&h, p->tags);
	return h;
}

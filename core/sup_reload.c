/* sup_reload.c — applying a new configuration to running instances, touching only what changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "loop.h"
#include "sup_int.h"
#include "task.h"
#include "util.h"

/* Configurations replaced by a reload stay alive while an instance still points into them
 * (a removed program that is still stopping). */
struct held_conf {
	struct vigil_conf *conf;
	struct held_conf *next;
};
static struct held_conf *held;

static int uses(const struct vigil_conf *c, const struct proc *p)
{
	return p->prog >= c->programs && p->prog < c->programs + c->nprograms;
}

static void free_unused_confs(void)
{
	for (struct held_conf **h = &held; *h;) {
		struct vigil_conf *c = (*h)->conf;
		int used = c == S.conf;
		for (size_t i = 0; i < S.nprocs && !used; i++)
			used = uses(c, S.procs[i]);
		if (used) {
			h = &(*h)->next;
			continue;
		}
		struct held_conf *dead = *h;
		*h = dead->next;
		conf_free(dead->conf);
		free(dead);
	}
}

/* Drops removed instances once they are down. */
static void sweep(void *arg)
{
	(void)arg;
	S.sweep_timer = NULL;
	size_t kept = 0;
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (p->removing && sup_is_down(p)) {
			log_info("%s: removed", p->name);
			if (namemap_get(&S.byname, p->name) == p)
				namemap_del(&S.byname, p->name);
			proc_free(p);
			continue;
		}
		S.procs[kept++] = p;
	}
	S.nprocs = kept;
	for (size_t i = 0; i < S.nprocs; i++)
		S.procs[i]->index_all = i;
	free_unused_confs();
}

void sup_schedule_sweep(void)
{
	if (!S.sweep_timer)
		S.sweep_timer = loop_timer_add(0, 0, sweep, NULL);
}

void sup_reload_fini(void)
{
	while (held) {
		struct held_conf *h = held;
		held = h->next;
		conf_free(h->conf);
		free(h);
	}
}

static int check_applicable(const struct vigil_conf *nc, char *err, size_t len)
{
	if (strcmp(nc->state_dir, S.conf->state_dir) != 0) {
		snprintf(err, len, "%s: state_dir changed (%s -> %s): that needs a restart of vigild",
		         nc->file, S.conf->state_dir, nc->state_dir);
		return -1;
	}
	for (size_t i = 0; i < nc->nprograms; i++) {
		const struct conf_program *g = &nc->programs[i];
		if (!loader_find(S.plugins, VIGIL_KIND_POLICY, g->restart_policy)) {
			snprintf(err, len,
			         "%s:%d: [program.%s] restart_policy: policy instance '%s' is not loaded; "
			         "new plugin instances need a reexec of vigild",
			         g->file, g->line, g->name, g->restart_policy);
			return -1;
		}
	}
	return 0;
}

/* Plugin sections are read when plugins start; say so when they changed. */
static int plugins_changed(const struct vigil_conf *a, const struct vigil_conf *b)
{
	if (a->nplugins != b->nplugins)
		return 1;
	for (size_t i = 0; i < a->nplugins; i++) {
		const struct conf_plugin *x = &a->plugins[i], *y = &b->plugins[i];
		if (x->kind != y->kind || strcmp(x->plugin, y->plugin) != 0 ||
		    strcmp(x->instance, y->instance) != 0 || !x->sec != !y->sec)
			return 1;
		if (!x->sec)
			continue;
		if (x->sec->nkv != y->sec->nkv)
			return 1;
		for (size_t k = 0; k < x->sec->nkv; k++)
			if (strcmp(x->sec->kv[k].key, y->sec->kv[k].key) != 0 ||
			    strcmp(x->sec->kv[k].value, y->sec->kv[k].value) != 0)
				return 1;
	}
	return 0;
}

static void set_policy(struct proc *p)
{
	struct vigil_instance *pol = loader_find(S.plugins, VIGIL_KIND_POLICY, p->prog->restart_policy);
	if (pol == p->policy)
		return;
	if (p->policy && p->policy_mem) {
		const struct vigil_policy_ops *ops = p->policy->desc.ops;
		if (ops->release)
			ops->release(p->policy->state, p->policy_mem);
	}
	p->policy_mem = NULL;
	p->policy = pol;
}

int sup_reload(struct vigil_conf *nc, char *err, size_t len)
{
	if (S.shutting_down) {
		snprintf(err, len, "vigild is shutting down");
		return -1;
	}
	if (check_applicable(nc, err, len) < 0)
		return -1;
	if (plugins_changed(S.conf, nc))
		log_warn("plugin sections changed: they take effect at the next `vigilctl reexec`");

	size_t total = 0;
	for (size_t i = 0; i < nc->nprograms; i++)
		total += (size_t)nc->programs[i].numprocs;
	struct proc **next = util_xcalloc(total + S.nprocs + 1, sizeof *next);
	struct proc **restart = util_xcalloc(total + 1, sizeof *restart);
	size_t n = 0, nrestart = 0;
	unsigned added = 0, removed = 0, changed = 0, unchanged = 0;

	for (size_t i = 0; i < S.nprocs; i++)
		S.procs[i]->reload_mark = 0;
	for (size_t i = 0; i < nc->nprograms; i++) {
		const struct conf_program *g = &nc->programs[i];
		for (int k = 0; k < g->numprocs; k++) {
			char name[300];
			if (g->numprocs > 1)
				snprintf(name, sizeof name, "%s.%d", g->name, k);
			else
				snprintf(name, sizeof name, "%s", g->name);
			struct proc *p = sup_find(name);
			if (p && p->removing) {
				/* Back before its earlier removal finished: the same instance carries
				 * on (a twin would run beside it and share its registry entry). */
				p->removing = 0;
				p->prog = g;
				p->reload_mark = 1;
				set_policy(p);
				next[n++] = p;
				changed++;
				if (p->pid)
					p->restart_after_stop = g->autostart;
				else if (g->autostart)
					restart[nrestart++] = p;
				continue;
			}
			if (!p) {
				p = proc_new(g, g->numprocs > 1 ? k : -1);
				p->policy = NULL;
				set_policy(p);
				namemap_put(&S.byname, p->name, p);
				p->reload_mark = 2;
				next[n++] = p;
				added++;
				if (g->autostart)
					restart[nrestart++] = p;
				continue;
			}
			int same = p->prog->hash == g->hash && p->instance == (g->numprocs > 1 ? k : -1);
			p->prog = g;
			p->reload_mark = 1;
			set_policy(p);
			next[n++] = p;
			if (same) {
				unchanged++;
				continue;
			}
			changed++;
			logcap_configure(&p->out, g->log_max_size, g->log_backups);
			logcap_configure(&p->err, g->log_max_size, g->log_backups);
			if (p->pid) {
				p->restart_after_stop = 1;
				sup_request_stop(p, "reload");
			} else if (g->autostart && !p->want_down) {
				restart[nrestart++] = p;
			}
		}
	}
	for (size_t i = 0; i < S.nprocs; i++) {
		struct proc *p = S.procs[i];
		if (p->reload_mark)
			continue;
		if (!p->removing)
			removed++;
		p->removing = 1;
		p->restart_after_stop = 0;
		next[n++] = p;
	}

	/* A start of everything still under way names instances this reload may free: it goes
	 * on below, over the new list. */
	int starting = sup_start_all_pending();
	void (*started)(void) = sup_start_all_cancel();
	struct held_conf *h = util_xcalloc(1, sizeof *h);
	h->conf = nc;
	h->next = held;
	held = h;
	S.conf = nc;
	task_reload(nc);
	free(S.procs);
	S.procs = next;
	S.nprocs = n;
	for (size_t i = 0; i < S.nprocs; i++)
		S.procs[i]->index_all = i;

	for (size_t i = 0; i < S.nprocs; i++)
		if (S.procs[i]->removing)
			sup_request_stop(S.procs[i], "reload");
	for (size_t i = 0; i < nrestart; i++)
		sup_request_start(restart[i]);
	free(restart);
	if (starting)
		sup_start_all(started);
	sup_schedule_sweep();

	log_info("configuration reloaded from %s: %u added, %u removed, %u changed, %u unchanged",
	         nc->file, added, removed, changed, unchanged);
	struct vigil_ev_config_reloaded ev = {
		.hdr = {.type = VIGIL_EV_CONFIG_RELOADED, .size = sizeof ev},
		.config_file = nc->file,
		.added = added,
		.removed = removed,
		.changed = changed,
		.unchanged = unchanged,
	};
	bus_publish(&ev.hdr);
	return 0;
}

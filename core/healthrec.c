/* healthrec.c — per-instance health records fed by health.changed, alert.* and limit.violated. */
#include "healthrec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "namemap.h"
#include "sup.h"
#include "util.h"

struct alert {
	char *id, *severity, *message;
	int64_t since_ms;
};

struct rec {
	char *name;
	struct vigil_health_info info; /* strings point into the fields below */
	char level[16], trend[16];
	struct alert *alerts;
	struct vigil_alert_info *views;
	size_t nalerts, cap;
};

static struct {
	struct namemap map;
	struct rec **all;
	size_t n, cap;
	struct vigil_sub *sub;
} R;

static struct rec *get(const char *name)
{
	struct rec *r = namemap_get(&R.map, name);
	if (r)
		return r;
	r = util_xcalloc(1, sizeof *r);
	r->name = util_xstrdup(name);
	r->info.size = sizeof r->info;
	r->info.score = -1;
	r->info.memory_exhaustion_ms = -1;
	if (R.n == R.cap) {
		R.cap = R.cap ? R.cap * 2 : 64;
		R.all = realloc(R.all, R.cap * sizeof *R.all);
		if (!R.all)
			abort();
	}
	R.all[R.n++] = r;
	namemap_put(&R.map, r->name, r);
	return r;
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void alert_drop(struct rec *r, size_t i)
{
	free(r->alerts[i].id);
	free(r->alerts[i].severity);
	free(r->alerts[i].message);
	r->alerts[i] = r->alerts[--r->nalerts];
}

static void on_event(const struct vigil_event *ev, void *arg)
{
	(void)arg;
	if (!ev->subject)
		return;
	struct rec *r = get(ev->subject);
	switch (ev->type) {
	case VIGIL_EV_HEALTH_CHANGED: {
		const struct vigil_ev_health_changed *h = (const void *)ev;
		r->info.score = h->score;
		copy(r->level, sizeof r->level, h->level);
		copy(r->trend, sizeof r->trend, h->trend);
		r->info.memory_penalty = h->memory_penalty;
		r->info.cpu_penalty = h->cpu_penalty;
		r->info.restart_penalty = h->restart_penalty;
		r->info.check_penalty = h->check_penalty;
		r->info.latency_penalty = h->latency_penalty;
		r->info.memory_exhaustion_ms = h->memory_exhaustion_ms;
		break;
	}
	case VIGIL_EV_ALERT_RAISED:
	case VIGIL_EV_ALERT_CLEARED: {
		const struct vigil_ev_alert *a = (const void *)ev;
		const char *id = a->alert ? a->alert : "";
		for (size_t i = 0; i < r->nalerts; i++)
			if (strcmp(r->alerts[i].id, id) == 0) {
				alert_drop(r, i);
				break;
			}
		if (ev->type == VIGIL_EV_ALERT_CLEARED)
			break;
		r->info.alerts_raised++;
		if (r->nalerts == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4;
			r->alerts = realloc(r->alerts, r->cap * sizeof *r->alerts);
			r->views = realloc(r->views, r->cap * sizeof *r->views);
			if (!r->alerts || !r->views)
				abort();
		}
		r->alerts[r->nalerts++] = (struct alert){
			util_xstrdup(id), util_xstrdup(a->severity ? a->severity : "warning"),
			util_xstrdup(a->message ? a->message : ""), ev->time_us / 1000};
		break;
	}
	case VIGIL_EV_LIMIT_VIOLATED: {
		const struct vigil_ev_limit_violated *l = (const void *)ev;
		const char *what = l->limit ? l->limit : "";
		r->info.violations++;
		r->info.last_violation_ms = ev->time_us / 1000;
		if (strcmp(what, "memory") == 0)
			r->info.violations_memory++;
		else if (strcmp(what, "cpu") == 0)
			r->info.violations_cpu++;
		else if (strcmp(what, "runtime") == 0)
			r->info.violations_runtime++;
		else if (strcmp(what, "nofile") == 0)
			r->info.violations_nofile++;
		else if (strcmp(what, "nproc") == 0)
			r->info.violations_nproc++;
		break;
	}
	default:
		break;
	}
}

struct walk {
	vigil_health_fn fn;
	void *arg;
};

static int each(const struct vigil_proc_info *p, void *arg)
{
	struct walk *w = arg;
	struct rec *r = get(p->name);
	r->info.name = r->name;
	r->info.level = r->info.score >= 0 ? r->level : NULL;
	r->info.trend = r->info.score >= 0 ? r->trend : NULL;
	for (size_t i = 0; i < r->nalerts; i++)
		r->views[i] = (struct vigil_alert_info){r->alerts[i].id, r->alerts[i].severity,
		                                        r->alerts[i].message, r->alerts[i].since_ms};
	r->info.alerts = r->nalerts ? r->views : NULL;
	r->info.nalerts = (uint32_t)r->nalerts;
	return w->fn(&r->info, w->arg);
}

int healthrec_foreach(const char *target, vigil_health_fn fn, void *arg)
{
	struct walk w = {fn, arg};
	return sup_foreach(target, each, &w);
}

int healthrec_init(void)
{
	struct vigil_filter f;
	memset(&f, 0, sizeof f);
	vigil_filter_add(&f, VIGIL_EV_HEALTH_CHANGED);
	vigil_filter_add(&f, VIGIL_EV_ALERT_RAISED);
	vigil_filter_add(&f, VIGIL_EV_ALERT_CLEARED);
	vigil_filter_add(&f, VIGIL_EV_LIMIT_VIOLATED);
	R.sub = bus_subscribe(NULL, &f, on_event, NULL);
	return R.sub ? 0 : -ENOMEM;
}

void healthrec_fini(void)
{
	if (R.sub)
		bus_unsubscribe(R.sub);
	for (size_t i = 0; i < R.n; i++) {
		struct rec *r = R.all[i];
		while (r->nalerts)
			alert_drop(r, 0);
		free(r->alerts);
		free(r->views);
		free(r->name);
		free(r);
	}
	free(R.all);
	namemap_clear(&R.map);
	memset(&R, 0, sizeof R);
}

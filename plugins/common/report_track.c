/* report_track.c — what the report learns from the bus: health trends, alerts, violations. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define REP_BUCKETS 1024u
#define REP_ALERTS_MAX 64u /* active alerts kept per subject */
#define REP_VIOL_MAX 64u   /* distinct violation names kept per subject */

struct rep_alert {
	char *id, *message;
	const char *severity; /* static */
	int64_t since_ms;
};

struct rep_viol {
	char *name;
	const char *source; /* static */
	uint64_t count;
};

struct rep_subject {
	char *name;
	uint64_t touched;  /* tracker clock at the last update, for eviction */
	const char *trend; /* static, NULL = none seen */
	struct rep_alert *alerts;
	size_t nalerts;
	struct rep_viol *viol;
	size_t nviol;
	struct rep_subject *next;
};

struct report_tracker {
	struct rep_subject *bucket[REP_BUCKETS];
	size_t n;
	uint64_t clock;
	int64_t started_ms;
};

static unsigned rep_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % REP_BUCKETS;
}

struct report_tracker *report_tracker_new(void)
{
	return calloc(1, sizeof(struct report_tracker));
}

static void rep_subject_free(struct rep_subject *s)
{
	for (size_t i = 0; i < s->nalerts; i++) {
		free(s->alerts[i].id);
		free(s->alerts[i].message);
	}
	free(s->alerts);
	for (size_t i = 0; i < s->nviol; i++)
		free(s->viol[i].name);
	free(s->viol);
	free(s->name);
	free(s);
}

void report_tracker_free(struct report_tracker *t)
{
	if (!t)
		return;
	for (unsigned b = 0; b < REP_BUCKETS; b++) {
		while (t->bucket[b]) {
			struct rep_subject *s = t->bucket[b];

			t->bucket[b] = s->next;
			rep_subject_free(s);
		}
	}
	free(t);
}

void report_tracker_filter(struct vigil_filter *f)
{
	vigil_filter_add(f, VIGIL_EV_SUPERVISOR_STARTED);
	vigil_filter_add(f, VIGIL_EV_HEALTH_CHANGED);
	vigil_filter_add(f, VIGIL_EV_LIMIT_VIOLATED);
	vigil_filter_add(f, VIGIL_EV_ALERT_RAISED);
	vigil_filter_add(f, VIGIL_EV_ALERT_CLEARED);
}

static struct rep_subject *rep_find(const struct report_tracker *t, const char *name)
{
	struct rep_subject *s;

	for (s = t->bucket[rep_hash(name)]; s; s = s->next)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* Forgets the subject updated longest ago (a full table: subjects come and go with tasks). */
static void rep_evict(struct report_tracker *t)
{
	struct rep_subject **victim = NULL, **pp;

	for (unsigned b = 0; b < REP_BUCKETS; b++)
		for (pp = &t->bucket[b]; *pp; pp = &(*pp)->next)
			if (!victim || (*pp)->touched < (*victim)->touched)
				victim = pp;
	if (victim) {
		struct rep_subject *s = *victim;

		*victim = s->next;
		rep_subject_free(s);
		t->n--;
	}
}

static struct rep_subject *rep_get(struct report_tracker *t, const char *name)
{
	struct rep_subject *s = rep_find(t, name);
	unsigned b;

	if (!s) {
		if (t->n >= REPORT_TRACK_MAX)
			rep_evict(t);
		s = calloc(1, sizeof *s);
		if (!s)
			return NULL;
		s->name = strdup(name);
		if (!s->name) {
			free(s);
			return NULL;
		}
		b = rep_hash(name);
		s->next = t->bucket[b];
		t->bucket[b] = s;
		t->n++;
	}
	s->touched = ++t->clock;
	return s;
}

/* Maps free text onto the static names the schema allows; NULL when not one of them. */
static const char *rep_pick(const char *v, const char *const *names)
{
	for (; v && *names; names++)
		if (strcmp(v, *names) == 0)
			return *names;
	return NULL;
}

static void rep_count(struct rep_subject *s, const char *source, const char *name, uint64_t count)
{
	struct rep_viol *v;
	size_t i;

	for (i = 0; i < s->nviol; i++) {
		if (s->viol[i].source == source && strcmp(s->viol[i].name, name) == 0) {
			/* limit.violated carries its own running count; alerts are counted here */
			s->viol[i].count = count > s->viol[i].count ? count : s->viol[i].count + 1;
			return;
		}
	}
	if (s->nviol >= REP_VIOL_MAX)
		return;
	v = realloc(s->viol, (s->nviol + 1) * sizeof *v);
	if (!v)
		return;
	s->viol = v;
	v[s->nviol].name = strdup(name);
	if (!v[s->nviol].name)
		return;
	v[s->nviol].source = source;
	v[s->nviol].count = count ? count : 1;
	s->nviol++;
}

static void rep_alert_raise(struct rep_subject *s, const struct vigil_ev_alert *a, int64_t now_ms)
{
	static const char *const severities[] = {"warning", "critical", "emergency", NULL};
	const char *sev = rep_pick(a->severity, severities);
	struct rep_alert *arr, *al = NULL;
	char *msg = a->message ? strdup(a->message) : NULL;
	size_t i;

	if (a->message && !msg)
		return;
	for (i = 0; i < s->nalerts; i++)
		if (strcmp(s->alerts[i].id, a->alert) == 0)
			al = &s->alerts[i];
	if (!al) {
		if (s->nalerts >= REP_ALERTS_MAX)
			goto out;
		arr = realloc(s->alerts, (s->nalerts + 1) * sizeof *arr);
		if (!arr)
			goto out;
		s->alerts = arr;
		al = &arr[s->nalerts];
		al->id = strdup(a->alert);
		if (!al->id)
			goto out;
		al->message = NULL;
		al->since_ms = now_ms; /* raised again while active: it is active since the first */
		s->nalerts++;
	}
	/* an unknown severity is shown as the mildest the schema knows */
	al->severity = sev ? sev : "warning";
	free(al->message);
	al->message = msg;
	msg = NULL;
out:
	free(msg);
	rep_count(s, "alert", a->alert, 0);
}

static void rep_alert_clear(struct rep_subject *s, const char *id)
{
	for (size_t i = 0; i < s->nalerts; i++) {
		if (strcmp(s->alerts[i].id, id) == 0) {
			free(s->alerts[i].id);
			free(s->alerts[i].message);
			memmove(&s->alerts[i], &s->alerts[i + 1],
			        (s->nalerts - i - 1) * sizeof *s->alerts);
			s->nalerts--;
			return;
		}
	}
}

void report_tracker_event(struct report_tracker *t, const struct vigil_event *ev)
{
	static const char *const trends[] = {"improving", "stable", "degrading", NULL};
	int64_t now_ms = ev->time_us / 1000;
	struct rep_subject *s;

	if (!t)
		return;
	if (ev->type == VIGIL_EV_SUPERVISOR_STARTED) {
		t->started_ms = now_ms;
		return;
	}
	if (!ev->subject)
		return;
	switch (ev->type) {
	case VIGIL_EV_HEALTH_CHANGED: {
		const struct vigil_ev_health_changed *h = (const void *)ev;

		if (ev->size < sizeof *h || !(s = rep_get(t, ev->subject)))
			return;
		s->trend = rep_pick(h->trend, trends);
		break;
	}
	case VIGIL_EV_ALERT_RAISED: {
		const struct vigil_ev_alert *a = (const void *)ev;

		if (ev->size < sizeof *a || !a->alert || !(s = rep_get(t, ev->subject)))
			return;
		rep_alert_raise(s, a, now_ms);
		break;
	}
	case VIGIL_EV_ALERT_CLEARED: {
		const struct vigil_ev_alert *a = (const void *)ev;

		if (ev->size < sizeof *a || !a->alert || !(s = rep_get(t, ev->subject)))
			return;
		rep_alert_clear(s, a->alert);
		break;
	}
	case VIGIL_EV_LIMIT_VIOLATED: {
		const struct vigil_ev_limit_violated *l = (const void *)ev;

		if (ev->size < sizeof *l || !l->limit || !(s = rep_get(t, ev->subject)))
			return;
		rep_count(s, "limit", l->limit, l->count);
		break;
	}
	default:
		break;
	}
}

int64_t report_tracker_started(const struct report_tracker *t)
{
	return t ? t->started_ms : 0;
}

static char *rep_clean(const char *s, int *err)
{
	char *c;

	if (!s)
		return NULL;
	c = report_text_clean(s);
	if (!c)
		*err = -ENOMEM;
	return c;
}

void report_tracker_apply(const struct report_tracker *t, const char *subject,
                          struct report_instance *in, int *err)
{
	const struct rep_subject *s = rep_find(t, subject);
	size_t i;

	in->tracked = 1;
	if (!s)
		return;
	in->trend = s->trend;
	if (s->nalerts) {
		in->alerts = calloc(s->nalerts, sizeof *in->alerts);
		if (!in->alerts) {
			*err = -ENOMEM;
			return;
		}
		in->nalerts = s->nalerts;
		for (i = 0; i < s->nalerts; i++) {
			in->alerts[i].id = rep_clean(s->alerts[i].id, err);
			in->alerts[i].severity = rep_clean(s->alerts[i].severity, err);
			in->alerts[i].message = rep_clean(s->alerts[i].message, err);
			in->alerts[i].since_ms = s->alerts[i].since_ms;
		}
	}
	if (s->nviol) {
		in->violations = calloc(s->nviol, sizeof *in->violations);
		if (!in->violations) {
			*err = -ENOMEM;
			return;
		}
		in->nviolations = s->nviol;
		for (i = 0; i < s->nviol; i++) {
			in->violations[i].name = rep_clean(s->viol[i].name, err);
			in->violations[i].source = s->viol[i].source;
			in->violations[i].count = s->viol[i].count;
		}
	}
}

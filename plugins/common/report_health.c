/* report_health.c — the core's health record of an instance, copied into the report's model. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Maps free text onto the static names the schema allows; NULL when not one of them. */
static const char *rep_pick(const char *v, const char *const *names)
{
	for (; v && *names; names++)
		if (strcmp(v, *names) == 0)
			return *names;
	return NULL;
}

/* Cleans src into *dst; NULL stays NULL. */
static int rep_hdup(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = report_text_clean(src);
	return *dst ? 0 : -ENOMEM;
}

static int rep_health_alerts(struct report_instance *in, const struct vigil_health_info *h)
{
	static const char *const severities[] = {"warning", "critical", "emergency", NULL};
	int rc = 0;

	if (!h->nalerts || !h->alerts)
		return 0;
	in->alerts = calloc(h->nalerts, sizeof *in->alerts);
	if (!in->alerts)
		return -ENOMEM;
	in->nalerts = h->nalerts;
	for (uint32_t i = 0; i < h->nalerts && !rc; i++) {
		const struct vigil_alert_info *a = &h->alerts[i];
		struct report_alert *out = &in->alerts[i];
		const char *sev = rep_pick(a->severity, severities);

		out->since_ms = a->since_ms > 0 ? a->since_ms : 0;
		/* a severity the schema does not know is shown as the mildest it does */
		if (rep_hdup(&out->id, a->alert ? a->alert : "") < 0 ||
		    rep_hdup(&out->severity, sev ? sev : "warning") < 0 ||
		    rep_hdup(&out->message, a->message) < 0)
			rc = -ENOMEM;
	}
	return rc;
}

/* The limits violated at least once, in a fixed order. The alert ids are not counted here:
 * the active alerts are listed, and a count per alert id is not what the core keeps. */
static int rep_health_violations(struct report_instance *in, const struct vigil_health_info *h)
{
	const struct {
		const char *name;
		uint32_t count;
	} limits[] = {
	    {"memory", h->violations_memory},   {"cpu", h->violations_cpu},
	    {"runtime", h->violations_runtime}, {"nofile", h->violations_nofile},
	    {"nproc", h->violations_nproc},
	};
	size_t n = 0, i;

	for (i = 0; i < sizeof limits / sizeof limits[0]; i++)
		n += limits[i].count > 0;
	if (!n)
		return 0;
	in->violations = calloc(n, sizeof *in->violations);
	if (!in->violations)
		return -ENOMEM;
	for (i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		if (!limits[i].count)
			continue;
		in->violations[in->nviolations].name = limits[i].name;
		in->violations[in->nviolations].count = limits[i].count;
		in->nviolations++;
	}
	return 0;
}

int report_health_apply(struct report_instance *in, const struct vigil_health_info *h)
{
	static const char *const trends[] = {"improving", "stable", "degrading", NULL};
	static const char *const levels[] = {"healthy", "degraded", "unhealthy", "critical", NULL};
	int rc;

	if (h->size < sizeof *h)
		return 0;
	in->health_known = 1;
	/* never scored (-1): no level or trend; the process table's score, if any, stays */
	if (h->score >= 0 && h->score <= 100) {
		in->health = h->score;
		in->level = rep_pick(h->level, levels);
		in->trend = rep_pick(h->trend, trends);
	}
	rc = rep_health_alerts(in, h);
	if (rc == 0)
		rc = rep_health_violations(in, h);
	return rc;
}

/* hmath.c — monitor_health arithmetic: sample rings, least-squares fits, alert hysteresis. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

int hm_ring_init(struct hm_ring *r, uint32_t cap)
{
	if (r->p && r->cap == cap)
		return 0;
	free(r->p);
	memset(r, 0, sizeof *r);
	r->p = calloc(cap, sizeof *r->p);
	if (!r->p)
		return -ENOMEM;
	r->cap = cap;
	return 0;
}

void hm_ring_free(struct hm_ring *r)
{
	free(r->p);
	memset(r, 0, sizeof *r);
}

void hm_ring_clear(struct hm_ring *r)
{
	r->n = 0;
	r->head = 0;
}

void hm_ring_push(struct hm_ring *r, uint64_t t_ms, double v)
{
	if (!r->cap)
		return;
	r->p[r->head] = (struct hm_point){(uint32_t)t_ms, (float)v};
	r->head = (r->head + 1) % r->cap;
	if (r->n < r->cap)
		r->n++;
}

const struct hm_point *hm_ring_at(const struct hm_ring *r, uint32_t i)
{
	return &r->p[(r->head + r->cap - r->n + i) % r->cap];
}

int hm_fit(const struct hm_ring *r, uint32_t last, struct hm_fit *out)
{
	uint32_t n = last && last < r->n ? last : r->n, first = r->n - n;
	double mx = 0, my = 0, sxx = 0, sxy = 0, syy = 0;
	uint32_t t_new;

	memset(out, 0, sizeof *out);
	if (n < 2)
		return -EINVAL;
	t_new = hm_ring_at(r, r->n - 1)->t;
	/* Two passes around the means: RSS in bytes squared overflows a float's precision. */
	for (uint32_t i = first; i < r->n; i++) {
		const struct hm_point *p = hm_ring_at(r, i);

		mx -= (double)(uint32_t)(t_new - p->t);
		my += p->v;
	}
	mx /= n;
	my /= n;
	for (uint32_t i = first; i < r->n; i++) {
		const struct hm_point *p = hm_ring_at(r, i);
		double dx = -(double)(uint32_t)(t_new - p->t) - mx, dy = p->v - my;

		sxx += dx * dx;
		sxy += dx * dy;
		syy += dy * dy;
	}
	if (sxx <= 0)
		return -EINVAL;
	out->n = n;
	out->slope = sxy / sxx;
	out->r2 = syy > 0 ? sxy * sxy / (sxx * syy) : 0;
	out->span_ms = (double)(uint32_t)(t_new - hm_ring_at(r, first)->t);
	out->at_new = my - out->slope * mx;
	return 0;
}

static uint16_t bump(uint16_t v)
{
	return v < UINT16_MAX ? (uint16_t)(v + 1) : v;
}

/* The highest severity sustained for at least `need` consecutive samples. */
static int sustained(const struct hm_alarm *a, uint32_t need)
{
	for (int s = HM_SEV_EMERGENCY; s > HM_SEV_NONE; s--)
		if (a->run[s] >= need)
			return s;
	return HM_SEV_NONE;
}

int hm_alarm_step(struct hm_alarm *a, enum hm_sev sev, uint32_t raise_after, uint32_t clear_after)
{
	int eff;

	for (int s = HM_SEV_WARNING; s <= HM_SEV_EMERGENCY; s++)
		a->run[s] = (int)sev >= s ? bump(a->run[s]) : 0;
	a->good = sev == HM_SEV_NONE ? bump(a->good) : 0;
	a->lower = a->active && (int)sev < a->active ? bump(a->lower) : 0;
	eff = sustained(a, raise_after);
	if (!a->active) {
		if (!eff)
			return 0;
		a->active = (uint8_t)eff;
		return eff;
	}
	if (a->good >= clear_after) {
		memset(a, 0, sizeof *a);
		return -1;
	}
	if (eff > a->active) {
		a->active = (uint8_t)eff;
		a->lower = 0;
		return eff;
	}
	/* Below the active severity for a while, but not quiet: step down to what held (on a
	 * sample that shows the condition, so the message can describe it). */
	if (a->lower >= clear_after && sev != HM_SEV_NONE) {
		eff = sustained(a, clear_after);
		a->active = (uint8_t)(eff ? eff : HM_SEV_WARNING);
		a->lower = 0;
		return a->active;
	}
	return 0;
}

enum hm_sev hm_grade(double value, double warning, double critical, double emergency)
{
	if (value >= emergency)
		return HM_SEV_EMERGENCY;
	if (value >= critical)
		return HM_SEV_CRITICAL;
	if (value >= warning)
		return HM_SEV_WARNING;
	return HM_SEV_NONE;
}

enum hm_level hm_level_of(int32_t score)
{
	if (score >= 70)
		return HM_HEALTHY;
	if (score >= 40)
		return HM_DEGRADED;
	if (score >= 20)
		return HM_UNHEALTHY;
	return HM_CRITICAL;
}

const char *hm_level_name(enum hm_level l)
{
	static const char *const names[] = {"healthy", "degraded", "unhealthy", "critical"};
	return (unsigned)l < 4 ? names[l] : "critical";
}

const char *hm_trend_name(enum hm_trend t)
{
	static const char *const names[] = {"stable", "improving", "degrading"};
	return (unsigned)t < 3 ? names[t] : "stable";
}

const char *hm_sev_name(enum hm_sev s)
{
	static const char *const names[] = {"none", "warning", "critical", "emergency"};
	return (unsigned)s < 4 ? names[s] : "warning";
}

const char *hm_bytes(double bytes, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (fabs(bytes) >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
	return buf;
}

const char *hm_duration(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400, s / 3600 % 24);
	return buf;
}

/* hinst.c — monitor_health: the instance table, limits read from the core, forgetting. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

static uint32_t hm_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Rebuilds the slots for the current entries: on growth and after a removal (both rare).
 * The table never shrinks, so a rebuild after a removal cannot fail. */
static int hm_rehash(struct hm *h)
{
	size_t want = 16;
	uint32_t *s;

	while (want < h->n * 2 + 2)
		want *= 2;
	if (want > h->nslots) {
		s = calloc(want, sizeof *s);
		if (!s)
			return -ENOMEM;
		free(h->slots);
		h->slots = s;
		h->nslots = want;
	} else {
		memset(h->slots, 0, h->nslots * sizeof *h->slots);
	}
	for (size_t i = 0; i < h->n; i++) {
		size_t k = h->insts[i]->hash & (h->nslots - 1);

		while (h->slots[k])
			k = (k + 1) & (h->nslots - 1);
		h->slots[k] = (uint32_t)i + 1;
	}
	return 0;
}

struct hm_inst *hm_find(const struct hm *h, const char *name)
{
	uint32_t hash;

	if (!h->nslots || !name)
		return NULL;
	hash = hm_hash(name);
	for (size_t k = hash & (h->nslots - 1); h->slots[k]; k = (k + 1) & (h->nslots - 1)) {
		struct hm_inst *in = h->insts[h->slots[k] - 1];

		if (in->hash == hash && strcmp(in->name, name) == 0)
			return in;
	}
	return NULL;
}

struct hm_inst *hm_get(struct hm *h, const char *name)
{
	struct hm_inst *in = hm_find(h, name);

	if (in || !name)
		return in;
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct hm_inst **v = realloc(h->insts, cap * sizeof *v);

		if (!v)
			return NULL;
		h->insts = v;
		h->cap = cap;
	}
	in = calloc(1, sizeof *in);
	if (!in)
		return NULL;
	in->name = strdup(name);
	if (!in->name) {
		free(in);
		return NULL;
	}
	in->hash = hm_hash(name);
	in->seen = h->gen;
	in->rss = in->cpu = in->cpu_avg = -1;
	in->exhaustion_ms = in->pub_exhaustion_ms = -1;
	in->score = -1;
	in->score_now = 100;
	h->insts[h->n++] = in;
	if (h->nslots < h->n * 2 + 2) {
		if (hm_rehash(h) < 0) {
			h->n--;
			free(in->name);
			free(in);
			return NULL;
		}
	} else {
		size_t k = in->hash & (h->nslots - 1);

		while (h->slots[k])
			k = (k + 1) & (h->nslots - 1);
		h->slots[k] = (uint32_t)h->n;
	}
	hm_refresh_limits(h, in);
	return in;
}

static void hm_inst_free(struct hm_inst *in)
{
	hm_ring_free(&in->scores);
	hm_ring_free(&in->rsss);
	free(in->name);
	free(in);
}

void hm_remove(struct hm *h, struct hm_inst *in)
{
	for (size_t i = 0; i < h->n; i++) {
		if (h->insts[i] != in)
			continue;
		h->insts[i] = h->insts[--h->n];
		hm_inst_free(in);
		/* Same or fewer entries than before: the rebuild reuses the slots, it cannot fail. */
		hm_rehash(h);
		return;
	}
}

void hm_free_all(struct hm *h)
{
	for (size_t i = 0; i < h->n; i++)
		hm_inst_free(h->insts[i]);
	free(h->insts);
	free(h->slots);
	h->insts = NULL;
	h->slots = NULL;
	h->n = h->cap = h->nslots = 0;
}

static enum hm_action hm_action_of(const struct vigil_proc_info *info)
{
	const char *a = NULL;

	if (info->size >= offsetof(struct vigil_proc_info, on_limit) + sizeof info->on_limit)
		a = info->on_limit;
	if (a && strcmp(a, "stop") == 0)
		return HM_ACT_STOP;
	if (a && strcmp(a, "alert") == 0)
		return HM_ACT_ALERT;
	return HM_ACT_RESTART;
}

static int hm_limits_one(const struct vigil_proc_info *info, void *arg)
{
	struct hm *h = arg;
	struct hm_inst *in = hm_find(h, info->name);

	if (in) {
		in->limit_memory = info->limit_memory > 0 ? info->limit_memory : 0;
		in->limit_cpu = info->limit_cpu > 0 ? info->limit_cpu : 0;
		in->on_limit = hm_action_of(info);
		in->seen = h->gen;
	}
	return 0;
}

void hm_refresh_limits(struct hm *h, struct hm_inst *in)
{
	/* proc_foreach by name selects a program's instances too: the callback matches by
	 * instance name, so either way only our entries change. */
	h->host->proc_foreach(in ? in->name : NULL, hm_limits_one, h);
}

struct hm_state_query {
	const char *name;
	int state;
};

static int hm_state_one(const struct vigil_proc_info *info, void *arg)
{
	struct hm_state_query *q = arg;

	if (info->name && strcmp(info->name, q->name) == 0)
		q->state = (int)info->state;
	return 0;
}

int hm_proc_state(const struct hm *h, const char *name)
{
	struct hm_state_query q = {name, -ENOENT};

	h->host->proc_foreach(name, hm_state_one, &q);
	return q.state;
}

void hm_new_process(struct hm *h, struct hm_inst *in, int32_t pid)
{
	hm_clear_process_alerts(h, in);
	in->pid = pid;
	in->rss = in->cpu = in->cpu_avg = -1;
	in->exhaustion_ms = -1;
	hm_ring_clear(&in->rsss);
	in->over_mem = in->over_cpu = 0;
	in->tripped_mem = in->tripped_cpu = 0;
}

void hm_sweep(struct hm *h)
{
	h->gen++;
	h->host->proc_foreach(NULL, hm_limits_one, h);
	for (size_t i = h->n; i-- > 0;) {
		struct hm_inst *in = h->insts[i];

		if (in->seen != h->gen) {
			hm_clear_process_alerts(h, in);
			hm_remove(h, in);
		}
	}
}

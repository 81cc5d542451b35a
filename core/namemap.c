/* namemap.c — open-addressing string hash: FNV-1a, linear probing, tombstones, rehash. */
#include "namemap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct namemap_slot {
	const char *key; /* NULL = empty; &tomb = deleted */
	void *value;
	uint64_t hash;
};

static const char tomb;

static uint64_t hash_of(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct namemap_slot *find(const struct namemap *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1), n = 0; n < m->cap; i = (i + 1) & (m->cap - 1), n++) {
		struct namemap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != &tomb && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

void *namemap_get(const struct namemap *m, const char *key)
{
	struct namemap_slot *s = find(m, key, hash_of(key));
	return s ? s->value : NULL;
}

static int grow(struct namemap *m)
{
	size_t cap = m->cap ? m->cap : 64;
	while ((m->count + 1) * 2 >= cap)
		cap *= 2;
	struct namemap_slot *slots = calloc(cap, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct namemap_slot *s = &m->slots[i];
		if (!s->key || s->key == &tomb)
			continue;
		size_t j = s->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->tombs = 0;
	return 0;
}

int namemap_put(struct namemap *m, const char *key, void *value)
{
	uint64_t h = hash_of(key);
	struct namemap_slot *s = find(m, key, h);
	if (s) {
		s->key = key;
		s->value = value;
		return 0;
	}
	if ((m->count + m->tombs + 1) * 2 >= m->cap && grow(m) < 0)
		return -ENOMEM;
	size_t j = h & (m->cap - 1);
	while (m->slots[j].key && m->slots[j].key != &tomb)
		j = (j + 1) & (m->cap - 1);
	if (m->slots[j].key == &tomb)
		m->tombs--;
	m->slots[j] = (struct namemap_slot){key, value, h};
	m->count++;
	return 0;
}

void namemap_del(struct namemap *m, const char *key)
{
	struct namemap_slot *s = find(m, key, hash_of(key));
	if (!s)
		return;
	s->key = &tomb;
	s->value = NULL;
	m->count--;
	m->tombs++;
}

void namemap_clear(struct namemap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}

/* namemap.h — a string-keyed hash table (open addressing) for name lookups on hot paths. */
#ifndef VIGIL_CORE_NAMEMAP_H
#define VIGIL_CORE_NAMEMAP_H

#include <stddef.h>

struct namemap {
	struct namemap_slot *slots;
	size_t cap, count, tombs;
};

/* Keys are borrowed: the caller keeps each key alive while it is in the map. */
void *namemap_get(const struct namemap *m, const char *key);
/* Inserts or replaces. 0 or -ENOMEM. */
int namemap_put(struct namemap *m, const char *key, void *value);
void namemap_del(struct namemap *m, const char *key);
void namemap_clear(struct namemap *m);

#endif

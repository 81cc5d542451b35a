/* bus.h — the typed event bus (core side): type registry, copy-once publish, queued delivery. */
#ifndef VIGIL_CORE_BUS_H
#define VIGIL_CORE_BUS_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/event.h>
#include <vigil/host.h>

/* The registry of known types: name, smallest valid struct size, class, and the offsets of the
 * `const char *` fields the bus deep-copies (the header's subject is always copied). */
struct bus_type {
	uint32_t type;
	const char *name;
	uint32_t min_size;
	enum vigil_event_class cls;
	uint16_t strings[8];     /* offsets of string fields; 0 ends the list */
};

int bus_init(void);
/* Releases every queued event and subscription. */
void bus_fini(void);

const struct bus_type *bus_type_info(uint32_t type);  /* NULL when unknown */
const char *bus_type_name(uint32_t type);             /* NULL when unknown */
uint32_t bus_type_by_name(const char *name);          /* 0 when unknown */
/* Calls fn for every registered type in ascending type order. */
void bus_type_foreach(void (*fn)(const struct bus_type *t, void *arg), void *arg);

/* See vigil_host.publish. Returns 0 or -EINVAL / -ENOMEM. */
int bus_publish(const struct vigil_event *ev);

/* `owner` groups subscriptions so bus_unsubscribe_owner() can drop them all (a plugin
 * instance). NULL on ENOMEM. */
struct vigil_sub *bus_subscribe(void *owner, const struct vigil_filter *f, vigil_event_fn fn,
                                void *arg);
void bus_unsubscribe(struct vigil_sub *sub);
void bus_unsubscribe_owner(void *owner);
uint64_t bus_sub_dropped(const struct vigil_sub *sub);

const struct vigil_event *bus_ref(const struct vigil_event *ev);
void bus_unref(const struct vigil_event *ev);

/* Nonzero while some subscriber has queued events. */
int bus_pending(void);
/* Delivers queued events, FIFO per subscriber, at most `budget` callbacks in all. Events
 * published by the callbacks are queued, never delivered recursively. Returns how many
 * callbacks ran. */
size_t bus_dispatch(size_t budget);

/* Counters for `vigilctl` / the report. */
struct bus_stats {
	uint64_t published;
	uint64_t delivered;
	uint64_t dropped;
	uint64_t live_blocks;    /* event blocks not yet freed */
};
void bus_get_stats(struct bus_stats *out);

#endif

/* store.h — stores: persistence of the PID registry and of the history, behind one interface. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <vigil/proc.h>

/* One live registry entry: enough to recognise the process after a daemon restart. */
struct vigil_registry_entry {
	uint32_t size;
	const char *name;          /* instance */
	const char *program;
	int32_t pid;
	int32_t pgid;
	uint64_t start_ticks;      /* field 22 of /proc/PID/stat: start time in clock ticks */
	const char *boot_id;       /* /proc/sys/kernel/random/boot_id */
	int64_t started_at_ms;     /* wall clock */
	enum vigil_proc_state state;
	uint32_t restarts;
};

/* ops of a VIGIL_KIND_STORE plugin. All on the loop thread; a store must not block on disk in
 * these calls (queue the write, batch it, or hand it to a writer thread). History (runs, tasks,
 * alerts, metrics) is recorded by the store itself from the bus, so a new backend needs no
 * core change. A store that cannot write publishes store.failed and keeps what it can. */
struct vigil_store_ops {
	uint32_t size;
	/* Insert or replace the entry of e->name. Mandatory. 0 or -errno. */
	int (*registry_put)(void *state, const struct vigil_registry_entry *e);
	/* Remove the entry of name (the instance is not running any more). Mandatory. */
	int (*registry_remove)(void *state, const char *name);
	/* Calls fn for every entry, at startup. Strings borrowed for the call. Mandatory. */
	int (*registry_load)(void *state,
	                     int (*fn)(const struct vigil_registry_entry *e, void *arg), void *arg);
	/* Optional: write everything queued now (shutdown, tests). May block. */
	int (*flush)(void *state);
};

#endif

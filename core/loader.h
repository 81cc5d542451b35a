/* loader.h — finds, opens, checks and instantiates plugins; the core side of vigil_instance. */
#ifndef VIGIL_CORE_LOADER_H
#define VIGIL_CORE_LOADER_H

#include <vigil/sdk.h>

#include "conf.h"

/* One configured instance of a plugin. `desc` is the plugin's descriptor normalised to this
 * core's layout: fields past the plugin's struct_size read as NULL. */
struct vigil_instance {
	struct vigil_plugin desc;
	const char *kind_name;    /* "policy" */
	char *plugin;             /* "backoff" */
	char *name;               /* instance: LABEL or NAME */
	char *section;            /* "policy.backoff.fast", or "policy.backoff" for a default */
	char *file;               /* absolute path of the .so */
	void *dl;                 /* dlopen handle (shared by instances of one file) */
	struct vigil_config *cfg; /* validated values */
	void *state;              /* what init() returned */
	int initialised;          /* init() succeeded: fini() is owed */
	int started;              /* start() succeeded: stop() is owed */
	struct vigil_instance *next;
};

struct loader_set {
	struct vigil_instance *head; /* in config order, default instances last */
	size_t count;
};

const char *loader_kind_name(enum vigil_plugin_kind kind);  /* "policy"; NULL when unknown */
int loader_kind_from_name(const char *name);                /* -1 when unknown */

/* Opens every plugin of conf->plugins (searching conf->plugin_path for KIND_NAME.so), checks
 * each descriptor and validates each section against its keys. Refusals name the file and the
 * reason: not found (with "did you mean"), dlopen failure (unresolved symbol), missing entry
 * symbol, ABI major mismatch, newer ABI minor, short descriptor, wrong kind or name, missing
 * mandatory callback, duplicate instance. Returns 0, or -1 with err filled (exit 100). */
int loader_open(const struct vigil_conf *conf, struct loader_set *set, struct conf_error *err);

/* Checks one already-dlopen'd descriptor (exposed for the unit tests). `expect_kind` 0 = any. */
int loader_check_descriptor(const struct vigil_plugin *d, const char *file,
                            enum vigil_plugin_kind expect_kind, const char *expect_name,
                            struct vigil_plugin *normalised, struct conf_error *err);

/* init + configure every instance with `host`. -1 with err filled on the first failure. */
int loader_init_all(struct loader_set *set, const struct vigil_host *host, struct conf_error *err);
/* start() every instance. -1 with err filled on the first failure. */
int loader_start_all(struct loader_set *set, struct conf_error *err);
/* stop() every started instance, in reverse order (while the core still holds its programs
 * and tasks, so a frontend can write a last report). */
void loader_stop_all(struct loader_set *set);
/* stop() (those not stopped yet) then fini() every instance in reverse order, drops their
 * subscriptions, timers and watches (through the hook), and closes the libraries. */
void loader_close(struct loader_set *set);

/* Called for each instance after fini() so the owner can release what it registered. */
void loader_set_release_hook(void (*fn)(struct vigil_instance *inst));

struct vigil_instance *loader_find(const struct loader_set *set, enum vigil_plugin_kind kind,
                                   const char *name);

#endif

/* plugin.h — the plugin descriptor, its frozen ABI header and VIGIL_PLUGIN_DEFINE. */
#ifndef VIGIL_PLUGIN_H
#define VIGIL_PLUGIN_H

#include <vigil/config.h>
#include <vigil/host.h>

enum vigil_plugin_kind {
	VIGIL_KIND_MONITOR = 1,
	VIGIL_KIND_POLICY = 2,
	VIGIL_KIND_STORE = 3,
	VIGIL_KIND_FRONTEND = 4,
};

/* Frozen forever: the first bytes of every descriptor, whatever the ABI version. */
struct vigil_abi_header {
	uint16_t abi_major;   /* VIGIL_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;   /* VIGIL_ABI_MINOR the plugin was built with */
	uint32_t struct_size; /* sizeof(struct vigil_plugin) the plugin was built with */
};

/* The descriptor. One per .so, returned by vigil_plugin_entry_v1(). It must stay valid and
 * unchanged for the life of the process (make it a static const).
 *
 * Lifecycle, all on the loop thread, for each configured instance ([KIND.NAME] or
 * [KIND.NAME.LABEL]) of the plugin:
 *   init(host, self, &state)  allocate; return 0 or a negative errno (the daemon exits 100/111)
 *   configure(state, cfg)     read the validated section through host->cfg_*; 0 or -errno
 *   start(state)              the loop is about to run: subscribe, add timers and fd watches
 *   stop(state)               the daemon is shutting down: stop producing work
 *   fini(state)               free everything; timers, watches and subscriptions of the
 *                             instance are removed by the core after this returns
 * Only init is mandatory; kind-specific callbacks live in `ops` (see policy.h, store.h,
 * monitor.h, frontend.h), which must be non-NULL for policies and stores. */
struct vigil_plugin {
	struct vigil_abi_header abi;
	enum vigil_plugin_kind kind;
	const char *name;        /* must equal NAME of the file KIND_NAME.so */
	const char *version;     /* the plugin's own version, free text */
	const char *description;
	const struct vigil_config_key *keys; /* NULL or a VIGIL_KEYS_END-terminated table */
	int (*init)(const struct vigil_host *host, struct vigil_instance *self, void **state);
	int (*configure)(void *state, const struct vigil_config *cfg);
	int (*start)(void *state);
	void (*stop)(void *state);
	void (*fini)(void *state);
	const void *ops;         /* struct vigil_<kind>_ops *, whose first member is its size */
};

/* The smallest struct_size the core accepts for ABI 1.0: everything up to and including ops. */
#define VIGIL_PLUGIN_SIZE_1_0 (offsetof(struct vigil_plugin, ops) + sizeof(const void *))

/* The one symbol a plugin exports. */
#define VIGIL_PLUGIN_ENTRY_SYMBOL "vigil_plugin_entry_v1"
typedef const struct vigil_plugin *(*vigil_plugin_entry_fn)(void);

/* Defines the entry point for a descriptor written as designated initialisers:
 *
 *   VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_POLICY, .name = "fixed", .version = "1.0",
 *                       .init = fixed_init, .ops = &fixed_ops);
 */
#define VIGIL_PLUGIN_DEFINE(...)                                                          \
	VIGIL_EXPORT const struct vigil_plugin *vigil_plugin_entry_v1(void);                  \
	VIGIL_EXPORT const struct vigil_plugin *vigil_plugin_entry_v1(void)                   \
	{                                                                                     \
		static const struct vigil_plugin desc = {                                         \
			.abi = {VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, sizeof(struct vigil_plugin)},       \
			__VA_ARGS__};                                                                 \
		return &desc;                                                                     \
	}                                                                                     \
	extern const int vigil_plugin_defined_here /* absorbs the caller's semicolon */

#endif

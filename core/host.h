/* host.h — the vigil_host table given to plugins, built on the loop, bus, sup and loader. */
#ifndef VIGIL_CORE_HOST_H
#define VIGIL_CORE_HOST_H

#include <vigil/host.h>

#include "loader.h"

/* The table; `plugins` answers plugin_foreach, state_dir is returned by state_dir(). */
const struct vigil_host *host_table(struct loader_set *plugins, const char *state_dir);
/* Drops every timer, watch and subscription an instance still holds (after its fini). */
void host_release_instance(struct vigil_instance *inst);
/* Set by main: what host->shutdown(), reload() and reexec() call. */
void host_set_daemon(void (*shutdown)(const char *reason), int (*reload)(char *err, size_t len),
                     int (*reexec)(void));

#endif

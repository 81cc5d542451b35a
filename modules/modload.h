/* modload.h — vigil's internal modules: parts with heavy libraries, opened on first use. */
#ifndef VIGIL_MODULES_MODLOAD_H
#define VIGIL_MODULES_MODLOAD_H

#include <stddef.h>
#include <stdint.h>

/*
 * A module is NAME.so in the module directory (lib/vigil/modules, found relative to the running
 * binary the way the default plugin directory is: bin/../lib/vigil/modules in the build tree
 * and after `cmake --install`). It is not a plugin: it is built with vigild from the same tree,
 * is never named in a configuration, and exports exactly one symbol, vigil_module_entry, which
 * returns its table. The table starts with struct vigil_module_head; what follows is the
 * module's own interface (modules/http_check.h, modules/report_xml.h). Modules are opened
 * with RTLD_LOCAL and never closed, so what they link (libcurl, libxml2) stays private to them
 * and is mapped only once something needs it.
 */

struct vigil_module_head {
	const char *name;    /* "http_check": the file is http_check.so */
	const char *version; /* VIGIL_VERSION_STRING of the build that made it */
	uint32_t iface;      /* version of the table that follows the head */
	uint32_t size;       /* sizeof the whole table */
};

typedef const struct vigil_module_head *(*vigil_module_entry_fn)(void);

/* In the module's one source that defines its table: the single exported symbol. */
#define VIGIL_MODULE_EXPORT __attribute__((visibility("default")))
#define VIGIL_MODULE_DEFINE(table)                                                                 \
	VIGIL_MODULE_EXPORT const struct vigil_module_head *vigil_module_entry(void);              \
	const struct vigil_module_head *vigil_module_entry(void)                                   \
	{                                                                                          \
		return &(table).head;                                                              \
	}

/* Opens NAME.so from the module directory and checks its head: the name, this build's
 * version, iface and a table of at least min_size bytes. Returns the table (cast it to the
 * module's struct), or NULL with err filled with a message that names the file and the reason
 * ("module /usr/lib/vigil/modules/http_check.so: cannot load: cannot open shared object file:
 * No such file or directory"). Callers keep the table: a module is never closed. */
const struct vigil_module_head *modload_open(const char *name, uint32_t iface, size_t min_size,
                                             char *err, size_t len);

/* The running binary's directory joined with rel ("../lib/vigil/plugins"), resolved when it
 * exists, into buf. Returns buf. */
const char *modload_exe_path(const char *rel, char *buf, size_t len);
/* The module directory ("/usr/lib/vigil/modules"): modload_exe_path(VIGIL_MODULE_RELDIR). */
const char *modload_dir(char *buf, size_t len);

#endif

/* modload.c — finds, opens and checks an internal module (compiled into vigild and frontend_ctl).
 */
#include "modload.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/vigil.h>

#ifndef VIGIL_MODULE_RELDIR
#error "VIGIL_MODULE_RELDIR (the module directory relative to bin/) must be defined"
#endif

const char *modload_exe_path(const char *rel, char *buf, size_t len)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		n = 0;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* "../" steps taken on the text, so a message names ".../lib/vigil/modules" even when the
	 * directory does not exist */
	while (strncmp(rel, "../", 3) == 0 && (slash = strrchr(exe, '/')) && slash != exe) {
		*slash = '\0';
		rel += 3;
	}
	snprintf(dir, sizeof dir, "%s/%s", exe, rel);
	snprintf(buf, len, "%s", realpath(dir, real) ? real : dir);
	return buf;
}

const char *modload_dir(char *buf, size_t len)
{
	return modload_exe_path(VIGIL_MODULE_RELDIR, buf, len);
}

const struct vigil_module_head *modload_open(const char *name, uint32_t iface, size_t min_size,
                                             char *err, size_t len)
{
	char dir[PATH_MAX], file[PATH_MAX + 80];
	snprintf(file, sizeof file, "%s/%s.so", modload_dir(dir, sizeof dir), name);
	void *dl = dlopen(file, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		const char *why = dlerror();
		size_t flen = strlen(file);
		/* dlerror() usually starts with the file already */
		if (why && strncmp(why, file, flen) == 0 && strncmp(why + flen, ": ", 2) == 0)
			why += flen + 2;
		snprintf(err, len, "module %s: cannot load: %s", file, why ? why : "unknown error");
		return NULL;
	}
	dlerror();
	void *sym = dlsym(dl, "vigil_module_entry");
	vigil_module_entry_fn entry = NULL;
	if (sym)
		memcpy(&entry, &sym, sizeof entry); /* POSIX guarantees this conversion */
	const struct vigil_module_head *h = entry ? entry() : NULL;
	if (!entry)
		snprintf(err, len, "module %s: no symbol vigil_module_entry: not a vigil module",
		         file);
	else if (!h || !h->name || strcmp(h->name, name) != 0)
		snprintf(err, len, "module %s: it is the module '%s', not '%s'", file,
		         h && h->name ? h->name : "?", name);
	else if (!h->version || strcmp(h->version, VIGIL_VERSION_STRING) != 0)
		snprintf(err, len,
		         "module %s: built for vigil %s, this is vigil %s (after an upgrade, "
		         "`vigilctl reexec` runs the new vigild; else install this build's modules)",
		         file, h->version ? h->version : "?", VIGIL_VERSION_STRING);
	else if (h->iface != iface || h->size < min_size)
		snprintf(err, len, "module %s: interface %u (%u bytes), expected %u (%zu bytes)",
		         file, h->iface, h->size, iface, min_size);
	else
		return h;
	dlclose(dl);
	return NULL;
}

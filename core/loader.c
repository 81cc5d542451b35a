/* loader.c — finds KIND_NAME.so on the plugin path, checks its descriptor, runs its lifecycle. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"
#include "util.h"

static void (*release_hook)(struct vigil_instance *inst);

/* The smallest descriptor each minor of this major may have; index = the plugin's minor. A
 * plugin of an older minor is accepted with the size of its own minor, and the fields it does
 * not have read as NULL. */
static const size_t min_desc_size[VIGIL_ABI_MINOR + 1] = {
    VIGIL_PLUGIN_SIZE_1_0,
};

static const char *const kind_names[] = {
    [VIGIL_KIND_MONITOR] = "monitor",
    [VIGIL_KIND_POLICY] = "policy",
    [VIGIL_KIND_STORE] = "store",
    [VIGIL_KIND_FRONTEND] = "frontend",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

#define FN_END(type, field) (offsetof(type, field) + sizeof(void (*)(void)))

const char *loader_kind_name(enum vigil_plugin_kind kind)
{
	return (unsigned)kind < NKINDS ? kind_names[kind] : NULL;
}

int loader_kind_from_name(const char *name)
{
	for (size_t k = 0; k < NKINDS; k++)
		if (kind_names[k] && name && strcmp(kind_names[k], name) == 0)
			return (int)k;
	return -1;
}

/* "plugin FILE: reason" */
VIGIL_PRINTF(3, 4)
static void plugin_error(struct conf_error *err, const char *file, const char *fmt, ...)
{
	int n = snprintf(err->msg, sizeof err->msg, "plugin %s: ", file);
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof err->msg)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Puts where the instance comes from in front of the message, so the user finds the section
 * to fix: "FILE:LINE: [section] " for a written section, "[section] (default instance) " for an
 * instance vigild added because the config named none of its kind. */
static void locate_error(struct conf_error *err, const struct conf_plugin *cp, const char *section)
{
	char prefix[512];
	size_t plen, mlen = strlen(err->msg);
	int n;

	if (cp->sec)
		n = snprintf(prefix, sizeof prefix, "%s:%d: [%s] ", cp->sec->file, cp->sec->line,
		             cp->sec->name);
	else
		n = snprintf(prefix, sizeof prefix, "[%s] (default instance) ", section);
	if (n < 0)
		return;
	plen = (size_t)n < sizeof prefix ? (size_t)n : sizeof prefix - 1;
	if (plen + mlen >= sizeof err->msg)
		mlen = sizeof err->msg - plen - 1;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
}

static size_t ops_size(const void *ops)
{
	uint32_t size;

	memcpy(&size, ops, sizeof size);
	return size;
}

static int check_ops(const struct vigil_plugin *n, const char *file, struct conf_error *err)
{
	const void *ops = n->ops;

	if (n->kind == VIGIL_KIND_POLICY) {
		const struct vigil_policy_ops *p = ops;
		size_t need = FN_END(struct vigil_policy_ops, decide);

		if (!p) {
			plugin_error(err, file,
			             "a policy needs ops (struct vigil_policy_ops), found NULL");
			return -1;
		}
		if (ops_size(p) < need) {
			plugin_error(err, file,
			             "short policy ops (%zu bytes, decide needs at least %zu)",
			             ops_size(p), need);
			return -1;
		}
		if (!p->decide) {
			plugin_error(err, file, "missing mandatory callback decide");
			return -1;
		}
	} else if (n->kind == VIGIL_KIND_STORE) {
		const struct vigil_store_ops *s = ops;
		size_t need = FN_END(struct vigil_store_ops, registry_load);
		const char *missing = NULL;

		if (!s) {
			plugin_error(err, file,
			             "a store needs ops (struct vigil_store_ops), found NULL");
			return -1;
		}
		if (ops_size(s) < need) {
			plugin_error(
			    err, file,
			    "short store ops (%zu bytes, registry_load needs at least %zu)",
			    ops_size(s), need);
			return -1;
		}
		if (!s->registry_put)
			missing = "registry_put";
		else if (!s->registry_remove)
			missing = "registry_remove";
		else if (!s->registry_load)
			missing = "registry_load";
		if (missing) {
			plugin_error(err, file, "missing mandatory callback %s", missing);
			return -1;
		}
	} else if (ops && ops_size(ops) < sizeof(uint32_t)) {
		plugin_error(err, file, "ops declares a size of %zu bytes", ops_size(ops));
		return -1;
	}
	return 0;
}

int loader_check_descriptor(const struct vigil_plugin *d, const char *file,
                            enum vigil_plugin_kind expect_kind, const char *expect_name,
                            struct vigil_plugin *normalised, struct conf_error *err)
{
	const struct vigil_abi_header *abi = &d->abi;
	size_t copy;

	if (abi->abi_major != VIGIL_ABI_MAJOR) {
		plugin_error(err, file,
		             "built for ABI %u.%u, this vigild speaks %d.%d (rebuild the plugin "
		             "against the vigil %d SDK)",
		             abi->abi_major, abi->abi_minor, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR,
		             VIGIL_ABI_MAJOR);
		return -1;
	}
	if (abi->abi_minor > VIGIL_ABI_MINOR) {
		plugin_error(
		    err, file,
		    "built for a newer ABI %u.%u, this vigild speaks %d.%d (upgrade vigild "
		    "or rebuild the plugin against this SDK)",
		    abi->abi_major, abi->abi_minor, VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR);
		return -1;
	}
	if (abi->struct_size < min_desc_size[abi->abi_minor]) {
		plugin_error(err, file, "short descriptor (%u bytes, ABI %u.%u needs at least %zu)",
		             abi->struct_size, abi->abi_major, abi->abi_minor,
		             min_desc_size[abi->abi_minor]);
		return -1;
	}

	copy = abi->struct_size < sizeof *normalised ? abi->struct_size : sizeof *normalised;
	memset(normalised, 0, sizeof *normalised);
	memcpy(normalised, d, copy);

	if (!loader_kind_name(normalised->kind)) {
		plugin_error(err, file, "unknown plugin kind %d", (int)normalised->kind);
		return -1;
	}
	if (expect_kind && normalised->kind != expect_kind) {
		plugin_error(err, file, "is a %s plugin, expected a %s",
		             loader_kind_name(normalised->kind), loader_kind_name(expect_kind));
		return -1;
	}
	if (!normalised->name) {
		plugin_error(err, file, "the descriptor has no name");
		return -1;
	}
	if (expect_name && strcmp(normalised->name, expect_name) != 0) {
		plugin_error(err, file, "declares the name '%s', but its file name says '%s'",
		             normalised->name, expect_name);
		return -1;
	}
	if (!normalised->init) {
		plugin_error(err, file, "missing mandatory callback init");
		return -1;
	}
	return check_ops(normalised, file, err);
}

/* Gives the core a copy of the plugin's ops in this core's layout, zero past the plugin's
 * ops->size, so callers never need to compare sizes before reading an optional callback. The
 * copy keeps the plugin's `size`. */
static const void *normalise_ops(enum vigil_plugin_kind kind, const void *ops)
{
	size_t full, have;
	void *copy;

	if (!ops)
		return NULL;
	switch (kind) {
	case VIGIL_KIND_POLICY:
		full = sizeof(struct vigil_policy_ops);
		break;
	case VIGIL_KIND_STORE:
		full = sizeof(struct vigil_store_ops);
		break;
	case VIGIL_KIND_MONITOR:
		full = sizeof(struct vigil_monitor_ops);
		break;
	default:
		full = sizeof(struct vigil_frontend_ops);
		break;
	}
	have = ops_size(ops);
	copy = util_xcalloc(1, full);
	memcpy(copy, ops, have < full ? have : full);
	return copy;
}

static char *join_path(const char *dir, const char *name)
{
	size_t len = strlen(dir);
	int slash = len > 0 && dir[len - 1] == '/';
	size_t size = len + strlen(name) + 2;
	char *p = util_xmalloc(size);

	snprintf(p, size, "%s%s%s", dir, slash ? "" : "/", name);
	return p;
}

/* The first plugin_path directory holding fname wins, as with $PATH. */
static char *find_plugin(const struct vigil_conf *conf, const char *fname)
{
	struct stat st;

	for (char **dir = conf->plugin_path; dir && *dir; dir++) {
		char *p = join_path(*dir, fname);

		if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

/* Splits "KIND_NAME.so" into KIND and NAME; -1 for any other file name. */
static int split_so_name(const char *fname, char *kind, size_t klen, char *name, size_t nlen)
{
	const char *us = strchr(fname, '_');
	size_t len = strlen(fname);

	if (!us || us == fname || len < 4 || strcmp(fname + len - 3, ".so") != 0 ||
	    (size_t)(us - fname) >= klen || (size_t)(fname + len - 3 - us - 1) >= nlen)
		return -1;
	snprintf(kind, klen, "%.*s", (int)(us - fname), fname);
	snprintf(name, nlen, "%.*s", (int)(fname + len - 3 - us - 1), us + 1);
	return name[0] ? 0 : -1;
}

/* Suggests the closest NAME among the KIND_*.so of the plugin path for a name that was not
 * found; failing that, points at the same NAME under another kind, the other common slip
 * ([monitor.backoff] for [policy.backoff]). */
static void suggest(const struct vigil_conf *conf, const char *kind_name, const char *name,
                    char *out, size_t outlen)
{
	char **cands = NULL, k[32], nm[256];
	size_t n = 0;
	const char *other_kind = NULL, *best;

	out[0] = '\0';
	for (char **dir = conf->plugin_path; dir && *dir; dir++) {
		DIR *d = opendir(*dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			if (split_so_name(e->d_name, k, sizeof k, nm, sizeof nm) < 0)
				continue;
			if (strcmp(k, kind_name) == 0) {
				cands = realloc(cands, (n + 1) * sizeof *cands);
				if (!cands)
					abort();
				cands[n++] = util_xstrdup(nm);
			} else if (!other_kind && strcmp(nm, name) == 0 &&
			           loader_kind_from_name(k) > 0) {
				other_kind = kind_names[loader_kind_from_name(k)];
			}
		}
		if (d)
			closedir(d);
	}

	best = util_closest(name, (const char *const *)cands, n);
	if (best)
		snprintf(out, outlen, " (did you mean '%s'?)", best);
	else if (other_kind)
		snprintf(out, outlen, " (there is a %s plugin '%s': did you mean [%s.%s]?)",
		         other_kind, name, other_kind, name);
	for (size_t i = 0; i < n; i++)
		free(cands[i]);
	free(cands);
}

static void not_found(const struct vigil_conf *conf, const char *kind_name, const char *name,
                      const char *fname, struct conf_error *err)
{
	char dirs[1024] = "", hint[256];
	size_t used = 0;

	for (char **dir = conf->plugin_path; dir && *dir; dir++) {
		int w = snprintf(dirs + used, sizeof dirs - used, "%s%s", used ? ", " : "", *dir);
		if (w < 0 || (size_t)w >= sizeof dirs - used)
			break;
		used += (size_t)w;
	}
	suggest(conf, kind_name, name, hint, sizeof hint);
	if (used)
		plugin_error(err, fname, "not found in %s%s", dirs, hint);
	else
		plugin_error(err, fname, "not found: plugin_path is empty");
}

static void destroy_instance(struct vigil_instance *inst)
{
	if (!inst)
		return;
	conf_plugin_config_free(inst->cfg);
	free((void *)inst->desc.ops);
	if (inst->dl)
		dlclose(inst->dl);
	free(inst->plugin);
	free(inst->name);
	free(inst->section);
	free(inst->file);
	free(inst);
}

/* dlerror() starts with the file name, which our message already gives. */
static const char *dl_reason(const char *path)
{
	const char *e = dlerror();
	size_t len = strlen(path);

	if (!e)
		return "unknown error";
	if (strncmp(e, path, len) == 0 && e[len] == ':' && e[len + 1] == ' ')
		return e + len + 2;
	return e;
}

static struct vigil_instance *open_one(const struct vigil_conf *conf, const struct conf_plugin *cp,
                                       const struct loader_set *set, struct conf_error *err)
{
	const char *kind_name = loader_kind_name(cp->kind);
	struct vigil_instance *inst;
	const struct vigil_plugin *d;
	vigil_plugin_entry_fn entry;
	char fname[256], what[300], section[256];
	void *sym;

	if (!kind_name) {
		snprintf(err->msg, sizeof err->msg, "unknown plugin kind %d", (int)cp->kind);
		return NULL;
	}
	if (cp->sec)
		snprintf(section, sizeof section, "%s", cp->sec->name);
	else
		snprintf(section, sizeof section, "%s.%s", kind_name, cp->plugin);
	snprintf(fname, sizeof fname, "%s_%s.so", kind_name, cp->plugin);

	for (const struct vigil_instance *o = set->head; o; o = o->next) {
		if (o->desc.kind == cp->kind && strcmp(o->name, cp->instance) == 0) {
			plugin_error(
			    err, fname,
			    "duplicate instance '%s': [%s] already defines a %s named '%s'",
			    cp->instance, o->section, kind_name, cp->instance);
			locate_error(err, cp, section);
			return NULL;
		}
	}

	inst = util_xcalloc(1, sizeof *inst);
	inst->kind_name = kind_name;
	inst->plugin = util_xstrdup(cp->plugin);
	inst->name = util_xstrdup(cp->instance);
	inst->section = util_xstrdup(section);
	inst->file = find_plugin(conf, fname);
	if (!inst->file) {
		not_found(conf, kind_name, cp->plugin, fname, err);
		goto fail;
	}

	inst->dl = dlopen(inst->file, RTLD_NOW | RTLD_LOCAL);
	if (!inst->dl) {
		plugin_error(err, inst->file, "cannot load: %s", dl_reason(inst->file));
		goto fail;
	}
	dlerror();
	sym = dlsym(inst->dl, VIGIL_PLUGIN_ENTRY_SYMBOL);
	if (!sym) {
		plugin_error(err, inst->file,
		             "no symbol %s: not a vigil plugin, or one built for another ABI major",
		             VIGIL_PLUGIN_ENTRY_SYMBOL);
		goto fail;
	}
	memcpy(&entry, &sym, sizeof entry); /* POSIX guarantees this conversion */
	d = entry();
	if (!d) {
		plugin_error(err, inst->file, "%s() returned no descriptor",
		             VIGIL_PLUGIN_ENTRY_SYMBOL);
		goto fail;
	}
	if (loader_check_descriptor(d, inst->file, cp->kind, cp->plugin, &inst->desc, err) < 0) {
		inst->desc.ops = NULL;
		goto fail;
	}
	inst->desc.ops = normalise_ops(inst->desc.kind, inst->desc.ops);

	/* conf_plugin_config names the section and key itself; no location to add. */
	snprintf(what, sizeof what, "plugin %s", fname);
	inst->cfg = conf_plugin_config(cp->sec, inst->desc.keys, what, conf->state_dir, err);
	if (!inst->cfg) {
		destroy_instance(inst);
		return NULL;
	}
	return inst;

fail:
	locate_error(err, cp, section);
	destroy_instance(inst);
	return NULL;
}

static void free_set(struct loader_set *set)
{
	while (set->head) {
		struct vigil_instance *next = set->head->next;

		destroy_instance(set->head);
		set->head = next;
	}
	set->count = 0;
}

int loader_open(const struct vigil_conf *conf, struct loader_set *set, struct conf_error *err)
{
	struct vigil_instance **tail = &set->head;

	set->head = NULL;
	set->count = 0;
	for (size_t i = 0; i < conf->nplugins; i++) {
		struct vigil_instance *inst = open_one(conf, &conf->plugins[i], set, err);

		if (!inst) {
			free_set(set);
			return -1;
		}
		*tail = inst;
		tail = &inst->next;
		set->count++;
	}
	return 0;
}

VIGIL_PRINTF(4, 5)
static void instance_error(struct conf_error *err, const struct vigil_instance *inst, int rc,
                           const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(err->msg, sizeof err->msg, "plugin %s: instance '%s' [%s]: %s failed: %s",
	         inst->file, inst->name, inst->section, what, strerror(-rc));
}

int loader_init_all(struct loader_set *set, const struct vigil_host *host, struct conf_error *err)
{
	for (struct vigil_instance *inst = set->head; inst; inst = inst->next) {
		int rc;

		if (inst->initialised)
			continue;
		rc = inst->desc.init(host, inst, &inst->state);
		if (rc < 0) {
			instance_error(err, inst, rc, "init");
			return -1;
		}
		inst->initialised = 1;
		if (inst->desc.configure) {
			rc = inst->desc.configure(inst->state, inst->cfg);
			if (rc < 0) {
				instance_error(err, inst, rc, "configure");
				return -1;
			}
		}
	}
	return 0;
}

int loader_start_all(struct loader_set *set, struct conf_error *err)
{
	for (struct vigil_instance *inst = set->head; inst; inst = inst->next) {
		if (!inst->initialised || inst->started)
			continue;
		if (inst->desc.start) {
			int rc = inst->desc.start(inst->state);

			if (rc < 0) {
				instance_error(err, inst, rc, "start");
				return -1;
			}
		}
		inst->started = 1;
	}
	return 0;
}

/* Everything stops producing work before anything is freed, so no instance's fini runs while
 * another instance could still publish to it. Libraries are closed last: a plugin's code must
 * stay mapped until no instance can call into it. */
/* The instances in reverse config order (the set is a singly linked list). */
static struct vigil_instance **reversed(const struct loader_set *set, size_t *n)
{
	size_t count = 0;
	for (struct vigil_instance *inst = set->head; inst; inst = inst->next)
		count++;
	struct vigil_instance **v = util_xcalloc(count ? count : 1, sizeof *v);
	size_t k = count;
	for (struct vigil_instance *inst = set->head; inst; inst = inst->next)
		v[--k] = inst;
	*n = count;
	return v;
}

void loader_stop_all(struct loader_set *set)
{
	size_t n;
	if (!set->head)
		return;
	struct vigil_instance **v = reversed(set, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->started && v[i]->desc.stop)
			v[i]->desc.stop(v[i]->state);
		v[i]->started = 0;
	}
	free(v);
}

void loader_close(struct loader_set *set)
{
	size_t n;
	if (!set->head)
		return;
	loader_stop_all(set);
	struct vigil_instance **v = reversed(set, &n);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->initialised && v[i]->desc.fini)
			v[i]->desc.fini(v[i]->state);
		v[i]->initialised = 0;
		v[i]->state = NULL;
		/* Also for an instance whose init failed: it may have subscribed before failing. */
		if (release_hook)
			release_hook(v[i]);
	}
	free(v);
	free_set(set);
}

void loader_set_release_hook(void (*fn)(struct vigil_instance *inst))
{
	release_hook = fn;
}

struct vigil_instance *loader_find(const struct loader_set *set, enum vigil_plugin_kind kind,
                                   const char *name)
{
	for (struct vigil_instance *inst = set->head; inst; inst = inst->next)
		if (inst->desc.kind == kind && strcmp(inst->name, name) == 0)
			return inst;
	return NULL;
}

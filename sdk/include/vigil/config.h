/* config.h — how a plugin declares its configuration keys; the core validates them for it. */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <vigil/vigil.h>

/* Value types. The core checks every value against its type before configure() runs, so the
 * typed getters of vigil_host never fail on a declared key. */
enum vigil_key_type {
	VIGIL_KEY_STRING = 1,   /* any text */
	VIGIL_KEY_INT = 2,      /* signed decimal integer */
	VIGIL_KEY_BOOL = 3,     /* true/false, yes/no, on/off, 1/0 */
	VIGIL_KEY_DURATION = 4, /* 1500ms, 10s, 5m, 2h, 1d; a bare number is seconds */
	VIGIL_KEY_SIZE = 5,     /* 512, 64K, 10M, 1G (binary) */
	VIGIL_KEY_PERCENT = 6,  /* 150% (of one core) */
	VIGIL_KEY_DOUBLE = 7,   /* decimal number */
	VIGIL_KEY_PATH = 8,     /* text; a relative path is made absolute against the file's dir */
	VIGIL_KEY_ENUM = 9,     /* one of `choices`, "a|b|c" */
	VIGIL_KEY_MODE = 10,    /* octal file mode, e.g. 0660 */
	VIGIL_KEY_LIST = 11,    /* comma-separated list */
};

/* One declared key. A plugin's table ends with VIGIL_KEYS_END. */
struct vigil_config_key {
	const char *name;          /* lower case, [a-z0-9_]+ */
	enum vigil_key_type type;
	const char *def;           /* default as it would be written in the file; NULL = no default */
	int required;              /* 1 = must be present (then `def` is ignored) */
	const char *doc;           /* one line for docs and --help */
	const char *choices;       /* VIGIL_KEY_ENUM only: "a|b|c" */
};
#define VIGIL_KEYS_END {NULL, (enum vigil_key_type)0, NULL, 0, NULL, NULL}

/* Opaque view of one plugin section, validated, with defaults applied. */
struct vigil_config;

#endif

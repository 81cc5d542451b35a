/* conf_int.h — what the configuration loader's own files share; no other module includes it. */
#ifndef VIGIL_CORE_CONF_INT_H
#define VIGIL_CORE_CONF_INT_H

#include <stddef.h>

#include "conf.h"

/* What reading the files gives, before the sections are checked: every section of the main
 * file and then of its includes (sorted), values taken from iniparser. Only the [vigil]
 * section is ${VAR}-expanded yet: the others are expanded by conf_expand_section() as they are
 * checked, so errors come in file order. */
struct conf_raw {
	char *file;      /* absolute path of the main file */
	char *dir;       /* its directory */
	char *state_dir; /* absolute */
	struct conf_section *sections;
	size_t nsections;
	const struct conf_section *vigil; /* the main file's [vigil], or NULL */
};

/* Reads path and its includes (conf_read.c). Returns 0, -1 (err filled) or -2 (system). */
int conf_read(const char *path, struct conf_raw *raw, struct conf_error *err);
/* Expands ${VAR} and $$ in every value of sec, in place. Call it once per section (a second
 * pass would expand what $$ produced). Returns 0 or -1 with err filled. */
int conf_expand_section(const struct conf_raw *raw, struct conf_section *sec,
                        struct conf_error *err);
/* Scans one file (absolute path) and appends its sections, with iniparser's values, to raw
 * (conf_scan.c). Values are not expanded yet. Returns 0, -1 (err filled) or -2 (system). */
int conf_scan_file(struct conf_raw *raw, const char *file, struct conf_error *err);
/* Frees what conf_read filled; the sections too unless they were moved out (set NULL). */
void conf_raw_free(struct conf_raw *raw);
void conf_section_free(struct conf_section *sec);

/* A growable string; allocation failure aborts (config time, small sizes). */
struct conf_buf {
	char *s;
	size_t len, cap;
};
void conf_buf_put(struct conf_buf *b, const char *s, size_t n);
void conf_buf_puts(struct conf_buf *b, const char *s);
/* The string (never NULL: "" when empty); b is reset. */
char *conf_buf_take(struct conf_buf *b);

/* Formats "FILE:LINE: [section] key: message" into err; each part may be absent
 * (file NULL, line <= 0, section NULL, key NULL). */
void conf_errf(struct conf_error *err, const char *file, int line, const char *section,
               const char *key, const char *fmt, ...) VIGIL_PRINTF(6, 7);

/* Expands ${NAME} and $$ in `in`. NAME is looked up in `vars` (a [vigil] section, may be NULL;
 * its state_dir key reads as `state_dir`), then as "state_dir" when state_dir is not NULL, then
 * in the environment. Returns 0 with a malloc'd *out, or -1 with the reason in why. */
int conf_expand(const char *in, const struct conf_section *vars, const char *state_dir, char **out,
                char *why, size_t whylen);

/* path made absolute against dir, with "." and ".." components and repeated slashes folded.
 * Always malloc'd. */
char *conf_abspath(const char *dir, const char *path);

/* 1 when s matches [a-z0-9][a-z0-9_-]* (s is already lower case). */
int conf_valid_name(const char *s);

/* How conf_apply() reads one core key and where it stores the result. */
enum conf_ktype {
	CK_STR,      /* char *; empty = NULL */
	CK_PATH,     /* char *, absolute against the section's dir; empty = NULL */
	CK_INT,      /* int, min..max */
	CK_I64,      /* int64_t, min..max */
	CK_BOOL,     /* int */
	CK_DURATION, /* int64_t ms */
	CK_SIZE,     /* int64_t bytes */
	CK_PERCENT,  /* double, % of one core */
	CK_ENUM,     /* int: the index in choices "a|b|c" */
	CK_SIGNAL,   /* int */
	CK_UMASK,    /* mode_t; no value = (mode_t)-1 */
	CK_LIST,     /* char **, comma-separated */
	CK_NAMES,    /* char **, comma-separated names, lower case */
	CK_NAME,     /* char *, one name, lower case */
	CK_ENV,      /* char **, KEY=value items */
	CK_CODES,    /* int * at off, size_t count at off2: exit codes 0..255 */
	CK_ARGV,     /* char * (as written) at off, char ** at off2 */
	CK_READY,    /* int (enum conf_ready) at off, int64_t delay at off2, conf_check at off3 */
	CK_CHECK,    /* struct conf_check at off: none | tcp: | http(s):// | exec: */
	CK_CORE,     /* int64_t bytes, "inherit" = -1 */
	CK_PATHLIST, /* char **, ':'-separated, each absolute */
	CK_PATHLIST_COMMA, /* char **, comma-separated, each absolute */
	CK_LOGFILE,  /* char *, absolute; '-' = NULL */
	CK_EARLY,    /* read before the checks (state_dir, include): nothing to store */
	CK_LATER,    /* planned: rejected as "not supported yet" */
};

struct conf_keydef {
	const char *name;
	enum conf_ktype type;
	const char *def; /* as written in a file; NULL = no default */
	int required;
	size_t off, off2, off3; /* offsetof in the struct that conf_apply() fills */
	int64_t min, max;    /* CK_INT, CK_I64; CK_DURATION: min (ms) when > 0 */
	const char *choices; /* CK_ENUM: "a|b|c" */
	const char *doc;
};

/* Checks sec's keys against the table (unknown keys get "did you mean", planned keys "not
 * supported yet", required keys must be there), then stores every key's value or default into
 * base. Returns 0 or -1 with err filled. On error, base may hold some allocated fields: the
 * caller frees base as usual. */
int conf_apply(const struct conf_section *sec, const struct conf_keydef *keys, size_t nkeys,
               void *base, struct conf_error *err);

/* The checks across sections (conf_check.c); each returns 0 or -1 with err filled.
 * gsec[i] is the section of c->groups[i]. conf_check_plugins also appends the default
 * plugin instances. */
int conf_check_groups(struct vigil_conf *c, const struct conf_section **gsec,
                      struct conf_error *err);
int conf_check_depends(struct vigil_conf *c, struct conf_error *err);
int conf_check_plugins(struct vigil_conf *c, struct conf_error *err);
/* FNV-1a 64 over every setting of p (not its file or line): reload compares these. */
uint64_t conf_program_hash(const struct conf_program *p);
/* realloc to n + 1 elements of size bytes, the new one zeroed; aborts on ENOMEM. */
void *conf_grow(void *arr, size_t n, size_t size);

/* The section a core key belongs in ("[program.NAME]", "[vigil]", ...), or NULL (conf.c). */
const char *conf_key_home(const char *key);

/* The kv of key in sec, or NULL. */
const struct conf_kv *conf_section_get(const struct conf_section *sec, const char *key);

#endif

/* util.h — small parsers and string helpers shared by the core modules (and vigilctl). */
#ifndef VIGIL_CORE_UTIL_H
#define VIGIL_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Every parser returns 0 on success, -EINVAL on a malformed value, -ERANGE when out of range.
 * They accept surrounding blanks and nothing else. */
int util_parse_int(const char *s, int64_t *out);
int util_parse_bool(const char *s, int *out);                 /* true/false yes/no on/off 1/0 */
int util_parse_duration_ms(const char *s, int64_t *out);      /* 1500ms 10s 5m 2h 1d; bare = s */
int util_parse_size(const char *s, int64_t *out);             /* 512 64K 10M 1G, binary */
int util_parse_percent(const char *s, double *out);           /* 150% (the % is required) */
int util_parse_double(const char *s, double *out);
int util_parse_mode(const char *s, int64_t *out);             /* octal 0..07777 */
int util_parse_signal(const char *s, int *out);               /* TERM, SIGTERM, 15 */
const char *util_signal_name(int signo);                      /* "TERM"; "?" when unknown */

/* Splits a command line with shell-like quoting ('..', "..", backslash), no expansion.
 * Returns a NULL-terminated malloc'd vector (free with util_strv_free), or NULL with a
 * message in err ("unterminated double quote", "empty command"). */
char **util_split_argv(const char *s, char *err, size_t errlen);
/* Splits "a, b ,c" on commas, trimming blanks; items may be double-quoted to hold commas.
 * Empty items are dropped. Never NULL except on ENOMEM; an empty input gives { NULL }. */
char **util_split_list(const char *s);
size_t util_strv_len(char *const *v);
char **util_strv_dup(char *const *v);
void util_strv_free(char **v);
int util_strv_eq(char *const *a, char *const *b);

/* Edit distance (for "did you mean"). */
size_t util_levenshtein(const char *a, const char *b);
/* The candidate closest to word, or NULL when none is within a sensible distance. */
const char *util_closest(const char *word, const char *const *candidates, size_t n);

/* Formats a duration for humans: "3d4h", "2h5m", "4m10s", "12s", "350ms". */
void util_fmt_duration(char *buf, size_t len, int64_t ms);
/* Formats a byte count: "512B", "1.5K", "20.0M". */
void util_fmt_size(char *buf, size_t len, int64_t bytes);

/* malloc that aborts on failure: only for small, bounded allocations at config time. */
void *util_xmalloc(size_t n);
void *util_xcalloc(size_t n, size_t m);
char *util_xstrdup(const char *s);

#endif

/* vjson.h — JSON views of SDK structs (events, process info) shared by the frontend plugins. */
#ifndef VIGIL_PLUGINS_VJSON_H
#define VIGIL_PLUGINS_VJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <vigil/event.h>
#include <vigil/proc.h>

/* Compiled into each frontend by source (a plugin cannot link the core), so nothing here is
 * exported: the plugin's version script keeps it local. */

/* "2026-11-27T03:04:05.123Z" (RFC 3339, UTC, milliseconds). buf holds at least 32 bytes. */
void vjson_time(char *buf, size_t len, int64_t unix_us);

/* Copies s (len bytes) replacing every invalid UTF-8 sequence and every NUL with U+FFFD, so
 * the result can go into a JSON string. malloc'd, NUL-terminated; NULL on ENOMEM. */
char *vjson_utf8_clean(const char *s, size_t len);

/* A JSON string from bytes that may not be UTF-8 (invalid sequences become U+FFFD); JSON null
 * for NULL. NULL only on ENOMEM. */
json_t *vjson_string(const char *s);

/* {"seq", "time", "type", "subject", ...every field of the type's struct by name}. type_name
 * comes from host->event_name(); when NULL the type number is used ("type": "event.99").
 * Unknown types carry the header only. Enums are written by name, unknown numbers (-1) and
 * non-finite doubles as null where the SDK documents them as unknown. NULL on ENOMEM. */
json_t *vjson_event(const struct vigil_event *ev, const char *type_name);

/* The status object of SPEC §4: {"name", "program", "state", "pid", "uptime_s", "restarts",
 * "exit_code", "cpu_pct", "rss_bytes", "health", ...}; unknown numbers are null. now_ms is
 * the wall clock (Unix ms) used for the uptime. NULL on ENOMEM. */
json_t *vjson_proc_info(const struct vigil_proc_info *info, int64_t now_ms);

/* The same object member by member: the names in order, and one member's value (a new
 * reference; NULL on ENOMEM or for a field number out of range). */
#define VJSON_PROC_NFIELDS 18
extern const char *const vjson_proc_fields[VJSON_PROC_NFIELDS];
json_t *vjson_proc_field(const struct vigil_proc_info *info, int64_t now_ms, int field);

#endif

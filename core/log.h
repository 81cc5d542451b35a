/* log.h — the daemon's log: one line per message, to stderr or log_file. */
#ifndef VIGIL_CORE_LOG_H
#define VIGIL_CORE_LOG_H

#include <stdarg.h>

#include <vigil/vigil.h>
#include <vigil/host.h>

/* Opens path for appending (NULL = stderr). 0 or -errno. */
int log_open(const char *path);
void log_set_level(enum vigil_log_level level);

/* "2026-11-27T03:04:05.123Z info  [who] message". Any thread. */
void log_msg(enum vigil_log_level level, const char *who, const char *fmt, ...) VIGIL_PRINTF(3, 4);
void log_vmsg(enum vigil_log_level level, const char *who, const char *fmt, va_list ap)
	VIGIL_PRINTF(3, 0);

#define log_error(...) log_msg(VIGIL_LOG_ERROR, "core", __VA_ARGS__)
#define log_warn(...) log_msg(VIGIL_LOG_WARN, "core", __VA_ARGS__)
#define log_info(...) log_msg(VIGIL_LOG_INFO, "core", __VA_ARGS__)
#define log_debug(...) log_msg(VIGIL_LOG_DEBUG, "core", __VA_ARGS__)

#endif

/* report.h — vigil's report (SPEC §6): a snapshot model, its XML (libxml2) and JSON writers. */
#ifndef VIGIL_PLUGINS_REPORT_H
#define VIGIL_PLUGINS_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <vigil/sdk.h>

/*
 * Compiled into each frontend that serves the report (frontend_xmlreport, frontend_ctl) by
 * source; plugins/common/report.cmake lists the sources and libraries for a CMakeLists.txt:
 *   report.c                 text cleaning, formatting, names, report_free (no library)
 *   report_collect.c, report_health.c, report_json.c   the snapshot and JSON (jansson)
 *   report_xml.c             report_xml() (libxml2)
 *   report_render.c          report_write() and report_render(): both formats
 * frontend_xmlreport links all of them. frontend_ctl links neither report_xml.c nor
 * report_render.c: it opens modules/report_xml.so (report.c + report_xml.c, the only user of
 * libxml2) at its first XML report, so vigild maps libxml2 only once someone asks for one.
 * Every function runs on the loop thread (it calls the host), except report_write/report_xml/
 * report_json/report_free and the formatting helpers, which touch only their arguments.
 * Everything file-local is prefixed rep_, so these files can share one translation unit with
 * vjson.c and the ctl sources (tests #include them together).
 *
 * The document is described in docs/report-format.md and by sdk/schema/vigil-report-1.xsd.
 *
 * For `vigilctl report --format xml|json`, one call:
 *
 *   struct report_options opt = {.format = REPORT_XML, .since_ms = wall - 24h};
 *   size_t len;
 *   int err;
 *   char *doc = report_render(host, &opt, &len, &err);   // malloc'd, NUL-terminated; free()
 *
 * Health (score, level, trend), the active alerts and the violation counts come from the
 * core's health records (host->health_foreach): nothing needs to follow the bus. To check or
 * change the snapshot before writing it: report_collect, then report_write (or report_json for
 * a json_t to embed), then report_free.
 */

#define REPORT_NAMESPACE "urn:vigil:report:1"
#define REPORT_SCHEMA_VERSION "1.0"
#define REPORT_MAX_TASKS 1000 /* default cap of the task list (core + store history) */

enum report_format {
	REPORT_XML = 0,
	REPORT_JSON = 1,
};

struct report_options {
	enum report_format format;
	/* Window of the task list and the statistics: Unix ms; 0 = everything the store keeps.
	 * Queued and running tasks are always listed. */
	int64_t since_ms;
	uint32_t max_tasks;   /* cap of the task list; 0 = REPORT_MAX_TASKS */
	const char *stats_by; /* "type" (NULL), "program" or "pool" */
	int compact;          /* 1 = no indentation */
	/* The daemon's start (Unix ms); 0 = the process start time from /proc/self/stat. */
	int64_t started_ms;
};

/* ---- the one call ---- */

/* Collects a snapshot through host and writes it as opt->format (NULL opt: XML, indented, no
 * window). Returns a malloc'd NUL-terminated buffer of *len bytes, or NULL
 * with *err = -ENOMEM / -EINVAL. Missing store support (history or stats -ENOSYS) is not an
 * error: the document says so (tasks/@history, statistics/@available). */
char *report_render(const struct vigil_host *host, const struct report_options *opt, size_t *len,
                    int *err);

/* "xml" or "json" -> format. 0, or -EINVAL. */
int report_format_parse(const char *s, enum report_format *out);

/* ---- the model: a self-contained snapshot (all strings owned, clean UTF-8) ---- */

struct report_plugin {
	char *kind, *plugin, *instance, *section, *version, *description, *file;
	unsigned abi_major, abi_minor;
};

struct report_alert {
	char *id, *severity, *message;
	int64_t since_ms; /* 0 = unknown */
};

/* How often one limit of an instance was violated (the core's per-limit counter). Written
 * with source "limit"; only limits violated at least once are listed. */
struct report_violation {
	const char *name; /* static: "memory", "cpu", "runtime", "nofile" or "nproc" */
	uint64_t count;   /* > 0 */
};

struct report_instance {
	char *name;
	int32_t index; /* -1 when numprocs = 1 */
	enum vigil_proc_state state;
	int64_t state_since_ms; /* 0 = unknown */
	int32_t pid;            /* 0 = none */
	int64_t started_ms;     /* 0 = never */
	uint32_t restarts;
	int32_t exit_code;   /* -1 = none */
	int32_t exit_signal; /* 0 = none */
	char *last_reason;
	double cpu_pct;    /* < 0 = not sampled */
	int64_t rss_bytes; /* < 0 = not sampled */
	int32_t health;    /* < 0 = not scored */
	const char *level; /* static; NULL = derived from health */
	const char *trend; /* static; NULL = unknown */
	/* The core's health record was read: alerts and violations are known (none = empty),
	 * else they are unknown (a core without health_foreach) and left out. */
	int health_known;
	struct report_alert *alerts;
	size_t nalerts;
	struct report_violation *violations;
	size_t nviolations;
	char *stdout_log, *stderr_log;
};

struct report_program {
	char *name, *command;
	enum vigil_priority priority;
	char **tags;
	size_t ntags;
	int64_t limit_memory, limit_runtime_ms, limit_nofile, limit_nproc; /* 0 = none */
	double limit_cpu;
	struct report_instance *inst;
	size_t ninst;
};

struct report_task {
	char *id, *name, *type, *pool, *command, *reason, *error;
	enum vigil_task_state state;                /* VIGIL_TASK_STATE_COUNT = unknown */
	int priority;                               /* enum vigil_priority, -1 = unknown */
	int32_t pid;                                /* 0 = none */
	int64_t submitted_ms, started_ms, ended_ms; /* 0 = unknown / not yet */
	int32_t exit_code;                          /* -1 = none */
	int32_t signal;                             /* 0 = none */
	int64_t duration_ms;                        /* < 0 = unknown */
	double cpu_s;                               /* < 0 = unknown */
	int64_t peak_rss_bytes;                     /* < 0 = unknown */
	uint32_t attempts;                          /* 0 = unknown */
	int64_t timeout_ms;                         /* <= 0 = none */
	int64_t queue_position;                     /* < 0 = not queued */
};

struct report_stat {
	char *key;
	uint64_t runs, successes, failures, timeouts;
	double success_rate;            /* < 0 = no runs */
	int64_t p50_ms, p95_ms, max_ms; /* < 0 = unknown */
	double cpu_s;                   /* < 0 = unknown */
	int64_t peak_rss_bytes;         /* < 0 = unknown */
};

enum report_history {
	REPORT_HISTORY_INCLUDED = 0,
	REPORT_HISTORY_UNAVAILABLE = 1,
	REPORT_HISTORY_FAILED = 2,
};

struct report {
	int64_t generated_ms;
	char *host, *version, *state_dir;
	unsigned abi_major, abi_minor;
	int32_t pid;
	int64_t started_ms; /* 0 = unknown */
	struct report_plugin *plugins;
	size_t nplugins;
	struct report_program *programs;
	size_t nprograms;
	int64_t since_ms;          /* 0 = no window */
	struct report_task *tasks; /* newest first */
	size_t ntasks;
	int tasks_truncated;
	enum report_history history;
	const char *stats_by; /* static: "type", "program" or "pool" */
	int stats_available;
	struct report_stat *stats;
	size_t nstats;
};

/* Takes the snapshot. NULL with *err = -ENOMEM or -EINVAL (bad stats_by). */
struct report *report_collect(const struct vigil_host *host, const struct report_options *opt,
                              int *err);
void report_free(struct report *r);

/* Used by report_collect: copies (cleaned) what the core's health record h says into in:
 * score, level and trend when it is scored, the active alerts, the violated limits, and sets
 * in->health_known. A record shorter than this version's struct leaves in unknown.
 * 0, or -ENOMEM (in keeps what was copied; report_free releases it). */
int report_health_apply(struct report_instance *in, const struct vigil_health_info *h);

/* The document in `format` (what report_render returns): malloc'd, NUL-terminated, *len
 * bytes; free() it. NULL on ENOMEM or an unknown format. */
char *report_write(const struct report *r, enum report_format format, int compact, size_t *len);
/* The XML document (UTF-8, namespace REPORT_NAMESPACE). malloc'd, NUL-terminated, *len bytes;
 * NULL on ENOMEM. */
char *report_xml(const struct report *r, int compact, size_t *len);
/* The same content as a JSON object (see docs/report-format.md). NULL on ENOMEM. */
json_t *report_json(const struct report *r);

/* ---- shared by the writers ---- */

/* RFC 3339 UTC with milliseconds ("2026-11-27T03:04:05.123Z") into buf (>= 32 bytes).
 * 0 when ms is unknown (<= 0) or past year 9999, else 1. */
int report_time(char *buf, size_t len, int64_t ms);
/* v with `places` (3 or 4) decimals, a dot whatever the locale, no exponent. 0 when v is
 * negative (unknown) or not finite, else 1. */
int report_decimal(char *buf, size_t len, double v, int places);
/* SPEC §3 levels: healthy >= 70, degraded >= 40, unhealthy >= 20, else critical. */
const char *report_health_level(int32_t score);
/* The state's name; "unknown" for VIGIL_TASK_STATE_COUNT or anything out of range. */
const char *report_task_state_name(enum vigil_task_state s);
/* "included", "unavailable", "failed". */
const char *report_history_name(enum report_history h);

/* Copies s replacing every invalid UTF-8 sequence and every character XML 1.0 cannot hold
 * (controls other than tab, newline, CR; U+FFFE, U+FFFF) with U+FFFD. malloc'd; NULL for
 * NULL s or on ENOMEM. */
char *report_text_clean(const char *s);

#endif

/* testing.h — a fake vigil host for plugin unit tests: header-only, deterministic, no daemon. */
#ifndef VIGIL_TESTING_H
#define VIGIL_TESTING_H

/*
 * A plugin sees the core only through `struct vigil_host`, so a test can hand it this fake one
 * and drive every callback by hand: no loop, no threads, no real time. Include this header in
 * ONE test file (everything in it is static); it needs only libc.
 *
 *   struct vigil_fake_host fh;
 *   void *state;
 *
 *   vigil_fake_host_init(&fh);
 *   vigil_fake_cfg_set(&fh, "interval", "2s");             // the plugin's section
 *   desc = vigil_plugin_entry_v1();                         // or include the plugin's .c
 *   rc = vigil_fake_instantiate(&fh, desc, &state);         // init + configure
 *   desc->start(state);
 *   vigil_fake_advance(&fh, 2000);                          // fires the timers due by then
 *   ev = vigil_fake_event_last(&fh, VIGIL_EV_METRIC_CUSTOM); // what it published
 *   vigil_fake_deliver(&fh, &exited.hdr);                   // feed its subscriptions
 *   desc->stop(state);
 *   desc->fini(state);
 *   vigil_fake_host_fini(&fh);                              // frees what the fake holds
 *
 * How the fake differs from vigild, on purpose:
 * - Time is a counter (`now_ms`), moved only by vigil_fake_advance(); wall_ms() is
 *   `wall_base_ms + now_ms`. A timer fires when the clock passes its due time.
 * - publish() validates like the real bus (known type, size at least the type's struct), copies
 *   the event and its strings, stamps seq and time, and records it in `events`. Nothing is
 *   delivered until the test calls vigil_fake_dispatch() (delivers what was published) or
 *   vigil_fake_deliver() (delivers an event the test built). Lossy events are never dropped,
 *   so sub_dropped() is always 0.
 * - cfg_* read the values set with vigil_fake_cfg_set(), falling back to the defaults of the
 *   key table in `keys` (vigil_fake_instantiate() takes it from the descriptor). When `keys` is
 *   set, vigil_fake_cfg_set() refuses (-EINVAL) an undeclared key or a value the core would
 *   reject, so a test sees exactly what configure() would see.
 * - task_foreach() and health_foreach() walk the `tasks` and `health` arrays the test supplies;
 *   task_submit() accepts any spec with a command (ids fake-1, fake-2 ...), task_cancel() and
 *   reload() / reexec() are recorded; history_query() and stats_query() call the test's
 *   `history` / `stats` functions, or answer -ENOSYS.
 * - proc_foreach() and proc_control() work on the `procs` array the test supplies; a target
 *   matches an instance name, a program name, "all" or NULL (groups are not modelled).
 *   proc_control() only records the request in `controls`.
 * - Only one fake host may exist at a time (host functions such as now_ms() take no context).
 * - `self` is vigil_fake_self(&fh) and `cfg` is vigil_fake_config(&fh); instance_name()
 *   returns `fh.instance` whatever self is. Any member of `fh.host` may be replaced by the
 *   test's own function after vigil_fake_host_init().
 *
 * Misuse the real core would not report but a test should see (reading an undeclared key,
 * cancelling a one-shot timer after it fired, a timer storm) increments `errors` and logs a
 * line starting with "fake host:". Assert `fh.errors == 0` at the end of a test.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/sdk.h>

struct vigil_fake_log {
	enum vigil_log_level level;
	char *text; /* the formatted line, without the "[kind.instance]" prefix */
};

struct vigil_fake_control {
	char *target;
	enum vigil_proc_action action;
	int signo;
};

/* Private records behind the opaque handles the host returns. */
struct vigil_fake_sub_ {
	struct vigil_filter filter;
	char *subject;
	vigil_event_fn fn;
	void *arg;
	int dead;
	struct vigil_fake_sub_ *next;
};

struct vigil_fake_timer_ {
	uint64_t due, period;
	vigil_timer_fn fn;
	void *arg;
	int dead;  /* cancelled */
	int fired; /* a one-shot that fired: kept to catch a late cancel */
	struct vigil_fake_timer_ *next;
};

struct vigil_fake_watch_ {
	int fd;
	uint32_t events;
	vigil_fd_fn fn;
	void *arg;
	int dead;
	struct vigil_fake_watch_ *next;
};

#define VIGIL_FAKE_MAX_CFG 64

struct vigil_fake_host {
	struct vigil_host host; /* hand &fh->host to init(); any member may be replaced */

	/* Set by the test (vigil_fake_host_init sets the defaults shown). */
	const char *kind;                    /* log prefix kind: "plugin" */
	const char *instance;                /* instance_name(): "test" */
	const char *state_dir;               /* state_dir(): "/tmp" */
	int echo;                            /* 1 = also print every log line to stderr */
	const struct vigil_config_key *keys; /* declared keys (defaults, checks); NULL = none */
	const struct vigil_proc_info *procs; /* what proc_foreach() walks */
	size_t nprocs;
	const struct vigil_plugin_info *plugins; /* what plugin_foreach() walks */
	size_t nplugins;
	const struct vigil_task_info *tasks;     /* what task_foreach() walks */
	size_t ntasks;
	const struct vigil_health_info *health;  /* what health_foreach() walks (by name) */
	size_t nhealth;
	/* history_query() / stats_query() call these when set, else answer -ENOSYS. */
	int (*history)(const struct vigil_history_query *q, vigil_history_fn fn, void *arg);
	int (*stats)(const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg);
	int reload_result;                       /* what reload() returns (0) */

	/* Read by the test. */
	uint64_t now_ms;             /* the fake monotonic clock */
	int64_t wall_base_ms;        /* wall clock at now_ms = 0 */
	struct vigil_fake_log *logs; /* every log line, in order */
	size_t nlogs;
	const struct vigil_event **events; /* every event published, in order (held copies) */
	size_t nevents;
	struct vigil_fake_control *controls; /* every proc_control() request */
	size_t ncontrols;
	unsigned reloads;      /* reload() calls */
	unsigned reexecs;      /* reexec() calls */
	unsigned submitted;    /* task_submit() calls that were accepted; ids are fake-1, fake-2 ... */
	char **cancelled;      /* every task_cancel() id, in order */
	size_t ncancelled;
	unsigned shutdowns;    /* shutdown() calls */
	char *shutdown_reason; /* the last reason */
	unsigned errors;       /* misuse found by the fake, see above */

	/* Private. */
	char *cfg_key[VIGIL_FAKE_MAX_CFG];
	char *cfg_value[VIGIL_FAKE_MAX_CFG];
	size_t ncfg;
	size_t ndispatched;
	uint64_t seq;
	unsigned busy; /* inside a callback: unlink dead records later */
	struct vigil_fake_sub_ *subs;
	struct vigil_fake_timer_ *timers;
	struct vigil_fake_watch_ *watches;
};

/* The host functions without a context argument reach the fake through this. */
static struct vigil_fake_host *vigil_fake_current_;

/* ---- small helpers ---- */

static inline void *vigil_fake_xrealloc_(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

static inline char *vigil_fake_xstrdup_(const char *s)
{
	size_t n = strlen(s) + 1;
	return (char *)memcpy(vigil_fake_xrealloc_(NULL, n), s, n);
}

VIGIL_PRINTF(2, 3)
static inline void vigil_fake_complain_(struct vigil_fake_host *fh, const char *fmt, ...);
VIGIL_PRINTF(3, 4)
static inline void vigil_fake_logf_(struct vigil_fake_host *fh, enum vigil_log_level level,
                                    const char *fmt, ...);

/* ---- event types: name, struct size and string members, as the core's bus knows them ---- */

struct vigil_fake_evtype_ {
	uint32_t type;
	const char *name;
	uint32_t size;
	uint16_t strings[5]; /* offsets of const char * members; 0 ends */
};

#define VIGIL_FAKE_S_(T, m) (uint16_t) offsetof(struct T, m)
#define VIGIL_FAKE_T_(type, name, T, ...)                                                          \
	{                                                                                          \
		type, name, sizeof(struct T),                                                      \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}

static inline const struct vigil_fake_evtype_ *vigil_fake_evtype_at_(size_t i)
{
	static const struct vigil_fake_evtype_ types[] = {
	    VIGIL_FAKE_T_(VIGIL_EV_SUPERVISOR_STARTED, "supervisor.started",
	                  vigil_ev_supervisor_started,
	                  VIGIL_FAKE_S_(vigil_ev_supervisor_started, version),
	                  VIGIL_FAKE_S_(vigil_ev_supervisor_started, config_file)),
	    VIGIL_FAKE_T_(VIGIL_EV_SUPERVISOR_STOPPING, "supervisor.stopping",
	                  vigil_ev_supervisor_stopping,
	                  VIGIL_FAKE_S_(vigil_ev_supervisor_stopping, reason)),
	    VIGIL_FAKE_T_(VIGIL_EV_CONFIG_RELOADED, "config.reloaded", vigil_ev_config_reloaded,
	                  VIGIL_FAKE_S_(vigil_ev_config_reloaded, config_file)),
	    VIGIL_FAKE_T_(VIGIL_EV_CONFIG_REJECTED, "config.rejected", vigil_ev_config_rejected,
	                  VIGIL_FAKE_S_(vigil_ev_config_rejected, config_file),
	                  VIGIL_FAKE_S_(vigil_ev_config_rejected, error)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_STARTING, "process.starting", vigil_ev_process_starting,
	                  VIGIL_FAKE_S_(vigil_ev_process_starting, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_starting, command)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_RUNNING, "process.running", vigil_ev_process_running,
	                  VIGIL_FAKE_S_(vigil_ev_process_running, program)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_READY, "process.ready", vigil_ev_process_ready,
	                  VIGIL_FAKE_S_(vigil_ev_process_ready, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_ready, how)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_STOPPING, "process.stopping", vigil_ev_process_stopping,
	                  VIGIL_FAKE_S_(vigil_ev_process_stopping, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_stopping, reason)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_EXITED, "process.exited", vigil_ev_process_exited,
	                  VIGIL_FAKE_S_(vigil_ev_process_exited, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_exited, reason),
	                  VIGIL_FAKE_S_(vigil_ev_process_exited, error)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_BACKOFF, "process.backoff", vigil_ev_process_backoff,
	                  VIGIL_FAKE_S_(vigil_ev_process_backoff, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_backoff, policy)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_FATAL, "process.fatal", vigil_ev_process_fatal,
	                  VIGIL_FAKE_S_(vigil_ev_process_fatal, program),
	                  VIGIL_FAKE_S_(vigil_ev_process_fatal, reason)),
	    VIGIL_FAKE_T_(VIGIL_EV_PROCESS_ADOPTED, "process.adopted", vigil_ev_process_adopted,
	                  VIGIL_FAKE_S_(vigil_ev_process_adopted, program)),
	    VIGIL_FAKE_T_(VIGIL_EV_TASK_QUEUED, "task.queued", vigil_ev_task_queued,
	                  VIGIL_FAKE_S_(vigil_ev_task_queued, pool),
	                  VIGIL_FAKE_S_(vigil_ev_task_queued, name),
	                  VIGIL_FAKE_S_(vigil_ev_task_queued, type),
	                  VIGIL_FAKE_S_(vigil_ev_task_queued, command)),
	    VIGIL_FAKE_T_(VIGIL_EV_TASK_FINISHED, "task.finished", vigil_ev_task_finished,
	                  VIGIL_FAKE_S_(vigil_ev_task_finished, pool),
	                  VIGIL_FAKE_S_(vigil_ev_task_finished, name),
	                  VIGIL_FAKE_S_(vigil_ev_task_finished, type),
	                  VIGIL_FAKE_S_(vigil_ev_task_finished, error)),
	    VIGIL_FAKE_T_(VIGIL_EV_TASK_STARTED, "task.started", vigil_ev_task_started,
	                  VIGIL_FAKE_S_(vigil_ev_task_started, pool),
	                  VIGIL_FAKE_S_(vigil_ev_task_started, name),
	                  VIGIL_FAKE_S_(vigil_ev_task_started, type)),
	    VIGIL_FAKE_T_(VIGIL_EV_METRICS_SAMPLE, "metrics.sample", vigil_ev_metrics_sample, 0),
	    VIGIL_FAKE_T_(VIGIL_EV_HEALTH_CHANGED, "health.changed", vigil_ev_health_changed,
	                  VIGIL_FAKE_S_(vigil_ev_health_changed, level),
	                  VIGIL_FAKE_S_(vigil_ev_health_changed, trend)),
	    VIGIL_FAKE_T_(VIGIL_EV_LIMIT_VIOLATED, "limit.violated", vigil_ev_limit_violated,
	                  VIGIL_FAKE_S_(vigil_ev_limit_violated, limit),
	                  VIGIL_FAKE_S_(vigil_ev_limit_violated, action)),
	    VIGIL_FAKE_T_(VIGIL_EV_ALERT_RAISED, "alert.raised", vigil_ev_alert,
	                  VIGIL_FAKE_S_(vigil_ev_alert, alert),
	                  VIGIL_FAKE_S_(vigil_ev_alert, severity),
	                  VIGIL_FAKE_S_(vigil_ev_alert, message)),
	    VIGIL_FAKE_T_(VIGIL_EV_ALERT_CLEARED, "alert.cleared", vigil_ev_alert,
	                  VIGIL_FAKE_S_(vigil_ev_alert, alert),
	                  VIGIL_FAKE_S_(vigil_ev_alert, severity),
	                  VIGIL_FAKE_S_(vigil_ev_alert, message)),
	    VIGIL_FAKE_T_(VIGIL_EV_METRIC_CUSTOM, "metric.custom", vigil_ev_metric_custom,
	                  VIGIL_FAKE_S_(vigil_ev_metric_custom, metric),
	                  VIGIL_FAKE_S_(vigil_ev_metric_custom, unit)),
	    VIGIL_FAKE_T_(VIGIL_EV_STORE_FAILED, "store.failed", vigil_ev_store_failed,
	                  VIGIL_FAKE_S_(vigil_ev_store_failed, message)),
	};
	return i < sizeof types / sizeof types[0] ? &types[i] : NULL;
}

static inline const struct vigil_fake_evtype_ *vigil_fake_evtype_(uint32_t type)
{
	const struct vigil_fake_evtype_ *t;

	for (size_t i = 0; (t = vigil_fake_evtype_at_(i)); i++)
		if (t->type == type)
			return t;
	return NULL;
}

/* ---- refcounted event copies: a header, the struct, then its strings ---- */

union vigil_fake_block_ {
	unsigned refs;
	long double align_ld_; /* the event after the header is aligned for any member */
	long long align_ll_;
	void *align_p_;
};

/* The events handed out are const for the plugin, not for the fake that owns the block. */
static inline union vigil_fake_block_ *vigil_fake_block_of_(const struct vigil_event *ev)
{
	return (union vigil_fake_block_ *)(uintptr_t)ev - 1;
}

static inline const char *vigil_fake_ev_str_(const struct vigil_event *ev, uint16_t off)
{
	const char *s;

	memcpy(&s, (const char *)ev + off, sizeof s);
	return s;
}

static inline struct vigil_event *vigil_fake_ev_copy_(const struct vigil_event *ev,
                                                      const struct vigil_fake_evtype_ *t)
{
	size_t len = sizeof(union vigil_fake_block_) + ev->size, i;
	union vigil_fake_block_ *b;
	struct vigil_event *copy;
	char *tail;

	if (ev->subject)
		len += strlen(ev->subject) + 1;
	for (i = 0; i < 5 && t->strings[i]; i++)
		if (vigil_fake_ev_str_(ev, t->strings[i]))
			len += strlen(vigil_fake_ev_str_(ev, t->strings[i])) + 1;
	b = (union vigil_fake_block_ *)vigil_fake_xrealloc_(NULL, len);
	b->refs = 1;
	copy = (struct vigil_event *)(void *)(b + 1);
	memcpy(copy, ev, ev->size);
	tail = (char *)copy + ev->size;
	if (ev->subject) {
		copy->subject = strcpy(tail, ev->subject);
		tail += strlen(tail) + 1;
	}
	for (i = 0; i < 5 && t->strings[i]; i++) {
		const char *s = vigil_fake_ev_str_(ev, t->strings[i]);

		if (s) {
			char *d = strcpy(tail, s);

			memcpy((char *)copy + t->strings[i], &d, sizeof d);
			tail += strlen(tail) + 1;
		}
	}
	return copy;
}

static inline const struct vigil_event *vigil_fake_event_ref_(const struct vigil_event *ev)
{
	vigil_fake_block_of_(ev)->refs++;
	return ev;
}

static inline void vigil_fake_event_unref_(const struct vigil_event *ev)
{
	union vigil_fake_block_ *b;

	if (!ev)
		return;
	b = vigil_fake_block_of_(ev);
	if (--b->refs == 0)
		free(b);
}

static inline const char *vigil_fake_event_name_(uint32_t type)
{
	const struct vigil_fake_evtype_ *t = vigil_fake_evtype_(type);
	return t ? t->name : NULL;
}

static inline uint32_t vigil_fake_event_type_(const char *name)
{
	const struct vigil_fake_evtype_ *t;

	for (size_t i = 0; name && (t = vigil_fake_evtype_at_(i)); i++)
		if (strcmp(t->name, name) == 0)
			return t->type;
	return 0;
}

/* ---- logging and identity ---- */

VIGIL_PRINTF(3, 0)
static inline void vigil_fake_vlog_(struct vigil_fake_host *fh, enum vigil_log_level level,
                                    const char *fmt, va_list ap)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	va_list ap2;
	int n;
	char *text;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	text = (char *)vigil_fake_xrealloc_(NULL, (size_t)n + 1);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	fh->logs = (struct vigil_fake_log *)vigil_fake_xrealloc_(fh->logs, (fh->nlogs + 1) *
	                                                                       sizeof *fh->logs);
	fh->logs[fh->nlogs].level = level;
	fh->logs[fh->nlogs].text = text;
	fh->nlogs++;
	if (fh->echo)
		fprintf(stderr, "%s [%s.%s] %s\n", (unsigned)level < 4 ? names[level] : "?",
		        fh->kind, fh->instance, text);
}

VIGIL_PRINTF(3, 4)
static inline void vigil_fake_log_(struct vigil_instance *self, enum vigil_log_level level,
                                   const char *fmt, ...)
{
	va_list ap;

	(void)self;
	va_start(ap, fmt);
	vigil_fake_vlog_(vigil_fake_current_, level, fmt, ap);
	va_end(ap);
}

static inline void vigil_fake_logf_(struct vigil_fake_host *fh, enum vigil_log_level level,
                                    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vigil_fake_vlog_(fh, level, fmt, ap);
	va_end(ap);
}

static inline void vigil_fake_complain_(struct vigil_fake_host *fh, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fh->errors++;
	vigil_fake_logf_(fh, VIGIL_LOG_ERROR, "fake host: %s", buf);
}

static inline const char *vigil_fake_instance_name_(const struct vigil_instance *self)
{
	(void)self;
	return vigil_fake_current_->instance;
}

static inline const char *vigil_fake_state_dir_(void)
{
	return vigil_fake_current_->state_dir;
}

/* ---- configuration: values as text, parsed the way the core parses them ---- */

static inline int vigil_fake_parse_int_(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (end == s || *end || errno)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A number followed by one of the units (mult[i] per unit[i]); no unit = `bare` multiplier. */
static inline int vigil_fake_parse_unit_(const char *s, const char *const *unit,
                                         const int64_t *mult, int64_t bare, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno || v < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (!*end) {
		*out = v * bare;
		return 0;
	}
	for (size_t i = 0; unit[i]; i++) {
		if (strcmp(end, unit[i]) == 0) {
			*out = v * mult[i];
			return 0;
		}
	}
	return -EINVAL;
}

static inline int vigil_fake_parse_duration_(const char *s, int64_t *out)
{
	static const char *const unit[] = {"ms", "s", "m", "h", "d", NULL};
	static const int64_t mult[] = {1, 1000, 60000, 3600000, 86400000};
	return vigil_fake_parse_unit_(s, unit, mult, 1000, out);
}

static inline int vigil_fake_parse_size_(const char *s, int64_t *out)
{
	static const char *const unit[] = {"K", "M", "G", "k", "m", "g", NULL};
	static const int64_t mult[] = {1 << 10, 1 << 20, 1 << 30, 1 << 10, 1 << 20, 1 << 30};
	return vigil_fake_parse_unit_(s, unit, mult, 1, out);
}

static inline int vigil_fake_parse_bool_(const char *s, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
			*out = strcmp(s, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

static inline int vigil_fake_parse_double_(const char *s, int percent, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || errno)
		return -EINVAL;
	if (percent && *end++ != '%')
		return -EINVAL;
	return *end ? -EINVAL : 0;
}

static inline int vigil_fake_parse_mode_(const char *s, int64_t *out)
{
	char *end;
	long v = strtol(s, &end, 8);

	if (end == s || *end || v < 0 || v > 07777)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Would the core accept `value` for a key of this type? */
static inline int vigil_fake_check_value_(const struct vigil_config_key *k, const char *value)
{
	int64_t i;
	int b;
	double d;

	switch (k->type) {
	case VIGIL_KEY_INT:
		return vigil_fake_parse_int_(value, &i);
	case VIGIL_KEY_BOOL:
		return vigil_fake_parse_bool_(value, &b);
	case VIGIL_KEY_DURATION:
		return vigil_fake_parse_duration_(value, &i);
	case VIGIL_KEY_SIZE:
		return vigil_fake_parse_size_(value, &i);
	case VIGIL_KEY_PERCENT:
		return vigil_fake_parse_double_(value, 1, &d);
	case VIGIL_KEY_DOUBLE:
		return vigil_fake_parse_double_(value, 0, &d);
	case VIGIL_KEY_MODE:
		return vigil_fake_parse_mode_(value, &i);
	case VIGIL_KEY_ENUM: {
		size_t len = strlen(value);

		for (const char *c = k->choices; c && *c;) {
			const char *bar = strchr(c, '|');
			size_t clen = bar ? (size_t)(bar - c) : strlen(c);

			if (clen == len && strncmp(c, value, len) == 0)
				return 0;
			c = bar ? bar + 1 : c + clen;
		}
		return -EINVAL;
	}
	default:
		return 0;
	}
}

static inline const struct vigil_config_key *vigil_fake_key_(const struct vigil_fake_host *fh,
                                                             const char *key)
{
	for (const struct vigil_config_key *k = fh->keys; k && k->name; k++)
		if (strcmp(k->name, key) == 0)
			return k;
	return NULL;
}

/* The raw value of key: the test's, else the declared default. */
static inline const char *vigil_fake_cfg_raw_(const char *key)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	const struct vigil_config_key *k = vigil_fake_key_(fh, key);

	if (fh->keys && !k) {
		vigil_fake_complain_(fh, "the plugin read key '%s', which it does not declare",
		                     key);
		return NULL;
	}
	for (size_t i = 0; i < fh->ncfg; i++)
		if (strcmp(fh->cfg_key[i], key) == 0)
			return fh->cfg_value[i];
	return k && !k->required ? k->def : NULL;
}

static inline void vigil_fake_cfg_bad_(const char *key, const char *value, const char *what)
{
	vigil_fake_complain_(vigil_fake_current_, "key '%s' = '%s' is not a %s", key, value, what);
}

static inline const char *vigil_fake_cfg_string_(const struct vigil_config *cfg, const char *key)
{
	(void)cfg;
	return vigil_fake_cfg_raw_(key);
}

static inline int64_t vigil_fake_cfg_int_(const struct vigil_config *cfg, const char *key)
{
	const char *v = vigil_fake_cfg_raw_(key);
	int64_t out = 0;

	(void)cfg;
	if (v && vigil_fake_parse_int_(v, &out) < 0)
		vigil_fake_cfg_bad_(key, v, "integer");
	return out;
}

static inline int vigil_fake_cfg_bool_(const struct vigil_config *cfg, const char *key)
{
	const char *v = vigil_fake_cfg_raw_(key);
	int out = 0;

	(void)cfg;
	if (v && vigil_fake_parse_bool_(v, &out) < 0)
		vigil_fake_cfg_bad_(key, v, "boolean");
	return out;
}

static inline double vigil_fake_cfg_double_(const struct vigil_config *cfg, const char *key)
{
	const char *v = vigil_fake_cfg_raw_(key);
	double out = 0;

	(void)cfg;
	if (v && vigil_fake_parse_double_(v, strchr(v, '%') != NULL, &out) < 0)
		vigil_fake_cfg_bad_(key, v, "number");
	return out;
}

static inline int64_t vigil_fake_cfg_duration_ms_(const struct vigil_config *cfg, const char *key)
{
	const char *v = vigil_fake_cfg_raw_(key);
	int64_t out = 0;

	(void)cfg;
	if (v && vigil_fake_parse_duration_(v, &out) < 0)
		vigil_fake_cfg_bad_(key, v, "duration");
	return out;
}

static inline int64_t vigil_fake_cfg_size_(const struct vigil_config *cfg, const char *key)
{
	const struct vigil_config_key *k = vigil_fake_key_(vigil_fake_current_, key);
	const char *v = vigil_fake_cfg_raw_(key);
	int64_t out = 0;
	int rc;

	(void)cfg;
	if (!v)
		return 0;
	rc = k && k->type == VIGIL_KEY_MODE ? vigil_fake_parse_mode_(v, &out)
	                                    : vigil_fake_parse_size_(v, &out);
	if (rc < 0)
		vigil_fake_cfg_bad_(key, v, "size");
	return out;
}

/* ---- event bus ---- */

static inline int vigil_fake_match_(const struct vigil_fake_sub_ *s, const struct vigil_event *ev)
{
	int any = 1;

	for (size_t i = 0; i < VIGIL_EV_LIMIT / 64; i++)
		if (s->filter.types[i])
			any = 0;
	if (!any && (ev->type >= VIGIL_EV_LIMIT ||
	             !(s->filter.types[ev->type / 64] & ((uint64_t)1 << (ev->type % 64)))))
		return 0;
	return !s->subject || (ev->subject && strcmp(s->subject, ev->subject) == 0);
}

/* Frees records marked dead, once no callback is running that could still hold one. */
static inline void vigil_fake_sweep_(struct vigil_fake_host *fh)
{
	if (fh->busy)
		return;
	for (struct vigil_fake_sub_ **p = &fh->subs; *p;) {
		struct vigil_fake_sub_ *s = *p;

		if (s->dead) {
			*p = s->next;
			free(s->subject);
			free(s);
		} else {
			p = &s->next;
		}
	}
	for (struct vigil_fake_watch_ **p = &fh->watches; *p;) {
		struct vigil_fake_watch_ *w = *p;

		if (w->dead) {
			*p = w->next;
			free(w);
		} else {
			p = &w->next;
		}
	}
	for (struct vigil_fake_timer_ **p = &fh->timers; *p;) {
		struct vigil_fake_timer_ *t = *p;

		if (t->dead && !t->fired) {
			*p = t->next;
			free(t);
		} else {
			p = &t->next;
		}
	}
}

static inline size_t vigil_fake_deliver_copy_(struct vigil_fake_host *fh,
                                              const struct vigil_event *ev)
{
	size_t calls = 0;

	fh->busy++;
	for (struct vigil_fake_sub_ *s = fh->subs; s; s = s->next) {
		if (!s->dead && vigil_fake_match_(s, ev)) {
			s->fn(ev, s->arg);
			calls++;
		}
	}
	fh->busy--;
	vigil_fake_sweep_(fh);
	return calls;
}

static inline int vigil_fake_publish_(struct vigil_instance *self, const struct vigil_event *ev)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	const struct vigil_fake_evtype_ *t = ev ? vigil_fake_evtype_(ev->type) : NULL;
	struct vigil_event *copy;

	(void)self;
	if (!t || ev->size < t->size) {
		vigil_fake_logf_(fh, VIGIL_LOG_ERROR, "fake host: publish refused: type %u size %u",
		                 ev ? ev->type : 0, ev ? ev->size : 0);
		return -EINVAL;
	}
	copy = vigil_fake_ev_copy_(ev, t);
	copy->seq = ++fh->seq;
	copy->time_us = (fh->wall_base_ms + (int64_t)fh->now_ms) * 1000;
	fh->events = (const struct vigil_event **)vigil_fake_xrealloc_(
	    (void *)fh->events, (fh->nevents + 1) * sizeof *fh->events);
	fh->events[fh->nevents++] = copy;
	return 0;
}

static inline struct vigil_sub *vigil_fake_subscribe_(struct vigil_instance *self,
                                                      const struct vigil_filter *filter,
                                                      vigil_event_fn fn, void *arg)
{
	struct vigil_fake_sub_ *s = (struct vigil_fake_sub_ *)calloc(1, sizeof *s), **p;

	(void)self;
	if (!s)
		return NULL;
	if (filter)
		s->filter = *filter;
	s->subject = filter && filter->subject ? vigil_fake_xstrdup_(filter->subject) : NULL;
	s->filter.subject = s->subject;
	s->fn = fn;
	s->arg = arg;
	for (p = &vigil_fake_current_->subs; *p; p = &(*p)->next)
		;
	*p = s;
	return (struct vigil_sub *)(void *)s;
}

static inline void vigil_fake_unsubscribe_(struct vigil_sub *sub)
{
	if (sub) {
		((struct vigil_fake_sub_ *)(void *)sub)->dead = 1;
		vigil_fake_sweep_(vigil_fake_current_);
	}
}

static inline uint64_t vigil_fake_sub_dropped_(const struct vigil_sub *sub)
{
	(void)sub;
	return 0;
}

/* ---- timers and fd watches ---- */

static inline struct vigil_timer *vigil_fake_timer_add_(struct vigil_instance *self,
                                                        uint64_t delay_ms, uint64_t period_ms,
                                                        vigil_timer_fn fn, void *arg)
{
	struct vigil_fake_timer_ *t = (struct vigil_fake_timer_ *)calloc(1, sizeof *t), **p;

	(void)self;
	if (!t)
		return NULL;
	t->due = vigil_fake_current_->now_ms + delay_ms;
	t->period = period_ms;
	t->fn = fn;
	t->arg = arg;
	for (p = &vigil_fake_current_->timers; *p; p = &(*p)->next)
		;
	*p = t;
	return (struct vigil_timer *)(void *)t;
}

static inline void vigil_fake_timer_cancel_(struct vigil_timer *timer)
{
	struct vigil_fake_timer_ *t = (struct vigil_fake_timer_ *)(void *)timer;

	if (!t)
		return;
	if (t->fired) {
		vigil_fake_complain_(vigil_fake_current_,
		                     "timer_cancel on a one-shot timer that already fired "
		                     "(vigild has freed it: use after free)");
		return;
	}
	t->dead = 1;
	vigil_fake_sweep_(vigil_fake_current_);
}

static inline struct vigil_watch *vigil_fake_watch_fd_(struct vigil_instance *self, int fd,
                                                       uint32_t events, vigil_fd_fn fn, void *arg)
{
	struct vigil_fake_watch_ *w, **p;

	(void)self;
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	w = (struct vigil_fake_watch_ *)calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	for (p = &vigil_fake_current_->watches; *p; p = &(*p)->next)
		;
	*p = w;
	return (struct vigil_watch *)(void *)w;
}

static inline int vigil_fake_watch_modify_(struct vigil_watch *watch, uint32_t events)
{
	((struct vigil_fake_watch_ *)(void *)watch)->events = events;
	return 0;
}

static inline void vigil_fake_unwatch_(struct vigil_watch *watch)
{
	if (watch) {
		((struct vigil_fake_watch_ *)(void *)watch)->dead = 1;
		vigil_fake_sweep_(vigil_fake_current_);
	}
}

static inline uint64_t vigil_fake_now_ms_(void)
{
	return vigil_fake_current_->now_ms;
}

static inline int64_t vigil_fake_wall_ms_(void)
{
	return vigil_fake_current_->wall_base_ms + (int64_t)vigil_fake_current_->now_ms;
}

/* ---- processes, plugins, daemon ---- */

static inline int vigil_fake_selects_(const char *target, const struct vigil_proc_info *p)
{
	return !target || strcmp(target, "all") == 0 || (p->name && strcmp(p->name, target) == 0) ||
	       (p->program && strcmp(p->program, target) == 0);
}

static inline int vigil_fake_proc_foreach_(const char *target, vigil_proc_fn fn, void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	int matched = 0, rc = 0;

	for (size_t i = 0; i < fh->nprocs; i++) {
		if (!vigil_fake_selects_(target, &fh->procs[i]))
			continue;
		matched++;
		rc = fn(&fh->procs[i], arg);
		if (rc)
			return rc;
	}
	return matched || !target || strcmp(target, "all") == 0 ? rc : -ENOENT;
}

static inline int vigil_fake_proc_control_(const char *target, enum vigil_proc_action action,
                                           int signo)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	struct vigil_fake_control *c;
	int matched = 0;

	if (action < VIGIL_ACT_START || action > VIGIL_ACT_SIGNAL)
		return -EINVAL;
	fh->controls = (struct vigil_fake_control *)vigil_fake_xrealloc_(
	    fh->controls, (fh->ncontrols + 1) * sizeof *fh->controls);
	c = &fh->controls[fh->ncontrols++];
	c->target = target ? vigil_fake_xstrdup_(target) : NULL;
	c->action = action;
	c->signo = signo;
	for (size_t i = 0; i < fh->nprocs; i++)
		matched += vigil_fake_selects_(target, &fh->procs[i]);
	return matched || !target || strcmp(target, "all") == 0 ? matched : -ENOENT;
}

static inline int vigil_fake_plugin_foreach_(vigil_plugin_fn fn, void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	int rc = 0;

	for (size_t i = 0; i < fh->nplugins && !rc; i++)
		rc = fn(&fh->plugins[i], arg);
	return rc;
}

static inline void vigil_fake_shutdown_(const char *reason)
{
	struct vigil_fake_host *fh = vigil_fake_current_;

	fh->shutdowns++;
	free(fh->shutdown_reason);
	fh->shutdown_reason = vigil_fake_xstrdup_(reason ? reason : "");
}

static inline int vigil_fake_history_query_(const struct vigil_history_query *q,
                                             vigil_history_fn fn, void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	return fh->history ? fh->history(q, fn, arg) : -ENOSYS;
}

static inline int vigil_fake_stats_query_(const struct vigil_stats_query *q, vigil_stats_fn fn,
                                           void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	return fh->stats ? fh->stats(q, fn, arg) : -ENOSYS;
}

static inline int vigil_fake_reload_(char *err, size_t len)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	fh->reloads++;
	if (fh->reload_result < 0)
		snprintf(err, len, "rejected by the fake host");
	return fh->reload_result;
}

static inline int vigil_fake_reexec_(void)
{
	vigil_fake_current_->reexecs++;
	return 0;
}

static inline int vigil_fake_task_submit_(const struct vigil_task_spec *spec, char *id,
                                          size_t idlen, char *err, size_t errlen)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	if (!spec || !spec->argv || !spec->argv[0]) {
		snprintf(err, errlen, "no command to run");
		return -EINVAL;
	}
	snprintf(id, idlen, "fake-%u", ++fh->submitted);
	return 0;
}

static inline int vigil_fake_task_cancel_(const char *id)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	fh->cancelled = (char **)vigil_fake_xrealloc_(fh->cancelled,
	                                              (fh->ncancelled + 1) * sizeof *fh->cancelled);
	fh->cancelled[fh->ncancelled++] = vigil_fake_xstrdup_(id);
	for (size_t i = 0; i < fh->ntasks; i++)
		if (strcmp(fh->tasks[i].id, id) == 0)
			return fh->tasks[i].state >= VIGIL_TASK_SUCCEEDED ? -EALREADY : 0;
	return -ENOENT;
}

static inline int vigil_fake_task_foreach_(const char *id, vigil_task_fn fn, void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	int rc = 0, matched = 0;
	for (size_t i = 0; i < fh->ntasks && !rc; i++) {
		if (id && strcmp(fh->tasks[i].id, id) != 0)
			continue;
		matched++;
		rc = fn(&fh->tasks[i], arg);
	}
	return id && !matched ? -ENOENT : rc;
}

static inline int vigil_fake_health_foreach_(const char *target, vigil_health_fn fn, void *arg)
{
	struct vigil_fake_host *fh = vigil_fake_current_;
	int rc = 0, matched = 0;
	for (size_t i = 0; i < fh->nprocs && !rc; i++) {
		if (!vigil_fake_selects_(target, &fh->procs[i]))
			continue;
		matched++;
		struct vigil_health_info none;
		const struct vigil_health_info *h = NULL;
		for (size_t k = 0; k < fh->nhealth && !h; k++)
			if (fh->health[k].name && strcmp(fh->health[k].name, fh->procs[i].name) == 0)
				h = &fh->health[k];
		if (!h) {
			memset(&none, 0, sizeof none);
			none.size = sizeof none;
			none.name = fh->procs[i].name;
			none.score = -1;
			none.memory_exhaustion_ms = -1;
			h = &none;
		}
		rc = fn(h, arg);
	}
	return matched || !target || strcmp(target, "all") == 0 ? rc : -ENOENT;
}

/* ======================== the API for tests ======================== */

/* Fills fh with a working host and makes it the current fake. Call once per test. */
static inline void vigil_fake_host_init(struct vigil_fake_host *fh)
{
	memset(fh, 0, sizeof *fh);
	fh->host.size = sizeof fh->host;
	fh->host.abi_major = VIGIL_ABI_MAJOR;
	fh->host.abi_minor = VIGIL_ABI_MINOR;
	fh->host.version = VIGIL_VERSION_STRING;
	fh->host.log = vigil_fake_log_;
	fh->host.instance_name = vigil_fake_instance_name_;
	fh->host.state_dir = vigil_fake_state_dir_;
	fh->host.cfg_string = vigil_fake_cfg_string_;
	fh->host.cfg_int = vigil_fake_cfg_int_;
	fh->host.cfg_bool = vigil_fake_cfg_bool_;
	fh->host.cfg_double = vigil_fake_cfg_double_;
	fh->host.cfg_duration_ms = vigil_fake_cfg_duration_ms_;
	fh->host.cfg_size = vigil_fake_cfg_size_;
	fh->host.publish = vigil_fake_publish_;
	fh->host.subscribe = vigil_fake_subscribe_;
	fh->host.unsubscribe = vigil_fake_unsubscribe_;
	fh->host.sub_dropped = vigil_fake_sub_dropped_;
	fh->host.event_ref = vigil_fake_event_ref_;
	fh->host.event_unref = vigil_fake_event_unref_;
	fh->host.event_name = vigil_fake_event_name_;
	fh->host.event_type = vigil_fake_event_type_;
	fh->host.timer_add = vigil_fake_timer_add_;
	fh->host.timer_cancel = vigil_fake_timer_cancel_;
	fh->host.watch_fd = vigil_fake_watch_fd_;
	fh->host.watch_modify = vigil_fake_watch_modify_;
	fh->host.unwatch = vigil_fake_unwatch_;
	fh->host.now_ms = vigil_fake_now_ms_;
	fh->host.wall_ms = vigil_fake_wall_ms_;
	fh->host.proc_foreach = vigil_fake_proc_foreach_;
	fh->host.proc_control = vigil_fake_proc_control_;
	fh->host.plugin_foreach = vigil_fake_plugin_foreach_;
	fh->host.shutdown = vigil_fake_shutdown_;
	fh->host.history_query = vigil_fake_history_query_;
	fh->host.reload = vigil_fake_reload_;
	fh->host.reexec = vigil_fake_reexec_;
	fh->host.stats_query = vigil_fake_stats_query_;
	fh->host.task_submit = vigil_fake_task_submit_;
	fh->host.task_cancel = vigil_fake_task_cancel_;
	fh->host.task_foreach = vigil_fake_task_foreach_;
	fh->host.health_foreach = vigil_fake_health_foreach_;
	fh->kind = "plugin";
	fh->instance = "test";
	fh->state_dir = "/tmp";
	fh->wall_base_ms = INT64_C(1700000000000);
	vigil_fake_current_ = fh;
}

/* Frees everything the fake holds: logs, recorded events, subscriptions, timers, watches. */
static inline void vigil_fake_host_fini(struct vigil_fake_host *fh)
{
	for (size_t i = 0; i < fh->nlogs; i++)
		free(fh->logs[i].text);
	free(fh->logs);
	for (size_t i = 0; i < fh->ncancelled; i++)
		free(fh->cancelled[i]);
	free(fh->cancelled);
	for (size_t i = 0; i < fh->nevents; i++)
		vigil_fake_event_unref_(fh->events[i]);
	free((void *)fh->events);
	for (size_t i = 0; i < fh->ncontrols; i++)
		free(fh->controls[i].target);
	free(fh->controls);
	for (size_t i = 0; i < fh->ncfg; i++) {
		free(fh->cfg_key[i]);
		free(fh->cfg_value[i]);
	}
	free(fh->shutdown_reason);
	fh->busy = 0;
	for (struct vigil_fake_sub_ *s = fh->subs; s; s = s->next)
		s->dead = 1;
	for (struct vigil_fake_watch_ *w = fh->watches; w; w = w->next)
		w->dead = 1;
	for (struct vigil_fake_timer_ *t = fh->timers; t; t = t->next) {
		t->dead = 1;
		t->fired = 0;
	}
	vigil_fake_sweep_(fh);
	if (vigil_fake_current_ == fh)
		vigil_fake_current_ = NULL;
	memset(fh, 0, sizeof *fh);
}

/* The `self` to pass where the plugin's instance is expected. */
static inline struct vigil_instance *vigil_fake_self(struct vigil_fake_host *fh)
{
	return (struct vigil_instance *)(void *)fh;
}

/* The `cfg` to pass to configure(): it reads the values set below. */
static inline const struct vigil_config *vigil_fake_config(struct vigil_fake_host *fh)
{
	return (const struct vigil_config *)(void *)fh;
}

/* Sets (or replaces) one key of the plugin's section, as it would be written in the file.
 * With fh->keys set, returns -EINVAL for an undeclared key or a value of the wrong type (the
 * core would refuse the file). -ENOSPC past VIGIL_FAKE_MAX_CFG keys. */
static inline int vigil_fake_cfg_set(struct vigil_fake_host *fh, const char *key, const char *value)
{
	const struct vigil_config_key *k = vigil_fake_key_(fh, key);
	size_t i;

	if (fh->keys && (!k || vigil_fake_check_value_(k, value) < 0))
		return -EINVAL;
	for (i = 0; i < fh->ncfg; i++)
		if (strcmp(fh->cfg_key[i], key) == 0)
			break;
	if (i == fh->ncfg) {
		if (i == VIGIL_FAKE_MAX_CFG)
			return -ENOSPC;
		fh->cfg_key[fh->ncfg++] = vigil_fake_xstrdup_(key);
	} else {
		free(fh->cfg_value[i]);
	}
	fh->cfg_value[i] = vigil_fake_xstrdup_(value);
	return 0;
}

/* Forgets every value set with vigil_fake_cfg_set (defaults apply again). */
static inline void vigil_fake_cfg_clear(struct vigil_fake_host *fh)
{
	for (size_t i = 0; i < fh->ncfg; i++) {
		free(fh->cfg_key[i]);
		free(fh->cfg_value[i]);
	}
	fh->ncfg = 0;
}

/* What the loader does for one instance: takes the key table from the descriptor, checks the
 * values set so far against it, then init() and configure(). On a configure() failure fini()
 * runs and *state is NULL. Returns 0, -EINVAL for a value the core would refuse, or the
 * plugin's negative errno. */
static inline int vigil_fake_instantiate(struct vigil_fake_host *fh, const struct vigil_plugin *d,
                                         void **state)
{
	int rc;

	*state = NULL;
	fh->keys = d->keys;
	for (size_t i = 0; i < fh->ncfg; i++) {
		const struct vigil_config_key *k = vigil_fake_key_(fh, fh->cfg_key[i]);

		if (d->keys && (!k || vigil_fake_check_value_(k, fh->cfg_value[i]) < 0))
			return -EINVAL;
	}
	for (const struct vigil_config_key *k = d->keys; k && k->name; k++) {
		if (k->required && !vigil_fake_cfg_raw_(k->name))
			return -EINVAL;
	}
	rc = d->init(&fh->host, vigil_fake_self(fh), state);
	if (rc < 0)
		return rc;
	if (d->configure) {
		rc = d->configure(*state, vigil_fake_config(fh));
		if (rc < 0) {
			if (d->fini)
				d->fini(*state);
			*state = NULL;
			return rc;
		}
	}
	return 0;
}

/* Moves the clock forward by ms, firing every timer that falls due on the way, in due order
 * (equal times in creation order), with now_ms set to each timer's due time while it runs.
 * Timers added by a callback fire in the same call if they fall due in time. Returns how many
 * fired. */
static inline unsigned vigil_fake_advance(struct vigil_fake_host *fh, uint64_t ms)
{
	uint64_t target = fh->now_ms + ms;
	unsigned fired = 0;

	for (;;) {
		struct vigil_fake_timer_ *next = NULL;

		for (struct vigil_fake_timer_ *t = fh->timers; t; t = t->next)
			if (!t->dead && t->due <= target && (!next || t->due < next->due))
				next = t;
		if (!next)
			break;
		if (++fired > 1000000) {
			vigil_fake_complain_(fh, "more than a million timers fired in one advance");
			break;
		}
		fh->now_ms = next->due;
		if (next->period) {
			next->due += next->period;
		} else {
			next->dead = 1;
			next->fired = 1;
		}
		fh->busy++;
		next->fn(next->arg);
		fh->busy--;
		vigil_fake_sweep_(fh);
	}
	fh->now_ms = target;
	return fired;
}

/* Live (not cancelled, not fired one-shot) timers. */
static inline size_t vigil_fake_timers_pending(const struct vigil_fake_host *fh)
{
	size_t n = 0;

	for (const struct vigil_fake_timer_ *t = fh->timers; t; t = t->next)
		n += !t->dead;
	return n;
}

/* Delivers an event the test built to every matching subscription, now, as the bus would
 * (the event is copied and stamped first; the callbacks borrow the copy). Events the callbacks
 * publish are only recorded. Returns how many callbacks ran, or -EINVAL as publish would. */
static inline int vigil_fake_deliver(struct vigil_fake_host *fh, const struct vigil_event *ev)
{
	const struct vigil_fake_evtype_ *t = vigil_fake_evtype_(ev->type);
	struct vigil_event *copy;
	size_t calls;

	if (!t || ev->size < t->size)
		return -EINVAL;
	copy = vigil_fake_ev_copy_(ev, t);
	copy->seq = ++fh->seq;
	copy->time_us = (fh->wall_base_ms + (int64_t)fh->now_ms) * 1000;
	calls = vigil_fake_deliver_copy_(fh, copy);
	vigil_fake_event_unref_(copy);
	return (int)calls;
}

/* Delivers every published event not delivered yet, in publish order, including those the
 * callbacks publish meanwhile. Returns how many callbacks ran. */
static inline size_t vigil_fake_dispatch(struct vigil_fake_host *fh)
{
	size_t calls = 0;

	while (fh->ndispatched < fh->nevents)
		calls += vigil_fake_deliver_copy_(fh, fh->events[fh->ndispatched++]);
	return calls;
}

/* Live subscriptions. */
static inline size_t vigil_fake_sub_count(const struct vigil_fake_host *fh)
{
	size_t n = 0;

	for (const struct vigil_fake_sub_ *s = fh->subs; s; s = s->next)
		n += !s->dead;
	return n;
}

/* Tells the watches of fd that it is ready for `events` (VIGIL_FD_*); ERR and HUP reach every
 * watch of the fd, as with epoll. Returns how many callbacks ran. */
static inline size_t vigil_fake_fd_ready(struct vigil_fake_host *fh, int fd, uint32_t events)
{
	size_t calls = 0;

	fh->busy++;
	for (struct vigil_fake_watch_ *w = fh->watches; w; w = w->next) {
		uint32_t got = events & (w->events | VIGIL_FD_ERR | VIGIL_FD_HUP);

		if (!w->dead && w->fd == fd && got) {
			w->fn(fd, got, w->arg);
			calls++;
		}
	}
	fh->busy--;
	vigil_fake_sweep_(fh);
	return calls;
}

/* Live fd watches. */
static inline size_t vigil_fake_watch_count(const struct vigil_fake_host *fh)
{
	size_t n = 0;

	for (const struct vigil_fake_watch_ *w = fh->watches; w; w = w->next)
		n += !w->dead;
	return n;
}

/* Log lines at `level` or above that contain `text` (NULL = any). */
static inline size_t vigil_fake_log_count(const struct vigil_fake_host *fh,
                                          enum vigil_log_level level, const char *text)
{
	size_t n = 0;

	for (size_t i = 0; i < fh->nlogs; i++)
		n += fh->logs[i].level >= level && (!text || strstr(fh->logs[i].text, text));
	return n;
}

/* Published events of `type` (0 = any). */
static inline size_t vigil_fake_event_count(const struct vigil_fake_host *fh, uint32_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < fh->nevents; i++)
		n += !type || fh->events[i]->type == type;
	return n;
}

/* The last published event of `type` (0 = any), or NULL. Owned by the fake until fini. */
static inline const struct vigil_event *vigil_fake_event_last(const struct vigil_fake_host *fh,
                                                              uint32_t type)
{
	for (size_t i = fh->nevents; i-- > 0;)
		if (!type || fh->events[i]->type == type)
			return fh->events[i];
	return NULL;
}

#endif

/* hm.h — monitor_health internals: settings, per-instance state, rings, fits and alarms. */
#ifndef VIGIL_MONITOR_HEALTH_HM_H
#define VIGIL_MONITOR_HEALTH_HM_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/sdk.h>

/* Nothing here is exported: the plugin is linked with hidden visibility and a version script
 * that keeps only vigil_plugin_entry_v1. The hm_ prefix marks the plugin's own functions. */

enum hm_sev {
	HM_SEV_NONE = 0,
	HM_SEV_WARNING = 1,
	HM_SEV_CRITICAL = 2,
	HM_SEV_EMERGENCY = 3,
};

enum hm_level { HM_HEALTHY, HM_DEGRADED, HM_UNHEALTHY, HM_CRITICAL };
enum hm_trend { HM_STABLE, HM_IMPROVING, HM_DEGRADING };
enum hm_action { HM_ACT_RESTART, HM_ACT_STOP, HM_ACT_ALERT };

/* Bits of hm_inst.checks: liveness alerts raised by the core's probes. */
#define HM_CHECK_UNHEALTHY 1u
#define HM_CHECK_WATCHDOG 2u

/* Unexpected exits remembered per instance. Past restart_penalty_max / restart_penalty exits
 * the penalty is capped anyway, and 64 covers every sane setting. */
#define HM_MAX_EXITS 64

/* Settings of one [monitor.health] section, checked by configure(). Percentages are in %. */
struct hm_conf {
	int score_step;
	uint32_t trend_window;
	double trend_band;
	int64_t restart_window_ms;
	double restart_penalty, restart_penalty_max, check_penalty;
	double memory_weight, cpu_weight, leak_penalty;
	uint32_t raise_after, clear_after, limit_samples;
	double memory_warning, memory_critical, memory_emergency;
	double cpu_warning, cpu_critical, cpu_emergency;
	double leak_r2;
	int64_t leak_horizon_ms;
	double leak_min_growth;
	double cpu_slack;
	int enforce;
};

/* One (time, value) point. Time is the loop clock in ms, kept modulo 2^32: ages are computed
 * as differences from the newest point, exact as long as a window spans less than 49 days. */
struct hm_point {
	uint32_t t;
	float v;
};

/* A fixed-capacity ring of points: the oldest falls out when it is full. */
struct hm_ring {
	struct hm_point *p;
	uint32_t cap, n, head; /* head: where the next point goes */
};

/* A least-squares line through a ring. x is the age in ms (0 = newest, negative = older). */
struct hm_fit {
	uint32_t n;
	double slope;    /* value units per ms */
	double r2;       /* 0..1; 0 when the values do not vary */
	double span_ms;  /* newest time - oldest time */
	double at_new;   /* the line at the newest point */
};

/* Hysteresis of one alert condition: a severity is raised after `raise_after` consecutive
 * samples at that severity or above; cleared after `clear_after` consecutive samples at none. */
struct hm_alarm {
	uint8_t active;     /* enum hm_sev raised, HM_SEV_NONE = not raised */
	uint16_t run[4];    /* run[s]: consecutive samples at severity >= s (s = 1..3) */
	uint16_t good;      /* consecutive samples at HM_SEV_NONE */
	uint16_t lower;     /* consecutive samples below the active severity */
};

/* What the monitor knows of one instance. Rings are allocated while a process runs. */
struct hm_inst {
	char *name;
	uint32_t hash;
	uint32_t seen; /* sweep generation */

	/* From the core's vigil_proc_info (refreshed on process.* and config.reloaded). */
	int64_t limit_memory;
	double limit_cpu;
	enum hm_action on_limit;

	/* The current process. */
	int32_t pid;     /* 0 = none */
	double rss;      /* bytes of the tree (or the main process); -1 = unknown */
	double cpu;      /* % of one core, last sample; -1 = unknown */
	double cpu_avg;  /* smoothed, for the score; -1 = unknown */
	uint64_t last_sample_ms;
	struct hm_ring scores, rsss;
	int64_t exhaustion_ms; /* while memory-leak is active with a limit; else -1 */

	/* Unexpected exits within restart_window (loop clock, ms), a ring. */
	uint64_t exits[HM_MAX_EXITS];
	uint32_t nexits, exit_head;
	unsigned checks; /* HM_CHECK_* */

	struct hm_alarm mem_high, cpu_high, leak, mem_over, cpu_over;
	uint32_t over_mem, over_cpu;       /* consecutive samples over the limit */
	uint8_t tripped_mem, tripped_cpu;  /* acted on; wait for the next process / relief */
	uint32_t viol_mem, viol_cpu;       /* limit.violated published */

	/* Last published health.changed; score -1 = never published. */
	int32_t score;
	enum hm_level level;
	enum hm_trend trend;
	int64_t pub_exhaustion_ms;
	enum hm_trend trend_now;
	double pen[5]; /* memory, cpu, restart, check, latency of the last evaluation */
	int32_t score_now;
};

struct hm {
	const struct vigil_host *host;
	struct vigil_instance *self;
	struct hm_conf c;
	struct vigil_sub *sub;
	struct vigil_timer *timer;
	struct hm_inst **insts;
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1 into insts, 0 = empty */
	size_t nslots;
	uint32_t gen;
	unsigned said_oom;
	unsigned ticks;
};

/* hmath.c */
int hm_ring_init(struct hm_ring *r, uint32_t cap);
void hm_ring_free(struct hm_ring *r);
void hm_ring_clear(struct hm_ring *r);
void hm_ring_push(struct hm_ring *r, uint64_t t_ms, double v);
/* The i-th point, 0 = the oldest. */
const struct hm_point *hm_ring_at(const struct hm_ring *r, uint32_t i);
/* Fits a line through the newest `last` points (0 = all). Returns 0, or -EINVAL when fewer
 * than 2 points or they all share one time. */
int hm_fit(const struct hm_ring *r, uint32_t last, struct hm_fit *out);
/* Feeds one sample's severity. Returns the severity to (re-)raise, -1 to clear, 0 when the
 * active alert stays as it is. */
int hm_alarm_step(struct hm_alarm *a, enum hm_sev sev, uint32_t raise_after, uint32_t clear_after);
/* The severity a value reaches against three ascending thresholds. */
enum hm_sev hm_grade(double value, double warning, double critical, double emergency);
enum hm_level hm_level_of(int32_t score);
const char *hm_level_name(enum hm_level l);
const char *hm_trend_name(enum hm_trend t);
const char *hm_sev_name(enum hm_sev s);
/* "1.5 GiB", "300 KiB" ... into buf. */
const char *hm_bytes(double bytes, char *buf, size_t len);
/* "2h 5m", "40s" ... into buf. */
const char *hm_duration(int64_t ms, char *buf, size_t len);

/* hinst.c */
struct hm_inst *hm_find(const struct hm *h, const char *name);
/* Finds or adds (reading its limits from the core). NULL on ENOMEM. */
struct hm_inst *hm_get(struct hm *h, const char *name);
void hm_remove(struct hm *h, struct hm_inst *in);
void hm_free_all(struct hm *h);
/* Re-reads the limits of one instance (or, with in NULL, of every known one). */
void hm_refresh_limits(struct hm *h, struct hm_inst *in);
/* The instance's state, or -ENOENT when the core no longer has it. */
int hm_proc_state(const struct hm *h, const char *name);
/* Drops what belongs to the current process (samples, counters) for a new one. */
void hm_new_process(struct hm *h, struct hm_inst *in, int32_t pid);
/* Forgets instances the core no longer has. */
void hm_sweep(struct hm *h);

/* heval.c */
/* One metrics.sample of the instance. */
void hm_on_sample(struct hm *h, struct hm_inst *in, const struct vigil_ev_metrics_sample *m);
/* Recomputes the score (after an exit, a check alert, or time passing) and publishes it when
 * it moved enough. from_sample: also feed the trend window. */
void hm_evaluate(struct hm *h, struct hm_inst *in, int from_sample);
/* The process is gone: clears the alerts about its resources. */
void hm_clear_process_alerts(struct hm *h, struct hm_inst *in);
/* Unexpected exits within restart_window. */
uint32_t hm_recent_exits(const struct hm *h, const struct hm_inst *in);

#endif

/* probe.c — when an instance is ready (notify, tcp, http, exec) and whether it stays alive. */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "attempt.h"
#include "inst.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "sup_int.h"
#include "util.h"

#define READY_RETRY_MS 200 /* pause between two failed readiness attempts */

enum { ALERT_UNHEALTHY = 1u, ALERT_WATCHDOG = 2u };

struct probe {
	struct proc *p;
	/* readiness, while starting */
	struct attempt *ready_chk;
	struct loop_timer *ready_retry;
	int ready_seen; /* READY=1 came before the exec was confirmed */
	unsigned attempts;
	char last_why[256]; /* why the last readiness attempt failed */
	/* liveness, while running */
	struct loop_timer *health_timer;
	struct attempt *health_chk;
	struct loop_timer *wd_timer;
	uint64_t wd_last_ms; /* last WATCHDOG=1, or when the watchdog was armed */
};

static struct probe *probe_of(struct proc *p)
{
	if (!p->probe) {
		p->probe = util_xcalloc(1, sizeof *p->probe);
		p->probe->p = p;
	}
	return p->probe;
}

const char *probe_ready_how(const struct conf_program *g)
{
	static const char *const checks[] = {"none", "tcp", "http", "exec"};
	switch (g->ready) {
	case READY_DELAY:
		return "delay";
	case READY_NOTIFY:
		return "notify";
	case READY_CHECK:
		return checks[g->ready_check.kind & 3];
	default:
		return "none";
	}
}

/* --- alerts and on_unhealthy --------------------------------------------------------------- */

static void publish_alert(struct proc *p, unsigned which, int raised, const char *msg)
{
	struct vigil_ev_alert a = {
	    .hdr = {.type = raised ? VIGIL_EV_ALERT_RAISED : VIGIL_EV_ALERT_CLEARED,
	            .size = sizeof a,
	            .subject = p->name},
	    .alert = which == ALERT_WATCHDOG ? "watchdog" : "unhealthy",
	    .severity = "critical",
	    .message = msg,
	};
	bus_publish(&a.hdr);
}

static void clear_alert(struct proc *p, unsigned which, const char *msg)
{
	if (!(p->probe_alerts & which))
		return;
	p->probe_alerts &= ~which;
	log_info("%s: %s", p->name, msg);
	publish_alert(p, which, 0, msg);
}

/* A liveness check failed health_failures times in a row, or the watchdog expired. */
static void unhealthy(struct proc *p, unsigned which, const char *msg)
{
	static const char *const actions[] = {"restarting it", "stopping it", "alert only"};
	const struct conf_program *g = p->prog;
	int action = g->on_unhealthy;
	if (action == ON_UNHEALTHY_ALERT && (p->probe_alerts & which))
		return; /* said once; cleared on the next success */
	p->unhealthy_count++;
	log_warn("%s: unhealthy: %s: %s", p->name, msg, actions[action % 3]);
	if (!(p->probe_alerts & which)) {
		p->probe_alerts |= which;
		publish_alert(p, which, 1, msg);
	}
	const char *reason = which == ALERT_WATCHDOG ? "watchdog" : "unhealthy";
	if (action == ON_UNHEALTHY_RESTART) {
		p->restart_after_stop = 1;
		sup_request_stop(p, reason);
	} else if (action == ON_UNHEALTHY_STOP) {
		sup_request_stop(p, reason);
	}
}

/* --- readiness ----------------------------------------------------------------------------- */

static void ready_attempt(struct probe *pr);

static void on_ready_retry(void *arg)
{
	struct probe *pr = arg;
	pr->ready_retry = NULL;
	ready_attempt(pr);
}

static void on_ready_result(void *arg, int ok, int64_t latency_us, const char *why)
{
	struct probe *pr = arg;
	struct proc *p = pr->p;
	(void)latency_us;
	pr->ready_chk = NULL;
	if (p->state != VIGIL_PROC_STARTING)
		return;
	if (ok) {
		const struct conf_check *c = &p->prog->ready_check;
		log_info("%s: ready: %s%s answered after %u attempt%s", p->name,
		         c->kind == CHECK_TCP    ? "tcp:"
		         : c->kind == CHECK_EXEC ? "exec:"
		                                 : "",
		         c->target, pr->attempts, pr->attempts == 1 ? "" : "s");
		sup_step(p, FE_READY);
		return;
	}
	if (strcmp(pr->last_why, why) != 0)
		log_debug("%s: not ready yet: %s", p->name, why);
	snprintf(pr->last_why, sizeof pr->last_why, "%s", why);
	pr->ready_retry = loop_timer_add(READY_RETRY_MS, 0, on_ready_retry, pr);
}

static void ready_attempt(struct probe *pr)
{
	struct proc *p = pr->p;
	pr->attempts++;
	pr->ready_chk = attempt_start(&p->prog->ready_check, p, p->prog->health_timeout_ms,
	                              on_ready_result, pr);
}

void probe_ready_begin(struct proc *p)
{
	struct probe *pr = probe_of(p);
	if (p->prog->ready == READY_NOTIFY) {
		if (pr->ready_seen)
			sup_step(p, FE_READY);
	} else if (p->prog->ready == READY_CHECK && !pr->ready_chk && !pr->ready_retry) {
		ready_attempt(pr);
	}
}

static void stop_ready(struct probe *pr)
{
	struct proc *p = pr->p;
	if (p->start_timed_out && pr->last_why[0])
		log_warn("%s: the last readiness attempt said: %s", p->name, pr->last_why);
	attempt_cancel(pr->ready_chk);
	pr->ready_chk = NULL;
	if (pr->ready_retry)
		loop_timer_cancel(pr->ready_retry);
	pr->ready_retry = NULL;
}

/* --- liveness: health checks ---------------------------------------------------------------- */

static void on_health_result(void *arg, int ok, int64_t latency_us, const char *why)
{
	struct probe *pr = arg;
	struct proc *p = pr->p;
	const struct conf_program *g = p->prog;
	pr->health_chk = NULL;
	p->check_latency_us = latency_us;
	if (ok) {
		if (p->check_failures)
			log_info("%s: health check passes again after %u failure%s", p->name,
			         p->check_failures, p->check_failures == 1 ? "" : "s");
		p->check_failures = 0;
		clear_alert(p, ALERT_UNHEALTHY, "the health check passes again");
		return;
	}
	p->check_failures++;
	log_warn("%s: health check failed (%u of %d): %s", p->name, p->check_failures,
	         g->health_failures, why);
	if (p->check_failures >= (uint32_t)g->health_failures) {
		char msg[512];
		if (p->check_failures == 1)
			snprintf(msg, sizeof msg, "the health check failed: %s", why);
		else
			snprintf(msg, sizeof msg, "%u health checks failed in a row, the last: %s",
			         p->check_failures, why);
		unhealthy(p, ALERT_UNHEALTHY, msg);
	}
}

static void on_health_tick(void *arg)
{
	struct probe *pr = arg;
	struct proc *p = pr->p;
	if (pr->health_chk)
		return; /* the previous one is still within its health_timeout */
	pr->health_chk = attempt_start(&p->prog->health_check, p, p->prog->health_timeout_ms,
	                               on_health_result, pr);
}

/* --- liveness: the watchdog ----------------------------------------------------------------- */

static void on_watchdog(void *arg)
{
	struct probe *pr = arg;
	struct proc *p = pr->p;
	int64_t d = p->prog->watchdog_ms;
	pr->wd_timer = NULL;
	uint64_t idle = loop_now_ms() - pr->wd_last_ms;
	if (idle < (uint64_t)d) {
		pr->wd_timer = loop_timer_add((uint64_t)d - idle, 0, on_watchdog, pr);
		return;
	}
	char msg[128];
	snprintf(msg, sizeof msg, "no WATCHDOG=1 within watchdog = %lld ms", (long long)d);
	pr->wd_last_ms = loop_now_ms();
	unhealthy(p, ALERT_WATCHDOG, msg);
	/* on_unhealthy = alert: it keeps running and keeps being watched. */
	if (p->probe == pr && (p->state == VIGIL_PROC_RUNNING || p->state == VIGIL_PROC_ADOPTED) &&
	    !pr->wd_timer)
		pr->wd_timer = loop_timer_add((uint64_t)d, 0, on_watchdog, pr);
}

static void start_live(struct proc *p)
{
	const struct conf_program *g = p->prog;
	struct probe *pr = probe_of(p);
	p->check_failures = 0;
	if (g->health_check.kind != CHECK_NONE && !pr->health_timer)
		pr->health_timer =
		    loop_timer_add((uint64_t)g->health_interval_ms, (uint64_t)g->health_interval_ms,
		                   on_health_tick, pr);
	if (g->watchdog_ms > 0 && !pr->wd_timer) {
		pr->wd_last_ms = loop_now_ms();
		pr->wd_timer = loop_timer_add((uint64_t)g->watchdog_ms, 0, on_watchdog, pr);
	}
}

static void stop_live(struct probe *pr)
{
	if (pr->health_timer)
		loop_timer_cancel(pr->health_timer);
	pr->health_timer = NULL;
	attempt_cancel(pr->health_chk);
	pr->health_chk = NULL;
	if (pr->wd_timer)
		loop_timer_cancel(pr->wd_timer);
	pr->wd_timer = NULL;
}

static int is_live(enum vigil_proc_state s)
{
	return s == VIGIL_PROC_RUNNING || s == VIGIL_PROC_ADOPTED;
}

void probe_state_changed(struct proc *p, enum vigil_proc_state prev)
{
	if (!p->probe && p->prog->ready <= READY_DELAY && p->prog->watchdog_ms == 0 &&
	    p->prog->health_check.kind == CHECK_NONE)
		return; /* nothing to watch: no allocation for plain programs */
	struct probe *pr = probe_of(p);
	if (prev == VIGIL_PROC_STARTING)
		stop_ready(pr);
	if (is_live(prev) && !is_live(p->state))
		stop_live(pr);
	if (p->state == VIGIL_PROC_STARTING) {
		pr->ready_seen = 0;
		pr->attempts = 0;
		pr->last_why[0] = '\0';
	}
	if (is_live(p->state) && !is_live(prev))
		start_live(p);
}

void probe_resume(struct proc *p)
{
	if (is_live(p->state))
		probe_state_changed(p, VIGIL_PROC_STOPPED);
}

/* --- the notify protocol ---------------------------------------------------------------------- */

void probe_notify(struct proc *p, const char *key, const char *value)
{
	const struct conf_program *g = p->prog;
	if (strcmp(key, "READY") == 0 && strcmp(value, "1") == 0) {
		if (g->ready != READY_NOTIFY) {
			log_debug("%s: READY=1 ignored: ready is not notify", p->name);
		} else if (p->state == VIGIL_PROC_STARTING) {
			/* Before the exec report is read, FE_READY would come ahead of FE_SPAWNED:
			 * keep it for probe_ready_begin. */
			if (p->spawn_fd >= 0)
				probe_of(p)->ready_seen = 1;
			else
				sup_step(p, FE_READY);
		}
	} else if (strcmp(key, "WATCHDOG") == 0) {
		if (g->watchdog_ms <= 0) {
			log_debug("%s: WATCHDOG=%s ignored: no watchdog is set", p->name, value);
			return;
		}
		struct probe *pr = probe_of(p);
		pr->wd_last_ms = loop_now_ms();
		if (strcmp(value, "trigger") == 0) {
			if (is_live(p->state))
				unhealthy(p, ALERT_WATCHDOG, "the program sent WATCHDOG=trigger");
			return;
		}
		if (strcmp(value, "1") == 0 && is_live(p->state))
			clear_alert(p, ALERT_WATCHDOG, "WATCHDOG=1 is coming again");
	} else if (strcmp(key, "STATUS") == 0) {
		if (strncmp(p->notify_status, value, sizeof p->notify_status - 1) != 0) {
			snprintf(p->notify_status, sizeof p->notify_status, "%s", value);
			log_info("%s: status: %s", p->name, p->notify_status);
		}
	} else if (strcmp(key, "STOPPING") == 0 && strcmp(value, "1") == 0) {
		log_info("%s: the program says it is stopping", p->name);
	} else {
		/* MAINPID, RELOADING, ERRNO, EXTEND_TIMEOUT_USEC, FDSTORE...: not acted upon. */
		log_debug("%s: notify %s=%.64s ignored", p->name, key, value);
	}
}

/* --- environment, setup ---------------------------------------------------------------------- */

static int env_is(const char *kv, const char *key)
{
	size_t n = strlen(key);
	return strncmp(kv, key, n) == 0 && kv[n] == '=';
}

static int configured(const struct conf_program *g, const char *key)
{
	for (char **e = g->environment; e && *e; e++)
		if (env_is(*e, key))
			return 1;
	return 0;
}

char **probe_child_env(const struct proc *p, char **env, uid_t uid)
{
	static const char *const ours[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"};
	const struct conf_program *g = p->prog;
	int wanted = g->ready == READY_NOTIFY || g->watchdog_ms > 0;
	size_t n = 0;
	/* Ours replace any others; a program that uses none of them may still set them through
	 * `environment`, but never inherits the daemon's. */
	for (size_t i = 0; env && env[i]; i++) {
		int drop = 0;
		for (size_t k = 0; k < 3; k++)
			drop |= env_is(env[i], ours[k]) && (wanted || !configured(g, ours[k]));
		if (drop)
			free(env[i]);
		else
			env[n++] = env[i];
	}
	if (env)
		env[n] = NULL;
	if (!wanted)
		return env;
	/* The socket file is ours alone (0600): another user gets the abstract twin. */
	const char *addr = notify_address(uid != geteuid() && uid != 0);
	if (!addr)
		return env;
	char *extra[3] = {NULL, NULL, NULL};
	size_t len = strlen(addr) + 16;
	extra[0] = util_xmalloc(len);
	snprintf(extra[0], len, "NOTIFY_SOCKET=%s", addr);
	if (g->watchdog_ms > 0) {
		extra[1] = util_xmalloc(48);
		snprintf(extra[1], 48, "WATCHDOG_USEC=%lld", (long long)g->watchdog_ms * 1000);
	}
	char **out = util_xcalloc(n + 3, sizeof *out);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		out[m++] = env[i];
	for (size_t k = 0; k < 2; k++)
		if (extra[k])
			out[m++] = extra[k];
	out[m] = NULL;
	free(env);
	return out;
}

void probe_forget(struct proc *p)
{
	struct probe *pr = p->probe;
	if (!pr)
		return;
	attempt_cancel(pr->ready_chk);
	if (pr->ready_retry)
		loop_timer_cancel(pr->ready_retry);
	stop_live(pr);
	free(pr);
	p->probe = NULL;
}

int probe_check_conf(const struct vigil_conf *conf, struct conf_error *err)
{
	for (size_t i = 0; i < conf->nprograms; i++) {
		const struct conf_program *g = &conf->programs[i];
		const char *key = NULL, *url = NULL;
		if (g->ready == READY_CHECK && g->ready_check.kind == CHECK_HTTP) {
			key = "ready";
			url = g->ready_check.target;
		} else if (g->health_check.kind == CHECK_HTTP) {
			key = "health_check";
			url = g->health_check.target;
		} else {
			continue;
		}
		char why[CONF_ERR_MAX - 512];
		if (attempt_http_load(why, sizeof why) < 0) {
			snprintf(err->msg, sizeof err->msg,
			         "%s:%d: [program.%s] %s = %s: http:// checks need %s", g->file,
			         g->line, g->name, key, url, why);
			return -1;
		}
		return 0; /* open now, for every program */
	}
	return 0;
}

void probe_init(const struct vigil_conf *conf)
{
	notify_setup(conf->state_dir);
	int r = attempt_init();
	if (r < 0)
		log_error("exec: checks cannot be collected: %s", strerror(-r));
	for (size_t i = 0; i < conf->nprograms; i++) {
		const struct conf_program *g = &conf->programs[i];
		/* Instances taken over from an earlier vigild keep sending to these names. */
		if (g->ready == READY_NOTIFY || g->watchdog_ms > 0)
			notify_address(g->user && geteuid() == 0);
	}
}

void probe_fini(void)
{
	notify_fini();
	attempt_fini();
}

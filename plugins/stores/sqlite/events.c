/* events.c — store_sqlite's bus side: runs, tasks, alerts, violations and metrics to records. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sq.h"

static void wake_writer(void *arg)
{
	struct sq_store *st = arg;

	st->wake_timer = NULL;
	pthread_mutex_lock(&st->mu);
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->mu);
}

/* The writer is woken after the loop's turn rather than at each record: starting a thousand
 * programs in one turn costs one wake-up (a futex call and a switch on the other core), not a
 * thousand, and a registry record still reaches the disk within the turn that made it. */
void sq_enqueue(struct sq_store *st, struct sq_rec *r)
{
	int wake;

	pthread_mutex_lock(&st->mu);
	wake = sq_queue_push(st, r);
	pthread_mutex_unlock(&st->mu);
	if (!wake || st->wake_timer)
		return;
	st->wake_timer = st->host->timer_add(st->self, 0, 0, wake_writer, st);
	if (!st->wake_timer)
		wake_writer(st);
}

/* What the core says about the instance a run belongs to: its priority and tags. */
struct proc_look {
	const char *name;
	int32_t priority;
	char tags[1024];
};

static int look_proc(const struct vigil_proc_info *info, void *arg)
{
	struct proc_look *l = arg;
	size_t len = 0;

	if (!info->name || strcmp(info->name, l->name) != 0)
		return 0;
	l->priority = (int32_t)info->priority;
	for (const char *const *t = info->tags; t && *t; t++) {
		int n = snprintf(l->tags + len, sizeof(l->tags) - len, "%s%s", len ? "," : "", *t);

		if (n < 0 || (size_t)n >= sizeof(l->tags) - len) {
			l->tags[len] = '\0'; /* a tag that does not fit is left out whole */
			break;
		}
		len += (size_t)n;
	}
	return 1;
}

static struct sq_rec *run_rec(struct sq_store *st, enum sq_rec_kind kind, const char *name,
                              const char *program, const char *reason, const char *error)
{
	struct proc_look l = {.name = name, .priority = -1};
	const char *str[SQ_NSTR] = {0};
	struct sq_rec *r;

	st->host->proc_foreach(name, look_proc, &l);
	str[SQ_NAME] = name;
	str[SQ_PROGRAM] = program;
	str[SQ_REASON] = reason;
	str[SQ_ERROR] = error;
	str[SQ_TAGS] = l.priority >= 0 && l.tags[0] ? l.tags : NULL;
	r = sq_rec_new(kind, str);
	if (r)
		r->priority = l.priority;
	return r;
}

static struct sq_rec *process_rec(struct sq_store *st, const struct vigil_event *ev, int64_t at_ms)
{
	struct sq_rec *r = NULL;

	if (ev->type == VIGIL_EV_PROCESS_RUNNING &&
	    ev->size >= sizeof(struct vigil_ev_process_running)) {
		const struct vigil_ev_process_running *e = (const void *)ev;

		r = run_rec(st, SQ_REC_RUN_BEGIN, ev->subject, e->program, NULL, NULL);
		if (r) {
			r->pid = e->pid;
			r->started_at_ms = at_ms;
		}
	} else if (ev->type == VIGIL_EV_PROCESS_ADOPTED &&
	           ev->size >= sizeof(struct vigil_ev_process_adopted)) {
		const struct vigil_ev_process_adopted *e = (const void *)ev;

		r = run_rec(st, SQ_REC_RUN_ADOPT, ev->subject, e->program, NULL, NULL);
		if (r) {
			r->pid = e->pid;
			r->started_at_ms = e->started_at_ms > 0 ? e->started_at_ms : at_ms;
		}
	} else if (ev->type == VIGIL_EV_PROCESS_EXITED &&
	           ev->size >= sizeof(struct vigil_ev_process_exited)) {
		const struct vigil_ev_process_exited *e = (const void *)ev;

		r = run_rec(st, SQ_REC_RUN_END, ev->subject, e->program, e->reason, e->error);
		if (r) {
			r->pid = e->pid;
			r->ended_at_ms = at_ms;
			r->runtime_ms = e->runtime_ms;
			r->status_known = e->status_known;
			r->expected = e->expected ? 1 : 0;
			r->exit_code = e->exit_code;
			r->signal = e->signal;
			r->cpu_s = e->cpu_s;
			r->peak_rss_bytes = e->peak_rss_bytes;
		}
	}
	return r;
}

static int look_task(const struct vigil_task_info *info, void *arg)
{
	char **command = arg;

	if (info->command)
		*command = strdup(info->command);
	return 1;
}

static struct sq_rec *task_rec(struct sq_store *st, const struct vigil_event *ev, int64_t at_ms)
{
	const char *str[SQ_NSTR] = {0};
	struct sq_rec *r = NULL;

	str[SQ_NAME] = ev->subject;
	if (ev->type == VIGIL_EV_TASK_QUEUED && ev->size >= sizeof(struct vigil_ev_task_queued)) {
		const struct vigil_ev_task_queued *e = (const void *)ev;
		const struct vigil_host *h = st->host;
		char *command = NULL;

		/* The command is not in the event; the core still holds the task now. */
		if (h->size >=
		        offsetof(struct vigil_host, task_foreach) + sizeof(h->task_foreach) &&
		    h->task_foreach)
			h->task_foreach(ev->subject, look_task, &command);
		str[SQ_PROGRAM] = e->pool;
		str[SQ_TASK] = e->name;
		str[SQ_TYPE] = e->type;
		str[SQ_COMMAND] = command;
		r = sq_rec_new(SQ_REC_TASK_QUEUED, str);
		free(command);
		if (r) {
			r->priority = (int32_t)e->priority;
			r->submitted_at_ms = at_ms;
		}
	} else if (ev->type == VIGIL_EV_TASK_STARTED &&
	           ev->size >= sizeof(struct vigil_ev_task_started)) {
		const struct vigil_ev_task_started *e = (const void *)ev;

		str[SQ_PROGRAM] = e->pool;
		str[SQ_TASK] = e->name;
		str[SQ_TYPE] = e->type;
		r = sq_rec_new(SQ_REC_TASK_STARTED, str);
		if (r) {
			r->pid = e->pid;
			r->restarts = e->attempt;
			r->started_at_ms = at_ms;
			r->submitted_at_ms = at_ms - (e->queued_ms > 0 ? e->queued_ms : 0);
		}
	} else if (ev->type == VIGIL_EV_TASK_FINISHED &&
	           ev->size >= sizeof(struct vigil_ev_task_finished)) {
		const struct vigil_ev_task_finished *e = (const void *)ev;

		str[SQ_PROGRAM] = e->pool;
		str[SQ_TASK] = e->name;
		str[SQ_TYPE] = e->type;
		str[SQ_ERROR] = e->error;
		r = sq_rec_new(SQ_REC_TASK_FINISHED, str);
		if (r) {
			r->state = (int32_t)e->state;
			r->priority = (int32_t)e->priority;
			r->exit_code = e->exit_code;
			r->signal = e->signal;
			r->runtime_ms = e->duration_ms;
			r->cpu_s = e->cpu_s;
			r->peak_rss_bytes = e->peak_rss_bytes;
			r->restarts = e->attempts;
			r->submitted_at_ms = e->submitted_at_ms > 0 ? e->submitted_at_ms : at_ms;
			r->started_at_ms = e->started_at_ms;
			r->ended_at_ms = at_ms;
		}
	}
	return r;
}

static struct sq_rec *other_rec(const struct vigil_event *ev, int64_t at_ms)
{
	const char *str[SQ_NSTR] = {0};
	struct sq_rec *r = NULL;

	str[SQ_NAME] = ev->subject;
	if ((ev->type == VIGIL_EV_ALERT_RAISED || ev->type == VIGIL_EV_ALERT_CLEARED) &&
	    ev->size >= sizeof(struct vigil_ev_alert)) {
		const struct vigil_ev_alert *e = (const void *)ev;

		str[SQ_REASON] = e->alert;
		str[SQ_TYPE] = e->severity;
		str[SQ_ERROR] = e->message;
		r = sq_rec_new(ev->type == VIGIL_EV_ALERT_RAISED ? SQ_REC_ALERT_RAISED
		                                                 : SQ_REC_ALERT_CLEARED,
		               str);
	} else if (ev->type == VIGIL_EV_LIMIT_VIOLATED &&
	           ev->size >= sizeof(struct vigil_ev_limit_violated)) {
		const struct vigil_ev_limit_violated *e = (const void *)ev;

		str[SQ_REASON] = e->limit;
		str[SQ_TYPE] = e->action;
		r = sq_rec_new(SQ_REC_VIOLATION, str);
		if (r) {
			r->value = e->value;
			r->max = e->max;
			r->restarts = e->count;
		}
	} else if (ev->type == VIGIL_EV_METRICS_SAMPLE &&
	           ev->size >= sizeof(struct vigil_ev_metrics_sample) && ev->subject) {
		const struct vigil_ev_metrics_sample *e = (const void *)ev;

		r = sq_rec_new(SQ_REC_METRIC, str);
		if (r)
			r->m = (struct sq_metric){
			    .cpu_pct = e->cpu_pct,
			    .tree_cpu_pct = e->tree_cpu_pct,
			    .rss_bytes = e->rss_bytes,
			    .vms_bytes = e->vms_bytes,
			    .read_bytes = e->read_bytes,
			    .write_bytes = e->write_bytes,
			    .tree_rss_bytes = e->tree_rss_bytes,
			    .threads = e->threads,
			    .fds = e->fds,
			    .tree_procs = e->tree_procs,
			};
	} else {
		return NULL;
	}
	if (r)
		r->ended_at_ms = at_ms;
	return r;
}

static void on_event(const struct vigil_event *ev, void *arg)
{
	struct sq_store *st = arg;
	int64_t at_ms = ev->time_us / 1000;
	struct sq_rec *r;

	switch (ev->type) {
	case VIGIL_EV_PROCESS_RUNNING:
	case VIGIL_EV_PROCESS_ADOPTED:
	case VIGIL_EV_PROCESS_EXITED:
		if (!ev->subject)
			return;
		r = process_rec(st, ev, at_ms);
		break;
	case VIGIL_EV_TASK_QUEUED:
	case VIGIL_EV_TASK_STARTED:
	case VIGIL_EV_TASK_FINISHED:
		if (!ev->subject)
			return;
		r = task_rec(st, ev, at_ms);
		break;
	default:
		r = other_rec(ev, at_ms);
		break;
	}
	if (!r) {
		const char *what = st->host->event_name(ev->type);

		if (ev->type != VIGIL_EV_METRICS_SAMPLE)
			st->host->log(st->self, VIGIL_LOG_ERROR,
			              "out of memory (or a truncated event): %s of %s not recorded",
			              what ? what : "an event",
			              ev->subject ? ev->subject : "vigild");
		return;
	}
	sq_enqueue(st, r);
}

int sq_events_subscribe(struct sq_store *st)
{
	static const uint32_t types[] = {
	    VIGIL_EV_PROCESS_RUNNING, VIGIL_EV_PROCESS_EXITED, VIGIL_EV_PROCESS_ADOPTED,
	    VIGIL_EV_TASK_QUEUED,     VIGIL_EV_TASK_STARTED,   VIGIL_EV_TASK_FINISHED,
	    VIGIL_EV_ALERT_RAISED,    VIGIL_EV_ALERT_CLEARED,  VIGIL_EV_LIMIT_VIOLATED,
	    VIGIL_EV_METRICS_SAMPLE,
	};
	struct vigil_filter f = {0};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		vigil_filter_add(&f, types[i]);
	st->sub = st->host->subscribe(st->self, &f, on_event, st);
	return st->sub ? 0 : -ENOMEM;
}

/* host.c — the function table plugins call: logging, config, bus, loop, processes, daemon. */
#include "host.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "healthrec.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "sup.h"
#include "task.h"
#include "util.h"

/* Timers and watches are wrapped so the core can drop what an instance left behind. */
struct vigil_timer {
	struct loop_timer *t;
	struct vigil_instance *owner;
	vigil_timer_fn fn;
	void *arg;
	int oneshot;
	struct vigil_timer *prev, *next;
};

struct vigil_watch {
	struct loop_watch *w;
	struct vigil_instance *owner;
	vigil_fd_fn fn;
	void *arg;
	struct vigil_watch *prev, *next;
};

static struct {
	struct loader_set *plugins;
	const char *state_dir;
	void (*shutdown)(const char *reason);
	int (*reload)(char *err, size_t len);
	int (*reexec)(void);
	struct vigil_timer *timers;
	struct vigil_watch *watches;
} H;

#define LIST_ADD(head, x)                                                                     \
	do {                                                                                  \
		(x)->prev = NULL;                                                             \
		(x)->next = (head);                                                           \
		if (head)                                                                     \
			(head)->prev = (x);                                                   \
		(head) = (x);                                                                 \
	} while (0)
#define LIST_DEL(head, x)                                                                     \
	do {                                                                                  \
		if ((x)->prev)                                                                \
			(x)->prev->next = (x)->next;                                          \
		else                                                                          \
			(head) = (x)->next;                                                   \
		if ((x)->next)                                                                \
			(x)->next->prev = (x)->prev;                                          \
	} while (0)

static void h_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt, ...)
	VIGIL_PRINTF(3, 4);
static void h_log(struct vigil_instance *self, enum vigil_log_level level, const char *fmt, ...)
{
	char who[160];
	if (self)
		snprintf(who, sizeof who, "%s.%s", self->kind_name, self->name);
	else
		snprintf(who, sizeof who, "plugin");
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, who, fmt, ap);
	va_end(ap);
}

static const char *h_instance_name(const struct vigil_instance *self)
{
	return self ? self->name : NULL;
}

static const char *h_state_dir(void)
{
	return H.state_dir;
}

static const char *h_cfg_string(const struct vigil_config *cfg, const char *key)
{
	return cfg ? conf_plugin_value(cfg, key) : NULL;
}

static int64_t h_cfg_int(const struct vigil_config *cfg, const char *key)
{
	int64_t v = 0;
	const char *s = h_cfg_string(cfg, key);
	if (s && util_parse_int(s, &v) < 0 && util_parse_mode(s, &v) < 0)
		v = 0;
	return v;
}

static int h_cfg_bool(const struct vigil_config *cfg, const char *key)
{
	int v = 0;
	const char *s = h_cfg_string(cfg, key);
	if (s)
		util_parse_bool(s, &v);
	return v;
}

static double h_cfg_double(const struct vigil_config *cfg, const char *key)
{
	double v = 0;
	const char *s = h_cfg_string(cfg, key);
	if (s && util_parse_double(s, &v) < 0)
		util_parse_percent(s, &v);
	return v;
}

static int64_t h_cfg_duration_ms(const struct vigil_config *cfg, const char *key)
{
	int64_t v = 0;
	const char *s = h_cfg_string(cfg, key);
	if (s)
		util_parse_duration_ms(s, &v);
	return v;
}

static int64_t h_cfg_size(const struct vigil_config *cfg, const char *key)
{
	int64_t v = 0;
	const char *s = h_cfg_string(cfg, key);
	/* A MODE value is written in octal with a leading 0 (0660): read it as such. */
	if (s && s[0] == '0' && s[1] >= '0' && s[1] <= '7' && util_parse_mode(s, &v) == 0)
		return v;
	if (s && util_parse_size(s, &v) < 0)
		util_parse_mode(s, &v);
	return v;
}

static int h_publish(struct vigil_instance *self, const struct vigil_event *ev)
{
	(void)self;
	return bus_publish(ev);
}

static struct vigil_sub *h_subscribe(struct vigil_instance *self, const struct vigil_filter *f,
                                     vigil_event_fn fn, void *arg)
{
	return bus_subscribe(self, f, fn, arg);
}

static void timer_fire(void *arg)
{
	struct vigil_timer *t = arg;
	if (t->oneshot) {
		/* The loop frees a fired one-shot: unlink first so a cancel-all cannot touch it. */
		LIST_DEL(H.timers, t);
		vigil_timer_fn fn = t->fn;
		void *a = t->arg;
		free(t);
		fn(a);
		return;
	}
	t->fn(t->arg);
}

static struct vigil_timer *h_timer_add(struct vigil_instance *self, uint64_t delay_ms,
                                       uint64_t period_ms, vigil_timer_fn fn, void *arg)
{
	struct vigil_timer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->owner = self;
	t->fn = fn;
	t->arg = arg;
	t->oneshot = period_ms == 0;
	t->t = loop_timer_add(delay_ms, period_ms, timer_fire, t);
	if (!t->t) {
		free(t);
		return NULL;
	}
	LIST_ADD(H.timers, t);
	return t;
}

static void h_timer_cancel(struct vigil_timer *t)
{
	if (!t)
		return;
	loop_timer_cancel(t->t);
	LIST_DEL(H.timers, t);
	free(t);
}

static void watch_fire(int fd, uint32_t events, void *arg)
{
	struct vigil_watch *w = arg;
	w->fn(fd, events, w->arg);
}

static struct vigil_watch *h_watch_fd(struct vigil_instance *self, int fd, uint32_t events,
                                      vigil_fd_fn fn, void *arg)
{
	struct vigil_watch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->owner = self;
	w->fn = fn;
	w->arg = arg;
	w->w = loop_watch(fd, events, watch_fire, w);
	if (!w->w) {
		int e = errno;
		free(w);
		errno = e;
		return NULL;
	}
	LIST_ADD(H.watches, w);
	return w;
}

static int h_watch_modify(struct vigil_watch *w, uint32_t events)
{
	return loop_watch_modify(w->w, events);
}

static void h_unwatch(struct vigil_watch *w)
{
	if (!w)
		return;
	loop_unwatch(w->w);
	LIST_DEL(H.watches, w);
	free(w);
}

static int h_plugin_foreach(vigil_plugin_fn fn, void *arg)
{
	int r = 0;
	for (struct vigil_instance *i = H.plugins ? H.plugins->head : NULL; i && r == 0; i = i->next) {
		struct vigil_plugin_info info = {
			.size = sizeof info,
			.kind = i->kind_name,
			.plugin = i->plugin,
			.instance = i->name,
			.section = i->section,
			.version = i->desc.version,
			.description = i->desc.description,
			.file = i->file,
			.abi_major = i->desc.abi.abi_major,
			.abi_minor = i->desc.abi.abi_minor,
		};
		r = fn(&info, arg);
	}
	return r;
}

static void h_shutdown(const char *reason)
{
	if (H.shutdown)
		H.shutdown(reason ? reason : "plugin request");
}

static int h_history_query(const struct vigil_history_query *q, vigil_history_fn fn, void *arg)
{
	for (struct vigil_instance *i = H.plugins ? H.plugins->head : NULL; i; i = i->next) {
		const struct vigil_store_ops *ops = i->desc.ops;
		if (i->desc.kind == VIGIL_KIND_STORE && ops && ops->history_query)
			return ops->history_query(i->state, q, fn, arg);
	}
	return -ENOSYS;
}

static int h_stats_query(const struct vigil_stats_query *q, vigil_stats_fn fn, void *arg)
{
	for (struct vigil_instance *i = H.plugins ? H.plugins->head : NULL; i; i = i->next) {
		const struct vigil_store_ops *ops = i->desc.ops;
		if (i->desc.kind == VIGIL_KIND_STORE && ops && ops->stats_query)
			return ops->stats_query(i->state, q, fn, arg);
	}
	return -ENOSYS;
}

static int h_reload(char *err, size_t len)
{
	if (!H.reload) {
		snprintf(err, len, "reload is not available");
		return -1;
	}
	return H.reload(err, len);
}

static int h_reexec(void)
{
	return H.reexec ? H.reexec() : -ENOSYS;
}

static uint64_t h_now_ms(void)
{
	return loop_now_ms();
}

static int64_t h_wall_ms(void)
{
	return loop_wall_ms();
}

static const struct vigil_host table = {
	.size = sizeof(struct vigil_host),
	.abi_major = VIGIL_ABI_MAJOR,
	.abi_minor = VIGIL_ABI_MINOR,
	.version = VIGIL_VERSION_STRING,
	.log = h_log,
	.instance_name = h_instance_name,
	.state_dir = h_state_dir,
	.cfg_string = h_cfg_string,
	.cfg_int = h_cfg_int,
	.cfg_bool = h_cfg_bool,
	.cfg_double = h_cfg_double,
	.cfg_duration_ms = h_cfg_duration_ms,
	.cfg_size = h_cfg_size,
	.publish = h_publish,
	.subscribe = h_subscribe,
	.unsubscribe = bus_unsubscribe,
	.sub_dropped = bus_sub_dropped,
	.event_ref = bus_ref,
	.event_unref = bus_unref,
	.event_name = bus_type_name,
	.event_type = bus_type_by_name,
	.timer_add = h_timer_add,
	.timer_cancel = h_timer_cancel,
	.watch_fd = h_watch_fd,
	.watch_modify = h_watch_modify,
	.unwatch = h_unwatch,
	.now_ms = h_now_ms,
	.wall_ms = h_wall_ms,
	.proc_foreach = sup_foreach,
	.proc_control = sup_control,
	.plugin_foreach = h_plugin_foreach,
	.shutdown = h_shutdown,
	.history_query = h_history_query,
	.reload = h_reload,
	.reexec = h_reexec,
	.stats_query = h_stats_query,
	.task_submit = task_submit,
	.task_cancel = task_cancel,
	.task_foreach = task_foreach,
	.health_foreach = healthrec_foreach,
};

const struct vigil_host *host_table(struct loader_set *plugins, const char *state_dir)
{
	H.plugins = plugins;
	H.state_dir = state_dir;
	return &table;
}

void host_set_daemon(void (*shutdown)(const char *reason), int (*reload)(char *err, size_t len),
                     int (*reexec)(void))
{
	H.shutdown = shutdown;
	H.reload = reload;
	H.reexec = reexec;
}

void host_release_instance(struct vigil_instance *inst)
{
	struct vigil_timer *t = H.timers;
	while (t) {
		struct vigil_timer *n = t->next;
		if (t->owner == inst)
			h_timer_cancel(t);
		t = n;
	}
	struct vigil_watch *w = H.watches;
	while (w) {
		struct vigil_watch *n = w->next;
		if (w->owner == inst)
			h_unwatch(w);
		w = n;
	}
	bus_unsubscribe_owner(inst);
}

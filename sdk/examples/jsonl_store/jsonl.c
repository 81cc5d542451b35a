/* jsonl.c — an example store: the registry in memory, every lifecycle event as a JSON line. */
#define _POSIX_C_SOURCE 200809L /* open flags, fdatasync, gmtime_r, strdup under -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vigil/sdk.h>

/*
 * The registry lives in memory only, so a restarted vigild finds nothing to adopt: that is
 * what a real store adds (store.sqlite keeps it in a database).
 *
 * Not blocking the loop: a line is appended with one write() to a file opened O_APPEND. For a
 * local disk that returns at once (the page cache takes it), which is acceptable for an
 * example; a store that must survive a slow or full disk hands its writes to a thread of its
 * own and only queues them here, as store.sqlite does.
 */

struct entry {
	char *name, *program, *boot_id; /* owned copies: the core's strings are borrowed */
	struct vigil_registry_entry e;  /* e.name etc. point at the copies above */
};

struct jsonl {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *path;
	int fd;
	int failed; /* a write failed: store.failed was published, not again until one succeeds */
	struct vigil_sub *sub;
	struct entry *reg;
	size_t nreg, capreg;
};

/* A growing line buffer; `bad` is set when memory ran out, and the line is then dropped. */
struct buf {
	char *s;
	size_t len, cap;
	int bad;
};

static const struct vigil_config_key jsonl_keys[] = {
    {"path", VIGIL_KEY_PATH, "${state_dir}/events.jsonl", 0,
     "the JSON-lines file every lifecycle event is appended to", NULL},
    VIGIL_KEYS_END,
};

/* ---- JSON, by hand ---- */

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->bad = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) VIGIL_PRINTF(2, 3);
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A JSON string: quotes, backslashes and control characters escaped (RFC 8259 §7). Bytes
 * from 0x80 up are copied: the core's strings are UTF-8. NULL becomes null. */
static void put_string(struct buf *b, const char *s)
{
	if (!s) {
		put(b, "null", 4);
		return;
	}
	put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		case '\b': put(b, "\\b", 2); break;
		case '\f': put(b, "\\f", 2); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				putf(b, "\\u%04x", *p);
			else
				put(b, (const char *)p, 1);
		}
	}
	put(b, "\"", 1);
}

/* ,"key":value */
static void key(struct buf *b, const char *k)
{
	put(b, ",", 1);
	put_string(b, k);
	put(b, ":", 1);
}

static void kstr(struct buf *b, const char *k, const char *v)
{
	key(b, k);
	put_string(b, v);
}

static void kint(struct buf *b, const char *k, long long v)
{
	key(b, k);
	putf(b, "%lld", v);
}

static void kbool(struct buf *b, const char *k, int v)
{
	key(b, k);
	put(b, v ? "true" : "false", v ? 4 : 5);
}

/* The fields of each lifecycle event. The bus guarantees ev->size covers every field of the
 * struct as this plugin's SDK knows it (the core is never older than the plugin), so no size
 * check is needed here; a field added by a later minor would be read only if
 * ev->size > offsetof(that field). */
static void put_fields(struct buf *b, const struct vigil_event *ev)
{
	switch (ev->type) {
	case VIGIL_EV_SUPERVISOR_STARTED: {
		const struct vigil_ev_supervisor_started *e = (const void *)ev;
		kint(b, "pid", e->pid);
		kstr(b, "version", e->version);
		kstr(b, "config_file", e->config_file);
		kint(b, "programs", e->programs);
		break;
	}
	case VIGIL_EV_SUPERVISOR_STOPPING: {
		const struct vigil_ev_supervisor_stopping *e = (const void *)ev;
		kstr(b, "reason", e->reason);
		kint(b, "timeout_ms", e->timeout_ms);
		break;
	}
	case VIGIL_EV_CONFIG_RELOADED: {
		const struct vigil_ev_config_reloaded *e = (const void *)ev;
		kstr(b, "config_file", e->config_file);
		kint(b, "added", e->added);
		kint(b, "removed", e->removed);
		kint(b, "changed", e->changed);
		kint(b, "unchanged", e->unchanged);
		break;
	}
	case VIGIL_EV_CONFIG_REJECTED: {
		const struct vigil_ev_config_rejected *e = (const void *)ev;
		kstr(b, "config_file", e->config_file);
		kstr(b, "error", e->error);
		break;
	}
	case VIGIL_EV_PROCESS_STARTING: {
		const struct vigil_ev_process_starting *e = (const void *)ev;
		kstr(b, "program", e->program);
		kstr(b, "command", e->command);
		kint(b, "attempt", e->attempt);
		break;
	}
	case VIGIL_EV_PROCESS_RUNNING: {
		const struct vigil_ev_process_running *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "pid", e->pid);
		kint(b, "spawn_us", e->spawn_us);
		break;
	}
	case VIGIL_EV_PROCESS_READY: {
		const struct vigil_ev_process_ready *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "pid", e->pid);
		kstr(b, "how", e->how);
		kint(b, "ready_ms", e->ready_ms);
		break;
	}
	case VIGIL_EV_PROCESS_STOPPING: {
		const struct vigil_ev_process_stopping *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "pid", e->pid);
		kint(b, "signal", e->signal);
		kstr(b, "reason", e->reason);
		break;
	}
	case VIGIL_EV_PROCESS_EXITED: {
		const struct vigil_ev_process_exited *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "pid", e->pid);
		kint(b, "exit_code", e->exit_code);
		kint(b, "signal", e->signal);
		kbool(b, "expected", e->expected);
		kint(b, "runtime_ms", e->runtime_ms);
		kstr(b, "reason", e->reason);
		kstr(b, "error", e->error);
		break;
	}
	case VIGIL_EV_PROCESS_BACKOFF: {
		const struct vigil_ev_process_backoff *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "delay_ms", e->delay_ms);
		kint(b, "restarts", e->restarts);
		kstr(b, "policy", e->policy);
		break;
	}
	case VIGIL_EV_PROCESS_FATAL: {
		const struct vigil_ev_process_fatal *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "restarts", e->restarts);
		kstr(b, "reason", e->reason);
		break;
	}
	case VIGIL_EV_PROCESS_ADOPTED: {
		const struct vigil_ev_process_adopted *e = (const void *)ev;
		kstr(b, "program", e->program);
		kint(b, "pid", e->pid);
		kint(b, "started_at_ms", e->started_at_ms);
		break;
	}
	case VIGIL_EV_TASK_QUEUED: {
		const struct vigil_ev_task_queued *e = (const void *)ev;
		kstr(b, "pool", e->pool);
		kstr(b, "name", e->name);
		kstr(b, "task_type", e->type);
		kstr(b, "priority", vigil_priority_name(e->priority));
		kint(b, "position", e->position);
		kstr(b, "command", e->command);
		break;
	}
	case VIGIL_EV_TASK_STARTED: {
		const struct vigil_ev_task_started *e = (const void *)ev;
		kstr(b, "pool", e->pool);
		kstr(b, "name", e->name);
		kstr(b, "task_type", e->type);
		kint(b, "pid", e->pid);
		kint(b, "attempt", e->attempt);
		kint(b, "queued_ms", e->queued_ms);
		break;
	}
	case VIGIL_EV_TASK_FINISHED: {
		const struct vigil_ev_task_finished *e = (const void *)ev;
		kstr(b, "pool", e->pool);
		kstr(b, "name", e->name);
		kstr(b, "task_type", e->type);
		kstr(b, "state", vigil_task_state_name(e->state));
		kint(b, "exit_code", e->exit_code);
		kint(b, "signal", e->signal);
		kint(b, "duration_ms", e->duration_ms);
		kint(b, "attempts", e->attempts);
		kstr(b, "error", e->error);
		break;
	}
	default:
		break;
	}
}

/* ---- the event log ---- */

static void on_event(const struct vigil_event *ev, void *arg)
{
	struct jsonl *j = arg;
	struct buf b = {0};
	char when[40];
	time_t secs = (time_t)(ev->time_us / 1000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm))
		strcpy(when, "1970-01-01T00:00:00");
	putf(&b, "{\"seq\":%llu", (unsigned long long)ev->seq);
	key(&b, "time");
	putf(&b, "\"%s.%06lldZ\"", when, (long long)(ev->time_us % 1000000));
	kstr(&b, "type", j->host->event_name(ev->type));
	kstr(&b, "subject", ev->subject);
	put_fields(&b, ev);
	put(&b, "}\n", 2);
	if (b.bad) {
		j->host->log(j->self, VIGIL_LOG_WARN, "out of memory: event %llu not written",
		             (unsigned long long)ev->seq);
		free(b.s);
		return;
	}

	/* One write() per line: with O_APPEND, lines never interleave with another writer's. */
	ssize_t n = write(j->fd, b.s, b.len);
	if (n == (ssize_t)b.len) {
		j->failed = 0;
	} else if (!j->failed) {
		int err = n < 0 ? errno : EIO;
		char msg[512];
		struct vigil_ev_store_failed f = {
		    .hdr = {.type = VIGIL_EV_STORE_FAILED, .size = sizeof f,
		            .subject = j->host->instance_name(j->self)},
		    .error = err,
		    .message = msg,
		};

		snprintf(msg, sizeof msg, "cannot append to %s: %s", j->path,
		         n < 0 ? strerror(err) : "short write");
		j->host->log(j->self, VIGIL_LOG_ERROR, "%s", msg);
		j->host->publish(j->self, &f.hdr);
		j->failed = 1;
	}
	free(b.s);
}

/* ---- the registry, in memory ---- */

static void entry_free(struct entry *e)
{
	free(e->name);
	free(e->program);
	free(e->boot_id);
}

static struct entry *reg_find(struct jsonl *j, const char *name)
{
	for (size_t i = 0; i < j->nreg; i++)
		if (strcmp(j->reg[i].name, name) == 0)
			return &j->reg[i];
	return NULL;
}

static int jsonl_put(void *state, const struct vigil_registry_entry *e)
{
	struct jsonl *j = state;
	struct entry *slot = reg_find(j, e->name);
	struct entry copy = {
	    .name = strdup(e->name),
	    .program = strdup(e->program ? e->program : ""),
	    .boot_id = strdup(e->boot_id ? e->boot_id : ""),
	};

	if (!copy.name || !copy.program || !copy.boot_id) {
		entry_free(&copy);
		return -ENOMEM;
	}
	if (!slot) {
		if (j->nreg == j->capreg) {
			size_t cap = j->capreg ? 2 * j->capreg : 16;
			struct entry *r = realloc(j->reg, cap * sizeof *r);

			if (!r) {
				entry_free(&copy);
				return -ENOMEM;
			}
			j->reg = r;
			j->capreg = cap;
		}
		slot = &j->reg[j->nreg++];
	} else {
		entry_free(slot);
	}
	/* Copy what this SDK knows of the entry; e->size may be larger (a newer core). */
	copy.e = *e;
	copy.e.size = sizeof copy.e;
	copy.e.name = copy.name;
	copy.e.program = copy.program;
	copy.e.boot_id = copy.boot_id;
	*slot = copy;
	j->host->log(j->self, VIGIL_LOG_DEBUG, "registry: put %s pid %d (%zu entries)", e->name,
	             (int)e->pid, j->nreg);
	return 0;
}

static int jsonl_remove(void *state, const char *name)
{
	struct jsonl *j = state;
	struct entry *slot = reg_find(j, name);

	if (!slot)
		return 0;
	entry_free(slot);
	*slot = j->reg[--j->nreg];
	j->host->log(j->self, VIGIL_LOG_DEBUG, "registry: removed %s (%zu entries)", name, j->nreg);
	return 0;
}

static int jsonl_load(void *state, int (*fn)(const struct vigil_registry_entry *e, void *arg),
                      void *arg)
{
	struct jsonl *j = state;

	for (size_t i = 0; i < j->nreg; i++) {
		int rc = fn(&j->reg[i].e, arg);

		if (rc)
			return rc;
	}
	return 0;
}

/* Optional; the only store callback allowed to block (shutdown, tests). */
static int jsonl_flush(void *state)
{
	struct jsonl *j = state;

	return fdatasync(j->fd) < 0 ? -errno : 0;
}

/* ---- lifecycle ---- */

static int jsonl_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct jsonl *j = calloc(1, sizeof *j);

	if (!j)
		return -ENOMEM;
	j->host = host;
	j->self = self;
	j->fd = -1;
	*state = j;
	return 0;
}

static int jsonl_configure(void *state, const struct vigil_config *cfg)
{
	struct jsonl *j = state;

	/* PATH keys arrive absolute (relative ones are resolved against the config file's dir). */
	j->path = strdup(j->host->cfg_string(cfg, "path"));
	if (!j->path)
		return -ENOMEM;
	/* Everything the daemon opens is O_CLOEXEC, or the programs it starts inherit it. */
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (j->fd < 0) {
		int err = errno;

		j->host->log(j->self, VIGIL_LOG_ERROR, "path = %s: cannot open: %s", j->path,
		             strerror(err));
		return -err;
	}
	return 0;
}

static int jsonl_start(void *state)
{
	static const uint32_t lifecycle[] = {
	    VIGIL_EV_SUPERVISOR_STARTED, VIGIL_EV_SUPERVISOR_STOPPING, VIGIL_EV_CONFIG_RELOADED,
	    VIGIL_EV_CONFIG_REJECTED,    VIGIL_EV_PROCESS_STARTING,    VIGIL_EV_PROCESS_RUNNING,
	    VIGIL_EV_PROCESS_READY,      VIGIL_EV_PROCESS_STOPPING,    VIGIL_EV_PROCESS_EXITED,
	    VIGIL_EV_PROCESS_BACKOFF,    VIGIL_EV_PROCESS_FATAL,       VIGIL_EV_PROCESS_ADOPTED,
	    VIGIL_EV_TASK_QUEUED,        VIGIL_EV_TASK_STARTED,        VIGIL_EV_TASK_FINISHED,
	};
	struct jsonl *j = state;
	struct vigil_filter f;

	memset(&f, 0, sizeof f);
	for (size_t i = 0; i < sizeof lifecycle / sizeof lifecycle[0]; i++)
		vigil_filter_add(&f, lifecycle[i]);
	j->sub = j->host->subscribe(j->self, &f, on_event, j);
	if (!j->sub)
		return -ENOMEM;
	j->host->log(j->self, VIGIL_LOG_INFO, "appending lifecycle events to %s", j->path);
	return 0;
}

/* No stop(): the store keeps recording the events of the shutdown until fini. */

static void jsonl_fini(void *state)
{
	struct jsonl *j = state;

	/* The core drops our subscription after fini returns; no event arrives meanwhile. */
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->nreg; i++)
		entry_free(&j->reg[i]);
	free(j->reg);
	free(j->path);
	free(j);
}

static const struct vigil_store_ops jsonl_ops = {
    .size = sizeof(struct vigil_store_ops),
    .registry_put = jsonl_put,
    .registry_remove = jsonl_remove,
    .registry_load = jsonl_load,
    .flush = jsonl_flush,
};

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_STORE, .name = "jsonl", .version = "1.0.0",
                    .description = "example: registry in memory, lifecycle events as JSON lines",
                    .keys = jsonl_keys, .init = jsonl_init, .configure = jsonl_configure,
                    .start = jsonl_start, .fini = jsonl_fini, .ops = &jsonl_ops);

/* webhook.c — an example frontend: runs a command when a process gives up or an alert fires. */
#define _GNU_SOURCE /* pipe2, environ */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/sdk.h>

/*
 * [frontend.webhook]
 * command = /usr/bin/logger -t vigil      ; run for each selected event (no shell)
 * events = process.fatal, alert.raised     ; default
 *
 * The command gets the event in its environment (VIGIL_EVENT, VIGIL_SUBJECT, VIGIL_REASON,
 * ...; see hook_env), its stdin is /dev/null, and every line it prints is logged by vigild.
 *
 * Never blocking the loop: posix_spawn returns once the child has exec'd, and the output is
 * read through an fd watch. vigild reaps every child of the daemon itself (it is the one that
 * calls wait), so a plugin never waits for its own: it learns that a hook ended from the EOF
 * on the hook's output pipe.
 */

#define WEBHOOK_MAX_ARGS 32

struct hook {
	struct webhook *w;
	pid_t pid;
	int fd;                    /* read end of the hook's stdout+stderr */
	struct vigil_watch *watch;
	char line[512];            /* a partial output line */
	size_t len;
	struct hook *next;
};

struct webhook {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *command;                     /* owned copy; argv points into it */
	char *argv[WEBHOOK_MAX_ARGS + 1];
	struct vigil_filter filter;
	int64_t max_running;
	int64_t running;
	struct vigil_sub *sub;
	struct hook *hooks;                /* running hooks, for fini */
};

static const struct vigil_config_key webhook_keys[] = {
    {"command", VIGIL_KEY_STRING, NULL, 1,
     "program and arguments to run for each event (split at blanks, '' and \"\" quote, no "
     "shell)",
     NULL},
    {"events", VIGIL_KEY_LIST, "process.fatal, alert.raised", 0, "event types that run it",
     NULL},
    {"max_running", VIGIL_KEY_INT, "4", 0, "hooks running at once; more events are dropped",
     NULL},
    VIGIL_KEYS_END,
};

/* Splits s in place into argv: words separated by blanks, '...' and "..." group (no escapes,
 * no variables, no shell). Returns the number of words, or -1 on an unterminated quote or
 * too many words. */
static int split_words(char *s, char **argv, int max)
{
	int n = 0;
	char *out = s;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n == max)
			return -1;
		argv[n++] = out;
		while (*s && *s != ' ' && *s != '\t') {
			if (*s == '\'' || *s == '"') {
				char q = *s++;

				while (*s && *s != q)
					*out++ = *s++;
				if (!*s)
					return -1;
				s++;
			} else {
				*out++ = *s++;
			}
		}
		if (*s)
			s++;
		*out++ = '\0';
	}
	argv[n] = NULL;
	return n;
}

/* The events list: "process.fatal, alert.raised" -> filter bits, with names checked against
 * the core's catalogue (event_type returns 0 for a name it does not know). */
static int parse_events(struct webhook *w, const char *list)
{
	char name[64];
	const char *p = list;

	memset(&w->filter, 0, sizeof w->filter);
	while (*p) {
		size_t len;
		uint32_t type;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		if (!len)
			break;
		snprintf(name, sizeof name, "%.*s", (int)len, p);
		p += len;
		type = w->host->event_type(name);
		if (!type) {
			w->host->log(w->self, VIGIL_LOG_ERROR,
			             "events: unknown event type '%s' (e.g. process.fatal)", name);
			return -EINVAL;
		}
		vigil_filter_add(&w->filter, type);
	}
	for (size_t i = 0; i < VIGIL_EV_LIMIT / 64; i++)
		if (w->filter.types[i])
			return 0;
	/* An empty mask would select every event. */
	w->host->log(w->self, VIGIL_LOG_ERROR, "events: expected at least one event type");
	return -EINVAL;
}

static void hook_free(struct hook *h)
{
	struct webhook *w = h->w;

	for (struct hook **pp = &w->hooks; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	if (h->watch)
		w->host->unwatch(h->watch); /* safe inside the watch's own callback */
	if (h->fd >= 0)
		close(h->fd);
	w->running--;
	free(h);
}

static void hook_log_line(struct hook *h)
{
	h->line[h->len] = '\0';
	if (h->len)
		h->w->host->log(h->w->self, VIGIL_LOG_INFO, "hook %d: %s", (int)h->pid, h->line);
	h->len = 0;
}

/* The hook's output is readable (or closed): log whole lines, never wait for more. */
static void on_output(int fd, uint32_t events, void *arg)
{
	struct hook *h = arg;
	char buf[512];
	ssize_t n;

	(void)events;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || h->len == sizeof h->line - 1)
				hook_log_line(h);
			if (buf[i] != '\n')
				h->line[h->len++] = buf[i];
		}
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* EOF: the hook (and whatever it started) closed its output, so it is done. */
	hook_log_line(h);
	h->w->host->log(h->w->self, VIGIL_LOG_DEBUG, "hook %d finished", (int)h->pid);
	hook_free(h);
}

/* VIGIL_EVENT=process.fatal VIGIL_SUBJECT=web VIGIL_SEQ=42 VIGIL_TIME_US=..., then the
 * fields of the type. `env` gets malloc'd strings; returns how many. */
static size_t hook_env(struct webhook *w, const struct vigil_event *ev, char **env, size_t max)
{
	size_t n = 0;

#define ENV(...)                                                                                   \
	do {                                                                                       \
		if (n < max && asprintf(&env[n], __VA_ARGS__) >= 0)                                \
			n++;                                                                       \
	} while (0)
	ENV("VIGIL_EVENT=%s", w->host->event_name(ev->type));
	ENV("VIGIL_SUBJECT=%s", ev->subject ? ev->subject : "");
	ENV("VIGIL_SEQ=%llu", (unsigned long long)ev->seq);
	ENV("VIGIL_TIME_US=%lld", (long long)ev->time_us);
	if (ev->type == VIGIL_EV_PROCESS_FATAL) {
		const struct vigil_ev_process_fatal *e = (const void *)ev;

		ENV("VIGIL_PROGRAM=%s", e->program ? e->program : "");
		ENV("VIGIL_RESTARTS=%u", e->restarts);
		ENV("VIGIL_REASON=%s", e->reason ? e->reason : "");
	} else if (ev->type == VIGIL_EV_ALERT_RAISED || ev->type == VIGIL_EV_ALERT_CLEARED) {
		const struct vigil_ev_alert *e = (const void *)ev;

		ENV("VIGIL_ALERT=%s", e->alert ? e->alert : "");
		ENV("VIGIL_SEVERITY=%s", e->severity ? e->severity : "");
		ENV("VIGIL_MESSAGE=%s", e->message ? e->message : "");
	}
#undef ENV
	return n;
}

/* Starts argv with envp: stdin /dev/null, stdout and stderr into a pipe whose read end
 * (non-blocking) goes to *fd. posix_spawn returns as soon as the child has exec'd (or failed
 * to, which it reports), so this never waits for the hook itself. 0 or -errno. */
static int spawn_hook(char *const argv[], char *const envp[], pid_t *pid, int *fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int out[2], rc;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	/* Only our end is non-blocking: the hook writes to an ordinary pipe. */
	if (fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
		rc = -errno;
		close(out[0]);
		close(out[1]);
		return rc;
	}
	/* The child must not inherit the daemon's blocked signals (vigild takes its signals
	 * through a signalfd) nor its ignored SIGPIPE; dup2 clears O_CLOEXEC on 1 and 2. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
	                                    POSIX_SPAWN_SETPGROUP);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, out[1], 2);
	rc = posix_spawn(pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	if (rc) {
		close(out[0]);
		return -rc;
	}
	*fd = out[0];
	return 0;
}

/* Runs the command for ev, with the event in front of the daemon's environment. */
static int hook_start(struct webhook *w, const struct vigil_event *ev, struct hook *h)
{
	char *extra[16];
	size_t nextra = hook_env(w, ev, extra, sizeof extra / sizeof extra[0]), nenv = 0;
	char **envp;
	int rc = -ENOMEM;

	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + nextra + 1, sizeof *envp);
	if (envp) {
		memcpy(envp, extra, nextra * sizeof *envp);
		memcpy(envp + nextra, environ, nenv * sizeof *envp);
		rc = spawn_hook(w->argv, envp, &h->pid, &h->fd);
	}
	free(envp);
	for (size_t i = 0; i < nextra; i++)
		free(extra[i]);
	return rc;
}

static void on_event(const struct vigil_event *ev, void *arg)
{
	struct webhook *w = arg;
	const char *name = w->host->event_name(ev->type);
	struct hook *h;
	int rc;

	if (w->running >= w->max_running) {
		w->host->log(w->self, VIGIL_LOG_WARN,
		             "%s %s: %lld hooks still running, not starting another", name,
		             ev->subject ? ev->subject : "-", (long long)w->running);
		return;
	}
	h = calloc(1, sizeof *h);
	if (!h)
		return;
	h->w = w;
	h->fd = -1;
	rc = hook_start(w, ev, h);
	if (rc < 0) {
		w->host->log(w->self, VIGIL_LOG_ERROR, "%s %s: cannot run %s: %s", name,
		             ev->subject ? ev->subject : "-", w->argv[0], strerror(-rc));
		free(h);
		return;
	}
	h->watch = w->host->watch_fd(w->self, h->fd, VIGIL_FD_IN, on_output, h);
	if (!h->watch) {
		/* Not fatal: the hook runs, we just do not log its output. */
		close(h->fd);
		free(h);
		return;
	}
	h->next = w->hooks;
	w->hooks = h;
	w->running++;
	w->host->log(w->self, VIGIL_LOG_INFO, "%s %s: started hook %d", name,
	             ev->subject ? ev->subject : "-", (int)h->pid);
}

static int webhook_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	struct webhook *w = calloc(1, sizeof *w);

	if (!w)
		return -ENOMEM;
	w->host = host;
	w->self = self;
	*state = w;
	return 0;
}

static int webhook_configure(void *state, const struct vigil_config *cfg)
{
	struct webhook *w = state;
	const struct vigil_host *h = w->host;

	w->command = strdup(h->cfg_string(cfg, "command"));
	if (!w->command)
		return -ENOMEM;
	if (split_words(w->command, w->argv, WEBHOOK_MAX_ARGS) <= 0) {
		h->log(w->self, VIGIL_LOG_ERROR,
		       "command: expected a program and at most %d arguments, with closed quotes",
		       WEBHOOK_MAX_ARGS - 1);
		return -EINVAL;
	}
	if (w->argv[0][0] != '/') {
		h->log(w->self, VIGIL_LOG_ERROR, "command = %s: expected an absolute path",
		       w->argv[0]);
		return -EINVAL;
	}
	w->max_running = h->cfg_int(cfg, "max_running");
	if (w->max_running < 1) {
		h->log(w->self, VIGIL_LOG_ERROR, "max_running = %lld: expected at least 1",
		       (long long)w->max_running);
		return -EINVAL;
	}
	return parse_events(w, h->cfg_string(cfg, "events"));
}

static int webhook_start(void *state)
{
	struct webhook *w = state;

	w->sub = w->host->subscribe(w->self, &w->filter, on_event, w);
	return w->sub ? 0 : -ENOMEM;
}

static void webhook_stop(void *state)
{
	struct webhook *w = state;

	if (w->sub)
		w->host->unsubscribe(w->sub);
	w->sub = NULL;
}

static void webhook_fini(void *state)
{
	struct webhook *w = state;

	/* Hooks still running are left to finish on their own; we only stop reading them. */
	while (w->hooks)
		hook_free(w->hooks);
	free(w->command);
	free(w);
}

VIGIL_PLUGIN_DEFINE(.kind = VIGIL_KIND_FRONTEND, .name = "webhook", .version = "1.0.0",
                    .description = "example: runs a command on process.fatal and alert.raised",
                    .keys = webhook_keys, .init = webhook_init, .configure = webhook_configure,
                    .start = webhook_start, .stop = webhook_stop, .fini = webhook_fini);

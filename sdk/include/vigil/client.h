/* client.h — libvigil-client: drive a running vigild from C (tasks, wait, queries, events). */
#ifndef VIGIL_CLIENT_H
#define VIGIL_CLIENT_H

/*
 * Link with -lvigil-client (pkg-config vigil-client-1, or the CMake target vigil-client). The
 * library speaks the control-socket protocol of docs/protocol.md, the one vigilctl uses (vigilctl
 * is built on this library). Full guide: docs/client.md.
 *
 *   int err;
 *   struct vigil_client *c = vigil_client_connect(NULL, &err);   // $VIGIL_SOCKET
 *   const char *argv[] = {"make", "-j4", NULL};
 *   struct vigil_task_spec spec = {.size = sizeof spec, .pool = "builds", .argv = argv,
 *                                  .priority = VIGIL_PRIO_HIGH};
 *   char id[64];
 *   struct vigil_client_task t = {.size = sizeof t};
 *   if (vigil_client_submit(c, &spec, id, sizeof id) == 0 &&
 *       vigil_client_wait(c, id, 0, &t) == 0)
 *           printf("%s: %s, exit %d\n", id, vigil_task_state_name(t.state), t.exit_code);
 *   else
 *           fprintf(stderr, "%s\n", vigil_client_error(c));
 *   vigil_client_close(c);
 *
 * Return values. Functions returning int return:
 *   0          success;
 *   > 0        vigild answered with an error: the value is its code, an exit code of SPEC §1
 *              (VIGIL_CLIENT_FAILED, _USAGE, _NOENT, _TEMPFAIL, _CONFIG), and
 *              vigil_client_error() holds its message;
 *   < 0        a negative errno from this side: -ECONNREFUSED / -ENOENT (no daemon on the
 *              socket), -ECONNRESET (it hung up), -ETIMEDOUT (no answer within the timeout),
 *              -EPROTO (it sent something that is not the protocol), -EINVAL (bad argument),
 *              -EBUSY (the handle is streaming events), -ENOMEM; vigil_client_error() says
 *              what happened, for a user.
 * Functions returning a pointer return NULL on failure and say why through an out-parameter.
 *
 * Threads and blocking. A handle is one connection. Calls on it block until the daemon answers
 * (or the handle's timeout, see vigil_client_set_timeout); a handle must not be used by two
 * threads at once, but separate handles are independent. Nothing here installs signal handlers;
 * writes use MSG_NOSIGNAL, so a daemon that goes away never raises SIGPIPE. The socket is
 * close-on-exec.
 *
 * Strings handed to callbacks are borrowed for the duration of the call.
 */

#include <stddef.h>
#include <stdint.h>

#include <vigil/proc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VIGIL_CLIENT_API VIGIL_EXPORT

/* The library's own version (its soname is libvigil-client.so.MAJOR). */
#define VIGIL_CLIENT_VERSION_MAJOR 1
#define VIGIL_CLIENT_VERSION_MINOR 1

/* Error codes of vigild's replies: the exit codes of SPEC §1. */
enum vigil_client_code {
	VIGIL_CLIENT_OK = 0,
	VIGIL_CLIENT_FAILED = 1,      /* the operation failed */
	VIGIL_CLIENT_USAGE = 2,       /* a bad request */
	VIGIL_CLIENT_NOENT = 3,       /* no such program, instance, group, task or pool */
	VIGIL_CLIENT_UNREACHABLE = 4, /* (vigilctl only: cannot reach the daemon) */
	VIGIL_CLIENT_CONFIG = 100,    /* the configuration was rejected (reload) */
	VIGIL_CLIENT_TEMPFAIL = 111,  /* temporary: a full queue, out of memory */
};

struct vigil_client; /* one connection to vigild (opaque) */

/* ---------------------------------------------------------------------------------------- */
/* Connection                                                                                */

/* Connects to the control socket at socket_path; NULL means $VIGIL_SOCKET. Returns the handle,
 * or NULL with a negative errno in *err (when err is not NULL): -EDESTADDRREQ (no path and no
 * $VIGIL_SOCKET), -ENAMETOOLONG, -ENOENT / -ECONNREFUSED (nobody listens), -EACCES, -ENOMEM. */
VIGIL_CLIENT_API struct vigil_client *vigil_client_connect(const char *socket_path, int *err);

/* Closes the connection and frees the handle (NULL is fine). A wait in progress on the daemon's
 * side is forgotten by it; a task submitted goes on running. */
VIGIL_CLIENT_API void vigil_client_close(struct vigil_client *c);

/* How long a call waits for vigild's answer, in ms; 0 (the default) = as long as it takes.
 * Calls that wait on purpose (vigil_client_wait, an event stream) add their own wait to it. */
VIGIL_CLIENT_API void vigil_client_set_timeout(struct vigil_client *c, int64_t timeout_ms);

/* The message of the last failure on this handle ("" when none). Owned by the handle, valid
 * until the next call on it. */
VIGIL_CLIENT_API const char *vigil_client_error(const struct vigil_client *c);

/* The socket, for poll() in an event loop of your own (readable = a message is coming). */
VIGIL_CLIENT_API int vigil_client_fd(const struct vigil_client *c);

/* ---------------------------------------------------------------------------------------- */
/* Raw requests: JSON text in and out (docs/protocol.md lists every command and reply)       */

/* Sends one request, a JSON object such as {"cmd":"status","args":["web"]}. 0 or < 0. */
VIGIL_CLIENT_API int vigil_client_send(struct vigil_client *c, const char *json);

/* Receives the next message (a reply, an error reply or a stream item) as JSON text in *json
 * (malloc'd, NUL-terminated: free it with vigil_client_free). timeout_ms < 0 waits for ever,
 * 0 only takes what has arrived. 0, or < 0 (-ETIMEDOUT, -ECONNRESET, -EPROTO, -ENOMEM,
 * -EMSGSIZE for a message larger than the library accepts: 256 MiB); an error reply is
 * returned as a message like any other (0). */
VIGIL_CLIENT_API int vigil_client_recv(struct vigil_client *c, char **json, int64_t timeout_ms);

/* As vigil_client_recv, but the message is handed over exactly as vigild sent it, without
 * checking that it is JSON: for a program that parses it anyway, this saves a parse of a big
 * reply. *len (when not NULL) gets its length in bytes; the text is also NUL-terminated.
 * Added in 1.1. */
VIGIL_CLIENT_API int vigil_client_recv_raw(struct vigil_client *c, char **json, size_t *len,
                                           int64_t timeout_ms);

/* send + recv of the reply, within the handle's timeout. *reply gets the reply text (also for
 * an error reply; NULL on a failure of this side). Returns 0, the reply's error code (> 0) or
 * < 0. For the streaming forms (events/logs with "follow") use send and recv. */
VIGIL_CLIENT_API int vigil_client_request(struct vigil_client *c, const char *request,
                                          char **reply);

/* Frees what the library returned (JSON text). */
VIGIL_CLIENT_API void vigil_client_free(void *p);

/* ---------------------------------------------------------------------------------------- */
/* Tasks                                                                                     */

/* A task as vigild reports it. Set `size` to sizeof(struct vigil_client_task) before a call
 * fills it (the library fills what fits, so a program built against an older, smaller struct
 * keeps working). Unknown numbers are -1, unknown strings "". */
struct vigil_client_task {
	uint32_t size;
	char id[64];
	char name[128];
	char type[64];
	char pool[64];
	enum vigil_task_state state;
	enum vigil_priority priority;
	int32_t pid;             /* while running; 0 = none */
	int32_t exit_code;       /* -1 = none: not finished, killed by a signal, never ran */
	int32_t signal;          /* the signal that ended it; 0 = none */
	uint32_t attempts;       /* runs so far (retries count) */
	int64_t submitted_at_ms; /* Unix ms; 0 = unknown */
	int64_t started_at_ms;   /* 0 = not started */
	int64_t ended_at_ms;     /* 0 = not ended */
	double duration_s;       /* of the last run; -1 = unknown */
	double cpu_s;            /* user + system of the last run; -1 = unknown */
	int64_t peak_rss_bytes;  /* -1 = unknown */
	char error[256];         /* why it could not start; "" */
};

/* Submits a task (`vigilctl run`); every member of spec is optional but argv (spec->size must
 * be sizeof(struct vigil_task_spec)). A relative spec->cwd is refused by vigild: pass an
 * absolute path. The id is written to id (64 bytes are plenty). Returns 0; VIGIL_CLIENT_NOENT
 * for an unknown pool, VIGIL_CLIENT_TEMPFAIL when the pool's queue is full,
 * VIGIL_CLIENT_USAGE for a bad spec, VIGIL_CLIENT_FAILED when [security] refuses it; or < 0. */
VIGIL_CLIENT_API int vigil_client_submit(struct vigil_client *c, const struct vigil_task_spec *spec,
                                         char *id, size_t idlen);

/* Waits until the task has finished and fills out (`vigilctl wait`). timeout_ms <= 0 waits as
 * long as it takes; otherwise VIGIL_CLIENT_FAILED when it has not finished by then (out then
 * holds its current state). VIGIL_CLIENT_NOENT for an unknown id. A task that failed is a
 * success of the wait: look at out->state and out->exit_code, or vigil_client_exit_status(). */
VIGIL_CLIENT_API int vigil_client_wait(struct vigil_client *c, const char *id, int64_t timeout_ms,
                                       struct vigil_client_task *out);

/* Where the task stands now (queued, running, ... or how it ended), without waiting. Tasks
 * the daemon no longer holds are looked up in its history. 0, VIGIL_CLIENT_NOENT, or < 0. */
VIGIL_CLIENT_API int vigil_client_task_status(struct vigil_client *c, const char *id,
                                              struct vigil_client_task *out);

/* Cancels a queued task, or stops a running one (it ends `cancelled`; stopping takes up to the
 * pool's stop_timeout, and vigil_client_wait tells when it is over). 0; VIGIL_CLIENT_NOENT;
 * VIGIL_CLIENT_FAILED when it has already finished; or < 0. */
VIGIL_CLIENT_API int vigil_client_cancel(struct vigil_client *c, const char *id);

/* The exit code `vigilctl wait` gives for a finished task: its own exit code; 128+N when a
 * signal N ended it; 124 when it ran past its timeout (as timeout(1)); 125 when it was
 * cancelled; 127 when it could not be started. -EINPROGRESS while it has not finished. */
VIGIL_CLIENT_API int vigil_client_exit_status(const struct vigil_client_task *t);

/* ---------------------------------------------------------------------------------------- */
/* Programs and the registry                                                                 */

/* One line of `status` or `ps`. Borrowed for the callback. Unknown numbers are -1 (pid,
 * exit_code, signal, health: 0 / -1 as noted), unknown strings NULL. */
struct vigil_client_entry {
	uint32_t size;         /* sizeof(struct vigil_client_entry) of the library */
	const char *kind;      /* "program" or "task" */
	const char *name;      /* instance ("web", "web.0") or task name */
	const char *program;   /* the program, or the pool of a task */
	const char *id;        /* task id or recorded run id; NULL when none */
	const char *state;     /* a state of SPEC §3, or how a recorded run ended */
	const char *type;      /* task type; NULL for programs */
	const char *priority;  /* low, normal, high, critical */
	int32_t pid;           /* 0 = none */
	int32_t exit_code;     /* -1 = none */
	int32_t signal;        /* 0 = none */
	int32_t health;        /* 0..100; -1 = not scored */
	int64_t started_at_ms; /* Unix ms; 0 = never */
	int64_t ended_at_ms;   /* 0 = still running / never ran */
	int live;              /* 1 = what vigild runs now, 0 = from its history */
	int64_t restarts;      /* status only; -1 otherwise */
	double cpu_pct;        /* status only, % of one core; -1 = not sampled */
	int64_t rss_bytes;     /* status only; -1 = not sampled */
	const char *json;      /* the whole line as vigild sent it (compact JSON) */
};

/* Return 0 to go on, anything else to stop early (the call still returns 0). */
typedef int (*vigil_client_entry_fn)(const struct vigil_client_entry *e, void *arg);

/* Calls fn for every instance target selects (a program, an instance, a group, "all"; NULL =
 * all), as `vigilctl status`. 0, VIGIL_CLIENT_NOENT, or < 0. */
VIGIL_CLIENT_API int vigil_client_status(struct vigil_client *c, const char *target,
                                         vigil_client_entry_fn fn, void *arg);

/* A registry query (`vigilctl ps`). Set size = sizeof(struct vigil_client_query); a NULL or
 * 0 member does not filter. */
struct vigil_client_query {
	uint32_t size;
	const char *kind;     /* "program" or "task" */
	const char *name;     /* instance, program, task name or task id */
	const char *state;    /* e.g. "running", "failed", "killed" */
	const char *health;   /* healthy, degraded, unhealthy, critical (live programs) */
	const char *type;     /* task type */
	const char *priority; /* low, normal, high, critical */
	const char *tag;      /* a tag of the program */
	const char *since;    /* "2h" (back from now) or RFC 3339 "2026-11-27T03:04:05Z" */
	const char *until;    /* the same */
	int history;          /* 1 = include the store's history (since/until imply it) */
	uint32_t limit;       /* history rows at most; 0 = the store's default (1000) */
};

/* Calls fn for every entry q selects: live programs, then live tasks, then history rows,
 * newest first. 0, VIGIL_CLIENT_USAGE (a bad filter), VIGIL_CLIENT_FAILED (history asked
 * for but not available), or < 0. */
VIGIL_CLIENT_API int vigil_client_ps(struct vigil_client *c, const struct vigil_client_query *q,
                                     vigil_client_entry_fn fn, void *arg);

/* ---------------------------------------------------------------------------------------- */
/* Events                                                                                    */

/* One event of the stream. Valid until the next vigil_client_events_next() or close. */
struct vigil_client_event {
	uint32_t size;       /* sizeof(struct vigil_client_event) of the library */
	uint64_t seq;        /* bus sequence number */
	int64_t time_us;     /* Unix microseconds, parsed from the event's time */
	const char *type;    /* "process.exited", "task.finished", ... */
	const char *subject; /* instance or task id; NULL for supervisor-wide events */
	const char *json;    /* the whole event (compact JSON): every field of its struct */
	const void *priv_;   /* the library's; used by the accessors below */
};

/* Turns the handle into an event stream (`vigilctl events -f`): types selects names or
 * families ("process.exited", "task.*"; NULL-terminated; NULL = all), subject one program,
 * instance or task id (NULL = all). With replay, the recent events vigild remembers come
 * first. After this the handle only streams: other calls return -EBUSY. 0, > 0, or < 0. */
VIGIL_CLIENT_API int vigil_client_events_open(struct vigil_client *c, const char *const *types,
                                              const char *subject, int replay);

/* The next event of the stream. timeout_ms < 0 waits for ever. 0 (ev filled), -ETIMEDOUT,
 * -ESHUTDOWN (vigild ended the stream: it is shutting down), -ECONNRESET, -EPROTO. */
VIGIL_CLIENT_API int vigil_client_events_next(struct vigil_client *c, struct vigil_client_event *ev,
                                              int64_t timeout_ms);

/* A string member of the event ("reason", "program", "state", ...); NULL when absent or null. */
VIGIL_CLIENT_API const char *vigil_client_event_str(const struct vigil_client_event *ev,
                                                    const char *field);
/* A number member ("pid", "exit_code", "cpu_s", ...): 0, or -ENOENT when absent or null. */
VIGIL_CLIENT_API int vigil_client_event_num(const struct vigil_client_event *ev, const char *field,
                                            double *out);

/* Open + next in a loop: calls fn for each event until fn returns nonzero (returned), the
 * stream ends (0 when vigild shut down) or fails (< 0). */
typedef int (*vigil_client_event_fn)(const struct vigil_client_event *ev, void *arg);
VIGIL_CLIENT_API int vigil_client_events_follow(struct vigil_client *c, const char *const *types,
                                                const char *subject, vigil_client_event_fn fn,
                                                void *arg);

#ifdef __cplusplus
}
#endif

#endif

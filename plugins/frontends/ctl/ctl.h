/* ctl.h — internals of frontend_ctl.so shared by its source files (nothing here is exported). */
#ifndef VIGIL_CTL_H
#define VIGIL_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>
#include <vigil/sdk.h>

#include "proto.h"

/* The plugin is several files; their shared functions carry the ctl_ prefix and stay local to
 * the .so through hidden visibility and the version script. */

#define CTL_MAX_CONNS 64
#define CTL_READ_CHUNK (64u * 1024)    /* bytes read from a socket or log per callback */
#define CTL_OUT_HIGH (256u * 1024)     /* above this, requests, lossy items and log reads pause */
#define CTL_OUT_MAX (4u * 1024 * 1024) /* above this, a stream that is not read is dropped */
#define CTL_RING_LOSSLESS 256
#define CTL_RING_LOSSY 64
#define CTL_DEFAULT_TIMEOUT_MS 60000
#define CTL_WAIT_POLL_MS 100
#define CTL_TASK_POLL_MS 250    /* safety net of a task wait (events drive it) */
#define CTL_RELOAD_WAIT_MS 2000 /* how long a reload reply waits for config.reloaded */

/* Whether the core's host table has a member (an older core's table is shorter). */
#define CTL_HOST_HAS(h, member)                                                                    \
	((h)->size >= offsetof(struct vigil_host, member) + sizeof((h)->member) && (h)->member)

struct ctl_wait;
struct ctl_pending;
struct ctl_evstream;
struct ctl_logf;

enum ctl_busy {
	CTL_IDLE = 0,
	CTL_WAITING,       /* start/stop/restart waiting for the target states */
	CTL_STREAM_EVENTS, /* events follow */
	CTL_STREAM_LOGS,   /* logs follow */
	CTL_PENDING,       /* wait/run --wait/cancel --wait/reload: the reply waits for one event */
};

struct ctl_ring {
	const struct vigil_event *ev[CTL_RING_LOSSLESS];
	size_t cap, head, count;
};

struct ctl {
	const struct vigil_host *host;
	struct vigil_instance *self;
	char *socket_path;
	mode_t mode;
	uid_t *allow_uids;
	size_t n_allow_uids;
	gid_t *allow_gids;
	size_t n_allow_gids;
	uid_t euid;

	int listen_fd;
	struct vigil_watch *listen_w;
	struct vigil_timer *accept_retry; /* after EMFILE: accept again later */
	dev_t sock_dev;
	ino_t sock_ino;

	struct ctl_conn *conns;
	size_t nconns;
	struct vigil_sub *sub;
	struct ctl_ring lossless, lossy;
	json_t *no_args; /* [] for requests without "args" */
};

struct ctl_conn {
	struct ctl *ctl;
	struct ctl_conn *prev, *next;
	int fd;
	struct vigil_watch *w;
	uint32_t wmask;
	uid_t uid;
	pid_t pid;

	unsigned char *in;
	size_t in_len, in_cap;
	unsigned char *out;
	size_t out_off, out_len, out_cap;

	int rd_eof;      /* the client will send nothing more */
	int closing;     /* close once the output is flushed */
	int dead;        /* close at the end of the current callback */
	int in_dispatch; /* inside ctl_handle_request: the read loop goes on by itself */
	enum ctl_busy busy;
	struct ctl_wait *wait;
	struct ctl_pending *pend;
	struct ctl_evstream *evs;
	struct ctl_logf *logf;
	uint64_t skipped; /* lossy stream items not sent to this slow reader */
};

/* ctl_conn.c */
int ctl_conn_accept(struct ctl *ctl, int fd, uid_t uid, pid_t pid, const char *deny);
/* Queues one message (steals msg), a reply of up to PROTO_MAX_REPLY bytes (a larger one is
 * replaced by an error asking to narrow the request). Returns 0, or -EPIPE when the
 * connection is dead. */
int ctl_send(struct ctl_conn *c, json_t *msg);
/* The same for a frame built in b (proto_buf_frame_begin, then the body): b's memory is taken
 * over, and b is left empty. */
int ctl_send_buf(struct ctl_conn *c, struct proto_buf *b);
int ctl_send_frame(struct ctl_conn *c, const unsigned char *frame, size_t len);
int ctl_send_error(struct ctl_conn *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t ctl_out_pending(const struct ctl_conn *c);
/* The current request is finished: read the next one. */
void ctl_conn_idle(struct ctl_conn *c);
/* Frees the connection if something marked it dead; call at the end of every callback that
 * worked on it. Returns 1 when it was freed. */
int ctl_conn_reap(struct ctl_conn *c);
void ctl_conn_free(struct ctl_conn *c);
/* Daemon shutdown: ends streams and waits, flushes what the socket takes, closes. */
void ctl_conn_close_all(struct ctl *ctl);

/* ctl_cmd.c */
void ctl_handle_request(struct ctl_conn *c, json_t *req);
/* Collects the status objects of targets (NULL = all) into arr, once per instance. Returns 0,
 * or -ENOENT with *missing pointing at the target that names nothing. */
int ctl_collect_status(struct ctl *ctl, json_t *targets, json_t *arr, const char **missing);
int ctl_check_targets(struct ctl_conn *c, const json_t *args, size_t first);
/* "args" as an array of at least min strings (absent = empty). NULL after a usage reply. */
const json_t *ctl_req_args(struct ctl_conn *c, const json_t *req, size_t min);
/* Request option helpers: 0, or -EINVAL after replying with a usage error. */
int ctl_opt_bool(struct ctl_conn *c, const json_t *req, const char *key, int *out);
int ctl_opt_int(struct ctl_conn *c, const json_t *req, const char *key, int64_t min, int64_t max,
                int64_t *out);

/* ctl_wait.c */
void ctl_cmd_control(struct ctl_conn *c, const char *cmd, const json_t *req);
void ctl_wait_event(struct ctl_conn *c, const struct vigil_event *ev);
void ctl_wait_free(struct ctl_conn *c);
/* Daemon shutdown: the wait ends with an error reply. */
void ctl_wait_abort(struct ctl_conn *c, const char *why);

/* ctl_task.c */
void ctl_cmd_run(struct ctl_conn *c, const json_t *req);
void ctl_cmd_wait(struct ctl_conn *c, const json_t *req);
void ctl_cmd_cancel(struct ctl_conn *c, const json_t *req);
void ctl_cmd_reload(struct ctl_conn *c);
/* An event for a connection in CTL_PENDING (it checks whether it is the awaited one). */
void ctl_pending_event(struct ctl_conn *c, const struct vigil_event *ev);
void ctl_pending_free(struct ctl_conn *c);
/* Daemon shutdown: the wait ends with an error reply. */
void ctl_pending_abort(struct ctl_conn *c, const char *why);

/* ctl_taskview.c */
/* A task's JSON, shared by wait, run, cancel and ps: the reply of wait (SPEC §4) and the
 * fields of a ps entry. NULL on ENOMEM. */
json_t *ctl_task_json(const struct vigil_task_info *t);
/* The same from task.finished, for a task the core no longer holds. NULL on ENOMEM. */
json_t *ctl_task_finished_json(const struct vigil_ev_task_finished *e);
/* succeeded, failed, timeout, killed, cancelled */
int ctl_task_final(enum vigil_task_state s);
/* One task looked up: its JSON (a new reference) and its state. */
struct ctl_tsnap {
	json_t *json;
	enum vigil_task_state state;
	int found;
};

/* The task as the core holds it: 0 (s filled), -ENOENT, -ENOSYS, -ENOMEM. */
int ctl_task_snap(struct ctl *ctl, const char *id, struct ctl_tsnap *s);
/* A task the core no longer holds, from the store's history: 0 or -ENOENT. */
int ctl_task_from_history(struct ctl *ctl, const char *id, struct ctl_tsnap *s);

/* ctl_ps.c */
void ctl_cmd_ps(struct ctl_conn *c, const json_t *req);
void ctl_cmd_stats(struct ctl_conn *c, const json_t *req);

/* ctl_health.c */
void ctl_cmd_health(struct ctl_conn *c, const json_t *req);

/* ctl_report.c */
void ctl_cmd_report(struct ctl_conn *c, const json_t *req);

/* ctl_time.c */
/* A point in time for ps/stats: a JSON integer (Unix ms), a duration back from now_ms
 * ("2h", "1h30m", "90s") or an RFC 3339 timestamp ("2026-11-27T03:04:05Z", "...+02:00",
 * "2026-11-27"). 0, or -EINVAL with a message for the user in err. */
int ctl_parse_when(const json_t *v, int64_t now_ms, int64_t *out, char *err, size_t errlen);
/* A duration: "1500ms", "10s", "5m", "2h", "1d", "1h30m", a bare number of seconds.
 * 0 or -EINVAL / -ERANGE. */
int ctl_parse_duration_ms(const char *s, int64_t *out);
/* RFC 3339 (see ctl_parse_when) to Unix ms. 0 or -EINVAL. */
int ctl_parse_rfc3339(const char *s, int64_t *out);
/* "2026-11-27T03:04:05.123Z"; JSON null for 0. NULL on ENOMEM. */
json_t *ctl_time_json(int64_t unix_ms);

/* ctl_events.c */
void ctl_events_start(struct ctl *ctl);
void ctl_events_fini(struct ctl *ctl);
void ctl_cmd_events(struct ctl_conn *c, const json_t *req);
void ctl_evstream_free(struct ctl_conn *c);
/* An event as JSON (vjson_event with the core's type name). NULL on ENOMEM. */
json_t *ctl_event_json(struct ctl *ctl, const struct vigil_event *ev);

/* ctl_logs.c */
void ctl_cmd_logs(struct ctl_conn *c, const json_t *req);
/* The output drained below CTL_OUT_HIGH: go on reading the log. */
void ctl_logs_resume(struct ctl_conn *c);
void ctl_logf_free(struct ctl_conn *c);

#endif

/* harness.h — runs a real vigild for integration tests and talks to it through vigilctl. */
#ifndef VIGIL_TEST_HARNESS_H
#define VIGIL_TEST_HARNESS_H

#include <jansson.h>
#include <stdio.h>
#include <sys/types.h>

struct vd {
	char dir[256];        /* temporary directory, removed by vd_stop */
	char config[300];
	char socket[300];
	char state[300];
	char mark[64];        /* VIGIL_TEST_MARK value every process we start inherits */
	pid_t pid;
	pid_t events_pid;     /* `vigilctl --json events -f` */
	int events_fd;        /* its stdout */
	char *evbuf;          /* bytes read from it, not yet a whole line */
	size_t evlen, evcap;
	json_t *backlog;      /* events read but not matched yet */
};

/* Writes a config ([vigil] state_dir and plugin_path are prepended) and starts vigild; waits
 * (NOTIFY_SOCKET) until it is ready and the event stream is open. Fails the test otherwise. */
void vd_start(struct vd *vd, const char *config_body);
/* Like vd_start but returns vigild's exit status when it exits before becoming ready
 * (e.g. a bad config), or -1 when it became ready. stderr_out gets what it printed. */
int vd_try_start(struct vd *vd, const char *config_body, char *stderr_out, size_t len);

/* Writes the config and fills vd like vd_start, without starting vigild (vd->pid = -1): a test
 * can prepare the state dir (e.g. mount something on it), then vd_relaunch or vd_relaunch_log. */
void vd_prepare(struct vd *vd, const char *config_body);
/* vd_relaunch with vigild's stderr going to DIR/vigild.stderr (truncated first), so a test can
 * wait for a log line there with vd_wait_file(vd_log_path(vd), ...). */
void vd_relaunch_log(struct vd *vd);
const char *vd_log_path(struct vd *vd);   /* static buffer */

/* SIGKILLs vigild (its programs live on) and closes the event stream. */
void vd_kill9(struct vd *vd);
/* Starts vigild again on the same config and state dir; waits until ready. */
void vd_relaunch(struct vd *vd);
/* Sends SIGUSR2 and waits until the re-executed vigild is ready again; reopens the events. */
void vd_reexec(struct vd *vd);
/* Stops vigild gracefully (SIGTERM, waits for it) but keeps the state dir and the config, so
 * vd_relaunch can start it again on the same history. Returns its exit status. */
int vd_halt(struct vd *vd);
/* Replaces the config body (the [vigil] part stays as vd_start wrote it). */
void vd_rewrite_config(struct vd *vd, const char *body);

/* Waits for the next event of `type` (and subject, if not NULL), up to timeout_ms. Returns a
 * new reference (json_decref it) or NULL on timeout. Earlier unmatched events stay queued. */
json_t *vd_wait_event(struct vd *vd, const char *type, const char *subject, int timeout_ms);

/* The next event whose type starts with prefix ("task."), in stream order, up to timeout_ms:
 * several types read in the order vigild published them. NULL on timeout. (vd_wait_event
 * also takes such a prefix: a type ending in '.'.) */
json_t *vd_next_event(struct vd *vd, const char *prefix, int timeout_ms);

/* Runs vigilctl -s SOCKET --json ARGS...; returns its exit code; *out gets the parsed JSON
 * document (or NULL). */
int vd_ctl(struct vd *vd, json_t **out, const char *arg, ...);
/* The same, raw output text (malloc'd) instead of JSON, without --json. */
int vd_ctl_text(struct vd *vd, char **out, const char *arg, ...);

/* status of one instance: a new reference to its object in the status reply, or NULL. */
json_t *vd_status(struct vd *vd, const char *name);
const char *vd_state(struct vd *vd, const char *name);   /* static buffer */
int vd_pid(struct vd *vd, const char *name);
/* The pids of the instances `status TARGET` (NULL = all) lists in state (NULL = any): returns
 * how many, and puts the first max in pids. */
int vd_status_pids(struct vd *vd, int *pids, int max, const char *state, const char *target);
/* Waits for process.ready of PROGRAM (n = 1) or of PROGRAM.0 .. PROGRAM.n-1. */
void vd_wait_ready(struct vd *vd, const char *program, int n);

/* Shuts vigild down (SIGTERM), waits for it, and fails the test when a process that carries
 * this test's mark is still alive (it is killed first). Returns vigild's exit status. */
int vd_stop(struct vd *vd);

/* The wall clock as RFC 3339 UTC with milliseconds ("2026-11-27T03:04:05.123Z"), for
 * `ps --since/--until`; waits until the clock has moved past the previous call, so two calls
 * never return the same instant. buf holds at least 32 bytes. */
const char *vd_rfc3339_now(char *buf, size_t len);
/* An RFC 3339 time (as vigild prints it) in Unix milliseconds; -1 when it is not one. */
long long vd_parse_time_ms(const char *s);

/* printf into a static buffer (16 KiB), for config bodies. */
const char *vd_config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Milliseconds on the monotonic clock. */
long long vd_now_ms(void);
/* Path of the test helper program. */
const char *vd_victim(void);
/* Waits until kill(pid, 0) fails, up to timeout_ms; 0 when gone. */
int vd_wait_gone(pid_t pid, int timeout_ms);
/* A member of a JSON object: the string (NULL when absent or not one), the integer (0). */
const char *vd_jstr(const json_t *o, const char *key);
long long vd_jint(const json_t *o, const char *key);
/* 1 when x is one of v[0..n). */
int vd_contains(const int *v, int n, int x);
/* Waits (inotify on its directory) until path exists and contains needle; returns its
 * content (malloc'd) or NULL on timeout. */
char *vd_wait_file(const char *path, const char *needle, int timeout_ms);
/* Reads a whole file (malloc'd) or NULL. */
char *vd_read_file(const char *path);

#endif

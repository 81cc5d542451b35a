/* attempt.h — one readiness or liveness attempt (tcp, http, exec) on the loop, never blocking. */
#ifndef VIGIL_CORE_ATTEMPT_H
#define VIGIL_CORE_ATTEMPT_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct attempt;
struct proc;

/* The outcome: ok is 1 when the check passed; otherwise why says what failed ("connect
 * 127.0.0.1:8080: Connection refused", "HTTP 503", "exit code 1", "timed out after 2000 ms").
 * latency_us runs from the start to the outcome. */
typedef void (*attempt_done_fn)(void *arg, int ok, int64_t latency_us, const char *why);

/* Starts spec on behalf of p: an exec: command runs as p's program does (user, group,
 * directory, umask, environment), its stderr going where the program's goes and its stdout
 * discarded. The attempt fails after timeout_ms (an exec: check's process group is killed).
 * done is called exactly once and never from inside attempt_start, unless attempt_cancel comes
 * first. Never NULL. */
struct attempt *attempt_start(const struct conf_check *spec, struct proc *p, int64_t timeout_ms,
                              attempt_done_fn done, void *arg);
/* Drops an attempt whose outcome is no longer wanted (done is not called). */
void attempt_cancel(struct attempt *c);

/* Registers the reap hook for exec: checks; call after sup_init's reset. 0 or -errno. */
int attempt_init(void);
/* Kills what exec: checks left running and releases libcurl (the module stays loaded). */
void attempt_fini(void);

/* Opens the http_check module (libcurl) unless it is open already: http:// checks go through
 * it, and vigild maps libcurl only once a configuration has one. 0, or -1 with err naming the
 * file and the reason. */
int attempt_http_load(char *err, size_t len);

#endif

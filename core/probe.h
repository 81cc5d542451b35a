/* probe.h — readiness (notify, tcp, http, exec) and liveness (health checks, watchdog). */
#ifndef VIGIL_CORE_PROBE_H
#define VIGIL_CORE_PROBE_H

#include <sys/types.h>

#include <vigil/proc.h>

#include "conf.h"

struct proc;

/* At configuration load (startup, --check-config, reload, reexec), before anything acts on
 * conf: opens what its checks need that is not open yet, so a missing or broken module is a
 * configuration error naming the program, the key and the file, and a reload that needs it
 * changes nothing. Today that is the http_check module (libcurl) for the first http:// check.
 * 0, or -1 with err filled. */
int probe_check_conf(const struct vigil_conf *conf, struct conf_error *err);

/* sup_init: the notify socket's place, the exec-check reap hook; binds the notify socket
 * already when a program uses it (instances taken over from an earlier vigild keep sending). */
void probe_init(const struct vigil_conf *conf);
void probe_fini(void);

/* The child's environment (env is consumed, the result returned): NOTIFY_SOCKET and
 * WATCHDOG_USEC for a program with ready = notify or a watchdog, and never those variables
 * (inherited from the daemon's environment) for any other. uid is who the child runs as. */
char **probe_child_env(const struct proc *p, char **env, uid_t uid);

/* The exec of a STARTING instance is confirmed: readiness is now awaited the way `ready`
 * says (notify, tcp:, http://, exec:); FE_READY follows when it is reached. */
void probe_ready_begin(struct proc *p);

/* p moved from prev to p->state: readiness attempts stop when it leaves starting; health
 * checks and the watchdog run while it is running (or adopted). */
void probe_state_changed(struct proc *p, enum vigil_proc_state prev);

/* At startup, for instances taken over from an earlier vigild (running or adopted). */
void probe_resume(struct proc *p);

/* One KEY=VALUE of a notify datagram whose sender belongs to p (notify.c). */
void probe_notify(struct proc *p, const char *key, const char *value);

/* Stops everything for p (it is being freed). */
void probe_forget(struct proc *p);

/* "none", "delay", "notify", "tcp", "http", "exec": for process.ready. */
const char *probe_ready_how(const struct conf_program *g);

#endif

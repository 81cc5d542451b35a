/* sup.h — supervision of the configured programs: instances, start/stop, restarts, reaping. */
#ifndef VIGIL_CORE_SUP_H
#define VIGIL_CORE_SUP_H

#include <sys/types.h>

#include <vigil/host.h>

#include "conf.h"
#include "loader.h"

/* Creates one instance per program (numprocs) from conf. Plugins must be initialised (the
 * policies and stores are looked up here). 0 or -errno. conf stays owned by the caller and must
 * outlive sup. */
int sup_init(const struct vigil_conf *conf, struct loader_set *plugins);
void sup_fini(void);

/* Starts every autostart instance: critical first, each after its dependencies are ready.
 * The work is spread over loop turns; done() is called (unless vigild shuts down first) once
 * every instance has been asked to start. */
void sup_start_all(void (*done)(void));
/* Does what is left of sup_start_all at once (before a reexec); or drops it, returning its
 * done callback (a reload starts it again over the new instances). */
void sup_start_all_finish(void);
void (*sup_start_all_cancel(void))(void);
int sup_start_all_pending(void);

/* SIGCHLD: reaps every child that changed (ours and orphans handed to us as subreaper). */
void sup_reap(void);

/* Orderly stop: dependents before dependencies, low priority before high, SIGKILL at
 * shutdown_timeout; calls loop_quit(0) once everything is down. Idempotent. */
void sup_shutdown(const char *reason);
int sup_shutting_down(void);
/* A task ended: during shutdown, the daemon may now be done. */
void sup_task_progress(void);

/* vigil_host.proc_foreach / proc_control. */
int sup_foreach(const char *target, vigil_proc_fn fn, void *arg);
int sup_control(const char *target, enum vigil_proc_action action, int signo);

size_t sup_count(void);

/* Children that are not program instances (tasks, probes) are offered to each hook when
 * reaped, in order, until one returns 1 (it was its child). Add hooks after sup_init. */
struct rusage;
typedef int (*sup_reap_fn)(pid_t pid, int status, const struct rusage *ru);
int sup_add_reap_hook(sup_reap_fn fn);

/* At startup, after sup_init: every registry entry of the store that claims to be alive is
 * verified (pidfd + start time + boot id) and then, per `orphans`, adopted (watched through
 * its pidfd), killed and started afresh, or left alone; entries whose process is gone are
 * closed as `lost`. */
void sup_recover(int orphans);

/* reexec: writes what the next image needs to take over every child; reads it back there
 * (instead of sup_recover). 0 or -errno. */
int sup_save_state(const char *path);
int sup_restore_state(const char *path);

/* Applies a new configuration: added programs start, removed ones stop and go, changed ones
 * restart, unchanged ones keep running untouched. The caller validated newconf (conf_load and
 * the plugin checks); sup owns it from now on. 0, or -1 with err filled when the change cannot
 * be applied live (nothing changed then). */
int sup_reload(struct vigil_conf *newconf, char *err, size_t len);

#endif

/* sup.h — supervision of the configured programs: instances, start/stop, restarts, reaping. */
#ifndef VIGIL_CORE_SUP_H
#define VIGIL_CORE_SUP_H

#include <vigil/host.h>

#include "conf.h"
#include "loader.h"

/* Creates one instance per program (numprocs) from conf. Plugins must be initialised (the
 * policies and stores are looked up here). 0 or -errno. conf stays owned by the caller and must
 * outlive sup. */
int sup_init(const struct vigil_conf *conf, struct loader_set *plugins);
void sup_fini(void);

/* Starts every autostart instance: critical first, each after its dependencies are ready. */
void sup_start_all(void);

/* SIGCHLD: reaps every child that changed (ours and orphans handed to us as subreaper). */
void sup_reap(void);

/* Orderly stop: dependents before dependencies, low priority before high, SIGKILL at
 * shutdown_timeout; calls loop_quit(0) once everything is down. Idempotent. */
void sup_shutdown(const char *reason);
int sup_shutting_down(void);

/* vigil_host.proc_foreach / proc_control. */
int sup_foreach(const char *target, vigil_proc_fn fn, void *arg);
int sup_control(const char *target, enum vigil_proc_action action, int signo);

size_t sup_count(void);

#endif

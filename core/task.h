/* task.h — submitted one-shot tasks, run in pools with priorities, limits and accounting. */
#ifndef VIGIL_CORE_TASK_H
#define VIGIL_CORE_TASK_H

#include <vigil/sdk.h>

#include "conf.h"
#include "loader.h"

/* Finished tasks the core keeps in memory (for wait and ps); older ones live in the store. */
#define TASK_KEEP_FINISHED 1000

/* Creates the pools of conf (after sup_init: registers a reap hook). 0 or -errno. */
int task_init(const struct vigil_conf *conf, struct loader_set *plugins);
void task_fini(void);

/* vigil_host.task_submit / task_cancel / task_foreach. */
int task_submit(const struct vigil_task_spec *spec, char *id, size_t idlen, char *err,
                size_t errlen);
int task_cancel(const char *id);
int task_foreach(const char *id, vigil_task_fn fn, void *arg);

/* Shutdown: queued tasks are cancelled, running ones stopped. */
void task_shutdown(void);
/* A reload: the [security] lists of conf apply to tasks from now on (pools stay). */
void task_reload(const struct vigil_conf *conf);
/* shutdown_timeout: SIGKILL every running task's tree. */
void task_kill_all(void);
/* Tasks still queued or running. */
size_t task_active(void);

#endif

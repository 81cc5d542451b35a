/* launch.h — preparing a child the way a [program.*] or [pool.*] section says: environment,
 * identity, limits, priority, and the monitors that place and contain it. */
#ifndef VIGIL_CORE_LAUNCH_H
#define VIGIL_CORE_LAUNCH_H

#include <sys/types.h>

#include <vigil/sdk.h>

#include "conf.h"
#include "loader.h"
#include "spawn.h"

/* The child's environment: base (the daemon's), or only PATH, HOME, USER and LANG of it when
 * clear_env; then `environment`, then `extra` ("KEY=value" each, later ones win). */
char **launch_env(char *const *base, int clear_env, char *const *environment,
                  char *const *extra);

/* Fills req's identity, limits, priority, umask, directory from g (argv, path and the
 * stdio fds are the caller's). groups must hold 256 entries. Returns 0, or -1 with a message
 * in err (an unknown user or group, or no root to switch to them). */
int launch_prepare(const struct conf_program *g, int no_new_privs, struct spawn_req *req,
                   gid_t *groups, char *err, size_t errlen);

/* Monitors with an attach op: does any exist? (then the child must wait before exec) */
int launch_need_hold(const struct loader_set *plugins);
/* Offers the forked child (waiting on the hold pipe) to every monitor, then lets it exec by
 * writing to holdfd, or kills it when one refuses. Closes holdfd. 0 or -1 (err filled). */
int launch_attach(const struct loader_set *plugins, const struct vigil_proc_info *info,
                  pid_t pid, int holdfd, char *err, size_t errlen);
void launch_detach(const struct loader_set *plugins, const struct vigil_proc_info *info);
/* Signals the whole tree: a monitor that knows it (a cgroup), else the process group. */
void launch_kill_tree(const struct loader_set *plugins, const struct vigil_proc_info *info,
                      pid_t pgid, int sig);

#endif

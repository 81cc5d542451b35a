/* sandbox.h — [security] allowed_commands and allowed_dirs: what may be started, and where. */
#ifndef VIGIL_CORE_SANDBOX_H
#define VIGIL_CORE_SANDBOX_H

#include <stddef.h>

#include "conf.h"

/* Is the resolved, absolute path of a command allowed? 1 yes, 0 no (msg says why). */
int sandbox_command_ok(const struct conf_security *sec, const char *path, char *msg, size_t len);
/* Is the directory (NULL = the daemon's cwd) allowed? Resolved with realpath, so '..' and
 * symlinks cannot escape. 1 yes, 0 no. */
int sandbox_dir_ok(const struct conf_security *sec, const char *dir, char *msg, size_t len);

/* At config load: the globs must be absolute. 0 or -1 (err filled). */
int sandbox_check_config(const struct conf_security *sec, const char *file,
                         struct conf_error *err);
/* At config load: a program whose command resolves outside allowed_commands, or whose
 * directory is outside allowed_dirs, is a configuration error. 0 or -1 (err filled). */
int sandbox_check_program(const struct conf_security *sec, const struct conf_program *p,
                          struct conf_error *err);

#endif

/* sandbox.c — checks every command and working directory against the [security] allowlists. */
#include "sandbox.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"

extern char **environ;

int sandbox_command_ok(const struct conf_security *sec, const char *path, char *msg, size_t len)
{
	if (!sec->allowed_commands || !sec->allowed_commands[0])
		return 1;
	/* What runs is the file the path resolves to (symlinks followed): that is what must
	 * match, so a link in an allowed directory cannot smuggle in a program from elsewhere. */
	char real[PATH_MAX];
	const char *target = realpath(path, real) ? real : path;
	for (char **g = sec->allowed_commands; *g; g++)
		if (fnmatch(*g, target, FNM_PATHNAME) == 0)
			return 1;
	if (strcmp(target, path) != 0)
		snprintf(msg, len,
		         "command %s (resolved: %s) is not allowed by [security] allowed_commands",
		         path, target);
	else
		snprintf(msg, len, "command %s is not allowed by [security] allowed_commands", path);
	return 0;
}

int sandbox_dir_ok(const struct conf_security *sec, const char *dir, char *msg, size_t len)
{
	if (!sec->allowed_dirs || !sec->allowed_dirs[0])
		return 1;
	char real[PATH_MAX], cwd[PATH_MAX];
	if (!dir)
		dir = getcwd(cwd, sizeof cwd) ? cwd : ".";
	if (!realpath(dir, real)) {
		snprintf(msg, len, "directory %s cannot be resolved: %s", dir, strerror(errno));
		return 0;
	}
	for (char **d = sec->allowed_dirs; *d; d++) {
		char root[PATH_MAX];
		const char *r = realpath(*d, root) ? root : *d;
		size_t n = strlen(r);
		if (strcmp(r, "/") == 0 ||
		    (strncmp(real, r, n) == 0 && (real[n] == '\0' || real[n] == '/')))
			return 1;
	}
	if (strcmp(dir, real) != 0)
		snprintf(msg, len, "directory %s (resolved: %s) is not under [security] allowed_dirs",
		         dir, real);
	else
		snprintf(msg, len, "directory %s is not under [security] allowed_dirs", dir);
	return 0;
}

int sandbox_check_config(const struct conf_security *sec, const char *file,
                         struct conf_error *err)
{
	for (char **g = sec->allowed_commands; g && *g; g++)
		if ((*g)[0] != '/') {
			snprintf(err->msg, sizeof err->msg,
			         "%s: [security] allowed_commands: '%s' must be an absolute path glob "
			         "such as /usr/bin/*",
			         file, *g);
			return -1;
		}
	return 0;
}

int sandbox_check_program(const struct conf_security *sec, const struct conf_program *p,
                          struct conf_error *err)
{
	char msg[1024];
	if (!sandbox_dir_ok(sec, p->directory, msg, sizeof msg)) {
		snprintf(err->msg, sizeof err->msg, "%s:%d: [program.%s] directory: %s", p->file,
		         p->line, p->name, msg);
		return -1;
	}
	if (!sec->allowed_commands || !sec->allowed_commands[0])
		return 0;
	char *path = spawn_resolve(p->argv[0], p->environment && p->environment[0] ? p->environment
	                                                                            : environ,
	                           p->directory);
	if (!path) {
		snprintf(err->msg, sizeof err->msg,
		         "%s:%d: [program.%s] command: %s cannot be found, so [security] "
		         "allowed_commands cannot be checked",
		         p->file, p->line, p->name, p->argv[0]);
		return -1;
	}
	int ok = sandbox_command_ok(sec, path, msg, sizeof msg);
	free(path);
	if (!ok) {
		snprintf(err->msg, sizeof err->msg, "%s:%d: [program.%s] command: %s", p->file, p->line,
		         p->name, msg);
		return -1;
	}
	return 0;
}

/* conf.h — the parsed, validated configuration (iniparser underneath), as the core uses it. */
#ifndef VIGIL_CORE_CONF_H
#define VIGIL_CORE_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vigil/config.h>
#include <vigil/plugin.h>

#define CONF_ERR_MAX 2048

/* An error to show the user: "FILE:LINE: [section] key: what was wrong (did you mean 'x'?)". */
struct conf_error {
	char msg[CONF_ERR_MAX];
};

/* One raw key of a section, after ${VAR} expansion. */
struct conf_kv {
	char *key;    /* lower case */
	char *value;
	int line;
};

/* One raw section, as written. */
struct conf_section {
	char *name;   /* lower case, e.g. "policy.backoff.fast" */
	char *file;   /* absolute path of the file that holds it */
	char *dir;    /* its directory (for relative paths) */
	int line;
	struct conf_kv *kv;
	size_t nkv;
};

enum conf_restart { RESTART_ALWAYS = 0, RESTART_ON_FAILURE = 1, RESTART_NEVER = 2 };
enum conf_output { OUT_LOG = 0, OUT_NULL = 1, OUT_INHERIT = 2, OUT_STDOUT = 3 /* stderr only */ };
enum conf_ready { READY_NONE = 0, READY_DELAY = 1, READY_NOTIFY = 2, READY_CHECK = 3 };
enum conf_check_kind { CHECK_NONE = 0, CHECK_TCP = 1, CHECK_HTTP = 2, CHECK_EXEC = 3 };
enum conf_on_unhealthy { ON_UNHEALTHY_RESTART = 0, ON_UNHEALTHY_STOP = 1, ON_UNHEALTHY_ALERT = 2 };
enum conf_orphans { ORPHANS_ADOPT = 0, ORPHANS_KILL = 1, ORPHANS_IGNORE = 2 };
enum conf_on_limit { ON_LIMIT_RESTART = 0, ON_LIMIT_STOP = 1, ON_LIMIT_ALERT = 2 };

/* A readiness or liveness check: tcp:[HOST:]PORT, http(s)://HOST[:PORT]/PATH or exec:CMD. */
struct conf_check {
	int kind;               /* enum conf_check_kind */
	char *target;           /* as written after "tcp:" / "exec:", or the whole URL */
	char *host;             /* CHECK_TCP: a numeric IPv4 or IPv6 address */
	int port;               /* CHECK_TCP */
	char **argv;            /* CHECK_EXEC: the command, split like `command` */
};

/* A [program.NAME] section with every default applied. */
struct conf_program {
	char *name;
	char *file;
	int line;
	char *command;          /* as written */
	char **argv;            /* split; argv[0] resolved against PATH at spawn time if no '/' */
	int numprocs;           /* >= 1 */
	char *directory;        /* absolute, or NULL = the daemon's cwd */
	char *user;             /* NULL = no privilege drop */
	char *group;            /* NULL = the user's primary group */
	char **environment;     /* "KEY=value" strings, NULL-terminated */
	int clear_env;
	mode_t umask;           /* (mode_t)-1 = inherit */
	int autostart;
	int priority;           /* enum vigil_priority */
	char **depends_on;      /* program names, NULL-terminated */
	int restart;            /* enum conf_restart */
	int *success_codes;     /* exit codes that count as success */
	size_t nsuccess_codes;
	char *restart_policy;   /* policy instance name */
	int ready;              /* enum conf_ready */
	int64_t ready_delay_ms;
	struct conf_check ready_check; /* READY_CHECK: what is tried until it succeeds */
	int64_t watchdog_ms;    /* notify protocol WATCHDOG=1 at least this often; 0 = off */
	struct conf_check health_check; /* liveness; CHECK_NONE = none */
	int64_t health_interval_ms;
	int64_t health_timeout_ms; /* each health check and each readiness attempt */
	int health_failures;    /* consecutive failures before on_unhealthy */
	int on_unhealthy;       /* enum conf_on_unhealthy */
	int64_t start_timeout_ms;
	int stop_signal;
	int64_t stop_timeout_ms;
	int kill_tree;
	int stdout_mode;        /* enum conf_output (not OUT_STDOUT) */
	int stderr_mode;        /* enum conf_output */
	int64_t log_max_size;   /* bytes, 0 = no rotation */
	int log_backups;
	int64_t limit_memory;   /* bytes, 0 = none */
	double limit_cpu;       /* % of one core, 0 = none */
	int64_t limit_runtime_ms; /* 0 = none */
	int64_t limit_nofile;   /* 0 = inherit */
	int64_t limit_nproc;    /* 0 = none (RLIMIT_NPROC) */
	int64_t limit_core;     /* bytes; -1 = inherit */
	int on_limit;           /* enum conf_on_limit */
	char **tags;            /* NULL-terminated */
	uint64_t hash;          /* digest of every field above: reload compares these */
};

/* A [pool.NAME] section: limits of the queue, and the settings every task of it runs with
 * (`task` holds the [program.*] keys that make sense for a task; its command is the task's). */
struct conf_pool {
	char *name;
	char *file;
	int line;
	int max_concurrent;
	int queue_max;
	int64_t default_timeout_ms;
	int retries;
	char *restart_policy;
	struct conf_program task;
};

struct conf_group {
	char *name;
	char **programs;        /* NULL-terminated, each names a program */
};

/* A plugin section [KIND.NAME] or [KIND.NAME.LABEL], or a default instance (sec == NULL). */
struct conf_plugin {
	enum vigil_plugin_kind kind;
	char *plugin;           /* NAME: loads KIND_NAME.so */
	char *instance;         /* LABEL, or NAME */
	struct conf_section *sec; /* NULL for a default instance */
};

struct conf_security {
	int no_new_privs;
	char **allowed_commands;  /* globs; empty = every command */
	char **allowed_dirs;      /* absolute, resolved; empty = every directory */
};

struct vigil_conf {
	char *file;             /* absolute path of the main file */
	char *dir;
	char *state_dir;        /* absolute */
	char **plugin_path;     /* absolute directories, NULL-terminated */
	int log_level;          /* enum vigil_log_level */
	char *log_file;         /* NULL = stderr */
	int orphans;            /* enum conf_orphans */
	int64_t shutdown_timeout_ms;
	struct conf_security security;

	struct conf_program *programs;  /* in file order (includes after their includer) */
	size_t nprograms;
	struct conf_group *groups;
	size_t ngroups;
	struct conf_pool *pools;        /* always holds "default" (its defaults if not configured) */
	size_t npools;
	struct conf_plugin *plugins;    /* sections, then the defaults that were missing */
	size_t nplugins;
	struct conf_section *sections;  /* every raw section, owned here */
	size_t nsections;
};

/* Reads and validates path (and its includes). The core keys of SPEC §2 are checked here;
 * plugin sections are checked against their descriptors by conf_plugin_config(). Returns 0,
 * or -1 with err filled (exit code 100), or -2 on a system error such as ENOMEM (exit 111). */
int conf_load(const char *path, struct vigil_conf **out, struct conf_error *err);
void conf_free(struct vigil_conf *conf);

/* The section's values checked against a plugin's key table, defaults applied, PATH values
 * made absolute. sec may be NULL (a default instance: defaults only). Returns NULL with err
 * filled when a key is unknown ("did you mean"), duplicated, malformed, or required and
 * missing. `what` names the plugin for messages ("plugin policy_backoff.so"). */
struct vigil_config *conf_plugin_config(const struct conf_section *sec,
                                        const struct vigil_config_key *keys,
                                        const char *what, const char *state_dir,
                                        struct conf_error *err);
void conf_plugin_config_free(struct vigil_config *cfg);
/* Raw lookup of a validated value (defaults applied); NULL when absent. */
const char *conf_plugin_value(const struct vigil_config *cfg, const char *key);

/* Only [vigil] state_dir and [frontend.ctl] socket, for vigilctl -c. NULL + err on failure. */
char *conf_socket_path(const char *path, struct conf_error *err);

const struct conf_program *conf_find_program(const struct vigil_conf *conf, const char *name);
const struct conf_group *conf_find_group(const struct vigil_conf *conf, const char *name);
const struct conf_pool *conf_find_pool(const struct vigil_conf *conf, const char *name);

#endif

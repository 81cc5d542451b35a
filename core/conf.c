/* conf.c — conf_load: the sections of SPEC §2 checked and turned into struct vigil_conf. */
#include "conf.h"
#include "conf_int.h"
#include "sandbox.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/host.h>
#include <vigil/proc.h>

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

/* clang-format off */
#define V(f) offsetof(struct vigil_conf, f)
static const struct conf_keydef vigil_keys[] = {
	{.name = "state_dir", .type = CK_EARLY, .def = "./state",
	 .doc = "registry, sockets, logs and lock file"},
	{.name = "plugin_path", .type = CK_PATHLIST, .def = "", .off = V(plugin_path),
	 .doc = "':'-separated plugin directories, searched before the built-in one"},
	{.name = "log_level", .type = CK_ENUM, .def = "info", .off = V(log_level),
	 .choices = "debug|info|warn|error", .doc = "least severe message logged"},
	{.name = "log_file", .type = CK_LOGFILE, .def = "-", .off = V(log_file),
	 .doc = "daemon log file; '-' is stderr"},
	{.name = "include", .type = CK_EARLY, .doc = "glob of more files to read"},
	{.name = "orphans", .type = CK_ENUM, .def = "adopt", .off = V(orphans),
	 .choices = "adopt|kill|ignore", .doc = "what to do with registry entries found alive"},
	{.name = "shutdown_timeout", .type = CK_DURATION, .def = "30s", .off = V(shutdown_timeout_ms),
	 .doc = "how long shutdown waits for everything to stop"},
};

#define S(f) offsetof(struct conf_security, f)
static const struct conf_keydef security_keys[] = {
	{.name = "no_new_privs", .type = CK_BOOL, .def = "false", .off = S(no_new_privs),
	 .doc = "set PR_SET_NO_NEW_PRIVS in every child"},
	{.name = "allowed_commands", .type = CK_LIST, .def = "", .off = S(allowed_commands),
	 .doc = "glob allowlist of the absolute paths every started command must match"},
	{.name = "allowed_dirs", .type = CK_PATHLIST_COMMA, .def = "", .off = S(allowed_dirs),
	 .doc = "working directories must resolve (realpath) under one of these"},
};

#define G(f) offsetof(struct conf_group, f)
static const struct conf_keydef group_keys[] = {
	{.name = "programs", .type = CK_NAMES, .required = 1, .off = G(programs),
	 .doc = "the programs of the group, e.g. programs = web, worker"},
};

#define P(f) offsetof(struct conf_program, f)
static const struct conf_keydef program_keys[] = {
	{.name = "command", .type = CK_ARGV, .required = 1, .off = P(command), .off2 = P(argv),
	 .doc = "the program to run and its arguments, e.g. command = /usr/bin/python3 -m "
	        "http.server"},
	{.name = "numprocs", .type = CK_INT, .def = "1", .off = P(numprocs), .min = 1,
	 .max = 10000, .doc = "number of instances"},
	{.name = "directory", .type = CK_PATH, .off = P(directory), .doc = "working directory"},
	{.name = "user", .type = CK_STR, .off = P(user), .doc = "user to run as"},
	{.name = "group", .type = CK_STR, .off = P(group), .doc = "group to run as"},
	{.name = "environment", .type = CK_ENV, .def = "", .off = P(environment),
	 .doc = "KEY=value items"},
	{.name = "clear_env", .type = CK_BOOL, .def = "false", .off = P(clear_env),
	 .doc = "start from an empty environment"},
	{.name = "umask", .type = CK_UMASK, .off = P(umask), .doc = "octal umask"},
	{.name = "autostart", .type = CK_BOOL, .def = "true", .off = P(autostart),
	 .doc = "start with the daemon"},
	{.name = "priority", .type = CK_ENUM, .def = "normal", .off = P(priority),
	 .choices = "low|normal|high|critical", .doc = "start order, nice, oom_score_adj"},
	{.name = "depends_on", .type = CK_NAMES, .def = "", .off = P(depends_on),
	 .doc = "programs started before this one"},
	{.name = "restart", .type = CK_ENUM, .def = "on-failure", .off = P(restart),
	 .choices = "always|on-failure|never", .doc = "when to restart"},
	{.name = "success_codes", .type = CK_CODES, .def = "0", .off = P(success_codes),
	 .off2 = P(nsuccess_codes), .doc = "exit codes that count as success"},
	{.name = "restart_policy", .type = CK_NAME, .def = "backoff", .off = P(restart_policy),
	 .doc = "the [policy.*] instance that paces restarts"},
	{.name = "ready", .type = CK_READY, .def = "none", .off = P(ready),
	 .off2 = P(ready_delay_ms), .off3 = P(ready_check),
	 .doc = "when a started process counts as ready"},
	{.name = "watchdog", .type = CK_DURATION, .def = "0", .off = P(watchdog_ms),
	 .doc = "notify protocol: WATCHDOG=1 expected at least this often once ready; 0 = off"},
	{.name = "start_timeout", .type = CK_DURATION, .def = "30s", .off = P(start_timeout_ms),
	 .doc = "not ready by then = failed start"},
	{.name = "stop_signal", .type = CK_SIGNAL, .def = "TERM", .off = P(stop_signal),
	 .doc = "signal that asks the program to stop"},
	{.name = "stop_timeout", .type = CK_DURATION, .def = "10s", .off = P(stop_timeout_ms),
	 .doc = "then SIGKILL"},
	{.name = "kill_tree", .type = CK_BOOL, .def = "true", .off = P(kill_tree),
	 .doc = "stop kills the whole process tree"},
	{.name = "stdout", .type = CK_ENUM, .def = "log", .off = P(stdout_mode),
	 .choices = "log|null|inherit", .doc = "where standard output goes"},
	{.name = "stderr", .type = CK_ENUM, .def = "log", .off = P(stderr_mode),
	 .choices = "log|null|inherit|stdout", .doc = "where standard error goes"},
	{.name = "log_max_size", .type = CK_SIZE, .def = "10M", .off = P(log_max_size),
	 .doc = "rotate captured output at this size; 0 = never"},
	{.name = "log_backups", .type = CK_INT, .def = "5", .off = P(log_backups), .min = 0,
	 .max = 1000, .doc = "rotated files kept"},
	{.name = "limit_runtime", .type = CK_DURATION, .def = "0", .off = P(limit_runtime_ms),
	 .doc = "stop after running this long; 0 = no limit"},
	{.name = "limit_nofile", .type = CK_I64, .def = "0", .off = P(limit_nofile), .min = 0,
	 .max = INT32_MAX, .doc = "RLIMIT_NOFILE; 0 = inherit"},
	{.name = "limit_nproc", .type = CK_I64, .def = "0", .off = P(limit_nproc), .min = 0,
	 .max = INT32_MAX, .doc = "RLIMIT_NPROC; 0 = no limit"},
	{.name = "limit_core", .type = CK_CORE, .def = "0", .off = P(limit_core),
	 .doc = "RLIMIT_CORE in bytes; 0 = no core files"},
	{.name = "on_limit", .type = CK_ENUM, .def = "restart", .off = P(on_limit),
	 .choices = "restart|stop|alert", .doc = "what a limit violation does"},
	{.name = "tags", .type = CK_LIST, .def = "", .off = P(tags), .doc = "free-form labels"},
	{.name = "limit_memory", .type = CK_SIZE, .def = "0", .off = P(limit_memory),
	 .doc = "memory limit (cgroup memory.max when available, else sampled RSS); 0 = none"},
	{.name = "limit_cpu", .type = CK_PERCENT, .def = "0%", .off = P(limit_cpu),
	 .doc = "CPU limit in % of one core (cgroup cpu.max when available, else sampled); 0 = none"},
	{.name = "health_check", .type = CK_CHECK, .def = "none", .off = P(health_check),
	 .doc = "liveness check run every health_interval while running"},
	{.name = "health_interval", .type = CK_DURATION, .def = "10s", .off = P(health_interval_ms),
	 .min = 1, .doc = "time between two health checks"},
	{.name = "health_timeout", .type = CK_DURATION, .def = "2s", .off = P(health_timeout_ms),
	 .min = 1, .doc = "how long one health check or readiness attempt may take"},
	{.name = "health_failures", .type = CK_INT, .def = "3", .off = P(health_failures), .min = 1,
	 .max = 1000, .doc = "consecutive failed checks before on_unhealthy"},
	{.name = "on_unhealthy", .type = CK_ENUM, .def = "restart", .off = P(on_unhealthy),
	 .choices = "restart|stop|alert", .doc = "what a failed health check or watchdog does"},
};

#define T(f) (offsetof(struct conf_pool, task) + offsetof(struct conf_program, f))
#define Q(f) offsetof(struct conf_pool, f)
static const struct conf_keydef pool_keys[] = {
	{.name = "max_concurrent", .type = CK_INT, .def = "4", .off = Q(max_concurrent), .min = 1,
	 .max = 100000, .doc = "tasks of the pool running at once"},
	{.name = "queue_max", .type = CK_INT, .def = "1000", .off = Q(queue_max), .min = 0,
	 .max = 10000000, .doc = "tasks waiting at most; a full queue refuses new ones"},
	{.name = "default_timeout", .type = CK_DURATION, .def = "30m", .off = Q(default_timeout_ms),
	 .doc = "a task running longer is stopped and ends timeout; 0 = none"},
	{.name = "retries", .type = CK_INT, .def = "0", .off = Q(retries), .min = 0, .max = 1000,
	 .doc = "re-runs of a failed task, paced by restart_policy"},
	{.name = "restart_policy", .type = CK_NAME, .def = "backoff", .off = Q(restart_policy),
	 .doc = "the [policy.*] instance that paces retries"},
	{.name = "directory", .type = CK_PATH, .off = T(directory), .doc = "working directory"},
	{.name = "user", .type = CK_STR, .off = T(user), .doc = "user to run tasks as"},
	{.name = "group", .type = CK_STR, .off = T(group), .doc = "group to run tasks as"},
	{.name = "environment", .type = CK_ENV, .def = "", .off = T(environment),
	 .doc = "KEY=value items"},
	{.name = "clear_env", .type = CK_BOOL, .def = "false", .off = T(clear_env),
	 .doc = "start from an empty environment"},
	{.name = "umask", .type = CK_UMASK, .off = T(umask), .doc = "octal umask"},
	{.name = "stop_signal", .type = CK_SIGNAL, .def = "TERM", .off = T(stop_signal),
	 .doc = "signal that asks a task to stop (timeout, cancel)"},
	{.name = "stop_timeout", .type = CK_DURATION, .def = "10s", .off = T(stop_timeout_ms),
	 .doc = "then SIGKILL"},
	{.name = "kill_tree", .type = CK_BOOL, .def = "true", .off = T(kill_tree),
	 .doc = "stopping a task kills its whole tree"},
	{.name = "stdout", .type = CK_ENUM, .def = "log", .off = T(stdout_mode),
	 .choices = "log|null|inherit", .doc = "where a task's standard output goes"},
	{.name = "stderr", .type = CK_ENUM, .def = "log", .off = T(stderr_mode),
	 .choices = "log|null|inherit|stdout", .doc = "where a task's standard error goes"},
	{.name = "limit_memory", .type = CK_SIZE, .def = "0", .off = T(limit_memory),
	 .doc = "memory limit of each task; 0 = none"},
	{.name = "limit_cpu", .type = CK_PERCENT, .def = "0%", .off = T(limit_cpu),
	 .doc = "CPU limit of each task in % of one core; 0 = none"},
	{.name = "limit_nofile", .type = CK_I64, .def = "0", .off = T(limit_nofile), .min = 0,
	 .max = INT32_MAX, .doc = "RLIMIT_NOFILE; 0 = inherit"},
	{.name = "limit_nproc", .type = CK_I64, .def = "0", .off = T(limit_nproc), .min = 0,
	 .max = INT32_MAX, .doc = "RLIMIT_NPROC; 0 = no limit"},
	{.name = "limit_core", .type = CK_CORE, .def = "0", .off = T(limit_core),
	 .doc = "RLIMIT_CORE in bytes; 0 = no core files"},
};

/* clang-format on */

const char *conf_key_home(const char *key)
{
	static const struct {
		const struct conf_keydef *keys;
		size_t n;
		const char *home;
	} tables[] = {{program_keys, NKEYS(program_keys), "[program.NAME]"},
	              {vigil_keys, NKEYS(vigil_keys), "[vigil]"},
	              {security_keys, NKEYS(security_keys), "[security]"},
	              {group_keys, NKEYS(group_keys), "[group.NAME]"}};
	for (size_t t = 0; t < NKEYS(tables); t++)
		for (size_t i = 0; i < tables[t].n; i++)
			if (strcmp(tables[t].keys[i].name, key) == 0)
				return tables[t].home;
	return NULL;
}

/* What a section name says: its kind, and NAME (and LABEL) split out. */
enum sec_kind { SK_VIGIL, SK_SECURITY, SK_PROGRAM, SK_GROUP, SK_POOL, SK_PLUGIN };

struct sec_name {
	enum sec_kind kind;
	enum vigil_plugin_kind pkind;
	char *name, *label;
};

static int bad_name(const struct conf_section *sec, const char *what, const char *name,
                    struct conf_error *err)
{
	conf_errf(err, sec->file, sec->line, sec->name, NULL,
	          "'%s' is not a valid %s: names start with a letter or digit and hold only "
	          "letters, digits, '_' and '-'",
	          name, what);
	return -1;
}

static int classify(const struct conf_section *sec, struct sec_name *out, struct conf_error *err)
{
	static const char *const kinds[] = {"vigil",   "security", "program", "group",   "pool",
	                                    "monitor", "policy",   "store",   "frontend"};
	memset(out, 0, sizeof(*out));
	if (strchr(sec->name, ':')) {
		char fixed[256];
		snprintf(fixed, sizeof(fixed), "%s", sec->name);
		for (char *c = fixed; *c; c++)
			if (*c == ':')
				*c = '.';
		conf_errf(err, sec->file, sec->line, sec->name, NULL,
		          "section names use dots, not colons: write [%s]", fixed);
		return -1;
	}
	char *copy = util_xstrdup(sec->name);
	char *parts[4] = {0};
	size_t n = 0;
	char *p = copy;
	for (;;) {
		char *dot = strchr(p, '.');
		if (n < 4)
			parts[n] = p;
		n++;
		if (!dot)
			break;
		*dot = '\0';
		p = dot + 1;
	}
	int k = -1;
	for (size_t i = 0; i < NKEYS(kinds); i++)
		if (strcmp(parts[0], kinds[i]) == 0)
			k = (int)i;
	int rc = -1;
	if (k < 0) {
		const char *c = util_closest(parts[0], kinds, NKEYS(kinds));
		const char *rest = strchr(sec->name, '.');
		if (c)
			conf_errf(err, sec->file, sec->line, sec->name, NULL,
			          "unknown section (did you mean [%s%s]?)", c, rest ? rest : "");
		else
			conf_errf(
			    err, sec->file, sec->line, sec->name, NULL,
			    "unknown section; sections are [vigil], [security], [program.NAME], "
			    "[group.NAME] and plugin instances "
			    "[monitor|policy|store|frontend.NAME]");
	} else if (k <= 1) {
		out->kind = k == 0 ? SK_VIGIL : SK_SECURITY;
		if (n == 1)
			rc = 0;
		else
			conf_errf(err, sec->file, sec->line, sec->name, NULL,
			          "[%s] takes no name: write [%s]", kinds[k], kinds[k]);
	} else if (n == 1) {
		if (k >= 5)
			conf_errf(err, sec->file, sec->line, sec->name, NULL,
			          "missing name: write [%s.NAME] or [%s.NAME.LABEL]", kinds[k],
			          kinds[k]);
		else
			conf_errf(err, sec->file, sec->line, sec->name, NULL,
			          "missing name: write [%s.NAME]", kinds[k]);
	} else if (k <= 4 && n > 2) {
		conf_errf(err, sec->file, sec->line, sec->name, NULL,
		          "too many dots: write [%s.NAME]; names hold letters, digits, '_' and '-'",
		          kinds[k]);
	} else if (n > 3) {
		conf_errf(err, sec->file, sec->line, sec->name, NULL,
		          "too many dots: write [%s.NAME] or [%s.NAME.LABEL]", kinds[k], kinds[k]);
	} else if (!conf_valid_name(parts[1])) {
		bad_name(sec, "name", parts[1], err);
	} else if (n == 3 && !conf_valid_name(parts[2])) {
		bad_name(sec, "instance label", parts[2], err);
	} else {
		out->kind = k == 2 ? SK_PROGRAM : k == 3 ? SK_GROUP : k == 4 ? SK_POOL : SK_PLUGIN;
		out->pkind = (enum vigil_plugin_kind)(k >= 5 ? k - 4 : 0);
		out->name = util_xstrdup(parts[1]);
		out->label = util_xstrdup(n == 3 ? parts[2] : parts[1]);
		rc = 0;
	}
	free(copy);
	return rc;
}

/* The program keys a task takes from nowhere but its defaults. */
static void pool_task_defaults(struct conf_pool *p)
{
	struct conf_program *t = &p->task;
	t->name = util_xstrdup(p->name);
	t->file = util_xstrdup(p->file);
	t->line = p->line;
	t->numprocs = 1;
	t->restart = RESTART_NEVER;
	t->restart_policy = util_xstrdup(p->restart_policy ? p->restart_policy : "backoff");
	t->priority = 1;
	t->log_max_size = 0;
	t->start_timeout_ms = 0;
	t->success_codes = util_xcalloc(1, sizeof(int));
	t->nsuccess_codes = 1;
}

/* A pool named "default" always exists, so `vigilctl run` works with no [pool.*]. */
static int add_default_pool(struct vigil_conf *c, struct conf_error *err)
{
	if (conf_find_pool(c, "default"))
		return 0;
	struct conf_section empty = {.name = "pool.default", .file = c->file, .dir = c->dir};
	c->pools = conf_grow(c->pools, c->npools, sizeof(*c->pools));
	struct conf_pool *p = &c->pools[c->npools++];
	p->name = util_xstrdup("default");
	p->file = util_xstrdup(c->file);
	int rc = conf_apply(&empty, pool_keys, NKEYS(pool_keys), p, err);
	/* It retries nothing (retries = 0), so it must not be what brings in policy.backoff:
	 * take the first policy the file names, if any. */
	for (size_t i = 0; i < c->nsections; i++)
		if (strncmp(c->sections[i].name, "policy.", 7) == 0) {
			const char *label = strrchr(c->sections[i].name, '.') + 1;
			free(p->restart_policy);
			p->restart_policy = util_xstrdup(label);
			break;
		}
	pool_task_defaults(p);
	return rc;
}

const struct conf_pool *conf_find_pool(const struct vigil_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->npools; i++)
		if (strcmp(conf->pools[i].name, name) == 0)
			return &conf->pools[i];
	return NULL;
}

int conf_load(const char *path, struct vigil_conf **out, struct conf_error *err)
{
	*out = NULL;
	struct conf_raw raw;
	int rc = conf_read(path, &raw, err);
	if (rc < 0) {
		conf_raw_free(&raw);
		return rc;
	}
	struct vigil_conf *c = util_xcalloc(1, sizeof(*c));
	c->file = raw.file;
	c->dir = raw.dir;
	c->state_dir = raw.state_dir;
	c->sections = raw.sections;
	c->nsections = raw.nsections;
	struct conf_section novigil = {.name = "vigil", .file = c->file, .dir = c->dir};
	const struct conf_section *vigil = raw.vigil ? raw.vigil : &novigil;
	const struct conf_section **gsec = NULL;

	rc = conf_apply(vigil, vigil_keys, NKEYS(vigil_keys), c, err);
	for (size_t i = 0; i < c->nsections && rc == 0; i++) {
		struct conf_section *sec = &c->sections[i];
		struct sec_name sn;
		rc = classify(sec, &sn, err);
		if (rc == 0 && sn.kind != SK_VIGIL) /* [vigil] was expanded by conf_read */
			rc = conf_expand_section(&raw, sec, err);
		if (rc < 0) {
			free(sn.name);
			free(sn.label);
			break;
		}
		switch (sn.kind) {
		case SK_VIGIL:
			break;
		case SK_POOL: {
			c->pools = conf_grow(c->pools, c->npools, sizeof(*c->pools));
			struct conf_pool *p = &c->pools[c->npools++];
			p->name = util_xstrdup(sn.name);
			p->file = util_xstrdup(sec->file);
			p->line = sec->line;
			rc = conf_apply(sec, pool_keys, NKEYS(pool_keys), p, err);
			pool_task_defaults(p);
			break;
		}
		case SK_SECURITY:
			rc =
			    conf_apply(sec, security_keys, NKEYS(security_keys), &c->security, err);
			break;
		case SK_PROGRAM: {
			c->programs = conf_grow(c->programs, c->nprograms, sizeof(*c->programs));
			struct conf_program *p = &c->programs[c->nprograms++];
			p->name = util_xstrdup(sn.name);
			p->file = util_xstrdup(sec->file);
			p->line = sec->line;
			rc = conf_apply(sec, program_keys, NKEYS(program_keys), p, err);
			break;
		}
		case SK_GROUP: {
			c->groups = conf_grow(c->groups, c->ngroups, sizeof(*c->groups));
			gsec = conf_grow(gsec, c->ngroups, sizeof(*gsec));
			gsec[c->ngroups] = sec;
			struct conf_group *g = &c->groups[c->ngroups++];
			g->name = util_xstrdup(sn.name);
			rc = conf_apply(sec, group_keys, NKEYS(group_keys), g, err);
			break;
		}
		case SK_PLUGIN: {
			c->plugins = conf_grow(c->plugins, c->nplugins, sizeof(*c->plugins));
			struct conf_plugin *p = &c->plugins[c->nplugins++];
			p->kind = sn.pkind;
			p->plugin = sn.name;
			p->instance = sn.label;
			p->sec = sec;
			sn.name = sn.label = NULL;
			break;
		}
		}
		free(sn.name);
		free(sn.label);
	}
	if (rc == 0)
		rc = add_default_pool(c, err);
	if (rc == 0)
		rc = conf_check_groups(c, gsec, err);
	if (rc == 0)
		rc = conf_check_depends(c, err);
	if (rc == 0)
		rc = conf_check_plugins(c, err);
	free(gsec);
	if (rc < 0) {
		conf_free(c);
		return -1;
	}
	rc = sandbox_check_config(&c->security, c->file, err);
	for (size_t i = 0; i < c->nprograms && rc == 0; i++)
		rc = sandbox_check_program(&c->security, &c->programs[i], err);
	for (size_t i = 0; i < c->npools && rc == 0; i++)
		if (!sandbox_dir_ok(&c->security, c->pools[i].task.directory, err->msg,
		                    sizeof err->msg))
			rc = -1;
	if (rc < 0) {
		conf_free(c);
		return -1;
	}
	for (size_t i = 0; i < c->nprograms; i++)
		c->programs[i].hash = conf_program_hash(&c->programs[i]);
	*out = c;
	return 0;
}

static void free_program(struct conf_program *p)
{
	free(p->name);
	free(p->file);
	free(p->command);
	util_strv_free(p->argv);
	free(p->directory);
	free(p->user);
	free(p->group);
	util_strv_free(p->environment);
	util_strv_free(p->depends_on);
	free(p->success_codes);
	free(p->restart_policy);
	util_strv_free(p->tags);
	struct conf_check *checks[] = {&p->ready_check, &p->health_check};
	for (size_t k = 0; k < NKEYS(checks); k++) {
		free(checks[k]->target);
		free(checks[k]->host);
		util_strv_free(checks[k]->argv);
	}
}

void conf_free(struct vigil_conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npools; i++) {
		free(c->pools[i].name);
		free(c->pools[i].file);
		free(c->pools[i].restart_policy);
		free_program(&c->pools[i].task);
	}
	free(c->pools);
	util_strv_free(c->security.allowed_commands);
	util_strv_free(c->security.allowed_dirs);
	for (size_t i = 0; i < c->nprograms; i++)
		free_program(&c->programs[i]);
	free(c->programs);
	for (size_t i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		util_strv_free(c->groups[i].programs);
	}
	free(c->groups);
	for (size_t i = 0; i < c->nplugins; i++) {
		free(c->plugins[i].plugin);
		free(c->plugins[i].instance);
	}
	free(c->plugins);
	for (size_t i = 0; i < c->nsections; i++)
		conf_section_free(&c->sections[i]);
	free(c->sections);
	free(c->file);
	free(c->dir);
	free(c->state_dir);
	util_strv_free(c->plugin_path);
	free(c->log_file);
	free(c);
}

const struct conf_program *conf_find_program(const struct vigil_conf *conf, const char *name)
{
	for (size_t i = 0; conf && i < conf->nprograms; i++)
		if (strcmp(conf->programs[i].name, name) == 0)
			return &conf->programs[i];
	return NULL;
}

const struct conf_group *conf_find_group(const struct vigil_conf *conf, const char *name)
{
	for (size_t i = 0; conf && i < conf->ngroups; i++)
		if (strcmp(conf->groups[i].name, name) == 0)
			return &conf->groups[i];
	return NULL;
}

/* test_config.c — conf_load and friends: what a config file turns into, and what it is refused for.
 */
#include "conf.h"
#include "util.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil/host.h>
#include <vigil/proc.h>

static char tmpdir[256];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-test-config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	unsetenv("VIGIL_TEST_UNSET_VAR");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes tmpdir/name (creating its directory) and returns its path in a static buffer. */
static const char *put(const char *name, const char *fmt, ...)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	char *slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0755);
	*slash = '/';
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	return path;
}

static struct vigil_conf *load_ok(const char *path)
{
	struct vigil_conf *c = NULL;
	struct conf_error err = {{0}};
	int r = conf_load(path, &c, &err);
	ck_assert_msg(r == 0, "conf_load failed: %s", err.msg);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* conf_load must refuse text (written as tmpdir/main.ini) with a message containing want. */
static void refuses(const char *text, const char *want)
{
	const char *path = put("main.ini", "%s", text);
	struct vigil_conf *c = (struct vigil_conf *)0x1;
	struct conf_error err = {{0}};
	int r = conf_load(path, &c, &err);
	ck_assert_msg(r == -1, "accepted:\n%s", text);
	ck_assert_ptr_null(c);
	ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
	ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "message '%s' does not name %s",
	              err.msg, path);
}

static const struct conf_plugin *plugin(const struct vigil_conf *c, enum vigil_plugin_kind k,
                                        const char *instance)
{
	for (size_t i = 0; i < c->nplugins; i++)
		if (c->plugins[i].kind == k && strcmp(c->plugins[i].instance, instance) == 0)
			return &c->plugins[i];
	return NULL;
}

START_TEST(defaults)
{
	const char *path = put("main.ini", "[program.x]\ncommand = /bin/true\n");
	struct vigil_conf *c = load_ok(path);
	char want[600];
	snprintf(want, sizeof(want), "%s/state", tmpdir);
	ck_assert_str_eq(c->state_dir, want);
	snprintf(want, sizeof(want), "%s/main.ini", tmpdir);
	ck_assert_str_eq(c->file, want);
	ck_assert_str_eq(c->dir, tmpdir);
	ck_assert_ptr_nonnull(c->plugin_path);
	ck_assert_ptr_null(c->plugin_path[0]);
	ck_assert_int_eq(c->log_level, VIGIL_LOG_INFO);
	ck_assert_ptr_null(c->log_file);
	ck_assert_int_eq(c->orphans, ORPHANS_ADOPT);
	ck_assert_int_eq(c->shutdown_timeout_ms, 30000);
	ck_assert_int_eq(c->security.no_new_privs, 0);
	ck_assert_int_eq(c->ngroups, 0);
	/* the state dir is the daemon's to create, not conf_load's */
	ck_assert_int_ne(access(c->state_dir, F_OK), 0);

	ck_assert_int_eq(c->nprograms, 1);
	const struct conf_program *p = &c->programs[0];
	ck_assert_str_eq(p->name, "x");
	ck_assert_str_eq(p->file, want);
	ck_assert_int_eq(p->line, 1);
	ck_assert_str_eq(p->command, "/bin/true");
	ck_assert_str_eq(p->argv[0], "/bin/true");
	ck_assert_ptr_null(p->argv[1]);
	ck_assert_int_eq(p->numprocs, 1);
	ck_assert_ptr_null(p->directory);
	ck_assert_ptr_null(p->user);
	ck_assert_ptr_null(p->group);
	ck_assert_ptr_null(p->environment[0]);
	ck_assert_int_eq(p->clear_env, 0);
	ck_assert(p->umask == (mode_t)-1);
	ck_assert_int_eq(p->autostart, 1);
	ck_assert_int_eq(p->priority, VIGIL_PRIO_NORMAL);
	ck_assert_ptr_null(p->depends_on[0]);
	ck_assert_int_eq(p->restart, RESTART_ON_FAILURE);
	ck_assert_int_eq(p->nsuccess_codes, 1);
	ck_assert_int_eq(p->success_codes[0], 0);
	ck_assert_str_eq(p->restart_policy, "backoff");
	ck_assert_int_eq(p->ready, READY_NONE);
	ck_assert_int_eq(p->start_timeout_ms, 30000);
	ck_assert_int_eq(p->stop_signal, SIGTERM);
	ck_assert_int_eq(p->stop_timeout_ms, 10000);
	ck_assert_int_eq(p->kill_tree, 1);
	ck_assert_int_eq(p->stdout_mode, OUT_LOG);
	ck_assert_int_eq(p->stderr_mode, OUT_LOG);
	ck_assert_int_eq(p->log_max_size, 10 * 1024 * 1024);
	ck_assert_int_eq(p->log_backups, 5);
	ck_assert_int_eq(p->limit_runtime_ms, 0);
	ck_assert_int_eq(p->limit_nofile, 0);
	ck_assert_int_eq(p->limit_nproc, 0);
	ck_assert_int_eq(p->limit_core, 0);
	ck_assert_int_eq(p->on_limit, ON_LIMIT_RESTART);
	ck_assert_ptr_null(p->tags[0]);

	/* the default plugin instances, with no section */
	ck_assert_int_eq(c->nplugins, 3);
	const struct conf_plugin *s = plugin(c, VIGIL_KIND_STORE, "sqlite");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->plugin, "sqlite");
	ck_assert_ptr_null(s->sec);
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_POLICY, "backoff"));
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_FRONTEND, "ctl"));
	ck_assert_ptr_eq(conf_find_program(c, "x"), p);
	ck_assert_ptr_null(conf_find_program(c, "y"));
	conf_free(c);
}
END_TEST

START_TEST(full_config)
{
	put("conf.d/20-b.ini", "[program.b]\ncommand = b\ndirectory = data\n");
	put("conf.d/10-a.ini", "[program.a]\ncommand = a\n[group.g]\nprograms = a, b, web\n");
	put("conf.d/skipped.txt", "[program.never]\ncommand = x\n");
	setenv("VIGIL_TEST_HOME", "/home/t", 1);
	const char *path =
	    put("etc/main.ini",
	        "[vigil]\n"
	        "state_dir = ../var/${VIGIL_TEST_USER_DIR}st\n"
	        "plugin_path = plugins:/opt/p: ../more/\n"
	        "log_level = DEBUG\n"
	        "log_file = logs/vigild.log\n"
	        "include = ../conf.d/*.ini\n"
	        "orphans = kill\n"
	        "shutdown_timeout = 1m30s\n"
	        "\n"
	        "[Program.Web]   ; names are case-insensitive\n"
	        "command = /usr/bin/python3 -m http.server \"80 80\" '$HOME' $$x\n"
	        "numprocs = 3\n"
	        "directory = ./www/../srv\n"
	        "user = www-data\n"
	        "group = web\n"
	        "environment = A=1, B=\"x, y\", HOME=${VIGIL_TEST_HOME}, S=${state_dir}\n"
	        "clear_env = yes\n"
	        "umask = 027\n"
	        "autostart = off\n"
	        "priority = critical\n"
	        "depends_on = A, b\n"
	        "restart = always\n"
	        "success_codes = 0, 2, 255\n"
	        "restart_policy = fast\n"
	        "ready = delay:1500ms\n"
	        "start_timeout = 5s\n"
	        "stop_signal = SIGINT\n"
	        "stop_timeout = 2s\n"
	        "kill_tree = false\n"
	        "stdout = null\n"
	        "stderr = stdout\n"
	        "log_max_size = 64K\n"
	        "log_backups = 0\n"
	        "limit_runtime = 1h\n"
	        "limit_nofile = 4096\n"
	        "limit_nproc = 100\n"
	        "limit_core = inherit\n"
	        "on_limit = alert\n"
	        "tags = front, \"a, b\"\n"
	        "\n"
	        "[security]\nno_new_privs = true\n"
	        "[policy.backoff.fast]\ninitial = 100ms\n"
	        "[monitor.procfs]\n");
	setenv("VIGIL_TEST_USER_DIR", "u/", 1);
	struct vigil_conf *c = load_ok(path);
	char want[600];
	snprintf(want, sizeof(want), "%s/var/u/st", tmpdir);
	ck_assert_str_eq(c->state_dir, want);
	snprintf(want, sizeof(want), "%s/etc/plugins", tmpdir);
	ck_assert_str_eq(c->plugin_path[0], want);
	ck_assert_str_eq(c->plugin_path[1], "/opt/p");
	snprintf(want, sizeof(want), "%s/more", tmpdir);
	ck_assert_str_eq(c->plugin_path[2], want);
	ck_assert_ptr_null(c->plugin_path[3]);
	ck_assert_int_eq(c->log_level, VIGIL_LOG_DEBUG);
	snprintf(want, sizeof(want), "%s/etc/logs/vigild.log", tmpdir);
	ck_assert_str_eq(c->log_file, want);
	ck_assert_int_eq(c->orphans, ORPHANS_KILL);
	ck_assert_int_eq(c->shutdown_timeout_ms, 90000);
	ck_assert_int_eq(c->security.no_new_privs, 1);

	/* main file first, then the includes in sorted order; *.txt is not matched */
	ck_assert_int_eq(c->nprograms, 3);
	ck_assert_str_eq(c->programs[0].name, "web");
	ck_assert_str_eq(c->programs[1].name, "a");
	ck_assert_str_eq(c->programs[2].name, "b");
	snprintf(want, sizeof(want), "%s/conf.d/10-a.ini", tmpdir);
	ck_assert_str_eq(c->programs[1].file, want);
	/* relative to the file that holds it */
	snprintf(want, sizeof(want), "%s/conf.d/data", tmpdir);
	ck_assert_str_eq(c->programs[2].directory, want);

	const struct conf_program *p = conf_find_program(c, "web");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->line, 10);
	ck_assert_str_eq(p->argv[0], "/usr/bin/python3");
	ck_assert_str_eq(p->argv[3], "80 80");
	ck_assert_str_eq(p->argv[4], "$HOME");
	ck_assert_str_eq(p->argv[5], "$x");
	ck_assert_ptr_null(p->argv[6]);
	ck_assert_int_eq(p->numprocs, 3);
	snprintf(want, sizeof(want), "%s/etc/srv", tmpdir);
	ck_assert_str_eq(p->directory, want);
	ck_assert_str_eq(p->user, "www-data");
	ck_assert_str_eq(p->group, "web");
	ck_assert_str_eq(p->environment[0], "A=1");
	ck_assert_str_eq(p->environment[1], "B=x, y");
	ck_assert_str_eq(p->environment[2], "HOME=/home/t");
	snprintf(want, sizeof(want), "S=%s/var/u/st", tmpdir);
	ck_assert_str_eq(p->environment[3], want);
	ck_assert_ptr_null(p->environment[4]);
	ck_assert_int_eq(p->clear_env, 1);
	ck_assert_int_eq(p->umask, 027);
	ck_assert_int_eq(p->autostart, 0);
	ck_assert_int_eq(p->priority, VIGIL_PRIO_CRITICAL);
	ck_assert_str_eq(p->depends_on[0], "a");
	ck_assert_str_eq(p->depends_on[1], "b");
	ck_assert_int_eq(p->restart, RESTART_ALWAYS);
	ck_assert_int_eq(p->nsuccess_codes, 3);
	ck_assert_int_eq(p->success_codes[2], 255);
	ck_assert_str_eq(p->restart_policy, "fast");
	ck_assert_int_eq(p->ready, READY_DELAY);
	ck_assert_int_eq(p->ready_delay_ms, 1500);
	ck_assert_int_eq(p->start_timeout_ms, 5000);
	ck_assert_int_eq(p->stop_signal, SIGINT);
	ck_assert_int_eq(p->stop_timeout_ms, 2000);
	ck_assert_int_eq(p->kill_tree, 0);
	ck_assert_int_eq(p->stdout_mode, OUT_NULL);
	ck_assert_int_eq(p->stderr_mode, OUT_STDOUT);
	ck_assert_int_eq(p->log_max_size, 65536);
	ck_assert_int_eq(p->log_backups, 0);
	ck_assert_int_eq(p->limit_runtime_ms, 3600000);
	ck_assert_int_eq(p->limit_nofile, 4096);
	ck_assert_int_eq(p->limit_nproc, 100);
	ck_assert_int_eq(p->limit_core, -1);
	ck_assert_int_eq(p->on_limit, ON_LIMIT_ALERT);
	ck_assert_str_eq(p->tags[0], "front");
	ck_assert_str_eq(p->tags[1], "a, b");

	const struct conf_group *g = conf_find_group(c, "g");
	ck_assert_ptr_nonnull(g);
	ck_assert_str_eq(g->programs[2], "web");
	ck_assert_ptr_null(conf_find_group(c, "web"));

	/* configured plugins in order, then the defaults the file names none of: a labelled
	 * policy that is not "backoff" still brings the default backoff that a, b rely on */
	ck_assert_int_eq(c->nplugins, 5);
	ck_assert_str_eq(c->plugins[0].instance, "fast");
	ck_assert_str_eq(c->plugins[0].plugin, "backoff");
	ck_assert_int_eq(c->plugins[0].kind, VIGIL_KIND_POLICY);
	ck_assert_str_eq(c->plugins[0].sec->name, "policy.backoff.fast");
	ck_assert_str_eq(c->plugins[0].sec->kv[0].value, "100ms");
	ck_assert_int_eq(c->plugins[1].kind, VIGIL_KIND_MONITOR);
	ck_assert_str_eq(c->plugins[1].instance, "procfs");
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_STORE, "sqlite"));
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_POLICY, "backoff"));
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_FRONTEND, "ctl"));
	conf_free(c);
}
END_TEST

START_TEST(policy_defaults)
{
	/* a file that names a policy and uses only it gets no backoff */
	const char *path = put("main.ini", "[policy.fixed]\n[program.x]\ncommand = x\n"
	                                   "restart_policy = fixed\n[store.other]\n"
	                                   "[frontend.ctl.admin]\nsocket = /tmp/x.sock\n");
	struct vigil_conf *c = load_ok(path);
	ck_assert_int_eq(c->nplugins, 3);
	ck_assert_ptr_null(plugin(c, VIGIL_KIND_POLICY, "backoff"));
	ck_assert_ptr_null(plugin(c, VIGIL_KIND_STORE, "sqlite"));
	ck_assert_ptr_null(plugin(c, VIGIL_KIND_FRONTEND, "ctl"));
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_FRONTEND, "admin"));
	conf_free(c);
	/* the default backoff instance counts for restart_policy = backoff */
	path = put("main.ini", "[program.x]\ncommand = x\nrestart_policy = backoff\n");
	c = load_ok(path);
	ck_assert_ptr_nonnull(plugin(c, VIGIL_KIND_POLICY, "backoff"));
	conf_free(c);
	/* [policy.custom.backoff] is the backoff instance: no default added */
	path = put("main.ini", "[program.x]\ncommand = x\n[policy.custom.backoff]\n");
	c = load_ok(path);
	ck_assert_int_eq(c->nplugins, 3);
	ck_assert_str_eq(plugin(c, VIGIL_KIND_POLICY, "backoff")->plugin, "custom");
	conf_free(c);
}
END_TEST

START_TEST(empty_and_comments)
{
	const char *path = put("main.ini", "; nothing but comments\n# and blank lines\n\n   \n");
	struct vigil_conf *c = load_ok(path);
	ck_assert_int_eq(c->nprograms, 0);
	ck_assert_int_eq(c->nsections, 0);
	ck_assert_int_eq(c->nplugins, 3);
	conf_free(c);
	/* an include that matches nothing (or whose directory is missing) is fine */
	path = put("main.ini", "[vigil]\ninclude = nowhere/*.ini\n");
	c = load_ok(path);
	conf_free(c);
}
END_TEST

START_TEST(ini_quirks)
{
	/* CRLF endings, continuation lines, quoted values with comments, empty quotes */
	const char *path = put("main.ini", "[program.x]\r\n"
	                                   "command = /bin/echo one \\\n"
	                                   "   two\r\n"
	                                   "user = \"  spaced  \" ; comment\n"
	                                   "group = ''\n"
	                                   "tags = a ;comment\n"
	                                   "environment = 'C=#fff'\n"
	                                   "  directory=/srv   \n");
	struct vigil_conf *c = load_ok(path);
	const struct conf_program *p = &c->programs[0];
	ck_assert_str_eq(p->argv[1], "one");
	ck_assert_str_eq(p->argv[2], "two");
	ck_assert_str_eq(p->user, "  spaced  ");
	ck_assert_ptr_null(p->group);
	ck_assert_str_eq(p->tags[0], "a");
	ck_assert_ptr_null(p->tags[1]);
	ck_assert_str_eq(p->environment[0], "C=#fff");
	ck_assert_str_eq(p->directory, "/srv");
	const struct conf_section *s = &c->sections[0];
	ck_assert_int_eq(s->line, 1);
	ck_assert_str_eq(s->kv[0].key, "command");
	ck_assert_int_eq(s->kv[0].line, 2);
	ck_assert_int_eq(s->kv[1].line, 4); /* the continuation counts */
	conf_free(c);
}
END_TEST

START_TEST(hash)
{
	const char *a = put("main.ini", "[program.x]\ncommand = /bin/sleep 1\n[program.y]\n"
	                                "command = /bin/sleep 1\n");
	struct vigil_conf *c1 = load_ok(a);
	/* the same settings on other lines hash the same; the name is part of it */
	put("main.ini", "; moved\n\n[program.y]\ncommand = /bin/sleep 1\n\n[program.x]\n"
	                "command = \"/bin/sleep 1\"\nstop_timeout = 10s\n");
	struct vigil_conf *c2 = load_ok(a);
	ck_assert(conf_find_program(c1, "x")->hash == conf_find_program(c2, "x")->hash);
	ck_assert(conf_find_program(c1, "y")->hash == conf_find_program(c2, "y")->hash);
	ck_assert(conf_find_program(c1, "x")->hash != conf_find_program(c1, "y")->hash);
	const char *changes[] = {"numprocs = 2",     "environment = A=1", "umask = 022",
	                         "priority = high",  "stop_signal = INT", "tags = t",
	                         "limit_core = 1M",  "ready = delay:1s",  "success_codes = 0, 1",
	                         "directory = /tmp", "clear_env = true",  "stderr = null"};
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		put("main.ini",
		    "[program.x]\ncommand = /bin/sleep 1\n%s\n[program.y]\n"
		    "command = /bin/sleep 1\n",
		    changes[i]);
		struct vigil_conf *c3 = load_ok(a);
		ck_assert_msg(conf_find_program(c1, "x")->hash != conf_find_program(c3, "x")->hash,
		              "'%s' did not change the hash", changes[i]);
		conf_free(c3);
	}
	conf_free(c1);
	conf_free(c2);
}
END_TEST

START_TEST(bad_inline)
{
	refuses("[program.x]\ncommand = x\nlimit_cpu = lots\n", "expected a percentage");
	refuses("[program.x]\ncommand = x\nhealth_check = sometimes\n",
	        "expected none, tcp:PORT, http://HOST:PORT/PATH or exec:CMD");
	refuses("[program.x]\ncommand = x\nready = http://:80/\n", "expected http://HOST:PORT/PATH");
	refuses("[program.x]\ncommand = x\nready = delay:soon\n", "expected delay:DURATION");
	refuses("[program.x]\ncommand = x\nready = sometimes\n",
	        "expected none, notify, delay:DURATION");
	refuses("[security]\nallowed_commands = bin/*\n", "must be an absolute path glob");
	refuses("[security]\nallowed_commands = /usr/sbin/*\n[program.x]\ncommand = /bin/true\n",
	        "is not allowed by [security] allowed_commands");
	refuses("[security]\nallowed_dirs = /srv\n[program.x]\ncommand = /bin/true\n"
	        "directory = /srv/../etc\n",
	        "is not under [security] allowed_dirs");
	refuses("[program.x]\ncommand = x\ndepends_on = y\n[program.y]\ncommand = y\n"
	        "depends_on = x\n",
	        "dependency cycle: x -> y -> x");
	refuses("[program.x]\ncommand = x\nenvironment = A=1, A=2\n", "A is set twice");
	refuses("[program.x]\ncommand = x\nenvironment = novalue\n", "expected KEY=value items");
	refuses("[program.x]\ncommand = x\ndepends_on = y y\n", "'y y' is not a valid name");
	refuses("[program.x]\ncommand = x\nrestart_policy = Bad!\n", "is not a valid name");
	refuses("[program.x]\ncommand = x\nlog_backups = -1\n", "must be between 0 and 1000");
	refuses("[program.x]\ncommand = x\nlimit_nofile = lots\n", "expected a whole number");
	refuses("[program.x]\ncommand = x\nlimit_nofile = -5\n", "must be 0 or more");
	refuses("[program.x]\ncommand = x\nlimit_nproc = 99999999999\n",
	        "must be at most 2147483647");
	refuses("[program.x]\ncommand = x\nlimit_nproc = 99999999999999999999\n",
	        "must be at most 2147483647");
	refuses("[program.x]\ncommand = x\nsuccess_codes = zero\n", "got 'zero'");
	refuses("[program.x]\ncommand = x\nstdout = stdout\n", "expected log, null or inherit");
	refuses("[vigil]\nlog_file =\n", "expected a file path, or '-' for stderr");
	refuses("[vigil]\nstate_dir = ${state_dir}/x\n", "state_dir cannot refer to ${state_dir}");
	refuses("[vigil]\nstate_dir =\n", "expected a directory");
	refuses("[program.x]\ncommand = ${unterminated\n", "unterminated '${'");
	refuses("[program.x]\ncommand = ${}\n", "is not a variable name");
	refuses("[program.x]\ncommand = ${a-b}\n", "is not a variable name");
	refuses("[group.g]\n", "missing required key 'programs'");
	refuses("[program.x]\ncommand = x\n[group.g]\nprograms =\n",
	        "expected at least one program");
	refuses("[]\n", "empty section name");
	refuses("[a] b\n", "unexpected text 'b' after the section header");
	refuses("just words\n", "expected 'key = value', a [section] or a comment");
	refuses("[program.x]\n= value\n", "missing key name before '='");
	refuses("[program.x]\nbad key = 1\n", "'bad key' is not a key name");
	refuses("[program.x]\ncommand = \"x\n", "unterminated double quote in the value");
	refuses("[program.x]\ncommand = x \\\n", "the last line ends with '\\'");
	refuses("[monitor]\n", "missing name: write [monitor.NAME] or [monitor.NAME.LABEL]");
	refuses("[program.a.b]\n", "too many dots: write [program.NAME]");
	refuses("[policy.backoff.Fa st]\n", "'fa st' is not a valid instance label");
	refuses("[policy.backoff]\n[policy.x.backoff]\n", "duplicate instance");
	refuses("[frontend.ctl.x]\n[frontend.ctl.x]\n", "duplicate section");
	refuses("[vigil]\ninclude = *.ini\n", "include loop");

	char longline[2100];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	char text[2200];
	snprintf(text, sizeof(text), "[program.x]\ncommand = %s\n", longline);
	refuses(text, "line too long");
}
END_TEST

START_TEST(included_errors)
{
	put("conf.d/a.ini", "[program.web]\ncommand = x\n");
	put("conf.d/b.ini", "\n[program.web]\ncommand = y\n");
	const char *path = put("main.ini", "[vigil]\ninclude = conf.d/*.ini\n");
	struct vigil_conf *c = NULL;
	struct conf_error err;
	ck_assert_int_eq(conf_load(path, &c, &err), -1);
	char want[700];
	snprintf(want, sizeof(want),
	         "%s/conf.d/b.ini:2: [program.web]: duplicate section: "
	         "[program.web] is already at %s/conf.d/a.ini:1",
	         tmpdir, tmpdir);
	ck_assert_msg(strstr(err.msg, want), "got %s", err.msg);
}
END_TEST

START_TEST(unreadable)
{
	struct vigil_conf *c = NULL;
	struct conf_error err;
	char path[400];
	snprintf(path, sizeof(path), "%s/missing.ini", tmpdir);
	ck_assert_int_eq(conf_load(path, &c, &err), -1);
	ck_assert_ptr_null(c);
	char want[500];
	snprintf(want, sizeof(want), "cannot read %s: No such file or directory", path);
	ck_assert_str_eq(err.msg, want);
	ck_assert_ptr_null(conf_socket_path(path, &err));
	ck_assert_str_eq(err.msg, want);
}
END_TEST

/* Every tests/config/bad/NN-what.ini through conf_load, with the message of its header. */
START_TEST(bad_files)
{
	const char *src = getenv("VIGIL_SOURCE_DIR");
	ck_assert_msg(src != NULL, "VIGIL_SOURCE_DIR is not set");
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/tests/config/bad", src);
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_gt(n, 0);
	int checked = 0;
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t len = strlen(nm);
		if (len < 4 || strcmp(nm + len - 4, ".ini") != 0)
			continue;
		char path[1024], line[512], expect[512] = "";
		int plugins_stage = 0;
		snprintf(path, sizeof(path), "%s/%s", dir, nm);
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			if (!expect[0] && strncmp(line, "; expect: ", 10) == 0)
				snprintf(expect, sizeof(expect), "%s", line + 10);
			if (strncmp(line, "; stage: plugins", 16) == 0)
				plugins_stage = 1;
		}
		fclose(f);
		ck_assert_msg(expect[0], "%s has no '; expect: ' line", nm);
		struct vigil_conf *c = NULL;
		struct conf_error err = {{0}};
		int r = conf_load(path, &c, &err);
		if (plugins_stage) {
			/* The loader checks these against the plugin's keys; conf_load lets them
			 * by. */
			ck_assert_msg(r == 0, "%s: %s", nm, err.msg);
			conf_free(c);
		} else {
			ck_assert_msg(r == -1, "%s was accepted", nm);
			ck_assert_msg(strstr(err.msg, expect) != NULL,
			              "%s: message '%s' lacks '%s'", nm, err.msg, expect);
		}
		checked++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	ck_assert_int_ge(checked, 20);
}
END_TEST

START_TEST(good_file)
{
	const char *src = getenv("VIGIL_SOURCE_DIR");
	ck_assert_msg(src != NULL, "VIGIL_SOURCE_DIR is not set");
	char path[512];
	snprintf(path, sizeof(path), "%s/tests/config/good/full.ini", src);
	struct vigil_conf *c = load_ok(path);
	ck_assert_int_eq(c->nprograms, 4);
	ck_assert_str_eq(c->programs[2].name, "worker");
	ck_assert_str_eq(c->programs[3].name, "batch");
	ck_assert_str_eq(conf_find_program(c, "web")->environment[1], "GREETING=hello, world");
	ck_assert_int_eq(conf_find_program(c, "web")->stop_signal, SIGINT);
	ck_assert_int_eq(c->nplugins, 4);
	conf_free(c);
}
END_TEST

static const struct vigil_config_key test_keys[] = {
    {"path", VIGIL_KEY_PATH, "${state_dir}/db.sqlite", 0, "database file", NULL},
    {"rel", VIGIL_KEY_PATH, "sub/file", 0, "a relative default", NULL},
    {"interval", VIGIL_KEY_DURATION, "1s", 0, "how often", NULL},
    {"mode", VIGIL_KEY_MODE, "0660", 0, "socket mode", NULL},
    {"format", VIGIL_KEY_ENUM, "json", 0, "output format", "json|xml"},
    {"level", VIGIL_KEY_PERCENT, NULL, 0, "threshold", NULL},
    {"ratio", VIGIL_KEY_DOUBLE, NULL, 0, "ratio", NULL},
    {"count", VIGIL_KEY_INT, NULL, 0, "count", NULL},
    {"on", VIGIL_KEY_BOOL, "true", 0, "switch", NULL},
    {"max", VIGIL_KEY_SIZE, NULL, 0, "size", NULL},
    {"names", VIGIL_KEY_LIST, NULL, 0, "names", NULL},
    {"label", VIGIL_KEY_STRING, NULL, 0, "label", NULL},
    VIGIL_KEYS_END,
};

static const struct vigil_config_key required_keys[] = {
    {"listen", VIGIL_KEY_STRING, NULL, 1, "address to listen on", NULL},
    VIGIL_KEYS_END,
};

/* Loads text as main.ini and returns the conf; the first plugin section is *sec. */
static struct vigil_conf *with_plugin(const char *text, const struct conf_section **sec)
{
	struct vigil_conf *c = load_ok(put("main.ini", "%s", text));
	ck_assert(c->nplugins > 0 && c->plugins[0].sec);
	*sec = c->plugins[0].sec;
	return c;
}

START_TEST(plugin_config)
{
	const struct conf_section *sec;
	struct vigil_conf *c = with_plugin("[vigil]\nstate_dir = /var/v\n[monitor.t]\n"
	                                   "interval = 5s\nrel = data/x\nformat = XML\n"
	                                   "level = 150%\nratio = 0.5\ncount = -3\nmax = 1G\n"
	                                   "names = a, b\nlabel = ${state_dir}/l\n",
	                                   &sec);
	struct conf_error err;
	struct vigil_config *cfg =
	    conf_plugin_config(sec, test_keys, "plugin monitor_t.so", c->state_dir, &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(conf_plugin_value(cfg, "path"), "/var/v/db.sqlite");
	char want[600];
	snprintf(want, sizeof(want), "%s/data/x", tmpdir);
	ck_assert_str_eq(conf_plugin_value(cfg, "rel"), want);
	ck_assert_str_eq(conf_plugin_value(cfg, "interval"), "5s");
	ck_assert_str_eq(conf_plugin_value(cfg, "mode"), "0660");
	ck_assert_str_eq(conf_plugin_value(cfg, "format"), "xml");
	ck_assert_str_eq(conf_plugin_value(cfg, "level"), "150%");
	ck_assert_str_eq(conf_plugin_value(cfg, "count"), "-3");
	ck_assert_str_eq(conf_plugin_value(cfg, "on"), "true");
	ck_assert_str_eq(conf_plugin_value(cfg, "names"), "a, b");
	ck_assert_str_eq(conf_plugin_value(cfg, "label"), "/var/v/l");
	ck_assert_ptr_null(conf_plugin_value(cfg, "nope"));
	ck_assert_ptr_null(conf_plugin_value(NULL, "path"));
	conf_plugin_config_free(cfg);
	conf_free(c);

	/* a default instance: defaults only, relative ones in the state dir */
	cfg = conf_plugin_config(NULL, test_keys, "plugin monitor_t.so", "/var/s", &err);
	ck_assert_msg(cfg != NULL, "%s", err.msg);
	ck_assert_str_eq(conf_plugin_value(cfg, "path"), "/var/s/db.sqlite");
	ck_assert_str_eq(conf_plugin_value(cfg, "rel"), "/var/s/sub/file");
	ck_assert_ptr_null(conf_plugin_value(cfg, "level"));
	conf_plugin_config_free(cfg);
	/* no keys at all */
	cfg = conf_plugin_config(NULL, NULL, "plugin monitor_none.so", "/var/s", &err);
	ck_assert_ptr_nonnull(cfg);
	conf_plugin_config_free(cfg);
	conf_plugin_config_free(NULL);
}
END_TEST

static void plugin_refuses(const char *text, const struct vigil_config_key *keys, const char *want)
{
	const struct conf_section *sec;
	struct vigil_conf *c = with_plugin(text, &sec);
	struct conf_error err;
	struct vigil_config *cfg =
	    conf_plugin_config(sec, keys, "plugin monitor_t.so", c->state_dir, &err);
	ck_assert_msg(cfg == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(err.msg, want) != NULL, "message '%s' lacks '%s'", err.msg, want);
	conf_free(c);
}

START_TEST(plugin_config_bad)
{
	plugin_refuses("[monitor.t]\nintreval = 1s\n", test_keys,
	               "main.ini:2: [monitor.t] intreval: unknown key for plugin monitor_t.so "
	               "(did you mean 'interval'?)");
	plugin_refuses("[monitor.t]\nzzz = 1\n", test_keys, "unknown key for plugin monitor_t.so");
	plugin_refuses("[monitor.t]\nzzz = 1\n", NULL, "plugin monitor_t.so takes no keys");
	plugin_refuses(
	    "[monitor.t]\ninterval = soon\n", test_keys,
	    "[monitor.t] interval: expected a duration like 10s, 1500ms, 5m; got 'soon'");
	plugin_refuses("[monitor.t]\nformat = yaml\n", test_keys, "expected one of json,xml");
	plugin_refuses("[monitor.t]\nlevel = 150\n", test_keys, "expected a percentage");
	plugin_refuses("[monitor.t]\nratio = half\n", test_keys, "expected a number");
	plugin_refuses("[monitor.t]\ncount = 1.5\n", test_keys, "expected a whole number");
	plugin_refuses("[monitor.t]\non = perhaps\n", test_keys, "expected true or false");
	plugin_refuses("[monitor.t]\nmax = big\n", test_keys, "expected a size");
	plugin_refuses("[monitor.t]\nmode = 0999\n", test_keys, "expected an octal file mode");
	plugin_refuses("[monitor.t]\nrel =\n", test_keys, "expected a path");
	plugin_refuses("[monitor.t]\n", required_keys,
	               "main.ini:1: [monitor.t]: missing required key 'listen' (address to listen "
	               "on)");
	struct conf_error err;
	ck_assert_ptr_null(
	    conf_plugin_config(NULL, required_keys, "plugin frontend_t.so", "/s", &err));
	ck_assert_msg(strstr(err.msg, "plugin frontend_t.so needs the key 'listen'"), "%s",
	              err.msg);
	/* a broken default is the plugin's bug, and says so */
	static const struct vigil_config_key broken[] = {
	    {"interval", VIGIL_KEY_DURATION, "often", 0, "x", NULL},
	    VIGIL_KEYS_END,
	};
	ck_assert_ptr_null(conf_plugin_config(NULL, broken, "plugin monitor_b.so", "/s", &err));
	ck_assert_msg(strstr(err.msg, "a bug in the plugin"), "%s", err.msg);
}
END_TEST

START_TEST(socket_path)
{
	struct conf_error err;
	const char *path = put("main.ini", "[program.x]\ncommand = x\n");
	char *s = conf_socket_path(path, &err);
	char want[600];
	snprintf(want, sizeof(want), "%s/state/vigil.sock", tmpdir);
	ck_assert_str_eq(s, want);
	free(s);
	path = put("main.ini", "[vigil]\nstate_dir = /run/v\n[frontend.ctl]\n"
	                       "socket = ${state_dir}/ctl.sock\n");
	s = conf_socket_path(path, &err);
	ck_assert_str_eq(s, "/run/v/ctl.sock");
	free(s);
	/* relative to the included file that holds it; other sections are not checked */
	put("inc/ctl.ini", "[frontend.ctl]\nsocket = sock/s\n[program.broken]\nnumprocs = 0\n");
	path = put("main.ini", "[vigil]\ninclude = inc/*.ini\n");
	s = conf_socket_path(path, &err);
	snprintf(want, sizeof(want), "%s/inc/sock/s", tmpdir);
	ck_assert_str_eq(s, want);
	free(s);
	path = put("main.ini", "[vigil\n");
	ck_assert_ptr_null(conf_socket_path(path, &err));
	ck_assert_msg(strstr(err.msg, "no closing ']'"), "%s", err.msg);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *ok = tcase_create("load");
	tcase_add_checked_fixture(ok, setup, teardown);
	tcase_add_test(ok, defaults);
	tcase_add_test(ok, full_config);
	tcase_add_test(ok, policy_defaults);
	tcase_add_test(ok, empty_and_comments);
	tcase_add_test(ok, ini_quirks);
	tcase_add_test(ok, hash);
	tcase_add_test(ok, good_file);
	suite_add_tcase(s, ok);
	TCase *bad = tcase_create("errors");
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, bad_inline);
	tcase_add_test(bad, included_errors);
	tcase_add_test(bad, unreadable);
	tcase_add_test(bad, bad_files);
	suite_add_tcase(s, bad);
	TCase *pl = tcase_create("plugins");
	tcase_add_checked_fixture(pl, setup, teardown);
	tcase_add_test(pl, plugin_config);
	tcase_add_test(pl, plugin_config_bad);
	tcase_add_test(pl, socket_path);
	suite_add_tcase(s, pl);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test_compat.c — plugins of other ABI minors in a real vigild: an older one loads and works,
 * a newer one is refused with a message that names the file, the section and the versions. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vigil/vigil.h>

#include "harness.h"

/* What tests/fixtures/plugins/older_minor.c decides. */
#define OLDER_DELAY_MS 250
#define OLDER_MAX_RESTARTS 2

static char cfg[4096];
/* Set in main() and inherited by everything the tests start (vigild passes its environment
 * on), and written into every config: a test that fails half-way cannot stop its vigild, so
 * main() finds what is left by this mark after the run. */
static char run_mark[64];

static const char *config(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *config(const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(cfg, sizeof cfg, "; %s\n", run_mark);

	va_start(ap, fmt);
	vsnprintf(cfg + n, sizeof cfg - (size_t)n, fmt, ap);
	va_end(ap);
	return cfg;
}

static const char *fixture_plugins(void)
{
	static char dir[512];
	const char *f = getenv("VIGIL_FIXTURE_DIR");

	ck_assert_msg(f != NULL, "VIGIL_FIXTURE_DIR is not set (run the test through ctest)");
	snprintf(dir, sizeof dir, "%s/plugins", f);
	return dir;
}

static long long jint(json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *find_plugin(json_t *doc, const char *kind, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(doc, "plugins"), i, p)
		if (strcmp(jstr(p, "kind"), kind) == 0 && strcmp(jstr(p, "name"), name) == 0)
			return p;
	return NULL;
}

/* An ABI 1.0 policy and monitor whose ops stop at their mandatory part (poison after it). The
 * policy decides every restart; spawning and stopping pass the monitor's absent attach,
 * detach and kill_tree; `start` after a give-up would call the absent reset, and shutdown the
 * absent release. vigild must never touch the poison (it would abort). */
START_TEST(older_minor_loads_and_works)
{
	struct vd vd;
	json_t *doc = NULL, *p, *ev;

	vd_start(&vd, config("[policy.older]\n[monitor.older]\n"
	                     "[program.crasher]\ncommand = %s exit 3\nrestart_policy = older\n"
	                     "[program.sleeper]\ncommand = %s sleep\n",
	                     vd_victim(), vd_victim()));

	ck_assert_int_eq(vd_ctl(&vd, &doc, "plugins", (char *)NULL), 0);
	p = find_plugin(doc, "policy", "older");
	ck_assert_msg(p != NULL, "policy older not listed by vigilctl plugins");
	ck_assert_str_eq(jstr(p, "abi"), "1.0");
	ck_assert_str_eq(jstr(p, "version"), "1.0-older");
	ck_assert_ptr_nonnull(find_plugin(doc, "monitor", "older"));
	json_decref(doc);

	for (int i = 0; i < OLDER_MAX_RESTARTS; i++) {
		ev = vd_wait_event(&vd, "process.backoff", "crasher", 10000);
		ck_assert_msg(ev != NULL, "no process.backoff %d from the older policy", i + 1);
		ck_assert_int_eq(jint(ev, "delay_ms"), OLDER_DELAY_MS);
		ck_assert_str_eq(jstr(ev, "policy"), "older");
		json_decref(ev);
	}
	ev = vd_wait_event(&vd, "process.fatal", "crasher", 10000);
	ck_assert_msg(ev != NULL, "the older policy never gave up");
	ck_assert_ptr_nonnull(strstr(jstr(ev, "reason"), "older plugin gave up after 2"));
	json_decref(ev);

	/* The policy has no reset(): its count survives the operator's start, so it gives up
	 * again at the first exit instead of restarting. */
	ck_assert_int_eq(vd_ctl(&vd, NULL, "start", "--no-wait", "crasher", (char *)NULL), 0);
	ev = vd_wait_event(&vd, "process.fatal", "crasher", 10000);
	ck_assert_msg(ev != NULL, "no second give-up after start");
	json_decref(ev);

	/* Stopping passes the monitor's absent kill_tree and detach. */
	ev = vd_wait_event(&vd, "process.ready", "sleeper", 10000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "sleeper", (char *)NULL), 0);
	ck_assert_str_eq(vd_state(&vd, "sleeper"), "stopped");

	/* Shutdown passes the policy's absent release(); vigild must exit cleanly. */
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Runs `vigild -c FILE --check-config`; returns its exit status, stderr in err. */
static int check_config(const char *file, char *err, size_t len, char *out, size_t outlen)
{
	char errpath[600], outpath[600];
	pid_t c;
	int status;

	snprintf(errpath, sizeof errpath, "%s.stderr", file);
	snprintf(outpath, sizeof outpath, "%s.stdout", file);
	c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		int e = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int o = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(e, 2);
		dup2(o, 1);
		execl(getenv("VIGILD") ? getenv("VIGILD") : "vigild", "vigild", "-c", file,
		      "--check-config", (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(c, &status, 0), c);
	char *s = vd_read_file(errpath);
	snprintf(err, len, "%s", s ? s : "");
	free(s);
	s = vd_read_file(outpath);
	snprintf(out, outlen, "%s", s ? s : "");
	free(s);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A plugin that claims the next minor: --check-config exits 100 and says which file, which
 * section, and both versions. */
START_TEST(newer_minor_refused_by_check_config)
{
	char dir[] = "/tmp/vigil-abi-XXXXXX", file[600], err[4096], out[1024], want[600];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/vigil.ini", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[vigil]\nstate_dir = %s/state\nplugin_path = %s:%s\n\n[policy.newminor]\n\n"
	           "[program.x]\ncommand = %s sleep\n",
	        dir, fixture_plugins(), getenv("VIGIL_PLUGIN_DIR"), vd_victim());
	fclose(f);

	int rc = check_config(file, err, sizeof err, out, sizeof out);

	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	ck_assert_msg(rc == 100, "vigild --check-config exited %d, expected 100; stderr: %s", rc,
	              err);
	snprintf(want, sizeof want, "%s/policy_newminor.so: built for a newer ABI %d.%d, "
	                            "this vigild speaks %d.%d",
	         fixture_plugins(), VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR + 1, VIGIL_ABI_MAJOR,
	         VIGIL_ABI_MINOR);
	ck_assert_msg(strstr(err, want) != NULL, "stderr lacks '%s': %s", want, err);
	ck_assert_msg(strstr(err, "vigil.ini:") && strstr(err, "[policy.newminor]"),
	              "stderr does not name the file and section: %s", err);
	ck_assert_msg(strstr(err, "upgrade vigild or rebuild the plugin") != NULL,
	              "stderr does not say what to do: %s", err);
	ck_assert_msg(out[0] == '\0', "stdout is not empty: %s", out);
}
END_TEST

/* The same plugin refuses the real start too, before anything is spawned. */
START_TEST(newer_minor_refused_at_startup)
{
	struct vd vd;
	char err[4096];

	int rc = vd_try_start(&vd, config("[policy.newminor]\n[program.x]\ncommand = %s sleep\n"
	                                  "restart_policy = newminor\n",
	                                  vd_victim()),
	                      err, sizeof err);
	vd_stop(&vd);
	ck_assert_msg(rc == 100, "vigild exited %d, expected 100; stderr: %s", rc, err);
	ck_assert_msg(strstr(err, "policy_newminor.so: built for a newer ABI") != NULL,
	              "stderr: %s", err);
}
END_TEST

/* Kills what a failed test left running and removes its harness directory. */
static void sweep(void)
{
	char want[128], path[600], buf[16384];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = snprintf(want, sizeof want, "VIGIL_ABI_COMPAT_RUN=%s", run_mark);

	while (d && (e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		int fd;
		ssize_t len;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof buf);
		close(fd);
		for (ssize_t off = 0; off < len; off += (ssize_t)strnlen(buf + off, (size_t)(len - off)) + 1)
			if (len - off > n && memcmp(buf + off, want, (size_t)n + 1) == 0)
				kill(pid, SIGKILL);
	}
	if (d)
		closedir(d);
	d = opendir("/tmp");
	while (d && (e = readdir(d))) {
		char *s;

		if (strncmp(e->d_name, "vigil-test-", 11) != 0)
			continue;
		snprintf(path, sizeof path, "/tmp/%s/vigil.ini", e->d_name);
		s = vd_read_file(path);
		if (s && strstr(s, run_mark)) {
			snprintf(path, sizeof path, "/tmp/%s", e->d_name);
			nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
		}
		free(s);
	}
	if (d)
		closedir(d);
}

int main(void)
{
	Suite *s = suite_create("abi_compat");
	TCase *tc = tcase_create("minors");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, older_minor_loads_and_works);
	tcase_add_test(tc, newer_minor_refused_by_check_config);
	tcase_add_test(tc, newer_minor_refused_at_startup);
	suite_add_tcase(s, tc);
	snprintf(run_mark, sizeof run_mark, "abi-compat-%d-%lld", (int)getpid(), vd_now_ms());
	setenv("VIGIL_ABI_COMPAT_RUN", run_mark, 1);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	sweep();
	return failed ? 1 : 0;
}

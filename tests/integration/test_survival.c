/* test_survival.c — no exit lost across a reexec, a full disk, damaged registry files, reload. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define config(...) vd_config(__VA_ARGS__)

static int count_lines(const char *path)
{
	char *s = vd_read_file(path);
	int n = 0;
	for (char *p = s; p && *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* A flapping program: every start appends a line to `runs`, then exits 7 after 100 ms. The
 * command is quoted: an unquoted ';' would start a comment. */
static const char *flapper(const char *runs)
{
	static char buf[1024];
	snprintf(buf, sizeof buf, "\"/bin/sh -c 'echo x >> %s && exec %s exit 7 100'\"", runs,
	         vd_victim());
	return buf;
}

START_TEST(reexec_loses_no_exit)
{
	struct vd vd;
	char runs[300];
	vd_prepare(&vd, "");
	snprintf(runs, sizeof runs, "%s/runs", vd.dir);
	vd_rewrite_config(&vd, config("[program.steady]\ncommand = %s sleep\nnumprocs = 7\n"
	                              "[program.flap]\ncommand = %s\nnumprocs = 3\n"
	                              "restart_policy = fast\n"
	                              "[policy.backoff.fast]\ninitial = 0\nmax_restarts = 0\n",
	                              vd_victim(), flapper(runs)));
	vd_relaunch(&vd);
	vd_wait_ready(&vd, "steady", 7);
	int before[7];
	ck_assert_int_eq(vd_status_pids(&vd, before, 7, "running", "steady"), 7);

	/* a few rounds of exits before the reexec */
	for (int i = 0; i < 6; i++)
		json_decref(vd_wait_event(&vd, "process.exited", "flap.0", 5000));
	vd_reexec(&vd);
	for (int i = 0; i < 6; i++) {
		json_t *ev = vd_wait_event(&vd, "process.exited", "flap.1", 5000);
		ck_assert_msg(ev != NULL, "flap.1 stopped flapping after the reexec");
		json_decref(ev);
	}
	ck_assert_int_eq(vd_ctl(&vd, NULL, "stop", "flap", (char *)NULL), 0);
	int lines = count_lines(runs);
	ck_assert_int_gt(lines, 15);

	int ended7 = 0, stops = 0;
	for (int k = 0; k < 3; k++) {
		char name[16];
		snprintf(name, sizeof name, "flap.%d", k);
		json_t *doc = NULL, *e;
		size_t i;
		ck_assert_int_eq(vd_ctl(&vd, &doc, "ps", name, "--history", (char *)NULL), 0);
		int exited7 = 0, stopped = 0, other = 0;
		json_array_foreach(json_object_get(doc, "entries"), i, e) {
			const char *reason = vd_jstr(e, "reason");
			if (reason && strcmp(reason, "exited") == 0 && vd_jint(e, "exit_code") == 7)
				exited7++;
			else if (reason && strcmp(reason, "stopped") == 0)
				stopped++;
			else
				other++;
			ck_assert_msg(!reason || strcmp(reason, "lost") != 0,
			              "%s: a run was recorded as lost across the reexec (started %s)", name,
			              vd_jstr(e, "started_at"));
		}
		json_decref(doc);
		/* only the run that was running at the stop ends otherwise */
		ck_assert_msg(other == 0 && stopped <= 1, "%s: %d runs ended neither with 7 nor stopped",
		              name, other + stopped);
		ended7 += exited7;
		stops += stopped;
	}
	/* every exit-7 run wrote its line; a stopped one may have been stopped before its shell
	 * got to echo */
	ck_assert_msg(ended7 <= lines && lines <= ended7 + stops,
	              "%d starts counted, %d runs recorded as exited 7 and %d stopped: exits were lost",
	              lines, ended7, stops);

	int after[7];
	ck_assert_int_eq(vd_status_pids(&vd, after, 7, "running", "steady"), 7);
	for (int i = 0; i < 7; i++)
		ck_assert_msg(vd_contains(before, 7, after[i]), "steady pid %d was not kept", after[i]);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static char mounted[300];

static void unmount_at_exit(void)
{
	if (mounted[0])
		umount2(mounted, MNT_DETACH);
	mounted[0] = '\0';
}

/* Fills the file system of dir; returns the filler's path. */
static void fill(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	static char block[16384];
	memset(block, 'f', sizeof block);
	size_t chunk = sizeof block;
	while (chunk) {
		ssize_t w = write(fd, block, chunk);
		if (w < 0 && errno == ENOSPC)
			chunk /= 2;
		else
			ck_assert_msg(w > 0, "filling %s: %s", path, strerror(errno));
	}
	close(fd);
}

START_TEST(full_disk_keeps_supervising)
{
	struct vd vd;
	char runs[300], filler[320];
	vd_prepare(&vd, "");
	snprintf(runs, sizeof runs, "%s/runs", vd.dir);
	vd_rewrite_config(&vd, config("[program.steady]\ncommand = %s sleep\n"
	                              "[program.flap]\ncommand = %s\n"
	                              "restart_policy = fast\n"
	                              "[policy.backoff.fast]\ninitial = 0\nmax_restarts = 0\n",
	                              vd_victim(), flapper(runs)));
	/* our own mount namespace: the tmpfs cannot outlive the test, whatever happens */
	if (unshare(CLONE_NEWNS) == 0)
		mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL);
	ck_assert_int_eq(mkdir(vd.state, 0700), 0);
	if (mount("tmpfs", vd.state, "tmpfs", 0, "size=512k") != 0) {
		printf("SKIP: full_disk_keeps_supervising: cannot mount a tmpfs on %s: %s\n", vd.state,
		       strerror(errno));
		ck_assert_int_eq(vd_stop(&vd), 0);
		return;
	}
	snprintf(mounted, sizeof mounted, "%s", vd.state);
	atexit(unmount_at_exit);
	vd_relaunch_log(&vd);
	vd_wait_ready(&vd, "steady", 1);
	int steady = vd_pid(&vd, "steady");

	snprintf(filler, sizeof filler, "%s/filler", vd.state);
	fill(filler);
	json_t *ev = vd_wait_event(&vd, "store.failed", NULL, 15000);
	ck_assert_msg(ev != NULL, "no store.failed with the state dir full");
	/* docs/store.md: error = the errno, ENOSPC for a full disk */
	json_t *err = json_object_get(ev, "error");
	char *dump = json_dumps(ev, JSON_COMPACT);
	ck_assert_msg((json_is_string(err) && strcmp(json_string_value(err), "ENOSPC") == 0) ||
	                  (json_is_integer(err) && json_integer_value(err) == ENOSPC),
	              "store.failed does not say ENOSPC: %s", dump);
	free(dump);
	json_decref(ev);
	char *log = vd_wait_file(vd_log_path(&vd), "database or disk is full", 5000);
	ck_assert_msg(log != NULL, "the full disk was not logged");
	free(log);

	/* supervision goes on: the flapper is restarted, vigilctl answers */
	for (int i = 0; i < 3; i++) {
		ev = vd_wait_event(&vd, "process.running", "flap", 5000);
		ck_assert_msg(ev != NULL, "flap not restarted while the disk is full");
		json_decref(ev);
	}
	ck_assert_int_eq(vd_ctl(&vd, NULL, "status", (char *)NULL), 0);
	ck_assert_int_eq(vd_pid(&vd, "steady"), steady);

	/* space again: the waiting writes go out, and later runs are written */
	ck_assert_int_eq(unlink(filler), 0);
	log = vd_wait_file(vd_log_path(&vd), "writable again", 40000);
	ck_assert_msg(log != NULL, "the store did not recover once the space was back");
	free(log);
	char t[32];
	long long back_ms = vd_parse_time_ms(vd_rfc3339_now(t, sizeof t));
	/* two exits after that instant (older ones may still be queued on our stream) */
	for (int seen = 0, tries = 0; seen < 2; tries++) {
		ck_assert_msg(tries < 200, "flap stopped exiting once the space was back");
		ev = vd_wait_event(&vd, "process.exited", "flap", 5000);
		ck_assert_ptr_nonnull(ev);
		seen += vd_parse_time_ms(vd_jstr(ev, "time")) >= back_ms;
		json_decref(ev);
	}
	ck_assert_int_eq(vd_halt(&vd), 0);
	/* what a new vigild reads is the file itself, not the old one's queue */
	vd_relaunch(&vd);
	json_t *doc = NULL, *e;
	size_t i;
	int after = 0;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "ps", "flap", "--history", (char *)NULL), 0);
	json_array_foreach(json_object_get(doc, "entries"), i, e) {
		long long end = vd_parse_time_ms(vd_jstr(e, "ended_at"));
		if (end >= back_ms && json_is_false(json_object_get(e, "live")) &&
		    vd_jint(e, "exit_code") == 7)
			after++;
	}
	json_decref(doc);
	ck_assert_msg(after >= 1, "no run that ended after the space came back is on record");
	ck_assert_int_eq(vd_halt(&vd), 0);
	unmount_at_exit();
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static int count_corrupt(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, "registry.db.corrupt-", 20) == 0;
	if (d)
		closedir(d);
	return n;
}

enum damage { TRUNCATE, BITFLIP };

static void damaged_registry(enum damage how)
{
	struct vd vd;
	vd_start(&vd, config("[program.s]\ncommand = %s sleep\nnumprocs = 3\n", vd_victim()));
	vd_wait_ready(&vd, "s", 3);
	ck_assert_int_eq(vd_halt(&vd), 0);

	char db[320], wal[330];
	snprintf(db, sizeof db, "%s/registry.db", vd.state);
	snprintf(wal, sizeof wal, "%s-wal", db);
	unlink(wal);
	struct stat st;
	ck_assert_int_eq(stat(db, &st), 0);
	ck_assert_int_gt(st.st_size, 4096);
	if (how == TRUNCATE) {
		ck_assert_int_eq(truncate(db, 3000), 0);
	} else {
		/* one bit of page 1's b-tree page type: the schema page is no b-tree page any more */
		int fd = open(db, O_RDWR | O_CLOEXEC);
		unsigned char b;
		ck_assert_int_eq(pread(fd, &b, 1, 100), 1);
		b ^= 0x40;
		ck_assert_int_eq(pwrite(fd, &b, 1, 100), 1);
		close(fd);
	}
	vd_relaunch_log(&vd);
	char *log = vd_wait_file(vd_log_path(&vd), "moved it to", 5000);
	ck_assert_msg(log != NULL, "no log that the damaged registry.db was moved aside");
	free(log);
	ck_assert_int_eq(count_corrupt(vd.state), 1);
	vd_wait_ready(&vd, "s", 3);
	int pids[3];
	ck_assert_int_eq(vd_status_pids(&vd, pids, 3, "running", "s"), 3);
	/* and the new file takes writes: a restart of vigild finds the history */
	ck_assert_int_eq(vd_halt(&vd), 0);
	vd_relaunch_log(&vd);
	vd_wait_ready(&vd, "s", 3);
	ck_assert_int_eq(count_corrupt(vd.state), 1);
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "ps", "s.0", "--history", "--state", "stopped",
	                        (char *)NULL), 0);
	ck_assert_int_ge(json_array_size(json_object_get(doc, "entries")), 1);
	json_decref(doc);
	ck_assert_int_eq(vd_stop(&vd), 0);
}

START_TEST(truncated_registry_moved_aside)
{
	damaged_registry(TRUNCATE);
}
END_TEST

START_TEST(bitflipped_registry_moved_aside)
{
	damaged_registry(BITFLIP);
}
END_TEST

START_TEST(vigilctl_reload_exit_codes)
{
	struct vd vd;
	const char *v = vd_victim();
	vd_start(&vd, config("[program.keep]\ncommand = %s sleep\n", v));
	vd_wait_ready(&vd, "keep", 1);
	int keep = vd_pid(&vd, "keep");

	vd_rewrite_config(&vd, config("[program.keep]\ncommand = %s sleep\nbogus_key = 1\n", v));
	json_t *doc = NULL;
	ck_assert_int_eq(vd_ctl(&vd, &doc, "reload", (char *)NULL), 100);
	const char *msg = vd_jstr(json_object_get(doc, "error"), "message");
	ck_assert_msg(msg && strstr(msg, "bogus_key") && strstr(msg, vd.config),
	              "reload error does not name the file and key: %s", msg ? msg : "(none)");
	json_decref(doc);
	json_t *ev = vd_wait_event(&vd, "config.rejected", NULL, 5000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_int_eq(vd_pid(&vd, "keep"), keep);

	vd_rewrite_config(&vd, config("[program.keep]\ncommand = %s sleep\n"
	                              "[program.fresh]\ncommand = %s sleep\n", v, v));
	char *text = NULL;
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "reload", (char *)NULL), 0);
	ck_assert_msg(strstr(text, "1 added"), "reload said: %s", text);
	free(text);
	vd_wait_ready(&vd, "fresh", 1);
	ck_assert_int_eq(vd_pid(&vd, "keep"), keep);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("survival");
	TCase *tc = tcase_create("survival");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, reexec_loses_no_exit);
	tcase_add_test(tc, full_disk_keeps_supervising);
	tcase_add_test(tc, truncated_registry_moved_aside);
	tcase_add_test(tc, bitflipped_registry_moved_aside);
	tcase_add_test(tc, vigilctl_reload_exit_codes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

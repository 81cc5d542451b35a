/* test_probe_conf.c — the keys ready, watchdog, health_* and on_unhealthy, and what they load. */
#include "conf.h"
#include "probe.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];

static void setup(void)
{
	snprintf(path, sizeof path, "/tmp/vigil-test-probe-conf-%d.ini", (int)getpid());
}

static void teardown(void)
{
	unlink(path);
}

static int load(struct vigil_conf **c, struct conf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int load(struct vigil_conf **c, struct conf_error *err, const char *fmt, ...)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[vigil]\nstate_dir = /tmp\n[program.x]\ncommand = /bin/true\n");
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
	memset(err, 0, sizeof *err);
	*c = NULL;
	return conf_load(path, c, err);
}

/* The program x of a config that must load. */
static const struct conf_program *x_of(struct vigil_conf **c, const char *keys)
{
	struct conf_error err;
	int r = load(c, &err, "%s", keys);
	ck_assert_msg(r == 0, "refused '%s': %s", keys, err.msg);
	return conf_find_program(*c, "x");
}

static void refused(const char *keys, const char *want)
{
	struct conf_error err;
	struct vigil_conf *c;
	int r = load(&c, &err, "%s", keys);
	ck_assert_msg(r == -1, "accepted: %s", keys);
	ck_assert_msg(strstr(err.msg, want), "'%s': message '%s' lacks '%s'", keys, err.msg, want);
}

START_TEST(defaults)
{
	struct vigil_conf *c;
	const struct conf_program *g = x_of(&c, "");
	ck_assert_int_eq(g->ready, READY_NONE);
	ck_assert_int_eq(g->ready_check.kind, CHECK_NONE);
	ck_assert_int_eq(g->watchdog_ms, 0);
	ck_assert_int_eq(g->health_check.kind, CHECK_NONE);
	ck_assert_int_eq(g->health_interval_ms, 10000);
	ck_assert_int_eq(g->health_timeout_ms, 2000);
	ck_assert_int_eq(g->health_failures, 3);
	ck_assert_int_eq(g->on_unhealthy, ON_UNHEALTHY_RESTART);
	conf_free(c);
}
END_TEST

START_TEST(ready_values)
{
	struct vigil_conf *c;
	const struct conf_program *g = x_of(&c, "ready = notify\nwatchdog = 5s");
	ck_assert_int_eq(g->ready, READY_NOTIFY);
	ck_assert_int_eq(g->watchdog_ms, 5000);
	conf_free(c);

	g = x_of(&c, "ready = tcp:8080");
	ck_assert_int_eq(g->ready, READY_CHECK);
	ck_assert_int_eq(g->ready_check.kind, CHECK_TCP);
	ck_assert_str_eq(g->ready_check.host, "127.0.0.1");
	ck_assert_int_eq(g->ready_check.port, 8080);
	conf_free(c);

	g = x_of(&c, "ready = tcp:10.1.2.3:5432");
	ck_assert_str_eq(g->ready_check.host, "10.1.2.3");
	ck_assert_int_eq(g->ready_check.port, 5432);
	conf_free(c);

	g = x_of(&c, "ready = tcp:[::1]:443");
	ck_assert_str_eq(g->ready_check.host, "::1");
	ck_assert_int_eq(g->ready_check.port, 443);
	conf_free(c);

	g = x_of(&c, "ready = TCP:localhost:22");
	ck_assert_str_eq(g->ready_check.host, "127.0.0.1");
	conf_free(c);

	g = x_of(&c, "ready = http://127.0.0.1:8080/health?full=1");
	ck_assert_int_eq(g->ready, READY_CHECK);
	ck_assert_int_eq(g->ready_check.kind, CHECK_HTTP);
	ck_assert_str_eq(g->ready_check.target, "http://127.0.0.1:8080/health?full=1");
	conf_free(c);

	g = x_of(&c, "ready = https://[::1]/");
	ck_assert_int_eq(g->ready_check.kind, CHECK_HTTP);
	conf_free(c);

	g = x_of(&c, "ready = exec:/usr/bin/pg_isready -h 'a b' -p 5432");
	ck_assert_int_eq(g->ready_check.kind, CHECK_EXEC);
	ck_assert_str_eq(g->ready_check.argv[0], "/usr/bin/pg_isready");
	ck_assert_str_eq(g->ready_check.argv[2], "a b");
	ck_assert_ptr_null(g->ready_check.argv[5]);
	conf_free(c);
}
END_TEST

START_TEST(health_values)
{
	struct vigil_conf *c;
	const struct conf_program *g =
	    x_of(&c, "health_check = http://localhost:9000/ping\nhealth_interval = 500ms\n"
	             "health_timeout = 250ms\nhealth_failures = 5\non_unhealthy = alert");
	ck_assert_int_eq(g->health_check.kind, CHECK_HTTP);
	ck_assert_str_eq(g->health_check.target, "http://localhost:9000/ping");
	ck_assert_int_eq(g->health_interval_ms, 500);
	ck_assert_int_eq(g->health_timeout_ms, 250);
	ck_assert_int_eq(g->health_failures, 5);
	ck_assert_int_eq(g->on_unhealthy, ON_UNHEALTHY_ALERT);
	conf_free(c);

	g = x_of(&c, "health_check = exec:check-it --quick\non_unhealthy = stop");
	ck_assert_int_eq(g->health_check.kind, CHECK_EXEC);
	ck_assert_str_eq(g->health_check.argv[1], "--quick");
	ck_assert_int_eq(g->on_unhealthy, ON_UNHEALTHY_STOP);
	conf_free(c);

	g = x_of(&c, "health_check = none");
	ck_assert_int_eq(g->health_check.kind, CHECK_NONE);
	conf_free(c);
}
END_TEST

START_TEST(bad_values)
{
	refused("ready = tcp:0", "expected a TCP port between 1 and 65535");
	refused("ready = tcp:http", "expected a TCP port");
	refused("ready = tcp:::1:80", "write an IPv6 address in brackets");
	refused("ready = tcp:[::1]", "expected tcp:[IPV6]:PORT");
	refused("ready = tcp:example.com:80", "'example.com' is not an IP address");
	refused("ready = http://", "expected http://HOST:PORT/PATH");
	refused("ready = http://host:99999/", "expected a port between 1 and 65535");
	refused("ready = http://host:80/a b", "a URL holds no blanks");
	refused("ready = exec:", "exec:CMD: no command given");
	refused("ready = exec:/bin/x 'open", "exec:CMD: unterminated");
	refused("ready = notify-me", "expected none, notify, delay:DURATION");
	refused("health_check = notify",
	        "expected none, tcp:PORT, http://HOST:PORT/PATH or exec:CMD");
	refused("health_check = delay:1s", "health_check: expected none, tcp:PORT");
	refused("health_interval = 0", "health_interval: must be at least 1ms");
	refused("health_timeout = 0s", "health_timeout: must be at least 1ms");
	refused("health_failures = 0", "health_failures: must be between 1 and 1000");
	refused("on_unhealthy = reboot", "expected restart, stop or alert");
	refused("watchdog = soon", "watchdog: expected a duration");
}
END_TEST

START_TEST(every_key_changes_the_hash)
{
	struct vigil_conf *base;
	uint64_t h0 = x_of(&base, "")->hash;
	conf_free(base);
	const char *changes[] = {
	    "ready = notify",       "ready = tcp:1",         "ready = tcp:2",
	    "ready = exec:a",       "ready = http://h/",     "watchdog = 1s",
	    "health_check = tcp:1", "health_check = exec:b", "health_interval = 1s",
	    "health_timeout = 1s",  "health_failures = 1",   "on_unhealthy = alert"};
	uint64_t seen[sizeof changes / sizeof changes[0]];
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		struct vigil_conf *c;
		seen[i] = x_of(&c, changes[i])->hash;
		conf_free(c);
		ck_assert_msg(seen[i] != h0, "'%s' did not change the hash", changes[i]);
		for (size_t k = 0; k < i; k++)
			ck_assert_msg(seen[k] != seen[i], "'%s' and '%s' hash the same", changes[k],
			              changes[i]);
	}
}
END_TEST

static int self_maps(const char *what)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;
	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, what) != NULL;
	fclose(f);
	return found;
}

/* probe_check_conf opens the http_check module (libcurl) for the first http:// check, and
 * only then. */
START_TEST(http_module_opened_by_the_first_http_check)
{
	static const char *const none[] = {"ready = tcp:8080\nhealth_check = exec:/bin/true",
	                                   "ready = notify\nwatchdog = 1s", ""};
	struct conf_error err;
	struct vigil_conf *c;
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		x_of(&c, none[i]);
		ck_assert_int_eq(probe_check_conf(c, &err), 0);
		conf_free(c);
	}
	ck_assert(!self_maps("http_check.so"));
	ck_assert(!self_maps("libcurl"));
	x_of(&c, "health_check = https://127.0.0.1:8443/health");
	memset(&err, 0, sizeof err);
	ck_assert_msg(probe_check_conf(c, &err) == 0, "%s", err.msg);
	conf_free(c);
	ck_assert(self_maps("http_check.so"));
	ck_assert(self_maps("libcurl"));
	/* open once: the next configuration finds it open */
	x_of(&c, "ready = http://127.0.0.1:8080/");
	ck_assert_int_eq(probe_check_conf(c, &err), 0);
	conf_free(c);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("probe_conf");
	TCase *tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, ready_values);
	tcase_add_test(tc, health_values);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, every_key_changes_the_hash);
	tcase_add_test(tc, http_module_opened_by_the_first_http_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

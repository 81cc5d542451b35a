/* test_status.c — `vigilctl status` of a deployment whose status is larger than a request may
 * be (1 MiB): the table, --json, targets, through a real vigild and the real vigilctl. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NIDLE 1500

/* NIDLE programs that are never started, each with a ~900-byte command line (iniparser takes
 * lines up to 1024 bytes), and one that runs: about 1.7 MB of status objects. */
static char *big_config(void)
{
	size_t cap = (size_t)NIDLE * 1100 + 4096, len = 0;
	char *body = malloc(cap), arg[901];

	ck_assert_ptr_nonnull(body);
	memset(arg, 'x', sizeof arg - 1);
	arg[sizeof arg - 1] = '\0';
	len += (size_t)snprintf(body + len, cap - len, "[program.runner]\ncommand = %s sleep\n",
	                        vd_victim());
	for (int i = 0; i < NIDLE; i++)
		len +=
		    (size_t)snprintf(body + len, cap - len,
		                     "[program.idle%d]\ncommand = %s sleep %s\nautostart = false\n",
		                     i, vd_victim(), arg);
	ck_assert_uint_lt(len, cap);
	return body;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The table line of one name ("NAME  STATE ..."), as a static copy; NULL when absent. */
static const char *table_line(const char *table, const char *name)
{
	static char line[512];
	size_t n = strlen(name);

	for (const char *p = table; *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > n && strncmp(p, name, n) == 0 && p[n] == ' ') {
			snprintf(line, sizeof line, "%.*s", (int)len, p);
			return line;
		}
		p += len + (end != NULL);
	}
	return NULL;
}

START_TEST(status_of_a_big_deployment)
{
	struct vd vd;
	char *body = big_config(), *text = NULL, state[32], pid[32];
	const char *line;
	json_t *doc = NULL, *p;
	size_t i;

	vd_start(&vd, body);
	free(body);
	json_decref(vd_wait_event(&vd, "process.ready", "runner", 10000));

	/* --json: every object whole, although the reply is larger than 1 MiB */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "status", "--json", (char *)NULL), 0);
	ck_assert_uint_gt(strlen(text), 1u << 20);
	doc = json_loads(text, 0, NULL);
	free(text);
	ck_assert_ptr_nonnull(doc);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "processes")), NIDLE + 1);
	json_array_foreach(json_object_get(doc, "processes"), i, p)
	{
		ck_assert_ptr_nonnull(json_object_get(p, "started_at"));
		if (i > 0) /* after runner */
			ck_assert_uint_gt(strlen(json_string_value(json_object_get(p, "command"))),
			                  900);
	}
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(doc, "processes"), NIDLE), "name")),
	                 "idle1499");
	json_decref(doc);

	/* the table: a header and one line per instance, values where they belong */
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "status", (char *)NULL), 0);
	ck_assert_uint_eq(count_lines(text), NIDLE + 2);
	ck_assert_ptr_nonnull(strstr(text, "NAME"));
	line = table_line(text, "runner");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(sscanf(line, "runner %31s %31s", state, pid), 2);
	ck_assert_str_eq(state, "running");
	ck_assert_int_eq(atoi(pid), vd_pid(&vd, "runner"));
	line = table_line(text, "idle7");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(sscanf(line, "idle7 %31s %31s", state, pid), 2);
	ck_assert_str_eq(state, "stopped");
	ck_assert_str_eq(pid, "-");
	free(text);

	/* targets: each instance once, unknown names exit 3 */
	ck_assert_int_eq(
	    vd_ctl_text(&vd, &text, "status", "idle7", "runner", "idle7", (char *)NULL), 0);
	ck_assert_uint_eq(count_lines(text), 3);
	free(text);
	ck_assert_int_eq(vd_ctl_text(&vd, &text, "status", "nosuch", (char *)NULL), 3);
	free(text);
	ck_assert_int_eq(vd_stop(&vd), 0);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("big");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, status_of_a_big_deployment);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

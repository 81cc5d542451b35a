/* test_util.c — the small parsers and string helpers of core/util.c. */
#include "util.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

START_TEST(int_ok)
{
	int64_t v;
	ck_assert_int_eq(util_parse_int("42", &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(util_parse_int("  -17\t", &v), 0);
	ck_assert_int_eq(v, -17);
	ck_assert_int_eq(util_parse_int("+5", &v), 0);
	ck_assert_int_eq(v, 5);
	ck_assert_int_eq(util_parse_int("0", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(util_parse_int("9223372036854775807", &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(util_parse_int("-9223372036854775808", &v), 0);
	ck_assert(v == INT64_MIN);
}
END_TEST

START_TEST(int_bad)
{
	int64_t v = 7;
	ck_assert_int_eq(util_parse_int("", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("   ", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int(NULL, &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("-", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("12a", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("1 2", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("0x10", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("1.5", &v), -EINVAL);
	ck_assert_int_eq(util_parse_int("9223372036854775808", &v), -ERANGE);
	ck_assert_int_eq(util_parse_int("-9223372036854775809", &v), -ERANGE);
	ck_assert_int_eq(util_parse_int("99999999999999999999999", &v), -ERANGE);
	ck_assert_int_eq(v, 7); /* untouched on error */
}
END_TEST

START_TEST(bool_all)
{
	const char *yes[] = {"true", "YES", "On", "1", " true "};
	const char *no[] = {"false", "no", "OFF", "0"};
	int b;
	for (size_t i = 0; i < 5; i++) {
		b = -1;
		ck_assert_int_eq(util_parse_bool(yes[i], &b), 0);
		ck_assert_int_eq(b, 1);
	}
	for (size_t i = 0; i < 4; i++) {
		b = -1;
		ck_assert_int_eq(util_parse_bool(no[i], &b), 0);
		ck_assert_int_eq(b, 0);
	}
	ck_assert_int_eq(util_parse_bool("maybe", &b), -EINVAL);
	ck_assert_int_eq(util_parse_bool("2", &b), -EINVAL);
	ck_assert_int_eq(util_parse_bool("", &b), -EINVAL);
	ck_assert_int_eq(util_parse_bool("truex", &b), -EINVAL);
	ck_assert_int_eq(util_parse_bool("t", &b), -EINVAL);
}
END_TEST

START_TEST(duration_units)
{
	struct {
		const char *s;
		int64_t ms;
	} ok[] = {{"1500ms", 1500},   {"10s", 10000},    {"5m", 300000},     {"2h", 7200000},
	          {"1d", 86400000},   {"10", 10000},     {"0", 0},           {" 3s ", 3000},
	          {"1.5s", 1500},     {"0.5m", 30000},   {"1h30m", 5400000}, {"2m30s", 150000},
	          {"1d2h", 93600000}, {"1s500ms", 1500}, {"-0", 0},          {".25s", 250}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;
		ck_assert_msg(util_parse_duration_ms(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_msg(v == ok[i].ms, "%s gave %lld", ok[i].s, (long long)v);
	}
}
END_TEST

START_TEST(duration_bad)
{
	const char *inval[] = {"",      "ten",  "10 s", "10S",   "5min", "s",  "1m30",
	                       "30s1m", "1h1h", "1.s",  "1..5s", "10x",  "ms", "1e3s"};
	int64_t v;
	for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++)
		ck_assert_msg(util_parse_duration_ms(inval[i], &v) == -EINVAL, "%s", inval[i]);
	ck_assert_int_eq(util_parse_duration_ms("-5s", &v), -ERANGE);
	ck_assert_int_eq(util_parse_duration_ms("-1", &v), -ERANGE);
	ck_assert_int_eq(util_parse_duration_ms("9999999999999999d", &v), -ERANGE);
	ck_assert_int_eq(util_parse_duration_ms("99999999999999999999999ms", &v), -ERANGE);
	ck_assert_int_eq(util_parse_duration_ms("9223372036854775807ms", &v), 0);
	ck_assert(v == INT64_MAX);
	ck_assert_int_eq(util_parse_duration_ms("9223372036854775808ms", &v), -ERANGE);
}
END_TEST

START_TEST(size_units)
{
	struct {
		const char *s;
		int64_t b;
	} ok[] = {{"512", 512},       {"64K", 65536},          {"64k", 65536}, {"10M", 10485760},
	          {"1G", 1073741824}, {"2T", 2199023255552LL}, {"1.5K", 1536}, {"0", 0},
	          {" 1M ", 1048576},  {"1KB", 1024},           {"1KiB", 1024}, {"100B", 100},
	          {"0.5G", 536870912}};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;
		ck_assert_msg(util_parse_size(ok[i].s, &v) == 0, "%s", ok[i].s);
		ck_assert_msg(v == ok[i].b, "%s gave %lld", ok[i].s, (long long)v);
	}
	const char *inval[] = {"", "10Q", "M", "1 M", "1.5", "1Ki", "1MM", "ten"};
	int64_t v;
	for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++)
		ck_assert_msg(util_parse_size(inval[i], &v) == -EINVAL, "%s", inval[i]);
	ck_assert_int_eq(util_parse_size("-1M", &v), -ERANGE);
	ck_assert_int_eq(util_parse_size("9999999999T", &v), -ERANGE);
	ck_assert_int_eq(util_parse_size("99999999999999999999", &v), -ERANGE);
}
END_TEST

START_TEST(percent_and_double)
{
	double d;
	ck_assert_int_eq(util_parse_percent("150%", &d), 0);
	ck_assert(d == 150.0);
	ck_assert_int_eq(util_parse_percent(" 12.5 % ", &d), 0);
	ck_assert(d == 12.5);
	ck_assert_int_eq(util_parse_percent("0%", &d), 0);
	ck_assert_int_eq(util_parse_percent("150", &d), -EINVAL);
	ck_assert_int_eq(util_parse_percent("%", &d), -EINVAL);
	ck_assert_int_eq(util_parse_percent("abc%", &d), -EINVAL);
	ck_assert_int_eq(util_parse_percent("-5%", &d), -ERANGE);

	ck_assert_int_eq(util_parse_double("0.2", &d), 0);
	ck_assert(d == 0.2);
	ck_assert_int_eq(util_parse_double("-2", &d), 0);
	ck_assert(d == -2.0);
	ck_assert_int_eq(util_parse_double("1e3", &d), 0);
	ck_assert(d == 1000.0);
	ck_assert_int_eq(util_parse_double(".5", &d), 0);
	ck_assert(d == 0.5);
	const char *inval[] = {"", "nan", "inf", "0x10", "1.2.3", "1e", "abc", "1,5", "."};
	for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++)
		ck_assert_msg(util_parse_double(inval[i], &d) == -EINVAL, "%s", inval[i]);
	ck_assert_int_eq(util_parse_double("1e999", &d), -ERANGE);
}
END_TEST

START_TEST(mode)
{
	int64_t m;
	ck_assert_int_eq(util_parse_mode("022", &m), 0);
	ck_assert_int_eq(m, 022);
	ck_assert_int_eq(util_parse_mode("0660", &m), 0);
	ck_assert_int_eq(m, 0660);
	ck_assert_int_eq(util_parse_mode("7777", &m), 0);
	ck_assert_int_eq(m, 07777);
	ck_assert_int_eq(util_parse_mode("0", &m), 0);
	ck_assert_int_eq(m, 0);
	ck_assert_int_eq(util_parse_mode("10000", &m), -ERANGE);
	ck_assert_int_eq(util_parse_mode("999", &m), -EINVAL);
	ck_assert_int_eq(util_parse_mode("rw-", &m), -EINVAL);
	ck_assert_int_eq(util_parse_mode("", &m), -EINVAL);
	ck_assert_int_eq(util_parse_mode("-1", &m), -EINVAL);
}
END_TEST

START_TEST(signals)
{
	int s;
	ck_assert_int_eq(util_parse_signal("TERM", &s), 0);
	ck_assert_int_eq(s, SIGTERM);
	ck_assert_int_eq(util_parse_signal("SIGTERM", &s), 0);
	ck_assert_int_eq(s, SIGTERM);
	ck_assert_int_eq(util_parse_signal("sigint", &s), 0);
	ck_assert_int_eq(s, SIGINT);
	ck_assert_int_eq(util_parse_signal("hup", &s), 0);
	ck_assert_int_eq(s, SIGHUP);
	ck_assert_int_eq(util_parse_signal("USR2", &s), 0);
	ck_assert_int_eq(s, SIGUSR2);
	ck_assert_int_eq(util_parse_signal("9", &s), 0);
	ck_assert_int_eq(s, 9);
	ck_assert_int_eq(util_parse_signal(" 15 ", &s), 0);
	ck_assert_int_eq(s, 15);
	ck_assert_int_eq(util_parse_signal("TREM", &s), -EINVAL);
	ck_assert_int_eq(util_parse_signal("SIG", &s), -EINVAL);
	ck_assert_int_eq(util_parse_signal("", &s), -EINVAL);
	ck_assert_int_eq(util_parse_signal("-9", &s), -EINVAL);
	ck_assert_int_eq(util_parse_signal("0", &s), -ERANGE);
	ck_assert_int_eq(util_parse_signal("100", &s), -ERANGE);
	ck_assert_int_eq(util_parse_signal("99999999999999999999", &s), -ERANGE);

	ck_assert_str_eq(util_signal_name(SIGTERM), "TERM");
	ck_assert_str_eq(util_signal_name(SIGKILL), "KILL");
	ck_assert_str_eq(util_signal_name(SIGABRT), "ABRT");
	ck_assert_str_eq(util_signal_name(SIGCHLD), "CHLD");
	ck_assert_str_eq(util_signal_name(0), "?");
	ck_assert_str_eq(util_signal_name(1000), "?");
	/* Every name round-trips. */
	for (int i = 1; i < 32; i++) {
		const char *n = util_signal_name(i);
		if (strcmp(n, "?") == 0)
			continue;
		ck_assert_int_eq(util_parse_signal(n, &s), 0);
		ck_assert_int_eq(s, i);
	}
}
END_TEST

static char **argv_ok(const char *s)
{
	char err[128] = "";
	char **v = util_split_argv(s, err, sizeof(err));
	ck_assert_msg(v != NULL, "split '%s' failed: %s", s, err);
	return v;
}

static void argv_is(const char *s, const char *const *want)
{
	char **v = argv_ok(s);
	size_t n = 0;
	while (want[n])
		n++;
	ck_assert_msg(util_strv_len(v) == n, "'%s' gave %zu words, want %zu", s, util_strv_len(v),
	              n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(v[i], want[i]);
	ck_assert_ptr_null(v[n]);
	util_strv_free(v);
}

START_TEST(argv_quoting)
{
	argv_is("/bin/echo a b", (const char *[]){"/bin/echo", "a", "b", NULL});
	argv_is("  spaced\t\tout  ", (const char *[]){"spaced", "out", NULL});
	argv_is("sh -c 'echo a; echo $HOME'",
	        (const char *[]){"sh", "-c", "echo a; echo $HOME", NULL});
	argv_is("say \"hello world\"", (const char *[]){"say", "hello world", NULL});
	argv_is("a\\ b c", (const char *[]){"a b", "c", NULL});
	argv_is("x 'it'\\''s'", (const char *[]){"x", "it's", NULL});
	argv_is("\"a\\\"b\" \"c\\\\d\" \"e\\nf\"", (const char *[]){"a\"b", "c\\d", "e\\nf", NULL});
	argv_is("pre'mid'post", (const char *[]){"premidpost", NULL});
	argv_is("a '' b", (const char *[]){"a", "", "b", NULL});
	argv_is("\"\"", (const char *[]){"", NULL});
	argv_is("'\"' \"'\"", (const char *[]){"\"", "'", NULL});
}
END_TEST

START_TEST(argv_errors)
{
	char err[128];
	ck_assert_ptr_null(util_split_argv("echo \"abc", err, sizeof(err)));
	ck_assert_str_eq(err, "unterminated double quote");
	ck_assert_ptr_null(util_split_argv("echo 'abc", err, sizeof(err)));
	ck_assert_str_eq(err, "unterminated single quote");
	ck_assert_ptr_null(util_split_argv("", err, sizeof(err)));
	ck_assert_str_eq(err, "empty command");
	ck_assert_ptr_null(util_split_argv("   \t ", err, sizeof(err)));
	ck_assert_str_eq(err, "empty command");
	ck_assert_ptr_null(util_split_argv("echo \\", err, sizeof(err)));
	ck_assert_str_eq(err, "trailing backslash");
	/* a NULL or short buffer is fine */
	ck_assert_ptr_null(util_split_argv("'", NULL, 0));
	char tiny[4];
	ck_assert_ptr_null(util_split_argv("'", tiny, sizeof(tiny)));
	ck_assert_str_eq(tiny, "unt");
}
END_TEST

static void list_is(const char *s, const char *const *want)
{
	char **v = util_split_list(s);
	ck_assert_ptr_nonnull(v);
	size_t n = 0;
	while (want[n])
		n++;
	ck_assert_msg(util_strv_len(v) == n, "'%s' gave %zu items, want %zu", s ? s : "(null)",
	              util_strv_len(v), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(v[i], want[i]);
	util_strv_free(v);
}

START_TEST(lists)
{
	list_is("a, b ,c", (const char *[]){"a", "b", "c", NULL});
	list_is("", (const char *[]){NULL});
	list_is(NULL, (const char *[]){NULL});
	list_is(" , ,, ", (const char *[]){NULL});
	list_is("one", (const char *[]){"one", NULL});
	list_is("a,,b,", (const char *[]){"a", "b", NULL});
	list_is("\"a, b\", c", (const char *[]){"a, b", "c", NULL});
	list_is("K=1, OTHER=\"a, b\"", (const char *[]){"K=1", "OTHER=\"a, b\"", NULL});
	list_is("x y , z", (const char *[]){"x y", "z", NULL});
}
END_TEST

START_TEST(strv)
{
	char **a = util_split_list("x, y, z");
	char **b = util_strv_dup(a);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(a[0], b[0]);
	ck_assert(util_strv_eq(a, b));
	ck_assert_int_eq(util_strv_len(b), 3);
	free(b[2]);
	b[2] = util_xstrdup("w");
	ck_assert(!util_strv_eq(a, b));
	char **c = util_split_list("x, y");
	ck_assert(!util_strv_eq(a, c));
	char **e = util_split_list("");
	ck_assert(util_strv_eq(e, NULL));
	ck_assert(util_strv_eq(NULL, NULL));
	ck_assert_int_eq(util_strv_len(NULL), 0);
	char **d = util_strv_dup(NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(d[0]);
	util_strv_free(a);
	util_strv_free(b);
	util_strv_free(c);
	util_strv_free(d);
	util_strv_free(e);
	util_strv_free(NULL);
}
END_TEST

START_TEST(levenshtein)
{
	ck_assert_int_eq(util_levenshtein("", ""), 0);
	ck_assert_int_eq(util_levenshtein("abc", ""), 3);
	ck_assert_int_eq(util_levenshtein("", "abc"), 3);
	ck_assert_int_eq(util_levenshtein("kitten", "sitting"), 3);
	ck_assert_int_eq(util_levenshtein("sitting", "kitten"), 3);
	ck_assert_int_eq(util_levenshtein("command", "comand"), 1);
	ck_assert_int_eq(util_levenshtein("flaw", "lawn"), 2);
	ck_assert_int_eq(util_levenshtein("same", "same"), 0);
	ck_assert_int_eq(util_levenshtein("ab", "ba"), 2);
}
END_TEST

START_TEST(closest)
{
	const char *keys[] = {"command", "numprocs", "directory", "autostart", "stop_signal"};
	ck_assert_str_eq(util_closest("comand", keys, 5), "command");
	ck_assert_str_eq(util_closest("numproc", keys, 5), "numprocs");
	ck_assert_str_eq(util_closest("autostrat", keys, 5), "autostart");
	ck_assert_str_eq(util_closest("command", keys, 5), "command");
	ck_assert_ptr_null(util_closest("zzzzzz", keys, 5));
	ck_assert_ptr_null(util_closest("x", keys, 5));
	ck_assert_ptr_null(util_closest("comand", keys, 0));
	/* a swap of two letters is one typo: TREM is TERM, not TRAP */
	const char *sigs[] = {"HUP", "TRAP", "TERM"};
	ck_assert_str_eq(util_closest("TREM", sigs, 3), "TERM");
	const char *kinds[] = {"vigil", "program", "group", "pool"};
	ck_assert_str_eq(util_closest("progam", kinds, 4), "program");
	const char *with_null[] = {NULL, "alpha"};
	ck_assert_str_eq(util_closest("alpah", with_null, 2), "alpha");
}
END_TEST

START_TEST(fmt_duration)
{
	char b[32];
	struct {
		int64_t ms;
		const char *s;
	} t[] = {{0, "0ms"},        {350, "350ms"},    {12000, "12s"},      {12999, "12s"},
	         {250000, "4m10s"}, {7500000, "2h5m"}, {273600000, "3d4h"}, {7200000, "2h"},
	         {86400000, "1d"},  {-1500, "-1s"},    {60000, "1m"}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		util_fmt_duration(b, sizeof(b), t[i].ms);
		ck_assert_str_eq(b, t[i].s);
	}
	util_fmt_duration(b, 3, 273600000); /* truncated, still terminated */
	ck_assert_str_eq(b, "3d");
}
END_TEST

START_TEST(fmt_size)
{
	char b[32];
	struct {
		int64_t n;
		const char *s;
	} t[] = {{0, "0B"},      {512, "512B"},       {1023, "1023B"},      {1024, "1.0K"},
	         {1536, "1.5K"}, {20971520, "20.0M"}, {1073741824, "1.0G"}, {INT64_MAX, "8.0E"}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		util_fmt_size(b, sizeof(b), t[i].n);
		ck_assert_str_eq(b, t[i].s);
	}
}
END_TEST

START_TEST(xalloc)
{
	char *s = util_xstrdup("abc");
	ck_assert_str_eq(s, "abc");
	free(s);
	s = util_xstrdup(NULL);
	ck_assert_str_eq(s, "");
	free(s);
	int *z = util_xcalloc(4, sizeof(int));
	ck_assert_int_eq(z[0] | z[1] | z[2] | z[3], 0);
	free(z);
	free(util_xmalloc(0));
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *p = tcase_create("parsers");
	tcase_add_test(p, int_ok);
	tcase_add_test(p, int_bad);
	tcase_add_test(p, bool_all);
	tcase_add_test(p, duration_units);
	tcase_add_test(p, duration_bad);
	tcase_add_test(p, size_units);
	tcase_add_test(p, percent_and_double);
	tcase_add_test(p, mode);
	tcase_add_test(p, signals);
	suite_add_tcase(s, p);
	TCase *t = tcase_create("strings");
	tcase_add_test(t, argv_quoting);
	tcase_add_test(t, argv_errors);
	tcase_add_test(t, lists);
	tcase_add_test(t, strv);
	tcase_add_test(t, levenshtein);
	tcase_add_test(t, closest);
	tcase_add_test(t, fmt_duration);
	tcase_add_test(t, fmt_size);
	tcase_add_test(t, xalloc);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* test_loader.c — the plugin loader: finding, refusing, instantiating and closing plugins. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/testing.h>

#include "conf.h"
#include "loader.h"

/* The broken and working plugins of tests/fixtures/plugins, built into the build tree. */
static char fixtures[PATH_MAX];
static char *path[4];

static struct vigil_conf conf;
static struct conf_plugin plugins[8];
static struct conf_section sections[8];
static struct conf_kv kvs[8][4];
static char names[8][64];
static struct conf_error err;
static struct loader_set set;

#define CONF_FILE "/etc/vigil/test.ini"

static void setup(void)
{
	const char *dir = getenv("VIGIL_FIXTURE_DIR");

	ck_assert_msg(dir != NULL, "VIGIL_FIXTURE_DIR is not set (run the test through ctest)");
	snprintf(fixtures, sizeof fixtures, "%s/plugins", dir);
	memset(&conf, 0, sizeof conf);
	memset(plugins, 0, sizeof plugins);
	memset(sections, 0, sizeof sections);
	memset(&err, 0, sizeof err);
	memset(&set, 0, sizeof set);
	path[0] = fixtures;
	path[1] = NULL;
	conf.plugin_path = path;
	conf.state_dir = "/tmp";
	conf.plugins = plugins;
}

static void teardown(void)
{
	loader_close(&set);
	loader_set_release_hook(NULL);
}

/* Adds the section [KIND.NAME] (label NULL) or [KIND.NAME.LABEL], at line 10, 20, 30...,
 * with the keys given as "key", "value" pairs ending with NULL. */
static void add_section(enum vigil_plugin_kind kind, const char *name, const char *label, ...)
{
	size_t i = conf.nplugins++;
	struct conf_section *sec = &sections[i];
	const char *key;
	va_list ap;

	ck_assert_uint_lt(i, 8);
	if (label)
		snprintf(names[i], sizeof names[i], "%s.%s.%s", loader_kind_name(kind), name,
		         label);
	else
		snprintf(names[i], sizeof names[i], "%s.%s", loader_kind_name(kind), name);
	sec->name = names[i];
	sec->file = CONF_FILE;
	sec->dir = "/etc/vigil";
	sec->line = (int)(i + 1) * 10;
	sec->kv = kvs[i];
	va_start(ap, label);
	while ((key = va_arg(ap, const char *))) {
		ck_assert_uint_lt(sec->nkv, 4);
		kvs[i][sec->nkv].key = (char *)key;
		kvs[i][sec->nkv].value = (char *)va_arg(ap, const char *);
		kvs[i][sec->nkv].line = sec->line + 1 + (int)sec->nkv;
		sec->nkv++;
	}
	va_end(ap);
	plugins[i].kind = kind;
	plugins[i].plugin = (char *)name;
	plugins[i].instance = (char *)(label ? label : name);
	plugins[i].sec = sec;
}

/* A default instance: no section, defaults only. */
static void add_default(enum vigil_plugin_kind kind, const char *name)
{
	size_t i = conf.nplugins++;

	plugins[i].kind = kind;
	plugins[i].plugin = (char *)name;
	plugins[i].instance = (char *)name;
	plugins[i].sec = NULL;
}

#define assert_has(msg, want)                                                                      \
	ck_assert_msg(strstr((msg), (want)) != NULL, "message \"%s\" lacks \"%s\"", (msg), (want))

static void open_fails(void)
{
	ck_assert_int_eq(loader_open(&conf, &set, &err), -1);
	ck_assert_ptr_null(set.head);
	ck_assert_uint_eq(set.count, 0);
}

static void open_ok(void)
{
	ck_assert_msg(loader_open(&conf, &set, &err) == 0, "loader_open: %s", err.msg);
}

START_TEST(good_plugin_loads)
{
	struct vigil_instance *inst;
	char want[PATH_MAX + 32];

	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	open_ok();
	ck_assert_uint_eq(set.count, 1);
	inst = set.head;
	ck_assert_str_eq(inst->kind_name, "policy");
	ck_assert_str_eq(inst->plugin, "good");
	ck_assert_str_eq(inst->name, "good");
	ck_assert_str_eq(inst->section, "policy.good");
	snprintf(want, sizeof want, "%s/policy_good.so", fixtures);
	ck_assert_str_eq(inst->file, want);
	ck_assert_ptr_nonnull(inst->dl);
	ck_assert_int_eq(inst->desc.kind, VIGIL_KIND_POLICY);
	ck_assert_str_eq(inst->desc.name, "good");
	ck_assert(inst->desc.init != NULL);
	ck_assert_ptr_nonnull(inst->cfg);
	ck_assert_int_eq(inst->initialised, 0);
	ck_assert_ptr_eq(loader_find(&set, VIGIL_KIND_POLICY, "good"), inst);
	ck_assert_ptr_null(loader_find(&set, VIGIL_KIND_STORE, "good"));
}
END_TEST

/* ABI 1.0 is the oldest minor there is: its exact descriptor size is the oldest accepted. */
START_TEST(exact_1_0_descriptor_loads)
{
	add_section(VIGIL_KIND_POLICY, "exact", NULL, NULL);
	open_ok();
	ck_assert_uint_eq(set.head->desc.abi.struct_size, VIGIL_PLUGIN_SIZE_1_0);
	ck_assert_ptr_nonnull(set.head->desc.ops);
}
END_TEST

static const struct refusal {
	enum vigil_plugin_kind kind;
	const char *name;
	const char *reason;
} refusals[] = {
    {VIGIL_KIND_POLICY, "badmajor", "built for ABI 2.0, this vigild speaks 1.0"},
    {VIGIL_KIND_POLICY, "newminor", "built for a newer ABI 1.1, this vigild speaks 1.0"},
    {VIGIL_KIND_POLICY, "short", "short descriptor (8 bytes, ABI 1.0 needs at least "},
    {VIGIL_KIND_POLICY, "noentry", "no symbol vigil_plugin_entry_v1"},
    {VIGIL_KIND_POLICY, "unresolved", "undefined symbol: vigil_fixture_no_such_function"},
    {VIGIL_KIND_POLICY, "wrongkind", "is a monitor plugin, expected a policy"},
    {VIGIL_KIND_POLICY, "misnamed", "declares the name 'other', but its file name says 'misnamed'"},
    {VIGIL_KIND_POLICY, "noinit", "missing mandatory callback init"},
    {VIGIL_KIND_POLICY, "nodecide", "missing mandatory callback decide"},
    {VIGIL_KIND_POLICY, "shortops", "short policy ops (4 bytes, decide needs at least "},
    {VIGIL_KIND_STORE, "incomplete", "missing mandatory callback registry_load"},
};

/* Each refusal names where the section is, the file, and the reason. */
START_TEST(refusal_names_file_and_reason)
{
	const struct refusal *r = &refusals[_i];
	char want[PATH_MAX + 64];

	add_section(r->kind, r->name, NULL, NULL);
	open_fails();
	snprintf(want, sizeof want,
	         CONF_FILE ":10: [%s.%s] plugin %s/%s_%s.so: ", loader_kind_name(r->kind), r->name,
	         fixtures, loader_kind_name(r->kind), r->name);
	ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0,
	              "message \"%s\" does not start \"%s\"", err.msg, want);
	assert_has(err.msg, r->reason);
}
END_TEST

START_TEST(short_descriptor_says_how_short)
{
	char want[128];

	add_section(VIGIL_KIND_POLICY, "short", NULL, NULL);
	open_fails();
	snprintf(want, sizeof want, "(8 bytes, ABI 1.0 needs at least %zu)", VIGIL_PLUGIN_SIZE_1_0);
	assert_has(err.msg, want);
}
END_TEST

START_TEST(unresolved_symbol_is_a_load_failure)
{
	add_section(VIGIL_KIND_POLICY, "unresolved", NULL, NULL);
	open_fails();
	assert_has(err.msg, "policy_unresolved.so: cannot load: ");
}
END_TEST

START_TEST(refusal_after_good_ones_frees_them)
{
	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	add_section(VIGIL_KIND_STORE, "good", NULL, NULL);
	add_section(VIGIL_KIND_POLICY, "badmajor", NULL, NULL);
	open_fails();
	assert_has(err.msg, CONF_FILE ":30: [policy.badmajor]");
}
END_TEST

START_TEST(not_found_lists_dirs_and_suggests)
{
	char empty[] = "/tmp/vigil-test-loader-XXXXXX", want[PATH_MAX * 2];

	ck_assert_ptr_nonnull(mkdtemp(empty));
	path[0] = empty;
	path[1] = fixtures;
	path[2] = NULL;
	add_section(VIGIL_KIND_POLICY, "god", NULL, NULL);
	open_fails();
	rmdir(empty);
	snprintf(want, sizeof want,
	         CONF_FILE ":10: [policy.god] plugin policy_god.so: not found in %s, %s", empty,
	         fixtures);
	assert_has(err.msg, want);
	assert_has(err.msg, "(did you mean 'good'?)");
}
END_TEST

START_TEST(not_found_under_another_kind)
{
	add_section(VIGIL_KIND_MONITOR, "lifecycle", NULL, NULL);
	open_fails();
	assert_has(err.msg, "monitor_lifecycle.so: not found in ");
	assert_has(err.msg,
	           "there is a policy plugin 'lifecycle': did you mean [policy.lifecycle]?");
}
END_TEST

START_TEST(not_found_without_anything_close)
{
	add_section(VIGIL_KIND_POLICY, "zzzzzzzzzzzz", NULL, NULL);
	open_fails();
	assert_has(err.msg, "policy_zzzzzzzzzzzz.so: not found in ");
	ck_assert_ptr_null(strstr(err.msg, "did you mean"));
}
END_TEST

START_TEST(empty_plugin_path)
{
	path[0] = NULL;
	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	open_fails();
	assert_has(err.msg, "plugin policy_good.so: not found: plugin_path is empty");
}
END_TEST

START_TEST(first_directory_wins)
{
	char dir[] = "/tmp/vigil-test-loader-XXXXXX", link[PATH_MAX], target[PATH_MAX];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(link, sizeof link, "%s/policy_good.so", dir);
	snprintf(target, sizeof target, "%s/policy_good.so", fixtures);
	ck_assert_int_eq(symlink(target, link), 0);
	path[0] = dir;
	path[1] = fixtures;
	path[2] = NULL;
	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	ck_assert_int_eq(loader_open(&conf, &set, &err), 0);
	ck_assert_str_eq(set.head->file, link);
	unlink(link);
	rmdir(dir);
}
END_TEST

START_TEST(duplicate_instance_is_refused)
{
	add_section(VIGIL_KIND_POLICY, "good", "x", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "x", NULL);
	open_fails();
	assert_has(err.msg, CONF_FILE ":20: [policy.lifecycle.x] plugin policy_lifecycle.so: ");
	assert_has(err.msg,
	           "duplicate instance 'x': [policy.good.x] already defines a policy named 'x'");
}
END_TEST

START_TEST(same_name_in_two_kinds_is_fine)
{
	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	add_section(VIGIL_KIND_STORE, "good", NULL, NULL);
	add_section(VIGIL_KIND_MONITOR, "good", NULL, NULL);
	open_ok();
	ck_assert_uint_eq(set.count, 3);
	ck_assert_ptr_nonnull(loader_find(&set, VIGIL_KIND_STORE, "good"));
	ck_assert_ptr_nonnull(loader_find(&set, VIGIL_KIND_MONITOR, "good"));
}
END_TEST

START_TEST(two_instances_share_one_library)
{
	struct vigil_instance *a, *b;

	add_section(VIGIL_KIND_POLICY, "good", NULL, NULL);
	add_section(VIGIL_KIND_POLICY, "good", "fast", NULL);
	open_ok();
	ck_assert_uint_eq(set.count, 2);
	a = set.head;
	b = a->next;
	ck_assert_str_eq(a->name, "good");
	ck_assert_str_eq(b->name, "fast");
	ck_assert_str_eq(b->section, "policy.good.fast");
	ck_assert_ptr_eq(a->dl, b->dl);
	ck_assert_ptr_eq(loader_find(&set, VIGIL_KIND_POLICY, "fast"), b);
}
END_TEST

START_TEST(default_instance_loads)
{
	add_default(VIGIL_KIND_POLICY, "good");
	open_ok();
	ck_assert_str_eq(set.head->section, "policy.good");
	ck_assert_str_eq(set.head->name, "good");
}
END_TEST

START_TEST(default_instance_refusal_says_default)
{
	add_default(VIGIL_KIND_POLICY, "badmajor");
	open_fails();
	assert_has(err.msg, "[policy.badmajor] (default instance) plugin ");
	assert_has(err.msg, "built for ABI 2.0");
}
END_TEST

START_TEST(keys_are_validated_through_the_loader)
{
	add_section(VIGIL_KIND_POLICY, "keys", NULL, "level", "3", "speed", "fast", NULL);
	open_ok();
	ck_assert_str_eq(conf_plugin_value(set.head->cfg, "level"), "3");
	ck_assert_str_eq(conf_plugin_value(set.head->cfg, "speed"), "fast");
	ck_assert_str_eq(conf_plugin_value(set.head->cfg, "period"), "10s"); /* default */
}
END_TEST

START_TEST(bad_value_is_refused)
{
	add_section(VIGIL_KIND_POLICY, "keys", NULL, "level", "lots", NULL);
	open_fails();
	assert_has(err.msg, CONF_FILE);
	assert_has(err.msg, "level");
	assert_has(err.msg, "lots");
}
END_TEST

START_TEST(unknown_key_is_refused)
{
	add_section(VIGIL_KIND_POLICY, "keys", NULL, "level", "1", "sped", "fast", NULL);
	open_fails();
	assert_has(err.msg, "sped");
	assert_has(err.msg, "policy_keys.so");
	assert_has(err.msg, "speed"); /* did you mean */
}
END_TEST

START_TEST(missing_required_key_is_refused)
{
	add_section(VIGIL_KIND_POLICY, "keys", NULL, NULL);
	open_fails();
	assert_has(err.msg, "level");
}
END_TEST

START_TEST(kind_names)
{
	ck_assert_str_eq(loader_kind_name(VIGIL_KIND_MONITOR), "monitor");
	ck_assert_str_eq(loader_kind_name(VIGIL_KIND_POLICY), "policy");
	ck_assert_str_eq(loader_kind_name(VIGIL_KIND_STORE), "store");
	ck_assert_str_eq(loader_kind_name(VIGIL_KIND_FRONTEND), "frontend");
	ck_assert_ptr_null(loader_kind_name((enum vigil_plugin_kind)0));
	ck_assert_ptr_null(loader_kind_name((enum vigil_plugin_kind)99));
	ck_assert_int_eq(loader_kind_from_name("store"), VIGIL_KIND_STORE);
	ck_assert_int_eq(loader_kind_from_name("frontend"), VIGIL_KIND_FRONTEND);
	ck_assert_int_eq(loader_kind_from_name("policies"), -1);
	ck_assert_int_eq(loader_kind_from_name(NULL), -1);
}
END_TEST

/* Direct descriptor checks, for what the fixtures cannot express. */
static int fake_init(const struct vigil_host *host, struct vigil_instance *self, void **state)
{
	(void)host;
	(void)self;
	*state = NULL;
	return 0;
}

START_TEST(check_descriptor_directly)
{
	struct vigil_plugin d = {
	    .abi = {VIGIL_ABI_MAJOR, VIGIL_ABI_MINOR, sizeof(struct vigil_plugin)},
	    .kind = VIGIL_KIND_FRONTEND,
	    .name = "web",
	    .init = fake_init,
	};
	struct vigil_plugin n;

	/* A frontend needs no ops; expect_kind 0 and expect_name NULL accept anything. */
	ck_assert_int_eq(loader_check_descriptor(&d, "x.so", 0, NULL, &n, &err), 0);
	ck_assert_str_eq(n.name, "web");
	ck_assert_ptr_null(n.ops);

	d.kind = (enum vigil_plugin_kind)9;
	ck_assert_int_eq(loader_check_descriptor(&d, "x.so", 0, NULL, &n, &err), -1);
	ck_assert_str_eq(err.msg, "plugin x.so: unknown plugin kind 9");

	d.kind = VIGIL_KIND_FRONTEND;
	d.name = NULL;
	ck_assert_int_eq(loader_check_descriptor(&d, "x.so", 0, NULL, &n, &err), -1);
	ck_assert_str_eq(err.msg, "plugin x.so: the descriptor has no name");

	d.name = "web";
	d.kind = VIGIL_KIND_STORE;
	ck_assert_int_eq(loader_check_descriptor(&d, "x.so", VIGIL_KIND_STORE, "web", &n, &err),
	                 -1);
	assert_has(err.msg, "a store needs ops");

	d.abi.struct_size = VIGIL_PLUGIN_SIZE_1_0 - sizeof(void *);
	ck_assert_int_eq(loader_check_descriptor(&d, "x.so", 0, NULL, &n, &err), -1);
	assert_has(err.msg, "short descriptor");
}
END_TEST

/* ---- the lifecycle, driven with the fake host from the SDK ---- */

static struct vigil_fake_host fh;
static char released[8][32];
static size_t nreleased;

static const char *real_instance_name(const struct vigil_instance *self)
{
	return self->name;
}

/* The fake host serves its own key list; here the values are the loader's validated ones. */
static const char *real_cfg_string(const struct vigil_config *cfg, const char *key)
{
	return conf_plugin_value(cfg, key);
}

static void on_release(struct vigil_instance *inst)
{
	ck_assert_uint_lt(nreleased, 8);
	snprintf(released[nreleased++], sizeof released[0], "%s", inst->name);
}

static void lifecycle_setup(void)
{
	setup();
	vigil_fake_host_init(&fh);
	fh.host.instance_name = real_instance_name;
	fh.host.cfg_string = real_cfg_string;
	nreleased = 0;
	loader_set_release_hook(on_release);
}

static void lifecycle_teardown(void)
{
	teardown();
	vigil_fake_host_fini(&fh);
}

/* The lifecycle fixture's log, as "init a, configure a, ...". */
static const char *calls(void)
{
	static char buf[1024];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < fh.nlogs; i++) {
		if (fh.logs[i].level != VIGIL_LOG_INFO)
			continue;
		used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "",
		                         fh.logs[i].text);
	}
	return buf;
}

START_TEST(lifecycle_in_order_and_reverse)
{
	add_section(VIGIL_KIND_POLICY, "lifecycle", "a", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "b", "count", "2", NULL);
	open_ok();
	ck_assert_int_eq(loader_init_all(&set, &fh.host, &err), 0);
	ck_assert_int_eq(loader_start_all(&set, &err), 0);
	ck_assert_int_eq(set.head->started, 1);
	ck_assert_str_eq(calls(), "init a, configure a, init b, configure b, start a, start b");
	loader_close(&set);
	ck_assert_str_eq(calls(), "init a, configure a, init b, configure b, start a, start b, "
	                          "stop b, stop a, fini b, fini a");
	ck_assert_uint_eq(nreleased, 2);
	ck_assert_str_eq(released[0], "b");
	ck_assert_str_eq(released[1], "a");
	ck_assert_ptr_null(set.head);
	loader_close(&set); /* closing twice is harmless */
}
END_TEST

START_TEST(init_failure_names_instance_and_errno)
{
	add_section(VIGIL_KIND_POLICY, "lifecycle", "a", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "initfail", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "c", NULL);
	open_ok();
	ck_assert_int_eq(loader_init_all(&set, &fh.host, &err), -1);
	assert_has(err.msg, "policy_lifecycle.so: instance 'initfail' [policy.lifecycle.initfail]: "
	                    "init failed: ");
	assert_has(err.msg, strerror(EIO));
	loader_close(&set);
	/* Only what init()ed is fini()ed; nothing was started. */
	ck_assert_str_eq(calls(), "init a, configure a, fini a");
	ck_assert_uint_eq(nreleased, 3);
}
END_TEST

START_TEST(configure_failure_names_instance_and_errno)
{
	add_section(VIGIL_KIND_POLICY, "lifecycle", "a", "fail", "configure", NULL);
	open_ok();
	ck_assert_int_eq(loader_init_all(&set, &fh.host, &err), -1);
	assert_has(err.msg, "instance 'a' [policy.lifecycle.a]: configure failed: ");
	assert_has(err.msg, strerror(EINVAL));
	loader_close(&set);
	ck_assert_str_eq(calls(), "init a, configure a, fini a");
}
END_TEST

START_TEST(start_failure_stops_only_the_started)
{
	add_section(VIGIL_KIND_POLICY, "lifecycle", "a", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "b", "fail", "start", NULL);
	add_section(VIGIL_KIND_POLICY, "lifecycle", "c", NULL);
	open_ok();
	ck_assert_int_eq(loader_init_all(&set, &fh.host, &err), 0);
	ck_assert_int_eq(loader_start_all(&set, &err), -1);
	assert_has(err.msg, "instance 'b' [policy.lifecycle.b]: start failed: ");
	assert_has(err.msg, strerror(EADDRINUSE));
	loader_close(&set);
	ck_assert_str_eq(calls(), "init a, configure a, init b, configure b, init c, configure c, "
	                          "start a, start b, stop a, fini c, fini b, fini a");
}
END_TEST

/* The whole path a user takes: a config file, conf_load, then the loader. */
START_TEST(refusal_through_a_config_file)
{
	char dir[] = "/tmp/vigil-test-loader-XXXXXX", file[PATH_MAX];
	struct vigil_conf *c = NULL;
	FILE *f;
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/vigil.ini", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
	        "[vigil]\nstate_dir = %s\nplugin_path = %s\n\n[program.x]\ncommand = /bin/true\n"
	        "\n[policy.badmajor]\n",
	        dir, fixtures);
	fclose(f);
	rc = conf_load(file, &c, &err);
	ck_assert_msg(rc == 0, "conf_load: %s", err.msg);
	ck_assert_int_eq(loader_open(c, &set, &err), -1);
	conf_free(c);
	unlink(file);
	rmdir(dir);
	assert_has(err.msg, "vigil.ini:8: [policy.badmajor] plugin ");
	assert_has(err.msg, "policy_badmajor.so: built for ABI 2.0, this vigild speaks 1.0");
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("open");
	TCase *lc = tcase_create("lifecycle");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_plugin_loads);
	tcase_add_test(tc, exact_1_0_descriptor_loads);
	tcase_add_loop_test(tc, refusal_names_file_and_reason, 0,
	                    (int)(sizeof refusals / sizeof refusals[0]));
	tcase_add_test(tc, short_descriptor_says_how_short);
	tcase_add_test(tc, unresolved_symbol_is_a_load_failure);
	tcase_add_test(tc, refusal_after_good_ones_frees_them);
	tcase_add_test(tc, not_found_lists_dirs_and_suggests);
	tcase_add_test(tc, not_found_under_another_kind);
	tcase_add_test(tc, not_found_without_anything_close);
	tcase_add_test(tc, empty_plugin_path);
	tcase_add_test(tc, first_directory_wins);
	tcase_add_test(tc, duplicate_instance_is_refused);
	tcase_add_test(tc, same_name_in_two_kinds_is_fine);
	tcase_add_test(tc, two_instances_share_one_library);
	tcase_add_test(tc, default_instance_loads);
	tcase_add_test(tc, default_instance_refusal_says_default);
	tcase_add_test(tc, keys_are_validated_through_the_loader);
	tcase_add_test(tc, bad_value_is_refused);
	tcase_add_test(tc, unknown_key_is_refused);
	tcase_add_test(tc, missing_required_key_is_refused);
	tcase_add_test(tc, kind_names);
	tcase_add_test(tc, check_descriptor_directly);
	tcase_add_test(tc, refusal_through_a_config_file);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(lc, lifecycle_setup, lifecycle_teardown);
	tcase_add_test(lc, lifecycle_in_order_and_reverse);
	tcase_add_test(lc, init_failure_names_instance_and_errno);
	tcase_add_test(lc, configure_failure_names_instance_and_errno);
	tcase_add_test(lc, start_failure_stops_only_the_started);
	suite_add_tcase(s, lc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* test_jsonl_unit.c — unit test of the jsonl_store example with the SDK's fake host: the JSON
 * escaping of event strings and the in-memory registry. */
#include "jsonl.c" /* first: it sets the feature macros its libc calls need */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vigil/testing.h>

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static char *slurp(const char *path)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Quotes, backslashes, newlines and control characters come out escaped; UTF-8 as is. */
static void escapes_strings(const char *path)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	void *state;
	struct vigil_ev_process_starting ev = {
	    .hdr = {.type = VIGIL_EV_PROCESS_STARTING, .size = sizeof ev, .subject = "w\"eb"},
	    .program = "web",
	    .command = "sh -c \"echo a\\\\b\"\n\t\x01 \xc3\xa9",
	    .attempt = 2,
	};
	const char *want = "\"type\":\"process.starting\",\"subject\":\"w\\\"eb\",\"program\":\"web\","
	                   "\"command\":\"sh -c \\\"echo a\\\\\\\\b\\\"\\n\\t\\u0001 \xc3\xa9\","
	                   "\"attempt\":2}\n";

	vigil_fake_host_init(&fh);
	CHECK(vigil_fake_cfg_set(&fh, "path", path) == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);
	CHECK(d->start(state) == 0);
	CHECK(vigil_fake_sub_count(&fh) == 1);
	CHECK(vigil_fake_deliver(&fh, &ev.hdr) == 1);

	/* A lossy event is not a lifecycle event: not subscribed, not written. */
	struct vigil_ev_metric_custom m = {
	    .hdr = {.type = VIGIL_EV_METRIC_CUSTOM, .size = sizeof m}, .metric = "x", .value = 1};
	CHECK(vigil_fake_deliver(&fh, &m.hdr) == 0);

	const char *text = slurp(path);
	CHECK(strstr(text, want) != NULL);
	if (!strstr(text, want))
		fprintf(stderr, "got:  %swant: ...%s", text, want);
	CHECK(strncmp(text, "{\"seq\":1,\"time\":\"2023-11-14T22:13:20.000000Z\"", 44) == 0);
	d->fini(state);
	CHECK(fh.errors == 0);
	vigil_fake_host_fini(&fh);
}

static int count_entries(const struct vigil_registry_entry *e, void *arg)
{
	int *n = arg;

	if (e->pid > 0)
		(*n)++;
	return 0;
}

/* put replaces by name, remove forgets, load hands back what is left (copies, not the
 * caller's strings). */
static void keeps_the_registry(const char *path)
{
	struct vigil_fake_host fh;
	const struct vigil_plugin *d = vigil_plugin_entry_v1();
	const struct vigil_store_ops *ops = d->ops;
	void *state;
	char name[8] = "web";
	struct vigil_registry_entry e = {.size = sizeof e, .name = name, .program = "web", .pid = 10};
	int n = 0;

	vigil_fake_host_init(&fh);
	CHECK(vigil_fake_cfg_set(&fh, "path", path) == 0);
	CHECK(vigil_fake_instantiate(&fh, d, &state) == 0);
	CHECK(ops->registry_put(state, &e) == 0);
	e.pid = 11;
	CHECK(ops->registry_put(state, &e) == 0); /* replaces */
	strcpy(name, "db");
	e.pid = 12;
	CHECK(ops->registry_put(state, &e) == 0);
	strcpy(name, "xx"); /* the store must have copied */
	CHECK(ops->registry_load(state, count_entries, &n) == 0);
	CHECK(n == 2);
	CHECK(ops->registry_remove(state, "web") == 0);
	CHECK(ops->registry_remove(state, "nosuch") == 0);
	n = 0;
	CHECK(ops->registry_load(state, count_entries, &n) == 0);
	CHECK(n == 1);
	CHECK(ops->flush(state) == 0);
	d->fini(state);
	CHECK(fh.errors == 0);
	vigil_fake_host_fini(&fh);
}

int main(void)
{
	char dir[] = "/tmp/vigil-jsonl-XXXXXX", path[64];

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/events.jsonl", dir);
	escapes_strings(path);
	keeps_the_registry(path);
	unlink(path);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "test_jsonl_unit: %d check(s) failed\n", failures);
		return 1;
	}
	printf("test_jsonl_unit: ok\n");
	return 0;
}

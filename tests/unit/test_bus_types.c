/* test_bus_types.c — the fake host of the SDK (testing.h) knows the event types exactly as the
 * core's bus does: same names, struct sizes and copied strings, so plugin unit tests see what
 * the daemon delivers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/testing.h>

#include "bus.h"

struct ctx {
	size_t seen;
};

static void compare(const struct bus_type *t, void *arg)
{
	struct ctx *c = arg;
	const struct vigil_fake_evtype_ *f = NULL;
	for (size_t i = 0; (f = vigil_fake_evtype_at_(i)); i++)
		if (f->type == t->type)
			break;
	ck_assert_msg(f != NULL, "testing.h lacks the type %s", t->name);
	ck_assert_str_eq(f->name, t->name);
	ck_assert_int_eq(f->size, t->min_size);
	size_t nf = 0, nc = 0;
	while (nf < sizeof f->strings / sizeof f->strings[0] && f->strings[nf])
		nf++;
	while (nc < sizeof t->strings / sizeof t->strings[0] && t->strings[nc])
		nc++;
	ck_assert_msg(nf == nc, "%s: %zu copied strings in testing.h, %zu in the core", t->name, nf,
	              nc);
	for (size_t i = 0; i < nc; i++) {
		int found = 0;
		for (size_t j = 0; j < nf; j++)
			found |= f->strings[j] == t->strings[i];
		ck_assert_msg(found, "%s: string at offset %u is not copied by testing.h", t->name,
		              t->strings[i]);
	}
	c->seen++;
}

START_TEST(same_types)
{
	struct ctx c = {0};
	bus_type_foreach(compare, &c);
	size_t nfake = 0;
	while (vigil_fake_evtype_at_(nfake))
		nfake++;
	ck_assert_int_eq(c.seen, nfake);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus_types");
	TCase *tc = tcase_create("registry");
	tcase_add_test(tc, same_types);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

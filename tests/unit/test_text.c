/* Tests for text.c: bounded appends stay terminated and cut what does not
 * fit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cwld/text.h"

static void
test_appendf_fits(void **state)
{
	char buf[32];
	size_t off = 0;

	(void)state;
	text_appendf(buf, sizeof buf, &off, "%s %d", "step", 3);
	text_appendf(buf, sizeof buf, &off, ", %s", "done");
	assert_string_equal(buf, "step 3, done");
	assert_int_equal(off, strlen("step 3, done"));
}

static void
test_appendf_cuts(void **state)
{
	char buf[8];
	size_t off = 0;

	(void)state;
	text_appendf(buf, sizeof buf, &off, "%s", "abcdef");
	text_appendf(buf, sizeof buf, &off, "%s", "ghijkl");
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(off, 7);
	/* full: nothing more goes in, still terminated */
	text_appendf(buf, sizeof buf, &off, "%s", "x");
	assert_string_equal(buf, "abcdefg");
	assert_int_equal(off, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appendf_fits),
		cmocka_unit_test(test_appendf_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

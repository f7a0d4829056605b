/* relocate: final outputs move into --outdir (the run's own files renamed,
 * passed-through inputs copied), clashing basenames get a suffix, a file
 * named twice is moved once, directory listings follow their directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/fs.h"
#include "cwld/relocate.h"
#include "cwld/xmalloc.h"

static char *
relocate_test_write(const char *dir, const char *name, const char *text)
{
	char *p = fs_join(dir, name);
	struct cwld_err err = { 0 };

	assert_int_equal(fs_write_file_atomic(p, text, strlen(text), &err), 0);
	return p;
}

static json_t *
relocate_test_file(const char *path)
{
	return json_pack("{s:s,s:s,s:s}", "class", "File", "path", path,
	    "basename", strrchr(path, '/') + 1);
}

static void
test_move_copy_and_clash(void **state)
{
	struct cwld_err err = { 0 };
	char *root = fs_mkdtemp("/tmp", "cwld-reloc", &err);
	char *run = fs_join(root, "run"), *a = fs_join(run, "a"), *b = fs_join(run, "b");
	char *in = fs_join(root, "inputs"), *out = fs_join(root, "out");
	char *f1, *f2, *f3, *expect;
	json_t *o;

	(void)state;
	assert_non_null(root);
	assert_int_equal(fs_mkdir_p(a, &err), 0);
	assert_int_equal(fs_mkdir_p(b, &err), 0);
	assert_int_equal(fs_mkdir_p(in, &err), 0);
	f1 = relocate_test_write(a, "r.txt", "one\n");
	f2 = relocate_test_write(b, "r.txt", "two\n");
	f3 = relocate_test_write(in, "input.txt", "in\n");
	o = json_pack("{s:o,s:o,s:o,s:o}", "x", relocate_test_file(f1), "y", relocate_test_file(f2),
	    "z", relocate_test_file(f3), "again", relocate_test_file(f1));
	assert_int_equal(relocate_outputs_from(o, out, run, &err), 0);

	expect = fs_join(out, "r.txt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "x"), "path")), expect);
	free(expect);
	/* a clash keeps the extension after the suffix */
	expect = fs_join(out, "r_2.txt");
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "y"), "path")), expect);
	free(expect);
	/* the same file twice: one move, both point at it */
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "again"), "path")),
	    json_string_value(json_object_get(json_object_get(o, "x"), "path")));
	/* the run's own file moved; the input copied and still in place */
	assert_false(fs_exists(f1));
	assert_true(fs_exists(f3));
	expect = fs_join(out, "input.txt");
	assert_true(fs_exists(expect));
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(o, "z"), "location")),
	    "file://"));
	free(expect);

	json_decref(o);
	assert_int_equal(fs_rm_rf(root, &err), 0);
	free(f1); free(f2); free(f3);
	free(root); free(run); free(a); free(b); free(in); free(out);
}

static void
test_directory_listing_follows(void **state)
{
	struct cwld_err err = { 0 };
	char *root = fs_mkdtemp("/tmp", "cwld-reloc", &err);
	char *run = fs_join(root, "run"), *d = fs_join(run, "d"), *out = fs_join(root, "out");
	char *f, *expect;
	json_t *dir, *o;

	(void)state;
	assert_int_equal(fs_mkdir_p(d, &err), 0);
	f = relocate_test_write(d, "inner.txt", "x\n");
	dir = json_pack("{s:s,s:s,s:s,s:[o]}", "class", "Directory", "path", d, "basename", "d",
	    "listing", relocate_test_file(f));
	o = json_pack("{s:o}", "dir", dir);
	assert_int_equal(relocate_outputs_from(o, out, run, &err), 0);
	expect = fs_join(out, "d/inner.txt");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(json_object_get(json_object_get(o, "dir"), "listing"), 0), "path")), expect);
	assert_true(fs_exists(expect));
	free(expect);
	json_decref(o);
	assert_int_equal(fs_rm_rf(root, &err), 0);
	free(f); free(root); free(run); free(d); free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_copy_and_clash),
		cmocka_unit_test(test_directory_listing_follows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

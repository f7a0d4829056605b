/* Unit tests for fs.c: directory creation and removal, copies, whole-file
 * reads with caps, atomic writes, sha1 and path string helpers. Everything
 * happens under a fresh temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwld/fs.h"
#include "cwld/xmalloc.h"

static int
fs_test_setup(void **state)
{
	struct cwld_err err = { 0 };
	const char *tmp = getenv("TMPDIR");

	*state = fs_mkdtemp(tmp != NULL ? tmp : "/tmp", "cwld-test-fs.", &err);
	return *state == NULL ? -1 : 0;
}

static int
fs_test_teardown(void **state)
{
	struct cwld_err err = { 0 };
	int rc = fs_rm_rf(*state, &err);

	free(*state);
	return rc;
}

static void
write_str(const char *path, const char *s)
{
	struct cwld_err err = { 0 };

	assert_int_equal(fs_write_file_atomic(path, s, strlen(s), &err), 0);
}

static void
test_mkdir_rm(void **state)
{
	struct cwld_err err = { 0 };
	char *deep = fs_join(*state, "a/b/c/d");
	char *top = fs_join(*state, "a");
	char *f = fs_join(*state, "a/b/file");
	char *ro = fs_join(*state, "a/b/c");

	assert_int_equal(fs_mkdir_p(deep, &err), 0);
	assert_true(fs_is_dir(deep));
	assert_int_equal(fs_mkdir_p(deep, &err), 0); /* exists: fine */
	write_str(f, "x");
	assert_int_equal(fs_mkdir_p(f, &err), -1);    /* a file is in the way */
	assert_non_null(strstr(err.msg, "file"));
	assert_int_equal(chmod(ro, 0500), 0);         /* read-only dir */
	assert_int_equal(fs_rm_rf(top, &err), 0);
	assert_false(fs_exists(top));
	assert_int_equal(fs_rm_rf(top, &err), 0);     /* missing: fine */
	free(deep);
	free(top);
	free(f);
	free(ro);
}

static void
test_read_write(void **state)
{
	struct cwld_err err = { 0 };
	char *f = fs_join(*state, "r.txt");
	char *missing = fs_join(*state, "missing");
	char *buf;
	size_t len = 99;

	write_str(f, "hello\n");
	assert_int_equal(fs_file_size(f), 6);
	buf = fs_read_file(f, 100, &len, &err);
	assert_non_null(buf);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "hello\n");
	free(buf);
	buf = fs_read_file(f, 6, NULL, &err); /* exactly the cap */
	assert_non_null(buf);
	free(buf);
	assert_null(fs_read_file(f, 5, &len, &err));
	assert_int_equal(err.code, 2);
	assert_non_null(strstr(err.msg, "larger than 5"));
	assert_null(fs_read_file(missing, 5, &len, &err));
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(fs_file_size(missing), -1);
	/* overwrite atomically, including empty content */
	write_str(f, "");
	buf = fs_read_file(f, 100, &len, &err);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	free(f);
	free(missing);
}

static void
test_big_read(void **state)
{
	struct cwld_err err = { 0 };
	char *f = fs_join(*state, "big");
	size_t n = 100000, len = 0, i;
	char *data = xmalloc(n), *buf;

	for (i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(fs_write_file_atomic(f, data, n, &err), 0);
	buf = fs_read_file(f, n, &len, &err);
	assert_non_null(buf);
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	free(buf);
	assert_null(fs_read_file(f, n - 1, &len, &err));
	free(data);
	free(f);
}

static void
test_sha1(void **state)
{
	struct cwld_err err = { 0 };
	char *f = fs_join(*state, "s");
	char out[46];

	write_str(f, "abc");
	assert_int_equal(fs_sha1_file(f, out, sizeof out, &err), 0);
	assert_string_equal(out, "sha1$a9993e364706816aba3e25717850c26c9cd0d89d");
	write_str(f, "");
	assert_int_equal(fs_sha1_file(f, out, sizeof out, &err), 0);
	assert_string_equal(out, "sha1$da39a3ee5e6b4b0d3255bfef95601890afd80709");
	assert_int_equal(fs_sha1_file(f, out, 20, &err), -1);
	free(f);
}

static void
test_copy(void **state)
{
	struct cwld_err err = { 0 };
	char *src = fs_join(*state, "src");
	char *sub = fs_join(*state, "src/sub");
	char *f1 = fs_join(*state, "src/f1");
	char *f2 = fs_join(*state, "src/sub/f2");
	char *dst = fs_join(*state, "dst");
	char *d2 = fs_join(*state, "dst/sub/f2");
	char *single = fs_join(*state, "single");
	char *buf;
	struct stat st;

	assert_int_equal(fs_mkdir_p(sub, &err), 0);
	write_str(f1, "one");
	write_str(f2, "two");
	assert_int_equal(chmod(f2, 0755), 0);
	assert_int_equal(fs_copy(src, dst, &err), 0);
	buf = fs_read_file(d2, 100, NULL, &err);
	assert_non_null(buf);
	assert_string_equal(buf, "two");
	free(buf);
	assert_int_equal(stat(d2, &st), 0);
	assert_true(st.st_mode & S_IXUSR);
	assert_int_equal(fs_copy(f1, single, &err), 0);
	buf = fs_read_file(single, 100, NULL, &err);
	assert_string_equal(buf, "one");
	free(buf);
	assert_int_equal(fs_copy("/nonexistent/x", single, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	free(src);
	free(sub);
	free(f1);
	free(f2);
	free(dst);
	free(d2);
	free(single);
}

static void
check_str(char *got, const char *want)
{
	assert_string_equal(got, want);
	free(got);
}

static void
test_paths(void **state)
{
	char *cwd;

	(void)state;
	check_str(fs_dirname("/a/b/c"), "/a/b");
	check_str(fs_dirname("/a/b/"), "/a");
	check_str(fs_dirname("a"), ".");
	check_str(fs_dirname("/a"), "/");
	check_str(fs_dirname("/"), "/");
	check_str(fs_dirname("a//b"), "a");
	check_str(fs_basename("/a/b/c.txt"), "c.txt");
	check_str(fs_basename("/a/b/"), "b");
	check_str(fs_basename("c"), "c");
	check_str(fs_basename("/"), "/");
	check_str(fs_basename(""), ".");
	check_str(fs_join("/a", "b"), "/a/b");
	check_str(fs_join("/a/", "b"), "/a/b");
	check_str(fs_join("/a", "/b"), "/b");
	check_str(fs_join("/", "b"), "/b");
	check_str(fs_join("", "b"), "b");
	check_str(fs_join("a", ""), "a");
	check_str(fs_abspath("/a/./b/../c"), "/a/c");
	check_str(fs_abspath("/../.."), "/");
	check_str(fs_abspath("//a//b/"), "/a/b");
	check_str(fs_abspath("/a/b/.."), "/a");
	cwd = getcwd(NULL, 0);
	assert_non_null(cwd);
	check_str(fs_abspath("."), cwd);
	free(cwd);
}

static void
test_mkdtemp(void **state)
{
	struct cwld_err err = { 0 };
	char *parent = fs_join(*state, "p/q");
	char *a = fs_mkdtemp(parent, "job.", &err);
	char *b = fs_mkdtemp(parent, "job.", &err);
	char *base;

	assert_non_null(a);
	assert_non_null(b);
	assert_string_not_equal(a, b);
	assert_true(fs_is_dir(a));
	base = fs_basename(a);
	assert_true(strncmp(base, "job.", 4) == 0);
	free(base);
	free(a);
	free(b);
	free(parent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mkdir_rm, fs_test_setup, fs_test_teardown),
		cmocka_unit_test_setup_teardown(test_read_write, fs_test_setup, fs_test_teardown),
		cmocka_unit_test_setup_teardown(test_big_read, fs_test_setup, fs_test_teardown),
		cmocka_unit_test_setup_teardown(test_sha1, fs_test_setup, fs_test_teardown),
		cmocka_unit_test_setup_teardown(test_copy, fs_test_setup, fs_test_teardown),
		cmocka_unit_test(test_paths),
		cmocka_unit_test_setup_teardown(test_mkdtemp, fs_test_setup, fs_test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

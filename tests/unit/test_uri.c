/* Unit tests for uri.c: RFC 3986 resolution (including the normal and
 * abnormal examples of section 5.4), file:// conversions and fragments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwld/uri.h"

static void
check_resolve(const char *base, const char *ref, const char *want)
{
	char *got = uri_resolve(base, ref);

	assert_non_null(got);
	if (strcmp(got, want) != 0)
		print_error("resolve('%s', '%s') = '%s', want '%s'\n",
		    base ? base : "(null)", ref, got, want);
	assert_string_equal(got, want);
	free(got);
}

static void
test_resolve_cwl(void **state)
{
	(void)state;
	check_resolve("file:///a/b.cwl", "c.cwl", "file:///a/c.cwl");
	check_resolve("file:///a/b.cwl", "#x", "file:///a/b.cwl#x");
	check_resolve("file:///a/b.cwl#main", "#x", "file:///a/b.cwl#x");
	check_resolve("file:///a/b/c.cwl", "../x", "file:///a/x");
	check_resolve("file:///a/b/c.cwl", "../../../x", "file:///x");
	check_resolve("file:///a/b/c.cwl", "./d/e.yml", "file:///a/b/d/e.yml");
	check_resolve("file:///a/b/c.cwl", "/etc/x", "file:///etc/x");
	check_resolve("file:///a/b.cwl", "http://h/x.cwl", "http://h/x.cwl");
	check_resolve("file:///a/b.cwl", "s3://bucket/k", "s3://bucket/k");
	check_resolve("file:///a/b.cwl", "", "file:///a/b.cwl");
	check_resolve("file:///a/", "my%20file.txt", "file:///a/my%20file.txt");
	check_resolve("http://h", "x", "http://h/x");
	/* schemeless bases behave as paths */
	check_resolve("/a/b.cwl", "c.cwl", "/a/c.cwl");
	check_resolve("dir/b.cwl", "../../c.cwl", "../c.cwl");
	check_resolve("b.cwl", "c.cwl", "c.cwl");
	check_resolve(NULL, "c.cwl", "c.cwl");
}

static void
test_resolve_rfc(void **state)
{
	static const char *cases[][2] = {
		{ "g:h", "g:h" }, { "g", "http://a/b/c/g" },
		{ "./g", "http://a/b/c/g" }, { "g/", "http://a/b/c/g/" },
		{ "/g", "http://a/g" }, { "//g", "http://g" },
		{ "?y", "http://a/b/c/d;p?y" }, { "g?y", "http://a/b/c/g?y" },
		{ "#s", "http://a/b/c/d;p?q#s" }, { "g#s", "http://a/b/c/g#s" },
		{ "g?y#s", "http://a/b/c/g?y#s" }, { ";x", "http://a/b/c/;x" },
		{ "g;x", "http://a/b/c/g;x" }, { "", "http://a/b/c/d;p?q" },
		{ ".", "http://a/b/c/" }, { "./", "http://a/b/c/" },
		{ "..", "http://a/b/" }, { "../", "http://a/b/" },
		{ "../g", "http://a/b/g" }, { "../..", "http://a/" },
		{ "../../", "http://a/" }, { "../../g", "http://a/g" },
		{ "../../../g", "http://a/g" }, { "../../../../g", "http://a/g" },
		{ "/./g", "http://a/g" }, { "/../g", "http://a/g" },
		{ "g.", "http://a/b/c/g." }, { ".g", "http://a/b/c/.g" },
		{ "g..", "http://a/b/c/g.." }, { "..g", "http://a/b/c/..g" },
		{ "./../g", "http://a/b/g" }, { "./g/.", "http://a/b/c/g/" },
		{ "g/./h", "http://a/b/c/g/h" }, { "g/../h", "http://a/b/c/h" },
		{ "g;x=1/./y", "http://a/b/c/g;x=1/y" },
		{ "g;x=1/../y", "http://a/b/c/y" },
		{ "g?y/./x", "http://a/b/c/g?y/./x" },
		{ "g#s/../x", "http://a/b/c/g#s/../x" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_resolve("http://a/b/c/d;p?q", cases[i][0], cases[i][1]);
}

static void
test_path_roundtrip(void **state)
{
	static const char *paths[] = {
		"/tmp/plain.txt", "/tmp/with space/a b.txt", "/tmp/100%.txt",
		"/tmp/hash#x?y", "/tmp/ünï.txt", "/tmp/a+b=c&d@e:f", "/",
	};
	char *u, *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		u = uri_from_path(paths[i]);
		assert_true(strncmp(u, "file:///", 8) == 0 ||
		    strcmp(u, "file:///") == 0);
		assert_null(strchr(u, ' '));
		assert_null(strchr(u, '#'));
		p = uri_to_path(u);
		assert_non_null(p);
		assert_string_equal(p, paths[i]);
		free(u);
		free(p);
	}
	u = uri_from_path("/tmp/with space/100%");
	assert_string_equal(u, "file:///tmp/with%20space/100%25");
	free(u);
}

static void
test_from_path_relative(void **state)
{
	char *cwd, *u, *want;
	size_t n;

	(void)state;
	cwd = getcwd(NULL, 0);
	assert_non_null(cwd);
	u = uri_from_path("./sub/../x.cwl");
	n = strlen(cwd);
	want = malloc(n + 16);
	assert_non_null(want);
	memcpy(want, "file://", 7);
	memcpy(want + 7, cwd, n);
	memcpy(want + 7 + n, "/x.cwl", 7);
	/* cwd of the test has no characters needing escapes in practice */
	if (strspn(cwd, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789/-._~") == n)
		assert_string_equal(u, want);
	free(want);
	free(u);
	free(cwd);
}

static void
test_to_path(void **state)
{
	char *p;

	(void)state;
	p = uri_to_path("file:///a/b%20c");
	assert_string_equal(p, "/a/b c");
	free(p);
	p = uri_to_path("file://localhost/a/b");
	assert_string_equal(p, "/a/b");
	free(p);
	p = uri_to_path("file:/a/b");
	assert_string_equal(p, "/a/b");
	free(p);
	p = uri_to_path("file:///a/b.cwl#main");
	assert_string_equal(p, "/a/b.cwl");
	free(p);
	p = uri_to_path("file:///a/%zz%4");
	assert_string_equal(p, "/a/%zz%4");
	free(p);
	p = uri_to_path("file:///a/%00b");
	assert_string_equal(p, "/a/%00b");
	free(p);
	p = uri_to_path("relative/x y");
	assert_string_equal(p, "relative/x y");
	free(p);
	assert_null(uri_to_path("http://example.com/x"));
	assert_null(uri_to_path("s3://bucket/key"));
}

static void
test_fragments(void **state)
{
	char *s;

	(void)state;
	assert_string_equal(uri_fragment("file:///a.cwl#main/step"), "main/step");
	assert_string_equal(uri_fragment("#x"), "x");
	assert_string_equal(uri_fragment("a#"), "");
	assert_null(uri_fragment("file:///a.cwl"));
	s = uri_strip_fragment("file:///a.cwl#main");
	assert_string_equal(s, "file:///a.cwl");
	free(s);
	s = uri_strip_fragment("file:///a.cwl");
	assert_string_equal(s, "file:///a.cwl");
	free(s);
}

static void
test_has_scheme(void **state)
{
	(void)state;
	assert_true(uri_has_scheme("file:///x"));
	assert_true(uri_has_scheme("http://x"));
	assert_true(uri_has_scheme("s3://b/k"));
	assert_true(uri_has_scheme("git+ssh://x"));
	assert_false(uri_has_scheme("/abs/path"));
	assert_false(uri_has_scheme("rel/path:x"));
	assert_false(uri_has_scheme("#frag"));
	assert_false(uri_has_scheme("1abc:x"));
	assert_false(uri_has_scheme("noscheme"));
	assert_false(uri_has_scheme(""));
	assert_false(uri_has_scheme(NULL));
}

static void
test_percent_encode(void **state)
{
	char *s;

	(void)state;
	s = uri_percent_encode("a b/c~d\xc3\xa9%", "-._~");
	assert_string_equal(s, "a%20b%2Fc~d%C3%A9%25");
	free(s);
	s = uri_percent_encode("a b/c:d@e", "/:@");
	assert_string_equal(s, "a%20b/c:d@e");
	free(s);
	s = uri_percent_encode("", "");
	assert_string_equal(s, "");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_cwl),
		cmocka_unit_test(test_percent_encode),
		cmocka_unit_test(test_resolve_rfc),
		cmocka_unit_test(test_path_roundtrip),
		cmocka_unit_test(test_from_path_relative),
		cmocka_unit_test(test_to_path),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_has_scheme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

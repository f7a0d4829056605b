/* confine: paths, relative paths and file:// URIs resolve inside the roots
 * (symlinks within and between roots followed); "..", symlinks out, prefix
 * lookalikes, other hosts and schemes, NUL bytes and missing files are
 * refused with a message naming the path. Real directories under /tmp. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "cwld/confine.h"
#include "cwld/fs.h"
#include "cwld/xmalloc.h"

struct confine_fixture {
	char *base;  /* realpath of the test directory */
	char *root;  /* base/root, the first root */
	char *root2; /* base/root2 */
	struct confine *c;
};

/* A symlink at base/name pointing to target (taken as is). */
static void
confine_test_symlink(const char *base, const char *name, const char *target)
{
	char *p = fs_join(base, name);

	if (symlink(target, p) != 0)
		fail_msg("symlink '%s' -> '%s': %s", p, target, strerror(errno));
	free(p);
}

static int
confine_setup(void **state)
{
	struct confine_fixture *f = xcalloc(1, sizeof *f);
	struct cwld_err err = { 0 };
	const char *tmp = getenv("TMPDIR");
	char *dir, *t;

	dir = fs_mkdtemp(tmp != NULL ? tmp : "/tmp", "cwld-test-confine.", &err);
	assert_non_null(dir);
	/* /tmp itself may be a symlink: compare against canonical paths. */
	f->base = realpath(dir, NULL);
	free(dir);
	assert_non_null(f->base);
	f->root = fs_join(f->base, "root");
	f->root2 = fs_join(f->base, "root2");

	tu_mkdir(f->base, "root");
	tu_mkdir(f->base, "root2");
	tu_mkdir(f->base, "rootother");
	tu_mkdir(f->base, "outside");
	tu_write(f->base, "outside/secret.txt", "secret\n");
	tu_write(f->base, "rootother/x.txt", "x\n");
	tu_write(f->root2, "c.txt", "c\n");
	tu_write(f->root, "a.txt", "a\n");
	tu_write(f->root, "with space.txt", "s\n");
	tu_write(f->root, "pct%.txt", "p\n");
	tu_mkdir(f->root, "sub");
	tu_write(f->root, "sub/b.txt", "b\n");

	t = fs_join(f->base, "outside");
	confine_test_symlink(f->root, "link_out", t); /* directory escape */
	free(t);
	t = fs_join(f->base, "outside/secret.txt");
	confine_test_symlink(f->root, "link_file_out", t);
	free(t);
	confine_test_symlink(f->root, "link_rel_out", "../outside/secret.txt");
	confine_test_symlink(f->root, "link_in", "sub");
	t = fs_join(f->root2, "c.txt");
	confine_test_symlink(f->root, "link_root2", t);
	free(t);
	confine_test_symlink(f->root, "loop", "loop");
	confine_test_symlink(f->base, "alias", "root");

	f->c = confine_new();
	assert_int_equal(confine_add_root(f->c, f->root, &err), 0);
	assert_int_equal(confine_add_root(f->c, f->root2, &err), 0);
	*state = f;
	return 0;
}

static int
confine_teardown(void **state)
{
	struct confine_fixture *f = *state;
	struct cwld_err err = { 0 };

	confine_free(f->c);
	assert_int_equal(fs_rm_rf(f->base, &err), 0);
	free(f->base);
	free(f->root);
	free(f->root2);
	free(f);
	return 0;
}

/* path resolves to dir/rel (rel NULL: dir itself). */
static void
confine_expect(const struct confine *c, const char *path, const char *dir,
    const char *rel)
{
	struct cwld_err err = { 0 };
	char *want = rel != NULL ? fs_join(dir, rel) : xstrdup(dir);
	char *got = confine_resolve(c, path, &err);

	if (got == NULL)
		fail_msg("'%s' refused: %s", path, err.msg);
	if (strcmp(got, want) != 0)
		fail_msg("'%s' resolved to '%s', want '%s'", path, got, want);
	assert_int_equal(err.code, 0);
	free(got);
	free(want);
}

/* path is refused with a message containing why and naming the path. */
static void
confine_expect_refused(const struct confine *c, const char *path,
    const char *why)
{
	struct cwld_err err = { 0 };
	char *got = confine_resolve(c, path, &err);

	if (got != NULL)
		fail_msg("'%s' accepted as '%s', want refused (%s)", path, got,
		    why);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	if (strstr(err.msg, why) == NULL)
		fail_msg("'%s': message '%s' does not say '%s'", path, err.msg,
		    why);
	if (path[0] != '\0' && strstr(err.msg, path) == NULL)
		fail_msg("'%s': message '%s' does not name the path", path,
		    err.msg);
}

static void
test_add_root(void **state)
{
	struct confine_fixture *f = *state;
	struct cwld_err err = { 0 };
	struct confine *c = confine_new();
	char *missing = fs_join(f->base, "missing");
	char *file = fs_join(f->root, "a.txt");
	char *alias = fs_join(f->base, "alias");

	assert_int_equal(confine_add_root(c, missing, &err), -1);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "does not exist"));
	assert_non_null(strstr(err.msg, missing));

	memset(&err, 0, sizeof err);
	assert_int_equal(confine_add_root(c, file, &err), -1);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "not a directory"));

	memset(&err, 0, sizeof err);
	assert_int_equal(confine_add_root(c, "", &err), -1);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);

	/* Failed additions left no root behind. */
	confine_expect_refused(c, "a.txt", "none configured");
	confine_expect_refused(c, file, "none configured");

	/* A root named through a symlink is stored as what it names, and is
	 * then the base for relative paths. */
	memset(&err, 0, sizeof err);
	assert_int_equal(confine_add_root(c, alias, &err), 0);
	confine_expect(c, "a.txt", f->root, "a.txt");
	confine_expect(c, alias, f->root, NULL);

	confine_free(c);
	confine_free(NULL);
	free(missing);
	free(file);
	free(alias);
}

static void
test_inside(void **state)
{
	struct confine_fixture *f = *state;
	char *p;

	confine_expect(f->c, "a.txt", f->root, "a.txt");
	confine_expect(f->c, "./sub//b.txt", f->root, "sub/b.txt");
	confine_expect(f->c, "sub/../a.txt", f->root, "a.txt");
	confine_expect(f->c, "sub/", f->root, "sub");
	confine_expect(f->c, ".", f->root, NULL);
	confine_expect(f->c, "with space.txt", f->root, "with space.txt");
	/* Relative paths start at the first root but may reach another. */
	confine_expect(f->c, "../root2/c.txt", f->root2, "c.txt");
	/* Symlinks within a root and between roots are followed. */
	confine_expect(f->c, "link_in/b.txt", f->root, "sub/b.txt");
	confine_expect(f->c, "link_in", f->root, "sub");
	confine_expect(f->c, "link_root2", f->root2, "c.txt");

	confine_expect(f->c, f->root, f->root, NULL);
	confine_expect(f->c, f->root2, f->root2, NULL);
	p = fs_join(f->root2, "c.txt");
	confine_expect(f->c, p, f->root2, "c.txt");
	free(p);
	p = xasprintf("%s/", f->root);
	confine_expect(f->c, p, f->root, NULL);
	free(p);
	p = fs_join(f->root, "sub/../sub/./b.txt");
	confine_expect(f->c, p, f->root, "sub/b.txt");
	free(p);
	/* Through a symlinked alias of the root. */
	p = fs_join(f->base, "alias/a.txt");
	confine_expect(f->c, p, f->root, "a.txt");
	free(p);
}

static void
test_file_uri(void **state)
{
	struct confine_fixture *f = *state;
	char *p;

	p = xasprintf("file://%s/with%%20space.txt", f->root);
	confine_expect(f->c, p, f->root, "with space.txt");
	free(p);
	p = xasprintf("file://%s/pct%%25.txt", f->root);
	confine_expect(f->c, p, f->root, "pct%.txt");
	free(p);
	p = xasprintf("file://localhost%s/a.txt", f->root);
	confine_expect(f->c, p, f->root, "a.txt");
	free(p);
	p = xasprintf("FILE://LocalHost%s/sub/b.txt", f->root);
	confine_expect(f->c, p, f->root, "sub/b.txt");
	free(p);
	p = xasprintf("file://%s/sub/%%2e%%2e/a.txt", f->root);
	confine_expect(f->c, p, f->root, "a.txt");
	free(p);
	p = xasprintf("file://%s%%2fsub%%2Fb.txt", f->root);
	confine_expect(f->c, p, f->root, "sub/b.txt");
	free(p);

	/* Percent-escapes are decoded before the check, not after. */
	p = xasprintf("file://%s/%%2e%%2e/outside/secret.txt", f->root);
	confine_expect_refused(f->c, p, "outside the allowed roots");
	free(p);
	confine_expect_refused(f->c, "file:///etc/passwd",
	    "outside the allowed roots");
	p = xasprintf("file://evil.example%s/a.txt", f->root);
	confine_expect_refused(f->c, p, "host 'evil.example'");
	free(p);
	p = xasprintf("file://%s/a.txt%%00.png", f->root);
	confine_expect_refused(f->c, p, "NUL byte");
	free(p);
	confine_expect_refused(f->c, "http://example.com/a.txt",
	    "only file:// URIs");
	confine_expect_refused(f->c, "s3://bucket/a.txt", "only file:// URIs");
}

static void
test_outside(void **state)
{
	struct confine_fixture *f = *state;
	char *p;

	confine_expect_refused(f->c, "..", "outside the allowed roots");
	confine_expect_refused(f->c, "../outside/secret.txt",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "sub/../../outside/secret.txt",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "/", "outside the allowed roots");
	confine_expect_refused(f->c, "/etc/passwd", "outside the allowed roots");
	confine_expect_refused(f->c, f->base, "outside the allowed roots");
	p = fs_join(f->base, "outside/secret.txt");
	confine_expect_refused(f->c, p, "outside the allowed roots");
	free(p);
	p = fs_join(f->root, "../outside/secret.txt");
	confine_expect_refused(f->c, p, "outside the allowed roots");
	free(p);
	/* Prefix lookalikes: base/rootother starts with base/root. */
	p = fs_join(f->base, "rootother/x.txt");
	confine_expect_refused(f->c, p, "outside the allowed roots");
	free(p);
	p = fs_join(f->base, "rootother");
	confine_expect_refused(f->c, p, "outside the allowed roots");
	free(p);
	confine_expect_refused(f->c, "../rootother/x.txt",
	    "outside the allowed roots");
	/* Symlinks inside a root that point out of every root. */
	confine_expect_refused(f->c, "link_out", "outside the allowed roots");
	confine_expect_refused(f->c, "link_out/secret.txt",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "link_file_out",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "link_rel_out",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "link_in/../link_out/secret.txt",
	    "outside the allowed roots");
	/* A missing file outside is "outside", not "does not exist", so the
	 * answer says nothing about what exists there, also behind a symlink. */
	confine_expect_refused(f->c, "link_out/missing.txt",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "link_out/missing/deeper/x",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "/nonexistent-cwld-dir/x",
	    "outside the allowed roots");
	confine_expect_refused(f->c, "../missing.txt",
	    "outside the allowed roots");
}

static void
test_refused_other(void **state)
{
	struct confine_fixture *f = *state;
	struct cwld_err err = { 0 };
	static const char with_nul[] = "a.txt\0/../../outside/secret.txt";
	char *exact, *got;

	confine_expect_refused(f->c, "", "empty path");
	confine_expect_refused(f->c, "missing.txt", "does not exist");
	confine_expect_refused(f->c, "sub/missing/x", "does not exist");
	confine_expect_refused(f->c, "a.txt/x", "does not exist");
	confine_expect_refused(f->c, "loop", strerror(ELOOP));

	assert_null(confine_resolve_mem(f->c, with_nul, sizeof with_nul - 1,
	    &err));
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "NUL byte"));
	assert_non_null(strstr(err.msg, "a.txt"));

	memset(&err, 0, sizeof err);
	assert_null(confine_resolve_mem(f->c, "a.txt", 0, &err));
	assert_string_equal(err.msg, "empty path");

	/* Only len bytes count; the buffer has no terminator (ASan checks). */
	exact = xmalloc(8);
	memcpy(exact, "a.txtXYZ", 8);
	memset(&err, 0, sizeof err);
	got = confine_resolve_mem(f->c, exact, 5, &err);
	assert_non_null(got);
	assert_int_equal(strncmp(got, f->root, strlen(f->root)), 0);
	assert_string_equal(got + strlen(f->root), "/a.txt");
	free(got);
	memset(&err, 0, sizeof err);
	assert_null(confine_resolve_mem(f->c, exact, 8, &err));
	assert_non_null(strstr(err.msg, "does not exist"));
	free(exact);

	/* A NULL err is allowed. */
	assert_null(confine_resolve(f->c, "/etc/passwd", NULL));
}

static void
test_root_slash(void **state)
{
	struct confine_fixture *f = *state;
	struct cwld_err err = { 0 };
	struct confine *c = confine_new();

	/* The root "/" admits everything, which exercises the one root whose
	 * canonical form ends in '/'. */
	assert_int_equal(confine_add_root(c, "/", &err), 0);
	confine_expect(c, f->base, f->base, NULL);
	confine_expect(c, "/", "/", NULL);
	confine_expect(c, f->root + 1, f->root, NULL);
	confine_expect_refused(c, "/nonexistent-cwld-dir/x", "does not exist");
	confine_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_root, confine_setup,
		    confine_teardown),
		cmocka_unit_test_setup_teardown(test_inside, confine_setup,
		    confine_teardown),
		cmocka_unit_test_setup_teardown(test_file_uri, confine_setup,
		    confine_teardown),
		cmocka_unit_test_setup_teardown(test_outside, confine_setup,
		    confine_teardown),
		cmocka_unit_test_setup_teardown(test_refused_other, confine_setup,
		    confine_teardown),
		cmocka_unit_test_setup_teardown(test_root_slash, confine_setup,
		    confine_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

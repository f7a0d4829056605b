/* Unit tests for cache.c: normalisation of the attempt's own paths, the
 * key's sensitivity to each thing a tool's result depends on (and its
 * insensitivity to where the attempt ran), and the on-disk entries: save,
 * lookup, restore, a second save of the same key. Files live under a fresh
 * temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/cache.h"
#include "cwld/fs.h"
#include "cwld/xmalloc.h"

/* One attempt's world: its dirs under root/runs/<run>/main/1, an input file,
 * an input directory and a key document built from them. */
struct attempt {
	char *rundir, *jobdir, *outdir, *tmpdir, *run_id;
	char *infile, *indir;
	json_t *argv, *inputs, *outputs, *extra, *mounts;
	char *envv[4];
	struct cache_job cj;
};

static void
write_str(const char *path, const char *s)
{
	struct cwld_err err = { 0 };
	char *d = fs_dirname(path);

	assert_int_equal(fs_mkdir_p(d, &err), 0);
	assert_int_equal(fs_write_file_atomic(path, s, strlen(s), &err), 0);
	free(d);
}

static void
attempt_init(struct attempt *a, const char *root, const char *run_id, const char *tag)
{
	struct cwld_err err = { 0 };
	char *p;

	memset(a, 0, sizeof *a);
	a->run_id = xstrdup(run_id);
	a->rundir = xasprintf("%s/runs/%s", root, run_id);
	a->jobdir = xasprintf("%s/main/1", a->rundir);
	a->outdir = xasprintf("%s/out", a->jobdir);
	a->tmpdir = xasprintf("%s/tmp", a->jobdir);
	assert_int_equal(fs_mkdir_p(a->outdir, &err), 0);
	assert_int_equal(fs_mkdir_p(a->tmpdir, &err), 0);
	/* the input file sits where the job file put it, per attempt here */
	a->infile = xasprintf("%s/inputs-%s/reads.txt", root, tag);
	write_str(a->infile, "ACGT\n");
	a->indir = xasprintf("%s/inputs-%s/ref", root, tag);
	p = fs_join(a->indir, "a/b.txt");
	write_str(p, "ref\n");
	free(p);
	/* IWD staged a file into the output directory */
	p = fs_join(a->outdir, "config.ini");
	write_str(p, "k=v\n");
	free(p);
	a->argv = json_pack("[s,s,s,s]", "tool", "--out", a->outdir, a->infile);
	json_array_append_new(a->argv, json_sprintf("--tmp=%s/x", a->tmpdir));
	json_array_append_new(a->argv, json_sprintf("%s/stgAb12Cd/renamed.txt", a->jobdir));
	a->envv[0] = xasprintf("HOME=%s", a->outdir);
	a->envv[1] = xasprintf("TMPDIR=%s", a->tmpdir);
	a->envv[2] = xstrdup("GREETING=hello");
	a->envv[3] = NULL;
	a->inputs = json_pack("{s:{s:s,s:s,s:s}, s:{s:s,s:s}, s:s, s:i}",
	    "reads", "class", "File", "path", a->infile, "basename", "reads.txt",
	    "ref", "class", "Directory", "path", a->indir,
	    "word", "one", "n", 3);
	a->outputs = json_pack("[{s:s,s:s,s:{s:s}}]", "id", "out", "type", "File",
	    "outputBinding", "glob", "out.txt");
	a->extra = json_pack("{s:i}", "cores", 1);
	a->mounts = json_array();
	a->cj.argv = a->argv;
	a->cj.envv = a->envv;
	a->cj.image = "debian:12";
	a->cj.stdout_name = "out.txt";
	a->cj.inputs = a->inputs;
	a->cj.tool_outputs = a->outputs;
	a->cj.extra = a->extra;
	a->cj.workdir = a->outdir;
	a->cj.mounts = a->mounts;
	a->cj.outdir = a->outdir;
	a->cj.tmpdir = a->tmpdir;
	a->cj.jobdir = a->jobdir;
	a->cj.rundir = a->rundir;
	a->cj.run_id = a->run_id;
}

static void
attempt_release(struct attempt *a)
{
	size_t i;

	free(a->rundir);
	free(a->jobdir);
	free(a->outdir);
	free(a->tmpdir);
	free(a->run_id);
	free(a->infile);
	free(a->indir);
	for (i = 0; a->envv[i]; i++)
		free(a->envv[i]);
	json_decref(a->argv);
	json_decref(a->inputs);
	json_decref(a->outputs);
	json_decref(a->extra);
	json_decref(a->mounts);
}

static void
key_of(const struct cache_job *cj, char *key)
{
	struct cwld_err err = { 0 };

	assert_int_equal(cache_key(cj, key, &err), 0);
	assert_int_equal(strlen(key), CACHE_KEY_LEN);
}

static int
cache_test_setup(void **state)
{
	struct cwld_err err = { 0 };
	const char *tmp = getenv("TMPDIR");

	*state = fs_mkdtemp(tmp != NULL ? tmp : "/tmp", "cwld-test-cache.", &err);
	return *state == NULL ? -1 : 0;
}

static int
cache_test_teardown(void **state)
{
	struct cwld_err err = { 0 };
	int rc = fs_rm_rf(*state, &err);

	free(*state);
	return rc;
}

static void
test_normalise(void **state)
{
	struct attempt a;
	char *in, *out;

	attempt_init(&a, *state, "0123456789abcdef", "x");
	in = xasprintf("%s/x %s/y %s/z %s/main/2 id=%s %s/stgAb12Cd/f %s/litZZZZZZ other",
	    a.outdir, a.tmpdir, a.jobdir, a.rundir, a.run_id, a.jobdir, a.jobdir);
	out = cache_normalise(&a.cj, in);
	assert_string_equal(out, "\x01outdir\x01/x \x01tmpdir\x01/y \x01jobdir\x01/z "
	    "\x01rundir\x01/main/2 id=\x01runid\x01 \x01jobdir\x01/stg*/f \x01jobdir\x01/lit* other");
	free(in);
	free(out);
	out = cache_normalise(&a.cj, "/usr/bin:/bin");
	assert_string_equal(out, "/usr/bin:/bin");
	free(out);
	assert_null(cache_normalise(&a.cj, NULL));
	attempt_release(&a);
}

/* Two attempts in different run dirs, with input files at different paths
 * but the same content, share a key. */
static void
test_key_ignores_attempt_paths(void **state)
{
	struct attempt a, b;
	char ka[CACHE_KEY_LEN + 1], kb[CACHE_KEY_LEN + 1];
	char *sa;

	attempt_init(&a, *state, "run-a-1111", "a");
	attempt_init(&b, *state, "run-b-22222222", "b");
	/* the input path in argv is not the attempt's: make it equal */
	json_array_set_new(b.argv, 3, json_string(a.infile));
	key_of(&a.cj, ka);
	key_of(&b.cj, kb);
	assert_string_equal(ka, kb);
	/* the key does not depend on reading it twice */
	key_of(&a.cj, kb);
	assert_string_equal(ka, kb);
	/* input paths are not in the document, their content is */
	{
		struct cwld_err err = { 0 };
		json_t *doc = cache_key_doc(&b.cj, &err);

		assert_non_null(doc);
		sa = json_dumps(doc, JSON_COMPACT);
		assert_null(strstr(sa, b.infile));
		assert_null(strstr(sa, b.indir));
		assert_null(strstr(sa, b.rundir));
		assert_non_null(strstr(sa, "sha1$"));
		free(sa);
		json_decref(doc);
	}
	attempt_release(&a);
	attempt_release(&b);
}

/* Each change of one component must change the key. */
static void
test_key_sensitivity(void **state)
{
	struct attempt a;
	struct cwld_err err = { 0 };
	char k0[CACHE_KEY_LEN + 1], k[CACHE_KEY_LEN + 1];
	char *p, *saved;
	json_t *old;

	attempt_init(&a, *state, "r1", "x");
	key_of(&a.cj, k0);

#define CACHE_T_DIFFERS(what) do { key_of(&a.cj, k); \
		if (strcmp(k, k0) == 0) fail_msg("key ignores %s", what); } while (0)
#define CACHE_T_SAME() do { key_of(&a.cj, k); assert_string_equal(k, k0); } while (0)

	/* argument */
	old = json_incref(json_array_get(a.argv, 0));
	json_array_set_new(a.argv, 0, json_string("tool2"));
	CACHE_T_DIFFERS("argv");
	json_array_set_new(a.argv, 0, old);
	CACHE_T_SAME();
	json_array_append_new(a.argv, json_string("--extra"));
	CACHE_T_DIFFERS("an added argument");
	json_array_remove(a.argv, json_array_size(a.argv) - 1);

	/* environment: value, and HOME being set at all */
	saved = a.envv[2];
	a.envv[2] = xstrdup("GREETING=bonjour");
	CACHE_T_DIFFERS("an environment value");
	free(a.envv[2]);
	a.envv[2] = saved;
	saved = a.envv[0];
	a.envv[0] = xstrdup("HOMEX=/elsewhere");
	CACHE_T_DIFFERS("HOME being set");
	free(a.envv[0]);
	a.envv[0] = saved;
	CACHE_T_SAME();

	/* image, image id, streams */
	a.cj.image = "debian:11";
	CACHE_T_DIFFERS("image");
	a.cj.image = NULL;
	CACHE_T_DIFFERS("host vs image");
	a.cj.image = "debian:12";
	a.cj.image_id = "sha256:abc";
	CACHE_T_DIFFERS("image id");
	a.cj.image_id = NULL;
	a.cj.stdin_path = a.infile;
	CACHE_T_DIFFERS("stdin");
	a.cj.stdin_path = NULL;
	a.cj.stdout_name = "other.txt";
	CACHE_T_DIFFERS("stdout");
	a.cj.stdout_name = "out.txt";
	a.cj.stderr_name = "err.txt";
	CACHE_T_DIFFERS("stderr");
	a.cj.stderr_name = NULL;
	CACHE_T_SAME();

	/* input file content: same size, other bytes */
	write_str(a.infile, "TTTT\n");
	CACHE_T_DIFFERS("input file content");
	write_str(a.infile, "ACGT\n");
	CACHE_T_SAME();
	/* input basename */
	json_object_set_new(json_object_get(a.inputs, "reads"), "basename", json_string("r.txt"));
	CACHE_T_DIFFERS("input basename");
	json_object_set_new(json_object_get(a.inputs, "reads"), "basename", json_string("reads.txt"));
	/* a given checksum is trusted over the file */
	json_object_set_new(json_object_get(a.inputs, "reads"), "checksum",
	    json_string("sha1$0000000000000000000000000000000000000000"));
	CACHE_T_DIFFERS("input checksum");
	json_object_del(json_object_get(a.inputs, "reads"), "checksum");
	CACHE_T_SAME();
	/* input directory content, deep, and a new entry */
	p = fs_join(a.indir, "a/b.txt");
	write_str(p, "REF\n");
	CACHE_T_DIFFERS("directory content");
	write_str(p, "ref\n");
	free(p);
	CACHE_T_SAME();
	p = fs_join(a.indir, "a/new.txt");
	write_str(p, "");
	CACHE_T_DIFFERS("a new directory entry");
	assert_int_equal(fs_rm_rf(p, &err), 0);
	free(p);
	CACHE_T_SAME();
	/* input value */
	json_object_set_new(a.inputs, "word", json_string("two"));
	CACHE_T_DIFFERS("input value");
	json_object_set_new(a.inputs, "word", json_string("one"));
	json_object_set_new(a.inputs, "n", json_integer(4));
	CACHE_T_DIFFERS("input number");
	json_object_set_new(a.inputs, "n", json_integer(3));
	CACHE_T_SAME();

	/* outputs section, extra */
	json_object_set_new(json_object_get(json_array_get(a.outputs, 0), "outputBinding"),
	    "glob", json_string("*.txt"));
	CACHE_T_DIFFERS("output glob");
	json_object_set_new(json_object_get(json_array_get(a.outputs, 0), "outputBinding"),
	    "glob", json_string("out.txt"));
	json_object_set_new(a.extra, "cores", json_integer(2));
	CACHE_T_DIFFERS("extra");
	json_object_set_new(a.extra, "cores", json_integer(1));
	CACHE_T_SAME();

	/* staged work directory content */
	p = fs_join(a.outdir, "config.ini");
	write_str(p, "k=w\n");
	CACHE_T_DIFFERS("staged work dir content");
	write_str(p, "k=v\n");
	free(p);
	CACHE_T_SAME();
	/* a staged mount outside the work dir */
	p = fs_join(a.jobdir, "stgQQQQQQ/abs.txt");
	write_str(p, "one");
	free(p);
	p = fs_join(a.jobdir, "stgQQQQQQ/abs.txt");
	json_array_append_new(a.mounts, json_pack("[s,s,b]", p, "/abs.txt", 1));
	key_of(&a.cj, k);
	assert_string_not_equal(k, k0);
	memcpy(k0, k, sizeof k0);
	write_str(p, "two");
	CACHE_T_DIFFERS("mounted staged content");
	free(p);
#undef CACHE_T_DIFFERS
#undef CACHE_T_SAME
	attempt_release(&a);
}

static void
test_key_unreadable_input(void **state)
{
	struct attempt a;
	struct cwld_err err = { 0 };
	char k[CACHE_KEY_LEN + 1];

	attempt_init(&a, *state, "r2", "x");
	json_object_set_new(json_object_get(a.inputs, "reads"), "path",
	    json_string("/nonexistent/cwld-cache-test"));
	assert_int_equal(cache_key(&a.cj, k, &err), -1);
	assert_non_null(strstr(err.msg, "cannot be read"));
	/* with a checksum there is nothing to read */
	json_object_set_new(json_object_get(a.inputs, "reads"), "checksum",
	    json_string("sha1$0000000000000000000000000000000000000000"));
	assert_int_equal(cache_key(&a.cj, k, &err), 0);
	attempt_release(&a);
}

static void
test_save_lookup_restore(void **state)
{
	struct cwld_err err = { 0 };
	const char *key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char *dir = fs_join(*state, "cache");
	char *out1 = fs_join(*state, "job1/out");
	char *out2 = fs_join(*state, "job2/out");
	char *p, *text;
	json_t *rec, *got = NULL;

	assert_int_equal(cache_lookup(dir, key, &got, &err), 0);
	assert_null(got);
	assert_int_equal(cache_lookup(dir, "../etc", &got, &err), -1);

	p = fs_join(out1, "sub/result.txt");
	write_str(p, "42\n");
	free(p);
	p = fs_join(out1, "cwl.output.json");
	text = xasprintf("{\"r\": {\"class\": \"File\", \"path\": \"%s/sub/result.txt\"}}", out1);
	write_str(p, text);
	free(text);
	free(p);
	rec = json_pack("{s:i, s:s, s:s}", "exit_code", 3, "outdir", out1, "rt_outdir", out1);
	assert_int_equal(cache_save(dir, key, out1, rec, &err), 0);
	/* a second save of the same key is discarded, and succeeds */
	json_object_set_new(rec, "exit_code", json_integer(4));
	assert_int_equal(cache_save(dir, key, out1, rec, &err), 0);
	json_decref(rec);

	assert_int_equal(cache_lookup(dir, key, &got, &err), 1);
	assert_int_equal(json_integer_value(json_object_get(got, "exit_code")), 3);

	/* restore replaces what is in the new outdir */
	p = fs_join(out2, "stale.txt");
	write_str(p, "old");
	assert_int_equal(cache_restore(dir, key, got, out2, out2, &err), 0);
	assert_false(fs_exists(p));
	free(p);
	p = fs_join(out2, "sub/result.txt");
	text = fs_read_file(p, 100, NULL, &err);
	assert_string_equal(text, "42\n");
	free(text);
	free(p);
	p = fs_join(out2, "cwl.output.json");
	text = fs_read_file(p, 4096, NULL, &err);
	assert_non_null(strstr(text, out2));
	assert_null(strstr(text, out1));
	free(text);
	free(p);
	json_decref(got);

	/* nothing temporary is left in the cache dir */
	p = xasprintf("%s/%s", dir, key);
	assert_true(fs_is_dir(p));
	free(p);
	{
		json_t *t = cache_tree(dir, &err);

		assert_non_null(t);
		assert_int_equal(json_object_size(t), 1);
		json_decref(t);
	}
	free(dir);
	free(out1);
	free(out2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_normalise, cache_test_setup, cache_test_teardown),
		cmocka_unit_test_setup_teardown(test_key_ignores_attempt_paths, cache_test_setup,
		    cache_test_teardown),
		cmocka_unit_test_setup_teardown(test_key_sensitivity, cache_test_setup,
		    cache_test_teardown),
		cmocka_unit_test_setup_teardown(test_key_unreadable_input, cache_test_setup,
		    cache_test_teardown),
		cmocka_unit_test_setup_teardown(test_save_lookup_restore, cache_test_setup,
		    cache_test_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for bind: each tests/unit/data/bind/ file holds a normalised
 * tool built by hand (conformance cases and single rules), its inputs and
 * runtime, and the expected argv or error substring. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/bind.h"

/* Runs one case (fields missing from c are taken from doc); returns 0 when
 * it passed, printing why when not. */
static int
test_bind_case(const char *file, size_t idx, const json_t *doc, const json_t *c)
{
	const json_t *tool, *inputs, *runtime, *expect;
	const char *want_err;
	struct cwld_err err = { 0 };
	struct expr_ctx *ex = NULL;
	json_t *got = NULL;
	char *g = NULL, *w = NULL;
	int failed = 1, js, shell;

#define TEST_BIND_GET(k) (json_object_get(c, k) != NULL ? json_object_get(c, k) : json_object_get(doc, k))
	tool = TEST_BIND_GET("tool");
	inputs = TEST_BIND_GET("inputs");
	runtime = TEST_BIND_GET("runtime");
	expect = TEST_BIND_GET("expect");
	want_err = json_string_value(TEST_BIND_GET("error"));
	js = json_is_true(TEST_BIND_GET("js"));
	shell = json_is_true(TEST_BIND_GET("shell"));
#undef TEST_BIND_GET
	if (runtime == NULL)
		runtime = json_object_get(doc, "no-such-key-gives-null");
	ex = expr_ctx_new(js, NULL, &err);
	if (ex == NULL) {
		printf("%s[%zu]: expr_ctx_new: %s\n", file, idx, err.msg);
		goto out;
	}
	got = bind_command_line(tool, inputs, runtime, ex, shell, &err);
	if (got != NULL)
		g = json_dumps(got, JSON_ENCODE_ANY);
	if (want_err != NULL) {
		if (got != NULL)
			printf("%s[%zu]: expected error '%s', got %s\n", file, idx, want_err, g);
		else if (strstr(err.msg, want_err) == NULL)
			printf("%s[%zu]: expected error '%s', got '%s'\n", file, idx, want_err, err.msg);
		else
			failed = 0;
		goto out;
	}
	if (got == NULL) {
		printf("%s[%zu]: unexpected error: %s\n", file, idx, err.msg);
		goto out;
	}
	if (!json_equal(got, (json_t *)expect)) {
		w = json_dumps(expect, JSON_ENCODE_ANY);
		printf("%s[%zu]:\n  expected %s\n  got      %s\n", file, idx, w, g);
		goto out;
	}
	failed = 0;
out:
	free(g);
	free(w);
	json_decref(got);
	expr_ctx_free(ex);
	return failed;
}

static void
test_bind_table(void **state)
{
	const char *src = getenv("CWLD_SOURCE_DIR");
	char dir[2048], path[4096];
	struct dirent **names = NULL;
	int n, i, failures = 0, cases = 0;

	(void)state;
	snprintf(dir, sizeof dir, "%s/tests/unit/data/bind", src != NULL ? src : ".");
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name), idx;
		json_error_t jerr;
		json_t *doc, *c;

		if (len < 5 || strcmp(name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, name);
		doc = json_load_file(path, 0, &jerr);
		if (doc == NULL)
			fail_msg("%s: %s", path, jerr.text);
		if (json_is_array(json_object_get(doc, "cases"))) {
			json_array_foreach(json_object_get(doc, "cases"), idx, c) {
				failures += test_bind_case(name, idx, doc, c);
				cases++;
			}
		} else {
			failures += test_bind_case(name, 0, doc, doc);
			cases++;
		}
		json_decref(doc);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	printf("bind table: %d cases, %d failures\n", cases, failures);
	assert_true(cases >= 5);
	assert_int_equal(failures, 0);
}

/* The tool and inputs are not changed by binding. */
static void
test_bind_no_mutation(void **state)
{
	struct cwld_err err = { 0 };
	json_t *tool = json_pack("{s:[s],s:[{s:s,s:{s:s,s:[s]},s:{s:s}}],s:[{s:s}]}",
	    "baseCommand", "prog",
	    "inputs", "id", "a", "type", "type", "array", "items", "string",
	    "inputBinding", "prefix", "-a",
	    "arguments", "valueFrom", "$(inputs.a)");
	json_t *inputs = json_pack("{s:[s,s]}", "a", "x", "y");
	json_t *tcopy = json_deep_copy(tool), *icopy = json_deep_copy(inputs), *got;

	(void)state;
	got = bind_command_line(tool, inputs, NULL, NULL, 0, &err);
	assert_non_null(got);
	assert_int_equal(json_array_size(got), 6); /* prog x y -a x y */
	assert_true(json_equal(tool, tcopy));
	assert_true(json_equal(inputs, icopy));
	json_decref(got);
	json_decref(tool);
	json_decref(inputs);
	json_decref(tcopy);
	json_decref(icopy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_table),
		cmocka_unit_test(test_bind_no_mutation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

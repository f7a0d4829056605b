/* Unit tests for expr: table-driven cases from tests/unit/data/expr/, one
 * JSON file per topic (expression, inputs, self, runtime, expected value or
 * error substring), plus what a table cannot show (fresh globals). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/expr.h"

static char *
test_expr_data_dir(void)
{
	const char *src = getenv("CWLD_SOURCE_DIR");
	size_t n;
	char *p;

	if (src == NULL)
		src = ".";
	n = strlen(src) + 32;
	p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/tests/unit/data/expr", src);
	return p;
}

/* Runs one case; returns 0 when it passed, printing why when not. */
static int
test_expr_case(const char *file, size_t idx, const json_t *doc, const json_t *c)
{
	const json_t *lib = json_object_get(c, "lib");
	const json_t *expect = json_object_get(c, "expect");
	const char *want_err = json_string_value(json_object_get(c, "error"));
	const char *text = json_string_value(json_object_get(c, "expr"));
	const json_t *inputs = json_object_get(doc, "inputs"), *runtime = json_object_get(doc, "runtime");
	const json_t *self = json_object_get(c, "self");
	struct cwld_err err = { 0 };
	struct expr_ctx *ctx = NULL;
	json_t *got = NULL, *tmp;
	int js = json_is_true(json_object_get(doc, "js")), failed = 1, flags = 0;
	char *dump = NULL;

	if ((tmp = json_object_get(c, "js")) != NULL)
		js = json_is_true(tmp);
	if (json_object_get(c, "inputs") != NULL)
		inputs = json_object_get(c, "inputs");
	if ((tmp = json_object_get(c, "runtime")) != NULL)
		runtime = json_is_null(tmp) ? NULL : tmp;
	if (json_is_true(json_object_get(c, "keep_space")))
		flags |= EXPR_KEEP_SPACE;
	if (text == NULL) {
		printf("%s[%zu]: case has no expr\n", file, idx);
		goto out;
	}
	ctx = expr_ctx_new(js, lib, &err);
	if (ctx != NULL) {
		unsigned ms = EXPR_TIME_LIMIT_MS;
		size_t heap = EXPR_HEAP_LIMIT;

		if (json_is_integer(json_object_get(c, "time_ms")))
			ms = (unsigned)json_integer_value(json_object_get(c, "time_ms"));
		if (json_is_integer(json_object_get(c, "heap")))
			heap = (size_t)json_integer_value(json_object_get(c, "heap"));
		expr_ctx_set_limits(ctx, ms, heap);
		got = expr_eval_flags(ctx, text, inputs, json_is_null(self) ? NULL : self,
		    runtime, flags, &err);
	}
	if (want_err != NULL) {
		if (got != NULL) {
			dump = json_dumps(got, JSON_ENCODE_ANY);
			printf("%s[%zu] %s: expected error '%s', got %s\n", file, idx, text,
			    want_err, dump);
		} else if (strstr(err.msg, want_err) == NULL)
			printf("%s[%zu] %s: expected error '%s', got '%s'\n", file, idx, text,
			    want_err, err.msg);
		else
			failed = 0;
		goto out;
	}
	if (got == NULL) {
		printf("%s[%zu] %s: unexpected error: %s\n", file, idx, text, err.msg);
		goto out;
	}
	if (!json_equal(got, (json_t *)expect)) {
		char *w = json_dumps(expect, JSON_ENCODE_ANY);

		dump = json_dumps(got, JSON_ENCODE_ANY);
		printf("%s[%zu] %s: expected %s, got %s\n", file, idx, text, w, dump);
		free(w);
		goto out;
	}
	failed = 0;
out:
	free(dump);
	json_decref(got);
	expr_ctx_free(ctx);
	return failed;
}

static void
test_expr_table(void **state)
{
	char *dir = test_expr_data_dir(), path[4096];
	struct dirent **names = NULL;
	int n, i, failures = 0, files = 0, cases = 0;

	(void)state;
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
		files++;
		json_array_foreach(json_object_get(doc, "cases"), idx, c) {
			failures += test_expr_case(name, idx, doc, c);
			cases++;
		}
		json_decref(doc);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dir);
	printf("expr table: %d files, %d cases, %d failures\n", files, cases, failures);
	assert_true(files >= 3);
	assert_int_equal(failures, 0);
}

static void
test_expr_has_expression(void **state)
{
	(void)state;
	assert_true(expr_has_expression("$(inputs.x)"));
	assert_true(expr_has_expression("a ${return 1;} b"));
	assert_true(expr_has_expression("\\$(x) $(y)"));
	assert_true(expr_has_expression("$(unfinished"));
	assert_false(expr_has_expression("plain"));
	assert_false(expr_has_expression("\\$(escaped)"));
	assert_false(expr_has_expression("\\${escaped}"));
	assert_false(expr_has_expression("cost $5"));
	assert_false(expr_has_expression(""));
	assert_false(expr_has_expression(NULL));
}

/* Globals an expression sets do not leak into the next one, and the
 * library is loaded once for the context. */
static void
test_expr_fresh_globals(void **state)
{
	struct cwld_err err = { 0 };
	json_t *lib = json_pack("[s]", "var counter = 0; function bump() { counter++; return counter; }");
	json_t *inputs = json_pack("{s:i}", "n", 1);
	struct expr_ctx *ctx;
	json_t *v;
	int i;

	(void)state;
	ctx = expr_ctx_new(1, lib, &err);
	assert_non_null(ctx);
	for (i = 0; i < 3; i++) {
		v = expr_eval(ctx, "$(bump())", inputs, NULL, NULL, &err);
		assert_non_null(v);
		assert_int_equal(json_integer_value(v), 1);
		json_decref(v);
	}
	v = expr_eval(ctx, "${ leaked = 5; inputs.n = 9; return 1; }", inputs, NULL, NULL, &err);
	assert_non_null(v);
	json_decref(v);
	v = expr_eval(ctx, "$(typeof leaked)", inputs, NULL, NULL, &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(v), "undefined");
	json_decref(v);
	/* the caller's inputs are untouched */
	assert_int_equal(json_integer_value(json_object_get(inputs, "n")), 1);
	expr_ctx_free(ctx);
	json_decref(lib);
	json_decref(inputs);
}

/* Results are copies: changing one does not change the inputs. */
static void
test_expr_result_is_copy(void **state)
{
	struct cwld_err err = { 0 };
	json_t *inputs = json_pack("{s:{s:s}}", "f", "path", "/a");
	json_t *v;

	(void)state;
	v = expr_eval(NULL, "$(inputs.f)", inputs, NULL, NULL, &err);
	assert_non_null(v);
	json_object_set_new(v, "path", json_string("/b"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(inputs, "f"), "path")), "/a");
	json_decref(v);
	json_decref(inputs);
}

static void
test_expr_eval_value(void **state)
{
	struct cwld_err err = { 0 };
	json_t *inputs = json_pack("{s:i}", "n", 4), *lit = json_pack("[i,i]", 1, 2);
	json_t *s = json_string("$(inputs.n)"), *v;

	(void)state;
	v = expr_eval_value(NULL, lit, inputs, NULL, NULL, &err);
	assert_ptr_equal(v, lit);
	json_decref(v);
	v = expr_eval_value(NULL, s, inputs, NULL, NULL, &err);
	assert_int_equal(json_integer_value(v), 4);
	json_decref(v);
	v = expr_eval_value(NULL, NULL, inputs, NULL, NULL, &err);
	assert_true(json_is_null(v));
	json_decref(v);
	json_decref(s);
	json_decref(lit);
	json_decref(inputs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expr_table),
		cmocka_unit_test(test_expr_has_expression),
		cmocka_unit_test(test_expr_fresh_globals),
		cmocka_unit_test(test_expr_result_is_copy),
		cmocka_unit_test(test_expr_eval_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

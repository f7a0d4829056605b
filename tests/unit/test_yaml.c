/* Unit tests for yaml.c: core-schema typing, source positions of nested
 * nodes, errors with file:line:col, anchors and aliases with their caps,
 * duplicate keys, depth and the srcmap itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/xmalloc.h"
#include "cwld/yaml.h"

static json_t *
parse(const char *text, struct yaml_srcmap *map, struct cwld_err *err)
{
	return yaml_parse(text, strlen(text), "t.yml", map, err);
}

static void
check_pos(struct yaml_srcmap *map, const json_t *node, int wline, int wcol)
{
	const char *file = NULL;
	int line = 0, col = 0;

	assert_non_null(node);
	assert_int_equal(yaml_srcmap_find(map, node, &file, &line, &col), 0);
	assert_int_equal(line, wline);
	assert_int_equal(col, wcol);
}

static void
check_error(const char *text, const char *want)
{
	struct cwld_err err = { 0 };
	json_t *v = parse(text, NULL, &err);

	assert_null(v);
	assert_int_equal(err.code, 2);
	if (strstr(err.msg, want) == NULL)
		print_error("error '%s' lacks '%s'\n", err.msg, want);
	assert_non_null(strstr(err.msg, want));
}

static void
test_scalars(void **state)
{
	struct cwld_err err = { 0 };
	json_t *v;
	const char *text =
	    "t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: FALSE\n"
	    "n1: null\nn2: ~\nn3:\nn4: NULL\n"
	    "i1: 42\ni2: -7\ni3: +3\ni4: 0x1F\ni5: 0o17\ni6: 0\n"
	    "d1: 1.5\nd2: -.5\nd3: 1e3\nd4: 2.\nd5: 6.02E+23\n"
	    "s1: .inf\ns2: .nan\ns3: yes\ns4: '42'\ns5: \"true\"\n"
	    "s6: 1_000\ns7: 0x\ns8: 12abc\ns9: 0o8\ns10: -0x5\n"
	    "s11: 1e\ns12: hello world\ns13: 99999999999999999999999\n"
	    "b1: |\n  line\n";

	(void)state;
	v = parse(text, NULL, &err);
	assert_non_null(v);
	assert_true(json_is_true(json_object_get(v, "t1")));
	assert_true(json_is_true(json_object_get(v, "t2")));
	assert_true(json_is_true(json_object_get(v, "t3")));
	assert_true(json_is_false(json_object_get(v, "f1")));
	assert_true(json_is_false(json_object_get(v, "f2")));
	assert_true(json_is_null(json_object_get(v, "n1")));
	assert_true(json_is_null(json_object_get(v, "n2")));
	assert_true(json_is_null(json_object_get(v, "n3")));
	assert_true(json_is_null(json_object_get(v, "n4")));
	assert_int_equal(json_integer_value(json_object_get(v, "i1")), 42);
	assert_int_equal(json_integer_value(json_object_get(v, "i2")), -7);
	assert_int_equal(json_integer_value(json_object_get(v, "i3")), 3);
	assert_int_equal(json_integer_value(json_object_get(v, "i4")), 31);
	assert_int_equal(json_integer_value(json_object_get(v, "i5")), 15);
	assert_true(json_is_integer(json_object_get(v, "i6")));
	assert_true(json_is_real(json_object_get(v, "d1")));
	assert_true(json_real_value(json_object_get(v, "d1")) == 1.5);
	assert_true(json_real_value(json_object_get(v, "d2")) == -0.5);
	assert_true(json_real_value(json_object_get(v, "d3")) == 1000.0);
	assert_true(json_real_value(json_object_get(v, "d4")) == 2.0);
	assert_true(json_is_real(json_object_get(v, "d5")));
	assert_string_equal(json_string_value(json_object_get(v, "s1")), ".inf");
	assert_string_equal(json_string_value(json_object_get(v, "s2")), ".nan");
	assert_string_equal(json_string_value(json_object_get(v, "s3")), "yes");
	assert_string_equal(json_string_value(json_object_get(v, "s4")), "42");
	assert_string_equal(json_string_value(json_object_get(v, "s5")), "true");
	assert_string_equal(json_string_value(json_object_get(v, "s6")), "1_000");
	assert_string_equal(json_string_value(json_object_get(v, "s7")), "0x");
	assert_string_equal(json_string_value(json_object_get(v, "s8")), "12abc");
	assert_string_equal(json_string_value(json_object_get(v, "s9")), "0o8");
	assert_string_equal(json_string_value(json_object_get(v, "s10")), "-0x5");
	assert_string_equal(json_string_value(json_object_get(v, "s11")), "1e");
	assert_string_equal(json_string_value(json_object_get(v, "s12")),
	    "hello world");
	assert_true(json_is_real(json_object_get(v, "s13")));
	assert_string_equal(json_string_value(json_object_get(v, "b1")), "line\n");
	json_decref(v);
}

static void
test_tags(void **state)
{
	struct cwld_err err = { 0 };
	json_t *v;

	(void)state;
	v = parse("a: !!str 12\nb: !!int \"12\"\nc: !!float 3\nd: ! 12\n"
	    "e: !!str\nf: !custom 5\n", NULL, &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "a")), "12");
	assert_int_equal(json_integer_value(json_object_get(v, "b")), 12);
	assert_true(json_is_real(json_object_get(v, "c")));
	assert_string_equal(json_string_value(json_object_get(v, "d")), "12");
	assert_string_equal(json_string_value(json_object_get(v, "e")), "");
	assert_int_equal(json_integer_value(json_object_get(v, "f")), 5);
	json_decref(v);
	check_error("a: !!int abc\n", "t.yml:1:4: invalid value for tag");
	check_error("a: !!bool 1\n", "t.yml:1:4:");
}

static void
test_positions(void **state)
{
	struct cwld_err err = { 0 };
	struct yaml_srcmap *map = yaml_srcmap_new();
	char *path = NULL;
	const char *src = getenv("CWLD_SOURCE_DIR");
	const char *file = NULL;
	json_t *v, *steps, *align, *in, *out;

	(void)state;
	path = xasprintf("%s/tests/unit/data/yaml/workflow.cwl",
	    src != NULL ? src : ".");
	v = yaml_parse_file(path, map, &err);
	if (v == NULL)
		print_error("%s\n", err.msg);
	assert_non_null(v);
	check_pos(map, v, 1, 1);
	assert_int_equal(yaml_srcmap_find(map, v, &file, NULL, NULL), 0);
	assert_string_equal(file, path);
	check_pos(map, json_object_get(v, "cwlVersion"), 1, 13);
	check_pos(map, json_object_get(v, "inputs"), 4, 3);
	check_pos(map, json_object_get(json_object_get(v, "inputs"), "reads"),
	    5, 5);
	check_pos(map, json_object_get(json_object_get(json_object_get(v,
	    "inputs"), "reads"), "doc"), 6, 10);
	check_pos(map, json_object_get(v, "outputs"), 7, 10);
	steps = json_object_get(v, "steps");
	align = json_object_get(steps, "align");
	check_pos(map, align, 10, 5);
	in = json_object_get(align, "in");
	check_pos(map, in, 12, 7);
	check_pos(map, json_array_get(in, 0), 12, 9);
	check_pos(map, json_object_get(json_array_get(in, 0), "source"), 13, 17);
	out = json_object_get(align, "out");
	check_pos(map, out, 14, 10);
	check_pos(map, json_array_get(out, 1), 14, 16);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_object_get(v, "inputs"), "reads"), "doc")),
	    "quoted: not a mapping");
	json_decref(v);
	yaml_srcmap_free(map);
	free(path);
}

static void
test_json_input(void **state)
{
	struct cwld_err err = { 0 };
	struct yaml_srcmap *map = yaml_srcmap_new();
	char *path = NULL, *dump;
	const char *src = getenv("CWLD_SOURCE_DIR");
	json_t *v;

	(void)state;
	path = xasprintf("%s/tests/unit/data/yaml/job.json",
	    src != NULL ? src : ".");
	v = yaml_parse_file(path, map, &err);
	assert_non_null(v);
	dump = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(dump,
	    "{\"x\":1,\"y\":[true,null,2.5],\"z\":{\"w\":\"s\"}}");
	check_pos(map, json_object_get(json_object_get(v, "z"), "w"), 1, 45);
	free(dump);
	json_decref(v);
	yaml_srcmap_free(map);
	free(path);
}

static void
test_errors(void **state)
{
	struct cwld_err err = { 0 };
	char *path = NULL;
	const char *src = getenv("CWLD_SOURCE_DIR");

	(void)state;
	check_error("a: [1, 2\n", "t.yml:2:1: did not find expected ',' or ']'");
	check_error("a: b: c\n", "t.yml:1:5: mapping values are not allowed");
	check_error("[1] x\n", "t.yml:1:5: did not find expected <document start>");
	check_error("a: 1\na: 2\n", "t.yml:2:1: duplicate key 'a'");
	check_error("x:\n  k: 1\n  j: 2\n  k: 3\n", "t.yml:4:3: duplicate key 'k'");
	check_error("a: *nope\n", "t.yml:1:4: unknown or unfinished anchor 'nope'");
	check_error("a: &x [1, *x]\n", "unknown or unfinished anchor 'x'");
	check_error("\"\\xzz\"", "t.yml:1:");
	check_error("a: \"unterminated\n", "t.yml:");
	check_error("\t- x\n", "t.yml:1:1:");
	check_error("a: \xff\xfe\n", "t.yml: invalid");
	path = xasprintf("%s/tests/unit/data/yaml/bad_indent.yml",
	    src != NULL ? src : ".");
	assert_null(yaml_parse_file(path, NULL, &err));
	assert_int_equal(err.code, 2);
	assert_true(strncmp(err.msg, path, strlen(path)) == 0);
	assert_non_null(strstr(err.msg, ":4:2: "));
	free(path);
	assert_null(yaml_parse_file("/nonexistent/x.cwl", NULL, &err));
	assert_non_null(strstr(err.msg, "/nonexistent/x.cwl"));
}

static void
test_aliases(void **state)
{
	struct cwld_err err = { 0 };
	struct yaml_srcmap *map = yaml_srcmap_new();
	json_t *v, *a, *b;

	(void)state;
	v = parse("base: &b\n  k: [1, 2]\n  s: str\nuse: *b\nscalar: &s 7\n"
	    "again: *s\nlist: [*s, *b]\n", map, &err);
	assert_non_null(v);
	a = json_object_get(v, "base");
	b = json_object_get(v, "use");
	assert_true(json_equal(a, b));
	assert_ptr_not_equal(a, b); /* a copy: editing one leaves the other */
	assert_int_equal(json_integer_value(json_object_get(v, "again")), 7);
	assert_true(json_equal(json_array_get(json_object_get(v, "list"), 1), a));
	check_pos(map, b, 4, 6);
	/* nodes inside a copy keep the anchor's positions */
	check_pos(map, json_object_get(b, "s"), 3, 6);
	json_decref(v);
	yaml_srcmap_free(map);
}

static void
test_alias_bomb(void **state)
{
	const char *bomb =
	    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
	char *many;
	size_t i, n = 10002;

	(void)state;
	check_error(bomb, "too many alias expansions");
	/* many small aliases hit the count cap */
	many = xmalloc(16 + n * 4);
	memcpy(many, "a: &a 1\nb: [", 12);
	for (i = 0; i < n; i++)
		memcpy(many + 12 + i * 4, "*a, ", 4);
	memcpy(many + 12 + n * 4, "]\n", 3);
	check_error(many, "too many alias expansions");
	free(many);
}

static void
test_depth(void **state)
{
	struct cwld_err err = { 0 };
	char *text;
	json_t *v;
	size_t n;

	(void)state;
	n = YAML_MAX_DEPTH;
	text = xmalloc(2 * n + 1);
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	v = parse(text, NULL, &err);
	assert_non_null(v);
	json_decref(v);
	free(text);
	n = YAML_MAX_DEPTH + 1;
	text = xmalloc(2 * n + 1);
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	check_error(text, "nested deeper than");
	free(text);
	/* aliases cannot be used to build deeper trees either */
	text = xmalloc(4 * YAML_MAX_DEPTH + 64);
	n = 0;
	memcpy(text, "a: &a ", 6);
	n = 6;
	for (size_t i = 0; i < 200; i++)
		text[n++] = '[';
	for (size_t i = 0; i < 200; i++)
		text[n++] = ']';
	memcpy(text + n, "\nb: ", 4);
	n += 4;
	for (size_t i = 0; i < 100; i++)
		text[n++] = '[';
	memcpy(text + n, "*a", 2);
	n += 2;
	for (size_t i = 0; i < 100; i++)
		text[n++] = ']';
	text[n++] = '\n';
	text[n] = '\0';
	check_error(text, "nested deeper than");
	free(text);
	err.code = 0;
	assert_null(yaml_parse("a", (size_t)YAML_MAX_BYTES + 1, "big", NULL, &err));
	assert_int_equal(err.code, 2);
}

static void
test_keys_and_docs(void **state)
{
	struct cwld_err err = { 0 };
	json_t *v;

	(void)state;
	v = parse("1: one\ntrue: yes\n~: n\n? [a, b]\n: seq\n\"q\": 2\n", NULL,
	    &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "1")), "one");
	assert_string_equal(json_string_value(json_object_get(v, "true")), "yes");
	assert_string_equal(json_string_value(json_object_get(v, "~")), "n");
	assert_string_equal(json_string_value(json_object_get(v, "[\"a\",\"b\"]")),
	    "seq");
	assert_int_equal(json_integer_value(json_object_get(v, "q")), 2);
	json_decref(v);
	/* first document only; later ones are not even parsed */
	v = parse("--- 1\n--- 2\n--- [\n", NULL, &err);
	assert_non_null(v);
	assert_int_equal(json_integer_value(v), 1);
	json_decref(v);
	v = parse("", NULL, &err);
	assert_true(json_is_null(v));
	v = parse("# only a comment\n", NULL, &err);
	assert_true(json_is_null(v));
	v = parse("plain", NULL, &err);
	assert_string_equal(json_string_value(v), "plain");
	json_decref(v);
	v = parse("\"nul\\0byte\"", NULL, &err);
	assert_int_equal(json_string_length(v), 8);
	json_decref(v);
	check_error("\"a\\0b\": 1\n", "NUL");
	/* collection keys become JSON text, within limits */
	v = parse("{ {a: 1}: x }", NULL, &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "{\"a\":1}")),
	    "x");
	json_decref(v);
	{
		char text[512];
		size_t n = 0, i;

		for (i = 0; i < 40; i++)
			text[n++] = '{';
		text[n++] = 'a';
		for (i = 0; i < 40; i++) {
			memcpy(text + n, ": 1}", 4);
			n += 4;
		}
		text[n] = '\0';
		check_error(text, "mapping key longer than");
	}
}

static void
test_srcmap(void **state)
{
	struct yaml_srcmap *map = yaml_srcmap_new();
	json_t *nodes[2000];
	const char *f1 = NULL, *f2 = NULL;
	char name[32];
	int line, col;
	size_t i;

	(void)state;
	assert_int_equal(yaml_srcmap_find(map, json_null(), NULL, NULL, NULL), -1);
	yaml_srcmap_add(map, json_true(), "x", 1, 1); /* singletons ignored */
	assert_int_equal(yaml_srcmap_find(map, json_true(), NULL, NULL, NULL), -1);
	for (i = 0; i < 2000; i++) {
		nodes[i] = json_integer((json_int_t)i);
		snprintf(name, sizeof name, "f%zu", i % 3);
		yaml_srcmap_add(map, nodes[i], name, (int)i + 1, 2);
	}
	/* the map keeps nodes alive after their owners let go */
	for (i = 0; i < 2000; i++)
		json_decref(nodes[i]);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(yaml_srcmap_find(map, nodes[i], NULL, &line,
		    &col), 0);
		assert_int_equal(line, (int)i + 1);
		assert_int_equal(json_integer_value(nodes[i]), (json_int_t)i);
	}
	/* re-adding updates the place; file names are interned */
	yaml_srcmap_add(map, nodes[0], "f1", 9, 9);
	assert_int_equal(yaml_srcmap_find(map, nodes[0], &f1, &line, NULL), 0);
	assert_int_equal(line, 9);
	assert_int_equal(yaml_srcmap_find(map, nodes[1], &f2, NULL, NULL), 0);
	assert_ptr_equal(f1, f2);
	yaml_srcmap_free(map);
	yaml_srcmap_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_json_input),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_keys_and_docs),
		cmocka_unit_test(test_srcmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

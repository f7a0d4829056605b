/* Tests for dag_emit.c: ids, task and edge lines, sanitising and escaping,
 * on hand-built normalised processes written into a memstream. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/dag_emit.h"
#include "cwld/err.h"

/* Emits process into a new string; asserts the return value. */
static char *
test_dag_emit_run(const json_t *process, const char *dag_id, const char *path,
    int want_ret, struct cwld_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(dag_emit(process, dag_id, path, f, err), want_ret);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static size_t
test_dag_emit_count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static json_t *
test_dag_emit_step(const char *id, const char *sources_json)
{
	json_t *sources = json_loads(sources_json, 0, NULL);

	assert_non_null(sources);
	return json_pack("{s:s,s:[{s:s,s:o}],s:[s],s:{s:s}}", "id", id, "in", "id", "x",
	    "source", sources, "out", "output", "run", "class", "CommandLineTool");
}

static void
test_dag_emit_ids(void **state)
{
	char long_in[301];
	char *s;

	(void)state;
	s = dag_emit_id("count-lines1-wf");
	assert_string_equal(s, "count-lines1-wf");
	free(s);
	s = dag_emit_id("a b/c#d.e");
	assert_string_equal(s, "a_b_c_d.e");
	free(s);
	s = dag_emit_id("");
	assert_string_equal(s, "_");
	free(s);
	s = dag_emit_id(NULL);
	assert_string_equal(s, "_");
	free(s);
	s = dag_emit_id("pi\xcf\x80-\xf0\x9f\x98\x80!");  /* "pi<pi>-<emoji>!" */
	assert_string_equal(s, "pi_-__");
	free(s);
	memset(long_in, 'a', 300);
	long_in[300] = '\0';
	s = dag_emit_id(long_in);
	assert_int_equal(strlen(s), 200);
	free(s);
}

static void
test_dag_emit_workflow(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf;
	char *out;

	(void)state;
	wf = json_pack("{s:s,s:s,s:[],s:[],s:[o,o,o,o]}",
	    "class", "Workflow", "id", "file:///w/count-lines1-wf.cwl",
	    "inputs", "outputs", "steps",
	    test_dag_emit_step("step1", "[\"file1\"]"),
	    test_dag_emit_step("step2", "[\"step1/output\"]"),
	    test_dag_emit_step("merge", "[\"step1/output\", \"step2/output\", \"step1/other\"]"),
	    test_dag_emit_step("lonely", "[]"));
	assert_non_null(wf);
	out = test_dag_emit_run(wf, NULL, "/w/count-lines1-wf.cwl", 0, &err);

	assert_non_null(strstr(out, "from airflow import DAG\n"));
	assert_non_null(strstr(out, "from airflow.providers.standard.operators.bash import BashOperator\n"));
	assert_non_null(strstr(out, "from airflow.operators.bash import BashOperator\n"));
	assert_non_null(strstr(out, "dag_id=\"count-lines1-wf\",\n"));
	assert_non_null(strstr(out, "schedule=None,\n"));
	assert_non_null(strstr(out, "catchup=False,\n"));
	assert_non_null(strstr(out, "is_paused_upon_creation=True,\n"));
	assert_non_null(strstr(out, "tzinfo=timezone.utc"));
	assert_non_null(strstr(out, "tags=[\"cwl\"],\n"));
	assert_null(strstr(out, "schedule_interval"));

	assert_int_equal(test_dag_emit_count(out, "BashOperator(\n"), 4);
	assert_non_null(strstr(out, "    t_step1 = BashOperator(\n        task_id=\"step1\",\n"
	    "        bash_command=\"cwld run --only-step step1 /w/count-lines1-wf.cwl\",\n"));
	assert_non_null(strstr(out, "task_id=\"merge\""));
	assert_non_null(strstr(out, "task_id=\"lonely\""));

	/* Edges: each upstream step once, none from workflow inputs. */
	assert_int_equal(test_dag_emit_count(out, " >> "), 3);
	assert_non_null(strstr(out, "    t_step1 >> t_step2\n"));
	assert_int_equal(test_dag_emit_count(out, "    t_step1 >> t_merge\n"), 1);
	assert_non_null(strstr(out, "    t_step2 >> t_merge\n"));
	assert_null(strstr(out, ">> t_lonely"));
	free(out);
	json_decref(wf);
}

static void
test_dag_emit_sanitise_and_unique(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf;
	char *out;

	(void)state;
	wf = json_pack("{s:s,s:[o,o,o]}", "class", "Workflow", "steps",
	    test_dag_emit_step("a b", "[]"),
	    test_dag_emit_step("a_b", "[\"a b/out\"]"),
	    test_dag_emit_step("a.b", "[\"a_b/out\"]"));
	out = test_dag_emit_run(wf, "my dag/\xcf\x80", "/w/x.cwl", 0, &err);
	assert_non_null(strstr(out, "dag_id=\"my_dag__\",\n"));
	assert_non_null(strstr(out, "    t_a_b = BashOperator(\n        task_id=\"a_b\",\n"));
	/* The second "a_b" task id and variable get suffixes. */
	assert_non_null(strstr(out, "    t_a_b_2 = BashOperator(\n        task_id=\"a_b_2\",\n"));
	/* "a.b" keeps its dot in the task id; its variable name would clash. */
	assert_non_null(strstr(out, "    t_a_b_3 = BashOperator(\n        task_id=\"a.b\",\n"));
	/* The step id with a space is shell-quoted in the command. */
	assert_non_null(strstr(out, "--only-step $'a b' /w/x.cwl\""));
	assert_non_null(strstr(out, "    t_a_b >> t_a_b_2\n"));
	assert_non_null(strstr(out, "    t_a_b_2 >> t_a_b_3\n"));
	free(out);
	json_decref(wf);
}

static void
test_dag_emit_escaping(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf;
	char *out;

	(void)state;
	wf = json_pack("{s:s,s:s,s:[o]}", "class", "Workflow",
	    "label", "count \"lines\"\n\\ caf\xc3\xa9 \xf0\x9f\x98\x80",
	    "steps", test_dag_emit_step("s", "[]"));
	out = test_dag_emit_run(wf, NULL, "/w/it's {{ bad }}.cwl", 0, &err);
	/* Python literal: quotes, newline, backslash, BMP and astral escapes. */
	assert_non_null(strstr(out,
	    "description=\"count \\\"lines\\\"\\n\\\\ caf\\u00e9 \\U0001f600\",\n"));
	/* Bash: $'...' with the quote escaped and Jinja braces as \x7b \x7d;
	 * then each backslash doubled for Python. */
	assert_non_null(strstr(out, "bash_command=\"cwld run --only-step s "
	    "$'/w/it\\\\'s \\\\x7b\\\\x7b bad \\\\x7d\\\\x7d.cwl'\",\n"));
	assert_null(strstr(out, "{{"));
	/* dag id from the file name, sanitised. */
	assert_non_null(strstr(out, "dag_id=\"it_s____bad___\",\n"));
	free(out);
	json_decref(wf);
}

static void
test_dag_emit_tool(void **state)
{
	struct cwld_err err = { 0 };
	json_t *tool;
	char *out;

	(void)state;
	tool = json_pack("{s:s,s:s,s:[s]}", "class", "CommandLineTool", "id",
	    "file:///x/echo.cwl", "baseCommand", "echo");
	out = test_dag_emit_run(tool, NULL, "/x/echo.cwl", 0, &err);
	assert_int_equal(test_dag_emit_count(out, "BashOperator(\n"), 1);
	assert_non_null(strstr(out, "    t_echo = BashOperator(\n        task_id=\"echo\",\n"
	    "        bash_command=\"cwld run /x/echo.cwl\",\n"));
	assert_null(strstr(out, " >> "));
	free(out);

	/* A command ending in .sh would be read as a template file. */
	out = test_dag_emit_run(tool, NULL, "/x/run.sh", 0, &err);
	assert_non_null(strstr(out, "bash_command=\"cwld run /x/run.sh \",\n"));
	assert_non_null(strstr(out, "dag_id=\"run\""));
	free(out);

	/* Without a path, the process's id names things. */
	out = test_dag_emit_run(tool, NULL, NULL, 0, &err);
	assert_non_null(strstr(out, "dag_id=\"echo\""));
	assert_non_null(strstr(out, "bash_command=\"cwld run file:///x/echo.cwl\""));
	free(out);
	json_decref(tool);
}

static void
test_dag_emit_empty_workflow(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf = json_pack("{s:s,s:[]}", "class", "Workflow", "steps");
	char *out;

	(void)state;
	out = test_dag_emit_run(wf, "empty", "/w/e.cwl", 0, &err);
	assert_non_null(strstr(out, ") as dag:\n    pass\n"));
	free(out);
	json_decref(wf);
}

static void
test_dag_emit_errors(void **state)
{
	struct cwld_err err = { 0 };
	json_t *bad;
	char *out;

	(void)state;
	bad = json_pack("{s:s}", "id", "x");
	out = test_dag_emit_run(bad, NULL, "/x.cwl", -1, &err);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_string_equal(out, "");
	free(out);
	json_decref(bad);

	bad = json_pack("{s:s,s:[o]}", "class", "Workflow", "steps",
	    test_dag_emit_step("s", "[]"));
	out = test_dag_emit_run(bad, NULL, "/w/\xff.cwl", -1, &err);
	assert_non_null(strstr(err.msg, "UTF-8"));
	assert_string_equal(out, "");  /* nothing half-written */
	free(out);
	json_decref(bad);

	bad = json_pack("{s:s,s:[{s:[]}]}", "class", "Workflow", "steps", "in");
	out = test_dag_emit_run(bad, NULL, "/w/a.cwl", -1, &err);
	assert_non_null(strstr(err.msg, "step 1"));
	free(out);
	json_decref(bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dag_emit_ids),
		cmocka_unit_test(test_dag_emit_workflow),
		cmocka_unit_test(test_dag_emit_sanitise_and_unique),
		cmocka_unit_test(test_dag_emit_escaping),
		cmocka_unit_test(test_dag_emit_tool),
		cmocka_unit_test(test_dag_emit_empty_workflow),
		cmocka_unit_test(test_dag_emit_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

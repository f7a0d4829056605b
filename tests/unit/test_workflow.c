/* Workflow runner: v1.3 loops (last_iteration, all_iterations, skipped
 * first iteration, outputSource with pickValue and default, valueFrom,
 * requirement checks) run on ExpressionTools with a real store. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/scheduler.h"
#include "cwld/store.h"
#include "cwld/workflow.h"
#include "cwld/xmalloc.h"

struct result {
	int called, status;
	json_t *outputs;
	char msg[512];
};

static void
test_workflow_done(void *arg, int status, json_t *outputs, const char *msg)
{
	struct result *r = arg;

	r->called++;
	r->status = status;
	r->outputs = outputs ? json_incref(outputs) : NULL;
	snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
}

static const char *const test_workflow_tool =
    "    run:\n"
    "      class: ExpressionTool\n"
    "      inputs: {i1: int, i2: int?}\n"
    "      outputs: {o1: int, big: int?}\n"
    "      expression: >\n"
    "        ${return {'o1': inputs.i1 + (inputs.i2 || 1),\n"
    "                  'big': inputs.i1 >= 3 ? inputs.i1 + 10 : null};}\n";

/* Runs a workflow whose single step "s" (requirements reqs, step fields
 * body) runs the tool above on inputs {i1: 1}; fills r and, when steps is
 * not NULL, the names of the store's steps (new array). */
static void
test_workflow_run_typed(const char *otype, const char *reqs, const char *body,
    struct result *r, json_t **steps)
{
	char tmpl[] = "/tmp/cwld-test-workflow-XXXXXX";
	char *dir = mkdtemp(tmpl), *cwl = NULL, *db = NULL, *doc = NULL, *rundir = NULL;
	struct load_ctx *lc = load_ctx_new();
	struct event_base *base = event_base_new();
	struct cwld_err err = { 0 };
	struct store *st = NULL;
	struct sched *s = NULL;
	json_t *wf = NULL, *inputs = json_pack("{s:i}", "i1", 1), *run = NULL, *x;
	struct sched_opts o = { .run_id = "r1", .parallel = 2, .no_container = 1 };
	FILE *f;
	size_t i;

	memset(r, 0, sizeof *r);
	assert_non_null(dir);
	cwl = xasprintf("%s/wf.cwl", dir);
	db = xasprintf("%s/db.sqlite", dir);
	rundir = xasprintf("%s/run", dir);
	o.run_dir = rundir;
	doc = xasprintf("cwlVersion: v1.3.0-dev1\nclass: Workflow\n"
	    "requirements:\n  InlineJavascriptRequirement: {}\n%s"
	    "inputs: {i1: int}\n"
	    "outputs:\n  o1: {type: \"%s\", outputSource: s/o1}\n"
	    "steps:\n  s:\n    in: {i1: i1}\n    out: [o1, big]\n%s%s",
	    reqs, otype, body, test_workflow_tool);
	f = fopen(cwl, "w");
	assert_non_null(f);
	fputs(doc, f);
	fclose(f);
	wf = load_process(lc, cwl, &err);
	if (wf == NULL)
		fail_msg("load: %s", err.msg);
	st = store_open(db, &err);
	assert_non_null(st);
	assert_int_equal(store_run_create(st, "r1", cwl, inputs, &err), 0);
	s = sched_new(base, st, &o, &err);
	assert_non_null(s);
	assert_int_equal(workflow_start(s, wf, inputs, "", NULL, NULL, test_workflow_done, r, &err), 0);
	event_base_dispatch(base);
	assert_int_equal(r->called, 1);
	if (steps) {
		run = store_run_get(st, "r1", &err);
		assert_non_null(run);
		*steps = json_array();
		json_array_foreach(json_object_get(run, "steps"), i, x)
			json_array_append(*steps, json_object_get(x, "name"));
	}
	json_decref(run);
	sched_free(s);
	store_close(st);
	event_base_free(base);
	load_ctx_free(lc);
	json_decref(wf);
	json_decref(inputs);
	fs_rm_rf(dir, NULL);
	free(cwl);
	free(db);
	free(doc);
	free(rundir);
}

static void
test_workflow_run(const char *reqs, const char *body, struct result *r, json_t **steps)
{
	test_workflow_run_typed("Any?", reqs, body, r, steps);
}

static void
test_loop_last_iteration(void **state)
{
	struct result r;
	json_t *steps = NULL;

	(void)state;
	test_workflow_run("", "    when: $(inputs.i1 < 10)\n    loop: {i1: o1}\n"
	    "    outputMethod: last_iteration\n", &r, &steps);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_integer_value(json_object_get(r.outputs, "o1")), 10);
	/* One store step per iteration, each with its own name. */
	assert_int_equal(json_array_size(steps), 9);
	assert_string_equal(json_string_value(json_array_get(steps, 0)), "s/iter0");
	assert_string_equal(json_string_value(json_array_get(steps, 8)), "s/iter8");
	json_decref(steps);
	json_decref(r.outputs);
}

static void
test_loop_all_iterations(void **state)
{
	struct result r;
	json_t *want = json_pack("[i,i,i,i]", 2, 3, 4, 5);

	(void)state;
	test_workflow_run("", "    when: $(inputs.i1 < 5)\n    loop:\n      i1: o1\n"
	    "    outputMethod: all_iterations\n", &r, NULL);
	assert_int_equal(r.status, 0);
	assert_true(json_equal(json_object_get(r.outputs, "o1"), want));
	json_decref(want);
	json_decref(r.outputs);
}

static void
test_loop_skipped(void **state)
{
	struct result r;
	json_t *steps = NULL;

	(void)state;
	/* when false before the first iteration: null, or [] for all_iterations. */
	test_workflow_run("", "    when: $(inputs.i1 < 1)\n    loop: {i1: o1}\n", &r, &steps);
	assert_int_equal(r.status, 0);
	assert_true(json_is_null(json_object_get(r.outputs, "o1")));
	assert_int_equal(json_array_size(steps), 1);
	assert_string_equal(json_string_value(json_array_get(steps, 0)), "s");
	json_decref(steps);
	json_decref(r.outputs);
	/* Even where the workflow output is declared int. */
	test_workflow_run_typed("int", "", "    when: $(inputs.i1 < 1)\n    loop: {i1: o1}\n",
	    &r, NULL);
	assert_int_equal(r.status, 0);
	assert_true(json_is_null(json_object_get(r.outputs, "o1")));
	json_decref(r.outputs);
	test_workflow_run("", "    when: $(inputs.i1 < 1)\n    loop: {i1: o1}\n"
	    "    outputMethod: all_iterations\n", &r, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_array_size(json_object_get(r.outputs, "o1")), 0);
	assert_true(json_is_array(json_object_get(r.outputs, "o1")));
	json_decref(r.outputs);
}

static void
test_loop_value_from(void **state)
{
	struct result r;

	(void)state;
	/* inputs in a loop valueFrom is the previous iteration's input object;
	 * i2, not looped, keeps its first value. */
	test_workflow_run("  StepInputExpressionRequirement: {}\n",
	    "    when: $(inputs.i1 < 4)\n    loop:\n      i1:\n        valueFrom: $(inputs.i1 + 1)\n",
	    &r, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_integer_value(json_object_get(r.outputs, "o1")), 4);
	json_decref(r.outputs);
	/* Without StepInputExpressionRequirement the step fails. */
	test_workflow_run("",
	    "    when: $(inputs.i1 < 4)\n    loop:\n      i1:\n        valueFrom: $(inputs.i1 + 1)\n",
	    &r, NULL);
	assert_int_not_equal(r.status, 0);
	assert_null(r.outputs);
	assert_non_null(strstr(r.msg, "StepInputExpressionRequirement"));
}

static void
test_loop_sources(void **state)
{
	struct result r;

	(void)state;
	/* big is null until i1 >= 3: i1 1 -> 2 -> 3 -> 13, last o1 4. */
	test_workflow_run("  MultipleInputFeatureRequirement: {}\n",
	    "    when: $(inputs.i1 < 7)\n    loop:\n      i1:\n"
	    "        outputSource: [big, o1]\n        pickValue: first_non_null\n",
	    &r, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_integer_value(json_object_get(r.outputs, "o1")), 4);
	json_decref(r.outputs);
	/* A null source takes the default: i1 1 -> 5 -> 15, last o1 6. */
	test_workflow_run("", "    when: $(inputs.i1 < 7)\n    loop:\n      i1:\n"
	    "        outputSource: big\n        default: 5\n    outputMethod: last_iteration\n",
	    &r, NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_integer_value(json_object_get(r.outputs, "o1")), 6);
	json_decref(r.outputs);
	/* Several sources need MultipleInputFeatureRequirement. */
	test_workflow_run("", "    when: $(inputs.i1 < 7)\n    loop:\n      i1:\n"
	    "        outputSource: [big, o1]\n        pickValue: first_non_null\n",
	    &r, NULL);
	assert_int_not_equal(r.status, 0);
	assert_non_null(strstr(r.msg, "MultipleInputFeatureRequirement"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_last_iteration),
		cmocka_unit_test(test_loop_all_iterations),
		cmocka_unit_test(test_loop_skipped),
		cmocka_unit_test(test_loop_value_from),
		cmocka_unit_test(test_loop_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

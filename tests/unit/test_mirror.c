/* Tests for mirror.c's parts that need no loop and no Airflow: the task
 * graph (ids as dag_emit writes them, edges, step name to task), the task
 * state of a step's invocations, the backoff, one run's tracking from step
 * events (when each task is complete, in dependency order), and the outbox
 * rows in a real SQLite store (one run's rows in order, others not held up).
 * The REST side is tested against a real Airflow in
 * tests/integration/test_airflow.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/airflow_api.h"
#include "cwld/dag_emit.h"
#include "cwld/load.h"
#include "cwld/mirror.h"
#include "cwld/store.h"
#include "testutil.h"

/* A normalised step: id, the sources of its one input, its run's class,
 * scattered or not. */
static json_t *
test_step(const char *id, const char *sources_json, const char *cls, int scattered)
{
	json_t *s = json_pack("{s:s, s:[{s:s, s:o}], s:[s], s:{s:s}}", "id", id, "in", "id",
	    "x", "source", tu_json(sources_json), "out", "o", "run", "class", cls);

	if (scattered)
		json_object_set_new(s, "scatter", json_pack("[s]", "x"));
	return s;
}

/* The diamond of tests/integration/data plus a scatter, a subworkflow, a
 * loop and two ids that sanitise alike. */
static json_t *
test_workflow(void)
{
	json_t *loop;

	loop = test_step("again", "[\"sub/o\"]", "CommandLineTool", 0);
	json_object_set_new(loop, "loop", json_object());
	return json_pack("{s:s, s:s, s:[o, o, o, o, o, o, o, o, o]}", "class", "Workflow",
	    "id", "file:///w/wf.cwl", "steps",
	    test_step("first", "[\"text\"]", "CommandLineTool", 0),
	    test_step("left", "[\"first/out\"]", "CommandLineTool", 0),
	    test_step("right", "[\"first/out\"]", "ExpressionTool", 0),
	    test_step("join", "[\"left/out\", \"right/out\", \"left/out\"]", "CommandLineTool", 0),
	    test_step("each", "[\"join/out\"]", "CommandLineTool", 1),
	    test_step("sub", "[\"each/o\"]", "Workflow", 1),
	    loop,
	    test_step("a b", "[]", "CommandLineTool", 0),
	    test_step("a_b", "[\"a b/o\"]", "CommandLineTool", 0));
}

static void
test_mirror_graph(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf = test_workflow(), *j;
	struct mirror_graph *g, *g2;
	char shape[9], shape2[9];
	size_t *order, i, pos[16];

	(void)state;
	g = mirror_graph_new(wf, "/w/wf.cwl", &err);
	assert_non_null(g);
	assert_int_equal(g->n, 9);
	assert_string_equal(g->tasks[0].id, "first");
	assert_string_equal(g->tasks[7].id, "a_b");
	assert_string_equal(g->tasks[8].id, "a_b_2");
	assert_string_equal(g->tasks[7].step, "a b");
	/* kinds: tools, a scattered tool, a scattered subworkflow, a loop */
	assert_int_equal(g->tasks[2].kind, MIRROR_ONE);
	assert_int_equal(g->tasks[4].kind, MIRROR_SCATTER);
	assert_int_equal(g->tasks[5].kind, MIRROR_NESTED);
	assert_true(g->tasks[5].scattered);
	assert_int_equal(g->tasks[6].kind, MIRROR_NESTED);
	/* edges once each, none from inputs */
	assert_int_equal(g->tasks[0].nup, 0);
	assert_int_equal(g->tasks[3].nup, 2);
	assert_int_equal(g->tasks[3].up[0], 1);
	assert_int_equal(g->tasks[3].up[1], 2);
	assert_int_equal(g->tasks[8].nup, 1);
	assert_int_equal(g->tasks[8].up[0], 7);
	/* an order with every task after those it depends on */
	order = mirror_graph_order(g);
	for (i = 0; i < g->n; i++)
		pos[order[i]] = i;
	for (i = 0; i < g->n; i++)
		for (size_t k = 0; k < g->tasks[i].nup; k++)
			assert_true(pos[g->tasks[i].up[k]] < pos[i]);
	free(order);
	/* kept in the outbox and read back by a later daemon */
	j = mirror_graph_json(g);
	g2 = mirror_graph_from_json(j, &err);
	assert_non_null(g2);
	mirror_graph_shape(g, shape);
	mirror_graph_shape(g2, shape2);
	assert_int_equal(strlen(shape), 8);
	assert_string_equal(shape, shape2);
	assert_int_equal(g2->tasks[5].kind, MIRROR_NESTED);
	assert_true(g2->tasks[5].scattered);
	assert_int_equal(g2->tasks[3].nup, 2);
	mirror_graph_free(g2);
	/* another shape, another hash */
	json_object_set_new(json_array_get(json_object_get(wf, "steps"), 1), "in", json_array());
	g2 = mirror_graph_new(wf, "/w/wf.cwl", &err);
	mirror_graph_shape(g2, shape2);
	assert_string_not_equal(shape, shape2);
	mirror_graph_free(g2);
	json_decref(j);
	j = tu_json("[null]");
	assert_null(mirror_graph_from_json(j, &err));
	json_decref(j);
	j = tu_json("[{\"id\": \"a\", \"kind\": \"one\", \"up\": [4]}]");
	assert_null(mirror_graph_from_json(j, &err));
	json_decref(j);
	mirror_graph_free(g);
	json_decref(wf);
}

/* The task ids are those in the file dag_emit writes, in order. */
static void
test_mirror_graph_matches_dag_emit(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf = test_workflow(), *tool;
	struct mirror_graph *g;
	char *buf = NULL, *p;
	size_t len = 0, i = 0;
	FILE *f;

	(void)state;
	g = mirror_graph_new(wf, "/w/wf.cwl", &err);
	f = open_memstream(&buf, &len);
	assert_int_equal(dag_emit(wf, "cwld_wf", "/w/wf.cwl", f, &err), 0);
	fclose(f);
	for (p = buf; (p = strstr(p, "task_id=\"")) != NULL; i++) {
		p += strlen("task_id=\"");
		assert_true(i < g->n);
		assert_int_equal(strncmp(p, g->tasks[i].id, strlen(g->tasks[i].id)), 0);
		assert_int_equal(p[strlen(g->tasks[i].id)], '"');
	}
	assert_int_equal(i, g->n);
	free(buf);
	mirror_graph_free(g);

	/* a tool: one task named after the file, all its invocations "main" */
	tool = json_pack("{s:s, s:s}", "class", "CommandLineTool", "id", "file:///w/fail tool.cwl#x");
	g = mirror_graph_new(tool, "/w/fail tool.cwl", &err);
	assert_non_null(g);
	assert_int_equal(g->n, 1);
	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_int_equal(dag_emit(tool, "cwld_x", "/w/fail tool.cwl", f, &err), 0);
	fclose(f);
	assert_string_equal(g->tasks[0].id, "fail_tool");
	assert_non_null(strstr(buf, "task_id=\"fail_tool\""));
	assert_int_equal(mirror_graph_task(g, "main"), 0);
	free(buf);
	mirror_graph_free(g);
	json_decref(tool);
	json_decref(wf);
}

static void
test_mirror_step_to_task(void **state)
{
	static const struct { const char *name; long task; } cases[] = {
		{ "first", 0 },
		{ "join", 3 },
		{ "each.0", 4 },
		{ "each.12", 4 },
		{ "each", -1 },         /* a scattered step's jobs carry .N */
		{ "each.", -1 },
		{ "each.x", -1 },
		{ "first.1", -1 },      /* not scattered: no suffix to strip */
		{ "sub.1/inner", 5 },
		{ "sub.1/inner.3", 5 },
		{ "sub/inner", -1 },    /* sub is scattered */
		{ "again/iter0", 6 },
		{ "again/iter12/deep", 6 },
		{ "a b", 7 },
		{ "a_b", 8 },
		{ "", -1 },
		{ "main", -1 },
		{ "nosuch", -1 },
	};
	struct cwld_err err = { 0 };
	json_t *wf = test_workflow(), *steps;
	struct mirror_graph *g = mirror_graph_new(wf, NULL, &err);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (mirror_graph_task(g, cases[i].name) != cases[i].task)
			fail_msg("'%s': task %ld, want %ld", cases[i].name,
			    mirror_graph_task(g, cases[i].name), cases[i].task);
	mirror_graph_free(g);
	/* a step id ending in .N names itself when it is not scattered */
	steps = json_object_get(wf, "steps");
	json_object_set_new(json_array_get(steps, 0), "id", json_string("v.2"));
	json_object_set_new(json_array_get(steps, 1), "id", json_string("v"));
	g = mirror_graph_new(wf, NULL, &err);
	assert_int_equal(mirror_graph_task(g, "v.2"), 0);
	assert_int_equal(mirror_graph_task(g, "v"), 1);
	mirror_graph_free(g);
	json_decref(wf);
}

static void
test_mirror_task_state(void **state)
{
	static const struct { struct mirror_counts c; const char *want; } cases[] = {
		{ { 0, 0, 0, 0, 0, 0 }, NULL },
		{ { 3, 0, 0, 0, 0, 0 }, NULL },
		{ { 1, 1, 1, 0, 0, 0 }, "success" },
		{ { 3, 3, 2, 0, 1, 0 }, "success" },
		{ { 3, 3, 0, 0, 3, 0 }, "skipped" },
		{ { 3, 3, 2, 1, 0, 0 }, "failed" },
		{ { 3, 3, 0, 0, 2, 1 }, "failed" },   /* cancelled counts as failed */
		{ { 3, 2, 2, 0, 0, 0 }, "success" },  /* what has finished */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = mirror_task_state(&cases[i].c);

		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
	}
}

static void
test_mirror_backoff(void **state)
{
	static const int64_t want[] = { 0, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000 };
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		assert_int_equal(mirror_backoff_ms(i), want[i]);
	assert_int_equal(mirror_backoff_ms(64), 30000);
	assert_int_equal(mirror_backoff_ms(1 << 30), 30000);
	assert_int_equal(mirror_backoff_ms(-1), 0);
}

static void
test_mirror_iso_and_clip(void **state)
{
	char buf[32], *s;

	(void)state;
	mirror_iso(1714564800123LL, buf);
	assert_string_equal(buf, "2024-05-01T12:00:00.123Z");
	mirror_iso(0, buf);
	assert_string_equal(buf, "unknown");
	/* a note is cut at 1000 bytes, never inside a UTF-8 sequence */
	s = airflow_api_clip("ab\xc3\xa9z", 3);
	assert_string_equal(s, "ab");
	free(s);
	s = airflow_api_clip("ab\xc3\xa9z", 4);
	assert_string_equal(s, "ab\xc3\xa9");
	free(s);
	s = airflow_api_clip("\xe2\x82\xac\xe2\x82\xac", 5);
	assert_string_equal(s, "\xe2\x82\xac");
	free(s);
	/* and invalid bytes (a stray continuation, a cut-off sequence, an
	 * overlong form, a surrogate) become '?' */
	s = airflow_api_clip("a\x80" "b\xc3", 10);
	assert_string_equal(s, "a?b?");
	free(s);
	s = airflow_api_clip("\xc0\xaf\xed\xa0\x80ok", 10);
	assert_string_equal(s, "?????ok");
	free(s);
	s = airflow_api_clip("\xf0\x9f\x98\x80", 10);
	assert_string_equal(s, "\xf0\x9f\x98\x80");
	free(s);
	s = airflow_api_escape("sub/inner.2 x");
	assert_string_equal(s, "sub%2Finner.2%20x");
	free(s);
}

/* What a tracker emitted, "task=state" in order. */
struct test_emits {
	const struct mirror_graph *g;
	char log[1024];
	char notes[16][1100];
	size_t n;
};

static void
test_emit(void *arg, size_t task, const char *state, const char *note)
{
	struct test_emits *e = arg;
	size_t len = strlen(e->log);

	snprintf(e->log + len, sizeof e->log - len, "%s%s=%s", len ? " " : "",
	    e->g->tasks[task].id, state);
	assert_true(strlen(note) <= 1000);
	if (e->n < 16)
		snprintf(e->notes[e->n++], sizeof e->notes[0], "%s", note);
}

/* Feeds one event; returns what mirror_track_event said. */
static int
test_ev(struct mirror_track *t, struct test_emits *e, enum sched_step_phase phase,
    const char *step, const char *state)
{
	struct sched_step_event ev = { 0 };

	ev.phase = phase;
	ev.run_id = "r1";
	ev.step = step;
	ev.state = state;
	ev.exit_code = strcmp(state, "failed") == 0 ? 3 : 0;
	ev.started_at = 1714564800000LL;
	ev.finished_at = phase == SCHED_STEP_FINISHED ? 1714564801500LL : 0;
	ev.msg = strcmp(state, "failed") == 0 ? "step 'x': exit code 3" : NULL;
	return mirror_track_event(t, &ev, test_emit, e);
}

#define Q SCHED_STEP_QUEUED
#define F SCHED_STEP_FINISHED

static void
test_mirror_track(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf = test_workflow();
	struct mirror_graph *g = mirror_graph_new(wf, NULL, &err);
	struct test_emits e = { g, "", { "" }, 0 };
	struct mirror_track *t = mirror_track_new(g, "r1", "http://127.0.0.1:8080");
	char *note;

	(void)state;
	test_ev(t, &e, Q, "first", "pending");
	assert_string_equal(e.log, "");
	test_ev(t, &e, F, "first", "success");
	assert_string_equal(e.log, "first=success");
	assert_non_null(strstr(e.notes[0], "cwld run r1, step 'first': success."));
	assert_non_null(strstr(e.notes[0], "Started 2024-05-01T12:00:00.000Z, finished "
	    "2024-05-01T12:00:01.500Z (1.5 s)."));
	assert_non_null(strstr(e.notes[0],
	    "Log: http://127.0.0.1:8080/api/v1/runs/r1/steps/first/logs/stderr"));
	test_ev(t, &e, Q, "left", "pending");
	test_ev(t, &e, Q, "right", "pending");
	test_ev(t, &e, F, "right", "success");
	test_ev(t, &e, F, "left", "success");
	test_ev(t, &e, Q, "join", "pending");
	test_ev(t, &e, F, "join", "success");
	assert_string_equal(e.log, "first=success right=success left=success join=success");
	/* a scatter: complete when all queued in its turn have finished */
	assert_int_equal(test_ev(t, &e, Q, "each.0", "pending"), 0);
	assert_int_equal(test_ev(t, &e, Q, "each.1", "pending"), 0);
	assert_int_equal(test_ev(t, &e, F, "each.1", "skipped"), 0);
	assert_int_equal(test_ev(t, &e, F, "each.0", "success"), 1);
	assert_string_equal(e.log, "first=success right=success left=success join=success");
	mirror_track_check(t, test_emit, &e);
	assert_non_null(strstr(e.log, "join=success each=success"));
	assert_non_null(strstr(e.notes[e.n - 1], "2 invocations (1 success, 1 skipped)"));
	/* a nested step: complete when what depends on it starts */
	test_ev(t, &e, Q, "sub.0/inner", "pending");
	test_ev(t, &e, F, "sub.0/inner", "failed");
	test_ev(t, &e, Q, "sub.1/inner", "pending");
	test_ev(t, &e, F, "sub.1/inner", "success");
	mirror_track_check(t, test_emit, &e);
	assert_null(strstr(e.log, "sub="));
	test_ev(t, &e, Q, "again/iter0", "pending");
	assert_non_null(strstr(e.log, "each=success sub=failed"));
	assert_non_null(strstr(e.notes[e.n - 1], "Exit code 3 (sub.0/inner). step 'x': exit code 3."));
	assert_non_null(strstr(e.notes[e.n - 1], "/steps/sub.0%2Finner/logs/stderr"));
	test_ev(t, &e, F, "again/iter0", "success");
	/* news of a task already set change nothing */
	test_ev(t, &e, F, "sub.2/inner", "success");
	assert_string_equal(mirror_track_state(t, 5), "failed");
	/* the end: the rest in dependency order, a step never started left
	 * alone in a failed run */
	test_ev(t, &e, Q, "a_b", "pending");
	mirror_track_finish(t, "failed", test_emit, &e);
	assert_string_equal(e.log, "first=success right=success left=success join=success "
	    "each=success sub=failed a_b=success again=success");
	assert_null(mirror_track_state(t, 8));
	note = mirror_track_run_note(t, "failed", "step 'x': exit code 3", 1714564800000LL,
	    1714564802000LL);
	assert_non_null(strstr(note, "cwld run r1: failed: step 'x': exit code 3. Started"));
	assert_non_null(strstr(note, "(2.0 s). Run, steps and logs: http://127.0.0.1:8080/api/v1/runs/r1"));
	free(note);
	mirror_track_free(t);
	mirror_graph_free(g);
	json_decref(wf);
}

/* A tool run, a successful run with an empty scatter, a rebuilt mirror. */
static void
test_mirror_track_end(void **state)
{
	struct cwld_err err = { 0 };
	json_t *wf = test_workflow(), *tool;
	struct mirror_graph *g = mirror_graph_new(wf, NULL, &err), *tg;
	struct test_emits e = { g, "", { "" }, 0 };
	struct mirror_track *t = mirror_track_new(g, "r2", NULL);

	(void)state;
	/* the mirror rebuilt after a restart knows first and left were set */
	mirror_track_set(t, 0, "success");
	mirror_track_set(t, 1, "success");
	test_ev(t, &e, Q, "right", "pending");
	test_ev(t, &e, F, "right", "success");
	assert_string_equal(e.log, "right=success");
	mirror_track_finish(t, "success", test_emit, &e);
	/* in a successful run a task without invocations is an empty scatter */
	assert_string_equal(e.log, "right=success join=success each=success sub=success "
	    "again=success a_b=success a_b_2=success");
	assert_non_null(strstr(e.notes[1], "No invocations (an empty scatter)."));
	assert_null(strstr(e.notes[1], "Log:"));
	mirror_track_free(t);

	tool = json_pack("{s:s, s:s}", "class", "CommandLineTool", "id", "file:///w/t.cwl");
	tg = mirror_graph_new(tool, NULL, &err);
	e.g = tg;
	e.log[0] = '\0';
	t = mirror_track_new(tg, "r3", NULL);
	test_ev(t, &e, Q, "main", "pending");
	test_ev(t, &e, F, "main", "failed");
	assert_string_equal(e.log, "t=failed");
	mirror_track_finish(t, "failed", test_emit, &e);
	assert_string_equal(e.log, "t=failed");
	mirror_track_free(t);
	mirror_graph_free(tg);
	mirror_graph_free(g);
	json_decref(tool);
	json_decref(wf);
}

/* The real diamond, loaded: the graph the daemon would mirror. */
static void
test_mirror_loaded(void **state)
{
	struct cwld_err err = { 0 };
	const char *src = getenv("CWLD_SOURCE_DIR");
	struct load_ctx *lc = load_ctx_new();
	struct mirror_graph *g;
	char *path;
	json_t *p;

	(void)state;
	path = xasprintf("%s/tests/integration/data/diamond-wf.cwl", src ? src : "../..");
	p = load_process(lc, path, &err);
	if (p == NULL)
		fail_msg("%s", err.msg);
	g = mirror_graph_new(p, path, &err);
	assert_non_null(g);
	assert_int_equal(g->n, 4);
	assert_string_equal(g->tasks[3].id, "join");
	assert_int_equal(g->tasks[3].nup, 2);
	assert_int_equal(g->tasks[1].nup, 1);
	assert_int_equal(g->tasks[1].up[0], 0);
	mirror_graph_free(g);
	json_decref(p);
	load_ctx_free(lc);
	free(path);
}

/* The outbox in a real store: each run's rows in id order, one at a time;
 * a row waiting out its backoff holds up its own run only. */
static void
test_mirror_outbox(void **state)
{
	struct cwld_err err = { 0 };
	char tmpl[] = "/tmp/cwld-test-mirror.XXXXXX", *dir = mkdtemp(tmpl), *db;
	struct store *st;
	json_t *rows, *body = json_pack("{s:s}", "dag_id", "d");
	int64_t a1, a2, b1;

	(void)state;
	assert_non_null(dir);
	db = fs_join(dir, "cwld.db");
	st = store_open(db, &err);
	assert_non_null(st);
	assert_int_equal(store_run_create(st, "ra", "file:///w.cwl", NULL, &err), 0);
	assert_int_equal(store_run_create(st, "rb", "file:///w.cwl", NULL, &err), 0);
	a1 = store_outbox_add(st, "ra", "dag", body, &err);
	b1 = store_outbox_add(st, "rb", "dag", body, &err);
	a2 = store_outbox_add(st, "ra", "create_run", body, &err);
	assert_true(a1 > 0 && b1 > a1 && a2 > b1);
	assert_int_equal(store_outbox_add(st, "ra", "bogus", body, &err), -1);
	rows = store_outbox_next(st, &err);
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), a1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 1), "id")), b1);
	assert_string_equal(tu_str(json_object_get(json_array_get(rows, 0), "body"), "dag_id"), "d");
	assert_true(json_integer_value(json_object_get(json_array_get(rows, 0), "due_ms")) <= 0);
	json_decref(rows);
	/* ra's head fails: it waits, rb's does not */
	assert_int_equal(store_outbox_retry(st, a1, 30000, "down", &err), 0);
	rows = store_outbox_next(st, &err);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "attempts")), 1);
	assert_true(json_integer_value(json_object_get(json_array_get(rows, 0), "due_ms")) > 25000);
	assert_true(json_integer_value(json_object_get(json_array_get(rows, 1), "due_ms")) <= 0);
	json_decref(rows);
	/* sent: the next row of ra comes up, due at once */
	assert_int_equal(store_outbox_done(st, a1, "sent", NULL, &err), 0);
	assert_int_equal(store_outbox_done(st, b1, "refused", "HTTP 422", &err), 0);
	rows = store_outbox_next(st, &err);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "id")), a2);
	json_decref(rows);
	/* open mirrors: a create_run and no run */
	rows = store_outbox_open_runs(st, &err);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_array_get(rows, 0)), "ra");
	json_decref(rows);
	assert_true(store_outbox_add(st, "ra", "run", body, &err) > 0);
	rows = store_outbox_open_runs(st, &err);
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);
	rows = store_outbox_of_run(st, "rb", &err);
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(tu_str(json_array_get(rows, 0), "outcome"), "refused");
	assert_string_equal(tu_str(json_array_get(rows, 0), "last_error"), "HTTP 422");
	json_decref(rows);
	assert_int_equal(store_outbox_done(st, 999999, "sent", NULL, &err), -1);
	store_close(st);
	/* and after a restart the rows are still there */
	st = store_open(db, &err);
	rows = store_outbox_next(st, &err);
	assert_int_equal(json_array_size(rows), 1);
	json_decref(rows);
	store_close(st);
	json_decref(body);
	assert_int_equal(fs_rm_rf(dir, &err), 0);
	free(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_graph),
		cmocka_unit_test(test_mirror_graph_matches_dag_emit),
		cmocka_unit_test(test_mirror_step_to_task),
		cmocka_unit_test(test_mirror_task_state),
		cmocka_unit_test(test_mirror_backoff),
		cmocka_unit_test(test_mirror_iso_and_clip),
		cmocka_unit_test(test_mirror_track),
		cmocka_unit_test(test_mirror_track_end),
		cmocka_unit_test(test_mirror_loaded),
		cmocka_unit_test(test_mirror_outbox),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

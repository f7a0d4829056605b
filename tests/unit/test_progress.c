/* Progress: elapsed-time and scatter-index wording, the status block built
 * from step events (counts, order, bounds, width, no control bytes), and
 * the scheduler's observer events from a real run of a scattered
 * subworkflow with a failing job on the host, with a real store. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/progress.h"
#include "cwld/scheduler.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

static void
test_fmt_elapsed(void **state)
{
	static const struct { int64_t ms; const char *want; } cases[] = {
		{ -5, "0.0s" }, { 0, "0.0s" }, { 99, "0.0s" }, { 450, "0.4s" },
		{ 12345, "12.3s" }, { 59999, "59.9s" }, { 60000, "1m00s" },
		{ 245000, "4m05s" }, { 3599999, "59m59s" }, { 3600000, "1h00m" },
		{ 7380000, "2h03m" }, { 360000000, "100h00m" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(progress_fmt_elapsed(cases[i].ms, buf, sizeof buf), cases[i].want);
	/* A short buffer is cut, and terminated. */
	assert_string_equal(progress_fmt_elapsed(12345, buf, 3), "12");
}

static void
test_scatter_note(void **state)
{
	static const struct { const char *name; long idx; const char *note; } cases[] = {
		{ "main", -1, "" },
		{ "align", -1, "" },
		{ "align.3", 3, " (scatter index 3)" },
		{ "sub/inner.12", 12, " (scatter index 12)" },
		{ "sub.1/inner", -1, " (scatter index 1 of 'sub')" },
		{ "sub.1/inner.2", 2, " (scatter index 1 of 'sub', 2 of 'sub.1/inner')" },
		{ "s/iter4", -1, "" },            /* loop iterations are not scatter jobs */
		{ "v1.x", -1, "" },               /* digits must end the name */
		{ ".5", -1, "" },                 /* nothing before the dot */
		{ "a.1234567890", -1, "" },       /* too many digits for an index */
	};
	char buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(sched_step_scatter_index(cases[i].name), cases[i].idx);
		assert_string_equal(sched_step_scatter_note(cases[i].name, buf, sizeof buf),
		    cases[i].note);
	}
	assert_int_equal(sched_step_scatter_index(NULL), -1);
	/* Truncated, still terminated. */
	assert_string_equal(sched_step_scatter_note("a.7", buf, 8), " (scatt");
}

static void
feed(struct progress *p, enum sched_step_phase ph, const char *step, const char *st,
    int exit_code, const char *image, const char *msg, int64_t now)
{
	struct sched_step_event ev = { 0 };

	ev.phase = ph;
	ev.step = step;
	ev.state = st;
	ev.exit_code = exit_code;
	ev.image = image;
	ev.msg = msg;
	progress_step_event(p, &ev, now);
}

static void
test_render_block(void **state)
{
	struct progress *p = progress_new();
	struct progress_counts c;
	size_t n;
	char *s;

	(void)state;
	feed(p, SCHED_STEP_QUEUED, "a", STORE_PENDING, -1, NULL, NULL, 0);
	feed(p, SCHED_STEP_QUEUED, "b", STORE_PENDING, -1, NULL, NULL, 0);
	feed(p, SCHED_STEP_QUEUED, "sub/c.1", STORE_PENDING, -1, NULL, NULL, 0);
	feed(p, SCHED_STEP_QUEUED, "d", STORE_PENDING, -1, NULL, NULL, 0);
	feed(p, SCHED_STEP_STARTED, "a", STORE_RUNNING, -1, NULL, NULL, 1000);
	feed(p, SCHED_STEP_STARTED, "b", STORE_RUNNING, -1, "debian:stable-slim", NULL, 2000);
	feed(p, SCHED_STEP_STARTED, "sub/c.1", STORE_RUNNING, -1, NULL, NULL, 2500);
	feed(p, SCHED_STEP_FINISHED, "sub/c.1", STORE_FAILED, 7, NULL,
	    "step 'sub/c.1' (scatter index 1): command exited with code 7\n  last lines", 4000);
	progress_get_counts(p, &c);
	assert_int_equal(c.total, 4);
	assert_int_equal(c.pending, 1);
	assert_int_equal(c.running, 2);
	assert_int_equal(c.failed, 1);

	s = progress_render(p, 0, 12345, 200, 8, 0, &n);
	assert_int_equal(n, 4);
	assert_string_equal(s,
	    "[12.3s] done 0/4, running 2, queued 1, failed 1\n"
	    "  failed    1.5s  sub/c.1 (scatter index 1): exit code 7\n"
	    "  running  11.3s  a\n"
	    "  running  10.3s  b  in debian:stable-slim\n");
	free(s);

	/* Colors only wrap the state words. */
	s = progress_render(p, 0, 12345, 200, 8, 1, &n);
	assert_non_null(strstr(s, "\033[31mfailed 1\033[0m"));
	assert_non_null(strstr(s, "  \033[36mrunning\033[0m  11.3s  a\n"));
	free(s);

	feed(p, SCHED_STEP_FINISHED, "a", STORE_SUCCESS, 0, NULL, NULL, 13000);
	feed(p, SCHED_STEP_FINISHED, "b", STORE_CANCELLED, -1, NULL, "step 'b': cancelled", 13000);
	/* Skipped by `when`: queued and finished at once, counted as done. */
	feed(p, SCHED_STEP_FINISHED, "d", STORE_SKIPPED, -1, NULL, NULL, 13000);
	s = progress_render(p, 0, 14000, 200, 8, 0, &n);
	assert_string_equal(s,
	    "[14.0s] done 2/4, failed 1, cancelled 1\n"
	    "  failed    1.5s  sub/c.1 (scatter index 1): exit code 7\n");
	free(s);
	s = progress_summary(p, 14000);
	assert_string_equal(s, "done 2/4, 1 failed, 1 cancelled in 14.0s");
	free(s);
	progress_free(p);
}

static void
test_render_bounded(void **state)
{
	struct progress *p = progress_new();
	char name[32];
	size_t n, i;
	char *s, *line;

	(void)state;
	/* A 200-way scatter with 5 failures: the block stays at max_lines. */
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "scat.%zu", i);
		feed(p, SCHED_STEP_QUEUED, name, STORE_PENDING, -1, NULL, NULL, 0);
		feed(p, SCHED_STEP_STARTED, name, STORE_RUNNING, -1, NULL, NULL, (int64_t)i);
	}
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof name, "scat.%zu", 10 + i);
		feed(p, SCHED_STEP_FINISHED, name, STORE_FAILED, 1, NULL, "step 'x': boom", 500);
	}
	s = progress_render(p, 0, 1000, 80, 8, 0, &n);
	assert_int_equal(n, 8);
	assert_string_equal(s,
	    "[1.0s] done 0/200, running 195, failed 5\n"
	    "  failed    0.4s  scat.10 (scatter index 10): exit code 1\n"
	    "  failed    0.4s  scat.11 (scatter index 11): exit code 1\n"
	    "  failed    0.4s  scat.12 (scatter index 12): exit code 1\n"
	    "  running   1.0s  scat.0\n"
	    "  running   0.9s  scat.1\n"
	    "  running   0.9s  scat.2\n"
	    "  ... and 192 more running\n");
	free(s);
	/* One line: the header only. */
	s = progress_render(p, 0, 1000, 80, 1, 0, &n);
	assert_int_equal(n, 1);
	free(s);
	/* Narrow: every line cut to the width. */
	s = progress_render(p, 0, 1000, 20, 8, 1, &n);
	assert_int_equal(n, 8);
	for (line = s, i = 0; *line; i++) {
		size_t cols = 0;
		const char *q;

		for (q = line; *q != '\n'; q++) {
			if (*q == '\033') { /* SGR codes take no column */
				q = strchr(q, 'm');
				continue;
			}
			cols++;
		}
		assert_true(cols <= 20);
		line = (char *)q + 1;
	}
	assert_int_equal(i, 8);
	free(s);
	progress_free(p);
}

static void
test_render_no_control_bytes(void **state)
{
	struct progress *p = progress_new();
	size_t n;
	char *s;

	(void)state;
	/* A name or image must not move the cursor or clear the screen. */
	feed(p, SCHED_STEP_STARTED, "evil\033[2J\r", STORE_RUNNING, -1, "img\nx", NULL, 0);
	feed(p, SCHED_STEP_STARTED, "caf\xc3\xa9", STORE_RUNNING, -1, NULL, NULL, 0);
	s = progress_render(p, 0, 0, 200, 8, 0, &n);
	assert_string_equal(s,
	    "[0.0s] done 0/2, running 2\n"
	    "  running   0.0s  evil?[2J?  in img?x\n"
	    "  running   0.0s  caf\xc3\xa9\n");
	free(s);
	/* "é" is one column: the cut keeps it whole. */
	s = progress_render(p, 0, 0, 21, 8, 0, &n);
	assert_non_null(strstr(s, "  running   0.0s  caf\n"));
	free(s);
	s = progress_render(p, 0, 0, 22, 8, 0, &n);
	assert_non_null(strstr(s, "  running   0.0s  caf\xc3\xa9\n"));
	free(s);
	progress_free(p);
}

/* A pull's detail replaces the image on the running line until cleared;
 * one for a step not running (never started, or finished) is ignored. */
static void
test_render_detail(void **state)
{
	struct progress *p = progress_new();
	struct sched_step_event ev = { 0 };
	size_t n;
	char *s;

	(void)state;
	feed(p, SCHED_STEP_QUEUED, "q", STORE_PENDING, -1, NULL, NULL, 0);
	feed(p, SCHED_STEP_STARTED, "a", STORE_RUNNING, -1, "reg:5000/x:1", NULL, 0);
	ev.phase = SCHED_STEP_PROGRESS;
	ev.state = STORE_RUNNING;
	ev.image = "reg:5000/x:1";
	ev.detail = "pulling reg:5000/x:1 12.3/45.6 MB (2/3 layers)";
	ev.step = "a";
	progress_step_event(p, &ev, 1000);
	ev.step = "q";
	progress_step_event(p, &ev, 1000);
	ev.step = "nobody";
	progress_step_event(p, &ev, 1000);
	s = progress_render(p, 0, 3200, 200, 8, 0, &n);
	assert_string_equal(s,
	    "[3.2s] done 0/2, running 1, queued 1\n"
	    "  running   3.2s  a  pulling reg:5000/x:1 12.3/45.6 MB (2/3 layers)\n");
	free(s);
	ev.step = "a";
	ev.detail = NULL;
	progress_step_event(p, &ev, 4000);
	s = progress_render(p, 0, 4000, 200, 8, 0, &n);
	assert_non_null(strstr(s, "  running   4.0s  a  in reg:5000/x:1\n"));
	free(s);
	progress_free(p);
}

/* Events a real run reports to its observer. */
struct seen {
	json_t *events; /* [{phase, step, state, scatter, exit, ...}] */
	int called, status;
	char msg[4096];
	struct event_base *base; /* the executor's SIGCHLD event keeps it alive */
};

static void
seen_event(void *arg, const struct sched_step_event *ev)
{
	struct seen *w = arg;
	static const char *const phases[] = { "queued", "started", "finished" };

	json_array_append_new(w->events, json_pack("{s:s,s:s,s:s,s:s,s:I,s:i,s:b,s:b,s:b,s:s?,s:s?,s:I,s:I,s:I}",
	    "phase", phases[ev->phase], "run", ev->run_id, "step", ev->step, "state", ev->state,
	    "scatter", (json_int_t)ev->scatter_index, "exit", ev->exit_code,
	    "image", ev->image != NULL, "has_msg", ev->msg != NULL, "has_log_dir", ev->log_dir != NULL,
	    "stderr", ev->stderr_path, "stdout", ev->stdout_path,
	    "queued_at", (json_int_t)ev->queued_at, "started_at", (json_int_t)ev->started_at,
	    "finished_at", (json_int_t)ev->finished_at));
}

static void
seen_done(void *arg, int status, json_t *outputs, const char *msg)
{
	struct seen *w = arg;

	(void)outputs;
	w->called++;
	w->status = status;
	snprintf(w->msg, sizeof w->msg, "%s", msg ? msg : "");
	event_base_loopbreak(w->base);
}

static const struct sched_observer seen_ops = {
	.step_queued = seen_event,
	.step_started = seen_event,
	.step_finished = seen_event,
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

/* The events of the one step named step and phase, or NULL. */
static json_t *
seen_find(const struct seen *w, const char *step, const char *phase)
{
	size_t i;
	json_t *e;

	json_array_foreach(w->events, i, e)
		if (strcmp(json_string_value(json_object_get(e, "step")), step) == 0 &&
		    strcmp(json_string_value(json_object_get(e, "phase")), phase) == 0)
			return e;
	return NULL;
}

static void
test_observer_real_run(void **state)
{
	char tmpl[] = "/tmp/cwld-test-progress-XXXXXX";
	char *dir = mkdtemp(tmpl), *db = NULL, *rundir = NULL, *cwl = NULL;
	struct load_ctx *lc = load_ctx_new();
	struct event_base *base = event_base_new();
	struct cwld_err err = { 0 };
	struct store *st = NULL;
	struct sched *s = NULL;
	struct seen w = { 0 };
	json_t *wf = NULL, *inputs = json_pack("{s:[i,i,i]}", "ns", 1, 2, 3), *e;
	struct sched_opts o = { .run_id = "r1", .parallel = 2, .no_container = 1 };
	const char *p;
	size_t i;

	(void)state;
	assert_non_null(dir);
	w.events = json_array();
	w.base = base;
	write_file(dir, "tool.cwl",
	    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [sh, -c]\n"
	    "inputs:\n  n: {type: int, inputBinding: {position: 1, valueFrom: "
	    "'echo \"item $(self)\" >&2; test $(self) -ne 2 || exit 7'}}\n"
	    "outputs: []\n");
	write_file(dir, "skip.cwl",
	    "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: 'true'\ninputs: {}\noutputs: []\n");
	write_file(dir, "sub.cwl",
	    "cwlVersion: v1.2\nclass: Workflow\nrequirements: {ScatterFeatureRequirement: {}}\n"
	    "inputs: {ns: 'int[]'}\noutputs: []\n"
	    "steps:\n  inner:\n    run: tool.cwl\n    scatter: n\n    in: {n: ns}\n    out: []\n");
	write_file(dir, "wf.cwl",
	    "cwlVersion: v1.2\nclass: Workflow\n"
	    "requirements: {SubworkflowFeatureRequirement: {}, InlineJavascriptRequirement: {}}\n"
	    "inputs: {ns: 'int[]'}\noutputs: []\n"
	    "steps:\n  sub:\n    run: sub.cwl\n    in: {ns: ns}\n    out: []\n"
	    "  never:\n    run: skip.cwl\n    when: $(false)\n    in: {}\n    out: []\n");
	cwl = xasprintf("%s/wf.cwl", dir);
	db = xasprintf("%s/db.sqlite", dir);
	rundir = xasprintf("%s/run", dir);
	o.run_dir = rundir;
	wf = load_process(lc, cwl, &err);
	if (wf == NULL)
		fail_msg("load: %s", err.msg);
	st = store_open(db, &err);
	assert_non_null(st);
	assert_int_equal(store_run_create(st, "r1", cwl, inputs, &err), 0);
	s = sched_new(base, st, &o, &err);
	assert_non_null(s);
	sched_set_observer(s, &seen_ops, &w);
	assert_int_equal(sched_process_start(s, wf, inputs, "", NULL, NULL, seen_done, &w, &err), 0);
	event_base_dispatch(base);
	assert_int_equal(w.called, 1);
	assert_int_equal(w.status, 1);

	/* The run's message has all four items: step and scatter index, exit
	 * code, the last lines of stderr, where the full logs are. */
	assert_non_null(strstr(w.msg, "step 'sub/inner.1' (scatter index 1): command exited with code 7\n"));
	assert_non_null(strstr(w.msg, "\n  last lines of stderr:\n    item 2\n"));
	p = strstr(w.msg, "full stderr: ");
	assert_non_null(p);
	assert_non_null(strstr(p, "/sub/inner.1.stderr.txt\n"));

	/* Three scatter jobs and the skipped step: 4 queued, 4 finished, 3 started. */
	assert_int_equal(json_array_size(w.events), 11);
	json_array_foreach(w.events, i, e)
		assert_string_equal(json_string_value(json_object_get(e, "run")), "r1");
	for (i = 0; i < 3; i++) {
		char name[32];
		json_t *q, *sd, *f;

		snprintf(name, sizeof name, "sub/inner.%zu", i);
		q = seen_find(&w, name, "queued");
		sd = seen_find(&w, name, "started");
		f = seen_find(&w, name, "finished");
		assert_non_null(q);
		assert_non_null(sd);
		assert_non_null(f);
		assert_string_equal(json_string_value(json_object_get(q, "state")), STORE_PENDING);
		assert_string_equal(json_string_value(json_object_get(sd, "state")), STORE_RUNNING);
		assert_int_equal(json_integer_value(json_object_get(f, "scatter")), (json_int_t)i);
		assert_false(json_is_true(json_object_get(sd, "image")));
		assert_true(json_is_true(json_object_get(sd, "has_log_dir")));
		/* Timestamps: queued <= started <= finished, all set by then. */
		assert_true(json_integer_value(json_object_get(q, "queued_at")) > 0);
		assert_true(json_integer_value(json_object_get(sd, "started_at")) >=
		    json_integer_value(json_object_get(sd, "queued_at")));
		assert_true(json_integer_value(json_object_get(f, "finished_at")) >=
		    json_integer_value(json_object_get(f, "started_at")));
		/* The log files an observer is told about exist. */
		assert_true(fs_exists(json_string_value(json_object_get(sd, "stderr"))));
		assert_true(fs_exists(json_string_value(json_object_get(f, "stdout"))));
		if (i == 1) {
			assert_string_equal(json_string_value(json_object_get(f, "state")), STORE_FAILED);
			assert_int_equal(json_integer_value(json_object_get(f, "exit")), 7);
			assert_true(json_is_true(json_object_get(f, "has_msg")));
		} else {
			assert_string_equal(json_string_value(json_object_get(f, "state")), STORE_SUCCESS);
			assert_int_equal(json_integer_value(json_object_get(f, "exit")), 0);
			assert_false(json_is_true(json_object_get(f, "has_msg")));
		}
	}
	e = seen_find(&w, "never", "finished");
	assert_non_null(e);
	assert_non_null(seen_find(&w, "never", "queued"));
	assert_null(seen_find(&w, "never", "started"));
	assert_string_equal(json_string_value(json_object_get(e, "state")), STORE_SKIPPED);

	sched_free(s);
	store_close(st);
	event_base_free(base);
	load_ctx_free(lc);
	json_decref(wf);
	json_decref(inputs);
	json_decref(w.events);
	fs_rm_rf(dir, NULL);
	free(cwl);
	free(db);
	free(rundir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_elapsed),
		cmocka_unit_test(test_scatter_note),
		cmocka_unit_test(test_render_block),
		cmocka_unit_test(test_render_bounded),
		cmocka_unit_test(test_render_no_control_bytes),
		cmocka_unit_test(test_render_detail),
		cmocka_unit_test(test_observer_real_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Running a Workflow. Steps start when every source they read is
 * available; step inputs are assembled (source, linkMerge, pickValue,
 * default), scattered, then valueFrom and when are evaluated per job; each
 * job is handed back to the scheduler, so nested workflows recurse. A step
 * with a v1.3 loop runs its process once per iteration, feeding outputs back
 * into inputs until when is false. The loader has already rejected unknown
 * sources and cycles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/expr.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/store.h"
#include "cwld/workflow.h"
#include "cwld/xmalloc.h"

struct wf_run;

struct wf_step {
	struct wf_run *w;
	const json_t *step;   /* borrowed from w->wf */
	const char *id;
	int started, done;
	size_t njobs, jobs_done;
	json_t *results;      /* array: one output object (or null if skipped) per job */
	json_t *dims;         /* scatter shape for nested_crossproduct, or NULL */
	json_t *outputs;      /* final: out id -> value */
	json_t *child_reqs, *child_hints;
	/* loop steps only */
	json_t *loop_rules;   /* normalised loop: [{id, outputSource[], ...}] */
	json_t *loop_job;     /* input object of the current iteration */
	json_t *loop_outs;    /* all_iterations: out id -> array; else last outputs */
	char *loop_name;      /* store name of the step; iterations add /iterN */
	size_t iter;
	int all_iters;
};

struct wf_run {
	struct sched *s;
	json_t *wf, *inputs;
	char *name;
	json_t *reqs, *hints;
	sched_done_cb cb;
	void *arg;
	struct wf_step *steps;
	size_t nsteps;
	int running;          /* jobs in flight */
	int failed, fail_code;
	char *fail_msg;
	struct expr_ctx *ex;
	struct event *kick;
	int finishing;
	struct sched_own *own;
};

struct wf_job {
	struct wf_step *st;
	size_t index;
	struct sched *s;      /* for sched_disown, whatever was freed before */
	struct sched_own *own;
};

static void wf_advance(struct wf_run *w);

static void
wf_job_free(struct wf_job *wj)
{
	sched_disown(wj->s, wj->own);
	free(wj);
}

static void
wf_job_free_owned(void *arg)
{
	wf_job_free(arg);
}

static void wf_free(struct wf_run *w);

static void
wf_free_owned(void *arg)
{
	wf_free(arg);
}

static void
wf_free(struct wf_run *w)
{
	size_t i;

	sched_disown(w->s, w->own);
	for (i = 0; i < w->nsteps; i++) {
		json_decref(w->steps[i].results);
		json_decref(w->steps[i].dims);
		json_decref(w->steps[i].outputs);
		json_decref(w->steps[i].child_reqs);
		json_decref(w->steps[i].child_hints);
		json_decref(w->steps[i].loop_rules);
		json_decref(w->steps[i].loop_job);
		json_decref(w->steps[i].loop_outs);
		free(w->steps[i].loop_name);
	}
	free(w->steps);
	json_decref(w->wf);
	json_decref(w->inputs);
	json_decref(w->reqs);
	json_decref(w->hints);
	expr_ctx_free(w->ex);
	if (w->kick)
		event_free(w->kick);
	free(w->name);
	free(w->fail_msg);
	free(w);
}

static void
wf_fail(struct wf_run *w, int code, const char *msg)
{
	if (w->failed)
		return;
	w->failed = 1;
	w->fail_code = code ? code : CWLD_EXIT_FAILED;
	w->fail_msg = xstrdup(msg ? msg : "failed");
}

static struct wf_step *
wf_find_step(struct wf_run *w, const char *id, size_t len)
{
	size_t i;

	for (i = 0; i < w->nsteps; i++)
		if (strlen(w->steps[i].id) == len && strncmp(w->steps[i].id, id, len) == 0)
			return &w->steps[i];
	return NULL;
}

/* Value of one source ("input" or "step/out"); *ready 0 when not yet. New
 * reference (json null when absent). */
static json_t *
wf_source_value(struct wf_run *w, const char *src, int *ready)
{
	const char *slash = strchr(src, '/');
	struct wf_step *st;
	json_t *v;

	*ready = 1;
	if (slash == NULL || (st = wf_find_step(w, src, (size_t)(slash - src))) == NULL) {
		v = json_object_get(w->inputs, src);
		return json_incref(v ? v : json_null());
	}
	if (!st->done) {
		*ready = 0;
		return NULL;
	}
	v = json_object_get(st->outputs, slash + 1);
	return json_incref(v ? v : json_null());
}

static int
wf_sources_ready(struct wf_run *w, const json_t *sources)
{
	size_t i;
	int ready;
	json_t *v;

	for (i = 0; i < json_array_size(sources); i++) {
		v = wf_source_value(w, json_string_value(json_array_get(sources, i)), &ready);
		json_decref(v);
		if (!ready)
			return 0;
	}
	return 1;
}

static json_t *wf_pick_value(json_t *v, const char *pick, const char *what,
    struct cwld_err *err);

/* Gathers the sources of a step input or workflow output, applying
 * linkMerge and pickValue. New reference, or NULL with err. */
static json_t *
wf_gather(struct wf_run *w, const json_t *link, const char *what, struct cwld_err *err)
{
	const json_t *sources = json_object_get(link, "source");
	const char *merge = json_string_value(json_object_get(link, "linkMerge"));
	const char *pick = json_string_value(json_object_get(link, "pickValue"));
	size_t i, n = json_array_size(sources);
	json_t *v = NULL, *arr;
	int ready;

	if (sources == NULL)
		sources = json_object_get(link, "outputSource");
	n = json_array_size(sources);
	if (n == 0)
		return json_null();
	if (n == 1 && merge == NULL) {
		v = wf_source_value(w, json_string_value(json_array_get(sources, 0)), &ready);
	} else {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_t *x = wf_source_value(w, json_string_value(json_array_get(sources, i)), &ready);
			if (merge && strcmp(merge, "merge_flattened") == 0 && json_is_array(x))
				json_array_extend(arr, x);
			else
				json_array_append(arr, x);
			json_decref(x);
		}
		v = arr;
	}
	return wf_pick_value(v, pick, what, err);
}

/* Applies pickValue pick (may be NULL) to v, whose reference it takes.
 * New reference, or NULL with err. */
static json_t *
wf_pick_value(json_t *v, const char *pick, const char *what, struct cwld_err *err)
{
	size_t i;

	if (pick == NULL)
		return v;
	if (json_is_array(v)) {
		json_t *nn = json_array();
		json_t *x;

		json_array_foreach(v, i, x)
			if (!json_is_null(x))
				json_array_append(nn, x);
		json_decref(v);
		if (strcmp(pick, "all_non_null") == 0)
			return nn;
		if (strcmp(pick, "first_non_null") == 0) {
			if (json_array_size(nn) == 0) {
				json_decref(nn);
				err_set(err, CWLD_EXIT_FAILED, "%s: pickValue first_non_null found only nulls", what);
				return NULL;
			}
			v = json_incref(json_array_get(nn, 0));
			json_decref(nn);
			return v;
		}
		if (strcmp(pick, "the_only_non_null") == 0) {
			if (json_array_size(nn) != 1) {
				err_set(err, CWLD_EXIT_FAILED,
				    "%s: pickValue the_only_non_null found %zu non-null values",
				    what, json_array_size(nn));
				json_decref(nn);
				return NULL;
			}
			v = json_incref(json_array_get(nn, 0));
			json_decref(nn);
			return v;
		}
		json_decref(nn);
		err_set(err, CWLD_EXIT_USAGE, "%s: unknown pickValue '%s'", what, pick);
		return NULL;
	}
	/* A single non-array source with pickValue: null stays null. */
	if (json_is_null(v) && strcmp(pick, "all_non_null") != 0 &&
	    strcmp(pick, "first_non_null") == 0) {
		json_decref(v);
		err_set(err, CWLD_EXIT_FAILED, "%s: pickValue first_non_null found only nulls", what);
		return NULL;
	}
	return v;
}

/* Does an output read a loop step? A loop step skipped before its first
 * iteration gives null whatever the declared type (v1.3 conformance
 * loop_single_variable_no_iteration), as cwltool's checker allows. */
static int
wf_from_loop(struct wf_run *w, const json_t *o)
{
	const json_t *srcs = json_object_get(o, "outputSource");
	size_t i;

	for (i = 0; i < json_array_size(srcs); i++) {
		const char *src = json_string_value(json_array_get(srcs, i));
		const char *slash = src ? strchr(src, '/') : NULL;
		struct wf_step *st = slash ? wf_find_step(w, src, (size_t)(slash - src)) : NULL;

		if (st && json_object_get(st->step, "loop"))
			return 1;
	}
	return 0;
}

/* Reports the workflow's result once nothing is in flight. */
static void
wf_maybe_finish(struct wf_run *w)
{
	size_t i;
	int all_done = 1;
	json_t *outputs;
	struct cwld_err err = { 0 };
	const json_t *outs = json_object_get(w->wf, "outputs");

	for (i = 0; i < w->nsteps; i++)
		if (!w->steps[i].done)
			all_done = 0;
	if (w->running > 0 || (!all_done && !w->failed) || w->finishing)
		return;
	w->finishing = 1;
	if (w->failed) {
		w->cb(w->arg, w->fail_code, NULL, w->fail_msg);
		wf_free(w);
		return;
	}
	outputs = json_object();
	for (i = 0; i < json_array_size(outs); i++) {
		const json_t *o = json_array_get(outs, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		char what[300];
		json_t *v;

		snprintf(what, sizeof what, "workflow output '%s'", id);
		v = wf_gather(w, o, what, &err);
		if (v == NULL) {
			json_decref(outputs);
			w->cb(w->arg, err.code, NULL, err.msg);
			wf_free(w);
			return;
		}
		if (json_object_get(o, "type") && !params_type_matches(json_object_get(o, "type"), v) &&
		    !(json_is_null(v) && wf_from_loop(w, o))) {
			json_decref(v);
			json_decref(outputs);
			snprintf(what, sizeof what, "workflow output '%s' does not match its declared type", id);
			w->cb(w->arg, CWLD_EXIT_FAILED, NULL, what);
			wf_free(w);
			return;
		}
		json_object_set_new(outputs, id, v);
	}
	w->cb(w->arg, 0, outputs, NULL);
	json_decref(outputs);
	wf_free(w);
}

/* Nests a flat list of results by the scatter dimensions (last fastest),
 * so an empty inner dimension still gives one empty list per outer item. */
static json_t *
wf_reshape(const json_t *flat, const json_t *dims, size_t depth, size_t *off)
{
	size_t n = (size_t)json_integer_value(json_array_get(dims, depth)), i;
	json_t *out = json_array();

	for (i = 0; i < n; i++) {
		if (depth + 1 == json_array_size(dims))
			json_array_append(out, json_array_get(flat, (*off)++));
		else
			json_array_append_new(out, wf_reshape(flat, dims, depth + 1, off));
	}
	return out;
}

/* Builds the step's outputs from its per-job results (scatter-aware). */
static void
wf_step_complete(struct wf_step *st)
{
	const json_t *outs = json_object_get(st->step, "out");
	size_t i, k;
	const json_t *scatter = json_object_get(st->step, "scatter");
	int scattered = json_array_size(scatter) > 0;

	st->outputs = json_object();
	for (i = 0; i < json_array_size(outs); i++) {
		const json_t *oe = json_array_get(outs, i);
		const char *oid = json_is_string(oe) ? json_string_value(oe) :
		    json_string_value(json_object_get(oe, "id"));
		json_t *v;

		if (!scattered) {
			json_t *r = json_array_get(st->results, 0);
			v = json_object_get(r, oid);
			json_object_set(st->outputs, oid, v ? v : json_null());
			continue;
		}
		v = json_array();
		for (k = 0; k < json_array_size(st->results); k++) {
			json_t *x = json_object_get(json_array_get(st->results, k), oid);
			json_array_append(v, x ? x : json_null());
		}
		if (st->dims && json_array_size(st->dims) > 1) {
			/* nested_crossproduct: one level of nesting per scatter input. */
			size_t off = 0;
			json_t *shaped = wf_reshape(v, st->dims, 0, &off);
			json_decref(v);
			v = shaped;
		}
		json_object_set_new(st->outputs, oid, v);
	}
	st->done = 1;
}

static void
wf_job_done(void *arg, int status, json_t *outputs, const char *msg)
{
	struct wf_job *wj = arg;
	struct wf_step *st = wj->st;
	struct wf_run *w = st->w;

	w->running--;
	if (status != 0)
		wf_fail(w, status, msg);
	else
		json_array_set(st->results, wj->index, outputs ? outputs : json_null());
	wf_job_free(wj);
	if (++st->jobs_done == st->njobs && !w->failed)
		wf_step_complete(st);
	wf_advance(w);
}

/* Is value a record-less plain array for scattering? */
static int
wf_scatter_jobs(struct wf_step *st, json_t *base, json_t **jobs, struct cwld_err *err)
{
	const json_t *scatter = json_object_get(st->step, "scatter");
	const char *method = json_string_value(json_object_get(st->step, "scatterMethod"));
	size_t ns = json_array_size(scatter), i, k, total;
	json_t *list = json_array();

	if (ns == 0) {
		json_array_append(list, base);
		*jobs = list;
		return 0;
	}
	for (i = 0; i < ns; i++) {
		const char *f = json_string_value(json_array_get(scatter, i));
		if (!json_is_array(json_object_get(base, f))) {
			json_decref(list);
			return err_set(err, CWLD_EXIT_FAILED, "step '%s': scatter input '%s' is not an array",
			    st->id, f);
		}
	}
	if (ns == 1 || method == NULL || strcmp(method, "dotproduct") == 0) {
		size_t n = json_array_size(json_object_get(base, json_string_value(json_array_get(scatter, 0))));
		for (i = 1; i < ns; i++)
			if (json_array_size(json_object_get(base, json_string_value(json_array_get(scatter, i)))) != n) {
				json_decref(list);
				return err_set(err, CWLD_EXIT_FAILED,
				    "step '%s': dotproduct scatter over arrays of different lengths", st->id);
			}
		for (k = 0; k < n; k++) {
			json_t *job = json_deep_copy(base);
			for (i = 0; i < ns; i++) {
				const char *f = json_string_value(json_array_get(scatter, i));
				json_object_set(job, f, json_array_get(json_object_get(base, f), k));
			}
			json_array_append_new(list, job);
		}
		*jobs = list;
		return 0;
	}
	/* Cross products: odometer over all scatter inputs, last fastest. */
	total = 1;
	st->dims = json_array();
	for (i = 0; i < ns; i++) {
		size_t n = json_array_size(json_object_get(base, json_string_value(json_array_get(scatter, i))));
		json_array_append_new(st->dims, json_integer((json_int_t)n));
		total *= n;
	}
	if (strcmp(method, "flat_crossproduct") == 0) {
		json_decref(st->dims);
		st->dims = NULL;
	}
	for (k = 0; k < total; k++) {
		json_t *job = json_deep_copy(base);
		size_t rem = k;
		for (i = ns; i-- > 0;) {
			const char *f = json_string_value(json_array_get(scatter, i));
			json_t *arr = json_object_get(base, f);
			size_t n = json_array_size(arr);
			json_object_set(job, f, json_array_get(arr, rem % n));
			rem /= n;
		}
		json_array_append_new(list, job);
	}
	*jobs = list;
	return 0;
}

/* Evaluates valueFrom fields and when for one job; 1 run, 0 skip, -1 error. */
static int
wf_prepare_job(struct wf_step *st, json_t *job, struct cwld_err *err)
{
	struct wf_run *w = st->w;
	const json_t *ins = json_object_get(st->step, "in");
	const json_t *when = json_object_get(st->step, "when");
	json_t *orig = json_deep_copy(job);
	size_t i;
	int rc = 1;

	for (i = 0; i < json_array_size(ins); i++) {
		const json_t *in = json_array_get(ins, i);
		const char *id = json_string_value(json_object_get(in, "id"));
		const json_t *vf = json_object_get(in, "valueFrom");
		json_t *self, *v;

		if (vf == NULL)
			continue;
		self = json_object_get(orig, id);
		v = expr_eval_value(w->ex, vf, orig, self ? self : json_null(), NULL, err);
		if (v == NULL) {
			err_prefix(err, "step '%s': input '%s' valueFrom", st->id, id);
			rc = -1;
			goto out;
		}
		json_object_set_new(job, id, v);
	}
	if (when) {
		json_t *v = expr_eval_value(w->ex, when, job, NULL, NULL, err);
		if (v == NULL) {
			err_prefix(err, "step '%s': when", st->id);
			rc = -1;
			goto out;
		}
		if (!json_is_boolean(v)) {
			json_decref(v);
			rc = err_set(err, CWLD_EXIT_FAILED, "step '%s': when did not give a boolean", st->id);
			goto out;
		}
		rc = json_is_true(v);
		json_decref(v);
	}
out:
	json_decref(orig);
	return rc;
}

static void
wf_record_skip(struct wf_step *st, const char *name)
{
	struct wf_run *w = st->w;
	struct cwld_err err = { 0 };
	int64_t row = store_step_create(sched_store(w->s), sched_opts(w->s)->run_id, name, &err);
	struct sched_step_event ev = { .step = name, .exit_code = -1 };

	if (row < 0 || store_step_set_state(sched_store(w->s), row, STORE_SKIPPED, NULL, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(w->s)->run_id, name, err.msg);
	/* Queued and finished at once, so an observer's count stays whole. */
	ev.phase = SCHED_STEP_QUEUED;
	ev.state = STORE_PENDING;
	ev.queued_at = sched_time_ms();
	sched_notify_step(w->s, &ev);
	ev.phase = SCHED_STEP_FINISHED;
	ev.state = STORE_SKIPPED;
	ev.finished_at = ev.queued_at;
	sched_notify_step(w->s, &ev);
}

/* The last part of a loop reference: "o1", "step/o1" or "file#step/o1"
 * all name output o1. */
static const char *
wf_loop_tail(const char *ref)
{
	const char *p = strrchr(ref, '#');

	if (p)
		ref = p + 1;
	p = strrchr(ref, '/');
	return p ? p + 1 : ref;
}

/* The step's loop as an array of {id, outputSource: [..], linkMerge,
 * pickValue, default, valueFrom}, from either the map form (id -> source,
 * sources or LoopInput) or the list form. New reference, or NULL with err. */
static json_t *
wf_loop_rules(struct wf_step *st, const json_t *loop, struct cwld_err *err)
{
	json_t *rules = json_array(), *rule = NULL, *src;
	const json_t *v;
	const char *key;
	size_t i;

	if (json_is_object(loop)) {
		json_object_foreach((json_t *)loop, key, v) {
			if (json_is_object(v))
				rule = json_deep_copy(v);
			else if (json_is_string(v) || json_is_array(v))
				rule = json_pack("{sO}", "outputSource", v);
			else
				goto bad;
			json_object_set_new(rule, "id", json_string(key));
			json_array_append_new(rules, rule);
		}
	} else if (json_is_array(loop)) {
		json_array_foreach(loop, i, v) {
			if (!json_is_object(v) || !json_is_string(json_object_get(v, "id")))
				goto bad;
			json_array_append_new(rules, json_deep_copy(v));
		}
	} else {
		goto bad;
	}
	json_array_foreach(rules, i, rule) {
		json_object_set_new(rule, "id",
		    json_string(wf_loop_tail(json_string_value(json_object_get(rule, "id")))));
		v = json_object_get(rule, "outputSource");
		if (v == NULL)
			continue;
		src = json_array();
		if (json_is_string(v)) {
			json_array_append_new(src, json_string(wf_loop_tail(json_string_value(v))));
		} else {
			size_t k;
			const json_t *x;

			json_array_foreach(v, k, x) {
				if (!json_is_string(x)) {
					json_decref(src);
					goto bad;
				}
				json_array_append_new(src, json_string(wf_loop_tail(json_string_value(x))));
			}
		}
		json_object_set_new(rule, "outputSource", src);
	}
	return rules;
bad:
	json_decref(rules);
	err_set(err, CWLD_EXIT_USAGE, "step '%s': invalid loop", st->id);
	return NULL;
}

/* Rejects loop rules that need a requirement the step does not have. */
static int
wf_loop_check(struct wf_step *st, struct cwld_err *err)
{
	struct wf_run *w = st->w;
	const json_t *rule;
	size_t i;

	if (json_array_size(json_object_get(st->step, "scatter")))
		return err_set(err, CWLD_EXIT_UNSUPPORTED,
		    "step '%s': loop and scatter on the same step", st->id);
	if (json_object_get(st->step, "when") == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "step '%s': loop needs when", st->id);
	json_array_foreach(st->loop_rules, i, rule) {
		const char *id = json_string_value(json_object_get(rule, "id"));

		if (json_object_get(rule, "valueFrom") &&
		    !sched_find_req(st->step, w->reqs, w->hints, "StepInputExpressionRequirement", NULL))
			return err_set(err, CWLD_EXIT_USAGE,
			    "step '%s': loop '%s': valueFrom needs StepInputExpressionRequirement",
			    st->id, id);
		if (json_array_size(json_object_get(rule, "outputSource")) > 1 &&
		    !sched_find_req(st->step, w->reqs, w->hints, "MultipleInputFeatureRequirement", NULL))
			return err_set(err, CWLD_EXIT_USAGE,
			    "step '%s': loop '%s': several sources need MultipleInputFeatureRequirement",
			    st->id, id);
	}
	return 0;
}

/* The outputs of the loop step once it ends after st->iter iterations. */
static void
wf_loop_complete(struct wf_step *st)
{
	const json_t *outs = json_object_get(st->step, "out");
	size_t i;

	st->outputs = json_object();
	for (i = 0; i < json_array_size(outs); i++) {
		const json_t *oe = json_array_get(outs, i);
		const char *oid = json_is_string(oe) ? json_string_value(oe) :
		    json_string_value(json_object_get(oe, "id"));
		json_t *v = json_object_get(st->loop_outs, oid);

		if (v)
			json_object_set(st->outputs, oid, v);
		else
			json_object_set_new(st->outputs, oid, st->all_iters ? json_array() : json_null());
	}
	st->done = 1;
}

static void wf_loop_done(void *arg, int status, json_t *outputs, const char *msg);

/* Starts iteration st->iter with input object st->loop_job. */
static int
wf_loop_launch(struct wf_step *st, struct cwld_err *err)
{
	struct wf_run *w = st->w;
	const json_t *run = json_object_get(st->step, "run");
	const char *base_uri = json_string_value(json_object_get(run, "cwld:base"));
	json_t *complete = NULL;
	char *name = NULL;
	int rc = -1;

	complete = sched_fill_inputs(run, st->child_reqs, st->child_hints, st->loop_job,
	    base_uri, 1, err);
	if (complete == NULL) {
		err_prefix(err, "step '%s': iteration %zu", st->id, st->iter);
		goto out;
	}
	name = xasprintf("%s/iter%zu", st->loop_name, st->iter);
	w->running++;
	if (sched_process_start(w->s, run, complete, name, st->child_reqs, st->child_hints,
	    wf_loop_done, st, err) < 0) {
		w->running--;
		goto out;
	}
	rc = 0;
out:
	json_decref(complete);
	free(name);
	return rc;
}

/* The input object of the next iteration from the previous one and its
 * outputs: per rule, the outputSource value (default when null), then
 * valueFrom with inputs the previous input object. New reference, or NULL
 * with err. */
static json_t *
wf_loop_next(struct wf_step *st, const json_t *outputs, struct cwld_err *err)
{
	const json_t *prev = st->loop_job, *rule;
	json_t *next = json_deep_copy(prev), *v = NULL;
	size_t i, k;

	json_array_foreach(st->loop_rules, i, rule) {
		const char *id = json_string_value(json_object_get(rule, "id"));
		const json_t *src = json_object_get(rule, "outputSource");
		const char *merge = json_string_value(json_object_get(rule, "linkMerge"));
		const json_t *def = json_object_get(rule, "default");
		const json_t *vf = json_object_get(rule, "valueFrom");
		char what[300];

		snprintf(what, sizeof what, "step '%s': loop '%s'", st->id, id);
		if (json_array_size(src) == 1 && merge == NULL) {
			v = json_object_get(outputs, json_string_value(json_array_get(src, 0)));
			v = json_incref(v ? v : json_null());
		} else if (json_array_size(src) > 0) {
			v = json_array();
			for (k = 0; k < json_array_size(src); k++) {
				json_t *x = json_object_get(outputs, json_string_value(json_array_get(src, k)));

				if (x == NULL)
					x = json_null();
				if (merge && strcmp(merge, "merge_flattened") == 0 && json_is_array(x))
					json_array_extend(v, x);
				else
					json_array_append(v, x);
			}
		} else {
			v = json_null();
		}
		v = wf_pick_value(v, json_string_value(json_object_get(rule, "pickValue")), what, err);
		if (v == NULL)
			goto fail;
		if (json_is_null(v) && def) {
			json_decref(v);
			v = json_deep_copy(def);
		}
		if (vf) {
			json_t *nv = expr_eval_value(st->w->ex, vf, prev, v, NULL, err);

			if (nv == NULL) {
				err_prefix(err, "%s: valueFrom", what);
				goto fail;
			}
			json_decref(v);
			v = nv;
		}
		json_object_set_new(next, id, v);
		v = NULL;
	}
	return next;
fail:
	json_decref(v);
	json_decref(next);
	return NULL;
}

/* Evaluates the step's when on job: 1 true, 0 false, -1 error. */
static int
wf_loop_when(struct wf_step *st, const json_t *job, struct cwld_err *err)
{
	json_t *v = expr_eval_value(st->w->ex, json_object_get(st->step, "when"), job,
	    NULL, NULL, err);
	int rc;

	if (v == NULL) {
		err_prefix(err, "step '%s': when", st->id);
		return -1;
	}
	if (!json_is_boolean(v))
		rc = err_set(err, CWLD_EXIT_FAILED, "step '%s': when did not give a boolean", st->id);
	else
		rc = json_is_true(v);
	json_decref(v);
	return rc;
}

/* One iteration ended: keep its outputs, compute the next input object and
 * either start the next iteration or end the step. */
static void
wf_loop_done(void *arg, int status, json_t *outputs, const char *msg)
{
	struct wf_step *st = arg;
	struct wf_run *w = st->w;
	struct cwld_err err = { 0 };
	json_t *next = NULL;
	int go;

	w->running--;
	if (status != 0) {
		wf_fail(w, status, msg);
		goto out;
	}
	if (w->failed)
		goto out;
	if (st->all_iters) {
		const char *key;
		json_t *arr;

		json_object_foreach(st->loop_outs, key, arr) {
			json_t *x = json_object_get(outputs, key);
			json_array_append(arr, x ? x : json_null());
		}
	} else {
		json_decref(st->loop_outs);
		st->loop_outs = outputs ? json_deep_copy(outputs) : json_object();
	}
	if ((next = wf_loop_next(st, outputs, &err)) == NULL ||
	    (go = wf_loop_when(st, next, &err)) < 0) {
		wf_fail(w, err.code, err.msg);
		goto out;
	}
	if (!go) {
		wf_loop_complete(st);
		goto out;
	}
	if (sched_cancelled(w->s)) {
		wf_fail(w, CWLD_EXIT_FAILED, "cancelled");
		goto out;
	}
	json_decref(st->loop_job);
	st->loop_job = next;
	next = NULL;
	st->iter++;
	if (wf_loop_launch(st, &err) < 0)
		wf_fail(w, err.code, err.msg);
out:
	json_decref(next);
	wf_advance(w);
}

/* Starts a loop step on its first input object job (borrowed; valueFrom
 * of the step inputs not yet applied). */
static int
wf_loop_start(struct wf_step *st, json_t *job, const char *name, struct cwld_err *err)
{
	const json_t *outs = json_object_get(st->step, "out");
	const char *method = json_string_value(json_object_get(st->step, "outputMethod"));
	size_t i;
	int go;

	st->loop_rules = wf_loop_rules(st, json_object_get(st->step, "loop"), err);
	if (st->loop_rules == NULL || wf_loop_check(st, err) < 0)
		return -1;
	if (method && strcmp(method, "all_iterations") != 0 && strcmp(method, "last_iteration") != 0 &&
	    strcmp(method, "all") != 0 && strcmp(method, "last") != 0)
		return err_set(err, CWLD_EXIT_USAGE, "step '%s': unknown outputMethod '%s'",
		    st->id, method);
	st->all_iters = method && (strcmp(method, "all_iterations") == 0 || strcmp(method, "all") == 0);
	st->loop_outs = json_object();
	if (st->all_iters)
		for (i = 0; i < json_array_size(outs); i++) {
			const json_t *oe = json_array_get(outs, i);
			const char *oid = json_is_string(oe) ? json_string_value(oe) :
			    json_string_value(json_object_get(oe, "id"));
			json_object_set_new(st->loop_outs, oid, json_array());
		}
	st->loop_name = xstrdup(name);
	go = wf_prepare_job(st, job, err);
	if (go < 0)
		return -1;
	if (go == 0) {
		/* when false before the first iteration: the step is skipped. */
		wf_record_skip(st, name);
		wf_loop_complete(st);
		return 0;
	}
	st->loop_job = json_incref(job);
	return wf_loop_launch(st, err);
}

static int
wf_start_step(struct wf_step *st, struct cwld_err *err)
{
	struct wf_run *w = st->w;
	const json_t *ins = json_object_get(st->step, "in");
	const json_t *run = json_object_get(st->step, "run");
	const char *base_uri = json_string_value(json_object_get(run, "cwld:base"));
	json_t *base = json_object(), *jobs = NULL;
	size_t i;
	int rc = -1;

	st->started = 1;
	for (i = 0; i < json_array_size(ins); i++) {
		const json_t *in = json_array_get(ins, i);
		const char *id = json_string_value(json_object_get(in, "id"));
		const json_t *def = json_object_get(in, "default");
		char what[300];
		json_t *v;

		snprintf(what, sizeof what, "step '%s': input '%s'", st->id, id);
		v = wf_gather(w, in, what, err);
		if (v == NULL)
			goto out;
		if (json_is_null(v) && def) {
			json_decref(v);
			v = json_deep_copy(def);
		}
		if (json_is_true(json_object_get(in, "loadContents")) &&
		    json_is_object(v) && params_load_contents(v, err) < 0) {
			json_decref(v);
			err_prefix(err, "step '%s': input '%s'", st->id, id);
			goto out;
		}
		json_object_set_new(base, id, v);
	}
	if (wf_scatter_jobs(st, base, &jobs, err) < 0)
		goto out;
	st->njobs = json_array_size(jobs);
	st->results = json_array();
	for (i = 0; i < st->njobs; i++)
		json_array_append(st->results, json_null());
	sched_merge_reqs(w->reqs, w->hints, st->step, &st->child_reqs, &st->child_hints);
	if (json_object_get(st->step, "loop")) {
		char *name = w->name[0] ? xasprintf("%s/%s", w->name, st->id) : xstrdup(st->id);

		rc = wf_loop_start(st, json_array_get(jobs, 0), name, err);
		free(name);
		goto out;
	}
	if (st->njobs == 0) {
		wf_step_complete(st);
		rc = 0;
		goto out;
	}
	for (i = 0; i < st->njobs; i++) {
		json_t *job = json_array_get(jobs, i);
		json_t *complete;
		char *name;
		struct wf_job *wj;
		int go;

		name = st->njobs > 1 || json_array_size(json_object_get(st->step, "scatter")) ?
		    (w->name[0] ? xasprintf("%s/%s.%zu", w->name, st->id, i) : xasprintf("%s.%zu", st->id, i)) :
		    (w->name[0] ? xasprintf("%s/%s", w->name, st->id) : xstrdup(st->id));
		go = wf_prepare_job(st, job, err);
		if (go < 0) {
			free(name);
			goto out;
		}
		if (go == 0) {
			wf_record_skip(st, name);
			free(name);
			st->jobs_done++;
			continue;
		}
		complete = sched_fill_inputs(run, st->child_reqs, st->child_hints, job, base_uri, 1, err);
		if (complete == NULL) {
			err_prefix(err, "step '%s'", st->id);
			free(name);
			goto out;
		}
		wj = xcalloc(1, sizeof *wj);
		wj->st = st;
		wj->index = i;
		wj->s = w->s;
		wj->own = sched_own(w->s, wj, wf_job_free_owned);
		w->running++;
		if (sched_process_start(w->s, run, complete, name, st->child_reqs, st->child_hints,
		    wf_job_done, wj, err) < 0) {
			w->running--;
			wf_job_free(wj);
			json_decref(complete);
			free(name);
			goto out;
		}
		json_decref(complete);
		free(name);
	}
	if (st->jobs_done == st->njobs)
		wf_step_complete(st);
	rc = 0;
out:
	json_decref(base);
	json_decref(jobs);
	return rc;
}

static void
wf_advance(struct wf_run *w)
{
	struct cwld_err err = { 0 };
	size_t i, j;
	int progress = 1;

	while (progress && !w->failed) {
		progress = 0;
		for (i = 0; i < w->nsteps && !w->failed; i++) {
			struct wf_step *st = &w->steps[i];
			const json_t *ins = json_object_get(st->step, "in");
			int ready = 1;

			if (st->started)
				continue;
			for (j = 0; j < json_array_size(ins) && ready; j++)
				ready = wf_sources_ready(w, json_object_get(json_array_get(ins, j), "source"));
			if (!ready)
				continue;
			if (wf_start_step(st, &err) < 0) {
				wf_fail(w, err.code, err.msg);
				break;
			}
			progress = 1;
		}
	}
	wf_maybe_finish(w);
}

static void
wf_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wf_advance(arg);
}

int
workflow_start(struct sched *s, const json_t *wf, const json_t *inputs, const char *name,
    const json_t *reqs, const json_t *hints, sched_done_cb cb, void *arg,
    struct cwld_err *err)
{
	struct wf_run *w = xcalloc(1, sizeof *w);
	const json_t *steps = json_object_get(wf, "steps");
	const json_t *js;
	size_t i;

	w->s = s;
	w->own = sched_own(s, w, wf_free_owned);
	w->wf = json_incref((json_t *)wf);
	w->inputs = json_deep_copy(inputs);
	w->name = xstrdup(name ? name : "");
	/* What this workflow hands down: inherited plus its own. */
	sched_merge_reqs(reqs, hints, wf, &w->reqs, &w->hints);
	w->cb = cb;
	w->arg = arg;
	js = sched_find_req(wf, reqs, hints, "InlineJavascriptRequirement", NULL);
	w->ex = expr_ctx_new(js != NULL, json_object_get(js, "expressionLib"), err);
	if (w->ex == NULL)
		goto fail;
	w->nsteps = json_array_size(steps);
	w->steps = xcalloc(w->nsteps ? w->nsteps : 1, sizeof *w->steps);
	for (i = 0; i < w->nsteps; i++) {
		w->steps[i].w = w;
		w->steps[i].step = json_array_get(steps, i);
		w->steps[i].id = json_string_value(json_object_get(json_array_get(steps, i), "id"));
		if (w->steps[i].id == NULL) {
			err_set(err, CWLD_EXIT_USAGE, "workflow '%s': step without id", w->name);
			goto fail;
		}
	}
	/* Start from the loop so the callback never runs inside this call. */
	w->kick = event_new(sched_base(s), -1, 0, wf_kick_cb, w);
	if (w->kick == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot create workflow event");
		goto fail;
	}
	event_active(w->kick, 0, 0);
	return 0;
fail:
	wf_free(w);
	return -1;
}

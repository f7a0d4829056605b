/* The daemon's runs: one scheduler per run on the shared loop, tool
 * invocations bounded by one sched_pool (slots, cores, memory) for all of them. A run's document
 * and job are kept under STATE/documents/<run> so that the run can be read
 * again later; its outputs end in STATE/outputs/<run>, or in S3 when the run
 * names an output_location. A run's s3:// inputs are fetched (fetch.c)
 * before its scheduler starts, its outputs uploaded (upload.c) after the
 * scheduler is done and before the run is marked a success. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>

#include "cwld/docker.h"
#include "cwld/fetch.h"
#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/relocate.h"
#include "cwld/runs.h"
#include "cwld/store.h"
#include "cwld/upload.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

struct runs_run {
	struct runs *r;
	char *id;
	char *run_dir;
	struct load_ctx *lc;
	json_t *process;
	json_t *inputs;
	json_t *options;         /* as recorded in the store: parallel, ... */
	const char *output_location; /* borrowed from options, or NULL */
	int resume;
	struct upload_probe *probe; /* output_location checked, before s */
	int probed;
	struct fetch *fetch;     /* its s3:// copies, from its launch */
	struct fetch_op *in_op;  /* what its start needs from S3, before s */
	struct fetch_op *out_op; /* outputs passed through from S3, after */
	int outs_staged;
	struct sched *s;
	int done;
	int status;
	int cancelled;           /* while fetching or uploading */
	json_t *outputs;
	char *msg;
	int relocated;           /* outputs moved to STATE/outputs/<run> */
	struct upload *up;       /* the outputs going to output_location */
	int up_done;
	TAILQ_ENTRY(runs_run) entry;
};

struct runs {
	struct event_base *base;
	struct store *st;
	struct runs_opts o;
	char *state_dir;
	char *work_dir;
	char *cache_dir;
	struct sched_pool *pool;
	struct event *reap;      /* finishes ended runs outside their callbacks */
	int nactive;
	int detached;            /* runs_detach: unfinished runs are left */
	TAILQ_HEAD(, runs_run) active;
	const struct runs_observer *obs[RUNS_MAX_OBSERVERS];
	void *obs_arg[RUNS_MAX_OBSERVERS];
};

static void runs_reap_cb(evutil_socket_t, short, void *);
static void runs_finish(struct runs *r, struct runs_run *run);

struct runs *
runs_new(struct event_base *base, struct store *st, const struct runs_opts *opts,
    struct cwld_err *err)
{
	struct runs *r = xcalloc(1, sizeof *r);

	r->base = base;
	r->st = st;
	r->o = *opts;
	r->state_dir = xstrdup(opts->state_dir);
	r->work_dir = opts->work_dir ? xstrdup(opts->work_dir) : fs_join(opts->state_dir, "runs");
	r->cache_dir = opts->cache_dir ? xstrdup(opts->cache_dir) : NULL;
	if (r->o.slots < 1)
		r->o.slots = 1;
	if (r->o.default_parallel < 1)
		r->o.default_parallel = r->o.slots;
	TAILQ_INIT(&r->active);
	{
		struct sched_budget b = { r->o.slots, r->o.cores, r->o.ram_mib };

		r->pool = sched_pool_new(base, &b);
	}
	r->reap = event_new(base, -1, 0, runs_reap_cb, r);
	if (r->pool == NULL || r->reap == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot create the daemon's run events");
		runs_free(r);
		return NULL;
	}
	return r;
}

static void
runs_run_free(struct runs_run *run)
{
	if (run == NULL)
		return;
	upload_probe_free(run->probe);
	upload_free(run->up);
	sched_free(run->s); /* its jobs' waits go before the fetch */
	fetch_free(run->fetch);
	json_decref(run->options);
	json_decref(run->process);
	json_decref(run->inputs);
	json_decref(run->outputs);
	load_ctx_free(run->lc);
	free(run->msg);
	free(run->run_dir);
	free(run->id);
	free(run);
}

void
runs_free(struct runs *r)
{
	struct runs_run *run;

	if (r == NULL)
		return;
	while ((run = TAILQ_FIRST(&r->active)) != NULL) {
		TAILQ_REMOVE(&r->active, run, entry);
		if (r->detached && (!run->done || (run->status == 0 &&
		    run->output_location != NULL && !run->relocated))) {
			/* left running for the next daemon (runs_detach), which
			 * fetches again, or finds the steps done and uploads */
			if (run->s != NULL)
				sched_store_flush(run->s);
			runs_run_free(run);
			continue;
		}
		if (run->up != NULL && !run->up_done) {
			/* the loop stops after this: the aborts are sent now */
			upload_drain(run->up, 10000);
			upload_free(run->up);
			run->up = NULL;
			run->up_done = 1;
			run->status = CWLD_EXIT_FAILED;
			free(run->msg);
			run->msg = xstrdup("the daemon stopped while the outputs were uploaded");
		} else if (run->done && run->status == 0 && run->output_location != NULL &&
		    !run->relocated) {
			run->status = CWLD_EXIT_FAILED;
			free(run->msg);
			run->msg = xstrdup("the daemon stopped before the outputs were uploaded");
		}
		if (!run->done) {
			/* not resumed yet by a later daemon: say what became of it */
			run->done = 1;
			run->status = CWLD_EXIT_FAILED;
			run->msg = xstrdup("the daemon stopped");
			if (run->s != NULL)
				sched_cancel(run->s);
		}
		runs_finish(r, run);
		if (run->up != NULL)
			upload_drain(run->up, 10000); /* a failed one's aborts */
		runs_run_free(run); /* sched_free stops and removes its containers */
	}
	if (r->reap)
		event_free(r->reap);
	sched_pool_free(r->pool);
	free(r->state_dir);
	free(r->work_dir);
	free(r->cache_dir);
	free(r);
}

int
runs_add_observer(struct runs *r, const struct runs_observer *obs, void *arg)
{
	int i;

	for (i = 0; i < RUNS_MAX_OBSERVERS; i++)
		if (r->obs[i] == NULL) {
			r->obs[i] = obs;
			r->obs_arg[i] = arg;
			return 0;
		}
	return -1;
}

void
runs_remove_observer(struct runs *r, const struct runs_observer *obs, void *arg)
{
	int i;

	for (i = 0; i < RUNS_MAX_OBSERVERS; i++)
		if (r->obs[i] == obs && r->obs_arg[i] == arg)
			r->obs[i] = NULL;
}

int runs_active(const struct runs *r) { return r->nactive; }
const struct sched_pool *runs_pool(const struct runs *r) { return r->pool; }

char *
runs_outdir(const struct runs *r, const char *run_id)
{
	return xasprintf("%s/outputs/%s", r->state_dir, run_id);
}

static void
runs_changed(struct runs *r, const char *id, const char *state, const char *error)
{
	int i;

	for (i = 0; i < RUNS_MAX_OBSERVERS; i++)
		if (r->obs[i] && r->obs[i]->run_changed)
			r->obs[i]->run_changed(r->obs_arg[i], id, state, error);
}

static void
runs_step_cb(void *arg, const struct sched_step_event *ev)
{
	struct runs_run *run = arg;
	struct runs *r = run->r;
	int i;

	for (i = 0; i < RUNS_MAX_OBSERVERS; i++)
		if (r->obs[i] && r->obs[i]->step_event)
			r->obs[i]->step_event(r->obs_arg[i], ev);
}

static const struct sched_observer runs_sched_observer = {
	.step_queued = runs_step_cb,
	.step_started = runs_step_cb,
	.step_finished = runs_step_cb,
	.step_progress = runs_step_cb,
};

/* The scheduler's completion: noted now, finished from the reap event (the
 * scheduler cannot be freed inside its own callback). */
static void
runs_done_cb(void *arg, int status, json_t *outputs, const char *msg)
{
	struct runs_run *run = arg;

	run->done = 1;
	run->status = status;
	run->outputs = outputs ? json_incref(outputs) : NULL;
	run->msg = msg ? xstrdup(msg) : NULL;
	event_active(run->r->reap, 0, 0);
}

/* Whether name is a step's log ("<step>.stdout.txt", "<step>.stderr.txt",
 * beside its work directory: src/engine/job.c). */
static int
runs_is_log(const char *name)
{
	size_t n = strlen(name);

	return (n > 11 && strcmp(name + n - 11, ".stdout.txt") == 0) ||
	    (n > 11 && strcmp(name + n - 11, ".stderr.txt") == 0);
}

/* Removes everything below dir but the steps' logs: the work directories
 * with their files, the temporary and scratch directories; a directory
 * left empty goes too (subworkflows' steps nest). 1 when dir is now empty. */
static int
runs_prune(const char *dir, int depth, struct cwld_err *err)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	int rc = 0, kept = 0, empty;

	if (depth > 64 || (d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		sub = fs_join(dir, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			empty = runs_prune(sub, depth + 1, err);
			if (empty < 0)
				rc = -1;
			else if (empty && rmdir(sub) < 0)
				rc = err_set(err, CWLD_EXIT_FAILED, "rmdir '%s': %s", sub, strerror(errno));
			else if (!empty)
				kept = 1;
		} else if (runs_is_log(e->d_name))
			kept = 1;
		else if (unlink(sub) < 0 && errno != ENOENT)
			rc = err_set(err, CWLD_EXIT_FAILED, "unlink '%s': %s", sub, strerror(errno));
		free(sub);
	}
	closedir(d);
	return rc < 0 ? -1 : !kept;
}

static void
runs_finish(struct runs *r, struct runs_run *run)
{
	struct cwld_err err = { 0 };
	const char *state = STORE_SUCCESS;
	char *outdir = NULL, *error = NULL;

	if (run->s != NULL)
		sched_store_flush(run->s); /* the steps' last states, before the run's */
	if (run->status != 0) {
		state = run->cancelled || (run->s != NULL && sched_cancelled(run->s)) ?
		    STORE_CANCELLED : STORE_FAILED;
		error = xstrdup(run->msg ? run->msg : state);
	} else if (!run->relocated) {
		outdir = runs_outdir(r, run->id);
		if (fs_mkdir_p(outdir, &err) < 0 ||
		    relocate_outputs_from(run->outputs, outdir, run->run_dir, &err) < 0) {
			state = STORE_FAILED;
			error = xasprintf("cannot move the outputs to %s: %s", outdir, err.msg);
		}
	}
	if (store_run_set_state(r->st, run->id, state,
	    strcmp(state, STORE_SUCCESS) == 0 ? run->outputs : NULL, &err) < 0 ||
	    (error && store_run_set_error(r->st, run->id, error, &err) < 0))
		log_warnx("run %s: %s", run->id, err.msg);
	/* A daemon keeps its runs' logs: the work directories go (the outputs
	 * have moved to STATE/outputs/<run>). */
	if (strcmp(state, STORE_SUCCESS) == 0 && runs_prune(run->run_dir, 0, &err) < 0)
		log_warnx("run %s: cannot clean its work dir: %s", run->id, err.msg);
	/* outputs stored in S3 are not kept twice; those of a failed upload
	 * stay for whoever looks into it */
	if (strcmp(state, STORE_SUCCESS) == 0 && run->relocated) {
		outdir = runs_outdir(r, run->id);
		if (fs_rm_rf(outdir, &err) < 0)
			log_warnx("run %s: cannot remove %s: %s", run->id, outdir, err.msg);
	}
	fetch_log_total(run->fetch, run->id);
	log_info("run %s finished: %s%s%s", run->id, state, error ? ": " : "", error ? error : "");
	runs_changed(r, run->id, state, error);
	free(outdir);
	free(error);
}

/* Ends a run that never got to its scheduler's end (its inputs could not
 * be fetched, its scheduler not started), from the reap event. */
static void
runs_fail_async(struct runs_run *run, int status, const char *msg)
{
	run->done = 1;
	run->status = status ? status : CWLD_EXIT_FAILED;
	free(run->msg);
	run->msg = xstrdup(msg);
	event_active(run->r->reap, 0, 0);
}

static void
runs_uploaded(void *arg, const char *error)
{
	struct runs_run *run = arg;

	run->up_done = 1;
	if (error != NULL) {
		run->status = CWLD_EXIT_FAILED;
		free(run->msg);
		run->msg = xasprintf("uploading the outputs to %s: %s", run->output_location,
		    error);
	} else {
		long n;
		long long bytes;

		upload_stats(run->up, &n, &bytes);
		log_info("run %s: uploaded %ld object%s (%lld bytes) to %s", run->id, n,
		    n == 1 ? "" : "s", bytes, run->output_location);
	}
	event_active(run->r->reap, 0, 0);
}

/* Moves a successful run's outputs to STATE/outputs/<run> and starts
 * sending them to its output_location; 0, or -1 with the run failed. */
static int
runs_upload_start(struct runs *r, struct runs_run *run)
{
	struct cwld_err err = { 0 };
	char *outdir = runs_outdir(r, run->id);
	int rc = -1;

	if (fs_mkdir_p(outdir, &err) < 0 ||
	    relocate_outputs_from(run->outputs, outdir, run->run_dir, &err) < 0) {
		run->status = CWLD_EXIT_FAILED;
		free(run->msg);
		run->msg = xasprintf("cannot move the outputs to %s: %s", outdir, err.msg);
		goto out;
	}
	run->relocated = 1;
	run->up = upload_start(r->base, run->outputs, outdir, run->output_location, &r->o.s3,
	    runs_uploaded, run, &err);
	if (run->up == NULL) {
		run->status = CWLD_EXIT_FAILED;
		free(run->msg);
		run->msg = xasprintf("uploading the outputs to %s: %s", run->output_location,
		    err.msg);
		goto out;
	}
	log_info("run %s: uploading its outputs to %s", run->id, run->output_location);
	rc = 0;
out:
	free(outdir);
	return rc;
}

static void
runs_outs_fetched(void *arg, const char *error)
{
	struct runs_run *run = arg;

	run->out_op = NULL;
	if (error != NULL) {
		run->status = CWLD_EXIT_FAILED;
		free(run->msg);
		run->msg = xasprintf("fetching the outputs from S3: %s", error);
	}
	event_active(run->r->reap, 0, 0);
}

/* Starts downloading the s3:// Files and Directories among a successful
 * run's outputs; 0 while that goes on, -1 when there are none (or the run
 * failed: its status says). */
static int
runs_stage_outputs(struct runs_run *run)
{
	struct cwld_err err = { 0 };

	run->outs_staged = 1;
	if (run->fetch == NULL || !fetch_has_remote(run->outputs))
		return -1;
	run->out_op = fetch_value(run->fetch, run->outputs, runs_outs_fetched, run, &err);
	if (run->out_op == NULL) {
		run->status = CWLD_EXIT_FAILED;
		free(run->msg);
		run->msg = xasprintf("fetching the outputs from S3: %s", err.msg);
		return -1;
	}
	return 0;
}

static void
runs_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct runs *r = arg;
	struct runs_run *run, *next;

	(void)fd;
	(void)what;
	for (run = TAILQ_FIRST(&r->active); run != NULL; run = next) {
		next = TAILQ_NEXT(run, entry);
		if (!run->done || (run->up != NULL && !run->up_done) || run->out_op != NULL)
			continue;
		/* outputs that are inputs passed through, still in S3, are
		 * downloaded as a step would */
		if (run->status == 0 && !run->outs_staged && runs_stage_outputs(run) == 0)
			continue;
		/* a success is one only once its outputs are where it was told */
		if (run->status == 0 && run->output_location != NULL && run->up == NULL &&
		    !run->up_done && runs_upload_start(r, run) == 0)
			continue;
		TAILQ_REMOVE(&r->active, run, entry);
		r->nactive--;
		runs_finish(r, run);
		runs_run_free(run);
	}
}

struct runs_check {
	const struct runs_request *req;
	struct cwld_err *err;
};

static int
runs_check_one(json_t *obj, void *arg)
{
	struct runs_check *c = arg;
	const char *loc = json_string_value(json_object_get(obj, "location"));
	const char *path = json_string_value(json_object_get(obj, "path"));
	char *p = NULL;
	int rc;

	if (loc && strncmp(loc, "file:", 5) == 0)
		p = uri_to_path(loc);
	else if (loc && strncmp(loc, "s3://", 5) == 0)
		return 0; /* fetched into the run's own directory */
	else if (loc && uri_has_scheme(loc)) {
		err_set(c->err, CWLD_EXIT_USAGE, "input location '%s': only s3:// and "
		    "local files under the daemon's roots are accepted", loc);
		return 1;
	}
	else if (loc)
		p = xstrdup(loc);
	else if (path)
		p = xstrdup(path);
	if (p == NULL)
		return 0; /* a literal (contents or listing only) */
	rc = c->req->check_path(c->req->check_arg, p, c->err);
	free(p);
	return rc != 0;
}

/* Documents of a submission: those the daemon wrote for it (inline text)
 * are fine, any other goes through the caller's check_path. */
struct runs_guard {
	const struct runs_request *req;
	const char *docdir;
};

static int
runs_guard_path(void *arg, const char *path, struct cwld_err *err)
{
	struct runs_guard *g = arg;
	size_t n = strlen(g->docdir);

	if (strncmp(path, g->docdir, n) == 0 && path[n] == '/' && strstr(path + n, "/../") == NULL)
		return 0;
	return g->req->check_path(g->req->check_arg, path, err) != 0;
}

/* Keeps the text of a document the run was given inline, so that errors
 * point into it and a restarted daemon can read it again. */
static char *
runs_keep_text(const char *dir, const char *name, const char *text, struct cwld_err *err)
{
	char *path = fs_join(dir, name);

	if (fs_write_file_atomic(path, text, strlen(text), err) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* The run's scheduler, with the options recorded for it; starts the
 * process. 0, or -1 with err. */
static int
runs_start_sched(struct runs *r, struct runs_run *run, struct cwld_err *err)
{
	const json_t *opt = run->options;
	struct sched_opts so = { 0 };

	so.run_id = run->id;
	so.run_dir = run->run_dir;
	so.parallel = (int)json_integer_value(json_object_get(opt, "parallel"));
	if (so.parallel < 1)
		so.parallel = r->o.default_parallel;
	so.no_container = json_is_true(json_object_get(opt, "no_container"));
	so.default_container = json_string_value(json_object_get(opt, "default_container"));
	so.force_docker = json_is_true(json_object_get(opt, "force_docker")) ||
	    (so.default_container != NULL && !so.no_container);
	so.cache_dir = r->cache_dir;
	so.pool = r->pool;
	so.daemon = 1;
	so.resume = run->resume;
	so.fetch = run->fetch;
	if ((run->s = sched_new(r->base, r->st, &so, err)) == NULL)
		return -1;
	sched_set_observer(run->s, &runs_sched_observer, run);
	return sched_process_start(run->s, run->process, run->inputs, "", NULL, NULL,
	    runs_done_cb, run, err);
}

static void
runs_fetched(void *arg, const char *error)
{
	struct runs_run *run = arg;
	struct cwld_err err = { 0 };
	json_t *filled;
	long n;
	long long bytes;

	run->in_op = NULL;
	if (error != NULL) {
		runs_fail_async(run, CWLD_EXIT_FAILED, error);
		return;
	}
	fetch_stats(run->fetch, &n, &bytes);
	if (n > 0)
		log_info("run %s: fetched %ld object%s (%lld bytes) from S3 before its "
		    "first step", run->id, n, n == 1 ? "" : "s", bytes);
	/* the copies are completed (size, checksum, listing) like any file;
	 * what stays in S3 is left as it is */
	filled = sched_fill_inputs(run->process, NULL, NULL, run->inputs, "file:///", 0, &err);
	if (filled == NULL) {
		char *why = xasprintf("inputs fetched from S3: %s", err.msg);

		runs_fail_async(run, err.code, why);
		free(why);
		return;
	}
	json_decref(run->inputs);
	run->inputs = filled;
	if (runs_start_sched(run->r, run, &err) < 0)
		runs_fail_async(run, err.code, err.msg);
}

/* The rest of runs_launch: its s3:// inputs looked at first when it has
 * any (and what its start reads downloaded), then its scheduler, whose
 * steps download the rest. 0, or -1 with err (nothing started). */
static int
runs_launch_inputs(struct runs *r, struct runs_run *run, struct cwld_err *err)
{
	char *dir;

	if (run->fetch == NULL) {
		dir = fs_join(run->run_dir, "inputs");
		run->fetch = fetch_new(r->base, dir, &r->o.s3);
		free(dir);
		if (run->fetch == NULL)
			return err_set(err, CWLD_EXIT_FAILED, "run %s: cannot create an "
			    "event", run->id);
	}
	if (fetch_count(run->process, run->inputs) == 0)
		return runs_start_sched(r, run, err);
	run->in_op = fetch_inputs(run->fetch, run->process, run->inputs, runs_fetched,
	    run, err);
	return run->in_op != NULL ? 0 : -1;
}

static void
runs_probed(void *arg, const char *error)
{
	struct runs_run *run = arg;
	struct cwld_err err = { 0 };

	/* the probe is freed with the run: not from inside its callback */
	run->probed = 1;
	if (error != NULL)
		runs_fail_async(run, CWLD_EXIT_FAILED, error);
	else if (runs_launch_inputs(run->r, run, &err) < 0)
		runs_fail_async(run, err.code, err.msg);
}

/* Starts an active run: its output_location checked first (a bucket that
 * cannot take the outputs fails the run before its first step), then
 * runs_launch_inputs. 0, or -1 with err (nothing started). */
static int
runs_launch(struct runs *r, struct runs_run *run, struct cwld_err *err)
{
	if (run->output_location == NULL || run->probed)
		return runs_launch_inputs(r, run, err);
	run->probe = upload_probe_start(r->base, run->output_location, &r->o.s3,
	    runs_probed, run, err);
	return run->probe != NULL ? 0 : -1;
}

int
runs_submit(struct runs *r, const struct runs_request *req, char **id_out,
    struct cwld_err *err)
{
	struct runs_run *run = xcalloc(1, sizeof *run);
	struct runs_check chk = { req, err };
	struct runs_guard guard = { 0 };
	char *docdir = NULL, *wf = NULL, *jobpath = NULL, *base = NULL, *slashed = NULL;
	json_t *job = NULL, *options = NULL;
	int created = 0;

	*id_out = NULL;
	run->r = r;
	run->id = store_new_run_id();
	run->lc = load_ctx_new();
	docdir = xasprintf("%s/documents/%s", r->state_dir, run->id);
	if ((req->workflow_path == NULL) == (req->workflow_text == NULL)) {
		err_set(err, CWLD_EXIT_USAGE, "give the workflow as a path or as text, not %s",
		    req->workflow_path ? "both" : "neither");
		goto fail;
	}
	if ((req->workflow_text || req->inputs_text) && fs_mkdir_p(docdir, err) < 0)
		goto fail;
	if (req->workflow_text) {
		if ((wf = runs_keep_text(docdir, "workflow.cwl", req->workflow_text, err)) == NULL)
			goto fail;
	} else
		wf = xstrdup(req->workflow_path);
	if (req->check_path) {
		guard.req = req;
		guard.docdir = docdir;
		load_ctx_set_guard(run->lc, runs_guard_path, &guard);
	}
	if ((run->process = load_process(run->lc, wf, err)) == NULL)
		goto fail;
	if (req->inputs_text) {
		if ((jobpath = runs_keep_text(docdir, "job.yml", req->inputs_text, err)) == NULL ||
		    (job = load_job(run->lc, jobpath, err)) == NULL)
			goto fail;
	} else if (req->inputs) {
		if (!json_is_object(req->inputs)) {
			err_set(err, CWLD_EXIT_USAGE, "inputs must be an object (the job)");
			goto fail;
		}
		job = json_deep_copy(req->inputs);
	} else
		job = json_object();
	load_ctx_set_guard(run->lc, NULL, NULL); /* guard lives on this stack */
	/* a directory URI ends in '/', or relative names would resolve
	 * against its parent (uri_from_path drops the slash) */
	slashed = uri_from_path(req->base_dir ? req->base_dir : r->state_dir);
	base = xasprintf("%s/", slashed);
	if ((run->inputs = sched_fill_inputs(run->process, NULL, NULL, job, base, 0, err)) == NULL)
		goto fail;
	if (req->check_path && params_walk_files(run->inputs, runs_check_one, &chk) != 0)
		goto fail;

	if (req->output_location != NULL) {
		char *b = NULL, *pfx = NULL;

		if (upload_parse_dest(req->output_location, &b, &pfx, err) < 0)
			goto fail;
		free(b);
		free(pfx);
	}
	run->run_dir = xasprintf("%s/%s", r->work_dir, run->id);
	options = json_pack("{s:i, s:b, s:b, s:s?, s:s, s:s, s:s?}", "parallel",
	    req->parallel > 0 ? req->parallel : r->o.default_parallel,
	    "no_container", req->no_container, "force_docker", req->force_docker,
	    "default_container", req->default_container, "workflow", wf,
	    "run_dir", run->run_dir, "output_location", req->output_location);
	if (store_run_create(r->st, run->id, json_string_value(json_object_get(run->process, "id")),
	    run->inputs, err) < 0)
		goto fail;
	created = 1;
	if (store_run_set_meta(r->st, run->id, req->labels, options, "serve", err) < 0 ||
	    store_run_set_state(r->st, run->id, STORE_RUNNING, NULL, err) < 0)
		goto fail;

	if (fs_mkdir_p(run->run_dir, err) < 0)
		goto fail;
	run->options = options;
	options = NULL;
	run->output_location = json_string_value(json_object_get(run->options,
	    "output_location"));
	TAILQ_INSERT_TAIL(&r->active, run, entry);
	r->nactive++;
	runs_changed(r, run->id, STORE_RUNNING, NULL);
	if (runs_launch(r, run, err) < 0) {
		/* recorded as failed, reported to the caller */
		run->done = 1;
		run->status = err->code ? err->code : CWLD_EXIT_FAILED;
		run->msg = xstrdup(err->msg);
		event_active(r->reap, 0, 0);
		*id_out = xstrdup(run->id);
		json_decref(job);
		json_decref(options);
		free(docdir);
		free(wf);
		free(jobpath);
		free(base);
		free(slashed);
		return -1;
	}
	log_info("run %s submitted: %s", run->id, wf);
	*id_out = xstrdup(run->id);
	json_decref(job);
	json_decref(options);
	free(docdir);
	free(wf);
	free(jobpath);
	free(base);
	free(slashed);
	return 0;
fail:
	if (created) {
		struct cwld_err e2 = { 0 };

		if (store_run_set_state(r->st, run->id, STORE_FAILED, NULL, &e2) < 0 ||
		    store_run_set_error(r->st, run->id, err->msg, &e2) < 0)
			log_warnx("run %s: %s", run->id, e2.msg);
	}
	if (!created) {
		struct cwld_err e2 = { 0 };

		fs_rm_rf(docdir, &e2); /* nothing refers to it */
	}
	json_decref(job);
	json_decref(options);
	free(docdir);
	free(wf);
	free(jobpath);
	free(base);
	free(slashed);
	runs_run_free(run);
	return -1;
}

int
runs_cancel(struct runs *r, const char *run_id, int *finished, struct cwld_err *err)
{
	struct runs_run *run;
	json_t *row;

	*finished = 0;
	TAILQ_FOREACH(run, &r->active, entry) {
		if (strcmp(run->id, run_id) != 0)
			continue;
		if (run->up != NULL && !run->up_done) {
			/* what was stored stays; the run is not a success */
			log_info("run %s: cancel requested while uploading", run_id);
			upload_free(run->up);
			run->up = NULL;
			run->up_done = 1;
			run->cancelled = 1;
			runs_fail_async(run, CWLD_EXIT_FAILED,
			    "cancelled while its outputs were uploaded");
			return 0;
		}
		if (run->out_op != NULL) {
			log_info("run %s: cancel requested while its outputs came from S3",
			    run_id);
			fetch_op_cancel(run->out_op);
			run->out_op = NULL;
			run->cancelled = 1;
			runs_fail_async(run, CWLD_EXIT_FAILED,
			    "cancelled while its outputs were fetched from S3");
			return 0;
		}
		if (run->done)
			continue;
		log_info("run %s: cancel requested", run_id);
		if (run->s == NULL) {
			runs_fail_async(run, CWLD_EXIT_FAILED, run->in_op != NULL ?
			    "cancelled while its inputs were fetched" :
			    "cancelled before its first step");
			upload_probe_free(run->probe);
			run->probe = NULL;
			fetch_free(run->fetch);
			run->fetch = NULL;
			run->in_op = NULL;
			run->cancelled = 1;
			return 0;
		}
		sched_cancel(run->s);
		return 0;
	}
	if ((row = store_run_get(r->st, run_id, err)) == NULL)
		return -1;
	*finished = 1;
	err_set(err, CWLD_EXIT_USAGE, "run '%s' has already ended (%s)", run_id,
	    json_string_value(json_object_get(row, "state")));
	json_decref(row);
	return -1;
}

/* ---- a restarted daemon --------------------------------------------------- */

/* Whether a daemon container belongs to the latest unfinished attempt of a
 * step of a run being resumed; if so its id goes into that attempt's row. */
static int
runs_keep_container(void *arg, const char *run_id, const char *step, int attempt,
    const char *id, const char *cstate)
{
	struct runs *r = arg;
	struct cwld_err err = { 0 };
	json_t *run = NULL, *a = NULL;
	const char *state, *astate;
	int64_t sid;
	int keep = 0;

	(void)cstate;
	if (run_id == NULL || step == NULL || (run = store_run_get(r->st, run_id, &err)) == NULL)
		goto out;
	state = json_string_value(json_object_get(run, "state"));
	if (state == NULL || (strcmp(state, STORE_RUNNING) != 0 && strcmp(state, STORE_PENDING) != 0))
		goto out;
	if ((sid = store_step_find(r->st, run_id, step, NULL, &err)) <= 0 ||
	    (a = store_attempt_latest(r->st, sid, &err)) == NULL || !json_is_object(a))
		goto out;
	astate = json_string_value(json_object_get(a, "state"));
	if (json_integer_value(json_object_get(a, "number")) != attempt || astate == NULL ||
	    (strcmp(astate, STORE_RUNNING) != 0 && strcmp(astate, STORE_PENDING) != 0))
		goto out;
	if (store_attempt_set_container(r->st, json_integer_value(json_object_get(a, "id")), id,
	    &err) < 0)
		goto out;
	keep = 1;
out:
	if (err.code)
		log_warnx("container %.12s: %s", id, err.msg);
	json_decref(run);
	json_decref(a);
	return keep;
}

/* Starts again a run a previous daemon left unfinished. */
static int
runs_resume_one(struct runs *r, const json_t *row, struct cwld_err *err)
{
	const json_t *opt = json_object_get(row, "options");
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *wf = json_string_value(json_object_get(opt, "workflow"));
	const char *dir = json_string_value(json_object_get(opt, "run_dir"));
	struct runs_run *run = xcalloc(1, sizeof *run);

	run->r = r;
	run->id = xstrdup(id);
	run->lc = load_ctx_new();
	run->run_dir = dir ? xstrdup(dir) : xasprintf("%s/%s", r->work_dir, id);
	if (wf == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "its workflow is not recorded");
		goto fail;
	}
	if ((run->process = load_process(run->lc, wf, err)) == NULL)
		goto fail;
	run->inputs = json_incref(json_object_get((json_t *)row, "inputs"));
	if (fs_mkdir_p(run->run_dir, err) < 0)
		goto fail;
	run->options = json_is_object(opt) ? json_incref((json_t *)opt) : json_object();
	run->output_location = json_string_value(json_object_get(run->options,
	    "output_location"));
	run->resume = 1;
	TAILQ_INSERT_TAIL(&r->active, run, entry);
	r->nactive++;
	if (runs_launch(r, run, err) < 0) {
		run->done = 1;
		run->status = err->code ? err->code : CWLD_EXIT_FAILED;
		run->msg = xstrdup(err->msg);
		event_active(r->reap, 0, 0);
		return 0; /* finished (failed) by the reap event */
	}
	log_info("run %s resumed", id);
	return 0;
fail:
	runs_run_free(run);
	return -1;
}

int
runs_recover(struct runs *r, struct cwld_err *err)
{
	static const char *const open_states[] = { STORE_PENDING, STORE_RUNNING, NULL };
	struct store_runs_filter f = { open_states, NULL, 500, NULL };
	struct cwld_err e2 = { 0 };
	json_t *page = NULL, *run, *open = json_array();
	char *token = NULL;
	size_t i;
	int n = 0, kept = 0, removed;

	/* the runs this daemon's predecessor left, oldest first */
	do {
		f.page_token = token;
		if ((page = store_runs_page(r->st, &f, err)) == NULL) {
			free(token);
			json_decref(open);
			return -1;
		}
		json_array_foreach(json_object_get(page, "runs"), i, run) {
			const char *owner = json_string_value(json_object_get(run, "owner"));

			if (owner && strcmp(owner, "serve") == 0)
				json_array_insert(open, 0, run);
		}
		free(token);
		token = json_string_value(json_object_get(page, "next_page_token")) ?
		    xstrdup(json_string_value(json_object_get(page, "next_page_token"))) : NULL;
		json_decref(page);
	} while (token != NULL);
	/* its containers: those of unfinished attempts are taken over, the
	 * rest removed (blocking: the loop has not started) */
	removed = docker_daemon_sync(NULL, runs_keep_container, r, &kept, &e2);
	if (removed < 0)
		log_warnx("cannot look at the previous daemon's containers: %s", e2.msg);
	else if (removed + kept > 0)
		log_info("previous daemon's containers: %d taken over, %d removed", kept, removed);
	json_array_foreach(open, i, run) {
		const char *id = json_string_value(json_object_get(run, "id"));
		struct cwld_err e = { 0 };

		if (runs_resume_one(r, run, &e) < 0) {
			char *why = xasprintf("cannot resume after a restart: %s", e.msg);

			log_warnx("run %s: %s", id, why);
			if (store_run_set_state(r->st, id, STORE_FAILED, NULL, &e2) < 0 ||
			    store_run_set_error(r->st, id, why, &e2) < 0)
				log_warnx("run %s: %s", id, e2.msg);
			free(why);
			continue;
		}
		n++;
	}
	json_decref(open);
	return n;
}

void
runs_detach(struct runs *r)
{
	struct runs_run *run;

	TAILQ_FOREACH(run, &r->active, entry)
		if (!run->done && run->s != NULL)
			sched_detach(run->s);
	r->detached = 1;
}

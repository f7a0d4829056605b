/* One invocation of a CommandLineTool or ExpressionTool. It makes the work
 * directories, the runtime object, stages file literals and
 * InitialWorkDirRequirement entries, builds the command line (bind.c), runs
 * it through the local or Docker executor, collects outputs (outputs.c) and
 * records step and attempt in the store. Graph logic is workflow.c's. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cwld/bind.h"
#include "cwld/cache.h"
#include "cwld/docker.h"
#include "cwld/dockerfile.h"
#include "cwld/exec_local.h"
#include "cwld/expr.h"
#include "cwld/fetch.h"
#include "cwld/fs.h"
#include "cwld/job.h"
#include "cwld/log.h"
#include "cwld/outputs.h"
#include "cwld/params.h"
#include "cwld/proc.h"
#include "cwld/store.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

extern char **environ;

/* Time an ExpressionTool's expression may take (ToolTimeLimit does not
 * apply to it). */
#define JOB_EXPRESSION_TOOL_MS 60000
#define JOB_MIN_RAM_MB 16       /* smallest container memory limit set */

struct job {
	struct sched *s;
	json_t *tool;    /* borrowed reference held */
	json_t *inputs;  /* own deep copy: staging rewrites paths */
	json_t *reqs, *hints;
	char *name;
	sched_done_cb cb;
	void *arg;
	struct expr_ctx *ex;
	json_t *runtime;
	char *dir, *outdir, *tmpdir, *logdir;
	char *stdout_name, *stderr_name; /* relative to outdir, or NULL */
	char *stdout_path, *stderr_path, *stdin_path;
	json_t *argv;
	char **argvv, **envv;
	json_t *mounts;  /* array of [source, target, ro] */
	json_t *rewrites; /* [original path, staged path] of staged inputs */
	char *rt_outdir; /* runtime.outdir: the output directory as the tool sees it */
	int inplace;     /* InplaceUpdateRequirement in force */
	struct exec_mount *emounts;
	char *image;
	int64_t step_row, attempt_row;
	int has_slot;
	int tmp_pooled; /* tmpdir came from sched_tmp_take: given back at the end */
	struct sched_res want, held; /* asked of the pool, held while it runs */
	double rt_cores, rt_ram, rt_outsz, rt_tmpsz; /* runtime.* before rounding */
	struct fetch_op *fetch_op; /* its s3:// inputs on their way */
	int res_failed;  /* ResourceRequirement could not be evaluated: res_err */
	struct cwld_err res_err;
	int attempt_done; /* its final state is recorded */
	json_t *input_files; /* provenance: [{location, checksum}] of the inputs */
	int image_required; /* the image comes from a requirement, not a hint */
	char *cache_key; /* work reuse (--cache-dir) applies: the key, else NULL */
	double limit_cores;      /* container limits from ResourceRequirement, 0: none */
	int64_t limit_ram_mb;
	struct cwld_err err; /* for callbacks that cannot take one */
	int64_t queued_at, started_at; /* for the scheduler's observer */
	int exit_code;   /* of the tool's process, -1 until one exited */
	const json_t *image_dr; /* the DockerRequirement naming j->image, or NULL */
	char *dockerfile; /* --build-missing: made from SoftwareRequirement */
	struct exec_spec spec; /* for docker_run once the image is there */
	int pulling;     /* the observer was told of a pull (SCHED_STEP_PROGRESS) */
	/* a resumed run (sched_opts.resume): */
	int attempt_no;  /* this attempt's number (1 unless an earlier one was cut) */
	json_t *resumed_outputs; /* the step had succeeded: its outputs */
	char *reattach_id; /* its container still exists: take it over */
	int dry;         /* staging computes paths only: the files are there */
	int nscratch;    /* lit<N>/stg<N> directories made so far */
	struct sched_own *own; /* registered with the scheduler while alive */
};

static void
job_free(struct job *j)
{
	size_t i;

	if (j == NULL)
		return;
	fetch_op_cancel(j->fetch_op);
	json_decref(j->tool);
	json_decref(j->inputs);
	json_decref(j->reqs);
	json_decref(j->hints);
	json_decref(j->runtime);
	json_decref(j->input_files);
	json_decref(j->argv);
	json_decref(j->mounts);
	json_decref(j->rewrites);
	free(j->rt_outdir);
	expr_ctx_free(j->ex);
	sched_disown(j->s, j->own);
	free(j->name);
	json_decref(j->resumed_outputs);
	free(j->reattach_id);
	free(j->dir);
	free(j->outdir);
	free(j->tmpdir);
	free(j->logdir);
	free(j->stdout_name);
	free(j->stderr_name);
	free(j->stdout_path);
	free(j->stderr_path);
	free(j->stdin_path);
	for (i = 0; j->argvv && j->argvv[i]; i++)
		free(j->argvv[i]);
	free(j->argvv);
	for (i = 0; j->envv && j->envv[i]; i++)
		free(j->envv[i]);
	free(j->envv);
	free(j->emounts);
	free(j->image);
	free(j->dockerfile);
	free(j->cache_key);
	free(j);
}

static const char *
job_label(const struct job *j)
{
	return j->name[0] ? j->name : "main";
}

/* Tells the scheduler's observer that the job entered phase (state). */
/* A new directory beside the attempt's output directory, named in order
 * ("<step>.lit1", "<step>.stg2", ...): the same inputs give the same names,
 * so a resumed run finds the files the first daemon staged. New string, or
 * NULL with err. */
static char *
job_scratch_dir(struct job *j, const char *prefix, struct cwld_err *err)
{
	char *dir = xasprintf("%s.%s%d", j->dir, prefix, ++j->nscratch);

	if (mkdir(dir, 0755) < 0 && !(errno == EEXIST && j->dry)) {
		err_set(err, CWLD_EXIT_FAILED, "mkdir '%s': %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

static void
job_notify(struct job *j, enum sched_step_phase phase, const char *state, const char *msg)
{
	struct sched_step_event ev = { 0 };

	ev.phase = phase;
	ev.step = job_label(j);
	ev.state = state;
	ev.queued_at = j->queued_at;
	ev.started_at = j->started_at;
	ev.finished_at = phase == SCHED_STEP_FINISHED ? sched_time_ms() : 0;
	ev.exit_code = j->exit_code;
	ev.image = j->image;
	ev.stdout_path = j->stdout_path;
	ev.stderr_path = j->stderr_path;
	ev.log_dir = j->logdir;
	ev.msg = msg;
	sched_notify_step(j->s, &ev);
}

/* Ends the job: records the outcome, frees the slot, reports upward. */
static void
job_finish(struct job *j, int status, json_t *outputs, const char *msg)
{
	struct store *st = sched_store(j->s);
	struct cwld_err err = { 0 };
	const char *state = status == 0 ? STORE_SUCCESS :
	    sched_cancelled(j->s) ? STORE_CANCELLED : STORE_FAILED;

	if (st && j->step_row > 0 && store_step_set_state(st, j->step_row, state, outputs, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	job_notify(j, SCHED_STEP_FINISHED, state, msg);
	/* its process or container has ended: nothing writes there any more */
	if (j->tmp_pooled) {
		sched_tmp_give(j->s, j->tmpdir);
		j->tmpdir = NULL;
		j->tmp_pooled = 0;
	}
	if (j->has_slot)
		sched_slot_release(j->s, &j->held);
	j->has_slot = 0;
	j->cb(j->arg, status, outputs, msg);
	job_free(j);
}

static void
job_fail(struct job *j, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
job_fail(struct job *j, int code, const char *fmt, ...)
{
	char msg[4608];
	char body[4096];
	char note[256];
	va_list ap;
	struct cwld_err err = { 0 };

	va_start(ap, fmt);
	vsnprintf(body, sizeof body, fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof msg, "step '%s'%s: %s", job_label(j),
	    sched_step_scatter_note(job_label(j), note, sizeof note), body);
	if (j->attempt_row > 0 && !j->attempt_done && sched_store(j->s))
		store_attempt_finished(sched_store(j->s), j->attempt_row,
		    sched_cancelled(j->s) ? STORE_CANCELLED : STORE_FAILED, -1, body, &err);
	job_finish(j, code ? code : CWLD_EXIT_FAILED, NULL, msg);
}

/* Number from a ResourceRequirement field (number or expression). */
static int
job_resource(struct job *j, struct expr_ctx *ex, const json_t *rr, const char *min,
    const char *max, double def, double *out, struct cwld_err *err)
{
	const json_t *v = json_object_get(rr, min);
	json_t *r;

	if (v == NULL || json_is_null(v))
		v = json_object_get(rr, max);
	*out = def;
	if (v == NULL || json_is_null(v))
		return 0;
	r = expr_eval_value(ex, v, j->inputs, NULL, NULL, err);
	if (r == NULL)
		return -1;
	if (!json_is_number(r)) {
		json_decref(r);
		return err_set(err, CWLD_EXIT_USAGE, "ResourceRequirement %s is not a number", min);
	}
	*out = json_number_value(r);
	json_decref(r);
	return 0;
}

/* Whether rr gives a value for field a or b. */
static int
job_rr_has(const json_t *rr, const char *a, const char *b)
{
	const json_t *va = json_object_get(rr, a), *vb = json_object_get(rr, b);

	return (va && !json_is_null(va)) || (vb && !json_is_null(vb));
}

/* What one requested amount reserves: ceil(v * unit), 0 for nothing or
 * less, capped far above any budget so the arithmetic cannot overflow. */
static int64_t
job_reservation(double v, double unit)
{
	v *= unit;
	if (!(v > 0))
		return 0;
	return v > 1e15 ? (int64_t)1e15 : (int64_t)ceil(v);
}

/* The ResourceRequirement's numbers, evaluated once in job_start: the pool
 * must know what a launch reserves before the launch waits for it. A tool
 * reserves what it asks explicitly (coresMin, else coresMax; ramMin, else
 * ramMax), nothing when it asks nothing: CWL's defaults of 1 core and 256
 * MiB would serialise trivial tools, which --parallel bounds. An
 * ExpressionTool runs inside cwld and reserves nothing. The same numbers
 * make runtime.* and the container limits. */
static int
job_eval_resources(struct job *j, struct cwld_err *err)
{
	static const char *const fields[] = { "coresMin", "coresMax", "ramMin", "ramMax",
		"outdirMin", "outdirMax", "tmpdirMin", "tmpdirMax" };
	const json_t *rr = sched_find_req(j->tool, j->reqs, j->hints, "ResourceRequirement", NULL);
	const char *cls = json_string_value(json_object_get(j->tool, "class"));
	struct expr_ctx *ex = NULL;
	const json_t *js;
	double lim;
	size_t i;
	int rc = -1;

	j->rt_cores = 1;
	j->rt_ram = 256;
	j->rt_outsz = 1024;
	j->rt_tmpsz = 1024;
	if (rr == NULL)
		return 0;
	/* an expression context only for expressions: with JavaScript it is
	 * a heap, and a wide scatter queues many jobs at once */
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (json_is_string(json_object_get(rr, fields[i])))
			break;
	if (i < sizeof fields / sizeof fields[0]) {
		js = sched_find_req(j->tool, j->reqs, j->hints, "InlineJavascriptRequirement", NULL);
		if ((ex = expr_ctx_new(js != NULL, json_object_get(js, "expressionLib"), err)) == NULL)
			goto out;
	}
	if (job_resource(j, ex, rr, "coresMin", "coresMax", 1, &j->rt_cores, err) < 0 ||
	    job_resource(j, ex, rr, "ramMin", "ramMax", 256, &j->rt_ram, err) < 0 ||
	    job_resource(j, ex, rr, "outdirMin", "outdirMax", 1024, &j->rt_outsz, err) < 0 ||
	    job_resource(j, ex, rr, "tmpdirMin", "tmpdirMax", 1024, &j->rt_tmpsz, err) < 0)
		goto out;
	if (cls && strcmp(cls, "CommandLineTool") == 0) {
		if (job_rr_has(rr, "coresMin", "coresMax"))
			j->want.millicores = job_reservation(j->rt_cores, 1000);
		if (job_rr_has(rr, "ramMin", "ramMax"))
			j->want.ram_mib = job_reservation(j->rt_ram, 1);
	}
	/* In a container the reservation is also the limit, and only when
	 * asked for: coresMax/ramMax when given, else coresMin/ramMin. */
	if (job_rr_has(rr, "coresMin", "coresMax")) {
		if (job_resource(j, ex, rr, "coresMax", "coresMin", 1, &lim, err) < 0)
			goto out;
		j->limit_cores = lim > 0 ? lim : 0;
	}
	if (job_rr_has(rr, "ramMin", "ramMax")) {
		if (job_resource(j, ex, rr, "ramMax", "ramMin", 256, &lim, err) < 0)
			goto out;
		/* the engine refuses less than 6 MiB */
		j->limit_ram_mb = lim < JOB_MIN_RAM_MB ? JOB_MIN_RAM_MB : (int64_t)ceil(lim);
	}
	rc = 0;
out:
	expr_ctx_free(ex);
	if (rc < 0)
		memset(&j->want, 0, sizeof j->want);
	return rc;
}

static int
job_make_runtime(struct job *j, struct cwld_err *err)
{
	if (j->res_failed) {
		*err = j->res_err;
		return -1;
	}
	j->runtime = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}",
	    "outdir", j->rt_outdir, "tmpdir", j->tmpdir,
	    "cores", (json_int_t)ceil(j->rt_cores), "ram", (json_int_t)ceil(j->rt_ram),
	    "outdirSize", (json_int_t)ceil(j->rt_outsz), "tmpdirSize", (json_int_t)ceil(j->rt_tmpsz));
	return 0;
}

/* Writes a File or Directory literal (no location yet) at path; a
 * Directory's listing entries go inside it, literal or copied. */
static int
job_write_literal(json_t *obj, const char *path, int dry, struct cwld_err *err)
{
	const char *cls = json_string_value(json_object_get(obj, "class"));
	json_t *listing = json_object_get(obj, "listing");
	char *uri;
	size_t i;

	if (cls && strcmp(cls, "File") == 0) {
		const char *c = json_string_value(json_object_get(obj, "contents"));
		if (!dry && fs_write_file_atomic(path, c ? c : "", c ? strlen(c) : 0, err) < 0)
			return -1;
	} else {
		if (!dry && fs_mkdir_p(path, err) < 0)
			return -1;
		for (i = 0; i < json_array_size(listing); i++) {
			json_t *e = json_array_get(listing, i);
			const char *src = json_string_value(json_object_get(e, "path"));
			const char *b = json_string_value(json_object_get(e, "basename"));
			char *dst;
			int rc;

			if (b == NULL && src)
				b = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
			if (b == NULL)
				return err_set(err, CWLD_EXIT_USAGE, "literal entry without basename");
			dst = fs_join(path, b);
			rc = dry ? 0 : src ? fs_copy(src, dst, err) : job_write_literal(e, dst, 0, err);
			free(dst);
			if (rc < 0)
				return -1;
		}
	}
	uri = uri_from_path(path);
	json_object_set_new(obj, "location", json_string(uri));
	json_object_set_new(obj, "path", json_string(path));
	if (!json_object_get(obj, "basename"))
		json_object_set_new(obj, "basename", json_string(strrchr(path, '/') + 1));
	free(uri);
	return 0;
}

/* File and Directory literals in the inputs have no place on disk yet:
 * write them under the job's dir. */
static int
job_materialise_one(json_t *obj, void *arg)
{
	struct job *j = arg;
	const char *cls = json_string_value(json_object_get(obj, "class"));
	const char *base = json_string_value(json_object_get(obj, "basename"));
	char *dir = NULL, *path = NULL;
	struct cwld_err err = { 0 };
	int rc = -1;

	if (json_object_get(obj, "location") || json_object_get(obj, "path"))
		return 0;
	if ((dir = job_scratch_dir(j, "lit", &err)) == NULL)
		goto out;
	path = fs_join(dir, base ? base : cls && strcmp(cls, "File") == 0 ? "file" : "dir");
	rc = job_write_literal(obj, path, j->dry, &err);
out:
	if (rc < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	free(dir);
	free(path);
	return rc;
}

/* Adds a bind mount (source on the host, target in the container) unless
 * the same target is already there. */
static void
job_add_mount(struct job *j, const char *source, const char *target, int ro)
{
	size_t i;

	for (i = 0; i < json_array_size(j->mounts); i++)
		if (strcmp(json_string_value(json_array_get(json_array_get(j->mounts, i), 1)),
		    target) == 0)
			return;
	json_array_append_new(j->mounts, json_pack("[s,s,b]", source, target, ro));
}

/* Non-zero when path is dir or below it. */
static int
job_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Adds a read-only mount for every input File and Directory (and their
 * secondary files), at the same path inside the container: paths then
 * mean the same thing on both sides. */
static int
job_collect_mount(json_t *obj, void *arg)
{
	struct job *j = arg;
	const char *p = json_string_value(json_object_get(obj, "path"));

	/* Staged entries are in the output directory, mounted already. */
	if (p == NULL || job_under(p, j->outdir) || job_under(p, j->rt_outdir) || !fs_exists(p))
		return 0;
	job_add_mount(j, p, p, 1);
	return 0;
}

/* Where an entry named name goes: host is the path written on the host,
 * seen the path the tool sees. A relative name lands in the output
 * directory; an absolute one (containers only) is written under the job's
 * dir and bind-mounted at that path. */
static int
job_target(struct job *j, const char *name, int writable, char **host, char **seen,
    struct cwld_err *err)
{
	char *dir = NULL, *b = NULL, *parent = NULL;
	const char *p;
	int rc = -1;

	*host = *seen = NULL;
	if (name == NULL || name[0] == '\0')
		return err_set(err, CWLD_EXIT_USAGE,
		    "InitialWorkDirRequirement: entry without a name");
	for (p = name; p != NULL; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return err_set(err, CWLD_EXIT_USAGE,
			    "InitialWorkDirRequirement: entryname '%s' escapes the output directory", name);
	}
	if (name[0] == '/') {
		if (job_under(name, j->rt_outdir)) {
			*seen = xstrdup(name);
			*host = fs_join(j->outdir, name + strlen(j->rt_outdir) + (name[strlen(j->rt_outdir)] == '/'));
		} else {
			/* Only a required container makes an absolute path
			 * meaningful: a hint may be ignored by any runner. */
			if (j->image == NULL || !j->image_required)
				return err_set(err, CWLD_EXIT_USAGE, "InitialWorkDirRequirement: "
				    "absolute entryname '%s' needs DockerRequirement under "
				    "requirements", name);
			if ((dir = job_scratch_dir(j, "stg", err)) == NULL)
				goto out;
			b = fs_basename(name);
			*host = fs_join(dir, b);
			*seen = xstrdup(name);
			job_add_mount(j, *host, *seen, !writable);
		}
	} else {
		*host = fs_join(j->outdir, name);
		*seen = fs_join(j->rt_outdir, name);
	}
	parent = fs_dirname(*host);
	if (fs_mkdir_p(parent, err) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		free(*host);
		free(*seen);
		*host = *seen = NULL;
	}
	free(dir);
	free(b);
	free(parent);
	return rc;
}

/* Puts File or Directory obj at host (seen by the tool as seen): a copy,
 * or with InplaceUpdateRequirement and writable a symlink to the original
 * (mounted read-write at its own path in a container), so that changes
 * reach it. Literals are written; a Directory literal's listing and a
 * File's secondaryFiles are staged with it. The path in the inputs is
 * pointed at the staged place later (j->rewrites). */
static int
job_stage_obj(struct job *j, const json_t *obj, const char *host, const char *seen,
    int writable, struct cwld_err *err)
{
	const char *cls = json_string_value(json_object_get(obj, "class"));
	const char *src = json_string_value(json_object_get(obj, "path"));
	const json_t *listing = json_object_get(obj, "listing");
	const json_t *secs = json_object_get(obj, "secondaryFiles");
	int is_file = cls && strcmp(cls, "File") == 0;
	size_t i;

	if (cls == NULL || (!is_file && strcmp(cls, "Directory") != 0))
		return err_set(err, CWLD_EXIT_USAGE,
		    "InitialWorkDirRequirement: entry is not a File or Directory");
	/* a resumed run (j->dry): the files are there already; only the paths
	 * and mounts matter */
	if (!j->dry && fs_exists(host) && !fs_is_dir(host) && fs_rm_rf(host, err) < 0)
		return -1;
	if (src && j->dry) {
		if (writable && j->inplace && j->image)
			job_add_mount(j, src, src, 0);
		json_array_append_new(j->rewrites, json_pack("[s,s]", src, seen));
	} else if (src) {
		if (writable && j->inplace) {
			if (symlink(src, host) < 0)
				return err_set(err, CWLD_EXIT_FAILED, "symlink '%s': %s", host,
				    strerror(errno));
			if (j->image)
				job_add_mount(j, src, src, 0);
		} else if (fs_copy(src, host, err) < 0)
			return -1;
		json_array_append_new(j->rewrites, json_pack("[s,s]", src, seen));
	} else if (is_file) {
		const char *c = json_string_value(json_object_get(obj, "contents"));

		if (json_object_get(obj, "location"))
			return err_set(err, CWLD_EXIT_USAGE, "InitialWorkDirRequirement: "
			    "cannot stage '%s'", json_string_value(json_object_get(obj, "location")));
		if (!j->dry && fs_write_file_atomic(host, c ? c : "", c ? strlen(c) : 0, err) < 0)
			return -1;
	} else {
		if (fs_mkdir_p(host, err) < 0)
			return -1;
		for (i = 0; i < json_array_size(listing); i++) {
			const json_t *e = json_array_get(listing, i);
			const char *b = json_string_value(json_object_get(e, "basename"));
			const char *ep = json_string_value(json_object_get(e, "path"));
			char *h, *s;
			int rc;

			if (b == NULL && ep)
				b = strrchr(ep, '/') ? strrchr(ep, '/') + 1 : ep;
			if (b == NULL || strchr(b, '/'))
				return err_set(err, CWLD_EXIT_USAGE,
				    "InitialWorkDirRequirement: listing entry without a basename");
			h = fs_join(host, b);
			s = fs_join(seen, b);
			rc = job_stage_obj(j, e, h, s, writable, err);
			free(h);
			free(s);
			if (rc < 0)
				return -1;
		}
	}
	for (i = 0; is_file && i < json_array_size(secs); i++) {
		const json_t *e = json_array_get(secs, i);
		const char *b = json_string_value(json_object_get(e, "basename"));
		const char *ep = json_string_value(json_object_get(e, "path"));
		char *hd, *sd, *h, *s;
		int rc;

		if (b == NULL && ep)
			b = strrchr(ep, '/') ? strrchr(ep, '/') + 1 : ep;
		if (b == NULL)
			continue;
		hd = fs_dirname(host);
		sd = fs_dirname(seen);
		h = fs_join(hd, b);
		s = fs_join(sd, b);
		rc = job_stage_obj(j, e, h, s, writable, err);
		free(hd);
		free(sd);
		free(h);
		free(s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Stages obj under name (its basename when name is NULL). */
static int
job_stage_named(struct job *j, json_t *obj, const char *name, int writable,
    struct cwld_err *err)
{
	const char *base = name;
	char *host = NULL, *seen = NULL, *pb = NULL;
	int rc;

	if (!json_object_get(obj, "path") && json_object_get(obj, "location") &&
	    params_complete_file_ex(obj, json_string_value(json_object_get(j->tool, "cwld:base")),
	    0, PARAMS_LISTING_NONE, err) < 0)
		return -1;
	if (base == NULL)
		base = json_string_value(json_object_get(obj, "basename"));
	if (base == NULL && json_string_value(json_object_get(obj, "path")))
		base = pb = fs_basename(json_string_value(json_object_get(obj, "path")));
	if (base == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "InitialWorkDirRequirement: entry has no name");
	rc = job_target(j, base, writable, &host, &seen, err);
	if (rc == 0)
		rc = job_stage_obj(j, obj, host, seen, writable, err);
	free(host);
	free(seen);
	free(pb);
	return rc;
}

static int
job_is_fileobj(const json_t *v)
{
	const char *c = json_string_value(json_object_get(v, "class"));

	return c && (strcmp(c, "File") == 0 || strcmp(c, "Directory") == 0);
}

/* Text of a Dirent entry that evaluated to something other than a string,
 * File or Directory: JSON, numbers as string interpolation prints them. */
static char *
job_entry_text(const json_t *v)
{
	if (json_is_real(v))
		return expr_real_text(json_real_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_SORT_KEYS);
}

/* One Dirent { entry, entryname, writable }. entry is evaluated keeping
 * surrounding whitespace ("$(x)\n" is a string); a string becomes a file,
 * File/Directory objects (or an array of them) are staged, null adds
 * nothing, anything else is written as JSON. */
static int
job_stage_dirent(struct job *j, const json_t *d, struct cwld_err *err)
{
	const json_t *entry = json_object_get(d, "entry");
	const json_t *enj = json_object_get(d, "entryname");
	int writable = json_is_true(json_object_get(d, "writable"));
	json_t *ev = NULL, *en = NULL;
	const char *name = NULL;
	char *text = NULL, *host = NULL, *seen = NULL;
	size_t i;
	int rc = -1;

	if (json_is_string(entry)) {
		if (expr_has_expression(json_string_value(entry)))
			ev = expr_eval_flags(j->ex, json_string_value(entry), j->inputs, NULL,
			    j->runtime, EXPR_KEEP_SPACE, err);
		else
			ev = json_incref((json_t *)entry);
	} else
		ev = json_deep_copy(entry);
	if (ev == NULL)
		goto out;
	if (enj && !json_is_null(enj)) {
		if ((en = expr_eval_value(j->ex, enj, j->inputs, NULL, j->runtime, err)) == NULL)
			goto out;
		if (!json_is_string(en)) {
			err_set(err, CWLD_EXIT_USAGE, "InitialWorkDirRequirement: entryname is not a string");
			goto out;
		}
		name = json_string_value(en);
	}
	if (json_is_null(ev)) {
		rc = 0;
		goto out;
	}
	if (job_is_fileobj(ev)) {
		rc = job_stage_named(j, ev, name, writable, err);
		goto out;
	}
	if (json_is_array(ev) && json_array_size(ev) > 0) {
		for (i = 0; i < json_array_size(ev); i++)
			if (!job_is_fileobj(json_array_get(ev, i)))
				break;
		if (i == json_array_size(ev)) {
			for (i = 0; i < json_array_size(ev); i++)
				if (job_stage_named(j, json_array_get(ev, i), NULL, writable, err) < 0)
					goto out;
			rc = 0;
			goto out;
		}
	}
	text = json_is_string(ev) ? xstrdup(json_string_value(ev)) : job_entry_text(ev);
	if (name == NULL) {
		err_set(err, CWLD_EXIT_USAGE,
		    "InitialWorkDirRequirement: a literal entry needs an entryname");
		goto out;
	}
	if (job_target(j, name, writable, &host, &seen, err) < 0)
		goto out;
	rc = j->dry ? 0 : fs_write_file_atomic(host, text, strlen(text), err);
out:
	json_decref(ev);
	json_decref(en);
	free(text);
	free(host);
	free(seen);
	return rc;
}

/* One item of the listing: null, an array of items, an expression giving
 * items, a File/Directory, or a Dirent. */
static int
job_stage_item(struct job *j, const json_t *item, struct cwld_err *err)
{
	json_t *ev, *copy;
	size_t i;
	int rc;

	if (item == NULL || json_is_null(item))
		return 0;
	if (json_is_array(item)) {
		for (i = 0; i < json_array_size(item); i++)
			if (job_stage_item(j, json_array_get(item, i), err) < 0)
				return -1;
		return 0;
	}
	if (json_is_string(item)) {
		ev = expr_eval_value(j->ex, item, j->inputs, NULL, j->runtime, err);
		if (ev == NULL)
			return -1;
		if (json_is_string(ev) || json_is_number(ev) || json_is_boolean(ev)) {
			json_decref(ev);
			return err_set(err, CWLD_EXIT_USAGE,
			    "InitialWorkDirRequirement: entry '%s' is not a File, Directory or Dirent",
			    json_string_value(item));
		}
		rc = job_stage_item(j, ev, err);
		json_decref(ev);
		return rc;
	}
	if (json_is_object(item) && json_object_get(item, "entry"))
		return job_stage_dirent(j, item, err);
	if (job_is_fileobj(item)) {
		copy = json_deep_copy(item);
		rc = job_stage_named(j, copy, NULL, 0, err);
		json_decref(copy);
		return rc;
	}
	return err_set(err, CWLD_EXIT_USAGE, "InitialWorkDirRequirement: unsupported entry");
}

/* Sets the path of a File/Directory object, and its dirname if it has
 * one. */
static void
job_set_path(json_t *obj, const char *path)
{
	json_object_set_new(obj, "path", json_string(path));
	if (json_object_get(obj, "dirname")) {
		char *d = fs_dirname(path);
		json_object_set_new(obj, "dirname", json_string(d));
		free(d);
	}
}

/* Points the inputs' File/Directory paths at their staged places. */
static int
job_rewrite_one(json_t *obj, void *arg)
{
	struct job *j = arg;
	const char *p = json_string_value(json_object_get(obj, "path"));
	size_t i;

	if (p == NULL)
		return 0;
	for (i = json_array_size(j->rewrites); i-- > 0;) {
		const json_t *r = json_array_get(j->rewrites, i);
		const char *src = json_string_value(json_array_get(r, 0));
		const char *dst = json_string_value(json_array_get(r, 1));

		if (strcmp(p, src) == 0) {
			job_set_path(obj, dst);
			return 0;
		}
	}
	for (i = json_array_size(j->rewrites); i-- > 0;) {
		const json_t *r = json_array_get(j->rewrites, i);
		const char *src = json_string_value(json_array_get(r, 0));
		const char *dst = json_string_value(json_array_get(r, 1));

		if (job_under(p, src)) {
			char *np = xasprintf("%s%s", dst, p + strlen(src));

			job_set_path(obj, np);
			free(np);
			return 0;
		}
	}
	return 0;
}

static int
job_stage_iwd(struct job *j, struct cwld_err *err)
{
	const json_t *iwd = sched_find_req(j->tool, j->reqs, j->hints, "InitialWorkDirRequirement", NULL);
	const json_t *ip = sched_find_req(j->tool, j->reqs, j->hints, "InplaceUpdateRequirement", NULL);

	j->inplace = ip && json_is_true(json_object_get(ip, "inplaceUpdate"));
	if (iwd == NULL)
		return 0;
	if (job_stage_item(j, json_object_get(iwd, "listing"), err) < 0)
		return -1;
	params_walk_files(j->inputs, job_rewrite_one, j);
	return 0;
}

/* Non-zero when obj's basename is not the last part of its path. */
static int
job_renamed(const json_t *obj)
{
	const char *p = json_string_value(json_object_get(obj, "path"));
	const char *b = json_string_value(json_object_get(obj, "basename"));
	const char *pb;

	if (p == NULL || b == NULL)
		return 0;
	pb = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
	return strcmp(pb, b) != 0;
}

/* Non-zero when obj's path is not in directory dir. */
static int
job_elsewhere(const json_t *obj, const char *dir)
{
	const char *p = json_string_value(json_object_get(obj, "path"));
	char *d;
	int rc;

	if (p == NULL)
		return 0;
	d = fs_dirname(p);
	rc = strcmp(d, dir) != 0;
	free(d);
	return rc;
}

/* An input File is seen under its basename with its secondaryFiles next
 * to it under theirs. When that is not how they lie on disk (an
 * expression renamed one, or the job gave secondary files from other
 * directories), they are symlinked into a directory of their own (in a
 * container, the symlinks' targets are mounted at the links' paths). */
static int
job_stage_renamed(json_t *obj, void *arg)
{
	struct job *j = arg;
	const char *p = json_string_value(json_object_get(obj, "path"));
	const char *cls = json_string_value(json_object_get(obj, "class"));
	json_t *secs = json_object_get(obj, "secondaryFiles");
	char *pdir = NULL, *dir = NULL, *dst = NULL;
	struct cwld_err err = { 0 };
	size_t i, n = json_array_size(secs);
	int need, rc = -1;

	if (p == NULL || cls == NULL || strcmp(cls, "File") != 0 || job_under(p, j->outdir))
		return 0;
	pdir = fs_dirname(p);
	need = job_renamed(obj);
	for (i = 0; !need && i < n; i++)
		need = job_renamed(json_array_get(secs, i)) ||
		    job_elsewhere(json_array_get(secs, i), pdir);
	if (!need) {
		rc = 0;
		goto out;
	}
	if ((dir = job_scratch_dir(j, "stg", &err)) == NULL)
		goto out;
	for (i = 0; i <= n; i++) {
		json_t *o = i == 0 ? obj : json_array_get(secs, i - 1);
		const char *op = json_string_value(json_object_get(o, "path"));
		const char *b = json_string_value(json_object_get(o, "basename"));

		if (op == NULL)
			continue;
		if (b == NULL || strchr(b, '/') || strcmp(b, "..") == 0 || strcmp(b, ".") == 0)
			b = strrchr(op, '/') ? strrchr(op, '/') + 1 : op;
		free(dst);
		dst = fs_join(dir, b);
		if (symlink(op, dst) < 0 && !(j->dry && errno == EEXIST)) {
			err_set(&err, CWLD_EXIT_FAILED, "symlink '%s': %s", dst, strerror(errno));
			goto out;
		}
		job_set_path(o, dst);
	}
	rc = 0;
out:
	if (rc < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	free(pdir);
	free(dir);
	free(dst);
	return rc;
}

/* stdout/stderr file names, evaluated. Outputs of type stdout/stderr were
 * turned into Files globbing a name the loader put in the tool (load.c). */
static int
job_stream_name(struct job *j, const char *field, char **out, struct cwld_err *err)
{
	const json_t *v = json_object_get(j->tool, field);
	json_t *r;

	if (v == NULL)
		return 0;
	r = expr_eval_value(j->ex, v, j->inputs, NULL, j->runtime, err);
	if (r == NULL)
		return -1;
	if (!json_is_string(r) || strchr(json_string_value(r), '/') ||
	    json_string_length(r) == 0) {
		json_decref(r);
		return err_set(err, CWLD_EXIT_USAGE, "%s must be a plain file name", field);
	}
	*out = xstrdup(json_string_value(r));
	json_decref(r);
	return 0;
}

static char **
job_env(struct job *j, int docker, struct cwld_err *err)
{
	const json_t *evr = sched_find_req(j->tool, j->reqs, j->hints, "EnvVarRequirement", NULL);
	const json_t *defs = json_object_get(evr, "envDef");
	json_t *env = json_object();
	const char *k;
	json_t *v;
	char **out = NULL;
	size_t n = 0, i;
	const char *path = getenv("PATH");

	if (!docker)
		json_object_set_new(env, "PATH", json_string(path ? path : "/usr/local/bin:/usr/bin:/bin"));
	json_object_set_new(env, "HOME", json_string(j->rt_outdir));
	json_object_set_new(env, "TMPDIR", json_string(j->tmpdir));
	if (json_is_array(defs)) {
		for (i = 0; i < json_array_size(defs); i++) {
			const json_t *d = json_array_get(defs, i);
			const char *name = json_string_value(json_object_get(d, "envName"));
			json_t *val = expr_eval_value(j->ex, json_object_get(d, "envValue"),
			    j->inputs, NULL, j->runtime, err);
			if (val == NULL || name == NULL) {
				json_decref(val);
				json_decref(env);
				if (name == NULL)
					err_set(err, CWLD_EXIT_USAGE, "EnvVarRequirement: envDef without envName");
				return NULL;
			}
			json_object_set_new(env, name, val);
		}
	} else if (json_is_object(defs)) {
		json_object_foreach((json_t *)defs, k, v) {
			json_t *val = expr_eval_value(j->ex, v, j->inputs, NULL, j->runtime, err);
			if (val == NULL) {
				json_decref(env);
				return NULL;
			}
			json_object_set_new(env, k, val);
		}
	}
	out = xcalloc(json_object_size(env) + 1, sizeof *out);
	json_object_foreach(env, k, v) {
		if (json_is_string(v))
			out[n++] = xasprintf("%s=%s", k, json_string_value(v));
		else {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			out[n++] = xasprintf("%s=%s", k, s ? s : "");
			free(s);
		}
	}
	json_decref(env);
	return out;
}

/* Lines of stderr a failure message shows. */
#define JOB_TAIL_LINES 10

/* Last lines (at most JOB_TAIL_LINES, and len - 1 bytes) of a log file,
 * for failure messages. */
static void
job_tail(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	long sz, start;
	size_t n;
	char *p;

	buf[0] = '\0';
	if (f == NULL)
		return;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	start = sz > (long)len - 1 ? sz - (long)len + 1 : 0;
	fseek(f, start, SEEK_SET);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (start > 0 && (p = strchr(buf, '\n')) != NULL)
		memmove(buf, p + 1, strlen(p + 1) + 1);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (p = buf + n, n = 0; p > buf; p--)
		if (p[-1] == '\n' && ++n == JOB_TAIL_LINES) {
			memmove(buf, p, strlen(p) + 1);
			break;
		}
}

/* What a failure message adds after "command exited with code N": the
 * last lines of the tool's stderr and where its full logs are (the work
 * dir is kept after a failure). Into buf, starting with a newline. */
static void
job_fail_details(const struct job *j, char *buf, size_t len)
{
	char tail[800];
	size_t off = 0, i;

	job_tail(j->stderr_path, tail, sizeof tail);
	buf[0] = '\0';
	if (tail[0]) {
		snprintf(buf, len, "\n  last lines of stderr:\n    ");
		off = strlen(buf);
		for (i = 0; tail[i] && off + 6 < len; i++) {
			buf[off++] = tail[i];
			if (tail[i] == '\n')
				off += (size_t)snprintf(buf + off, len - off, "    ");
		}
		buf[off] = '\0';
	} else
		snprintf(buf, len, "\n  stderr is empty");
	off = strlen(buf);
	snprintf(buf + off, len - off, "\n  full stderr: %s\n  full stdout: %s", j->stderr_path,
	    j->stdout_path ? j->stdout_path : "(none)");
}

static int
job_code_in(const json_t *list, int code)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		if (json_integer_value(json_array_get(list, i)) == code)
			return 1;
	return 0;
}

static int
job_record_file(json_t *obj, void *arg)
{
	struct job *j = arg;
	struct cwld_err err = { 0 };
	const char *loc = json_string_value(json_object_get(obj, "location"));
	json_t *from;

	if (loc == NULL || sched_store(j->s) == NULL)
		return 0;
	/* Provenance: every input file this invocation was given. */
	from = j->input_files ? json_incref(j->input_files) : json_array();
	if (store_output_file_add(sched_store(j->s), j->attempt_row, loc,
	    json_string_value(json_object_get(obj, "checksum")),
	    json_integer_value(json_object_get(obj, "size")), j->image, from, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	json_decref(from);
	return 0;
}

static int
job_list_input(json_t *obj, void *arg)
{
	json_t *list = arg;
	const char *loc = json_string_value(json_object_get(obj, "location"));
	const json_t *ck = json_object_get(obj, "checksum");

	if (loc)
		json_array_append_new(list, ck ? json_pack("{s:s,s:O}", "location", loc, "checksum", ck) :
		    json_pack("{s:s}", "location", loc));
	return 0;
}

/* Work reuse applies unless there is no --cache-dir, WorkReuse's
 * enableReuse is false, or the tool updates inputs in place (an effect
 * outside its output directory). Then j->cache_key is set from the
 * invocation as it is about to run; -1 only when enableReuse cannot be
 * evaluated. A key that cannot be computed means no reuse, not failure. */
static int
job_cache_prepare(struct job *j, struct cwld_err *err)
{
	const struct sched_opts *o = sched_opts(j->s);
	const json_t *wr = sched_find_req(j->tool, j->reqs, j->hints, "WorkReuse", NULL);
	const json_t *rt = j->runtime;
	struct cache_job cj;
	struct cwld_err kerr = { 0 };
	json_t *v, *extra;
	char key[CACHE_KEY_LEN + 1];
	int rc;

	if (o->cache_dir == NULL || j->inplace)
		return 0;
	if (wr && json_object_get(wr, "enableReuse")) {
		v = expr_eval_value(j->ex, json_object_get(wr, "enableReuse"), j->inputs, NULL,
		    j->runtime, err);
		if (v == NULL)
			return -1;
		rc = json_is_false(v);
		json_decref(v);
		if (rc)
			return 0;
	}
	memset(&cj, 0, sizeof cj);
	cj.outdir = j->outdir;
	cj.tmpdir = j->tmpdir;
	cj.jobdir = j->dir;
	cj.rundir = o->run_dir;
	cj.run_id = o->run_id;
	extra = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}",
	    "successCodes", json_object_get(j->tool, "successCodes"),
	    "cores", json_object_get(rt, "cores"), "ram", json_object_get(rt, "ram"),
	    "outdirSize", json_object_get(rt, "outdirSize"),
	    "tmpdirSize", json_object_get(rt, "tmpdirSize"));
	/* a fixed dockerOutputDirectory is where the tool sees its files */
	json_object_set_new(extra, "rt_outdir", json_string(strcmp(j->rt_outdir, j->outdir) == 0 ?
	    "" : j->rt_outdir));
	cj.argv = j->argv;
	cj.envv = j->envv;
	/* The docker module has no image inspection yet: the name stands for
	 * the image (a re-tagged image is not noticed). */
	cj.image = j->image;
	cj.stdin_path = j->stdin_path;
	/* A stream name the tool does not give is random: it is taken from
	 * the cached run on a hit. */
	cj.stdout_name = j->stdout_name; /* the loader's names are stable per tool */
	cj.stderr_name = j->stderr_name;
	cj.inputs = j->inputs;
	cj.tool_outputs = json_object_get(j->tool, "outputs");
	cj.extra = extra;
	cj.workdir = j->outdir;
	cj.mounts = j->mounts;
	if (cache_key(&cj, key, &kerr) < 0)
		log_warnx("run %s: step '%s': not reusing work: %s", o->run_id, job_label(j), kerr.msg);
	else
		j->cache_key = xstrdup(key);
	json_decref(extra);
	return 0;
}

/* Stores a successful invocation's output directory under its key. A
 * failure to store is logged: the run itself succeeded. Blocking copies,
 * like the output collection before it. */
static void
job_cache_save(struct job *j, int exit_code, const json_t *outputs)
{
	const struct sched_opts *o = sched_opts(j->s);
	struct cwld_err err = { 0 };
	json_t *rec;

	rec = json_pack("{s:s, s:i, s:s?, s:s?, s:s, s:s, s:s, s:s, s:O}",
	    "key", j->cache_key, "exit_code", exit_code,
	    "stdout", j->stdout_name, "stderr", j->stderr_name,
	    "outdir", j->outdir, "rt_outdir", j->rt_outdir,
	    "run_id", o->run_id, "step", job_label(j), "outputs", outputs);
	if (rec == NULL || cache_save(o->cache_dir, j->cache_key, j->outdir, rec, &err) < 0)
		log_warnx("run %s: step '%s': cannot store in cache: %s", o->run_id, job_label(j),
		    rec ? err.msg : "cannot build record");
	else
		log_debug("run %s: step '%s': stored in cache %s", o->run_id, job_label(j),
		    j->cache_key);
	json_decref(rec);
}

/* Collects the outputs of an invocation that succeeded with exit_code (run
 * or reused) and ends the job; a run, not a reuse, is then cached. */
static void
job_collect(struct job *j, int exit_code, int reused)
{
	struct cwld_err err = { 0 };
	json_t *outputs;

	j->exit_code = exit_code;
	json_object_set_new(j->runtime, "exitCode", json_integer(exit_code));
	outputs = outputs_collect(j->tool, j->inputs, j->runtime, j->outdir, j->ex, &err);
	if (outputs == NULL) {
		job_fail(j, err.code ? err.code : CWLD_EXIT_FAILED, "%s", err.msg);
		return;
	}
	if (j->cache_key && !reused)
		job_cache_save(j, exit_code, outputs);
	params_walk_files(outputs, job_record_file, j);
	job_finish(j, 0, outputs, NULL);
	json_decref(outputs);
}

/* On a hit the cached output directory replaces the staged one and the
 * outputs are collected as after a run. 1 when the job was ended that way
 * (j is gone), 0 on a miss. */
static int
job_cache_reuse(struct job *j)
{
	const struct sched_opts *o = sched_opts(j->s);
	struct store *st = sched_store(j->s);
	struct cwld_err err = { 0 };
	json_t *rec = NULL;
	const json_t *code;
	char msg[128];
	int rc, exit_code;

	rc = cache_lookup(o->cache_dir, j->cache_key, &rec, &err);
	if (rc <= 0) {
		if (rc < 0)
			log_warnx("run %s: step '%s': ignoring cache entry: %s", o->run_id,
			    job_label(j), err.msg);
		return 0;
	}
	code = json_object_get(rec, "exit_code");
	exit_code = json_is_integer(code) ? (int)json_integer_value(code) : 0;
	if (cache_restore(o->cache_dir, j->cache_key, rec, j->outdir, j->rt_outdir, &err) < 0) {
		json_decref(rec);
		job_fail(j, CWLD_EXIT_FAILED, "cannot reuse cache entry %s: %s", j->cache_key,
		    err.msg);
		return 1;
	}
	if (!json_object_get(j->tool, "stdout") && json_is_string(json_object_get(rec, "stdout"))) {
		free(j->stdout_name);
		j->stdout_name = xstrdup(json_string_value(json_object_get(rec, "stdout")));
	}
	if (!json_object_get(j->tool, "stderr") && json_is_string(json_object_get(rec, "stderr"))) {
		free(j->stderr_name);
		j->stderr_name = xstrdup(json_string_value(json_object_get(rec, "stderr")));
	}
	json_decref(rec);
	snprintf(msg, sizeof msg, "reused from cache %s", j->cache_key);
	if (store_attempt_started(st, j->attempt_row, NULL, j->image, j->argv, &err) < 0)
		log_warnx("run %s: step '%s': %s", o->run_id, job_label(j), err.msg);
	j->attempt_done = 1;
	if (store_attempt_finished(st, j->attempt_row, STORE_SUCCESS, exit_code, msg, &err) < 0)
		log_warnx("run %s: step '%s': %s", o->run_id, job_label(j), err.msg);
	log_info("run %s: step '%s' %s", o->run_id, job_label(j), msg);
	job_collect(j, exit_code, 1);
	return 1;
}

static void
job_exec_done(void *arg, const struct exec_result *res)
{
	struct job *j = arg;
	struct cwld_err err = { 0 };
	const json_t *ok = json_object_get(j->tool, "successCodes");
	const char *state;
	char details[2048];
	int success;

	if (!res->started) {
		job_fail(j, res->unreachable ? CWLD_EXIT_UNREACHABLE : CWLD_EXIT_FAILED, "%s", res->msg);
		return;
	}
	j->exit_code = res->exit_code;
	success = ok ? job_code_in(ok, res->exit_code) : res->exit_code == 0;
	if (res->timed_out)
		success = 0;
	if (sched_cancelled(j->s))
		success = 0;
	state = success ? STORE_SUCCESS : sched_cancelled(j->s) ? STORE_CANCELLED : STORE_FAILED;
	if (res->container_id[0] && store_attempt_set_container(sched_store(j->s), j->attempt_row,
	    res->container_id, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	j->attempt_done = 1;
	if (store_attempt_finished(sched_store(j->s), j->attempt_row, state, res->exit_code,
	    res->timed_out ? "time limit exceeded" : res->msg, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	if (!success) {
		job_fail_details(j, details, sizeof details);
		if (sched_cancelled(j->s))
			job_fail(j, CWLD_EXIT_FAILED, "cancelled");
		else if (res->timed_out)
			job_fail(j, CWLD_EXIT_FAILED, "stopped: %s (ToolTimeLimit)%s",
			    res->msg[0] ? res->msg : "time limit exceeded", details);
		else
			job_fail(j, CWLD_EXIT_FAILED, "command exited with code %d%s",
			    res->exit_code, details);
		return;
	}
	job_collect(j, res->exit_code, 0);
}

/* Files an ExpressionTool returns get what a tool's outputs get; File and
 * Directory literals are written into the output directory first. */
static int
job_complete_output(json_t *obj, void *arg)
{
	struct job *j = arg;
	const char *cls = json_string_value(json_object_get(obj, "class"));
	const char *b = json_string_value(json_object_get(obj, "basename"));
	char *dir = NULL, *path = NULL;
	int rc = -1;

	if (!json_object_get(obj, "location") && !json_object_get(obj, "path")) {
		if (b == NULL || strchr(b, '/') || strcmp(b, "..") == 0 || strcmp(b, ".") == 0)
			b = cls && strcmp(cls, "File") == 0 ? "file" : "dir";
		path = fs_join(j->outdir, b);
		if (fs_exists(path)) {
			free(path);
			if ((dir = fs_mkdtemp(j->outdir, "lit", &j->err)) == NULL)
				goto out;
			path = fs_join(dir, b);
		}
		if (job_write_literal(obj, path, 0, &j->err) < 0)
			goto out;
		/* its entries now live inside it: list them from there */
		json_object_del(obj, "listing");
	}
	rc = params_complete_file_ex(obj, NULL, 1, PARAMS_LISTING_DEEP, &j->err) < 0 ? -1 : 0;
out:
	free(dir);
	free(path);
	return rc;
}

static void
job_run_expression(struct job *j)
{
	struct cwld_err err = { 0 };
	json_t *res, *outputs;
	const json_t *outs = json_object_get(j->tool, "outputs");
	size_t i;

	res = expr_eval_value(j->ex, json_object_get(j->tool, "expression"), j->inputs, NULL,
	    j->runtime, &err);
	if (res == NULL) {
		job_fail(j, CWLD_EXIT_FAILED, "%s", err.msg);
		return;
	}
	if (!json_is_object(res)) {
		json_decref(res);
		job_fail(j, CWLD_EXIT_FAILED, "expression did not return an object");
		return;
	}
	outputs = json_object();
	for (i = 0; i < json_array_size(outs); i++) {
		const json_t *o = json_array_get(outs, i);
		const char *id = json_string_value(json_object_get(o, "id"));
		json_t *v = json_object_get(res, id);

		json_object_set(outputs, id, v ? v : json_null());
	}
	json_decref(res);
	if (params_walk_files(outputs, job_complete_output, j) != 0) {
		json_decref(outputs);
		job_fail(j, CWLD_EXIT_FAILED, "%s", j->err.msg);
		return;
	}
	store_attempt_finished(sched_store(j->s), j->attempt_row, STORE_SUCCESS, 0, NULL, &err);
	job_finish(j, 0, outputs, NULL);
	json_decref(outputs);
}

/* Re-lists on-disk Directory values of v (an array or one Directory). */
static int
job_relist(json_t *v, enum params_listing ll, struct cwld_err *err)
{
	const char *cls = json_string_value(json_object_get(v, "class"));
	const char *p = json_string_value(json_object_get(v, "path"));
	size_t i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++)
			if (job_relist(json_array_get(v, i), ll, err) < 0)
				return -1;
		return 0;
	}
	if (cls == NULL || strcmp(cls, "Directory") != 0 || p == NULL || !fs_is_dir(p))
		return 0;
	json_object_del(v, "listing");
	return params_complete_file_ex(v, NULL, 0, ll, err);
}

/* A Directory input with its own loadListing is listed as it is on disk
 * now: an earlier step may have changed it in place since it was listed
 * (InplaceUpdateRequirement). */
static int
job_refresh_listings(struct job *j, struct cwld_err *err)
{
	const json_t *ins = json_object_get(j->tool, "inputs");
	size_t i;

	for (i = 0; i < json_array_size(ins); i++) {
		const json_t *in = json_array_get(ins, i);
		int ll = params_listing_parse(json_string_value(json_object_get(in, "loadListing")));
		json_t *v = json_object_get(j->inputs, json_string_value(json_object_get(in, "id")));

		if (ll <= PARAMS_LISTING_NONE || v == NULL)
			continue;
		if (job_relist(v, (enum params_listing)ll, err) < 0)
			return -1;
	}
	return 0;
}

/* The image request of DockerRequirement dr, or of the Dockerfile made for
 * --build-missing. Strings borrowed from j. dockerLoad and dockerImport
 * paths are relative to the document of the requirement (the loader's
 * "cwld:base"), else to the tool's. */
static void
job_image_req(const struct job *j, const json_t *dr, struct docker_image_req *req)
{
	memset(req, 0, sizeof *req);
	if (j->dockerfile) {
		req->dockerfile = j->dockerfile;
		return;
	}
	req->pull = json_string_value(json_object_get(dr, "dockerPull"));
	req->image_id = json_string_value(json_object_get(dr, "dockerImageId"));
	req->load = json_string_value(json_object_get(dr, "dockerLoad"));
	req->import = json_string_value(json_object_get(dr, "dockerImport"));
	req->dockerfile = json_string_value(json_object_get(dr, "dockerFile"));
	req->base_uri = json_string_value(json_object_get(dr, "cwld:base"));
	if (req->base_uri == NULL)
		req->base_uri = json_string_value(json_object_get(j->tool, "cwld:base"));
}

/* Where the tool runs: an image reference, or NULL for the host. For a
 * dockerLoad or dockerImport without a name the reference is known only
 * once the image is there (job_image_ready); until then j->image says
 * where it comes from. -1 when the requirement names no image. */
static int
job_pick_image(struct job *j, struct cwld_err *err)
{
	int hint = 0;
	const json_t *dr = sched_find_req(j->tool, j->reqs, j->hints, "DockerRequirement", &hint);
	const json_t *sw, *df;
	const struct sched_opts *o = sched_opts(j->s);
	struct docker_image_req req;

	if (o->no_container)
		return 0;
	if (dr) {
		df = json_object_get(dr, "dockerFile");
		if (df && !json_is_string(df))
			return err_set(err, CWLD_EXIT_USAGE,
			    "DockerRequirement: dockerFile must be the Dockerfile's text");
		job_image_req(j, dr, &req);
		if (req.pull || req.image_id || req.load || req.import || req.dockerfile) {
			j->image = docker_image_name(&req);
			if (j->image == NULL)
				j->image = xasprintf("%s:%s", req.load ? "dockerLoad" : "dockerImport",
				    req.load ? req.load : req.import);
			j->image_dr = dr;
			j->image_required = !hint;
			return 0;
		}
		if (!hint && !o->force_docker && !o->build_missing)
			return err_set(err, CWLD_EXIT_USAGE, "DockerRequirement names no image "
			    "(dockerPull, dockerImageId, dockerLoad, dockerFile or dockerImport)");
	}
	/* --build-missing: the tool's packages installed on --default-container
	 * (else Debian's stable-slim) */
	sw = o->build_missing ? sched_find_req(j->tool, j->reqs, j->hints, "SoftwareRequirement", NULL) : NULL;
	if (sw) {
		j->dockerfile = dockerfile_from_software(sw, o->default_container, err);
		if (j->dockerfile == NULL)
			return -1;
		job_image_req(j, NULL, &req);
		j->image = docker_image_name(&req);
		return 0;
	}
	if (o->force_docker) {
		if (o->default_container == NULL)
			return err_set(err, CWLD_EXIT_USAGE,
			    "--force-docker needs --default-container for tools without an image");
		j->image = xstrdup(o->default_container);
	}
	return 0;
}

/* How the pull of the job's image goes (docker_image_ensure), for the
 * observer's live view: a PROGRESS event with the step's detail. */
static void
job_image_progress(void *arg, const struct docker_image_progress *p)
{
	struct job *j = arg;
	struct sched_step_event ev = { 0 };
	char sum[96], *detail;

	detail = xasprintf("pulling %s %s", p->image,
	    docker_stream_pull_text(&p->sum, sum, sizeof sum));
	j->pulling = 1;
	ev.phase = SCHED_STEP_PROGRESS;
	ev.step = job_label(j);
	ev.state = STORE_RUNNING;
	ev.queued_at = j->queued_at;
	ev.started_at = j->started_at;
	ev.exit_code = j->exit_code;
	ev.image = j->image;
	ev.detail = detail;
	sched_notify_step(j->s, &ev);
	free(detail);
}

/* The image is there (docker_image_ensure): the container starts. */
static void
job_image_ready(void *arg, const char *ref, const struct cwld_err *ierr)
{
	struct job *j = arg;
	struct cwld_err err = { 0 };
	struct docker *d;

	if (j->pulling) {
		struct sched_step_event ev = { 0 };

		j->pulling = 0;
		ev.phase = SCHED_STEP_PROGRESS; /* detail NULL: pulled */
		ev.step = job_label(j);
		ev.state = STORE_RUNNING;
		ev.image = j->image;
		sched_notify_step(j->s, &ev);
	}
	if (sched_cancelled(j->s)) {
		job_fail(j, CWLD_EXIT_FAILED, "cancelled");
		return;
	}
	if (ierr != NULL) {
		job_fail(j, ierr->code ? ierr->code : CWLD_EXIT_FAILED, "%s", ierr->msg);
		return;
	}
	if (strcmp(ref, j->image) != 0) {
		/* a loaded or imported image: record what really runs */
		free(j->image);
		j->image = xstrdup(ref);
		if (store_attempt_started(sched_store(j->s), j->attempt_row, NULL, j->image,
		    j->argv, &err) < 0)
			log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j),
			    err.msg);
	}
	j->spec.image = j->image;
	j->spec.image_present = 1; /* docker_image_ensure has just seen it */
	d = sched_docker(j->s, &err);
	sched_store_flush(j->s); /* the attempt is on disk before its container */
	if (d == NULL || docker_run(d, &j->spec, job_exec_done, j, &err) < 0)
		job_fail(j, err.code ? err.code : CWLD_EXIT_FAILED, "%s", err.msg);
}

/* A daemon's host process is recorded with its identity: after a kill -9
 * of the daemon, the next one stops it (job_resume) rather than leaving it
 * running unowned. Not for `cwld run`, which has no resume: one write less
 * per step. A failure to record is logged; the step goes on. */
static void
job_record_pid(struct job *j, pid_t pid)
{
	struct cwld_err err = { 0 };
	char *ident;

	if (pid <= 0)
		return;
	ident = proc_ident(pid);
	if (store_attempt_set_pid(sched_store(j->s), j->attempt_row, (long)pid, ident, &err) < 0)
		log_warnx("run %s: step '%s': %s", sched_opts(j->s)->run_id, job_label(j), err.msg);
	free(ident);
}

static void
job_launch(void *arg)
{
	struct job *j = arg;
	struct sched *s = j->s;
	struct cwld_err err = { 0 };
	const struct sched_opts *o = sched_opts(s);
	const json_t *js, *shell;
	const char *cls = json_string_value(json_object_get(j->tool, "class"));
	char *sub = NULL, *stdin_v = NULL;
	json_t *v, *inlist;
	size_t i, n;
	struct exec_spec spec;
	int is_expr = cls && strcmp(cls, "ExpressionTool") == 0;

	j->has_slot = 1;
	if (sched_cancelled(s)) {
		job_fail(j, CWLD_EXIT_FAILED, "cancelled");
		return;
	}
	/* One new directory per job: the output directory itself, named by the
	 * step ("<step>@2" for a second attempt). Its logs go beside it
	 * ("<step>.stderr.txt"), as do staging scratch directories
	 * ("<step>.stg1"), and the temporary directory is one of the run's
	 * that a finished job left empty (sched_tmp_take). On ext4 without a
	 * journal each directory made and removed costs far more than a file:
	 * a 50-way scatter made 150 of them, now 50 and a few. A resumed job
	 * taking a container over needs no temporary directory of its own. */
	sub = j->attempt_no > 1 ? xasprintf("%s/%s@%d", o->run_dir, job_label(j), j->attempt_no) :
	    xasprintf("%s/%s", o->run_dir, job_label(j));
	j->dir = sub;
	j->outdir = xstrdup(sub);
	j->logdir = fs_dirname(sub);
	if (fs_mkdir_p(j->outdir, &err) < 0)
		goto fail;
	if (j->dry)
		j->tmpdir = xasprintf("%s.tmp", sub);
	else if ((j->tmpdir = sched_tmp_take(s, &err)) == NULL)
		goto fail;
	else
		j->tmp_pooled = 1;
	if (!j->reattach_id)
		j->attempt_row = store_attempt_create(sched_store(s), j->step_row, j->attempt_no,
		    sub, &err);
	if (j->attempt_row < 0 ||
	    store_step_set_state(sched_store(s), j->step_row, STORE_RUNNING, NULL, &err) < 0)
		goto fail;
	js = sched_find_req(j->tool, j->reqs, j->hints, "InlineJavascriptRequirement", NULL);
	j->ex = expr_ctx_new(js != NULL, json_object_get(js, "expressionLib"), &err);
	if (j->ex == NULL)
		goto fail;
	if (job_refresh_listings(j, &err) < 0)
		goto fail;
	if (params_walk_files(j->inputs, job_materialise_one, j) != 0) {
		err_set(&err, CWLD_EXIT_FAILED, "cannot write file literals under %s", j->dir);
		goto fail;
	}
	j->mounts = json_array();
	j->rewrites = json_array();
	if (!is_expr && job_pick_image(j, &err) < 0)
		goto fail;
	j->rt_outdir = xstrdup(j->outdir);
	if (j->image) {
		const json_t *dr = sched_find_req(j->tool, j->reqs, j->hints, "DockerRequirement", NULL);
		const char *dod = json_string_value(json_object_get(dr, "dockerOutputDirectory"));

		if (dod && dod[0] == '/') {
			free(j->rt_outdir);
			j->rt_outdir = fs_abspath(dod);
		}
	}
	if (job_make_runtime(j, &err) < 0)
		goto fail;
	if (is_expr) {
		/* ToolTimeLimit does not apply to expression tools; their
		 * expression gets more time than an ordinary one. */
		expr_ctx_set_limits(j->ex, JOB_EXPRESSION_TOOL_MS, EXPR_HEAP_LIMIT);
		j->started_at = sched_time_ms();
		job_notify(j, SCHED_STEP_STARTED, STORE_RUNNING, NULL);
		job_run_expression(j);
		return;
	}
	if (params_walk_files(j->inputs, job_stage_renamed, j) != 0) {
		err_set(&err, CWLD_EXIT_FAILED, "cannot stage renamed input files under %s", j->dir);
		goto fail;
	}
	if (job_stage_iwd(j, &err) < 0)
		goto fail;
	if (job_stream_name(j, "stdout", &j->stdout_name, &err) < 0 ||
	    job_stream_name(j, "stderr", &j->stderr_name, &err) < 0)
		goto fail;
	if (json_object_get(j->tool, "stdin")) {
		v = expr_eval_value(j->ex, json_object_get(j->tool, "stdin"), j->inputs, NULL, j->runtime, &err);
		if (v == NULL)
			goto fail;
		if (json_is_string(v))
			stdin_v = xstrdup(json_string_value(v));
		else if (json_is_object(v) && json_is_string(json_object_get(v, "path")))
			stdin_v = xstrdup(json_string_value(json_object_get(v, "path")));
		json_decref(v);
		if (stdin_v)
			j->stdin_path = stdin_v;
	}
	j->stdout_path = j->stdout_name ? fs_join(j->outdir, j->stdout_name) :
	    xasprintf("%s.stdout.txt", j->dir);
	j->stderr_path = j->stderr_name ? fs_join(j->outdir, j->stderr_name) :
	    xasprintf("%s.stderr.txt", j->dir);
	/* Image and log paths are known from here: what a live view shows. */
	j->started_at = sched_time_ms();
	job_notify(j, SCHED_STEP_STARTED, STORE_RUNNING, NULL);
	shell = sched_find_req(j->tool, j->reqs, j->hints, "ShellCommandRequirement", NULL);
	j->argv = bind_command_line(j->tool, j->inputs, j->runtime, j->ex, shell != NULL, &err);
	if (j->argv == NULL)
		goto fail;
	n = json_array_size(j->argv);
	if (n == 0) {
		err_set(&err, CWLD_EXIT_USAGE, "empty command line");
		goto fail;
	}
	j->argvv = xcalloc(n + 1, sizeof *j->argvv);
	for (i = 0; i < n; i++)
		j->argvv[i] = xstrdup(json_string_value(json_array_get(j->argv, i)));
	if ((j->envv = job_env(j, j->image != NULL, &err)) == NULL)
		goto fail;

	/* Provenance: the input files of this invocation. */
	inlist = json_array();
	params_walk_files(j->inputs, job_list_input, inlist);
	j->input_files = inlist; /* not in runtime: expressions must not see it */

	/* Work reuse: the same invocation completed before. */
	if (!j->reattach_id && job_cache_prepare(j, &err) < 0)
		goto fail;
	if (j->cache_key && job_cache_reuse(j))
		return;

	memset(&spec, 0, sizeof spec);
	spec.run_id = o->run_id;
	spec.step_id = job_label(j);
	spec.attempt = j->attempt_no;
	spec.daemon = o->daemon;
	spec.argv = j->argvv;
	spec.env = j->envv;
	spec.cwd = j->rt_outdir;
	spec.stdin_path = j->stdin_path;
	spec.stdout_path = j->stdout_path;
	spec.stderr_path = j->stderr_path;
	spec.image = j->image;
	spec.cores = j->limit_cores;
	spec.memory_mb = j->limit_ram_mb;
	if (!j->reattach_id &&
	    store_attempt_started(sched_store(s), j->attempt_row, NULL, j->image, j->argv, &err) < 0)
		goto fail;
	if (j->image && j->reattach_id) {
		/* the container a previous daemon started: wait for it there */
		struct docker *d = sched_docker(s, &err);

		j->spec = spec;
		if (d == NULL || docker_reattach(d, j->reattach_id, &j->spec, job_exec_done, j,
		    &err) < 0)
			goto fail;
		log_info("run %s: step '%s': taking over container %.12s", o->run_id,
		    job_label(j), j->reattach_id);
		return;
	} else if (j->image) {
		const json_t *na = sched_find_req(j->tool, j->reqs, j->hints, "NetworkAccess", NULL);
		const json_t *tl = sched_find_req(j->tool, j->reqs, j->hints, "ToolTimeLimit", NULL);
		struct docker *d = sched_docker(s, &err);

		if (d == NULL)
			goto fail;
		params_walk_files(j->inputs, job_collect_mount, j);
		if (j->stdin_path && fs_exists(j->stdin_path) && !job_under(j->stdin_path, j->outdir))
			job_add_mount(j, j->stdin_path, j->stdin_path, 1);
		/* The output directory first: mounts inside it (staged entries
		 * with absolute names) go on top of it. */
		json_array_insert_new(j->mounts, 0, json_pack("[s,s,b]", j->outdir, j->rt_outdir, 0));
		json_array_insert_new(j->mounts, 1, json_pack("[s,s,b]", j->tmpdir, j->tmpdir, 0));
		j->emounts = xcalloc(json_array_size(j->mounts), sizeof *j->emounts);
		for (i = 0; i < json_array_size(j->mounts); i++) {
			json_t *m = json_array_get(j->mounts, i);
			j->emounts[i].source = json_string_value(json_array_get(m, 0));
			j->emounts[i].target = json_string_value(json_array_get(m, 1));
			j->emounts[i].readonly = json_is_true(json_array_get(m, 2));
		}
		spec.mounts = j->emounts;
		spec.nmounts = json_array_size(j->mounts);
		v = na ? expr_eval_value(j->ex, json_object_get(na, "networkAccess"), j->inputs, NULL, j->runtime, &err) : NULL;
		spec.network = v && json_is_true(v);
		json_decref(v);
		if (tl) {
			v = expr_eval_value(j->ex, json_object_get(tl, "timelimit"), j->inputs, NULL, j->runtime, &err);
			spec.timelimit_s = v && json_is_integer(v) ? (int)json_integer_value(v) : 0;
			json_decref(v);
		}
		/* the image first (pulled, built, loaded or imported once for
		 * all jobs that need it); the container from job_image_ready */
		{
			struct docker_image_req ireq;

			if (j->image_dr || j->dockerfile)
				job_image_req(j, j->image_dr, &ireq);
			else {
				memset(&ireq, 0, sizeof ireq);
				ireq.pull = j->image; /* --default-container */
			}
			ireq.progress = job_image_progress;
			j->spec = spec;
			if (docker_image_ensure(d, &ireq, job_image_ready, j, &err) < 0)
				goto fail;
		}
	} else {
		const json_t *tl = sched_find_req(j->tool, j->reqs, j->hints, "ToolTimeLimit", NULL);
		struct exec_local *el = sched_local(s, &err);

		if (el == NULL)
			goto fail;
		if (tl) {
			v = expr_eval_value(j->ex, json_object_get(tl, "timelimit"), j->inputs, NULL, j->runtime, &err);
			spec.timelimit_s = v && json_is_integer(v) ? (int)json_integer_value(v) : 0;
			json_decref(v);
		}
		sched_store_flush(s); /* the attempt is on disk before its process */
		if (exec_local_start(el, &spec, job_exec_done, j, &err) < 0)
			goto fail;
		if (o->daemon)
			job_record_pid(j, exec_local_started_pid(el));
	}
	log_info("run %s: step '%s' started%s%s", o->run_id, job_label(j),
	    j->image ? " in " : "", j->image ? j->image : "");
	return;
fail:
	job_fail(j, err.code ? err.code : CWLD_EXIT_FAILED, "%s", err.msg);
}

static void
job_free_owned(void *arg)
{
	job_free(arg);
}

/* An attempt the previous daemon left unfinished without a container: its
 * host process, if it still runs, cannot be waited for (it is not our
 * child, its exit status would be lost), so it is killed and the step runs
 * again as a new attempt. */
static int
job_resume_interrupted(struct job *j, const json_t *a, struct cwld_err *err)
{
	const char *ident = json_string_value(json_object_get(a, "pid_ident"));
	json_int_t pid = json_integer_value(json_object_get(a, "pid"));
	char msg[160];
	int k = 0;

	snprintf(msg, sizeof msg, "interrupted: the daemon stopped");
	if (pid > 1 && ident != NULL) {
		k = proc_kill_group((pid_t)pid, ident);
		if (k < 0)
			log_warnx("run %s: step '%s': cannot stop process %lld left by the previous "
			    "daemon: %s", sched_opts(j->s)->run_id, job_label(j), (long long)pid,
			    strerror(errno));
		else if (k > 0) {
			log_info("run %s: step '%s': killed process %lld left by the previous daemon; "
			    "the step runs again", sched_opts(j->s)->run_id, job_label(j),
			    (long long)pid);
			snprintf(msg, sizeof msg, "interrupted: the daemon stopped; its process %lld "
			    "was killed", (long long)pid);
		}
	}
	return store_attempt_finished(sched_store(j->s), json_integer_value(json_object_get(a, "id")),
	    STORE_FAILED, -1, msg, err);
}

/* A resumed run: what became of this invocation before the daemon
 * stopped (its step row by name). Succeeded: its outputs are used again.
 * Its latest attempt was running in a container: that container is taken
 * over (the attempt's staging is recomputed, not redone). Otherwise a new
 * attempt; one that was cut off is recorded as such. */
static int
job_resume(struct job *j, struct cwld_err *err)
{
	struct store *st = sched_store(j->s);
	const char *run_id = sched_opts(j->s)->run_id, *state, *cid, *astate;
	json_t *found = NULL, *a = NULL;
	int64_t id;
	int rc = -1;

	if ((id = store_step_find(st, run_id, job_label(j), &found, err)) < 0)
		return -1;
	if (id == 0)
		return 0;
	j->step_row = id;
	state = json_string_value(json_object_get(found, "state"));
	if (state && strcmp(state, STORE_SUCCESS) == 0 &&
	    json_is_object(json_object_get(found, "outputs"))) {
		j->resumed_outputs = json_incref(json_object_get(found, "outputs"));
		rc = 0;
		goto out;
	}
	if ((a = store_attempt_latest(st, id, err)) == NULL)
		goto out;
	if (json_is_object(a)) {
		astate = json_string_value(json_object_get(a, "state"));
		cid = json_string_value(json_object_get(a, "container_id"));
		j->attempt_no = (int)json_integer_value(json_object_get(a, "number"));
		if (astate && (strcmp(astate, STORE_RUNNING) == 0 ||
		    strcmp(astate, STORE_PENDING) == 0) && cid && *cid) {
			j->reattach_id = xstrdup(cid);
			j->attempt_row = json_integer_value(json_object_get(a, "id"));
			j->dry = 1;
		} else {
			if (astate && (strcmp(astate, STORE_RUNNING) == 0 ||
			    strcmp(astate, STORE_PENDING) == 0) &&
			    job_resume_interrupted(j, a, err) < 0)
				goto out;
			j->attempt_no++;
		}
	}
	rc = 0;
out:
	json_decref(found);
	json_decref(a);
	return rc;
}

static void
job_resumed_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;
	json_t *outputs = json_incref(j->resumed_outputs);

	(void)fd;
	(void)what;
	log_info("run %s: step '%s' had succeeded before the restart: not run again",
	    sched_opts(j->s)->run_id, job_label(j));
	job_finish(j, 0, outputs, NULL);
	json_decref(outputs);
}

/* loadContents of one value of an input that asks for it: a File
 * (alone or in an array) that is local now and has none yet. */
static int
job_load_contents(json_t *v, struct cwld_err *err)
{
	const char *c = json_string_value(json_object_get(v, "class"));
	json_t *e;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (job_load_contents(e, err) < 0)
				return -1;
		}
		return 0;
	}
	if (c == NULL || strcmp(c, "File") != 0 || json_object_get(v, "path") == NULL)
		return 0;
	return params_load_contents(v, err);
}

/* Asks for the slot the job's resources need; it launches when it has
 * one. */
static void
job_queue(struct job *j)
{
	/* A failure here fails the launch, where it is recorded as any other. */
	if (job_eval_resources(j, &j->res_err) < 0)
		j->res_failed = 1;
	sched_slot_acquire(j->s, job_label(j), &j->want, &j->held, job_launch, j);
}

/* The job's s3:// inputs are local copies now: loadContents, which params
 * could not honour for a remote File, is, and the job queues. */
static void
job_inputs_fetched(void *arg, const char *error)
{
	struct job *j = arg;
	struct cwld_err err = { 0 };
	const json_t *in;
	const char *id;
	size_t i;

	j->fetch_op = NULL;
	if (error != NULL) {
		job_fail(j, CWLD_EXIT_FAILED, "%s", error);
		return;
	}
	json_array_foreach(json_object_get(j->tool, "inputs"), i, in) {
		id = json_string_value(json_object_get(in, "id"));
		if (json_is_true(json_object_get(in, "loadContents")) && id != NULL &&
		    job_load_contents(json_object_get(j->inputs, id), &err) < 0) {
			job_fail(j, err.code, "input '%s': %s", id, err.msg);
			return;
		}
	}
	job_queue(j);
}

int
job_start(struct sched *s, const json_t *tool, const json_t *inputs, const char *name,
    const json_t *reqs, const json_t *hints, sched_done_cb cb, void *arg,
    struct cwld_err *err)
{
	struct job *j;

	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->tool = json_incref((json_t *)tool);
	j->inputs = json_deep_copy(inputs);
	j->reqs = reqs ? json_incref((json_t *)reqs) : json_array();
	j->hints = hints ? json_incref((json_t *)hints) : json_array();
	j->name = xstrdup(name ? name : "");
	j->cb = cb;
	j->arg = arg;
	j->exit_code = -1;
	j->attempt_no = 1;
	j->own = sched_own(s, j, job_free_owned);
	if (sched_opts(s)->resume && job_resume(j, err) < 0) {
		job_free(j);
		return -1;
	}
	if (j->step_row == 0)
		j->step_row = store_step_create(sched_store(s), sched_opts(s)->run_id, job_label(j), err);
	if (j->step_row < 0) {
		job_free(j);
		return -1;
	}
	j->queued_at = sched_time_ms();
	job_notify(j, SCHED_STEP_QUEUED, STORE_PENDING, NULL);
	if (j->resumed_outputs) {
		static const struct timeval now = { 0, 0 };

		/* from the loop, as any other completion */
		if (event_base_once(sched_base(s), -1, EV_TIMEOUT, job_resumed_cb, j, &now) < 0) {
			err_set(err, CWLD_EXIT_FAILED, "out of events");
			job_free(j);
			return -1;
		}
		return 0;
	}
	/* s3:// inputs are downloaded before the job asks for a slot: a
	 * transfer holds no core */
	if (fetch_has_remote(j->inputs)) {
		if (sched_opts(s)->fetch == NULL) {
			err_set(err, CWLD_EXIT_UNSUPPORTED, "step '%s': an s3:// "
			    "input, and this run stages none", job_label(j));
			job_free(j);
			return -1;
		}
		j->fetch_op = fetch_value(sched_opts(s)->fetch, j->inputs,
		    job_inputs_fetched, j, err);
		if (j->fetch_op == NULL) {
			job_free(j);
			return -1;
		}
		return 0;
	}
	job_queue(j);
	return 0;
}

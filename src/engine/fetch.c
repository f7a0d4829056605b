/* Remote inputs: finds the File and Directory objects of a job (and the
 * defaults it relies on) whose location is s3://, downloads each distinct
 * location once into the run's input area with the s3 module (a Directory
 * is listed page by page, then each object fetched), and points those
 * objects at the local copies, so that params completes them like any local
 * file and no step ever downloads. The defaults looked at are those of the
 * process's inputs the job leaves out, of its steps' "in" entries and of
 * the inputs of the processes those steps run, through subworkflows. The
 * secondaryFiles that plain patterns of a top-level input name next to an
 * s3:// primary are downloaded beside its copy, where params discovers
 * them as it does for local files (record fields' too). Transfers run
 * concurrently on the loop.
 * What s3:// means on the wire is left to the s3 module. */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/expr.h"
#include "cwld/fetch.h"
#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define FETCH_PARALLEL 8

struct fetch_loc {
	char *uri;
	char *bucket;
	char *key;       /* a Directory's ends with '/' (or is "") */
	int is_dir;
	char *local;     /* dir/N/BASENAME */
	int secondary;   /* fetched next to a primary's copy: no object of
	                  * the job points at it (and fetch_find skips it) */
	int optional;    /* a missing object is skipped */
	char *what;      /* a secondary's: which input and primary it is for */
};

struct fetch_task {
	TAILQ_ENTRY(fetch_task) entry;
	struct fetch *f;
	struct fetch_loc *loc;
	int list;        /* the listing of a Directory, else a GET */
	char *key;
	char *path;
	struct s3_op *op;
	char *error;     /* why a listing was stopped */
};

TAILQ_HEAD(fetch_tasks, fetch_task);

struct fetch {
	struct event_base *base;
	struct s3 *s3;
	json_t *process, *job;
	char *dir;
	struct fetch_loc *locs;
	size_t nlocs;
	struct fetch_tasks queue, running;
	int nrunning;
	char *error;
	fetch_cb cb;
	void *arg;
	struct event *done_ev;
	long objects;
	long long bytes;
};

typedef int (*fetch_fn)(json_t *obj, void *arg);

static int
fetch_strcmp0(const char *a, const char *b)
{
	return a == NULL ? -1 : strcmp(a, b);
}

static int
fetch_is_s3(const json_t *obj)
{
	const char *loc = json_string_value(json_object_get(obj, "location"));

	return loc != NULL && strncmp(loc, "s3://", 5) == 0;
}

/* The processes a walk has been through: the loader shares one loaded
 * process between the steps that run the same document, and visiting it
 * once keeps the walk linear. */
struct fetch_seen {
	const json_t **v;
	size_t n;
};

/* Calls fn for every File/Directory in the defaults inside a workflow's
 * steps: their "in" entries' and those of the inputs of the processes they
 * run (all of them: what a step passes is known only when it runs), then
 * the same inside those processes. */
static int
fetch_walk_steps(json_t *process, fetch_fn fn, void *arg,
    struct fetch_seen *seen)
{
	json_t *step, *in, *run;
	size_t i, k;
	int rc;

	json_array_foreach(json_object_get(process, "steps"), i, step) {
		json_array_foreach(json_object_get(step, "in"), k, in) {
			if ((rc = params_walk_files(json_object_get(in,
			    "default"), fn, arg)) != 0)
				return rc;
		}
		run = json_object_get(step, "run");
		if (!json_is_object(run))
			continue;
		for (k = 0; k < seen->n && seen->v[k] != run; k++)
			;
		if (k < seen->n)
			continue;
		seen->v = xreallocarray(seen->v, seen->n + 1, sizeof *seen->v);
		seen->v[seen->n++] = run;
		json_array_foreach(json_object_get(run, "inputs"), k, in) {
			if ((rc = params_walk_files(json_object_get(in,
			    "default"), fn, arg)) != 0)
				return rc;
		}
		if ((rc = fetch_walk_steps(run, fn, arg, seen)) != 0)
			return rc;
	}
	return 0;
}

/* Calls fn for every File/Directory in the job's values, in the defaults
 * of the inputs the job leaves out, and in the defaults inside the steps
 * (fetch_walk_steps). */
static int
fetch_walk(json_t *process, json_t *job, fetch_fn fn, void *arg)
{
	struct fetch_seen seen = { NULL, 0 };
	const char *name;
	json_t *v, *in, *def;
	size_t i;
	int rc = 0;

	json_object_foreach(job, name, v) {
		if ((rc = params_walk_files(v, fn, arg)) != 0)
			goto out;
	}
	json_array_foreach(json_object_get(process, "inputs"), i, in) {
		name = json_string_value(json_object_get(in, "id"));
		def = json_object_get(in, "default");
		if (name == NULL || def == NULL || json_object_get(job, name))
			continue;
		if ((rc = params_walk_files(def, fn, arg)) != 0)
			goto out;
	}
	rc = fetch_walk_steps(process, fn, arg, &seen);
out:
	free(seen.v);
	return rc;
}

static int
fetch_count_fn(json_t *obj, void *arg)
{
	if (fetch_is_s3(obj))
		(*(int *)arg)++;
	return 0;
}

int
fetch_count(const json_t *process, const json_t *job)
{
	int n = 0;

	/* the walk takes non-const values but changes nothing here */
	fetch_walk((json_t *)(uintptr_t)process, (json_t *)(uintptr_t)job,
	    fetch_count_fn, &n);
	return n;
}

static struct fetch_loc *
fetch_find(struct fetch *f, const char *uri)
{
	size_t i;

	for (i = 0; i < f->nlocs; i++)
		if (!f->locs[i].secondary && strcmp(f->locs[i].uri, uri) == 0)
			return &f->locs[i];
	return NULL;
}

/* A relative path made of plain names: no empty, "." or ".." segment. */
static int
fetch_safe_rel(const char *rel)
{
	const char *p = rel, *e;
	size_t n;

	if (*rel == '\0' || *rel == '/')
		return 0;
	while (*p != '\0') {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 1;
}

static struct fetch_loc *
fetch_add_loc(struct fetch *f)
{
	struct fetch_loc *l;

	f->locs = xreallocarray(f->locs, f->nlocs + 1, sizeof *f->locs);
	l = &f->locs[f->nlocs++];
	memset(l, 0, sizeof *l);
	return l;
}

struct fetch_collect {
	struct fetch *f;
	struct cwld_err *err;
};

static int
fetch_collect_fn(json_t *obj, void *arg)
{
	struct fetch_collect *c = arg;
	struct fetch *f = c->f;
	struct fetch_loc *l;
	const char *uri, *cls, *bn;
	char *bucket = NULL, *key = NULL, *base = NULL, *num;
	size_t n;

	if (!fetch_is_s3(obj))
		return 0;
	uri = json_string_value(json_object_get(obj, "location"));
	if (fetch_find(f, uri) != NULL)
		return 0;
	if (s3_uri_parse(uri, &bucket, &key, c->err) != 0)
		return -1;
	cls = json_string_value(json_object_get(obj, "class"));
	bn = json_string_value(json_object_get(obj, "basename"));
	if (bn == NULL) {
		n = strlen(key);
		while (n > 0 && key[n - 1] == '/')
			n--;
		base = xstrndup(key, n);
		bn = strrchr(base, '/') != NULL ? strrchr(base, '/') + 1 : base;
		if (*bn == '\0')
			bn = bucket; /* the whole bucket as a Directory */
	}
	if (strcmp(cls, "File") == 0 && (*key == '\0' ||
	    key[strlen(key) - 1] == '/')) {
		err_set(c->err, CWLD_EXIT_USAGE, "File '%s': an s3:// File "
		    "names an object, not a prefix", uri);
		goto fail;
	}
	if (strchr(bn, '/') != NULL || !fetch_safe_rel(bn)) {
		err_set(c->err, CWLD_EXIT_USAGE, "'%s': basename '%s' cannot "
		    "name a local file", uri, bn);
		goto fail;
	}
	l = fetch_add_loc(f);
	l->uri = xstrdup(uri);
	l->bucket = bucket;
	l->is_dir = strcmp(cls, "Directory") == 0;
	if (l->is_dir && *key != '\0' && key[strlen(key) - 1] != '/') {
		l->key = xasprintf("%s/", key);
		free(key);
	} else {
		l->key = key;
	}
	num = xasprintf("%s/%zu", f->dir, f->nlocs);
	l->local = fs_join(num, bn);
	free(num);
	free(base);
	return 0;
fail:
	free(bucket);
	free(key);
	free(base);
	return -1;
}

/* One plain pattern of input id's secondaryFiles (entry: a string or
 * {pattern, required}) applied to the s3:// primary p: the object the
 * pattern names next to p's key is to be fetched next to p's copy, under
 * the name the pattern gives there (p's basename may differ from its
 * key's). Nothing when p already lists that name. */
static int
fetch_secondary_one(struct fetch *f, const char *id, json_t *p,
    const json_t *entry, struct cwld_err *err)
{
	const char *uri = json_string_value(json_object_get(p, "location"));
	const json_t *pat = entry, *req = NULL;
	const struct fetch_loc *pl;
	struct fetch_loc *l;
	const char *ps, *kb;
	char *name = NULL, *lname = NULL, *lbase = NULL, *ldir = NULL;
	char *key = NULL, *local = NULL, *bucket;
	size_t i, n;
	int required = 1, rc = -1;

	if (json_is_object(entry)) {
		pat = json_object_get(entry, "pattern");
		req = json_object_get(entry, "required");
	}
	if ((ps = json_string_value(pat)) == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "input '%s': secondaryFiles "
		    "pattern is not a string", id);
	if (expr_has_expression(ps)) {
		/* its value depends on the primary's contents and inputs,
		 * known only once everything is local */
		if (json_object_get(p, "secondaryFiles") != NULL)
			return 0;
		return err_set(err, CWLD_EXIT_UNSUPPORTED, "input '%s': "
		    "secondaryFiles pattern '%s' is an expression, which cwld "
		    "cannot apply to an s3:// File ('%s'): list its "
		    "secondaryFiles in the job", id, ps, uri);
	}
	/* an expression for "required" is left to params, which evaluates
	 * it with the copies local: fetched if there, else not */
	if (json_is_boolean(req) || json_is_string(req))
		required = json_is_true(req);
	if ((pl = fetch_find(f, uri)) == NULL)
		return 0;
	kb = strrchr(pl->key, '/') != NULL ? strrchr(pl->key, '/') + 1 :
	    pl->key;
	name = params_secondary_name(kb, ps);
	lbase = fs_basename(pl->local);
	lname = params_secondary_name(lbase, ps);
	/* "pattern?" is the short form of required: false */
	if ((n = strlen(name)) > 0 && name[n - 1] == '?') {
		name[n - 1] = '\0';
		lname[strlen(lname) - 1] = '\0';
		required = 0;
	}
	if (*name == '\0' || params_secondary_has(p, lname)) {
		rc = 0;
		goto out;
	}
	if (!fetch_safe_rel(name) || !fetch_safe_rel(lname)) {
		err_set(err, CWLD_EXIT_USAGE, "input '%s': secondaryFiles "
		    "pattern '%s' of '%s' gives '%s', which cannot name a local "
		    "file", id, ps, uri, lname);
		goto out;
	}
	key = xasprintf("%.*s%s", (int)(kb - pl->key), pl->key, name);
	ldir = fs_dirname(pl->local);
	local = fs_join(ldir, lname);
	for (i = 0; i < f->nlocs; i++) {
		if (strcmp(f->locs[i].local, local) == 0) {
			rc = 0; /* the same primary through another input */
			goto out;
		}
	}
	/* pl moves when the array grows */
	bucket = xstrdup(pl->bucket);
	l = fetch_add_loc(f);
	l->secondary = 1;
	l->optional = !required;
	l->uri = xasprintf("s3://%s/%s", bucket, key);
	l->bucket = bucket;
	l->key = key;
	key = NULL;
	l->local = local;
	local = NULL;
	l->what = xasprintf("input '%s': secondary file '%s' of '%s'", id,
	    lname, uri);
	rc = 0;
out:
	free(name);
	free(lname);
	free(lbase);
	free(ldir);
	free(key);
	free(local);
	return rc;
}

/* Whether value v can be of type t (one branch of a union): enough to
 * follow the branch params will fill. */
static int
fetch_type_fits(const json_t *t, const json_t *v)
{
	const char *name, *cls;

	if (json_is_object(t)) {
		if ((name = json_string_value(json_object_get(t, "type"))) ==
		    NULL)
			return fetch_type_fits(json_object_get(t, "type"), v);
		if (strcmp(name, "array") == 0)
			return json_is_array(v);
		if (strcmp(name, "record") == 0)
			return json_is_object(v) &&
			    json_object_get(v, "class") == NULL;
		return fetch_type_fits(json_object_get(t, "type"), v);
	}
	if ((name = json_string_value(t)) == NULL)
		return 0;
	cls = json_string_value(json_object_get(v, "class"));
	return (strcmp(name, "File") == 0 || strcmp(name, "Directory") == 0) &&
	    cls != NULL && strcmp(name, cls) == 0;
}

/* The secondaryFiles of value v of type t, spec the input or record field
 * that declares them, as params applies them to a local value: through
 * arrays and record fields, each s3:// File with its spec's patterns. */
static int
fetch_sf_walk(struct fetch *f, const char *id, const json_t *t, json_t *v,
    const json_t *spec, struct cwld_err *err)
{
	const json_t *e, *sf;
	const char *name;
	json_t *item;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_array(t)) {
		json_array_foreach(t, i, e) {
			if (fetch_type_fits(e, v))
				return fetch_sf_walk(f, id, e, v, spec, err);
		}
		return 0;
	}
	if (json_is_object(t)) {
		name = json_string_value(json_object_get(t, "type"));
		if (name != NULL && strcmp(name, "array") == 0) {
			json_array_foreach(v, i, item) {
				if (fetch_sf_walk(f, id, json_object_get(t,
				    "items"), item, spec, err) != 0)
					return -1;
			}
			return 0;
		}
		if (name != NULL && strcmp(name, "record") == 0) {
			json_array_foreach(json_object_get(t, "fields"), i, e) {
				name = json_string_value(json_object_get(e,
				    "name"));
				item = name != NULL ? json_object_get(v, name) :
				    NULL;
				if (fetch_sf_walk(f, id, json_object_get(e,
				    "type"), item, e, err) != 0)
					return -1;
			}
			return 0;
		}
		return fetch_sf_walk(f, id, json_object_get(t, "type"), v, spec,
		    err);
	}
	sf = json_object_get(spec, "secondaryFiles");
	if (!fetch_type_fits(t, v) || !fetch_is_s3(v) || sf == NULL ||
	    json_is_null(sf) || fetch_strcmp0(json_string_value(
	    json_object_get(v, "class")), "File") != 0)
		return 0;
	if (!json_is_array(sf))
		return fetch_secondary_one(f, id, v, sf, err);
	json_array_foreach(sf, i, e) {
		if (fetch_secondary_one(f, id, v, e, err) != 0)
			return -1;
	}
	return 0;
}

/* The secondaryFiles of the process's own inputs next to their s3://
 * Files (in the job's value or the default it relies on; in arrays and
 * record fields too): params discovers those of a top-level input next to
 * a local copy, and nowhere else (a step's File brings its secondaryFiles
 * along), so these are all that must be fetched. */
static int
fetch_collect_secondary(struct fetch *f, struct cwld_err *err)
{
	const char *id;
	json_t *in, *v;
	size_t i;

	json_array_foreach(json_object_get(f->process, "inputs"), i, in) {
		id = json_string_value(json_object_get(in, "id"));
		if (id == NULL)
			continue;
		if ((v = json_object_get(f->job, id)) == NULL)
			v = json_object_get(in, "default");
		if (fetch_sf_walk(f, id, json_object_get(in, "type"), v, in,
		    err) != 0)
			return -1;
	}
	return 0;
}

static void fetch_pump(struct fetch *f);

static void
fetch_task_free(struct fetch_task *t)
{
	if (t == NULL)
		return;
	free(t->key);
	free(t->path);
	free(t->error);
	free(t);
}

static void
fetch_enqueue(struct fetch *f, struct fetch_loc *l, int list, const char *key,
    const char *path)
{
	struct fetch_task *t = xcalloc(1, sizeof *t);

	t->f = f;
	t->loc = l;
	t->list = list;
	t->key = xstrdup(key);
	t->path = xstrdup(path);
	TAILQ_INSERT_TAIL(&f->queue, t, entry);
}

/* Drops the tasks still queued and cancels those running (their temporary
 * files go with them). */
static void
fetch_stop_all(struct fetch *f)
{
	struct fetch_task *t;

	while ((t = TAILQ_FIRST(&f->queue)) != NULL) {
		TAILQ_REMOVE(&f->queue, t, entry);
		fetch_task_free(t);
	}
	while ((t = TAILQ_FIRST(&f->running)) != NULL) {
		TAILQ_REMOVE(&f->running, t, entry);
		s3_cancel(t->op);
		fetch_task_free(t);
	}
}

/* Stops the rest and reports the first error from the loop. */
static void
fetch_fail(struct fetch *f, const char *msg)
{
	if (f->error != NULL)
		return;
	f->error = xstrdup(msg);
	fetch_stop_all(f);
	f->nrunning = 0;
	event_active(f->done_ev, EV_TIMEOUT, 0);
}

static int
fetch_rewrite_fn(json_t *obj, void *arg)
{
	struct fetch *f = arg;
	struct fetch_loc *l;
	char *uri;

	if (!fetch_is_s3(obj))
		return 0;
	l = fetch_find(f, json_string_value(json_object_get(obj, "location")));
	if (l == NULL)
		return 0;
	uri = uri_from_path(l->local);
	json_object_set_new(obj, "location", json_string(uri));
	free(uri);
	json_object_del(obj, "path");
	if (l->is_dir)
		json_object_del(obj, "listing");
	return 0;
}

static void
fetch_check_done(struct fetch *f)
{
	if (f->error != NULL || f->nrunning > 0 || !TAILQ_EMPTY(&f->queue))
		return;
	fetch_walk(f->process, f->job, fetch_rewrite_fn, f);
	event_active(f->done_ev, EV_TIMEOUT, 0);
}

static void
fetch_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;

	(void)fd;
	(void)what;
	f->cb(f->arg, f->error);
}

static void
fetch_get_done(void *arg, const struct s3_result *r)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;
	char *msg;

	TAILQ_REMOVE(&f->running, t, entry);
	f->nrunning--;
	t->op = NULL;
	if (r->error != NULL && t->loc->optional &&
	    (strcmp(r->code, "NoSuchKey") == 0 || (r->status == 404 &&
	    *r->code == '\0'))) {
		log_debug("%s: not in the bucket, skipped", t->loc->what);
		fetch_task_free(t);
		fetch_pump(f);
		fetch_check_done(f);
		return;
	}
	if (r->error != NULL) {
		if (t->loc->what != NULL) {
			msg = xasprintf("%s: %s", t->loc->what, r->error);
			fetch_fail(f, msg);
			free(msg);
		} else {
			fetch_fail(f, r->error);
		}
		fetch_task_free(t);
		return;
	}
	f->objects++;
	f->bytes += r->size;
	log_debug("fetched s3://%s/%s (%" PRId64 " bytes) to %s",
	    t->loc->bucket, t->key, r->size, t->path);
	fetch_task_free(t);
	fetch_pump(f);
	fetch_check_done(f);
}

static int
fetch_list_each(void *arg, const struct s3_object *o)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;
	struct cwld_err err = { 0, "" };
	const char *rel = o->key + strlen(t->loc->key);
	char *path = NULL, *dir = NULL;
	size_t n;

	if (o->is_prefix || strncmp(o->key, t->loc->key,
	    strlen(t->loc->key)) != 0 || *rel == '\0')
		return 0;
	n = strlen(rel);
	path = fs_join(t->path, rel);
	if (rel[n - 1] == '/') {
		/* an empty "directory" object: the folder alone */
		char *r = xstrndup(rel, n - 1);
		int ok = fetch_safe_rel(r);

		free(r);
		if (!ok)
			goto unsafe;
		if (fs_mkdir_p(path, &err) != 0)
			goto fail;
		free(path);
		return 0;
	}
	if (!fetch_safe_rel(rel))
		goto unsafe;
	dir = fs_dirname(path);
	if (fs_mkdir_p(dir, &err) != 0)
		goto fail;
	/* started once the listing is complete: starting them here, inside
	 * the listing's callback, could fail and stop the listing itself */
	fetch_enqueue(f, t->loc, 0, o->key, path);
	free(dir);
	free(path);
	return 0;
unsafe:
	err_set(&err, CWLD_EXIT_USAGE, "s3: LIST %s: key '%s' cannot be a "
	    "local path (empty, '.' or '..' segment)", t->loc->uri, o->key);
fail:
	free(dir);
	free(path);
	/* the listing then ends with an error of its own: this one is why */
	free(t->error);
	t->error = xstrdup(err.msg);
	return -1;
}

static void
fetch_list_done(void *arg, const struct s3_result *r)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;

	TAILQ_REMOVE(&f->running, t, entry);
	f->nrunning--;
	t->op = NULL;
	if (r->error != NULL) {
		fetch_fail(f, t->error != NULL ? t->error : r->error);
		fetch_task_free(t);
		return;
	}
	fetch_task_free(t);
	fetch_pump(f);
	fetch_check_done(f);
}

static void
fetch_pump(struct fetch *f)
{
	struct cwld_err err = { 0, "" };
	struct fetch_task *t;

	while (f->error == NULL && f->nrunning < FETCH_PARALLEL &&
	    (t = TAILQ_FIRST(&f->queue)) != NULL) {
		TAILQ_REMOVE(&f->queue, t, entry);
		TAILQ_INSERT_TAIL(&f->running, t, entry);
		f->nrunning++;
		if (t->list)
			t->op = s3_list(f->s3, t->loc->bucket, t->key, NULL, 0,
			    fetch_list_each, fetch_list_done, t, &err);
		else
			t->op = s3_get(f->s3, t->loc->bucket, t->key, t->path,
			    fetch_get_done, t, &err);
		if (t->op == NULL) {
			TAILQ_REMOVE(&f->running, t, entry);
			f->nrunning--;
			fetch_task_free(t);
			fetch_fail(f, err.msg);
			return;
		}
	}
}

struct fetch *
fetch_start(struct event_base *base, json_t *process, json_t *job,
    const char *dir, const struct s3_config *cfg, fetch_cb cb, void *arg,
    struct cwld_err *err)
{
	struct fetch *f = xcalloc(1, sizeof *f);
	struct fetch_collect c = { f, err };
	char *parent = NULL;
	size_t i;

	f->base = base;
	f->process = process;
	f->job = job;
	f->dir = xstrdup(dir);
	f->cb = cb;
	f->arg = arg;
	TAILQ_INIT(&f->queue);
	TAILQ_INIT(&f->running);
	if (fetch_walk(process, job, fetch_collect_fn, &c) != 0 ||
	    fetch_collect_secondary(f, err) != 0)
		goto fail;
	f->done_ev = event_new(base, -1, 0, fetch_done_cb, f);
	if (f->done_ev == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "fetch: cannot create an event");
		goto fail;
	}
	if ((f->s3 = s3_new(base, cfg, err)) == NULL)
		goto fail;
	for (i = 0; i < f->nlocs; i++) {
		struct fetch_loc *l = &f->locs[i];

		parent = fs_dirname(l->local);
		if (fs_mkdir_p(l->is_dir ? l->local : parent, err) != 0)
			goto fail;
		free(parent);
		parent = NULL;
		fetch_enqueue(f, l, l->is_dir, l->key, l->local);
	}
	fetch_pump(f);
	if (f->error != NULL) {
		err_set(err, CWLD_EXIT_FAILED, "%s", f->error);
		goto fail;
	}
	/* nothing to fetch: done at the loop's next turn */
	fetch_check_done(f);
	return f;
fail:
	free(parent);
	fetch_free(f);
	return NULL;
}

void
fetch_free(struct fetch *f)
{
	size_t i;

	if (f == NULL)
		return;
	fetch_stop_all(f);
	s3_free(f->s3);
	if (f->done_ev != NULL)
		event_free(f->done_ev);
	for (i = 0; i < f->nlocs; i++) {
		free(f->locs[i].uri);
		free(f->locs[i].bucket);
		free(f->locs[i].key);
		free(f->locs[i].local);
		free(f->locs[i].what);
	}
	free(f->locs);
	free(f->dir);
	free(f->error);
	free(f);
}

void
fetch_stats(const struct fetch *f, long *objects, long long *bytes)
{
	*objects = f->objects;
	*bytes = f->bytes;
}

/* Remote inputs: the File and Directory objects of a run whose location is
 * s3:// are downloaded into the run's input area when something needs
 * their content: the step that gets one (fetch_value, from the job's
 * launch), the run's own inputs that load contents or listings (at its
 * start, fetch_inputs), the outputs a run passes straight through. Each
 * location (and basename) is downloaded once per run, whoever asks; a
 * Directory is listed page by page, then each object fetched. At the
 * start every File is looked at (HEAD) so that a missing object fails the
 * run before its first step and expressions see its size. Transfers run
 * concurrently on the loop; what s3:// means on the wire is the s3
 * module's. */
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
#include "cwld/scheduler.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define FETCH_PARALLEL 8

/* Where a location's metadata (HEAD) or content (GET, LIST) stands. */
enum fetch_state {
	FETCH_NONE = 0,
	FETCH_BUSY,
	FETCH_DONE,
	FETCH_ABSENT,    /* an optional object that is not there */
	FETCH_FAILED,
};

/* One copy: a location under one basename. */
struct fetch_loc {
	char *uri;
	char *bucket;
	char *key;       /* a Directory's ends with '/' (or is "") */
	char *name;      /* the copy's basename */
	int is_dir;
	char *local;     /* dir/N/NAME, or next to its primary's copy */
	int optional;    /* a missing object is ABSENT, not an error */
	char *what;      /* what its errors are about, or NULL */
	enum fetch_state meta, data;
	char *error;     /* why it FAILED */
	int64_t size;    /* from HEAD or GET */
	int tasks;       /* content transfers outstanding (a listing too) */
	int listed;      /* a Directory's listing has ended */
};

/* FETCH_EXPLAIN: a listing of one key after a HEAD failed, whose answer
 * has no body: its error, or its silence, says which of bucket, key or
 * credentials is wrong. */
enum fetch_kind { FETCH_HEAD, FETCH_GET, FETCH_LIST, FETCH_EXPLAIN };

struct fetch_task {
	TAILQ_ENTRY(fetch_task) entry;
	struct fetch *f;
	struct fetch_loc *loc;
	enum fetch_kind kind;
	char *key;
	char *path;
	struct s3_op *op;
	char *error;     /* why a listing was stopped; an explanation's
	                  * HEAD error */
	int seen;        /* an explanation's listing had an object */
	int found;       /* an explanation's key is there */
};

TAILQ_HEAD(fetch_tasks, fetch_task);

struct fetch_need {
	struct fetch_loc *loc;
	int data;        /* the content, else the metadata */
};

/* A secondary file a start found for a primary that stays remote: added
 * to its "secondaryFiles" when there. */
struct fetch_sec {
	json_t *primary;
	struct fetch_loc *ploc, *loc;
};

struct fetch_op {
	TAILQ_ENTRY(fetch_op) entry;
	struct fetch *f;
	json_t *value;            /* fetch_value's */
	json_t *process, *job;    /* fetch_inputs' */
	struct fetch_need *needs;
	size_t nneeds;
	struct fetch_sec *secs;
	size_t nsecs;
	fetch_cb cb;
	void *arg;
};

TAILQ_HEAD(fetch_ops, fetch_op);

struct fetch {
	struct event_base *base;
	const struct s3_config *cfg;
	struct s3 *s3;
	char *dir;
	struct fetch_loc **locs;
	size_t nlocs, nslots;
	struct fetch_tasks queue, running;
	int nrunning;
	struct fetch_ops ops;
	struct event *settle_ev;
	char *stopped;            /* fetch_stop's reason */
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


int
fetch_has_remote(json_t *value)
{
	int n = 0;

	params_walk_files(value, fetch_count_fn, &n);
	return n > 0;
}

/* New string: the name of obj's copy: its basename, else the last segment
 * of its key (the bucket's name for the whole bucket). */
static char *
fetch_obj_name(const json_t *obj, const char *bucket, const char *key)
{
	const char *bn = json_string_value(json_object_get(obj, "basename"));
	const char *s;
	size_t n;

	if (bn != NULL)
		return xstrdup(bn);
	n = strlen(key);
	while (n > 0 && key[n - 1] == '/')
		n--;
	for (s = key + n; s > key && s[-1] != '/'; s--)
		;
	if (s == key + n)
		return xstrdup(bucket);
	return xstrndup(s, (size_t)(key + n - s));
}

static struct fetch_loc *
fetch_find(struct fetch *f, const char *uri, const char *name)
{
	size_t i;

	for (i = 0; i < f->nlocs; i++)
		if (strcmp(f->locs[i]->uri, uri) == 0 &&
		    strcmp(f->locs[i]->name, name) == 0)
			return f->locs[i];
	return NULL;
}

static struct fetch_loc *
fetch_add_loc(struct fetch *f)
{
	struct fetch_loc *l = xcalloc(1, sizeof *l);

	f->locs = xreallocarray(f->locs, f->nlocs + 1, sizeof *f->locs);
	f->locs[f->nlocs++] = l;
	return l;
}

static void
fetch_loc_free(struct fetch_loc *l)
{
	free(l->uri);
	free(l->bucket);
	free(l->key);
	free(l->name);
	free(l->local);
	free(l->what);
	free(l->error);
	free(l);
}

/* The copy an s3:// File or Directory object names (made the first time:
 * dir/N/NAME); NULL with err for a location or basename that cannot be
 * one. */
static struct fetch_loc *
fetch_loc_for(struct fetch *f, const json_t *obj, struct cwld_err *err)
{
	const char *uri = json_string_value(json_object_get(obj, "location"));
	const char *cls = json_string_value(json_object_get(obj, "class"));
	struct fetch_loc *l = NULL;
	char *bucket = NULL, *key = NULL, *name = NULL, *num;

	if (s3_uri_parse(uri, &bucket, &key, err) != 0)
		return NULL;
	name = fetch_obj_name(obj, bucket, key);
	if ((l = fetch_find(f, uri, name)) != NULL)
		goto out;
	if (fetch_strcmp0(cls, "File") == 0 && (*key == '\0' ||
	    key[strlen(key) - 1] == '/')) {
		err_set(err, CWLD_EXIT_USAGE, "File '%s': an s3:// File "
		    "names an object, not a prefix", uri);
		goto out;
	}
	if (strchr(name, '/') != NULL || !fetch_safe_rel(name)) {
		err_set(err, CWLD_EXIT_USAGE, "'%s': basename '%s' cannot "
		    "name a local file", uri, name);
		goto out;
	}
	l = fetch_add_loc(f);
	l->uri = xstrdup(uri);
	l->bucket = bucket;
	bucket = NULL;
	l->is_dir = fetch_strcmp0(cls, "Directory") == 0;
	if (l->is_dir && *key != '\0' && key[strlen(key) - 1] != '/') {
		l->key = xasprintf("%s/", key);
	} else {
		l->key = key;
		key = NULL;
	}
	l->name = name;
	name = NULL;
	/* a slot a daemon before a restart used may hold a copy that a
	 * resumed step's recorded outputs still point at */
	for (num = NULL; num == NULL || fs_exists(num);) {
		free(num);
		num = xasprintf("%s/%zu", f->dir, ++f->nslots);
	}
	l->local = fs_join(num, l->name);
	free(num);
out:
	free(bucket);
	free(key);
	free(name);
	return l;
}

/* --- transfers ----------------------------------------------------------- */

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
fetch_enqueue(struct fetch *f, struct fetch_loc *l, enum fetch_kind kind,
    const char *key, const char *path)
{
	struct fetch_task *t = xcalloc(1, sizeof *t);

	t->f = f;
	t->loc = l;
	t->kind = kind;
	t->key = xstrdup(key);
	t->path = path != NULL ? xstrdup(path) : NULL;
	if (kind == FETCH_GET || kind == FETCH_LIST)
		l->tasks++;
	TAILQ_INSERT_TAIL(&f->queue, t, entry);
}

/* Drops loc's tasks (all of them when loc is NULL), queued or running
 * (their temporary files go with them). */
static void
fetch_drop_tasks(struct fetch *f, const struct fetch_loc *loc)
{
	struct fetch_task *t, *next;

	for (t = TAILQ_FIRST(&f->queue); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (loc != NULL && t->loc != loc)
			continue;
		TAILQ_REMOVE(&f->queue, t, entry);
		fetch_task_free(t);
	}
	for (t = TAILQ_FIRST(&f->running); t != NULL; t = next) {
		next = TAILQ_NEXT(t, entry);
		if (loc != NULL && t->loc != loc)
			continue;
		TAILQ_REMOVE(&f->running, t, entry);
		f->nrunning--;
		s3_cancel(t->op);
		fetch_task_free(t);
	}
}

/* The waits are looked at again from the loop. */
static void
fetch_settle_soon(struct fetch *f)
{
	event_active(f->settle_ev, EV_TIMEOUT, 0);
}

/* loc's content (or metadata) failed with msg: its other transfers stop,
 * the waits for it learn why. */
static void
fetch_loc_fail(struct fetch *f, struct fetch_loc *l, int data,
    const char *msg)
{
	if (data) {
		if (l->data == FETCH_FAILED)
			return;
		l->data = FETCH_FAILED;
		fetch_drop_tasks(f, l);
	} else {
		l->meta = FETCH_FAILED;
	}
	free(l->error);
	l->error = l->what != NULL ? xasprintf("%s: %s", l->what, msg) :
	    xstrdup(msg);
	fetch_settle_soon(f);
}

/* Whether S3 said the object is not there (GET's NoSuchKey, HEAD's 404). */
static int
fetch_not_there(const struct s3_result *r)
{
	return strcmp(r->code, "NoSuchKey") == 0 || r->status == 404;
}

static void
fetch_task_done(struct fetch_task *t)
{
	struct fetch *f = t->f;

	TAILQ_REMOVE(&f->running, t, entry);
	f->nrunning--;
	t->op = NULL;
}

static void
fetch_head_done(void *arg, const struct s3_result *r)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;
	struct fetch_loc *l = t->loc;

	fetch_task_done(t);
	if (r->error != NULL && l->optional && fetch_not_there(r)) {
		log_debug("%s: not in the bucket, skipped", l->what);
		l->meta = FETCH_ABSENT;
	} else if (r->error != NULL && (r->status == 403 || r->status == 404)) {
		fetch_enqueue(f, l, FETCH_EXPLAIN, l->key, NULL);
		TAILQ_LAST(&f->queue, fetch_tasks)->error = xstrdup(r->error);
	} else if (r->error != NULL) {
		fetch_loc_fail(f, l, 0, r->error);
	} else {
		l->meta = FETCH_DONE;
		l->size = r->size;
	}
	fetch_task_free(t);
	fetch_pump(f);
	fetch_settle_soon(f);
}

/* A Directory's content is in once its listing has ended and every
 * object listed is. */
static void
fetch_loc_progress(struct fetch *f, struct fetch_loc *l)
{
	if (l->data == FETCH_BUSY && l->tasks == 0 && (!l->is_dir || l->listed))
		l->data = FETCH_DONE;
	fetch_settle_soon(f);
}

static void
fetch_get_done(void *arg, const struct s3_result *r)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;
	struct fetch_loc *l = t->loc;

	fetch_task_done(t);
	l->tasks--;
	if (r->error != NULL && !l->is_dir && l->optional && fetch_not_there(r)) {
		log_debug("%s: not in the bucket, skipped", l->what);
		l->data = FETCH_ABSENT;
		fetch_settle_soon(f);
	} else if (r->error != NULL) {
		fetch_loc_fail(f, l, 1, r->error);
	} else {
		f->objects++;
		f->bytes += r->size;
		if (!l->is_dir)
			l->size = r->size;
		log_debug("fetched s3://%s/%s (%" PRId64 " bytes) to %s",
		    l->bucket, t->key, r->size, t->path);
		fetch_loc_progress(f, l);
	}
	fetch_task_free(t);
	fetch_pump(f);
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
	/* started once this page is handled: starting them here, inside
	 * the listing's callback, could fail and stop the listing itself */
	fetch_enqueue(f, t->loc, FETCH_GET, o->key, path);
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
	struct fetch_loc *l = t->loc;

	fetch_task_done(t);
	l->tasks--;
	if (r->error != NULL) {
		fetch_loc_fail(f, l, 1, t->error != NULL ? t->error : r->error);
	} else {
		l->listed = 1;
		fetch_loc_progress(f, l);
	}
	fetch_task_free(t);
	fetch_pump(f);
}

static int
fetch_explain_each(void *arg, const struct s3_object *o)
{
	struct fetch_task *t = arg;

	t->seen = 1;
	t->found = strcmp(o->key, t->key) == 0;
	return -1; /* one is enough: the listing ends here */
}

static void
fetch_explain_done(void *arg, const struct s3_result *r)
{
	struct fetch_task *t = arg;
	struct fetch *f = t->f;
	char *msg;

	fetch_task_done(t);
	if ((r->error == NULL || t->seen) && !t->found) {
		/* S3's own words, which a HEAD cannot carry */
		msg = xasprintf("s3: HEAD %s: NoSuchKey: The specified key does "
		    "not exist.", t->loc->uri);
		fetch_loc_fail(f, t->loc, 0, msg);
		free(msg);
	} else if (r->error != NULL && !t->seen && *r->code != '\0' &&
	    strcmp(r->code, "AccessDenied") != 0) {
		/* NoSuchBucket, SignatureDoesNotMatch, InvalidAccessKeyId...;
		 * a key that may read but not list says no more than HEAD */
		fetch_loc_fail(f, t->loc, 0, r->error);
	} else {
		fetch_loc_fail(f, t->loc, 0, t->error);
	}
	fetch_task_free(t);
	fetch_pump(f);
}

/* The client, made on first use. */
static struct s3 *
fetch_client(struct fetch *f, struct cwld_err *err)
{
	if (f->s3 == NULL)
		f->s3 = s3_new(f->base, f->cfg, err);
	return f->s3;
}

static void
fetch_pump(struct fetch *f)
{
	struct cwld_err err = { 0, "" };
	struct fetch_task *t;
	struct fetch_loc *l;

	while (f->nrunning < FETCH_PARALLEL &&
	    (t = TAILQ_FIRST(&f->queue)) != NULL) {
		TAILQ_REMOVE(&f->queue, t, entry);
		TAILQ_INSERT_TAIL(&f->running, t, entry);
		f->nrunning++;
		l = t->loc;
		if (fetch_client(f, &err) == NULL)
			t->op = NULL;
		else if (t->kind == FETCH_LIST)
			t->op = s3_list(f->s3, l->bucket, t->key, NULL, 0,
			    fetch_list_each, fetch_list_done, t, &err);
		else if (t->kind == FETCH_GET)
			t->op = s3_get(f->s3, l->bucket, t->key, t->path,
			    fetch_get_done, t, &err);
		else if (t->kind == FETCH_EXPLAIN)
			t->op = s3_list(f->s3, l->bucket, t->key, NULL, 1,
			    fetch_explain_each, fetch_explain_done, t, &err);
		else
			t->op = s3_head(f->s3, l->bucket, t->key,
			    fetch_head_done, t, &err);
		if (t->op == NULL) {
			TAILQ_REMOVE(&f->running, t, entry);
			f->nrunning--;
			if (t->kind == FETCH_GET || t->kind == FETCH_LIST)
				l->tasks--;
			fetch_loc_fail(f, l, t->kind == FETCH_GET ||
			    t->kind == FETCH_LIST, err.msg);
			fetch_task_free(t);
		}
	}
}

/* Starts what a need of loc asks for, when nothing has yet. */
static void
fetch_want(struct fetch *f, struct fetch_loc *l, int data)
{
	struct cwld_err err = { 0, "" };
	char *parent;

	if (f->stopped != NULL && (data ? l->data : l->meta) == FETCH_NONE) {
		fetch_loc_fail(f, l, data, f->stopped);
		return;
	}
	if (!data) {
		/* a copy under way tells the size too */
		if (l->meta == FETCH_NONE && l->data == FETCH_NONE) {
			l->meta = FETCH_BUSY;
			fetch_enqueue(f, l, FETCH_HEAD, l->key, NULL);
		}
		return;
	}
	if (l->data != FETCH_NONE)
		return;
	parent = fs_dirname(l->local);
	if (fs_mkdir_p(l->is_dir ? l->local : parent, &err) != 0) {
		free(parent);
		fetch_loc_fail(f, l, 1, err.msg);
		return;
	}
	free(parent);
	l->data = FETCH_BUSY;
	fetch_enqueue(f, l, l->is_dir ? FETCH_LIST : FETCH_GET, l->key,
	    l->local);
}

/* --- waits --------------------------------------------------------------- */

static struct fetch_op *
fetch_op_new(struct fetch *f, fetch_cb cb, void *arg)
{
	struct fetch_op *op = xcalloc(1, sizeof *op);

	op->f = f;
	op->cb = cb;
	op->arg = arg;
	return op;
}

static void
fetch_op_free(struct fetch_op *op)
{
	size_t i;

	for (i = 0; i < op->nsecs; i++)
		json_decref(op->secs[i].primary);
	free(op->secs);
	free(op->needs);
	free(op);
}

/* op needs loc's content (data) or only its metadata; a need for the
 * content includes the other. */
static void
fetch_need(struct fetch_op *op, struct fetch_loc *l, int data)
{
	size_t i;

	for (i = 0; i < op->nneeds; i++) {
		if (op->needs[i].loc == l) {
			op->needs[i].data |= data;
			return;
		}
	}
	op->needs = xreallocarray(op->needs, op->nneeds + 1, sizeof *op->needs);
	op->needs[op->nneeds].loc = l;
	op->needs[op->nneeds].data = data;
	op->nneeds++;
}

static const struct fetch_need *
fetch_needs(const struct fetch_op *op, const struct fetch_loc *l)
{
	size_t i;

	for (i = 0; i < op->nneeds; i++)
		if (op->needs[i].loc == l)
			return &op->needs[i];
	return NULL;
}

/* 1 when every need of op is met, 0 while some are under way, -1 when
 * one failed (*why: its error). */
static int
fetch_op_state(const struct fetch_op *op, const char **why)
{
	const struct fetch_loc *l;
	size_t i;
	int ready = 1;

	for (i = 0; i < op->nneeds; i++) {
		l = op->needs[i].loc;
		if (l->data == FETCH_DONE || l->data == FETCH_ABSENT)
			continue;
		if (l->data == FETCH_FAILED || (!op->needs[i].data &&
		    l->meta == FETCH_FAILED)) {
			*why = l->error;
			return -1;
		}
		if (op->needs[i].data || (l->meta != FETCH_DONE &&
		    l->meta != FETCH_ABSENT))
			ready = 0;
	}
	return ready;
}

/* The copy an s3:// object names, when the run has made (or planned) one;
 * NULL for other objects. */
static const struct fetch_loc *
fetch_lookup(struct fetch *f, const json_t *obj)
{
	const char *loc = json_string_value(json_object_get(obj, "location"));
	const struct fetch_loc *l = NULL;
	char *bucket = NULL, *key = NULL, *name;

	if (!fetch_is_s3(obj) || s3_uri_parse(loc, &bucket, &key, NULL) != 0)
		return NULL;
	name = fetch_obj_name(obj, bucket, key);
	l = fetch_find(f, loc, name);
	free(bucket);
	free(key);
	free(name);
	return l;
}

/* An s3:// object whose copy is made points at it: completed there (path,
 * size, name parts) for a step's value, left to params for the run's
 * inputs. At the start, one that stays remote is described instead: the
 * parts of its name and, for a File looked at, its size. */
struct fetch_rewrite {
	struct fetch *f;
	int complete;       /* a step's value, else the run's inputs */
	struct cwld_err *err;
};

static int
fetch_rewrite_fn(json_t *obj, void *arg)
{
	struct fetch_rewrite *rw = arg;
	const struct fetch_loc *l = fetch_lookup(rw->f, obj);
	char *uri, *root, *ext;

	if (l == NULL)
		return 0;
	if (l->data == FETCH_DONE) {
		uri = uri_from_path(l->local);
		json_object_set_new(obj, "location", json_string(uri));
		free(uri);
		json_object_del(obj, "path");
		if (l->is_dir)
			json_object_del(obj, "listing");
		if (rw->complete && params_complete_file_ex(obj, NULL, 0,
		    PARAMS_LISTING_NONE, rw->err) != 0)
			return -1;
		return 0;
	}
	if (rw->complete)
		return 0;
	json_object_set_new(obj, "basename", json_string(l->name));
	if (l->is_dir)
		return 0;
	params_split_name(l->name, &root, &ext);
	json_object_set_new(obj, "nameroot", json_string(root));
	json_object_set_new(obj, "nameext", json_string(ext));
	free(root);
	free(ext);
	if (l->meta == FETCH_DONE)
		json_object_set_new(obj, "size", json_integer(l->size));
	return 0;
}

/* A start's waits are met: the secondary files found for primaries that
 * stay remote are listed with them, then what was downloaded is pointed
 * at and what was not described (fetch_rewrite_fn). */
static void
fetch_inputs_apply(struct fetch_op *op)
{
	struct fetch_rewrite rw = { op->f, 0, NULL };
	const struct fetch_sec *s;
	json_t *e;
	size_t i;

	for (i = 0; i < op->nsecs; i++) {
		s = &op->secs[i];
		if (s->ploc->data == FETCH_DONE || (s->loc->meta != FETCH_DONE &&
		    s->loc->data != FETCH_DONE) ||
		    params_secondary_has(s->primary, s->loc->name))
			continue;
		/* described by the walk below, as the others */
		e = json_pack("{s:s, s:s, s:s}", "class", "File", "location",
		    s->loc->uri, "basename", s->loc->name);
		if (!json_is_array(json_object_get(s->primary,
		    "secondaryFiles")))
			json_object_set_new(s->primary, "secondaryFiles",
			    json_array());
		json_array_append_new(json_object_get(s->primary,
		    "secondaryFiles"), e);
	}
	fetch_walk(op->process, op->job, fetch_rewrite_fn, &rw);
}

/* Ends the waits whose needs are met or failed, one at a time: a
 * callback may start or cancel others. */
static void
fetch_settle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	struct cwld_err err = { 0, "" };
	struct fetch_rewrite rw = { f, 1, &err };
	struct fetch_op *op;
	const char *why = NULL;
	char *msg;
	int st = 0;

	(void)fd;
	(void)what;
	for (;;) {
		TAILQ_FOREACH(op, &f->ops, entry) {
			if ((st = fetch_op_state(op, &why)) != 0)
				break;
		}
		if (op == NULL)
			return;
		TAILQ_REMOVE(&f->ops, op, entry);
		if (st > 0 && op->value != NULL) {
			err.msg[0] = '\0';
			if (params_walk_files(op->value, fetch_rewrite_fn,
			    &rw) != 0) {
				why = err.msg;
				st = -1;
			}
		} else if (st > 0) {
			fetch_inputs_apply(op);
		}
		/* a copy: the callback may stop the fetch, which replaces
		 * the errors of locations still under way */
		msg = st > 0 ? NULL : xstrdup(why != NULL ? why : "failed");
		op->cb(op->arg, msg);
		free(msg);
		fetch_op_free(op);
	}
}

/* Starts what op needs and adds it to the waits; NULL with err (op freed)
 * when the client cannot be made. */
static struct fetch_op *
fetch_op_start(struct fetch *f, struct fetch_op *op, struct cwld_err *err)
{
	size_t i;
	int idle = 1;

	for (i = 0; i < op->nneeds; i++) {
		const struct fetch_loc *l = op->needs[i].loc;

		if (op->needs[i].data ? l->data == FETCH_NONE :
		    l->meta == FETCH_NONE && l->data == FETCH_NONE)
			idle = 0;
	}
	/* bad settings fail the caller now, not from the loop */
	if (!idle && f->stopped == NULL && fetch_client(f, err) == NULL) {
		fetch_op_free(op);
		return NULL;
	}
	for (i = 0; i < op->nneeds; i++)
		fetch_want(f, op->needs[i].loc, op->needs[i].data);
	TAILQ_INSERT_TAIL(&f->ops, op, entry);
	fetch_pump(f);
	fetch_settle_soon(f);
	return op;
}

void
fetch_op_cancel(struct fetch_op *op)
{
	if (op == NULL)
		return;
	TAILQ_REMOVE(&op->f->ops, op, entry);
	fetch_op_free(op);
}

struct fetch_value_collect {
	struct fetch_op *op;
	struct cwld_err *err;
};

static int
fetch_value_fn(json_t *obj, void *arg)
{
	struct fetch_value_collect *c = arg;
	struct fetch_loc *l;

	if (!fetch_is_s3(obj))
		return 0;
	if ((l = fetch_loc_for(c->op->f, obj, c->err)) == NULL)
		return -1;
	fetch_need(c->op, l, 1);
	return 0;
}

struct fetch_op *
fetch_value(struct fetch *f, json_t *value, fetch_cb cb, void *arg,
    struct cwld_err *err)
{
	struct fetch_op *op = fetch_op_new(f, cb, arg);
	struct fetch_value_collect c = { op, err };

	op->value = value;
	if (params_walk_files(value, fetch_value_fn, &c) != 0) {
		fetch_op_free(op);
		return NULL;
	}
	return fetch_op_start(f, op, err);
}

/* --- the start of a run -------------------------------------------------- */

struct fetch_collect {
	struct fetch_op *op;
	struct cwld_err *err;
	int all;                    /* everything downloaded now */
	enum params_listing listing; /* the process's default */
};

/* One plain pattern of input id's secondaryFiles (entry: a string or
 * {pattern, required}) applied to the s3:// primary p (its copy pl): the
 * object the pattern names next to p's key, to be copied next to p's copy
 * under the name the pattern gives there (p's basename may differ from
 * its key's). Nothing when p already lists that name. */
static int
fetch_secondary_one(struct fetch_collect *c, const char *id, json_t *p,
    struct fetch_loc *pl, const json_t *entry)
{
	struct fetch *f = c->op->f;
	struct cwld_err *err = c->err;
	const char *uri = pl->uri;
	const json_t *pat = entry, *req = NULL;
	struct fetch_loc *l;
	struct fetch_sec *s;
	const char *ps, *kb;
	char *name = NULL, *lname = NULL, *ldir = NULL, *key = NULL;
	size_t n;
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
	kb = strrchr(pl->key, '/') != NULL ? strrchr(pl->key, '/') + 1 :
	    pl->key;
	name = params_secondary_name(kb, ps);
	lname = params_secondary_name(pl->name, ps);
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
	if (!fetch_safe_rel(name) || !fetch_safe_rel(lname) ||
	    strchr(lname, '/') != NULL) {
		err_set(err, CWLD_EXIT_USAGE, "input '%s': secondaryFiles "
		    "pattern '%s' of '%s' gives '%s', which cannot name a local "
		    "file", id, ps, uri, lname);
		goto out;
	}
	key = xasprintf("s3://%s/%.*s%s", pl->bucket, (int)(kb - pl->key),
	    pl->key, name);
	if ((l = fetch_find(f, key, lname)) == NULL) {
		l = fetch_add_loc(f);
		l->uri = key;
		key = NULL;
		l->bucket = xstrdup(pl->bucket);
		l->key = xasprintf("%.*s%s", (int)(kb - pl->key), pl->key,
		    name);
		l->name = lname;
		lname = NULL;
		ldir = fs_dirname(pl->local);
		l->local = fs_join(ldir, l->name);
		l->optional = !required;
		l->what = xasprintf("input '%s': secondary file '%s' of '%s'",
		    id, l->name, uri);
	}
	c->op->secs = xreallocarray(c->op->secs, c->op->nsecs + 1,
	    sizeof *c->op->secs);
	s = &c->op->secs[c->op->nsecs++];
	s->primary = json_incref(p);
	s->ploc = pl;
	s->loc = l;
	rc = 0;
out:
	free(name);
	free(lname);
	free(ldir);
	free(key);
	return rc;
}

/* Whether an input (or field) spec gets a listing of its Directory. */
static int
fetch_listed(const struct fetch_collect *c, const json_t *spec)
{
	int ll = params_listing_parse(json_string_value(json_object_get(spec,
	    "loadListing")));

	return (ll == -1 ? (int)c->listing : ll) != PARAMS_LISTING_NONE;
}

/* An s3:// File or Directory v of the process's own input id (spec: the
 * input or record field that declares it): its need, and its secondary
 * files' copies. */
static int
fetch_input_leaf(struct fetch_collect *c, const char *id, json_t *v,
    const json_t *spec)
{
	struct fetch_loc *l;
	const json_t *sf, *e;
	int is_file = fetch_strcmp0(json_string_value(json_object_get(v,
	    "class")), "File") == 0;
	size_t i;

	if ((l = fetch_loc_for(c->op->f, v, c->err)) == NULL)
		return -1;
	if (c->all || (is_file ? json_is_true(json_object_get(spec,
	    "loadContents")) : fetch_listed(c, spec)))
		fetch_need(c->op, l, 1);
	else if (is_file)
		fetch_need(c->op, l, 0);
	sf = json_object_get(spec, "secondaryFiles");
	if (!is_file || sf == NULL || json_is_null(sf))
		return 0;
	if (!json_is_array(sf))
		return fetch_secondary_one(c, id, v, l, sf);
	json_array_foreach(sf, i, e) {
		if (fetch_secondary_one(c, id, v, l, e) != 0)
			return -1;
	}
	return 0;
}

/* Value v of type t of input id, spec the input or record field that
 * declares it: through unions, arrays and record fields to each s3://
 * File or Directory, as params will fill it. */
static int
fetch_input_walk(struct fetch_collect *c, const char *id, const json_t *t,
    json_t *v, const json_t *spec)
{
	const json_t *e;
	const char *name;
	json_t *item;
	size_t i;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_array(t)) {
		json_array_foreach(t, i, e) {
			if (fetch_type_fits(e, v))
				return fetch_input_walk(c, id, e, v, spec);
		}
		return 0;
	}
	if (json_is_object(t)) {
		name = json_string_value(json_object_get(t, "type"));
		if (name != NULL && strcmp(name, "array") == 0) {
			json_array_foreach(v, i, item) {
				if (fetch_input_walk(c, id, json_object_get(t,
				    "items"), item, spec) != 0)
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
				if (fetch_input_walk(c, id, json_object_get(e,
				    "type"), item, e) != 0)
					return -1;
			}
			return 0;
		}
		return fetch_input_walk(c, id, json_object_get(t, "type"), v,
		    spec);
	}
	if (!fetch_type_fits(t, v) || !fetch_is_s3(v))
		return 0;
	return fetch_input_leaf(c, id, v, spec);
}

/* Every other s3:// object (step defaults, secondaryFiles a job lists,
 * values of type Any): a File looked at, the rest left for its step. */
static int
fetch_rest_fn(json_t *obj, void *arg)
{
	struct fetch_collect *c = arg;
	struct fetch_loc *l;

	if (!fetch_is_s3(obj))
		return 0;
	if ((l = fetch_loc_for(c->op->f, obj, c->err)) == NULL)
		return -1;
	if (c->all)
		fetch_need(c->op, l, 1);
	else if (!l->is_dir)
		fetch_need(c->op, l, 0);
	return 0;
}

/* Whether a step's "in" entry anywhere below process loads contents: it
 * is read where the workflow binds it, before any launch could fetch. */
static int
fetch_steps_load(const json_t *process, int depth)
{
	const json_t *step, *in, *run;
	size_t i, k;

	if (depth > 64)
		return 0;
	json_array_foreach(json_object_get(process, "steps"), i, step) {
		json_array_foreach(json_object_get(step, "in"), k, in) {
			if (json_is_true(json_object_get(in, "loadContents")))
				return 1;
		}
		run = json_object_get(step, "run");
		if (json_is_object(run) && fetch_steps_load(run, depth + 1))
			return 1;
	}
	return 0;
}

struct fetch_op *
fetch_inputs(struct fetch *f, json_t *process, json_t *job, fetch_cb cb,
    void *arg, struct cwld_err *err)
{
	struct fetch_op *op = fetch_op_new(f, cb, arg);
	struct fetch_collect c = { op, err, 0, PARAMS_LISTING_NONE };
	const char *ver = json_string_value(json_object_get(process,
	    "cwlVersion"));
	const json_t *ll = sched_find_req(process, NULL, NULL,
	    "LoadListingRequirement", NULL);
	const char *id;
	json_t *in, *v;
	size_t i;
	int l;

	op->process = process;
	op->job = job;
	c.all = fetch_steps_load(process, 0);
	if (ver != NULL && strcmp(ver, "v1.0") == 0)
		c.listing = PARAMS_LISTING_DEEP;
	if (ll != NULL && (l = params_listing_parse(json_string_value(
	    json_object_get(ll, "loadListing")))) >= 0)
		c.listing = (enum params_listing)l;
	json_array_foreach(json_object_get(process, "inputs"), i, in) {
		id = json_string_value(json_object_get(in, "id"));
		if (id == NULL)
			continue;
		if ((v = json_object_get(job, id)) == NULL)
			v = json_object_get(in, "default");
		if (fetch_input_walk(&c, id, json_object_get(in, "type"), v,
		    in) != 0)
			goto fail;
	}
	if (fetch_walk(process, job, fetch_rest_fn, &c) != 0)
		goto fail;
	/* a secondary file comes as its primary does: beside a copy made
	 * now, where params finds it, or looked at and listed */
	for (i = 0; i < op->nsecs; i++) {
		const struct fetch_need *pn = fetch_needs(op, op->secs[i].ploc);

		fetch_need(op, op->secs[i].loc, pn != NULL && pn->data);
	}
	return fetch_op_start(f, op, err);
fail:
	fetch_op_free(op);
	return NULL;
}

/* --- the run's staging --------------------------------------------------- */

struct fetch *
fetch_new(struct event_base *base, const char *dir,
    const struct s3_config *cfg)
{
	struct fetch *f = xcalloc(1, sizeof *f);

	f->base = base;
	f->cfg = cfg;
	f->dir = xstrdup(dir);
	TAILQ_INIT(&f->queue);
	TAILQ_INIT(&f->running);
	TAILQ_INIT(&f->ops);
	if ((f->settle_ev = event_new(base, -1, 0, fetch_settle_cb, f)) ==
	    NULL) {
		free(f->dir);
		free(f);
		return NULL;
	}
	return f;
}

void
fetch_stop(struct fetch *f, const char *why)
{
	size_t i;

	if (f == NULL || f->stopped != NULL)
		return;
	f->stopped = xstrdup(why);
	fetch_drop_tasks(f, NULL);
	for (i = 0; i < f->nlocs; i++) {
		struct fetch_loc *l = f->locs[i];

		if (l->data == FETCH_BUSY)
			fetch_loc_fail(f, l, 1, why);
		if (l->meta == FETCH_BUSY)
			fetch_loc_fail(f, l, 0, why);
	}
	fetch_settle_soon(f);
}

void
fetch_free(struct fetch *f)
{
	struct fetch_op *op;
	size_t i;

	if (f == NULL)
		return;
	fetch_drop_tasks(f, NULL);
	while ((op = TAILQ_FIRST(&f->ops)) != NULL)
		fetch_op_cancel(op);
	s3_free(f->s3);
	event_free(f->settle_ev);
	for (i = 0; i < f->nlocs; i++)
		fetch_loc_free(f->locs[i]);
	free(f->locs);
	free(f->dir);
	free(f->stopped);
	free(f);
}

void
fetch_stats(const struct fetch *f, long *objects, long long *bytes)
{
	*objects = f->objects;
	*bytes = f->bytes;
}

void
fetch_log_total(const struct fetch *f, const char *run_id)
{
	if (f != NULL && f->objects > 0)
		log_info("run %s: fetched %ld object%s (%lld bytes) from S3",
		    run_id, f->objects, f->objects == 1 ? "" : "s", f->bytes);
}

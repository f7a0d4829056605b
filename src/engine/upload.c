/* Output upload: the File and Directory objects of a finished run's output
 * object, once relocated under one local directory, are stored in S3 under
 * a prefix with the same relative names (a Directory as every file below
 * it), at most eight transfers at a time on the loop, and the object is
 * rewritten to s3:// locations only when all of them are stored. What a
 * PUT is on the wire (multipart, retries) is left to the s3 module. */
#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/upload.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define UPLOAD_PARALLEL 8
#define UPLOAD_DEPTH_MAX 64
#define UPLOAD_ABORT_POLL_MS 100
#define UPLOAD_ABORT_POLLS 300  /* 30 s for the aborts of a cancel */

struct upload_task {
	TAILQ_ENTRY(upload_task) entry;
	struct upload *u;
	char *path;      /* local file */
	char *key;
	int64_t size;    /* when it was queued */
	struct s3_op *op;
};

TAILQ_HEAD(upload_tasks, upload_task);

struct upload {
	struct event_base *base;
	struct s3 *s3;
	json_t *outputs;
	char *root;
	char *bucket;
	char *prefix;    /* no trailing '/', may be "" */
	json_t *keys;    /* keys queued: each once */
	char *empty;     /* a zero-byte file for empty directories' markers */
	struct upload_tasks queue, running;
	int nrunning;
	char *error;
	upload_cb cb;
	void *arg;
	struct event *done_ev;
	long objects;
	long long bytes;
	int drained;     /* upload_drain: nothing is left to the loop */
};

int
upload_parse_dest(const char *dest, char **bucket, char **prefix,
    struct cwld_err *err)
{
	char *b = NULL, *k = NULL;
	size_t n;

	*bucket = *prefix = NULL;
	if (strncmp(dest, "s3://", 5) != 0) {
		err_set(err, CWLD_EXIT_USAGE, "output location '%s': only "
		    "s3://bucket/prefix is supported", dest);
		return -1;
	}
	if (s3_uri_parse(dest, &b, &k, err) != 0) {
		err->code = CWLD_EXIT_USAGE;
		return -1;
	}
	n = strlen(k);
	while (n > 0 && k[n - 1] == '/')
		k[--n] = '\0';
	if (strstr(k, "//") != NULL || k[0] == '/') {
		err_set(err, CWLD_EXIT_USAGE, "output location '%s': the "
		    "prefix has an empty segment", dest);
		free(b);
		free(k);
		return -1;
	}
	*bucket = b;
	*prefix = k;
	return 0;
}

/* New string: the key of a path under root, or NULL when it is not
 * below root. */
static char *
upload_key(const struct upload *u, const char *path)
{
	size_t n = strlen(u->root);

	if (strncmp(path, u->root, n) != 0 || path[n] != '/' ||
	    path[n + 1] == '\0')
		return NULL;
	return *u->prefix == '\0' ? xstrdup(path + n + 1) :
	    xasprintf("%s/%s", u->prefix, path + n + 1);
}

/* New string: the local path of a File or Directory, or NULL (a literal,
 * or a location that is not a local file). */
static char *
upload_local(const json_t *obj)
{
	const char *p = json_string_value(json_object_get(obj, "path"));
	const char *loc = json_string_value(json_object_get(obj, "location"));

	if (p != NULL)
		return xstrdup(p);
	if (loc != NULL && strncmp(loc, "file:", 5) == 0)
		return uri_to_path(loc);
	return NULL;
}

static void
upload_task_free(struct upload_task *t)
{
	if (t == NULL)
		return;
	free(t->path);
	free(t->key);
	free(t);
}

static void
upload_enqueue(struct upload *u, const char *path, const char *key,
    int64_t size)
{
	struct upload_task *t;

	if (json_object_get(u->keys, key) != NULL)
		return; /* named twice (a file and its directory's listing) */
	json_object_set_new(u->keys, key, json_true());
	t = xcalloc(1, sizeof *t);
	t->u = u;
	t->path = xstrdup(path);
	t->key = xstrdup(key);
	t->size = size;
	TAILQ_INSERT_TAIL(&u->queue, t, entry);
}

/* The zero-byte "KEY/" object S3 tools use for an empty folder. */
static int
upload_marker(struct upload *u, const char *key, struct cwld_err *err)
{
	char *k;
	int fd;

	if (u->empty == NULL) {
		const char *tmp = getenv("TMPDIR");

		u->empty = xasprintf("%s/cwld-empty.XXXXXX",
		    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if ((fd = mkstemp(u->empty)) == -1) {
			err_set(err, CWLD_EXIT_FAILED, "cannot create '%s': %s",
			    u->empty, strerror(errno));
			free(u->empty);
			u->empty = NULL;
			return -1;
		}
		close(fd);
	}
	k = xasprintf("%s/", key);
	upload_enqueue(u, u->empty, k, 0);
	free(k);
	return 0;
}

/* Queues every file below dir (key its key), symbolic links followed. */
static int
upload_dir(struct upload *u, const char *dir, const char *key, int depth,
    struct cwld_err *err)
{
	DIR *d = NULL;
	struct dirent *e;
	struct stat st;
	char *sub = NULL, *subkey = NULL;
	int rc = -1, any = 0;

	if (depth > UPLOAD_DEPTH_MAX) {
		err_set(err, CWLD_EXIT_FAILED, "'%s': directory tree deeper "
		    "than %d", dir, UPLOAD_DEPTH_MAX);
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot read directory '%s': %s",
		    dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		any = 1;
		sub = fs_join(dir, e->d_name);
		subkey = xasprintf("%s/%s", key, e->d_name);
		if (stat(sub, &st) != 0) {
			err_set(err, CWLD_EXIT_FAILED, "cannot upload '%s': %s",
			    sub, strerror(errno));
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			if (upload_dir(u, sub, subkey, depth + 1, err) < 0)
				goto out;
		} else if (S_ISREG(st.st_mode))
			upload_enqueue(u, sub, subkey, (int64_t)st.st_size);
		else {
			err_set(err, CWLD_EXIT_FAILED, "cannot upload '%s': not "
			    "a regular file", sub);
			goto out;
		}
		free(sub);
		free(subkey);
		sub = subkey = NULL;
	}
	if (!any && upload_marker(u, key, err) < 0)
		goto out;
	rc = 0;
out:
	free(sub);
	free(subkey);
	closedir(d);
	return rc;
}

struct upload_collect {
	struct upload *u;
	struct cwld_err *err;
};

static int
upload_collect_fn(json_t *obj, void *arg)
{
	struct upload_collect *c = arg;
	struct upload *u = c->u;
	struct stat st;
	char *path = upload_local(obj), *key = NULL;
	int rc = -1;

	if (path == NULL)
		return 0;
	if ((key = upload_key(u, path)) == NULL) {
		err_set(c->err, CWLD_EXIT_FAILED, "output '%s' is not under "
		    "'%s'", path, u->root);
		goto out;
	}
	if (stat(path, &st) != 0) {
		err_set(c->err, CWLD_EXIT_FAILED, "cannot upload '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (upload_dir(u, path, key, 0, c->err) < 0)
			goto out;
	} else if (S_ISREG(st.st_mode))
		upload_enqueue(u, path, key, (int64_t)st.st_size);
	else {
		err_set(c->err, CWLD_EXIT_FAILED, "cannot upload '%s': not a "
		    "regular file", path);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(key);
	return rc;
}

static int
upload_rewrite_fn(json_t *obj, void *arg)
{
	struct upload *u = arg;
	char *path = upload_local(obj), *key = NULL, *uri;
	const char *cls = json_string_value(json_object_get(obj, "class"));

	if (path == NULL || (key = upload_key(u, path)) == NULL) {
		free(path);
		return 0;
	}
	if (strcmp(cls, "Directory") == 0) {
		char *k = xasprintf("%s/", key);

		uri = s3_uri_make(u->bucket, k);
		free(k);
	} else
		uri = s3_uri_make(u->bucket, key);
	json_object_set_new(obj, "location", json_string(uri));
	json_object_del(obj, "path");
	json_object_del(obj, "dirname");
	free(uri);
	free(key);
	free(path);
	return 0;
}

static void
upload_cancel_all(struct upload *u)
{
	struct upload_task *t;

	while ((t = TAILQ_FIRST(&u->queue)) != NULL) {
		TAILQ_REMOVE(&u->queue, t, entry);
		upload_task_free(t);
	}
	while ((t = TAILQ_FIRST(&u->running)) != NULL) {
		TAILQ_REMOVE(&u->running, t, entry);
		s3_cancel(t->op);
		upload_task_free(t);
	}
	u->nrunning = 0;
}

/* Stops the rest and reports the first error from the loop. */
static void
upload_fail(struct upload *u, const char *msg)
{
	if (u->error != NULL)
		return;
	u->error = xstrdup(msg);
	upload_cancel_all(u);
	event_active(u->done_ev, EV_TIMEOUT, 0);
}

static void
upload_check_done(struct upload *u)
{
	if (u->error != NULL || u->nrunning > 0 || !TAILQ_EMPTY(&u->queue))
		return;
	params_walk_files(u->outputs, upload_rewrite_fn, u);
	event_active(u->done_ev, EV_TIMEOUT, 0);
}

static void
upload_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload *u = arg;

	(void)fd;
	(void)what;
	u->cb(u->arg, u->error);
}

static void upload_pump(struct upload *u);

static void
upload_put_done(void *arg, const struct s3_result *r)
{
	struct upload_task *t = arg;
	struct upload *u = t->u;
	char *msg = NULL;

	TAILQ_REMOVE(&u->running, t, entry);
	u->nrunning--;
	t->op = NULL;
	if (r->error != NULL)
		msg = xasprintf("uploading '%s': %s", t->path, r->error);
	else if (r->size != t->size)
		msg = xasprintf("uploading '%s': s3://%s/%s holds %" PRId64
		    " bytes, the file %" PRId64 " (changed meanwhile?)", t->path,
		    u->bucket, t->key, r->size, t->size);
	if (msg != NULL) {
		upload_task_free(t);
		upload_fail(u, msg);
		free(msg);
		return;
	}
	u->objects++;
	u->bytes += r->size;
	log_debug("uploaded %s (%" PRId64 " bytes) to s3://%s/%s", t->path,
	    r->size, u->bucket, t->key);
	upload_task_free(t);
	upload_pump(u);
	upload_check_done(u);
}

static void
upload_pump(struct upload *u)
{
	struct cwld_err err = { 0, "" };
	struct upload_task *t;
	char *msg;

	while (u->error == NULL && u->nrunning < UPLOAD_PARALLEL &&
	    (t = TAILQ_FIRST(&u->queue)) != NULL) {
		TAILQ_REMOVE(&u->queue, t, entry);
		TAILQ_INSERT_TAIL(&u->running, t, entry);
		u->nrunning++;
		t->op = s3_put(u->s3, u->bucket, t->key, t->path,
		    upload_put_done, t, &err);
		if (t->op == NULL) {
			TAILQ_REMOVE(&u->running, t, entry);
			u->nrunning--;
			msg = xasprintf("uploading '%s': %s", t->path, err.msg);
			upload_task_free(t);
			upload_fail(u, msg);
			free(msg);
			return;
		}
	}
}

struct upload *
upload_start(struct event_base *base, json_t *outputs, const char *root,
    const char *dest, const struct s3_config *cfg, upload_cb cb, void *arg,
    struct cwld_err *err)
{
	struct upload *u = xcalloc(1, sizeof *u);
	struct upload_collect c = { u, err };

	u->base = base;
	u->outputs = outputs;
	u->root = fs_abspath(root);
	u->keys = json_object();
	u->cb = cb;
	u->arg = arg;
	TAILQ_INIT(&u->queue);
	TAILQ_INIT(&u->running);
	if (upload_parse_dest(dest, &u->bucket, &u->prefix, err) != 0)
		goto fail;
	if (params_walk_files(outputs, upload_collect_fn, &c) != 0)
		goto fail;
	u->done_ev = event_new(base, -1, 0, upload_done_cb, u);
	if (u->done_ev == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "upload: cannot create an event");
		goto fail;
	}
	if ((u->s3 = s3_new(base, cfg, err)) == NULL)
		goto fail;
	upload_pump(u);
	if (u->error != NULL) {
		err_set(err, CWLD_EXIT_FAILED, "%s", u->error);
		goto fail;
	}
	/* nothing to upload: done at the loop's next turn */
	upload_check_done(u);
	return u;
fail:
	upload_free(u);
	return NULL;
}

void
upload_cancel(struct upload *u)
{
	upload_cancel_all(u);
	if (u->error == NULL)
		u->error = xstrdup("cancelled");
}

int
upload_busy(const struct upload *u)
{
	return u->s3 != NULL && s3_pending(u->s3) > 0;
}

static void
upload_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

void
upload_drain(struct upload *u, int max_ms)
{
	struct timeval tv = { 0, UPLOAD_ABORT_POLL_MS * 1000 };
	struct timespec t0, now;
	struct event *wake;

	upload_cancel(u);
	u->drained = 1;
	if (!upload_busy(u))
		return;
	/* the timer wakes the loop to look at the clock */
	wake = evtimer_new(u->base, upload_wake_cb, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (upload_busy(u)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
		    max_ms) {
			log_warnx("s3: aborting cancelled multipart uploads takes over %d ms: "
			    "given up", max_ms);
			break;
		}
		if (wake != NULL)
			evtimer_add(wake, &tv);
		event_base_loop(u->base, EVLOOP_ONCE);
	}
	if (wake != NULL)
		event_free(wake);
}

/* A client left with aborts in flight after its upload was freed. */
struct upload_zombie {
	struct s3 *s3;
	struct event *ev;
	int polls;
};

static void
upload_zombie_cb(evutil_socket_t fd, short what, void *arg)
{
	struct upload_zombie *z = arg;
	struct timeval tv = { 0, UPLOAD_ABORT_POLL_MS * 1000 };

	(void)fd;
	(void)what;
	if (s3_pending(z->s3) > 0 && ++z->polls < UPLOAD_ABORT_POLLS) {
		evtimer_add(z->ev, &tv);
		return;
	}
	if (s3_pending(z->s3) > 0)
		log_warnx("s3: aborting cancelled multipart uploads took over %d s: "
		    "given up", UPLOAD_ABORT_POLL_MS * UPLOAD_ABORT_POLLS / 1000);
	s3_free(z->s3);
	event_free(z->ev);
	free(z);
}

void
upload_free(struct upload *u)
{
	struct upload_zombie *z;
	struct timeval tv = { 0, UPLOAD_ABORT_POLL_MS * 1000 };

	if (u == NULL)
		return;
	upload_cancel_all(u);
	if (!u->drained && upload_busy(u)) {
		/* the parts already stored would stay, billed, on the server */
		z = xcalloc(1, sizeof *z);
		z->s3 = u->s3;
		z->ev = evtimer_new(u->base, upload_zombie_cb, z);
		if (z->ev != NULL && evtimer_add(z->ev, &tv) == 0)
			u->s3 = NULL;
		else {
			if (z->ev != NULL)
				event_free(z->ev);
			free(z);
		}
	}
	s3_free(u->s3);
	if (u->done_ev != NULL)
		event_free(u->done_ev);
	if (u->empty != NULL)
		unlink(u->empty);
	free(u->empty);
	json_decref(u->keys);
	free(u->root);
	free(u->bucket);
	free(u->prefix);
	free(u->error);
	free(u);
}

void
upload_stats(const struct upload *u, long *objects, long long *bytes)
{
	*objects = u->objects;
	*bytes = u->bytes;
}

/* --- the destination checked before a run ---------------------------- */

struct upload_probe {
	struct s3 *s3;
	struct s3_op *op;
	char *dest;
	int seen;        /* the listing reached a key: stopped there */
	upload_cb cb;
	void *arg;
};

/* Answers that say the upload would fail too: no such bucket, credentials
 * refused, the wrong region or endpoint. Anything else (AccessDenied for a
 * user who may put but not list, a store that does not implement
 * ListObjectsV2) leaves the answer to the upload. */
static const char *const upload_probe_fatal[] = {
	"NoSuchBucket", "InvalidBucketName", "InvalidAccessKeyId",
	"SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
	"AuthorizationHeaderMalformed", "PermanentRedirect",
};

static int
upload_probe_each(void *arg, const struct s3_object *obj)
{
	struct upload_probe *p = arg;

	(void)obj;
	p->seen = 1;
	return -1; /* one key is enough: no further pages */
}

static void
upload_probe_cb(void *arg, const struct s3_result *res)
{
	struct upload_probe *p = arg;
	char *why = NULL;
	size_t i;

	p->op = NULL;
	if (res->error != NULL && !p->seen) {
		int fatal = res->status == 0;

		for (i = 0; i < sizeof upload_probe_fatal /
		    sizeof *upload_probe_fatal; i++)
			if (strcmp(res->code, upload_probe_fatal[i]) == 0)
				fatal = 1;
		if (fatal)
			why = xasprintf("output location %s: %s", p->dest,
			    res->error);
		else
			log_warnx("output location %s: cannot list it (%s); "
			    "whether the outputs can be stored there will be "
			    "known when they are", p->dest, res->error);
	}
	p->cb(p->arg, why);
	free(why);
}

struct upload_probe *
upload_probe_start(struct event_base *base, const char *dest,
    const struct s3_config *cfg, upload_cb cb, void *arg,
    struct cwld_err *err)
{
	struct upload_probe *p = xcalloc(1, sizeof *p);
	char *bucket = NULL, *prefix = NULL, *under = NULL;

	p->dest = xstrdup(dest);
	p->cb = cb;
	p->arg = arg;
	if (upload_parse_dest(dest, &bucket, &prefix, err) != 0 ||
	    (p->s3 = s3_new(base, cfg, err)) == NULL)
		goto fail;
	under = *prefix == '\0' ? xstrdup("") : xasprintf("%s/", prefix);
	p->op = s3_list(p->s3, bucket, under, NULL, 1, upload_probe_each,
	    upload_probe_cb, p, err);
	if (p->op == NULL)
		goto fail;
	free(bucket);
	free(prefix);
	free(under);
	return p;
fail:
	free(bucket);
	free(prefix);
	free(under);
	upload_probe_free(p);
	return NULL;
}

void
upload_probe_free(struct upload_probe *p)
{
	if (p == NULL)
		return;
	if (p->op != NULL)
		s3_cancel(p->op);
	s3_free(p->s3);
	free(p->dest);
	free(p);
}

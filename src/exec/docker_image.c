/* Images for DockerRequirement: dockerPull, dockerImageId, dockerLoad,
 * dockerImport and dockerFile made present in the engine through the Engine
 * API (inspect, pull, build, load, import, tag) on the event loop. Tarballs
 * are streamed from their file into the request; answers are JSON lines,
 * checked as they arrive. Everyone waiting for the same image shares one
 * operation. Running containers is docker.c's; which image a tool needs is
 * the job module's. */
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "cwld/docker.h"
#include "cwld/docker_stream.h"
#include "docker_int.h"
#include "cwld/fs.h"
#include "cwld/http.h"
#include "cwld/log.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

/* pull, build, load, import and downloads: images can be large */
#define DOCKER_IMAGE_LONG_MS (2L * 60 * 60 * 1000)
#define DOCKER_IMAGE_MAX_DOCKERFILE (1u << 20)
#define DOCKER_IMAGE_MAX_DOWNLOAD (64LL << 30)
#define DOCKER_IMAGE_HASH_CHUNK (1u << 20)    /* hashed per loop turn */
#define DOCKER_IMAGE_PROGRESS_MS 250          /* between reports of bytes */

enum docker_image_kind {
	DOCKER_IMAGE_NAME,   /* dockerPull / dockerImageId only */
	DOCKER_IMAGE_FILE,   /* dockerFile */
	DOCKER_IMAGE_LOAD,   /* dockerLoad */
	DOCKER_IMAGE_IMPORT, /* dockerImport */
};

enum docker_image_state {
	DOCKER_IMAGE_RUNNING,
	DOCKER_IMAGE_DONE,
	DOCKER_IMAGE_FAILED,
};

struct docker_image_waiter {
	TAILQ_ENTRY(docker_image_waiter) entry;
	docker_image_cb cb;
	docker_image_progress_cb progress; /* or NULL */
	void *arg;
};
TAILQ_HEAD(docker_image_waiters, docker_image_waiter);

struct docker_image_op {
	TAILQ_ENTRY(docker_image_op) entry;
	struct docker *d;
	char *key;                   /* what makes two requests the same */
	enum docker_image_kind kind;
	enum docker_image_state state;
	struct cwld_err err;         /* when failed */
	char *ref;                   /* when done */
	struct docker_image_waiters waiters;
	struct event *notify;        /* delivers the outcome from the loop */

	/* what to make */
	char *name;                  /* the reference to end with, when known */
	char *pull;                  /* what to pull (NAME) */
	char *dockerfile;            /* FILE: the text */
	char *dockerfile_sha;        /* FILE: its sha256, hex */
	char *src;                   /* LOAD/IMPORT: as written, for messages */
	char *path;                  /* LOAD/IMPORT: a local file, or */
	char *url;                   /* ... an http(s) URL to download first */

	/* in flight */
	struct docker_waiter ready;  /* until the API version is known */
	struct http_xfer *x;         /* the current engine call */
	struct http *dl;             /* a download's own client (not the socket) */
	struct http_xfer *dlx;
	long long dl_bytes;
	int dl_errno;
	int fd;                      /* the tarball, -1 until opened */
	int read_errno;
	struct event *hash_ev;
	EVP_MD_CTX *md;

	/* the JSON lines of a pull, build, load or import */
	struct docker_stream lines;
	char *stream_err;            /* the first "error" */
	struct docker_stream_pull pulled; /* NAME: layers so far */
	struct docker_stream_pull_sum reported; /* ... as last reported */
	long long reported_ms;       /* when, monotonic */
	char *loaded;                /* LOAD: the "Loaded image" reference */
	char tail[1024];             /* FILE: the last output, for errors */
	size_t tail_len;
};

static void docker_image_fetch(struct docker_image_op *op);

/* ---- small helpers -------------------------------------------------------- */

static void
docker_image_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		abort(); /* a broken libcrypto: nothing sensible to do */
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* Splits an image reference into repository and tag for the query
 * parameters of pull, import and tag: "a/b:1" -> "a/b", "1"; without a tag
 * "latest" (the engine would otherwise take every tag); a digest stays in
 * the repository with tag NULL. New strings. */
static void
docker_image_split(const char *ref, char **repo, char **tag)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash != NULL ? slash : ref, ':');

	if (strchr(ref, '@') != NULL) {
		*repo = xstrdup(ref);
		*tag = NULL;
	} else if (colon != NULL) {
		*repo = xstrndup(ref, (size_t)(colon - ref));
		*tag = xstrdup(colon + 1);
	} else {
		*repo = xstrdup(ref);
		*tag = xstrdup("latest");
	}
}

/* "repo=R&tag=T" (or "repo=R" for a digest), query-escaped. New string. */
static char *
docker_image_repo_query(const char *ref, const char *repo_param)
{
	char *repo, *tag, *er, *et = NULL, *q;

	docker_image_split(ref, &repo, &tag);
	er = docker_escape_query(repo);
	if (tag != NULL)
		et = docker_escape_query(tag);
	q = xasprintf("%s=%s%s%s", repo_param, er, et != NULL ? "&tag=" : "",
	    et != NULL ? et : "");
	free(repo);
	free(tag);
	free(er);
	free(et);
	return q;
}

/* A build context: a ustar archive holding only "Dockerfile". New buffer of
 * *len bytes. */
static char *
docker_image_context_tar(const char *text, size_t text_len, size_t *len)
{
	size_t padded = (text_len + 511) / 512 * 512, total, i;
	unsigned int sum = 0;
	unsigned char *h;
	char *tar, num[32];

	total = 512 + padded + 1024; /* header, data, two zero blocks */
	tar = xcalloc(1, total);
	h = (unsigned char *)tar;
	memcpy(h, "Dockerfile", 10);
	memcpy(h + 100, "0000644", 7);             /* mode */
	memcpy(h + 108, "0000000", 7);             /* uid */
	memcpy(h + 116, "0000000", 7);             /* gid */
	snprintf(num, sizeof num, "%011zo", text_len); /* size (< 1 MiB) */
	memcpy(h + 124, num, 11);
	memcpy(h + 136, "00000000000", 11);        /* mtime: fixed */
	h[156] = '0';                              /* a regular file */
	memcpy(h + 257, "ustar", 6);               /* magic, NUL */
	memcpy(h + 263, "00", 2);                  /* version */
	memset(h + 148, ' ', 8);                   /* checksum counts as spaces */
	for (i = 0; i < 512; i++)
		sum += h[i];
	snprintf(num, sizeof num, "%06o", sum & 0777777);
	memcpy(h + 148, num, 7);  /* six digits and a NUL */
	h[155] = ' ';
	memcpy(tar + 512, text, text_len);
	*len = total;
	return tar;
}

/* Where a dockerLoad/dockerImport points: *path (a local file) or *url
 * (http or https). Relative to base_uri. 0, or -1 with err. */
static int
docker_image_source(const char *src, const char *base_uri, const char *field,
    char **path, char **url, struct cwld_err *err)
{
	char *abs = NULL;

	*path = *url = NULL;
	if (*src == '\0')
		return err_set(err, CWLD_EXIT_USAGE, "DockerRequirement: %s is "
		    "empty", field);
	if (uri_has_scheme(src))
		abs = xstrdup(src);
	else if (base_uri != NULL && src[0] != '/')
		abs = uri_resolve(base_uri, src);
	if (abs == NULL) {
		*path = fs_abspath(src);
		return 0;
	}
	if (strncmp(abs, "http://", 7) == 0 || strncmp(abs, "https://", 8) == 0) {
		*url = abs;
		return 0;
	}
	*path = strncmp(abs, "file:", 5) == 0 ? uri_to_path(abs) : NULL;
	if (*path == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "DockerRequirement: %s '%s': only "
		    "files and http(s) URLs are supported", field, src);
		free(abs);
		return -1;
	}
	free(abs);
	return 0;
}

/* ---- the outcome ------------------------------------------------------------ */

/* Frees what only a running operation needs. From the loop, never inside a
 * callback of op->dl (http_free). */
static void
docker_image_release(struct docker_image_op *op)
{
	if (op->x != NULL)
		http_cancel(op->x);
	op->x = NULL;
	docker_waiter_cancel(op->d, &op->ready);
	if (op->dl != NULL)
		http_free(op->dl); /* and op->dlx with it */
	op->dl = NULL;
	op->dlx = NULL;
	if (op->fd != -1)
		close(op->fd);
	op->fd = -1;
	if (op->hash_ev != NULL)
		event_free(op->hash_ev);
	op->hash_ev = NULL;
	EVP_MD_CTX_free(op->md);
	op->md = NULL;
	docker_stream_release(&op->lines);
	docker_stream_pull_release(&op->pulled);
	free(op->stream_err);
	op->stream_err = NULL;
}

static void
docker_image_op_free(struct docker_image_op *op)
{
	struct docker_image_waiter *w;

	if (op == NULL)
		return;
	docker_image_release(op);
	while ((w = TAILQ_FIRST(&op->waiters)) != NULL) {
		TAILQ_REMOVE(&op->waiters, w, entry);
		free(w);
	}
	if (op->notify != NULL)
		event_free(op->notify);
	free(op->key);
	free(op->ref);
	free(op->name);
	free(op->pull);
	free(op->dockerfile);
	free(op->dockerfile_sha);
	free(op->src);
	free(op->path);
	free(op->url);
	free(op->loaded);
	free(op);
}

/* Hands the outcome to everyone waiting, from the loop. A failed operation
 * is forgotten (the next request tries again), a done one remembered. */
static void
docker_image_notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_image_op *op = arg;
	struct docker_image_waiters ws;
	struct docker_image_waiter *w;
	int failed = op->state == DOCKER_IMAGE_FAILED;

	(void)fd;
	(void)what;
	if (op->state == DOCKER_IMAGE_RUNNING)
		return;
	docker_image_release(op);
	TAILQ_INIT(&ws);
	TAILQ_CONCAT(&ws, &op->waiters, entry);
	/* before the callbacks: a new request then starts afresh */
	if (failed)
		TAILQ_REMOVE(&op->d->images, op, entry);
	while ((w = TAILQ_FIRST(&ws)) != NULL) {
		TAILQ_REMOVE(&ws, w, entry);
		w->cb(w->arg, failed ? NULL : op->ref, failed ? &op->err : NULL);
		free(w);
	}
	if (failed)
		docker_image_op_free(op);
}

static void
docker_image_done(struct docker_image_op *op, const char *ref)
{
	op->state = DOCKER_IMAGE_DONE;
	op->ref = xstrdup(ref);
	log_debug("image '%s' is ready", ref);
	event_active(op->notify, EV_TIMEOUT, 0);
}

static void
docker_image_fail(struct docker_image_op *op, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Ends op with an error; transfers in flight are aborted (never the one
 * whose callback is running: callbacks clear their handle first). */
static void
docker_image_fail(struct docker_image_op *op, int code, const char *fmt, ...)
{
	va_list ap;

	if (op->state != DOCKER_IMAGE_RUNNING)
		return;
	if (op->x != NULL)
		http_cancel(op->x);
	op->x = NULL;
	if (op->dlx != NULL)
		http_cancel(op->dlx);
	op->dlx = NULL;
	docker_waiter_cancel(op->d, &op->ready);
	if (op->hash_ev != NULL)
		event_del(op->hash_ev);
	op->state = DOCKER_IMAGE_FAILED;
	op->err.code = code;
	va_start(ap, fmt);
	vsnprintf(op->err.msg, sizeof op->err.msg, fmt, ap);
	va_end(ap);
	event_active(op->notify, EV_TIMEOUT, 0);
}

/* What the operation is, for messages. */
static const char *
docker_image_field(const struct docker_image_op *op)
{
	switch (op->kind) {
	case DOCKER_IMAGE_FILE:
		return "dockerFile";
	case DOCKER_IMAGE_LOAD:
		return "dockerLoad";
	case DOCKER_IMAGE_IMPORT:
		return "dockerImport";
	default:
		return "dockerPull";
	}
}

/* An engine call of op: base URL, API version, path. */
static struct http_xfer *
docker_image_call(struct docker_image_op *op, struct http_req *req,
    const char *path, http_cb cb, struct cwld_err *err)
{
	struct http_xfer *x;
	char *url;

	url = xasprintf("%s%s%s", op->d->host.base_url, op->d->api, path);
	req->url = url;
	x = http_request_ex(op->d->http, req, cb, op, err);
	free(url);
	return x;
}

/* ---- JSON lines ------------------------------------------------------------- */

/* Keeps the end of a build's output for an error message. */
static void
docker_image_tail_add(struct docker_image_op *op, const char *s)
{
	size_t n = strlen(s), keep;

	if (n >= sizeof op->tail) {
		s += n - (sizeof op->tail - 1);
		n = sizeof op->tail - 1;
	}
	if (op->tail_len + n >= sizeof op->tail) {
		keep = sizeof op->tail - 1 - n;
		memmove(op->tail, op->tail + op->tail_len - keep, keep);
		op->tail_len = keep;
	}
	memcpy(op->tail + op->tail_len, s, n);
	op->tail_len += n;
	op->tail[op->tail_len] = '\0';
}

/* A line of build output that says nothing about a failure: the engine's
 * own steps and bookkeeping. */
static int
docker_image_tail_noise(const char *p, size_t n)
{
	static const char *const prefixes[] = { "Step ", "---> ",
	    "Removing intermediate container", "Successfully " };
	const char *end = p + n;
	size_t i;

	/* past colour codes (ESC [ ... letter) and blanks */
	while (p < end && (*p == '\033' || isspace((unsigned char)*p))) {
		if (*p == '\033')
			while (p < end && !isalpha((unsigned char)*p))
				p++;
		p++;
	}
	n = (size_t)(end - p);
	if (n == 0)
		return 1;
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (n >= strlen(prefixes[i]) &&
		    strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* The last few lines the build's commands wrote, on one line joined by
 * " | ", without terminal colours, into buf ("" if none). */
static void
docker_image_tail_text(const struct docker_image_op *op, char *buf, size_t size)
{
	const char *lines[4][2];
	const char *end = op->tail + op->tail_len, *b, *p, *q;
	size_t nl = 0, o = 0, len = 0;
	int k;

	/* from the end: up to four lines that are not noise, ~300 chars */
	while (end > op->tail && nl < 4 && len < 300) {
		b = end;
		while (b > op->tail && b[-1] != '\n' && b[-1] != '\r')
			b--;
		p = b;
		q = end;
		while (p < q && isspace((unsigned char)*p))
			p++;
		while (q > p && isspace((unsigned char)q[-1]))
			q--;
		if (q > p && !docker_image_tail_noise(p, (size_t)(q - p))) {
			lines[nl][0] = p;
			lines[nl][1] = q;
			len += (size_t)(q - p);
			nl++;
		}
		end = b > op->tail ? b - 1 : b;
	}
	for (k = (int)nl - 1; k >= 0; k--) {
		if (o > 0 && o + 3 < size) {
			memcpy(buf + o, " | ", 3);
			o += 3;
		}
		for (p = lines[k][0]; p < lines[k][1] && o + 1 < size; p++) {
			if (*p == '\033') { /* ESC [ ... letter */
				while (p + 1 < lines[k][1] &&
				    !isalpha((unsigned char)p[1]))
					p++;
				p++;
				continue;
			}
			buf[o++] = iscntrl((unsigned char)*p) ? ' ' : *p;
		}
	}
	/* a colour reset alone was a line of its own */
	while (o >= 3 && strncmp(buf + o - 3, " | ", 3) == 0)
		o -= 3;
	buf[o] = '\0';
}

static long long
docker_image_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Tells the waiters that asked how the pull goes when the sum changed
 * since the last report: at once when a layer appears or completes, else
 * at most every DOCKER_IMAGE_PROGRESS_MS. */
static void
docker_image_progress(struct docker_image_op *op)
{
	struct docker_image_progress pr;
	struct docker_image_waiter *w;
	long long now = docker_image_now_ms();

	docker_stream_pull_sum(&op->pulled, &pr.sum);
	if (pr.sum.layers_done == op->reported.layers_done &&
	    pr.sum.layers_total == op->reported.layers_total &&
	    (now - op->reported_ms < DOCKER_IMAGE_PROGRESS_MS ||
	    (pr.sum.bytes_done == op->reported.bytes_done &&
	    pr.sum.bytes_total == op->reported.bytes_total)))
		return;
	op->reported = pr.sum;
	op->reported_ms = now;
	pr.image = op->pull;
	TAILQ_FOREACH(w, &op->waiters, entry)
		if (w->progress != NULL)
			w->progress(w->arg, &pr);
}

/* One JSON line of op's answer (docker_stream_line_fn). */
static void
docker_image_line(void *arg, const char *line, size_t len)
{
	struct docker_image_op *op = arg;
	json_t *j;
	const char *e, *s;
	size_t n;

	j = json_loadb(line, len, 0, NULL);
	if (j == NULL)
		return;
	/* every line may report: one held back by the rate limit goes with the
	 * next, and extracting a large layer writes lines all along */
	if (op->kind == DOCKER_IMAGE_NAME && op->state == DOCKER_IMAGE_RUNNING) {
		docker_stream_pull_line(&op->pulled, j);
		docker_image_progress(op);
	}
	e = json_string_value(json_object_get(j, "error"));
	if (e == NULL)
		e = json_string_value(json_object_get(json_object_get(j,
		    "errorDetail"), "message"));
	if (e != NULL && op->stream_err == NULL)
		op->stream_err = xstrdup(e);
	s = json_string_value(json_object_get(j, "stream"));
	if (s != NULL && op->kind == DOCKER_IMAGE_LOAD && op->loaded == NULL) {
		if (strncmp(s, "Loaded image: ", 14) == 0)
			s += 14;
		else if (strncmp(s, "Loaded image ID: ", 17) == 0)
			s += 17;
		else
			s = NULL;
		if (s != NULL) {
			n = strlen(s);
			while (n > 0 && isspace((unsigned char)s[n - 1]))
				n--;
			if (n > 0)
				op->loaded = xstrndup(s, n);
		}
	} else if (s != NULL && op->kind == DOCKER_IMAGE_FILE) {
		n = strlen(s);
		while (n > 0 && isspace((unsigned char)s[n - 1]))
			n--;
		if (n > 0)
			log_debug("build %s: %.*s", op->name, (int)n, s);
		docker_image_tail_add(op, s);
	}
	json_decref(j);
}

/* on_data of a pull, build, load or import: split into lines. */
static int
docker_image_data(void *arg, const char *data, size_t len)
{
	struct docker_image_op *op = arg;

	docker_stream_feed(&op->lines, data, len, docker_image_line, op);
	return 0;
}

/* ---- the steps ---------------------------------------------------------------- */

static void
docker_image_tagged_cb(void *arg, const struct http_response *res)
{
	struct docker_image_op *op = arg;
	char m[512];

	op->x = NULL;
	if (res->status != 201) {
		docker_engine_msg(res, m, sizeof m);
		docker_image_fail(op, CWLD_EXIT_FAILED, "dockerLoad '%s': cannot "
		    "tag the loaded image '%s' as '%s': %s", op->src, op->loaded,
		    op->name, m);
		return;
	}
	docker_image_done(op, op->name);
}

/* A loaded tarball did not hold the name: the name goes on what it held. */
static void
docker_image_tag_loaded(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	char *ename, *q, *path;

	ename = docker_escape_path(op->loaded);
	q = docker_image_repo_query(op->name, "repo");
	path = xasprintf("/images/%s/tag?%s", ename, q);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.timeout_ms = DOCKER_SHORT_MS;
	op->x = docker_image_call(op, &req, path, docker_image_tagged_cb, &e);
	if (op->x == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "dockerLoad '%s': cannot "
		    "tag the loaded image: %s", op->src, e.msg);
	free(ename);
	free(q);
	free(path);
}

static void
docker_image_loaded_inspected_cb(void *arg, const struct http_response *res)
{
	struct docker_image_op *op = arg;
	char m[512];

	op->x = NULL;
	if (res->status == 200) {
		docker_image_done(op, op->name);
	} else if (res->status == 404 && op->loaded != NULL) {
		docker_image_tag_loaded(op);
	} else if (res->status == 404) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "dockerLoad '%s': the "
		    "tarball held no image '%s'", op->src, op->name);
	} else {
		docker_engine_msg(res, m, sizeof m);
		docker_image_fail(op, CWLD_EXIT_FAILED, "cannot inspect image "
		    "'%s': %s", op->name, m);
	}
}

static void
docker_image_produced_cb(void *arg, const struct http_response *res)
{
	struct docker_image_op *op = arg;
	struct cwld_err e = { 0, "" };
	struct http_req req;
	char m[700], tail[400] = "", *ename, *path;

	op->x = NULL;
	docker_stream_end(&op->lines, docker_image_line, op); /* no '\n' */
	if (res->status != 200 || op->stream_err != NULL) {
		if (op->stream_err != NULL)
			snprintf(m, sizeof m, "%s", op->stream_err);
		else if (op->read_errno != 0)
			snprintf(m, sizeof m, "cannot read '%s': %s", op->path != NULL ?
			    op->path : op->src, strerror(op->read_errno));
		else
			docker_engine_msg(res, m, sizeof m);
		switch (op->kind) {
		case DOCKER_IMAGE_FILE:
			/* the failing command's own words, e.g. apt's */
			docker_image_tail_text(op, tail, sizeof tail);
			if (tail[0] != '\0')
				docker_image_fail(op, CWLD_EXIT_FAILED, "cannot build "
				    "image '%s' from its Dockerfile: %s (last output: "
				    "%s)", op->name, m, tail);
			else
				docker_image_fail(op, CWLD_EXIT_FAILED, "cannot build "
				    "image '%s' from its Dockerfile: %s", op->name, m);
			break;
		case DOCKER_IMAGE_LOAD:
			docker_image_fail(op, CWLD_EXIT_FAILED, "dockerLoad '%s': "
			    "cannot load the image: %s", op->src, m);
			break;
		case DOCKER_IMAGE_IMPORT:
			docker_image_fail(op, CWLD_EXIT_FAILED, "dockerImport '%s': "
			    "cannot import it as '%s': %s", op->src, op->name, m);
			break;
		default:
			docker_image_fail(op, CWLD_EXIT_FAILED, "image '%s' not found "
			    "locally and could not be pulled: %s", op->name, m);
		}
		return;
	}
	switch (op->kind) {
	case DOCKER_IMAGE_FILE:
		log_info("image '%s' built", op->name);
		break;
	case DOCKER_IMAGE_IMPORT:
		log_info("image '%s' imported from '%s'", op->name, op->src);
		break;
	case DOCKER_IMAGE_LOAD:
		log_info("image '%s' loaded from '%s'", op->loaded != NULL ?
		    op->loaded : "?", op->src);
		if (op->name == NULL) {
			if (op->loaded == NULL)
				docker_image_fail(op, CWLD_EXIT_FAILED, "dockerLoad "
				    "'%s': the engine named no loaded image", op->src);
			else
				docker_image_done(op, op->loaded);
			return;
		}
		/* the name must be there now: held by the tarball, or tagged */
		ename = docker_escape_path(op->name);
		path = xasprintf("/images/%s/json", ename);
		memset(&req, 0, sizeof req);
		req.timeout_ms = DOCKER_SHORT_MS;
		op->x = docker_image_call(op, &req, path,
		    docker_image_loaded_inspected_cb, &e);
		if (op->x == NULL)
			docker_image_fail(op, CWLD_EXIT_FAILED, "cannot inspect "
			    "image '%s': %s", op->name, e.msg);
		free(ename);
		free(path);
		return;
	default:
		log_info("image '%s' pulled", op->name);
	}
	docker_image_done(op, op->name);
}

/* read_body: the tarball, from its file. */
static long
docker_image_read(void *arg, char *buf, size_t size)
{
	struct docker_image_op *op = arg;
	ssize_t n;

	do
		n = read(op->fd, buf, size);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		op->read_errno = errno;
		return -1;
	}
	return (long)n;
}

/* POST of a tarball (load or import) streamed from op->fd. */
static void
docker_image_upload(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	struct stat st;
	char *q = NULL, *path;

	if (lseek(op->fd, 0, SEEK_SET) == -1 || fstat(op->fd, &st) == -1) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s '%s': %s",
		    docker_image_field(op), op->src, strerror(errno));
		return;
	}
	if (op->kind == DOCKER_IMAGE_LOAD) {
		path = xstrdup("/images/load?quiet=1");
		log_info("loading an image from '%s' (%lld bytes)", op->src,
		    (long long)st.st_size);
	} else {
		q = docker_image_repo_query(op->name, "repo");
		path = xasprintf("/images/create?fromSrc=-&%s", q);
		log_info("importing '%s' (%lld bytes) as image '%s'", op->src,
		    (long long)st.st_size, op->name);
	}
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.content_type = "application/x-tar";
	req.read_body = docker_image_read;
	req.body_size = (long long)st.st_size;
	req.on_data = docker_image_data;
	req.data_arg = op;
	req.timeout_ms = DOCKER_IMAGE_LONG_MS;
	op->x = docker_image_call(op, &req, path, docker_image_produced_cb, &e);
	if (op->x == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s '%s': %s",
		    docker_image_field(op), op->src, e.msg);
	free(q);
	free(path);
}

static void
docker_image_build(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	json_t *labels;
	char *tar, *et, *lt, *el, *path;
	size_t tar_len;

	tar = docker_image_context_tar(op->dockerfile, strlen(op->dockerfile),
	    &tar_len);
	/* the label finds every image built from this text, dangling too */
	labels = json_pack("{s:s}", "cwld.dockerfile", op->dockerfile_sha);
	lt = json_dumps(labels, JSON_COMPACT);
	if (lt == NULL)
		abort();
	el = docker_escape_query(lt);
	et = docker_escape_query(op->name);
	path = xasprintf("/build?t=%s&rm=1&forcerm=1&labels=%s", et, el);
	log_info("building image '%s' from its Dockerfile", op->name);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.body = tar;
	req.body_len = tar_len;
	req.content_type = "application/x-tar";
	req.on_data = docker_image_data;
	req.data_arg = op;
	req.timeout_ms = DOCKER_IMAGE_LONG_MS;
	op->x = docker_image_call(op, &req, path, docker_image_produced_cb, &e);
	if (op->x == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "cannot build image '%s': "
		    "%s", op->name, e.msg);
	json_decref(labels);
	free(tar);
	free(lt);
	free(el);
	free(et);
	free(path);
}

static void
docker_image_pull(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	char *q, *path;

	q = docker_image_repo_query(op->pull, "fromImage");
	path = xasprintf("/images/create?%s", q);
	log_info("pulling image '%s'", op->pull);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.on_data = docker_image_data;
	req.data_arg = op;
	req.timeout_ms = DOCKER_IMAGE_LONG_MS;
	op->x = docker_image_call(op, &req, path, docker_image_produced_cb, &e);
	if (op->x == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "image '%s' not found "
		    "locally and could not be pulled: %s", op->name, e.msg);
	free(q);
	free(path);
}

static void
docker_image_inspected_cb(void *arg, const struct http_response *res)
{
	struct docker_image_op *op = arg;
	char m[512];

	op->x = NULL;
	if (res->status == 200) {
		docker_image_done(op, op->name);
	} else if (res->status == 404) {
		if (op->kind == DOCKER_IMAGE_NAME)
			docker_image_pull(op);
		else
			docker_image_fetch(op);
	} else {
		docker_engine_msg(res, m, sizeof m);
		docker_image_fail(op, CWLD_EXIT_FAILED, "cannot inspect image "
		    "'%s': %s", op->name, m);
	}
}

static void
docker_image_inspect(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	char *ename, *path;

	ename = docker_escape_path(op->name);
	path = xasprintf("/images/%s/json", ename);
	memset(&req, 0, sizeof req);
	req.timeout_ms = DOCKER_SHORT_MS;
	op->x = docker_image_call(op, &req, path, docker_image_inspected_cb, &e);
	if (op->x == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "cannot inspect image "
		    "'%s': %s", op->name, e.msg);
	free(ename);
	free(path);
}

/* Hashes the import tarball a chunk per loop turn; then its tag is known
 * and looked for before anything is imported. */
static void
docker_image_hash_cb(evutil_socket_t fd, short what, void *arg)
{
	static const char hex[] = "0123456789abcdef";
	struct docker_image_op *op = arg;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char *buf, sha[17];
	ssize_t n;
	int saved = 0;

	(void)fd;
	(void)what;
	buf = xmalloc(DOCKER_IMAGE_HASH_CHUNK);
	do
		n = read(op->fd, buf, DOCKER_IMAGE_HASH_CHUNK);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		saved = errno;
	if (n > 0 && EVP_DigestUpdate(op->md, buf, (size_t)n) != 1)
		abort();
	free(buf);
	if (n == -1) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "dockerImport: cannot "
		    "read '%s': %s", op->path != NULL ? op->path : op->src,
		    strerror(saved));
		return;
	}
	if (n > 0) {
		event_active(op->hash_ev, EV_TIMEOUT, 0);
		return;
	}
	if (EVP_DigestFinal_ex(op->md, md, &mdlen) != 1 || mdlen < 8)
		abort();
	for (i = 0; i < 8; i++) {
		sha[2 * i] = hex[md[i] >> 4];
		sha[2 * i + 1] = hex[md[i] & 15];
	}
	sha[16] = '\0';
	op->name = xasprintf("%s:%s", DOCKER_IMAGE_IMPORT_REPO, sha);
	docker_image_inspect(op);
}

static void
docker_image_hash(struct docker_image_op *op)
{
	op->md = EVP_MD_CTX_new();
	if (op->md == NULL || EVP_DigestInit_ex(op->md, EVP_sha256(), NULL) != 1)
		abort();
	op->hash_ev = event_new(op->d->base, -1, 0, docker_image_hash_cb, op);
	if (op->hash_ev == NULL || lseek(op->fd, 0, SEEK_SET) == -1) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "dockerImport '%s': "
		    "cannot hash it", op->src);
		return;
	}
	event_active(op->hash_ev, EV_TIMEOUT, 0);
}

static int
docker_image_dl_data(void *arg, const char *data, size_t len)
{
	struct docker_image_op *op = arg;
	ssize_t w;

	if (op->dl_bytes + (long long)len > DOCKER_IMAGE_MAX_DOWNLOAD) {
		op->dl_errno = EFBIG;
		return -1;
	}
	while (len > 0) {
		w = write(op->fd, data, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			op->dl_errno = errno;
			return -1;
		}
		data += w;
		len -= (size_t)w;
		op->dl_bytes += w;
	}
	return 0;
}

static void
docker_image_downloaded_cb(void *arg, const struct http_response *res)
{
	struct docker_image_op *op = arg;

	op->dlx = NULL; /* op->dl is freed later, outside its callback */
	if (op->dl_errno != 0) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot download "
		    "'%s': %s", docker_image_field(op), op->url,
		    strerror(op->dl_errno));
	} else if (res->status == 0) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot download "
		    "'%s': %s", docker_image_field(op), op->url, res->error);
	} else if (res->status < 200 || res->status > 299) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot download "
		    "'%s': HTTP %ld", docker_image_field(op), op->url,
		    res->status);
	} else {
		log_info("downloaded '%s' (%lld bytes)", op->url, op->dl_bytes);
		free(op->url);
		op->url = NULL; /* the file is here now */
		docker_image_fetch(op);
	}
}

/* A URL's tarball into an unlinked temporary file (gone when closed). */
static void
docker_image_download(struct docker_image_op *op)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	const char *tmp = getenv("TMPDIR");
	char *tmpl;

	tmpl = xasprintf("%s/cwld-image-XXXXXX", tmp != NULL && *tmp != '\0' ?
	    tmp : "/tmp");
	op->fd = mkostemp(tmpl, O_CLOEXEC);
	if (op->fd == -1) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot make a "
		    "temporary file '%s': %s", docker_image_field(op), tmpl,
		    strerror(errno));
		free(tmpl);
		return;
	}
	unlink(tmpl);
	free(tmpl);
	op->dl = http_new(op->d->base, NULL, &e);
	if (op->dl == NULL) {
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot download "
		    "'%s': %s", docker_image_field(op), op->url, e.msg);
		return;
	}
	log_info("downloading '%s'", op->url);
	memset(&req, 0, sizeof req);
	req.url = op->url;
	req.timeout_ms = DOCKER_IMAGE_LONG_MS;
	req.on_data = docker_image_dl_data;
	req.data_arg = op;
	req.follow_redirects = 1;
	op->dlx = http_request_ex(op->dl, &req, docker_image_downloaded_cb, op, &e);
	if (op->dlx == NULL)
		docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot download "
		    "'%s': %s", docker_image_field(op), op->url, e.msg);
}

/* The image is not there: make it, getting its tarball first. */
static void
docker_image_fetch(struct docker_image_op *op)
{
	struct stat st;

	if (op->kind == DOCKER_IMAGE_FILE) {
		docker_image_build(op);
		return;
	}
	if (op->fd == -1) {
		if (op->url != NULL) {
			docker_image_download(op);
			return;
		}
		op->fd = open(op->path, O_RDONLY | O_CLOEXEC);
		if (op->fd == -1 || fstat(op->fd, &st) == -1) {
			docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot read "
			    "'%s': %s", docker_image_field(op), op->path,
			    strerror(errno));
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			docker_image_fail(op, CWLD_EXIT_FAILED, "%s: cannot read "
			    "'%s': not a file", docker_image_field(op), op->path);
			return;
		}
	}
	if (op->kind == DOCKER_IMAGE_IMPORT && op->name == NULL) {
		docker_image_hash(op);
		return;
	}
	docker_image_upload(op);
}

static void
docker_image_begin(struct docker_image_op *op)
{
	if (op->name != NULL)
		docker_image_inspect(op);
	else
		docker_image_fetch(op);
}

static void
docker_image_ready_cb(void *arg, const char *errmsg)
{
	struct docker_image_op *op = arg;

	if (errmsg != NULL)
		docker_image_fail(op, CWLD_EXIT_UNREACHABLE, "docker engine "
		    "unreachable at '%s': %s", op->d->host.spec, errmsg);
	else
		docker_image_begin(op);
}

/* ---- public ------------------------------------------------------------------ */

char *
docker_image_name(const struct docker_image_req *req)
{
	char sha[65];

	if (req->image_id != NULL && *req->image_id != '\0')
		return xstrdup(req->image_id);
	if (req->pull != NULL && *req->pull != '\0')
		return xstrdup(req->pull);
	if (req->dockerfile != NULL) {
		docker_image_sha256_hex(req->dockerfile, strlen(req->dockerfile),
		    sha);
		return xasprintf("%s:%.16s", DOCKER_IMAGE_DOCKERFILE_REPO, sha);
	}
	return NULL;
}

int
docker_image_ensure(struct docker *d, const struct docker_image_req *req,
    docker_image_cb cb, void *arg, struct cwld_err *err)
{
	struct docker_image_op *op = NULL, *o;
	struct docker_image_waiter *w;
	enum docker_image_kind kind;
	const char *field = NULL, *src = NULL;
	char *name = NULL, *path = NULL, *url = NULL, *key = NULL;
	char sha[65] = "";
	int rc, ret = -1;

	if (req->dockerfile != NULL) {
		kind = DOCKER_IMAGE_FILE;
		if (strlen(req->dockerfile) > DOCKER_IMAGE_MAX_DOCKERFILE)
			return err_set(err, CWLD_EXIT_USAGE, "DockerRequirement: "
			    "dockerFile is larger than %u bytes",
			    DOCKER_IMAGE_MAX_DOCKERFILE);
		docker_image_sha256_hex(req->dockerfile, strlen(req->dockerfile),
		    sha);
	} else if (req->load != NULL) {
		kind = DOCKER_IMAGE_LOAD;
		field = "dockerLoad";
		src = req->load;
	} else if (req->import != NULL) {
		kind = DOCKER_IMAGE_IMPORT;
		field = "dockerImport";
		src = req->import;
	} else {
		kind = DOCKER_IMAGE_NAME;
	}
	name = docker_image_name(req);
	if (kind == DOCKER_IMAGE_NAME && name == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "DockerRequirement names no "
		    "image (dockerPull, dockerImageId, dockerLoad, dockerFile or "
		    "dockerImport)");
	if (src != NULL &&
	    docker_image_source(src, req->base_uri, field, &path, &url, err) == -1)
		goto out;
	key = xasprintf("%d|%s|%s|%s|%s|%s", (int)kind, name != NULL ? name : "",
	    sha, path != NULL ? path : "", url != NULL ? url : "",
	    req->pull != NULL ? req->pull : "");

	w = xcalloc(1, sizeof *w);
	w->cb = cb;
	w->progress = req->progress;
	w->arg = arg;
	TAILQ_FOREACH(o, &d->images, entry) {
		if (o->state != DOCKER_IMAGE_FAILED && strcmp(o->key, key) == 0)
			break;
	}
	if (o != NULL) {
		TAILQ_INSERT_TAIL(&o->waiters, w, entry);
		if (o->state == DOCKER_IMAGE_DONE)
			event_active(o->notify, EV_TIMEOUT, 0);
		ret = 0;
		goto out;
	}

	op = xcalloc(1, sizeof *op);
	op->d = d;
	op->kind = kind;
	op->fd = -1;
	TAILQ_INIT(&op->waiters);
	TAILQ_INSERT_TAIL(&op->waiters, w, entry);
	op->key = key;
	key = NULL;
	op->name = name;
	name = NULL;
	op->path = path;
	path = NULL;
	op->url = url;
	url = NULL;
	if (src != NULL)
		op->src = xstrdup(src);
	if (kind == DOCKER_IMAGE_NAME)
		op->pull = xstrdup(req->pull != NULL && *req->pull != '\0' ?
		    req->pull : op->name);
	if (kind == DOCKER_IMAGE_FILE) {
		op->dockerfile = xstrdup(req->dockerfile);
		op->dockerfile_sha = xstrdup(sha);
	}
	op->notify = event_new(d->base, -1, 0, docker_image_notify_cb, op);
	if (op->notify == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "docker: cannot make an event");
		goto out;
	}
	op->ready.cb = docker_image_ready_cb;
	op->ready.arg = op;
	rc = docker_when_ready(d, &op->ready, err);
	if (rc == -1)
		goto out;
	TAILQ_INSERT_TAIL(&d->images, op, entry);
	if (rc == 1)
		docker_image_begin(op); /* a failure comes through notify */
	op = NULL;
	ret = 0;
out:
	docker_image_op_free(op); /* with the one waiter: never called */
	free(name);
	free(path);
	free(url);
	free(key);
	return ret;
}

void
docker_image_cancel_all(struct docker *d)
{
	struct docker_image_op *op;

	TAILQ_FOREACH(op, &d->images, entry)
		docker_image_fail(op, CWLD_EXIT_FAILED, "canceled");
}

void
docker_image_free_all(struct docker *d)
{
	struct docker_image_op *op;

	while ((op = TAILQ_FIRST(&d->images)) != NULL) {
		TAILQ_REMOVE(&d->images, op, entry);
		if (op->dlx != NULL)
			http_cancel(op->dlx);
		op->dlx = NULL;
		docker_image_op_free(op);
	}
}

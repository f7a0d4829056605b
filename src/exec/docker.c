/* Docker Engine API client and container executor. Every call goes through
 * the http module on the event loop (the unix socket or TCP from
 * DOCKER_HOST); the API version is negotiated once with /_ping. One run is a
 * chain of callbacks: inspect image (pull if missing) -> create -> wait
 * (registered before start) and attach (a hijacked connection, also before
 * start, so no output is missed) -> start -> stdin fed and stdout/stderr
 * demultiplexed into their files as they come -> the wait returns and the
 * stream ends -> delete -> the caller's callback. The engine keeps no log
 * copy (log driver "none"): the files are the only record. Creates and
 * starts are bounded; the rest queue. Staging files and deciding mounts is
 * left to the job module. */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "cwld/docker.h"
#include "docker_int.h"
#include "cwld/curl_lazy.h"
#include "cwld/http.h"
#include "cwld/log.h"
#include "cwld/xmalloc.h"
#include "cwld/uri.h"

#define DOCKER_API_MAX_MAJOR 1
#define DOCKER_API_MAX_MINOR 41
#define DOCKER_API_MIN_MINOR 30      /* wait?condition=next-exit */
#define DOCKER_MAX_STARTING 4        /* runs in create/start at once */

#define DOCKER_PULL_MS (30L * 60 * 1000)
#define DOCKER_ATTACH_BUF (64u * 1024)
#define DOCKER_ATTACH_MAX_HDR (16u * 1024)
#define DOCKER_PULL_MAX_BODY (64u * 1024 * 1024)

/* struct docker and the shared helpers are in docker_int.h. */
enum docker_q { DOCKER_Q_NONE, DOCKER_Q_SLOT };

struct docker_run {
	TAILQ_ENTRY(docker_run) entry;
	TAILQ_ENTRY(docker_run) qentry;
	enum docker_q q;
	struct docker *d;
	char *image;
	json_t *body;                /* the create request */
	int timelimit_s;
	int image_present;           /* skip inspect (and pull) */
	char *out_path, *err_path;
	int out_fd, err_fd;
	int in_fd;                   /* stdin file, -1 when none or all sent */
	exec_done_cb cb;
	void *arg;
	struct exec_result res;
	struct docker_waiter ready;  /* until the API version is known */
	char id[72];
	struct http_xfer *op;        /* the current short call */
	struct http_xfer *wait;      /* the long wait, until it returns */
	struct http_xfer *stop;
	struct event *limit;
	struct event *kick;          /* start, once the wait is registered */
	struct event *defer;         /* the first step, from the loop */
	int holds_slot;
	int canceled;
	int delivered;               /* cb has had the result (before removal) */
	int start_done;              /* start answered 2xx */
	int wait_ready;              /* the engine registered the wait */
	int wait_done;
	int removed;
	/* the attached stream */
	struct http_xfer *att;       /* hijacked connection */
	struct event *att_rev, *att_wev;
	char *att_req;               /* request still to send */
	size_t att_req_len, att_req_off;
	char *att_hdr;               /* response head until the blank line */
	size_t att_hdr_len;
	int att_ready;               /* the engine answered 101/200 */
	int att_done;                /* end of stream (or given up) */
	char *in_buf;                /* stdin chunk being sent */
	size_t in_len, in_off;
	/* stream demultiplexing */
	unsigned char hdr[8];
	size_t hdr_len;
	uint32_t frame_left;
	int write_errno;
	const char *write_path;
};

static int docker_run_inspect(struct docker_run *r);
static void docker_run_create(struct docker_run *r);
static void docker_run_remove(struct docker_run *r);
static void docker_run_finish(struct docker_run *r);
static void docker_run_collected(struct docker_run *r);
static void docker_attach_close(struct docker_run *r);

/* ---- hosts, URLs, messages ---------------------------------------------- */

void
docker_host_release(struct docker_host *dh)
{
	free(dh->spec);
	free(dh->unix_path);
	free(dh->base_url);
	memset(dh, 0, sizeof *dh);
}

int
docker_host_parse(struct docker_host *dh, const char *host, struct cwld_err *err)
{
	const char *h = host;

	memset(dh, 0, sizeof *dh);
	if (h == NULL || *h == '\0')
		h = getenv("DOCKER_HOST");
	if (h == NULL || *h == '\0')
		h = DOCKER_DEFAULT_HOST;
	if (strncmp(h, "unix://", 7) == 0 && h[7] == '/') {
		dh->unix_path = xstrdup(h + 7);
		dh->base_url = xstrdup("http://localhost");
	} else if (strncmp(h, "tcp://", 6) == 0 && h[6] != '\0') {
		dh->base_url = xasprintf("http://%s", h + 6);
	} else if (strncmp(h, "http://", 7) == 0 && h[7] != '\0') {
		dh->base_url = xstrdup(h);
	} else {
		return err_set(err, CWLD_EXIT_USAGE,
		    "unsupported docker host '%s' (want unix:///path or "
		    "tcp://host:port)", h);
	}
	/* no trailing slash: paths are appended */
	if (dh->base_url[strlen(dh->base_url) - 1] == '/')
		dh->base_url[strlen(dh->base_url) - 1] = '\0';
	dh->spec = xstrdup(h);
	return 0;
}

/* Percent-encodes what may not stand in a URL path segment; keeps the '/',
 * ':' and '@' of image references. New string. */
char *
docker_escape_path(const char *s)
{
	return uri_percent_encode(s, "/:@._-");
}

/* Query-string encoding. New string (ours, not curl's). */
char *
docker_escape_query(const char *s)
{
	char *c = curl_easy_escape(NULL, s, 0);
	char *out;

	if (c == NULL)
		abort();
	out = xstrdup(c);
	curl_free(c);
	return out;
}

/* The engine's "message" from an error response, else what is known. */
void
docker_engine_msg(const struct http_response *res, char *buf, size_t size)
{
	json_t *j;
	const char *m;
	size_t n;

	if (res->status == 0) {
		snprintf(buf, size, "%s", res->error != NULL ? res->error :
		    "transfer failed");
		return;
	}
	j = json_loadb(res->body, res->len, 0, NULL);
	m = json_string_value(json_object_get(j, "message"));
	if (m != NULL) {
		snprintf(buf, size, "%s", m);
	} else {
		n = res->len;
		if (n > 200)
			n = 200;
		while (n > 0 && isspace((unsigned char)res->body[n - 1]))
			n--;
		snprintf(buf, size, "HTTP %ld%s%.*s", res->status,
		    n > 0 ? ": " : "", (int)n, res->body);
	}
	json_decref(j);
}

/* Picks min(engine's API-Version, the version we are written for). */
static int
docker_api_prefix(const char *version, char **out, struct cwld_err *err)
{
	unsigned long major, minor;
	char *end;

	if (version == NULL)
		return err_set(err, CWLD_EXIT_UNREACHABLE,
		    "docker engine did not send an API-Version header");
	errno = 0;
	major = strtoul(version, &end, 10);
	if (errno != 0 || *end != '.')
		goto bad;
	minor = strtoul(end + 1, &end, 10);
	if (errno != 0 || (*end != '\0' && !isspace((unsigned char)*end)))
		goto bad;
	if (major > DOCKER_API_MAX_MAJOR || (major == DOCKER_API_MAX_MAJOR &&
	    minor > DOCKER_API_MAX_MINOR)) {
		major = DOCKER_API_MAX_MAJOR;
		minor = DOCKER_API_MAX_MINOR;
	}
	if (major < 1 || (major == 1 && minor < DOCKER_API_MIN_MINOR))
		return err_set(err, CWLD_EXIT_UNREACHABLE,
		    "docker engine API %s is too old (1.%d needed)", version,
		    DOCKER_API_MIN_MINOR);
	*out = xasprintf("/v%lu.%lu", major, minor);
	return 0;
bad:
	return err_set(err, CWLD_EXIT_UNREACHABLE,
	    "docker engine sent a bad API-Version '%s'", version);
}

/* ---- owners -------------------------------------------------------------- */

#define DOCKER_LABEL_PID "cwld.pid"
#define DOCKER_LABEL_HOST "cwld.host"
#define DOCKER_LABEL_OWNER "cwld.owner"
#define DOCKER_LABEL_STATE "cwld.state"

/* The state directory of the daemon this process is (docker_owner_set_state),
 * or NULL. */
static char *docker_owner_state;

void
docker_owner_set_state(const char *state_dir)
{
	free(docker_owner_state);
	docker_owner_state = state_dir != NULL ? xstrdup(state_dir) : NULL;
}

static const char *
docker_owner_pid(void)
{
	static char buf[24];

	snprintf(buf, sizeof buf, "%ld", (long)getpid());
	return buf;
}

static const char *
docker_owner_host(void)
{
	static char buf[256];

	if (buf[0] == '\0' && gethostname(buf, sizeof buf - 1) == -1)
		snprintf(buf, sizeof buf, "unknown");
	return buf;
}

/* Whether a container (its Labels) belongs to a cwld process that is gone:
 * started on this host by a pid that no longer exists. Containers from
 * other hosts, from a live process, or without owner labels (started by a
 * cwld from before they existed, which may still be running) are not. */
static int
docker_orphaned(const json_t *labels)
{
	const char *pid = json_string_value(json_object_get(labels, DOCKER_LABEL_PID));
	const char *host = json_string_value(json_object_get(labels, DOCKER_LABEL_HOST));
	char *end;
	long p;

	if (pid == NULL)
		return 0; /* an older cwld's, maybe still running: --all only */
	if (json_object_get(labels, DOCKER_LABEL_OWNER))
		return 0; /* a daemon's: the next daemon resumes or removes it */
	if (host == NULL || strcmp(host, docker_owner_host()) != 0)
		return 0;
	errno = 0;
	p = strtol(pid, &end, 10);
	if (errno != 0 || *end != '\0' || p <= 0)
		return 1;
	if (p == (long)getpid())
		return 0;
	return kill((pid_t)p, 0) == -1 && errno == ESRCH;
}

/* The list path for containers labelled cwld.run (=run_id). New string. */
static char *
docker_list_path(const char *api, const char *run_id)
{
	json_t *filters;
	char *label, *ftext, *enc, *path;

	label = run_id != NULL ? xasprintf("cwld.run=%s", run_id) :
	    xstrdup("cwld.run");
	filters = json_pack("{s:[s]}", "label", label);
	ftext = json_dumps(filters, JSON_COMPACT);
	if (ftext == NULL)
		abort();
	enc = docker_escape_query(ftext);
	path = xasprintf("%s/containers/json?all=1&filters=%s", api != NULL ?
	    api : "", enc);
	json_decref(filters);
	free(label);
	free(ftext);
	free(enc);
	return path;
}

/* ---- the create request --------------------------------------------------- */

/* A bind mount source must be absolute for the engine. New string or NULL. */
static char *
docker_abs(const char *path, struct cwld_err *err)
{
	char *r;

	if (path[0] == '/')
		return xstrdup(path);
	r = realpath(path, NULL);
	if (r == NULL)
		err_set(err, CWLD_EXIT_FAILED, "cannot resolve '%s': %s", path,
		    strerror(errno));
	return r;
}

/* Appends a mount unless its target is taken (then both must be read-only
 * for the kept one to stay read-only): the engine refuses duplicates. */
static void
docker_add_mount(json_t *mounts, const char *source, const char *target,
    int readonly)
{
	size_t i;
	json_t *m;

	json_array_foreach(mounts, i, m) {
		if (strcmp(json_string_value(json_object_get(m, "Target")),
		    target) == 0) {
			if (!readonly)
				json_object_set_new(m, "ReadOnly", json_false());
			return;
		}
	}
	json_array_append_new(mounts, json_pack("{s:s, s:s, s:s, s:b}",
	    "Type", "bind", "Source", source, "Target", target,
	    "ReadOnly", readonly ? 1 : 0));
}

/* The body of POST /containers/create for spec. New reference or NULL. */
static json_t *
docker_create_body(const struct exec_spec *spec, struct cwld_err *err)
{
	json_t *body = NULL, *cmd, *env, *labels, *hc, *mounts;
	char *src = NULL, *user = NULL, *attempt = NULL;
	char *const *a;
	size_t i;

	body = json_object();
	cmd = json_array();
	for (a = spec->argv; *a != NULL; a++)
		json_array_append_new(cmd, json_string(*a));
	json_object_set_new(body, "Image", json_string(spec->image));
	/* no Entrypoint: an empty one would clear the image's */
	json_object_set_new(body, "Cmd", cmd);
	if (spec->env != NULL) {
		env = json_array();
		for (a = spec->env; *a != NULL; a++)
			json_array_append_new(env, json_string(*a));
		json_object_set_new(body, "Env", env);
	}
	if (spec->cwd != NULL)
		json_object_set_new(body, "WorkingDir", json_string(spec->cwd));
	user = xasprintf("%lu:%lu", (unsigned long)getuid(),
	    (unsigned long)getgid());
	json_object_set_new(body, "User", json_string(user));
	json_object_set_new(body, "Tty", json_false());
	/* stdin stays open until the attached stream half-closes, once */
	json_object_set_new(body, "OpenStdin", json_boolean(spec->stdin_path != NULL));
	json_object_set_new(body, "StdinOnce", json_boolean(spec->stdin_path != NULL));
	json_object_set_new(body, "AttachStdin", json_boolean(spec->stdin_path != NULL));
	json_object_set_new(body, "AttachStdout", json_true());
	json_object_set_new(body, "AttachStderr", json_true());
	attempt = xasprintf("%d", spec->attempt);
	/* who owns it: docker_gc_sync and the sweep at the next start remove
	 * containers whose cwld process has died */
	labels = json_pack("{s:s, s:s, s:s, s:s, s:s}",
	    "cwld.run", spec->run_id != NULL ? spec->run_id : "",
	    "cwld.step", spec->step_id != NULL ? spec->step_id : "",
	    "cwld.attempt", attempt,
	    DOCKER_LABEL_PID, docker_owner_pid(),
	    DOCKER_LABEL_HOST, docker_owner_host());
	if (spec->daemon) {
		json_object_set_new(labels, DOCKER_LABEL_OWNER, json_string("serve"));
		if (docker_owner_state != NULL)
			json_object_set_new(labels, DOCKER_LABEL_STATE,
			    json_string(docker_owner_state));
	}
	json_object_set_new(body, "Labels", labels);

	hc = json_object();
	mounts = json_array();
	for (i = 0; i < spec->nmounts; i++) {
		src = docker_abs(spec->mounts[i].source, err);
		if (src == NULL) {
			json_decref(mounts);
			json_decref(hc);
			goto fail;
		}
		docker_add_mount(mounts, src, spec->mounts[i].target,
		    spec->mounts[i].readonly);
		free(src);
		src = NULL;
	}
	json_object_set_new(hc, "Mounts", mounts);
	/* the attached stream writes the files: no second copy in the engine,
	 * except for a daemon, which may have to read it after a restart */
	json_object_set_new(hc, "LogConfig", json_pack("{s:s, s:{}}", "Type",
	    spec->daemon ? "json-file" : "none", "Config"));
	if (!spec->network)
		json_object_set_new(hc, "NetworkMode", json_string("none"));
	if (spec->memory_mb > 0) {
		json_int_t bytes = (json_int_t)spec->memory_mb * 1024 * 1024;

		json_object_set_new(hc, "Memory", json_integer(bytes));
		/* without MemorySwap the container may swap as much again */
		json_object_set_new(hc, "MemorySwap", json_integer(bytes));
	}
	if (spec->cores > 0)
		json_object_set_new(hc, "NanoCpus",
		    json_integer((json_int_t)(spec->cores * 1e9 + 0.5)));
	/* a real PID 1: stop takes 0.05 s instead of the grace period */
	json_object_set_new(hc, "Init", json_true());
	json_object_set_new(body, "HostConfig", hc);
	free(user);
	free(attempt);
	return body;
fail:
	free(user);
	free(attempt);
	json_decref(body);
	return NULL;
}

/* ---- requests ------------------------------------------------------------ */

struct http_xfer *
docker_req(struct docker *d, const char *method, const char *path,
    const json_t *body, long timeout_ms, http_cb cb, void *arg,
    struct cwld_err *err)
{
	struct http_req req;
	struct http_xfer *x;
	char *url, *text = NULL;

	url = xasprintf("%s%s%s", d->host.base_url, d->api != NULL ? d->api :
	    "", path);
	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.timeout_ms = timeout_ms;
	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		if (text == NULL)
			abort();
		req.body = text;
		req.body_len = strlen(text);
		req.content_type = "application/json";
	}
	x = http_request_ex(d->http, &req, cb, arg, err);
	free(url);
	free(text);
	return x;
}

/* Starts a request for run r as its current op; on failure the run ends. */
static int
docker_run_op(struct docker_run *r, const char *method, const char *path,
    const json_t *body, long timeout_ms, http_cb cb)
{
	struct cwld_err e = { 0, "" };

	r->op = docker_req(r->d, method, path, body, timeout_ms, cb, r, &e);
	if (r->op == NULL) {
		if (r->res.msg[0] == '\0')
			snprintf(r->res.msg, sizeof r->res.msg, "%.500s", e.msg);
		return -1;
	}
	return 0;
}

/* ---- slots: bounded create/start ---------------------------------------- */

static void
docker_slot_release(struct docker_run *r)
{
	struct docker *d = r->d;
	struct docker_run *n;

	if (!r->holds_slot)
		return;
	r->holds_slot = 0;
	d->starting--;
	while (d->starting < DOCKER_MAX_STARTING &&
	    (n = TAILQ_FIRST(&d->slot_q)) != NULL) {
		TAILQ_REMOVE(&d->slot_q, n, qentry);
		n->q = DOCKER_Q_NONE;
		n->holds_slot = 1;
		d->starting++;
		docker_run_create(n);
	}
}

static void docker_slot_acquire(struct docker_run *r);

static void
docker_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	docker_slot_acquire(arg);
}

static void
docker_slot_acquire(struct docker_run *r)
{
	struct docker *d = r->d;

	if (d->starting < DOCKER_MAX_STARTING) {
		r->holds_slot = 1;
		d->starting++;
		docker_run_create(r);
		return;
	}
	r->q = DOCKER_Q_SLOT;
	TAILQ_INSERT_TAIL(&d->slot_q, r, qentry);
}

/* ---- the run, step by step ------------------------------------------------ */

/* Hands the result to the caller, once: the files are complete and closed
 * first. Removal may still follow; it is not the caller's wait. */
static void
docker_run_deliver(struct docker_run *r)
{
	if (r->delivered)
		return;
	r->delivered = 1;
	if (r->timelimit_s > 0 && r->res.timed_out && r->res.msg[0] == '\0')
		snprintf(r->res.msg, sizeof r->res.msg,
		    "time limit of %d s exceeded", r->timelimit_s);
	if (r->canceled && r->res.msg[0] == '\0')
		snprintf(r->res.msg, sizeof r->res.msg, "canceled");
	if (r->out_fd != -1)
		close(r->out_fd);
	if (r->err_fd != -1)
		close(r->err_fd);
	r->out_fd = r->err_fd = -1;
	r->cb(r->arg, &r->res);
}

static void
docker_run_finish(struct docker_run *r)
{
	struct docker *d = r->d;

	docker_slot_release(r);
	docker_waiter_cancel(d, &r->ready);
	if (r->q == DOCKER_Q_SLOT)
		TAILQ_REMOVE(&d->slot_q, r, qentry);
	r->q = DOCKER_Q_NONE;
	http_cancel(r->op);
	http_cancel(r->wait);
	http_cancel(r->stop);
	r->op = r->wait = r->stop = NULL;
	TAILQ_REMOVE(&d->runs, r, entry);
	docker_attach_close(r);
	if (r->limit != NULL)
		event_free(r->limit);
	if (r->kick != NULL)
		event_free(r->kick);
	if (r->defer != NULL)
		event_free(r->defer);
	r->limit = r->kick = r->defer = NULL;
	docker_run_deliver(r);
	json_decref(r->body);
	free(r->image);
	free(r->out_path);
	free(r->err_path);
	free(r);
}

/* Ends a run that never started a container (or whose container is gone). */
static void
docker_run_fail(struct docker_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
docker_run_fail(struct docker_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->res.msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(r->res.msg, sizeof r->res.msg, fmt, ap);
		va_end(ap);
	}
	if (r->id[0] != '\0' && !r->removed)
		docker_run_remove(r);
	else
		docker_run_finish(r);
}

/* 409 "removal ... is already in progress": someone else (a gc, another
 * cwld's sweep, a user) is removing it; the outcome is the same. */
static int
docker_removing(const struct http_response *res)
{
	return res->status == 409 && res->body != NULL &&
	    strstr(res->body, "already in progress") != NULL;
}

static void
docker_removed_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	char m[256];

	r->op = NULL;
	if (res->status != 204 && res->status != 404 && !docker_removing(res)) {
		docker_engine_msg(res, m, sizeof m);
		log_warnx("cannot remove container %.12s: %s", r->id, m);
	}
	r->removed = 1;
	docker_run_finish(r);
}

static void
docker_run_remove(struct docker_run *r)
{
	char *path;

	path = xasprintf("/containers/%s?force=1", r->id);
	if (docker_run_op(r, "DELETE", path, NULL, DOCKER_SHORT_MS,
	    docker_removed_cb) == -1) {
		log_warnx("cannot remove container %.12s: %s", r->id,
		    r->res.msg);
		docker_run_finish(r);
	}
	free(path);
}

static int
docker_write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Demultiplexes the framed stream (8-byte header: stream type, three zero
 * bytes, big-endian length) into the files as it arrives. */
static int
docker_demux(struct docker_run *r, const char *data, size_t len)
{
	size_t n;
	int fd;

	while (len > 0) {
		if (r->hdr_len < sizeof r->hdr) {
			n = sizeof r->hdr - r->hdr_len;
			if (n > len)
				n = len;
			memcpy(r->hdr + r->hdr_len, data, n);
			r->hdr_len += n;
			data += n;
			len -= n;
			if (r->hdr_len == sizeof r->hdr) {
				r->frame_left = (uint32_t)r->hdr[4] << 24 |
				    (uint32_t)r->hdr[5] << 16 |
				    (uint32_t)r->hdr[6] << 8 | r->hdr[7];
				if (r->frame_left == 0)
					r->hdr_len = 0;
			}
			continue;
		}
		n = r->frame_left < len ? r->frame_left : len;
		fd = r->hdr[0] == 2 ? r->err_fd : r->hdr[0] == 1 ? r->out_fd : -1;
		if (fd != -1 && docker_write_all(fd, data, n) == -1) {
			r->write_errno = errno;
			r->write_path = fd == r->err_fd ? r->err_path :
			    r->out_path;
			return -1;
		}
		data += n;
		len -= n;
		r->frame_left -= (uint32_t)n;
		if (r->frame_left == 0)
			r->hdr_len = 0;
	}
	return 0;
}

/* ---- the attached stream ----------------------------------------------- */

/* Every output byte is in the files (or the stream failed): the run may be
 * removed once the wait has returned too. */
static void
docker_attach_end(struct docker_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
docker_attach_end(struct docker_run *r, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL && r->res.msg[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(r->res.msg, sizeof r->res.msg, fmt, ap);
		va_end(ap);
	}
	docker_attach_close(r);
	r->att_done = 1;
	if (r->att_ready) {
		docker_run_collected(r);
	} else if (!r->start_done && r->op == NULL) {
		/* never started and never will: the wait would never return */
		http_cancel(r->wait);
		r->wait = NULL;
		docker_run_fail(r, "cannot attach to container %.12s", r->id);
	}
}

static void
docker_attach_close(struct docker_run *r)
{
	if (r->att_rev != NULL)
		event_free(r->att_rev);
	if (r->att_wev != NULL)
		event_free(r->att_wev);
	r->att_rev = r->att_wev = NULL;
	http_cancel(r->att);
	r->att = NULL;
	if (r->in_fd != -1)
		close(r->in_fd);
	r->in_fd = -1;
	free(r->att_req);
	free(r->att_hdr);
	free(r->in_buf);
	r->att_req = r->att_hdr = r->in_buf = NULL;
}

static void docker_maybe_start(struct docker_run *r);

/* The response head: "HTTP/1.1 101 UPGRADED" (or 200) then the raw stream.
 * Returns bytes of stream data after the head in buf, -1 when the engine
 * refused (the run is failed), -2 while the head is incomplete. */
static ssize_t
docker_attach_head(struct docker_run *r, const char *buf, size_t n)
{
	const char *end, *body;
	char m[256], *p;
	long status;
	json_t *j;
	size_t used;

	if (r->att_hdr_len + n > DOCKER_ATTACH_MAX_HDR) {
		docker_attach_end(r, "cannot attach to container %.12s: "
		    "answer too long", r->id);
		return -1;
	}
	r->att_hdr = xreallocarray(r->att_hdr, r->att_hdr_len + n + 1, 1);
	memcpy(r->att_hdr + r->att_hdr_len, buf, n);
	r->att_hdr_len += n;
	r->att_hdr[r->att_hdr_len] = '\0';
	end = strstr(r->att_hdr, "\r\n\r\n");
	if (end == NULL)
		return -2;
	body = end + 4;
	used = (size_t)(body - r->att_hdr);
	status = strncmp(r->att_hdr, "HTTP/1.", 7) == 0 ?
	    strtol(r->att_hdr + 9, NULL, 10) : 0;
	if (status != 101 && status != 200) {
		j = json_loads(body, 0, NULL);
		snprintf(m, sizeof m, "%s", json_string_value(json_object_get(j,
		    "message")) != NULL ? json_string_value(json_object_get(j,
		    "message")) : "unexpected answer");
		json_decref(j);
		p = strchr(r->att_hdr, '\r');
		if (p != NULL)
			*p = '\0';
		docker_attach_end(r, "cannot attach to container %.12s: %s (%.40s)",
		    r->id, m, r->att_hdr);
		return -1;
	}
	r->att_ready = 1;
	/* what followed the head in this read is stream data */
	return (ssize_t)(r->att_hdr_len - used);
}

static void
docker_attach_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_run *r = arg;
	char buf[DOCKER_ATTACH_BUF];
	ssize_t n, data;
	int rounds;

	(void)fd;
	(void)what;
	/* a few reads per wakeup keep one busy stream from starving others */
	for (rounds = 0; rounds < 16 && r->att != NULL; rounds++) {
		n = http_conn_recv(r->att, buf, sizeof buf);
		if (n == HTTP_AGAIN)
			return;
		if (n <= 0) {
			if (!r->att_ready)
				docker_attach_end(r, "cannot attach to container "
				    "%.12s: the engine closed the connection", r->id);
			else
				docker_attach_end(r, n == 0 ? NULL :
				    "output of container %.12s cut short: connection "
				    "error", r->id);
			return;
		}
		data = n;
		if (!r->att_ready) {
			data = docker_attach_head(r, buf, (size_t)n);
			if (data == -1 || data == -2)
				return;
			/* docker_attach_head keeps the head only */
			free(r->att_hdr);
			r->att_hdr = NULL;
			if (r->in_fd != -1 && r->att_req == NULL)
				event_add(r->att_wev, NULL);
			docker_maybe_start(r);
			if (r->att == NULL)
				return;
		}
		if (data > 0 && docker_demux(r, buf + (n - data), (size_t)data) == -1) {
			docker_attach_end(r, "cannot write '%s': %s", r->write_path,
			    strerror(r->write_errno));
			return;
		}
	}
}

/* Sends what is pending: the request, then (once the container may read)
 * stdin in chunks, then half-closes so the tool sees end of input. */
static void
docker_attach_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_run *r = arg;
	ssize_t n;

	(void)what;
	for (;;) {
		if (r->att_req != NULL) {
			n = http_conn_send(r->att, r->att_req + r->att_req_off,
			    r->att_req_len - r->att_req_off);
			if (n == HTTP_AGAIN)
				goto again;
			if (n < 0)
				goto fail;
			r->att_req_off += (size_t)n;
			if (r->att_req_off < r->att_req_len)
				continue;
			free(r->att_req);
			r->att_req = NULL;
			continue;
		}
		/* stdin only once the engine has taken the connection over:
		 * bytes sent before its answer would be lost in its buffer */
		if (r->in_fd == -1 || !r->att_ready)
			return;
		if (r->in_off == r->in_len) {
			do
				n = read(r->in_fd, r->in_buf, DOCKER_ATTACH_BUF);
			while (n == -1 && errno == EINTR);
			if (n < 0) {
				docker_attach_end(r, "cannot read stdin for container "
				    "%.12s: %s", r->id, strerror(errno));
				return;
			}
			if (n == 0) {
				close(r->in_fd);
				r->in_fd = -1;
				if (shutdown(fd, SHUT_WR) == -1)
					log_warnx("container %.12s: cannot close stdin: %s",
					    r->id, strerror(errno));
				return;
			}
			r->in_len = (size_t)n;
			r->in_off = 0;
		}
		n = http_conn_send(r->att, r->in_buf + r->in_off,
		    r->in_len - r->in_off);
		if (n == HTTP_AGAIN)
			goto again;
		if (n < 0)
			goto fail;
		r->in_off += (size_t)n;
	}
again:
	event_add(r->att_wev, NULL);
	return;
fail:
	docker_attach_end(r, "cannot write to container %.12s: connection error",
	    r->id);
}

static void
docker_attach_connected(void *arg, struct http_xfer *conn, const char *error)
{
	struct docker_run *r = arg;
	int fd;

	if (conn == NULL) {
		r->att = NULL;
		docker_attach_end(r, "cannot attach to container %.12s: %s", r->id,
		    error != NULL ? error : "no connection");
		return;
	}
	fd = http_conn_fd(conn);
	r->att_rev = fd == -1 ? NULL : event_new(r->d->base, fd,
	    EV_READ | EV_PERSIST, docker_attach_read_cb, r);
	r->att_wev = fd == -1 ? NULL : event_new(r->d->base, fd, EV_WRITE,
	    docker_attach_write_cb, r);
	if (r->att_rev == NULL || r->att_wev == NULL) {
		docker_attach_end(r, "cannot attach to container %.12s: no socket",
		    r->id);
		return;
	}
	event_add(r->att_rev, NULL);
	docker_attach_write_cb(fd, EV_WRITE, r);
}

/* Opens the hijacked attach connection (stdin only when there is a file to
 * feed). Failures end up in docker_attach_end. */
static void
docker_attach_open(struct docker_run *r)
{
	struct cwld_err e = { 0, "" };

	r->att_req = xasprintf("POST %s/containers/%s/attach?stream=1&stdout=1"
	    "&stderr=1%s HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n"
	    "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n", r->d->api, r->id,
	    r->in_fd != -1 ? "&stdin=1" : "");
	r->att_req_len = strlen(r->att_req);
	if (r->in_fd != -1)
		r->in_buf = xmalloc(DOCKER_ATTACH_BUF);
	r->att = http_connect(r->d->http, r->d->host.base_url, DOCKER_SHORT_MS,
	    docker_attach_connected, r, &e);
	if (r->att == NULL)
		docker_attach_end(r, "cannot attach to container %.12s: %s", r->id,
		    e.msg);
}

/* The container has ended and its stream is drained: the caller has its
 * result now (the next step need not wait for the removal; a cancelled or
 * stopped one's result waits for it), then it is removed. */
static void
docker_run_collected(struct docker_run *r)
{
	if (r->wait_done && r->att_done && r->start_done && r->op == NULL &&
	    !r->removed) {
		/* a cancelled or stopped run ends once its container is gone */
		if (!r->canceled && !r->res.timed_out)
			docker_run_deliver(r);
		docker_run_remove(r);
	}
}

static void
docker_stop_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	char m[256];

	r->stop = NULL;
	if (res->status != 204 && res->status != 304 && res->status != 404) {
		docker_engine_msg(res, m, sizeof m);
		log_warnx("cannot stop container %.12s: %s", r->id, m);
	}
}

static void
docker_run_stop(struct docker_run *r)
{
	struct cwld_err e = { 0, "" };
	char *path;

	if (r->stop != NULL || r->wait_done || !r->start_done)
		return;
	path = xasprintf("/containers/%s/stop?t=1", r->id);
	r->stop = docker_req(r->d, "POST", path, NULL, DOCKER_SHORT_MS,
	    docker_stop_cb, r, &e);
	if (r->stop == NULL)
		log_warnx("cannot stop container %.12s: %s", r->id, e.msg);
	free(path);
}

static void
docker_limit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_run *r = arg;

	(void)fd;
	(void)what;
	r->res.timed_out = 1;
	docker_run_stop(r);
}

static void
docker_wait_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	json_t *j = NULL;
	const char *emsg;
	char m[256];

	r->wait = NULL;
	r->wait_done = 1;
	if (res->status == 200) {
		j = json_loadb(res->body, res->len, 0, NULL);
		r->res.exit_code = (int)json_integer_value(json_object_get(j,
		    "StatusCode"));
		emsg = json_string_value(json_object_get(json_object_get(j,
		    "Error"), "Message"));
		if (emsg != NULL && *emsg != '\0' && r->res.msg[0] == '\0')
			snprintf(r->res.msg, sizeof r->res.msg, "%s", emsg);
		json_decref(j);
	} else {
		docker_engine_msg(res, m, sizeof m);
		if (r->res.msg[0] == '\0')
			snprintf(r->res.msg, sizeof r->res.msg,
			    "cannot wait for container %.12s: %s", r->id, m);
		r->res.exit_code = -1;
	}
	if (r->limit != NULL)
		evtimer_del(r->limit);
	if (!r->start_done) {
		/* start still in flight or failed: its callback decides */
		if (r->op == NULL) {
			docker_attach_close(r);
			docker_run_fail(r, "container %.12s ended before it "
			    "started", r->id);
		}
		return;
	}
	docker_run_collected(r);
}

static void
docker_started_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	struct timeval tv;
	char m[512];

	r->op = NULL;
	docker_slot_release(r);
	if (res->status != 204 && res->status != 304) {
		docker_engine_msg(res, m, sizeof m);
		r->res.exit_code = 0;
		/* the wait may never return for a container that never ran */
		http_cancel(r->wait);
		r->wait = NULL;
		docker_attach_close(r);
		docker_run_fail(r, "cannot start container: %s", m);
		return;
	}
	r->start_done = 1;
	r->res.started = 1;
	if (r->wait_done) {
		docker_run_collected(r);
		return;
	}
	if (r->canceled) {
		docker_run_stop(r);
	} else if (r->timelimit_s > 0) {
		r->limit = evtimer_new(r->d->base, docker_limit_cb, r);
		if (r->limit != NULL) {
			tv.tv_sec = r->timelimit_s;
			tv.tv_usec = 0;
			evtimer_add(r->limit, &tv);
		}
	}
}

/* Sends start once both the wait and the attach are registered, from the
 * loop rather than inside curl's header callback. */
static void
docker_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct docker_run *r = arg;
	char *path;

	(void)fd;
	(void)what;
	if (r->wait == NULL || r->wait_done || r->op != NULL || r->start_done)
		return; /* docker_wait_cb has taken over */
	if (!r->wait_ready || !r->att_ready)
		return;
	if (r->canceled) {
		/* never started: the wait would never return */
		http_cancel(r->wait);
		r->wait = NULL;
		docker_attach_close(r);
		docker_run_fail(r, "canceled");
		return;
	}
	path = xasprintf("/containers/%s/start", r->id);
	if (docker_run_op(r, "POST", path, NULL, DOCKER_SHORT_MS,
	    docker_started_cb) == -1) {
		http_cancel(r->wait);
		r->wait = NULL;
		docker_attach_close(r);
		docker_run_fail(r, "cannot start container");
	}
	free(path);
}

static void
docker_maybe_start(struct docker_run *r)
{
	if (r->kick != NULL && r->wait_ready && r->att_ready)
		event_active(r->kick, EV_TIMEOUT, 0);
}

/* The wait's headers arrived: the engine has registered it (it flushes them
 * before waiting), so the exit cannot be missed and start may go. Runs
 * inside a curl callback: only schedules. */
static void
docker_wait_headers(void *arg, long status, const char *headers)
{
	struct docker_run *r = arg;

	(void)headers;
	if (status != 200)
		return; /* docker_wait_cb reports it */
	r->wait_ready = 1;
	docker_maybe_start(r);
}

static void
docker_created_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	struct cwld_err e = { 0, "" };
	struct http_req req;
	json_t *j;
	const char *id;
	char m[512], *url;

	r->op = NULL;
	if (res->status != 201) {
		docker_engine_msg(res, m, sizeof m);
		docker_run_fail(r, "cannot create container: %s", m);
		return;
	}
	j = json_loadb(res->body, res->len, 0, NULL);
	id = json_string_value(json_object_get(j, "Id"));
	if (id == NULL || strlen(id) >= sizeof r->id) {
		json_decref(j);
		docker_run_fail(r, "cannot create container: no id in answer");
		return;
	}
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->res.container_id, sizeof r->res.container_id, "%s", id);
	json_decref(j);
	if (r->canceled) {
		docker_run_fail(r, "canceled");
		return;
	}
	r->kick = event_new(r->d->base, -1, 0, docker_kick_cb, r);
	if (r->kick == NULL) {
		docker_run_fail(r, "cannot create container: out of events");
		return;
	}
	url = xasprintf("%s%s/containers/%s/wait?condition=next-exit",
	    r->d->host.base_url, r->d->api, r->id);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = url;
	req.timeout_ms = 0; /* as long as the tool runs */
	req.on_headers = docker_wait_headers;
	req.data_arg = r;
	r->wait = http_request_ex(r->d->http, &req, docker_wait_cb, r, &e);
	free(url);
	if (r->wait == NULL) {
		docker_run_fail(r, "cannot wait for container: %s", e.msg);
		return;
	}
	docker_attach_open(r);
}

static void
docker_run_create(struct docker_run *r)
{
	if (r->canceled) {
		docker_run_fail(r, "canceled");
		return;
	}
	if (docker_run_op(r, "POST", "/containers/create", r->body,
	    DOCKER_SHORT_MS, docker_created_cb) == -1)
		docker_run_fail(r, "cannot create container");
}

/* A pull answers 200 and streams JSON lines; a failure is a line with an
 * "error" key. Returns the first error (borrowed from a new buf) or NULL. */
static char *
docker_pull_error(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *nl;
	json_t *j;
	const char *e;
	char *out = NULL;

	while (p < end && out == NULL) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		j = json_loadb(p, (size_t)(nl - p), 0, NULL);
		e = json_string_value(json_object_get(j, "error"));
		if (e == NULL)
			e = json_string_value(json_object_get(json_object_get(j,
			    "errorDetail"), "message"));
		if (e != NULL)
			out = xstrdup(e);
		json_decref(j);
		p = nl + 1;
	}
	return out;
}

static void
docker_pulled_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	char m[400], *perr = NULL;

	r->op = NULL;
	if (res->status == 200)
		perr = docker_pull_error(res->body, res->len);
	if (res->status != 200 || perr != NULL) {
		if (perr != NULL)
			snprintf(m, sizeof m, "%s", perr);
		else
			docker_engine_msg(res, m, sizeof m);
		free(perr);
		docker_run_fail(r, "image '%s' not found locally and could not "
		    "be pulled: %s", r->image, m);
		return;
	}
	docker_slot_acquire(r);
}

static void
docker_run_pull(struct docker_run *r)
{
	struct cwld_err e = { 0, "" };
	struct http_req req;
	const char *slash, *colon;
	char *name = NULL, *tag = NULL, *url = NULL;
	char *ename = NULL, *etag = NULL;

	if (r->canceled) {
		docker_run_fail(r, "canceled");
		return;
	}
	/* without a tag the engine would pull every tag */
	slash = strrchr(r->image, '/');
	colon = strrchr(slash != NULL ? slash : r->image, ':');
	if (strchr(r->image, '@') != NULL) {
		name = xstrdup(r->image);
	} else if (colon != NULL) {
		name = xstrndup(r->image, (size_t)(colon - r->image));
		tag = xstrdup(colon + 1);
	} else {
		name = xstrdup(r->image);
		tag = xstrdup("latest");
	}
	ename = docker_escape_query(name);
	if (tag != NULL)
		etag = docker_escape_query(tag);
	url = xasprintf("%s%s/images/create?fromImage=%s%s%s",
	    r->d->host.base_url, r->d->api, ename, etag != NULL ? "&tag=" : "",
	    etag != NULL ? etag : "");
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = url;
	req.timeout_ms = DOCKER_PULL_MS;
	req.max_body = DOCKER_PULL_MAX_BODY;
	r->op = http_request_ex(r->d->http, &req, docker_pulled_cb, r, &e);
	if (r->op == NULL)
		docker_run_fail(r, "image '%s' not found locally and could not "
		    "be pulled: %s", r->image, e.msg);
	free(name);
	free(tag);
	free(ename);
	free(etag);
	free(url);
}

static void
docker_inspected_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	char m[400];

	r->op = NULL;
	if (res->status == 200) {
		docker_slot_acquire(r);
	} else if (res->status == 404) {
		docker_run_pull(r);
	} else {
		docker_engine_msg(res, m, sizeof m);
		docker_run_fail(r, "cannot inspect image '%s': %s", r->image, m);
	}
}

/* The engine itself normalises docker.io/ and library/ prefixes: a local
 * debian:stable-slim answers for docker.io/debian:stable-slim (checked on
 * engine 20.10), so the reference goes as it is. */
static int
docker_run_inspect(struct docker_run *r)
{
	char *path, *name;
	int rc;

	if (r->canceled) {
		docker_run_fail(r, "canceled");
		return 0;
	}
	name = docker_escape_path(r->image);
	path = xasprintf("/images/%s/json", name);
	rc = docker_run_op(r, "GET", path, NULL, DOCKER_SHORT_MS,
	    docker_inspected_cb);
	free(path);
	free(name);
	return rc;
}

/* ---- orphans: swept once per client, beside the runs ------------------- */

static void
docker_sweep_removed_cb(void *arg, const struct http_response *res)
{
	char m[256];

	(void)arg;
	if (res->status != 204 && res->status != 404 && !docker_removing(res)) {
		docker_engine_msg(res, m, sizeof m);
		log_warnx("cannot remove a container left by a dead cwld process: %s", m);
	}
}

static void
docker_sweep_list_cb(void *arg, const struct http_response *res)
{
	struct docker *d = arg;
	struct cwld_err e = { 0, "" };
	json_t *list, *c, *labels;
	const char *id;
	char *path;
	size_t i;

	if (res->status != 200)
		return; /* a hint only: `cwld gc` does it on demand */
	list = json_loadb(res->body, res->len, 0, NULL);
	json_array_foreach(list, i, c) {
		id = json_string_value(json_object_get(c, "Id"));
		labels = json_object_get(c, "Labels");
		if (id == NULL || !docker_orphaned(labels))
			continue;
		log_info("removing container %.12s of run %s (step '%s'): the cwld "
		    "process %s that started it has died", id,
		    json_string_value(json_object_get(labels, "cwld.run")),
		    json_string_value(json_object_get(labels, "cwld.step")),
		    json_string_value(json_object_get(labels, DOCKER_LABEL_PID)) ?
		    json_string_value(json_object_get(labels, DOCKER_LABEL_PID)) : "?");
		path = xasprintf("/containers/%s?force=1", id);
		if (docker_req(d, "DELETE", path, NULL, DOCKER_SHORT_MS,
		    docker_sweep_removed_cb, d, &e) == NULL)
			log_warnx("%s", e.msg);
		free(path);
	}
	json_decref(list);
}

/* Containers whose cwld process died (kill -9, a crash, a reboot of the
 * process) are removed when a later client first talks to the engine. */
static void
docker_sweep(struct docker *d)
{
	struct cwld_err e = { 0, "" };
	char *path = docker_list_path(NULL, NULL);

	if (docker_req(d, "GET", path, NULL, DOCKER_SHORT_MS,
	    docker_sweep_list_cb, d, &e) == NULL)
		log_debug("orphan sweep: %s", e.msg);
	free(path);
}

static void
docker_pinged_cb(void *arg, const struct http_response *res)
{
	struct docker *d = arg;
	struct cwld_err e = { 0, "" };
	struct docker_waiter *w;
	char *version = NULL, m[400];
	int ok = 0;

	d->pinging = 0;
	if (res->status == 200) {
		version = http_header_get(res->headers, "API-Version");
		ok = docker_api_prefix(version, &d->api, &e) == 0;
		if (ok) {
			log_debug("docker engine at %s: API %s, using %s",
			    d->host.spec, version, d->api);
			docker_sweep(d);
		}
		else
			snprintf(m, sizeof m, "%.390s", e.msg);
	} else {
		docker_engine_msg(res, m, sizeof m);
	}
	free(version);
	while ((w = TAILQ_FIRST(&d->waiters)) != NULL) {
		TAILQ_REMOVE(&d->waiters, w, entry);
		w->queued = 0;
		w->cb(w->arg, ok ? NULL : m);
	}
}

int
docker_when_ready(struct docker *d, struct docker_waiter *w,
    struct cwld_err *err)
{
	struct cwld_err e = { 0, "" };

	if (d->api != NULL)
		return 1;
	if (!d->pinging) {
		/* the first caller (or the first after a failed ping) asks */
		if (docker_req(d, "GET", "/_ping", NULL, DOCKER_PING_MS,
		    docker_pinged_cb, d, &e) == NULL)
			return err_set(err, CWLD_EXIT_UNREACHABLE, "%s", e.msg);
		d->pinging = 1;
	}
	w->queued = 1;
	TAILQ_INSERT_TAIL(&d->waiters, w, entry);
	return 0;
}

void
docker_waiter_cancel(struct docker *d, struct docker_waiter *w)
{
	if (w->queued) {
		TAILQ_REMOVE(&d->waiters, w, entry);
		w->queued = 0;
	}
}

/* The engine's version is known (or it could not be reached). */
static void
docker_run_ready(void *arg, const char *errmsg)
{
	struct docker_run *r = arg;

	if (errmsg != NULL) {
		r->res.unreachable = 1;
		docker_run_fail(r, "docker engine unreachable at '%s': %s",
		    r->d->host.spec, errmsg);
	} else if (r->image_present) {
		docker_slot_acquire(r);
	} else if (docker_run_inspect(r) == -1) {
		docker_run_fail(r, "cannot inspect image '%s'", r->image);
	}
}

/* ---- public -------------------------------------------------------------- */

struct docker *
docker_new(struct event_base *base, const char *host, struct cwld_err *err)
{
	struct docker *d;

	d = xcalloc(1, sizeof *d);
	d->base = base;
	TAILQ_INIT(&d->runs);
	TAILQ_INIT(&d->waiters);
	TAILQ_INIT(&d->slot_q);
	TAILQ_INIT(&d->images);
	if (docker_host_parse(&d->host, host, err) == -1) {
		free(d);
		return NULL;
	}
	d->http = http_new(base, d->host.unix_path, err);
	if (d->http == NULL) {
		docker_host_release(&d->host);
		free(d);
		return NULL;
	}
	return d;
}

int
docker_run(struct docker *d, const struct exec_spec *spec, exec_done_cb cb,
    void *arg, struct cwld_err *err)
{
	struct docker_run *r = NULL;
	int ret = -1, rc;

	if (spec->image == NULL || *spec->image == '\0')
		return err_set(err, CWLD_EXIT_FAILED, "docker: no image given");
	if (spec->argv == NULL || spec->argv[0] == NULL)
		return err_set(err, CWLD_EXIT_FAILED, "docker: empty command line");
	if (spec->stdout_path == NULL || spec->stderr_path == NULL)
		return err_set(err, CWLD_EXIT_FAILED,
		    "docker: no stdout or stderr file");

	r = xcalloc(1, sizeof *r);
	r->d = d;
	r->cb = cb;
	r->arg = arg;
	r->out_fd = r->err_fd = r->in_fd = -1;
	r->timelimit_s = spec->timelimit_s;
	r->image_present = spec->image_present;
	r->image = xstrdup(spec->image);
	r->out_path = xstrdup(spec->stdout_path);
	r->err_path = xstrdup(spec->stderr_path);
	r->body = docker_create_body(spec, err);
	if (r->body == NULL)
		goto out;
	r->out_fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (r->out_fd == -1) {
		err_set(err, CWLD_EXIT_FAILED, "cannot open '%s': %s",
		    r->out_path, strerror(errno));
		goto out;
	}
	r->err_fd = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	if (r->err_fd == -1) {
		err_set(err, CWLD_EXIT_FAILED, "cannot open '%s': %s",
		    r->err_path, strerror(errno));
		goto out;
	}
	if (spec->stdin_path != NULL) {
		r->in_fd = open(spec->stdin_path, O_RDONLY | O_CLOEXEC);
		if (r->in_fd == -1) {
			err_set(err, CWLD_EXIT_FAILED, "cannot open stdin '%s': %s",
			    spec->stdin_path, strerror(errno));
			goto out;
		}
	}
	r->ready.cb = docker_run_ready;
	r->ready.arg = r;
	rc = docker_when_ready(d, &r->ready, err);
	if (rc == -1)
		goto out;
	TAILQ_INSERT_TAIL(&d->runs, r, entry);
	if (rc == 1 && r->image_present) {
		/* from the loop: never a callback from inside docker_run */
		r->defer = event_new(d->base, -1, 0, docker_defer_cb, r);
		if (r->defer == NULL) {
			TAILQ_REMOVE(&d->runs, r, entry);
			err_set(err, CWLD_EXIT_FAILED, "docker: out of events");
			goto out;
		}
		event_active(r->defer, EV_TIMEOUT, 0);
	} else if (rc == 1 && docker_run_inspect(r) == -1) {
		/* never a callback from inside docker_run */
		TAILQ_REMOVE(&d->runs, r, entry);
		err_set(err, CWLD_EXIT_FAILED, "%s", r->res.msg);
		goto out;
	}
	r = NULL;
	ret = 0;
out:
	if (r != NULL) {
		if (r->in_fd != -1)
			close(r->in_fd);
		if (r->out_fd != -1)
			close(r->out_fd);
		if (r->err_fd != -1)
			close(r->err_fd);
		json_decref(r->body);
		free(r->image);
		free(r->out_path);
		free(r->err_path);
		free(r);
	}
	return ret;
}


/* ---- re-attaching a container a previous daemon started ------------------ */

static void docker_reattach_ready(void *arg, const char *errmsg);

static void
docker_reattach_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	docker_reattach_ready(arg, NULL);
}

static int
docker_logs_data(void *arg, const char *data, size_t len)
{
	struct docker_run *r = arg;

	return docker_demux(r, data, len);
}

static void
docker_logs_headers(void *arg, long status, const char *headers)
{
	struct docker_run *r = arg;

	(void)headers;
	if (status != 200)
		return;
	/* the engine's copy is complete: it replaces what the previous daemon
	 * had written when it went away */
	r->out_fd = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	r->err_fd = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

static void
docker_logs_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	char m[256];

	r->op = NULL;
	if (res->status != 200) {
		docker_engine_msg(res, m, sizeof m);
		log_warnx("container %.12s: its output while no daemon listened is lost: %s",
		    r->id, m);
	} else if (r->write_errno) {
		snprintf(r->res.msg, sizeof r->res.msg, "cannot write '%s': %s", r->write_path,
		    strerror(r->write_errno));
	}
	docker_run_remove(r);
}

static void
docker_rewait_cb(void *arg, const struct http_response *res)
{
	struct docker_run *r = arg;
	struct http_req req;
	struct cwld_err e = { 0, "" };
	json_t *j;
	char m[256], *url;

	r->wait = NULL;
	r->wait_done = 1;
	if (res->status != 200) {
		docker_engine_msg(res, m, sizeof m);
		r->res.started = res->status == 404 ? 0 : 1;
		r->res.exit_code = -1;
		snprintf(r->res.msg, sizeof r->res.msg, "cannot wait for container %.12s: %s",
		    r->id, m);
		if (res->status == 404) {
			r->removed = 1;
			docker_run_finish(r);
		} else
			docker_run_remove(r);
		return;
	}
	j = json_loadb(res->body, res->len, 0, NULL);
	r->res.exit_code = (int)json_integer_value(json_object_get(j, "StatusCode"));
	json_decref(j);
	if (r->canceled) {
		docker_run_remove(r);
		return;
	}
	url = xasprintf("%s%s/containers/%s/logs?stdout=1&stderr=1", r->d->host.base_url,
	    r->d->api, r->id);
	memset(&req, 0, sizeof req);
	req.url = url;
	req.timeout_ms = 0;
	req.on_data = docker_logs_data;
	req.on_headers = docker_logs_headers;
	req.data_arg = r;
	r->op = http_request_ex(r->d->http, &req, docker_logs_cb, r, &e);
	free(url);
	if (r->op == NULL) {
		log_warnx("container %.12s: cannot read its logs: %s", r->id, e.msg);
		docker_run_remove(r);
	}
}

static void
docker_reattach_ready(void *arg, const char *errmsg)
{
	struct docker_run *r = arg;
	struct cwld_err e = { 0, "" };
	char *path;

	if (errmsg != NULL) {
		r->res.unreachable = 1;
		r->removed = 1; /* nothing to remove with no engine */
		docker_run_fail(r, "docker engine unreachable at '%s': %s", r->d->host.spec, errmsg);
		return;
	}
	path = xasprintf("/containers/%s/wait?condition=not-running", r->id);
	r->wait = docker_req(r->d, "POST", path, NULL, 0, docker_rewait_cb, r, &e);
	free(path);
	if (r->wait == NULL) {
		snprintf(r->res.msg, sizeof r->res.msg, "%.500s", e.msg);
		docker_run_finish(r);
	}
}

int
docker_reattach(struct docker *d, const char *container_id, const struct exec_spec *spec,
    exec_done_cb cb, void *arg, struct cwld_err *err)
{
	struct docker_run *r;
	int rc;

	if (container_id == NULL || strlen(container_id) >= sizeof r->id ||
	    spec->stdout_path == NULL || spec->stderr_path == NULL)
		return err_set(err, CWLD_EXIT_FAILED, "docker: cannot re-attach '%s'",
		    container_id ? container_id : "(none)");
	r = xcalloc(1, sizeof *r);
	r->d = d;
	r->cb = cb;
	r->arg = arg;
	r->out_fd = r->err_fd = r->in_fd = -1;
	r->image = xstrdup(spec->image ? spec->image : "");
	r->out_path = xstrdup(spec->stdout_path);
	r->err_path = xstrdup(spec->stderr_path);
	snprintf(r->id, sizeof r->id, "%s", container_id);
	snprintf(r->res.container_id, sizeof r->res.container_id, "%s", container_id);
	r->res.started = 1;
	r->start_done = 1;
	r->ready.cb = docker_reattach_ready;
	r->ready.arg = r;
	rc = docker_when_ready(d, &r->ready, err);
	if (rc == -1) {
		free(r->image);
		free(r->out_path);
		free(r->err_path);
		free(r);
		return -1;
	}
	TAILQ_INSERT_TAIL(&d->runs, r, entry);
	if (rc == 1) {
		/* from the loop: never a callback from inside docker_reattach */
		r->defer = event_new(d->base, -1, 0, docker_reattach_defer_cb, r);
		event_active(r->defer, EV_TIMEOUT, 0);
	}
	return 0;
}

int
docker_pending(const struct docker *d)
{
	const struct docker_run *r;
	int n = 0;

	TAILQ_FOREACH(r, &d->runs, entry)
		n++;
	return n;
}

void
docker_cancel_all(struct docker *d)
{
	struct docker_run *r;

	TAILQ_FOREACH(r, &d->runs, entry) {
		r->canceled = 1;
		/* earlier steps see the flag at their next transition */
		docker_run_stop(r);
	}
}

/* ---- blocking calls ------------------------------------------------------ */

struct docker_buf {
	char *p;
	size_t len;
};

static size_t
docker_easy_write(char *data, size_t size, size_t nmemb, void *userp)
{
	struct docker_buf *b = userp;
	size_t n = size * nmemb;

	if (b->len + n > 16u * 1024 * 1024)
		return 0;
	b->p = xreallocarray(b->p, b->len + n + 1, 1);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* One blocking request; *body is new ("" at least) on success. */
static int
docker_easy(const struct docker_host *dh, const char *method, const char *path,
    long timeout_ms, long *status, char **body, char **api_version,
    struct cwld_err *err)
{
	struct docker_buf b = { NULL, 0 };
	struct docker_buf hb = { NULL, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *c = NULL;
	CURLcode rc;
	char *url = NULL;
	int ret = -1;

	url = xasprintf("%s%s", dh->base_url, path);
	c = curl_easy_init();
	if (c == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "curl_easy_init failed%s",
		    curl_lazy_why());
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (dh->unix_path != NULL)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, dh->unix_path);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, docker_easy_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, docker_easy_write);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		err_set(err, CWLD_EXIT_UNREACHABLE,
		    "docker engine unreachable at '%s': %s", dh->spec,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (api_version != NULL)
		*api_version = http_header_get(hb.p != NULL ? hb.p : "",
		    "API-Version");
	*body = b.p != NULL ? b.p : xstrdup("");
	b.p = NULL;
	ret = 0;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	free(b.p);
	free(hb.p);
	free(url);
	return ret;
}

static int
docker_easy_api(const struct docker_host *dh, char **api, struct cwld_err *err)
{
	char *body = NULL, *version = NULL;
	long status = 0;
	int ret = -1;

	if (docker_easy(dh, "GET", "/_ping", DOCKER_PING_MS, &status, &body,
	    &version, err) == -1)
		goto out;
	if (status != 200) {
		err_set(err, CWLD_EXIT_UNREACHABLE,
		    "docker engine at '%s' answered /_ping with %ld", dh->spec,
		    status);
		goto out;
	}
	ret = docker_api_prefix(version, api, err);
out:
	free(body);
	free(version);
	return ret;
}

/* Force-removes one container; 1 removed, 0 already gone, -1 error. */
static int
docker_easy_remove(const struct docker_host *dh, const char *api,
    const char *id, struct cwld_err *err)
{
	struct http_response res;
	char *path, *body = NULL, m[256];
	long status = 0;
	int ret = -1;

	path = xasprintf("%s/containers/%s?force=1", api, id);
	if (docker_easy(dh, "DELETE", path, DOCKER_SHORT_MS, &status, &body,
	    NULL, err) == -1)
		goto out;
	memset(&res, 0, sizeof res);
	res.status = status;
	res.body = body;
	res.len = strlen(body);
	if (status == 204) {
		ret = 1;
	} else if (status == 404 || docker_removing(&res)) {
		ret = 0; /* gone, or someone else is removing it */
	} else {
		docker_engine_msg(&res, m, sizeof m);
		err_set(err, CWLD_EXIT_FAILED, "cannot remove container %.12s: %s",
		    id, m);
	}
out:
	free(path);
	free(body);
	return ret;
}

void
docker_detach(struct docker *d)
{
	if (d != NULL)
		d->detached = 1;
}

void
docker_free(struct docker *d)
{
	struct cwld_err e = { 0, "" };
	struct docker_run *r;
	char *api = NULL;

	if (d == NULL)
		return;
	/* no callbacks from here on */
	docker_image_free_all(d);
	http_free(d->http);
	d->http = NULL;
	while ((r = TAILQ_FIRST(&d->runs)) != NULL) {
		TAILQ_REMOVE(&d->runs, r, entry);
		if (r->id[0] != '\0' && !r->removed && !(d->detached && r->start_done)) {
			/* best effort, blocking: we are shutting down (a detaching
			 * daemon leaves running containers to the next one) */
			if (api == NULL && docker_easy_api(&d->host, &api, &e) == -1)
				log_warnx("%s", e.msg);
			if (api != NULL &&
			    docker_easy_remove(&d->host, api, r->id, &e) == -1)
				log_warnx("%s", e.msg);
		}
		/* the connection itself went with the http client */
		r->att = NULL;
		docker_attach_close(r);
		if (r->out_fd != -1)
			close(r->out_fd);
		if (r->err_fd != -1)
			close(r->err_fd);
		if (r->limit != NULL)
			event_free(r->limit);
		if (r->kick != NULL)
			event_free(r->kick);
		if (r->defer != NULL)
			event_free(r->defer);
		json_decref(r->body);
		free(r->image);
		free(r->out_path);
		free(r->err_path);
		free(r);
	}
	free(api);
	free(d->api);
	docker_host_release(&d->host);
	free(d);
}

/* Lists the containers labelled cwld.run (=run_id when not NULL) and
 * removes those keep(arg, container) declines; blocking. Returns how many
 * were removed, *kept how many stay; -1 with err. */
static int
docker_sync_remove(const char *host, const char *run_id,
    int (*keep)(void *arg, const json_t *container), void *arg, int *kept,
    struct cwld_err *err)
{
	struct docker_host dh;
	json_t *list = NULL, *c;
	char *api = NULL, *path = NULL, *body = NULL;
	long status = 0;
	size_t i;
	int n = 0, ret = -1, rc;

	if (kept != NULL)
		*kept = 0;
	if (docker_host_parse(&dh, host, err) == -1)
		return -1;
	if (docker_easy_api(&dh, &api, err) == -1)
		goto out;
	path = docker_list_path(api, run_id);
	if (docker_easy(&dh, "GET", path, DOCKER_SHORT_MS, &status, &body, NULL, err) == -1)
		goto out;
	list = json_loads(body, 0, NULL);
	if (status != 200 || !json_is_array(list)) {
		err_set(err, CWLD_EXIT_FAILED, "cannot list containers at '%s': HTTP %ld",
		    dh.spec, status);
		goto out;
	}
	json_array_foreach(list, i, c) {
		const char *id = json_string_value(json_object_get(c, "Id"));

		if (id == NULL)
			continue;
		if (keep(arg, c)) {
			if (kept != NULL)
				(*kept)++;
			continue;
		}
		if ((rc = docker_easy_remove(&dh, api, id, err)) == -1)
			goto out;
		n += rc;
	}
	ret = n;
out:
	json_decref(list);
	free(api);
	free(path);
	free(body);
	docker_host_release(&dh);
	return ret;
}

/* gc: a container stays unless --all or its cwld process has died */
static int
docker_gc_keep(void *arg, const json_t *c)
{
	return !*(const int *)arg && !docker_orphaned(json_object_get(c, "Labels"));
}

int
docker_gc_sync(const char *host, const char *run_id, int all, int *kept,
    struct cwld_err *err)
{
	return docker_sync_remove(host, run_id, docker_gc_keep, &all, kept, err);
}

struct docker_daemon_keep {
	docker_keep_cb keep;
	void *arg;
	int kept;  /* the daemon's containers taken over */
};

/* a daemon's restart: other cwld processes' containers are not its own */
static int
docker_daemon_keep(void *arg, const json_t *c)
{
	struct docker_daemon_keep *k = arg;
	const json_t *labels = json_object_get(c, "Labels");
	const char *attempt = json_string_value(json_object_get(labels, "cwld.attempt"));

	const char *state = json_string_value(json_object_get(labels, DOCKER_LABEL_STATE));
	const char *host = json_string_value(json_object_get(labels, DOCKER_LABEL_HOST));

	if (json_object_get(labels, DOCKER_LABEL_OWNER) == NULL)
		return 1;
	/* another daemon's, on another state directory or host: it is alive
	 * or will be back, and resumes its own (a container without the
	 * state label is from a daemon older than the label: ours to judge) */
	if ((state != NULL && (docker_owner_state == NULL ||
	    strcmp(state, docker_owner_state) != 0)) ||
	    (host != NULL && strcmp(host, docker_owner_host()) != 0))
		return 1;
	if (!k->keep(k->arg, json_string_value(json_object_get(labels, "cwld.run")),
	    json_string_value(json_object_get(labels, "cwld.step")), attempt ? atoi(attempt) : 0,
	    json_string_value(json_object_get(c, "Id")), json_string_value(json_object_get(c, "State"))))
		return 0;
	k->kept++;
	return 1;
}

int
docker_daemon_sync(const char *host, docker_keep_cb keep, void *arg, int *kept,
    struct cwld_err *err)
{
	struct docker_daemon_keep k = { keep, arg, 0 };
	int rc = docker_sync_remove(host, NULL, docker_daemon_keep, &k, NULL, err);

	if (kept != NULL)
		*kept = k.kept;
	return rc;
}

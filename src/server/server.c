/* The daemon's HTTP server: one evhttp on the shared loop. Requests are
 * authenticated, their bodies bounded, their paths split and decoded here,
 * then routed to the JSON API below (docs/api.md) or to WES (wes.c); every
 * error is a JSON {"error", "detail"}. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cwld/confine.h"
#include "cwld/dag_emit.h"
#include "cwld/events.h"
#include "cwld/http.h"
#include "cwld/load.h"
#include "cwld/log.h"
#include "cwld/runs.h"
#include "cwld/server.h"
#include "cwld/server_int.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

/* upper bounds (seconds) of the step duration histogram */
static const double server_buckets[SERVER_NBUCKETS] = {
	0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800, 3600,
};

/* ---- replies ------------------------------------------------------------ */

void
server_reply(struct server *srv, struct evhttp_request *req, int code,
    const char *type, const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evbuffer_add(buf, body, len);
	evhttp_send_reply(req, code, NULL, buf);
	evbuffer_free(buf);
	if (code >= 100 && code < 600)
		srv->http_codes[code / 100]++;
}

void
server_reply_json(struct server *srv, struct evhttp_request *req, int code, const json_t *v)
{
	char *text = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(17));

	if (text == NULL) {
		server_error(srv, req, 500, "internal", "cannot encode the answer as JSON");
		return;
	}
	server_reply(srv, req, code, "application/json", text, strlen(text));
	free(text);
}

void
server_error(struct server *srv, struct evhttp_request *req, int code, const char *error,
    const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	json_t *v;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	v = json_pack("{s:s, s:s}", "error", error, "detail", detail);
	if (code == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"cwld\"");
	server_reply_json(srv, req, code, v);
	json_decref(v);
}

/* ---- the observer: events, metrics, where the logs are -------------------- */

static int
server_is_final(const char *state)
{
	return state && (strcmp(state, STORE_SUCCESS) == 0 || strcmp(state, STORE_FAILED) == 0 ||
	    strcmp(state, STORE_CANCELLED) == 0 || strcmp(state, STORE_SKIPPED) == 0);
}

static void
server_run_changed(void *arg, const char *run_id, const char *state, const char *error)
{
	struct server *srv = arg;
	json_t *v = json_pack("{s:s, s:s, s:s?}", "id", run_id, "state", state, "error", error);

	events_publish(srv->events, run_id, "run", v);
	json_decref(v);
	if (server_is_final(state)) {
		const char *k;
		json_t *v2;
		void *tmp;
		size_t n = strlen(run_id);

		json_object_del(srv->logs, run_id);
		json_object_foreach_safe(srv->log_sent, tmp, k, v2)
			if (strncmp(k, run_id, n) == 0 && k[n] == '\t')
				json_object_del(srv->log_sent, k);
	}
}

static json_t *
server_ms_time(int64_t ms)
{
	char buf[96];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

static void
server_step_event(void *arg, const struct sched_step_event *ev)
{
	struct server *srv = arg;
	json_t *v, *run_logs, *paths;

	if (ev->phase == SCHED_STEP_STARTED) {
		srv->steps_running++;
		run_logs = json_object_get(srv->logs, ev->run_id);
		if (run_logs == NULL) {
			run_logs = json_object();
			json_object_set_new(srv->logs, ev->run_id, run_logs);
		}
		paths = json_pack("{s:s?, s:s?}", "stdout", ev->stdout_path, "stderr", ev->stderr_path);
		json_object_set_new(run_logs, ev->step, paths);
	} else if (ev->phase == SCHED_STEP_FINISHED && ev->started_at > 0) {
		double secs = (double)(ev->finished_at - ev->started_at) / 1000.0;
		size_t i;

		if (srv->steps_running > 0)
			srv->steps_running--;
		for (i = 0; i < SERVER_NBUCKETS && secs > server_buckets[i]; i++)
			;
		srv->hist[i]++;
		srv->hist_sum += secs;
		srv->hist_count++;
	}
	if (ev->phase == SCHED_STEP_FINISHED)
		server_log_lines(srv, ev->run_id, ev->step, 1); /* the last lines first */
	if (ev->phase == SCHED_STEP_PROGRESS)
		return; /* pull progress stays in the run's own view */
	v = json_pack("{s:s, s:s, s:s, s:o, s:s?, s:o, s:o, s:s?}", "run", ev->run_id,
	    "step", ev->step, "state", ev->state,
	    "exit_code", ev->exit_code >= 0 ? json_integer(ev->exit_code) : json_null(),
	    "image", ev->image, "started_at", server_ms_time(ev->started_at),
	    "finished_at", server_ms_time(ev->finished_at), "message", ev->msg);
	events_publish(srv->events, ev->run_id, "step", v);
	json_decref(v);
}

/* While a client follows log lines, new ones are read every 200 ms (the
 * files grow from the containers' streams; nothing tells us when). */
static void
server_log_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (!events_want_logs(srv->events, NULL)) {
		event_del(srv->log_tick);
		return;
	}
	server_log_lines(srv, NULL, NULL, 0);
}

static void
server_want_log_lines(struct server *srv)
{
	struct timeval tv = { 0, 200000 };

	if (!event_pending(srv->log_tick, EV_TIMEOUT, NULL))
		event_add(srv->log_tick, &tv);
}

static const struct runs_observer server_observer = {
	.run_changed = server_run_changed,
	.step_event = server_step_event,
};

/* ---- requests ------------------------------------------------------------ */

static int
server_token_ok(const struct server *srv, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	size_t i, n, diff = 0;

	if (srv->token == NULL)
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(srv->token);
	if (strlen(h) != n)
		return 0;
	for (i = 0; i < n; i++) /* the same time whatever matches */
		diff |= (size_t)(h[i] ^ srv->token[i]);
	return diff == 0;
}

/* Splits the path into decoded segments; 0, or -1 for a malformed path
 * (a NUL byte, an empty segment in the middle, too many). */
static int
server_split(const char *path, struct server_ctx *c)
{
	const char *p = path, *slash;

	if (p == NULL || *p != '/')
		return -1;
	p++;
	while (*p) {
		size_t len;
		char *raw, *dec;

		if (c->nsegs == SERVER_MAX_SEGS)
			return -1;
		slash = strchr(p, '/');
		len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0)
			return slash && slash[1] == '\0' ? 0 : -1; /* a trailing slash is fine */
		raw = xstrndup(p, len);
		dec = evhttp_uridecode(raw, 0, &len);
		free(raw);
		if (dec == NULL || strlen(dec) != len) {
			free(dec);
			return -1;
		}
		c->segs[c->nsegs++] = dec;
		p += slash ? (size_t)(slash - p) + 1 : strlen(p);
	}
	return 0;
}

int
server_seg_is(const struct server_ctx *c, int i, const char *s)
{
	return i < c->nsegs && strcmp(c->segs[i], s) == 0;
}

/* The request body as a NUL-terminated string (embedded NULs make it
 * invalid JSON, which is reported as such); NULL when over the limit. */
char *
server_body(struct server *srv, struct server_ctx *c, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	size_t n = evbuffer_get_length(in);
	char *body;

	if (n > srv->max_body) {
		server_error(srv, c->req, 413, "too_large", "the request body has %zu bytes; the "
		    "limit is %zu (cwld serve --max-body)", n, srv->max_body);
		return NULL;
	}
	body = xmalloc(n + 1);
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	if (len)
		*len = n;
	return body;
}

static int
server_id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!isxdigit((unsigned char)id[i]))
			return 0;
	return i >= 8 && i <= 64;
}

/* ---- JSON API handlers --------------------------------------------------- */

struct server_check {
	struct server *srv;
	int forbidden;
};

static int
server_check_path(void *arg, const char *path, struct cwld_err *err)
{
	struct server_check *chk = arg;
	char *res = confine_resolve(chk->srv->roots, path, err);

	if (res == NULL) {
		chk->forbidden = 1;
		return -1;
	}
	free(res);
	return 0;
}

static int
server_label_key_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '.' && k[i] != '-')
			return 0;
	return i >= 1 && i <= 63;
}

/* Checks labels: an object of at most 32 string values (keys
 * [A-Za-z0-9_.-]{1,63}, values up to 256 bytes). NULL when fine. */
static const char *
server_labels_bad(const json_t *labels)
{
	const char *k;
	json_t *v;

	if (!json_is_object(labels))
		return "labels must be an object of strings";
	if (json_object_size(labels) > 32)
		return "at most 32 labels";
	json_object_foreach((json_t *)labels, k, v) {
		if (!server_label_key_ok(k))
			return "a label key is 1 to 63 of A-Z a-z 0-9 _ . -";
		if (!json_is_string(v) || json_string_length(v) > 256)
			return "a label value is a string of at most 256 bytes";
	}
	return NULL;
}

/* A submission whose workflow is being fetched over HTTP: the request
 * waits for it (and is dropped if its client goes away first). */
struct server_fetch {
	struct server *srv;
	struct evhttp_request *req;
	struct http_xfer *x;
	json_t *body;
	char *url;
};

static void server_submit(struct server *srv, struct evhttp_request *req, const json_t *body,
    const char *wf_path, const char *wf_text);

static void
server_fetch_free(struct server_fetch *f)
{
	json_decref(f->body);
	free(f->url);
	free(f);
}

static void
server_fetch_gone(struct evhttp_connection *conn, void *arg)
{
	struct server_fetch *f = arg;

	(void)conn;
	http_cancel(f->x); /* no callback comes any more */
	server_fetch_free(f);
}

static void
server_fetched(void *arg, const struct http_response *res)
{
	struct server_fetch *f = arg;
	struct evhttp_connection *conn = evhttp_request_get_connection(f->req);

	if (conn)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	if (res->status != 200)
		server_error(f->srv, f->req, 400, "bad_request", "workflow '%s': %s%s", f->url,
		    res->status ? "the server answered HTTP " : "cannot fetch it: ",
		    res->status ? (res->status == 404 ? "404 (not found)" : "an error") :
		    (res->error ? res->error : "failed"));
	else if (memchr(res->body, '\0', res->len) != NULL)
		server_error(f->srv, f->req, 400, "bad_request", "workflow '%s' is not text", f->url);
	else
		server_submit(f->srv, f->req, f->body, NULL, res->body);
	server_fetch_free(f);
}

static int
server_fetch(struct server *srv, struct evhttp_request *req, const json_t *body, const char *url)
{
	struct server_fetch *f = xcalloc(1, sizeof *f);
	struct cwld_err err = { 0 };
	struct http_req hr = { 0 };

	if (srv->fetcher == NULL && (srv->fetcher = http_new(srv->base, NULL, &err)) == NULL) {
		server_error(srv, req, 500, "internal", "%s", err.msg);
		free(f);
		return -1;
	}
	f->srv = srv;
	f->req = req;
	f->body = json_incref((json_t *)body);
	f->url = xstrdup(url);
	hr.url = url;
	hr.timeout_ms = 30000;
	hr.max_body = srv->max_body;
	hr.follow_redirects = 1;
	if ((f->x = http_request_ex(srv->fetcher, &hr, server_fetched, f, &err)) == NULL) {
		server_error(srv, req, 400, "bad_request", "workflow '%s': %s", url, err.msg);
		server_fetch_free(f);
		return -1;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), server_fetch_gone, f);
	return 0;
}

static void
server_post_run(struct server *srv, struct server_ctx *c)
{
	static const char *const known[] = { "workflow", "workflow_text", "inputs",
		"inputs_text", "parallel", "labels", "no_container", "force_docker",
		"default_container", "output_location", NULL };
	struct cwld_err err = { 0 };
	json_error_t jerr;
	json_t *body = NULL, *v;
	char *text = NULL, *wf = NULL;
	const char *k, *bad;
	size_t len, i;

	if ((text = server_body(srv, c, &len)) == NULL)
		return;
	body = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL || !json_is_object(body)) {
		server_error(srv, c->req, 400, "bad_request", body ? "the body must be a JSON object" :
		    "the body is not JSON: %s at line %d column %d", jerr.text, jerr.line, jerr.column);
		goto out;
	}
	json_object_foreach(body, k, v) {
		for (i = 0; known[i] && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL) {
			server_error(srv, c->req, 400, "bad_request", "unknown field '%s'", k);
			goto out;
		}
	}
#define SERVER_FIELD(name, test, what) \
	if ((v = json_object_get(body, name)) != NULL && !(test)) { \
		server_error(srv, c->req, 400, "bad_request", "'%s' must be %s", name, what); \
		goto out; \
	}
	SERVER_FIELD("workflow", json_is_string(v), "a string (a path or URL)")
	SERVER_FIELD("workflow_text", json_is_string(v), "a string (a CWL document)")
	SERVER_FIELD("inputs", json_is_object(v), "an object (the job)")
	SERVER_FIELD("inputs_text", json_is_string(v), "a string (a YAML or JSON job)")
	SERVER_FIELD("parallel", json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= 4096, "an integer from 1 to 4096")
	SERVER_FIELD("no_container", json_is_boolean(v), "true or false")
	SERVER_FIELD("force_docker", json_is_boolean(v), "true or false")
	SERVER_FIELD("default_container", json_is_string(v) && json_string_length(v) > 0 &&
	    json_string_length(v) < 256, "an image name")
	SERVER_FIELD("output_location", json_is_string(v) && json_string_length(v) > 5 &&
	    json_string_length(v) < 1024, "a string (s3://bucket/prefix)")
#undef SERVER_FIELD
	if ((v = json_object_get(body, "labels")) != NULL && (bad = server_labels_bad(v))) {
		server_error(srv, c->req, 400, "bad_request", "%s", bad);
		goto out;
	}
	if ((json_object_get(body, "workflow") == NULL) ==
	    (json_object_get(body, "workflow_text") == NULL)) {
		server_error(srv, c->req, 400, "bad_request",
		    "give exactly one of 'workflow' (a path or URL) and 'workflow_text'");
		goto out;
	}
	if (json_object_get(body, "inputs") && json_object_get(body, "inputs_text")) {
		server_error(srv, c->req, 400, "bad_request", "give 'inputs' or 'inputs_text', not both");
		goto out;
	}
	if ((v = json_object_get(body, "workflow")) != NULL) {
		const char *w = json_string_value(v);

		if (strncmp(w, "http://", 7) == 0 || strncmp(w, "https://", 8) == 0) {
			server_fetch(srv, c->req, body, w); /* answers when fetched */
			goto out;
		}
		/* a fragment (#main) selects a process of a packed document */
		{
			const char *hash = strchr(w, '#');
			char *p = hash ? xstrndup(w, (size_t)(hash - w)) : xstrdup(w);
			char *resolved = confine_resolve_mem(srv->roots, p, strlen(p), &err);

			free(p);
			if (resolved == NULL) {
				server_error(srv, c->req, 403, "forbidden", "%s", err.msg);
				goto out;
			}
			wf = hash ? xasprintf("%s%s", resolved, hash) : xstrdup(resolved);
			free(resolved);
		}
	}
	server_submit(srv, c->req, body, wf, json_string_value(json_object_get(body, "workflow_text")));
out:
	json_decref(body);
	free(text);
	free(wf);
}

/* Submits a checked body with its workflow as a confined path or as text,
 * and answers req. */
static void
server_submit(struct server *srv, struct evhttp_request *req, const json_t *body,
    const char *wf_path, const char *wf_text)
{
	struct runs_request rq = { 0 };
	struct server_check chk = { srv, 0 };
	struct cwld_err err = { 0 };
	json_t *run = NULL;
	char *id = NULL, *loc;

	rq.workflow_path = wf_path;
	rq.workflow_text = wf_text;
	rq.inputs = json_object_get(body, "inputs");
	rq.inputs_text = json_string_value(json_object_get(body, "inputs_text"));
	rq.base_dir = confine_first_root(srv->roots);
	rq.labels = json_object_get(body, "labels");
	rq.parallel = (int)json_integer_value(json_object_get(body, "parallel"));
	rq.no_container = json_is_true(json_object_get(body, "no_container"));
	rq.force_docker = json_is_true(json_object_get(body, "force_docker"));
	rq.default_container = json_string_value(json_object_get(body, "default_container"));
	rq.output_location = json_string_value(json_object_get(body, "output_location"));
	rq.check_path = server_check_path;
	rq.check_arg = &chk;
	if (runs_submit(srv->runs, &rq, &id, &err) < 0) {
		if (chk.forbidden)
			server_error(srv, req, 403, "forbidden", "%s", err.msg);
		else if (err.code == CWLD_EXIT_USAGE || err.code == CWLD_EXIT_UNSUPPORTED)
			server_error(srv, req, 400, "bad_request", "%s%s%s", err.msg,
			    id ? "; run " : "", id ? id : "");
		else
			server_error(srv, req, 500, "internal", "%s", err.msg);
		goto out;
	}
	if ((run = store_run_get(srv->st, id, &err)) == NULL) {
		server_error(srv, req, 500, "internal", "%s", err.msg);
		goto out;
	}
	loc = xasprintf("/api/v1/runs/%s", id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
	free(loc);
	server_reply_json(srv, req, 201, run);
out:
	json_decref(run);
	free(id);
}

static int
server_state_ok(const char *s)
{
	static const char *const states[] = { STORE_PENDING, STORE_RUNNING, STORE_SUCCESS,
		STORE_FAILED, STORE_SKIPPED, STORE_CANCELLED, NULL };
	size_t i;

	for (i = 0; states[i]; i++)
		if (strcmp(states[i], s) == 0)
			return 1;
	return 0;
}

static void
server_list_runs(struct server *srv, struct server_ctx *c)
{
	struct store_runs_filter f = { 0 };
	struct cwld_err err = { 0 };
	struct evkeyval *kv;
	const char *states[17] = { 0 };
	json_t *labels = json_object(), *page = NULL, *run;
	size_t n = 0, i;

	TAILQ_FOREACH(kv, &c->query, next) {
		if (strcmp(kv->key, "state") == 0) {
			if (!server_state_ok(kv->value) || n == 16) {
				server_error(srv, c->req, 400, "bad_request", n == 16 ? "at most 16 states" :
				    "unknown state '%s'", kv->value);
				goto out;
			}
			states[n++] = kv->value;
		} else if (strcmp(kv->key, "label") == 0) {
			const char *eq = strchr(kv->value, '=');
			char *key = eq ? xstrndup(kv->value, (size_t)(eq - kv->value)) : NULL;

			if (key == NULL || !server_label_key_ok(key) || json_object_size(labels) == 16) {
				server_error(srv, c->req, 400, "bad_request",
				    "label filter '%s': want key=value (at most 16)", kv->value);
				free(key);
				goto out;
			}
			json_object_set_new(labels, key, json_string(eq + 1));
			free(key);
		} else if (strcmp(kv->key, "limit") == 0) {
			char *end;
			long l = strtol(kv->value, &end, 10);

			if (*end || l < 1 || l > 1000) {
				server_error(srv, c->req, 400, "bad_request", "limit must be 1 to 1000");
				goto out;
			}
			f.limit = (size_t)l;
		} else if (strcmp(kv->key, "page_token") == 0) {
			f.page_token = kv->value;
		} else {
			server_error(srv, c->req, 400, "bad_request", "unknown query parameter '%s'",
			    kv->key);
			goto out;
		}
	}
	f.states = n ? states : NULL;
	f.labels = labels;
	if ((page = store_runs_page(srv->st, &f, &err)) == NULL) {
		server_error(srv, c->req, err.code == CWLD_EXIT_USAGE ? 400 : 500,
		    err.code == CWLD_EXIT_USAGE ? "bad_request" : "internal", "%s", err.msg);
		goto out;
	}
	json_array_foreach(json_object_get(page, "runs"), i, run) {
		json_object_del(run, "inputs"); /* in the run itself; lists stay small */
		json_object_del(run, "options");
	}
	server_reply_json(srv, c->req, 200, page);
out:
	json_decref(page);
	json_decref(labels);
}

/* The run c->segs[3] (404 when unknown or malformed). New reference. */
static json_t *
server_find_run(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	json_t *run;

	if (!server_id_ok(c->segs[3])) {
		server_error(srv, c->req, 404, "not_found", "no run '%s'", c->segs[3]);
		return NULL;
	}
	if ((run = store_run_get(srv->st, c->segs[3], &err)) == NULL)
		server_error(srv, c->req, err.code == CWLD_EXIT_USAGE ? 404 : 500,
		    err.code == CWLD_EXIT_USAGE ? "not_found" : "internal", "%s", err.msg);
	return run;
}

static void
server_cancel_run(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	int finished = 0;
	json_t *run;

	if ((run = server_find_run(srv, c)) == NULL)
		return;
	json_decref(run);
	if (runs_cancel(srv->runs, c->segs[3], &finished, &err) < 0) {
		server_error(srv, c->req, finished ? 409 : 404, finished ? "conflict" : "not_found",
		    "%s", err.msg);
		return;
	}
	if ((run = store_run_get(srv->st, c->segs[3], &err)) == NULL) {
		server_error(srv, c->req, 500, "internal", "%s", err.msg);
		return;
	}
	server_reply_json(srv, c->req, 202, run);
	json_decref(run);
}

static void
server_dag(struct server *srv, struct server_ctx *c, const json_t *run)
{
	struct cwld_err err = { 0 };
	struct load_ctx *lc = load_ctx_new();
	const char *wf = json_string_value(json_object_get(json_object_get(run, "options"), "workflow"));
	json_t *process = NULL;
	char *text = NULL, *dag_id = NULL;
	size_t len = 0;
	FILE *f;

	if (wf == NULL) {
		server_error(srv, c->req, 404, "not_found", "run '%s' was not submitted to this "
		    "daemon: its workflow is not known", c->segs[3]);
		goto out;
	}
	if ((process = load_process(lc, wf, &err)) == NULL) {
		server_error(srv, c->req, 500, "internal", "%s", err.msg);
		goto out;
	}
	dag_id = xasprintf("cwld_%s", c->segs[3]);
	if ((f = open_memstream(&text, &len)) == NULL) {
		server_error(srv, c->req, 500, "internal", "open_memstream: %s", strerror(errno));
		goto out;
	}
	if (dag_emit(process, dag_id, wf, f, &err) < 0) {
		fclose(f);
		server_error(srv, c->req, 500, "internal", "%s", err.msg);
		goto out;
	}
	fclose(f);
	server_reply(srv, c->req, 200, "text/x-python; charset=utf-8", text, len);
out:
	free(text);
	free(dag_id);
	json_decref(process);
	load_ctx_free(lc);
}

static void
server_run_events(struct server *srv, struct server_ctx *c, const json_t *run)
{
	const char *state = json_string_value(json_object_get(run, "state"));
	const char *logs = evhttp_find_header(&c->query, "logs");
	json_t *init = json_pack("{s:O, s:O, s:O}", "id", json_object_get(run, "id"),
	    "state", json_object_get(run, "state"), "error", json_object_get(run, "error"));

	events_follow(srv->events, c->req, c->segs[3], logs && strcmp(logs, "1") == 0, init,
	    server_is_final(state));
	if (logs && strcmp(logs, "1") == 0 && !server_is_final(state))
		server_want_log_lines(srv);
	srv->http_codes[2]++;
	json_decref(init);
}

static void
server_healthz(struct server *srv, struct server_ctx *c)
{
	const struct sched_pool *p = runs_pool(srv->runs);
	json_t *v = json_pack("{s:s, s:s, s:{s:i, s:i}, s:{s:i, s:i}}", "status", "ok",
	    "version", srv->version, "runs", "running", runs_active(srv->runs),
	    "events_clients", events_clients(srv->events),
	    "slots", "used", sched_pool_used(p), "total", sched_pool_slots(p));

	server_reply_json(srv, c->req, 200, v);
	json_decref(v);
}

static void
server_metrics(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	const struct sched_pool *p = runs_pool(srv->runs);
	json_t *counts = store_run_counts(srv->st, &err), *n;
	const char *state;
	char *text = NULL;
	size_t len = 0, i;
	long cum = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL || counts == NULL) {
		if (f)
			fclose(f);
		free(text);
		json_decref(counts);
		server_error(srv, c->req, 500, "internal", "%s", counts ? "open_memstream failed" : err.msg);
		return;
	}
	fprintf(f, "# HELP cwld_runs Runs in the database by state.\n# TYPE cwld_runs gauge\n");
	json_object_foreach(counts, state, n)
		fprintf(f, "cwld_runs{state=\"%s\"} %lld\n", state, (long long)json_integer_value(n));
	fprintf(f, "# HELP cwld_runs_active Runs this daemon is executing.\n# TYPE cwld_runs_active gauge\n"
	    "cwld_runs_active %d\n", runs_active(srv->runs));
	fprintf(f, "# HELP cwld_steps_running Tool invocations running.\n# TYPE cwld_steps_running gauge\n"
	    "cwld_steps_running %d\n", sched_pool_used(p));
	fprintf(f, "# HELP cwld_queue_depth Tool invocations waiting for a slot, cores or memory.\n"
	    "# TYPE cwld_queue_depth gauge\ncwld_queue_depth %d\n", sched_pool_queued(p));
	fprintf(f, "# HELP cwld_slots Tool invocations the daemon runs at once.\n"
	    "# TYPE cwld_slots gauge\ncwld_slots %d\n", sched_pool_slots(p));
	fprintf(f, "# HELP cwld_pool_cores_total Cores the running tools may reserve together.\n"
	    "# TYPE cwld_pool_cores_total gauge\ncwld_pool_cores_total %.3f\n"
	    "# HELP cwld_pool_cores_used Cores the running tools reserve.\n"
	    "# TYPE cwld_pool_cores_used gauge\ncwld_pool_cores_used %.3f\n",
	    (double)sched_pool_millicores(p) / 1000, (double)sched_pool_millicores_used(p) / 1000);
	fprintf(f, "# HELP cwld_pool_ram_bytes_total Memory the running tools may reserve together.\n"
	    "# TYPE cwld_pool_ram_bytes_total gauge\ncwld_pool_ram_bytes_total %lld\n"
	    "# HELP cwld_pool_ram_bytes_used Memory the running tools reserve.\n"
	    "# TYPE cwld_pool_ram_bytes_used gauge\ncwld_pool_ram_bytes_used %lld\n",
	    (long long)sched_pool_ram_mib(p) * 1048576, (long long)sched_pool_ram_mib_used(p) * 1048576);
	fprintf(f, "# HELP cwld_step_duration_seconds Duration of finished tool invocations.\n"
	    "# TYPE cwld_step_duration_seconds histogram\n");
	for (i = 0; i < SERVER_NBUCKETS; i++) {
		cum += srv->hist[i];
		fprintf(f, "cwld_step_duration_seconds_bucket{le=\"%g\"} %ld\n", server_buckets[i], cum);
	}
	fprintf(f, "cwld_step_duration_seconds_bucket{le=\"+Inf\"} %ld\n", srv->hist_count);
	fprintf(f, "cwld_step_duration_seconds_sum %.3f\ncwld_step_duration_seconds_count %ld\n",
	    srv->hist_sum, srv->hist_count);
	fprintf(f, "# HELP cwld_http_requests_total HTTP answers by status class.\n"
	    "# TYPE cwld_http_requests_total counter\n");
	for (i = 1; i < 6; i++)
		fprintf(f, "cwld_http_requests_total{code=\"%zuxx\"} %ld\n", i, srv->http_codes[i]);
	fprintf(f, "# HELP cwld_events_clients Event stream clients.\n# TYPE cwld_events_clients gauge\n"
	    "cwld_events_clients %d\n", events_clients(srv->events));
	fclose(f);
	server_reply(srv, c->req, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
	free(text);
	json_decref(counts);
}

/* ---- routing ------------------------------------------------------------- */

static void
server_route(struct server *srv, struct server_ctx *c)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(c->req);
	int get = m == EVHTTP_REQ_GET, post = m == EVHTTP_REQ_POST;
	json_t *run;

	if (c->nsegs >= 3 && server_seg_is(c, 0, "ga4gh") && server_seg_is(c, 1, "wes") &&
	    server_seg_is(c, 2, "v1")) {
		wes_route(srv, c);
		return;
	}
	if (c->nsegs == 1 && server_seg_is(c, 0, "openapi.json")) {
		if (get)
			server_reply(srv, c->req, 200, "application/json", server_openapi_json,
			    strlen(server_openapi_json));
		else
			goto method;
		return;
	}
	if (c->nsegs == 1 && server_seg_is(c, 0, "healthz")) {
		if (get)
			server_healthz(srv, c);
		else
			goto method;
		return;
	}
	if (c->nsegs == 1 && server_seg_is(c, 0, "metrics")) {
		if (get)
			server_metrics(srv, c);
		else
			goto method;
		return;
	}
	if (c->nsegs < 3 || !server_seg_is(c, 0, "api") || !server_seg_is(c, 1, "v1"))
		goto unknown;
	if (c->nsegs == 3 && server_seg_is(c, 2, "events")) {
		const char *logs = evhttp_find_header(&c->query, "logs");

		if (!get)
			goto method;
		events_follow(srv->events, c->req, NULL, logs && strcmp(logs, "1") == 0, NULL, 0);
		if (logs && strcmp(logs, "1") == 0)
			server_want_log_lines(srv);
		srv->http_codes[2]++;
		return;
	}
	if (!server_seg_is(c, 2, "runs"))
		goto unknown;
	if (c->nsegs == 3) {
		if (post)
			server_post_run(srv, c);
		else if (get)
			server_list_runs(srv, c);
		else
			goto method;
		return;
	}
	if (c->nsegs == 5 && server_seg_is(c, 4, "cancel")) {
		if (post)
			server_cancel_run(srv, c);
		else
			goto method;
		return;
	}
	if (!get)
		goto method;
	if (c->nsegs == 4 || (c->nsegs == 5 && (server_seg_is(c, 4, "dag") ||
	    server_seg_is(c, 4, "events"))) || (c->nsegs == 8 && server_seg_is(c, 4, "steps") &&
	    server_seg_is(c, 6, "logs"))) {
		if ((run = server_find_run(srv, c)) == NULL)
			return;
		if (c->nsegs == 4)
			server_reply_json(srv, c->req, 200, run);
		else if (server_seg_is(c, 4, "dag"))
			server_dag(srv, c, run);
		else if (server_seg_is(c, 4, "events"))
			server_run_events(srv, c, run);
		else
			server_logs(srv, c, run);
		json_decref(run);
		return;
	}
unknown:
	server_error(srv, c->req, 404, "not_found", "no such endpoint: %s",
	    evhttp_request_get_uri(c->req));
	return;
method:
	server_error(srv, c->req, 405, "method_not_allowed", "%s does not take this method",
	    evhttp_request_get_uri(c->req));
}

static void
server_gencb(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	struct server_ctx c = { 0 };
	const char *uri = evhttp_request_get_uri(req);
	struct evhttp_uri *u = NULL;
	int i;

	c.req = req;
	TAILQ_INIT(&c.query);
	if (uri == NULL) {
		/* evhttp calls back without a URI when the body passed the limit */
		server_error(srv, req, 413, "too_large", "the request body is over the limit of "
		    "%zu bytes (cwld serve --max-body)", srv->max_body);
		return;
	}
	if ((u = evhttp_uri_parse_with_flags(uri, 0)) == NULL ||
	    server_split(evhttp_uri_get_path(u), &c) < 0 ||
	    (evhttp_uri_get_query(u) && evhttp_parse_query_str(evhttp_uri_get_query(u), &c.query) < 0)) {
		server_error(srv, req, 400, "bad_request", "malformed request path or query");
		goto out;
	}
	if (!(c.nsegs == 1 && server_seg_is(&c, 0, "healthz")) && !server_token_ok(srv, req)) {
		server_error(srv, req, 401, "unauthorized",
		    "this daemon wants 'Authorization: Bearer <token>'");
		goto out;
	}
	server_route(srv, &c);
out:
	for (i = 0; i < c.nsegs; i++)
		free(c.segs[i]);
	evhttp_clear_headers(&c.query);
	if (u)
		evhttp_uri_free(u);
}

/* ---- lifecycle ----------------------------------------------------------- */

static int
server_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

/* "ADDR:PORT" or "[V6ADDR]:PORT" (port 0 allowed: any free port) into ss. */
static int
server_parse_listen(const char *listen, struct sockaddr_storage *ss)
{
	char *addr = xstrdup(listen), *colon = strrchr(addr, ':'), *end, *host = addr;
	long port;
	int rc = -1;

	memset(ss, 0, sizeof *ss);
	if (colon == NULL || colon == addr)
		goto out;
	*colon = '\0';
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port < 0 || port > 65535)
		goto out;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		host[strlen(host) - 1] = '\0';
		host++;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		rc = inet_pton(AF_INET6, host, &s6->sin6_addr) == 1 ? 0 : -1;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		rc = inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -1;
	}
out:
	free(addr);
	return rc;
}

struct server *
server_new(struct event_base *base, const struct server_opts *opts, struct runs *runs,
    struct store *st, struct confine *roots, struct cwld_err *err)
{
	struct server *srv = xcalloc(1, sizeof *srv);
	struct sockaddr_storage ss;
	char host[INET6_ADDRSTRLEN] = "";
	evutil_socket_t fd;
	socklen_t sl = sizeof ss;

	srv->base = base;
	srv->runs = runs;
	srv->st = st;
	srv->roots = roots;
	srv->token = opts->token && *opts->token ? xstrdup(opts->token) : NULL;
	srv->max_body = opts->max_body ? opts->max_body : (8u << 20);
	srv->state_dir = xstrdup(opts->state_dir);
	srv->version = xstrdup(opts->version ? opts->version : "");
	srv->logs = json_object();
	srv->log_sent = json_object();
	if (server_parse_listen(opts->listen, &ss) < 0) {
		err_set(err, CWLD_EXIT_USAGE, "--listen '%s': want ADDR:PORT, e.g. 127.0.0.1:8080",
		    opts->listen);
		goto fail;
	}
	if (!server_is_loopback(&ss) && srv->token == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "--listen %s is not a loopback address: give --token "
		    "(or CWLD_TOKEN) so that requests must carry it", opts->listen);
		goto fail;
	}
	srv->log_tick = event_new(base, -1, EV_PERSIST, server_log_tick_cb, srv);
	if (srv->log_tick == NULL || (srv->events = events_new(base)) == NULL ||
	    (srv->http = evhttp_new(base)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot create the HTTP server");
		goto fail;
	}
	/* evhttp answers a body over its own limit with an HTML 413 that we
	 * cannot shape; up to four times --max-body the body is read and the
	 * JSON 413 comes from server_body, beyond that evhttp's stands. */
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)(srv->max_body * 4 > srv->max_body ?
	    srv->max_body * 4 : srv->max_body));
	evhttp_set_max_headers_size(srv->http, 64 * 1024);
	evhttp_set_timeout(srv->http, 120);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(srv->http, server_gencb, srv);
	{
		char *addr = xstrdup(opts->listen);
		char *colon = strrchr(addr, ':');
		long port = colon ? strtol(colon + 1, NULL, 10) : 0;

		if (colon)
			*colon = '\0';
		if (addr[0] == '[') { /* [::1]:8080 */
			memmove(addr, addr + 1, strlen(addr));
			addr[strlen(addr) - 1] = '\0';
		}
		srv->sock = evhttp_bind_socket_with_handle(srv->http, addr, (ev_uint16_t)port);
		free(addr);
	}
	if (srv->sock == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot listen on %s: %s", opts->listen, strerror(errno));
		goto fail;
	}
	fd = evhttp_bound_socket_get_fd(srv->sock);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
			snprintf(srv->addr, sizeof srv->addr, "%s:%u", host,
			    ntohs(((struct sockaddr_in *)&ss)->sin_port));
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
			snprintf(srv->addr, sizeof srv->addr, "[%s]:%u", host,
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
		}
	}
	if (runs_add_observer(runs, &server_observer, srv) < 0) {
		err_set(err, CWLD_EXIT_FAILED, "too many observers of the runs");
		goto fail;
	}
	return srv;
fail:
	server_free(srv);
	return NULL;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	if (srv->runs)
		runs_remove_observer(srv->runs, &server_observer, srv);
	events_free(srv->events);
	if (srv->http)
		evhttp_free(srv->http);
	if (srv->log_tick)
		event_free(srv->log_tick);
	http_free(srv->fetcher);
	json_decref(srv->logs);
	json_decref(srv->log_sent);
	free(srv->token);
	free(srv->state_dir);
	free(srv->version);
	free(srv);
}

const char *server_address(const struct server *srv) { return srv->addr; }

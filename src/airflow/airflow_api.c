/* Airflow's REST API as the mirror needs it: each call is a short sequence
 * of requests (detect the version, get a token, the request itself, the
 * Airflow 2 note, a read-back after a conflict) driven from http.c's
 * callbacks. It knows what Airflow's answers mean (docs/airflow.md: 409 on
 * a repeated create, 409 on a task already in its state, Airflow 2's empty
 * PATCH answer); what to call when, and retrying, is mirror.c's. */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/airflow_api.h"
#include "cwld/http.h"
#include "cwld/log.h"
#include "cwld/xmalloc.h"
#include "cwld/uri.h"

#define AIRFLOW_TIMEOUT_MS 30000L
#define AIRFLOW_MAX_BODY (4u << 20)

enum airflow_kind {
	AIRFLOW_K_DETECT,
	AIRFLOW_K_DAG_TASKS,
	AIRFLOW_K_IMPORT_ERRORS,
	AIRFLOW_K_CREATE_RUN,
	AIRFLOW_K_SET_TASK,
	AIRFLOW_K_SET_RUN,
	AIRFLOW_K_GET_RUN,
	AIRFLOW_K_TASKS,
};

/* What a call sends next: first what it needs (version, token), then its
 * own requests. */
enum airflow_stage {
	AIRFLOW_S_DETECT_V2,
	AIRFLOW_S_DETECT_V1,
	AIRFLOW_S_TOKEN,
	AIRFLOW_S_MAIN,      /* the request itself */
	AIRFLOW_S_NOTE,      /* the note on its own (Airflow 2; 3 after a 409) */
	AIRFLOW_S_READBACK,  /* GET after a 409 on create */
};

struct airflow_call {
	TAILQ_ENTRY(airflow_call) entry;
	struct airflow_api *a;
	enum airflow_kind kind;
	enum airflow_stage stage;   /* the request in flight */
	enum airflow_stage op;      /* the call's own stage, resumed after the
	                             * detect or token requests */
	char *dag, *run, *task, *state, *note;
	json_t *conf;
	int reauthed;               /* a refused token was replaced once */
	char *token;                /* the token the request was sent with */
	long v2_status;             /* detection: what /api/v2/version said */
	struct http_xfer *x;
	struct event *start;        /* the first request goes out from the loop */
	airflow_api_cb cb;
	void *arg;
};

struct airflow_api {
	struct event_base *base;
	struct http *h;
	char *url;
	char *user, *password, *userpwd;
	long timeout_ms;
	int major;
	char *version;
	char *token;                /* Airflow 3 */
	TAILQ_HEAD(, airflow_call) calls;
};

static void airflow_call_send(struct airflow_call *c);

/* The length of the valid UTF-8 sequence at p (1-4), or 0 when there is
 * none (a stray or overlong byte, a surrogate, a cut-off sequence). */
static size_t
airflow_utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

char *
airflow_api_clip(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, o = 0, n;
	char *out = xmalloc((len < max ? len : max) + 1);

	/* invalid bytes become '?': jansson refuses invalid UTF-8, and a
	 * note is text from tools and file names */
	while (p[i] != '\0') {
		n = airflow_utf8_len(p + i);
		if (o + (n ? n : 1) > max)
			break;
		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

struct airflow_api *
airflow_api_new(struct event_base *base, const struct airflow_api_opts *opts,
    struct cwld_err *err)
{
	struct airflow_api *a;
	size_t n;

	if (opts->url == NULL || (strncmp(opts->url, "http://", 7) != 0 &&
	    strncmp(opts->url, "https://", 8) != 0)) {
		err_set(err, CWLD_EXIT_USAGE, "airflow: url '%s' is not http:// or https://",
		    opts->url ? opts->url : "");
		return NULL;
	}
	a = xcalloc(1, sizeof *a);
	a->base = base;
	TAILQ_INIT(&a->calls);
	a->url = xstrdup(opts->url);
	for (n = strlen(a->url); n > 0 && a->url[n - 1] == '/'; n--)
		a->url[n - 1] = '\0';
	if (opts->user) {
		a->user = xstrdup(opts->user);
		a->password = xstrdup(opts->password ? opts->password : "");
		a->userpwd = xasprintf("%s:%s", a->user, a->password);
	}
	a->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : AIRFLOW_TIMEOUT_MS;
	a->version = xstrdup("");
	if ((a->h = http_new(base, NULL, err)) == NULL) {
		airflow_api_free(a);
		return NULL;
	}
	return a;
}

static void
airflow_call_free(struct airflow_call *c)
{
	free(c->dag);
	free(c->run);
	free(c->task);
	free(c->state);
	free(c->note);
	free(c->token);
	json_decref(c->conf);
	if (c->start)
		event_free(c->start);
	free(c);
}

void
airflow_api_free(struct airflow_api *a)
{
	struct airflow_call *c;

	if (a == NULL)
		return;
	http_free(a->h); /* no callback runs after this */
	while ((c = TAILQ_FIRST(&a->calls)) != NULL) {
		TAILQ_REMOVE(&a->calls, c, entry);
		airflow_call_free(c);
	}
	free(a->url);
	free(a->user);
	if (a->password)
		explicit_bzero(a->password, strlen(a->password));
	if (a->userpwd)
		explicit_bzero(a->userpwd, strlen(a->userpwd));
	free(a->password);
	free(a->userpwd);
	free(a->version);
	free(a->token);
	free(a);
}

int airflow_api_major(const struct airflow_api *a) { return a->major; }
const char *airflow_api_version(const struct airflow_api *a) { return a->version; }

char *
airflow_api_escape(const char *s)
{
	return uri_percent_encode(s, "-._~");
}

/* The path (below /api/vN) and JSON body of the call's current stage; the
 * body is a new reference or NULL. New string. */
static char *
airflow_call_path(struct airflow_call *c, const char **method, json_t **body)
{
	struct airflow_api *a = c->a;
	char *dag = c->dag ? airflow_api_escape(c->dag) : NULL;
	char *run = c->run ? airflow_api_escape(c->run) : NULL;
	char *task = c->task ? airflow_api_escape(c->task) : NULL;
	char *path = NULL;
	int v3 = a->major == 3;

	*method = "GET";
	*body = NULL;
	switch (c->kind) {
	case AIRFLOW_K_DETECT:
		break; /* no own request */
	case AIRFLOW_K_DAG_TASKS:
		path = xasprintf("/dags/%s/tasks", dag);
		break;
	case AIRFLOW_K_IMPORT_ERRORS:
		path = xstrdup("/importErrors?limit=100");
		break;
	case AIRFLOW_K_GET_RUN:
		path = xasprintf("/dags/%s/dagRuns/%s", dag, run);
		break;
	case AIRFLOW_K_TASKS:
		path = xasprintf("/dags/%s/dagRuns/%s/taskInstances?limit=1000", dag, run);
		break;
	case AIRFLOW_K_CREATE_RUN:
		if (c->stage == AIRFLOW_S_READBACK) {
			path = xasprintf("/dags/%s/dagRuns/%s", dag, run);
			break;
		}
		*method = "POST";
		path = xasprintf("/dags/%s/dagRuns", dag);
		*body = json_pack("{s:s}", "dag_run_id", c->run);
		if (v3) /* 3 wants it present; 2 refuses null and takes now */
			json_object_set_new(*body, "logical_date", json_null());
		if (c->conf)
			json_object_set(*body, "conf", c->conf);
		if (c->note)
			json_object_set_new(*body, "note", json_string(c->note));
		break;
	case AIRFLOW_K_SET_TASK:
		*method = "PATCH";
		if (c->stage == AIRFLOW_S_NOTE) {
			path = v3 ? xasprintf("/dags/%s/dagRuns/%s/taskInstances/%s", dag, run, task) :
			    xasprintf("/dags/%s/dagRuns/%s/taskInstances/%s/setNote", dag, run, task);
			*body = json_pack("{s:s}", "note", c->note);
			break;
		}
		path = xasprintf("/dags/%s/dagRuns/%s/taskInstances/%s", dag, run, task);
		*body = json_object();
		if (!v3) /* dry_run defaults to true on 2, and 3 refuses it */
			json_object_set_new(*body, "dry_run", json_false());
		if (c->state)
			json_object_set_new(*body, "new_state", json_string(c->state));
		if (v3 && c->note)
			json_object_set_new(*body, "note", json_string(c->note));
		break;
	case AIRFLOW_K_SET_RUN:
		*method = "PATCH";
		if (c->stage == AIRFLOW_S_NOTE) {
			path = xasprintf("/dags/%s/dagRuns/%s/setNote", dag, run);
			*body = json_pack("{s:s}", "note", c->note);
			break;
		}
		path = xasprintf("/dags/%s/dagRuns/%s", dag, run);
		*body = json_pack("{s:s}", "state", c->state);
		if (v3 && c->note)
			json_object_set_new(*body, "note", json_string(c->note));
		break;
	}
	free(dag);
	free(run);
	free(task);
	return path;
}

/* Ends the call: its callback, then it is gone. */
static void
airflow_call_end(struct airflow_call *c, enum airflow_status st, long http_status,
    const json_t *body, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
airflow_call_end(struct airflow_call *c, enum airflow_status st, long http_status,
    const json_t *body, const char *fmt, ...)
{
	struct airflow_result res = { st, http_status, "", body };
	char msg[1024];
	va_list ap;

	msg[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
	}
	res.msg = msg;
	TAILQ_REMOVE(&c->a->calls, c, entry);
	c->cb(c->arg, &res);
	airflow_call_free(c);
}

/* What Airflow said, short, for a message: its "detail" when there is one. */
static void
airflow_detail(const json_t *body, const struct http_response *res, char *buf, size_t len)
{
	const json_t *d = json_object_get(body, "detail");
	char *text = NULL;

	if (json_is_string(d))
		snprintf(buf, len, "%s", json_string_value(d));
	else if (d && (text = json_dumps(d, JSON_COMPACT)) != NULL)
		snprintf(buf, len, "%s", text);
	else if (res->status == 0)
		snprintf(buf, len, "%s", res->error ? res->error : "no answer");
	else
		snprintf(buf, len, "%.200s", res->body ? res->body : "");
	free(text);
	buf[strcspn(buf, "\r\n")] = '\0';
}

static void
airflow_call_cb(void *arg, const struct http_response *res)
{
	struct airflow_call *c = arg;
	struct airflow_api *a = c->a;
	json_t *body = NULL;
	const char *what;
	char detail[400];
	long s = res->status;

	c->x = NULL;
	if (s != 0 && res->len > 0)
		body = json_loadb(res->body, res->len, JSON_DECODE_ANY, NULL);
	airflow_detail(body, res, detail, sizeof detail);
	switch (c->stage) {
	case AIRFLOW_S_DETECT_V2:
		if (s == 0) {
			airflow_call_end(c, AIRFLOW_RETRY, 0, NULL, "cannot reach Airflow at %s: %s",
			    a->url, detail);
			goto out;
		}
		if (s == 200 && json_is_string(json_object_get(body, "version"))) {
			a->major = 3;
			free(a->version);
			a->version = xstrdup(json_string_value(json_object_get(body, "version")));
			break;
		}
		c->v2_status = s;
		c->stage = AIRFLOW_S_DETECT_V1;
		airflow_call_send(c);
		goto out;
	case AIRFLOW_S_DETECT_V1:
		if (s == 200 && json_is_string(json_object_get(body, "version"))) {
			a->major = 2;
			free(a->version);
			a->version = xstrdup(json_string_value(json_object_get(body, "version")));
			break;
		}
		airflow_call_end(c, AIRFLOW_RETRY, s, NULL, "no Airflow REST API at %s (GET "
		    "/api/v2/version: %ld, /api/v1/version: %ld%s%s)", a->url, c->v2_status, s,
		    s == 0 ? " " : "", s == 0 ? detail : "");
		goto out;
	case AIRFLOW_S_TOKEN:
		if ((s == 200 || s == 201) &&
		    json_is_string(json_object_get(body, "access_token"))) {
			free(a->token);
			a->token = xstrdup(json_string_value(json_object_get(body, "access_token")));
			break;
		}
		if (s == 404) /* not Airflow 3 any more: detect again next time */
			a->major = 0;
		if (s == 0)
			airflow_call_end(c, AIRFLOW_RETRY, s, NULL, "POST %s/auth/token: %s",
			    a->url, detail);
		else
			airflow_call_end(c, AIRFLOW_RETRY, s, NULL, "POST %s/auth/token as "
			    "'%s': HTTP %ld: %s", a->url, a->user ? a->user : "", s, detail);
		goto out;
	default:
		break;
	}
	if (c->stage <= AIRFLOW_S_TOKEN) {
		/* what the call needed is there: its own request now */
		if (c->kind == AIRFLOW_K_DETECT)
			airflow_call_end(c, AIRFLOW_OK, s, body, NULL);
		else
			airflow_call_send(c);
		goto out;
	}

	what = c->stage == AIRFLOW_S_NOTE ? "setting the note" :
	    c->stage == AIRFLOW_S_READBACK ? "reading the run back" : "request";
	if (s == 0) {
		airflow_call_end(c, AIRFLOW_RETRY, 0, NULL, "%s: cannot reach Airflow at %s: %s",
		    what, a->url, detail);
		goto out;
	}
	if ((s == 401 || s == 403) && a->major == 3 && !c->reauthed && a->user) {
		/* expired (401) or signed by an Airflow restarted with another
		 * secret (403): one new token, then the same request again */
		c->reauthed = 1;
		if (a->token && c->token && strcmp(a->token, c->token) == 0) {
			free(a->token);
			a->token = NULL;
		}
		airflow_call_send(c);
		goto out;
	}
	if (s >= 200 && s < 300) {
		switch (c->kind) {
		case AIRFLOW_K_SET_TASK:
			if (c->stage == AIRFLOW_S_MAIN && a->major == 2 && c->note) {
				/* 2 takes the note apart; its answer to the PATCH is
				 * {} and says nothing */
				c->stage = AIRFLOW_S_NOTE;
				airflow_call_send(c);
				goto out;
			}
			if (c->stage == AIRFLOW_S_NOTE && a->major == 2 && c->state) {
				const char *got = json_string_value(json_object_get(body, "state"));

				if (got == NULL || strcmp(got, c->state) != 0) {
					airflow_call_end(c, AIRFLOW_RETRY, s, body, "task '%s' of run "
					    "'%s' is '%s' after setting it '%s'", c->task, c->run,
					    got ? got : "null", c->state);
					goto out;
				}
			}
			break;
		case AIRFLOW_K_SET_RUN:
			if (c->stage == AIRFLOW_S_MAIN && a->major == 2 && c->note) {
				c->stage = AIRFLOW_S_NOTE;
				airflow_call_send(c);
				goto out;
			}
			break;
		default:
			break;
		}
		airflow_call_end(c, AIRFLOW_OK, s, body, NULL);
		goto out;
	}
	if (s == 409 && c->kind == AIRFLOW_K_CREATE_RUN && c->stage == AIRFLOW_S_MAIN) {
		/* the run exists, or (2) another has the same logical date:
		 * only reading it back tells */
		c->stage = AIRFLOW_S_READBACK;
		airflow_call_send(c);
		goto out;
	}
	if (s == 409 && c->kind == AIRFLOW_K_SET_TASK && c->stage == AIRFLOW_S_MAIN) {
		/* 3: already in that state, and the note was dropped with it */
		if (c->note == NULL) {
			airflow_call_end(c, AIRFLOW_OK, s, body, NULL);
			goto out;
		}
		c->stage = AIRFLOW_S_NOTE;
		airflow_call_send(c);
		goto out;
	}
	if (s == 404 && c->kind == AIRFLOW_K_DAG_TASKS) {
		airflow_call_end(c, AIRFLOW_RETRY, s, body, "DAG '%s' not parsed by Airflow yet",
		    c->dag);
		goto out;
	}
	if (s == 400 || s == 405 || s == 413 || s == 415 || s == 422)
		airflow_call_end(c, AIRFLOW_REFUSED, s, body, "%s for %s%s%s%s%s refused: HTTP %ld: %s",
		    what, c->dag ? c->dag : "", c->run ? "/" : "", c->run ? c->run : "",
		    c->task ? "/" : "", c->task ? c->task : "", s, detail);
	else
		airflow_call_end(c, AIRFLOW_RETRY, s, body, "%s for %s%s%s%s%s: HTTP %ld: %s",
		    what, c->dag ? c->dag : "", c->run ? "/" : "", c->run ? c->run : "",
		    c->task ? "/" : "", c->task ? c->task : "", s, detail);
out:
	json_decref(body);
}

/* Sends what the call needs next: the version, a token, then the request
 * of its current stage. On a failure to even start a request the call
 * ends (AIRFLOW_RETRY) from a later turn of the loop. */
static void
airflow_call_send(struct airflow_call *c)
{
	struct airflow_api *a = c->a;
	struct http_req req = { 0 };
	struct cwld_err err = { 0 };
	const char *hdrs[2] = { NULL, NULL };
	char *url = NULL, *path = NULL, *text = NULL, *auth = NULL;
	json_t *body = NULL;

	if (c->stage >= AIRFLOW_S_MAIN)
		c->op = c->stage;
	if (a->major == 0) {
		if (c->stage != AIRFLOW_S_DETECT_V1)
			c->stage = AIRFLOW_S_DETECT_V2;
	} else if (c->kind == AIRFLOW_K_DETECT) {
		airflow_call_end(c, AIRFLOW_OK, 0, NULL, NULL);
		return;
	} else if (a->major == 3 && a->token == NULL && a->user != NULL)
		c->stage = AIRFLOW_S_TOKEN;
	else
		c->stage = c->op;
	if (c->stage == AIRFLOW_S_MAIN && c->kind == AIRFLOW_K_SET_TASK && c->state == NULL &&
	    a->major == 2)
		c->stage = c->op = AIRFLOW_S_NOTE; /* 2: a note alone is setNote */

	req.timeout_ms = a->timeout_ms;
	req.max_body = AIRFLOW_MAX_BODY;
	switch (c->stage) {
	case AIRFLOW_S_DETECT_V2:
		url = xasprintf("%s/api/v2/version", a->url);
		break;
	case AIRFLOW_S_DETECT_V1:
		url = xasprintf("%s/api/v1/version", a->url);
		break;
	case AIRFLOW_S_TOKEN:
		url = xasprintf("%s/auth/token", a->url);
		req.method = "POST";
		body = json_pack("{s:s, s:s}", "username", a->user, "password", a->password);
		break;
	default:
		path = airflow_call_path(c, &req.method, &body);
		url = xasprintf("%s/api/%s%s", a->url, a->major == 3 ? "v2" : "v1", path);
		if (a->major == 3 && a->token) {
			auth = xasprintf("Authorization: Bearer %s", a->token);
			hdrs[0] = auth;
			req.headers = hdrs;
			free(c->token);
			c->token = xstrdup(a->token);
		} else if (a->major == 2)
			req.userpwd = a->userpwd;
		break;
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		req.body = text;
		req.body_len = strlen(text);
		/* only with a body: Airflow 2 answers a bodiless request that
		 * says JSON with 400 */
		req.content_type = "application/json";
	}
	req.url = url;
	if ((c->x = http_request_ex(a->h, &req, airflow_call_cb, c, &err)) == NULL)
		log_warnx("airflow: %s: %s", url, err.msg); /* only on a curl failure */
	if (auth)
		explicit_bzero(auth, strlen(auth));
	if (text && c->stage == AIRFLOW_S_TOKEN)
		explicit_bzero(text, strlen(text));
	free(auth);
	free(text);
	free(path);
	free(url);
	json_decref(body);
	if (c->x == NULL) {
		struct http_response res = { 0 };

		res.error = "cannot start the request";
		res.body = "";
		res.headers = "";
		/* answered as a failed transfer; the callback runs now, but
		 * the caller's own callback still only from the loop: every
		 * path here is reached from an http callback or from
		 * airflow_call_start's deferred start */
		airflow_call_cb(c, &res);
	}
}

static void
airflow_call_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct airflow_call *c = arg;

	(void)fd;
	(void)what;
	airflow_call_send(c);
}

/* A new call of kind; its first request goes out from the loop, so its
 * callback never runs inside the function that made it. */
static int
airflow_call_start(struct airflow_api *a, enum airflow_kind kind, const char *dag,
    const char *run, const char *task, const char *state, const char *note,
    const json_t *conf, airflow_api_cb cb, void *arg, struct cwld_err *err)
{
	struct airflow_call *c;

	c = xcalloc(1, sizeof *c);
	c->a = a;
	c->kind = kind;
	c->stage = c->op = AIRFLOW_S_MAIN;
	c->dag = dag ? xstrdup(dag) : NULL;
	c->run = run ? xstrdup(run) : NULL;
	c->task = task ? xstrdup(task) : NULL;
	c->state = state ? xstrdup(state) : NULL;
	c->note = note ? airflow_api_clip(note, 1000) : NULL;
	c->conf = conf ? json_deep_copy(conf) : NULL;
	c->cb = cb;
	c->arg = arg;
	if (kind == AIRFLOW_K_SET_TASK && state == NULL && note == NULL) {
		airflow_call_free(c);
		return err_set(err, CWLD_EXIT_FAILED, "airflow: setting task '%s': no state and "
		    "no note", task);
	}
	if ((c->start = event_new(a->base, -1, 0, airflow_call_start_cb, c)) == NULL) {
		airflow_call_free(c);
		return err_set(err, CWLD_EXIT_FAILED, "airflow: cannot schedule a request");
	}
	event_active(c->start, EV_TIMEOUT, 0);
	TAILQ_INSERT_TAIL(&a->calls, c, entry);
	return 0;
}

int
airflow_api_detect(struct airflow_api *a, airflow_api_cb cb, void *arg, struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_DETECT, NULL, NULL, NULL, NULL, NULL, NULL,
	    cb, arg, err);
}

int
airflow_api_dag_tasks(struct airflow_api *a, const char *dag_id, airflow_api_cb cb,
    void *arg, struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_DAG_TASKS, dag_id, NULL, NULL, NULL, NULL,
	    NULL, cb, arg, err);
}

int
airflow_api_import_errors(struct airflow_api *a, airflow_api_cb cb, void *arg,
    struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_IMPORT_ERRORS, NULL, NULL, NULL, NULL, NULL,
	    NULL, cb, arg, err);
}

int
airflow_api_create_run(struct airflow_api *a, const char *dag_id, const char *run_id,
    const json_t *conf, const char *note, airflow_api_cb cb, void *arg,
    struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_CREATE_RUN, dag_id, run_id, NULL, NULL, note,
	    conf, cb, arg, err);
}

int
airflow_api_set_task(struct airflow_api *a, const char *dag_id, const char *run_id,
    const char *task_id, const char *state, const char *note, airflow_api_cb cb,
    void *arg, struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_SET_TASK, dag_id, run_id, task_id, state, note,
	    NULL, cb, arg, err);
}

int
airflow_api_set_run(struct airflow_api *a, const char *dag_id, const char *run_id,
    const char *state, const char *note, airflow_api_cb cb, void *arg,
    struct cwld_err *err)
{
	if (state == NULL)
		return err_set(err, CWLD_EXIT_FAILED, "airflow: setting run '%s': no state",
		    run_id);
	return airflow_call_start(a, AIRFLOW_K_SET_RUN, dag_id, run_id, NULL, state, note,
	    NULL, cb, arg, err);
}

int
airflow_api_get_run(struct airflow_api *a, const char *dag_id, const char *run_id,
    airflow_api_cb cb, void *arg, struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_GET_RUN, dag_id, run_id, NULL, NULL, NULL,
	    NULL, cb, arg, err);
}

int
airflow_api_task_instances(struct airflow_api *a, const char *dag_id, const char *run_id,
    airflow_api_cb cb, void *arg, struct cwld_err *err)
{
	return airflow_call_start(a, AIRFLOW_K_TASKS, dag_id, run_id, NULL, NULL, NULL,
	    NULL, cb, arg, err);
}

/* Server-Sent Events over evhttp: each client is a chunked response kept
 * open; publishing writes one `event:`/`data:` block to every client that
 * follows the run. A client that goes away is dropped by its close
 * callback; a slow one is dropped when its output buffer passes 4 MiB. */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cwld/events.h"
#include "cwld/log.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

#define EVENTS_MAX_BUFFERED (4u << 20)

struct events_client {
	struct events *ev;
	struct evhttp_request *req;
	char *run_id;  /* NULL: every run */
	int logs;
	TAILQ_ENTRY(events_client) entry;
};

struct events {
	struct event *keepalive;
	int n;
	TAILQ_HEAD(, events_client) clients;
};

static void
events_client_free(struct events_client *c)
{
	TAILQ_REMOVE(&c->ev->clients, c, entry);
	c->ev->n--;
	free(c->run_id);
	free(c);
}

static void
events_close_cb(struct evhttp_connection *conn, void *arg)
{
	struct events_client *c = arg;

	(void)conn;
	events_client_free(c);
}

/* Ends one stream from our side. */
static void
events_end(struct events_client *c)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(c->req);

	if (conn)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	evhttp_send_reply_end(c->req);
	events_client_free(c);
}

static int
events_send(struct events_client *c, const char *text, size_t len)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(c->req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	struct evbuffer *buf;

	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > EVENTS_MAX_BUFFERED) {
		log_warnx("events: a client does not keep up; dropping it");
		events_end(c);
		return -1;
	}
	buf = evbuffer_new();
	evbuffer_add(buf, text, len);
	evhttp_send_reply_chunk(c->req, buf);
	evbuffer_free(buf);
	return 0;
}

static void
events_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	struct events_client *c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&ev->clients); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		events_send(c, ": keepalive\n\n", 13);
	}
}

struct events *
events_new(struct event_base *base)
{
	struct events *ev = xcalloc(1, sizeof *ev);
	struct timeval tv = { 15, 0 };

	TAILQ_INIT(&ev->clients);
	ev->keepalive = event_new(base, -1, EV_PERSIST, events_keepalive_cb, ev);
	if (ev->keepalive == NULL || event_add(ev->keepalive, &tv) < 0) {
		if (ev->keepalive)
			event_free(ev->keepalive);
		free(ev);
		return NULL;
	}
	return ev;
}

void
events_free(struct events *ev)
{
	struct events_client *c;

	if (ev == NULL)
		return;
	while ((c = TAILQ_FIRST(&ev->clients)) != NULL)
		events_end(c);
	event_free(ev->keepalive);
	free(ev);
}

static char *
events_format(const char *type, const json_t *data)
{
	char *js = json_dumps(data, JSON_COMPACT);
	char *text = xasprintf("event: %s\ndata: %s\n\n", type, js ? js : "{}");

	free(js);
	return text;
}

static int
events_is_final(const char *state)
{
	return state && (strcmp(state, STORE_SUCCESS) == 0 || strcmp(state, STORE_FAILED) == 0 ||
	    strcmp(state, STORE_CANCELLED) == 0);
}

void
events_follow(struct events *ev, struct evhttp_request *req, const char *run_id,
    int logs, const json_t *initial, int final)
{
	struct events_client *c = xcalloc(1, sizeof *c);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	c->ev = ev;
	c->req = req;
	c->run_id = run_id ? xstrdup(run_id) : NULL;
	c->logs = logs;
	TAILQ_INSERT_TAIL(&ev->clients, c, entry);
	ev->n++;
	evhttp_add_header(h, "Content-Type", "text/event-stream");
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), events_close_cb, c);
	/* a retry hint, so EventSource does not hammer a restarting daemon */
	if (events_send(c, "retry: 2000\n\n", 13) < 0)
		return;
	if (initial) {
		char *text = events_format("run", initial);

		if (events_send(c, text, strlen(text)) < 0) {
			free(text);
			return;
		}
		free(text);
	}
	if (final && run_id)
		events_end(c);
}

void
events_publish(struct events *ev, const char *run_id, const char *type, const json_t *data)
{
	struct events_client *c, *next;
	char *text = NULL;
	int is_log = strcmp(type, "log") == 0;
	int ends = strcmp(type, "run") == 0 &&
	    events_is_final(json_string_value(json_object_get(data, "state")));

	for (c = TAILQ_FIRST(&ev->clients); c; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->run_id && (run_id == NULL || strcmp(c->run_id, run_id) != 0))
			continue;
		if (is_log && !c->logs)
			continue;
		if (text == NULL)
			text = events_format(type, data);
		if (events_send(c, text, strlen(text)) < 0)
			continue;
		if (ends && c->run_id)
			events_end(c);
	}
	free(text);
}

int events_clients(const struct events *ev) { return ev->n; }

int
events_want_logs(const struct events *ev, const char *run_id)
{
	const struct events_client *c;

	TAILQ_FOREACH(c, &ev->clients, entry)
		if (c->logs && (run_id == NULL || c->run_id == NULL ||
		    strcmp(c->run_id, run_id) == 0))
			return 1;
	return 0;
}

/* Inside the exec group only: the Docker client's state and the request
 * helpers that docker.c (containers) and docker_image.c (images) share.
 * Not part of the public interface in include/cwld/docker.h. */
#ifndef CWLD_DOCKER_INT_H
#define CWLD_DOCKER_INT_H
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "cwld/err.h"
#include "cwld/http.h"

#define DOCKER_DEFAULT_HOST "unix:///var/run/docker.sock"
#define DOCKER_SHORT_MS (60L * 1000)
#define DOCKER_PING_MS (10L * 1000)

/* Where the engine listens. */
struct docker_host {
	char *spec;       /* as given, for messages */
	char *unix_path;  /* NULL for TCP */
	char *base_url;   /* "http://localhost" or "http://host:port" */
};

/* Someone waiting for the API version (docker_when_ready). */
struct docker_waiter {
	TAILQ_ENTRY(docker_waiter) entry;
	/* errmsg NULL: d->api is set; else why the engine is unreachable */
	void (*cb)(void *arg, const char *errmsg);
	void *arg;
	int queued;
};
TAILQ_HEAD(docker_waiters, docker_waiter);

struct docker_run;
TAILQ_HEAD(docker_runs, docker_run);
struct docker_image_op;
TAILQ_HEAD(docker_image_ops, docker_image_op);

struct docker {
	struct event_base *base;
	struct docker_host host;
	struct http *http;
	char *api;                     /* "/v1.41" once negotiated */
	int pinging;
	int starting;                  /* runs holding a create/start slot */
	int detached;                  /* docker_free leaves started containers */
	struct docker_runs runs;       /* every run not yet finished */
	struct docker_runs slot_q;     /* waiting for a create/start slot */
	struct docker_waiters waiters; /* waiting for the version */
	struct docker_image_ops images; /* image operations in flight */
};

int docker_host_parse(struct docker_host *dh, const char *host, struct cwld_err *err);
void docker_host_release(struct docker_host *dh);
/* Percent-encoding for a path segment (keeps / : @) and for a query value. */
char *docker_escape_path(const char *s);
char *docker_escape_query(const char *s);
/* The engine's "message" from an error response, else what is known. */
void docker_engine_msg(const struct http_response *res, char *buf, size_t size);
/* method base_url+api+path with an optional JSON body. */
struct http_xfer *docker_req(struct docker *d, const char *method, const char *path,
    const json_t *body, long timeout_ms, http_cb cb, void *arg, struct cwld_err *err);
/* 1: the API version is known, go on; 0: w->cb comes later from the loop
 * (w must stay valid until then or docker_waiter_cancel); -1 with err. */
int docker_when_ready(struct docker *d, struct docker_waiter *w, struct cwld_err *err);
void docker_waiter_cancel(struct docker *d, struct docker_waiter *w);
/* docker_image.c: aborts and frees every image operation, no callbacks
 * (for docker_free, while d->http still exists). */
void docker_image_free_all(struct docker *d);

#endif

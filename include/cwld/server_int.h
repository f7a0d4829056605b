/* Shared by the server's files (server.c, logs.c, wes.c, openapi.c): the
 * server's state, one request's decoded path and query, and the reply
 * helpers. Not for use outside src/server. */
#ifndef CWLD_SERVER_INT_H
#define CWLD_SERVER_INT_H
#include <stddef.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#define SERVER_MAX_SEGS 12
#define SERVER_NBUCKETS 10

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct runs *runs;
	struct store *st;
	struct confine *roots;
	struct events *events;
	char *token;
	size_t max_body;
	char *state_dir;
	char *version;
	char addr[80];
	json_t *logs;            /* run -> step -> {"stdout", "stderr"} paths, live runs */
	json_t *log_sent;        /* "run\tstep\tstream" -> bytes sent as `log` events */
	struct event *log_tick;  /* reads new lines while a client wants them */
	struct http *fetcher;    /* workflows given as URLs, made on first use */
	int steps_running;
	long http_codes[6];      /* answers by status class (index 1..5) */
	long hist[SERVER_NBUCKETS + 1];
	double hist_sum;
	long hist_count;
};

struct server_ctx {
	struct evhttp_request *req;
	char *segs[SERVER_MAX_SEGS]; /* decoded path segments */
	int nsegs;
	struct evkeyvalq query;
};

void server_reply(struct server *srv, struct evhttp_request *req, int code,
    const char *type, const char *body, size_t len);
void server_reply_json(struct server *srv, struct evhttp_request *req, int code,
    const json_t *v);
/* {"error": error, "detail": printf(fmt, ...)} with status code. */
void server_error(struct server *srv, struct evhttp_request *req, int code,
    const char *error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int server_seg_is(const struct server_ctx *c, int i, const char *s);
/* The body, NUL-terminated (new string), or NULL after answering 413. */
char *server_body(struct server *srv, struct server_ctx *c, size_t *len);

/* GET /api/v1/runs/{id}/steps/{step}/logs/{stream} (logs.c); run borrowed. */
void server_logs(struct server *srv, struct server_ctx *c, const json_t *run);
/* `log` events (logs.c): new complete lines of the live steps' stdout and
 * stderr go to the clients that asked for them, at most 64 KiB per file
 * and turn; final (a step has finished) sends a last unterminated line
 * too. */
void server_log_lines(struct server *srv, const char *run_id, const char *step, int final);
/* Everything under /ga4gh/wes/v1 (wes.c). */
void wes_route(struct server *srv, struct server_ctx *c);
/* The OpenAPI 3 document of docs/api.md and WES (openapi.c). */
extern const char server_openapi_json[];

#endif

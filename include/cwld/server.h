/* The daemon's HTTP server: evhttp on the shared loop, bearer-token
 * authentication, body limits, JSON errors, and the routes of the JSON API
 * (docs/api.md), the event streams and GA4GH WES. */
#ifndef CWLD_SERVER_H
#define CWLD_SERVER_H
#include <stddef.h>
#include <event2/event.h>
#include "cwld/err.h"

struct runs;
struct store;
struct confine;
struct server;

struct server_opts {
	const char *listen;      /* "ADDR:PORT" (port 0: any free one) */
	const char *token;       /* bearer token, or NULL */
	size_t max_body;         /* request body limit in bytes */
	const char *state_dir;
	const char *version;
};

/* Binds and starts serving on base. runs, st and roots are borrowed and
 * must outlive the server. A non-loopback address without a token is
 * refused (CWLD_EXIT_USAGE). NULL with err. */
struct server *server_new(struct event_base *base, const struct server_opts *opts,
    struct runs *runs, struct store *st, struct confine *roots, struct cwld_err *err);
/* Closes the listener and every open stream. NULL does nothing. */
void server_free(struct server *srv);
/* The address actually bound ("127.0.0.1:43121"); borrowed. */
const char *server_address(const struct server *srv);

#endif

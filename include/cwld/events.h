/* Server-Sent Events: clients following one run or all runs over evhttp,
 * and the publishing side the daemon's observers call. */
#ifndef CWLD_EVENTS_H
#define CWLD_EVENTS_H
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

struct events;

/* A 15 s keepalive comment goes to every client. NULL when the loop cannot
 * make a timer. */
struct events *events_new(struct event_base *base);
/* Ends every stream and frees. NULL does nothing. */
void events_free(struct events *ev);

/* Takes over req as an event stream (200, text/event-stream): events of
 * run_id (NULL: every run), log lines only when logs is set. initial (may
 * be NULL, borrowed) is sent first as a `run` event. When the run has
 * already ended (final set) the stream ends after it. */
void events_follow(struct events *ev, struct evhttp_request *req, const char *run_id,
    int logs, const json_t *initial, int final);

/* Sends `event: type` with data (borrowed, compact JSON) to the clients of
 * run_id and to those of every run. A `run` event in a final state ends the
 * streams that follow that one run. */
void events_publish(struct events *ev, const char *run_id, const char *type,
    const json_t *data);
/* Clients following now (for metrics). */
int events_clients(const struct events *ev);
/* Clients that asked for log lines of run_id (any run when NULL). */
int events_want_logs(const struct events *ev, const char *run_id);

#endif

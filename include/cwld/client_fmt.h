/* What the daemon's clients (src/cli/cmd_client.c) do to its answers that
 * needs no network: times shown in local time, aligned tables, labels and
 * process names for people, and an incremental Server-Sent Events reader. */
#ifndef CWLD_CLIENT_FMT_H
#define CWLD_CLIENT_FMT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Milliseconds since the epoch of an ISO-8601 UTC time as the API writes
 * it ("2026-11-27T09:00:00.123Z"; the fraction and a "+hh:mm"/"-hh:mm"
 * offset instead of Z are accepted). 0 and *ms set, or -1 when s is NULL
 * or not such a time. */
int client_fmt_parse_time(const char *s, int64_t *ms);

/* "YYYY-MM-DD HH:MM:SS" in the local time zone (TZ) of the ISO time s into
 * buf (always terminated); "-" when s is NULL or not a time. Returns buf. */
const char *client_fmt_local_time(const char *s, char *buf, size_t len);

/* How long from ISO time start to end ("0.4s", "1m02s", "2h03m", as
 * progress_fmt_elapsed writes them); an end of NULL means now_ms (a
 * running step). "-" when start is NULL or a time does not parse. */
const char *client_fmt_span(const char *start, const char *end, int64_t now_ms,
    char *buf, size_t len);

/* New string: an object of string labels as "k=v,k2=v2", keys sorted; ""
 * for NULL, an empty object or anything but an object. Non-string values
 * are written as JSON. */
char *client_fmt_labels(const json_t *labels);

/* Splits "key=value" at its first '='. 0 with new strings in *key and
 * *value (the value may be empty), or -1 when there is no '=' or the key
 * is empty (nothing allocated). */
int client_fmt_label_split(const char *kv, char **key, char **value);

/* New string: the last path segment of a process URI, percent-decoded, and
 * its #fragment kept ("file:///a/wf.cwl#main" -> "wf.cwl#main"); "-" for
 * NULL or empty. */
char *client_fmt_process_name(const char *uri);

/* Whether a run state is final: success, failed or cancelled. */
int client_fmt_state_final(const char *state);

/* A table written with its columns aligned: cells are copied, control
 * characters (a newline in an error message) become spaces, widths count
 * UTF-8 characters, columns are two spaces apart, and the last column is
 * not padded, so no line ends in blanks. */
struct client_fmt_table;

/* A table of ncols columns (at least 1) with these headers (copied). */
struct client_fmt_table *client_fmt_table_new(size_t ncols, const char *const *headers);
/* Adds a row of ncols cells; a NULL cell is written "-". */
void client_fmt_table_add(struct client_fmt_table *t, const char *const *cells);
/* Rows added so far, the header not counted. */
size_t client_fmt_table_rows(const struct client_fmt_table *t);
/* New string: the whole table, header first, each line ending in '\n'. */
char *client_fmt_table_render(const struct client_fmt_table *t);
void client_fmt_table_free(struct client_fmt_table *t); /* NULL does nothing */

/* Server-Sent Events (the WHATWG event-stream format) cut from bytes as
 * they arrive, in pieces of any size: lines end in LF, CRLF or CR, "event"
 * names the event (default "message"), "data" lines are joined by '\n', a
 * blank line dispatches, comments (": keepalive") and other fields are
 * skipped. An event larger than max bytes is an error, so a broken stream
 * cannot grow memory without end. */
struct client_fmt_sse;

/* Called with each complete event (both strings borrowed, valid for the
 * call). Return 0 to go on, anything else to stop: client_fmt_sse_feed
 * then returns that value and the parser must not be fed again. */
typedef int (*client_fmt_sse_cb)(void *arg, const char *event, const char *data);

struct client_fmt_sse *client_fmt_sse_new(size_t max, client_fmt_sse_cb cb, void *arg);
/* Feeds n bytes: 0 when all were taken, the callback's value when it asked
 * to stop, -1 when an event grew beyond max. */
int client_fmt_sse_feed(struct client_fmt_sse *p, const char *bytes, size_t n);
void client_fmt_sse_free(struct client_fmt_sse *p); /* NULL does nothing */

#endif

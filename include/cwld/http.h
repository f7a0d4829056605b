/* Asynchronous HTTP on the event loop: libcurl multi driven by libevent
 * (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION), over TCP or a unix socket. */
#ifndef CWLD_HTTP_H
#define CWLD_HTTP_H
#include <stddef.h>
#include <sys/types.h>
#include <event2/event.h>
#include "cwld/err.h"

struct http;
struct http_xfer;

struct http_response {
	long status;         /* 0 when the transfer failed */
	const char *body;    /* NUL-terminated, borrowed for the callback; ""
	                      * when the body went to an on_data callback */
	size_t len;
	const char *error;   /* curl's message when status == 0 */
	const char *headers; /* raw header block of the final response,
	                      * NUL-terminated, borrowed; "" when none */
};

/* Called exactly once per successful http_request(), always from the event
 * loop, never from inside http_request(). Must not call http_free(). */
typedef void (*http_cb)(void *arg, const struct http_response *res);

/* unix_socket may be NULL (TCP). */
struct http *http_new(struct event_base *base, const char *unix_socket, struct cwld_err *err);
/* Aborts transfers in flight without calling their callbacks. */
void http_free(struct http *h);

/* Starts method url with an optional body (copied) and content type.
 * timeout_ms 0 means none. The response body is capped at 16 MiB; a larger
 * one fails the request (status 0). 0 or -1 with err. */
int http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    long timeout_ms, http_cb cb, void *arg, struct cwld_err *err);

/* Receives a 2xx response body as it arrives, instead of it being kept (for
 * logs and streams); return 0 to go on, -1 to abort the transfer (it then
 * completes with status 0). Bodies of other statuses are kept as usual so
 * the error message can be read. */
typedef int (*http_data_cb)(void *arg, const char *data, size_t len);
/* Called once when the final response's headers are complete, before any
 * body; status is the HTTP status. Runs inside a curl callback: it may call
 * http_request() (requests are started from the loop later) but must not
 * call http_cancel() or http_free(). */
typedef void (*http_headers_cb)(void *arg, long status, const char *headers);
/* Supplies a request body piece by piece (an upload streamed from a file):
 * copies at most size bytes to buf and returns how many, 0 at the end, or
 * -1 to abort the transfer (it then completes with status 0). Called from
 * the loop, inside curl; the same rules as http_headers_cb. */
typedef long (*http_read_cb)(void *arg, char *buf, size_t size);

struct http_req {
	const char *method;         /* NULL: GET */
	const char *url;
	const char *body;           /* copied; NULL: none */
	size_t body_len;
	const char *content_type;   /* NULL: none */
	const char *const *headers; /* NULL-terminated "Name: value", or NULL */
	const char *userpwd;        /* "user:password" for HTTP Basic, or NULL */
	const char *aws_sigv4;      /* CURLOPT_AWS_SIGV4 provider, or NULL.
	                             * libcurl 7.88 signs every header given
	                             * here, also the empty ones that only
	                             * remove a header of curl's own, which
	                             * are then not sent and break the
	                             * signature: with aws_sigv4 none is added
	                             * (curl may then send Expect:
	                             * 100-continue), so give content_type
	                             * for a body */
	long timeout_ms;            /* 0: none */
	size_t max_body;            /* 0: 16 MiB */
	http_data_cb on_data;       /* optional */
	http_headers_cb on_headers; /* optional */
	void *data_arg;             /* for on_data, on_headers and read_body */
	http_read_cb read_body;     /* optional, instead of body */
	long long body_size;        /* with read_body: the total, -1 unknown
	                             * (then sent chunked) */
	int follow_redirects;       /* follow up to 10 Location: redirects */
	int path_as_is;             /* send the path as written: no "." or
	                             * ".." segments removed (a signed path) */
	long low_speed_time_s;      /* >0: fail a transfer that moves less
	                             * than 1 byte/s for this long */
};

/* Like http_request() with every option; returns a handle usable with
 * http_cancel() until cb has been called, or NULL with err. */
struct http_xfer *http_request_ex(struct http *h, const struct http_req *req,
    http_cb cb, void *arg, struct cwld_err *err);
/* Aborts one transfer whose callback has not run yet; cb is never called.
 * Not from inside that transfer's own callbacks. */
void http_cancel(struct http_xfer *x);

/* A raw connection (CURLOPT_CONNECT_ONLY) to the server of url, for
 * protocols that take the connection over (Docker's attach). cb is called
 * once from the loop: with conn and error NULL when connected, or with conn
 * NULL and curl's message (the handle is then gone). A connected handle is
 * used with http_conn_* and closed with http_cancel(). */
typedef void (*http_conn_cb)(void *arg, struct http_xfer *conn, const char *error);
struct http_xfer *http_connect(struct http *h, const char *url, long timeout_ms,
    http_conn_cb cb, void *arg, struct cwld_err *err);
/* The socket to wait on (libevent) before http_conn_send/recv; -1 if none. */
int http_conn_fd(struct http_xfer *conn);
#define HTTP_AGAIN (-2)
/* Bytes moved (>0), HTTP_AGAIN when the socket is not ready, -1 on error;
 * recv returns 0 at the peer's end of stream. */
ssize_t http_conn_send(struct http_xfer *conn, const void *buf, size_t len);
ssize_t http_conn_recv(struct http_xfer *conn, void *buf, size_t len);

/* The value of header name (case-insensitive) in a raw header block such as
 * http_response.headers, trimmed, as a new string; NULL when absent. */
char *http_header_get(const char *headers, const char *name);

#endif

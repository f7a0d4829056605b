/* HTTP client on the event loop: one libcurl multi handle per struct http,
 * driven by libevent (a persistent event per socket curl asks about, one
 * evtimer for curl's timeout), as in curl's docs/examples/multi-event.c.
 * New transfers are queued and added to the multi handle from a deferred
 * event, never from inside a curl callback. What a request means (Docker,
 * S3, Airflow) is left to the callers. */
#include <sys/queue.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "cwld/curl_lazy.h"
#include "cwld/http.h"
#include "cwld/xmalloc.h"

#define HTTP_DEFAULT_MAX_BODY (16u * 1024 * 1024)
#define HTTP_MAX_HEADERS (64u * 1024)

struct http_xfer {
	TAILQ_ENTRY(http_xfer) entry;
	struct http *h;
	CURL *easy;
	struct curl_slist *hdrs;
	int added;               /* in the multi handle (else pending) */
	char *buf;               /* response body (NUL-terminated when kept) */
	size_t len, cap, max;
	int too_large;
	int data_aborted;
	int read_aborted;
	http_read_cb read_body;
	char *rhdrs;             /* raw response headers of the last block */
	size_t rhlen, rhcap;
	int headers_done;
	http_data_cb on_data;
	http_headers_cb on_headers;
	void *data_arg;
	http_cb cb;
	void *arg;
	http_conn_cb conn_cb;    /* a raw connection (http_connect) */
	int connected;           /* ... that is established: stays in the multi */
	char errbuf[CURL_ERROR_SIZE];
};

TAILQ_HEAD(http_xfers, http_xfer);

struct http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event *kick;
	char *unix_socket;
	struct http_xfers pending;
	struct http_xfers active;
};

struct http_sock {
	struct http *h;
	curl_socket_t fd;
	struct event *ev;
};

static int http_global_done;

static void http_check_info(struct http *h);
static void http_xfer_free(struct http_xfer *x);

static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &running);
	http_check_info(h);
}

static void
http_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_info(h);
}

/* CURLMOPT_SOCKETFUNCTION: keep one persistent event per socket in line
 * with what curl wants to wait for. */
static int
http_socket_fn(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct http_sock *hs = socketp;
	short kind;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			event_free(hs->ev);
			free(hs);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (hs == NULL) {
		hs = xcalloc(1, sizeof *hs);
		hs->h = h;
		hs->fd = s;
		hs->ev = event_new(h->base, s, kind, http_event_cb, h);
		if (hs->ev == NULL) {
			free(hs);
			return -1;
		}
		curl_multi_assign(h->multi, s, hs);
	} else {
		event_del(hs->ev);
		event_assign(hs->ev, h->base, s, kind, http_event_cb, h);
	}
	event_add(hs->ev, NULL);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl's single timeout as one evtimer. */
static int
http_timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(h->timer, &tv);
	return 0;
}

/* Adds queued transfers to the multi handle, outside any curl callback. */
static void
http_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http *h = arg;
	struct http_xfer *x;
	CURLMcode mc;

	(void)fd;
	(void)what;
	while ((x = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, x, entry);
		TAILQ_INSERT_TAIL(&h->active, x, entry);
		mc = curl_multi_add_handle(h->multi, x->easy);
		if (mc != CURLM_OK) {
			struct http_response res = { 0, "", 0,
			    curl_multi_strerror(mc), "" };

			TAILQ_REMOVE(&h->active, x, entry);
			if (x->conn_cb != NULL)
				x->conn_cb(x->arg, NULL, res.error);
			else
				x->cb(x->arg, &res);
			http_xfer_free(x);
			continue;
		}
		x->added = 1;
	}
}

static void
http_check_info(struct http *h)
{
	struct http_response res;
	struct http_xfer *x;
	CURLMsg *msg;
	CURLcode rc;
	char *priv;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)(void *)priv;
		if (x->conn_cb != NULL && rc == CURLE_OK) {
			/* removing a CONNECT_ONLY handle from the multi would
			 * close its connection: it stays until http_cancel */
			x->connected = 1;
			x->conn_cb(x->arg, x, NULL);
			continue;
		}
		curl_multi_remove_handle(h->multi, x->easy);
		x->added = 0;
		TAILQ_REMOVE(&h->active, x, entry);

		memset(&res, 0, sizeof res);
		res.body = x->buf != NULL ? x->buf : "";
		res.len = x->len;
		res.headers = x->rhdrs != NULL ? x->rhdrs : "";
		if (x->too_large)
			res.error = "response body too large";
		else if (x->data_aborted)
			res.error = "transfer aborted by the receiver";
		else if (x->read_aborted)
			res.error = "transfer aborted by the sender";
		else if (rc != CURLE_OK)
			res.error = x->errbuf[0] != '\0' ? x->errbuf :
			    curl_easy_strerror(rc);
		else
			curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
			    &res.status);
		if (res.error != NULL) {
			res.status = 0;
			/* curl's error buffer may end with a newline */
			x->errbuf[strcspn(x->errbuf, "\n")] = '\0';
		}
		if (x->conn_cb != NULL)
			x->conn_cb(x->arg, NULL, res.error);
		else
			x->cb(x->arg, &res);
		http_xfer_free(x);
	}
}

static int
http_status_ok(struct http_xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

static size_t
http_write_fn(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;

	if (x->on_data != NULL && http_status_ok(x)) {
		if (x->on_data(x->data_arg, data, n) != 0) {
			x->data_aborted = 1;
			return 0;
		}
		return n;
	}
	if (n > x->max - x->len) {
		x->too_large = 1;
		return 0;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 1024;

		while (cap < x->len + n + 1)
			cap *= 2;
		x->buf = xreallocarray(x->buf, cap, 1);
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

static size_t
http_header_fn(char *data, size_t size, size_t nitems, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nitems;
	long status = 0;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0)
		x->rhlen = 0; /* a new block (after 1xx or a redirect) */
	if (x->rhlen + n + 1 > HTTP_MAX_HEADERS)
		return 0;
	if (x->rhlen + n + 1 > x->rhcap) {
		size_t cap = x->rhcap ? x->rhcap : 512;

		while (cap < x->rhlen + n + 1)
			cap *= 2;
		x->rhdrs = xreallocarray(x->rhdrs, cap, 1);
		x->rhcap = cap;
	}
	memcpy(x->rhdrs + x->rhlen, data, n);
	x->rhlen += n;
	x->rhdrs[x->rhlen] = '\0';

	if ((n == 2 && data[0] == '\r' && data[1] == '\n') ||
	    (n == 1 && data[0] == '\n')) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && !x->headers_done) {
			x->headers_done = 1;
			if (x->on_headers != NULL)
				x->on_headers(x->data_arg, status, x->rhdrs);
		}
	}
	return n;
}

/* CURLOPT_READFUNCTION: the request body from the caller's read_body. */
static size_t
http_read_fn(char *buf, size_t size, size_t nitems, void *userp)
{
	struct http_xfer *x = userp;
	long n;

	n = x->read_body(x->data_arg, buf, size * nitems);
	if (n < 0 || (size_t)n > size * nitems) {
		x->read_aborted = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)n;
}

static void
http_xfer_free(struct http_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->buf);
	free(x->rhdrs);
	free(x);
}

struct http *
http_new(struct event_base *base, const char *unix_socket, struct cwld_err *err)
{
	struct http *h = NULL;

	if (!http_global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			err_set(err, CWLD_EXIT_FAILED,
			    "http: curl init failed%s", curl_lazy_why());
			return NULL;
		}
		http_global_done = 1;
	}
	h = xcalloc(1, sizeof *h);
	h->base = base;
	TAILQ_INIT(&h->pending);
	TAILQ_INIT(&h->active);
	if (unix_socket != NULL)
		h->unix_socket = xstrdup(unix_socket);
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, http_timer_cb, h);
	h->kick = event_new(base, -1, 0, http_kick_cb, h);
	if (h->multi == NULL || h->timer == NULL || h->kick == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "http: cannot set up curl multi");
		http_free(h);
		return NULL;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_fn);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_fn);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void
http_free(struct http *h)
{
	struct http_xfer *x;

	if (h == NULL)
		return;
	while ((x = TAILQ_FIRST(&h->pending)) != NULL) {
		TAILQ_REMOVE(&h->pending, x, entry);
		http_xfer_free(x);
	}
	while ((x = TAILQ_FIRST(&h->active)) != NULL) {
		TAILQ_REMOVE(&h->active, x, entry);
		if (x->added)
			curl_multi_remove_handle(h->multi, x->easy);
		http_xfer_free(x);
	}
	/* curl_multi_cleanup calls the socket function for open sockets */
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	if (h->timer != NULL)
		event_free(h->timer);
	if (h->kick != NULL)
		event_free(h->kick);
	free(h->unix_socket);
	free(h);
}

struct http_xfer *
http_request_ex(struct http *h, const struct http_req *req, http_cb cb,
    void *arg, struct cwld_err *err)
{
	struct http_xfer *x = NULL;
	const char *method = req->method != NULL ? req->method : "GET";
	const char *const *hp;
	char *line = NULL;

	if (req->url == NULL || cb == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "http: no url or callback");
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->h = h;
	x->cb = cb;
	x->arg = arg;
	x->on_data = req->on_data;
	x->on_headers = req->on_headers;
	x->data_arg = req->data_arg;
	x->max = req->max_body ? req->max_body : HTTP_DEFAULT_MAX_BODY;
	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "http: curl_easy_init failed");
		goto fail;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, http_write_fn);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, http_header_fn);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	if (h->unix_socket != NULL)
		curl_easy_setopt(x->easy, CURLOPT_UNIX_SOCKET_PATH,
		    h->unix_socket);
	if (req->timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	if (req->userpwd != NULL)
		curl_easy_setopt(x->easy, CURLOPT_USERPWD, req->userpwd);
	if (req->aws_sigv4 != NULL)
		curl_easy_setopt(x->easy, CURLOPT_AWS_SIGV4, req->aws_sigv4);
	if (req->path_as_is)
		curl_easy_setopt(x->easy, CURLOPT_PATH_AS_IS, 1L);
	if (req->low_speed_time_s > 0) {
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME,
		    req->low_speed_time_s);
	}
	if (req->follow_redirects) {
		curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(x->easy, CURLOPT_MAXREDIRS, 10L);
	}

	if (req->read_body != NULL) {
		x->read_body = req->read_body;
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, http_read_fn);
		curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
		/* -1: curl sends it chunked */
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body_size >= 0 ? req->body_size : -1));
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
	} else if (req->body != NULL || strcmp(method, "POST") == 0 ||
	    strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(req->body != NULL ? req->body_len : 0));
		curl_easy_setopt(x->easy, CURLOPT_COPYPOSTFIELDS,
		    req->body != NULL ? req->body : "");
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, method);
	}

	/* no "Expect: 100-continue" round trip for larger bodies; not with
	 * SigV4, which would sign this header that is not sent (see http.h) */
	if (req->aws_sigv4 == NULL)
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (req->content_type != NULL) {
		line = xasprintf("Content-Type: %s", req->content_type);
		x->hdrs = curl_slist_append(x->hdrs, line);
		free(line);
	} else if (req->aws_sigv4 == NULL && (req->body != NULL ||
	    req->read_body != NULL || strcmp(method, "POST") == 0)) {
		/* not curl's application/x-www-form-urlencoded */
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type:");
	}
	for (hp = req->headers; hp != NULL && *hp != NULL; hp++)
		x->hdrs = curl_slist_append(x->hdrs, *hp);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);

	TAILQ_INSERT_TAIL(&h->pending, x, entry);
	event_active(h->kick, EV_TIMEOUT, 0);
	return x;

fail:
	http_xfer_free(x);
	return NULL;
}

int
http_request(struct http *h, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type,
    long timeout_ms, http_cb cb, void *arg, struct cwld_err *err)
{
	struct http_req req;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body_len;
	req.content_type = content_type;
	req.timeout_ms = timeout_ms;
	return http_request_ex(h, &req, cb, arg, err) != NULL ? 0 : -1;
}

void
http_cancel(struct http_xfer *x)
{
	struct http *h;

	if (x == NULL)
		return;
	h = x->h;
	if (x->added) {
		curl_multi_remove_handle(h->multi, x->easy);
		TAILQ_REMOVE(&h->active, x, entry);
	} else {
		TAILQ_REMOVE(&h->pending, x, entry);
	}
	http_xfer_free(x);
}

struct http_xfer *
http_connect(struct http *h, const char *url, long timeout_ms, http_conn_cb cb,
    void *arg, struct cwld_err *err)
{
	struct http_xfer *x;

	if (url == NULL || cb == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "http: no url or callback");
		return NULL;
	}
	x = xcalloc(1, sizeof *x);
	x->h = h;
	x->conn_cb = cb;
	x->arg = arg;
	x->easy = curl_easy_init();
	if (x->easy == NULL) {
		free(x);
		err_set(err, CWLD_EXIT_FAILED, "http: curl_easy_init failed");
		return NULL;
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	curl_easy_setopt(x->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	if (h->unix_socket != NULL)
		curl_easy_setopt(x->easy, CURLOPT_UNIX_SOCKET_PATH,
		    h->unix_socket);
	if (timeout_ms > 0)
		curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	TAILQ_INSERT_TAIL(&h->pending, x, entry);
	event_active(h->kick, EV_TIMEOUT, 0);
	return x;
}

int
http_conn_fd(struct http_xfer *conn)
{
	curl_socket_t s = CURL_SOCKET_BAD;

	if (conn == NULL || !conn->connected ||
	    curl_easy_getinfo(conn->easy, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK)
		return -1;
	return (int)s;
}

ssize_t
http_conn_send(struct http_xfer *conn, const void *buf, size_t len)
{
	size_t n = 0;
	CURLcode rc;

	rc = curl_easy_send(conn->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return HTTP_AGAIN;
	if (rc != CURLE_OK)
		return -1;
	return (ssize_t)n;
}

ssize_t
http_conn_recv(struct http_xfer *conn, void *buf, size_t len)
{
	size_t n = 0;
	CURLcode rc;

	rc = curl_easy_recv(conn->easy, buf, len, &n);
	if (rc == CURLE_AGAIN)
		return HTTP_AGAIN;
	if (rc != CURLE_OK)
		return -1;
	return (ssize_t)n;
}

char *
http_header_get(const char *headers, const char *name)
{
	const char *p = headers, *eol, *v, *end;
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 &&
		    p[nlen] == ':') {
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			end = eol;
			while (end > v && isspace((unsigned char)end[-1]))
				end--;
			return xstrndup(v, (size_t)(end - v));
		}
		p = *eol != '\0' ? eol + 1 : eol;
	}
	return NULL;
}

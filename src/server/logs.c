/* A step's stdout or stderr over HTTP: the whole file (sent by the kernel
 * from the file, never read into memory), its last lines, or followed while
 * the step runs (a 250 ms timer looks for new bytes; the step's end, read
 * from the store, ends the response once everything has been sent). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "cwld/events.h"
#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/server_int.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

#define LOGS_CHUNK (1u << 20)

struct logs_follow {
	struct server *srv;
	struct evhttp_request *req;
	struct event *tick;
	char *path;
	char *run_id;
	char *step;
	off_t sent;
};

static void
logs_follow_free(struct logs_follow *f)
{
	event_free(f->tick);
	free(f->path);
	free(f->run_id);
	free(f->step);
	free(f);
}

static void
logs_close_cb(struct evhttp_connection *conn, void *arg)
{
	(void)conn;
	logs_follow_free(arg);
}

/* Sends what the file has beyond f->sent (at most a MiB a turn, so one
 * follower cannot hold the loop). 1 when more is waiting. */
static int
logs_send_new(struct logs_follow *f)
{
	struct stat st;
	struct evbuffer *buf;
	off_t n;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || st.st_size <= f->sent) {
		close(fd);
		return 0;
	}
	n = st.st_size - f->sent;
	if (n > (off_t)LOGS_CHUNK)
		n = LOGS_CHUNK;
	buf = evbuffer_new();
	if (evbuffer_add_file(buf, fd, f->sent, n) < 0) { /* takes fd */
		evbuffer_free(buf);
		return 0;
	}
	evhttp_send_reply_chunk(f->req, buf);
	evbuffer_free(buf);
	f->sent += n;
	return st.st_size > f->sent;
}

static void
logs_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct logs_follow *f = arg;
	struct cwld_err err = { 0 };
	json_t *step = NULL;
	const char *state;
	int more, ended;

	(void)fd;
	(void)what;
	more = logs_send_new(f);
	if (more)
		return;
	/* nothing new: has the step ended? (then its files are complete) */
	if (store_step_find(f->srv->st, f->run_id, f->step, &step, &err) < 0)
		log_warnx("logs of run %s step %s: %s", f->run_id, f->step, err.msg);
	state = json_string_value(json_object_get(step, "state"));
	ended = step == NULL || (state && strcmp(state, STORE_PENDING) != 0 &&
	    strcmp(state, STORE_RUNNING) != 0);
	json_decref(step);
	if (!ended)
		return;
	if (logs_send_new(f))
		return;
	evhttp_connection_set_closecb(evhttp_request_get_connection(f->req), NULL, NULL);
	evhttp_send_reply_end(f->req);
	logs_follow_free(f);
}

/* Offset of the start of the last n lines of fd's file (size bytes). */
static off_t
logs_tail_offset(int fd, off_t size, long n)
{
	char buf[8192];
	off_t pos = size;
	long lines = 0;

	if (n <= 0)
		return size;
	while (pos > 0) {
		size_t len = pos > (off_t)sizeof buf ? sizeof buf : (size_t)pos;
		ssize_t r;

		pos -= (off_t)len;
		if ((r = pread(fd, buf, len, pos)) != (ssize_t)len)
			return 0;
		for (ssize_t i = r - 1; i >= 0; i--) {
			/* a final newline ends the last line, it does not start one */
			if (buf[i] == '\n' && pos + i != size - 1 && ++lines == n)
				return pos + i + 1;
		}
	}
	return 0;
}

void
server_logs(struct server *srv, struct server_ctx *c, const json_t *run)
{
	const char *run_id = c->segs[3], *name = c->segs[5], *stream = c->segs[7];
	const char *live, *follow = evhttp_find_header(&c->query, "follow");
	const char *tail = evhttp_find_header(&c->query, "tail");
	const json_t *steps = json_object_get(run, "steps"), *step = NULL, *s, *attempts;
	struct logs_follow *f;
	struct stat st;
	struct evbuffer *buf;
	char *path = NULL, *end;
	long ntail = -1;
	off_t from = 0;
	size_t i;
	int fd;

	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
		server_error(srv, c->req, 404, "not_found", "logs are 'stdout' or 'stderr', not '%s'", stream);
		return;
	}
	if (tail) {
		ntail = strtol(tail, &end, 10);
		if (*end || ntail < 0 || ntail > 1000000) {
			server_error(srv, c->req, 400, "bad_request", "tail must be 0 to 1000000 lines");
			return;
		}
	}
	json_array_foreach(steps, i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			step = s; /* the latest row of that name */
	if (step == NULL) {
		server_error(srv, c->req, 404, "not_found", "run %s has no step '%s' (yet)", run_id, name);
		return;
	}
	/* a running step's files as the scheduler named them (stdout may be an
	 * output file); else the logs kept beside its work directory
	 * ("<workdir>.stderr.txt", src/engine/job.c) */
	live = json_string_value(json_object_get(json_object_get(json_object_get(srv->logs, run_id),
	    name), stream));
	if (live)
		path = xstrdup(live);
	else {
		attempts = json_object_get(step, "attempts");
		s = json_array_get(attempts, json_array_size(attempts) - 1);
		if (json_string_value(json_object_get(s, "workdir")))
			path = xasprintf("%s.%s.txt", json_string_value(json_object_get(s, "workdir")),
			    stream);
	}
	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		server_error(srv, c->req, 404, "not_found", "step '%s' of run %s has no %s log%s",
		    name, run_id, stream, path ? " (the tool's output went to an output file, or "
		    "the run's work directory was removed)" : " yet");
		free(path);
		return;
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		server_error(srv, c->req, 500, "internal", "%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	if (ntail >= 0)
		from = logs_tail_offset(fd, st.st_size, ntail);
	evhttp_add_header(evhttp_request_get_output_headers(c->req), "Content-Type",
	    "text/plain; charset=utf-8");
	if (follow && strcmp(follow, "1") == 0) {
		struct timeval tv = { 0, 250000 };

		close(fd);
		f = xcalloc(1, sizeof *f);
		f->srv = srv;
		f->req = c->req;
		f->path = path;
		f->run_id = xstrdup(run_id);
		f->step = xstrdup(name);
		f->sent = from;
		f->tick = event_new(srv->base, -1, EV_PERSIST, logs_tick_cb, f);
		evhttp_send_reply_start(c->req, 200, "OK");
		srv->http_codes[2]++;
		evhttp_connection_set_closecb(evhttp_request_get_connection(c->req), logs_close_cb, f);
		event_add(f->tick, &tv);
		event_active(f->tick, EV_TIMEOUT, 0);
		return;
	}
	buf = evbuffer_new();
	if (st.st_size > from)
		evbuffer_add_file(buf, fd, from, st.st_size - from); /* takes fd */
	else
		close(fd);
	evhttp_send_reply(c->req, 200, "OK", buf);
	srv->http_codes[2]++;
	evbuffer_free(buf);
	free(path);
}

/* ---- log lines as events -------------------------------------------------- */

#define LOGS_EVENT_CHUNK (64u * 1024)
#define LOGS_MAX_LINE 4096

static void
logs_publish_line(struct server *srv, const char *run_id, const char *step,
    const char *stream, const char *line, size_t len)
{
	json_t *v;

	if (len > LOGS_MAX_LINE)
		len = LOGS_MAX_LINE; /* the rest of a very long line is in the file */
	v = json_pack("{s:s, s:s, s:s, s:s%}", "run", run_id, "step", step, "stream", stream,
	    "line", line, len);
	if (v == NULL) /* not UTF-8: say so rather than drop it */
		v = json_pack("{s:s, s:s, s:s, s:s}", "run", run_id, "step", step, "stream",
		    stream, "line", "(a line that is not UTF-8 text)");
	events_publish(srv->events, run_id, "log", v);
	json_decref(v);
}

/* Sends the complete lines path has beyond what was sent. */
static void
logs_tail_file(struct server *srv, const char *run_id, const char *step, const char *stream,
    const char *path, int final)
{
	char *key = xasprintf("%s\t%s\t%s", run_id, step, stream), *buf = NULL;
	off_t sent = (off_t)json_integer_value(json_object_get(srv->log_sent, key));
	ssize_t n;
	size_t start = 0, i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto out;
	buf = xmalloc(LOGS_EVENT_CHUNK);
	n = pread(fd, buf, LOGS_EVENT_CHUNK, sent);
	close(fd);
	if (n <= 0)
		goto out;
	for (i = 0; i < (size_t)n; i++) {
		if (buf[i] != '\n')
			continue;
		logs_publish_line(srv, run_id, step, stream, buf + start, i - start);
		start = i + 1;
	}
	/* an unterminated rest waits for its newline, unless the step is over
	 * or it fills the whole chunk */
	if (start < (size_t)n && (final || (start == 0 && (size_t)n == LOGS_EVENT_CHUNK))) {
		logs_publish_line(srv, run_id, step, stream, buf + start, (size_t)n - start);
		start = (size_t)n;
	}
	json_object_set_new(srv->log_sent, key, json_integer((json_int_t)(sent + (off_t)start)));
out:
	free(buf);
	free(key);
}

void
server_log_lines(struct server *srv, const char *run_id, const char *step, int final)
{
	const json_t *run_logs, *paths;
	const char *r, *st, *stream;
	json_t *p;

	json_object_foreach(srv->logs, r, run_logs) {
		if (run_id && strcmp(r, run_id) != 0)
			continue;
		if (!events_want_logs(srv->events, r))
			continue;
		json_object_foreach((json_t *)run_logs, st, paths) {
			if (step && strcmp(st, step) != 0)
				continue;
			json_object_foreach((json_t *)paths, stream, p)
				if (json_is_string(p))
					logs_tail_file(srv, r, st, stream, json_string_value(p), final);
		}
	}
}

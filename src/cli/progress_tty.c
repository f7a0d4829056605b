/* Draws a run's progress (progress.c renders the lines) as a block at the
 * bottom of a terminal: the block is erased with ANSI codes (cursor up,
 * erase to end of screen) and written again every PROGRESS_TTY_TICK_MS and
 * around each log line, so log lines scroll above it. The lines are cut to
 * the terminal's width so none wraps and the cursor arithmetic holds. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cwld/log.h"
#include "cwld/progress.h"
#include "cwld/progress_tty.h"
#include "cwld/scheduler.h"
#include "cwld/xmalloc.h"

#define PROGRESS_TTY_TICK_MS 250
/* Lines of the block at most, header included; fewer on a short terminal. */
#define PROGRESS_TTY_MAX_LINES 8

struct progress_tty {
	struct progress *model;
	struct sched *s;
	struct event *timer;
	int fd;
	int color;
	size_t drawn;      /* lines of the block now on screen */
	int64_t start_ms;  /* monotonic */
};

static int64_t
progress_tty_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
progress_tty_mode_parse(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return PROGRESS_TTY_AUTO;
	if (strcmp(s, "always") == 0)
		return PROGRESS_TTY_ALWAYS;
	if (strcmp(s, "never") == 0)
		return PROGRESS_TTY_NEVER;
	return -1;
}

int
progress_tty_wanted(enum progress_tty_mode mode, int quiet, int fd)
{
	const char *term = getenv("TERM");

	if (mode != PROGRESS_TTY_AUTO)
		return mode == PROGRESS_TTY_ALWAYS;
	/* A dumb terminal cannot move the cursor: the block would pile up. */
	return !quiet && isatty(fd) && term && *term && strcmp(term, "dumb") != 0;
}

/* Writes all of buf, or gives up on an error: a lost frame is redrawn at
 * the next tick. */
static void
progress_tty_write(struct progress_tty *t, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(t->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* The escape codes that take the cursor to the block's first line and
 * erase from there down, appended to out (at least 32 bytes free). */
static size_t
progress_tty_erase_codes(const struct progress_tty *t, char *out, size_t len)
{
	int n;

	if (t->drawn == 0)
		return 0;
	n = snprintf(out, len, "\r\033[%zuA\033[J", t->drawn);
	return n < 0 ? 0 : (size_t)n;
}

static void
progress_tty_erase(struct progress_tty *t)
{
	char codes[32];
	size_t n = progress_tty_erase_codes(t, codes, sizeof codes);

	progress_tty_write(t, codes, n);
	t->drawn = 0;
}

/* Erases the old block and writes the new one in a single write, so the
 * terminal never shows a half-drawn frame. */
static void
progress_tty_draw(struct progress_tty *t)
{
	struct winsize ws;
	size_t width = 80, max_lines = PROGRESS_TTY_MAX_LINES, nlines, n, len;
	char *lines, *frame;

	if (ioctl(t->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		width = ws.ws_col;
		if (ws.ws_row > 2 && (size_t)ws.ws_row - 2 < max_lines)
			max_lines = (size_t)ws.ws_row - 2;
	}
	/* One column short: some terminals wrap on the last one. */
	lines = progress_render(t->model, t->start_ms, progress_tty_now(), width > 1 ? width - 1 : 1,
	    max_lines, t->color, &nlines);
	len = strlen(lines);
	frame = xmalloc(len + 32);
	n = progress_tty_erase_codes(t, frame, 32);
	memcpy(frame + n, lines, len);
	progress_tty_write(t, frame, n + len);
	t->drawn = nlines;
	free(frame);
	free(lines);
}

static void
progress_tty_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	progress_tty_draw(arg);
}

static void
progress_tty_log_before(void *arg)
{
	progress_tty_erase(arg);
}

static void
progress_tty_log_after(void *arg)
{
	progress_tty_draw(arg);
}

/* Events only update the model: the next tick draws, so a burst of a
 * thousand scatter jobs costs one frame. */
static void
progress_tty_step(void *arg, const struct sched_step_event *ev)
{
	struct progress_tty *t = arg;

	progress_step_event(t->model, ev, progress_tty_now());
}

static const struct sched_observer progress_tty_observer = {
	.step_queued = progress_tty_step,
	.step_started = progress_tty_step,
	.step_finished = progress_tty_step,
	.step_progress = progress_tty_step,
};

struct progress_tty *
progress_tty_start(struct event_base *base, struct sched *s, int fd)
{
	struct progress_tty *t = xcalloc(1, sizeof *t);
	struct timeval tick = { 0, PROGRESS_TTY_TICK_MS * 1000 };
	const char *nc = getenv("NO_COLOR");

	t->fd = fd;
	t->s = s;
	t->color = !(nc && *nc); /* https://no-color.org: set and not empty */
	t->start_ms = progress_tty_now();
	t->model = progress_new();
	t->timer = event_new(base, -1, EV_PERSIST, progress_tty_tick, t);
	if (t->timer == NULL || event_add(t->timer, &tick) < 0) {
		log_warnx("cannot arm the progress timer: running without a progress display");
		if (t->timer)
			event_free(t->timer);
		progress_free(t->model);
		free(t);
		return NULL;
	}
	sched_set_observer(s, &progress_tty_observer, t);
	log_set_hook(progress_tty_log_before, progress_tty_log_after, t);
	return t;
}

void
progress_tty_finish(struct progress_tty *t)
{
	char *sum, *line;

	if (t == NULL)
		return;
	log_set_hook(NULL, NULL, NULL);
	sched_set_observer(t->s, NULL, NULL);
	event_free(t->timer);
	progress_tty_erase(t);
	sum = progress_summary(t->model, progress_tty_now() - t->start_ms);
	line = xasprintf("cwld: %s\n", sum);
	progress_tty_write(t, line, strlen(line));
	free(line);
	free(sum);
	progress_free(t->model);
	free(t);
}

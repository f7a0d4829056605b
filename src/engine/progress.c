/* The progress of one run as text: keeps one record per step invocation
 * from the scheduler's events (a name index, a list of the running ones in
 * start order, which is also longest-running first, and the failed ones in
 * order of failure) and renders a bounded status block from them. Drawing
 * on a terminal and the clock are the caller's (src/cli/progress_tty.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <jansson.h>

#include "cwld/progress.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

enum progress_state {
	PROGRESS_PENDING,
	PROGRESS_RUNNING,
	PROGRESS_SUCCESS,
	PROGRESS_SKIPPED,
	PROGRESS_FAILED,
	PROGRESS_CANCELLED,
};

struct progress_step {
	char *name;
	char *image;          /* NULL on the host */
	char *detail;         /* running: what it waits for (a pull), or NULL */
	char *why;            /* first line of the failure message, or NULL */
	enum progress_state state;
	int started;          /* it got as far as starting */
	int64_t started_ms;   /* caller's clock */
	int64_t finished_ms;
	int exit_code;
	TAILQ_ENTRY(progress_step) link; /* in running or failed */
};

TAILQ_HEAD(progress_list, progress_step);

struct progress {
	json_t *index;        /* name -> position in steps */
	struct progress_step **steps;
	size_t nsteps, cap;
	struct progress_list running, failed;
	struct progress_counts c;
};

/* A growing string. */
struct progress_buf {
	char *s;
	size_t len, cap;
};

/* One line being written: visible columns so far, and the most allowed. */
struct progress_line {
	struct progress_buf *b;
	size_t cols, width;
	int color;
};

struct progress *
progress_new(void)
{
	struct progress *p = xcalloc(1, sizeof *p);

	p->index = json_object();
	TAILQ_INIT(&p->running);
	TAILQ_INIT(&p->failed);
	return p;
}

void
progress_free(struct progress *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nsteps; i++) {
		free(p->steps[i]->name);
		free(p->steps[i]->image);
		free(p->steps[i]->detail);
		free(p->steps[i]->why);
		free(p->steps[i]);
	}
	free(p->steps);
	json_decref(p->index);
	free(p);
}

static struct progress_step *
progress_find(struct progress *p, const char *name, int create)
{
	json_t *at = json_object_get(p->index, name);
	struct progress_step *st;

	if (at)
		return p->steps[json_integer_value(at)];
	if (!create)
		return NULL;
	if (p->nsteps == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->steps = xreallocarray(p->steps, p->cap, sizeof *p->steps);
	}
	st = xcalloc(1, sizeof *st);
	st->name = xstrdup(name);
	st->state = PROGRESS_PENDING;
	st->exit_code = -1;
	/* Step names come from CWL ids: UTF-8, so jansson takes them as keys;
	 * nocheck spares a second validation. */
	json_object_set_new_nocheck(p->index, name, json_integer((json_int_t)p->nsteps));
	p->steps[p->nsteps++] = st;
	p->c.total++;
	p->c.pending++;
	return st;
}

/* Takes st out of the counts and lists of its current state. */
static void
progress_leave(struct progress *p, struct progress_step *st)
{
	switch (st->state) {
	case PROGRESS_PENDING: p->c.pending--; break;
	case PROGRESS_RUNNING: p->c.running--; TAILQ_REMOVE(&p->running, st, link); break;
	case PROGRESS_SUCCESS: p->c.succeeded--; break;
	case PROGRESS_SKIPPED: p->c.skipped--; break;
	case PROGRESS_FAILED: p->c.failed--; TAILQ_REMOVE(&p->failed, st, link); break;
	case PROGRESS_CANCELLED: p->c.cancelled--; break;
	}
}

static enum progress_state
progress_final_state(const char *state)
{
	if (state && strcmp(state, STORE_SUCCESS) == 0)
		return PROGRESS_SUCCESS;
	if (state && strcmp(state, STORE_SKIPPED) == 0)
		return PROGRESS_SKIPPED;
	if (state && strcmp(state, STORE_CANCELLED) == 0)
		return PROGRESS_CANCELLED;
	return PROGRESS_FAILED;
}

void
progress_step_event(struct progress *p, const struct sched_step_event *ev, int64_t now_ms)
{
	struct progress_step *st;
	const char *nl;

	if (ev->step == NULL)
		return;
	/* a late detail must not bring back a finished or unknown step */
	st = progress_find(p, ev->step, ev->phase != SCHED_STEP_PROGRESS);
	if (st == NULL)
		return;
	switch (ev->phase) {
	case SCHED_STEP_QUEUED:
		break; /* counted by progress_find */
	case SCHED_STEP_STARTED:
		if (st->state != PROGRESS_PENDING)
			break;
		progress_leave(p, st);
		st->state = PROGRESS_RUNNING;
		st->started = 1;
		st->started_ms = now_ms;
		free(st->image);
		st->image = ev->image ? xstrdup(ev->image) : NULL;
		TAILQ_INSERT_TAIL(&p->running, st, link);
		p->c.running++;
		break;
	case SCHED_STEP_PROGRESS:
		if (st->state != PROGRESS_RUNNING)
			break;
		free(st->detail);
		st->detail = ev->detail ? xstrdup(ev->detail) : NULL;
		break;
	case SCHED_STEP_FINISHED:
		free(st->detail);
		st->detail = NULL;
		progress_leave(p, st);
		st->state = progress_final_state(ev->state);
		st->finished_ms = now_ms;
		st->exit_code = ev->exit_code;
		free(st->why);
		st->why = NULL;
		if (ev->msg) {
			/* Messages start "step 'name': reason"; the line has the name. */
			const char *m = strncmp(ev->msg, "step '", 6) == 0 && strstr(ev->msg, ": ") ?
			    strstr(ev->msg, ": ") + 2 : ev->msg;
			nl = strchr(m, '\n');
			st->why = nl ? xstrndup(m, (size_t)(nl - m)) : xstrdup(m);
		}
		switch (st->state) {
		case PROGRESS_SUCCESS: p->c.succeeded++; break;
		case PROGRESS_SKIPPED: p->c.skipped++; break;
		case PROGRESS_CANCELLED: p->c.cancelled++; break;
		default:
			p->c.failed++;
			TAILQ_INSERT_TAIL(&p->failed, st, link);
			break;
		}
		break;
	}
}

void
progress_get_counts(const struct progress *p, struct progress_counts *c)
{
	*c = p->c;
}

const char *
progress_fmt_elapsed(int64_t ms, char *buf, size_t len)
{
	if (ms < 0)
		ms = 0;
	if (ms < 60000)
		snprintf(buf, len, "%d.%ds", (int)(ms / 1000), (int)(ms % 1000 / 100));
	else if (ms < 3600000)
		snprintf(buf, len, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
	else
		snprintf(buf, len, "%lldh%02dm", (long long)(ms / 3600000), (int)(ms / 60000 % 60));
	return buf;
}

static void
progress_buf_add(struct progress_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xreallocarray(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Appends visible text to the line, up to its width: a column per UTF-8
 * character, and control bytes (from step names or images) shown as '?'
 * so nothing in them can move the cursor. */
static void progress_text(struct progress_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress_text(struct progress_line *l, const char *fmt, ...)
{
	char tmp[1024];
	const unsigned char *q;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	for (q = (const unsigned char *)tmp; *q; q++) {
		char c = (char)*q;

		if ((*q & 0xC0) != 0x80) {
			if (l->cols >= l->width)
				return;
			l->cols++;
		}
		if (*q < 0x20 || *q == 0x7f)
			c = '?';
		progress_buf_add(l->b, &c, 1);
	}
}

/* An SGR code ("31" red, "0" reset) when colors are on: takes no column. */
static void
progress_sgr(struct progress_line *l, const char *code)
{
	char tmp[16];
	int n;

	if (!l->color)
		return;
	n = snprintf(tmp, sizeof tmp, "\033[%sm", code);
	progress_buf_add(l->b, tmp, (size_t)n);
}

static void
progress_line_start(struct progress_line *l, struct progress_buf *b, size_t width, int color)
{
	l->b = b;
	l->cols = 0;
	l->width = width;
	l->color = color;
}

static void
progress_line_end(struct progress_line *l, size_t *nlines)
{
	progress_buf_add(l->b, "\n", 1);
	(*nlines)++;
}

/* "2 running" style counts after the header's "done x/y". */
static void
progress_counts_text(const struct progress *p, struct progress_line *l)
{
	if (p->c.running) {
		progress_text(l, ", ");
		progress_sgr(l, "36");
		progress_text(l, "running %zu", p->c.running);
		progress_sgr(l, "0");
	}
	if (p->c.pending)
		progress_text(l, ", queued %zu", p->c.pending);
	if (p->c.failed) {
		progress_text(l, ", ");
		progress_sgr(l, "31");
		progress_text(l, "failed %zu", p->c.failed);
		progress_sgr(l, "0");
	}
	if (p->c.cancelled)
		progress_text(l, ", cancelled %zu", p->c.cancelled);
}

static void
progress_step_line(struct progress_line *l, const struct progress_step *st, int64_t now_ms)
{
	char el[32], note[256];
	int64_t end = st->state == PROGRESS_RUNNING ? now_ms : st->finished_ms;

	progress_text(l, "  ");
	progress_sgr(l, st->state == PROGRESS_RUNNING ? "36" : "31");
	progress_text(l, "%s", st->state == PROGRESS_RUNNING ? "running" : "failed ");
	progress_sgr(l, "0");
	if (st->started)
		progress_fmt_elapsed(end - st->started_ms, el, sizeof el);
	else
		snprintf(el, sizeof el, "-");
	/* The scatter index is spelled out for failures only: running lines
	 * stay short, and the name has it as ".N" anyway. */
	progress_text(l, " %6s  %s%s", el, st->name, st->state == PROGRESS_RUNNING ? "" :
	    sched_step_scatter_note(st->name, note, sizeof note));
	if (st->state != PROGRESS_RUNNING) {
		if (st->exit_code >= 0)
			progress_text(l, ": exit code %d", st->exit_code);
		else if (st->why)
			progress_text(l, ": %s", st->why);
	} else if (st->detail)
		progress_text(l, "  %s", st->detail);
	else if (st->image)
		progress_text(l, "  in %s", st->image);
}

char *
progress_render(const struct progress *p, int64_t start_ms, int64_t now_ms,
    size_t width, size_t max_lines, int color, size_t *nlines)
{
	struct progress_buf b = { 0 };
	struct progress_line l;
	const struct progress_step *st;
	char el[32];
	size_t budget, nfailed, nrun, shown;

	*nlines = 0;
	progress_buf_add(&b, "", 0);
	progress_line_start(&l, &b, width, color);
	progress_text(&l, "[%s] done %zu/%zu", progress_fmt_elapsed(now_ms - start_ms, el, sizeof el),
	    p->c.succeeded + p->c.skipped, p->c.total);
	progress_counts_text(p, &l);
	progress_line_end(&l, nlines);

	budget = max_lines > 1 ? max_lines - 1 : 0;
	nfailed = p->c.failed < PROGRESS_FAILED_SHOWN ? p->c.failed : PROGRESS_FAILED_SHOWN;
	if (nfailed > budget)
		nfailed = budget;
	budget -= nfailed;
	shown = 0;
	TAILQ_FOREACH(st, &p->failed, link) {
		if (shown++ == nfailed)
			break;
		progress_line_start(&l, &b, width, color);
		progress_step_line(&l, st, now_ms);
		progress_line_end(&l, nlines);
	}
	/* The longest-running first, and a count of the rest when they do
	 * not fit: a 200-way scatter stays a few lines. */
	nrun = p->c.running <= budget ? p->c.running : budget > 0 ? budget - 1 : 0;
	shown = 0;
	TAILQ_FOREACH(st, &p->running, link) {
		if (shown++ == nrun)
			break;
		progress_line_start(&l, &b, width, color);
		progress_step_line(&l, st, now_ms);
		progress_line_end(&l, nlines);
	}
	if (p->c.running > nrun && budget > 0) {
		progress_line_start(&l, &b, width, color);
		progress_text(&l, "  ... and %zu more running", p->c.running - nrun);
		progress_line_end(&l, nlines);
	}
	return b.s;
}

char *
progress_summary(const struct progress *p, int64_t elapsed_ms)
{
	struct progress_buf b = { 0 };
	struct progress_line l;
	char el[32];

	progress_buf_add(&b, "", 0);
	progress_line_start(&l, &b, (size_t)-1, 0);
	progress_text(&l, "done %zu/%zu", p->c.succeeded + p->c.skipped, p->c.total);
	if (p->c.failed)
		progress_text(&l, ", %zu failed", p->c.failed);
	if (p->c.cancelled)
		progress_text(&l, ", %zu cancelled", p->c.cancelled);
	progress_text(&l, " in %s", progress_fmt_elapsed(elapsed_ms, el, sizeof el));
	return b.s;
}

/* The Airflow mirror of the daemon's runs. As a runs observer it writes a
 * run's DAG file when the run starts, follows its step events to decide
 * when each DAG task is complete (the task graph and the per-run tracking
 * below need no loop and are unit-tested), and queues every REST call as an
 * outbox row in the store. A worker on the loop sends the rows, one request
 * in flight per run, in id order, retrying with backoff; nothing here ever
 * holds up a run. What the REST calls look like per Airflow version is
 * airflow_api.c's business; the DAG file's text is dag_emit.c's. */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cwld/airflow_api.h"
#include "cwld/dag_emit.h"
#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/log.h"
#include "cwld/mirror.h"
#include "cwld/store.h"
#include "cwld/text.h"
#include "cwld/xmalloc.h"

#define MIRROR_MAX_INFLIGHT 4      /* requests at once, all runs */
#define MIRROR_NOTE_MAX 1000       /* Airflow 3's limit, characters */
#define MIRROR_DAG_MAX (16u << 20) /* a DAG file read back to compare */
#define MIRROR_SHAPE_TAG "# cwld mirror shape "

/* ---- the task graph ----------------------------------------------------- */

/* base, or base_2, base_3, ... the first no earlier task has (dag_emit's
 * rule, so the ids are the file's). New string. */
static char *
mirror_unique(const struct mirror_task *tasks, size_t n, const char *base)
{
	char *name = xstrdup(base);
	unsigned long k;
	size_t i;
	int taken;

	for (k = 2;; k++) {
		taken = 0;
		for (i = 0; i < n && !taken; i++)
			taken = strcmp(tasks[i].id, name) == 0;
		if (!taken)
			return name;
		free(name);
		name = xasprintf("%s_%lu", base, k);
	}
}

/* The index of the step named by source "step/out", -1 for an input. */
static long
mirror_source_step(const struct mirror_graph *g, const char *source)
{
	const char *slash = strchr(source, '/');
	size_t i, len;

	if (slash == NULL)
		return -1;
	len = (size_t)(slash - source);
	for (i = 0; i < g->n; i++)
		if (strlen(g->tasks[i].step) == len && strncmp(g->tasks[i].step, source, len) == 0)
			return (long)i;
	return -1;
}

static void
mirror_add_up(struct mirror_task *t, size_t self, long j)
{
	size_t k;

	if (j < 0 || (size_t)j == self)
		return;
	for (k = 0; k < t->nup; k++)
		if (t->up[k] == (size_t)j)
			return;
	t->up = xreallocarray(t->up, t->nup + 1, sizeof *t->up);
	t->up[t->nup++] = (size_t)j;
}

struct mirror_graph *
mirror_graph_new(const json_t *process, const char *cwl_path, struct cwld_err *err)
{
	struct mirror_graph *g = xcalloc(1, sizeof *g);
	const char *cls = json_string_value(json_object_get(process, "class"));
	const json_t *steps, *step, *in, *src, *run;
	size_t i, k, m;
	char *base;

	if (cls == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "mirror: the process has no class");
		goto fail;
	}
	if (strcmp(cls, "Workflow") != 0) {
		const char *p = cwl_path;

		if (p == NULL)
			p = json_string_value(json_object_get(process, "cwld:file"));
		if (p == NULL)
			p = json_string_value(json_object_get(process, "id"));
		if (p == NULL) {
			err_set(err, CWLD_EXIT_USAGE, "mirror: the tool has no path and no id");
			goto fail;
		}
		g->n = 1;
		g->tasks = xcalloc(1, sizeof *g->tasks);
		base = dag_emit_stem(p);
		g->tasks[0].id = dag_emit_id(base);
		free(base);
		g->tasks[0].kind = MIRROR_ONE;
		return g;
	}
	steps = json_object_get(process, "steps");
	if (!json_is_array(steps)) {
		err_set(err, CWLD_EXIT_USAGE, "mirror: the workflow has no steps array");
		goto fail;
	}
	g->tasks = xcalloc(json_array_size(steps) + 1, sizeof *g->tasks);
	json_array_foreach(steps, i, step) {
		struct mirror_task *t = &g->tasks[i];
		const char *sid = json_string_value(json_object_get(step, "id"));
		const char *rc;

		if (sid == NULL || *sid == '\0') {
			err_set(err, CWLD_EXIT_USAGE, "mirror: step %zu has no id", i + 1);
			goto fail;
		}
		base = dag_emit_id(sid);
		t->id = mirror_unique(g->tasks, i, base);
		free(base);
		t->step = xstrdup(sid);
		g->n = i + 1;
		run = json_object_get(step, "run");
		rc = json_string_value(json_object_get(run, "class"));
		t->scattered = json_array_size(json_object_get(step, "scatter")) > 0;
		if ((rc && strcmp(rc, "Workflow") == 0) || json_object_get(step, "loop"))
			t->kind = MIRROR_NESTED;
		else
			t->kind = t->scattered ? MIRROR_SCATTER : MIRROR_ONE;
	}
	json_array_foreach(steps, i, step) {
		json_array_foreach(json_object_get(step, "in"), k, in) {
			src = json_object_get(in, "source");
			if (json_is_string(src))
				mirror_add_up(&g->tasks[i], i, mirror_source_step(g, json_string_value(src)));
			else
				json_array_foreach(src, m, run)
					if (json_is_string(run))
						mirror_add_up(&g->tasks[i], i,
						    mirror_source_step(g, json_string_value(run)));
		}
	}
	return g;
fail:
	mirror_graph_free(g);
	return NULL;
}

void
mirror_graph_free(struct mirror_graph *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++) {
		free(g->tasks[i].id);
		free(g->tasks[i].step);
		free(g->tasks[i].up);
	}
	free(g->tasks);
	free(g);
}

static const char *const mirror_kinds[] = { "one", "scatter", "nested" };

json_t *
mirror_graph_json(const struct mirror_graph *g)
{
	json_t *arr = json_array(), *up;
	size_t i, k;

	for (i = 0; i < g->n; i++) {
		const struct mirror_task *t = &g->tasks[i];

		up = json_array();
		for (k = 0; k < t->nup; k++)
			json_array_append_new(up, json_integer((json_int_t)t->up[k]));
		json_array_append_new(arr, json_pack("{s:s, s:s?, s:s, s:b, s:o}", "id", t->id,
		    "step", t->step, "kind", mirror_kinds[t->kind], "scattered", t->scattered,
		    "up", up));
	}
	return arr;
}

struct mirror_graph *
mirror_graph_from_json(const json_t *j, struct cwld_err *err)
{
	struct mirror_graph *g = xcalloc(1, sizeof *g);
	const json_t *o, *u;
	size_t i, k, n = json_array_size(j);

	if (!json_is_array(j) || n == 0)
		goto bad;
	g->tasks = xcalloc(n, sizeof *g->tasks);
	json_array_foreach(j, i, o) {
		struct mirror_task *t = &g->tasks[i];
		const char *id = json_string_value(json_object_get(o, "id"));
		const char *step = json_string_value(json_object_get(o, "step"));
		const char *kind = json_string_value(json_object_get(o, "kind"));

		g->n = i + 1;
		if (id == NULL || kind == NULL)
			goto bad;
		t->id = xstrdup(id);
		t->step = step ? xstrdup(step) : NULL;
		t->scattered = json_is_true(json_object_get(o, "scattered"));
		for (k = 0; k < 3 && strcmp(kind, mirror_kinds[k]) != 0; k++)
			;
		if (k == 3)
			goto bad;
		t->kind = (enum mirror_kind)k;
		json_array_foreach(json_object_get(o, "up"), k, u) {
			if (!json_is_integer(u) || json_integer_value(u) < 0 ||
			    (size_t)json_integer_value(u) >= n)
				goto bad;
			mirror_add_up(t, i, (long)json_integer_value(u));
		}
	}
	return g;
bad:
	err_set(err, CWLD_EXIT_FAILED, "mirror: a stored task graph is malformed");
	mirror_graph_free(g);
	return NULL;
}

long
mirror_graph_task(const struct mirror_graph *g, const char *name)
{
	size_t i, len = strcspn(name, "/"), sl;
	const char *p;

	if (g->n == 1 && g->tasks[0].step == NULL)
		return 0; /* a tool: its one invocation */
	for (i = 0; i < g->n; i++)
		if (!g->tasks[i].scattered && strlen(g->tasks[i].step) == len &&
		    strncmp(g->tasks[i].step, name, len) == 0)
			return (long)i;
	for (i = 0; i < g->n; i++) {
		if (!g->tasks[i].scattered)
			continue;
		sl = strlen(g->tasks[i].step);
		if (sl + 2 > len || strncmp(g->tasks[i].step, name, sl) != 0 || name[sl] != '.')
			continue;
		for (p = name + sl + 1; p < name + len && *p >= '0' && *p <= '9'; p++)
			;
		if (p == name + len)
			return (long)i;
	}
	return -1;
}

static void
mirror_order_visit(const struct mirror_graph *g, size_t i, unsigned char *seen,
    size_t *out, size_t *n)
{
	size_t k;

	if (seen[i])
		return;
	seen[i] = 1; /* a cycle (the loader refuses them) cannot loop here */
	for (k = 0; k < g->tasks[i].nup; k++)
		mirror_order_visit(g, g->tasks[i].up[k], seen, out, n);
	out[(*n)++] = i;
}

size_t *
mirror_graph_order(const struct mirror_graph *g)
{
	size_t *out = xcalloc(g->n + 1, sizeof *out), i, n = 0;
	unsigned char *seen = xcalloc(g->n + 1, 1);

	for (i = 0; i < g->n; i++)
		mirror_order_visit(g, i, seen, out, &n);
	free(seen);
	return out;
}

void
mirror_graph_shape(const struct mirror_graph *g, char *buf)
{
	uint32_t h = 2166136261u;
	size_t i, k;
	const char *p;

#define MIRROR_FNV(s) do { for (p = (s); *p; p++) { h ^= (unsigned char)*p; h *= 16777619u; } \
	h ^= '\n'; h *= 16777619u; } while (0)
	for (i = 0; i < g->n; i++) {
		MIRROR_FNV(g->tasks[i].id);
		for (k = 0; k < g->tasks[i].nup; k++) {
			MIRROR_FNV("<");
			MIRROR_FNV(g->tasks[g->tasks[i].up[k]].id);
		}
	}
#undef MIRROR_FNV
	snprintf(buf, 9, "%08x", (unsigned)h);
}

/* ---- states, backoff, times -------------------------------------------- */

const char *
mirror_task_state(const struct mirror_counts *c)
{
	if (c->finished <= 0)
		return NULL;
	if (c->failed + c->cancelled > 0)
		return STORE_FAILED;
	if (c->skipped == c->finished)
		return STORE_SKIPPED;
	return STORE_SUCCESS;
}

int64_t
mirror_backoff_ms(int attempts)
{
	if (attempts < 1)
		return 0;
	if (attempts > 7)
		return 30000;
	return (int64_t)500 << (attempts - 1) > 30000 ? 30000 : (int64_t)500 << (attempts - 1);
}

void
mirror_iso(int64_t ms, char *buf)
{
	time_t sec = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	if (ms <= 0 || gmtime_r(&sec, &tm) == NULL) {
		snprintf(buf, 32, "unknown");
		return;
	}
	n = strftime(buf, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* The store's "2024-05-01T12:00:00.123Z" as ms since the epoch; 0 when s is
 * not such a time. */
static int64_t
mirror_parse_iso(const char *s)
{
	struct tm tm = { 0 };
	int ms = 0, n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 || n == 0)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static int64_t
mirror_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one run's tracking -------------------------------------------------- */

struct mirror_ttask {
	struct mirror_counts c;
	int64_t first_start, last_finish;
	char *rep;          /* the invocation whose log the note links */
	int rep_failed;     /* ... and it failed */
	int rep_exit;
	char *rep_msg;
	const char *state;  /* what the task was set to (static), or NULL */
	int done;
};

struct mirror_track {
	const struct mirror_graph *g;
	char *run_id;
	char *daemon_url;
	struct mirror_ttask *t;
};

struct mirror_track *
mirror_track_new(const struct mirror_graph *g, const char *run_id, const char *daemon_url)
{
	struct mirror_track *t = xcalloc(1, sizeof *t);

	t->g = g;
	t->run_id = xstrdup(run_id);
	t->daemon_url = daemon_url ? xstrdup(daemon_url) : NULL;
	t->t = xcalloc(g->n + 1, sizeof *t->t);
	return t;
}

void
mirror_track_free(struct mirror_track *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->g->n; i++) {
		free(t->t[i].rep);
		free(t->t[i].rep_msg);
	}
	free(t->t);
	free(t->run_id);
	free(t->daemon_url);
	free(t);
}

/* The log link of a step invocation; new string, NULL without a daemon URL. */
static char *
mirror_log_url(const struct mirror_track *t, const char *step)
{
	char *run, *st, *url;

	if (t->daemon_url == NULL || step == NULL)
		return NULL;
	run = airflow_api_escape(t->run_id);
	st = airflow_api_escape(step);
	url = xasprintf("%s/api/v1/runs/%s/steps/%s/logs/stderr", t->daemon_url, run, st);
	free(run);
	free(st);
	return url;
}

static char *
mirror_task_note(const struct mirror_track *t, size_t i, const char *state)
{
	const struct mirror_ttask *tt = &t->t[i];
	const struct mirror_task *task = &t->g->tasks[i];
	char buf[2048], a[32], b[32];
	char *url = NULL, *note;
	size_t off = 0;

	text_appendf(buf, sizeof buf, &off, "cwld run %s, step '%s': %s.", t->run_id,
	    task->step ? task->step : "main", state);
	if (tt->c.finished == 0)
		text_appendf(buf, sizeof buf, &off, " No invocations (an empty scatter).");
	else if (tt->c.finished > 1 || task->kind != MIRROR_ONE) {
		text_appendf(buf, sizeof buf, &off, " %d invocation%s (%d success", tt->c.finished,
		    tt->c.finished == 1 ? "" : "s", tt->c.success);
		if (tt->c.failed)
			text_appendf(buf, sizeof buf, &off, ", %d failed", tt->c.failed);
		if (tt->c.skipped)
			text_appendf(buf, sizeof buf, &off, ", %d skipped", tt->c.skipped);
		if (tt->c.cancelled)
			text_appendf(buf, sizeof buf, &off, ", %d cancelled", tt->c.cancelled);
		text_appendf(buf, sizeof buf, &off, ").");
	}
	if (tt->first_start > 0 && tt->last_finish >= tt->first_start) {
		mirror_iso(tt->first_start, a);
		mirror_iso(tt->last_finish, b);
		text_appendf(buf, sizeof buf, &off, " Started %s, finished %s (%.1f s).", a, b,
		    (double)(tt->last_finish - tt->first_start) / 1000.0);
	}
	if (tt->rep && tt->rep_exit >= 0)
		text_appendf(buf, sizeof buf, &off, " Exit code %d%s%s%s.", tt->rep_exit,
		    strcmp(tt->rep, task->step ? task->step : "main") ? " (" : "",
		    strcmp(tt->rep, task->step ? task->step : "main") ? tt->rep : "",
		    strcmp(tt->rep, task->step ? task->step : "main") ? ")" : "");
	if (tt->rep_msg) {
		char *msg = airflow_api_clip(tt->rep_msg, 300);

		text_appendf(buf, sizeof buf, &off, " %s.", msg);
		free(msg);
	}
	if ((url = mirror_log_url(t, tt->rep)) != NULL)
		text_appendf(buf, sizeof buf, &off, " Log: %s", url);
	free(url);
	note = airflow_api_clip(buf, MIRROR_NOTE_MAX);
	return note;
}

/* The task is complete: those it depends on first, then its own state. A
 * task without invocations is "success" unless the run ended otherwise
 * (run_state not NULL nor success): then it is left unset. */
static void
mirror_track_complete(struct mirror_track *t, size_t i, const char *run_state,
    mirror_emit_fn emit, void *arg)
{
	struct mirror_ttask *tt = &t->t[i];
	const char *state;
	char *note;
	size_t k;

	if (tt->done)
		return;
	tt->done = 1;
	for (k = 0; k < t->g->tasks[i].nup; k++)
		mirror_track_complete(t, t->g->tasks[i].up[k], run_state, emit, arg);
	state = mirror_task_state(&tt->c);
	if (state == NULL) {
		if (run_state != NULL && strcmp(run_state, STORE_SUCCESS) != 0)
			return;
		state = STORE_SUCCESS;
	}
	note = mirror_task_note(t, i, state);
	tt->state = state;
	emit(arg, i, state, note);
	free(note);
}

int
mirror_track_event(struct mirror_track *t, const struct sched_step_event *ev,
    mirror_emit_fn emit, void *arg)
{
	long i = mirror_graph_task(t->g, ev->step);
	struct mirror_ttask *tt;
	const struct mirror_task *task;
	size_t k;

	if (i < 0)
		return 0;
	tt = &t->t[i];
	task = &t->g->tasks[i];
	switch (ev->phase) {
	case SCHED_STEP_QUEUED:
		tt->c.queued++;
		/* it starts only once all it depends on are complete */
		for (k = 0; k < task->nup; k++)
			mirror_track_complete(t, task->up[k], NULL, emit, arg);
		return 0;
	case SCHED_STEP_STARTED:
	case SCHED_STEP_PROGRESS:
		if (ev->started_at > 0 && (tt->first_start == 0 || ev->started_at < tt->first_start))
			tt->first_start = ev->started_at;
		return 0;
	case SCHED_STEP_FINISHED:
		break;
	}
	if (tt->done)
		return 0; /* late news of a task already set: never correct it */
	tt->c.finished++;
	if (ev->state && strcmp(ev->state, STORE_SUCCESS) == 0)
		tt->c.success++;
	else if (ev->state && strcmp(ev->state, STORE_SKIPPED) == 0)
		tt->c.skipped++;
	else if (ev->state && strcmp(ev->state, STORE_CANCELLED) == 0)
		tt->c.cancelled++;
	else
		tt->c.failed++;
	if (ev->started_at > 0 && (tt->first_start == 0 || ev->started_at < tt->first_start))
		tt->first_start = ev->started_at;
	if (ev->finished_at > tt->last_finish)
		tt->last_finish = ev->finished_at;
	if (ev->state && strcmp(ev->state, STORE_SUCCESS) != 0 &&
	    strcmp(ev->state, STORE_SKIPPED) != 0 && !tt->rep_failed) {
		free(tt->rep);
		free(tt->rep_msg);
		tt->rep = xstrdup(ev->step);
		tt->rep_msg = ev->msg ? xstrdup(ev->msg) : NULL;
		tt->rep_exit = ev->exit_code;
		tt->rep_failed = 1;
	} else if (tt->rep == NULL && ev->started_at > 0) {
		tt->rep = xstrdup(ev->step);
		tt->rep_exit = ev->exit_code;
	}
	switch (task->kind) {
	case MIRROR_ONE:
		mirror_track_complete(t, (size_t)i, NULL, emit, arg);
		return 0;
	case MIRROR_SCATTER:
		return tt->c.finished >= tt->c.queued;
	case MIRROR_NESTED:
		break;
	}
	return 0;
}

void
mirror_track_check(struct mirror_track *t, mirror_emit_fn emit, void *arg)
{
	size_t i;

	for (i = 0; i < t->g->n; i++) {
		struct mirror_ttask *tt = &t->t[i];

		if (t->g->tasks[i].kind == MIRROR_SCATTER && !tt->done && tt->c.queued > 0 &&
		    tt->c.finished >= tt->c.queued)
			mirror_track_complete(t, i, NULL, emit, arg);
	}
}

void
mirror_track_finish(struct mirror_track *t, const char *run_state, mirror_emit_fn emit,
    void *arg)
{
	size_t *order = mirror_graph_order(t->g), i;

	for (i = 0; i < t->g->n; i++)
		mirror_track_complete(t, order[i], run_state, emit, arg);
	free(order);
}

void
mirror_track_set(struct mirror_track *t, size_t task, const char *state)
{
	if (task >= t->g->n)
		return;
	t->t[task].done = 1;
	t->t[task].state = state == NULL ? NULL : strcmp(state, STORE_SUCCESS) == 0 ?
	    STORE_SUCCESS : strcmp(state, STORE_SKIPPED) == 0 ? STORE_SKIPPED : STORE_FAILED;
}

const char *
mirror_track_state(const struct mirror_track *t, size_t task)
{
	return task < t->g->n ? t->t[task].state : NULL;
}

char *
mirror_track_run_note(const struct mirror_track *t, const char *run_state, const char *error,
    int64_t started_ms, int64_t finished_ms)
{
	char buf[2048], a[32], b[32];
	size_t off = 0;

	text_appendf(buf, sizeof buf, &off, "cwld run %s: %s", t->run_id, run_state);
	if (error) {
		char *msg = airflow_api_clip(error, 400);

		text_appendf(buf, sizeof buf, &off, ": %s", msg);
		free(msg);
	}
	text_appendf(buf, sizeof buf, &off, ".");
	if (started_ms > 0 && finished_ms >= started_ms) {
		mirror_iso(started_ms, a);
		mirror_iso(finished_ms, b);
		text_appendf(buf, sizeof buf, &off, " Started %s, finished %s (%.1f s).", a, b,
		    (double)(finished_ms - started_ms) / 1000.0);
	}
	if (t->daemon_url) {
		char *run = airflow_api_escape(t->run_id);

		text_appendf(buf, sizeof buf, &off, " Run, steps and logs: %s/api/v1/runs/%s",
		    t->daemon_url, run);
		free(run);
	}
	return airflow_api_clip(buf, MIRROR_NOTE_MAX);
}

/* ---- the daemon's mirror ------------------------------------------------ */

struct mirror_run {
	TAILQ_ENTRY(mirror_run) entry;
	struct mirror *m;
	char *id;
	char *dag_id;
	struct mirror_graph *g;
	struct mirror_track *t;
	struct event *check;     /* mirror_track_check from the loop */
	int64_t started_ms;
};

/* One request in flight: an outbox row being sent, or (row 0) a look at
 * the import errors. */
struct mirror_send {
	TAILQ_ENTRY(mirror_send) entry;
	struct mirror *m;
	int64_t id;
	char *run_id;
	char *op;
	json_t *body;
	int attempts;
};

struct mirror {
	struct event_base *base;
	struct store *st;
	struct airflow_api *api;
	char *url;
	char *dags;
	char *daemon_url;
	struct event *start;
	struct event *kick;
	struct event *prune;     /* drops the rows of long-mirrored runs */
	int64_t kick_at;         /* when the kick timer is due (ms), 0: not set */
	int ninflight;
	TAILQ_HEAD(, mirror_run) runs;
	TAILQ_HEAD(, mirror_send) sends;
	json_t *warned;          /* DAG ids whose import error was logged */
};

static void mirror_kick(struct mirror *m, int64_t delay_ms);

static struct mirror_run *
mirror_find(struct mirror *m, const char *run_id)
{
	struct mirror_run *r;

	TAILQ_FOREACH(r, &m->runs, entry)
		if (strcmp(r->id, run_id) == 0)
			return r;
	return NULL;
}

static void
mirror_run_free(struct mirror_run *r)
{
	if (r == NULL)
		return;
	if (r->check)
		event_free(r->check);
	mirror_track_free(r->t);
	mirror_graph_free(r->g);
	free(r->id);
	free(r->dag_id);
	free(r);
}

static void
mirror_send_free(struct mirror_send *s)
{
	free(s->run_id);
	free(s->op);
	json_decref(s->body);
	free(s);
}

/* Queues one call (body: a new reference, taken). A row that cannot be
 * written is lost to the mirror only: the run goes on. */
static void
mirror_enqueue(struct mirror *m, const char *run_id, const char *op, json_t *body)
{
	struct cwld_err err = { 0 };

	if (body == NULL) /* json_pack refused a string: not UTF-8 */
		log_warnx("airflow: run %s: cannot queue '%s': a value is not UTF-8", run_id, op);
	else if (store_outbox_add(m->st, run_id, op, body, &err) < 0)
		log_warnx("airflow: run %s: cannot queue '%s': %s", run_id, op, err.msg);
	json_decref(body);
	mirror_kick(m, 0);
}

static void
mirror_emit_task(void *arg, size_t task, const char *state, const char *note)
{
	struct mirror_run *r = arg;

	mirror_enqueue(r->m, r->id, "task", json_pack("{s:s, s:s, s:s, s:s, s:s}", "dag_id",
	    r->dag_id, "run_id", r->id, "task_id", r->g->tasks[task].id, "state", state,
	    "note", note));
}

static void
mirror_check_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror_run *r = arg;

	(void)fd;
	(void)what;
	mirror_track_check(r->t, mirror_emit_task, r);
}

static struct mirror_run *
mirror_run_new(struct mirror *m, const char *id, const char *dag_id, struct mirror_graph *g,
    int64_t started_ms)
{
	struct mirror_run *r = xcalloc(1, sizeof *r);

	r->m = m;
	r->id = xstrdup(id);
	r->dag_id = xstrdup(dag_id);
	r->g = g;
	r->t = mirror_track_new(g, id, m->daemon_url);
	r->started_ms = started_ms;
	if ((r->check = event_new(m->base, -1, 0, mirror_check_cb, r)) == NULL)
		fatalx("airflow: cannot create an event");
	TAILQ_INSERT_TAIL(&m->runs, r, entry);
	return r;
}

/* Writes the DAG file of a workflow unless one of the same shape is there;
 * its DAG id (new string), NULL with err. The id is cwld_<file stem>; when
 * that file holds another shape (an edited workflow, another one of the
 * same name) the shape's hash is added, so runs already mirrored keep the
 * tasks they had. */
static char *
mirror_dag_write(struct mirror *m, const json_t *process, const char *wf,
    const struct mirror_graph *g, struct cwld_err *err)
{
	char shape[9], tag[64], *stem = dag_emit_stem(wf), *base, *id = NULL, *path = NULL;
	char *text = NULL, *old = NULL, *ret = NULL;
	size_t len = 0;
	FILE *f = NULL;
	int i;

	mirror_graph_shape(g, shape);
	snprintf(tag, sizeof tag, "\n%s%s\n", MIRROR_SHAPE_TAG, shape);
	base = xasprintf("cwld_%s", stem);
	for (i = 0; i < 2; i++) {
		free(id);
		free(path);
		free(old);
		old = NULL;
		if (i == 0)
			id = dag_emit_id(base);
		else {
			char *b2 = xasprintf("%s_%s", base, shape);

			id = dag_emit_id(b2);
			free(b2);
		}
		path = xasprintf("%s/%s.py", m->dags, id);
		if (!fs_exists(path))
			break;
		if ((old = fs_read_file(path, MIRROR_DAG_MAX, NULL, err)) == NULL)
			goto out;
		if (strstr(old, tag) != NULL) {
			ret = id; /* there already, same shape */
			id = NULL;
			goto out;
		}
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "airflow: open_memstream: %s", strerror(errno));
		goto out;
	}
	if (dag_emit(process, id, wf, f, err) < 0)
		goto out;
	fputs(tag, f);
	if (fclose(f) != 0) {
		f = NULL;
		err_set(err, CWLD_EXIT_FAILED, "airflow: writing the DAG to memory failed");
		goto out;
	}
	f = NULL;
	/* a temporary name Airflow does not read, then a rename: it never
	 * parses half a file */
	if (fs_write_file_atomic(path, text, len, err) < 0)
		goto out;
	log_info("airflow: wrote DAG '%s' to %s", id, path);
	ret = id;
	id = NULL;
out:
	if (f)
		fclose(f);
	free(text);
	free(old);
	free(path);
	free(id);
	free(base);
	free(stem);
	return ret;
}

/* A run started: its DAG file, then the calls that wait for Airflow to
 * parse it and create the DAG run. */
static void
mirror_run_begin(struct mirror *m, const char *run_id)
{
	struct cwld_err err = { 0 };
	struct load_ctx *lc = NULL;
	struct mirror_graph *g = NULL;
	struct mirror_run *r;
	json_t *row = NULL, *process = NULL, *ids;
	const char *wf;
	char *dag_id = NULL, *note = NULL, *file = NULL, *run = NULL;
	size_t i;

	if ((row = store_run_get(m->st, run_id, &err)) == NULL)
		goto fail;
	wf = json_string_value(json_object_get(json_object_get(row, "options"), "workflow"));
	if (wf == NULL) {
		err_set(&err, CWLD_EXIT_FAILED, "the run names no workflow");
		goto fail;
	}
	lc = load_ctx_new();
	if ((process = load_process(lc, wf, &err)) == NULL ||
	    (g = mirror_graph_new(process, wf, &err)) == NULL ||
	    (dag_id = mirror_dag_write(m, process, wf, g, &err)) == NULL)
		goto fail;
	r = mirror_run_new(m, run_id, dag_id, g, mirror_now_ms());
	ids = json_array();
	for (i = 0; i < g->n; i++)
		json_array_append_new(ids, json_string(g->tasks[i].id));
	file = xasprintf("%s.py", dag_id);
	mirror_enqueue(m, run_id, "dag", json_pack("{s:s, s:s, s:o}", "dag_id", dag_id,
	    "file", file, "tasks", ids));
	if (m->daemon_url) {
		run = airflow_api_escape(run_id);
		note = xasprintf("Mirrored from cwld run %s of %s; its tasks are set as its "
		    "steps finish. Run, steps and logs: %s/api/v1/runs/%s", run_id, wf,
		    m->daemon_url, run);
	} else
		note = xasprintf("Mirrored from cwld run %s of %s; its tasks are set as its "
		    "steps finish.", run_id, wf);
	{
		char *clipped = airflow_api_clip(note, MIRROR_NOTE_MAX);

		free(note);
		note = clipped;
	}
	mirror_enqueue(m, run_id, "create_run", json_pack("{s:s, s:s, s:{s:s}, s:s, s:o}",
	    "dag_id", dag_id, "run_id", run_id, "conf", "cwld_run", run_id, "note", note,
	    "graph", mirror_graph_json(r->g)));
	g = NULL; /* the run's now */
	goto out;
fail:
	log_warnx("airflow: run %s is not mirrored: %s", run_id, err.msg);
out:
	mirror_graph_free(g);
	json_decref(process);
	load_ctx_free(lc);
	json_decref(row);
	free(dag_id);
	free(note);
	free(file);
	free(run);
}

/* The run ended: every task not set yet, the run's state, and on Airflow 2
 * the skipped tasks again (its run success turns them into success). */
static void
mirror_run_end(struct mirror *m, struct mirror_run *r, const char *state, const char *error,
    int64_t finished_ms)
{
	const char *af = strcmp(state, STORE_SUCCESS) == 0 ? "success" : "failed";
	char *note;
	size_t *order, i;

	mirror_track_finish(r->t, state, mirror_emit_task, r);
	note = mirror_track_run_note(r->t, state, error, r->started_ms, finished_ms);
	mirror_enqueue(m, r->id, "run", json_pack("{s:s, s:s, s:s, s:s}", "dag_id", r->dag_id,
	    "run_id", r->id, "state", af, "note", note));
	free(note);
	if (strcmp(af, "success") == 0) {
		order = mirror_graph_order(r->g);
		for (i = 0; i < r->g->n; i++) {
			const char *ts = mirror_track_state(r->t, order[i]);

			if (ts && strcmp(ts, STORE_SKIPPED) == 0)
				mirror_enqueue(m, r->id, "reskip", json_pack("{s:s, s:s, s:s}",
				    "dag_id", r->dag_id, "run_id", r->id, "task_id",
				    r->g->tasks[order[i]].id));
		}
		free(order);
	}
	log_debug("airflow: run %s ended %s: its mirror is queued", r->id, state);
	TAILQ_REMOVE(&m->runs, r, entry);
	mirror_run_free(r);
}

static int
mirror_final(const char *state)
{
	return strcmp(state, STORE_SUCCESS) == 0 || strcmp(state, STORE_FAILED) == 0 ||
	    strcmp(state, STORE_CANCELLED) == 0 || strcmp(state, STORE_SKIPPED) == 0;
}

static void mirror_rebuild(struct mirror *m, const char *run_id);

/* Whether an earlier daemon began mirroring the run. */
static int
mirror_mirrored(struct mirror *m, const char *run_id)
{
	struct cwld_err err = { 0 };
	json_t *rows = store_outbox_of_run(m->st, run_id, &err), *row;
	size_t i;
	int found = 0;

	json_array_foreach(rows, i, row)
		found |= strcmp(json_string_value(json_object_get(row, "op")), "create_run") == 0;
	json_decref(rows);
	return found;
}

static void
mirror_run_changed(void *arg, const char *run_id, const char *state, const char *error)
{
	struct mirror *m = arg;
	struct mirror_run *r = mirror_find(m, run_id);

	if (strcmp(state, STORE_RUNNING) == 0) {
		if (r == NULL && mirror_mirrored(m, run_id))
			mirror_rebuild(m, run_id); /* resumed by this daemon */
		else if (r == NULL)
			mirror_run_begin(m, run_id);
	} else if (r && mirror_final(state))
		mirror_run_end(m, r, state, error, mirror_now_ms());
}

static void
mirror_step_event(void *arg, const struct sched_step_event *ev)
{
	struct mirror *m = arg;
	struct mirror_run *r;

	if (ev->phase == SCHED_STEP_PROGRESS || (r = mirror_find(m, ev->run_id)) == NULL)
		return;
	if (mirror_track_event(r->t, ev, mirror_emit_task, r))
		event_active(r->check, EV_TIMEOUT, 0);
}

static const struct runs_observer mirror_runs_observer = {
	.run_changed = mirror_run_changed,
	.step_event = mirror_step_event,
};

const struct runs_observer *
mirror_observer(void)
{
	return &mirror_runs_observer;
}

/* ---- after a restart: mirrors a previous daemon left open --------------- */

/* Rebuilds the tracking of an open mirror from the outbox (the graph, the
 * tasks set already) and the store's steps, and ends it if the run has. */
static void
mirror_rebuild(struct mirror *m, const char *run_id)
{
	struct cwld_err err = { 0 };
	struct mirror_graph *g = NULL;
	struct mirror_run *r;
	json_t *rows = NULL, *run = NULL, *row, *create = NULL, *step;
	const char *dag_id, *state;
	size_t i, k;

	if ((rows = store_outbox_of_run(m->st, run_id, &err)) == NULL ||
	    (run = store_run_get(m->st, run_id, &err)) == NULL)
		goto fail;
	json_array_foreach(rows, i, row)
		if (strcmp(json_string_value(json_object_get(row, "op")), "create_run") == 0)
			create = json_object_get(row, "body");
	dag_id = json_string_value(json_object_get(create, "dag_id"));
	if (dag_id == NULL) {
		err_set(&err, CWLD_EXIT_FAILED, "its create_run call names no DAG");
		goto fail;
	}
	if ((g = mirror_graph_from_json(json_object_get(create, "graph"), &err)) == NULL)
		goto fail;
	r = mirror_run_new(m, run_id, dag_id, g,
	    mirror_parse_iso(json_string_value(json_object_get(run, "started_at"))));
	g = NULL;
	json_array_foreach(rows, i, row) {
		const json_t *b = json_object_get(row, "body");
		const char *task = json_string_value(json_object_get(b, "task_id"));

		if (strcmp(json_string_value(json_object_get(row, "op")), "task") != 0 || !task)
			continue;
		for (k = 0; k < r->g->n; k++)
			if (strcmp(r->g->tasks[k].id, task) == 0)
				mirror_track_set(r->t, k, json_string_value(json_object_get(b, "state")));
	}
	/* the steps as events, in the order they were recorded */
	json_array_foreach(json_object_get(run, "steps"), i, step) {
		struct sched_step_event ev = { 0 };
		const json_t *atts = json_object_get(step, "attempts");
		const json_t *last = json_array_get(atts, json_array_size(atts) ? json_array_size(atts) - 1 : 0);
		const char *st = json_string_value(json_object_get(step, "state"));

		ev.run_id = run_id;
		ev.step = json_string_value(json_object_get(step, "name"));
		ev.scatter_index = -1;
		ev.exit_code = -1;
		if (ev.step == NULL || st == NULL)
			continue;
		ev.phase = SCHED_STEP_QUEUED;
		ev.state = STORE_PENDING;
		mirror_track_event(r->t, &ev, mirror_emit_task, r);
		if (!mirror_final(st))
			continue;
		ev.phase = SCHED_STEP_FINISHED;
		ev.state = st;
		ev.started_at = mirror_parse_iso(json_string_value(json_object_get(step, "started_at")));
		ev.finished_at = mirror_parse_iso(json_string_value(json_object_get(step, "finished_at")));
		if (json_is_integer(json_object_get(last, "exit_code")))
			ev.exit_code = (int)json_integer_value(json_object_get(last, "exit_code"));
		ev.msg = json_string_value(json_object_get(last, "message"));
		mirror_track_event(r->t, &ev, mirror_emit_task, r);
	}
	mirror_track_check(r->t, mirror_emit_task, r);
	state = json_string_value(json_object_get(run, "state"));
	log_info("airflow: run %s: finishing the mirror a previous daemon left (run %s)",
	    run_id, state ? state : "?");
	if (state && mirror_final(state))
		mirror_run_end(m, r, state, json_string_value(json_object_get(run, "error")),
		    mirror_parse_iso(json_string_value(json_object_get(run, "finished_at"))));
	goto out;
fail:
	log_warnx("airflow: run %s: cannot finish its mirror: %s", run_id, err.msg);
out:
	mirror_graph_free(g);
	json_decref(rows);
	json_decref(run);
}

static void
mirror_reconcile(struct mirror *m)
{
	struct cwld_err err = { 0 };
	json_t *ids = store_outbox_open_runs(m->st, &err), *id;
	size_t i;

	if (ids == NULL) {
		log_warnx("airflow: %s", err.msg);
		return;
	}
	json_array_foreach(ids, i, id)
		if (mirror_find(m, json_string_value(id)) == NULL)
			mirror_rebuild(m, json_string_value(id));
	json_decref(ids);
}

/* ---- the outbox worker --------------------------------------------------- */

static int
mirror_busy(struct mirror *m, const char *run_id)
{
	struct mirror_send *s;

	TAILQ_FOREACH(s, &m->sends, entry)
		if (s->run_id && strcmp(s->run_id, run_id) == 0)
			return 1;
	return 0;
}

static void
mirror_kick(struct mirror *m, int64_t delay_ms)
{
	int64_t at = mirror_now_ms() + delay_ms;
	struct timeval tv;

	if (m->kick_at != 0 && m->kick_at <= at)
		return; /* due sooner already */
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
	evtimer_add(m->kick, &tv);
	m->kick_at = at;
}

static void
mirror_import_cb(void *arg, const struct airflow_result *res)
{
	struct mirror_send *s = arg;
	struct mirror *m = s->m;
	const char *dag_id = json_string_value(json_object_get(s->body, "dag_id"));
	const char *file = json_string_value(json_object_get(s->body, "file"));
	const json_t *e;
	size_t i;

	TAILQ_REMOVE(&m->sends, s, entry);
	json_array_foreach(json_object_get(res->body, "import_errors"), i, e) {
		const char *fn = json_string_value(json_object_get(e, "filename"));
		const char *trace = json_string_value(json_object_get(e, "stack_trace"));
		const char *base = fn ? strrchr(fn, '/') : NULL;
		const char *tail;
		size_t n;

		base = base ? base + 1 : fn;
		if (res->status != AIRFLOW_OK || base == NULL || file == NULL ||
		    strcmp(base, file) != 0 || json_object_get(m->warned, dag_id))
			continue;
		/* the last line of the trace says what is wrong */
		trace = trace ? trace : "";
		n = strlen(trace);
		while (n > 0 && (trace[n - 1] == '\n' || trace[n - 1] == ' '))
			n--;
		for (tail = trace + n; tail > trace && tail[-1] != '\n'; tail--)
			;
		log_warnx("airflow: DAG file %s/%s does not import: %.*s", m->dags, file,
		    (int)(trace + n - tail), tail);
		json_object_set_new(m->warned, dag_id, json_true());
	}
	mirror_send_free(s);
}

/* Why a DAG Airflow has parsed is not the one the run needs: the task ids
 * it lacks, or NULL when it has them all. New string. */
static char *
mirror_dag_lacks(const json_t *want, const json_t *got)
{
	const json_t *w, *t;
	size_t i, k;
	char *missing = NULL, *more;

	json_array_foreach(want, i, w) {
		int found = 0;

		json_array_foreach(json_object_get(got, "tasks"), k, t)
			if (json_equal(json_object_get(t, "task_id"), w))
				found = 1;
		if (found)
			continue;
		more = xasprintf("%s%s'%s'", missing ? missing : "", missing ? ", " : "",
		    json_string_value(w));
		free(missing);
		missing = more;
	}
	return missing;
}

static void
mirror_sent_cb(void *arg, const struct airflow_result *res)
{
	struct mirror_send *s = arg;
	struct mirror *m = s->m;
	struct cwld_err err = { 0 };
	enum airflow_status st = res->status;
	char *lacks = NULL, msg[1024];
	int64_t delay;

	TAILQ_REMOVE(&m->sends, s, entry);
	m->ninflight--;
	snprintf(msg, sizeof msg, "%s", res->msg);
	if (st == AIRFLOW_OK && strcmp(s->op, "dag") == 0 &&
	    (lacks = mirror_dag_lacks(json_object_get(s->body, "tasks"), res->body)) != NULL) {
		st = AIRFLOW_RETRY;
		snprintf(msg, sizeof msg, "DAG '%s' as parsed by Airflow has no task %s yet",
		    json_string_value(json_object_get(s->body, "dag_id")), lacks);
	}
	switch (st) {
	case AIRFLOW_OK:
		if (store_outbox_done(m->st, s->id, "sent", NULL, &err) < 0)
			log_warnx("airflow: %s", err.msg);
		log_debug("airflow: run %s: %s sent", s->run_id, s->op);
		break;
	case AIRFLOW_REFUSED:
		log_warnx("airflow: run %s: Airflow refused '%s' for good: %s", s->run_id, s->op, msg);
		if (store_outbox_done(m->st, s->id, "refused", msg, &err) < 0)
			log_warnx("airflow: %s", err.msg);
		break;
	case AIRFLOW_RETRY:
		delay = mirror_backoff_ms(s->attempts + 1);
		if (s->attempts == 0 || (s->attempts + 1) % 10 == 0)
			log_warnx("airflow: run %s: '%s' not sent (attempt %d, again in %.1f s): %s",
			    s->run_id, s->op, s->attempts + 1, (double)delay / 1000.0, msg);
		else
			log_debug("airflow: run %s: '%s' not sent (attempt %d): %s", s->run_id,
			    s->op, s->attempts + 1, msg);
		if (store_outbox_retry(m->st, s->id, delay, msg, &err) < 0)
			log_warnx("airflow: %s", err.msg);
		if (strcmp(s->op, "dag") == 0 && res->http_status == 404 && s->attempts + 1 >= 3 &&
		    !json_object_get(m->warned, json_string_value(json_object_get(s->body, "dag_id")))) {
			/* not parsed after a few seconds: say why if Airflow knows */
			struct mirror_send *q = xcalloc(1, sizeof *q);

			q->m = m;
			q->op = xstrdup("import_errors");
			q->body = json_incref(s->body);
			if (airflow_api_import_errors(m->api, mirror_import_cb, q, &err) < 0)
				mirror_send_free(q);
			else
				TAILQ_INSERT_TAIL(&m->sends, q, entry);
		}
		break;
	}
	free(lacks);
	mirror_send_free(s);
	mirror_kick(m, 0);
}

/* Starts sending one outbox row; a row that cannot even start waits like
 * a failed one. */
static void
mirror_send(struct mirror *m, const json_t *row)
{
	struct mirror_send *s = xcalloc(1, sizeof *s);
	struct cwld_err err = { 0 };
	const json_t *b = json_object_get(row, "body");
	const char *dag = json_string_value(json_object_get(b, "dag_id"));
	const char *run = json_string_value(json_object_get(b, "run_id"));
	const char *task = json_string_value(json_object_get(b, "task_id"));
	const char *state = json_string_value(json_object_get(b, "state"));
	const char *note = json_string_value(json_object_get(b, "note"));
	int rc;

	s->m = m;
	s->id = (int64_t)json_integer_value(json_object_get(row, "id"));
	s->run_id = xstrdup(json_string_value(json_object_get(row, "run_id")));
	s->op = xstrdup(json_string_value(json_object_get(row, "op")));
	s->body = json_incref((json_t *)b);
	s->attempts = (int)json_integer_value(json_object_get(row, "attempts"));
	if (dag == NULL) {
		rc = err_set(&err, CWLD_EXIT_FAILED, "no dag_id");
	} else if (strcmp(s->op, "dag") == 0)
		rc = airflow_api_dag_tasks(m->api, dag, mirror_sent_cb, s, &err);
	else if (strcmp(s->op, "create_run") == 0)
		rc = airflow_api_create_run(m->api, dag, run, json_object_get(b, "conf"), note,
		    mirror_sent_cb, s, &err);
	else if (strcmp(s->op, "task") == 0)
		rc = airflow_api_set_task(m->api, dag, run, task, state, note, mirror_sent_cb, s,
		    &err);
	else if (strcmp(s->op, "reskip") == 0)
		rc = airflow_api_set_task(m->api, dag, run, task, STORE_SKIPPED, NULL,
		    mirror_sent_cb, s, &err);
	else if (strcmp(s->op, "run") == 0)
		rc = airflow_api_set_run(m->api, dag, run, state, note, mirror_sent_cb, s, &err);
	else
		rc = err_set(&err, CWLD_EXIT_FAILED, "unknown call '%s'", s->op);
	if (rc < 0) {
		log_warnx("airflow: run %s: cannot send '%s': %s", s->run_id, s->op, err.msg);
		if (store_outbox_retry(m->st, s->id, mirror_backoff_ms(s->attempts + 1), err.msg,
		    &err) < 0)
			log_warnx("airflow: %s", err.msg);
		mirror_send_free(s);
		mirror_kick(m, mirror_backoff_ms(1));
		return;
	}
	TAILQ_INSERT_TAIL(&m->sends, s, entry);
	m->ninflight++;
}

static void
mirror_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	struct cwld_err err = { 0 };
	json_t *rows, *row;
	int64_t due, soonest = 0;
	size_t i;

	(void)fd;
	(void)what;
	m->kick_at = 0;
	if ((rows = store_outbox_next(m->st, &err)) == NULL) {
		log_warnx("airflow: %s", err.msg);
		mirror_kick(m, 5000);
		return;
	}
	json_array_foreach(rows, i, row) {
		const char *run_id = json_string_value(json_object_get(row, "run_id"));
		const char *op = json_string_value(json_object_get(row, "op"));

		if (m->ninflight >= MIRROR_MAX_INFLIGHT)
			break; /* the next answer kicks again */
		if (run_id == NULL || op == NULL || mirror_busy(m, run_id))
			continue;
		due = json_integer_value(json_object_get(row, "due_ms"));
		if (due > 0) {
			if (soonest == 0 || due < soonest)
				soonest = due;
			continue;
		}
		if (strcmp(op, "reskip") == 0 && airflow_api_major(m->api) == 3) {
			/* Airflow 3 keeps skipped tasks through the run's success */
			if (store_outbox_done(m->st, json_integer_value(json_object_get(row, "id")),
			    "sent", NULL, &err) < 0)
				log_warnx("airflow: %s", err.msg);
			mirror_kick(m, 0);
			continue;
		}
		mirror_send(m, row);
	}
	json_decref(rows);
	if (soonest > 0)
		mirror_kick(m, soonest);
}

/* ---- start and stop ------------------------------------------------------ */

static void
mirror_hello_cb(void *arg, const struct airflow_result *res)
{
	struct mirror *m = arg;

	if (res->status == AIRFLOW_OK)
		log_info("airflow: mirroring runs into Airflow %s at %s",
		    airflow_api_version(m->api), m->url);
	else
		log_warnx("airflow: %s; runs are mirrored once it answers", res->msg);
}

/* A mirrored run's rows are kept a week (to read back through the API,
 * to see what went to Airflow), then deleted; looked at every six hours. */
#define MIRROR_KEEP_S (7 * 24 * 3600)
#define MIRROR_PRUNE_EVERY_S (6 * 3600)

static void
mirror_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	struct cwld_err err = { 0 };
	struct timeval tv = { MIRROR_PRUNE_EVERY_S, 0 };
	int64_t n;

	(void)fd;
	(void)what;
	n = store_outbox_prune(m->st, MIRROR_KEEP_S, &err);
	if (n < 0)
		log_warnx("airflow: %s", err.msg);
	else if (n > 0)
		log_info("airflow: dropped %lld outbox rows of runs mirrored over a week ago",
		    (long long)n);
	evtimer_add(m->prune, &tv);
}

static void
mirror_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	struct cwld_err err = { 0 };

	(void)fd;
	(void)what;
	/* one call that needs the version and the credentials both */
	if (airflow_api_import_errors(m->api, mirror_hello_cb, m, &err) < 0)
		log_warnx("airflow: %s", err.msg);
	mirror_reconcile(m);
	mirror_kick(m, 0);
}

struct mirror *
mirror_new(struct event_base *base, struct store *st, const struct mirror_opts *opts,
    struct cwld_err *err)
{
	struct mirror *m = xcalloc(1, sizeof *m);
	struct airflow_api_opts ao = { 0 };
	size_t n;

	m->base = base;
	m->st = st;
	TAILQ_INIT(&m->runs);
	TAILQ_INIT(&m->sends);
	m->warned = json_object();
	if (opts->dags_folder == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "airflow: no DAG folder given");
		goto fail;
	}
	m->dags = fs_abspath(opts->dags_folder);
	if (fs_mkdir_p(m->dags, err) < 0) {
		err_prefix(err, "airflow: the DAG folder");
		goto fail;
	}
	if (opts->daemon_url) {
		m->daemon_url = xstrdup(opts->daemon_url);
		for (n = strlen(m->daemon_url); n > 0 && m->daemon_url[n - 1] == '/'; n--)
			m->daemon_url[n - 1] = '\0';
	}
	m->url = xstrdup(opts->airflow_url ? opts->airflow_url : "");
	ao.url = opts->airflow_url;
	ao.user = opts->user;
	ao.password = opts->password;
	ao.timeout_ms = opts->timeout_ms;
	if ((m->api = airflow_api_new(base, &ao, err)) == NULL)
		goto fail;
	m->start = event_new(base, -1, 0, mirror_start_cb, m);
	m->kick = evtimer_new(base, mirror_kick_cb, m);
	m->prune = evtimer_new(base, mirror_prune_cb, m);
	if (m->start == NULL || m->kick == NULL || m->prune == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "airflow: cannot create the mirror's events");
		goto fail;
	}
	event_active(m->start, EV_TIMEOUT, 0);
	event_active(m->prune, EV_TIMEOUT, 0);
	return m;
fail:
	mirror_free(m);
	return NULL;
}

void
mirror_free(struct mirror *m)
{
	struct mirror_run *r;
	struct mirror_send *s;

	if (m == NULL)
		return;
	airflow_api_free(m->api); /* calls in flight end here, unanswered */
	while ((s = TAILQ_FIRST(&m->sends)) != NULL) {
		TAILQ_REMOVE(&m->sends, s, entry);
		mirror_send_free(s);
	}
	while ((r = TAILQ_FIRST(&m->runs)) != NULL) {
		TAILQ_REMOVE(&m->runs, r, entry);
		mirror_run_free(r);
	}
	if (m->start)
		event_free(m->start);
	if (m->kick)
		event_free(m->kick);
	if (m->prune)
		event_free(m->prune);
	json_decref(m->warned);
	free(m->url);
	free(m->dags);
	free(m->daemon_url);
	free(m);
}

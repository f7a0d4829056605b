/* The scheduler of one run: dispatches each process to the job or workflow
 * module, bounds concurrent tool invocations with a FIFO of waiting
 * launches, and owns the executors. Running a tool is left to job.c, graph
 * logic to workflow.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "cwld/docker.h"
#include "cwld/exec_local.h"
#include "cwld/expr.h"
#include "cwld/job.h"
#include "cwld/log.h"
#include "cwld/params.h"
#include "cwld/scheduler.h"
#include "cwld/store.h"
#include "cwld/workflow.h"
#include "cwld/text.h"
#include "cwld/xmalloc.h"

struct sched_waiter {
	void (*fn)(void *);
	void *arg;
	TAILQ_ENTRY(sched_waiter) entry;
};

struct sched_own {
	void *obj;
	void (*free_fn)(void *);
	int removed;   /* off the list: sched_disown only frees it */
	TAILQ_ENTRY(sched_own) entry;
};

/* Slots shared by the runs of a daemon: a run with launches waiting is in
 * `ready`; each freed slot goes to the next run in turn, so one big run
 * cannot starve the others. */
struct sched_pool {
	int slots;
	int used;
	int queued;  /* launches waiting, all runs */
	TAILQ_HEAD(, sched) ready;
	struct event *kick;
};

struct sched {
	struct event_base *base;
	struct sched_pool *pool;  /* borrowed, or NULL: only opts.parallel bounds */
	int in_ready;             /* on pool->ready */
	TAILQ_ENTRY(sched) ready_entry;
	struct store *store;
	struct sched_opts opts;
	char *run_id;
	char *run_dir;
	char *default_container;
	struct docker *docker;
	struct exec_local *local;
	int running;
	int cancelled;
	int detached;
	struct event *kick; /* runs queued launches from the loop, never inline */
	struct event *flush; /* commits the store's write batch from the loop */
	TAILQ_HEAD(, sched_waiter) waiting;
	TAILQ_HEAD(, sched_own) owned; /* jobs and workflow states in flight */
	const struct sched_observer *observer;
	void *observer_arg;
};

static void sched_kick_cb(evutil_socket_t, short, void *);

static void
sched_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sched_store_flush(arg);
}

struct sched *
sched_new(struct event_base *base, struct store *st, const struct sched_opts *opts,
    struct cwld_err *err)
{
	struct sched *s = xcalloc(1, sizeof *s);

	s->base = base;
	s->store = st;
	s->opts = *opts;
	s->run_id = xstrdup(opts->run_id);
	s->run_dir = xstrdup(opts->run_dir);
	s->default_container = opts->default_container ? xstrdup(opts->default_container) : NULL;
	s->opts.run_id = s->run_id;
	s->opts.run_dir = s->run_dir;
	s->opts.default_container = s->default_container;
	s->pool = opts->pool;
	if (s->opts.parallel < 1)
		s->opts.parallel = 1;
	TAILQ_INIT(&s->waiting);
	TAILQ_INIT(&s->owned);
	s->kick = event_new(base, -1, 0, sched_kick_cb, s);
	s->flush = event_new(base, -1, 0, sched_flush_cb, s);
	if (s->kick == NULL || s->flush == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cannot create scheduler event");
		sched_free(s);
		return NULL;
	}
	return s;
}

void
sched_free(struct sched *s)
{
	struct sched_waiter *w;
	struct sched_own *o;

	if (s == NULL)
		return;
	while ((w = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, w, entry);
		free(w);
		if (s->pool)
			s->pool->queued--;
	}
	if (s->pool && s->in_ready)
		TAILQ_REMOVE(&s->pool->ready, s, ready_entry);
	if (s->kick)
		event_free(s->kick);
	if (s->flush) {
		sched_store_flush(s);
		event_free(s->flush);
	}
	/* the executors end without callbacks (containers of a detached run
	 * stay), then what was in flight is freed: an abandoned run's jobs and
	 * workflow states never hear back */
	docker_free(s->docker);
	exec_local_free(s->local);
	s->docker = NULL;
	s->local = NULL;
	while ((o = TAILQ_FIRST(&s->owned)) != NULL) {
		TAILQ_REMOVE(&s->owned, o, entry);
		o->removed = 1;
		o->free_fn(o->obj); /* which calls sched_disown(o) */
	}
	free(s->run_id);
	free(s->run_dir);
	free(s->default_container);
	free(s);
}

struct sched_own *
sched_own(struct sched *s, void *obj, void (*free_fn)(void *))
{
	struct sched_own *o = xcalloc(1, sizeof *o);

	o->obj = obj;
	o->free_fn = free_fn;
	TAILQ_INSERT_TAIL(&s->owned, o, entry);
	return o;
}

void
sched_disown(struct sched *s, struct sched_own *o)
{
	if (o == NULL)
		return;
	if (!o->removed)
		TAILQ_REMOVE(&s->owned, o, entry);
	free(o);
}

struct event_base *sched_base(struct sched *s) { return s->base; }
/* Writes between two turns of the loop share one commit (see
 * store_batch_begin): the first access opens the batch and asks the loop to
 * commit it once the callbacks that are running now have returned. */
struct store *
sched_store(struct sched *s)
{
	struct cwld_err err = { 0 };

	if (s->store == NULL || s->flush == NULL)
		return s->store;
	if (event_pending(s->flush, EV_TIMEOUT, NULL))
		return s->store;
	if (store_batch_begin(s->store, &err) == 0)
		event_active(s->flush, EV_TIMEOUT, 0);
	else
		log_warnx("run %s: %s", s->run_id, err.msg);
	return s->store;
}

void
sched_store_flush(struct sched *s)
{
	struct cwld_err err = { 0 };

	if (s->store && store_batch_commit(s->store, &err) < 0)
		log_warnx("run %s: %s", s->run_id, err.msg);
}
const struct sched_opts *sched_opts(const struct sched *s) { return &s->opts; }
int sched_cancelled(const struct sched *s) { return s->cancelled; }

struct docker *
sched_docker(struct sched *s, struct cwld_err *err)
{
	if (s->docker == NULL && (s->docker = docker_new(s->base, NULL, err)) != NULL &&
	    s->detached)
		docker_detach(s->docker);
	return s->docker;
}

struct exec_local *
sched_local(struct sched *s, struct cwld_err *err)
{
	if (s->local == NULL)
		s->local = exec_local_new(s->base, err);
	return s->local;
}

void
sched_set_observer(struct sched *s, const struct sched_observer *ops, void *arg)
{
	s->observer = ops;
	s->observer_arg = ops ? arg : NULL;
}

void
sched_notify_step(struct sched *s, struct sched_step_event *ev)
{
	void (*fn)(void *, const struct sched_step_event *) = NULL;

	if (s->observer == NULL)
		return;
	ev->run_id = s->run_id;
	ev->scatter_index = sched_step_scatter_index(ev->step);
	switch (ev->phase) {
	case SCHED_STEP_QUEUED: fn = s->observer->step_queued; break;
	case SCHED_STEP_STARTED: fn = s->observer->step_started; break;
	case SCHED_STEP_FINISHED: fn = s->observer->step_finished; break;
	case SCHED_STEP_PROGRESS: fn = s->observer->step_progress; break;
	}
	if (fn)
		fn(s->observer_arg, ev);
}

int64_t
sched_time_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Scatter index of the part of a step name in [p, end): the digits after
 * its last dot, or -1. At most 9 digits, so it fits a long anywhere. */
static long
sched_part_index(const char *p, const char *end)
{
	const char *dot = NULL, *q;
	long v = 0;

	for (q = p; q < end; q++)
		if (*q == '.')
			dot = q;
	if (dot == NULL || dot == p || end - dot - 1 < 1 || end - dot - 1 > 9)
		return -1;
	for (q = dot + 1; q < end; q++) {
		if (*q < '0' || *q > '9')
			return -1;
		v = v * 10 + (*q - '0');
	}
	return v;
}

long
sched_step_scatter_index(const char *name)
{
	const char *last;

	if (name == NULL)
		return -1;
	last = strrchr(name, '/');
	last = last ? last + 1 : name;
	return sched_part_index(last, last + strlen(last));
}

const char *
sched_step_scatter_note(const char *name, char *buf, size_t len)
{
	const char *p, *end, *dot;
	size_t off = 0, found = 0;
	long idx;
	int only_last = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (p = name; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '/');
		end = end ? end : p + strlen(p);
		if (sched_part_index(p, end) >= 0) {
			found++;
			only_last = *end == '\0';
		}
	}
	/* One scattered part, the last: the short form says it all. */
	if (found == 1 && only_last) {
		text_appendf(buf, len, &off, " (scatter index %ld)", sched_step_scatter_index(name));
		return buf;
	}
	found = 0;
	for (p = name; *p; p = *end ? end + 1 : end) {
		end = strchr(p, '/');
		end = end ? end : p + strlen(p);
		if ((idx = sched_part_index(p, end)) < 0)
			continue;
		dot = memrchr(p, '.', (size_t)(end - p));
		text_appendf(buf, len, &off, "%s%ld of '%.*s'", found++ ? ", " : " (scatter index ",
		    idx, (int)(dot - name), name);
	}
	if (found)
		text_appendf(buf, len, &off, ")");
	return buf;
}

static void
sched_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	struct sched_waiter *w;

	(void)fd;
	(void)what;
	if (s->pool) {
		/* the pool hands out the slots */
		if (!s->in_ready && !TAILQ_EMPTY(&s->waiting)) {
			TAILQ_INSERT_TAIL(&s->pool->ready, s, ready_entry);
			s->in_ready = 1;
		}
		event_active(s->pool->kick, 0, 0);
		return;
	}
	while (s->running < s->opts.parallel && (w = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, w, entry);
		s->running++;
		w->fn(w->arg);
		free(w);
	}
}

static void
sched_pool_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched_pool *p = arg;
	struct sched *s, *first_full = NULL;
	struct sched_waiter *w;

	(void)fd;
	(void)what;
	while (p->used < p->slots && (s = TAILQ_FIRST(&p->ready)) != NULL) {
		TAILQ_REMOVE(&p->ready, s, ready_entry);
		s->in_ready = 0;
		if (TAILQ_EMPTY(&s->waiting))
			continue;
		if (s->running >= s->opts.parallel) {
			/* at its own cap: back in line; stop after a full round */
			TAILQ_INSERT_TAIL(&p->ready, s, ready_entry);
			s->in_ready = 1;
			if (first_full == s)
				break;
			if (first_full == NULL)
				first_full = s;
			continue;
		}
		first_full = NULL;
		w = TAILQ_FIRST(&s->waiting);
		TAILQ_REMOVE(&s->waiting, w, entry);
		p->queued--;
		p->used++;
		s->running++;
		if (!TAILQ_EMPTY(&s->waiting)) {
			TAILQ_INSERT_TAIL(&p->ready, s, ready_entry);
			s->in_ready = 1;
		}
		w->fn(w->arg); /* may free s (a run that fails at once) */
		free(w);
	}
}

struct sched_pool *
sched_pool_new(struct event_base *base, int slots)
{
	struct sched_pool *p = xcalloc(1, sizeof *p);

	p->slots = slots < 1 ? 1 : slots;
	TAILQ_INIT(&p->ready);
	p->kick = event_new(base, -1, 0, sched_pool_kick_cb, p);
	if (p->kick == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
sched_pool_free(struct sched_pool *p)
{
	if (p == NULL)
		return;
	event_free(p->kick);
	free(p);
}

int sched_pool_slots(const struct sched_pool *p) { return p->slots; }
int sched_pool_used(const struct sched_pool *p) { return p->used; }
int sched_pool_queued(const struct sched_pool *p) { return p->queued; }

void
sched_slot_acquire(struct sched *s, void (*fn)(void *), void *arg)
{
	struct sched_waiter *w = xcalloc(1, sizeof *w);

	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&s->waiting, w, entry);
	if (s->pool)
		s->pool->queued++;
	event_active(s->kick, 0, 0);
}

void
sched_slot_release(struct sched *s)
{
	if (s->running > 0) {
		s->running--;
		if (s->pool && s->pool->used > 0) {
			s->pool->used--;
			event_active(s->pool->kick, 0, 0);
		}
	}
	if (!TAILQ_EMPTY(&s->waiting))
		event_active(s->kick, 0, 0);
}

void
sched_detach(struct sched *s)
{
	s->detached = 1;
	docker_detach(s->docker);
}

void
sched_cancel(struct sched *s)
{
	if (s->cancelled)
		return;
	s->cancelled = 1;
	if (s->docker) {
		docker_cancel_all(s->docker);
		docker_image_cancel_all(s->docker); /* builds, loads, pulls */
	}
	if (s->local)
		exec_local_cancel_all(s->local);
	/* Queued launches see the flag when they get their slot and fail. */
	event_active(s->kick, 0, 0);
}

static const json_t *
sched_find_in(const json_t *list, const char *cls)
{
	size_t i;
	const json_t *r;

	if (!json_is_array(list))
		return NULL;
	/* The last entry of a class wins, as later entries override. */
	for (i = json_array_size(list); i-- > 0;) {
		r = json_array_get(list, i);
		if (json_is_string(json_object_get(r, "class")) &&
		    strcmp(json_string_value(json_object_get(r, "class")), cls) == 0)
			return r;
	}
	return NULL;
}

const json_t *
sched_find_req(const json_t *process, const json_t *reqs, const json_t *hints,
    const char *cls, int *is_hint)
{
	const json_t *r;
	int hint = 0;

	if ((r = sched_find_in(json_object_get(process, "requirements"), cls)) == NULL &&
	    (r = sched_find_in(reqs, cls)) == NULL) {
		hint = 1;
		if ((r = sched_find_in(json_object_get(process, "hints"), cls)) == NULL)
			r = sched_find_in(hints, cls);
	}
	if (is_hint)
		*is_hint = hint;
	return r;
}

static void
sched_append_all(json_t *dst, const json_t *src)
{
	if (json_is_array(src))
		json_array_extend(dst, (json_t *)src);
}

void
sched_merge_reqs(const json_t *reqs, const json_t *hints, const json_t *step,
    json_t **out_reqs, json_t **out_hints)
{
	/* Order matters: later entries override earlier ones in sched_find_in,
	 * so the more specific level is appended last. */
	*out_reqs = json_array();
	*out_hints = json_array();
	sched_append_all(*out_reqs, reqs);
	sched_append_all(*out_hints, hints);
	if (step) {
		sched_append_all(*out_reqs, json_object_get(step, "requirements"));
		sched_append_all(*out_hints, json_object_get(step, "hints"));
	}
}

int
sched_process_start(struct sched *s, const json_t *process, const json_t *inputs,
    const char *name, const json_t *reqs, const json_t *hints,
    sched_done_cb cb, void *arg, struct cwld_err *err)
{
	const char *cls = json_string_value(json_object_get(process, "class"));

	if (cls == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "step '%s': process has no class", name);
	if (strcmp(cls, "Workflow") == 0)
		return workflow_start(s, process, inputs, name, reqs, hints, cb, arg, err);
	if (strcmp(cls, "CommandLineTool") == 0 || strcmp(cls, "ExpressionTool") == 0)
		return job_start(s, process, inputs, name, reqs, hints, cb, arg, err);
	if (strcmp(cls, "Operation") == 0)
		return err_set(err, CWLD_EXIT_UNSUPPORTED,
		    "step '%s': an Operation is abstract and cannot be run", name);
	return err_set(err, CWLD_EXIT_UNSUPPORTED, "step '%s': unknown process class '%s'",
	    name, cls);
}

/* Whether key appears anywhere in v: a context for secondaryFiles
 * patterns is made only for processes that have some. */
static int
sched_mentions(const json_t *v, const char *key)
{
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (sched_mentions(x, key))
				return 1;
	} else if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if (strcmp(k, key) == 0 || sched_mentions(x, key))
				return 1;
	}
	return 0;
}

json_t *
sched_fill_inputs(const json_t *process, const json_t *reqs, const json_t *hints,
    const json_t *job, const char *base_uri, int from_step, struct cwld_err *err)
{
	const json_t *ll = sched_find_req(process, reqs, hints, "LoadListingRequirement", NULL);
	const json_t *js = sched_find_req(process, reqs, hints, "InlineJavascriptRequirement", NULL);
	const char *ver = json_string_value(json_object_get(process, "cwlVersion"));
	struct params_opts o = { 0 };
	struct expr_ctx *ex;
	json_t *res;
	int l;

	/* secondaryFiles patterns are the process's expressions: evaluate them
	 * with the process's own JavaScript setting, not the caller's. */
	ex = NULL;
	if (sched_mentions(json_object_get(process, "inputs"), "secondaryFiles") &&
	    (ex = expr_ctx_new(js != NULL, json_object_get(js, "expressionLib"), err)) == NULL)
		return NULL;
	o.ex = ex;
	/* Between steps only the secondary files a File carries count (as the
	 * reference runner does); a job document's are also looked up on disk. */
	o.no_discover = from_step;
	o.listing = ver && strcmp(ver, "v1.0") == 0 ? PARAMS_LISTING_DEEP : PARAMS_LISTING_NONE;
	if (ll && (l = params_listing_parse(json_string_value(json_object_get(ll, "loadListing")))) >= 0)
		o.listing = (enum params_listing)l;
	res = params_fill_inputs_ex(json_object_get(process, "inputs"), job, base_uri, &o, err);
	expr_ctx_free(ex);
	return res;
}

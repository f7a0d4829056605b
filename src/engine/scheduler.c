/* The scheduler of one run: dispatches each process to the job or workflow
 * module, queues tool launches (a FIFO per run) for a pool of slots, cores
 * and memory that one run or a daemon's runs share, and owns the executors.
 * What a tool asks for is job.c's to work out, graph logic is workflow.c's. */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include "cwld/docker.h"
#include "cwld/exec_local.h"
#include "cwld/expr.h"
#include "cwld/fetch.h"
#include "cwld/fs.h"
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
	struct sched_res want;
	struct sched_res *held;  /* the caller's: what it holds, set at launch */
	TAILQ_ENTRY(sched_waiter) entry;
};

struct sched_own {
	void *obj;
	void (*free_fn)(void *);
	int removed;   /* off the list: sched_disown only frees it */
	TAILQ_ENTRY(sched_own) entry;
};

/* Slots, cores and memory shared by the runs of a daemon (or one run's
 * own): a run with launches waiting is in `ready`, in turn; what is freed
 * goes to the first launch of the first run there that is below its own
 * `parallel`, and when that launch does not fit, to nobody until it does. */
struct sched_pool {
	int slots;
	int used;
	int queued;  /* launches waiting, all runs */
	int64_t millicores, millicores_used;
	int64_t ram_mib, ram_mib_used;
	TAILQ_HEAD(, sched) ready;
	struct event *kick;
	int dispatching;  /* inside sched_pool_kick_cb */
	int doomed;       /* freed meanwhile (its run's last launch ended it) */
};

struct sched {
	struct event_base *base;
	struct sched_pool *pool;  /* opts.pool (borrowed) or own_pool */
	struct sched_pool *own_pool;
	int in_ready;             /* on pool->ready, iff launches wait */
	struct sched_res held;    /* what its running launches hold, summed */
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
	struct event *kick; /* fails a cancelled run's launches from the loop */
	struct event *flush; /* commits the store's write batch from the loop */
	int flush_waited;    /* the flush let the pool's launches go first */
	TAILQ_HEAD(, sched_waiter) waiting;
	TAILQ_HEAD(, sched_own) owned; /* jobs and workflow states in flight */
	char **tmp_free;     /* empty temporary directories to hand out again */
	size_t ntmp_free, captmp_free;
	unsigned tmp_next;   /* number of the next one to make */
	const struct sched_observer *observer;
	void *observer_arg;
};

static void sched_kick_cb(evutil_socket_t, short, void *);

/* Commits the turn's writes. When the pool has launches to hand out in
 * this same turn, the commit waits behind them once: a launch commits
 * before its process starts anyway (sched_store_flush), so a step's end
 * and the next step's start go in one commit, not two. (The pool's kick is
 * activated with EV_TIMEOUT so that event_pending tells it is queued.) */
static void
sched_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;

	(void)fd;
	(void)what;
	if (!s->flush_waited && s->pool != NULL &&
	    event_pending(s->pool->kick, EV_TIMEOUT, NULL)) {
		s->flush_waited = 1;
		event_active(s->flush, EV_TIMEOUT, 0);
		return;
	}
	s->flush_waited = 0;
	sched_store_flush(s);
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
	if (s->opts.parallel < 1)
		s->opts.parallel = 1;
	s->pool = opts->pool;
	if (s->pool == NULL) {
		struct sched_budget b = opts->budget;

		b.slots = s->opts.parallel;
		s->pool = s->own_pool = sched_pool_new(base, &b);
	}
	TAILQ_INIT(&s->waiting);
	TAILQ_INIT(&s->owned);
	s->kick = event_new(base, -1, 0, sched_kick_cb, s);
	s->flush = event_new(base, -1, 0, sched_flush_cb, s);
	if (s->pool == NULL || s->kick == NULL || s->flush == NULL) {
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
	s->in_ready = 0;
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
	/* Launches abandoned while running (a daemon detaching) give back what
	 * they hold, so the other runs of a shared pool can have it. */
	if (s->pool && s->running > 0) {
		s->pool->used -= s->running;
		s->pool->millicores_used -= s->held.millicores;
		s->pool->ram_mib_used -= s->held.ram_mib;
		event_active(s->pool->kick, EV_TIMEOUT, 0);
	}
	sched_pool_free(s->own_pool);
	while (s->ntmp_free > 0)
		free(s->tmp_free[--s->ntmp_free]);
	free(s->tmp_free);
	free(s->run_id);
	free(s->run_dir);
	free(s->default_container);
	free(s);
}

/* Temporary directories are run_dir/.tmp/N, made on demand and handed out
 * again once a job leaves one empty: on ext4 without a journal (this
 * project's machines) making and removing a directory costs far more than
 * looking into one. A number already taken on disk (an earlier daemon's,
 * maybe still mounted in a container it left) is skipped. */
char *
sched_tmp_take(struct sched *s, struct cwld_err *err)
{
	char *parent, *dir;
	int tries;

	if (s->ntmp_free > 0)
		return s->tmp_free[--s->ntmp_free];
	parent = fs_join(s->run_dir, ".tmp");
	if (s->tmp_next == 0 && fs_mkdir_p(parent, err) < 0) {
		free(parent);
		return NULL;
	}
	for (tries = 0; tries < 100000; tries++) {
		dir = xasprintf("%s/%u", parent, ++s->tmp_next);
		if (mkdir(dir, 0755) == 0) {
			free(parent);
			return dir;
		}
		if (errno != EEXIST) {
			err_set(err, CWLD_EXIT_FAILED, "mkdir '%s': %s", dir, strerror(errno));
			free(dir);
			break;
		}
		free(dir);
	}
	if (tries == 100000)
		err_set(err, CWLD_EXIT_FAILED, "no free temporary directory under '%s'", parent);
	free(parent);
	return NULL;
}

void
sched_tmp_give(struct sched *s, char *dir)
{
	if (dir == NULL)
		return;
	if (!fs_dir_is_empty(dir)) {
		free(dir); /* left as it is: removed with the run's directory */
		return;
	}
	if (s->ntmp_free == s->captmp_free) {
		s->captmp_free = s->captmp_free ? s->captmp_free * 2 : 8;
		s->tmp_free = xreallocarray(s->tmp_free, s->captmp_free, sizeof *s->tmp_free);
	}
	s->tmp_free[s->ntmp_free++] = dir;
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

/* A cancelled run's launches go at once, holding nothing but a place in
 * the count: each only records its failure and gives it back. */
static void
sched_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	struct sched_waiter *w;
	void (*fn)(void *);
	void *fn_arg;

	(void)fd;
	(void)what;
	if (!s->cancelled)
		return;
	if (s->in_ready) {
		TAILQ_REMOVE(&s->pool->ready, s, ready_entry);
		s->in_ready = 0;
	}
	while ((w = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, w, entry);
		s->pool->queued--;
		s->pool->used++;
		s->running++;
		memset(w->held, 0, sizeof *w->held);
		fn = w->fn;
		fn_arg = w->arg;
		free(w);
		fn(fn_arg);
	}
}

static int64_t
sched_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* Whether the launch asking want can go now, and what it then holds. */
static int
sched_pool_fits(const struct sched_pool *p, const struct sched_res *want,
    struct sched_res *grant)
{
	if (p->used >= p->slots)
		return 0;
	if (want->millicores > p->millicores || want->ram_mib > p->ram_mib) {
		/* more than there is: waiting for it would be forever, so it runs
		 * alone, holding all there is of what it overdraws */
		if (p->used > 0)
			return 0;
		grant->millicores = sched_min64(want->millicores, p->millicores);
		grant->ram_mib = sched_min64(want->ram_mib, p->ram_mib);
		return 1;
	}
	if (want->millicores > p->millicores - p->millicores_used ||
	    want->ram_mib > p->ram_mib - p->ram_mib_used)
		return 0;
	*grant = *want;
	return 1;
}

static void sched_pool_destroy(struct sched_pool *p);

static void
sched_pool_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched_pool *p = arg;
	struct sched *s, *first_full = NULL;
	struct sched_waiter *w;
	struct sched_res grant = { 0, 0 };
	void (*fn)(void *);
	void *fn_arg;

	(void)fd;
	(void)what;
	p->dispatching = 1;
	while ((s = TAILQ_FIRST(&p->ready)) != NULL) {
		if (TAILQ_EMPTY(&s->waiting)) {
			TAILQ_REMOVE(&p->ready, s, ready_entry);
			s->in_ready = 0;
			continue;
		}
		if (s->running >= s->opts.parallel && !s->cancelled) {
			/* at its own cap: back in line; stop after a full round */
			TAILQ_REMOVE(&p->ready, s, ready_entry);
			TAILQ_INSERT_TAIL(&p->ready, s, ready_entry);
			if (first_full == s)
				break;
			if (first_full == NULL)
				first_full = s;
			continue;
		}
		w = TAILQ_FIRST(&s->waiting);
		if (s->cancelled)
			memset(&grant, 0, sizeof grant); /* it only fails */
		else if (!sched_pool_fits(p, &w->want, &grant))
			break; /* the launch in turn waits, and nobody passes it */
		first_full = NULL;
		TAILQ_REMOVE(&p->ready, s, ready_entry);
		s->in_ready = 0;
		TAILQ_REMOVE(&s->waiting, w, entry);
		p->queued--;
		p->used++;
		p->millicores_used += grant.millicores;
		p->ram_mib_used += grant.ram_mib;
		s->running++;
		s->held.millicores += grant.millicores;
		s->held.ram_mib += grant.ram_mib;
		if (!TAILQ_EMPTY(&s->waiting)) {
			TAILQ_INSERT_TAIL(&p->ready, s, ready_entry);
			s->in_ready = 1;
		}
		*w->held = grant;
		fn = w->fn;
		fn_arg = w->arg;
		free(w);
		fn(fn_arg); /* may free s (a run that fails at once), and its pool */
		if (p->doomed) {
			sched_pool_destroy(p);
			return;
		}
	}
	p->dispatching = 0;
}

void
sched_budget_machine(double *cores, int64_t *ram_mib)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);

	*cores = n > 0 ? (double)n : 1;
	*ram_mib = 1;
	if (pages > 0 && psize > 0)
		*ram_mib = pages > INT64_MAX / psize ? INT64_MAX / (1024 * 1024) :
		    (int64_t)pages * psize / (1024 * 1024);
	if (*ram_mib < 1)
		*ram_mib = 1;
}

/* Positive cores in millicores: at least one, at most a million cores. */
static int64_t
sched_millicores(double cores)
{
	if (!(cores > 0))
		return 0;
	if (cores > 1e6)
		cores = 1e6;
	return cores * 1000 < 1 ? 1 : (int64_t)(cores * 1000 + 0.5);
}

struct sched_pool *
sched_pool_new(struct event_base *base, const struct sched_budget *b)
{
	struct sched_pool *p = xcalloc(1, sizeof *p);
	double mcores;
	int64_t mram;

	sched_budget_machine(&mcores, &mram);
	p->slots = b->slots < 1 ? 1 : b->slots;
	p->millicores = sched_millicores(b->cores > 0 ? b->cores : mcores);
	p->ram_mib = b->ram_mib > 0 ? b->ram_mib : mram;
	TAILQ_INIT(&p->ready);
	p->kick = event_new(base, -1, 0, sched_pool_kick_cb, p);
	if (p->kick == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static void
sched_pool_destroy(struct sched_pool *p)
{
	event_free(p->kick);
	free(p);
}

void
sched_pool_free(struct sched_pool *p)
{
	if (p == NULL)
		return;
	if (p->dispatching) {
		/* freed from a launch's callback: the dispatch loop ends it */
		p->doomed = 1;
		return;
	}
	sched_pool_destroy(p);
}

int sched_pool_slots(const struct sched_pool *p) { return p->slots; }
int sched_pool_used(const struct sched_pool *p) { return p->used; }
int sched_pool_queued(const struct sched_pool *p) { return p->queued; }
int64_t sched_pool_millicores(const struct sched_pool *p) { return p->millicores; }
int64_t sched_pool_millicores_used(const struct sched_pool *p) { return p->millicores_used; }
int64_t sched_pool_ram_mib(const struct sched_pool *p) { return p->ram_mib; }
int64_t sched_pool_ram_mib_used(const struct sched_pool *p) { return p->ram_mib_used; }
struct sched_pool *sched_pool(struct sched *s) { return s->pool; }

void
sched_slot_acquire(struct sched *s, const char *step, const struct sched_res *want,
    struct sched_res *held, void (*fn)(void *), void *arg)
{
	struct sched_waiter *w = xcalloc(1, sizeof *w);
	struct sched_pool *p = s->pool;

	w->fn = fn;
	w->arg = arg;
	w->held = held;
	if (want) {
		w->want.millicores = want->millicores > 0 ? want->millicores : 0;
		w->want.ram_mib = want->ram_mib > 0 ? want->ram_mib : 0;
	}
	memset(held, 0, sizeof *held);
	if (w->want.millicores > p->millicores || w->want.ram_mib > p->ram_mib) {
		char asked[96];
		size_t off = 0;

		if (w->want.millicores > 0)
			text_appendf(asked, sizeof asked, &off, "%g cores",
			    (double)w->want.millicores / 1000);
		if (w->want.ram_mib > 0)
			text_appendf(asked, sizeof asked, &off, "%s%lld MiB", off ? " and " : "",
			    (long long)w->want.ram_mib);
		log_warnx("run %s: step '%s' asks for %s, more than the budget of %g cores and "
		    "%lld MiB: it waits until nothing else runs", s->run_id, step ? step : "?", asked,
		    (double)p->millicores / 1000, (long long)p->ram_mib);
	}
	TAILQ_INSERT_TAIL(&s->waiting, w, entry);
	p->queued++;
	if (s->cancelled) {
		event_active(s->kick, 0, 0);
		return;
	}
	if (!s->in_ready) {
		TAILQ_INSERT_TAIL(&p->ready, s, ready_entry);
		s->in_ready = 1;
	}
	event_active(p->kick, EV_TIMEOUT, 0);
}

void
sched_slot_release(struct sched *s, struct sched_res *held)
{
	struct sched_pool *p = s->pool;

	if (s->running <= 0)
		return;
	s->running--;
	s->held.millicores -= held->millicores;
	s->held.ram_mib -= held->ram_mib;
	p->used--;
	p->millicores_used -= held->millicores;
	p->ram_mib_used -= held->ram_mib;
	memset(held, 0, sizeof *held);
	event_active(p->kick, EV_TIMEOUT, 0);
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
	fetch_stop(s->opts.fetch, "cancelled"); /* downloads for steps */
	/* Queued launches go at once and fail on seeing the flag. */
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

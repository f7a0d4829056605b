/* Scheduler: requirement precedence (process requirements, then inherited
 * requirements, then hints), merging for children, and the pool: slots,
 * cores and memory handed out on a real event loop, in turn between runs,
 * first come first served within one, without backfilling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "cwld/log.h"
#include "cwld/scheduler.h"

static json_t *
req(const char *cls, const char *tag)
{
	return json_pack("{s:s,s:s}", "class", cls, "tag", tag);
}

static const char *
tag_of(const json_t *r)
{
	return r ? json_string_value(json_object_get(r, "tag")) : NULL;
}

static void
test_precedence(void **state)
{
	json_t *proc = json_pack("{s:[o],s:[o]}",
	    "requirements", req("A", "proc-req"),
	    "hints", req("B", "proc-hint"));
	json_t *reqs = json_pack("[o,o]", req("A", "wf-req"), req("B", "wf-req"));
	json_t *hints = json_pack("[o,o]", req("C", "wf-hint"), req("B", "wf-hint"));
	int hint = -1;

	(void)state;
	/* The process's own requirement beats an inherited one. */
	assert_string_equal(tag_of(sched_find_req(proc, reqs, hints, "A", &hint)), "proc-req");
	assert_int_equal(hint, 0);
	/* An inherited requirement beats the process's own hint. */
	assert_string_equal(tag_of(sched_find_req(proc, reqs, hints, "B", &hint)), "wf-req");
	assert_int_equal(hint, 0);
	/* Only a hint: found, marked as hint. */
	assert_string_equal(tag_of(sched_find_req(proc, reqs, hints, "C", &hint)), "wf-hint");
	assert_int_equal(hint, 1);
	assert_null(sched_find_req(proc, reqs, hints, "D", NULL));
	json_decref(proc);
	json_decref(reqs);
	json_decref(hints);
}

static void
test_merge_more_specific_wins(void **state)
{
	json_t *reqs = json_pack("[o]", req("A", "outer"));
	json_t *step = json_pack("{s:[o],s:[o]}", "requirements", req("A", "step"),
	    "hints", req("H", "step-hint"));
	json_t *proc = json_object();
	json_t *r = NULL, *h = NULL;

	(void)state;
	sched_merge_reqs(reqs, NULL, step, &r, &h);
	assert_int_equal(json_array_size(r), 2);
	assert_string_equal(tag_of(sched_find_req(proc, r, h, "A", NULL)), "step");
	assert_string_equal(tag_of(sched_find_req(proc, r, h, "H", NULL)), "step-hint");
	json_decref(r);
	json_decref(h);
	json_decref(reqs);
	json_decref(step);
	json_decref(proc);
}

struct slot_probe {
	struct sched *s;
	int running, max_seen, started;
	struct event *ev[8];
	struct sched_res held[8]; /* nothing asked: all zero */
};

static void
slot_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot_probe *p = arg;

	(void)fd;
	(void)what;
	p->running--;
	sched_slot_release(p->s, &p->held[p->running]);
}

static void
slot_start(void *arg)
{
	struct slot_probe *p = arg;

	p->running++;
	if (p->running > p->max_seen)
		p->max_seen = p->running;
	/* Finish from the loop later, as a real invocation would. */
	event_active(p->ev[p->started++], 0, 0);
}

static void
test_slots_bound_parallelism(void **state)
{
	struct event_base *base = event_base_new();
	struct sched_opts o = { .run_id = "r", .run_dir = "/nonexistent", .parallel = 2 };
	struct cwld_err err = { 0 };
	struct slot_probe p = { 0 };
	int i;

	(void)state;
	p.s = sched_new(base, NULL, &o, &err);
	assert_non_null(p.s);
	for (i = 0; i < 8; i++)
		p.ev[i] = event_new(base, -1, 0, slot_finish_cb, &p);
	for (i = 0; i < 8; i++)
		sched_slot_acquire(p.s, "t", NULL, &p.held[i], slot_start, &p);
	/* Nothing starts inside acquire: only from the loop. */
	assert_int_equal(p.started, 0);
	event_base_dispatch(base);
	assert_int_equal(p.started, 8);
	assert_int_equal(p.max_seen, 2);
	assert_int_equal(p.running, 0);
	for (i = 0; i < 8; i++)
		event_free(p.ev[i]);
	sched_free(p.s);
	event_base_free(base);
}

/* The pool tests drive launches by hand: each starts from the loop, and
 * ends when the test says so; settle() runs the loop until nothing is
 * left to do, so what has started then is all that can. */
struct launch {
	struct sched *s;
	const char *name;
	struct sched_res want, held;
	int started;
	struct launch **order; /* where started launches are appended */
	int *norder;
	int free_sched;        /* its start frees its scheduler (and own pool) */
};

static void
launch_start(void *arg)
{
	struct launch *l = arg;

	l->started = 1;
	l->order[(*l->norder)++] = l;
	if (l->free_sched)
		sched_free(l->s);
}

static void
launch_end(struct launch *l)
{
	assert_int_equal(l->started, 1);
	sched_slot_release(l->s, &l->held);
	l->started = 2;
}

static void
settle(struct event_base *base)
{
	while (event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) > 0)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

#define CORES(n) ((int64_t)((n) * 1000))

struct pool_fixture {
	struct event_base *base;
	struct sched_pool *pool;
	struct sched *a, *b;
	struct launch *order[16];
	int norder;
};

static struct sched *
fixture_sched(struct pool_fixture *f, const char *id, int parallel)
{
	struct sched_opts o = { .run_id = id, .run_dir = "/nonexistent", .parallel = parallel };
	struct cwld_err err = { 0 };
	struct sched *s;

	o.pool = f->pool;
	s = sched_new(f->base, NULL, &o, &err);
	assert_non_null(s);
	return s;
}

static void
fixture_init(struct pool_fixture *f, int slots, double cores, int64_t ram_mib)
{
	struct sched_budget b = { slots, cores, ram_mib };

	memset(f, 0, sizeof *f);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->pool = sched_pool_new(f->base, &b);
	assert_non_null(f->pool);
	f->a = fixture_sched(f, "ra", 16);
	f->b = fixture_sched(f, "rb", 16);
}

static void
fixture_release(struct pool_fixture *f)
{
	sched_free(f->a);
	sched_free(f->b);
	sched_pool_free(f->pool);
	event_base_free(f->base);
}

static void
launch_init(struct pool_fixture *f, struct launch *l, struct sched *s, const char *name,
    double cores, int64_t ram_mib)
{
	memset(l, 0, sizeof *l);
	l->s = s;
	l->name = name;
	l->want.millicores = CORES(cores);
	l->want.ram_mib = ram_mib;
	l->order = f->order;
	l->norder = &f->norder;
	/* what it holds is overwritten when it starts */
	l->held.millicores = -1;
	l->held.ram_mib = -1;
}

static void
launch_queue(struct launch *l)
{
	sched_slot_acquire(l->s, l->name, &l->want, &l->held, launch_start, l);
}

static void
assert_pool_use(const struct pool_fixture *f, int used, int64_t millicores, int64_t ram_mib)
{
	assert_int_equal(sched_pool_used(f->pool), used);
	assert_int_equal(sched_pool_millicores_used(f->pool), millicores);
	assert_int_equal(sched_pool_ram_mib_used(f->pool), ram_mib);
}

/* Requests that fit run together; one that does not waits for a release,
 * and each release gives back exactly what was held. */
static void
test_pool_fit_and_wait(void **state)
{
	struct pool_fixture f;
	struct launch l1, l2, l3;

	(void)state;
	fixture_init(&f, 8, 4, 1000);
	assert_int_equal(sched_pool_millicores(f.pool), 4000);
	assert_int_equal(sched_pool_ram_mib(f.pool), 1000);
	launch_init(&f, &l1, f.a, "one", 2, 400);
	launch_init(&f, &l2, f.a, "two", 1.5, 500);
	launch_init(&f, &l3, f.a, "three", 1, 200);
	launch_queue(&l1);
	launch_queue(&l2);
	launch_queue(&l3);
	/* nothing starts inside acquire */
	assert_int_equal(f.norder, 0);
	assert_int_equal(sched_pool_queued(f.pool), 3);
	settle(f.base);
	/* 2 + 1.5 cores and 900 MiB fit; 200 more MiB do not */
	assert_int_equal(f.norder, 2);
	assert_ptr_equal(f.order[0], &l1);
	assert_ptr_equal(f.order[1], &l2);
	assert_int_equal(l3.started, 0);
	assert_int_equal(l1.held.millicores, 2000);
	assert_int_equal(l1.held.ram_mib, 400);
	assert_int_equal(l2.held.millicores, 1500);
	assert_pool_use(&f, 2, 3500, 900);
	assert_int_equal(sched_pool_queued(f.pool), 1);

	launch_end(&l2);
	assert_int_equal(l2.held.millicores, 0);
	assert_int_equal(l2.held.ram_mib, 0);
	assert_pool_use(&f, 1, 2000, 400);
	settle(f.base);
	assert_int_equal(l3.started, 1);
	assert_pool_use(&f, 2, 3000, 600);
	launch_end(&l1);
	launch_end(&l3);
	settle(f.base);
	assert_pool_use(&f, 0, 0, 0);
	assert_int_equal(sched_pool_queued(f.pool), 0);
	fixture_release(&f);
}

/* First come first served, and nobody passes the launch in turn: a small
 * request that would fit waits behind a big one that does not. */
static void
test_pool_fifo_no_backfill(void **state)
{
	struct pool_fixture f;
	struct launch big_running, big, small, free_tool;

	(void)state;
	fixture_init(&f, 8, 4, 1000);
	launch_init(&f, &big_running, f.a, "running", 3, 0);
	launch_init(&f, &big, f.a, "big", 2, 0);
	launch_init(&f, &small, f.a, "small", 1, 0);
	launch_init(&f, &free_tool, f.a, "no-requirement", 0, 0);
	launch_queue(&big_running);
	settle(f.base);
	assert_int_equal(big_running.started, 1);
	launch_queue(&big);
	launch_queue(&small);
	launch_queue(&free_tool);
	settle(f.base);
	/* 1 core is free: small would fit, but big is first */
	assert_int_equal(big.started, 0);
	assert_int_equal(small.started, 0);
	assert_int_equal(free_tool.started, 0);
	assert_pool_use(&f, 1, 3000, 0);
	launch_end(&big_running);
	settle(f.base);
	assert_int_equal(f.norder, 4);
	assert_ptr_equal(f.order[1], &big);
	assert_ptr_equal(f.order[2], &small);
	assert_ptr_equal(f.order[3], &free_tool);
	assert_pool_use(&f, 3, 3000, 0);
	launch_end(&big);
	launch_end(&small);
	launch_end(&free_tool);
	assert_pool_use(&f, 0, 0, 0);
	fixture_release(&f);
}

static int warnings;

static void
count_line(void *arg)
{
	(void)arg;
	warnings++;
}

/* More than the whole budget: one warning when queued, then it waits until
 * nothing else runs and holds all there is of what it overdraws. */
static void
test_pool_over_budget(void **state)
{
	struct pool_fixture f;
	struct launch small, huge, after, free_tool;

	(void)state;
	fixture_init(&f, 8, 2, 1000);
	launch_init(&f, &small, f.a, "small", 0.5, 100);
	launch_init(&f, &huge, f.a, "huge", 8, 500);
	launch_init(&f, &after, f.b, "after", 0.5, 0);
	launch_init(&f, &free_tool, f.a, "no-requirement", 0, 0);
	launch_queue(&small);
	settle(f.base);
	log_set_hook(count_line, NULL, NULL);
	warnings = 0;
	launch_queue(&huge);
	assert_int_equal(warnings, 1);
	launch_queue(&free_tool);
	assert_int_equal(warnings, 1);
	log_set_hook(NULL, NULL, NULL);
	settle(f.base);
	/* room for 1.5 more cores, but it asked for 8: not while small runs;
	 * the tool behind it waits too */
	assert_int_equal(huge.started, 0);
	assert_int_equal(free_tool.started, 0);
	launch_end(&small);
	settle(f.base);
	assert_int_equal(huge.started, 1);
	assert_int_equal(huge.held.millicores, 2000); /* cut down to the budget */
	assert_int_equal(huge.held.ram_mib, 500);     /* within it: as asked */
	/* a tool that reserves nothing still goes by the slots, beside it */
	assert_int_equal(free_tool.started, 1);
	assert_pool_use(&f, 2, 2000, 500);
	/* one that asks for a core, of another run, waits for all of them */
	launch_queue(&after);
	settle(f.base);
	assert_int_equal(after.started, 0);
	launch_end(&free_tool);
	launch_end(&huge);
	assert_pool_use(&f, 0, 0, 0);
	settle(f.base);
	assert_int_equal(after.started, 1);
	launch_end(&after);
	/* over the memory budget alone counts too */
	launch_init(&f, &huge, f.b, "huge-ram", 0, 4000);
	launch_queue(&huge);
	settle(f.base);
	assert_int_equal(huge.started, 1);
	assert_int_equal(huge.held.millicores, 0);
	assert_int_equal(huge.held.ram_mib, 1000);
	launch_end(&huge);
	assert_pool_use(&f, 0, 0, 0);
	fixture_release(&f);
}

/* Two runs take turns; within a run, first come first served; each run
 * stays within its own parallel. */
static void
test_pool_round_robin(void **state)
{
	struct pool_fixture f;
	struct launch a[3], b[2];
	int i;

	(void)state;
	fixture_init(&f, 1, 4, 1000);
	for (i = 0; i < 3; i++) {
		launch_init(&f, &a[i], f.a, "a", 1, 0);
		launch_queue(&a[i]);
	}
	for (i = 0; i < 2; i++) {
		launch_init(&f, &b[i], f.b, "b", 0, 10);
		launch_queue(&b[i]);
	}
	settle(f.base);
	/* one slot: released one by one, the order alternates */
	for (i = 0; i < 5; i++) {
		assert_int_equal(f.norder, i + 1);
		assert_int_equal(sched_pool_used(f.pool), 1);
		launch_end(f.order[i]);
		settle(f.base);
	}
	assert_ptr_equal(f.order[0], &a[0]);
	assert_ptr_equal(f.order[1], &b[0]);
	assert_ptr_equal(f.order[2], &a[1]);
	assert_ptr_equal(f.order[3], &b[1]);
	assert_ptr_equal(f.order[4], &a[2]);
	assert_pool_use(&f, 0, 0, 0);
	fixture_release(&f);
}

/* A run's turn waits for its resources without holding up the other run
 * while it is at its own parallel cap. */
static void
test_pool_parallel_cap(void **state)
{
	struct pool_fixture f;
	struct launch a1, a2, b1;

	(void)state;
	fixture_init(&f, 8, 4, 1000);
	sched_free(f.a);
	f.a = fixture_sched(&f, "ra", 1);
	launch_init(&f, &a1, f.a, "a1", 1, 0);
	launch_init(&f, &a2, f.a, "a2", 1, 0);
	launch_init(&f, &b1, f.b, "b1", 1, 0);
	launch_queue(&a1);
	launch_queue(&a2);
	launch_queue(&b1);
	settle(f.base);
	assert_int_equal(a1.started, 1);
	assert_int_equal(a2.started, 0); /* run a: parallel 1 */
	assert_int_equal(b1.started, 1);
	launch_end(&a1);
	settle(f.base);
	assert_int_equal(a2.started, 1);
	launch_end(&a2);
	launch_end(&b1);
	assert_pool_use(&f, 0, 0, 0);
	fixture_release(&f);
}

/* A cancelled run's queued launches go at once, holding nothing, even in
 * a full pool; a freed run gives back what its running launches held. */
static void
test_pool_cancel_and_free(void **state)
{
	struct pool_fixture f;
	struct launch a1, b1, b2;

	(void)state;
	fixture_init(&f, 1, 2, 1000);
	launch_init(&f, &a1, f.a, "a1", 2, 300);
	launch_init(&f, &b1, f.b, "b1", 1, 0);
	launch_init(&f, &b2, f.b, "b2", 1, 0);
	launch_queue(&a1);
	launch_queue(&b1);
	launch_queue(&b2);
	settle(f.base);
	assert_int_equal(a1.started, 1);
	assert_int_equal(sched_pool_queued(f.pool), 2);
	sched_cancel(f.b);
	settle(f.base);
	assert_int_equal(b1.started, 1);
	assert_int_equal(b2.started, 1);
	assert_int_equal(b1.held.millicores, 0);
	assert_int_equal(sched_pool_queued(f.pool), 0);
	launch_end(&b1);
	launch_end(&b2);
	assert_pool_use(&f, 1, 2000, 300);
	/* run a goes away with a1 still running (a daemon detaching) */
	sched_free(f.a);
	f.a = NULL;
	assert_pool_use(&f, 0, 0, 0);
	fixture_release(&f);
}

/* Without a pool a run has its own, with its parallel as slots and the
 * budget of its options; a launch may free the run and so its pool. */
static void
test_pool_own(void **state)
{
	struct event_base *base = event_base_new();
	struct sched_opts o = { .run_id = "r", .run_dir = "/nonexistent", .parallel = 3 };
	struct cwld_err err = { 0 };
	struct launch l;
	struct launch *order[2];
	int norder = 0;
	double mcores;
	int64_t mram;
	struct sched *s;

	(void)state;
	o.budget.cores = 1.25;
	o.budget.ram_mib = 64;
	s = sched_new(base, NULL, &o, &err);
	assert_non_null(s);
	assert_int_equal(sched_pool_slots(sched_pool(s)), 3);
	assert_int_equal(sched_pool_millicores(sched_pool(s)), 1250);
	assert_int_equal(sched_pool_ram_mib(sched_pool(s)), 64);
	sched_free(s);

	/* no budget given: the machine's */
	memset(&o.budget, 0, sizeof o.budget);
	sched_budget_machine(&mcores, &mram);
	assert_true(mcores >= 1);
	assert_true(mram >= 1);
	s = sched_new(base, NULL, &o, &err);
	assert_non_null(s);
	assert_int_equal(sched_pool_millicores(sched_pool(s)), CORES(mcores));
	assert_int_equal(sched_pool_ram_mib(sched_pool(s)), mram);
	memset(&l, 0, sizeof l);
	l.s = s;
	l.order = order;
	l.norder = &norder;
	l.free_sched = 1;
	l.want.millicores = 1000;
	sched_slot_acquire(s, "last", &l.want, &l.held, launch_start, &l);
	settle(base);
	assert_int_equal(norder, 1);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_merge_more_specific_wins),
		cmocka_unit_test(test_slots_bound_parallelism),
		cmocka_unit_test(test_pool_fit_and_wait),
		cmocka_unit_test(test_pool_fifo_no_backfill),
		cmocka_unit_test(test_pool_over_budget),
		cmocka_unit_test(test_pool_round_robin),
		cmocka_unit_test(test_pool_parallel_cap),
		cmocka_unit_test(test_pool_cancel_and_free),
		cmocka_unit_test(test_pool_own),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

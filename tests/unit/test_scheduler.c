/* Scheduler: requirement precedence (process requirements, then inherited
 * requirements, then hints), merging for children, and slot bounding. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

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
};

static void
slot_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct slot_probe *p = arg;

	(void)fd;
	(void)what;
	p->running--;
	sched_slot_release(p->s);
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
		sched_slot_acquire(p.s, slot_start, &p);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_merge_more_specific_wins),
		cmocka_unit_test(test_slots_bound_parallelism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The scheduler of one run: dispatches processes (tools, expression tools,
 * workflows) as their inputs become ready, bounds how many tool invocations
 * run at once, and owns the executors and the store handle of the run. It
 * reacts to events on one libevent loop; nothing sleeps or polls. */
#ifndef CWLD_SCHEDULER_H
#define CWLD_SCHEDULER_H
#include <event2/event.h>
#include <jansson.h>
#include "cwld/err.h"

struct store;
struct docker;
struct exec_local;
struct sched;

struct sched_opts {
	const char *run_id;       /* unique id of the run (store key, labels) */
	const char *run_dir;      /* runs/<run>: step work dirs go below */
	int parallel;             /* max tool invocations at once (>= 1) */
	const char *default_container; /* image for tools without DockerRequirement when force_docker */
	int force_docker;
	int no_container;         /* ignore DockerRequirement (host execution) */
	const char *cache_dir;    /* work reuse (cache.h) under this dir, or NULL; borrowed */
};

/* Completion of a process: status 0 with outputs (new reference handed to
 * the callee), or a CWLD_EXIT_* status with a message ("step 'x': ...") and
 * outputs NULL. Called exactly once per successful sched_process_start. */
typedef void (*sched_done_cb)(void *arg, int status, json_t *outputs, const char *msg);

/* base, st are borrowed and must outlive the scheduler. */
struct sched *sched_new(struct event_base *base, struct store *st,
    const struct sched_opts *opts, struct cwld_err *err);
void sched_free(struct sched *s);

/* Starts process (normalised, borrowed; must outlive the run) with its
 * complete inputs (borrowed). name is the step path ("" for the top level),
 * reqs/hints the requirements and hints inherited from enclosing workflows
 * (borrowed arrays, may be NULL). */
int sched_process_start(struct sched *s, const json_t *process, const json_t *inputs,
    const char *name, const json_t *reqs, const json_t *hints,
    sched_done_cb cb, void *arg, struct cwld_err *err);

/* Requirement of class cls in force for process given inherited reqs/hints:
 * the process's own requirements win, then inherited requirements, then the
 * process's hints, then inherited hints. Borrowed, or NULL. *is_hint set. */
const json_t *sched_find_req(const json_t *process, const json_t *reqs,
    const json_t *hints, const char *cls, int *is_hint);
/* New arrays merging inherited reqs/hints with a step's and a process's own,
 * for handing down to the process's children. */
void sched_merge_reqs(const json_t *reqs, const json_t *hints, const json_t *step,
    json_t **out_reqs, json_t **out_hints);

/* The complete input object for process from a job object (borrowed):
 * params_fill_inputs_ex with LoadListingRequirement (or the version's
 * default: deep for v1.0, none after); secondaryFiles patterns are
 * evaluated with the process's own JavaScript setting. from_step: the job
 * comes from a workflow step, so secondary files are not looked up on disk
 * beyond those the Files carry. New reference or NULL with err. */
json_t *sched_fill_inputs(const json_t *process, const json_t *reqs, const json_t *hints,
    const json_t *job, const char *base_uri, int from_step, struct cwld_err *err);

/* Cancels the run: running containers and processes are stopped, queued
 * invocations fail with "cancelled"; callbacks still arrive. */
void sched_cancel(struct sched *s);
int sched_cancelled(const struct sched *s);

/* Accessors for the job and workflow modules. */
struct event_base *sched_base(struct sched *s);
struct store *sched_store(struct sched *s);
const struct sched_opts *sched_opts(const struct sched *s);

/* A slot-bounded tool launch: fn(arg) is called when fewer than `parallel`
 * invocations are running (possibly at once); the job calls
 * sched_slot_release when its invocation has finished. */
void sched_slot_acquire(struct sched *s, void (*fn)(void *), void *arg);
void sched_slot_release(struct sched *s);
/* Executors, created on first use. NULL with err when unavailable. */
struct docker *sched_docker(struct sched *s, struct cwld_err *err);
struct exec_local *sched_local(struct sched *s, struct cwld_err *err);

#endif

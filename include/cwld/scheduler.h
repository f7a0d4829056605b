/* The scheduler of one run: dispatches processes (tools, expression tools,
 * workflows) as their inputs become ready, bounds how many tool invocations
 * run at once, and owns the executors and the store handle of the run. It
 * reacts to events on one libevent loop; nothing sleeps or polls. */
#ifndef CWLD_SCHEDULER_H
#define CWLD_SCHEDULER_H
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>
#include "cwld/err.h"

struct store;
struct docker;
struct exec_local;
struct fetch;
struct sched;
struct sched_pool;

/* What one tool invocation holds of its pool besides its slot: what its
 * ResourceRequirement asks for; zero when it asks nothing, so that tools
 * without one are bounded by the slots alone. */
struct sched_res {
	int64_t millicores;  /* 1000: one core */
	int64_t ram_mib;
};

/* What a pool hands out. */
struct sched_budget {
	int slots;        /* tool invocations at once, all runs (>= 1) */
	double cores;     /* fractions allowed; <= 0: the machine's */
	int64_t ram_mib;  /* <= 0: the machine's */
};

struct sched_opts {
	const char *run_id;       /* unique id of the run (store key, labels) */
	const char *run_dir;      /* runs/<run>: step work dirs go below */
	int parallel;             /* max tool invocations at once (>= 1) */
	const char *default_container; /* image for tools without DockerRequirement when force_docker */
	int force_docker;
	int no_container;         /* ignore DockerRequirement (host execution) */
	int build_missing;        /* tools with SoftwareRequirement but no image run in
	                           * one built from it (dockerfile.h) */
	const char *cache_dir;    /* work reuse (cache.h) under this dir, or NULL; borrowed */
	struct sched_pool *pool;  /* budget shared with other runs (a daemon), or
	                           * NULL: the run has a pool of its own with
	                           * `parallel` slots and `budget`'s cores and
	                           * memory; borrowed, must outlive the scheduler */
	struct sched_budget budget; /* pool NULL: cores and memory of the run's own
	                           * pool (slots: parallel) */
	int daemon;               /* containers labelled for the daemon, engine
	                           * keeps their logs (exec_spec.daemon) */
	int resume;               /* the run was started before: steps that
	                           * succeeded are not run again, a step whose
	                           * container is there is taken over */
	struct fetch *fetch;      /* the run's S3 staging (fetch.h): a job's
	                           * s3:// inputs are downloaded through it
	                           * before it launches; NULL: such an input
	                           * fails its step. Borrowed, must outlive the
	                           * scheduler; a cancel stops it */
};

/* The machine's budget: online CPUs (sysconf _SC_NPROCESSORS_ONLN) and
 * physical memory in MiB (_SC_PHYS_PAGES * _SC_PAGESIZE), at least 1 each.
 * Limits of a cgroup the process runs in are not looked at. */
void sched_budget_machine(double *cores, int64_t *ram_mib);

/* A budget of slots, cores and memory shared by the schedulers of many runs
 * (a daemon's), or held by one run alone. Each run stays within its own
 * `parallel` and all together within the budget (b borrowed; cores or
 * ram_mib <= 0: the machine's). Launches go in turn, round robin between
 * runs, first come first served within a run; when the launch in turn does
 * not fit, the pool waits until it does and none behind it passes, so a big
 * request is not starved by small ones. A launch that asks more than the
 * whole budget runs when nothing else of the pool runs, holding what it
 * asks cut down to the budget. NULL when the loop cannot make an event. */
struct sched_pool *sched_pool_new(struct event_base *base, const struct sched_budget *b);
void sched_pool_free(struct sched_pool *p); /* after every scheduler using it */
int sched_pool_slots(const struct sched_pool *p);
int sched_pool_used(const struct sched_pool *p);   /* invocations running */
int sched_pool_queued(const struct sched_pool *p); /* launches waiting */
/* The budget and what running invocations hold of it. */
int64_t sched_pool_millicores(const struct sched_pool *p);
int64_t sched_pool_millicores_used(const struct sched_pool *p);
int64_t sched_pool_ram_mib(const struct sched_pool *p);
int64_t sched_pool_ram_mib_used(const struct sched_pool *p);

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
/* For a daemon that stops to be restarted: the run's started containers
 * are left running when the scheduler is freed (docker_detach). */
void sched_detach(struct sched *s);
int sched_cancelled(const struct sched *s);

/* What an observer learns about one tool invocation: a step row of the
 * store, named as there ("main", "align", "sub/inner.2" for scatter job 2
 * of step inner of subworkflow sub). Each invocation is queued once, may be
 * started once, and is finished once; a step skipped by `when` is queued
 * and finished at once with state "skipped". The event and its strings are
 * borrowed for the duration of the call. */
enum sched_step_phase {
	SCHED_STEP_QUEUED,
	SCHED_STEP_STARTED,
	SCHED_STEP_FINISHED,
	SCHED_STEP_PROGRESS,  /* started, not finished: detail changed */
};

struct sched_step_event {
	enum sched_step_phase phase;
	const char *run_id;
	const char *step;         /* store name of the step */
	long scatter_index;       /* index within its scattered step, or -1 */
	const char *state;        /* STORE_PENDING, STORE_RUNNING, then the final STORE_* */
	int64_t queued_at;        /* ms since the epoch; 0 when not (yet) known */
	int64_t started_at;
	int64_t finished_at;
	int exit_code;            /* of the tool's process, -1 when none exited */
	const char *image;        /* container image, NULL on the host */
	const char *stdout_path;  /* the tool's stdout and stderr files, NULL */
	const char *stderr_path;  /* until known (set from STARTED on for tools) */
	const char *log_dir;      /* work dir log/ of the attempt, or NULL */
	const char *msg;          /* FINISHED and not success: why, else NULL */
	const char *detail;       /* PROGRESS: what the step waits for, e.g.
	                           * "pulling debian:x 12.3/45.6 MB (2/3
	                           * layers)"; NULL: nothing any more */
};

/* Callbacks run on the loop, inside the scheduler's own callbacks: they
 * must not block nor call back into the scheduler. Any may be NULL. */
struct sched_observer {
	void (*step_queued)(void *arg, const struct sched_step_event *ev);
	void (*step_started)(void *arg, const struct sched_step_event *ev);
	void (*step_finished)(void *arg, const struct sched_step_event *ev);
	void (*step_progress)(void *arg, const struct sched_step_event *ev);
};

/* Sets the one observer of the run (ops borrowed, must outlive its use;
 * NULL removes it). Events from then on reach it. */
void sched_set_observer(struct sched *s, const struct sched_observer *ops, void *arg);
/* For job.c and workflow.c: fills ev->run_id and ev->scatter_index and
 * hands ev to the observer's callback for ev->phase. */
void sched_notify_step(struct sched *s, struct sched_step_event *ev);
/* Wall-clock time in ms since the epoch, the event timestamps' unit. */
int64_t sched_time_ms(void);

/* Step names follow workflow.c: nested steps are "outer/inner", a
 * scattered step's jobs "step.N". Scatter index of the last part of name,
 * or -1 when it is not a scatter job. A step id that itself ends in ".N"
 * reads as a scatter job: the name alone cannot tell. */
long sched_step_scatter_index(const char *name);
/* The scatter indices in name spelled out for people, to follow it: ""
 * when none, " (scatter index 2)" for "sub/inner.2", " (scatter index 1
 * of 'sub')" for "sub.1/inner". Into buf (always terminated, truncated to
 * len); returns buf. */
const char *sched_step_scatter_note(const char *name, char *buf, size_t len);

/* What a run has started and not finished (a job, a workflow's state, a
 * scatter job's slot) is registered with sched_own; its free function must
 * call sched_disown(handle). sched_free frees what is still registered, so
 * a run abandoned in flight (a daemon detaching) leaks nothing. */
struct sched_own;
struct sched_own *sched_own(struct sched *s, void *obj, void (*free_fn)(void *));
void sched_disown(struct sched *s, struct sched_own *o);

/* Accessors for the job and workflow modules. */
struct event_base *sched_base(struct sched *s);
/* The store, with a write batch open that the loop commits on its next
 * turn; sched_store_flush commits it now (before starting a process or a
 * container, and when the scheduler is freed). */
struct store *sched_store(struct sched *s);
void sched_store_flush(struct sched *s);
const struct sched_opts *sched_opts(const struct sched *s);

/* A tool launch bounded by the run's `parallel` and its pool (see
 * sched_pool_new): fn(arg) is called from the loop, never inside this
 * call, once there is a slot and room for want (copied). What it then holds
 * is written to *held just before fn is called; held is the caller's and
 * must stay valid until then or until the scheduler is freed. The job calls
 * sched_slot_release with the same held when its invocation has finished.
 * step names the launch in the warning logged when want is more than the
 * whole budget. Launches of a cancelled run go at once, holding nothing: they
 * only fail. */
void sched_slot_acquire(struct sched *s, const char *step, const struct sched_res *want,
    struct sched_res *held, void (*fn)(void *), void *arg);
/* Gives back the slot and exactly what *held says, and zeroes it. */
void sched_slot_release(struct sched *s, struct sched_res *held);
/* The pool the run's launches go through: opts.pool, or its own. */
struct sched_pool *sched_pool(struct sched *s);
/* A temporary directory for a job (runtime.tmpdir), empty: a new one under
 * run_dir/.tmp, or one an earlier job of the run gave back empty. New
 * string, or NULL with err. */
char *sched_tmp_take(struct sched *s, struct cwld_err *err);
/* Takes dir back (owned) once its job has ended: kept for another job if
 * empty, else left for the run's clean-up. */
void sched_tmp_give(struct sched *s, char *dir);
/* Executors, created on first use. NULL with err when unavailable. */
struct docker *sched_docker(struct sched *s, struct cwld_err *err);
struct exec_local *sched_local(struct sched *s, struct cwld_err *err);

#endif

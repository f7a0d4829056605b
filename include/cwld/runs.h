/* The runs a daemon executes at once on one loop: each has its own
 * scheduler, all share one budget of slots, cores and memory (sched_pool); runs
 * are submitted, cancelled, finished into the store and reported to one
 * observer (the HTTP server's events, metrics and the Airflow mirror). */
#ifndef CWLD_RUNS_H
#define CWLD_RUNS_H
#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/s3.h"
#include "cwld/scheduler.h"

struct store;
struct runs;

struct runs_opts {
	const char *state_dir;   /* documents/<run>, outputs/<run>, runs/<run> */
	const char *work_dir;    /* step directories (<work_dir>/<run>), or NULL
	                          * for STATE/runs */
	int slots;               /* tool invocations at once, all runs */
	double cores;            /* cores they reserve, all runs; <= 0: the machine's */
	int64_t ram_mib;         /* memory they reserve (MiB); <= 0: the machine's */
	int default_parallel;    /* a run's own cap when it gives none */
	const char *cache_dir;   /* work reuse, or NULL */
	struct s3_config s3;     /* for s3:// inputs and output locations; its
	                          * strings must outlive the runs */
};

/* One submission. Exactly one of workflow_path (a path or file URI the
 * caller has confined) and workflow_text; at most one of inputs (the job
 * object) and inputs_text (YAML or JSON). Relative locations in the job
 * resolve against base_dir. check_path (may be NULL) is asked about every
 * File and Directory path of the filled inputs (s3:// locations are not
 * paths: they are fetched into the run's directory before it starts);
 * non-zero refuses the run with its err. All borrowed for the call. */
struct runs_request {
	const char *workflow_path;
	const char *workflow_text;
	const json_t *inputs;
	const char *inputs_text;
	const char *base_dir;
	const json_t *labels;    /* object of strings, or NULL */
	int parallel;            /* 0: opts.default_parallel */
	int no_container;
	int force_docker;
	const char *default_container;
	const char *output_location; /* "s3://bucket/prefix", or NULL: the
	                          * outputs go there before the run succeeds */
	int (*check_path)(void *arg, const char *path, struct cwld_err *err);
	void *check_arg;
};

/* What an observer hears: a run changed state (error NULL unless failed
 * or cancelled), and every step event of every run (see scheduler.h).
 * Called on the loop; must not block nor call back into runs. */
struct runs_observer {
	void (*run_changed)(void *arg, const char *run_id, const char *state,
	    const char *error);
	void (*step_event)(void *arg, const struct sched_step_event *ev);
};

/* base and st borrowed, must outlive it. NULL with err. */
struct runs *runs_new(struct event_base *base, struct store *st,
    const struct runs_opts *opts, struct cwld_err *err);
/* Cancels what still runs (containers stopped and removed) and frees;
 * the loop must still be usable. NULL does nothing. */
void runs_free(struct runs *r);
/* Observers (the HTTP server, the Airflow mirror), each told every event
 * in the order added; obs borrowed. -1 when RUNS_MAX_OBSERVERS are there. */
#define RUNS_MAX_OBSERVERS 4
int runs_add_observer(struct runs *r, const struct runs_observer *obs, void *arg);
void runs_remove_observer(struct runs *r, const struct runs_observer *obs, void *arg);

/* Validates the document and inputs, records the run (state running, owner
 * "serve") and starts it. The new run's id in *id_out (new string). 0, or
 * -1 with err: CWLD_EXIT_USAGE for a bad document or inputs (the message
 * names file:line:column), CWLD_EXIT_UNSUPPORTED, CWLD_EXIT_FAILED for the
 * daemon's own trouble. */
int runs_submit(struct runs *r, const struct runs_request *req, char **id_out,
    struct cwld_err *err);
/* Cancels an active run: its containers and processes are stopped and
 * removed, queued steps dropped, the run ends "cancelled". 0; -1 with err
 * code CWLD_EXIT_USAGE and *finished set when the run exists but has ended,
 * not set when there is no such run. */
int runs_cancel(struct runs *r, const char *run_id, int *finished, struct cwld_err *err);
/* At start, before the loop runs (it blocks on the Docker engine): the
 * runs a previous daemon of this store left pending or running are
 * started again. Steps that succeeded are not run again; a step whose
 * container still exists (running or ended while no daemon was there) is
 * taken over; the previous daemon's other containers are removed; a step
 * cut off in a host process runs again as a new attempt. A run that cannot
 * be resumed (its document gone) is marked failed with the reason. Returns
 * how many were resumed, -1 with err. */
int runs_recover(struct runs *r, struct cwld_err *err);
/* For a daemon that stops to be restarted (SIGINT/SIGTERM): runs_free then
 * leaves unfinished runs as they are in the store and their started
 * containers running, for the next daemon; host processes are stopped. */
void runs_detach(struct runs *r);
/* Active runs (submitted, not finished). */
int runs_active(const struct runs *r);
const struct sched_pool *runs_pool(const struct runs *r);
/* Where a finished run's outputs are (STATE/outputs/<run>); new string. */
char *runs_outdir(const struct runs *r, const char *run_id);

#endif

/* The Airflow mirror of `cwld serve` (issue 5): every run the daemon
 * executes is shown in Apache Airflow as a run of a paused DAG written from
 * its workflow (dag_emit.h), with each task instance set as the cwld steps
 * behind it finish and the run's end state set last. Every REST call goes
 * through a durable outbox in the store (migrations/0003_airflow_outbox.sql)
 * and is retried with backoff, so runs never wait for Airflow and a mirror
 * left behind by a stopped daemon is finished by the next one. */
#ifndef CWLD_MIRROR_H
#define CWLD_MIRROR_H
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/runs.h"
#include "cwld/scheduler.h"

struct store;
struct mirror;

struct mirror_opts {
	const char *airflow_url;  /* e.g. http://127.0.0.1:8080 */
	const char *user;         /* Airflow user and password (may be NULL) */
	const char *password;
	const char *dags_folder;  /* Airflow's DAG folder: the DAG files go there */
	const char *daemon_url;   /* the daemon as Airflow's users reach it, for
	                           * the log links in notes; NULL: none */
	long timeout_ms;          /* per REST request; 0: 30 s */
};

/* A mirror on base, its outbox in st (both borrowed, must outlive it);
 * opts copied. It starts on the loop's next turn: says which Airflow
 * answers, finishes the mirrors a previous daemon left open (from the
 * store's steps) and sends what the outbox holds. It hears about runs once
 * added as an observer: runs_add_observer(runs, mirror_observer(), m) (and
 * runs_remove_observer before mirror_free). NULL with err (the DAG folder
 * cannot be made, a bad URL). */
struct mirror *mirror_new(struct event_base *base, struct store *st,
    const struct mirror_opts *opts, struct cwld_err *err);
/* Stops sending (requests in flight are dropped; their rows stay for the
 * next daemon). NULL does nothing. */
void mirror_free(struct mirror *m);
/* The runs observer the mirror's arg goes with. */
const struct runs_observer *mirror_observer(void);

/* ---- the parts that need no loop, exposed for tests ------------------- */

/* How a DAG task's invocations arrive, which says when it is complete. */
enum mirror_kind {
	MIRROR_ONE,      /* a tool step: one invocation */
	MIRROR_SCATTER,  /* a scattered tool step: all invocations are queued
	                  * in one turn of the loop */
	MIRROR_NESTED,   /* a subworkflow or a loop: invocations keep coming;
	                  * complete when a task below it starts, or at the end */
};

struct mirror_task {
	char *id;        /* the Airflow task id, as dag_emit writes it */
	char *step;      /* the workflow step's id; NULL when the process is a
	                  * tool (its one invocation is "main") */
	enum mirror_kind kind;
	int scattered;   /* its invocations are named "step.N" */
	size_t *up;      /* tasks it depends on (indexes), nup of them */
	size_t nup;
};

struct mirror_graph {
	struct mirror_task *tasks;
	size_t n;
};

/* The tasks of the DAG dag_emit writes for process (normalised, borrowed)
 * given cwl_path (as passed to dag_emit: names a tool's one task). NULL
 * with err (a malformed process). */
struct mirror_graph *mirror_graph_new(const json_t *process, const char *cwl_path,
    struct cwld_err *err);
void mirror_graph_free(struct mirror_graph *g);
/* To and from JSON (kept in the outbox for a later daemon): new reference;
 * NULL with err when j is not such a graph. */
json_t *mirror_graph_json(const struct mirror_graph *g);
struct mirror_graph *mirror_graph_from_json(const json_t *j, struct cwld_err *err);
/* The task of a step event's name: "align" or "align.3" (scatter job),
 * "sub/inner" and "sub.1/inner" (nested), "loop/iter2" belong to the
 * top-level step; the suffix .N is taken off only for a scattered step.
 * -1 when none. */
long mirror_graph_task(const struct mirror_graph *g, const char *step_name);
/* The tasks in an order where every task comes after those it depends on;
 * new array of g->n indexes. */
size_t *mirror_graph_order(const struct mirror_graph *g);
/* A hash of the task ids and edges, in 8 hex digits (buf of 9): two
 * workflows with the same shape share a DAG. */
void mirror_graph_shape(const struct mirror_graph *g, char *buf);

/* A task's invocations so far. */
struct mirror_counts {
	int queued, finished, success, failed, skipped, cancelled;
};
/* Its Airflow state once they have finished: "failed" if any failed or was
 * cancelled, "skipped" if all were skipped, else "success"; NULL when none
 * finished. */
const char *mirror_task_state(const struct mirror_counts *c);
/* The wait after the attempts-th failed attempt: 0.5 s doubling, at most
 * 30 s. */
int64_t mirror_backoff_ms(int attempts);
/* ms since the epoch as "2024-05-01T12:00:00.123Z" into buf (of 32). */
void mirror_iso(int64_t ms, char *buf);

/* One run's tasks as its step events arrive: decides when each task is
 * complete and hands its state and note to emit, every task after those
 * it depends on. */
struct mirror_track;
typedef void (*mirror_emit_fn)(void *arg, size_t task, const char *state, const char *note);
/* g borrowed (must outlive it); run_id and daemon_url (may be NULL) copied. */
struct mirror_track *mirror_track_new(const struct mirror_graph *g, const char *run_id,
    const char *daemon_url);
void mirror_track_free(struct mirror_track *t);
/* A step event of the run. 1 when mirror_track_check is due from a later
 * turn of the loop (a scattered step's invocations have all finished so
 * far: complete unless more are queued in this turn), else 0. */
int mirror_track_event(struct mirror_track *t, const struct sched_step_event *ev,
    mirror_emit_fn emit, void *arg);
void mirror_track_check(struct mirror_track *t, mirror_emit_fn emit, void *arg);
/* The run ended in run_state: every task not complete yet is, with what it
 * has; a task without invocations is set "success" in a successful run
 * (an empty scatter) and left alone otherwise. */
void mirror_track_finish(struct mirror_track *t, const char *run_state,
    mirror_emit_fn emit, void *arg);
/* For a mirror rebuilt after a restart: the task was set already. */
void mirror_track_set(struct mirror_track *t, size_t task, const char *state);
/* The state the task was set to, NULL when not (yet). */
const char *mirror_track_state(const struct mirror_track *t, size_t task);
/* The note of the DAG run at its end; new string. */
char *mirror_track_run_note(const struct mirror_track *t, const char *run_state,
    const char *error, int64_t started_ms, int64_t finished_ms);

#endif

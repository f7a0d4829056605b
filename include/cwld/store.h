/* The run store: one SQLite file (WAL) holding runs, steps, attempts and the
 * provenance of output files. Each transition is committed before the engine
 * acts on it. */
#ifndef CWLD_STORE_H
#define CWLD_STORE_H
#include <stdint.h>
#include <jansson.h>
#include "cwld/err.h"

/* States, as stored (TEXT): */
#define STORE_PENDING "pending"
#define STORE_RUNNING "running"
#define STORE_SUCCESS "success"
#define STORE_FAILED "failed"
#define STORE_SKIPPED "skipped"
#define STORE_CANCELLED "cancelled"

struct store;

/* Opens (creating) the database file, sets WAL, a 5 s busy timeout,
 * foreign keys and synchronous=NORMAL, applies migrations, prepares its
 * statements. Every call below is one short statement (or one read
 * snapshot), autocommit unless a batch is open; errors name what was being
 * done and sqlite3_errmsg.
 * Times are stored as ISO-8601 UTC text with milliseconds (see
 * migrations/0001_init.sql). NULL with err. */
struct store *store_open(const char *path, struct cwld_err *err);
void store_close(struct store *st); /* commits an open batch; NULL does nothing */

/* Group commit. store_batch_begin opens one transaction that the writes
 * after it join (nothing if one is open); store_batch_commit commits it
 * (nothing if none is open). The engine commits before every effect outside
 * the process (a container, a host process), so what the store says
 * happened still precedes what did; a crash loses at most writes no one
 * acted on. On ext4 a commit per write cost a 50-way host scatter more than
 * running it. */
int store_batch_begin(struct store *st, struct cwld_err *err);
int store_batch_commit(struct store *st, struct cwld_err *err);

/* A new run id: 8 hex digits of the time (ids sort by creation) and 12
 * random ones. New string. */
char *store_new_run_id(void);

/* Creates a run in state pending. run_id is the caller's unique text id;
 * process is the document URI; inputs borrowed (stored as JSON text). */
int store_run_create(struct store *st, const char *run_id, const char *process,
    const json_t *inputs, struct cwld_err *err);
/* Sets state (and started/finished times as the state implies: running
 * sets started_at once and clears finished_at, a final state sets
 * finished_at; running also records getpid() as the runner's pid); outputs
 * (borrowed, may be NULL: keeps what was stored) stored as JSON text. An
 * unknown run or a state outside the list above is an error. */
int store_run_set_state(struct store *st, const char *run_id, const char *state,
    const json_t *outputs, struct cwld_err *err);

/* Creates a step of a run (name is the step's path, e.g. "align" or
 * "sub/inner" or "scatter/align.3"), state pending; returns its rowid or -1. */
int64_t store_step_create(struct store *st, const char *run_id, const char *name,
    struct cwld_err *err);
int store_step_set_state(struct store *st, int64_t step, const char *state,
    const json_t *outputs, struct cwld_err *err);

/* Attempts: created running-to-be, then started (container id may be NULL
 * for host execution), then finished with exit code (-1 unknown). */
int64_t store_attempt_create(struct store *st, int64_t step, int number,
    const char *workdir, struct cwld_err *err);
int store_attempt_started(struct store *st, int64_t attempt, const char *container_id,
    const char *image, const json_t *command, struct cwld_err *err);
/* Records the container an attempt runs in (known once it is created). */
int store_attempt_set_container(struct store *st, int64_t attempt, const char *container_id,
    struct cwld_err *err);
/* Records the host process of an attempt run without a container: its pid
 * and identity (proc_ident), so a restarted daemon can stop it. */
int store_attempt_set_pid(struct store *st, int64_t attempt, long pid, const char *ident,
    struct cwld_err *err);
int store_attempt_finished(struct store *st, int64_t attempt, const char *state,
    int exit_code, const char *message, struct cwld_err *err);

/* Provenance of one output file: location, checksum, size, the attempt that
 * produced it, the image (may be NULL) and what it was derived from
 * (borrowed JSON array of input locations/checksums). */
int store_output_file_add(struct store *st, int64_t attempt, const char *location,
    const char *checksum, int64_t size, const char *image, const json_t *derived_from,
    struct cwld_err *err);

/* Records why a run failed (text for people; NULL clears it). */
int store_run_set_error(struct store *st, const char *run_id, const char *message,
    struct cwld_err *err);

/* Reading back (one read transaction each). store_run_get returns a new
 * object { "id", "process", "inputs", "outputs", "state", "created_at",
 * "started_at", "finished_at", "pid", "error", "steps": [ { "id", "name",
 * "state", "outputs", times, "attempts": [ { "id", "number", "state",
 * "workdir", "container_id", "image", "command", "exit_code", "message",
 * times, "output_files": [ { "location", "checksum", "size", "image",
 * "derived_from", "created_at" } ] } ] } ] }; JSON columns come back as JSON,
 * NULL columns as null. An unknown run is NULL with code CWLD_EXIT_USAGE.
 * store_runs_list returns a new array of run objects (without "steps"),
 * oldest first, only those in state when state is not NULL. */
json_t *store_run_get(struct store *st, const char *run_id, struct cwld_err *err);
json_t *store_runs_list(struct store *st, const char *state, struct cwld_err *err);

/* The daemon's columns of a run (migrations/0002_daemon.sql): labels
 * (object of strings), options it was submitted with (object), owner
 * ("run" or "serve"); NULL keeps what is stored. Returned by store_run_get
 * and the lists as "labels", "options", "owner". */
int store_run_set_meta(struct store *st, const char *run_id, const json_t *labels,
    const json_t *options, const char *owner, struct cwld_err *err);
/* {"pending": n, "running": n, ...}: every state, 0 when none. New object. */
json_t *store_run_counts(struct store *st, struct cwld_err *err);
/* The latest step row of a run with that name: its id (0 when none, -1 with
 * err) and, when found is not NULL, a new object {"id", "state", "outputs"}. */
int64_t store_step_find(struct store *st, const char *run_id, const char *name,
    json_t **found, struct cwld_err *err);

/* The attempt of a step with the highest number (a new object with the
 * columns of store_run_get's attempts), json null when none, NULL with err. */
json_t *store_attempt_latest(struct store *st, int64_t step, struct cwld_err *err);

/* One page of runs, newest first, without steps. states: NULL-terminated
 * (NULL or empty: all); labels: object of strings that must all match (may
 * be NULL); limit 0 means 100; page_token from the previous page or NULL.
 * New object {"runs": [...], "next_page_token": "..." (absent on the last
 * page)}, or NULL with err (CWLD_EXIT_USAGE for a bad token). */
struct store_runs_filter {
	const char *const *states;
	const json_t *labels;
	size_t limit;
	const char *page_token;
};
json_t *store_runs_page(struct store *st, const struct store_runs_filter *f,
    struct cwld_err *err);

/* The Airflow mirror's outbox (migrations/0003_airflow_outbox.sql): calls
 * to make, sent one at a time per run in id order. op is one of the ops
 * listed there; body (borrowed) the call's arguments. The row's id, or -1
 * with err. */
int64_t store_outbox_add(struct store *st, const char *run_id, const char *op,
    const json_t *body, struct cwld_err *err);
/* The oldest row left of each run that has rows left, oldest first: a new
 * array of {"id", "run_id", "op", "body", "attempts", "due_ms"}, due_ms the
 * ms until its next_at (<= 0: due now). NULL with err. */
json_t *store_outbox_next(struct store *st, struct cwld_err *err);
/* The row is done: outcome "sent" (Airflow took it) or "refused" (for good;
 * error, may be NULL, says why). */
int store_outbox_done(struct store *st, int64_t id, const char *outcome,
    const char *error, struct cwld_err *err);
/* An attempt failed (error, why): attempts + 1, the row waits delay_ms. */
int store_outbox_retry(struct store *st, int64_t id, int64_t delay_ms,
    const char *error, struct cwld_err *err);
/* Every row of a run, in id order, with "next_at", "last_error", "outcome",
 * "created_at", "done_at" too; new array, NULL with err. */
json_t *store_outbox_of_run(struct store *st, const char *run_id, struct cwld_err *err);
/* Runs with a 'create_run' row and no 'run' row (their mirror was not
 * finished): new array of id strings, NULL with err. */
json_t *store_outbox_open_runs(struct store *st, struct cwld_err *err);
/* Deletes the rows of runs whose mirroring ended (the run's final 'run'
 * call is there and nothing waits) more than older_than_s seconds ago, so
 * the outbox of a long-lived daemon does not grow without end. The number
 * of rows deleted, or -1 with err. */
int64_t store_outbox_prune(struct store *st, int64_t older_than_s, struct cwld_err *err);

#endif

/* Remote inputs of a run: every File and Directory whose location is
 * s3:// is downloaded once into the run's input area, when the step that
 * needs it is about to run, and its location rewritten to the local copy.
 * At the start of a run only what the start needs is read: each File's
 * size (HEAD), and the content of what the run's own inputs load
 * (loadContents, listings). */
#ifndef CWLD_FETCH_H
#define CWLD_FETCH_H
#include <jansson.h>
#include <event2/event.h>
#include "cwld/err.h"
#include "cwld/s3.h"

/* A run's copies of S3 objects and the transfers making them. */
struct fetch;
/* One wait for some of them: fetch_inputs() or fetch_value(). */
struct fetch_op;

/* Called once from the loop: error NULL when every location the wait was
 * for is in (and the value rewritten). The op is freed after it returns;
 * it must not call fetch_free(). */
typedef void (*fetch_cb)(void *arg, const char *error);

/* A run's staging into dir (created when the first copy is made) with the
 * S3 settings cfg (borrowed: must outlive f). No transfer or client
 * before one is needed. */
struct fetch *fetch_new(struct event_base *base, const char *dir,
    const struct s3_config *cfg);
/* Stops every transfer (temporary files removed) and frees the waits
 * without calling them back. fetch_free(NULL) does nothing. */
void fetch_free(struct fetch *f);
/* Ends every wait in flight and every later one with the error why (a
 * cancelled run): their callbacks come from the loop. */
void fetch_stop(struct fetch *f, const char *why);
/* Objects downloaded and bytes written so far, over all waits. */
void fetch_stats(const struct fetch *f, long *objects, long long *bytes);
/* Logs "run RUN_ID: fetched N objects (B bytes) from S3" when any was
 * (at the end of a run). fetch_log_total(NULL, ...) does nothing. */
void fetch_log_total(const struct fetch *f, const char *run_id);

/* Number of File/Directory objects with an s3:// location in the job's
 * values, in the defaults of the inputs the job does not give, and in the
 * defaults inside a workflow's steps: their "in" entries' and those of the
 * inputs of the processes they run, through subworkflows (a process that
 * several steps share counted once). process: the normalised process,
 * borrowed. */
int fetch_count(const json_t *process, const json_t *job);
/* Whether value holds a File or Directory with an s3:// location
 * (secondaryFiles and listings included). */
int fetch_has_remote(json_t *value);

/* The start of a run: for every s3:// location that fetch_count counts,
 *  - a File is looked at (HEAD): it must exist, and gets its "size",
 *    "basename", "nameroot" and "nameext" while its location stays s3://
 *    until a step needs it (fetch_value);
 *  - what the process's own inputs load at once is downloaded now and its
 *    location rewritten to "file://..." of the copy: a File of an input
 *    (or record field) with loadContents, a Directory whose input gets a
 *    listing (loadListing, LoadListingRequirement, or v1.0's deep
 *    default); and everything, as before any step, when a step's "in"
 *    entry anywhere in the workflow has loadContents (its value is read
 *    where no copy is made).
 * An input (or record field, in arrays and records) that declares
 * secondaryFiles has each plain pattern not already among an s3:// File's
 * "secondaryFiles" applied to its key: when the primary is downloaded now
 * the object is downloaded beside the copy (params finds it there),
 * otherwise looked at and added to the File's "secondaryFiles" as an
 * s3:// File. A missing required one fails with S3's message, a missing
 * optional one ("required": false or "pattern?", or an expression params
 * evaluates later) is skipped, and an expression pattern is refused
 * (CWLD_EXIT_UNSUPPORTED) unless the File lists its secondaryFiles.
 * process and job (borrowed, changed in place when cb says done; doing it
 * twice to one object is harmless) must outlive the wait. NULL with err
 * when nothing could start (bad location, pattern, settings). */
struct fetch_op *fetch_inputs(struct fetch *f, json_t *process, json_t *job,
    fetch_cb cb, void *arg, struct cwld_err *err);
/* Downloads every s3:// File and Directory in value (secondaryFiles and
 * listings included) that the run has no copy of yet (a copy is shared by
 * every wait for the same location and basename), then rewrites each to
 * "file://..." of its copy, completed (path, size, name parts; a
 * Directory without listing), and calls cb. value (borrowed) must outlive
 * the wait. At most eight transfers run at a time over the run. NULL with
 * err when nothing could start. */
struct fetch_op *fetch_value(struct fetch *f, json_t *value, fetch_cb cb,
    void *arg, struct cwld_err *err);
/* Forgets a wait whose callback has not run: it is never called; the
 * transfers go on for the others. fetch_op_cancel(NULL) does nothing. */
void fetch_op_cancel(struct fetch_op *op);

#endif

/* Remote inputs of a run: every File and Directory whose location is
 * s3:// is downloaded once into the run's input area, and its location
 * rewritten to the local copy, before the run's inputs are completed and
 * its steps start. */
#ifndef CWLD_FETCH_H
#define CWLD_FETCH_H
#include <jansson.h>
#include <event2/event.h>
#include "cwld/err.h"
#include "cwld/s3.h"

struct fetch;

/* Called once from the loop: error NULL when every location was fetched
 * and rewritten. Must not call fetch_free(). */
typedef void (*fetch_cb)(void *arg, const char *error);

/* Number of File/Directory objects with an s3:// location in the job's
 * values, in the defaults of the inputs the job does not give, and in the
 * defaults inside a workflow's steps: their "in" entries' and those of the
 * inputs of the processes they run, through subworkflows (a process that
 * several steps share counted once). process: the normalised process,
 * borrowed. */
int fetch_count(const json_t *process, const json_t *job);

/* Starts downloading, on base, every s3:// location of job (and of the
 * defaults above) into dir (created): a File to dir/N/BASENAME, a
 * Directory "s3://b/prefix/" (listed page by page) to dir/N/BASENAME/...,
 * each distinct location once, at most eight transfers at a time. For an
 * input of the process itself that declares secondaryFiles, each plain
 * pattern not already among an s3:// File's "secondaryFiles" is applied to
 * its key and that object fetched into the File's dir/N too, under the
 * name the pattern gives its basename (params then finds it there): a
 * missing required one fails with S3's message, a missing optional one
 * ("required": false or "pattern?", or an expression params evaluates
 * later) is skipped, and an expression pattern is refused
 * (CWLD_EXIT_UNSUPPORTED) unless the File lists its secondaryFiles. The
 * same for the secondaryFiles of record fields, in arrays and records of
 * those inputs' values: the ones params finds next to a local file. When
 * all are in, those objects (in job and process, both borrowed and
 * changed in place; doing it twice to one object is harmless) get
 * "location": "file://..." of their copy, and cb is called.
 * A failure stops the others and reaches cb with the first error; what was
 * complete stays in dir. cfg: the S3 settings (borrowed for the call).
 * NULL with err when nothing could start (bad location, settings). */
struct fetch *fetch_start(struct event_base *base, json_t *process,
    json_t *job, const char *dir, const struct s3_config *cfg, fetch_cb cb,
    void *arg, struct cwld_err *err);
/* Stops transfers in flight (their temporary files are removed); cb is not
 * called afterwards. fetch_free(NULL) does nothing. */
void fetch_free(struct fetch *f);
/* Objects fetched and bytes written so far. */
void fetch_stats(const struct fetch *f, long *objects, long long *bytes);

#endif

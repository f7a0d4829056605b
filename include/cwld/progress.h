/* The live progress of one run as a few lines of text: step counts, the
 * steps running (longest first, with elapsed time and image) and the
 * failed ones, built from the scheduler's step events. Pure: no I/O and no
 * clock; the terminal driver (src/cli/progress_tty.c) draws the lines. */
#ifndef CWLD_PROGRESS_H
#define CWLD_PROGRESS_H
#include <stddef.h>
#include <stdint.h>
#include "cwld/scheduler.h"

struct progress;

struct progress_counts {
	size_t total;     /* step invocations known so far (queued ever) */
	size_t pending;   /* queued, not started */
	size_t running;
	size_t succeeded;
	size_t skipped;   /* `when` was false */
	size_t failed;
	size_t cancelled;
};

/* Failed steps listed one per line; more are only counted. */
#define PROGRESS_FAILED_SHOWN 3

struct progress *progress_new(void);
void progress_free(struct progress *p);

/* Takes in one event (borrowed); now_ms is the caller's monotonic clock
 * when it arrived, the base of elapsed times. An event for a step not seen
 * queued counts it from then on. A PROGRESS event's detail replaces the
 * image on a running step's line until a NULL detail or its end; for a
 * step not running it is ignored. */
void progress_step_event(struct progress *p, const struct sched_step_event *ev, int64_t now_ms);
void progress_get_counts(const struct progress *p, struct progress_counts *c);

/* Elapsed time for people: "0.4s", "59.9s", "4m05s", "2h03m". Into buf
 * (always terminated); returns buf. */
const char *progress_fmt_elapsed(int64_t ms, char *buf, size_t len);

/* The status block at now_ms (same clock as the events; start_ms the
 * run's start): a header with counts and elapsed time, the failed steps
 * (at most PROGRESS_FAILED_SHOWN), then the running ones longest first,
 * and a line counting those left out. At most max_lines lines (at least
 * the header), each cut to width visible columns; color adds ANSI SGR
 * codes around state words. A new string of lines each ending in "\n";
 * *nlines gets their number. */
char *progress_render(const struct progress *p, int64_t start_ms, int64_t now_ms,
    size_t width, size_t max_lines, int color, size_t *nlines);

/* One line for the end of the run, without newline: "done 3/3 in 2.6s",
 * "done 2/4, 1 failed, 1 cancelled in 1m02s". New string. */
char *progress_summary(const struct progress *p, int64_t elapsed_ms);

#endif

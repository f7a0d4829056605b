/* The live status block of `cwld run` on a terminal: a few lines at the
 * bottom of stderr, redrawn from a libevent timer and around log lines,
 * erased before anything else is printed. */
#ifndef CWLD_PROGRESS_TTY_H
#define CWLD_PROGRESS_TTY_H
#include <event2/event.h>

struct sched;
struct progress_tty;

enum progress_tty_mode {
	PROGRESS_TTY_AUTO,   /* on when fd is a terminal, TERM is not dumb, not quiet */
	PROGRESS_TTY_ALWAYS, /* on, whatever fd is (ANSI codes are written) */
	PROGRESS_TTY_NEVER,
};

/* "auto", "always" or "never"; -1 for anything else. */
int progress_tty_mode_parse(const char *s);

/* Whether the block is to be drawn on fd in mode; quiet: -q was given. */
int progress_tty_wanted(enum progress_tty_mode mode, int quiet, int fd);

/* Starts drawing on fd: becomes s's observer (sched_set_observer) and the
 * log hook (log_set_hook) and arms a timer on base. Colors unless NO_COLOR
 * is set. base and s are borrowed and must outlive progress_tty_finish.
 * NULL (with a warning) when the timer cannot be made: the run goes on
 * without a display. */
struct progress_tty *progress_tty_start(struct event_base *base, struct sched *s, int fd);

/* Erases the block and leaves one summary line ("cwld: done 3/3 in 2.6s"),
 * then detaches from the scheduler and the log and frees t. Call it before
 * printing the run's result. NULL does nothing. */
void progress_tty_finish(struct progress_tty *t);

#endif

/* Logging to stderr. Levels: -q quiet(0), default info(1), -v debug(2+). */
#ifndef CWLD_LOG_H
#define CWLD_LOG_H

void log_set_level(int level);
int log_get_level(void);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Calls before(arg) just before each line is written to stderr and
 * after(arg) just after, so a live status block on the same terminal
 * (src/cli/progress_tty.c) can erase itself and come back below the line.
 * Either may be NULL; log_set_hook(NULL, NULL, NULL) removes the hook. */
void log_set_hook(void (*before)(void *), void (*after)(void *), void *arg);

#endif

/* Errors that carry their message without allocating, and the exit codes the
 * CLI and cwltest rely on. */
#ifndef CWLD_ERR_H
#define CWLD_ERR_H

enum {
	CWLD_EXIT_OK = 0,
	CWLD_EXIT_FAILED = 1,       /* the workflow ran and failed */
	CWLD_EXIT_USAGE = 2,        /* bad usage, invalid document or inputs */
	CWLD_EXIT_UNREACHABLE = 3,  /* daemon or Docker unreachable */
	CWLD_EXIT_UNSUPPORTED = 33, /* unsupported CWL feature (cwltest) */
};

struct cwld_err {
	int code;      /* one of CWLD_EXIT_*; 0 when no error was set */
	char msg[1024];
};

/* Sets code and a printf-style message; err may be NULL. Always returns -1 so
 * callers can write `return err_set(err, ...)`. */
int err_set(struct cwld_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: " (printf-style). */
void err_prefix(struct cwld_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif

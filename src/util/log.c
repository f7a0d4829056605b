/* Logging to stderr with a "cwld: " prefix and three levels (quiet, info,
 * debug). Where the daemon's stderr goes (journal, file) is left to others. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/log.h"

static int log_level = 1;
static void (*log_hook_before)(void *);
static void (*log_hook_after)(void *);
static void *log_hook_arg;

static void log_vwrite(const char *fmt, va_list ap, const char *errstr)
    __attribute__((format(printf, 1, 0)));

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

static void
log_vwrite(const char *fmt, va_list ap, const char *errstr)
{
	char buf[4096];

	vsnprintf(buf, sizeof buf, fmt, ap);
	if (log_hook_before)
		log_hook_before(log_hook_arg);
	if (errstr != NULL)
		fprintf(stderr, "cwld: %s: %s\n", buf, errstr);
	else
		fprintf(stderr, "cwld: %s\n", buf);
	fflush(stderr);
	if (log_hook_after)
		log_hook_after(log_hook_arg);
}

void
log_set_hook(void (*before)(void *), void (*after)(void *), void *arg)
{
	log_hook_before = before;
	log_hook_after = after;
	log_hook_arg = arg;
}

void
log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

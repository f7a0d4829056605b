/* Error values that carry their message in a fixed buffer, so reporting an
 * error never allocates. Mapping codes to exit statuses is left to the CLI. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cwld/err.h"

int
err_set(struct cwld_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void
err_prefix(struct cwld_err *err, const char *fmt, ...)
{
	char buf[sizeof err->msg];
	size_t plen, mlen;
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	plen = strnlen(buf, sizeof buf - 1);
	if (plen + 2 < sizeof buf) {
		memcpy(buf + plen, ": ", 2);
		plen += 2;
	}
	mlen = strnlen(err->msg, sizeof err->msg - 1);
	if (mlen > sizeof buf - 1 - plen)
		mlen = sizeof buf - 1 - plen;
	memcpy(buf + plen, err->msg, mlen);
	buf[plen + mlen] = '\0';
	memcpy(err->msg, buf, sizeof err->msg);
}

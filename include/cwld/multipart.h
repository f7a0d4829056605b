/* A reader for multipart/form-data request bodies (RFC 7578), the encoding of
 * GA4GH WES POST /runs: form fields and workflow_attachment files. */
#ifndef CWLD_MULTIPART_H
#define CWLD_MULTIPART_H
#include <stddef.h>

#include "cwld/err.h"

/* Caps on what a body may hold, beyond its length (which the caller caps). */
#define MULTIPART_MAX_PARTS 1000
#define MULTIPART_MAX_HEADER_LINE 8192 /* bytes, without the CRLF */
#define MULTIPART_MAX_HEADERS 32       /* header lines in one part */

struct multipart_part {
	char *name;         /* the Content-Disposition name; never NULL or "" */
	char *filename;     /* as sent, or NULL when the part has none */
	char *content_type; /* the part's Content-Type value, or NULL */
	char *data;         /* a copy of the content, len bytes plus a NUL */
	size_t len;
};

/* Splits body (len bytes, need not be NUL-terminated, may hold any bytes)
 * into its parts, using the boundary parameter of content_type (the request's
 * Content-Type, which must be multipart/form-data). Parts are returned in
 * body order in *parts (a new array, *n entries, free with multipart_free);
 * they own copies of everything, so body may be freed afterwards. Lines must
 * end in CRLF; a preamble, an epilogue and padding after a boundary are
 * skipped. Header names are matched without regard to case; quoted parameter
 * values lose their quotes and backslash escapes, but percent-escapes (which
 * browsers and urllib3 use for '"' in file names) are left as sent: a
 * filename is a client's string, to be checked before it names a file.
 * Returns 0, or -1 with *parts NULL, *n 0 and err (CWLD_EXIT_USAGE) saying
 * what is wrong and in which part. */
int multipart_parse(const char *content_type, const char *body, size_t len,
    struct multipart_part **parts, size_t *n, struct cwld_err *err);
/* Frees n parts and the array; multipart_free(NULL, 0) does nothing. */
void multipart_free(struct multipart_part *parts, size_t n);
/* The first part named name, or NULL. Borrowed from parts. */
const struct multipart_part *multipart_find(const struct multipart_part *parts,
    size_t n, const char *name);

#endif

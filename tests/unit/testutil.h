/* Small helpers several unit tests share: files in a test directory, JSON
 * from test text, a file's contents. Include after <cmocka.h>; each
 * failure ends the test with a message saying what was wrong. */
#ifndef CWLD_TESTUTIL_H
#define CWLD_TESTUTIL_H
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cwld/fs.h"
#include "cwld/xmalloc.h"

/* Writes content to dir/name. */
static inline void
tu_write(const char *dir, const char *name, const char *content)
{
	char *p = fs_join(dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(p);
}

/* Makes the directory dir/name, which must not exist yet. */
static inline void
tu_mkdir(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

/* Parses test JSON (any value). New reference. */
static inline json_t *
tu_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (j == NULL)
		fail_msg("bad test json: %s: %s", text, jerr.text);
	return j;
}

/* The string member key of o, which must be there. Borrowed. */
static inline const char *
tu_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL)
		fail_msg("missing string '%s'", key);
	return s;
}

/* The first 64 KiB of a file, NUL-terminated. New string. */
static inline char *
tu_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = xcalloc(1, 65536);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#endif

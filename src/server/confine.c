/* Confinement of client-supplied paths to configured roots: a path (or local
 * file:// URI) is canonicalised with realpath(3), so "..", symlinks and
 * percent-escapes are all undone before it is compared, component-wise, with
 * the roots. Opening the file, and any race after the check, is left to the
 * caller. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cwld/confine.h"
#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

struct confine {
	char **roots; /* realpaths; roots[0] is the base for relative paths */
	size_t n;
};

static int confine_contains(const struct confine *c, const char *real);
static char *confine_nearest(const char *path);
static int confine_check_uri(const char *uri, struct cwld_err *err);

struct confine *
confine_new(void)
{
	return xcalloc(1, sizeof(struct confine));
}

void
confine_free(struct confine *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->roots[i]);
	free(c->roots);
	free(c);
}

int
confine_add_root(struct confine *c, const char *dir, struct cwld_err *err)
{
	char *real;

	if ((real = realpath(dir, NULL)) == NULL) {
		if (errno == ENOENT)
			return err_set(err, CWLD_EXIT_USAGE,
			    "root '%s' does not exist", dir);
		return err_set(err, CWLD_EXIT_USAGE, "root '%s': %s", dir,
		    strerror(errno));
	}
	if (!fs_is_dir(real)) {
		free(real);
		return err_set(err, CWLD_EXIT_USAGE,
		    "root '%s' is not a directory", dir);
	}
	c->roots = xreallocarray(c->roots, c->n + 1, sizeof *c->roots);
	c->roots[c->n++] = real;
	return 0;
}

/* Non-zero when the canonical path real is a root or below one. Compared by
 * whole components, so root /data does not admit /data2. */
static int
confine_contains(const struct confine *c, const char *real)
{
	size_t i, rl;

	for (i = 0; i < c->n; i++) {
		rl = strlen(c->roots[i]);
		if (strncmp(real, c->roots[i], rl) != 0)
			continue;
		/* rl == 1: the root is "/" itself. */
		if (real[rl] == '\0' || real[rl] == '/' || rl == 1)
			return 1;
	}
	return 0;
}

/* The realpath of the longest prefix of path that resolves, or NULL. Each
 * prefix resolves the way the whole path would up to that point, so a missing
 * file behind a symlink that leaves the roots is seen to be outside: the
 * caller can then refuse it as outside rather than say "does not exist",
 * which would let clients probe the rest of the filesystem. */
static char *
confine_nearest(const char *path)
{
	char *cur = xstrdup(path), *up, *real = NULL;

	while ((real = realpath(cur, NULL)) == NULL) {
		up = fs_dirname(cur);
		if (strcmp(up, cur) == 0) {
			free(up);
			break;
		}
		free(cur);
		cur = up;
	}
	free(cur);
	return real;
}

/* Accepts only file: URIs for this host, without an encoded NUL (which
 * uri_to_path would leave as the three characters "%00"). */
static int
confine_check_uri(const char *uri, struct cwld_err *err)
{
	const char *host;
	size_t hl;

	if (strncasecmp(uri, "file:", 5) != 0)
		return err_set(err, CWLD_EXIT_USAGE,
		    "path '%s': only file:// URIs and paths are accepted", uri);
	if (uri[5] == '/' && uri[6] == '/') {
		host = uri + 7;
		hl = strcspn(host, "/?#");
		if (hl != 0 && !(hl == 9 && strncasecmp(host, "localhost", 9) == 0))
			return err_set(err, CWLD_EXIT_USAGE,
			    "path '%s': file URI names host '%.*s', not this one",
			    uri, (int)hl, host);
	}
	if (strstr(uri, "%00") != NULL)
		return err_set(err, CWLD_EXIT_USAGE,
		    "path '%s' contains a NUL byte", uri);
	return 0;
}

char *
confine_resolve(const struct confine *c, const char *path, struct cwld_err *err)
{
	return confine_resolve_mem(c, path, strlen(path), err);
}

char *
confine_resolve_mem(const struct confine *c, const char *path, size_t len,
    struct cwld_err *err)
{
	char *given = NULL, *local = NULL, *full = NULL, *real = NULL;
	char *near = NULL, *ret = NULL;
	int saved;

	if (len == 0) {
		err_set(err, CWLD_EXIT_USAGE, "empty path");
		goto out;
	}
	if (memchr(path, '\0', len) != NULL) {
		err_set(err, CWLD_EXIT_USAGE, "path '%s' contains a NUL byte",
		    path);
		goto out;
	}
	given = xstrndup(path, len);
	if (uri_has_scheme(given)) {
		if (confine_check_uri(given, err) == -1)
			goto out;
		local = uri_to_path(given);
	} else {
		local = xstrdup(given);
	}
	if (c->n == 0) {
		err_set(err, CWLD_EXIT_USAGE,
		    "path '%s' is outside the allowed roots (none configured)",
		    given);
		goto out;
	}
	full = fs_join(c->roots[0], local);
	if ((real = realpath(full, NULL)) == NULL) {
		saved = errno;
		near = confine_nearest(full);
		if (near == NULL || !confine_contains(c, near))
			err_set(err, CWLD_EXIT_USAGE,
			    "path '%s' is outside the allowed roots", given);
		else if (saved == ENOENT || saved == ENOTDIR)
			err_set(err, CWLD_EXIT_USAGE, "path '%s' does not exist",
			    given);
		else
			err_set(err, CWLD_EXIT_USAGE, "path '%s': %s", given,
			    strerror(saved));
		goto out;
	}
	if (!confine_contains(c, real)) {
		err_set(err, CWLD_EXIT_USAGE,
		    "path '%s' is outside the allowed roots", given);
		goto out;
	}
	ret = real;
	real = NULL;
out:
	free(given);
	free(local);
	free(full);
	free(real);
	free(near);
	return ret;
}

const char *
confine_first_root(const struct confine *c)
{
	return c && c->n ? c->roots[0] : NULL;
}

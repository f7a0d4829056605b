/* Confining paths that API clients send (workflow files, inputs, output
 * locations) to the directories the daemon was configured to serve. */
#ifndef CWLD_CONFINE_H
#define CWLD_CONFINE_H
#include <stddef.h>

#include "cwld/err.h"

struct confine;

/* A set with no roots: every path is refused until a root is added. */
struct confine *confine_new(void);
/* confine_free(NULL) does nothing. */
void confine_free(struct confine *c);
/* The first root (where relative paths start), borrowed; NULL when none. */
const char *confine_first_root(const struct confine *c);

/* Adds dir as a root. It must exist and be a directory; it is stored as its
 * realpath, so a root given through a symlink is the directory it names.
 * The first root added is the base for relative paths. 0, or -1 with err
 * (CWLD_EXIT_USAGE). */
int confine_add_root(struct confine *c, const char *dir, struct cwld_err *err);

/* Resolves path, which may be absolute, relative to the first root, or a
 * file:// URI (host empty or "localhost", percent-decoded), following every
 * symlink (realpath); a relative path whose first segment holds a ':'
 * ("a:b.txt") reads as a URI, so clients write it "./a:b.txt". Returns the
 * canonical path as a new string when that is a root or lies below one;
 * otherwise NULL with err code CWLD_EXIT_USAGE and a message naming path as
 * given and why: empty, a NUL byte, another scheme,
 * "outside the allowed roots" (also for a missing path whose nearest existing
 * ancestor is outside, so nothing outside the roots can be probed), "does not
 * exist", or the resolution error. The answer holds at the time of the call:
 * whoever can write inside a root can swap a component for a symlink
 * afterwards, so use the returned path, not the one given, and at once. */
char *confine_resolve(const struct confine *c, const char *path,
    struct cwld_err *err);
/* The same for len bytes at path, which need not be NUL-terminated; a NUL
 * among them is refused (a JSON string or a decoded URI can carry one). */
char *confine_resolve_mem(const struct confine *c, const char *path, size_t len,
    struct cwld_err *err);

#endif

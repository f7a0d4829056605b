/* Final outputs of `cwld run` go to the user's --outdir: files made by the
 * run are moved there (rename when possible), files the run merely passed
 * through (inputs) are copied, and every location and path is rewritten. A
 * file named twice is moved once and both references point to the result. */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cwld/fs.h"
#include "cwld/relocate.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

struct relocate_ctx {
	const char *outdir;
	const char *own_prefix; /* files under this are the run's own: moved */
	json_t *done;           /* old path -> new path */
	json_t *taken;          /* new basenames already used */
};

static void
relocate_set(json_t *obj, const char *path)
{
	char *uri = uri_from_path(path);

	json_object_set_new(obj, "location", json_string(uri));
	json_object_set_new(obj, "path", json_string(path));
	if (json_object_get(obj, "dirname")) {
		char *d = fs_dirname(path);
		json_object_set_new(obj, "dirname", json_string(d));
		free(d);
	}
	free(uri);
}

/* Rewrites paths of a moved directory's listing: old prefix -> new. */
static void
relocate_listing(json_t *obj, const char *oldp, const char *newp)
{
	json_t *listing = json_object_get(obj, "listing");
	json_t *e;
	size_t i, ol = strlen(oldp);

	json_array_foreach(listing, i, e) {
		const char *p = json_string_value(json_object_get(e, "path"));
		if (p && strncmp(p, oldp, ol) == 0 && (p[ol] == '/' || p[ol] == '\0')) {
			/* p dies with the old "path": keep a copy for the children */
			char *op = xstrdup(p);
			char *np = xasprintf("%s%s", newp, p + ol);
			relocate_set(e, np);
			relocate_listing(e, op, np);
			free(op);
			free(np);
		}
	}
}

static char *
relocate_target(struct relocate_ctx *c, const char *base)
{
	char *name = xstrdup(base);
	char *path = fs_join(c->outdir, name);
	int n = 2;

	while (json_object_get(c->taken, name) || fs_exists(path)) {
		const char *dot = strrchr(base, '.');
		free(name);
		free(path);
		if (dot && dot != base)
			name = xasprintf("%.*s_%d%s", (int)(dot - base), base, n++, dot);
		else
			name = xasprintf("%s_%d", base, n++);
		path = fs_join(c->outdir, name);
	}
	json_object_set_new(c->taken, name, json_true());
	free(name);
	return path;
}

static int
relocate_value(struct relocate_ctx *c, json_t *v, struct cwld_err *err)
{
	size_t i;
	json_t *x;
	const char *k;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (relocate_value(c, x, err) < 0)
				return -1;
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	const char *cls = json_string_value(json_object_get(v, "class"));
	if (cls == NULL || (strcmp(cls, "File") != 0 && strcmp(cls, "Directory") != 0)) {
		json_object_foreach(v, k, x)
			if (relocate_value(c, x, err) < 0)
				return -1;
		return 0;
	}
	const char *p = json_string_value(json_object_get(v, "path"));
	char *oldp = NULL, *newp = NULL;
	const json_t *prev;
	struct stat st;
	int rc = -1;

	if (p == NULL) {
		const char *loc = json_string_value(json_object_get(v, "location"));
		char *fp = loc ? uri_to_path(loc) : NULL;
		if (fp == NULL)
			return 0; /* not a local file (literal or remote): leave as is */
		oldp = fp;
	} else
		oldp = xstrdup(p);
	if ((prev = json_object_get(c->done, oldp)) != NULL) {
		newp = xstrdup(json_string_value(prev));
	} else {
		const char *base = json_string_value(json_object_get(v, "basename"));
		if (base == NULL)
			base = strrchr(oldp, '/') ? strrchr(oldp, '/') + 1 : oldp;
		newp = relocate_target(c, base);
		/* A symlink (to an input, or relative inside its work dir)
		 * would dangle once moved: its target is copied instead. */
		if (strncmp(oldp, c->own_prefix, strlen(c->own_prefix)) == 0 &&
		    lstat(oldp, &st) == 0 && !S_ISLNK(st.st_mode) &&
		    rename(oldp, newp) == 0) {
			/* moved */
		} else if (fs_copy(oldp, newp, err) < 0)
			goto out;
		json_object_set_new(c->done, oldp, json_string(newp));
	}
	relocate_set(v, newp);
	if (cls[0] == 'D')
		relocate_listing(v, oldp, newp);
	if (relocate_value(c, json_object_get(v, "secondaryFiles"), err) < 0)
		goto out;
	rc = 0;
out:
	free(oldp);
	free(newp);
	return rc;
}

int
relocate_outputs_from(json_t *outputs, const char *outdir, const char *own_prefix,
    struct cwld_err *err)
{
	struct relocate_ctx c;
	char *abs = fs_abspath(outdir);
	int rc;

	c.outdir = abs;
	c.own_prefix = own_prefix ? own_prefix : "\x01";
	c.done = json_object();
	c.taken = json_object();
	rc = fs_mkdir_p(abs, err);
	if (rc == 0)
		rc = relocate_value(&c, outputs, err);
	json_decref(c.done);
	json_decref(c.taken);
	free(abs);
	return rc;
}

int
relocate_outputs(json_t *outputs, const char *outdir, struct cwld_err *err)
{
	return relocate_outputs_from(outputs, outdir, NULL, err);
}

/* Parameters: a job's values checked against normalised CWL types, defaults
 * applied, File and Directory objects completed from the local filesystem
 * (location, path, basename, nameroot, nameext, size, checksum, listing,
 * contents, secondaryFiles). Staging files for a container is the job
 * module's business; non-file schemes are left untouched here. */
#include <sys/stat.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cwld/params.h"
#include "cwld/expr.h"
#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define PARAMS_CONTENTS_MAX (64 * 1024)
#define PARAMS_DEPTH_MAX 128

static int params_is_class(const json_t *v, const char *cls);
static const char *params_value_kind(const json_t *v);
static int params_complete_depth(json_t *obj, const char *base_uri,
    int with_checksum, enum params_listing listing, int depth,
    struct cwld_err *err);
static int params_list_dir(json_t *obj, const char *path, int with_checksum,
    enum params_listing listing, int depth, struct cwld_err *err);
static int params_name_cmp(const void *a, const void *b);
static char *params_obj_basename(const json_t *obj);
static int params_sf_add_name(json_t *primary, const char *name, int required,
    int with_checksum, int discover, struct cwld_err *err);
static int params_sf_add_value(json_t *primary, const json_t *v, int required,
    int with_checksum, int discover, struct cwld_err *err);
static int params_sf_one(json_t *primary, const json_t *entry,
    int required_default, int with_checksum, int discover,
    struct expr_ctx *ex, const json_t *inputs, const json_t *runtime,
    struct cwld_err *err);
static int params_sf_apply(json_t *primary, const json_t *spec,
    int required_default, int with_checksum, int discover,
    struct expr_ctx *ex, const json_t *inputs, const json_t *runtime,
    struct cwld_err *err);
static int params_fill_value(const json_t *type, json_t *val,
    const json_t *spec, const char *base_uri, const struct params_opts *opts,
    const json_t *job, struct cwld_err *err);
static int params_complete_any(json_t *obj, void *arg);

struct params_any_arg {
	const char *base_uri;
	int with_checksum;
	struct cwld_err *err;
};

int
params_listing_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "no_listing") == 0)
		return PARAMS_LISTING_NONE;
	if (strcmp(s, "shallow_listing") == 0)
		return PARAMS_LISTING_SHALLOW;
	if (strcmp(s, "deep_listing") == 0)
		return PARAMS_LISTING_DEEP;
	return -1;
}

static int
params_is_class(const json_t *v, const char *cls)
{
	const char *c;

	if (!json_is_object(v))
		return 0;
	c = json_string_value(json_object_get(v, "class"));
	return c != NULL && strcmp(c, cls) == 0;
}

static const char *
params_value_kind(const json_t *v)
{
	if (v == NULL || json_is_null(v))
		return "null";
	if (json_is_boolean(v))
		return "boolean";
	if (json_is_integer(v))
		return "int";
	if (json_is_real(v))
		return "float";
	if (json_is_string(v))
		return "string";
	if (json_is_array(v))
		return "array";
	if (params_is_class(v, "File"))
		return "File";
	if (params_is_class(v, "Directory"))
		return "Directory";
	return "record";
}

int
params_type_matches(const json_t *type, const json_t *value)
{
	const json_t *t, *items, *fields, *f, *syms, *s, *item;
	const char *name, *str;
	size_t i;

	if (value == NULL)
		value = json_null();
	if (json_is_string(type)) {
		name = json_string_value(type);
		if (strcmp(name, "null") == 0)
			return json_is_null(value);
		if (strcmp(name, "boolean") == 0)
			return json_is_boolean(value);
		if (strcmp(name, "int") == 0 || strcmp(name, "long") == 0)
			return json_is_integer(value);
		if (strcmp(name, "float") == 0 || strcmp(name, "double") == 0)
			return json_is_number(value);
		if (strcmp(name, "string") == 0)
			return json_is_string(value);
		if (strcmp(name, "File") == 0 || strcmp(name, "stdout") == 0 ||
		    strcmp(name, "stderr") == 0)
			return params_is_class(value, "File");
		if (strcmp(name, "Directory") == 0)
			return params_is_class(value, "Directory");
		if (strcmp(name, "Any") == 0)
			return !json_is_null(value);
		return 0;
	}
	if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			if (params_type_matches(t, value))
				return 1;
		}
		return 0;
	}
	if (!json_is_object(type))
		return 0;
	t = json_object_get(type, "type");
	name = json_string_value(t);
	if (name == NULL)
		return params_type_matches(t, value);
	if (strcmp(name, "array") == 0) {
		if (!json_is_array(value))
			return 0;
		items = json_object_get(type, "items");
		json_array_foreach(value, i, item) {
			if (!params_type_matches(items, item))
				return 0;
		}
		return 1;
	}
	if (strcmp(name, "record") == 0) {
		if (!json_is_object(value) || params_is_class(value, "File") ||
		    params_is_class(value, "Directory"))
			return 0;
		fields = json_object_get(type, "fields");
		json_array_foreach(fields, i, f) {
			str = json_string_value(json_object_get(f, "name"));
			if (str == NULL)
				return 0;
			if (!params_type_matches(json_object_get(f, "type"),
			    json_object_get(value, str)))
				return 0;
		}
		return 1;
	}
	if (strcmp(name, "enum") == 0) {
		if ((str = json_string_value(value)) == NULL)
			return 0;
		syms = json_object_get(type, "symbols");
		json_array_foreach(syms, i, s) {
			const char *sym = json_string_value(s), *tail;

			if (sym == NULL)
				continue;
			if (strcmp(sym, str) == 0)
				return 1;
			/* A symbol left as a full id matches its short name. */
			tail = strrchr(sym, '/');
			if (strrchr(sym, '#') > tail)
				tail = strrchr(sym, '#');
			if (tail != NULL && strcmp(tail + 1, str) == 0)
				return 1;
		}
		return 0;
	}
	return params_type_matches(t, value);
}

char *
params_type_name(const json_t *type)
{
	const json_t *t, *other = NULL;
	const char *name;
	char *acc = NULL, *part, *next;
	size_t i, nulls = 0;

	if (json_is_string(type))
		return xstrdup(json_string_value(type));
	if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			if (json_is_string(t) &&
			    strcmp(json_string_value(t), "null") == 0)
				nulls++;
			else
				other = t;
		}
		if (json_array_size(type) == 2 && nulls == 1) {
			part = params_type_name(other);
			acc = xasprintf("%s?", part);
			free(part);
			return acc;
		}
		json_array_foreach(type, i, t) {
			part = params_type_name(t);
			if (acc == NULL) {
				acc = part;
				continue;
			}
			next = xasprintf("%s | %s", acc, part);
			free(acc);
			free(part);
			acc = next;
		}
		return acc != NULL ? acc : xstrdup("nothing");
	}
	if (!json_is_object(type))
		return xstrdup("unknown");
	t = json_object_get(type, "type");
	if ((name = json_string_value(t)) == NULL)
		return params_type_name(t);
	if (strcmp(name, "array") == 0) {
		t = json_object_get(type, "items");
		part = params_type_name(t);
		if (json_is_array(t))
			acc = xasprintf("(%s)[]", part);
		else
			acc = xasprintf("%s[]", part);
		free(part);
		return acc;
	}
	return xstrdup(name);
}

void
params_split_name(const char *basename, char **nameroot, char **nameext)
{
	const char *dot = strrchr(basename, '.');
	const char *p;

	/* Python's os.path.splitext: leading dots do not start an extension. */
	if (dot != NULL) {
		for (p = basename; p < dot; p++) {
			if (*p != '.') {
				*nameroot = xstrndup(basename,
				    (size_t)(dot - basename));
				*nameext = xstrdup(dot);
				return;
			}
		}
	}
	*nameroot = xstrdup(basename);
	*nameext = xstrdup("");
}

char *
params_file_path(const json_t *obj, const char *base_uri)
{
	const char *loc, *p;
	char *resolved = NULL, *path = NULL, *base = NULL, *bpath = NULL;
	char *dir = NULL, *joined = NULL, *ret = NULL;
	size_t n;

	loc = json_string_value(json_object_get(obj, "location"));
	p = json_string_value(json_object_get(obj, "path"));
	if (loc == NULL && p != NULL && uri_has_scheme(p))
		loc = p;
	if (loc != NULL) {
		if (uri_has_scheme(loc)) {
			if ((path = uri_to_path(loc)) == NULL)
				goto out;
		} else {
			resolved = uri_resolve(base_uri, loc);
			if (uri_has_scheme(resolved)) {
				if ((path = uri_to_path(resolved)) == NULL)
					goto out;
			} else {
				path = resolved;
				resolved = NULL;
			}
		}
		ret = fs_abspath(path);
		goto out;
	}
	if (p == NULL)
		goto out;
	if (p[0] == '/' || base_uri == NULL) {
		ret = fs_abspath(p);
		goto out;
	}
	base = uri_strip_fragment(base_uri);
	if ((bpath = uri_to_path(base)) == NULL)
		goto out;
	n = strlen(base);
	if (n > 0 && base[n - 1] == '/')
		dir = xstrdup(bpath);
	else
		dir = fs_dirname(bpath);
	joined = fs_join(dir, p);
	ret = fs_abspath(joined);
out:
	free(resolved);
	free(path);
	free(base);
	free(bpath);
	free(dir);
	free(joined);
	return ret;
}

static int
params_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
params_list_dir(json_t *obj, const char *path, int with_checksum,
    enum params_listing listing, int depth, struct cwld_err *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	json_t *list = NULL, *ent;
	char *child, *uri;
	enum params_listing sub;
	int rc = -1;

	if ((d = opendir(path)) == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "cannot list '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			names = xreallocarray(names, cap, sizeof *names);
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (n > 0)
		qsort(names, n, sizeof *names, params_name_cmp);
	sub = listing == PARAMS_LISTING_DEEP ? PARAMS_LISTING_DEEP :
	    PARAMS_LISTING_NONE;
	list = json_array();
	for (i = 0; i < n; i++) {
		child = fs_join(path, names[i]);
		ent = json_object();
		json_object_set_new(ent, "class",
		    json_string(fs_is_dir(child) ? "Directory" : "File"));
		uri = uri_from_path(child);
		json_object_set_new(ent, "location", json_string(uri));
		free(uri);
		free(child);
		json_array_append_new(list, ent);
		if (params_complete_depth(ent, NULL, with_checksum, sub,
		    depth + 1, err) == -1)
			goto out;
	}
	json_object_set(obj, "listing", list);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	json_decref(list);
	if (d != NULL)
		closedir(d);
	return rc;
}

static int
params_complete_depth(json_t *obj, const char *base_uri, int with_checksum,
    enum params_listing listing, int depth, struct cwld_err *err)
{
	const char *cls, *loc, *bn;
	char *path = NULL, *uri = NULL, *base = NULL, *root = NULL;
	char *ext = NULL, *dir = NULL;
	char sum[64];
	struct stat st;
	json_t *list, *sf, *ent;
	enum params_listing sub;
	int is_file, rc = -1;
	size_t i;

	if (depth > PARAMS_DEPTH_MAX) {
		err_set(err, CWLD_EXIT_USAGE, "directory tree deeper than %d",
		    PARAMS_DEPTH_MAX);
		goto out;
	}
	cls = json_string_value(json_object_get(obj, "class"));
	if (cls == NULL || (strcmp(cls, "File") != 0 &&
	    strcmp(cls, "Directory") != 0)) {
		err_set(err, CWLD_EXIT_USAGE, "not a File or Directory object");
		goto out;
	}
	is_file = strcmp(cls, "File") == 0;
	loc = json_string_value(json_object_get(obj, "location"));
	if (loc != NULL && uri_has_scheme(loc) &&
	    strncasecmp(loc, "file:", 5) != 0) {
		rc = 0; /* http:, s3: ... are fetched elsewhere */
		goto out;
	}
	sub = listing == PARAMS_LISTING_DEEP ? PARAMS_LISTING_DEEP :
	    PARAMS_LISTING_NONE;
	path = params_file_path(obj, base_uri);
	if (path == NULL) {
		/* A literal: it must say what it holds (contents, or a
		 * listing), else it names nothing at all. */
		if (is_file ? json_object_get(obj, "contents") == NULL :
		    json_object_get(obj, "listing") == NULL) {
			bn = json_string_value(json_object_get(obj, "basename"));
			err_set(err, CWLD_EXIT_USAGE, "%s '%s' has neither location nor %s",
			    cls, bn ? bn : "", is_file ? "contents" : "listing");
			goto out;
		}
		/* A literal: name parts, and its listing completed. */
		if ((bn = json_string_value(json_object_get(obj,
		    "basename"))) != NULL && is_file) {
			params_split_name(bn, &root, &ext);
			json_object_set_new(obj, "nameroot", json_string(root));
			json_object_set_new(obj, "nameext", json_string(ext));
		}
		list = json_object_get(obj, is_file ? "secondaryFiles" :
		    "listing");
		json_array_foreach(list, i, ent) {
			if (params_complete_depth(ent, base_uri, with_checksum,
			    sub, depth + 1, err) == -1)
				goto out;
		}
		rc = 0;
		goto out;
	}
	if (stat(path, &st) == -1) {
		err_set(err, CWLD_EXIT_USAGE, "%s '%s' does not exist",
		    is_file ? "file" : "directory", path);
		goto out;
	}
	if (is_file && S_ISDIR(st.st_mode)) {
		err_set(err, CWLD_EXIT_USAGE, "'%s' is a directory, not a File",
		    path);
		goto out;
	}
	if (!is_file && !S_ISDIR(st.st_mode)) {
		err_set(err, CWLD_EXIT_USAGE, "'%s' is not a directory", path);
		goto out;
	}
	uri = uri_from_path(path);
	json_object_set_new(obj, "location", json_string(uri));
	json_object_set_new(obj, "path", json_string(path));
	if ((bn = json_string_value(json_object_get(obj, "basename"))) == NULL) {
		base = fs_basename(path);
		json_object_set_new(obj, "basename", json_string(base));
		bn = base;
	}
	if (is_file) {
		params_split_name(bn, &root, &ext);
		json_object_set_new(obj, "nameroot", json_string(root));
		json_object_set_new(obj, "nameext", json_string(ext));
		dir = fs_dirname(path);
		json_object_set_new(obj, "dirname", json_string(dir));
		json_object_set_new(obj, "size",
		    json_integer((json_int_t)st.st_size));
		if (with_checksum) {
			if (fs_sha1_file(path, sum, sizeof sum, err) == -1)
				goto out;
			json_object_set_new(obj, "checksum", json_string(sum));
		}
		sf = json_object_get(obj, "secondaryFiles");
		json_array_foreach(sf, i, ent) {
			if (params_complete_depth(ent, base_uri, with_checksum,
			    listing, depth + 1, err) == -1)
				goto out;
		}
	} else if ((list = json_object_get(obj, "listing")) != NULL &&
	    json_is_array(list)) {
		json_array_foreach(list, i, ent) {
			if (params_complete_depth(ent, base_uri, with_checksum,
			    sub, depth + 1, err) == -1)
				goto out;
		}
	} else if (listing != PARAMS_LISTING_NONE) {
		if (params_list_dir(obj, path, with_checksum, listing, depth,
		    err) == -1)
			goto out;
	}
	rc = 0;
out:
	free(path);
	free(uri);
	free(base);
	free(root);
	free(ext);
	free(dir);
	return rc;
}

int
params_complete_file_ex(json_t *obj, const char *base_uri, int with_checksum,
    enum params_listing listing, struct cwld_err *err)
{
	return params_complete_depth(obj, base_uri, with_checksum, listing, 0,
	    err);
}

int
params_complete_file(json_t *obj, const char *base_uri, int with_checksum,
    struct cwld_err *err)
{
	return params_complete_depth(obj, base_uri, with_checksum,
	    PARAMS_LISTING_SHALLOW, 0, err);
}

int
params_walk_files(json_t *value, int (*fn)(json_t *obj, void *arg), void *arg)
{
	json_t *v;
	const char *key;
	size_t i;
	int rc;

	if (json_is_array(value)) {
		json_array_foreach(value, i, v) {
			if ((rc = params_walk_files(v, fn, arg)) != 0)
				return rc;
		}
		return 0;
	}
	if (!json_is_object(value))
		return 0;
	if (params_is_class(value, "File") ||
	    params_is_class(value, "Directory")) {
		if ((rc = fn(value, arg)) != 0)
			return rc;
		if ((rc = params_walk_files(json_object_get(value,
		    "secondaryFiles"), fn, arg)) != 0)
			return rc;
		return params_walk_files(json_object_get(value, "listing"),
		    fn, arg);
	}
	json_object_foreach(value, key, v) {
		if ((rc = params_walk_files(v, fn, arg)) != 0)
			return rc;
	}
	return 0;
}

int
params_load_contents(json_t *file, struct cwld_err *err)
{
	const char *path;
	char *buf = NULL;
	size_t len = 0;
	int64_t size;
	json_t *s;
	int rc = -1;

	if (json_object_get(file, "contents") != NULL)
		return 0;
	if ((path = json_string_value(json_object_get(file, "path"))) == NULL)
		return err_set(err, CWLD_EXIT_USAGE,
		    "loadContents: File has no path");
	size = fs_file_size(path);
	if (size > PARAMS_CONTENTS_MAX) {
		err_set(err, CWLD_EXIT_USAGE, "loadContents: '%s' is larger "
		    "than 64 KiB", path);
		goto out;
	}
	if ((buf = fs_read_file(path, PARAMS_CONTENTS_MAX, &len, err)) == NULL)
		goto out;
	if ((s = json_stringn(buf, len)) == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "loadContents: '%s' is not UTF-8 "
		    "text", path);
		goto out;
	}
	json_object_set_new(file, "contents", s);
	rc = 0;
out:
	free(buf);
	return rc;
}

char *
params_secondary_name(const char *basename, const char *pattern)
{
	char *cur = xstrdup(basename), *dot, *ret;

	while (*pattern == '^') {
		if ((dot = strrchr(cur, '.')) == NULL) {
			while (*pattern == '^')
				pattern++;
			break;
		}
		*dot = '\0';
		pattern++;
	}
	ret = xasprintf("%s%s", cur, pattern);
	free(cur);
	return ret;
}

static char *
params_obj_basename(const json_t *obj)
{
	const char *s;

	if ((s = json_string_value(json_object_get(obj, "basename"))) != NULL)
		return xstrdup(s);
	if ((s = json_string_value(json_object_get(obj, "location"))) == NULL &&
	    (s = json_string_value(json_object_get(obj, "path"))) == NULL)
		return NULL;
	return fs_basename(s);
}

int
params_secondary_has(const json_t *primary, const char *basename)
{
	const json_t *sf = json_object_get(primary, "secondaryFiles"), *e;
	char *bn;
	size_t i;
	int found = 0;

	json_array_foreach(sf, i, e) {
		bn = params_obj_basename(e);
		found = bn != NULL && strcmp(bn, basename) == 0;
		free(bn);
		if (found)
			break;
	}
	return found;
}

static json_t *
params_sf_list(json_t *primary)
{
	json_t *sf = json_object_get(primary, "secondaryFiles");

	if (!json_is_array(sf)) {
		sf = json_array();
		json_object_set_new(primary, "secondaryFiles", sf);
	}
	return sf;
}

static int
params_sf_add_name(json_t *primary, const char *name, int required,
    int with_checksum, int discover, struct cwld_err *err)
{
	const char *ppath;
	char *dir = NULL, *cand = NULL, *uri = NULL, *bn = NULL;
	json_t *ent = NULL;
	int rc = -1;

	if (name[0] == '\0')
		return 0;
	if ((ppath = json_string_value(json_object_get(primary, "path"))) ==
	    NULL)
		return 0; /* a literal or remote primary: nothing to look at */
	bn = fs_basename(name);
	if (params_secondary_has(primary, bn)) {
		rc = 0;
		goto out;
	}
	dir = fs_dirname(ppath);
	cand = fs_join(dir, name);
	if (!discover || !fs_exists(cand)) {
		if (required)
			err_set(err, CWLD_EXIT_USAGE, "missing required "
			    "secondary file '%s' of '%s'", cand, ppath);
		else
			rc = 0;
		goto out;
	}
	uri = uri_from_path(cand);
	ent = json_pack("{s:s, s:s}", "class",
	    fs_is_dir(cand) ? "Directory" : "File", "location", uri);
	if (params_complete_file_ex(ent, NULL, with_checksum,
	    PARAMS_LISTING_NONE, err) == -1)
		goto out;
	json_array_append(params_sf_list(primary), ent);
	rc = 0;
out:
	json_decref(ent);
	free(dir);
	free(cand);
	free(uri);
	free(bn);
	return rc;
}

static int
params_sf_add_value(json_t *primary, const json_t *v, int required,
    int with_checksum, int discover, struct cwld_err *err)
{
	const char *dloc;
	json_t *copy = NULL, *e;
	char *bn = NULL;
	size_t i;
	int rc = -1;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (params_sf_add_value(primary, e, required,
			    with_checksum, discover, err) == -1)
				return -1;
		}
		return 0;
	}
	if (json_is_string(v))
		return params_sf_add_name(primary, json_string_value(v),
		    required, with_checksum, discover, err);
	if (!params_is_class(v, "File") && !params_is_class(v, "Directory"))
		return err_set(err, CWLD_EXIT_USAGE, "secondaryFiles expression "
		    "gave a %s, not a File, Directory or string",
		    params_value_kind(v));
	bn = params_obj_basename(v);
	if (bn != NULL && params_secondary_has(primary, bn)) {
		rc = 0;
		goto out;
	}
	copy = json_deep_copy(v);
	dloc = json_string_value(json_object_get(primary, "location"));
	if (params_complete_file_ex(copy, dloc, with_checksum,
	    PARAMS_LISTING_NONE, err) == -1) {
		if (!required)
			rc = 0;
		goto out;
	}
	json_array_append(params_sf_list(primary), copy);
	rc = 0;
out:
	json_decref(copy);
	free(bn);
	return rc;
}

static int
params_sf_one(json_t *primary, const json_t *entry, int required_default,
    int with_checksum, int discover, struct expr_ctx *ex,
    const json_t *inputs, const json_t *runtime, struct cwld_err *err)
{
	const json_t *pat = entry, *req = NULL;
	const char *p, *bn;
	json_t *val = NULL;
	char *name = NULL;
	int required = required_default, rc = -1;

	if (json_is_object(entry)) {
		pat = json_object_get(entry, "pattern");
		req = json_object_get(entry, "required");
	}
	if (json_is_boolean(req)) {
		required = json_is_true(req);
	} else if (json_is_string(req) && ex != NULL) {
		if ((val = expr_eval(ex, json_string_value(req), inputs,
		    primary, runtime, err)) == NULL)
			goto out;
		required = json_is_true(val);
		json_decref(val);
		val = NULL;
	}
	if ((p = json_string_value(pat)) == NULL) {
		rc = err_set(err, CWLD_EXIT_USAGE, "secondaryFiles pattern is "
		    "not a string");
		goto out;
	}
	if (expr_has_expression(p)) {
		if (ex == NULL) {
			rc = 0;
			goto out;
		}
		if ((val = expr_eval(ex, p, inputs, primary, runtime, err)) ==
		    NULL)
			goto out;
		rc = params_sf_add_value(primary, val, required, with_checksum,
		    discover, err);
		goto out;
	}
	if ((bn = json_string_value(json_object_get(primary, "basename"))) ==
	    NULL) {
		rc = 0;
		goto out;
	}
	name = params_secondary_name(bn, p);
	if (name[0] != '\0' && name[strlen(name) - 1] == '?') {
		/* "pattern?" is the short form of required: false */
		name[strlen(name) - 1] = '\0';
		required = 0;
	}
	rc = params_sf_add_name(primary, name, required, with_checksum,
	    discover, err);
out:
	json_decref(val);
	free(name);
	return rc;
}

static int
params_sf_apply(json_t *primary, const json_t *spec, int required_default,
    int with_checksum, int discover, struct expr_ctx *ex,
    const json_t *inputs, const json_t *runtime, struct cwld_err *err)
{
	const json_t *e;
	size_t i;

	if (spec == NULL || json_is_null(spec) ||
	    !params_is_class(primary, "File"))
		return 0;
	if (!json_is_array(spec))
		return params_sf_one(primary, spec, required_default,
		    with_checksum, discover, ex, inputs, runtime, err);
	json_array_foreach(spec, i, e) {
		if (params_sf_one(primary, e, required_default, with_checksum,
		    discover, ex, inputs, runtime, err) == -1)
			return -1;
	}
	return 0;
}

int
params_add_secondary_files(json_t *primary, const json_t *spec,
    int required_default, int with_checksum, struct expr_ctx *ex,
    const json_t *inputs, const json_t *runtime, struct cwld_err *err)
{
	return params_sf_apply(primary, spec, required_default, with_checksum,
	    1, ex, inputs, runtime, err);
}

/* --- format checking against ontologies --------------------------------- */

#define PARAMS_ONTO_MAX (64u * 1024 * 1024) /* bytes of one $schemas file */

/* g[a] gains b: an edge "a is a b" (subClassOf, or one direction of an
 * equivalentClass). */
static void
params_onto_edge(json_t *g, const char *a, const char *b)
{
	json_t *l = json_object_get(g, a);

	if (l == NULL) {
		l = json_array();
		json_object_set_new(g, a, l);
	}
	json_array_append_new(l, json_string(b));
}

static void
params_onto_rel(json_t *g, const char *s, const char *pred, const char *o)
{
	if (strcmp(pred, "http://www.w3.org/2000/01/rdf-schema#subClassOf") == 0)
		params_onto_edge(g, s, o);
	else if (strcmp(pred, "http://www.w3.org/2002/07/owl#equivalentClass") == 0) {
		params_onto_edge(g, s, o);
		params_onto_edge(g, o, s);
	}
}

/* New string: the value of attribute name="..." inside the tag [p, end),
 * XML entities from ents ("&name;") and the predefined ones replaced. */
static char *
params_xml_attr(const char *p, const char *end, const char *name,
    const json_t *ents)
{
	size_t n = strlen(name);
	const char *v, *q, *semi;
	char *ret = NULL, *key, *tmp;
	const char *rep;

	for (v = p; v + n + 2 < end; v++) {
		if (strncmp(v, name, n) == 0 && v[n] == '=' &&
		    (v[n + 1] == '"' || v[n + 1] == '\'') &&
		    (v == p || v[-1] == ' ' || v[-1] == '\t' || v[-1] == '\n'))
			break;
	}
	if (v + n + 2 >= end)
		return NULL;
	q = memchr(v + n + 2, v[n + 1], (size_t)(end - (v + n + 2)));
	if (q == NULL)
		return NULL;
	ret = xstrdup("");
	for (v += n + 2; v < q; v++) {
		rep = NULL;
		semi = NULL;
		if (*v == '&' && (semi = memchr(v, ';', (size_t)(q - v))) != NULL) {
			key = xstrndup(v + 1, (size_t)(semi - v - 1));
			rep = json_string_value(json_object_get(ents, key));
			if (rep == NULL)
				rep = strcmp(key, "amp") == 0 ? "&" :
				    strcmp(key, "lt") == 0 ? "<" :
				    strcmp(key, "gt") == 0 ? ">" :
				    strcmp(key, "quot") == 0 ? "\"" :
				    strcmp(key, "apos") == 0 ? "'" : NULL;
			free(key);
		}
		if (rep != NULL) {
			tmp = xasprintf("%s%s", ret, rep);
			v = semi;
		} else
			tmp = xasprintf("%s%c", ret, *v);
		free(ret);
		ret = tmp;
	}
	return ret;
}

/* RDF/XML as OWL files write it: the subject is the last rdf:about seen;
 * rdfs:subClassOf and owl:equivalentClass with rdf:resource are edges. */
static void
params_onto_xml(json_t *g, const char *text)
{
	json_t *ents = json_object();
	const char *p = text, *end, *q, *name;
	char *subj = NULL, *v = NULL, *ename = NULL;
	size_t nlen;

	while ((p = strchr(p, '<')) != NULL) {
		if (strncmp(p, "<!--", 4) == 0) {
			if ((q = strstr(p, "-->")) == NULL)
				break;
			p = q + 3;
			continue;
		}
		if (strncmp(p, "<!ENTITY", 8) == 0) {
			/* <!ENTITY name "value"> */
			for (q = p + 8; *q == ' ' || *q == '\t' || *q == '\n'; q++)
				;
			name = q;
			while (*q != '\0' && *q != ' ' && *q != '\t' && *q != '\n')
				q++;
			ename = xstrndup(name, (size_t)(q - name));
			while (*q == ' ' || *q == '\t' || *q == '\n')
				q++;
			if ((*q == '"' || *q == '\'') &&
			    (end = strchr(q + 1, *q)) != NULL) {
				json_object_set_new(ents, ename,
				    json_stringn(q + 1, (size_t)(end - q - 1)));
				q = end;
			}
			free(ename);
			ename = NULL;
			p = q;
			continue;
		}
		if (strncmp(p, "<!DOCTYPE", 9) == 0) {
			p += 9; /* its [ ... ] holds the entities */
			continue;
		}
		if ((end = strchr(p, '>')) == NULL)
			break;
		name = p + 1;
		nlen = strcspn(name, " \t\n/>");
		if (*name != '/' && *name != '?' && *name != '!') {
			if ((nlen == 15 && strncmp(name, "rdfs:subClassOf", 15) == 0) ||
			    (nlen == 19 && strncmp(name, "owl:equivalentClass", 19) == 0)) {
				v = params_xml_attr(p, end, "rdf:resource", ents);
				if (v != NULL && subj != NULL)
					params_onto_rel(g, subj, nlen == 15 ?
					    "http://www.w3.org/2000/01/rdf-schema#subClassOf" :
					    "http://www.w3.org/2002/07/owl#equivalentClass", v);
				free(v);
				v = NULL;
			} else if ((v = params_xml_attr(p, end, "rdf:about", ents)) != NULL) {
				free(subj);
				subj = v;
				v = NULL;
			}
		}
		p = end + 1;
	}
	free(subj);
	json_decref(ents);
}

/* The next Turtle token of *pp: <iri>, a quoted literal, one of . ; , [ ]
 * or a bare word; new string, NULL at the end. */
static char *
params_ttl_token(const char **pp)
{
	const char *p = *pp, *s;
	char *ret;
	size_t n;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p != '#')
			break;
		while (*p != '\0' && *p != '\n')
			p++;
	}
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	s = p;
	if (*p == '<') {
		while (*p != '\0' && *p != '>')
			p++;
		if (*p == '>')
			p++;
	} else if (*p == '"' || *p == '\'') {
		char qc = *p++;

		while (*p != '\0' && *p != qc) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		if (*p == qc)
			p++;
		while (*p != '\0' && strchr(" \t\r\n;,.", *p) == NULL)
			p++; /* @lang, ^^type */
	} else if (strchr(".;,[]()", *p) != NULL) {
		p++;
	} else {
		while (*p != '\0' && strchr(" \t\r\n;,", *p) == NULL)
			p++;
		n = (size_t)(p - s);
		/* a final '.' ends the statement */
		if (n > 1 && s[n - 1] == '.')
			p--;
	}
	*pp = p;
	ret = xstrndup(s, (size_t)(p - s));
	return ret;
}

/* New string: an IRI of a Turtle term, or NULL for literals and blanks. */
static char *
params_ttl_iri(const char *tok, const json_t *prefixes)
{
	const char *colon;
	char *pfx;
	const char *uri;

	if (tok[0] == '<')
		return xstrndup(tok + 1, strlen(tok) > 1 ? strlen(tok) - 2 : 0);
	if (strcmp(tok, "a") == 0)
		return xstrdup("http://www.w3.org/1999/02/22-rdf-syntax-ns#type");
	if ((colon = strchr(tok, ':')) == NULL || tok[0] == '"' || tok[0] == '\'')
		return NULL;
	pfx = xstrndup(tok, (size_t)(colon - tok));
	uri = json_string_value(json_object_get(prefixes, pfx));
	free(pfx);
	return uri != NULL ? xasprintf("%s%s", uri, colon + 1) : NULL;
}

/* Turtle: @prefix lines and triples "s p o [, o] [; p o] ." */
static void
params_onto_ttl(json_t *g, const char *text)
{
	json_t *prefixes = json_object();
	const char *p = text;
	char *tok = NULL, *subj = NULL, *pred = NULL, *obj = NULL, *a = NULL;
	char *b = NULL;
	int state = 0; /* 0 subject, 1 predicate, 2 object, 3 after object */

	while ((tok = params_ttl_token(&p)) != NULL) {
		if (state == 0 && (strcasecmp(tok, "@prefix") == 0 ||
		    strcasecmp(tok, "prefix") == 0)) {
			a = params_ttl_token(&p);
			b = params_ttl_token(&p);
			if (a != NULL && b != NULL && b[0] == '<' && strlen(a) > 0) {
				if (a[strlen(a) - 1] == ':')
					a[strlen(a) - 1] = '\0'; /* "gx:" names "gx" */
				json_object_set_new(prefixes, a, json_stringn(b + 1,
				    strlen(b) > 1 ? strlen(b) - 2 : 0));
			}
			free(a);
			free(b);
			a = b = NULL;
			if (tok[0] == '@') {
				free(tok);
				tok = params_ttl_token(&p); /* the '.' */
			}
		} else if (strcmp(tok, ".") == 0) {
			state = 0;
		} else if (strcmp(tok, ";") == 0) {
			state = 1;
		} else if (strcmp(tok, ",") == 0) {
			state = 2;
		} else if (state == 0) {
			free(subj);
			subj = params_ttl_iri(tok, prefixes);
			state = 1;
		} else if (state == 1) {
			free(pred);
			pred = params_ttl_iri(tok, prefixes);
			state = 2;
		} else if (state == 2) {
			obj = params_ttl_iri(tok, prefixes);
			if (subj != NULL && pred != NULL && obj != NULL)
				params_onto_rel(g, subj, pred, obj);
			free(obj);
			obj = NULL;
			state = 3;
		}
		free(tok);
	}
	free(subj);
	free(pred);
	json_decref(prefixes);
}

/* The relation graph of the ontologies at the schema URIs (a JSON array of
 * strings); files that cannot be read are skipped. New reference. */
static json_t *
params_onto_load(const json_t *schemas)
{
	json_t *g = json_object();
	const json_t *s;
	struct cwld_err err;
	char *path, *text;
	const char *t;
	size_t i, len;

	json_array_foreach(schemas, i, s) {
		if (!json_is_string(s) ||
		    (path = uri_to_path(json_string_value(s))) == NULL)
			continue;
		text = fs_read_file(path, PARAMS_ONTO_MAX, &len, &err);
		free(path);
		if (text == NULL)
			continue;
		for (t = text; *t == ' ' || *t == '\t' || *t == '\n' || *t == '\r'; t++)
			;
		if (*t == '<')
			params_onto_xml(g, text);
		else
			params_onto_ttl(g, text);
		free(text);
	}
	return g;
}

/* Non-zero when format fmt is cls or, through the graph, a subclass or
 * equivalent of it (as cwltool's formatSubclassOf). */
static int
params_onto_reaches(const json_t *g, const char *fmt, const char *cls)
{
	json_t *queue = json_array(), *seen = json_object(), *e;
	const char *cur;
	size_t i, head = 0;
	int found = 0;

	json_array_append_new(queue, json_string(fmt));
	json_object_set_new(seen, fmt, json_true());
	while (head < json_array_size(queue) && !found) {
		cur = json_string_value(json_array_get(queue, head++));
		if (strcmp(cur, cls) == 0) {
			found = 1;
			break;
		}
		json_array_foreach(json_object_get(g, cur), i, e) {
			if (json_object_get(seen, json_string_value(e)) != NULL)
				continue;
			json_object_set_new(seen, json_string_value(e), json_true());
			json_array_append(queue, e);
		}
	}
	json_decref(queue);
	json_decref(seen);
	return found;
}

/* Checks a File's "format" against a parameter's (a string or list of
 * strings; expressions are not checked here). A File without a format
 * passes. */
static int
params_check_format(const json_t *file, const json_t *spec,
    struct cwld_err *err)
{
	const json_t *want = json_object_get(spec, "format"), *w;
	const json_t *schemas = json_object_get(spec, "cwld:schemas");
	const char *fmt = json_string_value(json_object_get(file, "format"));
	json_t *g = NULL, *list = NULL;
	size_t i;
	int ok = 0;

	if (fmt == NULL || want == NULL || json_is_null(want))
		return 0;
	list = json_is_array(want) ? json_incref((json_t *)want) : json_pack("[O]", want);
	json_array_foreach(list, i, w) {
		if (!json_is_string(w) || expr_has_expression(json_string_value(w)) ||
		    strcmp(json_string_value(w), fmt) == 0) {
			ok = 1;
			goto out;
		}
	}
	if (json_array_size(schemas) == 0)
		goto out;
	g = params_onto_load(schemas);
	json_array_foreach(list, i, w) {
		if (params_onto_reaches(g, fmt, json_string_value(w))) {
			ok = 1;
			goto out;
		}
	}
out:
	if (!ok) {
		char *show = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);

		err_set(err, CWLD_EXIT_USAGE, "file '%s' has format '%s', "
		    "expected %s", json_string_value(json_object_get(file,
		    "basename")) ? json_string_value(json_object_get(file,
		    "basename")) : "?", fmt, show ? show : "another format");
		free(show);
	}
	json_decref(list);
	json_decref(g);
	return ok ? 0 : -1;
}

static int
params_complete_any(json_t *obj, void *arg)
{
	struct params_any_arg *a = arg;

	return params_complete_file_ex(obj, a->base_uri, a->with_checksum,
	    PARAMS_LISTING_NONE, a->err) == -1 ? -1 : 0;
}

static int
params_fill_value(const json_t *type, json_t *val, const json_t *spec,
    const char *base_uri, const struct params_opts *opts, const json_t *job,
    struct cwld_err *err)
{
	const json_t *t, *f;
	const char *name, *fname;
	json_t *item;
	struct params_any_arg any;
	int ll;
	size_t i;

	if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			if (params_type_matches(t, val))
				return params_fill_value(t, val, spec, base_uri,
				    opts, job, err);
		}
		return 0;
	}
	if (json_is_object(type)) {
		t = json_object_get(type, "type");
		if ((name = json_string_value(t)) == NULL)
			return params_fill_value(t, val, spec, base_uri, opts,
			    job, err);
		if (strcmp(name, "array") == 0) {
			json_array_foreach(val, i, item) {
				if (params_fill_value(json_object_get(type,
				    "items"), item, spec, base_uri, opts, job,
				    err) == -1)
					return -1;
			}
			return 0;
		}
		if (strcmp(name, "record") == 0) {
			json_array_foreach(json_object_get(type, "fields"), i,
			    f) {
				fname = json_string_value(json_object_get(f,
				    "name"));
				item = fname ? json_object_get(val, fname) :
				    NULL;
				if (item == NULL)
					continue;
				if (params_fill_value(json_object_get(f,
				    "type"), item, f, base_uri, opts, job,
				    err) == -1) {
					err_prefix(err, "field '%s'", fname);
					return -1;
				}
			}
			return 0;
		}
		if (strcmp(name, "enum") == 0)
			return 0;
		return params_fill_value(t, val, spec, base_uri, opts, job,
		    err);
	}
	if ((name = json_string_value(type)) == NULL)
		return 0;
	if (strcmp(name, "Any") == 0) {
		any.base_uri = base_uri;
		any.with_checksum = opts->with_checksum;
		any.err = err;
		return params_walk_files(val, params_complete_any, &any);
	}
	if (strcmp(name, "File") != 0 && strcmp(name, "Directory") != 0)
		return 0;
	ll = params_listing_parse(json_string_value(json_object_get(spec,
	    "loadListing")));
	if (ll == -1)
		ll = (int)opts->listing;
	if (params_complete_file_ex(val, base_uri, opts->with_checksum,
	    (enum params_listing)ll, err) == -1)
		return -1;
	if (strcmp(name, "File") != 0)
		return 0;
	if (params_check_format(val, spec, err) == -1)
		return -1;
	if (json_is_true(json_object_get(spec, "loadContents")) &&
	    json_object_get(val, "path") != NULL &&
	    params_load_contents(val, err) == -1)
		return -1;
	return params_sf_apply(val, json_object_get(spec, "secondaryFiles"), 1,
	    opts->with_checksum, !opts->no_discover, opts->ex, job, NULL, err);
}

json_t *
params_fill_inputs_ex(const json_t *inputs, const json_t *job,
    const char *base_uri, const struct params_opts *opts,
    struct cwld_err *err)
{
	static const struct params_opts none;
	const json_t *inp, *type, *v;
	const char *id;
	json_t *out = NULL, *val = NULL, *ret = NULL;
	char *tname = NULL;
	size_t i;

	if (opts == NULL)
		opts = &none;
	if (!json_is_array(inputs)) {
		err_set(err, CWLD_EXIT_USAGE, "process inputs are not a list");
		goto out;
	}
	if (job != NULL && !json_is_null(job) && !json_is_object(job)) {
		err_set(err, CWLD_EXIT_USAGE, "job inputs are not an object");
		goto out;
	}
	out = json_object();
	json_array_foreach(inputs, i, inp) {
		if ((id = json_string_value(json_object_get(inp, "id"))) ==
		    NULL) {
			err_set(err, CWLD_EXIT_USAGE, "input %zu has no id", i);
			goto out;
		}
		type = json_object_get(inp, "type");
		v = json_is_object(job) ? json_object_get(job, id) : NULL;
		if (v == NULL || json_is_null(v))
			v = json_object_get(inp, "default");
		val = v != NULL ? json_deep_copy(v) : json_null();
		if (!params_type_matches(type, val)) {
			tname = params_type_name(type);
			if (json_is_null(val))
				err_set(err, CWLD_EXIT_USAGE, "missing required "
				    "input '%s' (expected %s)", id, tname);
			else
				err_set(err, CWLD_EXIT_USAGE, "input '%s': "
				    "expected %s, got %s", id, tname,
				    params_value_kind(val));
			goto out;
		}
		if (params_fill_value(type, val, inp, base_uri, opts, job,
		    err) == -1) {
			if (err != NULL)
				err->code = CWLD_EXIT_USAGE;
			err_prefix(err, "input '%s'", id);
			goto out;
		}
		json_object_set_new(out, id, val);
		val = NULL;
	}
	ret = out;
	out = NULL;
out:
	json_decref(out);
	json_decref(val);
	free(tname);
	return ret;
}

json_t *
params_fill_inputs(const json_t *inputs, const json_t *job,
    const char *base_uri, struct cwld_err *err)
{
	return params_fill_inputs_ex(inputs, job, base_uri, NULL, err);
}

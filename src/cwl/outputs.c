/* Output collection for a CommandLineTool that has run: cwl.output.json when
 * the tool wrote one, otherwise each output's glob (confined to the output
 * directory), loadContents, outputEval, secondaryFiles and format, then type
 * coercion and checking. Files get location, size and sha1 checksum; moving
 * them to their final place is the engine's business. */
#include <sys/stat.h>
#include <errno.h>
#include <math.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/outputs.h"
#include "cwld/expr.h"
#include "cwld/fs.h"
#include "cwld/params.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define OUTPUTS_JSON_MAX (64u * 1024 * 1024)

struct outputs_ctx {
	const json_t *tool;
	const json_t *inputs;
	const json_t *runtime;
	struct expr_ctx *ex;
	char *outdir;      /* absolute, normalised host path */
	char *outreal;     /* realpath of outdir */
	char *outuri;      /* file:///.../outdir/ */
	const char *rt_outdir; /* runtime.outdir when it differs from outdir */
	enum params_listing listing; /* LoadListingRequirement or version */
};

static json_t *outputs_eval(struct outputs_ctx *c, const json_t *v,
    const json_t *self, struct cwld_err *err);
static char *outputs_under(const char *path, const char *dir);
static char *outputs_map_path(struct outputs_ctx *c, const char *path);
static char *outputs_glob_escape(const char *s);
static int outputs_glob(struct outputs_ctx *c, const char *pattern,
    json_t *files, enum params_listing listing, struct cwld_err *err);
static int outputs_write_literal(struct outputs_ctx *c, json_t *obj,
    struct cwld_err *err);
static int outputs_finish(struct outputs_ctx *c, json_t *v,
    struct cwld_err *err);
static int outputs_wants_single(const json_t *type);
static const json_t *outputs_core_type(const json_t *type);
static json_t *outputs_collect_param(struct outputs_ctx *c, const json_t *p,
    const char *name, struct cwld_err *err);
static json_t *outputs_from_json(struct outputs_ctx *c, const char *path,
    struct cwld_err *err);
static const char *outputs_req_listing(const json_t *tool);
static int outputs_is_file(const json_t *v);

static int
outputs_is_file(const json_t *v)
{
	const char *c = json_string_value(json_object_get(v, "class"));

	return c != NULL && strcmp(c, "File") == 0;
}

static json_t *
outputs_eval(struct outputs_ctx *c, const json_t *v, const json_t *self,
    struct cwld_err *err)
{
	const char *s = json_string_value(v);

	if (s == NULL || !expr_has_expression(s))
		return json_deep_copy(v);
	if (c->ex == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "no expression evaluator for "
		    "'%s'", s);
		return NULL;
	}
	return expr_eval(c->ex, s, c->inputs, self, c->runtime, err);
}

/* The part of path below dir ("" for dir itself), or NULL. New string. */
static char *
outputs_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return xstrdup(path[0] == '/' ? path + 1 : path);
	if (strncmp(path, dir, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return xstrdup("");
	if (path[n] != '/')
		return NULL;
	return xstrdup(path + n + 1);
}

/* A container path under runtime.outdir becomes the host path; anything
 * else is returned as is. New string. */
static char *
outputs_map_path(struct outputs_ctx *c, const char *path)
{
	char *rest, *ret;

	if (c->rt_outdir == NULL ||
	    (rest = outputs_under(path, c->rt_outdir)) == NULL)
		return xstrdup(path);
	ret = rest[0] == '\0' ? xstrdup(c->outdir) : fs_join(c->outdir, rest);
	free(rest);
	return ret;
}

static char *
outputs_glob_escape(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = xreallocarray(NULL, n + 1, 2);

	for (i = 0; i < n; i++) {
		if (strchr("*?[]\\", s[i]) != NULL)
			out[o++] = '\\';
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

struct outputs_find {
	const char *real;
	int found;
};

static int
outputs_find_input(json_t *obj, void *arg)
{
	struct outputs_find *f = arg;
	const char *p = json_string_value(json_object_get(obj, "path"));
	char *r, *in;

	if (p == NULL || (r = realpath(p, NULL)) == NULL)
		return 0;
	in = outputs_under(f->real, r);
	f->found = in != NULL;
	free(in);
	free(r);
	return f->found;
}

/* New string (non-NULL) when real is an input File or Directory of the
 * invocation, or inside one. */
static char *
outputs_input_target(struct outputs_ctx *c, const char *real)
{
	struct outputs_find f = { real, 0 };

	params_walk_files((json_t *)c->inputs, outputs_find_input, &f);
	return f.found ? xstrdup("") : NULL;
}

static int
outputs_glob(struct outputs_ctx *c, const char *pattern, json_t *files,
    enum params_listing listing, struct cwld_err *err)
{
	glob_t g;
	int have_g = 0, grc, rc = -1, linked;
	char *rel = NULL, *esc = NULL, *full = NULL, *norm = NULL;
	char *real = NULL, *uri = NULL, *inside = NULL;
	json_t *obj = NULL;
	size_t i;

	if (pattern[0] == '/') {
		if ((c->rt_outdir == NULL ||
		    (rel = outputs_under(pattern, c->rt_outdir)) == NULL) &&
		    (rel = outputs_under(pattern, c->outdir)) == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "glob '%s' is outside "
			    "the output directory", pattern);
			goto out;
		}
	} else {
		rel = xstrdup(pattern);
	}
	esc = outputs_glob_escape(c->outdir);
	full = xasprintf("%s/%s", esc, rel[0] != '\0' ? rel : ".");
	grc = glob(full, 0, NULL, &g);
	have_g = 1;
	if (grc == GLOB_NOMATCH) {
		rc = 0;
		goto out;
	}
	if (grc != 0) {
		err_set(err, CWLD_EXIT_FAILED, "glob '%s' failed", pattern);
		goto out;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		free(norm);
		free(inside);
		norm = fs_abspath(g.gl_pathv[i]);
		if ((inside = outputs_under(norm, c->outdir)) == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "glob '%s' matches '%s' "
			    "outside the output directory", pattern, norm);
			goto out;
		}
		free(real);
		free(inside);
		inside = NULL;
		if ((real = realpath(norm, NULL)) == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "glob '%s': '%s': %s",
			    pattern, norm, strerror(errno));
			goto out;
		}
		/* A symlink must not carry us out of the output directory,
		 * except to an input of the invocation (staged by link). */
		linked = 0;
		if ((inside = outputs_under(real, c->outreal)) == NULL &&
		    (linked = 1, inside = outputs_input_target(c, real)) == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "glob '%s': '%s' points "
			    "outside the output directory", pattern, norm);
			goto out;
		}
		free(uri);
		/* A link to an input (in-place update) is that input. */
		uri = uri_from_path(linked ? real : norm);
		obj = json_pack("{s:s, s:s}", "class",
		    fs_is_dir(norm) ? "Directory" : "File", "location", uri);
		if (linked)
			json_object_set_new(obj, "basename",
			    json_string(strrchr(norm, '/') + 1));
		if (params_complete_file_ex(obj, NULL, 0, listing, err) == -1)
			goto out;
		json_array_append_new(files, obj);
		obj = NULL;
	}
	rc = 0;
out:
	if (have_g)
		globfree(&g);
	json_decref(obj);
	free(rel);
	free(esc);
	free(full);
	free(norm);
	free(real);
	free(uri);
	free(inside);
	return rc;
}

/* A File literal ("contents", no location) from outputEval or
 * cwl.output.json is written into the output directory. */
static int
outputs_write_literal(struct outputs_ctx *c, json_t *obj, struct cwld_err *err)
{
	const char *bn, *contents;
	char *dir = NULL, *path = NULL, *uri = NULL, *clean = NULL;
	int rc = -1;

	contents = json_string_value(json_object_get(obj, "contents"));
	bn = json_string_value(json_object_get(obj, "basename"));
	clean = fs_basename(bn != NULL && bn[0] != '\0' ? bn : "literal");
	if (strcmp(clean, "..") == 0 || strcmp(clean, ".") == 0 ||
	    strcmp(clean, "/") == 0) {
		err_set(err, CWLD_EXIT_FAILED, "bad basename '%s'", clean);
		goto out;
	}
	path = fs_join(c->outdir, clean);
	if (fs_exists(path)) {
		if ((dir = fs_mkdtemp(c->outdir, "literal", err)) == NULL)
			goto out;
		free(path);
		path = fs_join(dir, clean);
	}
	if (fs_write_file_atomic(path, contents,
	    json_string_length(json_object_get(obj, "contents")), err) == -1)
		goto out;
	uri = uri_from_path(path);
	json_object_set_new(obj, "location", json_string(uri));
	rc = 0;
out:
	free(dir);
	free(path);
	free(uri);
	free(clean);
	return rc;
}

/* Completes every File/Directory in v: container paths mapped to the host,
 * relative locations taken from outdir, literals written, checksums
 * computed, Directories listed in full when they have no listing. */
static int
outputs_finish(struct outputs_ctx *c, json_t *v, struct cwld_err *err)
{
	const char *key, *cls, *loc, *p;
	json_t *e;
	char *path = NULL, *mapped = NULL, *uri = NULL;
	size_t i;
	int rc = -1;

	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (outputs_finish(c, e, err) == -1)
				return -1;
		}
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	cls = json_string_value(json_object_get(v, "class"));
	if (cls == NULL || (strcmp(cls, "File") != 0 &&
	    strcmp(cls, "Directory") != 0)) {
		json_object_foreach(v, key, e) {
			if (outputs_finish(c, e, err) == -1)
				return -1;
		}
		return 0;
	}
	loc = json_string_value(json_object_get(v, "location"));
	p = json_string_value(json_object_get(v, "path"));
	if (loc == NULL && p == NULL && strcmp(cls, "File") == 0 &&
	    json_is_string(json_object_get(v, "contents"))) {
		if (outputs_write_literal(c, v, err) == -1)
			goto out;
	} else if ((loc == NULL || strncmp(loc, "file:", 5) == 0 ||
	    !uri_has_scheme(loc)) && (loc != NULL || p != NULL)) {
		if ((path = params_file_path(v, c->outuri)) != NULL) {
			mapped = outputs_map_path(c, path);
			uri = uri_from_path(mapped);
			json_object_set_new(v, "location", json_string(uri));
			json_object_del(v, "path");
		}
	}
	if (params_complete_file_ex(v, c->outuri, 1, PARAMS_LISTING_DEEP,
	    err) == -1)
		goto out;
	rc = 0;
out:
	free(path);
	free(mapped);
	free(uri);
	return rc;
}

static int
outputs_wants_single(const json_t *type)
{
	const json_t *t;
	const char *s;
	size_t i;

	if ((s = json_string_value(type)) != NULL)
		return strcmp(s, "File") == 0 || strcmp(s, "Directory") == 0 ||
		    strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0;
	if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			if (outputs_wants_single(t))
				return 1;
		}
		return 0;
	}
	if (json_is_object(type) &&
	    !json_is_string(json_object_get(type, "type")))
		return outputs_wants_single(json_object_get(type, "type"));
	return 0;
}

/* X for "X" and ["null", X]; the type itself otherwise. */
static const json_t *
outputs_core_type(const json_t *type)
{
	const json_t *t, *other = NULL;
	size_t i, n = 0;

	if (!json_is_array(type))
		return type;
	json_array_foreach(type, i, t) {
		if (json_is_string(t) && strcmp(json_string_value(t),
		    "null") == 0)
			continue;
		other = t;
		n++;
	}
	return n == 1 ? other : type;
}

static const char *
outputs_req_listing(const json_t *tool)
{
	static const char *const keys[] = { "requirements", "hints" };
	const json_t *r;
	const char *cls;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		json_array_foreach(json_object_get(tool, keys[k]), i, r) {
			cls = json_string_value(json_object_get(r, "class"));
			if (cls != NULL &&
			    strcmp(cls, "LoadListingRequirement") == 0)
				return json_string_value(json_object_get(r,
				    "loadListing"));
		}
	}
	return NULL;
}

static json_t *
outputs_collect_param(struct outputs_ctx *c, const json_t *p,
    const char *name, struct cwld_err *err)
{
	const json_t *type = json_object_get(p, "type");
	const json_t *core = outputs_core_type(type);
	const json_t *binding = json_object_get(p, "outputBinding");
	const json_t *glob_spec = NULL, *f, *e, *sf, *fmt;
	json_t *globs = NULL, *files = NULL, *value = NULL, *ret = NULL;
	json_t *fv = NULL, *one;
	const char *cs, *fname, *pat;
	char *gnames = NULL, *tname = NULL, *tmp;
	int ll;
	size_t i;

	cs = json_string_value(core);
	if (!json_is_object(binding) && json_is_object(core) &&
	    json_is_string(json_object_get(core, "type")) &&
	    strcmp(json_string_value(json_object_get(core, "type")),
	    "record") == 0) {
		/* A record output collected field by field. */
		value = json_object();
		json_array_foreach(json_object_get(core, "fields"), i, f) {
			if ((fname = json_string_value(json_object_get(f,
			    "name"))) == NULL)
				continue;
			if ((fv = outputs_collect_param(c, f, fname, err)) ==
			    NULL)
				goto out;
			json_object_set_new(value, fname, fv);
			fv = NULL;
		}
		goto check;
	}
	if (json_is_object(binding))
		glob_spec = json_object_get(binding, "glob");
	if (glob_spec == NULL && cs != NULL && (strcmp(cs, "stdout") == 0 ||
	    strcmp(cs, "stderr") == 0)) {
		glob_spec = json_object_get(c->tool, cs);
		if (!json_is_string(glob_spec)) {
			err_set(err, CWLD_EXIT_FAILED, "no %s file name", cs);
			goto out;
		}
	}
	if (glob_spec != NULL) {
		if ((globs = outputs_eval(c, glob_spec, NULL, err)) == NULL)
			goto out;
		if (json_is_string(globs)) {
			one = globs;
			globs = json_array();
			json_array_append_new(globs, one);
		}
		if (!json_is_array(globs)) {
			err_set(err, CWLD_EXIT_FAILED, "glob is not a string "
			    "or list of strings");
			goto out;
		}
		ll = params_listing_parse(json_string_value(json_object_get(
		    binding, "loadListing")));
		if (ll == -1)
			ll = (int)c->listing;
		files = json_array();
		json_array_foreach(globs, i, e) {
			if ((fv = outputs_eval(c, e, NULL, err)) == NULL)
				goto out;
			if ((pat = json_string_value(fv)) == NULL) {
				err_set(err, CWLD_EXIT_FAILED, "glob is not a "
				    "string");
				goto out;
			}
			tmp = gnames;
			gnames = tmp == NULL ? xstrdup(pat) :
			    xasprintf("%s, %s", tmp, pat);
			free(tmp);
			if (outputs_glob(c, pat, files,
			    (enum params_listing)ll, err) == -1)
				goto out;
			json_decref(fv);
			fv = NULL;
		}
		if (json_is_true(json_object_get(binding, "loadContents")) ||
		    json_is_true(json_object_get(p, "loadContents"))) {
			json_array_foreach(files, i, e) {
				if (json_object_get(e, "path") != NULL &&
				    outputs_is_file(e) &&
				    params_load_contents((json_t *)e, err) ==
				    -1)
					goto out;
			}
		}
	}
	if (json_is_object(binding) &&
	    json_object_get(binding, "outputEval") != NULL) {
		if (files == NULL)
			files = json_array();
		/* outputEval may read self[i].checksum: compute it now. */
		json_array_foreach(files, i, e) {
			const char *fp = json_string_value(json_object_get(e, "path"));
			char sum[64];

			if (fp != NULL && outputs_is_file(e) &&
			    json_object_get(e, "checksum") == NULL) {
				if (fs_sha1_file(fp, sum, sizeof sum, err) == -1)
					goto out;
				json_object_set_new((json_t *)e, "checksum", json_string(sum));
			}
		}
		if ((value = outputs_eval(c, json_object_get(binding,
		    "outputEval"), files, err)) == NULL)
			goto out;
	} else if (files != NULL) {
		value = files;
		files = NULL;
	} else {
		value = json_null();
	}
	/* A single File/Directory type takes the only match. */
	if (json_is_array(value) && !params_type_matches(type, value) &&
	    outputs_wants_single(type)) {
		if (json_array_size(value) > 1) {
			err_set(err, CWLD_EXIT_FAILED, "%zu files match glob "
			    "'%s' but the type is a single %s",
			    json_array_size(value), gnames ? gnames : "",
			    cs != NULL && strcmp(cs, "Directory") == 0 ?
			    "Directory" : "File");
			goto out;
		}
		one = json_array_size(value) == 1 ?
		    json_incref(json_array_get(value, 0)) : json_null();
		json_decref(value);
		value = one;
	}
	if (outputs_finish(c, value, err) == -1)
		goto out;
	sf = json_object_get(p, "secondaryFiles");
	fmt = json_object_get(p, "format");
	if (sf != NULL || fmt != NULL) {
		json_t *list = json_is_array(value) ? value : NULL;
		size_t n = list != NULL ? json_array_size(list) : 1;

		for (i = 0; i < n; i++) {
			one = list != NULL ? json_array_get(list, i) : value;
			if (!json_is_object(one) || !outputs_is_file(one))
				continue;
			if (sf != NULL && (params_add_secondary_files(one, sf,
			    0, 1, c->ex, c->inputs, c->runtime, err) == -1 ||
			    outputs_finish(c, json_object_get(one,
			    "secondaryFiles"), err) == -1))
				goto out;
			if (fmt != NULL) {
				if ((fv = outputs_eval(c, fmt, one, err)) ==
				    NULL)
					goto out;
				json_object_set_new(one, "format", fv);
				fv = NULL;
			}
		}
	}
check:
	if (!params_type_matches(type, value)) {
		tname = params_type_name(type);
		if (json_is_null(value) && gnames != NULL)
			err_set(err, CWLD_EXIT_FAILED, "no file matches glob "
			    "'%s'", gnames);
		else if (json_is_null(value))
			err_set(err, CWLD_EXIT_FAILED, "missing required "
			    "output (expected %s)", tname);
		else
			err_set(err, CWLD_EXIT_FAILED, "expected %s, got %s",
			    tname, json_is_array(value) ? "array" :
			    json_is_object(value) ? "object" :
			    json_is_string(value) ? "string" :
			    json_is_boolean(value) ? "boolean" : "number");
		goto out;
	}
	ret = value;
	value = NULL;
out:
	if (ret == NULL && name != NULL) {
		if (err != NULL)
			err->code = CWLD_EXIT_FAILED;
		err_prefix(err, "output '%s'", name);
	}
	json_decref(globs);
	json_decref(files);
	json_decref(value);
	json_decref(fv);
	free(gnames);
	free(tname);
	return ret;
}

/* Turns integral reals that fit in 2^53 back into integers, in place. */
static void
outputs_ints_back(json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	double d;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			item = json_array_get(v, i);
			d = json_is_real(item) ? json_real_value(item) : 0.5;
			if (d == floor(d) && fabs(d) <= 9007199254740992.0)
				json_array_set_new(v, i, json_integer((json_int_t)d));
			else
				outputs_ints_back(item);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item) {
			d = json_is_real(item) ? json_real_value(item) : 0.5;
			if (d == floor(d) && fabs(d) <= 9007199254740992.0)
				json_object_set_new(v, key, json_integer((json_int_t)d));
			else
				outputs_ints_back(item);
		}
	}
}

static json_t *
outputs_from_json(struct outputs_ctx *c, const char *path,
    struct cwld_err *err)
{
	json_error_t jerr;
	json_t *doc = NULL, *res = NULL, *ret = NULL, *v = NULL;
	const json_t *o;
	const char *id;
	char *buf = NULL, *tname = NULL;
	size_t len = 0, i;

	if ((buf = fs_read_file(path, OUTPUTS_JSON_MAX, &len, err)) == NULL)
		goto out;
	if ((doc = json_loadb(buf, len, 0, &jerr)) == NULL &&
	    strstr(jerr.text, "too big integer") != NULL) {
		/* Integers beyond 64 bits (1e42 written out) are read as
		 * reals; the others stay integers. */
		if ((doc = json_loadb(buf, len, JSON_DECODE_INT_AS_REAL,
		    &jerr)) != NULL)
			outputs_ints_back(doc);
	}
	if (doc == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "cwl.output.json:%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(doc)) {
		err_set(err, CWLD_EXIT_FAILED, "cwl.output.json is not an "
		    "object");
		goto out;
	}
	res = json_object();
	json_array_foreach(json_object_get(c->tool, "outputs"), i, o) {
		if ((id = json_string_value(json_object_get(o, "id"))) == NULL)
			continue;
		v = json_object_get(doc, id);
		v = v != NULL ? json_incref(v) : json_null();
		if (outputs_finish(c, v, err) == -1) {
			err_prefix(err, "output '%s'", id);
			goto out;
		}
		if (!params_type_matches(json_object_get(o, "type"), v)) {
			tname = params_type_name(json_object_get(o, "type"));
			err_set(err, CWLD_EXIT_FAILED, "output '%s': "
			    "cwl.output.json does not give a %s", id, tname);
			goto out;
		}
		json_object_set_new(res, id, v);
		v = NULL;
	}
	ret = res;
	res = NULL;
out:
	if (ret == NULL && err != NULL)
		err->code = CWLD_EXIT_FAILED;
	json_decref(doc);
	json_decref(res);
	json_decref(v);
	free(buf);
	free(tname);
	return ret;
}

json_t *
outputs_collect(const json_t *tool, const json_t *inputs,
    const json_t *runtime, const char *outdir, struct expr_ctx *ex,
    struct cwld_err *err)
{
	struct outputs_ctx c;
	const json_t *o;
	const char *id, *ver, *rto;
	json_t *res = NULL, *v, *ret = NULL;
	char *jpath = NULL, *u = NULL;
	int ll;
	size_t i;

	memset(&c, 0, sizeof c);
	c.tool = tool;
	c.inputs = inputs;
	c.runtime = runtime;
	c.ex = ex;
	c.outdir = fs_abspath(outdir);
	if ((c.outreal = realpath(c.outdir, NULL)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "output directory '%s': %s",
		    c.outdir, strerror(errno));
		goto out;
	}
	u = uri_from_path(c.outdir);
	c.outuri = xasprintf("%s/", u);
	rto = json_string_value(json_object_get(runtime, "outdir"));
	if (rto != NULL && rto[0] == '/' && strcmp(rto, c.outdir) != 0)
		c.rt_outdir = rto;
	ll = params_listing_parse(outputs_req_listing(tool));
	ver = json_string_value(json_object_get(tool, "cwlVersion"));
	if (ll == -1)
		ll = ver != NULL && strcmp(ver, "v1.0") == 0 ?
		    PARAMS_LISTING_DEEP : PARAMS_LISTING_NONE;
	c.listing = (enum params_listing)ll;

	jpath = fs_join(c.outdir, "cwl.output.json");
	if (fs_exists(jpath)) {
		ret = outputs_from_json(&c, jpath, err);
		goto out;
	}
	res = json_object();
	json_array_foreach(json_object_get(tool, "outputs"), i, o) {
		if ((id = json_string_value(json_object_get(o, "id"))) ==
		    NULL) {
			err_set(err, CWLD_EXIT_FAILED, "output %zu has no id",
			    i);
			goto out;
		}
		if ((v = outputs_collect_param(&c, o, id, err)) == NULL)
			goto out;
		json_object_set_new(res, id, v);
	}
	ret = res;
	res = NULL;
out:
	json_decref(res);
	free(c.outdir);
	free(c.outreal);
	free(c.outuri);
	free(u);
	free(jpath);
	return ret;
}

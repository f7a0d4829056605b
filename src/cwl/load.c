/* Loads CWL documents (v1.0-v1.3.0-dev1) into the one normalised process
 * shape described in load.h: fetching and caching files, $import/$include,
 * $namespaces, $graph selection, short ids, named types, structural checks.
 * Types and field tables live in schema.c; expressions are never evaluated
 * here (the engine does that), and nothing is run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/fs.h"
#include "cwld/load.h"
#include "cwld/schema.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

#define LOAD_MAX_RUN_DEPTH 64
#define LOAD_MAX_IMPORT_DEPTH 64
/* what one load_process may build: a type node costs 1, a process 1000 */
#define LOAD_BUDGET ((size_t)4 * 1000 * 1000)

struct load_ctx {
	struct yaml_srcmap *map;
	json_t *docs;   /* document URI -> preprocessed document */
	json_t *bases;  /* "%p" of a node spliced in by $import -> its URI */
	json_t *busy;   /* URIs being fetched or loaded: cycle guard */
	json_t *types;  /* full type name -> {"def": node, "base": uri} */
	json_t *ns;     /* $namespaces prefix -> URI, merged over documents */
	json_t *schemas; /* $schemas as absolute URIs, merged likewise */
	json_t *swept;  /* documents whose named types are registered */
	json_t *procs;  /* "uri\nversion" -> [normalised process, budget it
	                 * took]: steps that run the same document share one
	                 * (read-only) copy */
	const json_t *root; /* fallback node for messages */
	const char *file;   /* fallback file for messages */
	char *top_uri;      /* the document asked for, and the path the user */
	char *top_path;     /* wrote for it (messages name that path) */
	int depth;
	size_t budget;      /* type nodes and processes left for this load */
	load_guard_fn guard; /* asked before any file is read, or NULL */
	void *guard_arg;
};

/* One process being normalised. */
struct load_proc {
	struct load_ctx *ctx;
	const char *base;    /* URI of the defining document */
	const char *id;      /* full id of the process */
	const char *klass;
	const char *vstr;
	int version;
	json_t *out;         /* the normalised process being built (borrowed) */
	const json_t *raw;   /* the raw process node */
};

static int load_fail(struct load_ctx *, int, const json_t *, const json_t *,
    struct cwld_err *, const char *, ...) __attribute__((format(printf, 6, 7)));

struct load_ctx *
load_ctx_new(void)
{
	struct load_ctx *ctx = xcalloc(1, sizeof *ctx);

	ctx->map = yaml_srcmap_new();
	ctx->docs = json_object();
	ctx->bases = json_object();
	ctx->busy = json_object();
	ctx->types = json_object();
	ctx->ns = json_object();
	ctx->schemas = json_array();
	ctx->swept = json_object();
	ctx->procs = json_object();
	return ctx;
}

void
load_ctx_free(struct load_ctx *ctx)
{
	if (ctx == NULL)
		return;
	json_decref(ctx->docs);
	json_decref(ctx->bases);
	json_decref(ctx->busy);
	json_decref(ctx->types);
	json_decref(ctx->ns);
	json_decref(ctx->schemas);
	json_decref(ctx->swept);
	json_decref(ctx->procs);
	free(ctx->top_uri);
	free(ctx->top_path);
	yaml_srcmap_free(ctx->map);
	free(ctx);
}

struct yaml_srcmap *
load_ctx_srcmap(struct load_ctx *ctx)
{
	return ctx->map;
}

void
load_where(struct load_ctx *ctx, const json_t *node, char *buf, size_t len)
{
	const char *file;
	int line, col;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (ctx != NULL && node != NULL &&
	    yaml_srcmap_find(ctx->map, node, &file, &line, &col) == 0)
		snprintf(buf, len, "%s:%d:%d: ", file, line, col);
}

/* Sets err to "file:line:col: message" at node, else at parent, else at the
 * document being read. Returns -1. */
static int
load_fail(struct load_ctx *ctx, int code, const json_t *node,
    const json_t *parent, struct cwld_err *err, const char *fmt, ...)
{
	char msg[768], *p;
	const char *file;
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (p = msg; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' '; /* names quoted from the document stay on one line */
	}
	if ((node != NULL &&
	    yaml_srcmap_find(ctx->map, node, &file, &line, &col) == 0) ||
	    (parent != NULL &&
	    yaml_srcmap_find(ctx->map, parent, &file, &line, &col) == 0) ||
	    (ctx->root != NULL &&
	    yaml_srcmap_find(ctx->map, ctx->root, &file, &line, &col) == 0))
		return err_set(err, code, "%s:%d:%d: %s", file, line, col, msg);
	return err_set(err, code, "%s:1:1: %s",
	    ctx->file != NULL ? ctx->file : "<input>", msg);
}

/* Records node at the position of orig (new nodes keep their origin). */
static void
load_mark(struct load_ctx *ctx, const json_t *node, const json_t *orig)
{
	const char *file;
	int line, col;

	if (node == NULL || orig == NULL || node == orig)
		return;
	if (yaml_srcmap_find(ctx->map, orig, &file, &line, &col) == 0)
		yaml_srcmap_add(ctx->map, node, file, line, col);
}

static void
load_key(const json_t *node, char *buf, size_t len)
{
	snprintf(buf, len, "%p", (const void *)node);
}

/* The base URI to use inside node: the document it was $import-ed from, or
 * base when it was not. Borrowed. */
static const char *
load_base_of(struct load_ctx *ctx, const json_t *node, const char *base)
{
	char key[32];
	json_t *b;

	if (!json_is_object(node) && !json_is_array(node))
		return base;
	load_key(node, key, sizeof key);
	b = json_object_get(ctx->bases, key);
	return b != NULL ? json_string_value(b) : base;
}

/* Last '/'-separated part of the fragment of an id ("#main/step/x" -> "x",
 * "file:///a.cwl#x" -> "x", "x" -> "x"). New string. */
static char *
load_shortname(const char *id)
{
	const char *s = id, *h, *slash;

	h = strchr(s, '#');
	if (h != NULL)
		s = h + 1;
	else if (uri_has_scheme(s)) {
		slash = strrchr(s, '/');
		return xstrdup(slash != NULL ? slash + 1 : s);
	}
	slash = strrchr(s, '/');
	return xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 : s);
}

/* ---- fetching and $import/$include -------------------------------------- */

static json_t *load_fetch(struct load_ctx *, const char *, const json_t *,
    int, struct cwld_err *);

/* Finds the object with id frag (or its $graph entry) inside doc; borrowed. */
static json_t *
load_find_id(const json_t *doc, const char *docuri, const char *frag)
{
	const json_t *list = doc;
	json_t *v, *id;
	const char *s, *f;
	size_t i;

	if (json_is_object(doc)) {
		id = json_object_get(doc, "id");
		if (json_is_string(id)) {
			s = json_string_value(id);
			f = uri_fragment(s);
			if (strcmp(f != NULL ? f : (s[0] == '#' ? s + 1 : s), frag) == 0)
				return (json_t *)doc;
		}
		list = json_object_get(doc, "$graph");
	}
	(void)docuri;
	if (!json_is_array(list))
		return NULL;
	json_array_foreach(list, i, v) {
		id = json_object_get(v, "id");
		if (!json_is_string(id))
			continue;
		s = json_string_value(id);
		f = uri_fragment(s);
		if (f == NULL)
			f = s;
		if (strcmp(f, frag) == 0)
			return v;
	}
	return NULL;
}

/* Returns a new reference to what node becomes once $import and $include
 * inside it are replaced, changing containers in place. NULL on error. */
static json_t *
load_expand(struct load_ctx *ctx, json_t *node, const char *base, int depth,
    struct cwld_err *err)
{
	json_t *v, *r, *ret = NULL, *doc;
	char *uri = NULL, *docuri = NULL, *path = NULL, *text = NULL;
	const char *key, *frag;
	void *tmp;
	size_t i, len;
	char k[32];

	if (depth > LOAD_MAX_IMPORT_DEPTH) {
		load_fail(ctx, CWLD_EXIT_USAGE, node, NULL, err, "document nested too deeply");
		goto out;
	}
	if (json_is_object(node)) {
		if ((v = json_object_get(node, "$import")) != NULL) {
			if (!json_is_string(v)) {
				load_fail(ctx, CWLD_EXIT_USAGE, v, node, err, "'$import' must be a string");
				goto out;
			}
			uri = uri_resolve(base, json_string_value(v));
			docuri = uri_strip_fragment(uri);
			doc = load_fetch(ctx, docuri, v, depth + 1, err);
			if (doc == NULL)
				goto out;
			frag = uri_fragment(uri);
			if (frag != NULL && *frag != '\0') {
				doc = load_find_id(doc, docuri, frag);
				if (doc == NULL) {
					load_fail(ctx, CWLD_EXIT_USAGE, v, node, err,
					    "'%s' not found in '%s'", frag, docuri);
					goto out;
				}
			}
			if (json_is_object(doc) || json_is_array(doc)) {
				load_key(doc, k, sizeof k);
				json_object_set_new(ctx->bases, k, json_string(docuri));
			}
			ret = json_incref(doc);
			goto out;
		}
		if ((v = json_object_get(node, "$include")) != NULL) {
			if (!json_is_string(v)) {
				load_fail(ctx, CWLD_EXIT_USAGE, v, node, err, "'$include' must be a string");
				goto out;
			}
			uri = uri_resolve(base, json_string_value(v));
			path = uri_to_path(uri);
			if (path == NULL) {
				load_fail(ctx, CWLD_EXIT_USAGE, v, node, err,
				    "cannot include '%s': not a file", uri);
				goto out;
			}
			if (ctx->guard && ctx->guard(ctx->guard_arg, path, err) != 0) {
				struct cwld_err why = *err;

				load_fail(ctx, why.code ? why.code : CWLD_EXIT_USAGE, v, node, err,
				    "cannot include '%s': %s", json_string_value(v), why.msg);
				goto out;
			}
			text = fs_read_file(path, YAML_MAX_BYTES, &len, err);
			if (text == NULL) {
				load_fail(ctx, CWLD_EXIT_USAGE, v, node, err,
				    "cannot include '%s'", json_string_value(v));
				goto out;
			}
			ret = json_stringn(text, len);
			if (ret == NULL) {
				load_fail(ctx, CWLD_EXIT_USAGE, v, node, err,
				    "'%s' is not UTF-8 text", json_string_value(v));
				goto out;
			}
			load_mark(ctx, ret, node);
			goto out;
		}
		json_object_foreach_safe(node, tmp, key, v) {
			r = load_expand(ctx, v, base, depth + 1, err);
			if (r == NULL)
				goto out;
			if (r != v)
				json_object_set_new(node, key, r);
			else
				json_decref(r);
		}
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v) {
			r = load_expand(ctx, v, base, depth + 1, err);
			if (r == NULL)
				goto out;
			if (r != v)
				json_array_set_new(node, i, r);
			else
				json_decref(r);
		}
	}
	ret = json_incref(node);
out:
	free(uri);
	free(docuri);
	free(path);
	free(text);
	return ret;
}

/* Returns the document at docuri (no fragment), parsed and expanded, from the
 * cache; borrowed. at is where it was asked for (messages). */
static json_t *
load_fetch(struct load_ctx *ctx, const char *docuri, const json_t *at, int depth,
    struct cwld_err *err)
{
	json_t *doc, *raw = NULL, *ns, *v;
	char *path = NULL, *sch = NULL;
	const char *key, *ofile = ctx->file;
	size_t i;
	const json_t *oroot = ctx->root;

	doc = json_object_get(ctx->docs, docuri);
	if (doc != NULL)
		return doc;
	doc = NULL;
	if (json_object_get(ctx->busy, docuri) != NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, at, NULL, err,
		    "'%s' imports itself", docuri);
		goto out;
	}
	path = uri_to_path(docuri);
	if (path == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, at, NULL, err,
		    "cannot fetch '%s': only local files are supported", docuri);
		goto out;
	}
	if (!fs_exists(path) || fs_is_dir(path)) {
		if (at == NULL)
			err_set(err, CWLD_EXIT_USAGE, "%s: no such file", path);
		else
			load_fail(ctx, CWLD_EXIT_USAGE, at, NULL, err,
			    "cannot read '%s': no such file", path);
		goto out;
	}
	if (ctx->top_uri != NULL && ctx->top_path != NULL &&
	    strcmp(docuri, ctx->top_uri) == 0) {
		free(path);
		path = xstrdup(ctx->top_path);
	}
	if (ctx->guard && ctx->guard(ctx->guard_arg, path, err) != 0) {
		if (at != NULL) {
			struct cwld_err why = *err;

			load_fail(ctx, why.code ? why.code : CWLD_EXIT_USAGE, at, NULL, err,
			    "cannot read '%s': %s", path, why.msg);
		}
		goto out;
	}
	raw = yaml_parse_file(path, ctx->map, err);
	if (raw == NULL)
		goto out;
	ctx->file = path;
	ctx->root = raw;
	json_object_set_new(ctx->busy, docuri, json_true());
	doc = load_expand(ctx, raw, docuri, depth, err);
	json_object_del(ctx->busy, docuri);
	if (doc == NULL)
		goto out;
	ns = json_object_get(doc, "$namespaces");
	if (json_is_object(ns)) {
		json_object_foreach(ns, key, v) {
			if (json_is_string(v))
				json_object_set(ctx->ns, key, v);
		}
	}
	json_array_foreach(json_object_get(doc, "$schemas"), i, v) {
		if (json_is_string(v))
			json_array_append_new(ctx->schemas, json_string_nocheck(
			    (sch = uri_resolve(docuri, json_string_value(v)))));
		free(sch);
		sch = NULL;
	}
	json_object_set_new(ctx->docs, docuri, doc);
out:
	ctx->file = ofile;
	ctx->root = oroot;
	json_decref(raw);
	free(path);
	return doc;
}

/* ---- named types -------------------------------------------------------- */

/* New string: the full URI of a type name written in a document at base. */
static char *
load_type_fullname(const char *base, const char *name)
{
	char *doc, *ret;

	if (uri_has_scheme(name))
		return xstrdup(name);
	if (name[0] != '#' && strchr(name, '#') != NULL)
		return uri_resolve(base, name);
	doc = uri_strip_fragment(base);
	ret = xasprintf("%s#%s", doc, name[0] == '#' ? name + 1 : name);
	free(doc);
	return ret;
}

/* Registers every named record/enum below node (SchemaDefRequirement types
 * and inline named types) under its full name. */
static void
load_sweep_types(struct load_ctx *ctx, const json_t *node, const char *base,
    int depth)
{
	json_t *v, *t, *n, *ent;
	const char *key;
	char *full;
	size_t i;

	if (depth > YAML_MAX_DEPTH + LOAD_MAX_IMPORT_DEPTH)
		return;
	base = load_base_of(ctx, node, base);
	if (json_is_object(node)) {
		t = json_object_get(node, "type");
		n = json_object_get(node, "name");
		if (json_is_string(t) && json_is_string(n) &&
		    (strcmp(json_string_value(t), "record") == 0 ||
		    strcmp(json_string_value(t), "enum") == 0 ||
		    strcmp(json_string_value(t), "array") == 0)) {
			full = load_type_fullname(base, json_string_value(n));
			if (json_object_get(ctx->types, full) == NULL) {
				ent = json_pack("{sOss}", "def", node, "base", base);
				json_object_set_new(ctx->types, full, ent);
			}
			free(full);
		}
		json_object_foreach((json_t *)node, key, v) {
			if (strcmp(key, "default") != 0)
				load_sweep_types(ctx, v, base, depth + 1);
		}
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			load_sweep_types(ctx, v, base, depth + 1);
	}
}

/* Finds the definition of a named type; borrowed def and base. */
static int
load_type_lookup(struct load_ctx *ctx, const char *name, const char *base,
    json_t **def, const char **defbase)
{
	char *full = load_type_fullname(base, name);
	const char *key, *f, *kf, *last, *klast;
	json_t *ent, *v;
	int rc = -1;

	ent = json_object_get(ctx->types, full);
	if (ent == NULL) {
		/* scoped names ("#wf/Rec", "Rec" seen from another scope):
		 * match the fragment, then its last part */
		f = uri_fragment(full);
		f = f != NULL ? f : full;
		last = strrchr(f, '/');
		last = last != NULL ? last + 1 : f;
		json_object_foreach(ctx->types, key, v) {
			kf = uri_fragment(key);
			kf = kf != NULL ? kf : key;
			if (strcmp(kf, f) == 0) {
				ent = v;
				break;
			}
		}
		if (ent == NULL) {
			json_object_foreach(ctx->types, key, v) {
				kf = uri_fragment(key);
				kf = kf != NULL ? kf : key;
				klast = strrchr(kf, '/');
				klast = klast != NULL ? klast + 1 : kf;
				if (strcmp(klast, last) == 0) {
					ent = v;
					break;
				}
			}
		}
	}
	if (ent != NULL) {
		*def = json_object_get(ent, "def");
		*defbase = json_string_value(json_object_get(ent, "base"));
		rc = 0;
	}
	free(full);
	return rc;
}

static const char *const load_primitives[] = {
	"null", "boolean", "int", "long", "float", "double", "string", "File",
	"Directory", "Any", NULL,
};

static int
load_is_primitive(const char *s)
{
	size_t i;

	for (i = 0; load_primitives[i] != NULL; i++)
		if (strcmp(s, load_primitives[i]) == 0)
			return 1;
	return 0;
}

static json_t *load_type(struct load_proc *, json_t *, const json_t *,
    const char *, json_t *, int, struct cwld_err *);

/* Appends t to the union u, flattening nested unions and dropping repeats of
 * a primitive. Steals t. */
static void
load_union_add(json_t *u, json_t *t)
{
	json_t *v;
	size_t i;

	if (json_is_array(t)) {
		json_array_foreach(t, i, v)
			load_union_add(u, json_incref(v));
		json_decref(t);
		return;
	}
	if (json_is_string(t)) {
		json_array_foreach(u, i, v) {
			if (json_equal(v, t)) {
				json_decref(t);
				return;
			}
		}
	}
	json_array_append_new(u, t);
}

/* Expands a namespaced string ("edam:format_1" -> "http://...format_1");
 * new reference. */
static json_t *
load_expand_ns(struct load_ctx *ctx, json_t *s)
{
	const char *str = json_string_value(s), *colon;
	json_t *pfx, *ret;
	char *p, *full;

	if (str == NULL || (colon = strchr(str, ':')) == NULL ||
	    strncmp(colon, "://", 3) == 0)
		return json_incref(s);
	p = xstrndup(str, (size_t)(colon - str));
	pfx = json_object_get(ctx->ns, p);
	free(p);
	if (!json_is_string(pfx))
		return json_incref(s);
	full = xasprintf("%s%s", json_string_value(pfx), colon + 1);
	ret = json_string(full);
	free(full);
	if (ret == NULL)
		return json_incref(s);
	load_mark(ctx, ret, s);
	return ret;
}

/* format: a string or an array of strings, namespaces expanded. */
static json_t *
load_format(struct load_ctx *ctx, json_t *f)
{
	json_t *ret, *v;
	size_t i;

	if (!json_is_array(f))
		return load_expand_ns(ctx, f);
	ret = json_array();
	json_array_foreach(f, i, v)
		json_array_append_new(ret, load_expand_ns(ctx, v));
	load_mark(ctx, ret, f);
	return ret;
}

/* Sets obj's "format" to f expanded and, when documents named $schemas,
 * "cwld:schemas" to their URIs (params checks input formats against
 * those ontologies). */
static void
load_set_format(struct load_ctx *ctx, json_t *obj, json_t *f)
{
	json_object_set_new(obj, "format", load_format(ctx, f));
	if (json_array_size(ctx->schemas) > 0)
		json_object_set_new(obj, "cwld:schemas",
		    json_deep_copy(ctx->schemas));
}

/* A shallow copy of an object, recorded at the original's position. */
static json_t *
load_copy(struct load_ctx *ctx, json_t *obj)
{
	json_t *ret = json_object(), *b;
	const char *file;
	int line, col;
	char key[32];

	json_object_update(ret, obj);
	load_mark(ctx, ret, obj);
	/* a copy of an $import-ed object keeps its base; the srcmap keeps the
	 * copy alive so its address is not reused */
	load_key(obj, key, sizeof key);
	b = json_object_get(ctx->bases, key);
	if (b != NULL && yaml_srcmap_find(ctx->map, ret, &file, &line, &col) == 0) {
		load_key(ret, key, sizeof key);
		json_object_set(ctx->bases, key, b);
	}
	return ret;
}

/* Record fields: array of {name,type,...} or map name -> type|{...}. */
static json_t *
load_fields(struct load_proc *lp, json_t *fields, const json_t *parent,
    const char *base, json_t *stack, int depth, struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	json_t *ret = json_array(), *f = NULL, *v, *t, *n, *res = NULL;
	const char *key;
	char *name = NULL;
	size_t i;

	if (json_is_object(fields)) {
		json_object_foreach(fields, key, v) {
			if (json_is_object(v))
				f = load_copy(ctx, v);
			else {
				f = json_object();
				json_object_set(f, "type", v);
				load_mark(ctx, f, v);
			}
			json_object_set_new(f, "name", json_string(key));
			json_array_append_new(ret, f);
			f = NULL;
		}
		fields = ret;
		ret = json_array();
	} else if (json_is_array(fields)) {
		json_incref(fields);
	} else {
		load_fail(ctx, CWLD_EXIT_USAGE, fields, parent, err,
		    "'fields' must be an array or a map");
		goto out;
	}
	json_array_foreach(fields, i, v) {
		if (!json_is_object(v)) {
			load_fail(ctx, CWLD_EXIT_USAGE, v, parent, err,
			    "record field must be an object");
			goto fail;
		}
		n = json_object_get(v, "name");
		if (n == NULL)
			n = json_object_get(v, "id");
		if (!json_is_string(n)) {
			load_fail(ctx, CWLD_EXIT_USAGE, n, v, err, "record field without 'name'");
			goto fail;
		}
		t = json_object_get(v, "type");
		if (t == NULL) {
			load_fail(ctx, CWLD_EXIT_USAGE, v, parent, err,
			    "record field '%s' has no 'type'", json_string_value(n));
			goto fail;
		}
		f = load_copy(ctx, v);
		json_object_del(f, "id");
		name = load_shortname(json_string_value(n));
		json_object_set_new(f, "name", json_string(name));
		load_mark(ctx, json_object_get(f, "name"), n);
		free(name);
		name = NULL;
		res = load_type(lp, t, v, base, stack, depth + 1, err);
		if (res == NULL)
			goto fail;
		json_object_set_new(f, "type", res);
		if ((t = json_object_get(v, "format")) != NULL)
			load_set_format(ctx, f, t);
		json_array_append_new(ret, f);
		f = NULL;
	}
	json_decref(fields);
	goto out;
fail:
	json_decref(fields);
	json_decref(f);
	json_decref(ret);
	ret = NULL;
out:
	return ret;
}

/* Returns a new normalised type for t (see load.h), or NULL with err.
 * stack holds the named types being expanded (recursion guard). */
static json_t *
load_type(struct load_proc *lp, json_t *t, const json_t *parent,
    const char *base, json_t *stack, int depth, struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	json_t *ret = NULL, *inner = NULL, *v, *def, *res;
	const char *s, *defbase, *kind;
	char *sub = NULL, *sym = NULL, *full = NULL;
	size_t len, i;

	if (depth > YAML_MAX_DEPTH) {
		load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "type nested too deeply");
		goto out;
	}
	if (ctx->budget == 0) {
		load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "types expand too much");
		goto out;
	}
	ctx->budget--;
	base = load_base_of(ctx, t, base);
	if (json_is_string(t)) {
		s = json_string_value(t);
		len = strlen(s);
		if (len > 1 && s[len - 1] == '?') {
			sub = xstrndup(s, len - 1);
			inner = json_string(sub);
			load_mark(ctx, inner, t);
			res = load_type(lp, inner, parent, base, stack, depth + 1, err);
			if (res == NULL)
				goto out;
			ret = json_array();
			json_array_append_new(ret, json_string("null"));
			load_union_add(ret, res);
			load_mark(ctx, ret, t);
			goto out;
		}
		if (len > 2 && strcmp(s + len - 2, "[]") == 0) {
			sub = xstrndup(s, len - 2);
			inner = json_string(sub);
			load_mark(ctx, inner, t);
			res = load_type(lp, inner, parent, base, stack, depth + 1, err);
			if (res == NULL)
				goto out;
			ret = json_pack("{ssso}", "type", "array", "items", res);
			load_mark(ctx, ret, t);
			goto out;
		}
		if (load_is_primitive(s)) {
			ret = json_incref(t);
			goto out;
		}
		if (strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0 ||
		    strcmp(s, "stdin") == 0) {
			load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err,
			    "type '%s' is only allowed for a command line tool %s", s,
			    strcmp(s, "stdin") == 0 ? "input" : "output");
			goto out;
		}
		if (load_type_lookup(ctx, s, base, &def, &defbase) < 0) {
			load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "unknown type '%s'", s);
			goto out;
		}
		full = xasprintf("%p", (void *)def);
		json_array_foreach(stack, i, v) {
			if (strcmp(json_string_value(v), full) == 0) {
				load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err,
				    "recursive type '%s' is not supported", s);
				goto out;
			}
		}
		json_array_append_new(stack, json_string(full));
		ret = load_type(lp, def, t, defbase, stack, depth + 1, err);
		json_array_remove(stack, json_array_size(stack) - 1);
		goto out;
	}
	if (json_is_array(t)) {
		if (json_array_size(t) == 0) {
			load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "empty type union");
			goto out;
		}
		ret = json_array();
		load_mark(ctx, ret, t);
		json_array_foreach(t, i, v) {
			res = load_type(lp, v, t, base, stack, depth + 1, err);
			if (res == NULL) {
				json_decref(ret);
				ret = NULL;
				goto out;
			}
			load_union_add(ret, res);
		}
		goto out;
	}
	if (!json_is_object(t)) {
		load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err,
		    "a type must be a string, an array or an object");
		goto out;
	}
	v = json_object_get(t, "type");
	kind = json_string_value(v);
	if (v == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "type object without 'type'");
		goto out;
	}
	if (kind == NULL || (strcmp(kind, "array") != 0 &&
	    strcmp(kind, "record") != 0 && strcmp(kind, "enum") != 0)) {
		/* {type: T} written where T was meant */
		ret = load_type(lp, v, t, base, stack, depth + 1, err);
		goto out;
	}
	ret = load_copy(ctx, t);
	if (strcmp(kind, "array") == 0) {
		v = json_object_get(t, "items");
		if (v == NULL) {
			load_fail(ctx, CWLD_EXIT_USAGE, t, parent, err, "array type without 'items'");
			goto fail;
		}
		res = load_type(lp, v, t, base, stack, depth + 1, err);
		if (res == NULL)
			goto fail;
		json_object_set_new(ret, "items", res);
	} else if (strcmp(kind, "record") == 0) {
		v = json_object_get(t, "fields");
		if (v == NULL) {
			json_object_set_new(ret, "fields", json_array());
		} else {
			res = load_fields(lp, v, t, base, stack, depth + 1, err);
			if (res == NULL)
				goto fail;
			json_object_set_new(ret, "fields", res);
		}
	} else {
		v = json_object_get(t, "symbols");
		if (!json_is_array(v)) {
			load_fail(ctx, CWLD_EXIT_USAGE, v, t, err,
			    "enum type needs an array of 'symbols'");
			goto fail;
		}
		res = json_array();
		load_mark(ctx, res, v);
		json_object_set_new(ret, "symbols", res);
		json_array_foreach(v, i, inner) {
			if (!json_is_string(inner)) {
				load_fail(ctx, CWLD_EXIT_USAGE, inner, v, err,
				    "enum symbols must be strings");
				inner = NULL;
				goto fail;
			}
			s = json_string_value(inner);
			if (s[0] == '#' || uri_has_scheme(s)) {
				sym = load_shortname(s);
				json_array_append_new(res, json_string(sym));
				free(sym);
				sym = NULL;
			} else
				json_array_append(res, inner);
		}
		inner = NULL;
	}
	goto out;
fail:
	json_decref(ret);
	ret = NULL;
out:
	json_decref(inner);
	free(sub);
	free(sym);
	free(full);
	return ret;
}

/* ---- File and Directory literals ---------------------------------------- */

/* New reference: v with every File/Directory location (or path) inside made
 * an absolute URI against base. Untouched parts are shared. */
static json_t *
load_abs_locations(struct load_ctx *ctx, json_t *v, const char *base, int depth)
{
	json_t *ret, *c, *r, *loc, *path;
	const char *key, *cls;
	char *abs = NULL;
	size_t i;
	int changed = 0;

	if (depth > YAML_MAX_DEPTH)
		return json_incref(v);
	if (json_is_array(v)) {
		ret = json_array();
		json_array_foreach(v, i, c) {
			r = load_abs_locations(ctx, c, base, depth + 1);
			changed |= r != c;
			json_array_append_new(ret, r);
		}
		if (!changed) {
			json_decref(ret);
			return json_incref(v);
		}
		load_mark(ctx, ret, v);
		return ret;
	}
	if (!json_is_object(v))
		return json_incref(v);
	ret = json_object();
	load_mark(ctx, ret, v);
	json_object_foreach(v, key, c) {
		r = load_abs_locations(ctx, c, base, depth + 1);
		changed |= r != c;
		json_object_set_new(ret, key, r);
	}
	cls = json_string_value(json_object_get(v, "class"));
	if (cls != NULL && (strcmp(cls, "File") == 0 || strcmp(cls, "Directory") == 0)) {
		loc = json_object_get(v, "location");
		path = json_object_get(v, "path");
		if (json_is_string(loc)) {
			abs = uri_resolve(base, json_string_value(loc));
			if (strcmp(abs, json_string_value(loc)) != 0) {
				json_object_set_new(ret, "location", json_string(abs));
				load_mark(ctx, json_object_get(ret, "location"), loc);
				changed = 1;
			}
		} else if (json_is_string(path)) {
			if (uri_has_scheme(json_string_value(path)))
				abs = xstrdup(json_string_value(path));
			else
				abs = uri_resolve(base, json_string_value(path));
			/* a "path" given as input means a location; the real
			 * path is decided when the file is staged */
			json_object_set_new(ret, "location", json_string(abs));
			load_mark(ctx, json_object_get(ret, "location"), path);
			json_object_del(ret, "path");
			changed = 1;
		}
		/* "edam:format_1929" in a job means the full URI, through
		 * the $namespaces of the documents loaded so far */
		if (json_is_string(c = json_object_get(v, "format"))) {
			r = load_expand_ns(ctx, c);
			changed |= r != c;
			json_object_set_new(ret, "format", r);
		}
	}
	free(abs);
	if (!changed) {
		json_decref(ret);
		return json_incref(v);
	}
	return ret;
}

/* ---- processes ---------------------------------------------------------- */

static json_t *load_norm_process(struct load_ctx *, json_t *, const char *,
    const char *, const char *, struct cwld_err *);

static int
load_check_fields(struct load_proc *lp, json_t *obj, const char *what,
    enum schema_kind kind, struct cwld_err *err)
{
	const char *key, *why;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (schema_field_ok(kind, key, lp->version, &why))
			continue;
		if (why != NULL)
			return load_fail(lp->ctx, CWLD_EXIT_USAGE, v, obj, err,
			    "field '%s' %s in %s (cwlVersion %s)", key, why, what,
			    lp->vstr);
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, v, obj, err,
		    "unknown field '%s' in %s", key, what);
	}
	return 0;
}

/* Turns a list or a map (key -> object, or key -> scalar meaning the
 * predicate field) into a new array of new objects with idfield set. */
static json_t *
load_listify(struct load_ctx *ctx, json_t *v, const char *idfield,
    const char *predicate, const char *what, const json_t *parent,
    struct cwld_err *err)
{
	json_t *ret = NULL, *e, *o;
	const char *key;
	size_t i;

	if (json_is_array(v)) {
		ret = json_array();
		load_mark(ctx, ret, v);
		json_array_foreach(v, i, e) {
			if (!json_is_object(e)) {
				load_fail(ctx, CWLD_EXIT_USAGE, e, v, err,
				    "each of '%s' must be an object", what);
				json_decref(ret);
				return NULL;
			}
			json_array_append_new(ret, load_copy(ctx, e));
		}
		return ret;
	}
	if (!json_is_object(v)) {
		load_fail(ctx, CWLD_EXIT_USAGE, v, parent, err,
		    "'%s' must be an array or a map", what);
		return NULL;
	}
	ret = json_array();
	load_mark(ctx, ret, v);
	json_object_foreach(v, key, e) {
		if (json_is_object(e))
			o = load_copy(ctx, e);
		else if (predicate != NULL && !json_is_null(e)) {
			o = json_object();
			json_object_set(o, predicate, e);
			load_mark(ctx, o, e);
		} else if (json_is_null(e)) {
			o = json_object();
			load_mark(ctx, o, v);
		} else {
			load_fail(ctx, CWLD_EXIT_USAGE, e, v, err,
			    "each of '%s' must be an object", what);
			json_decref(ret);
			return NULL;
		}
		json_object_set_new(o, idfield, json_string(key));
		json_array_append_new(ret, o);
	}
	return ret;
}

/* Sets obj.id to the short form of its id; fails when missing. */
static int
load_short_id(struct load_proc *lp, json_t *obj, const json_t *parent,
    const char *what, struct cwld_err *err)
{
	json_t *id = json_object_get(obj, "id"), *n;
	char *s;

	if (!json_is_string(id) || json_string_length(id) == 0)
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, id, obj != NULL ? obj : parent,
		    err, "%s without 'id'", what);
	s = load_shortname(json_string_value(id));
	n = json_string(s);
	free(s);
	load_mark(lp->ctx, n, id);
	json_object_set_new(obj, "id", n);
	return 0;
}

/* Requirements or hints into an array of objects with "class". */
static json_t *
load_reqs(struct load_proc *lp, json_t *v, int hints, struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	const char *what = hints ? "hints" : "requirements", *cls;
	json_t *ret, *r, *c, *e, *types, *nt, *res, *stack = NULL;
	size_t i, j;
	char buf[96];

	ret = load_listify(ctx, v, "class", NULL, what, lp->raw, err);
	if (ret == NULL)
		return NULL;
	json_array_foreach(ret, i, r) {
		c = json_object_get(r, "class");
		if (!json_is_string(c)) {
			load_fail(ctx, CWLD_EXIT_USAGE, c, r, err,
			    "each of '%s' needs a 'class'", what);
			goto fail;
		}
		cls = json_string_value(c);
		if (!schema_requirement_known(cls)) {
			if (hints || strchr(cls, ':') != NULL)
				continue;
			load_fail(ctx, CWLD_EXIT_USAGE, c, r, err,
			    "unknown requirement '%s'", cls);
			goto fail;
		}
		if (!hints) {
			snprintf(buf, sizeof buf, "%s", cls);
			if (load_check_fields(lp, r, buf, schema_requirement_kind(cls), err) < 0)
				goto fail;
		}
		if (strcmp(cls, "EnvVarRequirement") == 0 &&
		    (e = json_object_get(r, "envDef")) != NULL) {
			res = load_listify(ctx, e, "envName", "envValue", "envDef", r, err);
			if (res == NULL)
				goto fail;
			json_object_set_new(r, "envDef", res);
		} else if (strcmp(cls, "DockerRequirement") == 0 &&
		    (json_object_get(r, "dockerLoad") != NULL ||
		    json_object_get(r, "dockerImport") != NULL)) {
			/* their paths are relative to this document */
			json_object_set_new(r, "cwld:base",
			    json_string(load_base_of(ctx, r, lp->base)));
		} else if (strcmp(cls, "SoftwareRequirement") == 0 &&
		    (e = json_object_get(r, "packages")) != NULL) {
			res = load_listify(ctx, e, "package", "specs", "packages", r, err);
			if (res == NULL)
				goto fail;
			json_object_set_new(r, "packages", res);
		} else if (strcmp(cls, "ToolTimeLimit") == 0 &&
		    (e = json_object_get(r, "timelimit")) != NULL &&
		    (json_is_real(e) || (json_is_integer(e) &&
		    json_integer_value(e) < 0) || (!json_is_number(e) &&
		    !json_is_string(e)))) {
			/* a long, 0 (no limit) or more, or an expression */
			load_fail(ctx, CWLD_EXIT_USAGE, e, r, err,
			    "ToolTimeLimit: 'timelimit' must be a non-negative "
			    "integer or an expression");
			goto fail;
		} else if (strcmp(cls, "ResourceRequirement") == 0 && lp->version < 2 &&
		    !hints) {
			json_object_foreach(r, what, e) {
				if (json_is_real(e)) {
					load_fail(ctx, CWLD_EXIT_USAGE, e, r, err,
					    "'%s' must be an integer in cwlVersion %s",
					    what, lp->vstr);
					goto fail;
				}
			}
			what = hints ? "hints" : "requirements";
		} else if (strcmp(cls, "SchemaDefRequirement") == 0) {
			types = json_object_get(r, "types");
			if (!json_is_array(types)) {
				if (hints)
					continue;
				load_fail(ctx, CWLD_EXIT_USAGE, types, r, err,
				    "'types' must be an array");
				goto fail;
			}
			nt = json_array();
			load_mark(ctx, nt, types);
			json_object_set_new(r, "types", nt);
			stack = json_array();
			json_array_foreach(types, j, e) {
				res = load_type(lp, e, types,
				    load_base_of(ctx, r, lp->base), stack, 0, err);
				if (res == NULL)
					goto fail;
				load_union_add(nt, res);
			}
			json_decref(stack);
			stack = NULL;
		}
	}
	return ret;
fail:
	json_decref(stack);
	json_decref(ret);
	return NULL;
}

static char *
load_hex_name(const char *prefix, const char *s)
{
	unsigned long h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return xasprintf("%s%08lx", prefix, h & 0xffffffffUL);
}

/* Fails when obj.field is present and not one of the words in allowed. */
static int
load_check_enum(struct load_ctx *ctx, json_t *obj, const char *field,
    const char *const *allowed, struct cwld_err *err)
{
	json_t *v = json_object_get(obj, field);
	size_t i;

	if (v == NULL)
		return 0;
	for (i = 0; allowed[i] != NULL && json_is_string(v); i++)
		if (strcmp(json_string_value(v), allowed[i]) == 0)
			return 0;
	return load_fail(ctx, CWLD_EXIT_USAGE, v, obj, err,
	    "'%s' must be one of %s%s%s%s%s", field, allowed[0],
	    allowed[1] != NULL ? ", " : "", allowed[1] != NULL ? allowed[1] : "",
	    allowed[1] != NULL && allowed[2] != NULL ? ", " : "",
	    allowed[1] != NULL && allowed[2] != NULL ? allowed[2] : "");
}

static const char *const load_link_merge[] = {
	"merge_nested", "merge_flattened", NULL,
};
static const char *const load_pick_value[] = {
	"first_non_null", "the_only_non_null", "all_non_null", NULL,
};
static const char *const load_scatter_method[] = {
	"dotproduct", "nested_crossproduct", "flat_crossproduct", NULL,
};

/* Fails when obj.field is present and is not a JSON type of kind. */
static int
load_check_object(struct load_ctx *ctx, json_t *obj, const char *field,
    struct cwld_err *err)
{
	json_t *v = json_object_get(obj, field);

	if (v != NULL && !json_is_object(v))
		return load_fail(ctx, CWLD_EXIT_USAGE, v, obj, err,
		    "'%s' must be a map", field);
	return 0;
}

/* Normalises one input or output parameter (a new object in params). */
static int
load_param(struct load_proc *lp, json_t *p, const char *base, int output,
    struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	json_t *t, *v, *res, *sf, *e;
	const char *s, *id;
	enum schema_kind kind;
	char *name = NULL;
	size_t i;
	int rc = -1;

	if (load_short_id(lp, p, lp->raw, output ? "output" : "input", err) < 0)
		goto out;
	id = json_string_value(json_object_get(p, "id"));
	kind = schema_param_kind(lp->klass, output);
	if (load_check_fields(lp, p, output ? "output parameter" : "input parameter",
	    kind, err) < 0)
		goto out;
	if (load_check_object(ctx, p, "inputBinding", err) < 0 ||
	    load_check_object(ctx, p, "outputBinding", err) < 0 ||
	    load_check_enum(ctx, p, "linkMerge", load_link_merge, err) < 0 ||
	    load_check_enum(ctx, p, "pickValue", load_pick_value, err) < 0)
		goto out;
	t = json_object_get(p, "type");
	if (t == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, p, NULL, err, "%s '%s' has no 'type'",
		    output ? "output" : "input", id);
		goto out;
	}
	s = json_string_value(t);
	if (s != NULL && strcmp(lp->klass, "CommandLineTool") == 0 &&
	    ((output && (strcmp(s, "stdout") == 0 || strcmp(s, "stderr") == 0)) ||
	    (!output && strcmp(s, "stdin") == 0))) {
		/* the shortcuts of CommandLineTool: a File bound to a stream */
		v = json_object_get(lp->out, s);
		if (strcmp(s, "stdin") == 0) {
			name = xasprintf("$(inputs.%s.path)", id);
			if (v == NULL)
				json_object_set_new(lp->out, s, json_string(name));
		} else {
			if (!json_is_string(v)) {
				name = load_hex_name(strcmp(s, "stdout") == 0 ?
				    "cwld-stdout-" : "cwld-stderr-", lp->id);
				json_object_set_new(lp->out, s, json_string(name));
				v = json_object_get(lp->out, s);
			}
			res = json_pack("{sO}", "glob", v);
			load_mark(ctx, res, t);
			json_object_set_new(p, "outputBinding", res);
		}
		res = json_string("File");
		load_mark(ctx, res, t);
		json_object_set_new(p, "type", res);
	} else {
		json_t *stack = json_array();

		res = load_type(lp, t, p, base, stack, 0, err);
		json_decref(stack);
		if (res == NULL)
			goto out;
		json_object_set_new(p, "type", res);
	}
	if ((v = json_object_get(p, "format")) != NULL)
		load_set_format(ctx, p, v);
	if ((v = json_object_get(p, "default")) != NULL)
		json_object_set_new(p, "default", load_abs_locations(ctx, v, base, 0));
	sf = json_object_get(p, "secondaryFiles");
	if (sf != NULL && lp->version == 0) {
		if (json_is_array(sf)) {
			json_array_foreach(sf, i, e) {
				if (!json_is_string(e)) {
					load_fail(ctx, CWLD_EXIT_USAGE, e, sf, err,
					    "secondaryFiles entries must be strings in cwlVersion %s",
					    lp->vstr);
					goto out;
				}
			}
		} else if (!json_is_string(sf)) {
			load_fail(ctx, CWLD_EXIT_USAGE, sf, p, err,
			    "secondaryFiles must be a string or an array of strings in cwlVersion %s",
			    lp->vstr);
			goto out;
		}
	}
	if (output && (v = json_object_get(p, "outputSource")) != NULL) {
		if (json_is_string(v)) {
			res = json_array();
			json_array_append(res, v);
			load_mark(ctx, res, v);
			json_object_set_new(p, "outputSource", res);
		} else if (!json_is_array(v)) {
			load_fail(ctx, CWLD_EXIT_USAGE, v, p, err,
			    "'outputSource' must be a string or an array of strings");
			goto out;
		}
	}
	rc = 0;
out:
	free(name);
	return rc;
}

static int
load_params(struct load_proc *lp, const char *field, int output,
    struct cwld_err *err)
{
	json_t *v = json_object_get(lp->raw, field), *list, *p;
	size_t i, j;

	if (v == NULL)
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, lp->raw, NULL, err,
		    "%s '%s' has no '%s'", lp->klass, lp->id, field);
	list = load_listify(lp->ctx, v, "id", "type", field, lp->raw, err);
	if (list == NULL)
		return -1;
	json_object_set_new(lp->out, field, list);
	json_array_foreach(list, i, p) {
		if (load_param(lp, p, load_base_of(lp->ctx, p,
		    load_base_of(lp->ctx, v, lp->base)), output, err) < 0)
			return -1;
		for (j = 0; j < i; j++) {
			if (json_equal(json_object_get(json_array_get(list, j), "id"),
			    json_object_get(p, "id")))
				return load_fail(lp->ctx, CWLD_EXIT_USAGE,
				    json_object_get(p, "id"), p, err,
				    "duplicate %s '%s'", output ? "output" : "input",
				    json_string_value(json_object_get(p, "id")));
		}
	}
	return 0;
}

/* Array of strings (or one string) into a new array. */
static json_t *
load_strings(struct load_ctx *ctx, json_t *v, const json_t *parent,
    const char *what, struct cwld_err *err)
{
	json_t *ret, *e;
	size_t i;

	if (json_is_string(v)) {
		ret = json_array();
		json_array_append(ret, v);
		load_mark(ctx, ret, v);
		return ret;
	}
	if (!json_is_array(v)) {
		load_fail(ctx, CWLD_EXIT_USAGE, v, parent, err,
		    "'%s' must be a string or an array of strings", what);
		return NULL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			load_fail(ctx, CWLD_EXIT_USAGE, e, v, err,
			    "'%s' must be a string or an array of strings", what);
			return NULL;
		}
	}
	return json_incref(v);
}

/* Loads the process named by uri (path or URI, optional #fragment). */
static json_t *
load_process_uri(struct load_ctx *ctx, const char *uri, const char *inherit,
    const json_t *at, struct cwld_err *err)
{
	json_t *doc, *node, *ver, *graph, *ret = NULL, *id, *hit;
	char *docuri = NULL, *full = NULL, *hash = NULL, *path = NULL;
	size_t cost;
	const char *frag, *vs, *vs2, *ofile = ctx->file;
	const json_t *oroot = ctx->root;
	char *key = xasprintf("%s\n%s", uri, inherit != NULL ? inherit : "");

	/* A 1000-step workflow running one tool normalises it once. A hit is
	 * charged what the load cost, its sub-processes included: the budget
	 * bounds what later walks of the shared tree cost, not only the
	 * loader's own work. */
	hit = json_object_get(ctx->procs, key);
	if (hit != NULL) {
		free(key);
		cost = (size_t)json_integer_value(json_array_get(hit, 1));
		ret = json_array_get(hit, 0);
		if (ctx->budget < cost) {
			load_fail(ctx, CWLD_EXIT_USAGE, ret, at, err,
			    "too many processes and types in one workflow");
			return NULL;
		}
		ctx->budget -= cost;
		return json_incref(ret);
	}
	cost = ctx->budget;
	docuri = uri_strip_fragment(uri);
	frag = uri_fragment(uri);
	doc = load_fetch(ctx, docuri, at, 0, err);
	if (doc == NULL)
		goto out;
	path = uri_to_path(docuri);
	ctx->file = path;
	ctx->root = doc;
	if (!json_is_object(doc)) {
		load_fail(ctx, CWLD_EXIT_USAGE, doc, at, err,
		    "a CWL document must be a map");
		goto out;
	}
	if (json_object_get(ctx->swept, docuri) == NULL) {
		load_sweep_types(ctx, doc, docuri, 0);
		json_object_set_new(ctx->swept, docuri, json_true());
	}
	ver = json_object_get(doc, "cwlVersion");
	if (ver == NULL && inherit == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, doc, NULL, err, "missing 'cwlVersion'");
		goto out;
	}
	vs = ver != NULL ? json_string_value(ver) : inherit;
	if (vs == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, ver, doc, err, "'cwlVersion' must be a string");
		goto out;
	}
	graph = json_object_get(doc, "$graph");
	node = doc;
	if (graph != NULL) {
		if (!json_is_array(graph)) {
			load_fail(ctx, CWLD_EXIT_USAGE, graph, doc, err, "'$graph' must be an array");
			goto out;
		}
		node = load_find_id(graph, docuri, frag != NULL ? frag : "main");
		if (node == NULL && frag == NULL && json_array_size(graph) == 1)
			node = json_array_get(graph, 0);
		if (node == NULL) {
			load_fail(ctx, CWLD_EXIT_USAGE, graph, doc, err,
			    "no process '#%s' in '$graph'", frag != NULL ? frag : "main");
			goto out;
		}
	} else if (frag != NULL && *frag != '\0') {
		node = load_find_id(doc, docuri, frag);
		if (node == NULL) {
			if (strcmp(frag, "main") != 0) {
				load_fail(ctx, CWLD_EXIT_USAGE, at, doc, err,
				    "no process '#%s' in '%s'", frag, docuri);
				goto out;
			}
			node = doc;
		}
	}
	if (!json_is_object(node)) {
		load_fail(ctx, CWLD_EXIT_USAGE, node, doc, err, "a process must be a map");
		goto out;
	}
	id = json_object_get(node, "id");
	if (json_is_string(id)) {
		vs2 = json_string_value(id);
		if (vs2[0] == '#' || uri_has_scheme(vs2))
			full = uri_resolve(docuri, vs2);
		else {
			hash = xasprintf("#%s", vs2);
			full = uri_resolve(docuri, hash);
		}
	}
	else if (frag != NULL)
		full = xstrdup(uri);
	else if (graph != NULL)
		full = xasprintf("%s#main", docuri);
	else
		full = xstrdup(docuri);
	if (json_object_get(ctx->busy, full) != NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, at, node, err,
		    "process '%s' runs itself", full);
		goto out;
	}
	json_object_set_new(ctx->busy, full, json_true());
	ret = load_norm_process(ctx, node, docuri, full, vs, err);
	json_object_del(ctx->busy, full);
	if (ret == NULL)
		goto out;
	if (ver != NULL) {
		/* cwlVersion lives on the document, not on $graph entries */
		json_object_set(ret, "cwlVersion", ver);
	}
	json_object_set_new(ctx->procs, key, json_pack("[O,I]", ret,
	    (json_int_t)(cost - ctx->budget)));
out:
	free(key);
	ctx->file = ofile;
	ctx->root = oroot;
	free(docuri);
	free(full);
	free(hash);
	free(path);
	return ret;
}

/* New string: the id of a process named by id (an "id" field) in docuri. */
static char *
load_process_id(const char *docuri, const char *id)
{
	char *hash, *ret;

	if (id[0] == '#' || uri_has_scheme(id))
		return uri_resolve(docuri, id);
	hash = xasprintf("#%s", id);
	ret = uri_resolve(docuri, hash);
	free(hash);
	return ret;
}

/* Normalises the run of a step into a new process object. */
static json_t *
load_run(struct load_proc *lp, json_t *st, json_t *run, const char *stepid,
    struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	json_t *ret = NULL, *id, *ver;
	char *uri = NULL, *full = NULL;
	const char *base, *vs;

	if (ctx->depth >= LOAD_MAX_RUN_DEPTH) {
		load_fail(ctx, CWLD_EXIT_USAGE, run, st, err, "processes nested too deeply");
		return NULL;
	}
	ctx->depth++;
	if (json_is_string(run)) {
		uri = uri_resolve(lp->base, json_string_value(run));
		ret = load_process_uri(ctx, uri, lp->vstr, run, err);
	} else if (json_is_object(run)) {
		base = load_base_of(ctx, run, lp->base);
		id = json_object_get(run, "id");
		if (json_is_string(id))
			full = load_process_id(base, json_string_value(id));
		else
			full = xasprintf("%s%s%s/run", lp->id,
			    strchr(lp->id, '#') != NULL ? "/" : "#", stepid);
		ver = json_object_get(run, "cwlVersion");
		vs = json_is_string(ver) ? json_string_value(ver) : lp->vstr;
		if (json_object_get(ctx->busy, full) != NULL)
			load_fail(ctx, CWLD_EXIT_USAGE, run, st, err,
			    "process '%s' runs itself", full);
		else {
			json_object_set_new(ctx->busy, full, json_true());
			ret = load_norm_process(ctx, run, base, full, vs, err);
			json_object_del(ctx->busy, full);
		}
	} else
		load_fail(ctx, CWLD_EXIT_USAGE, run, st, err,
		    "'run' must be a string or a process");
	ctx->depth--;
	free(uri);
	free(full);
	return ret;
}

/* Normalises one workflow step (st is already a new object). */
static int
load_step(struct load_proc *lp, json_t *st, struct cwld_err *err)
{
	struct load_ctx *ctx = lp->ctx;
	json_t *v, *list, *e, *src, *outs, *res, *n;
	const char *sid;
	char *s;
	size_t i, j;

	if (load_short_id(lp, st, lp->raw, "workflow step", err) < 0)
		return -1;
	sid = json_string_value(json_object_get(st, "id"));
	if (load_check_fields(lp, st, "workflow step", SCHEMA_STEP, err) < 0 ||
	    load_check_enum(ctx, st, "scatterMethod", load_scatter_method, err) < 0)
		return -1;
	if ((v = json_object_get(st, "when")) != NULL && !json_is_string(v))
		return load_fail(ctx, CWLD_EXIT_USAGE, v, st, err,
		    "'when' must be an expression string");
	v = json_object_get(st, "in");
	if (v == NULL)
		return load_fail(ctx, CWLD_EXIT_USAGE, st, NULL, err,
		    "step '%s' has no 'in'", sid);
	list = load_listify(ctx, v, "id", "source", "in", st, err);
	if (list == NULL)
		return -1;
	json_object_set_new(st, "in", list);
	json_array_foreach(list, i, e) {
		if (load_short_id(lp, e, st, "step input", err) < 0)
			return -1;
		if (load_check_fields(lp, e, "step input", SCHEMA_STEP_IN, err) < 0 ||
		    load_check_enum(ctx, e, "linkMerge", load_link_merge, err) < 0 ||
		    load_check_enum(ctx, e, "pickValue", load_pick_value, err) < 0)
			return -1;
		src = json_object_get(e, "source");
		if (src == NULL || json_is_null(src))
			res = json_array();
		else if ((res = load_strings(ctx, src, e, "source", err)) == NULL)
			return -1;
		json_object_set_new(e, "source", res);
		if ((v = json_object_get(e, "default")) != NULL)
			json_object_set_new(e, "default",
			    load_abs_locations(ctx, v, lp->base, 0));
		for (j = 0; j < i; j++)
			if (json_equal(json_object_get(json_array_get(list, j), "id"),
			    json_object_get(e, "id")))
				return load_fail(ctx, CWLD_EXIT_USAGE, e, st, err,
				    "duplicate input '%s' in step '%s'",
				    json_string_value(json_object_get(e, "id")), sid);
	}
	v = json_object_get(st, "out");
	if (v == NULL)
		return load_fail(ctx, CWLD_EXIT_USAGE, st, NULL, err,
		    "step '%s' has no 'out'", sid);
	if (!json_is_array(v))
		return load_fail(ctx, CWLD_EXIT_USAGE, v, st, err,
		    "'out' of step '%s' must be an array", sid);
	outs = json_array();
	load_mark(ctx, outs, v);
	json_object_set_new(st, "out", outs);
	json_array_foreach(v, i, e) {
		if (json_is_object(e)) {
			if (load_check_fields(lp, e, "step output", SCHEMA_STEP_OUT, err) < 0)
				return -1;
			n = json_object_get(e, "id");
		} else
			n = e;
		if (!json_is_string(n))
			return load_fail(ctx, CWLD_EXIT_USAGE, n, e, err,
			    "each of 'out' must be a string or have an 'id'");
		s = load_shortname(json_string_value(n));
		res = json_string(s);
		free(s);
		load_mark(ctx, res, n);
		json_array_append_new(outs, res);
	}
	if ((v = json_object_get(st, "scatter")) != NULL) {
		list = load_strings(ctx, v, st, "scatter", err);
		if (list == NULL)
			return -1;
		res = json_array();
		load_mark(ctx, res, v);
		json_array_foreach(list, i, e) {
			s = load_shortname(json_string_value(e));
			n = json_string(s);
			free(s);
			load_mark(ctx, n, e);
			json_array_append_new(res, n);
			json_array_foreach(json_object_get(st, "in"), j, src) {
				if (json_equal(json_object_get(src, "id"), n))
					break;
			}
			if (j == json_array_size(json_object_get(st, "in"))) {
				json_decref(list);
				json_decref(res);
				return load_fail(ctx, CWLD_EXIT_USAGE, e, st, err,
				    "unknown scatter parameter '%s' in step '%s'",
				    json_string_value(n), sid);
			}
		}
		json_decref(list);
		json_object_set_new(st, "scatter", res);
	}
	if ((v = json_object_get(st, "requirements")) != NULL) {
		if ((res = load_reqs(lp, v, 0, err)) == NULL)
			return -1;
		json_object_set_new(st, "requirements", res);
	}
	if ((v = json_object_get(st, "hints")) != NULL) {
		if ((res = load_reqs(lp, v, 1, err)) == NULL)
			return -1;
		json_object_set_new(st, "hints", res);
	}
	v = json_object_get(st, "run");
	if (v == NULL)
		return load_fail(ctx, CWLD_EXIT_USAGE, st, NULL, err,
		    "step '%s' has no 'run'", sid);
	res = load_run(lp, st, v, sid, err);
	if (res == NULL)
		return -1;
	load_mark(ctx, res, v);
	json_object_set_new(st, "run", res);
	return 0;
}

/* New string: the short form ("input" or "step/out") of a source written
 * in a workflow whose id fragment is wffrag; known maps the valid ones. */
static char *
load_source(const char *wffrag, const char *s, const json_t *known)
{
	const char *f = s, *h, *last, *prev;
	char *cand;
	size_t n;

	if (uri_has_scheme(s)) {
		h = strchr(s, '#');
		f = h != NULL ? h + 1 : s;
	} else if (s[0] == '#')
		f = s + 1;
	if (wffrag != NULL && (n = strlen(wffrag)) > 0 &&
	    strncmp(f, wffrag, n) == 0 && f[n] == '/')
		f += n + 1;
	if (json_object_get(known, f) != NULL)
		return xstrdup(f);
	last = strrchr(f, '/');
	if (last != NULL) {
		for (prev = last - 1; prev > f && *prev != '/'; prev--)
			;
		if (*prev == '/')
			prev++;
		if (json_object_get(known, prev) != NULL)
			return xstrdup(prev);
		if (json_object_get(known, last + 1) != NULL) {
			cand = xstrdup(last + 1);
			return cand;
		}
	}
	return xstrdup(f);
}

/* Rewrites the sources in list (array of strings) to short forms; fails
 * on one that names nothing. */
static int
load_sources(struct load_proc *lp, json_t *holder, const char *field,
    const char *wffrag, const json_t *known, const char *what, const char *name,
    struct cwld_err *err)
{
	json_t *list = json_object_get(holder, field), *res, *e, *n;
	char *s;
	size_t i;

	if (list == NULL)
		return 0;
	res = json_array();
	load_mark(lp->ctx, res, list);
	json_array_foreach(list, i, e) {
		s = load_source(wffrag, json_string_value(e), known);
		if (json_object_get(known, s) == NULL) {
			load_fail(lp->ctx, CWLD_EXIT_USAGE, e, holder, err,
			    "unknown %s '%s' in %s", field, json_string_value(e), what);
			free(s);
			json_decref(res);
			(void)name;
			return -1;
		}
		n = json_string(s);
		free(s);
		load_mark(lp->ctx, n, e);
		json_array_append_new(res, n);
	}
	json_object_set_new(holder, field, res);
	return 0;
}

/* Depth-first search over "depends on" edges; colour 1 = on the path. */
static int
load_dfs(struct load_proc *lp, json_t *steps, json_t *index, int *colour,
    size_t *path, size_t plen, size_t i, struct cwld_err *err)
{
	json_t *st = json_array_get(steps, i), *in, *src, *jv;
	const char *s, *slash;
	char name[512], msg[640];
	size_t k, m, j, len;

	colour[i] = 1;
	path[plen++] = i;
	json_array_foreach(json_object_get(st, "in"), k, in) {
		json_array_foreach(json_object_get(in, "source"), m, src) {
			s = json_string_value(src);
			slash = strchr(s, '/');
			if (slash == NULL || (size_t)(slash - s) >= sizeof name)
				continue;
			memcpy(name, s, (size_t)(slash - s));
			name[slash - s] = '\0';
			jv = json_object_get(index, name);
			if (jv == NULL)
				continue;
			j = (size_t)json_integer_value(jv);
			if (colour[j] == 1) {
				/* data flows j -> path[plen-1] -> ... -> j */
				len = (size_t)snprintf(msg, sizeof msg, "step '%s'",
				    json_string_value(json_object_get(
				    json_array_get(steps, j), "id")));
				for (m = plen; m-- > 0 && len < sizeof msg;) {
					len += (size_t)snprintf(msg + len, sizeof msg - len,
					    " -> '%s'", json_string_value(json_object_get(
					    json_array_get(steps, path[m]), "id")));
					if (path[m] == j)
						break;
				}
				return load_fail(lp->ctx, CWLD_EXIT_USAGE,
				    json_array_get(steps, j), NULL, err,
				    "cycle in workflow: %s", msg);
			}
			if (colour[j] == 0 &&
			    load_dfs(lp, steps, index, colour, path, plen, j, err) < 0)
				return -1;
		}
	}
	colour[i] = 2;
	return 0;
}

/* Sources, outputSources and cycles of a workflow whose steps are done. */
static int
load_wf_check(struct load_proc *lp, struct cwld_err *err)
{
	json_t *known = json_object(), *index = json_object(), *st, *e, *o;
	json_t *steps = json_object_get(lp->out, "steps");
	const char *wffrag = uri_fragment(lp->id), *sid;
	char what[600], *key;
	int *colour = NULL, rc = -1;
	size_t *path = NULL, i, j, n;

	json_array_foreach(json_object_get(lp->out, "inputs"), i, e)
		json_object_set_new(known, json_string_value(json_object_get(e, "id")),
		    json_true());
	json_array_foreach(steps, i, st) {
		sid = json_string_value(json_object_get(st, "id"));
		if (json_object_get(index, sid) != NULL) {
			load_fail(lp->ctx, CWLD_EXIT_USAGE, json_object_get(st, "id"), st,
			    err, "duplicate step '%s'", sid);
			goto out;
		}
		json_object_set_new(index, sid, json_integer((json_int_t)i));
		json_array_foreach(json_object_get(st, "out"), j, o) {
			key = xasprintf("%s/%s", sid, json_string_value(o));
			json_object_set_new(known, key, json_true());
			free(key);
		}
	}
	json_array_foreach(steps, i, st) {
		sid = json_string_value(json_object_get(st, "id"));
		json_array_foreach(json_object_get(st, "in"), j, e) {
			snprintf(what, sizeof what, "step '%s'", sid);
			if (load_sources(lp, e, "source", wffrag, known, what, sid, err) < 0)
				goto out;
		}
	}
	json_array_foreach(json_object_get(lp->out, "outputs"), i, o) {
		snprintf(what, sizeof what, "output '%s'",
		    json_string_value(json_object_get(o, "id")));
		if (load_sources(lp, o, "outputSource", wffrag, known, what, NULL, err) < 0)
			goto out;
	}
	n = json_array_size(steps);
	colour = xcalloc(n + 1, sizeof *colour);
	path = xcalloc(n + 1, sizeof *path);
	for (i = 0; i < n; i++) {
		if (colour[i] == 0 &&
		    load_dfs(lp, steps, index, colour, path, 0, i, err) < 0)
			goto out;
	}
	rc = 0;
out:
	free(colour);
	free(path);
	json_decref(known);
	json_decref(index);
	return rc;
}

static int
load_check_strings(struct load_proc *lp, const char *field, struct cwld_err *err)
{
	json_t *v = json_object_get(lp->out, field);

	if (v != NULL && !json_is_string(v))
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, v, lp->raw, err,
		    "'%s' must be a string", field);
	return 0;
}

static int
load_check_codes(struct load_proc *lp, const char *field, struct cwld_err *err)
{
	json_t *v = json_object_get(lp->out, field), *e;
	size_t i;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, v, lp->raw, err,
		    "'%s' must be an array of integers", field);
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e))
			return load_fail(lp->ctx, CWLD_EXIT_USAGE, e, v, err,
			    "'%s' must be an array of integers", field);
	}
	return 0;
}

static int
load_clt(struct load_proc *lp, struct cwld_err *err)
{
	json_t *v, *res;

	v = json_object_get(lp->raw, "baseCommand");
	if (v != NULL) {
		res = load_strings(lp->ctx, v, lp->raw, "baseCommand", err);
		if (res == NULL)
			return -1;
		json_object_set_new(lp->out, "baseCommand", res);
	}
	if ((v = json_object_get(lp->raw, "arguments")) != NULL && !json_is_array(v))
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, v, lp->raw, err,
		    "'arguments' must be an array");
	if (json_object_get(lp->raw, "baseCommand") == NULL && v == NULL)
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, lp->raw, NULL, err,
		    "command line tool needs 'baseCommand' or 'arguments'");
	if (load_check_strings(lp, "stdin", err) < 0 ||
	    load_check_strings(lp, "stdout", err) < 0 ||
	    load_check_strings(lp, "stderr", err) < 0 ||
	    load_check_codes(lp, "successCodes", err) < 0 ||
	    load_check_codes(lp, "temporaryFailCodes", err) < 0 ||
	    load_check_codes(lp, "permanentFailCodes", err) < 0)
		return -1;
	return 0;
}

static int
load_workflow(struct load_proc *lp, struct cwld_err *err)
{
	json_t *v, *list, *st;
	size_t i;

	v = json_object_get(lp->raw, "steps");
	if (v == NULL)
		return load_fail(lp->ctx, CWLD_EXIT_USAGE, lp->raw, NULL, err,
		    "workflow '%s' has no 'steps'", lp->id);
	list = load_listify(lp->ctx, v, "id", NULL, "steps", lp->raw, err);
	if (list == NULL)
		return -1;
	json_object_set_new(lp->out, "steps", list);
	json_array_foreach(list, i, st) {
		if (load_step(lp, st, err) < 0)
			return -1;
	}
	return load_wf_check(lp, err);
}

/* Normalises the raw process node defined in the document base. */
static json_t *
load_norm_process(struct load_ctx *ctx, json_t *raw, const char *base,
    const char *id, const char *vstr, struct cwld_err *err)
{
	struct load_proc lp = { .ctx = ctx, .base = base, .id = id, .raw = raw,
	    .vstr = vstr };
	json_t *out = NULL, *v, *res, *c;
	char *path = NULL, what[64];
	int kind, rc = -1;

	if (!json_is_object(raw)) {
		load_fail(ctx, CWLD_EXIT_USAGE, raw, NULL, err, "a process must be a map");
		goto out;
	}
	if (ctx->budget < 1000) {
		load_fail(ctx, CWLD_EXIT_USAGE, raw, NULL, err,
		    "too many processes and types in one workflow");
		goto out;
	}
	ctx->budget -= 1000;
	lp.version = schema_version(vstr);
	if (lp.version < 0) {
		v = json_object_get(raw, "cwlVersion");
		load_fail(ctx, CWLD_EXIT_UNSUPPORTED, v, raw, err,
		    "unsupported cwlVersion '%s'", vstr);
		goto out;
	}
	c = json_object_get(raw, "class");
	if (c == NULL) {
		load_fail(ctx, CWLD_EXIT_USAGE, raw, NULL, err, "missing 'class'");
		goto out;
	}
	lp.klass = json_string_value(c);
	kind = schema_process_kind(lp.klass);
	if (kind < 0) {
		load_fail(ctx, CWLD_EXIT_USAGE, c, raw, err, "unknown class '%s'",
		    lp.klass != NULL ? lp.klass : "?");
		goto out;
	}
	if (kind == SCHEMA_OP && lp.version < SCHEMA_V12) {
		load_fail(ctx, CWLD_EXIT_USAGE, c, raw, err,
		    "class 'Operation' needs cwlVersion v1.2 or later");
		goto out;
	}
	out = load_copy(ctx, raw);
	lp.out = out;
	snprintf(what, sizeof what, "%s", lp.klass);
	if (load_check_fields(&lp, raw, what, (enum schema_kind)kind, err) < 0)
		goto out;
	json_object_set_new(out, "id", json_string(id));
	json_object_set_new(out, "cwlVersion", json_string(vstr));
	json_object_set_new(out, "cwld:base", json_string(base));
	path = uri_to_path(base);
	if (path != NULL)
		json_object_set_new(out, "cwld:file", json_string(path));
	if ((v = json_object_get(raw, "requirements")) != NULL) {
		if ((res = load_reqs(&lp, v, 0, err)) == NULL)
			goto out;
		json_object_set_new(out, "requirements", res);
	}
	if ((v = json_object_get(raw, "hints")) != NULL) {
		if ((res = load_reqs(&lp, v, 1, err)) == NULL)
			goto out;
		json_object_set_new(out, "hints", res);
	}
	if (load_params(&lp, "inputs", 0, err) < 0 ||
	    load_params(&lp, "outputs", 1, err) < 0)
		goto out;
	switch (kind) {
	case SCHEMA_CLT:
		if (load_clt(&lp, err) < 0)
			goto out;
		break;
	case SCHEMA_ET:
		v = json_object_get(raw, "expression");
		if (!json_is_string(v)) {
			load_fail(ctx, CWLD_EXIT_USAGE, v, raw, err,
			    v == NULL ? "expression tool has no 'expression'" :
			    "'expression' must be a string");
			goto out;
		}
		break;
	case SCHEMA_WF:
		if (load_workflow(&lp, err) < 0)
			goto out;
		break;
	default:
		break;
	}
	rc = 0;
out:
	free(path);
	if (rc < 0) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

/* New string: a file:// URI for what the user typed (path[#frag] or URI). */
static char *
load_user_uri(const char *s)
{
	const char *h;
	char *path, *uri, *ret;

	if (uri_has_scheme(s))
		return xstrdup(s);
	h = strrchr(s, '#');
	if (h == NULL || fs_exists(s))
		return uri_from_path(s);
	path = xstrndup(s, (size_t)(h - s));
	uri = uri_from_path(path);
	ret = xasprintf("%s%s", uri, h);
	free(path);
	free(uri);
	return ret;
}

json_t *
load_process(struct load_ctx *ctx, const char *uri_or_path, struct cwld_err *err)
{
	char *uri = load_user_uri(uri_or_path);
	const char *h = strrchr(uri_or_path, '#');
	json_t *ret;

	ctx->depth = 0;
	ctx->budget = LOAD_BUDGET;
	free(ctx->top_uri);
	free(ctx->top_path);
	ctx->top_uri = uri_strip_fragment(uri);
	if (!uri_has_scheme(uri_or_path) && h != NULL && !fs_exists(uri_or_path))
		ctx->top_path = xstrndup(uri_or_path, (size_t)(h - uri_or_path));
	else
		ctx->top_path = uri_has_scheme(uri_or_path) ?
		    uri_to_path(ctx->top_uri) : xstrdup(uri_or_path);
	ret = load_process_uri(ctx, uri, NULL, NULL, err);
	free(uri);
	return ret;
}

json_t *
load_job(struct load_ctx *ctx, const char *path, struct cwld_err *err)
{
	json_t *doc = NULL, *ret = NULL;
	char *base = NULL;

	doc = yaml_parse_file(path, ctx->map, err);
	if (doc == NULL)
		goto out;
	if (json_is_null(doc)) {
		ret = json_object();
		goto out;
	}
	if (!json_is_object(doc)) {
		ctx->file = path;
		load_fail(ctx, CWLD_EXIT_USAGE, doc, NULL, err,
		    "a job file must be a map of input names to values");
		ctx->file = NULL;
		goto out;
	}
	base = uri_from_path(path);
	ret = load_abs_locations(ctx, doc, base, 0);
out:
	json_decref(doc);
	free(base);
	return ret;
}

void
load_ctx_set_guard(struct load_ctx *ctx, load_guard_fn guard, void *arg)
{
	ctx->guard = guard;
	ctx->guard_arg = arg;
}

/* YAML text into jansson trees with libyaml's event parser, recording the
 * line and column of every node in a srcmap so later errors can point at the
 * source. Only the core schema is resolved here; CWL meaning (ids, $import,
 * types) is left to load.c. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cwld/fs.h"
#include "cwld/xmalloc.h"
#include "cwld/yaml.h"

/* Caps on alias expansion: aliases are deep-copied (so later in-place edits
 * of one use never show up at another), which a "billion laughs" document
 * would turn into exponential work without these. */
#define YAML_MAX_ALIASES 10000
#define YAML_MAX_ALIAS_NODES 200000
/* Caps on mapping keys that are collections, turned into JSON text. */
#define YAML_MAX_KEY_NODES 1000
#define YAML_MAX_KEY_BYTES 4096

struct yaml_srcmap_entry {
	json_t *node; /* holds a reference; NULL when the slot is empty */
	const char *file;
	int line;
	int col;
};

struct yaml_srcmap {
	struct yaml_srcmap_entry *slots;
	size_t cap; /* power of two */
	size_t used;
	char **files;
	size_t nfiles;
};

/* One open sequence or mapping. A mapping alternates between waiting for a
 * key and holding the key (key != NULL) while its value is parsed. */
struct yaml_frame {
	json_t *node;
	int is_map;
	char *key;
	int key_line, key_col;
	char *anchor;
	size_t weight; /* nodes in the subtree, aliases counted expanded */
	int height;    /* levels in the subtree, this one included */
};

struct yaml_ctx {
	const char *file;
	struct yaml_srcmap *map;
	struct cwld_err *err;
	struct yaml_frame *frames;
	size_t nframes;
	size_t capframes;
	json_t *anchors; /* name -> [node, weight, height] */
	json_t *root;
	size_t aliases;
	size_t alias_nodes;
};

static size_t yaml_srcmap_hash(const json_t *node, size_t cap);
static void yaml_srcmap_grow(struct yaml_srcmap *map);
static const char *yaml_srcmap_intern(struct yaml_srcmap *map, const char *file);
static int yaml_fail(struct yaml_ctx *ctx, const yaml_mark_t *mark,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int yaml_is_null(const char *s);
static json_t *yaml_resolve_plain(const char *s, size_t len);
static json_t *yaml_scalar(struct yaml_ctx *ctx, const yaml_event_t *ev);
static char *yaml_key_string(const json_t *v, const char *raw);
static int yaml_add(struct yaml_ctx *ctx, json_t *v, const char *raw,
    const char *anchor, size_t weight, int height, const yaml_mark_t *mark);
static int yaml_push(struct yaml_ctx *ctx, const yaml_event_t *ev, int is_map);
static int yaml_pop(struct yaml_ctx *ctx, const yaml_mark_t *mark);
static json_t *yaml_copy(struct yaml_ctx *ctx, json_t *v);
static int yaml_alias(struct yaml_ctx *ctx, const yaml_event_t *ev);
static void yaml_ctx_release(struct yaml_ctx *ctx);

/* ---- srcmap: open addressing keyed by node pointer ---- */

static size_t
yaml_srcmap_hash(const json_t *node, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)node;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & (cap - 1);
}

struct yaml_srcmap *
yaml_srcmap_new(void)
{
	struct yaml_srcmap *map = xcalloc(1, sizeof *map);

	map->cap = 256;
	map->slots = xcalloc(map->cap, sizeof *map->slots);
	return map;
}

void
yaml_srcmap_free(struct yaml_srcmap *map)
{
	size_t i;

	if (map == NULL)
		return;
	for (i = 0; i < map->cap; i++)
		json_decref(map->slots[i].node);
	for (i = 0; i < map->nfiles; i++)
		free(map->files[i]);
	free(map->files);
	free(map->slots);
	free(map);
}

static void
yaml_srcmap_grow(struct yaml_srcmap *map)
{
	struct yaml_srcmap_entry *old = map->slots;
	size_t oldcap = map->cap, i, h;

	map->cap = oldcap * 2;
	map->slots = xcalloc(map->cap, sizeof *map->slots);
	for (i = 0; i < oldcap; i++) {
		if (old[i].node == NULL)
			continue;
		h = yaml_srcmap_hash(old[i].node, map->cap);
		while (map->slots[h].node != NULL)
			h = (h + 1) & (map->cap - 1);
		map->slots[h] = old[i];
	}
	free(old);
}

static const char *
yaml_srcmap_intern(struct yaml_srcmap *map, const char *file)
{
	size_t i;

	if (file == NULL)
		file = "<input>";
	/* Few files per run; the newest is the likeliest. */
	for (i = map->nfiles; i > 0; i--)
		if (strcmp(map->files[i - 1], file) == 0)
			return map->files[i - 1];
	map->files = xreallocarray(map->files, map->nfiles + 1,
	    sizeof *map->files);
	map->files[map->nfiles] = xstrdup(file);
	return map->files[map->nfiles++];
}

void
yaml_srcmap_add(struct yaml_srcmap *map, const json_t *node, const char *file,
    int line, int col)
{
	size_t h;

	if (map == NULL || node == NULL || json_is_true(node) ||
	    json_is_false(node) || json_is_null(node))
		return;
	if ((map->used + 1) * 2 > map->cap)
		yaml_srcmap_grow(map);
	h = yaml_srcmap_hash(node, map->cap);
	while (map->slots[h].node != NULL && map->slots[h].node != node)
		h = (h + 1) & (map->cap - 1);
	if (map->slots[h].node == NULL) {
		map->slots[h].node = json_incref((json_t *)node);
		map->used++;
	}
	map->slots[h].file = yaml_srcmap_intern(map, file);
	map->slots[h].line = line;
	map->slots[h].col = col;
}

int
yaml_srcmap_find(const struct yaml_srcmap *map, const json_t *node,
    const char **file, int *line, int *col)
{
	size_t h;

	if (map == NULL || node == NULL)
		return -1;
	h = yaml_srcmap_hash(node, map->cap);
	while (map->slots[h].node != NULL) {
		if (map->slots[h].node == node) {
			if (file != NULL)
				*file = map->slots[h].file;
			if (line != NULL)
				*line = map->slots[h].line;
			if (col != NULL)
				*col = map->slots[h].col;
			return 0;
		}
		h = (h + 1) & (map->cap - 1);
	}
	return -1;
}

/* ---- parser ---- */

static int
yaml_fail(struct yaml_ctx *ctx, const yaml_mark_t *mark, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(ctx->err, CWLD_EXIT_USAGE, "%s:%zu:%zu: %s", ctx->file,
	    mark->line + 1, mark->column + 1, msg);
}

static int
yaml_is_null(const char *s)
{
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Core schema (YAML 1.2.2 10.3.2) for plain scalars. .inf and .nan have no
 * JSON form and stay strings. */
static json_t *
yaml_resolve_plain(const char *s, size_t len)
{
	const char *p = s;
	char *end = NULL;
	long long ll;
	double d;
	int digits = 0, dot = 0, expo = 0;

	if (strlen(s) != len)
		return json_stringn(s, len);
	if (yaml_is_null(s))
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return json_false();
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o') && s[2] != '\0') {
		int base = s[1] == 'x' ? 16 : 8;

		for (p = s + 2; *p != '\0'; p++) {
			if (base == 16 ? !isxdigit((unsigned char)*p) :
			    (*p < '0' || *p > '7'))
				return json_stringn(s, len);
		}
		errno = 0;
		ll = strtoll(s + 2, &end, base);
		if (errno != 0 || *end != '\0')
			return json_stringn(s, len);
		return json_integer(ll);
	}
	/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
	p = s;
	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		dot = 1;
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return json_stringn(s, len);
	if (*p == 'e' || *p == 'E') {
		expo = 1;
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return json_stringn(s, len);
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return json_stringn(s, len);
	if (!dot && !expo) {
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(ll);
	}
	errno = 0;
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d))
		return json_stringn(s, len);
	return json_real(d);
}

static json_t *
yaml_scalar(struct yaml_ctx *ctx, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	json_t *v;

	(void)ctx;
	if (tag != NULL && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
		tag += 18;
		if (strcmp(tag, "str") == 0)
			return json_stringn(s, len);
		v = yaml_resolve_plain(s, len);
		/* An explicit type tag only makes its own kind of value. */
		if (v != NULL && ((strcmp(tag, "int") == 0 && !json_is_integer(v)) ||
		    (strcmp(tag, "float") == 0 && !json_is_number(v)) ||
		    (strcmp(tag, "bool") == 0 && !json_is_boolean(v)) ||
		    (strcmp(tag, "null") == 0 && !json_is_null(v)))) {
			json_decref(v);
			return NULL;
		}
		if (v != NULL && strcmp(tag, "float") == 0 && json_is_integer(v)) {
			json_int_t i = json_integer_value(v);

			json_decref(v);
			v = json_real((double)i);
		}
		return v;
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
	    (tag != NULL && strcmp(tag, "!") == 0))
		return json_stringn(s, len);
	return yaml_resolve_plain(s, len);
}

/* New string: the text a mapping key stands for. */
static char *
yaml_key_string(const json_t *v, const char *raw)
{
	char *dump, *ret;

	if (json_is_string(v))
		return xstrndup(json_string_value(v), json_string_length(v));
	if (raw != NULL)
		return xstrdup(raw);
	dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
	if (dump == NULL)
		return xstrdup("");
	ret = xstrdup(dump);
	free(dump);
	return ret;
}

/* Places a finished node (reference stolen) into the open container, or
 * makes it the root. raw is the scalar's text, for use as a key. */
static int
yaml_add(struct yaml_ctx *ctx, json_t *v, const char *raw, const char *anchor,
    size_t weight, int height, const yaml_mark_t *mark)
{
	struct yaml_frame *f;
	json_t *entry = NULL;
	int rc = -1;

	if (anchor != NULL) {
		entry = json_pack("[O,I,i]", v, (json_int_t)weight, height);
		if (entry == NULL || json_object_set_new(ctx->anchors, anchor,
		    entry) == -1) {
			yaml_fail(ctx, mark, "bad anchor name '%s'", anchor);
			goto out;
		}
	}
	if (ctx->nframes == 0) {
		ctx->root = v;
		v = NULL;
		rc = 0;
		goto out;
	}
	f = &ctx->frames[ctx->nframes - 1];
	f->weight += weight;
	if (height + 1 > f->height)
		f->height = height + 1;
	if (ctx->nframes + (size_t)height > YAML_MAX_DEPTH + 1) {
		yaml_fail(ctx, mark, "nested deeper than %d levels",
		    YAML_MAX_DEPTH);
		goto out;
	}
	if (!f->is_map) {
		json_array_append_new(f->node, v);
		v = NULL;
	} else if (f->key == NULL) {
		/* Collection keys are dumped to JSON text; bound that work, as
		 * escaping grows with each level of keys inside keys. */
		if (weight > YAML_MAX_KEY_NODES) {
			yaml_fail(ctx, mark, "mapping key too complex");
			goto out;
		}
		f->key = yaml_key_string(v, raw);
		if (strlen(f->key) > YAML_MAX_KEY_BYTES) {
			yaml_fail(ctx, mark, "mapping key longer than %d bytes",
			    YAML_MAX_KEY_BYTES);
			goto out;
		}
		f->key_line = (int)mark->line + 1;
		f->key_col = (int)mark->column + 1;
		if (strlen(f->key) != (json_is_string(v) ?
		    json_string_length(v) : strlen(f->key))) {
			yaml_fail(ctx, mark, "mapping key contains a NUL byte");
			goto out;
		}
		if (json_object_get(f->node, f->key) != NULL) {
			yaml_fail(ctx, mark, "duplicate key '%s'", f->key);
			goto out;
		}
	} else {
		if (json_object_set_new(f->node, f->key, v) == -1) {
			v = NULL;
			yaml_fail(ctx, mark, "invalid mapping key");
			goto out;
		}
		v = NULL;
		free(f->key);
		f->key = NULL;
	}
	rc = 0;
out:
	json_decref(v);
	return rc;
}

static int
yaml_push(struct yaml_ctx *ctx, const yaml_event_t *ev, int is_map)
{
	struct yaml_frame *f;
	const yaml_char_t *anchor;

	if (ctx->nframes >= YAML_MAX_DEPTH)
		return yaml_fail(ctx, &ev->start_mark,
		    "nested deeper than %d levels", YAML_MAX_DEPTH);
	if (ctx->nframes == ctx->capframes) {
		ctx->capframes = ctx->capframes ? ctx->capframes * 2 : 16;
		ctx->frames = xreallocarray(ctx->frames, ctx->capframes,
		    sizeof *ctx->frames);
	}
	anchor = is_map ? ev->data.mapping_start.anchor :
	    ev->data.sequence_start.anchor;
	f = &ctx->frames[ctx->nframes++];
	memset(f, 0, sizeof *f);
	f->is_map = is_map;
	f->node = is_map ? json_object() : json_array();
	f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	f->weight = 1;
	f->height = 1;
	yaml_srcmap_add(ctx->map, f->node, ctx->file,
	    (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1);
	return 0;
}

static int
yaml_pop(struct yaml_ctx *ctx, const yaml_mark_t *mark)
{
	struct yaml_frame f;
	int rc;

	if (ctx->nframes == 0)
		return yaml_fail(ctx, mark, "unbalanced collection end");
	f = ctx->frames[--ctx->nframes];
	free(f.key); /* only set if the parser lost a value; cannot happen */
	rc = yaml_add(ctx, f.node, NULL, f.anchor, f.weight, f.height, mark);
	free(f.anchor);
	return rc;
}

/* New reference: a deep copy of v carrying the source positions along. */
static json_t *
yaml_copy(struct yaml_ctx *ctx, json_t *v)
{
	json_t *c = NULL, *child;
	const char *file, *key;
	size_t i;
	int line, col;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		c = json_object();
		json_object_foreach(v, key, child)
			json_object_set_new(c, key, yaml_copy(ctx, child));
		break;
	case JSON_ARRAY:
		c = json_array();
		json_array_foreach(v, i, child)
			json_array_append_new(c, yaml_copy(ctx, child));
		break;
	case JSON_STRING:
		c = json_stringn(json_string_value(v), json_string_length(v));
		break;
	default:
		c = json_copy(v);
		break;
	}
	if (yaml_srcmap_find(ctx->map, v, &file, &line, &col) == 0)
		yaml_srcmap_add(ctx->map, c, file, line, col);
	return c;
}

static int
yaml_alias(struct yaml_ctx *ctx, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *entry, *copy;
	size_t weight;
	int height;

	entry = json_object_get(ctx->anchors, name);
	if (entry == NULL)
		return yaml_fail(ctx, &ev->start_mark,
		    "unknown or unfinished anchor '%s'", name);
	weight = (size_t)json_integer_value(json_array_get(entry, 1));
	height = (int)json_integer_value(json_array_get(entry, 2));
	if (++ctx->aliases > YAML_MAX_ALIASES ||
	    weight > YAML_MAX_ALIAS_NODES - ctx->alias_nodes)
		return yaml_fail(ctx, &ev->start_mark,
		    "too many alias expansions");
	ctx->alias_nodes += weight;
	copy = yaml_copy(ctx, json_array_get(entry, 0));
	/* The alias's own place is where it appears, not the anchor's. */
	yaml_srcmap_add(ctx->map, copy, ctx->file,
	    (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1);
	return yaml_add(ctx, copy, NULL, NULL, weight, height, &ev->start_mark);
}

static void
yaml_ctx_release(struct yaml_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nframes; i++) {
		json_decref(ctx->frames[i].node);
		free(ctx->frames[i].key);
		free(ctx->frames[i].anchor);
	}
	free(ctx->frames);
	json_decref(ctx->anchors);
	json_decref(ctx->root);
	memset(ctx, 0, sizeof *ctx);
}

json_t *
yaml_parse(const char *text, size_t len, const char *file,
    struct yaml_srcmap *map, struct cwld_err *err)
{
	struct yaml_ctx ctx;
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_mark_t mark;
	json_t *ret = NULL, *v;
	int parser_ok = 0, done = 0, in_doc = 0;
	const char *raw;

	memset(&ctx, 0, sizeof ctx);
	ctx.file = file != NULL ? file : "<input>";
	ctx.map = map;
	ctx.err = err;
	ctx.anchors = json_object();
	if (len > YAML_MAX_BYTES) {
		err_set(err, CWLD_EXIT_USAGE, "%s: larger than %u bytes",
		    ctx.file, YAML_MAX_BYTES);
		goto out;
	}
	if (!yaml_parser_initialize(&parser)) {
		err_set(err, CWLD_EXIT_USAGE, "%s: cannot initialise parser",
		    ctx.file);
		goto out;
	}
	parser_ok = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (done < 2) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_READER_ERROR)
				err_set(err, CWLD_EXIT_USAGE,
				    "%s: %s at byte %zu", ctx.file,
				    parser.problem ? parser.problem :
				    "invalid input", parser.problem_offset);
			else if (parser.context != NULL)
				err_set(err, CWLD_EXIT_USAGE,
				    "%s:%zu:%zu: %s %s", ctx.file,
				    parser.problem_mark.line + 1,
				    parser.problem_mark.column + 1,
				    parser.problem ? parser.problem :
				    "syntax error", parser.context);
			else
				err_set(err, CWLD_EXIT_USAGE,
				    "%s:%zu:%zu: %s", ctx.file,
				    parser.problem_mark.line + 1,
				    parser.problem_mark.column + 1,
				    parser.problem ? parser.problem :
				    "syntax error");
			goto out;
		}
		mark = ev.start_mark;
		if (done) {
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			in_doc = 1;
			break;
		case YAML_DOCUMENT_END_EVENT:
			/* An implicit end may be followed by junk ("[1] x"):
			 * parse one event more so it is reported. */
			if (ev.data.document_end.implicit)
				done = 1;
			else
				done = 2;
			break;
		case YAML_STREAM_END_EVENT:
			done = 2;
			break;
		case YAML_SCALAR_EVENT:
			if (!in_doc)
				break;
			v = yaml_scalar(&ctx, &ev);
			if (v == NULL) {
				if (ev.data.scalar.tag != NULL)
					yaml_fail(&ctx, &mark,
					    "invalid value for tag '%s'",
					    (const char *)ev.data.scalar.tag);
				else
					yaml_fail(&ctx, &mark,
					    "invalid scalar value");
				yaml_event_delete(&ev);
				goto out;
			}
			/* Keys become object keys, not nodes: not recorded. */
			if (ctx.nframes == 0 ||
			    !ctx.frames[ctx.nframes - 1].is_map ||
			    ctx.frames[ctx.nframes - 1].key != NULL)
				yaml_srcmap_add(map, v, ctx.file,
				    (int)mark.line + 1, (int)mark.column + 1);
			raw = (const char *)ev.data.scalar.value;
			if (yaml_add(&ctx, v, raw,
			    (const char *)ev.data.scalar.anchor, 1, 1,
			    &mark) == -1) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (yaml_push(&ctx, &ev,
			    ev.type == YAML_MAPPING_START_EVENT) == -1) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (yaml_pop(&ctx, &mark) == -1) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		case YAML_ALIAS_EVENT:
			if (yaml_alias(&ctx, &ev) == -1) {
				yaml_event_delete(&ev);
				goto out;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	if (ctx.root == NULL)
		ctx.root = json_null(); /* empty stream or document */
	ret = ctx.root;
	ctx.root = NULL;
out:
	if (parser_ok)
		yaml_parser_delete(&parser);
	yaml_ctx_release(&ctx);
	return ret;
}

json_t *
yaml_parse_file(const char *path, struct yaml_srcmap *map,
    struct cwld_err *err)
{
	char *text = NULL;
	size_t len = 0;
	json_t *ret = NULL;

	text = fs_read_file(path, YAML_MAX_BYTES, &len, err);
	if (text == NULL)
		goto out;
	ret = yaml_parse(text, len, path, map, err);
out:
	free(text);
	return ret;
}

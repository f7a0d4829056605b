/* The command line of a CommandLineTool (spec "Input binding"): bindings are
 * collected from baseCommand, arguments and the inputs' schema (records,
 * arrays and unions walked recursively), sorted by their position keys and
 * turned into words; cwltool's reading is followed where the spec is loose.
 * Staging files is the job's business: Files and Directories must arrive
 * with their "path" set. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/bind.h"
#include "cwld/xmalloc.h"

/* baseCommand sorts before every argument and input (cwltool's key) */
#define BIND_BASE_POSITION (-1000000)

struct bind_state {
	const json_t *inputs, *runtime;
	struct expr_ctx *ex;
	struct cwld_err *err;
};

struct bind_item {
	json_t *b;
	size_t idx;
};

/* --- matching values against types (for unions) ------------------------ */

static int bind_validate(const json_t *type, const json_t *v);

static int
bind_same_name(const char *a, const char *b)
{
	const char *sa, *sb;

	if (strcmp(a, b) == 0)
		return 1;
	/* symbols may still carry their document URI */
	sa = strrchr(a, '/');
	sb = strrchr(b, '/');
	sa = sa != NULL ? sa + 1 : a;
	sb = sb != NULL ? sb + 1 : b;
	if (strchr(sa, '#') != NULL)
		sa = strrchr(sa, '#') + 1;
	if (strchr(sb, '#') != NULL)
		sb = strrchr(sb, '#') + 1;
	return strcmp(sa, sb) == 0;
}

static int
bind_validate_name(const char *t, const json_t *v)
{
	if (strcmp(t, "null") == 0)
		return json_is_null(v);
	if (strcmp(t, "Any") == 0)
		return v != NULL && !json_is_null(v);
	if (strcmp(t, "boolean") == 0)
		return json_is_boolean(v);
	if (strcmp(t, "int") == 0)
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		    json_integer_value(v) <= INT32_MAX;
	if (strcmp(t, "long") == 0)
		return json_is_integer(v);
	if (strcmp(t, "float") == 0 || strcmp(t, "double") == 0)
		return json_is_number(v);
	if (strcmp(t, "string") == 0)
		return json_is_string(v);
	if (strcmp(t, "File") == 0 || strcmp(t, "Directory") == 0) {
		const char *c = json_string_value(json_object_get(v, "class"));

		return c != NULL && strcmp(c, t) == 0;
	}
	return 0;
}

static int
bind_validate(const json_t *type, const json_t *v)
{
	const json_t *t, *f;
	const char *tn;
	size_t i;

	if (json_is_string(type))
		return bind_validate_name(json_string_value(type), v);
	if (json_is_array(type)) {
		json_array_foreach(type, i, t) {
			if (bind_validate(t, v))
				return 1;
		}
		return 0;
	}
	if (!json_is_object(type))
		return 0;
	t = json_object_get(type, "type");
	if (!json_is_string(t))
		return bind_validate(t, v);
	tn = json_string_value(t);
	if (strcmp(tn, "array") == 0) {
		const json_t *item;

		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, item) {
			if (!bind_validate(json_object_get(type, "items"), item))
				return 0;
		}
		return 1;
	}
	if (strcmp(tn, "record") == 0) {
		if (!json_is_object(v))
			return 0;
		json_array_foreach(json_object_get(type, "fields"), i, f) {
			const char *name = json_string_value(json_object_get(f, "name"));
			const json_t *fv = name != NULL ? json_object_get(v, name) : NULL;

			if (!bind_validate(json_object_get(f, "type"), fv != NULL ? fv : json_null()))
				return 0;
		}
		return 1;
	}
	if (strcmp(tn, "enum") == 0) {
		if (!json_is_string(v))
			return 0;
		json_array_foreach(json_object_get(type, "symbols"), i, t) {
			if (json_is_string(t) && bind_same_name(json_string_value(t), json_string_value(v)))
				return 1;
		}
		return 0;
	}
	return bind_validate_name(tn, v);
}

/* --- collecting bindings ---------------------------------------------- */

static void
bind_extend(json_t *dst, const json_t *src)
{
	json_array_extend(dst, (json_t *)src);
}

/* Evaluates a position (int or expression) to a JSON number, new ref. */
static json_t *
bind_position(struct bind_state *st, const json_t *pos, const json_t *self)
{
	json_t *v;

	if (pos == NULL || json_is_null(pos))
		return json_integer(0);
	if (json_is_number(pos))
		return json_copy((json_t *)pos);
	if (!json_is_string(pos)) {
		err_set(st->err, CWLD_EXIT_USAGE, "position must be an int");
		return NULL;
	}
	if ((v = expr_eval(st->ex, json_string_value(pos), st->inputs, self, st->runtime,
	    st->err)) == NULL)
		return NULL;
	if (json_is_null(v)) {
		json_decref(v);
		return json_integer(0);
	}
	if (!json_is_integer(v)) {
		json_decref(v);
		err_set(st->err, CWLD_EXIT_USAGE, "position expression must give an int");
		return NULL;
	}
	return v;
}

/* cwltool's bind_input: appends to out the bindings for datum under schema
 * (an object with "type" and maybe "inputBinding"), with sort keys
 * lead + [position] + tail, nested keys prefixed by their parent's. */
static int
bind_input(struct bind_state *st, const json_t *schema, const json_t *datum,
    const json_t *lead, const json_t *tail, const char *what, json_t *out)
{
	const json_t *ib = json_object_get(schema, "inputBinding");
	const json_t *type = json_object_get(schema, "type");
	json_t *binding = NULL, *bindings = json_array(), *bp = NULL, *tmp = NULL;
	json_t *anyarr = NULL;
	const char *tn;
	int vfrom = 0, rc = -1;
	size_t i;

	if (json_is_object(ib)) {
		const json_t *pos = json_object_get(ib, "position");

		binding = json_copy((json_t *)ib);
		bp = json_copy((json_t *)lead);
		if (json_is_array(pos))
			bind_extend(bp, pos);
		else {
			if ((tmp = bind_position(st, pos, datum)) == NULL) {
				err_prefix(st->err, "%s", what);
				goto out;
			}
			json_array_append_new(bp, tmp);
			tmp = NULL;
		}
		bind_extend(bp, tail);
		json_object_set_new(binding, "position", bp);
		bp = NULL;
		json_object_set(binding, "datum", (json_t *)datum);
		json_object_set_new(binding, "cwld:what", json_string(what));
		vfrom = json_object_get(binding, "valueFrom") != NULL;
	}

	if (json_is_array(type)) {
		const json_t *t;
		int matched = 0;

		json_array_foreach(type, i, t) {
			if (!bind_validate(t, datum))
				continue;
			matched = 1;
			if (vfrom)
				break; /* valueFrom decides what the value becomes */
			tmp = json_copy((json_t *)schema);
			json_object_set(tmp, "type", (json_t *)t);
			/* the member's walk makes this binding again */
			rc = bind_input(st, tmp, datum, lead, tail, what, out);
			goto out;
		}
		if (!matched) {
			err_set(st->err, CWLD_EXIT_USAGE, "%s: value does not match any type of the union",
			    what);
			goto out;
		}
	} else if (json_is_object(type)) {
		tmp = json_copy((json_t *)type);
		if (binding != NULL && json_object_get(tmp, "inputBinding") == NULL &&
		    json_is_string(json_object_get(tmp, "type")) &&
		    strcmp(json_string_value(json_object_get(tmp, "type")), "array") == 0 &&
		    json_object_get(binding, "itemSeparator") == NULL)
			json_object_set_new(tmp, "inputBinding", json_object());
		if (!vfrom && bind_input(st, tmp, datum, lead, tail, what, bindings) < 0)
			goto out;
	} else if ((tn = json_string_value(type)) != NULL) {
		const json_t *items = json_object_get(schema, "items");

		if (strcmp(tn, "Any") == 0 && json_is_array(datum)) {
			tn = "array";
			items = anyarr = json_string("Any");
		}
		if (strcmp(tn, "record") == 0) {
			const json_t *f;

			if (!json_is_object(datum)) {
				err_set(st->err, CWLD_EXIT_USAGE, "%s: expected a record", what);
				goto out;
			}
			json_array_foreach(json_object_get(schema, "fields"), i, f) {
				const char *name = json_string_value(json_object_get(f, "name"));
				const json_t *d = name != NULL ? json_object_get(datum, name) : NULL;
				char *w;
				int r;

				if (d == NULL || json_is_null(d))
					continue;
				tmp = json_pack("[s]", name);
				w = xasprintf("%s field '%s'", what, name);
				r = bind_input(st, f, d, lead, tmp, w, bindings);
				free(w);
				json_decref(tmp);
				tmp = NULL;
				if (r < 0)
					goto out;
			}
		}
		if (strcmp(tn, "array") == 0) {
			const json_t *item;

			if (!json_is_array(datum)) {
				err_set(st->err, CWLD_EXIT_USAGE, "%s: expected an array", what);
				goto out;
			}
			json_array_foreach(datum, i, item) {
				json_t *is = json_object(), *ld = json_pack("[I]", (json_int_t)i);
				int r;

				json_object_set(is, "type", items != NULL ? (json_t *)items : json_null());
				if (binding != NULL) {
					json_t *b2 = json_copy(binding);

					json_object_set(b2, "datum", (json_t *)item);
					json_object_set_new(is, "inputBinding", b2);
				}
				r = bind_input(st, is, item, ld, tail, what, bindings);
				json_decref(is);
				json_decref(ld);
				if (r < 0)
					goto out;
			}
			json_decref(binding);
			binding = NULL;
		}
	}

	if (binding != NULL) {
		const json_t *bi;
		const json_t *mine = json_object_get(binding, "position");

		json_array_foreach(bindings, i, bi) {
			json_t *np = json_copy((json_t *)mine);

			bind_extend(np, json_object_get(bi, "position"));
			json_object_set_new((json_t *)bi, "position", np);
		}
		json_array_append(bindings, binding);
	}
	bind_extend(out, bindings);
	rc = 0;
out:
	json_decref(anyarr);
	json_decref(tmp);
	json_decref(bp);
	json_decref(binding);
	json_decref(bindings);
	return rc;
}

/* --- sorting ------------------------------------------------------------ */

/* Sort keys compare element by element, numbers before strings, strings
 * by their UTF-8 bytes; a key that is a prefix of another sorts first. */
static int
bind_key_cmp(const json_t *a, const json_t *b)
{
	size_t i, na = json_array_size(a), nb = json_array_size(b);

	for (i = 0; i < na && i < nb; i++) {
		const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);
		int c;

		if (json_is_number(x) && json_is_number(y)) {
			double dx = json_number_value(x), dy = json_number_value(y);

			if (dx != dy)
				return dx < dy ? -1 : 1;
			continue;
		}
		if (json_is_number(x))
			return -1;
		if (json_is_number(y))
			return 1;
		c = strcmp(json_is_string(x) ? json_string_value(x) : "",
		    json_is_string(y) ? json_string_value(y) : "");
		if (c != 0)
			return c < 0 ? -1 : 1;
	}
	return na < nb ? -1 : na > nb;
}

static int
bind_item_cmp(const void *pa, const void *pb)
{
	const struct bind_item *a = pa, *b = pb;
	int c = bind_key_cmp(json_object_get(a->b, "position"), json_object_get(b->b, "position"));

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx; /* stable */
}

/* --- words ---------------------------------------------------------------- */

/* The text of one value on the command line; NULL with err. */
static char *
bind_tostr(struct bind_state *st, const json_t *v)
{
	const char *cls;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrndup(json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		return expr_real_text(json_real_value(v));
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return xstrdup("null");
	case JSON_OBJECT:
		cls = json_string_value(json_object_get(v, "class"));
		if (cls != NULL && (strcmp(cls, "File") == 0 || strcmp(cls, "Directory") == 0)) {
			const char *path = json_string_value(json_object_get(v, "path"));

			if (path == NULL) {
				err_set(st->err, CWLD_EXIT_USAGE, "%s object has no path", cls);
				return NULL;
			}
			return xstrdup(path);
		}
		/* FALLTHROUGH */
	case JSON_ARRAY:
	default:
		{
			char *t = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

			if (t == NULL)
				err_set(st->err, CWLD_EXIT_FAILED, "cannot encode value");
			return t;
		}
	}
}

static int
bind_is_file(const json_t *v)
{
	const char *cls = json_string_value(json_object_get(v, "class"));

	return cls != NULL && (strcmp(cls, "File") == 0 || strcmp(cls, "Directory") == 0);
}

static void
bind_add_word(json_t *words, const char *prefix, int sep, const char *s)
{
	if (prefix == NULL)
		json_array_append_new(words, json_string(s));
	else if (sep) {
		json_array_append_new(words, json_string(prefix));
		json_array_append_new(words, json_string(s));
	} else {
		char *w = xasprintf("%s%s", prefix, s);

		json_array_append_new(words, json_string(w));
		free(w);
	}
}

/* cwltool's generate_arg: the words of one binding, appended to words. */
static int
bind_generate(struct bind_state *st, const json_t *b, json_t *words)
{
	const json_t *datum = json_object_get(b, "datum");
	const json_t *vf = json_object_get(b, "valueFrom");
	const json_t *sepv = json_object_get(b, "separate");
	const char *prefix = json_string_value(json_object_get(b, "prefix"));
	const char *isep = json_string_value(json_object_get(b, "itemSeparator"));
	json_t *value = NULL;
	const json_t *v;
	char *s = NULL;
	int sep = !json_is_false(sepv), rc = -1;
	size_t i;

	if (vf != NULL && !json_is_null(vf)) {
		if (datum != NULL && json_is_null(datum)) {
			rc = 0; /* a null input: valueFrom is not evaluated */
			goto out;
		}
		if ((value = expr_eval_value(st->ex, vf, st->inputs, datum, st->runtime,
		    st->err)) == NULL)
			goto out;
		v = value;
	} else
		v = datum;
	if (v == NULL || json_is_null(v) || json_is_false(v)) {
		rc = 0;
		goto out;
	}
	if (json_is_true(v)) {
		if (prefix != NULL)
			json_array_append_new(words, json_string(prefix));
		rc = 0;
		goto out;
	}
	if (json_is_array(v)) {
		const json_t *item;

		if (isep != NULL && json_array_size(v) > 0) {
			char *joined = xstrdup("");

			json_array_foreach(v, i, item) {
				char *t, *n;

				if ((t = bind_tostr(st, item)) == NULL) {
					free(joined);
					goto out;
				}
				n = xasprintf("%s%s%s", joined, i > 0 ? isep : "", t);
				free(joined);
				free(t);
				joined = n;
			}
			bind_add_word(words, prefix, sep, joined);
			free(joined);
		} else if (vf != NULL && !json_is_null(vf)) {
			if (prefix != NULL)
				json_array_append_new(words, json_string(prefix));
			json_array_foreach(v, i, item) {
				if ((s = bind_tostr(st, item)) == NULL)
					goto out;
				json_array_append_new(words, json_string(s));
				free(s);
				s = NULL;
			}
		} else if (prefix != NULL && json_array_size(v) > 0)
			json_array_append_new(words, json_string(prefix));
		rc = 0;
		goto out;
	}
	if (json_is_object(v) && !bind_is_file(v)) {
		if (prefix != NULL)
			json_array_append_new(words, json_string(prefix));
		rc = 0;
		goto out;
	}
	if ((s = bind_tostr(st, v)) == NULL)
		goto out;
	bind_add_word(words, prefix, sep, s);
	rc = 0;
out:
	if (rc < 0) {
		const char *what = json_string_value(json_object_get(b, "cwld:what"));

		err_prefix(st->err, "%s", what != NULL ? what : "binding");
	}
	free(s);
	json_decref(value);
	return rc;
}

/* POSIX shell quoting as Python's shlex/shellescape: safe words stay bare. */
static char *
bind_shell_quote(const char *s)
{
	const char *p;
	size_t n = 2;
	char *out, *o;

	if (*s == '\0')
		return xstrdup("''");
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("_@%+=:,./-", c) != NULL))
			break;
	}
	if (*p == '\0')
		return xstrdup(s);
	for (p = s; *p; p++)
		n += *p == '\'' ? 5 : 1;
	out = o = xmalloc(n + 1);
	*o++ = '\'';
	for (p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\"'\"'", 5);
			o += 5;
		} else
			*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

json_t *
bind_command_line(const json_t *tool, const json_t *inputs,
    const json_t *runtime, struct expr_ctx *ex, int shell, struct cwld_err *err)
{
	struct bind_state st = { inputs, runtime, ex, err };
	struct bind_item *items = NULL;
	json_t *all = json_array(), *words = json_array(), *ret = NULL, *b = NULL;
	json_t *empty = json_array(), *tail = NULL, *pos = NULL;
	const json_t *v, *base = json_object_get(tool, "baseCommand");
	char *line = NULL, *what = NULL;
	size_t i, n;

	if (json_is_string(base)) {
		json_array_append_new(all, json_pack("{s:[i,i],s:O,s:s}", "position",
		    BIND_BASE_POSITION, 0, "datum", base, "cwld:what", "baseCommand"));
	} else {
		json_array_foreach(base, i, v) {
			if (!json_is_string(v)) {
				err_set(err, CWLD_EXIT_USAGE, "baseCommand[%zu] is not a string", i);
				goto out;
			}
			json_array_append_new(all, json_pack("{s:[i,I],s:O,s:s}", "position",
			    BIND_BASE_POSITION, (json_int_t)i, "datum", v, "cwld:what", "baseCommand"));
		}
	}
	json_array_foreach(json_object_get(tool, "arguments"), i, v) {
		free(what);
		what = xasprintf("argument %zu", i);
		if (json_is_object(v)) {
			b = json_copy((json_t *)v);
			json_object_del(b, "datum");
			if ((pos = bind_position(&st, json_object_get(v, "position"), NULL)) == NULL) {
				err_prefix(err, "%s", what);
				goto out;
			}
			json_object_set_new(b, "position", json_pack("[o,I]", pos, (json_int_t)i));
			pos = NULL;
		} else if (json_is_string(v)) {
			b = json_pack("{s:[i,I]}", "position", 0, (json_int_t)i);
			/* as cwltool: "\$(" too goes through evaluation (and its escape) */
			json_object_set(b, strstr(json_string_value(v), "$(") != NULL ||
			    strstr(json_string_value(v), "${") != NULL ? "valueFrom" : "datum",
			    (json_t *)v);
		} else {
			err_set(err, CWLD_EXIT_USAGE, "%s is neither a string nor a binding", what);
			goto out;
		}
		json_object_set_new(b, "cwld:what", json_string(what));
		json_array_append_new(all, b);
		b = NULL;
	}
	json_array_foreach(json_object_get(tool, "inputs"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		const json_t *d = id != NULL ? json_object_get(inputs, id) : NULL;

		if (d == NULL || json_is_null(d))
			continue;
		free(what);
		what = xasprintf("input '%s'", id);
		tail = json_pack("[s]", id);
		if (bind_input(&st, v, d, empty, tail, what, all) < 0)
			goto out;
		json_decref(tail);
		tail = NULL;
	}

	n = json_array_size(all);
	items = xreallocarray(NULL, n ? n : 1, sizeof *items);
	for (i = 0; i < n; i++) {
		items[i].b = json_array_get(all, i);
		items[i].idx = i;
	}
	qsort(items, n, sizeof *items, bind_item_cmp);
	for (i = 0; i < n; i++) {
		json_t *w = json_array();
		const json_t *wv;
		size_t k;

		if (bind_generate(&st, items[i].b, w) < 0) {
			json_decref(w);
			goto out;
		}
		json_array_foreach(w, k, wv) {
			if (shell && !json_is_false(json_object_get(items[i].b, "shellQuote"))) {
				char *q = bind_shell_quote(json_string_value(wv));

				json_array_append_new(words, json_string(q));
				free(q);
			} else
				json_array_append(words, (json_t *)wv);
		}
		json_decref(w);
	}
	if (shell) {
		size_t len = 0, off = 0;

		json_array_foreach(words, i, v)
			len += json_string_length(v) + 1;
		line = xmalloc(len + 1);
		json_array_foreach(words, i, v) {
			if (i > 0)
				line[off++] = ' ';
			memcpy(line + off, json_string_value(v), json_string_length(v));
			off += json_string_length(v);
		}
		line[off] = '\0';
		ret = json_pack("[s,s,s]", "/bin/sh", "-c", line);
	} else {
		ret = words;
		words = NULL;
	}
out:
	free(line);
	free(what);
	free(items);
	json_decref(pos);
	json_decref(tail);
	json_decref(b);
	json_decref(empty);
	json_decref(words);
	json_decref(all);
	return ret;
}

/* Inputs from the command line (cwl-runner style), typed by the process's
 * normalised input types (see load.h): scalars are converted, File and
 * Directory paths become absolute locations, arrays collect repeated
 * options. Anything richer is for a job file. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/cli_inputs.h"
#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

/* The type without "null" when it is an optional one; the union itself (an
 * array of two or more types) otherwise. Borrowed. */
static const json_t *
cli_inputs_strip_null(const json_t *t, int *optional)
{
	const json_t *only = NULL, *m;
	size_t i, n = 0;

	*optional = 0;
	if (!json_is_array(t))
		return t;
	json_array_foreach(t, i, m) {
		if (json_is_string(m) && strcmp(json_string_value(m), "null") == 0) {
			*optional = 1;
			continue;
		}
		only = m;
		n++;
	}
	return n == 1 ? only : t;
}

/* A short name for a type, for messages and --help. New string. */
static char *
cli_inputs_type_name(const json_t *t)
{
	const char *k;
	char *inner, *out;
	size_t i;
	json_t *m;

	if (json_is_string(t))
		return xstrdup(json_string_value(t));
	if (json_is_array(t)) {
		out = xstrdup("");
		json_array_foreach(t, i, m) {
			inner = cli_inputs_type_name(m);
			char *next = xasprintf("%s%s%s", out, i ? "|" : "", inner);
			free(out);
			free(inner);
			out = next;
		}
		return out;
	}
	k = json_string_value(json_object_get(t, "type"));
	if (k != NULL && strcmp(k, "array") == 0) {
		inner = cli_inputs_type_name(json_object_get(t, "items"));
		out = xasprintf("%s[]", inner);
		free(inner);
		return out;
	}
	if (k != NULL && strcmp(k, "enum") == 0) {
		out = xstrdup("");
		json_array_foreach(json_object_get(t, "symbols"), i, m) {
			const char *sym = json_string_value(m);
			const char *slash = sym ? strrchr(sym, '/') : NULL;
			char *next = xasprintf("%s%s%s", out, i ? "|" : "",
			    slash ? slash + 1 : sym ? sym : "?");
			free(out);
			out = next;
		}
		return out;
	}
	return xstrdup(k != NULL ? k : "?");
}

/* The symbol of an enum type that value names (symbols may be full URIs
 * ending in /value or #value). Borrowed, or NULL. */
static const char *
cli_inputs_enum_symbol(const json_t *t, const char *value)
{
	size_t i, vl = strlen(value), sl;
	json_t *m;

	json_array_foreach(json_object_get(t, "symbols"), i, m) {
		const char *s = json_string_value(m);

		if (s == NULL)
			continue;
		sl = strlen(s);
		if (strcmp(s, value) == 0 || (sl > vl && strcmp(s + sl - vl, value) == 0 &&
		    (s[sl - vl - 1] == '/' || s[sl - vl - 1] == '#')))
			return value;
	}
	return NULL;
}

/* One value of scalar type t from text. New reference, or NULL with err. */
static json_t *
cli_inputs_value(const char *name, const json_t *t, const char *text, const char *cwd,
    struct cwld_err *err)
{
	const char *k = json_is_string(t) ? json_string_value(t) :
	    json_string_value(json_object_get(t, "type"));
	char *end, *path, *loc, *tn;
	long long ll;
	double d;

	if (k == NULL || json_is_array(t))
		goto rich;
	if (strcmp(k, "int") == 0 || strcmp(k, "long") == 0) {
		errno = 0;
		ll = strtoll(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0')
			goto bad;
		if (strcmp(k, "int") == 0 && (ll < -2147483648LL || ll > 2147483647LL))
			goto bad;
		return json_integer((json_int_t)ll);
	}
	if (strcmp(k, "float") == 0 || strcmp(k, "double") == 0) {
		errno = 0;
		d = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0' || !isfinite(d))
			goto bad;
		return json_real(d);
	}
	if (strcmp(k, "boolean") == 0) {
		if (strcmp(text, "true") == 0)
			return json_true();
		if (strcmp(text, "false") == 0)
			return json_false();
		goto bad;
	}
	if (strcmp(k, "string") == 0 || strcmp(k, "Any") == 0)
		return json_string(text);
	if (strcmp(k, "File") == 0 || strcmp(k, "Directory") == 0) {
		if (uri_has_scheme(text)) {
			loc = xstrdup(text);
		} else {
			path = text[0] == '/' ? xstrdup(text) : fs_join(cwd, text);
			loc = uri_from_path(path);
			free(path);
		}
		json_t *v = json_pack("{s:s, s:s}", "class", k, "location", loc);
		free(loc);
		return v;
	}
	if (strcmp(k, "enum") == 0) {
		if (cli_inputs_enum_symbol(t, text) == NULL)
			goto bad;
		return json_string(text);
	}
rich:
	tn = cli_inputs_type_name(t);
	err_set(err, CWLD_EXIT_USAGE, "--%s: an input of type %s cannot be given on the "
	    "command line; use a job file", name, tn);
	free(tn);
	return NULL;
bad:
	tn = cli_inputs_type_name(t);
	err_set(err, CWLD_EXIT_USAGE, "--%s: '%s' is not a valid %s", name, text, tn);
	free(tn);
	return NULL;
}

static const json_t *
cli_inputs_find(const json_t *process, const char *name, size_t len)
{
	size_t i;
	json_t *in;

	json_array_foreach(json_object_get(process, "inputs"), i, in) {
		const char *id = json_string_value(json_object_get(in, "id"));

		if (id != NULL && strlen(id) == len && strncmp(id, name, len) == 0)
			return in;
	}
	return NULL;
}

static void
cli_inputs_unknown(const json_t *process, const char *arg, size_t len, struct cwld_err *err)
{
	char *names = xstrdup("");
	size_t i;
	json_t *in;

	json_array_foreach(json_object_get(process, "inputs"), i, in) {
		char *next = xasprintf("%s%s--%s", names, i ? ", " : "",
		    json_string_value(json_object_get(in, "id")));
		free(names);
		names = next;
	}
	err_set(err, CWLD_EXIT_USAGE, "unknown input '--%.*s' (cwld's own options go before "
	    "the process); this process takes: %s", (int)len, arg,
	    names[0] ? names : "no inputs");
	free(names);
}

int
cli_inputs_parse(const json_t *process, json_t *job, int n, const char *const *args,
    const char *cwd, struct cwld_err *err)
{
	json_t *seen = json_object(); /* arrays started by this command line */
	const json_t *in, *t, *item;
	const char *a, *eq, *text;
	json_t *v, *arr;
	size_t len;
	int i, optional, ret = -1;

	for (i = 0; i < n; i++) {
		a = args[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			err_set(err, CWLD_EXIT_USAGE, "unexpected argument '%s': inputs are "
			    "given as --name value", a);
			goto out;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		in = cli_inputs_find(process, a, len);
		if (in == NULL) {
			cli_inputs_unknown(process, a, len, err);
			goto out;
		}
		const char *name = json_string_value(json_object_get(in, "id"));
		t = cli_inputs_strip_null(json_object_get(in, "type"), &optional);
		item = NULL;
		if (json_is_object(t) && json_is_string(json_object_get(t, "type")) &&
		    strcmp(json_string_value(json_object_get(t, "type")), "array") == 0)
			item = cli_inputs_strip_null(json_object_get(t, "items"), &optional);
		const json_t *scalar = item ? item : t;
		int is_bool = json_is_string(scalar) &&
		    strcmp(json_string_value(scalar), "boolean") == 0;
		if (eq != NULL) {
			text = eq + 1;
		} else if (is_bool) {
			text = "true";
		} else if (i + 1 < n) {
			text = args[++i];
		} else {
			err_set(err, CWLD_EXIT_USAGE, "--%s needs a value", name);
			goto out;
		}
		v = cli_inputs_value(name, scalar, text, cwd, err);
		if (v == NULL)
			goto out;
		if (item != NULL) {
			arr = json_object_get(seen, name);
			if (arr == NULL) {
				/* the command line replaces a job file's list */
				arr = json_array();
				json_object_set_new(seen, name, arr);
				json_object_set(job, name, arr);
			}
			json_array_append_new(arr, v);
		} else {
			json_object_set_new(job, name, v);
		}
	}
	ret = 0;
out:
	json_decref(seen);
	return ret;
}

void
cli_inputs_usage(const json_t *process, FILE *f)
{
	size_t i;
	json_t *in;
	int optional;

	if (json_array_size(json_object_get(process, "inputs")) == 0) {
		fprintf(f, "This process takes no inputs.\n");
		return;
	}
	fprintf(f, "Inputs of this process (after it on the command line, or in a job "
	    "file):\n");
	json_array_foreach(json_object_get(process, "inputs"), i, in) {
		const json_t *t = cli_inputs_strip_null(json_object_get(in, "type"), &optional);
		const char *doc = json_string_value(json_object_get(in, "label"));
		const json_t *def = json_object_get(in, "default");
		char *tn = cli_inputs_type_name(t), *dtext = NULL;

		if (doc == NULL)
			doc = json_string_value(json_object_get(in, "doc"));
		if (def != NULL && !json_is_object(def))
			dtext = json_dumps(def, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(f, "  --%s %s%s", json_string_value(json_object_get(in, "id")), tn,
		    optional || def != NULL ? " (optional)" : "");
		if (dtext != NULL)
			fprintf(f, " [default %s]", dtext);
		fprintf(f, "\n");
		if (doc != NULL)
			fprintf(f, "      %.200s\n", doc);
		free(tn);
		free(dtext);
	}
	fprintf(f, "Booleans are flags (--name, or --name=false); arrays take the "
	    "option once per item;\nFile and Directory take a path. Records and "
	    "multi-type unions need a job file.\n");
}

/* GA4GH WES 1.1 under /ga4gh/wes/v1, on top of the daemon's runs. A
 * multipart/form-data submission becomes a runs_request: attached files are
 * saved under STATE/documents/wes-XXXXXX (the run's base directory), the
 * request itself beside the run as STATE/documents/<run>/wes-request.json so
 * that GET runs/{id} can give it back. States and logs are mapped to WES's;
 * task logs point at /api/v1's log endpoint. Errors carry both our
 * {"error", "detail"} and WES's ErrorResponse {"msg", "status_code"}. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cwld/confine.h"
#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/multipart.h"
#include "cwld/runs.h"
#include "cwld/server_int.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

#define WES_VERSION "1.1.0"
#define WES_MAX_NAME 1024     /* bytes of an attachment's file name */
#define WES_MAX_DEPTH 32      /* directories in an attachment's file name */
#define WES_REQUEST_FILE "wes-request.json"

/* Our run states and WES's (store.h has no "queued" run: pending is it). */
static const struct {
	const char *ours;
	const char *wes;
} wes_states[] = {
	{ STORE_PENDING, "QUEUED" },
	{ STORE_RUNNING, "RUNNING" },
	{ STORE_SUCCESS, "COMPLETE" },
	{ STORE_FAILED, "EXECUTOR_ERROR" },
	{ STORE_CANCELLED, "CANCELED" },
};

/* Every WES state, so that service-info counts them all (0 when none). */
static const char *const wes_all_states[] = { "UNKNOWN", "QUEUED", "INITIALIZING",
	"RUNNING", "PAUSED", "COMPLETE", "EXECUTOR_ERROR", "SYSTEM_ERROR", "CANCELED",
	"CANCELING", NULL };

static const char *const wes_cwl_versions[] = { "v1.0", "v1.1", "v1.2", NULL };

static const char *
wes_state(const char *ours)
{
	size_t i;

	for (i = 0; ours && i < sizeof wes_states / sizeof wes_states[0]; i++)
		if (strcmp(wes_states[i].ours, ours) == 0)
			return wes_states[i].wes;
	return "UNKNOWN";
}

/* A JSON string of s even when s is not UTF-8 (a client's bytes quoted in
 * an error): such bytes become '?'. New reference. */
static json_t *
wes_json_text(const char *s)
{
	json_t *v = json_string(s);
	char *copy;
	size_t i;

	if (v != NULL)
		return v;
	copy = xstrdup(s);
	for (i = 0; copy[i]; i++)
		if ((unsigned char)copy[i] >= 0x80 || (unsigned char)copy[i] < 0x20)
			copy[i] = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* Both error shapes: ours {"error", "detail"} (docs/api.md) and WES's
 * ErrorResponse {"msg", "status_code"}, so either kind of client reads it. */
static void wes_error(struct server *srv, struct evhttp_request *req, int code,
    const char *error, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
wes_error(struct server *srv, struct evhttp_request *req, int code, const char *error,
    const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	json_t *v, *text;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	text = wes_json_text(detail);
	v = json_pack("{s:s, s:O, s:O, s:i}", "error", error, "detail", text, "msg", text,
	    "status_code", code);
	server_reply_json(srv, req, code, v);
	json_decref(v);
	json_decref(text);
}

static int
wes_id_ok(const char *id)
{
	size_t i;

	for (i = 0; id[i]; i++)
		if (!isxdigit((unsigned char)id[i]))
			return 0;
	return i >= 8 && i <= 64;
}

/* "http://HOST" as the client reached us (so that log URLs work from where
 * it stands), or our own address when its Host header looks odd. New string. */
static char *
wes_origin(struct server *srv, struct server_ctx *c)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(c->req), "Host");
	size_t i;

	if (h == NULL || *h == '\0' || strlen(h) > 255)
		return xasprintf("http://%s", srv->addr);
	for (i = 0; h[i]; i++)
		if (!isalnum((unsigned char)h[i]) && strchr(".-:[]", h[i]) == NULL)
			return xasprintf("http://%s", srv->addr);
	return xasprintf("http://%s", h);
}

/* ---- GET service-info ----------------------------------------------------- */

static void
wes_service_info(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	json_t *counts = store_run_counts(srv->st, &err), *sc, *v, *n, *versions, *params;
	const char *state;
	char *origin, *url, *max_body;
	size_t i;

	if (counts == NULL) {
		wes_error(srv, c->req, 500, "internal", "%s", err.msg);
		return;
	}
	sc = json_object();
	for (i = 0; wes_all_states[i]; i++)
		json_object_set_new(sc, wes_all_states[i], json_integer(0));
	json_object_foreach(counts, state, n) {
		const char *w = wes_state(state);

		json_object_set_new(sc, w, json_integer(json_integer_value(json_object_get(sc, w)) +
		    json_integer_value(n)));
	}
	versions = json_array();
	for (i = 0; wes_cwl_versions[i]; i++)
		json_array_append_new(versions, json_string(wes_cwl_versions[i]));
	params = json_pack("[{s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s},"
	    " {s:s, s:s, s:s}]",
	    "name", "parallel", "type", "int",
	    "name", "no_container", "type", "bool", "default_value", "false",
	    "name", "force_docker", "type", "bool", "default_value", "false",
	    "name", "default_container", "type", "string", "default_value", "",
	    "name", "output_location", "type", "string", "default_value", "");
	origin = wes_origin(srv, c);
	url = xasprintf("%s/openapi.json", origin);
	max_body = xasprintf("%zu", srv->max_body);
	v = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:{s:s, s:s}, s:s,"
	    " s:{s:{s:o}}, s:[s], s:[s], s:{s:s}, s:o, s:o, s:s, s:{s:s, s:s, s:s, s:s}}",
	    "id", "org.cwld.wes", "name", "cwld",
	    "type", "group", "org.ga4gh", "artifact", "wes", "version", WES_VERSION,
	    "description", "cwld runs CWL workflows on the Docker Engine",
	    "organization", "name", "cwld", "url", origin,
	    "version", srv->version,
	    "workflow_type_versions", "CWL", "workflow_type_version", versions,
	    "supported_wes_versions", WES_VERSION,
	    "supported_filesystem_protocols", "file",
	    "workflow_engine_versions", "cwld", srv->version,
	    "default_workflow_engine_parameters", params,
	    "system_state_counts", sc,
	    "auth_instructions_url", url,
	    "tags", "auth", srv->token ? "bearer" : "none", "api", "/api/v1",
	    "openapi", "/openapi.json", "max_body_bytes", max_body);
	if (v == NULL)
		wes_error(srv, c->req, 500, "internal", "cannot build the service info");
	else
		server_reply_json(srv, c->req, 200, v);
	json_decref(v);
	json_decref(counts);
	free(origin);
	free(url);
	free(max_body);
}

/* ---- POST runs -------------------------------------------------------------- */

/* One submission being read: the form's fields (borrowed from the parts),
 * their values, and the attachments saved so far. */
struct wes_submit {
	const struct multipart_part *params, *type, *type_version, *tags, *engine_params,
	    *url, *engine, *engine_version;
	json_t *params_v;   /* the job object */
	json_t *tags_v;     /* labels, or NULL */
	json_t *engine_v;   /* workflow_engine_parameters as sent, or NULL */
	char *attdir;       /* STATE/documents/wes-XXXXXX when files are attached */
	json_t *names;      /* attached file names, cleaned: name -> true */
	struct confine *att; /* attdir as a root, for the inputs' paths */
	int parallel, no_container, force_docker;
	const char *default_container; /* borrowed from engine_v */
	const char *output_location;   /* borrowed from engine_v */
};

static void
wes_submit_release(struct wes_submit *s)
{
	json_decref(s->params_v);
	json_decref(s->tags_v);
	json_decref(s->engine_v);
	json_decref(s->names);
	confine_free(s->att);
	free(s->attdir);
}

/* The field slot of the form field name, or NULL when WES has no such field. */
static const struct multipart_part **
wes_field(struct wes_submit *s, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "workflow_params", offsetof(struct wes_submit, params) },
		{ "workflow_type", offsetof(struct wes_submit, type) },
		{ "workflow_type_version", offsetof(struct wes_submit, type_version) },
		{ "tags", offsetof(struct wes_submit, tags) },
		{ "workflow_engine_parameters", offsetof(struct wes_submit, engine_params) },
		{ "workflow_url", offsetof(struct wes_submit, url) },
		{ "workflow_engine", offsetof(struct wes_submit, engine) },
		{ "workflow_engine_version", offsetof(struct wes_submit, engine_version) },
	};
	size_t i;

	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (strcmp(fields[i].name, name) == 0)
			return (const struct multipart_part **)((char *)s + fields[i].off);
	return NULL;
}

/* A text field's value: no NUL byte, UTF-8 (it goes back out as JSON). NULL
 * with why when it is not. */
static const char *
wes_text(const struct multipart_part *p, const char **why)
{
	json_t *v;

	if (memchr(p->data, '\0', p->len) != NULL) {
		*why = "holds a NUL byte";
		return NULL;
	}
	if ((v = json_stringn(p->data, p->len)) == NULL) {
		*why = "is not UTF-8 text";
		return NULL;
	}
	json_decref(v);
	return p->data;
}

/* A JSON object field; new reference, or NULL with a message in err. */
static json_t *
wes_json_field(const struct multipart_part *p, struct cwld_err *err)
{
	json_error_t jerr;
	json_t *v = json_loadb(p->data, p->len, JSON_REJECT_DUPLICATES, &jerr);

	if (v == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "'%s' is not JSON: %s at line %d column %d", p->name,
		    jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		err_set(err, CWLD_EXIT_USAGE, "'%s' must be a JSON object", p->name);
		json_decref(v);
		return NULL;
	}
	return v;
}

static int
wes_label_key_ok(const char *k)
{
	size_t i;

	for (i = 0; k[i]; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '.' && k[i] != '-')
			return 0;
	return i >= 1 && i <= 63;
}

/* tags become the run's labels, under the rules labels have in docs/api.md
 * (a key that breaks them is refused rather than silently rewritten, so
 * what a client filters on is what it sent). */
static int
wes_tags_ok(const json_t *tags, struct cwld_err *err)
{
	const char *k;
	json_t *v;

	if (json_object_size(tags) > 32)
		return err_set(err, CWLD_EXIT_USAGE, "'tags': at most 32 tags");
	json_object_foreach((json_t *)tags, k, v) {
		if (!wes_label_key_ok(k))
			return err_set(err, CWLD_EXIT_USAGE, "'tags': key '%s': a tag key is 1 to 63 "
			    "of A-Z a-z 0-9 _ . -", k);
		if (!json_is_string(v) || json_string_length(v) > 256)
			return err_set(err, CWLD_EXIT_USAGE, "'tags': '%s' must be a string of at "
			    "most 256 bytes", k);
	}
	return 0;
}

/* A boolean engine parameter: JSON true/false or, as WES types these
 * values as strings, "true"/"false". 0 or 1, -1 when neither. */
static int
wes_bool(const json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_boolean(v))
		return json_is_true(v);
	if (s && strcmp(s, "true") == 0)
		return 1;
	if (s && strcmp(s, "false") == 0)
		return 0;
	return -1;
}

static int
wes_engine_params(struct wes_submit *s, struct cwld_err *err)
{
	const char *k, *str;
	json_t *v;

	json_object_foreach(s->engine_v, k, v) {
		if (strcmp(k, "parallel") == 0) {
			long long n = -1;
			char *end;

			if (json_is_integer(v))
				n = json_integer_value(v);
			else if ((str = json_string_value(v)) != NULL && *str) {
				n = strtoll(str, &end, 10);
				if (*end)
					n = -1;
			}
			if (n < 1 || n > 4096)
				return err_set(err, CWLD_EXIT_USAGE, "workflow_engine_parameters: "
				    "'parallel' must be an integer from 1 to 4096");
			s->parallel = (int)n;
		} else if (strcmp(k, "no_container") == 0 || strcmp(k, "force_docker") == 0) {
			int b = wes_bool(v);

			if (b < 0)
				return err_set(err, CWLD_EXIT_USAGE, "workflow_engine_parameters: "
				    "'%s' must be true or false", k);
			*(k[0] == 'n' ? &s->no_container : &s->force_docker) = b;
		} else if (strcmp(k, "default_container") == 0) {
			if (!json_is_string(v) || json_string_length(v) == 0 ||
			    json_string_length(v) >= 256 ||
			    strlen(json_string_value(v)) != json_string_length(v))
				return err_set(err, CWLD_EXIT_USAGE, "workflow_engine_parameters: "
				    "'default_container' must be an image name");
			s->default_container = json_string_value(v);
		} else if (strcmp(k, "output_location") == 0) {
			if (!json_is_string(v) || json_string_length(v) >= 1024 ||
			    strlen(json_string_value(v)) != json_string_length(v))
				return err_set(err, CWLD_EXIT_USAGE, "workflow_engine_parameters: "
				    "'output_location' must be a string (s3://bucket/prefix)");
			s->output_location = json_string_value(v);
		} else
			return err_set(err, CWLD_EXIT_USAGE, "workflow_engine_parameters: unknown "
			    "parameter '%s' (known: parallel, no_container, force_docker, "
			    "default_container, output_location)", k);
	}
	return 0;
}

/* An attachment's file name made safe to join under the attachment
 * directory: "." and empty components dropped, absolute names and ".."
 * refused (WES: "implementations should guard against maliciously
 * constructed filenames"), control bytes refused. New string, or NULL with
 * *why. */
static char *
wes_clean_name(const char *name, const char **why)
{
	const char *p = name, *slash;
	size_t len = strlen(name), depth = 0, i;
	char *out, *o;
	json_t *utf8;

	if (len == 0 || len > WES_MAX_NAME) {
		*why = "a file name must have 1 to 1024 bytes";
		return NULL;
	}
	if (name[0] == '/') {
		*why = "absolute file names are refused";
		return NULL;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			*why = "control characters are refused in file names";
			return NULL;
		}
	if ((utf8 = json_string(name)) == NULL) {
		*why = "a file name must be UTF-8";
		return NULL;
	}
	json_decref(utf8);
	o = out = xmalloc(len + 1);
	while (*p) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			*why = "'..' components are refused";
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
			depth++;
		}
		p += n + (slash ? 1 : 0);
	}
	*o = '\0';
	if (o == out || depth > WES_MAX_DEPTH) {
		free(out);
		*why = o == out ? "the file name names no file" : "too many directories";
		return NULL;
	}
	return out;
}

/* 1 when a is b or a directory above it ("x" and "x/y"). */
static int
wes_name_covers(const char *a, const char *b)
{
	size_t n = strlen(a);

	return strncmp(a, b, n) == 0 && (b[n] == '\0' || b[n] == '/');
}

/* Saves one attachment under s->attdir. 0; -1 with err (CWLD_EXIT_USAGE for
 * the client's mistakes, CWLD_EXIT_FAILED for ours). */
static int
wes_save_attachment(struct wes_submit *s, const struct multipart_part *p, struct cwld_err *err)
{
	const char *why = NULL, *other;
	char *name = NULL, *path = NULL, *dir = NULL;
	json_t *v;
	size_t off = 0;
	int fd = -1, rc = -1;

	if (p->filename == NULL || *p->filename == '\0') {
		err_set(err, CWLD_EXIT_USAGE, "a workflow_attachment part needs a filename in "
		    "its Content-Disposition");
		goto out;
	}
	if ((name = wes_clean_name(p->filename, &why)) == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "workflow_attachment '%s': %s", p->filename, why);
		goto out;
	}
	json_object_foreach(s->names, other, v) {
		if (wes_name_covers(other, name) || wes_name_covers(name, other)) {
			err_set(err, CWLD_EXIT_USAGE, "workflow_attachment '%s' collides with '%s'",
			    p->filename, other);
			goto out;
		}
	}
	path = fs_join(s->attdir, name);
	dir = fs_dirname(path);
	if (fs_mkdir_p(dir, err) < 0) {
		err->code = CWLD_EXIT_FAILED;
		goto out;
	}
	/* a fresh directory only we write to: O_EXCL and O_NOFOLLOW are belts
	 * and braces against anything already there */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		err_set(err, CWLD_EXIT_FAILED, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (off < p->len) {
		ssize_t w = write(fd, p->data + off, p->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(err, CWLD_EXIT_FAILED, "writing %s: %s", path,
			    w < 0 ? strerror(errno) : "no progress");
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, CWLD_EXIT_FAILED, "closing %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	json_object_set_new(s->names, name, json_true());
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(name);
	free(path);
	free(dir);
	return rc;
}

/* Saves every attachment into a new STATE/documents/wes-XXXXXX. */
static int
wes_save_attachments(struct server *srv, struct wes_submit *s,
    const struct multipart_part *parts, size_t nparts, struct cwld_err *err)
{
	char *docs = xasprintf("%s/documents", srv->state_dir);
	size_t i;
	int rc = -1;

	if (fs_mkdir_p(docs, err) < 0 || (s->attdir = fs_mkdtemp(docs, "wes-", err)) == NULL) {
		err->code = CWLD_EXIT_FAILED;
		goto out;
	}
	s->names = json_object();
	for (i = 0; i < nparts; i++)
		if (strcmp(parts[i].name, "workflow_attachment") == 0 &&
		    wes_save_attachment(s, &parts[i], err) < 0)
			goto out;
	s->att = confine_new();
	if (confine_add_root(s->att, s->attdir, err) < 0) {
		err->code = CWLD_EXIT_FAILED;
		goto out;
	}
	rc = 0;
out:
	free(docs);
	return rc;
}

/* The workflow to run: an attached file when workflow_url names one,
 * else a path or file:// URI under the daemon's roots; "#id" kept. New
 * string, or NULL with err: CWLD_EXIT_USAGE (400) or CWLD_EXIT_FAILED
 * meaning refused (403). */
static char *
wes_workflow_path(struct server *srv, struct wes_submit *s, const char *url,
    struct cwld_err *err)
{
	const char *hash = strchr(url, '#');
	char *base = hash ? xstrndup(url, (size_t)(hash - url)) : xstrdup(url);
	char *name = NULL, *resolved = NULL, *wf = NULL;
	const char *why;

	if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
		err_set(err, CWLD_EXIT_USAGE, "workflow_url '%s': fetching documents over HTTP "
		    "is not supported yet; attach the document and name it", url);
		goto out;
	}
	if (s->attdir && base[0] != '/' && strncmp(base, "file:", 5) != 0 &&
	    (name = wes_clean_name(base, &why)) != NULL &&
	    json_object_get(s->names, name) != NULL) {
		char *p = fs_join(s->attdir, name);

		wf = xasprintf("%s%s", p, hash ? hash : "");
		free(p);
		goto out;
	}
	if ((resolved = confine_resolve(srv->roots, base, err)) == NULL) {
		err->code = CWLD_EXIT_FAILED;
		if (s->attdir)
			err_prefix(err, "workflow_url names no attached file, and as a path");
		goto out;
	}
	wf = xasprintf("%s%s", resolved, hash ? hash : "");
out:
	free(base);
	free(name);
	free(resolved);
	return wf;
}

/* Asked about every File and Directory path of the inputs: under the
 * attachment directory or under a root. */
struct wes_check {
	struct server *srv;
	struct confine *att;
	int forbidden;
};

static int
wes_check_path(void *arg, const char *path, struct cwld_err *err)
{
	struct wes_check *chk = arg;
	struct cwld_err ignored = { 0 };
	char *res = NULL;

	if (chk->att && (res = confine_resolve(chk->att, path, &ignored)) != NULL) {
		free(res);
		return 0;
	}
	if ((res = confine_resolve(chk->srv->roots, path, err)) == NULL) {
		chk->forbidden = 1;
		return -1;
	}
	free(res);
	return 0;
}

/* Keeps what the client asked for beside the run, for GET runs/{id}. */
static void
wes_keep_request(struct server *srv, const char *id, const struct wes_submit *s,
    const char *url)
{
	struct cwld_err err = { 0 };
	char *dir = xasprintf("%s/documents/%s", srv->state_dir, id);
	char *path = fs_join(dir, WES_REQUEST_FILE), *text = NULL;
	json_t *v = json_pack("{s:O, s:s, s:s, s:O*, s:O*, s:s, s:s*, s:s*}",
	    "workflow_params", s->params_v, "workflow_type", "CWL",
	    "workflow_type_version", s->type_version->data,
	    "tags", s->tags_v, "workflow_engine_parameters", s->engine_v,
	    "workflow_url", url,
	    "workflow_engine", s->engine ? s->engine->data : NULL,
	    "workflow_engine_version", s->engine_version ? s->engine_version->data : NULL);

	if (v == NULL || (text = json_dumps(v, JSON_COMPACT)) == NULL)
		log_warnx("run %s: cannot encode its WES request", id);
	else if (fs_mkdir_p(dir, &err) < 0 ||
	    fs_write_file_atomic(path, text, strlen(text), &err) < 0)
		log_warnx("run %s: keeping its WES request: %s", id, err.msg);
	json_decref(v);
	free(text);
	free(dir);
	free(path);
}

static void
wes_post_run(struct server *srv, struct server_ctx *c)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(c->req);
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(c->req),
	    "Content-Type");
	struct wes_submit s = { 0 };
	struct runs_request rq = { 0 };
	struct wes_check chk = { srv, NULL, 0 };
	struct cwld_err err = { 0 };
	struct multipart_part *parts = NULL;
	const struct multipart_part **slot;
	size_t nparts = 0, len, i, natt = 0;
	const char *why = NULL, *url;
	char *body = NULL, *wf = NULL, *id = NULL;
	json_t *reply = NULL;

	if (evbuffer_get_length(in) > srv->max_body) {
		wes_error(srv, c->req, 413, "too_large", "the request body has %zu bytes; the "
		    "limit is %zu (cwld serve --max-body)", evbuffer_get_length(in), srv->max_body);
		return;
	}
	if ((body = server_body(srv, c, &len)) == NULL)
		return;
	if (ctype == NULL) {
		wes_error(srv, c->req, 400, "bad_request", "POST runs takes a multipart/form-data "
		    "body (WES RunWorkflow); this one has no Content-Type");
		goto out;
	}
	if (multipart_parse(ctype, body, len, &parts, &nparts, &err) < 0) {
		wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	for (i = 0; i < nparts; i++) {
		if (strcmp(parts[i].name, "workflow_attachment") == 0) {
			natt++;
			continue;
		}
		if ((slot = wes_field(&s, parts[i].name)) == NULL) {
			wes_error(srv, c->req, 400, "bad_request", "unknown form field '%s'",
			    parts[i].name);
			goto out;
		}
		if (*slot != NULL) {
			wes_error(srv, c->req, 400, "bad_request", "form field '%s' given twice",
			    parts[i].name);
			goto out;
		}
		if (wes_text(&parts[i], &why) == NULL) {
			wes_error(srv, c->req, 400, "bad_request", "form field '%s' %s",
			    parts[i].name, why);
			goto out;
		}
		*slot = &parts[i];
	}
	if (s.type == NULL || strcmp(s.type->data, "CWL") != 0) {
		if (s.type)
			wes_error(srv, c->req, 400, "bad_request", "workflow_type '%s': this "
			    "service runs CWL only", s.type->data);
		else
			wes_error(srv, c->req, 400, "bad_request", "workflow_type is required (CWL)");
		goto out;
	}
	for (i = 0; s.type_version && wes_cwl_versions[i]; i++)
		if (strcmp(wes_cwl_versions[i], s.type_version->data) == 0)
			break;
	if (s.type_version == NULL || wes_cwl_versions[i] == NULL) {
		if (s.type_version)
			wes_error(srv, c->req, 400, "bad_request", "workflow_type_version '%s': "
			    "want v1.0, v1.1 or v1.2", s.type_version->data);
		else
			wes_error(srv, c->req, 400, "bad_request", "workflow_type_version is "
			    "required (v1.0, v1.1 or v1.2)");
		goto out;
	}
	if (s.engine && strcmp(s.engine->data, "cwld") != 0) {
		wes_error(srv, c->req, 400, "bad_request", "workflow_engine '%s': this service "
		    "is cwld", s.engine->data);
		goto out;
	}
	if (s.engine_version && strcmp(s.engine_version->data, srv->version) != 0) {
		wes_error(srv, c->req, 400, "bad_request", "workflow_engine_version '%s': this "
		    "service runs cwld %s", s.engine_version->data, srv->version);
		goto out;
	}
	if (s.url == NULL || s.url->len == 0) {
		wes_error(srv, c->req, 400, "bad_request", "workflow_url is required (a path "
		    "under the daemon's roots, or the name of an attached file)");
		goto out;
	}
	url = s.url->data;
	if (s.params && (s.params_v = wes_json_field(s.params, &err)) == NULL) {
		wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	if (s.params_v == NULL)
		s.params_v = json_object();
	if (s.tags && ((s.tags_v = wes_json_field(s.tags, &err)) == NULL ||
	    wes_tags_ok(s.tags_v, &err) < 0)) {
		wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	if (s.engine_params && ((s.engine_v = wes_json_field(s.engine_params, &err)) == NULL ||
	    wes_engine_params(&s, &err) < 0)) {
		wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	if (natt > 0 && wes_save_attachments(srv, &s, parts, nparts, &err) < 0) {
		if (err.code == CWLD_EXIT_USAGE)
			wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		else
			wes_error(srv, c->req, 500, "internal", "saving the attachments: %s", err.msg);
		goto out;
	}
	if ((wf = wes_workflow_path(srv, &s, url, &err)) == NULL) {
		if (err.code == CWLD_EXIT_USAGE)
			wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		else
			wes_error(srv, c->req, 403, "forbidden", "%s", err.msg);
		goto out;
	}
	chk.att = s.att;
	rq.workflow_path = wf;
	rq.inputs = s.params_v;
	rq.base_dir = s.attdir ? s.attdir : confine_first_root(srv->roots);
	rq.labels = s.tags_v;
	rq.parallel = s.parallel;
	rq.no_container = s.no_container;
	rq.force_docker = s.force_docker;
	rq.default_container = s.default_container;
	rq.output_location = s.output_location;
	rq.check_path = wes_check_path;
	rq.check_arg = &chk;
	if (runs_submit(srv->runs, &rq, &id, &err) < 0) {
		if (chk.forbidden)
			wes_error(srv, c->req, 403, "forbidden", "%s", err.msg);
		else if (err.code == CWLD_EXIT_USAGE || err.code == CWLD_EXIT_UNSUPPORTED)
			wes_error(srv, c->req, 400, "bad_request", "%s%s%s", err.msg,
			    id ? "; run " : "", id ? id : "");
		else
			wes_error(srv, c->req, 500, "internal", "%s", err.msg);
		goto out;
	}
	wes_keep_request(srv, id, &s, url);
	reply = json_pack("{s:s}", "run_id", id);
	server_reply_json(srv, c->req, 200, reply);
out:
	/* attachments nothing refers to go; a run that exists (even one that
	 * failed to start) keeps its base directory */
	if (id == NULL && s.attdir) {
		struct cwld_err e2 = { 0 };

		if (fs_rm_rf(s.attdir, &e2) < 0)
			log_warnx("removing %s: %s", s.attdir, e2.msg);
	}
	json_decref(reply);
	wes_submit_release(&s);
	multipart_free(parts, nparts);
	free(body);
	free(wf);
	free(id);
}

/* ---- GET runs --------------------------------------------------------------- */

/* A page size or offset from the query: 1 to max (larger is max), or -1. */
static long
wes_number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end || errno == ERANGE || n < min)
		return -1;
	return n > max ? max : n;
}

static void
wes_set_time(json_t *to, const char *key, const json_t *t)
{
	if (json_is_string(t))
		json_object_set(to, key, (json_t *)t);
}

static void
wes_list_runs(struct server *srv, struct server_ctx *c)
{
	struct store_runs_filter f = { 0 };
	struct cwld_err err = { 0 };
	struct evkeyval *kv;
	json_t *page = NULL, *out = NULL, *runs, *run, *tok, *labels;
	size_t i;

	TAILQ_FOREACH(kv, &c->query, next) {
		if (strcmp(kv->key, "page_size") == 0) {
			long n = wes_number(kv->value, 1, 1000);

			if (n < 0) {
				wes_error(srv, c->req, 400, "bad_request", "page_size must be a "
				    "positive integer (at most 1000 are returned)");
				return;
			}
			f.limit = (size_t)n;
		} else if (strcmp(kv->key, "page_token") == 0)
			f.page_token = *kv->value ? kv->value : NULL;
		else {
			wes_error(srv, c->req, 400, "bad_request", "unknown query parameter '%s' "
			    "(known: page_size, page_token)", kv->key);
			return;
		}
	}
	if ((page = store_runs_page(srv->st, &f, &err)) == NULL) {
		if (err.code == CWLD_EXIT_USAGE)
			wes_error(srv, c->req, 400, "bad_request", "%s", err.msg);
		else
			wes_error(srv, c->req, 500, "internal", "%s", err.msg);
		return;
	}
	runs = json_array();
	json_array_foreach(json_object_get(page, "runs"), i, run) {
		json_t *r = json_pack("{s:O, s:s}", "run_id", json_object_get(run, "id"),
		    "state", wes_state(json_string_value(json_object_get(run, "state"))));

		wes_set_time(r, "start_time", json_object_get(run, "started_at"));
		wes_set_time(r, "end_time", json_object_get(run, "finished_at"));
		labels = json_object_get(run, "labels");
		json_object_set_new(r, "tags", json_is_object(labels) ? json_deep_copy(labels) :
		    json_object());
		json_array_append_new(runs, r);
	}
	/* WES: "an empty string indicates there are no more items" */
	tok = json_object_get(page, "next_page_token");
	out = json_pack("{s:o, s:s}", "runs", runs, "next_page_token",
	    json_is_string(tok) ? json_string_value(tok) : "");
	server_reply_json(srv, c->req, 200, out);
	json_decref(out);
	json_decref(page);
}

/* ---- GET runs/{id}, status, tasks; POST cancel ---------------------------- */

/* The run c->segs[4], or NULL after answering 404/500. New reference. */
static json_t *
wes_find_run(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	json_t *run;

	if (!wes_id_ok(c->segs[4])) {
		wes_error(srv, c->req, 404, "not_found", "no run '%s'", c->segs[4]);
		return NULL;
	}
	if ((run = store_run_get(srv->st, c->segs[4], &err)) == NULL) {
		if (err.code == CWLD_EXIT_USAGE)
			wes_error(srv, c->req, 404, "not_found", "%s", err.msg);
		else
			wes_error(srv, c->req, 500, "internal", "%s", err.msg);
	}
	return run;
}

/* The RunRequest: as the client sent it through WES, or, for a run
 * submitted through /api/v1 (or whose request file is gone), what the run
 * itself says. New reference. */
static json_t *
wes_run_request(struct server *srv, const json_t *run)
{
	struct cwld_err err = { 0 };
	const char *id = json_string_value(json_object_get(run, "id"));
	const json_t *opts = json_object_get(run, "options"), *labels, *wf, *inputs;
	char *path = xasprintf("%s/documents/%s/%s", srv->state_dir, id, WES_REQUEST_FILE);
	char *text = NULL;
	json_t *v = NULL;
	size_t len;

	if (fs_exists(path)) {
		/* the request holds the job, which the body limit bounded */
		if ((text = fs_read_file(path, srv->max_body + 65536, &len, &err)) == NULL ||
		    (v = json_loadb(text, len, 0, NULL)) == NULL || !json_is_object(v))
			log_warnx("run %s: reading its WES request: %s", id,
			    text ? "not a JSON object" : err.msg);
	}
	free(text);
	free(path);
	if (json_is_object(v))
		return v;
	json_decref(v);
	/* the document's cwlVersion is not in the store: no version to claim */
	v = json_object();
	inputs = json_object_get(run, "inputs");
	json_object_set_new(v, "workflow_params", json_is_object(inputs) ?
	    json_deep_copy(inputs) : json_object());
	json_object_set_new(v, "workflow_type", json_string("CWL"));
	labels = json_object_get(run, "labels");
	json_object_set_new(v, "tags", json_is_object(labels) ? json_deep_copy(labels) :
	    json_object());
	wf = json_object_get(opts, "workflow");
	if (!json_is_string(wf))
		wf = json_object_get(run, "process");
	json_object_set_new(v, "workflow_url", json_string(json_is_string(wf) ?
	    json_string_value(wf) : ""));
	return v;
}

/* stdout and stderr of one step as URLs of /api/v1's log endpoint. */
static void
wes_set_log_urls(json_t *to, const char *origin, const char *run_id, const char *step)
{
	char *enc = evhttp_uriencode(step, -1, 0), *u;

	if (enc == NULL)
		return;
	u = xasprintf("%s/api/v1/runs/%s/steps/%s/logs/stdout", origin, run_id, enc);
	json_object_set_new(to, "stdout", json_string(u));
	free(u);
	u = xasprintf("%s/api/v1/runs/%s/steps/%s/logs/stderr", origin, run_id, enc);
	json_object_set_new(to, "stderr", json_string(u));
	free(u);
	free(enc);
}

/* One step as a WES TaskLog: its latest attempt's command and exit code.
 * Absent values are left out rather than null (the schema types them). */
static json_t *
wes_task_log(const json_t *step, const char *origin, const char *run_id)
{
	const json_t *attempts = json_object_get(step, "attempts"), *a, *cmd, *code, *msg;
	const char *name = json_string_value(json_object_get(step, "name"));
	json_t *t = json_object();

	json_object_set_new(t, "id", json_sprintf("%lld",
	    (long long)json_integer_value(json_object_get(step, "id"))));
	json_object_set_new(t, "name", json_string(name ? name : ""));
	json_object_set_new(t, "state", json_string(wes_state(json_string_value(
	    json_object_get(step, "state")))));
	wes_set_time(t, "start_time", json_object_get(step, "started_at"));
	wes_set_time(t, "end_time", json_object_get(step, "finished_at"));
	a = json_array_get(attempts, json_array_size(attempts) - 1);
	if (a != NULL) {
		cmd = json_object_get(a, "command");
		if (json_is_array(cmd))
			json_object_set(t, "cmd", (json_t *)cmd);
		code = json_object_get(a, "exit_code");
		if (json_is_integer(code) && json_integer_value(code) >= 0)
			json_object_set(t, "exit_code", (json_t *)code);
		msg = json_object_get(a, "message");
		if (json_is_string(msg) && json_string_length(msg) > 0)
			json_object_set_new(t, "system_logs", json_pack("[O]", msg));
		if (name)
			wes_set_log_urls(t, origin, run_id, name);
	}
	return t;
}

/* The run's own Log: the command that would run it with cwld run, its
 * times and, for a tool (its one step is "main"), that step's logs. */
static json_t *
wes_run_log(const json_t *run, const char *origin)
{
	const char *id = json_string_value(json_object_get(run, "id"));
	const char *state = json_string_value(json_object_get(run, "state"));
	const json_t *opts = json_object_get(run, "options"), *steps = json_object_get(run, "steps");
	const json_t *wf = json_object_get(opts, "workflow"), *step, *error;
	const char *name;
	json_t *l = json_object(), *cmd = json_pack("[s, s]", "cwld", "run");

	if (json_is_string(json_object_get(run, "process")))
		json_object_set(l, "name", json_object_get(run, "process"));
	if (json_is_integer(json_object_get(opts, "parallel"))) {
		json_array_append_new(cmd, json_string("--parallel"));
		json_array_append_new(cmd, json_sprintf("%lld",
		    (long long)json_integer_value(json_object_get(opts, "parallel"))));
	}
	if (json_is_true(json_object_get(opts, "no_container")))
		json_array_append_new(cmd, json_string("--no-container"));
	if (json_is_true(json_object_get(opts, "force_docker")))
		json_array_append_new(cmd, json_string("--force-docker"));
	if (json_is_string(json_object_get(opts, "default_container"))) {
		json_array_append_new(cmd, json_string("--default-container"));
		json_array_append(cmd, json_object_get(opts, "default_container"));
	}
	if (json_is_string(json_object_get(opts, "output_location"))) {
		json_array_append_new(cmd, json_string("--output-location"));
		json_array_append(cmd, json_object_get(opts, "output_location"));
	}
	json_array_append(cmd, json_is_string(wf) ? (json_t *)wf : json_object_get(run, "process"));
	json_object_set_new(l, "cmd", cmd);
	wes_set_time(l, "start_time", json_object_get(run, "started_at"));
	wes_set_time(l, "end_time", json_object_get(run, "finished_at"));
	if (state && strcmp(state, STORE_SUCCESS) == 0)
		json_object_set_new(l, "exit_code", json_integer(0));
	else if (state && strcmp(state, STORE_FAILED) == 0)
		json_object_set_new(l, "exit_code", json_integer(1));
	if (json_is_string(error = json_object_get(run, "error")) && json_string_length(error) > 0)
		json_object_set_new(l, "system_logs", json_pack("[O]", error));
	step = json_array_get(steps, 0);
	name = json_string_value(json_object_get(step, "name"));
	if (json_array_size(steps) == 1 && name && strcmp(name, "main") == 0)
		wes_set_log_urls(l, origin, id, "main");
	return l;
}

static void
wes_get_run(struct server *srv, struct server_ctx *c, const json_t *run)
{
	const char *id = c->segs[4];
	const json_t *steps = json_object_get(run, "steps"), *step, *outputs;
	char *origin = wes_origin(srv, c), *tasks_url;
	json_t *v, *tasks = json_array();
	size_t i;

	json_array_foreach(steps, i, step)
		json_array_append_new(tasks, wes_task_log(step, origin, id));
	outputs = json_object_get(run, "outputs");
	tasks_url = xasprintf("%s/ga4gh/wes/v1/runs/%s/tasks", origin, id);
	v = json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:o}", "run_id", id,
	    "request", wes_run_request(srv, run),
	    "state", wes_state(json_string_value(json_object_get(run, "state"))),
	    "run_log", wes_run_log(run, origin), "task_logs", tasks,
	    "task_logs_url", tasks_url,
	    "outputs", json_is_object(outputs) ? json_deep_copy(outputs) : json_object());
	if (v == NULL)
		wes_error(srv, c->req, 500, "internal", "cannot build the log of run %s", id);
	else
		server_reply_json(srv, c->req, 200, v);
	json_decref(v);
	free(tasks_url);
	free(origin);
}

/* GET runs/{id}/tasks: the task logs a page at a time; the token is the
 * offset of the next step (steps only grow, so offsets stay valid). */
static void
wes_get_tasks(struct server *srv, struct server_ctx *c, const json_t *run)
{
	const json_t *steps = json_object_get(run, "steps");
	struct evkeyval *kv;
	long size = 100, from = 0;
	size_t i, n = json_array_size(steps);
	char *origin, *next;
	json_t *tasks, *v;

	TAILQ_FOREACH(kv, &c->query, next) {
		if (strcmp(kv->key, "page_size") == 0 && (size = wes_number(kv->value, 1, 1000)) < 0) {
			wes_error(srv, c->req, 400, "bad_request", "page_size must be a positive integer");
			return;
		} else if (strcmp(kv->key, "page_token") == 0 && *kv->value &&
		    (from = wes_number(kv->value, 0, (long)n)) < 0) {
			wes_error(srv, c->req, 400, "bad_request", "page_token '%s' is not one "
			    "this service gave", kv->value);
			return;
		} else if (strcmp(kv->key, "page_size") != 0 && strcmp(kv->key, "page_token") != 0) {
			wes_error(srv, c->req, 400, "bad_request", "unknown query parameter '%s' "
			    "(known: page_size, page_token)", kv->key);
			return;
		}
	}
	origin = wes_origin(srv, c);
	tasks = json_array();
	for (i = (size_t)from; i < n && i < (size_t)from + (size_t)size; i++)
		json_array_append_new(tasks, wes_task_log(json_array_get(steps, i), origin,
		    c->segs[4]));
	next = i < n ? xasprintf("%zu", i) : xstrdup("");
	v = json_pack("{s:o, s:s}", "task_logs", tasks, "next_page_token", next);
	server_reply_json(srv, c->req, 200, v);
	json_decref(v);
	free(next);
	free(origin);
}

static void
wes_cancel(struct server *srv, struct server_ctx *c)
{
	struct cwld_err err = { 0 };
	int finished = 0;
	json_t *run, *v;

	if ((run = wes_find_run(srv, c)) == NULL)
		return;
	json_decref(run);
	if (runs_cancel(srv->runs, c->segs[4], &finished, &err) < 0) {
		if (finished)
			wes_error(srv, c->req, 409, "conflict", "%s", err.msg);
		else
			wes_error(srv, c->req, 404, "not_found", "%s", err.msg);
		return;
	}
	v = json_pack("{s:s}", "run_id", c->segs[4]);
	server_reply_json(srv, c->req, 200, v);
	json_decref(v);
}

/* ---- routing ---------------------------------------------------------------- */

void
wes_route(struct server *srv, struct server_ctx *c)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(c->req);
	int get = m == EVHTTP_REQ_GET, post = m == EVHTTP_REQ_POST;
	json_t *run, *v;

	if (c->nsegs == 4 && server_seg_is(c, 3, "service-info")) {
		if (!get)
			goto method;
		wes_service_info(srv, c);
		return;
	}
	if (c->nsegs < 4 || !server_seg_is(c, 3, "runs"))
		goto unknown;
	if (c->nsegs == 4) {
		if (post)
			wes_post_run(srv, c);
		else if (get)
			wes_list_runs(srv, c);
		else
			goto method;
		return;
	}
	if (c->nsegs == 6 && server_seg_is(c, 5, "cancel")) {
		if (!post)
			goto method;
		wes_cancel(srv, c);
		return;
	}
	if (c->nsegs == 5 || (c->nsegs == 6 && (server_seg_is(c, 5, "status") ||
	    server_seg_is(c, 5, "tasks")))) {
		if (!get)
			goto method;
		if ((run = wes_find_run(srv, c)) == NULL)
			return;
		if (c->nsegs == 5)
			wes_get_run(srv, c, run);
		else if (server_seg_is(c, 5, "tasks"))
			wes_get_tasks(srv, c, run);
		else {
			v = json_pack("{s:s, s:s}", "run_id", c->segs[4], "state",
			    wes_state(json_string_value(json_object_get(run, "state"))));
			server_reply_json(srv, c->req, 200, v);
			json_decref(v);
		}
		json_decref(run);
		return;
	}
unknown:
	wes_error(srv, c->req, 404, "not_found", "no such WES endpoint: %s",
	    evhttp_request_get_uri(c->req));
	return;
method:
	wes_error(srv, c->req, 405, "method_not_allowed", "%s does not take this method",
	    evhttp_request_get_uri(c->req));
}

/* `cwld submit`, `list`, `status`, `logs` and `cancel`: clients of a running
 * `cwld serve`, over its HTTP JSON API (docs/api.md), one blocking libcurl
 * easy transfer at a time (a CLI may block; the daemon must not). The daemon
 * does the work and keeps the state; what is shown to people is made in
 * client_fmt.c. Exit status: 0, 1 a failed run or a 5xx, 2 usage or a 4xx,
 * 3 the daemon unreachable. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

#include "cwld/cli.h"
#include "cwld/client_fmt.h"
#include "cwld/curl_lazy.h"
#include "cwld/err.h"
#include "cwld/fs.h"
#include "cwld/log.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"
#include "cwld/yaml.h"

#define CLIENT_DEFAULT_SERVER "http://127.0.0.1:8080"
#define CLIENT_CONNECT_TIMEOUT 5L
/* A whole request that is not a stream; the daemon answers them at once. */
#define CLIENT_TIMEOUT 120L
/* An event stream with nothing for this long is dead: keepalives come
 * every 15 s. */
#define CLIENT_SSE_IDLE 60L
/* Answers held in memory: a run object with its steps and outputs. */
#define CLIENT_MAX_ANSWER (64u * 1024 * 1024)
#define CLIENT_MAX_ERROR (64u * 1024)
#define CLIENT_MAX_EVENT (1u * 1024 * 1024)
/* Documents sent in a body: the daemon's default --max-body. */
#define CLIENT_MAX_DOC (8u * 1024 * 1024)
#define CLIENT_POLL_NS 500000000L
#define CLIENT_PAGE_MAX 1000

enum {
	CLIENT_OPT_SERVER = 256,
	CLIENT_OPT_TOKEN,
	CLIENT_OPT_JSON,
	CLIENT_OPT_INLINE,
	CLIENT_OPT_LABEL,
	CLIENT_OPT_PARALLEL,
	CLIENT_OPT_NO_CONTAINER,
	CLIENT_OPT_FORCE_DOCKER,
	CLIENT_OPT_DEFAULT_CONTAINER,
	CLIENT_OPT_OUTPUT_LOCATION,
	CLIENT_OPT_STATE,
	CLIENT_OPT_LIMIT,
	CLIENT_OPT_STDERR,
	CLIENT_OPT_TAIL,
};

#define CLIENT_COMMON_LONGOPTS \
	{ "server", required_argument, NULL, CLIENT_OPT_SERVER }, \
	{ "token", required_argument, NULL, CLIENT_OPT_TOKEN }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "help", no_argument, NULL, 'h' }

#define CLIENT_COMMON_HELP \
	"  --server URL           the daemon (default: $CWLD_SERVER, else\n" \
	"                         " CLIENT_DEFAULT_SERVER ")\n" \
	"  --token TOKEN          sent as 'Authorization: Bearer TOKEN' (default:\n" \
	"                         $CWLD_TOKEN); needed when the daemon has one\n" \
	"  -q, --quiet            no notes on stderr, only errors\n" \
	"  -h, --help             this text\n"

#define CLIENT_EXIT_HELP \
	"exit status: 0 success, 1 the run failed or the daemon had an internal error\n" \
	"(5xx), 2 bad usage or the daemon refused the request (4xx: unknown run,\n" \
	"invalid document, path outside its roots...), 3 the daemon is unreachable.\n"

struct client {
	const char *cmd;          /* "submit", for messages */
	const char *server_arg;   /* --server, borrowed from argv */
	char *server;             /* the base URL, no trailing '/' */
	const char *token;
	int json;
	int quiet;
	CURL *curl;
	struct curl_slist *hdr;   /* Accept, Authorization */
	struct curl_slist *hdr_body; /* the same and Content-Type */
	char errbuf[CURL_ERROR_SIZE];
};

/* One transfer. A stream hands its 2xx body to on_data as it comes; every
 * other body (answers to keep, error bodies) is collected in body. */
struct client_xfer {
	long status;
	char *body;
	size_t len, max;
	int truncated;
	int (*on_data)(void *arg, const char *p, size_t n); /* 0 go on, 1 done, -1 failed (said why) */
	void *arg;
	int cb_rc;
	CURLcode cc;
	CURL *curl;
};

static void
client_init(struct client *c, const char *cmd)
{
	memset(c, 0, sizeof *c);
	c->cmd = cmd;
}

static void
client_release(struct client *c)
{
	curl_slist_free_all(c->hdr);
	curl_slist_free_all(c->hdr_body);
	if (c->curl != NULL) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	free(c->server);
}

/* Takes the options all the clients share; 1 when ch was one of them. */
static int
client_option(struct client *c, int ch, const char *arg)
{
	switch (ch) {
	case CLIENT_OPT_SERVER: c->server_arg = arg; return 1;
	case CLIENT_OPT_TOKEN: c->token = arg; return 1;
	case CLIENT_OPT_JSON: c->json = 1; return 1;
	case 'q': c->quiet = 1; return 1;
	}
	return 0;
}

/* Parses a count option: a whole number from min up; -1 when it is not. */
static long
client_count(const struct client *c, const char *opt, const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > 1000000000L) {
		fprintf(stderr, "cwld %s: %s wants a whole number from %ld up, not '%s'\n",
		    c->cmd, opt, min, s);
		return -1;
	}
	return v;
}

/* The daemon's URL from --server, $CWLD_SERVER or the default, checked and
 * made plain by curl's URL parser ("localhost:8080" gains its http://),
 * and a curl handle. CWLD_EXIT_OK or the status to exit with. */
static int
client_open(struct client *c)
{
	const char *arg = c->server_arg;
	CURLU *u = NULL;
	CURLUcode uc;
	char *url = NULL, *scheme = NULL, *auth = NULL;
	size_t n;
	int rc = CWLD_EXIT_USAGE;

	if (arg == NULL && (arg = getenv("CWLD_SERVER")) != NULL && *arg == '\0')
		arg = NULL;
	if (arg == NULL)
		arg = CLIENT_DEFAULT_SERVER;
	if (c->token == NULL && (c->token = getenv("CWLD_TOKEN")) != NULL && *c->token == '\0')
		c->token = NULL;
	if ((u = curl_url()) == NULL) {
		fprintf(stderr, "cwld %s: out of memory\n", c->cmd);
		goto out;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, arg, CURLU_GUESS_SCHEME)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_URL, &url, 0)) != CURLUE_OK) {
		fprintf(stderr, "cwld %s: invalid daemon URL '%s': %s\n", c->cmd, arg,
		    curl_url_strerror(uc));
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		fprintf(stderr, "cwld %s: invalid daemon URL '%s': not http or https\n",
		    c->cmd, arg);
		goto out;
	}
	/* Paths are appended to it, so a daemon behind a proxy at
	 * https://host/cwld/ works too. */
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	c->server = xstrndup(url, n);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c->curl = curl_easy_init()) == NULL) {
		if (c->curl == NULL)
			curl_global_cleanup();
		fprintf(stderr, "cwld %s: cannot start libcurl%s\n", c->cmd,
		    curl_lazy_why());
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	c->hdr = curl_slist_append(c->hdr, "Accept: application/json");
	/* No "Expect: 100-continue" wait before a large document. */
	c->hdr = curl_slist_append(c->hdr, "Expect:");
	c->hdr_body = curl_slist_append(c->hdr_body, "Accept: application/json");
	c->hdr_body = curl_slist_append(c->hdr_body, "Expect:");
	c->hdr_body = curl_slist_append(c->hdr_body, "Content-Type: application/json");
	if (c->token != NULL) {
		auth = xasprintf("Authorization: Bearer %s", c->token);
		c->hdr = curl_slist_append(c->hdr, auth);
		c->hdr_body = curl_slist_append(c->hdr_body, auth);
	}
	if (c->hdr == NULL || c->hdr_body == NULL) {
		fprintf(stderr, "cwld %s: out of memory\n", c->cmd);
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	rc = CWLD_EXIT_OK;
out:
	if (auth != NULL) {
		/* The token is a secret: not left in freed memory. */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	curl_free(scheme);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

/* New string: s percent-encoded for a path segment or a query value (all
 * but A-Z a-z 0-9 - . _ ~, so a step's '/' becomes %2F). */
static char *
client_escape(struct client *c, const char *s)
{
	char *e = curl_easy_escape(c->curl, s, 0);
	char *out;

	if (e == NULL)
		fatalx("cwld %s: out of memory", c->cmd);
	out = xstrdup(e);
	curl_free(e);
	return out;
}

/* Appends "?k=v" or "&k=v" to *q (a new string or NULL), v escaped. */
static void
client_query_add(struct client *c, char **q, const char *k, const char *v)
{
	char *e = client_escape(c, v);
	char *n = xasprintf("%s%c%s=%s", *q != NULL ? *q : "", *q != NULL ? '&' : '?', k, e);

	free(*q);
	*q = n;
	free(e);
}

static size_t
client_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client_xfer *x = arg;
	size_t n = size * nmemb, keep = n;

	if (x->status == 0)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->on_data != NULL && x->status >= 200 && x->status < 300) {
		/* Anything but n stops the transfer. */
		if ((x->cb_rc = x->on_data(x->arg, p, n)) != 0)
			return 0;
		return n;
	}
	if (n > x->max - x->len) {
		x->truncated = 1;
		/* An answer cut short is no answer; an error body's beginning is
		 * enough to say what went wrong. */
		if (x->on_data == NULL && x->status < 300)
			return 0;
		keep = x->max - x->len;
	}
	x->body = xreallocarray(x->body, x->len + keep + 1, 1);
	memcpy(x->body + x->len, p, keep);
	x->len += keep;
	x->body[x->len] = '\0';
	return n;
}

/* One request: method GET or POST to server + path (escaped already), with
 * body (borrowed, may be NULL) as JSON. A stream (x->on_data set) has no
 * overall timeout, only idle seconds without a byte (0: none). Fills x;
 * the caller frees x->body. */
static void
client_perform(struct client *c, struct client_xfer *x, const char *method,
    const char *path, const json_t *body, long idle)
{
	char *url = xasprintf("%s%s", c->server, path);
	char *text = NULL;

	x->curl = c->curl;
	x->status = 0;
	x->cb_rc = 0;
	if (x->max == 0)
		x->max = x->on_data != NULL ? CLIENT_MAX_ERROR : CLIENT_MAX_ANSWER;
	curl_easy_reset(c->curl);
	c->errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, CLIENT_CONNECT_TIMEOUT);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "cwld/" "0.1.0");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_write);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, body != NULL ? c->hdr_body : c->hdr);
	if (x->on_data == NULL) {
		curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, CLIENT_TIMEOUT);
	} else if (idle > 0) {
		curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c->curl, CURLOPT_LOW_SPEED_TIME, idle);
	}
	if (strcmp(method, "POST") == 0) {
		text = body != NULL ? json_dumps(body, JSON_COMPACT) : xstrdup("");
		if (text == NULL)
			fatalx("cwld %s: cannot encode the request", c->cmd);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
	}
	x->cc = curl_easy_perform(c->curl);
	if (x->status == 0)
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);
	free(text);
	free(url);
}

/* Says what the daemon's 4xx/5xx answer said: its "detail" and "error"
 * (docs/api.md), else the start of whatever it sent. */
static int
client_http_error(struct client *c, const struct client_xfer *x)
{
	json_t *j = x->body != NULL ? json_loadb(x->body, x->len, 0, NULL) : NULL;
	const char *code = json_string_value(json_object_get(j, "error"));
	const char *detail = json_string_value(json_object_get(j, "detail"));

	if (code != NULL || detail != NULL) {
		fprintf(stderr, "cwld %s: %s (HTTP %ld%s%s)\n", c->cmd,
		    detail != NULL ? detail : code, x->status,
		    code != NULL ? ", " : "", code != NULL ? code : "");
	} else {
		fprintf(stderr, "cwld %s: the daemon at %s answered HTTP %ld%s%.200s\n",
		    c->cmd, c->server, x->status, x->len > 0 ? ": " : "",
		    x->len > 0 ? x->body : "");
	}
	if (x->status == 401)
		fprintf(stderr, "cwld %s: give the daemon's token with --token or $CWLD_TOKEN\n",
		    c->cmd);
	json_decref(j);
	return x->status < 500 ? CWLD_EXIT_USAGE : CWLD_EXIT_FAILED;
}

/* What a finished transfer means for the exit status; says why when it
 * is not CWLD_EXIT_OK. */
static int
client_report(struct client *c, const struct client_xfer *x)
{
	const char *why = c->errbuf[0] != '\0' ? c->errbuf : curl_easy_strerror(x->cc);

	if (x->cb_rc > 0)
		return CWLD_EXIT_OK;
	if (x->cb_rc < 0)
		return CWLD_EXIT_FAILED;
	if (x->cc == CURLE_WRITE_ERROR && x->truncated) {
		fprintf(stderr, "cwld %s: the daemon's answer is larger than %u MiB\n",
		    c->cmd, (unsigned)(x->max >> 20));
		return CWLD_EXIT_FAILED;
	}
	if (x->cc == CURLE_URL_MALFORMAT || x->cc == CURLE_UNSUPPORTED_PROTOCOL) {
		fprintf(stderr, "cwld %s: invalid daemon URL '%s': %s\n", c->cmd, c->server, why);
		return CWLD_EXIT_USAGE;
	}
	if (x->cc != CURLE_OK && x->status == 0) {
		fprintf(stderr, "cwld %s: cannot reach the cwld daemon at %s: %s\n", c->cmd,
		    c->server, why);
		if (x->cc == CURLE_COULDNT_CONNECT || x->cc == CURLE_COULDNT_RESOLVE_HOST ||
		    x->cc == CURLE_OPERATION_TIMEDOUT)
			fprintf(stderr, "cwld %s: is `cwld serve` running there? --server or "
			    "$CWLD_SERVER names another daemon\n", c->cmd);
		return CWLD_EXIT_UNREACHABLE;
	}
	if (x->status >= 400)
		return client_http_error(c, x);
	if (x->cc != CURLE_OK) {
		fprintf(stderr, "cwld %s: lost the connection to the cwld daemon at %s: %s\n",
		    c->cmd, c->server, why);
		return CWLD_EXIT_UNREACHABLE;
	}
	if (x->status < 200 || x->status >= 300) {
		fprintf(stderr, "cwld %s: unexpected answer from the daemon at %s: HTTP %ld\n",
		    c->cmd, c->server, x->status);
		return CWLD_EXIT_FAILED;
	}
	return CWLD_EXIT_OK;
}

/* A request whose answer is a JSON object: *out a new reference when
 * out is not NULL. CWLD_EXIT_OK or the status to exit with (said why). */
static int
client_call(struct client *c, const char *method, const char *path,
    const json_t *body, json_t **out)
{
	struct client_xfer x = { 0 };
	json_error_t jerr;
	json_t *j = NULL;
	int rc;

	client_perform(c, &x, method, path, body, 0);
	if ((rc = client_report(c, &x)) != CWLD_EXIT_OK)
		goto out;
	if (out == NULL)
		goto out;
	j = json_loadb(x.body != NULL ? x.body : "", x.len, 0, &jerr);
	if (!json_is_object(j)) {
		fprintf(stderr, "cwld %s: the daemon at %s answered %s with no JSON object: %s\n",
		    c->cmd, c->server, path, j == NULL ? jerr.text : "another JSON value");
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	*out = j;
	j = NULL;
out:
	json_decref(j);
	free(x.body);
	return rc;
}

/* New string: "/api/v1/runs/<id>" and the rest, id escaped. */
static char *
client_run_path(struct client *c, const char *id, const char *rest)
{
	char *e = client_escape(c, id);
	char *p = xasprintf("/api/v1/runs/%s%s", e, rest != NULL ? rest : "");

	free(e);
	return p;
}

static void
client_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

static int64_t
client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
client_sleep_poll(void)
{
	struct timespec ts = { 0, CLIENT_POLL_NS };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static const json_t *
client_last_attempt(const json_t *step)
{
	const json_t *a = json_object_get(step, "attempts");

	return json_array_size(a) > 0 ? json_array_get(a, json_array_size(a) - 1) : NULL;
}

/* ---- cwld submit ---- */

static void
client_submit_usage(FILE *f)
{
	fprintf(f, "usage: cwld submit [OPTIONS] WORKFLOW [JOB]\n");
}

static void
client_submit_help(void)
{
	client_submit_usage(stdout);
	printf("\n"
	    "Submits a run of WORKFLOW (a CWL tool or workflow; FILE#id picks a process\n"
	    "of a packed document) with the inputs in JOB (YAML or JSON, '-' for stdin,\n"
	    "none for no inputs) to a cwld daemon, and prints the run's id: only the id,\n"
	    "so `id=$(cwld submit wf.cwl job.yml)` captures it.\n"
	    "\n"
	    "WORKFLOW is sent as an absolute path (or as is when it is an http(s):// URL):\n"
	    "the daemon reads it itself, and only under its --root directories. JOB is read\n"
	    "here; the relative paths and locations of its Files and Directories are made\n"
	    "absolute from JOB's directory, as `cwld run` takes them. With --inline the\n"
	    "documents' text is sent instead, for a daemon that cannot see your files (the\n"
	    "workflow must then be self-contained: no run: or $import of other files).\n"
	    "\n"
	    "options:\n"
	    "  --wait, -w             follow the run until it ends, print its output object\n"
	    "                         (JSON) on stdout and step changes on stderr; exit 0\n"
	    "                         when it succeeded, 1 when it failed or was cancelled.\n"
	    "                         Ctrl-C stops waiting, not the run (see cwld cancel)\n"
	    "  --label KEY=VALUE      a label for the run (repeatable); cwld list --label\n"
	    "                         filters on them\n"
	    "  --parallel N           tool invocations of this run at once (default: the\n"
	    "                         daemon's cores)\n"
	    "  --no-container         ignore DockerRequirement, run every tool on the host\n"
	    "  --force-docker         run tools without DockerRequirement in a container too\n"
	    "  --default-container IMG\n"
	    "                         image for those tools (with --force-docker)\n"
	    "  --output-location s3://BUCKET/PREFIX\n"
	    "                         the daemon stores the outputs there (its --s3-*\n"
	    "                         settings) before the run succeeds; the output\n"
	    "                         object then has s3:// locations. Inputs may be at\n"
	    "                         s3:// locations too\n"
	    "  --inline               send WORKFLOW's and JOB's text instead of paths\n"
	    "  --json                 print the daemon's run object (JSON) instead of the id;\n"
	    "                         with --wait the final run object\n"
	    CLIENT_COMMON_HELP
	    "\n"
	    CLIENT_EXIT_HELP);
}

static int
client_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Makes the relative path and location of every File and Directory in v
 * absolute: location as a URI reference resolved against the job file's
 * URI (so "my%20file" stays one file), path joined to its directory. */
static void
client_job_paths(json_t *v, const char *job_uri, const char *job_dir)
{
	const char *cls, *s, *k;
	json_t *m;
	size_t i;
	char *abs;

	if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			client_job_paths(m, job_uri, job_dir);
		return;
	}
	if (!json_is_object(v))
		return;
	cls = json_string_value(json_object_get(v, "class"));
	if (cls != NULL && (strcmp(cls, "File") == 0 || strcmp(cls, "Directory") == 0)) {
		s = json_string_value(json_object_get(v, "location"));
		if (s != NULL && *s != '\0' && *s != '/' && !uri_has_scheme(s)) {
			abs = uri_resolve(job_uri, s);
			json_object_set_new(v, "location", json_string(abs));
			free(abs);
		}
		s = json_string_value(json_object_get(v, "path"));
		if (s != NULL && *s != '\0' && *s != '/' && !uri_has_scheme(s)) {
			char *j = fs_join(job_dir, s);

			abs = fs_abspath(j);
			json_object_set_new(v, "path", json_string(abs));
			free(abs);
			free(j);
		}
	}
	/* secondaryFiles, listing, records and arrays of Files. */
	json_object_foreach(v, k, m)
		client_job_paths(m, job_uri, job_dir);
}

/* Puts a file's text (or stdin's for "-") into body[field]. */
static int
client_put_text(struct client *c, json_t *body, const char *field, const char *path)
{
	struct cwld_err err = { 0 };
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	json_t *s;
	int rc = CWLD_EXIT_USAGE;

	if (strcmp(path, "-") == 0) {
		for (;;) {
			if (len + 65536 + 1 > cap) {
				cap = len + 65536 + 1;
				text = xreallocarray(text, cap, 1);
			}
			n = fread(text + len, 1, cap - len - 1, stdin);
			len += n;
			if (n == 0)
				break;
			if (len > CLIENT_MAX_DOC) {
				fprintf(stderr, "cwld %s: stdin is larger than %u MiB\n", c->cmd,
				    CLIENT_MAX_DOC >> 20);
				goto out;
			}
		}
		if (ferror(stdin)) {
			fprintf(stderr, "cwld %s: reading stdin: %s\n", c->cmd, strerror(errno));
			goto out;
		}
	} else if ((text = fs_read_file(path, CLIENT_MAX_DOC, &len, &err)) == NULL) {
		fprintf(stderr, "cwld %s: %s\n", c->cmd, err.msg);
		goto out;
	}
	if ((s = json_stringn(text, len)) == NULL) {
		fprintf(stderr, "cwld %s: %s: not UTF-8 text\n", c->cmd,
		    strcmp(path, "-") == 0 ? "stdin" : path);
		goto out;
	}
	json_object_set_new(body, field, s);
	rc = CWLD_EXIT_OK;
out:
	free(text);
	return rc;
}

/* The job object of a JOB file, its relative paths made absolute, into
 * body["inputs"]; errors say file:line:col as `cwld run` does. */
static int
client_put_job(struct client *c, json_t *body, const char *path)
{
	struct cwld_err err = { 0 };
	char *abs = NULL, *dir = NULL, *uri = NULL;
	json_t *job = NULL;
	int rc = CWLD_EXIT_USAGE;

	if ((job = yaml_parse_file(path, NULL, &err)) == NULL) {
		fprintf(stderr, "cwld %s: %s\n", c->cmd, err.msg);
		goto out;
	}
	if (json_is_null(job)) {
		/* An empty file: no inputs. */
		json_decref(job);
		job = json_object();
	}
	if (!json_is_object(job)) {
		fprintf(stderr, "cwld %s: %s: a job is a mapping of input names to values\n",
		    c->cmd, path);
		goto out;
	}
	abs = fs_abspath(path);
	dir = fs_dirname(abs);
	uri = uri_from_path(abs);
	client_job_paths(job, uri, dir);
	json_object_set(body, "inputs", job);
	rc = CWLD_EXIT_OK;
out:
	json_decref(job);
	free(uri);
	free(dir);
	free(abs);
	return rc;
}

/* Follows a run's events (GET .../events) for `submit --wait`: step
 * changes on stderr, done at the run's final `run` event. */
struct client_watch {
	struct client *c;
	struct client_fmt_sse *sse;
	json_t *ended; /* names of the steps whose end was shown */
};

static void
client_watch_step(const json_t *ev)
{
	const char *step = json_string_value(json_object_get(ev, "step"));
	const char *state = json_string_value(json_object_get(ev, "state"));
	const char *image = json_string_value(json_object_get(ev, "image"));
	const char *msg = json_string_value(json_object_get(ev, "message"));
	const json_t *code = json_object_get(ev, "exit_code");
	const char *fin = json_string_value(json_object_get(ev, "finished_at"));
	char when[32], span[32];
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL || strftime(when, sizeof when, "%H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "-");
	fprintf(stderr, "%s step %s: %s", when, step != NULL ? step : "?",
	    state != NULL ? state : "?");
	if (json_is_integer(code))
		fprintf(stderr, ", exit %lld", (long long)json_integer_value(code));
	if (fin != NULL)
		fprintf(stderr, ", %s", client_fmt_span(json_string_value(json_object_get(ev,
		    "started_at")), fin, 0, span, sizeof span));
	if (image != NULL && *image != '\0' && fin == NULL)
		fprintf(stderr, " (%s)", image);
	/* Its first line: the run's error, printed at the end, has it all. */
	if (msg != NULL && *msg != '\0')
		fprintf(stderr, ": %.*s", (int)strcspn(msg, "\n"), msg);
	fputc('\n', stderr);
}

static int
client_watch_event(void *arg, const char *event, const char *data)
{
	struct client_watch *w = arg;
	json_t *ev = json_loads(data, 0, NULL);
	int rc = 0;

	if (ev == NULL)
		return 0; /* not ours to judge: the final GET tells the state */
	if (strcmp(event, "run") == 0 &&
	    client_fmt_state_final(json_string_value(json_object_get(ev, "state")))) {
		rc = 1;
	} else if (strcmp(event, "step") == 0 && !w->c->quiet) {
		client_watch_step(ev);
		if (json_string_value(json_object_get(ev, "finished_at")) != NULL &&
		    json_string_value(json_object_get(ev, "step")) != NULL)
			json_object_set_new(w->ended, json_string_value(json_object_get(ev,
			    "step")), json_true());
	}
	json_decref(ev);
	return rc;
}

static int
client_watch_data(void *arg, const char *p, size_t n)
{
	struct client_watch *w = arg;
	int rc = client_fmt_sse_feed(w->sse, p, n);

	if (rc < 0)
		fprintf(stderr, "cwld %s: an event from the daemon is larger than %u KiB\n",
		    w->c->cmd, CLIENT_MAX_EVENT >> 10);
	return rc;
}

/* Shows the end of the steps of the final run object whose end no event
 * showed: a short run can be over before its event stream opens. */
static void
client_watch_rest(struct client_watch *w, const json_t *run)
{
	const json_t *s, *a;
	const char *name;
	json_t *ev;
	size_t i;

	json_array_foreach(json_object_get(run, "steps"), i, s) {
		name = json_string_value(json_object_get(s, "name"));
		if (name == NULL || json_object_get(w->ended, name) != NULL ||
		    json_string_value(json_object_get(s, "finished_at")) == NULL)
			continue;
		a = client_last_attempt(s);
		/* The step event's shape (docs/api.md), from the step object. */
		ev = json_pack("{ss sO? sO? sO? sO? sO?}", "step", name,
		    "state", json_object_get(s, "state"),
		    "exit_code", json_object_get(a, "exit_code"),
		    "image", json_object_get(a, "image"),
		    "started_at", json_object_get(s, "started_at"),
		    "finished_at", json_object_get(s, "finished_at"));
		if (ev != NULL)
			client_watch_step(ev);
		json_decref(ev);
	}
}

/* Waits for run id to end: its event stream while there is one, then GET
 * every 0.5 s until the state is final (a daemon without events, a stream
 * that broke). *out: the final run object, a new reference. */
static int
client_wait(struct client *c, const char *id, json_t **out)
{
	struct client_watch w = { .c = c, .ended = json_object() };
	struct client_xfer x = { 0 };
	char *path = client_run_path(c, id, "/events");
	json_t *run = NULL;
	int rc;

	w.sse = client_fmt_sse_new(CLIENT_MAX_EVENT, client_watch_event, &w);
	x.on_data = client_watch_data;
	x.arg = &w;
	client_perform(c, &x, "GET", path, NULL, CLIENT_SSE_IDLE);
	if (x.cb_rc < 0) {
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (x.cc != CURLE_OK && x.cb_rc == 0 && x.status == 0) {
		rc = client_report(c, &x);
		goto out;
	}
	free(path);
	path = client_run_path(c, id, NULL);
	for (;;) {
		if ((rc = client_call(c, "GET", path, NULL, &run)) != CWLD_EXIT_OK)
			goto out;
		if (client_fmt_state_final(json_string_value(json_object_get(run, "state"))))
			break;
		json_decref(run);
		run = NULL;
		client_sleep_poll();
	}
	if (!c->quiet)
		client_watch_rest(&w, run);
	*out = run;
	run = NULL;
out:
	json_decref(run);
	json_decref(w.ended);
	client_fmt_sse_free(w.sse);
	free(x.body);
	free(path);
	return rc;
}

int
cmd_submit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "inline", no_argument, NULL, CLIENT_OPT_INLINE },
		{ "label", required_argument, NULL, CLIENT_OPT_LABEL },
		{ "parallel", required_argument, NULL, CLIENT_OPT_PARALLEL },
		{ "no-container", no_argument, NULL, CLIENT_OPT_NO_CONTAINER },
		{ "force-docker", no_argument, NULL, CLIENT_OPT_FORCE_DOCKER },
		{ "default-container", required_argument, NULL, CLIENT_OPT_DEFAULT_CONTAINER },
		{ "output-location", required_argument, NULL, CLIENT_OPT_OUTPUT_LOCATION },
		{ "json", no_argument, NULL, CLIENT_OPT_JSON },
		CLIENT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	json_t *body = json_object(), *labels = json_object(), *run = NULL, *fin = NULL;
	const char *wf, *job, *id, *state, *error;
	char *k = NULL, *v = NULL, *abs = NULL;
	int ch, wait = 0, inl = 0, rc = CWLD_EXIT_USAGE;
	long n;

	client_init(&c, "submit");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "wqh", longopts, NULL)) != -1) {
		if (client_option(&c, ch, optarg))
			continue;
		switch (ch) {
		case 'w': wait = 1; break;
		case CLIENT_OPT_INLINE: inl = 1; break;
		case CLIENT_OPT_LABEL:
			if (client_fmt_label_split(optarg, &k, &v) < 0) {
				fprintf(stderr, "cwld submit: --label wants KEY=VALUE, not '%s'\n", optarg);
				goto out;
			}
			json_object_set_new(labels, k, json_string(v));
			free(k);
			free(v);
			k = v = NULL;
			break;
		case CLIENT_OPT_PARALLEL:
			if ((n = client_count(&c, "--parallel", optarg, 1)) < 0)
				goto out;
			json_object_set_new(body, "parallel", json_integer(n));
			break;
		case CLIENT_OPT_NO_CONTAINER:
			json_object_set_new(body, "no_container", json_true());
			break;
		case CLIENT_OPT_FORCE_DOCKER:
			json_object_set_new(body, "force_docker", json_true());
			break;
		case CLIENT_OPT_DEFAULT_CONTAINER:
			json_object_set_new(body, "default_container", json_string(optarg));
			break;
		case CLIENT_OPT_OUTPUT_LOCATION:
			json_object_set_new(body, "output_location", json_string(optarg));
			break;
		case 'h':
			client_submit_help();
			rc = CWLD_EXIT_OK;
			goto out;
		default:
			client_submit_usage(stderr);
			goto out;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		fprintf(stderr, "cwld submit: %s\n", argc - optind < 1 ?
		    "WORKFLOW is missing" : "too many arguments");
		client_submit_usage(stderr);
		goto out;
	}
	wf = argv[optind];
	job = argc - optind == 2 ? argv[optind + 1] : NULL;
	if (json_object_size(labels) > 0)
		json_object_set(body, "labels", labels);
	if (inl) {
		if ((rc = client_put_text(&c, body, "workflow_text", wf)) != CWLD_EXIT_OK)
			goto out;
	} else if (client_is_url(wf)) {
		json_object_set_new(body, "workflow", json_string(wf));
	} else {
		abs = fs_abspath(wf);
		json_object_set_new(body, "workflow", json_string(abs));
	}
	if (job != NULL) {
		if (inl || strcmp(job, "-") == 0)
			rc = client_put_text(&c, body, "inputs_text", job);
		else
			rc = client_put_job(&c, body, job);
		if (rc != CWLD_EXIT_OK)
			goto out;
	}
	if ((rc = client_open(&c)) != CWLD_EXIT_OK)
		goto out;
	if ((rc = client_call(&c, "POST", "/api/v1/runs", body, &run)) != CWLD_EXIT_OK)
		goto out;
	if ((id = json_string_value(json_object_get(run, "id"))) == NULL) {
		fprintf(stderr, "cwld submit: the daemon's answer has no run id\n");
		rc = CWLD_EXIT_FAILED;
		goto out;
	}
	if (!wait) {
		if (c.json)
			client_print_json(run);
		else
			printf("%s\n", id);
		goto out;
	}
	if (!c.quiet)
		fprintf(stderr, "cwld submit: run %s submitted; waiting for it to end "
		    "(Ctrl-C stops waiting, not the run)\n", id);
	fflush(stdout);
	if ((rc = client_wait(&c, id, &fin)) != CWLD_EXIT_OK)
		goto out;
	state = json_string_value(json_object_get(fin, "state"));
	error = json_string_value(json_object_get(fin, "error"));
	if (c.json)
		client_print_json(fin);
	else if (strcmp(state, "success") == 0)
		client_print_json(json_object_get(fin, "outputs"));
	if (strcmp(state, "success") != 0) {
		fprintf(stderr, "cwld submit: run %s %s%s%s\n", id,
		    strcmp(state, "cancelled") == 0 ? "was cancelled" : state,
		    error != NULL ? ": " : "", error != NULL ? error : "");
		rc = CWLD_EXIT_FAILED;
	}
out:
	fflush(stdout);
	free(k);
	free(v);
	free(abs);
	json_decref(fin);
	json_decref(run);
	json_decref(labels);
	json_decref(body);
	client_release(&c);
	return rc;
}

/* ---- cwld list ---- */

static void
client_list_usage(FILE *f)
{
	fprintf(f, "usage: cwld list [--state STATE]... [--label KEY=VALUE]... [--limit N] [OPTIONS]\n");
}

static void
client_list_help(void)
{
	client_list_usage(stdout);
	printf("\n"
	    "Lists a daemon's runs, newest first, as a table: ID, STATE, CREATED (local\n"
	    "time), DURATION (so far, for a running run), PROCESS (the document's name)\n"
	    "and LABELS.\n"
	    "\n"
	    "options:\n"
	    "  --state STATE          only runs in this state: pending, running, success,\n"
	    "                         failed or cancelled (repeatable: any of them)\n"
	    "  --label KEY=VALUE      only runs with this label (repeatable: all of them)\n"
	    "  --limit N              at most N runs (default 100), fetched page by page\n"
	    "  --json                 print {\"runs\": [...]} as the daemon sends them\n"
	    CLIENT_COMMON_HELP
	    "\n"
	    CLIENT_EXIT_HELP);
}

static int
client_run_state_known(const char *s)
{
	return strcmp(s, "pending") == 0 || strcmp(s, "running") == 0 ||
	    client_fmt_state_final(s);
}

static void
client_list_table(const json_t *runs)
{
	static const char *const head[] = { "ID", "STATE", "CREATED", "DURATION", "PROCESS", "LABELS" };
	struct client_fmt_table *t = client_fmt_table_new(6, head);
	int64_t now = client_now_ms();
	const json_t *r;
	const char *fin;
	char created[32], span[32], *proc, *labels, *text;
	size_t i;

	json_array_foreach(runs, i, r) {
		const char *cells[6];

		fin = json_string_value(json_object_get(r, "finished_at"));
		proc = client_fmt_process_name(json_string_value(json_object_get(r, "process")));
		labels = client_fmt_labels(json_object_get(r, "labels"));
		cells[0] = json_string_value(json_object_get(r, "id"));
		cells[1] = json_string_value(json_object_get(r, "state"));
		cells[2] = client_fmt_local_time(json_string_value(json_object_get(r, "created_at")),
		    created, sizeof created);
		cells[3] = client_fmt_span(json_string_value(json_object_get(r, "started_at")),
		    fin, now, span, sizeof span);
		cells[4] = proc;
		cells[5] = *labels != '\0' ? labels : NULL;
		client_fmt_table_add(t, cells);
		free(proc);
		free(labels);
	}
	text = client_fmt_table_render(t);
	fputs(text, stdout);
	free(text);
	client_fmt_table_free(t);
}

int
cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, CLIENT_OPT_STATE },
		{ "label", required_argument, NULL, CLIENT_OPT_LABEL },
		{ "limit", required_argument, NULL, CLIENT_OPT_LIMIT },
		{ "json", no_argument, NULL, CLIENT_OPT_JSON },
		CLIENT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	json_t *all = json_array(), *page = NULL, *runs, *r, *answer = NULL;
	const char *states[16], *labels[64], *next;
	size_t nstates = 0, nlabels = 0, i;
	char *query = NULL, *path = NULL, *token = NULL, *k, *v, num[32];
	long limit = 100, want;
	int ch, rc = CWLD_EXIT_USAGE;

	client_init(&c, "list");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (client_option(&c, ch, optarg))
			continue;
		switch (ch) {
		case CLIENT_OPT_STATE:
			if (!client_run_state_known(optarg)) {
				fprintf(stderr, "cwld list: unknown state '%s' (pending, running, "
				    "success, failed, cancelled)\n", optarg);
				goto out;
			}
			if (nstates == sizeof states / sizeof states[0]) {
				fprintf(stderr, "cwld list: more than %zu --state\n", nstates);
				goto out;
			}
			states[nstates++] = optarg;
			break;
		case CLIENT_OPT_LABEL:
			if (client_fmt_label_split(optarg, &k, &v) < 0) {
				fprintf(stderr, "cwld list: --label wants KEY=VALUE, not '%s'\n", optarg);
				goto out;
			}
			free(k);
			free(v);
			if (nlabels == sizeof labels / sizeof labels[0]) {
				fprintf(stderr, "cwld list: more than %zu --label\n", nlabels);
				goto out;
			}
			labels[nlabels++] = optarg;
			break;
		case CLIENT_OPT_LIMIT:
			if ((limit = client_count(&c, "--limit", optarg, 1)) < 0)
				goto out;
			break;
		case 'h':
			client_list_help();
			rc = CWLD_EXIT_OK;
			goto out;
		default:
			client_list_usage(stderr);
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "cwld list: unexpected argument '%s'\n", argv[optind]);
		client_list_usage(stderr);
		goto out;
	}
	if ((rc = client_open(&c)) != CWLD_EXIT_OK)
		goto out;
	/* Pages until --limit runs are there or the daemon has no more. */
	while ((long)json_array_size(all) < limit) {
		want = limit - (long)json_array_size(all);
		if (want > CLIENT_PAGE_MAX)
			want = CLIENT_PAGE_MAX;
		for (i = 0; i < nstates; i++)
			client_query_add(&c, &query, "state", states[i]);
		for (i = 0; i < nlabels; i++)
			client_query_add(&c, &query, "label", labels[i]);
		snprintf(num, sizeof num, "%ld", want);
		client_query_add(&c, &query, "limit", num);
		if (token != NULL)
			client_query_add(&c, &query, "page_token", token);
		path = xasprintf("/api/v1/runs%s", query);
		if ((rc = client_call(&c, "GET", path, NULL, &page)) != CWLD_EXIT_OK)
			goto out;
		free(query);
		free(path);
		query = path = NULL;
		if (!json_is_array(runs = json_object_get(page, "runs"))) {
			fprintf(stderr, "cwld list: the daemon's answer has no runs array\n");
			rc = CWLD_EXIT_FAILED;
			goto out;
		}
		json_array_foreach(runs, i, r) {
			if ((long)json_array_size(all) < limit)
				json_array_append(all, r);
		}
		free(token);
		token = NULL;
		next = json_string_value(json_object_get(page, "next_page_token"));
		/* An empty page with a token would loop for ever. */
		if (next != NULL && *next != '\0' && json_array_size(runs) > 0)
			token = xstrdup(next);
		json_decref(page);
		page = NULL;
		if (token == NULL)
			break;
	}
	if (c.json) {
		answer = json_pack("{sO}", "runs", all);
		if (token != NULL)
			json_object_set_new(answer, "next_page_token", json_string(token));
		client_print_json(answer);
	} else if (json_array_size(all) == 0) {
		if (!c.quiet)
			fprintf(stderr, "cwld list: no runs%s\n",
			    nstates + nlabels > 0 ? " match" : "");
	} else {
		client_list_table(all);
	}
out:
	fflush(stdout);
	json_decref(answer);
	json_decref(page);
	json_decref(all);
	free(token);
	free(query);
	free(path);
	client_release(&c);
	return rc;
}

/* ---- cwld status ---- */

static void
client_status_usage(FILE *f)
{
	fprintf(f, "usage: cwld status [OPTIONS] RUN_ID\n");
}

static void
client_status_help(void)
{
	client_status_usage(stdout);
	printf("\n"
	    "Shows a run of a daemon: its state, process, labels, times (local time) and\n"
	    "error, then a table of its steps (NAME, STATE, EXIT code of the last attempt,\n"
	    "IMAGE it ran in, '-' on the host, DURATION), and the output object (JSON)\n"
	    "once the run succeeded. `cwld logs RUN_ID STEP` prints a step's output.\n"
	    "\n"
	    "options:\n"
	    "  --json                 print the daemon's run object as is\n"
	    CLIENT_COMMON_HELP
	    "\n"
	    CLIENT_EXIT_HELP);
}

static void
client_status_print(const json_t *run)
{
	static const char *const head[] = { "NAME", "STATE", "EXIT", "IMAGE", "DURATION" };
	const json_t *steps = json_object_get(run, "steps"), *s, *a, *code;
	const char *state = json_string_value(json_object_get(run, "state"));
	const char *error = json_string_value(json_object_get(run, "error"));
	const char *proc = json_string_value(json_object_get(run, "process"));
	const char *started = json_string_value(json_object_get(run, "started_at"));
	const char *img;
	char *labels = client_fmt_labels(json_object_get(run, "labels")), *text;
	char buf[32], span[32], exitbuf[32];
	struct client_fmt_table *t;
	int64_t now = client_now_ms();
	size_t i;

	printf("run       %s\n", json_string_value(json_object_get(run, "id")));
	printf("state     %s\n", state != NULL ? state : "-");
	printf("process   %s\n", proc != NULL ? proc : "-");
	if (*labels != '\0')
		printf("labels    %s\n", labels);
	printf("created   %s\n", client_fmt_local_time(json_string_value(json_object_get(run,
	    "created_at")), buf, sizeof buf));
	printf("started   %s\n", client_fmt_local_time(started, buf, sizeof buf));
	printf("finished  %s\n", client_fmt_local_time(json_string_value(json_object_get(run,
	    "finished_at")), buf, sizeof buf));
	if (started != NULL)
		printf("duration  %s%s\n", client_fmt_span(started,
		    json_string_value(json_object_get(run, "finished_at")), now, span, sizeof span),
		    client_fmt_state_final(state) ? "" : " so far");
	if (error != NULL && *error != '\0')
		printf("error     %s\n", error);
	free(labels);

	printf("\n");
	if (json_array_size(steps) == 0) {
		printf("no steps started yet\n");
	} else {
		t = client_fmt_table_new(5, head);
		json_array_foreach(steps, i, s) {
			const char *cells[5];

			a = client_last_attempt(s);
			code = json_object_get(a, "exit_code");
			img = json_string_value(json_object_get(a, "image"));
			if (json_is_integer(code))
				snprintf(exitbuf, sizeof exitbuf, "%lld",
				    (long long)json_integer_value(code));
			cells[0] = json_string_value(json_object_get(s, "name"));
			cells[1] = json_string_value(json_object_get(s, "state"));
			cells[2] = json_is_integer(code) ? exitbuf : NULL;
			cells[3] = img != NULL && *img != '\0' ? img : NULL;
			cells[4] = client_fmt_span(json_string_value(json_object_get(s, "started_at")),
			    json_string_value(json_object_get(s, "finished_at")), now, span, sizeof span);
			client_fmt_table_add(t, cells);
		}
		text = client_fmt_table_render(t);
		fputs(text, stdout);
		free(text);
		client_fmt_table_free(t);
	}
	if (state != NULL && strcmp(state, "success") == 0) {
		printf("\noutputs:\n");
		client_print_json(json_object_get(run, "outputs"));
	}
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLIENT_OPT_JSON },
		CLIENT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	json_t *run = NULL;
	char *path = NULL;
	int ch, rc = CWLD_EXIT_USAGE;

	client_init(&c, "status");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (client_option(&c, ch, optarg))
			continue;
		if (ch == 'h') {
			client_status_help();
			rc = CWLD_EXIT_OK;
			goto out;
		}
		client_status_usage(stderr);
		goto out;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "cwld status: %s\n", argc == optind ? "RUN_ID is missing" :
		    "one RUN_ID at a time");
		client_status_usage(stderr);
		goto out;
	}
	if ((rc = client_open(&c)) != CWLD_EXIT_OK)
		goto out;
	path = client_run_path(&c, argv[optind], NULL);
	if ((rc = client_call(&c, "GET", path, NULL, &run)) != CWLD_EXIT_OK)
		goto out;
	if (c.json)
		client_print_json(run);
	else
		client_status_print(run);
out:
	fflush(stdout);
	json_decref(run);
	free(path);
	client_release(&c);
	return rc;
}

/* ---- cwld logs ---- */

static void
client_logs_usage(FILE *f)
{
	fprintf(f, "usage: cwld logs [--stderr] [--follow] [--tail N] [OPTIONS] RUN_ID [STEP]\n");
}

static void
client_logs_help(void)
{
	client_logs_usage(stdout);
	printf("\n"
	    "Prints a step's standard output (or error) as the daemon sends it, without\n"
	    "holding it in memory. STEP is the step's path in the run as `cwld status`\n"
	    "lists it (align, sub/inner, scatter_step.3); it may be left out when the run\n"
	    "has a single step (a tool run on its own).\n"
	    "\n"
	    "options:\n"
	    "  --stderr               the step's standard error instead of its output\n"
	    "  -f, --follow           keep printing what the step writes until it\n"
	    "                         finishes; a step that has not written yet is\n"
	    "                         waited for while the run goes on\n"
	    "  --tail N               only the last N lines\n"
	    CLIENT_COMMON_HELP
	    "\n"
	    CLIENT_EXIT_HELP);
}

static int
client_logs_data(void *arg, const char *p, size_t n)
{
	struct client *c = arg;

	if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
		fprintf(stderr, "cwld %s: writing to stdout: %s\n", c->cmd, strerror(errno));
		return -1;
	}
	return 0;
}

/* The one step of a run, when STEP is left out. New string or NULL (said
 * why, *rc set). */
static char *
client_logs_only_step(struct client *c, const char *id, int *rc)
{
	char *path = client_run_path(c, id, NULL), *name = NULL;
	json_t *run = NULL, *steps, *s;
	size_t i;

	if ((*rc = client_call(c, "GET", path, NULL, &run)) != CWLD_EXIT_OK)
		goto out;
	steps = json_object_get(run, "steps");
	if (json_array_size(steps) == 1 &&
	    json_string_value(json_object_get(json_array_get(steps, 0), "name")) != NULL) {
		name = xstrdup(json_string_value(json_object_get(json_array_get(steps, 0), "name")));
		goto out;
	}
	*rc = CWLD_EXIT_USAGE;
	if (json_array_size(steps) == 0) {
		fprintf(stderr, "cwld logs: run %s has no steps yet; name the STEP to wait for "
		    "with --follow\n", id);
		goto out;
	}
	fprintf(stderr, "cwld logs: run %s has %zu steps; name one:", id, json_array_size(steps));
	json_array_foreach(steps, i, s) {
		if (i == 20) {
			fprintf(stderr, " ...");
			break;
		}
		fprintf(stderr, " %s", json_string_value(json_object_get(s, "name")) ?
		    json_string_value(json_object_get(s, "name")) : "?");
	}
	fputc('\n', stderr);
out:
	json_decref(run);
	free(path);
	return name;
}

/* Whether run id is still pending or running (a step's log may come). */
static int
client_run_going(struct client *c, const char *id, int *rc)
{
	char *path = client_run_path(c, id, NULL);
	json_t *run = NULL;
	int going = 0;

	if ((*rc = client_call(c, "GET", path, NULL, &run)) == CWLD_EXIT_OK)
		going = !client_fmt_state_final(json_string_value(json_object_get(run, "state")));
	json_decref(run);
	free(path);
	return going;
}

int
cmd_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stderr", no_argument, NULL, CLIENT_OPT_STDERR },
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, CLIENT_OPT_TAIL },
		CLIENT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	struct client_xfer x = { 0 };
	const char *id, *stream = "stdout", *tail = NULL;
	char *step = NULL, *esc = NULL, *rest = NULL, *query = NULL, *path = NULL;
	int ch, follow = 0, noted = 0, rc = CWLD_EXIT_USAGE;

	client_init(&c, "logs");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "fqh", longopts, NULL)) != -1) {
		if (client_option(&c, ch, optarg))
			continue;
		switch (ch) {
		case CLIENT_OPT_STDERR: stream = "stderr"; break;
		case 'f': follow = 1; break;
		case CLIENT_OPT_TAIL:
			if (client_count(&c, "--tail", optarg, 0) < 0)
				goto out;
			tail = optarg;
			break;
		case 'h':
			client_logs_help();
			rc = CWLD_EXIT_OK;
			goto out;
		default:
			client_logs_usage(stderr);
			goto out;
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		fprintf(stderr, "cwld logs: %s\n", argc == optind ? "RUN_ID is missing" :
		    "too many arguments");
		client_logs_usage(stderr);
		goto out;
	}
	id = argv[optind];
	if ((rc = client_open(&c)) != CWLD_EXIT_OK)
		goto out;
	if (argc - optind == 2)
		step = xstrdup(argv[optind + 1]);
	else if ((step = client_logs_only_step(&c, id, &rc)) == NULL)
		goto out;
	esc = client_escape(&c, step);
	if (tail != NULL)
		client_query_add(&c, &query, "tail", tail);
	if (follow)
		client_query_add(&c, &query, "follow", "1");
	rest = xasprintf("/steps/%s/logs/%s%s", esc, stream, query != NULL ? query : "");
	path = client_run_path(&c, id, rest);
	x.on_data = client_logs_data;
	x.arg = &c;
	for (;;) {
		free(x.body);
		x.body = NULL;
		x.len = 0;
		x.truncated = 0;
		client_perform(&c, &x, "GET", path, NULL, 0);
		/* With --follow a step that has not written (or started) yet is
		 * waited for, as long as the run goes on. */
		if (!follow || x.status != 404 || x.cc != CURLE_OK)
			break;
		if (!client_run_going(&c, id, &rc)) {
			if (rc != CWLD_EXIT_OK)
				goto out;
			break;
		}
		if (!noted && !c.quiet)
			fprintf(stderr, "cwld logs: no %s of step '%s' yet; waiting for it\n",
			    stream, step);
		noted = 1;
		client_sleep_poll();
	}
	rc = client_report(&c, &x);
out:
	fflush(stdout);
	free(x.body);
	free(path);
	free(rest);
	free(query);
	free(esc);
	free(step);
	client_release(&c);
	return rc;
}

/* ---- cwld cancel ---- */

static void
client_cancel_usage(FILE *f)
{
	fprintf(f, "usage: cwld cancel [OPTIONS] RUN_ID...\n");
}

static void
client_cancel_help(void)
{
	client_cancel_usage(stdout);
	printf("\n"
	    "Cancels runs of a daemon: their containers and host processes are stopped\n"
	    "and removed and the runs marked cancelled. Prints \"cancelled RUN_ID\" for\n"
	    "each; a run that has already finished is a conflict (exit 2). With several\n"
	    "RUN_IDs each is tried and the exit status is the worst.\n"
	    "\n"
	    "options:\n"
	    "  --json                 print the daemon's run object of each as is\n"
	    CLIENT_COMMON_HELP
	    "\n"
	    CLIENT_EXIT_HELP);
}

int
cmd_cancel(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, CLIENT_OPT_JSON },
		CLIENT_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct client c;
	json_t *run = NULL;
	char *path = NULL;
	int ch, i, one, rc = CWLD_EXIT_USAGE;

	client_init(&c, "cancel");
	optind = 1;
	while ((ch = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		if (client_option(&c, ch, optarg))
			continue;
		if (ch == 'h') {
			client_cancel_help();
			rc = CWLD_EXIT_OK;
			goto out;
		}
		client_cancel_usage(stderr);
		goto out;
	}
	if (optind == argc) {
		fprintf(stderr, "cwld cancel: RUN_ID is missing\n");
		client_cancel_usage(stderr);
		goto out;
	}
	if ((rc = client_open(&c)) != CWLD_EXIT_OK)
		goto out;
	for (i = optind; i < argc; i++) {
		path = client_run_path(&c, argv[i], "/cancel");
		one = client_call(&c, "POST", path, NULL, &run);
		free(path);
		path = NULL;
		if (one == CWLD_EXIT_OK) {
			if (c.json)
				client_print_json(run);
			else
				printf("cancelled %s\n", argv[i]);
		}
		json_decref(run);
		run = NULL;
		/* Unreachable (3) is worse than refused (2), refused than failed. */
		if (one > rc)
			rc = one;
		/* A daemon that is not there is not there for the next run either. */
		if (one == CWLD_EXIT_UNREACHABLE)
			break;
	}
out:
	fflush(stdout);
	free(path);
	client_release(&c);
	return rc;
}

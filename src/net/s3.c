/* S3 client on the event loop: settings from flags, AWS_* variables and the
 * shared credentials/config files; URLs in path-style or virtual-host form;
 * SigV4 signing left to libcurl (CURLOPT_AWS_SIGV4, with the
 * x-amz-content-sha256 header libcurl 7.88 does not add and a query string
 * sorted here because it signs it as written); HEAD, GET into a temporary
 * file renamed when complete, PUT and multipart upload streamed from a
 * file, ListObjectsV2 pages. Each request is retried with backoff on 5xx
 * and connection errors; errors carry S3's own <Code> and <Message>. What
 * an s3:// location means to a workflow is left to the engine. */
#include <sys/queue.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/evp.h>

#include "cwld/fs.h"
#include "cwld/http.h"
#include "cwld/log.h"
#include "cwld/s3.h"
#include "cwld/xmalloc.h"
#include "cwld/uri.h"

#define S3_MIB (1024 * 1024)
#define S3_DEFAULT_THRESHOLD (16LL * S3_MIB)
#define S3_DEFAULT_PART (8LL * S3_MIB)
#define S3_MIN_PART (5LL * S3_MIB)
#define S3_MAX_PARTS 10000
#define S3_MAX_OBJECT (5LL * 1024 * 1024 * 1024 * 1024)
#define S3_SMALL_SIGNED (1LL * S3_MIB) /* bodies up to this get a real hash */
#define S3_ERROR_BODY (1u * S3_MIB)
#define S3_LIST_BODY (16u * S3_MIB)
#define S3_STALL_S 120L
#define S3_MAX_BACKOFF_MS 10000
#define S3_INI_MAX (1u * S3_MIB)
/* SHA-256 of the empty string: the payload hash of bodiless requests */
#define S3_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum s3_kind { S3_HEAD, S3_GET, S3_PUT, S3_LIST, S3_ABORT };
enum s3_stage { S3_ST_SINGLE, S3_ST_CREATE, S3_ST_PARTS, S3_ST_COMPLETE,
    S3_ST_ABORT };

struct s3_op;

/* One request in flight, retried in place: an operation's single request,
 * or one part of a multipart upload. */
struct s3_slot {
	struct s3_op *op;
	int part;              /* part number, 0 when not a part */
	int64_t off, len;      /* the file range a body is read from */
	int64_t sent;
	struct http_xfer *xfer;
	struct event *retry;
	int attempt;
	long status;           /* status of the response being received */
	char *etag;            /* ETag of a finished part */
	http_cb done;          /* what handles the answer */
	char *start_err;       /* a request that could not even start,
	                        * reported from the loop */
	char *first_err;       /* how the first attempt failed */
};

TAILQ_HEAD(s3_ops, s3_op);

struct s3 {
	struct event_base *base;
	struct http *http;
	struct s3_resolved rs;
	char *sigv4;       /* "aws:amz:REGION:s3", NULL: unsigned */
	char *userpwd;     /* "KEY:SECRET" */
	char *token_hdr;   /* "x-amz-security-token: ..." or NULL */
	char *scheme, *host, *port, *basepath; /* the endpoint, cut up */
	int64_t threshold, part_size;
	int concurrency, max_attempts, retry_base_ms;
	int closing;
	struct s3_ops ops;
};

struct s3_op {
	TAILQ_ENTRY(s3_op) entry;
	struct s3 *s3;
	enum s3_kind kind;
	enum s3_stage stage;
	const char *name;      /* "GET", ... for messages */
	char *bucket, *key, *uri;
	s3_cb cb;
	void *arg;
	struct s3_slot req;    /* the single request (not parts) */
	int attempts;          /* requests tried, all slots */

	/* GET */
	char *path, *tmp;
	int fd;                /* GET: temporary file; PUT: source */
	int64_t expect, got;
	int io_errno;
	EVP_MD_CTX *md;
	char *want_sum;
	int64_t resume_from;   /* a retry asks for the bytes from here on */
	char *resume_etag;     /* ... of the object with this ETag only */
	char *range_err;       /* a 206 that does not start where asked */

	/* PUT */
	int64_t size, part_size;
	char *payload_hash;    /* single small PUT: the body's SHA-256 */
	char *upload_id;
	struct s3_slot *parts;
	int nparts, next_part, inflight, done_parts;
	int aborting;
	int cancelled;         /* by s3_cancel while its Create was on the way */

	/* LIST */
	char *prefix, *delimiter, *token;
	int max_keys;
	s3_list_cb each;

	/* result */
	char *r_etag, *r_sum;
	int64_t r_size;
	char *e_msg, *e_code;
	long e_status;
};

static void s3_slot_send(struct s3_slot *sl);
static int s3_slot_start(struct s3_slot *sl, struct cwld_err *err);
static void s3_op_fail(struct s3_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- pure helpers ------------------------------------------------------ */

char *
s3_uri_encode(const char *s, int keep_slash)
{
	return uri_percent_encode(s, keep_slash ? "-_.~/" : "-_.~");
}

struct s3_qpair {
	char *name, *value;
};

static int
s3_qpair_cmp(const void *a, const void *b)
{
	const struct s3_qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

char *
s3_query(const struct s3_param *params, size_t n)
{
	struct s3_qpair *q;
	char *out = NULL, *next;
	size_t i;

	if (n == 0)
		return xstrdup("");
	q = xreallocarray(NULL, n, sizeof *q);
	for (i = 0; i < n; i++) {
		q[i].name = s3_uri_encode(params[i].name, 0);
		q[i].value = s3_uri_encode(params[i].value != NULL ?
		    params[i].value : "", 0);
	}
	qsort(q, n, sizeof *q, s3_qpair_cmp);
	for (i = 0; i < n; i++) {
		next = xasprintf("%s%s%s=%s", out != NULL ? out : "",
		    i > 0 ? "&" : "", q[i].name, q[i].value);
		free(out);
		out = next;
		free(q[i].name);
		free(q[i].value);
	}
	free(q);
	return out;
}

/* Where "</tag" followed by '>' or blank starts in xml[from,len), or -1. */
static long
s3_xml_end(const char *xml, size_t len, const char *tag, size_t tl, size_t from)
{
	size_t i;

	for (i = from; i + 2 + tl < len; i++) {
		if (xml[i] != '<' || xml[i + 1] != '/' ||
		    memcmp(xml + i + 2, tag, tl) != 0)
			continue;
		if (xml[i + 2 + tl] == '>' ||
		    isspace((unsigned char)xml[i + 2 + tl]))
			return (long)i;
	}
	return -1;
}

int
s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
    const char **inner, size_t *inner_len)
{
	size_t tl = strlen(tag), i, j, g;
	const char *lt, *gt;
	long e;

	for (i = *pos; i < len; i = (size_t)(lt - xml) + 1) {
		lt = memchr(xml + i, '<', len - i);
		if (lt == NULL)
			return 0;
		j = (size_t)(lt - xml) + 1;
		if (len - j <= tl || memcmp(xml + j, tag, tl) != 0)
			continue;
		j += tl;
		if (xml[j] != '>' && xml[j] != '/' &&
		    !isspace((unsigned char)xml[j]))
			continue;
		gt = memchr(xml + j, '>', len - j);
		if (gt == NULL)
			return 0;
		g = (size_t)(gt - xml);
		if (xml[g - 1] == '/') {
			*inner = xml + g + 1;
			*inner_len = 0;
			*pos = g + 1;
			return 1;
		}
		e = s3_xml_end(xml, len, tag, tl, g + 1);
		if (e < 0)
			return 0;
		*inner = xml + g + 1;
		*inner_len = (size_t)e - (g + 1);
		gt = memchr(xml + e, '>', len - (size_t)e);
		*pos = gt != NULL ? (size_t)(gt - xml) + 1 : len;
		return 1;
	}
	return 0;
}

/* Appends code point cp as UTF-8 at out; returns the bytes written. */
static size_t
s3_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* New string: xml text with its entities decoded; an entity it does not
 * know is kept as written. */
static char *
s3_xml_decode(const char *s, size_t n)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	char *out = xmalloc(n + 1), *end;
	size_t i = 0, o = 0, k, el;
	unsigned long cp;

	while (i < n) {
		if (s[i] != '&') {
			out[o++] = s[i++];
			continue;
		}
		for (k = 0; k < sizeof ents / sizeof ents[0]; k++) {
			el = strlen(ents[k].name);
			if (n - i - 1 >= el &&
			    memcmp(s + i + 1, ents[k].name, el) == 0)
				break;
		}
		if (k < sizeof ents / sizeof ents[0]) {
			out[o++] = ents[k].c;
			i += 1 + strlen(ents[k].name);
			continue;
		}
		if (i + 3 < n && s[i + 1] == '#') {
			char num[16];
			size_t m = 0, st = i + 2;
			int base = 10;

			if (s[st] == 'x' || s[st] == 'X') {
				base = 16;
				st++;
			}
			while (st + m < n && m < sizeof num - 1 && s[st + m] != ';')
				m++;
			if (st + m < n && s[st + m] == ';' && m > 0) {
				memcpy(num, s + st, m);
				num[m] = '\0';
				errno = 0;
				cp = strtoul(num, &end, base);
				/* a character reference is at most as long
				 * as its UTF-8 (&#x10FFFF; is 10 > 4 bytes) */
				if (errno == 0 && *end == '\0' && cp > 0 &&
				    cp <= 0x10ffff) {
					o += s3_utf8(out + o, cp);
					i = st + m + 1;
					continue;
				}
			}
		}
		out[o++] = s[i++];
	}
	out[o] = '\0';
	return out;
}

char *
s3_xml_text(const char *xml, size_t len, const char *tag)
{
	const char *in;
	size_t pos = 0, n;

	if (!s3_xml_next(xml, len, tag, &pos, &in, &n))
		return NULL;
	return s3_xml_decode(in, n);
}

char *
s3_xml_escape(const char *s)
{
	size_t n = strlen(s), o = 0, i;
	char *out;

	if (n > (SIZE_MAX - 1) / 6)
		abort();
	out = xmalloc(n * 6 + 1);
	for (i = 0; i < n; i++) {
		const char *r = NULL;

		switch (s[i]) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&apos;"; break;
		default: out[o++] = s[i]; continue;
		}
		memcpy(out + o, r, strlen(r));
		o += strlen(r);
	}
	out[o] = '\0';
	return out;
}

/* Trims blanks at both ends of [*b, *e). */
static void
s3_trim(const char **b, const char **e)
{
	while (*b < *e && isspace((unsigned char)**b))
		(*b)++;
	while (*e > *b && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

char *
s3_ini_get(const char *text, const char *section, const char *key)
{
	const char *p = text, *eol, *b, *e, *eq, *kb, *ke;
	int in = 0;

	while (p != NULL && *p != '\0') {
		eol = strchr(p, '\n');
		if (eol == NULL)
			eol = p + strlen(p);
		b = p;
		e = eol;
		/* an indented line belongs to a key above (a sub-section
		 * such as "s3 =" in ~/.aws/config): not a key of its own */
		if (b < e && (*b == ' ' || *b == '\t')) {
			p = *eol != '\0' ? eol + 1 : eol;
			continue;
		}
		s3_trim(&b, &e);
		if (b == e || *b == '#' || *b == ';') {
			/* blank or comment */
		} else if (*b == '[') {
			kb = b + 1;
			ke = memchr(kb, ']', (size_t)(e - kb));
			if (ke != NULL) {
				s3_trim(&kb, &ke);
				in = (size_t)(ke - kb) == strlen(section) &&
				    memcmp(kb, section, (size_t)(ke - kb)) == 0;
			} else {
				in = 0;
			}
		} else if (in && (eq = memchr(b, '=', (size_t)(e - b))) != NULL) {
			kb = b;
			ke = eq;
			s3_trim(&kb, &ke);
			if ((size_t)(ke - kb) == strlen(key) &&
			    strncasecmp(kb, key, (size_t)(ke - kb)) == 0) {
				kb = eq + 1;
				s3_trim(&kb, &e);
				return xstrndup(kb, (size_t)(e - kb));
			}
		}
		p = *eol != '\0' ? eol + 1 : eol;
	}
	return NULL;
}

int
s3_uri_parse(const char *uri, char **bucket, char **key, struct cwld_err *err)
{
	const char *b, *slash;
	size_t n, i;

	*bucket = NULL;
	*key = NULL;
	if (strncmp(uri, "s3://", 5) != 0)
		return err_set(err, CWLD_EXIT_USAGE,
		    "'%s': not an s3:// location", uri);
	b = uri + 5;
	slash = strchr(b, '/');
	n = slash != NULL ? (size_t)(slash - b) : strlen(b);
	if (n < 3 || n > 63)
		return err_set(err, CWLD_EXIT_USAGE,
		    "'%s': a bucket name has 3 to 63 characters", uri);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!isalnum(c) && c != '.' && c != '-' && c != '_')
			return err_set(err, CWLD_EXIT_USAGE,
			    "'%s': invalid character '%c' in bucket name", uri,
			    c);
	}
	if (slash != NULL && strpbrk(slash, "?#") != NULL)
		return err_set(err, CWLD_EXIT_USAGE,
		    "'%s': an s3:// location has no query or fragment", uri);
	*bucket = xstrndup(b, n);
	*key = xstrdup(slash != NULL ? slash + 1 : "");
	return 0;
}

char *
s3_uri_make(const char *bucket, const char *key)
{
	return xasprintf("s3://%s/%s", bucket, key);
}

/* --- settings ---------------------------------------------------------- */

static const char *
s3_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* A shared file's text, NULL when it does not exist; -1 when it exists
 * and cannot be read. */
static int
s3_read_ini(const char *path, char **text, struct cwld_err *err)
{
	*text = NULL;
	if (path == NULL || access(path, F_OK) != 0)
		return 0;
	*text = fs_read_file(path, S3_INI_MAX, NULL, err);
	if (*text == NULL) {
		err_prefix(err, "s3");
		return -1;
	}
	return 0;
}

void
s3_resolved_release(struct s3_resolved *r)
{
	if (r == NULL)
		return;
	free(r->endpoint);
	free(r->region);
	free(r->access_key);
	free(r->secret_key);
	free(r->session_token);
	free(r->cred_source);
	memset(r, 0, sizeof *r);
}

/* Checks the endpoint: http or https, a host, nothing after the path. */
static int
s3_check_endpoint(const char *ep, struct cwld_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *q = NULL;
	int ret = -1;

	if (curl_url_set(u, CURLUPART_URL, ep, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err_set(err, CWLD_EXIT_USAGE, "s3: invalid endpoint '%s'", ep);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		err_set(err, CWLD_EXIT_USAGE,
		    "s3: endpoint '%s': want http:// or https://", ep);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK ||
	    strchr(ep, '#') != NULL) {
		err_set(err, CWLD_EXIT_USAGE,
		    "s3: endpoint '%s': no query or fragment allowed", ep);
		goto out;
	}
	ret = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(q);
	curl_url_cleanup(u);
	return ret;
}

int
s3_resolve(const struct s3_config *cfg, struct s3_resolved *out,
    struct cwld_err *err)
{
	const char *profile, *home, *v;
	char *cpath = NULL, *kpath = NULL, *ctext = NULL, *ktext = NULL;
	char *csection = NULL, *ak = NULL;
	int profile_asked, ret = -1;
	size_t n;

	memset(out, 0, sizeof *out);
	profile = cfg->profile;
	if (profile == NULL)
		profile = s3_env("AWS_PROFILE");
	profile_asked = profile != NULL;
	if (profile == NULL)
		profile = "default";
	home = s3_env("HOME");
	if (cfg->credentials_file != NULL) {
		if (access(cfg->credentials_file, R_OK) != 0) {
			err_set(err, CWLD_EXIT_USAGE, "s3: credentials file '%s': %s",
			    cfg->credentials_file, strerror(errno));
			goto out;
		}
		kpath = xstrdup(cfg->credentials_file);
	} else if ((v = s3_env("AWS_SHARED_CREDENTIALS_FILE")) != NULL)
		kpath = xstrdup(v);
	else if (home != NULL)
		kpath = xasprintf("%s/.aws/credentials", home);
	if ((v = s3_env("AWS_CONFIG_FILE")) != NULL)
		cpath = xstrdup(v);
	else if (home != NULL)
		cpath = xasprintf("%s/.aws/config", home);
	if (s3_read_ini(kpath, &ktext, err) != 0 ||
	    s3_read_ini(cpath, &ctext, err) != 0)
		goto out;
	csection = strcmp(profile, "default") == 0 ? xstrdup("default") :
	    xasprintf("profile %s", profile);

	/* credentials: the key, its secret and its token from one place */
	if (cfg->access_key != NULL) {
		if (cfg->secret_key == NULL) {
			err_set(err, CWLD_EXIT_USAGE,
			    "s3: an access key was given without its secret key");
			goto out;
		}
		out->access_key = xstrdup(cfg->access_key);
		out->secret_key = xstrdup(cfg->secret_key);
		if (cfg->session_token != NULL)
			out->session_token = xstrdup(cfg->session_token);
		out->cred_source = xstrdup("explicit");
	} else if (cfg->credentials_file != NULL) {
		out->access_key = ktext != NULL ?
		    s3_ini_get(ktext, profile, "aws_access_key_id") : NULL;
		out->secret_key = ktext != NULL ?
		    s3_ini_get(ktext, profile, "aws_secret_access_key") : NULL;
		if (out->access_key == NULL || out->secret_key == NULL) {
			err_set(err, CWLD_EXIT_USAGE, "s3: credentials file '%s': "
			    "profile '%s' has no aws_access_key_id and "
			    "aws_secret_access_key", cfg->credentials_file, profile);
			goto out;
		}
		out->session_token = s3_ini_get(ktext, profile, "aws_session_token");
		out->cred_source = xstrdup(cfg->credentials_file);
	} else if ((v = s3_env("AWS_ACCESS_KEY_ID")) != NULL) {
		if (s3_env("AWS_SECRET_ACCESS_KEY") == NULL) {
			err_set(err, CWLD_EXIT_USAGE, "s3: AWS_ACCESS_KEY_ID is "
			    "set but AWS_SECRET_ACCESS_KEY is not");
			goto out;
		}
		out->access_key = xstrdup(v);
		out->secret_key = xstrdup(s3_env("AWS_SECRET_ACCESS_KEY"));
		if ((v = s3_env("AWS_SESSION_TOKEN")) != NULL)
			out->session_token = xstrdup(v);
		out->cred_source = xstrdup("environment");
	} else {
		const char *text = NULL, *path = NULL, *sect = NULL;

		if (ktext != NULL &&
		    (ak = s3_ini_get(ktext, profile, "aws_access_key_id")) != NULL) {
			text = ktext;
			path = kpath;
			sect = profile;
		} else if (ctext != NULL && (ak = s3_ini_get(ctext, csection,
		    "aws_access_key_id")) != NULL) {
			text = ctext;
			path = cpath;
			sect = csection;
		}
		if (text != NULL) {
			out->access_key = ak;
			ak = NULL;
			out->secret_key = s3_ini_get(text, sect,
			    "aws_secret_access_key");
			if (out->secret_key == NULL) {
				err_set(err, CWLD_EXIT_USAGE, "s3: %s: profile "
				    "'%s' has aws_access_key_id but no "
				    "aws_secret_access_key", path, profile);
				goto out;
			}
			out->session_token = s3_ini_get(text, sect,
			    "aws_session_token");
			out->cred_source = xstrdup(path);
		} else {
			out->cred_source = xstrdup("none");
		}
	}
	if (profile_asked && strcmp(out->cred_source, "none") == 0 &&
	    !(ctext != NULL && strstr(ctext, csection) != NULL)) {
		err_set(err, CWLD_EXIT_USAGE, "s3: profile '%s' not found in "
		    "%s or %s", profile, kpath != NULL ? kpath : "(no HOME)",
		    cpath != NULL ? cpath : "(no HOME)");
		goto out;
	}

	if (cfg->region != NULL)
		out->region = xstrdup(cfg->region);
	else if ((v = s3_env("AWS_REGION")) != NULL ||
	    (v = s3_env("AWS_DEFAULT_REGION")) != NULL)
		out->region = xstrdup(v);
	else if (ctext == NULL ||
	    (out->region = s3_ini_get(ctext, csection, "region")) == NULL)
		out->region = xstrdup("us-east-1");
	n = strlen(out->region);
	if (n == 0 || n > 64 || strspn(out->region,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") != n) {
		err_set(err, CWLD_EXIT_USAGE, "s3: invalid region '%s'",
		    out->region);
		goto out;
	}

	out->endpoint_given = 1;
	if (cfg->endpoint != NULL)
		out->endpoint = xstrdup(cfg->endpoint);
	else if ((v = s3_env("AWS_ENDPOINT_URL_S3")) != NULL ||
	    (v = s3_env("AWS_ENDPOINT_URL")) != NULL)
		out->endpoint = xstrdup(v);
	else if (ctext == NULL || (out->endpoint = s3_ini_get(ctext, csection,
	    "endpoint_url")) == NULL) {
		out->endpoint = xasprintf("https://s3.%s.amazonaws.com",
		    out->region);
		out->endpoint_given = 0;
	}
	n = strlen(out->endpoint);
	while (n > 0 && out->endpoint[n - 1] == '/')
		out->endpoint[--n] = '\0';
	if (s3_check_endpoint(out->endpoint, err) != 0)
		goto out;

	if (cfg->addressing == S3_ADDR_PATH || cfg->addressing == S3_ADDR_VHOST)
		out->path_style = cfg->addressing;
	else
		out->path_style = out->endpoint_given ? S3_ADDR_PATH :
		    S3_ADDR_VHOST;
	ret = 0;
out:
	if (ret != 0)
		s3_resolved_release(out);
	free(cpath);
	free(kpath);
	free(ctext);
	free(ktext);
	free(csection);
	free(ak);
	return ret;
}

/* --- the client -------------------------------------------------------- */

struct s3 *
s3_new(struct event_base *base, const struct s3_config *cfg,
    struct cwld_err *err)
{
	struct s3 *s3 = xcalloc(1, sizeof *s3);
	CURLU *u = NULL;
	char *path = NULL;
	size_t n;

	s3->base = base;
	TAILQ_INIT(&s3->ops);
	if (s3_resolve(cfg, &s3->rs, err) != 0)
		goto fail;
	s3->threshold = cfg->multipart_threshold > 0 ?
	    cfg->multipart_threshold : S3_DEFAULT_THRESHOLD;
	s3->part_size = cfg->part_size > 0 ? cfg->part_size : S3_DEFAULT_PART;
	if (s3->part_size < S3_MIN_PART)
		s3->part_size = S3_MIN_PART;
	s3->concurrency = cfg->part_concurrency > 0 ? cfg->part_concurrency : 4;
	s3->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 5;
	s3->retry_base_ms = cfg->retry_base_ms > 0 ? cfg->retry_base_ms : 200;
	if (s3->rs.access_key != NULL) {
		s3->sigv4 = xasprintf("aws:amz:%s:s3", s3->rs.region);
		s3->userpwd = xasprintf("%s:%s", s3->rs.access_key,
		    s3->rs.secret_key);
		if (s3->rs.session_token != NULL)
			s3->token_hdr = xasprintf("x-amz-security-token: %s",
			    s3->rs.session_token);
	}
	u = curl_url();
	if (curl_url_set(u, CURLUPART_URL, s3->rs.endpoint, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s3->scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &s3->host, 0) != CURLUE_OK) {
		err_set(err, CWLD_EXIT_USAGE, "s3: invalid endpoint '%s'",
		    s3->rs.endpoint);
		goto fail;
	}
	if (curl_url_get(u, CURLUPART_PORT, &s3->port, 0) != CURLUE_OK)
		s3->port = NULL;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	s3->basepath = xstrdup(path != NULL ? path : "");
	n = strlen(s3->basepath);
	while (n > 0 && s3->basepath[n - 1] == '/')
		s3->basepath[--n] = '\0';
	curl_free(path);
	curl_url_cleanup(u);
	u = NULL;
	s3->http = http_new(base, NULL, err);
	if (s3->http == NULL)
		goto fail;
	return s3;
fail:
	curl_url_cleanup(u);
	s3_free(s3);
	return NULL;
}

const struct s3_resolved *
s3_settings(const struct s3 *s3)
{
	return &s3->rs;
}

static void s3_op_free(struct s3_op *op);
static void s3_op_stop(struct s3_op *op);

int
s3_pending(const struct s3 *s3)
{
	const struct s3_op *op;
	int n = 0;

	TAILQ_FOREACH(op, &s3->ops, entry)
		n++;
	return n;
}

void
s3_free(struct s3 *s3)
{
	struct s3_op *op;

	if (s3 == NULL)
		return;
	s3->closing = 1;
	while ((op = TAILQ_FIRST(&s3->ops)) != NULL) {
		TAILQ_REMOVE(&s3->ops, op, entry);
		s3_op_stop(op);
		s3_op_free(op);
	}
	http_free(s3->http);
	s3_resolved_release(&s3->rs);
	free(s3->sigv4);
	free(s3->userpwd);
	free(s3->token_hdr);
	curl_free(s3->scheme);
	curl_free(s3->host);
	curl_free(s3->port);
	free(s3->basepath);
	free(s3);
}

/* A bucket name usable as a DNS label under the endpoint's host. */
static int
s3_vhost_ok(const char *bucket, const char *scheme)
{
	const char *p;

	for (p = bucket; *p != '\0'; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		    *p == '-' || (*p == '.' && strcmp(scheme, "http") == 0)))
			return 0;
	return 1;
}

/* New string: the URL of bucket/key (key may be "": the bucket) with an
 * encoded query (may be ""). */
static char *
s3_url(struct s3 *s3, const char *bucket, const char *key, const char *query)
{
	char *ekey = s3_uri_encode(key, 1), *ebucket, *url;
	const char *q = *query != '\0' ? "?" : "";

	if (s3->rs.path_style == S3_ADDR_VHOST &&
	    s3_vhost_ok(bucket, s3->scheme)) {
		url = xasprintf("%s://%s.%s%s%s%s/%s%s%s", s3->scheme, bucket,
		    s3->host, s3->port != NULL ? ":" : "",
		    s3->port != NULL ? s3->port : "", s3->basepath, ekey, q,
		    query);
	} else {
		ebucket = s3_uri_encode(bucket, 0);
		url = xasprintf("%s/%s%s%s%s%s", s3->rs.endpoint, ebucket,
		    *key != '\0' ? "/" : "", ekey, q, query);
		free(ebucket);
	}
	free(ekey);
	return url;
}

/* --- operations: common ------------------------------------------------ */

static struct s3_op *
s3_op_new(struct s3 *s3, enum s3_kind kind, const char *name,
    const char *bucket, const char *key, s3_cb cb, void *arg)
{
	struct s3_op *op = xcalloc(1, sizeof *op);

	op->s3 = s3;
	op->kind = kind;
	op->name = name;
	op->bucket = xstrdup(bucket);
	op->key = xstrdup(key != NULL ? key : "");
	op->uri = s3_uri_make(bucket, op->key);
	op->cb = cb;
	op->arg = arg;
	op->fd = -1;
	op->req.op = op;
	op->r_size = -1;
	return op;
}

static void
s3_slot_release(struct s3_slot *sl)
{
	if (sl->xfer != NULL)
		http_cancel(sl->xfer);
	sl->xfer = NULL;
	if (sl->retry != NULL)
		event_free(sl->retry);
	sl->retry = NULL;
	free(sl->etag);
	sl->etag = NULL;
	free(sl->start_err);
	sl->start_err = NULL;
	free(sl->first_err);
	sl->first_err = NULL;
}

/* Stops every request of op (no callbacks) and removes a temporary file. */
static void
s3_op_stop(struct s3_op *op)
{
	int i;

	s3_slot_release(&op->req);
	for (i = 0; op->parts != NULL && i < op->nparts; i++)
		s3_slot_release(&op->parts[i]);
	if (op->fd != -1)
		close(op->fd);
	op->fd = -1;
	if (op->tmp != NULL && unlink(op->tmp) != 0 && errno != ENOENT)
		log_warn("s3: remove '%s'", op->tmp);
	free(op->tmp);
	op->tmp = NULL;
}

static void
s3_op_free(struct s3_op *op)
{
	if (op == NULL)
		return;
	s3_op_stop(op);
	free(op->parts);
	free(op->bucket);
	free(op->key);
	free(op->uri);
	free(op->path);
	EVP_MD_CTX_free(op->md);
	free(op->want_sum);
	free(op->resume_etag);
	free(op->range_err);
	free(op->payload_hash);
	free(op->upload_id);
	free(op->prefix);
	free(op->delimiter);
	free(op->token);
	free(op->r_etag);
	free(op->r_sum);
	free(op->e_msg);
	free(op->e_code);
	free(op);
}

/* Ends op: its callback, then it is gone. */
static void
s3_op_finish(struct s3_op *op)
{
	struct s3_result r;

	TAILQ_REMOVE(&op->s3->ops, op, entry);
	s3_op_stop(op);
	memset(&r, 0, sizeof r);
	r.error = op->e_msg;
	r.code = op->e_code != NULL ? op->e_code : "";
	r.status = op->e_status;
	r.size = op->r_size;
	r.etag = op->r_etag != NULL ? op->r_etag : "";
	r.checksum_sha256 = op->r_sum != NULL ? op->r_sum : "";
	r.parts = op->nparts;
	r.attempts = op->attempts;
	if (op->cb != NULL)
		op->cb(op->arg, &r);
	s3_op_free(op);
}

/* Records the first error of op: "s3: GET s3://b/k: " and the detail. */
static void
s3_op_fail(struct s3_op *op, const char *fmt, ...)
{
	char detail[768];
	va_list ap;

	if (op->e_msg != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	op->e_msg = xasprintf("s3: %s %s: %s", op->name, op->uri, detail);
}

/* S3's <Code> and <Message> of an error answer, or what the status and
 * curl say; "" prefix or e.g. "part 3: ". Sets op's error. */
static void
s3_op_fail_res(struct s3_op *op, const struct s3_slot *sl, const char *what,
    const struct http_response *res)
{
	char *code = NULL, *msg = NULL, *region = NULL, more[384] = "";

	op->e_status = res->status;
	if (sl->attempt > 1 && sl->first_err != NULL &&
	    (res->status != 0 || strcmp(sl->first_err, res->error) != 0))
		/* the first failure says more (a transfer cut short) than the
		 * last (the server gone) */
		snprintf(more, sizeof more, " (after %d attempts; the first: "
		    "%s)", sl->attempt, sl->first_err);
	else if (sl->attempt > 1)
		snprintf(more, sizeof more, " (after %d attempts)", sl->attempt);
	if (res->status == 0) {
		s3_op_fail(op, "%s%s%s", what, res->error, more);
		goto out;
	}
	if (res->len > 0) {
		code = s3_xml_text(res->body, res->len, "Code");
		msg = s3_xml_text(res->body, res->len, "Message");
	}
	if (code != NULL) {
		/* a bucket of another region: say which, S3 tells */
		if (strcmp(code, "PermanentRedirect") == 0 ||
		    strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
		    strcmp(code, "IllegalLocationConstraintException") == 0)
			region = http_header_get(res->headers,
			    "x-amz-bucket-region");
		s3_op_fail(op, "%s%s: %s%s%s%s%s", what, code,
		    msg != NULL ? msg : "(no message)",
		    region != NULL ? " (the bucket is in region '" : "",
		    region != NULL ? region : "", region != NULL ? "')" : "",
		    more);
		free(op->e_code);
		op->e_code = code;
		code = NULL;
		goto out;
	}
	/* a HEAD answer has no body: say what its status means */
	free(op->e_code);
	switch (res->status) {
	case 404:
		op->e_code = xstrdup("NotFound");
		s3_op_fail(op, "%sNotFound: no such bucket or key (HTTP 404)%s",
		    what, more);
		break;
	case 403:
		op->e_code = xstrdup("Forbidden");
		s3_op_fail(op, "%sForbidden: access denied: wrong credentials "
		    "or no permission (HTTP 403)%s", what, more);
		break;
	case 301:
		region = http_header_get(res->headers, "x-amz-bucket-region");
		op->e_code = xstrdup("PermanentRedirect");
		s3_op_fail(op, "%sPermanentRedirect: the bucket is in region "
		    "'%s', not '%s' (HTTP 301)", what,
		    region != NULL ? region : "?", op->s3->rs.region);
		break;
	default:
		op->e_code = xstrdup("");
		s3_op_fail(op, "%sHTTP %ld%s", what, res->status, more);
		break;
	}
out:
	free(code);
	free(msg);
	free(region);
}

/* Whether a failed request is worth sending again: no answer (connection
 * refused, reset, cut short, timed out) or one S3 says is passing. */
static int
s3_retryable(const struct s3_op *op, const struct http_response *res)
{
	char *code;
	int r;

	if (op->io_errno != 0)
		return 0;
	if (res->status == 0 || res->status >= 500 || res->status == 429)
		return 1;
	if (res->status != 400 || res->len == 0)
		return 0;
	code = s3_xml_text(res->body, res->len, "Code");
	r = code != NULL && (strcmp(code, "RequestTimeout") == 0 ||
	    strcmp(code, "SlowDown") == 0);
	free(code);
	return r;
}

static void
s3_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct s3_slot *sl = arg;
	struct http_response res;
	char *msg;

	(void)fd;
	(void)what;
	if (sl->start_err != NULL) {
		/* as if the request had failed without an answer */
		msg = sl->start_err;
		sl->start_err = NULL;
		memset(&res, 0, sizeof res);
		res.body = "";
		res.headers = "";
		res.error = msg;
		sl->done(sl, &res);
		free(msg);
		return;
	}
	s3_slot_send(sl);
}

/* (Re)sends sl's request from the loop; when it cannot even start, the
 * failure reaches its handler from a timer, like any failed request, so
 * that no caller up the stack sees op vanish. */
static void
s3_slot_send(struct s3_slot *sl)
{
	struct cwld_err err = { 0, "" };
	struct timeval tv = { 0, 0 };

	if (s3_slot_start(sl, &err) == 0)
		return;
	if (sl->retry == NULL)
		sl->retry = evtimer_new(sl->op->s3->base, s3_retry_cb, sl);
	if (sl->retry == NULL)
		fatalx("s3: cannot create a timer");
	free(sl->start_err);
	sl->start_err = xstrdup(err.msg);
	evtimer_add(sl->retry, &tv);
}

/* Schedules sl again after a backoff when it has attempts left: 1, else 0. */
static int
s3_slot_retry(struct s3_slot *sl, const struct http_response *res)
{
	struct s3_op *op = sl->op;
	struct timeval tv;
	unsigned int jitter = 0;
	long ms;
	int i;

	if (!s3_retryable(op, res) || sl->attempt >= op->s3->max_attempts)
		return 0;
	if (sl->attempt == 1) {
		free(sl->first_err);
		sl->first_err = res->status == 0 ? xstrdup(res->error) :
		    xasprintf("HTTP %ld", res->status);
	}
	ms = op->s3->retry_base_ms;
	for (i = 1; i < sl->attempt && ms < S3_MAX_BACKOFF_MS; i++)
		ms *= 2;
	if (ms > S3_MAX_BACKOFF_MS)
		ms = S3_MAX_BACKOFF_MS;
	/* up to a quarter more, so parts that failed together spread out */
	evutil_secure_rng_get_bytes(&jitter, sizeof jitter);
	ms += (long)(jitter % (unsigned int)(ms / 4 + 1));
	if (sl->retry == NULL)
		sl->retry = evtimer_new(op->s3->base, s3_retry_cb, sl);
	if (sl->retry == NULL)
		return 0;
	log_warnx("s3: %s %s%s: %s; trying again in %ld ms (attempt %d of %d)",
	    op->name, op->uri, sl->part > 0 ? " (a part)" : "",
	    res->status == 0 ? res->error : "server error", ms,
	    sl->attempt + 1, op->s3->max_attempts);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(sl->retry, &tv);
	return 1;
}

static long s3_put_read(void *arg, char *buf, size_t size);
static int s3_get_data(void *arg, const char *data, size_t len);
static void s3_get_headers(void *arg, long status, const char *headers);
static void s3_put_headers(void *arg, long status, const char *headers);

/* Starts one request for sl; http_request_ex() failing is a failure of the
 * request like any other (reported through the same path). */
static struct http_xfer *
s3_send(struct s3_slot *sl, const char *method, const char *key,
    const char *query, const char *body, size_t body_len,
    const char *content_type, const char *payload_hash, int streamed,
    http_cb cb, struct cwld_err *err)
{
	struct s3_op *op = sl->op;
	struct s3 *s3 = op->s3;
	struct http_req req;
	const char *hdrs[6];
	char *sha = NULL, *url, *range = NULL, *ifmatch = NULL;
	struct http_xfer *x;
	int n = 0;

	sha = xasprintf("x-amz-content-sha256: %s", payload_hash);
	if (s3->sigv4 != NULL)
		hdrs[n++] = sha;
	if (s3->token_hdr != NULL)
		hdrs[n++] = s3->token_hdr;
	if (op->kind == S3_GET || op->kind == S3_HEAD)
		hdrs[n++] = "x-amz-checksum-mode: ENABLED";
	if (op->kind == S3_GET && op->resume_from > 0) {
		range = xasprintf("Range: bytes=%" PRId64 "-", op->resume_from);
		ifmatch = xasprintf("If-Match: %s", op->resume_etag);
		hdrs[n++] = range;
		hdrs[n++] = ifmatch;
	}
	hdrs[n] = NULL;
	url = s3_url(s3, op->bucket, key, query);

	memset(&req, 0, sizeof req);
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body_len;
	req.content_type = content_type;
	req.headers = hdrs;
	req.userpwd = s3->userpwd;
	req.aws_sigv4 = s3->sigv4;
	req.path_as_is = 1;
	req.low_speed_time_s = S3_STALL_S;
	req.max_body = op->kind == S3_LIST ? S3_LIST_BODY : S3_ERROR_BODY;
	req.data_arg = sl;
	if (streamed) {
		req.body = NULL;
		req.read_body = s3_put_read;
		req.body_size = sl->len;
	}
	if (op->kind == S3_GET) {
		req.on_data = s3_get_data;
		req.on_headers = s3_get_headers;
	} else if (op->kind == S3_PUT) {
		req.on_headers = s3_put_headers;
	}
	sl->done = cb;
	sl->attempt++;
	op->attempts++;
	sl->status = 0;
	x = http_request_ex(s3->http, &req, cb, sl, err);
	if (x == NULL)
		err_prefix(err, "s3: %s %s", op->name, op->uri);
	free(url);
	free(sha);
	free(range);
	free(ifmatch);
	return x;
}

/* --- HEAD ---------------------------------------------------------------- */

/* Size, ETag and checksum from a response's headers into op's result. */
static void
s3_take_headers(struct s3_op *op, const char *headers)
{
	char *v;

	free(op->r_etag);
	op->r_etag = http_header_get(headers, "etag");
	free(op->r_sum);
	op->r_sum = http_header_get(headers, "x-amz-checksum-sha256");
	if ((v = http_header_get(headers, "content-length")) != NULL) {
		op->r_size = strtoll(v, NULL, 10);
		free(v);
	}
}

static void
s3_head_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;

	sl->xfer = NULL;
	if (res->status >= 200 && res->status < 300) {
		s3_take_headers(op, res->headers);
		op->e_status = res->status;
	} else {
		if (s3_slot_retry(sl, res))
			return;
		s3_op_fail_res(op, sl, "", res);
	}
	s3_op_finish(op);
}

/* --- GET ----------------------------------------------------------------- */

static void
s3_get_headers(void *arg, long status, const char *headers)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	char *v;

	sl->status = status;
	if (status < 200 || status >= 300)
		return;
	if (op->resume_from > 0 && status == 206) {
		/* the rest of the same object: "bytes FIRST-LAST/TOTAL" */
		long long first = -1, last = -1, total = -1;

		v = http_header_get(headers, "content-range");
		if (v == NULL || sscanf(v, "bytes %lld-%lld/%lld", &first, &last,
		    &total) != 3 || first != op->resume_from || total <= last) {
			free(op->range_err);
			op->range_err = xasprintf("asked for the bytes from %"
			    PRId64 " on, got Content-Range '%s'",
			    op->resume_from, v != NULL ? v : "");
		}
		free(v);
		op->expect = total;
		return;
	}
	if (op->resume_from > 0) {
		/* the whole object again (the server ignored Range) */
		if (ftruncate(op->fd, 0) != 0 || lseek(op->fd, 0, SEEK_SET) != 0)
			op->io_errno = errno;
		op->got = 0;
		op->resume_from = 0;
	}
	op->expect = -1;
	if ((v = http_header_get(headers, "content-length")) != NULL) {
		op->expect = strtoll(v, NULL, 10);
		free(v);
	}
	free(op->r_etag);
	op->r_etag = http_header_get(headers, "etag");
	free(op->want_sum);
	op->want_sum = http_header_get(headers, "x-amz-checksum-sha256");
	/* a checksum of parts ("...-3") is not the whole object's */
	if (op->want_sum != NULL && strchr(op->want_sum, '-') != NULL) {
		free(op->want_sum);
		op->want_sum = NULL;
	}
	if (op->want_sum != NULL) {
		if (op->md == NULL)
			op->md = EVP_MD_CTX_new();
		if (op->md == NULL ||
		    EVP_DigestInit_ex(op->md, EVP_sha256(), NULL) != 1) {
			free(op->want_sum);
			op->want_sum = NULL;
		}
	}
}

static int
s3_get_data(void *arg, const char *data, size_t len)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	size_t off = 0;
	ssize_t n;

	if (op->io_errno != 0 || op->range_err != NULL)
		return -1;
	while (off < len) {
		n = write(op->fd, data + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			op->io_errno = errno;
			return -1;
		}
		off += (size_t)n;
	}
	if (op->want_sum != NULL && EVP_DigestUpdate(op->md, data, len) != 1) {
		op->io_errno = EIO;
		return -1;
	}
	op->got += (int64_t)len;
	return 0;
}

/* Where a retried GET starts: after the bytes already written when the
 * object is known by its ETag (the rest is asked for with Range and
 * If-Match), else from the first byte again. */
static void
s3_get_resume_point(struct s3_op *op)
{
	if (op->got > 0 && op->r_etag != NULL && *op->r_etag != '\0') {
		op->resume_from = op->got;
		free(op->resume_etag);
		op->resume_etag = xstrdup(op->r_etag);
		return;
	}
	op->resume_from = 0;
	op->got = 0;
	if (ftruncate(op->fd, 0) != 0 || lseek(op->fd, 0, SEEK_SET) != 0)
		op->io_errno = errno;
	if (op->want_sum != NULL && op->md != NULL)
		EVP_DigestInit_ex(op->md, EVP_sha256(), NULL);
}

static void
s3_get_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	unsigned char md[EVP_MAX_MD_SIZE];
	char b64[EVP_MAX_MD_SIZE * 2];
	unsigned int mdlen = 0;

	sl->xfer = NULL;
	op->e_status = res->status;
	if (op->io_errno != 0) {
		s3_op_fail(op, "write '%s': %s", op->tmp, strerror(op->io_errno));
		goto out;
	}
	if (op->range_err != NULL) {
		s3_op_fail(op, "%s", op->range_err);
		goto out;
	}
	if (res->status == 412 && op->resume_from > 0) {
		s3_op_fail(op, "the object changed while it was downloaded "
		    "(ETag no longer %s)", op->resume_etag);
		goto out;
	}
	if (res->status < 200 || res->status >= 300) {
		/* such an answer wrote nothing: what earlier attempts
		 * wrote stays, and the next asks for the rest */
		if (s3_slot_retry(sl, res)) {
			s3_get_resume_point(op);
			return;
		}
		s3_op_fail_res(op, sl, "", res);
		goto out;
	}
	if (op->expect >= 0 && op->got != op->expect) {
		s3_op_fail(op, "received %" PRId64 " bytes, the server "
		    "announced %" PRId64, op->got, op->expect);
		goto out;
	}
	if (op->want_sum != NULL) {
		if (EVP_DigestFinal_ex(op->md, md, &mdlen) != 1) {
			s3_op_fail(op, "cannot compute SHA-256");
			goto out;
		}
		EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
		if (strcmp(b64, op->want_sum) != 0) {
			s3_op_fail(op, "SHA-256 of the data is %s, the object's "
			    "x-amz-checksum-sha256 is %s", b64, op->want_sum);
			goto out;
		}
		op->r_sum = xstrdup(op->want_sum);
	}
	if (close(op->fd) != 0) {
		op->fd = -1;
		s3_op_fail(op, "write '%s': %s", op->tmp, strerror(errno));
		goto out;
	}
	op->fd = -1;
	if (rename(op->tmp, op->path) != 0) {
		s3_op_fail(op, "rename '%s' to '%s': %s", op->tmp, op->path,
		    strerror(errno));
		goto out;
	}
	free(op->tmp);
	op->tmp = NULL;
	op->r_size = op->got;
out:
	s3_op_finish(op);
}

/* --- PUT, single and multipart -------------------------------------------- */

static long
s3_put_read(void *arg, char *buf, size_t size)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	int64_t left = sl->len - sl->sent;
	ssize_t n;

	if (left <= 0)
		return 0;
	if ((int64_t)size > left)
		size = (size_t)left;
	if (size > LONG_MAX)
		size = LONG_MAX;
	do
		n = pread(op->fd, buf, size, (off_t)(sl->off + sl->sent));
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		op->io_errno = errno;
		return -1;
	}
	if (n == 0) {
		/* the file got shorter while it was sent */
		op->io_errno = ENODATA;
		return -1;
	}
	sl->sent += n;
	return (long)n;
}

static void
s3_put_headers(void *arg, long status, const char *headers)
{
	struct s3_slot *sl = arg;

	sl->status = status;
	if (status >= 200 && status < 300) {
		free(sl->etag);
		sl->etag = http_header_get(headers, "etag");
	}
}

static void s3_mp_next(struct s3_op *op);
static void s3_mp_abort(struct s3_op *op);

/* The message for a failed read of the source file. */
static void
s3_put_io_fail(struct s3_op *op, const char *what)
{
	if (op->io_errno == ENODATA)
		s3_op_fail(op, "%s'%s' got shorter while it was sent", what,
		    op->path);
	else
		s3_op_fail(op, "%sread '%s': %s", what, op->path,
		    strerror(op->io_errno));
}

static void
s3_put_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;

	sl->xfer = NULL;
	op->e_status = res->status;
	if (op->io_errno != 0) {
		s3_put_io_fail(op, "");
	} else if (res->status >= 200 && res->status < 300) {
		op->r_etag = sl->etag != NULL ? xstrdup(sl->etag) : NULL;
		op->r_size = op->size;
	} else {
		if (s3_slot_retry(sl, res)) {
			sl->sent = 0;
			return;
		}
		s3_op_fail_res(op, sl, "", res);
	}
	s3_op_finish(op);
}

static void s3_mp_create_done(void *arg, const struct http_response *res);
static void s3_mp_part_done(void *arg, const struct http_response *res);
static void s3_mp_complete_done(void *arg, const struct http_response *res);
static void s3_mp_abort_done(void *arg, const struct http_response *res);
static void s3_list_done(void *arg, const struct http_response *res);

/* The CompleteMultipartUpload body: every part's number and ETag. */
static char *
s3_mp_body(struct s3_op *op)
{
	size_t cap = 128 + (size_t)op->nparts * 96, len = 0;
	char *b = xmalloc(cap), *e;
	int i, w;

	w = snprintf(b, cap, "<CompleteMultipartUpload xmlns="
	    "\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	len = (size_t)w;
	for (i = 0; i < op->nparts; i++) {
		e = s3_xml_escape(op->parts[i].etag);
		while (len + strlen(e) + 96 > cap) {
			cap *= 2;
			b = xreallocarray(b, cap, 1);
		}
		w = snprintf(b + len, cap - len, "<Part><PartNumber>%d"
		    "</PartNumber><ETag>%s</ETag></Part>", i + 1, e);
		len += (size_t)w;
		free(e);
	}
	snprintf(b + len, cap - len, "</CompleteMultipartUpload>");
	return b;
}

static void
s3_sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
	out[64] = '\0';
}

/* Starts sl's request, whatever stage its operation is in; 0, or -1 with
 * err when it cannot be started (then nothing else happened). */
static int
s3_slot_start(struct s3_slot *sl, struct cwld_err *err)
{
	struct s3_op *op = sl->op;
	struct s3_param qp[5];
	char *query = NULL, *body = NULL, num[16], mx[16], hash[65];
	int nq = 0;

	switch (op->kind) {
	case S3_HEAD:
		query = xstrdup("");
		sl->xfer = s3_send(sl, "HEAD", op->key, query, NULL, 0, NULL,
		    S3_EMPTY_SHA256, 0, s3_head_done, err);
		break;
	case S3_GET:
		query = xstrdup("");
		op->expect = -1;
		sl->xfer = s3_send(sl, "GET", op->key, query, NULL, 0, NULL,
		    S3_EMPTY_SHA256, 0, s3_get_done, err);
		break;
	case S3_LIST:
		qp[nq++] = (struct s3_param){ "list-type", "2" };
		if (op->prefix != NULL && *op->prefix != '\0')
			qp[nq++] = (struct s3_param){ "prefix", op->prefix };
		if (op->delimiter != NULL && *op->delimiter != '\0')
			qp[nq++] = (struct s3_param){ "delimiter", op->delimiter };
		if (op->max_keys > 0) {
			snprintf(mx, sizeof mx, "%d", op->max_keys);
			qp[nq++] = (struct s3_param){ "max-keys", mx };
		}
		if (op->token != NULL)
			qp[nq++] = (struct s3_param){ "continuation-token",
			    op->token };
		query = s3_query(qp, (size_t)nq);
		sl->xfer = s3_send(sl, "GET", "", query, NULL, 0, NULL,
		    S3_EMPTY_SHA256, 0, s3_list_done, err);
		break;
	case S3_PUT:
	case S3_ABORT:
		sl->sent = 0;
		if (op->stage == S3_ST_SINGLE && op->size == 0) {
			query = xstrdup("");
			sl->xfer = s3_send(sl, "PUT", op->key, query, "", 0,
			    "application/octet-stream", S3_EMPTY_SHA256, 0,
			    s3_put_done, err);
		} else if (op->stage == S3_ST_SINGLE) {
			query = xstrdup("");
			sl->xfer = s3_send(sl, "PUT", op->key, query, NULL, 0,
			    "application/octet-stream", op->payload_hash != NULL ?
			    op->payload_hash : "UNSIGNED-PAYLOAD", 1,
			    s3_put_done, err);
		} else if (op->stage == S3_ST_CREATE) {
			qp[nq++] = (struct s3_param){ "uploads", NULL };
			query = s3_query(qp, (size_t)nq);
			sl->xfer = s3_send(sl, "POST", op->key, query, NULL, 0,
			    "application/octet-stream", S3_EMPTY_SHA256, 0,
			    s3_mp_create_done, err);
		} else if (op->stage == S3_ST_PARTS) {
			snprintf(num, sizeof num, "%d", sl->part);
			qp[nq++] = (struct s3_param){ "partNumber", num };
			qp[nq++] = (struct s3_param){ "uploadId", op->upload_id };
			query = s3_query(qp, (size_t)nq);
			sl->xfer = s3_send(sl, "PUT", op->key, query, NULL, 0,
			    "application/octet-stream", "UNSIGNED-PAYLOAD", 1,
			    s3_mp_part_done, err);
		} else if (op->stage == S3_ST_COMPLETE) {
			qp[nq++] = (struct s3_param){ "uploadId", op->upload_id };
			query = s3_query(qp, (size_t)nq);
			body = s3_mp_body(op);
			s3_sha256_hex(body, strlen(body), hash);
			sl->xfer = s3_send(sl, "POST", op->key, query, body,
			    strlen(body), "application/xml", hash, 0,
			    s3_mp_complete_done, err);
		} else {
			qp[nq++] = (struct s3_param){ "uploadId", op->upload_id };
			query = s3_query(qp, (size_t)nq);
			sl->xfer = s3_send(sl, "DELETE", op->key, query, NULL, 0,
			    NULL, S3_EMPTY_SHA256, 0, s3_mp_abort_done, err);
		}
		break;
	}
	free(query);
	free(body);
	return sl->xfer != NULL ? 0 : -1;
}

static void
s3_mp_create_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	int64_t off;
	int i;

	sl->xfer = NULL;
	op->e_status = res->status;
	if (res->status < 200 || res->status >= 300) {
		if (s3_slot_retry(sl, res))
			return;
		s3_op_fail_res(op, sl, "CreateMultipartUpload: ", res);
		s3_op_finish(op);
		return;
	}
	op->upload_id = s3_xml_text(res->body, res->len, "UploadId");
	if (op->upload_id == NULL || *op->upload_id == '\0') {
		s3_op_fail(op, "CreateMultipartUpload: no UploadId in the "
		    "answer");
		s3_op_finish(op);
		return;
	}
	if (op->cancelled) {
		op->stage = S3_ST_ABORT;
		op->aborting = 1;
		op->req.attempt = 0;
		s3_slot_send(&op->req);
		return;
	}
	op->parts = xcalloc((size_t)op->nparts, sizeof *op->parts);
	for (i = 0, off = 0; i < op->nparts; i++, off += op->part_size) {
		op->parts[i].op = op;
		op->parts[i].part = i + 1;
		op->parts[i].off = off;
		op->parts[i].len = op->size - off < op->part_size ?
		    op->size - off : op->part_size;
	}
	op->stage = S3_ST_PARTS;
	s3_mp_next(op);
}

/* Starts parts while there is room, Complete once all are in. */
static void
s3_mp_next(struct s3_op *op)
{
	struct s3_slot *sl;

	if (op->done_parts == op->nparts) {
		op->stage = S3_ST_COMPLETE;
		op->req.attempt = 0;
		s3_slot_send(&op->req);
		return;
	}
	while (op->e_msg == NULL && op->next_part < op->nparts &&
	    op->inflight < op->s3->concurrency) {
		sl = &op->parts[op->next_part++];
		op->inflight++;
		s3_slot_send(sl);
	}
}

/* Cancels the parts still in flight and asks the server to drop the
 * upload; op ends with its first error when the abort is answered. */
static void
s3_mp_abort(struct s3_op *op)
{
	int i;

	for (i = 0; i < op->nparts; i++)
		s3_slot_release(&op->parts[i]);
	op->inflight = 0;
	op->aborting = 1;
	op->stage = S3_ST_ABORT;
	s3_slot_release(&op->req);
	op->req.attempt = 0;
	s3_slot_send(&op->req);
}

static void
s3_mp_part_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	char what[32];

	sl->xfer = NULL;
	op->inflight--;
	snprintf(what, sizeof what, "part %d: ", sl->part);
	if (op->io_errno != 0) {
		s3_put_io_fail(op, what);
		s3_mp_abort(op);
		return;
	}
	if (res->status < 200 || res->status >= 300) {
		if (s3_slot_retry(sl, res)) {
			op->inflight++;
			return;
		}
		op->e_status = res->status;
		s3_op_fail_res(op, sl, what, res);
		s3_mp_abort(op);
		return;
	}
	if (sl->etag == NULL || *sl->etag == '\0') {
		s3_op_fail(op, "%sno ETag in the answer", what);
		s3_mp_abort(op);
		return;
	}
	if (sl->retry != NULL) {
		event_free(sl->retry);
		sl->retry = NULL;
	}
	op->done_parts++;
	s3_mp_next(op);
}

static void
s3_mp_complete_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	struct http_response again;
	char *etag = NULL;

	sl->xfer = NULL;
	op->e_status = res->status;
	/* S3 may answer 200 and then an <Error> in the body */
	if (res->status >= 200 && res->status < 300 && res->len > 0 &&
	    (etag = s3_xml_text(res->body, res->len, "ETag")) == NULL) {
		again = *res;
		again.status = 500;
		if (s3_slot_retry(sl, &again))
			return;
		s3_op_fail_res(op, sl, "CompleteMultipartUpload: ", &again);
		s3_mp_abort(op);
		return;
	}
	if (res->status < 200 || res->status >= 300) {
		if (s3_slot_retry(sl, res))
			return;
		s3_op_fail_res(op, sl, "CompleteMultipartUpload: ", res);
		s3_mp_abort(op);
		return;
	}
	op->r_etag = etag;
	op->r_size = op->size;
	s3_op_finish(op);
}

static void
s3_mp_abort_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	char *msg;

	sl->xfer = NULL;
	if (res->status < 200 || res->status >= 300) {
		if (s3_slot_retry(sl, res))
			return;
		if (op->cb == NULL)
			/* the abort of a cancelled upload: nobody to tell */
			log_warnx("s3: AbortMultipartUpload of %s failed: %s; "
			    "its parts stay on the server until a lifecycle "
			    "rule removes them", op->uri, res->status == 0 ?
			    res->error : "HTTP error");
		if (op->e_msg != NULL) {
			msg = xasprintf("%s (AbortMultipartUpload failed too: "
			    "%s; the parts stay on the server until a "
			    "lifecycle rule removes them)", op->e_msg,
			    res->status == 0 ? res->error : "HTTP error");
			free(op->e_msg);
			op->e_msg = msg;
		}
	}
	s3_op_finish(op);
}

/* --- LIST ------------------------------------------------------------------ */

static void
s3_list_done(void *arg, const struct http_response *res)
{
	struct s3_slot *sl = arg;
	struct s3_op *op = sl->op;
	struct s3_object obj;
	const char *in;
	size_t pos, n;
	char *key = NULL, *size = NULL, *etag = NULL, *trunc = NULL;
	int stop = 0;

	sl->xfer = NULL;
	op->e_status = res->status;
	if (res->status < 200 || res->status >= 300) {
		if (s3_slot_retry(sl, res))
			return;
		s3_op_fail_res(op, sl, "", res);
		goto done;
	}
	for (pos = 0; !stop &&
	    s3_xml_next(res->body, res->len, "Contents", &pos, &in, &n);) {
		key = s3_xml_text(in, n, "Key");
		size = s3_xml_text(in, n, "Size");
		etag = s3_xml_text(in, n, "ETag");
		if (key == NULL) {
			s3_op_fail(op, "a <Contents> entry without <Key>");
			goto done;
		}
		obj.key = key;
		obj.size = size != NULL ? strtoll(size, NULL, 10) : 0;
		obj.etag = etag != NULL ? etag : "";
		obj.is_prefix = 0;
		if (op->each(op->arg, &obj) != 0)
			stop = 1;
		free(key);
		free(size);
		free(etag);
		key = size = etag = NULL;
	}
	for (pos = 0; !stop && s3_xml_next(res->body, res->len,
	    "CommonPrefixes", &pos, &in, &n);) {
		key = s3_xml_text(in, n, "Prefix");
		if (key == NULL)
			continue;
		memset(&obj, 0, sizeof obj);
		obj.key = key;
		obj.etag = "";
		obj.is_prefix = 1;
		if (op->each(op->arg, &obj) != 0)
			stop = 1;
		free(key);
		key = NULL;
	}
	if (stop) {
		s3_op_fail(op, "listing stopped by the caller");
		goto done;
	}
	trunc = s3_xml_text(res->body, res->len, "IsTruncated");
	if (trunc != NULL && strcmp(trunc, "true") == 0) {
		free(op->token);
		op->token = s3_xml_text(res->body, res->len,
		    "NextContinuationToken");
		if (op->token == NULL || *op->token == '\0') {
			s3_op_fail(op, "a truncated page without "
			    "NextContinuationToken");
			goto done;
		}
		free(trunc);
		sl->attempt = 0;
		if (sl->retry != NULL) {
			event_free(sl->retry);
			sl->retry = NULL;
		}
		s3_slot_send(sl);
		return;
	}
done:
	free(trunc);
	s3_op_finish(op);
}

/* --- entry points ------------------------------------------------------------ */

static int
s3_check_args(const char *bucket, const char *key, int need_key,
    s3_cb cb, struct cwld_err *err)
{
	if (bucket == NULL || *bucket == '\0' || cb == NULL)
		return err_set(err, CWLD_EXIT_FAILED, "s3: no bucket or "
		    "callback");
	if (need_key && (key == NULL || *key == '\0'))
		return err_set(err, CWLD_EXIT_USAGE, "s3: s3://%s/: an object "
		    "needs a key", bucket);
	return 0;
}

/* Sends op's first request and makes op known; NULL (op freed, err set)
 * when it cannot even start, so the callback is never called. */
static struct s3_op *
s3_op_start(struct s3_op *op, struct cwld_err *err)
{
	if (s3_slot_start(&op->req, err) != 0) {
		s3_op_free(op);
		return NULL;
	}
	TAILQ_INSERT_TAIL(&op->s3->ops, op, entry);
	return op;
}

struct s3_op *
s3_head(struct s3 *s3, const char *bucket, const char *key, s3_cb cb,
    void *arg, struct cwld_err *err)
{
	struct s3_op *op;

	if (s3_check_args(bucket, key, 1, cb, err) != 0)
		return NULL;
	op = s3_op_new(s3, S3_HEAD, "HEAD", bucket, key, cb, arg);
	return s3_op_start(op, err);
}

struct s3_op *
s3_get(struct s3 *s3, const char *bucket, const char *key, const char *path,
    s3_cb cb, void *arg, struct cwld_err *err)
{
	struct s3_op *op;
	char *dir, *base;

	if (s3_check_args(bucket, key, 1, cb, err) != 0)
		return NULL;
	op = s3_op_new(s3, S3_GET, "GET", bucket, key, cb, arg);
	op->path = xstrdup(path);
	dir = fs_dirname(path);
	base = fs_basename(path);
	/* next to the target so that rename() is atomic; hidden so that a
	 * glob over the directory does not pick it up */
	op->tmp = xasprintf("%s/.%s.s3tmp.XXXXXX", dir, base);
	free(dir);
	free(base);
	op->fd = mkostemp(op->tmp, O_CLOEXEC);
	if (op->fd == -1) {
		err_set(err, CWLD_EXIT_FAILED, "s3: GET %s: create '%s': %s",
		    op->uri, op->tmp, strerror(errno));
		free(op->tmp);
		op->tmp = NULL;
		s3_op_free(op);
		return NULL;
	}
	(void)fchmod(op->fd, 0644);
	return s3_op_start(op, err);
}

/* SHA-256 in hex of fd's first size bytes (a small file read at start). */
static int
s3_file_sha256(int fd, int64_t size, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int mdlen = 0, i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int64_t off = 0;
	ssize_t n;
	int ret = -1;

	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while (off < size) {
		n = pread(fd, buf, sizeof buf, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
		off += n;
	}
	if (off != size || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		goto out;
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + i * 2, 3, "%02x", md[i]);
	out[64] = '\0';
	ret = 0;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

struct s3_op *
s3_put(struct s3 *s3, const char *bucket, const char *key, const char *path,
    s3_cb cb, void *arg, struct cwld_err *err)
{
	struct s3_op *op;
	struct stat st;
	char hash[65];
	int64_t ps;

	if (s3_check_args(bucket, key, 1, cb, err) != 0)
		return NULL;
	op = s3_op_new(s3, S3_PUT, "PUT", bucket, key, cb, arg);
	op->path = xstrdup(path);
	op->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (op->fd == -1 || fstat(op->fd, &st) != 0) {
		err_set(err, CWLD_EXIT_FAILED, "s3: PUT %s: open '%s': %s",
		    op->uri, path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, CWLD_EXIT_FAILED, "s3: PUT %s: '%s' is not a "
		    "regular file", op->uri, path);
		goto fail;
	}
	op->size = (int64_t)st.st_size;
	if (op->size > S3_MAX_OBJECT) {
		err_set(err, CWLD_EXIT_FAILED, "s3: PUT %s: '%s' is larger "
		    "than 5 TiB, the most S3 holds in one object", op->uri, path);
		goto fail;
	}
	op->req.len = op->size;
	if (op->size < s3->threshold) {
		op->stage = S3_ST_SINGLE;
		if (op->size > 0 && op->size <= S3_SMALL_SIGNED) {
			if (s3_file_sha256(op->fd, op->size, hash) != 0) {
				err_set(err, CWLD_EXIT_FAILED, "s3: PUT %s: "
				    "read '%s': %s", op->uri, path,
				    errno != 0 ? strerror(errno) : "short read");
				goto fail;
			}
			op->payload_hash = xstrdup(hash);
		}
		return s3_op_start(op, err);
	}
	/* at most 10,000 parts: larger parts (whole MiB) for huge files */
	ps = s3->part_size;
	if ((op->size + ps - 1) / ps > S3_MAX_PARTS) {
		ps = (op->size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
		ps = (ps + S3_MIB - 1) / S3_MIB * S3_MIB;
	}
	op->part_size = ps;
	op->nparts = (int)((op->size + ps - 1) / ps);
	op->stage = S3_ST_CREATE;
	return s3_op_start(op, err);
fail:
	s3_op_free(op);
	return NULL;
}

struct s3_op *
s3_list(struct s3 *s3, const char *bucket, const char *prefix,
    const char *delimiter, int max_keys, s3_list_cb each, s3_cb cb,
    void *arg, struct cwld_err *err)
{
	struct s3_op *op;

	if (s3_check_args(bucket, NULL, 0, cb, err) != 0)
		return NULL;
	if (each == NULL)
		return err_set(err, CWLD_EXIT_FAILED, "s3: no list callback"),
		    NULL;
	op = s3_op_new(s3, S3_LIST, "LIST", bucket, prefix, cb, arg);
	op->prefix = prefix != NULL ? xstrdup(prefix) : NULL;
	op->delimiter = delimiter != NULL ? xstrdup(delimiter) : NULL;
	op->max_keys = max_keys;
	op->each = each;
	return s3_op_start(op, err);
}

void
s3_cancel(struct s3_op *op)
{
	struct s3 *s3;
	struct s3_op *ab;

	if (op == NULL)
		return;
	s3 = op->s3;
	if (op->kind == S3_PUT && op->stage == S3_ST_CREATE && op->req.xfer != NULL &&
	    !s3->closing) {
		/* CreateMultipartUpload is on its way: the upload its answer
		 * names would stay on the server. The answer is let in, and
		 * that upload aborted (s3_mp_create_done); nobody is told. */
		op->cb = NULL;
		op->cancelled = 1;
		if (op->fd != -1)
			close(op->fd);
		op->fd = -1;
		return;
	}
	TAILQ_REMOVE(&s3->ops, op, entry);
	s3_op_stop(op);
	if (op->kind == S3_PUT && op->upload_id != NULL &&
	    op->stage != S3_ST_SINGLE && !s3->closing) {
		/* the parts already sent would stay, billed, on the server
		 * (also when an abort of op's own was just cancelled) */
		ab = s3_op_new(s3, S3_ABORT, "PUT", op->bucket, op->key,
		    NULL, NULL);
		ab->stage = S3_ST_ABORT;
		ab->aborting = 1;
		ab->upload_id = op->upload_id;
		op->upload_id = NULL;
		TAILQ_INSERT_TAIL(&s3->ops, ab, entry);
		s3_slot_send(&ab->req);
	}
	s3_op_free(op);
}

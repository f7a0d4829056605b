/* multipart/form-data bodies (RFC 7578 over RFC 2046 section 5.1) cut into
 * parts, each copied out with its name, filename and content type. The whole
 * body is in memory already (evhttp reads it, capped), so this is one pass
 * with memmem over it, never past its length. What the fields mean (WES
 * workflow_params, attachments) is left to the server. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cwld/multipart.h"
#include "cwld/xmalloc.h"

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 */

/* What follows a "--boundary" in the body. */
enum {
	MULTIPART_NONE,  /* not a delimiter: content that begins like one */
	MULTIPART_NEXT,  /* padding and CRLF: another part follows */
	MULTIPART_CLOSE, /* "--": the last part has ended */
};

/* The delimiter as it appears before every part but the first: CRLF, "--",
 * the boundary. The first may start the body and so lacks the CRLF. */
struct multipart_delim {
	char buf[4 + MULTIPART_BOUNDARY_MAX + 1];
	size_t len;
};

static int multipart_next_param(const char **sp, char **name, char **value);
static size_t multipart_token_len(const char *s);
static int multipart_boundary(const char *ct, struct multipart_delim *d,
    struct cwld_err *err);
static int multipart_after(const char *p, const char *end, const char **next);
static const char *multipart_find_delim(const char *p, const char *end,
    const struct multipart_delim *d, int *kind, const char **next);
static int multipart_disposition(const char *value, size_t idx,
    struct multipart_part *part, struct cwld_err *err);
static int multipart_headers(const char **pp, const char *end,
    const struct multipart_delim *d, size_t idx, struct multipart_part *part,
    struct cwld_err *err);
static void multipart_part_release(struct multipart_part *part);

/* Length of the word at s: a media type, a parameter name, or an unquoted
 * value. Stops at separators rather than insisting on RFC 7230 tchars, so an
 * unquoted boundary with '/' or '=' (seen from some clients) still reads. */
static size_t
multipart_token_len(const char *s)
{
	return strcspn(s, "; \t\"=");
}

/* Reads the next `; name=value` of a header value at *sp, the value a token
 * or a quoted string (quotes and backslash escapes removed). Returns 1 with
 * name and value as new strings and *sp moved past them, 0 at the end, -1
 * when malformed. A trailing ';' is allowed. */
static int
multipart_next_param(const char **sp, char **name, char **value)
{
	const char *s = *sp, *ns;
	size_t nl, vl, o;
	char *v;

	s += strspn(s, " \t");
	if (*s == '\0')
		return 0;
	if (*s != ';')
		return -1;
	s++;
	s += strspn(s, " \t");
	if (*s == '\0') {
		*sp = s;
		return 0;
	}
	ns = s;
	if ((nl = multipart_token_len(s)) == 0)
		return -1;
	s += nl;
	s += strspn(s, " \t");
	if (*s != '=')
		return -1;
	s++;
	s += strspn(s, " \t");
	if (*s == '"') {
		s++;
		v = xmalloc(strlen(s) + 1);
		for (o = 0; *s != '"'; o++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			if (*s == '\0') {
				free(v);
				return -1;
			}
			v[o] = *s++;
		}
		s++;
		v[o] = '\0';
	} else {
		if ((vl = multipart_token_len(s)) == 0)
			return -1;
		v = xstrndup(s, vl);
		s += vl;
	}
	*name = xstrndup(ns, nl);
	*value = v;
	*sp = s;
	return 1;
}

/* Takes the boundary from the request's Content-Type into d. */
static int
multipart_boundary(const char *ct, struct multipart_delim *d,
    struct cwld_err *err)
{
	const char *s = ct + strspn(ct, " \t");
	char *name = NULL, *value = NULL, *boundary = NULL;
	size_t tl, i, bl;
	int r, rc = -1;

	tl = multipart_token_len(s);
	if (tl != strlen("multipart/form-data") ||
	    strncasecmp(s, "multipart/form-data", tl) != 0) {
		err_set(err, CWLD_EXIT_USAGE,
		    "content type '%s' is not multipart/form-data", ct);
		goto out;
	}
	s += tl;
	while ((r = multipart_next_param(&s, &name, &value)) == 1) {
		if (strcasecmp(name, "boundary") == 0) {
			if (boundary != NULL) {
				err_set(err, CWLD_EXIT_USAGE,
				    "content type '%s': two boundary parameters",
				    ct);
				goto out;
			}
			boundary = value;
			value = NULL;
		}
		free(name);
		free(value);
		name = value = NULL;
	}
	if (r == -1) {
		err_set(err, CWLD_EXIT_USAGE,
		    "content type '%s': malformed parameters", ct);
		goto out;
	}
	if (boundary == NULL) {
		err_set(err, CWLD_EXIT_USAGE,
		    "content type '%s' has no boundary parameter", ct);
		goto out;
	}
	bl = strlen(boundary);
	if (bl == 0 || bl > MULTIPART_BOUNDARY_MAX) {
		err_set(err, CWLD_EXIT_USAGE,
		    "content type '%s': boundary must be 1 to %d characters",
		    ct, MULTIPART_BOUNDARY_MAX);
		goto out;
	}
	for (i = 0; i < bl; i++) {
		unsigned char c = (unsigned char)boundary[i];

		if (c < 0x20 || c >= 0x7f) {
			err_set(err, CWLD_EXIT_USAGE,
			    "content type '%s': boundary holds a character "
			    "outside printable ASCII", ct);
			goto out;
		}
	}
	memcpy(d->buf, "\r\n--", 4);
	memcpy(d->buf + 4, boundary, bl);
	d->len = 4 + bl;
	rc = 0;
out:
	free(name);
	free(value);
	free(boundary);
	return rc;
}

/* Classifies what follows a "--boundary" that ends at p. Anything but "--"
 * or optional padding then CRLF makes it content (RFC 2046 forbids the
 * boundary in content, but a client that checked only for whole delimiter
 * lines is not refused for it). */
static int
multipart_after(const char *p, const char *end, const char **next)
{
	if (end - p >= 2 && p[0] == '-' && p[1] == '-')
		return MULTIPART_CLOSE;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
		*next = p + 2;
		return MULTIPART_NEXT;
	}
	return MULTIPART_NONE;
}

/* The first delimiter at or after p (pointing at its CRLF), its kind in
 * *kind and, for MULTIPART_NEXT, the next part's start in *next; NULL when
 * there is none before end. */
static const char *
multipart_find_delim(const char *p, const char *end,
    const struct multipart_delim *d, int *kind, const char **next)
{
	const char *q;

	while (p < end &&
	    (q = memmem(p, (size_t)(end - p), d->buf, d->len)) != NULL) {
		*kind = multipart_after(q + d->len, end, next);
		if (*kind != MULTIPART_NONE)
			return q;
		p = q + 1;
	}
	return NULL;
}

/* Reads `form-data; name="..."; filename="..."` into part. filename* is
 * ignored: RFC 7578 section 4.2 says senders must not use it. */
static int
multipart_disposition(const char *value, size_t idx,
    struct multipart_part *part, struct cwld_err *err)
{
	const char *s = value;
	char *name = NULL, *v = NULL, **slot;
	size_t tl = multipart_token_len(s);
	int r, rc = -1;

	if (tl != strlen("form-data") || strncasecmp(s, "form-data", tl) != 0) {
		err_set(err, CWLD_EXIT_USAGE,
		    "multipart part %zu: Content-Disposition '%s' is not "
		    "form-data", idx, value);
		goto out;
	}
	s += tl;
	while ((r = multipart_next_param(&s, &name, &v)) == 1) {
		slot = NULL;
		if (strcasecmp(name, "name") == 0)
			slot = &part->name;
		else if (strcasecmp(name, "filename") == 0)
			slot = &part->filename;
		if (slot != NULL && *slot != NULL) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu: Content-Disposition '%s' has "
			    "two '%s' parameters", idx, value, name);
			goto out;
		}
		if (slot != NULL) {
			*slot = v;
			v = NULL;
		}
		free(name);
		free(v);
		name = v = NULL;
	}
	if (r == -1) {
		err_set(err, CWLD_EXIT_USAGE,
		    "multipart part %zu: malformed Content-Disposition '%s'",
		    idx, value);
		goto out;
	}
	if (part->name == NULL || part->name[0] == '\0') {
		err_set(err, CWLD_EXIT_USAGE,
		    "multipart part %zu: Content-Disposition '%s' has no name",
		    idx, value);
		goto out;
	}
	rc = 0;
out:
	free(name);
	free(v);
	return rc;
}

/* Reads the header lines of part idx (1-based) from *pp up to and including
 * the empty line, leaving *pp at the content. */
static int
multipart_headers(const char **pp, const char *end,
    const struct multipart_delim *d, size_t idx, struct multipart_part *part,
    struct cwld_err *err)
{
	const char *p = *pp, *eol, *colon, *v, *ve, *c;
	size_t avail, nh, ll, nl;
	char *value = NULL;
	int seen_cd = 0, rc = -1;

	for (nh = 0;; nh++) {
		avail = (size_t)(end - p);
		eol = memmem(p, avail < MULTIPART_MAX_HEADER_LINE + 2 ? avail :
		    MULTIPART_MAX_HEADER_LINE + 2, "\r\n", 2);
		if (eol == NULL) {
			/* Over the limit, unless the last byte could be the
			 * CR of a CRLF cut off by the end of the body. */
			if (avail > MULTIPART_MAX_HEADER_LINE + 1 ||
			    (avail == MULTIPART_MAX_HEADER_LINE + 1 &&
			    p[MULTIPART_MAX_HEADER_LINE] != '\r'))
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: header line longer "
				    "than %d bytes", idx,
				    MULTIPART_MAX_HEADER_LINE);
			else
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: body ends inside the "
				    "headers", idx);
			goto out;
		}
		if (eol == p) {
			p += 2;
			break;
		}
		if (nh == MULTIPART_MAX_HEADERS) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu: more than %d header lines",
			    idx, MULTIPART_MAX_HEADERS);
			goto out;
		}
		ll = (size_t)(eol - p);
		/* The common mistake of a part with no empty line after its
		 * headers shows as its next boundary among them. */
		if (ll >= d->len - 2 && memcmp(p, d->buf + 2, d->len - 2) == 0) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu: boundary line among the "
			    "headers (no empty line after them)", idx);
			goto out;
		}
		for (c = p; c < eol; c++) {
			if (*c == '\n') {
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: header line ends in a "
				    "bare LF (lines must end in CRLF)", idx);
				goto out;
			}
			if ((unsigned char)*c == 0x7f ||
			    ((unsigned char)*c < 0x20 && *c != '\t')) {
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: control character in "
				    "a header line", idx);
				goto out;
			}
		}
		if (*p == ' ' || *p == '\t') {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu: folded header line (obsolete "
			    "in RFC 7230)", idx);
			goto out;
		}
		if ((colon = memchr(p, ':', ll)) == NULL) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu: header line '%.*s' has no ':'",
			    idx, (int)ll, p);
			goto out;
		}
		nl = (size_t)(colon - p);
		while (nl > 0 && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
			nl--;
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		value = xstrndup(v, (size_t)(ve - v));
		if (nl == strlen("Content-Disposition") &&
		    strncasecmp(p, "Content-Disposition", nl) == 0) {
			if (seen_cd++) {
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: two Content-Disposition "
				    "headers", idx);
				goto out;
			}
			if (multipart_disposition(value, idx, part, err) == -1)
				goto out;
		} else if (nl == strlen("Content-Type") &&
		    strncasecmp(p, "Content-Type", nl) == 0) {
			if (part->content_type != NULL) {
				err_set(err, CWLD_EXIT_USAGE,
				    "multipart part %zu: two Content-Type "
				    "headers", idx);
				goto out;
			}
			part->content_type = value;
			value = NULL;
		}
		free(value);
		value = NULL;
		p = eol + 2;
	}
	if (!seen_cd) {
		err_set(err, CWLD_EXIT_USAGE,
		    "multipart part %zu has no Content-Disposition header", idx);
		goto out;
	}
	*pp = p;
	rc = 0;
out:
	free(value);
	return rc;
}

static void
multipart_part_release(struct multipart_part *part)
{
	free(part->name);
	free(part->filename);
	free(part->content_type);
	free(part->data);
	memset(part, 0, sizeof *part);
}

int
multipart_parse(const char *content_type, const char *body, size_t len,
    struct multipart_part **parts, size_t *n, struct cwld_err *err)
{
	struct multipart_delim d;
	struct multipart_part part = { 0 }, *arr = NULL;
	const char *end, *p, *q, *next = NULL;
	size_t np = 0, cap = 0;
	int kind = MULTIPART_NONE, rc = -1;

	*parts = NULL;
	*n = 0;
	if (multipart_boundary(content_type, &d, err) == -1)
		goto out;
	if (len == 0) {
		err_set(err, CWLD_EXIT_USAGE, "multipart body is empty");
		goto out;
	}
	end = body + len;
	/* The first boundary line starts the body or follows a preamble. */
	if (len >= d.len - 2 && memcmp(body, d.buf + 2, d.len - 2) == 0)
		kind = multipart_after(body + d.len - 2, end, &next);
	if (kind == MULTIPART_NONE &&
	    multipart_find_delim(body, end, &d, &kind, &next) == NULL) {
		err_set(err, CWLD_EXIT_USAGE,
		    "multipart body has no boundary line '--%.*s'",
		    (int)(d.len - 4), d.buf + 4);
		goto out;
	}
	while (kind == MULTIPART_NEXT) {
		if (np == MULTIPART_MAX_PARTS) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart body has more than %d parts",
			    MULTIPART_MAX_PARTS);
			goto out;
		}
		p = next;
		if (multipart_headers(&p, end, &d, np + 1, &part, err) == -1)
			goto out;
		if ((q = multipart_find_delim(p, end, &d, &kind, &next)) ==
		    NULL) {
			err_set(err, CWLD_EXIT_USAGE,
			    "multipart part %zu ('%s') is not followed by a "
			    "boundary line (body cut short?)", np + 1,
			    part.name);
			goto out;
		}
		part.len = (size_t)(q - p);
		part.data = xmalloc(part.len + 1);
		memcpy(part.data, p, part.len);
		part.data[part.len] = '\0';
		if (np == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			arr = xreallocarray(arr, cap, sizeof *arr);
		}
		arr[np++] = part;
		memset(&part, 0, sizeof part);
	}
	/* kind is MULTIPART_CLOSE: what follows is the epilogue, ignored. */
	*parts = arr;
	*n = np;
	arr = NULL;
	rc = 0;
out:
	multipart_part_release(&part);
	multipart_free(arr, np);
	return rc;
}

void
multipart_free(struct multipart_part *parts, size_t n)
{
	size_t i;

	if (parts == NULL)
		return;
	for (i = 0; i < n; i++)
		multipart_part_release(&parts[i]);
	free(parts);
}

const struct multipart_part *
multipart_find(const struct multipart_part *parts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

/* URIs as CWL uses them: file:// locations made from paths and back, ids with
 * #fragments, and RFC 3986 reference resolution (section 5.2). Fetching what a
 * URI names (http, s3) is left to the net module. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cwld/fs.h"
#include "cwld/uri.h"
#include "cwld/xmalloc.h"

/* The five components of RFC 3986 appendix B; a NULL field is undefined
 * (different from defined but empty). All fields are new strings. */
struct uri_parts {
	char *scheme;
	char *authority;
	char *path;
	char *query;
	char *fragment;
};

static size_t uri_scheme_len(const char *s);
static void uri_parse(const char *s, struct uri_parts *u);
static void uri_parts_release(struct uri_parts *u);
static char *uri_remove_dots(const char *path);
static char *uri_compose(const struct uri_parts *u);
static int uri_hexval(int c);

/* Length of the scheme (without ':') when s starts with one, else 0. */
static size_t
uri_scheme_len(const char *s)
{
	size_t i;

	if (!isalpha((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ':')
			return i;
		if (!isalnum(c) && c != '+' && c != '-' && c != '.')
			return 0;
	}
	return 0;
}

int
uri_has_scheme(const char *s)
{
	return s != NULL && uri_scheme_len(s) > 0;
}

static void
uri_parse(const char *s, struct uri_parts *u)
{
	size_t n;
	const char *end;

	memset(u, 0, sizeof *u);
	if ((n = uri_scheme_len(s)) > 0) {
		u->scheme = xstrndup(s, n);
		s += n + 1;
	}
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		n = strcspn(s, "/?#");
		u->authority = xstrndup(s, n);
		s += n;
	}
	n = strcspn(s, "?#");
	u->path = xstrndup(s, n);
	s += n;
	if (*s == '?') {
		s++;
		n = strcspn(s, "#");
		u->query = xstrndup(s, n);
		s += n;
	}
	if (*s == '#') {
		end = s + 1;
		u->fragment = xstrdup(end);
	}
}

static void
uri_parts_release(struct uri_parts *u)
{
	free(u->scheme);
	free(u->authority);
	free(u->path);
	free(u->query);
	free(u->fragment);
	memset(u, 0, sizeof *u);
}

/* Removes "." and ".." segments. Unlike RFC 3986 5.2.4 a relative path keeps
 * leading ".." segments, so plain relative paths normalise sensibly too. */
static char *
uri_remove_dots(const char *path)
{
	size_t len = strlen(path);
	size_t *starts = NULL, *lens = NULL;
	size_t nseg = 0, i, o, start;
	int abs = path[0] == '/';
	int trailing = 0;
	char *out;

	if (len <= 1 && (len == 0 || abs))
		return xstrdup(path);
	starts = xreallocarray(NULL, len + 1, sizeof *starts);
	lens = xreallocarray(NULL, len + 1, sizeof *lens);
	i = abs ? 1 : 0;
	for (;;) {
		start = i;
		while (i < len && path[i] != '/')
			i++;
		int last = i >= len;
		size_t sl = i - start;

		trailing = 0;
		if (sl == 1 && path[start] == '.') {
			trailing = 1;
		} else if (sl == 2 && path[start] == '.' &&
		    path[start + 1] == '.') {
			if (nseg > 0 && !(lens[nseg - 1] == 2 &&
			    path[starts[nseg - 1]] == '.' &&
			    path[starts[nseg - 1] + 1] == '.'))
				nseg--;
			else if (!abs) {
				starts[nseg] = start;
				lens[nseg++] = sl;
			}
			trailing = 1;
		} else {
			starts[nseg] = start;
			lens[nseg++] = sl;
		}
		if (last)
			break;
		i++;
	}
	out = xmalloc(len + 2);
	o = 0;
	if (abs)
		out[o++] = '/';
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			out[o++] = '/';
		memcpy(out + o, path + starts[i], lens[i]);
		o += lens[i];
	}
	if (trailing && nseg > 0)
		out[o++] = '/';
	out[o] = '\0';
	free(starts);
	free(lens);
	return out;
}

static char *
uri_compose(const struct uri_parts *u)
{
	return xasprintf("%s%s%s%s%s%s%s%s%s",
	    u->scheme ? u->scheme : "", u->scheme ? ":" : "",
	    u->authority ? "//" : "", u->authority ? u->authority : "",
	    u->path ? u->path : "",
	    u->query ? "?" : "", u->query ? u->query : "",
	    u->fragment ? "#" : "", u->fragment ? u->fragment : "");
}

char *
uri_resolve(const char *base, const char *ref)
{
	struct uri_parts b, r, t;
	char *merged = NULL;
	char *ret;
	const char *slash;

	if (base == NULL || *base == '\0' || uri_has_scheme(ref))
		return xstrdup(ref);
	uri_parse(base, &b);
	uri_parse(ref, &r);
	memset(&t, 0, sizeof t);
	if (r.authority != NULL) {
		t.authority = xstrdup(r.authority);
		t.path = uri_remove_dots(r.path);
		t.query = r.query ? xstrdup(r.query) : NULL;
	} else {
		if (r.path[0] == '\0') {
			t.path = xstrdup(b.path);
			if (r.query != NULL)
				t.query = xstrdup(r.query);
			else if (b.query != NULL)
				t.query = xstrdup(b.query);
		} else {
			if (r.path[0] == '/') {
				t.path = uri_remove_dots(r.path);
			} else {
				if (b.authority != NULL && b.path[0] == '\0')
					merged = xasprintf("/%s", r.path);
				else if ((slash = strrchr(b.path, '/')) != NULL)
					merged = xasprintf("%.*s%s",
					    (int)(slash - b.path + 1), b.path,
					    r.path);
				else
					merged = xstrdup(r.path);
				t.path = uri_remove_dots(merged);
			}
			t.query = r.query ? xstrdup(r.query) : NULL;
		}
		t.authority = b.authority ? xstrdup(b.authority) : NULL;
	}
	t.scheme = b.scheme ? xstrdup(b.scheme) : NULL;
	t.fragment = r.fragment ? xstrdup(r.fragment) : NULL;
	ret = uri_compose(&t);
	free(merged);
	uri_parts_release(&b);
	uri_parts_release(&r);
	uri_parts_release(&t);
	return ret;
}

char *
uri_percent_encode(const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i, o = 0;
	char *out = xreallocarray(NULL, n + 1, 3);

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* ASCII only, whatever the locale's isalnum() thinks */
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(keep, c) != NULL)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

char *
uri_from_path(const char *path)
{
	char *abs = fs_abspath(path), *enc, *ret;

	/* What Python's urllib.parse.quote keeps, as cwltool does. */
	enc = uri_percent_encode(abs, "/-._~");
	ret = xasprintf("file://%s", enc);
	free(enc);
	free(abs);
	return ret;
}

static int
uri_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
uri_to_path(const char *uri)
{
	const char *p, *end;
	char *out;
	size_t o;
	int hi, lo;

	if (!uri_has_scheme(uri))
		return xstrdup(uri);
	if (strncasecmp(uri, "file:", 5) != 0)
		return NULL;
	p = uri + 5;
	if (p[0] == '/' && p[1] == '/') {
		/* Skip the authority: "" or "localhost". */
		p += 2;
		p += strcspn(p, "/?#");
	}
	end = p + strcspn(p, "?#");
	out = xmalloc((size_t)(end - p) + 2);
	o = 0;
	if (*p != '/')
		out[o++] = '/';
	for (; p < end; p++) {
		if (p[0] == '%' && end - p >= 3 &&
		    (hi = uri_hexval((unsigned char)p[1])) >= 0 &&
		    (lo = uri_hexval((unsigned char)p[2])) >= 0 &&
		    (hi | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			p += 2;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
	return out;
}

char *
uri_strip_fragment(const char *uri)
{
	return xstrndup(uri, strcspn(uri, "#"));
}

const char *
uri_fragment(const char *uri)
{
	const char *h = strchr(uri, '#');

	return h != NULL ? h + 1 : NULL;
}

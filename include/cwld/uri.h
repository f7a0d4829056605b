/* URIs as CWL uses them: file:// locations, ids with #fragments, relative
 * references resolved against a base. */
#ifndef CWLD_URI_H
#define CWLD_URI_H

/* New string: file:///abs/path from a path (made absolute, percent-encoded). */
char *uri_from_path(const char *path);
/* New string: the local path of a file:// URI (percent-decoded), or a copy of
 * the argument when it has no scheme; NULL for other schemes. */
char *uri_to_path(const char *uri);
/* New string: ref resolved against base (RFC 3986), e.g. base
 * "file:///a/b.cwl", ref "c.cwl" -> "file:///a/c.cwl"; ref "#x" ->
 * "file:///a/b.cwl#x". An absolute ref is returned as is. */
char *uri_resolve(const char *base, const char *ref);
/* New string: uri without its #fragment. */
char *uri_strip_fragment(const char *uri);
/* Borrowed pointer into uri just after '#', or NULL. */
const char *uri_fragment(const char *uri);
/* New string: s with every byte percent-encoded (upper-case hex) but ASCII
 * letters, digits and the characters of keep, e.g. "-._~" for RFC 3986's
 * unreserved set, "-._~/" to keep a path's slashes too. */
char *uri_percent_encode(const char *s, const char *keep);
/* Non-zero when s starts with a scheme ("file:", "http:", "s3:", ...). */
int uri_has_scheme(const char *s);

#endif

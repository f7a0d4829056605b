/* S3-compatible object storage (AWS S3, MinIO, moto) over the asynchronous
 * HTTP module: HEAD, GET streamed to a file, PUT streamed from a file
 * (multipart above a threshold), ListObjectsV2 with continuation tokens.
 * Requests are signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4); everything runs on the caller's event loop. */
#ifndef CWLD_S3_H
#define CWLD_S3_H
#include <stddef.h>
#include <stdint.h>
#include <event2/event.h>
#include "cwld/err.h"

struct s3;
struct s3_op;

enum {
	S3_ADDR_AUTO = 0, /* path-style when an endpoint is given, else
	                   * virtual-host (path-style for names that are not
	                   * DNS labels) */
	S3_ADDR_PATH,     /* http://endpoint/bucket/key */
	S3_ADDR_VHOST,    /* http://bucket.endpoint/key */
};

/* What the caller knows; every NULL or 0 field is taken from the
 * environment, then from the shared files, then from the defaults:
 *   endpoint       AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, endpoint_url of
 *                  the profile in the config file; https://s3.REGION.amazonaws.com
 *   region         AWS_REGION, AWS_DEFAULT_REGION, region of the profile in
 *                  the config file; us-east-1
 *   credentials    access_key + secret_key, else the profile's keys in
 *                  credentials_file, else
 *                  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+
 *                  AWS_SESSION_TOKEN), else the profile's keys in the
 *                  credentials file (AWS_SHARED_CREDENTIALS_FILE or
 *                  ~/.aws/credentials), else in the config file
 *                  (AWS_CONFIG_FILE or ~/.aws/config); none: requests go
 *                  unsigned (public buckets)
 *   profile        AWS_PROFILE; "default"
 * Keys and their token always come from the same place. */
struct s3_config {
	const char *endpoint;
	const char *region;
	const char *access_key;
	const char *secret_key;
	const char *session_token;
	const char *profile;
	const char *credentials_file; /* a file in ~/.aws/credentials form
	                              * whose profile must hold the keys: wins
	                              * over AWS_* keys and the shared files
	                              * (--s3-credentials; keeps secrets out
	                              * of the command line) */
	int addressing;              /* S3_ADDR_* */
	int64_t multipart_threshold; /* 0: 16 MiB; files at least this large
	                              * go up in parts */
	int64_t part_size;           /* 0: 8 MiB; raised when a file would
	                              * need more than 10,000 parts */
	int part_concurrency;        /* 0: 4 parts in flight */
	int max_attempts;            /* 0: 5 tries of a request on 5xx and
	                              * connection errors */
	int retry_base_ms;           /* 0: 200 ms, doubled each retry (capped
	                              * at 10 s) */
};

/* The settings in force once the environment and files were read: all new
 * strings (access_key, secret_key, session_token may be NULL). */
struct s3_resolved {
	char *endpoint;  /* scheme://host[:port][/path], no trailing slash */
	char *region;
	char *access_key;
	char *secret_key;
	char *session_token;
	int path_style;  /* S3_ADDR_AUTO decided: S3_ADDR_PATH or S3_ADDR_VHOST */
	int endpoint_given;
	char *cred_source; /* "explicit", "environment", a file path, or "none" */
};

/* Fills out from cfg, the environment and the shared files (above). Fails
 * on an unreadable existing file, a key without its secret, or a bad
 * endpoint. 0 or -1 with err; release out with s3_resolved_release(). */
int s3_resolve(const struct s3_config *cfg, struct s3_resolved *out,
    struct cwld_err *err);
void s3_resolved_release(struct s3_resolved *r);

/* Outcome of an operation, borrowed for the callback. */
struct s3_result {
	const char *error;  /* NULL on success, else the whole message, e.g.
	                     * "s3: GET s3://b/k: NoSuchKey: The specified key
	                     * does not exist." */
	const char *code;   /* S3's <Code> on failure ("NoSuchKey"), "" when
	                     * the server gave none */
	long status;        /* last HTTP status, 0 for a connection error */
	int64_t size;       /* object size (head, get, put) */
	const char *etag;   /* ETag as the server wrote it (quotes included),
	                     * or "" */
	const char *checksum_sha256; /* x-amz-checksum-sha256 (base64), or "" */
	int parts;          /* put: parts uploaded, 0 for a single PUT */
	int attempts;       /* requests tried, retries included */
};

/* Called exactly once for each operation that started (never from inside
 * the starting call), from the event loop. Must not call s3_free(). */
typedef void (*s3_cb)(void *arg, const struct s3_result *res);

/* One object of a listing, borrowed for the call. */
struct s3_object {
	const char *key;
	int64_t size;
	const char *etag;
	int is_prefix;  /* a CommonPrefixes entry (with a delimiter): key is
	                 * the prefix, size 0 */
};
/* Called for each object as pages arrive; return 0 to go on, -1 to stop
 * (the listing then completes with an error). */
typedef int (*s3_list_cb)(void *arg, const struct s3_object *obj);

/* A client on base with cfg resolved by s3_resolve(); cfg's strings are
 * copied. NULL with err. */
struct s3 *s3_new(struct event_base *base, const struct s3_config *cfg,
    struct cwld_err *err);
/* Aborts operations in flight without calling their callbacks; a
 * temporary download file is removed. s3_free(NULL) does nothing. */
void s3_free(struct s3 *s3);
/* Operations in flight, the background AbortMultipartUpload of a
 * cancelled upload included: a caller that wants those aborts to reach the
 * server keeps the loop and the client until this is 0. */
int s3_pending(const struct s3 *s3);
/* The settings the client uses (borrowed). */
const struct s3_resolved *s3_settings(const struct s3 *s3);

/* HEAD: size, ETag and checksum of bucket/key. */
struct s3_op *s3_head(struct s3 *s3, const char *bucket, const char *key,
    s3_cb cb, void *arg, struct cwld_err *err);
/* GET bucket/key into the file path: written as it arrives to a temporary
 * file next to it, renamed to path once the size the server announced
 * has arrived (and the SHA-256 matches when the server sent one); on any
 * failure the temporary file is removed and path left as it was. A
 * request that fails on 5xx or a connection error is tried again, for the
 * bytes still missing only (Range, with If-Match on the ETag: an object
 * replaced meanwhile fails the download rather than being stitched). */
struct s3_op *s3_get(struct s3 *s3, const char *bucket, const char *key,
    const char *path, s3_cb cb, void *arg, struct cwld_err *err);
/* PUT the regular file path as bucket/key, read as it is sent: one PUT
 * below the multipart threshold, else CreateMultipartUpload, parts in
 * parallel, CompleteMultipartUpload, and AbortMultipartUpload when a part
 * fails for good. Fails at once (err) when path cannot be opened. */
struct s3_op *s3_put(struct s3 *s3, const char *bucket, const char *key,
    const char *path, s3_cb cb, void *arg, struct cwld_err *err);
/* ListObjectsV2 of bucket under prefix (may be NULL or ""), each object
 * handed to each(); delimiter (may be NULL) groups keys into prefixes;
 * max_keys per page (0: the server's default, 1000). */
struct s3_op *s3_list(struct s3 *s3, const char *bucket, const char *prefix,
    const char *delimiter, int max_keys, s3_list_cb each, s3_cb cb,
    void *arg, struct cwld_err *err);
/* Stops an operation whose callback has not run; cb is never called. A
 * multipart upload in progress is aborted on the server in the
 * background. Not from inside the operation's own callbacks. */
void s3_cancel(struct s3_op *op);

/* --- pure helpers, exposed for tests and for s3:// locations --------- */

/* Splits "s3://bucket/key" into new strings; key may be "" (the bucket,
 * or "s3://bucket/"). The bucket must be 3-63 characters of [a-z0-9.-]
 * (and '_' or upper case, which old buckets have). 0 or -1 with err. */
int s3_uri_parse(const char *uri, char **bucket, char **key,
    struct cwld_err *err);
/* New string "s3://bucket/key". */
char *s3_uri_make(const char *bucket, const char *key);
/* New string: s percent-encoded the way SigV4 wants it (RFC 3986
 * unreserved characters kept, upper-case hex), '/' kept when keep_slash. */
char *s3_uri_encode(const char *s, int keep_slash);

/* A query parameter; value NULL or "" is written "name=". */
struct s3_param {
	const char *name;
	const char *value;
};
/* New string: the parameters encoded and sorted by name, then value, and
 * joined with '&': the canonical query string SigV4 signs, which libcurl
 * 7.88 signs as written. "" for n == 0. */
char *s3_query(const struct s3_param *params, size_t n);

/* The first element <tag> (or <tag attr...>) at or after *pos in xml[0,len):
 * its content span in *inner and *inner_len, and *pos moved past its end
 * tag; an empty element <tag/> gives length 0. 1 when found, 0 when not. No
 * nesting of an element in itself (S3's answers have none). */
int s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos,
    const char **inner, size_t *inner_len);
/* New string: the text of the first <tag> in xml[0,len) with entities
 * (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) decoded, or NULL. */
char *s3_xml_text(const char *xml, size_t len, const char *tag);
/* New string: s with & < > " ' escaped for XML text. */
char *s3_xml_escape(const char *s);

/* New string: the value of key in [section] of an INI text such as
 * ~/.aws/credentials (keys and sections trimmed, '#' and ';' comment lines,
 * key = value), or NULL. */
char *s3_ini_get(const char *text, const char *section, const char *key);

#endif

/* Final outputs of a run sent to S3 (--output-location, the daemon's
 * output_location): the files under a local directory that the output
 * object names are uploaded under a prefix, then the object's locations
 * are rewritten to s3:// ones. */
#ifndef CWLD_UPLOAD_H
#define CWLD_UPLOAD_H
#include <jansson.h>
#include <event2/event.h>
#include "cwld/err.h"
#include "cwld/s3.h"

struct upload;

/* Called once from the loop: error NULL when every object is stored and
 * the output object rewritten, else the first failure, which names the
 * local file and carries S3's message. Must not call upload_free(). */
typedef void (*upload_cb)(void *arg, const char *error);

/* Splits an output location "s3://bucket", "s3://bucket/prefix" or
 * "s3://bucket/prefix/" into new strings; *prefix has no trailing '/' and
 * may be "". 0, or -1 with err (CWLD_EXIT_USAGE) for anything else. */
int upload_parse_dest(const char *dest, char **bucket, char **prefix,
    struct cwld_err *err);

/* Starts uploading, on base, every File and Directory of outputs (a
 * borrowed output object whose files were moved under root, as
 * relocate_outputs_from leaves them) to dest: ROOT/REL goes to
 * PREFIX/REL, a Directory as all the files below it (an empty directory
 * as a zero-byte "REL/" object), each distinct key once, at most eight
 * transfers at a time, multipart and retries as the s3 module does them.
 * Every object's uploaded size is checked against the local one. Once all
 * are stored, outputs is changed in place: "location" becomes
 * s3://BUCKET/PREFIX/REL (a Directory's ends with '/'), "path" and
 * "dirname" go (they name local files), basename, size and checksum stay;
 * then cb. On a failure the others are cancelled (a multipart upload is
 * aborted), outputs is left as it was and cb hears the error; objects
 * already stored stay. cfg borrowed for the call. NULL with err when
 * nothing could start (bad dest, settings, a file outside root). */
struct upload *upload_start(struct event_base *base, json_t *outputs,
    const char *root, const char *dest, const struct s3_config *cfg,
    upload_cb cb, void *arg, struct cwld_err *err);
/* Cancels the transfers in flight; cb is not called afterwards. A
 * multipart upload already begun is aborted on the server in the
 * background, while the loop runs (upload_busy). */
void upload_cancel(struct upload *u);
/* Whether requests (those aborts) are still in flight. */
int upload_busy(const struct upload *u);
/* Cancels as upload_cancel, then runs the loop (blocking) until the
 * aborts are answered or max_ms have passed: for a caller about to stop
 * its loop (the end of `cwld run`, a daemon that stops). */
void upload_drain(struct upload *u, int max_ms);
/* Cancels as upload_cancel and frees; unless drained, the aborts still in
 * flight go on while the loop runs, for at most 30 s, then what is left of
 * them is freed. upload_free(NULL) does nothing. */
void upload_free(struct upload *u);
/* Objects stored and bytes sent so far. */
void upload_stats(const struct upload *u, long *objects, long long *bytes);

/* Before a run starts: one ListObjectsV2 of at most one key under dest's
 * prefix, so that a run whose outputs could not be stored (no such
 * bucket, credentials refused, the wrong region, no server answering)
 * fails before its first step rather than after its last. cb hears NULL
 * when the listing worked, and also when it was refused for another reason
 * (AccessDenied: a user may be allowed to put but not to list; a warning
 * is logged), else "output location DEST: <S3's error>"; cb must not
 * free the probe. NULL with err when it could not start (a bad dest,
 * settings). */
struct upload_probe;
struct upload_probe *upload_probe_start(struct event_base *base,
    const char *dest, const struct s3_config *cfg, upload_cb cb, void *arg,
    struct cwld_err *err);
/* Stops the listing if it is in flight (cb is not called) and frees.
 * upload_probe_free(NULL) does nothing. */
void upload_probe_free(struct upload_probe *p);

#endif

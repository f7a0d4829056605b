/* Work reuse across runs (`cwld run --cache-dir DIR`): the key of one tool
 * invocation, computed from everything its result depends on, and the
 * on-disk cache of completed output directories under that key. */
#ifndef CWLD_CACHE_H
#define CWLD_CACHE_H
#include <jansson.h>
#include "cwld/err.h"

/* sha256 in hex */
#define CACHE_KEY_LEN 64

/* What one CommandLineTool invocation's result depends on. Everything is
 * borrowed. Strings of argv, envv and stdin_path are normalised before
 * hashing: occurrences of this attempt's own paths (outdir, tmpdir,
 * jobdir, rundir, longest first) and of run_id become placeholders, and a
 * path component right under jobdir loses the six random characters
 * fs_mkdtemp gave it; otherwise no two runs would ever share a key. */
struct cache_job {
	const json_t *argv;        /* final command line, array of strings */
	char *const *envv;         /* NAME=VALUE, NULL-terminated (HOME, TMPDIR normalised) */
	const char *image;         /* image name, NULL for the host */
	const char *image_id;      /* the image's ID when known, else NULL */
	const char *stdin_path;    /* may be NULL */
	const char *stdout_name;   /* names in the output directory; may be NULL */
	const char *stderr_name;
	const json_t *inputs;      /* input object: every File's checksum (sha1,
	                            * computed when missing) and basename, every
	                            * Directory's content tree go in, not paths */
	const json_t *tool_outputs; /* the tool's outputs section */
	const json_t *extra;       /* anything else the result depends on, or NULL */
	const char *workdir;       /* output directory as staged before the run
	                            * (InitialWorkDirRequirement): content hashed */
	const json_t *mounts;      /* array of [host source, target, ro] staged
	                            * outside workdir: target and content hashed */
	/* paths of this attempt */
	const char *outdir, *tmpdir, *jobdir, *rundir, *run_id;
};

/* New string: s with this attempt's paths replaced by placeholders. */
char *cache_normalise(const struct cache_job *cj, const char *s);
/* New canonical document the key is the hash of (for tests and debugging),
 * or NULL with err (an input file that cannot be read). */
json_t *cache_key_doc(const struct cache_job *cj, struct cwld_err *err);
/* key (CACHE_KEY_LEN + 1 bytes) = hex sha256 of the compact, key-sorted
 * JSON text of cache_key_doc. 0, or -1 with err. */
int cache_key(const struct cache_job *cj, char *key, struct cwld_err *err);

/* Content of a file or directory tree as JSON: a file is its "sha1$..."
 * checksum, a directory an object mapping entry names to their content
 * (symlinks followed). New reference, or NULL with err. */
json_t *cache_tree(const char *path, struct cwld_err *err);

/* The cache directory dir holds one directory per completed invocation,
 * dir/<key>/ with out/ (its output directory after the run) and
 * outputs.json (the record cache_save was given). Entries appear whole by
 * rename(2); a partial entry is never seen. */

/* 1 and *record (new reference) when dir/<key> is complete, 0 when there is
 * no entry, -1 with err when it cannot be read. */
int cache_lookup(const char *dir, const char *key, json_t **record, struct cwld_err *err);
/* Replaces outdir with a copy of the entry's out/. The record's "outdir"
 * and "rt_outdir" (the original attempt's) are replaced in a
 * cwl.output.json by outdir and rt_outdir. 0, or -1 with err. */
int cache_restore(const char *dir, const char *key, const json_t *record,
    const char *outdir, const char *rt_outdir, struct cwld_err *err);
/* Stores a copy of outdir and record (borrowed) as dir/<key>: written under
 * dir/<key>.tmp-<pid>-<n>, then renamed; when another run stored the key
 * first, this copy is discarded and that is success. 0, or -1 with err
 * (nothing is left behind). */
int cache_save(const char *dir, const char *key, const char *outdir,
    const json_t *record, struct cwld_err *err);

#endif

/* Parameters: job inputs checked against their types, defaults applied, and
 * File/Directory objects completed (path, basename, nameroot, nameext, size,
 * checksum, listing, contents). */
#ifndef CWLD_PARAMS_H
#define CWLD_PARAMS_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/expr.h"

/* Builds the complete input object for a process: for each declared input
 * (borrowed `inputs` array of the normalised process) takes the job's value
 * or the default, checks it against the type (unions pick the first that
 * matches), completes File/Directory objects whose location is a file:// URI
 * or relative (resolved against base_uri). loadContents (64 KiB cap) is
 * honoured. Missing required inputs and type mismatches are errors naming
 * the input and its expected type (code CWLD_EXIT_USAGE). New reference. */
json_t *params_fill_inputs(const json_t *inputs, const json_t *job,
    const char *base_uri, struct cwld_err *err);

/* Completes one File or Directory object in place from its location/path:
 * location (file:// URI), path, basename, nameroot, nameext (Files), size
 * and "checksum": "sha1$..." when with_checksum, listing for Directories
 * (one level unless deep). -1 with err when it does not exist. */
int params_complete_file(json_t *obj, const char *base_uri, int with_checksum,
    struct cwld_err *err);

/* Non-zero when value matches type T (normalised form, see load.h). */
int params_type_matches(const json_t *type, const json_t *value);

/* Calls fn for every File and Directory object inside value (depth first,
 * including secondaryFiles and listing). Stops and returns fn's non-zero. */
int params_walk_files(json_t *value, int (*fn)(json_t *obj, void *arg), void *arg);

/* How much of a Directory's content is listed (LoadListingRequirement,
 * loadListing). */
enum params_listing {
	PARAMS_LISTING_NONE = 0, /* no_listing: a given "listing" is kept */
	PARAMS_LISTING_SHALLOW,  /* shallow_listing: one level */
	PARAMS_LISTING_DEEP,     /* deep_listing: the whole tree */
};

/* "no_listing" / "shallow_listing" / "deep_listing" to the enum; -1 for
 * anything else (NULL included). */
int params_listing_parse(const char *s);

/* Options of params_fill_inputs_ex; all zero is what params_fill_inputs
 * uses. */
struct params_opts {
	enum params_listing listing; /* from LoadListingRequirement; an
	                              * input's own loadListing wins */
	int with_checksum;           /* add "checksum" to input Files */
	struct expr_ctx *ex;         /* for secondaryFiles patterns that are
	                              * expressions (borrowed, may be NULL:
	                              * such patterns are then skipped) */
	int no_discover;             /* secondaryFiles are not looked for on
	                              * disk: only those already in a File's
	                              * "secondaryFiles" (or given by an
	                              * expression) count, and a missing
	                              * required one is an error. Set it for
	                              * workflow steps, as cwltool does; the
	                              * top-level job discovers them. */
};

/* As params_fill_inputs with options (opts may be NULL). Input
 * secondaryFiles patterns are applied as the spec says: files already in
 * the job's "secondaryFiles" are kept, the others are looked up next to the
 * primary; a missing required one is an error. */
json_t *params_fill_inputs_ex(const json_t *inputs, const json_t *job,
    const char *base_uri, const struct params_opts *opts,
    struct cwld_err *err);

/* As params_complete_file, with the listing depth explicit: a Directory
 * that already has "listing" keeps it (its entries are completed);
 * otherwise NONE adds none, SHALLOW one level, DEEP the whole tree.
 * params_complete_file is this with PARAMS_LISTING_SHALLOW. base_uri is the
 * URI relative locations/paths are resolved against ("file:///d/job.yml"
 * or a directory URI ending in '/'; nested listing and secondaryFiles
 * entries resolve against it too, as in a job document); NULL means the
 * current directory.
 * Objects whose location has another scheme (http:, s3:) are left as they
 * are. Literals (a File with "contents", a Directory with "listing", and no
 * location or path) get nameroot/nameext and completed entries only.
 * Errors have code CWLD_EXIT_USAGE. */
int params_complete_file_ex(json_t *obj, const char *base_uri,
    int with_checksum, enum params_listing listing, struct cwld_err *err);

/* New string: the local path of a File/Directory object (its location, or
 * its path, resolved against base_uri as above); NULL for literals and
 * non-file schemes. */
char *params_file_path(const json_t *obj, const char *base_uri);

/* Reads the first 64 KiB of a completed File (its "path") into
 * "contents"; a larger file or one that is not UTF-8 text is an error
 * (CWLD_EXIT_USAGE). A File that already has "contents" is left alone. */
int params_load_contents(json_t *file, struct cwld_err *err);

/* Applies the secondaryFiles spec of a parameter (borrowed: a pattern
 * string, { "pattern", "required" }, or an array of those; patterns and
 * "required" may be expressions, evaluated through ex with self = primary,
 * inputs and runtime borrowed, may be NULL) to one completed primary File:
 * "^" strips an extension per caret, the rest is appended to the basename.
 * Entries already in primary["secondaryFiles"] (same basename) are kept;
 * the others are looked for in the primary's directory and added
 * (completed, with a checksum when with_checksum). A missing required one
 * is an error; required_default is 1 for inputs, 0 for outputs. An
 * expression pattern with ex NULL is skipped. */
int params_add_secondary_files(json_t *primary, const json_t *spec,
    int required_default, int with_checksum, struct expr_ctx *ex,
    const json_t *inputs, const json_t *runtime, struct cwld_err *err);

/* New string: the name a plain secondaryFiles pattern gives next to a
 * primary of that basename: each leading '^' strips one extension (all
 * that remain go once none is left), the rest is appended. A trailing '?'
 * (optional) is kept for the caller to read. */
char *params_secondary_name(const char *basename, const char *pattern);

/* Non-zero when primary["secondaryFiles"] has an entry of that basename
 * (its "basename", else the last segment of its location or path). */
int params_secondary_has(const json_t *primary, const char *basename);

/* New string naming a type for messages: "File", "int[]", "File?",
 * "string | int", "record", "enum". */
char *params_type_name(const json_t *type);

/* Splits a basename into nameroot and nameext as the spec does (the last
 * '.', not a leading one: ".bashrc" has no extension). New strings. */
void params_split_name(const char *basename, char **nameroot, char **nameext);

#endif

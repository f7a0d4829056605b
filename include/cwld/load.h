/* Loading CWL documents: fetch, $import/$include, $graph with #fragment
 * selection, $namespaces, id resolution, SchemaDefRequirement types, and
 * normalisation into the one shape the rest of cwld reads.
 *
 * Normalised process (every json_t below is plain jansson):
 *   "class": "CommandLineTool" | "ExpressionTool" | "Workflow" | "Operation"
 *   "id": absolute URI ("file:///dir/tool.cwl" or "...#name")
 *   "cwlVersion": as found (inherited from the top document / $graph)
 *   "cwld:base": URI of the document the process came from (for relative
 *                locations); "cwld:file": path of that file
 *   "inputs":  array of { "id": short name, "type": T, ...everything else
 *              as written: default, inputBinding, secondaryFiles, format,
 *              loadContents, loadListing, label, doc }
 *   "outputs": array of { "id": short name, "type": T, outputBinding...,
 *              and for workflows "outputSource": [ "step/out" | "input" ],
 *              linkMerge, pickValue }
 *   "requirements", "hints": arrays of objects each with "class" (the map
 *              form { Class: {...} } is turned into this array form)
 *   "baseCommand": array of strings (a single string becomes [s])
 *   "arguments", "stdin", "stdout", "stderr", "successCodes", ... as written
 *   Workflow "steps": array of { "id": short name,
 *        "in": array of { "id": short, "source": [ "step/out" | "input" ]
 *              (always an array, possibly empty), "default", "valueFrom",
 *              "linkMerge", "pickValue", "loadContents" },
 *        "out": array of short names (strings),
 *        "run": the normalised process (object, loaded and inlined),
 *        "requirements", "hints", "scatter": [short names], "scatterMethod",
 *        "when" }
 *   Types T: "null" "boolean" "int" "long" "float" "double" "string" "File"
 *        "Directory" "Any", arrays of types for unions, { "type": "array",
 *        "items": T }, { "type": "record", "name"?, "fields": [ { "name":
 *        short, "type": T, "inputBinding"?, ... } ] }, { "type": "enum",
 *        "symbols": [ short ], "inputBinding"? }. "T?" becomes ["null", T] and
 *        "T[]" becomes an array type; named types from SchemaDefRequirement
 *        are replaced by their definitions.
 *   File/Directory literals in defaults have "location" made absolute.
 * Positions of the original nodes stay findable through the srcmap: the
 * normalised objects reuse the original json_t nodes where they can, and the
 * loader records new nodes it creates at the position of the node they came
 * from. */
#ifndef CWLD_LOAD_H
#define CWLD_LOAD_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/yaml.h"

struct load_ctx;

/* A loader with its own document cache and position map. */
struct load_ctx *load_ctx_new(void);
void load_ctx_free(struct load_ctx *ctx); /* NULL does nothing */
/* A check before any document file is read (the process, what its run:,
 * $import and $include name): non-zero refuses the read with err's
 * message, reported where the reference is. A daemon confines documents
 * to its roots this way. */
typedef int (*load_guard_fn)(void *arg, const char *path, struct cwld_err *err);
void load_ctx_set_guard(struct load_ctx *ctx, load_guard_fn guard, void *arg);
/* Borrowed: the position map of everything this loader has read. */
struct yaml_srcmap *load_ctx_srcmap(struct load_ctx *ctx);

/* Loads the process at uri_or_path (a path, a file:// URI, optionally with
 * #fragment selecting from a $graph; without a fragment a $graph document
 * yields "#main"). Validates structure (classes, required fields, field
 * types, step sources, cycles) and returns a new reference to the normalised
 * process, or NULL with err "file:line:col: message" and code
 * CWLD_EXIT_USAGE (CWLD_EXIT_UNSUPPORTED for an unknown cwlVersion). */
json_t *load_process(struct load_ctx *ctx, const char *uri_or_path, struct cwld_err *err);

/* Loads a job (inputs) file (YAML or JSON): File/Directory "location"/"path"
 * made absolute URIs relative to the job file. New reference or NULL. */
json_t *load_job(struct load_ctx *ctx, const char *path, struct cwld_err *err);

/* Formats "file:line:col: " for node into buf (empty string when unknown). */
void load_where(struct load_ctx *ctx, const json_t *node, char *buf, size_t len);

#endif

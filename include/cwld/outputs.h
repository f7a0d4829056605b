/* Output collection after a tool ran: cwl.output.json, or per output glob,
 * loadContents, outputEval, secondaryFiles, format; File/Directory objects
 * with location, size and sha1 checksum. */
#ifndef CWLD_OUTPUTS_H
#define CWLD_OUTPUTS_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/expr.h"

/* tool: normalised CommandLineTool; inputs/runtime borrowed; outdir is the
 * host path of the output directory (runtime.outdir may name the same
 * directory). Globs never escape outdir. Returns the new output object
 * (every declared output present, null when optional and absent) or NULL
 * with err naming the output (code CWLD_EXIT_FAILED: the step failed). */
json_t *outputs_collect(const json_t *tool, const json_t *inputs,
    const json_t *runtime, const char *outdir, struct expr_ctx *ex,
    struct cwld_err *err);

#endif

/* The command line of a CommandLineTool: baseCommand, arguments and input
 * bindings sorted by position, prefixes, separate, itemSeparator, valueFrom,
 * shellQuote under ShellCommandRequirement. */
#ifndef CWLD_BIND_H
#define CWLD_BIND_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/expr.h"

/* Returns a new JSON array of strings (argv) for the normalised tool (see
 * load.h) with the complete inputs object and runtime object (borrowed).
 * When shell is non-zero (ShellCommandRequirement) the result is
 * ["/bin/sh", "-c", "<joined line>"], with arguments quoted unless
 * shellQuote: false. NULL with err naming the input or argument on failure. */
json_t *bind_command_line(const json_t *tool, const json_t *inputs,
    const json_t *runtime, struct expr_ctx *ex, int shell, struct cwld_err *err);

#endif

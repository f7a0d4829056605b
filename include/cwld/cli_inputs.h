/* A tool's inputs given on the command line after the process, the way
 * cwl-runner does it: `cwld run tool.cwl --name value --flag --list a
 * --list b`, each option named after an input and typed by it. */
#ifndef CWLD_CLI_INPUTS_H
#define CWLD_CLI_INPUTS_H
#include <stdio.h>
#include <jansson.h>
#include "cwld/err.h"

/* Sets into job (an object, possibly from a job file; these win) the inputs
 * of the normalised process named by args[0..n): "--name value",
 * "--name=value", "--flag" for booleans (or --flag=false), repeated options
 * for arrays; File and Directory values are paths (or URIs) relative to
 * cwd. 0, or -1 with err (CWLD_EXIT_USAGE) naming the argument: an unknown
 * input (the known ones listed), a missing or ill-typed value, or a type
 * that only a job file can give (records, unions of several types). */
int cli_inputs_parse(const json_t *process, json_t *job, int n, const char *const *args,
    const char *cwd, struct cwld_err *err);

/* Writes the options the process takes (one per input: name, type,
 * default, label or doc) to f, for `cwld run PROCESS --help`. */
void cli_inputs_usage(const json_t *process, FILE *f);

#endif

/* The final step of `cwld run`: copying the output object's files and
 * directories into the user's --outdir and rewriting their locations. */
#ifndef CWLD_RELOCATE_H
#define CWLD_RELOCATE_H
#include <jansson.h>
#include "cwld/err.h"

/* Copies every File/Directory in outputs (modified in place) into outdir,
 * keeping basenames (a clash gets a "_2" suffix) and secondaryFiles next to
 * their primary; locations/paths then point into outdir. */
int relocate_outputs(json_t *outputs, const char *outdir, struct cwld_err *err);
/* As relocate_outputs, but files under own_prefix (the run's work dir) are
 * moved rather than copied. */
int relocate_outputs_from(json_t *outputs, const char *outdir, const char *own_prefix,
    struct cwld_err *err);

#endif

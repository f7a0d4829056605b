/* One invocation of a CommandLineTool or ExpressionTool: work directories,
 * runtime object, command line, staging, execution through the local or
 * Docker executor, output collection, and its rows in the store. */
#ifndef CWLD_JOB_H
#define CWLD_JOB_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/scheduler.h"

/* Same contract as sched_process_start, for the two tool classes. */
int job_start(struct sched *s, const json_t *tool, const json_t *inputs,
    const char *name, const json_t *reqs, const json_t *hints,
    sched_done_cb cb, void *arg, struct cwld_err *err);

#endif

/* Running a Workflow: the step graph, readiness as sources complete, step
 * input assembly (source, default, linkMerge, pickValue, valueFrom), when,
 * scatter, and the workflow's outputs. */
#ifndef CWLD_WORKFLOW_H
#define CWLD_WORKFLOW_H
#include <jansson.h>
#include "cwld/err.h"
#include "cwld/scheduler.h"

/* Same contract as sched_process_start, for class Workflow. */
int workflow_start(struct sched *s, const json_t *wf, const json_t *inputs,
    const char *name, const json_t *reqs, const json_t *hints,
    sched_done_cb cb, void *arg, struct cwld_err *err);

#endif

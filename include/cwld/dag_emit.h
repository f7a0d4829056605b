/* Apache Airflow DAG files from CWL workflows: one task per step, the same
 * dependencies, importable by Airflow 2.7+ and 3.x. */
#ifndef CWLD_DAG_EMIT_H
#define CWLD_DAG_EMIT_H
#include <stdio.h>
#include <jansson.h>
#include "cwld/err.h"

/* Sanitises s into an Airflow id ([A-Za-z0-9_.-], never empty): new string. */
char *dag_emit_id(const char *s);

/* Writes the DAG file for the normalised workflow (see load.h; a tool is
 * treated as a one-step workflow) to out. dag_id NULL derives it from the
 * file name; cwl_path is the workflow path the tasks hand to cwld. */
int dag_emit(const json_t *process, const char *dag_id, const char *cwl_path,
    FILE *out, struct cwld_err *err);

#endif

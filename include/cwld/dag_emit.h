/* Apache Airflow DAG files from CWL workflows: one task per step, the same
 * dependencies, importable by Airflow 2.7+ and 3.x. */
#ifndef CWLD_DAG_EMIT_H
#define CWLD_DAG_EMIT_H
#include <stdio.h>
#include <jansson.h>
#include "cwld/err.h"

/* Sanitises s into an Airflow id ([A-Za-z0-9_.-], never empty, at most 200
 * bytes; one '_' per other character, UTF-8 sequences counting once): new
 * string. */
char *dag_emit_id(const char *s);
/* The DAG's name for a document: the #fragment's last part when there is
 * one, else the file name without its extension. New string. */
char *dag_emit_stem(const char *s);

/* Writes the DAG file for the normalised workflow (see load.h; a tool is
 * treated as a one-step workflow) to out. dag_id NULL derives it from the
 * file name; cwl_path is the workflow path the tasks hand to cwld (NULL: the
 * process's "cwld:file", else its "id"; pass an absolute path). Task ids
 * are the sanitised step ids made unique; each task's bash_command is
 * `cwld run --only-step STEP CWL_PATH` (a tool: `cwld run CWL_PATH`).
 * Nothing is written to out unless the whole file is ready; -1 with err
 * (CWLD_EXIT_USAGE for a malformed process or non-UTF-8 strings). */
int dag_emit(const json_t *process, const char *dag_id, const char *cwl_path,
    FILE *out, struct cwld_err *err);

#endif

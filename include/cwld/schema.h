/* The field tables of CWL's schema (v1.0-v1.3) that the loader checks
 * documents against: which fields each kind of object may carry, from which
 * cwlVersion on, and which requirement classes exist. Owned by load. */
#ifndef CWLD_SCHEMA_H
#define CWLD_SCHEMA_H

/* cwlVersion as an ordinal: v1.0 -> 0, v1.1 -> 1, v1.2 -> 2, v1.3 -> 3. */
#define SCHEMA_V10 0
#define SCHEMA_V11 1
#define SCHEMA_V12 2
#define SCHEMA_V13 3

enum schema_kind {
	SCHEMA_CLT, SCHEMA_ET, SCHEMA_WF, SCHEMA_OP,
	SCHEMA_CLT_IN, SCHEMA_CLT_OUT, SCHEMA_WF_IN, SCHEMA_WF_OUT,
	SCHEMA_ET_OUT, SCHEMA_STEP, SCHEMA_STEP_IN, SCHEMA_STEP_OUT,
	SCHEMA_REQ_FIRST, /* requirement kinds follow, see schema_requirement_kind */
};

/* The ordinal of a cwlVersion string, or -1 when cwld does not know it. */
int schema_version(const char *v);
/* Process kind for a class name ("CommandLineTool", ...), or -1. */
int schema_process_kind(const char *klass);
/* Kind of an input (output != 0: output) parameter of a process class. */
enum schema_kind schema_param_kind(const char *klass, int output);
/* Non-zero when cls is a requirement class of CWL. */
int schema_requirement_known(const char *cls);
/* Kind that checks the fields of a known requirement class. */
enum schema_kind schema_requirement_kind(const char *cls);
/* Non-zero when key may appear in an object of that kind under cwlVersion
 * ordinal version. Extension fields ("prefix:name", URIs) always may. When
 * the field exists only in a later version, returns 0 and sets *why to a
 * static phrase ("needs cwlVersion v1.2 or later"); otherwise *why is NULL. */
int schema_field_ok(enum schema_kind kind, const char *key, int version,
    const char **why);

#endif

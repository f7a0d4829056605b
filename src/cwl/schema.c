/* CWL field tables for the loader's structural checks: one line of field
 * names per kind of object, "name@N" for a field that appeared in cwlVersion
 * ordinal N. Types and ids are handled in load.c. */
#include <string.h>

#include "cwld/schema.h"

#define SCHEMA_PROCESS "id class cwlVersion label doc intent@2 inputs outputs " \
	"requirements hints $namespaces $schemas $base "
#define SCHEMA_IN "id label doc type default format inputBinding loadContents " \
	"loadListing@1 secondaryFiles streamable "
#define SCHEMA_OUT "id label doc type format outputBinding secondaryFiles streamable "

static const char *const schema_fields[] = {
	[SCHEMA_CLT] = SCHEMA_PROCESS "baseCommand arguments stdin stdout stderr "
	    "successCodes temporaryFailCodes permanentFailCodes",
	[SCHEMA_ET] = SCHEMA_PROCESS "expression",
	[SCHEMA_WF] = SCHEMA_PROCESS "steps",
	[SCHEMA_OP] = SCHEMA_PROCESS,
	[SCHEMA_CLT_IN] = SCHEMA_IN,
	[SCHEMA_CLT_OUT] = SCHEMA_OUT,
	[SCHEMA_WF_IN] = SCHEMA_IN,
	[SCHEMA_WF_OUT] = SCHEMA_OUT "outputSource linkMerge pickValue@2",
	[SCHEMA_ET_OUT] = SCHEMA_OUT,
	[SCHEMA_STEP] = "id label doc in out run requirements hints scatter "
	    "scatterMethod when@2 loop@3 outputMethod@3",
	[SCHEMA_STEP_IN] = "id label doc source default valueFrom linkMerge "
	    "pickValue@2 loadContents@1 loadListing@1 outputSource@3",
	[SCHEMA_STEP_OUT] = "id label doc",
};

static const struct schema_req {
	const char *cls;
	const char *fields;
} schema_reqs[] = {
	{ "DockerRequirement", "dockerPull dockerLoad dockerFile dockerImport "
	    "dockerImageId dockerOutputDirectory" },
	{ "EnvVarRequirement", "envDef" },
	{ "InitialWorkDirRequirement", "listing" },
	{ "InlineJavascriptRequirement", "expressionLib" },
	{ "InplaceUpdateRequirement", "inplaceUpdate" },
	{ "LoadListingRequirement", "loadListing" },
	{ "MultipleInputFeatureRequirement", "" },
	{ "NetworkAccess", "networkAccess" },
	{ "ResourceRequirement", "coresMin coresMax ramMin ramMax tmpdirMin "
	    "tmpdirMax outdirMin outdirMax" },
	{ "ScatterFeatureRequirement", "" },
	{ "SchemaDefRequirement", "types" },
	{ "ShellCommandRequirement", "" },
	{ "SoftwareRequirement", "packages" },
	{ "StepInputExpressionRequirement", "" },
	{ "SubworkflowFeatureRequirement", "" },
	{ "ToolTimeLimit", "timelimit" },
	{ "WorkReuse", "enableReuse" },
};

#define SCHEMA_NREQS (sizeof schema_reqs / sizeof schema_reqs[0])

int
schema_version(const char *v)
{
	if (v == NULL)
		return -1;
	if (strcmp(v, "v1.0") == 0)
		return SCHEMA_V10;
	if (strcmp(v, "v1.1") == 0)
		return SCHEMA_V11;
	if (strcmp(v, "v1.2") == 0)
		return SCHEMA_V12;
	if (strcmp(v, "v1.3.0-dev1") == 0)
		return SCHEMA_V13;
	return -1;
}

int
schema_process_kind(const char *klass)
{
	if (klass == NULL)
		return -1;
	if (strcmp(klass, "CommandLineTool") == 0)
		return SCHEMA_CLT;
	if (strcmp(klass, "ExpressionTool") == 0)
		return SCHEMA_ET;
	if (strcmp(klass, "Workflow") == 0)
		return SCHEMA_WF;
	if (strcmp(klass, "Operation") == 0)
		return SCHEMA_OP;
	return -1;
}

enum schema_kind
schema_param_kind(const char *klass, int output)
{
	int k = schema_process_kind(klass);

	if (k == SCHEMA_CLT)
		return output ? SCHEMA_CLT_OUT : SCHEMA_CLT_IN;
	if (k == SCHEMA_WF)
		return output ? SCHEMA_WF_OUT : SCHEMA_WF_IN;
	return output ? SCHEMA_ET_OUT : SCHEMA_WF_IN;
}

int
schema_requirement_known(const char *cls)
{
	size_t i;

	for (i = 0; i < SCHEMA_NREQS; i++)
		if (strcmp(schema_reqs[i].cls, cls) == 0)
			return 1;
	return 0;
}

enum schema_kind
schema_requirement_kind(const char *cls)
{
	size_t i;

	for (i = 0; i < SCHEMA_NREQS; i++)
		if (strcmp(schema_reqs[i].cls, cls) == 0)
			return (enum schema_kind)(SCHEMA_REQ_FIRST + i);
	return SCHEMA_REQ_FIRST;
}

/* Looks key up in a space-separated list; returns the version it needs or
 * -1 when absent. */
static int
schema_lookup(const char *list, const char *key)
{
	size_t klen = strlen(key), n;
	const char *p = list, *end;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		end = p;
		while (*end != '\0' && *end != ' ')
			end++;
		n = (size_t)(end - p);
		if (n >= klen && strncmp(p, key, klen) == 0) {
			if (n == klen)
				return 0;
			if (p[klen] == '@')
				return p[klen + 1] - '0';
		}
		p = end;
	}
	return -1;
}

int
schema_field_ok(enum schema_kind kind, const char *key, int version,
    const char **why)
{
	static const char *const needs[] = {
		"needs cwlVersion v1.0 or later", "needs cwlVersion v1.1 or later",
		"needs cwlVersion v1.2 or later", "needs cwlVersion v1.3 or later",
	};
	const char *list;
	size_t r;
	int v;

	*why = NULL;
	if (strchr(key, ':') != NULL)
		return 1;
	if (kind >= SCHEMA_REQ_FIRST) {
		r = (size_t)(kind - SCHEMA_REQ_FIRST);
		if (strcmp(key, "class") == 0)
			return 1;
		list = r < SCHEMA_NREQS ? schema_reqs[r].fields : "";
	} else
		list = schema_fields[kind];
	v = schema_lookup(list, key);
	if (v < 0)
		return 0;
	if (v > version) {
		*why = needs[v > 3 ? 3 : v];
		return 0;
	}
	return 1;
}

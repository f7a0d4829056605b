/* Writes Apache Airflow DAG files (Python) for normalised CWL processes: one
 * BashOperator per workflow step calling cwld, edges from the steps' sources.
 * Loading the workflow is load.c's business; talking to a live Airflow is
 * airflow_api.c's. Every string that reaches the file is escaped twice as
 * needed: for bash (and Airflow's Jinja) inside bash_command, then as a
 * pure-ASCII Python string literal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cwld/dag_emit.h"
#include "cwld/err.h"
#include "cwld/xmalloc.h"

#define DAG_EMIT_ID_MAX 200

char *
dag_emit_id(const char *s)
{
	size_t i, n = 0, len = s != NULL ? strlen(s) : 0;
	unsigned char c;
	char *out;

	out = xmalloc(len + 2);
	for (i = 0; i < len && n < DAG_EMIT_ID_MAX; i++) {
		c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			out[n++] = (char)c;
		else if (c < 0x80 || c >= 0xc0)
			out[n++] = '_'; /* one '_' per character, not per byte */
	}
	if (n == 0)
		out[n++] = '_';
	out[n] = '\0';
	return out;
}

/* Writes s as a double-quoted, pure-ASCII Python 3 string literal. s must be
 * valid UTF-8 (checked by the caller through jansson). */
static void
dag_emit_py_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	int more;

	fputc('"', f);
	while (*p != '\0') {
		if (*p < 0x80) {
			switch (*p) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					fprintf(f, "\\x%02x", *p);
				else
					fputc(*p, f);
			}
			p++;
			continue;
		}
		if (*p >= 0xf0) {
			cp = *p & 0x07;
			more = 3;
		} else if (*p >= 0xe0) {
			cp = *p & 0x0f;
			more = 2;
		} else {
			cp = *p & 0x1f;
			more = 1;
		}
		for (p++; more > 0 && *p != '\0'; more--, p++)
			cp = (cp << 6) | (*p & 0x3f);
		if (cp > 0xffff)
			fprintf(f, "\\U%08lx", cp);
		else
			fprintf(f, "\\u%04lx", cp);
	}
	fputc('"', f);
}

/* A new string: s as one bash word that Airflow's Jinja leaves alone. Plain
 * words stay as they are; anything else becomes $'...' with quotes,
 * backslashes, braces (Jinja's {{ {% {#) and control bytes as escapes. */
static char *
dag_emit_sh_word(const char *s)
{
	const unsigned char *p;
	size_t n = 0, len = strlen(s);
	int plain = len > 0;
	char *out;

	for (p = (const unsigned char *)s; *p != '\0' && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("_./:=@,+-", *p) != NULL;
	if (plain)
		return xstrdup(s);
	if (len > (((size_t)-1) - 4) / 4)
		abort();
	out = xmalloc(len * 4 + 4);
	out[n++] = '$';
	out[n++] = '\'';
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p;
		} else if (*p < 0x20 || *p == 0x7f || *p == '{' || *p == '}') {
			snprintf(out + n, 5, "\\x%02x", *p);
			n += 4;
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n++] = '\'';
	out[n] = '\0';
	return out;
}

/* Checks that s is valid UTF-8 (through jansson); what names it in err. */
static int
dag_emit_check_utf8(const char *s, const char *what, struct cwld_err *err)
{
	json_t *j = json_string(s);

	if (j == NULL)
		return err_set(err, CWLD_EXIT_USAGE, "dag: %s is not valid UTF-8", what);
	json_decref(j);
	return 0;
}

/* A new string: the last path segment of a path or URI, without its
 * fragment-less extension; the fragment itself when there is one. */
char *
dag_emit_stem(const char *s)
{
	const char *start, *hash, *end, *dot;

	if ((hash = strrchr(s, '#')) != NULL && hash[1] != '\0') {
		start = hash + 1;
		if (strrchr(start, '/') != NULL)
			start = strrchr(start, '/') + 1;
		return xstrdup(start);
	}
	end = hash != NULL ? hash : s + strlen(s);
	while (end > s && end[-1] == '/')
		end--;
	for (start = end; start > s && start[-1] != '/'; start--)
		;
	dot = NULL;
	for (hash = start; hash < end; hash++) {
		if (*hash == '.' && hash > start)
			dot = hash;
	}
	return xstrndup(start, (size_t)((dot != NULL ? dot : end) - start));
}

struct dag_emit_task {
	const char *step;  /* borrowed: step id, or NULL for a tool */
	char *task_id;
	char *var;
};

/* Whether name is taken by an earlier task (field 0 task_id, 1 var). */
static int
dag_emit_taken(const struct dag_emit_task *tasks, size_t n, const char *name,
    int var)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(var ? tasks[i].var : tasks[i].task_id, name) == 0)
			return 1;
	}
	return 0;
}

/* A new string: base, or base_2, base_3, ... the first one not taken. */
static char *
dag_emit_unique(const struct dag_emit_task *tasks, size_t n, const char *base,
    int var)
{
	char *name = xstrdup(base);
	unsigned long k;

	for (k = 2; dag_emit_taken(tasks, n, name, var); k++) {
		free(name);
		name = xasprintf("%s_%lu", base, k);
	}
	return name;
}

/* A new string: "t_" + task id with every non-alphanumeric byte as '_'. */
static char *
dag_emit_var(const char *task_id)
{
	char *v = xasprintf("t_%s", task_id);
	char *p;

	for (p = v + 2; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return v;
}

static void
dag_emit_header(FILE *f, const char *dag_id, const char *description)
{
	fputs("\"\"\"Apache Airflow DAG generated by `cwld dag` from a CWL workflow.\n"
	    "\n"
	    "One task per workflow step, with the workflow's dependencies between\n"
	    "them. The steps run through cwld, not Airflow: each task calls\n"
	    "`cwld run --only-step STEP WORKFLOW` (a CommandLineTool calls\n"
	    "`cwld run WORKFLOW`). The --only-step option is not in cwld yet, so\n"
	    "running these tasks from Airflow fails for now; the DAG is created\n"
	    "paused so that cwld can mirror the runs it executes into it.\n"
	    "Regenerate this file with `cwld dag` rather than editing it.\n"
	    "\"\"\"\n"
	    "from datetime import datetime, timezone\n"
	    "\n"
	    "from airflow import DAG\n"
	    "\n"
	    "try:\n"
	    "    from airflow.providers.standard.operators.bash import BashOperator\n"
	    "except ImportError:  # Airflow 2 without the standard provider\n"
	    "    from airflow.operators.bash import BashOperator\n"
	    "\n"
	    "with DAG(\n"
	    "    dag_id=", f);
	dag_emit_py_str(f, dag_id);
	fputs(",\n    description=", f);
	dag_emit_py_str(f, description);
	fputs(",\n"
	    "    schedule=None,\n"
	    "    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),\n"
	    "    catchup=False,\n"
	    "    is_paused_upon_creation=True,\n"
	    "    tags=[\"cwl\"],\n"
	    ") as dag:\n", f);
}

/* Writes one BashOperator; step NULL runs the whole document. */
static void
dag_emit_task_write(FILE *f, const struct dag_emit_task *t, const char *cwl_word)
{
	char *step_word = NULL, *cmd;
	size_t len;

	if (t->step != NULL) {
		step_word = dag_emit_sh_word(t->step);
		cmd = xasprintf("cwld run --only-step %s %s", step_word, cwl_word);
	} else {
		cmd = xasprintf("cwld run %s", cwl_word);
	}
	/* Airflow reads a bash_command ending in .sh or .bash as a template
	 * file name; a trailing space keeps it a command. */
	len = strlen(cmd);
	if ((len >= 3 && strcmp(cmd + len - 3, ".sh") == 0) ||
	    (len >= 5 && strcmp(cmd + len - 5, ".bash") == 0)) {
		char *spaced = xasprintf("%s ", cmd);

		free(cmd);
		cmd = spaced;
	}
	fprintf(f, "    %s = BashOperator(\n        task_id=", t->var);
	dag_emit_py_str(f, t->task_id);
	fputs(",\n        bash_command=", f);
	dag_emit_py_str(f, cmd);
	fputs(",\n    )\n", f);
	free(cmd);
	free(step_word);
}

/* Index of the step whose id is the part of source before its first '/'. */
static long
dag_emit_source_step(const struct dag_emit_task *tasks, size_t n, const char *source)
{
	const char *slash = strchr(source, '/');
	size_t i, len;

	if (slash == NULL)
		return -1;
	len = (size_t)(slash - source);
	for (i = 0; i < n; i++) {
		if (strlen(tasks[i].step) == len && strncmp(tasks[i].step, source, len) == 0)
			return (long)i;
	}
	return -1;
}

/* Writes "a >> b" lines for step i's upstream steps, each once. */
static void
dag_emit_edges(FILE *f, const struct dag_emit_task *tasks, size_t n, size_t i,
    const json_t *step, unsigned char *seen)
{
	const json_t *in, *sources, *src;
	size_t k, m;
	long j;

	memset(seen, 0, n);
	json_array_foreach(json_object_get(step, "in"), k, in) {
		sources = json_object_get(in, "source");
		if (json_is_string(sources)) {
			j = dag_emit_source_step(tasks, n, json_string_value(sources));
			if (j >= 0 && (size_t)j != i && !seen[j]) {
				seen[j] = 1;
				fprintf(f, "    %s >> %s\n", tasks[j].var, tasks[i].var);
			}
			continue;
		}
		json_array_foreach(sources, m, src) {
			if (!json_is_string(src))
				continue;
			j = dag_emit_source_step(tasks, n, json_string_value(src));
			if (j >= 0 && (size_t)j != i && !seen[j]) {
				seen[j] = 1;
				fprintf(f, "    %s >> %s\n", tasks[j].var, tasks[i].var);
			}
		}
	}
}

int
dag_emit(const json_t *process, const char *dag_id, const char *cwl_path,
    FILE *out, struct cwld_err *err)
{
	struct dag_emit_task *tasks = NULL;
	const json_t *steps = NULL, *step;
	const char *cls, *pid, *label, *sid;
	char *id = NULL, *stem = NULL, *description = NULL, *cwl_word = NULL;
	char *buf = NULL, *base;
	unsigned char *seen = NULL;
	size_t i, n = 0, len = 0;
	FILE *f = NULL;
	int ret = -1;

	cls = json_string_value(json_object_get(process, "class"));
	pid = json_string_value(json_object_get(process, "id"));
	if (cls == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "dag: the process has no class");
		goto out;
	}
	if (cwl_path == NULL)
		cwl_path = json_string_value(json_object_get(process, "cwld:file"));
	if (cwl_path == NULL)
		cwl_path = pid;
	if (cwl_path == NULL) {
		err_set(err, CWLD_EXIT_USAGE, "dag: no workflow path and no process id");
		goto out;
	}
	if (dag_emit_check_utf8(cwl_path, "the workflow path", err) == -1 ||
	    (dag_id != NULL && dag_emit_check_utf8(dag_id, "the dag id", err) == -1))
		goto out;

	/* dag_id: given, else the file's name, else the process id's. */
	stem = dag_emit_stem(cwl_path);
	id = dag_emit_id(dag_id != NULL ? dag_id : stem);
	label = json_string_value(json_object_get(process, "label"));
	if (label != NULL && dag_emit_check_utf8(label, "the label", err) == 0)
		description = xstrdup(label);
	else
		description = xasprintf("CWL %s %s", cls, cwl_path);
	cwl_word = dag_emit_sh_word(cwl_path);

	if (strcmp(cls, "Workflow") == 0) {
		steps = json_object_get(process, "steps");
		if (!json_is_array(steps)) {
			err_set(err, CWLD_EXIT_USAGE, "dag: workflow %s has no steps array",
			    cwl_path);
			goto out;
		}
		n = json_array_size(steps);
	} else {
		n = 1;
	}
	tasks = xcalloc(n + 1, sizeof *tasks);
	for (i = 0; i < n; i++) {
		if (steps != NULL) {
			step = json_array_get(steps, i);
			sid = json_string_value(json_object_get(step, "id"));
			if (sid == NULL || *sid == '\0') {
				err_set(err, CWLD_EXIT_USAGE, "dag: step %zu of %s has no id",
				    i + 1, cwl_path);
				goto out;
			}
			if (dag_emit_check_utf8(sid, "a step id", err) == -1)
				goto out;
			tasks[i].step = sid;
			base = dag_emit_id(sid);
		} else {
			base = dag_emit_id(stem);
		}
		tasks[i].task_id = dag_emit_unique(tasks, i, base, 0);
		free(base);
		base = dag_emit_var(tasks[i].task_id);
		tasks[i].var = dag_emit_unique(tasks, i, base, 1);
		free(base);
	}

	/* Built in memory first so a failure leaves nothing half-written. */
	if ((f = open_memstream(&buf, &len)) == NULL) {
		err_set(err, CWLD_EXIT_FAILED, "dag: open_memstream failed");
		goto out;
	}
	dag_emit_header(f, id, description);
	if (n == 0)
		fputs("    pass\n", f);
	for (i = 0; i < n; i++)
		dag_emit_task_write(f, &tasks[i], cwl_word);
	if (steps != NULL && n > 0) {
		seen = xcalloc(n, 1);
		fputs("\n", f);
		for (i = 0; i < n; i++)
			dag_emit_edges(f, tasks, n, i, json_array_get(steps, i), seen);
	}
	if (fclose(f) != 0) {
		f = NULL;
		err_set(err, CWLD_EXIT_FAILED, "dag: writing to memory failed");
		goto out;
	}
	f = NULL;
	if (fwrite(buf, 1, len, out) != len) {
		err_set(err, CWLD_EXIT_FAILED, "dag: write failed");
		goto out;
	}
	ret = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	for (i = 0; tasks != NULL && i < n; i++) {
		free(tasks[i].task_id);
		free(tasks[i].var);
	}
	free(tasks);
	free(seen);
	free(id);
	free(stem);
	free(description);
	free(cwl_word);
	return ret;
}

/* A client of Apache Airflow's REST API for mirroring runs: Airflow 3
 * (/api/v2, a token from /auth/token, refreshed when refused) and Airflow 2
 * (/api/v1, HTTP Basic), told apart at the first call. Every call is
 * asynchronous on the event loop (http.h); each one hides the version's own
 * request sequence (Airflow 2 sets notes with a second request). See
 * docs/airflow.md for the behaviour this relies on. */
#ifndef CWLD_AIRFLOW_API_H
#define CWLD_AIRFLOW_API_H
#include <event2/event.h>
#include <jansson.h>
#include "cwld/err.h"

struct airflow_api;

struct airflow_api_opts {
	const char *url;       /* the server, e.g. http://127.0.0.1:8080 (what
	                        * comes before /api/v2 and /auth/token) */
	const char *user;      /* may be NULL: no credentials sent */
	const char *password;
	long timeout_ms;       /* per request; 0: 30 s */
};

/* How a call ended. */
enum airflow_status {
	AIRFLOW_OK,            /* done, or found already done */
	AIRFLOW_RETRY,         /* not now: Airflow unreachable, busy, 5xx,
	                        * refused the credentials, or does not know
	                        * the DAG or run yet; the same call may work
	                        * later */
	AIRFLOW_REFUSED,       /* Airflow rejected the request itself (400,
	                        * 422, ...): sending it again will not help */
};

struct airflow_result {
	enum airflow_status status;
	long http_status;      /* of the last request; 0 when none answered */
	const char *msg;       /* what went wrong ("" when OK), for logs */
	const json_t *body;    /* the last answer as JSON, or NULL; borrowed
	                        * for the callback */
};

/* Called exactly once per call that started (returned 0), from the loop,
 * never from inside the call itself. */
typedef void (*airflow_api_cb)(void *arg, const struct airflow_result *res);

/* Copies opts. NULL with err (a URL that is not http(s)://). */
struct airflow_api *airflow_api_new(struct event_base *base,
    const struct airflow_api_opts *opts, struct cwld_err *err);
/* Aborts calls in flight without calling their callbacks. NULL does
 * nothing. Not from inside a callback. */
void airflow_api_free(struct airflow_api *a);

/* The major version found (2 or 3), 0 while unknown. */
int airflow_api_major(const struct airflow_api *a);
/* The version string Airflow reported ("3.3.2"), "" while unknown. */
const char *airflow_api_version(const struct airflow_api *a);

/* Each call below first detects the version if it is not known (GET
 * /api/v2/version, else /api/v1/version; neither needs credentials) and,
 * on Airflow 3, gets a token; a token refused (401 or 403) is replaced once
 * per call. ids are used as given (path segments are escaped). 0, or -1
 * with err when the call could not start (then cb is never called). */

/* Only detects the version. */
int airflow_api_detect(struct airflow_api *a, airflow_api_cb cb, void *arg,
    struct cwld_err *err);
/* GET /dags/{dag_id}/tasks: body {"tasks": [{"task_id", ...}], ...} once the
 * DAG file has been parsed; AIRFLOW_RETRY while it is unknown (404). */
int airflow_api_dag_tasks(struct airflow_api *a, const char *dag_id,
    airflow_api_cb cb, void *arg, struct cwld_err *err);
/* GET /importErrors (up to 100): body {"import_errors": [{"filename",
 * "stack_trace", ...}], ...}. */
int airflow_api_import_errors(struct airflow_api *a, airflow_api_cb cb, void *arg,
    struct cwld_err *err);
/* Creates DAG run run_id with conf (borrowed object, may be NULL) and note
 * (may be NULL). A run that exists already (409, then read back) is
 * AIRFLOW_OK. */
int airflow_api_create_run(struct airflow_api *a, const char *dag_id,
    const char *run_id, const json_t *conf, const char *note,
    airflow_api_cb cb, void *arg, struct cwld_err *err);
/* Sets the task instance's state ("success", "failed" or "skipped"; NULL:
 * only the note) and its note (may be NULL; at most 1000 characters). A
 * task already in that state is AIRFLOW_OK with the note set. Airflow 2:
 * the state (dry_run false) then setNote, whose answer must show the
 * state. */
int airflow_api_set_task(struct airflow_api *a, const char *dag_id,
    const char *run_id, const char *task_id, const char *state, const char *note,
    airflow_api_cb cb, void *arg, struct cwld_err *err);
/* Sets the DAG run's state ("success", "failed" or "queued") and note (may
 * be NULL). */
int airflow_api_set_run(struct airflow_api *a, const char *dag_id,
    const char *run_id, const char *state, const char *note,
    airflow_api_cb cb, void *arg, struct cwld_err *err);
/* GET the DAG run (body: the run) and GET its task instances (body
 * {"task_instances": [...]}); for reading back. */
int airflow_api_get_run(struct airflow_api *a, const char *dag_id,
    const char *run_id, airflow_api_cb cb, void *arg, struct cwld_err *err);
int airflow_api_task_instances(struct airflow_api *a, const char *dag_id,
    const char *run_id, airflow_api_cb cb, void *arg, struct cwld_err *err);

/* s percent-encoded as one URL path segment (all but [A-Za-z0-9._~-]);
 * new string. */
char *airflow_api_escape(const char *s);
/* s as valid UTF-8 (invalid bytes as '?') cut to at most max bytes (and so
 * characters) without splitting a sequence; new string. */
char *airflow_api_clip(const char *s, size_t max);

#endif

/* The run store: runs, steps, attempts and output provenance in one SQLite
 * file (WAL). Each call is one prepared statement in autocommit mode, so a
 * transition is durable when the call returns; what the states mean and when
 * to move between them is the engine's business. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cwld/err.h"
#include "cwld/log.h"
#include "cwld/migrate.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

#define STORE_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
#define STORE_FINAL "('success', 'failed', 'skipped', 'cancelled')"
#define STORE_BUSY_MS 5000
#define STORE_RUN_COLUMNS "id, process, inputs, outputs, state, created_at, started_at," \
	" finished_at, pid, error, labels, options, owner"

enum {
	STORE_RUN_CREATE,
	STORE_RUN_SET_STATE,
	STORE_RUN_SET_ERROR,
	STORE_STEP_CREATE,
	STORE_STEP_SET_STATE,
	STORE_ATTEMPT_CREATE,
	STORE_ATTEMPT_STARTED,
	STORE_ATTEMPT_FINISHED,
	STORE_ATTEMPT_CONTAINER,
	STORE_ATTEMPT_PID,
	STORE_OUTPUT_FILE_ADD,
	STORE_RUN_GET,
	STORE_RUNS_LIST,
	STORE_STEPS_OF_RUN,
	STORE_ATTEMPTS_OF_STEP,
	STORE_FILES_OF_ATTEMPT,
	STORE_RUN_SET_META,
	STORE_RUN_COUNTS,
	STORE_STEP_FIND,
	STORE_OUTBOX_ADD,
	STORE_OUTBOX_NEXT,
	STORE_OUTBOX_DONE,
	STORE_OUTBOX_RETRY,
	STORE_OUTBOX_OF_RUN,
	STORE_OUTBOX_OPEN_RUNS,
	STORE_OUTBOX_PRUNE,
	STORE_NSTMT
};

static const char *const store_sql[STORE_NSTMT] = {
	[STORE_RUN_CREATE] =
	    "INSERT INTO runs (id, process, inputs) VALUES (?1, ?2, ?3)",
	[STORE_RUN_SET_STATE] =
	    "UPDATE runs SET state = ?2, outputs = coalesce(?3, outputs),"
	    " started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, " STORE_NOW ")"
	    "  ELSE started_at END,"
	    " finished_at = CASE WHEN ?2 IN " STORE_FINAL " THEN " STORE_NOW
	    "  WHEN ?2 IN ('pending', 'running') THEN NULL ELSE finished_at END,"
	    " pid = CASE WHEN ?2 = 'running' THEN ?4 ELSE pid END"
	    " WHERE id = ?1",
	[STORE_RUN_SET_ERROR] =
	    "UPDATE runs SET error = ?2 WHERE id = ?1",
	[STORE_STEP_CREATE] =
	    "INSERT INTO steps (run_id, name) VALUES (?1, ?2)",
	[STORE_STEP_SET_STATE] =
	    "UPDATE steps SET state = ?2, outputs = coalesce(?3, outputs),"
	    " started_at = CASE WHEN ?2 = 'running' THEN coalesce(started_at, " STORE_NOW ")"
	    "  ELSE started_at END,"
	    " finished_at = CASE WHEN ?2 IN " STORE_FINAL " THEN " STORE_NOW
	    "  WHEN ?2 IN ('pending', 'running') THEN NULL ELSE finished_at END"
	    " WHERE id = ?1",
	[STORE_ATTEMPT_CREATE] =
	    "INSERT INTO attempts (step_id, number, workdir) VALUES (?1, ?2, ?3)",
	[STORE_ATTEMPT_STARTED] =
	    "UPDATE attempts SET state = 'running', container_id = ?2, image = ?3,"
	    " command = ?4, started_at = coalesce(started_at, " STORE_NOW ")"
	    " WHERE id = ?1",
	[STORE_ATTEMPT_CONTAINER] =
	    "UPDATE attempts SET container_id = ?2 WHERE id = ?1",
	[STORE_ATTEMPT_PID] =
	    "UPDATE attempts SET pid = ?2, pid_ident = ?3 WHERE id = ?1",
	[STORE_ATTEMPT_FINISHED] =
	    "UPDATE attempts SET state = ?2, exit_code = ?3, message = ?4,"
	    " finished_at = " STORE_NOW " WHERE id = ?1",
	[STORE_OUTPUT_FILE_ADD] =
	    "INSERT INTO output_files (attempt_id, location, checksum, size, image,"
	    " derived_from) VALUES (?1, ?2, ?3, ?4, ?5, coalesce(?6, '[]'))",
	[STORE_RUN_GET] =
	    "SELECT " STORE_RUN_COLUMNS " FROM runs WHERE id = ?1",
	[STORE_RUNS_LIST] =
	    "SELECT " STORE_RUN_COLUMNS " FROM runs WHERE ?1 IS NULL OR state = ?1"
	    " ORDER BY created_at, id",
	[STORE_STEPS_OF_RUN] =
	    "SELECT id, name, state, outputs, created_at, started_at, finished_at"
	    " FROM steps WHERE run_id = ?1 ORDER BY id",
	[STORE_ATTEMPTS_OF_STEP] =
	    "SELECT id, number, state, workdir, container_id, pid, pid_ident, image,"
	    " command, exit_code, message, created_at, started_at, finished_at"
	    " FROM attempts WHERE step_id = ?1 ORDER BY number",
	[STORE_FILES_OF_ATTEMPT] =
	    "SELECT location, checksum, size, image, derived_from, created_at"
	    " FROM output_files WHERE attempt_id = ?1 ORDER BY id",
	[STORE_RUN_SET_META] =
	    "UPDATE runs SET labels = coalesce(?2, labels), options = coalesce(?3, options),"
	    " owner = coalesce(?4, owner) WHERE id = ?1",
	[STORE_RUN_COUNTS] =
	    "SELECT state, count(*) FROM runs GROUP BY state",
	[STORE_STEP_FIND] =
	    "SELECT id, state, outputs FROM steps WHERE run_id = ?1 AND name = ?2"
	    " ORDER BY id DESC LIMIT 1",
	[STORE_OUTBOX_ADD] =
	    "INSERT INTO airflow_outbox (run_id, op, body) VALUES (?1, ?2, ?3)",
	/* the oldest row left of each run; next_at as ms from now */
	[STORE_OUTBOX_NEXT] =
	    "SELECT o.id, o.run_id, o.op, o.body, o.attempts,"
	    " CASE WHEN o.next_at IS NULL THEN 0 ELSE CAST(round((julianday(o.next_at)"
	    "  - julianday('now')) * 86400000.0) AS INTEGER) END AS due_ms"
	    " FROM airflow_outbox o WHERE o.outcome IS NULL AND o.id ="
	    " (SELECT min(i.id) FROM airflow_outbox i WHERE i.run_id = o.run_id"
	    "  AND i.outcome IS NULL) ORDER BY o.id",
	[STORE_OUTBOX_DONE] =
	    "UPDATE airflow_outbox SET outcome = ?2, last_error = coalesce(?3, last_error),"
	    " done_at = " STORE_NOW " WHERE id = ?1",
	[STORE_OUTBOX_RETRY] =
	    "UPDATE airflow_outbox SET attempts = attempts + 1, last_error = ?3,"
	    " next_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('%+.3f seconds', ?2 / 1000.0))"
	    " WHERE id = ?1",
	[STORE_OUTBOX_OF_RUN] =
	    "SELECT id, run_id, op, body, attempts, next_at, last_error, outcome, created_at,"
	    " done_at FROM airflow_outbox WHERE run_id = ?1 ORDER BY id",
	[STORE_OUTBOX_OPEN_RUNS] =
	    "SELECT o.run_id FROM airflow_outbox o WHERE o.op = 'create_run'"
	    " AND NOT EXISTS (SELECT 1 FROM airflow_outbox r WHERE r.run_id = o.run_id"
	    "  AND r.op = 'run') ORDER BY o.id",
	/* runs whose mirroring ended (their 'run' call is there and no call
	 * waits) more than ?1 seconds ago */
	[STORE_OUTBOX_PRUNE] =
	    "DELETE FROM airflow_outbox WHERE run_id IN (SELECT run_id FROM airflow_outbox"
	    " GROUP BY run_id HAVING sum(op = 'run') > 0 AND sum(outcome IS NULL) = 0"
	    " AND max(done_at) < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1))",
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[STORE_NSTMT];
};

/* Columns that hold JSON text and come back as JSON values. */
static const char *const store_json_columns[] = {
	"inputs", "outputs", "command", "derived_from", "labels", "options", "body",
};

static const char *const store_states[] = {
	STORE_PENDING, STORE_RUNNING, STORE_SUCCESS, STORE_FAILED, STORE_SKIPPED,
	STORE_CANCELLED,
};

static int
store_state_valid(const char *state)
{
	size_t i;

	if (state == NULL)
		return 0;
	for (i = 0; i < sizeof store_states / sizeof store_states[0]; i++) {
		if (strcmp(state, store_states[i]) == 0)
			return 1;
	}
	return 0;
}

/* Sets err to "store PATH: WHAT: sqlite message". */
static int store_fail(struct store *st, struct cwld_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
store_fail(struct store *st, struct cwld_err *err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return err_set(err, CWLD_EXIT_FAILED, "store %s: %s: %s", st->path, what,
	    sqlite3_errmsg(st->db));
}

static void
store_stmt_done(sqlite3_stmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

/* Binds a JSON value as compact JSON text, or NULL when value is NULL. */
static int
store_bind_json(sqlite3_stmt *stmt, int idx, const json_t *value)
{
	char *text;

	if (value == NULL)
		return sqlite3_bind_null(stmt, idx);
	if ((text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return SQLITE_MISUSE;
	return sqlite3_bind_text(stmt, idx, text, -1, free);
}

static int
store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(stmt, idx);
	return sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
}

/* Runs a write statement that was bound by the caller; then resets it.
 * changed: require that a row was touched (an UPDATE of an unknown id). */
static int
store_write(struct store *st, int which, int bind_rc, int changed,
    struct cwld_err *err, const char *what)
{
	sqlite3_stmt *stmt = st->stmt[which];
	int ret = -1;

	if (bind_rc != SQLITE_OK) {
		err_set(err, CWLD_EXIT_FAILED, "store %s: %s: cannot bind values: %s",
		    st->path, what, bind_rc == SQLITE_MISUSE ? "json encoding failed" :
		    sqlite3_errstr(bind_rc));
		goto out;
	}
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		store_fail(st, err, "%s", what);
		goto out;
	}
	if (changed && sqlite3_changes(st->db) == 0) {
		err_set(err, CWLD_EXIT_USAGE, "store %s: %s: no such row", st->path, what);
		goto out;
	}
	ret = 0;
out:
	store_stmt_done(stmt);
	return ret;
}

static int
store_pragma(struct store *st, const char *sql, const char *want,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = NULL;
	const char *got;
	int rc, ret = -1, waited = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_fail(st, err, "%s", sql);
		goto out;
	}
	/* Switching a new file to WAL takes an exclusive lock that the busy
	 * handler does not wait for: when several processes open the same new
	 * file at once, retry for the busy timeout. Only at open, never in
	 * the event loop. */
	while ((rc = sqlite3_step(stmt)) == SQLITE_BUSY && waited < STORE_BUSY_MS) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		sqlite3_reset(stmt);
		nanosleep(&ts, NULL);
		waited += 10;
	}
	for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
		got = (const char *)sqlite3_column_text(stmt, 0);
		if (want != NULL && (got == NULL || strcasecmp(got, want) != 0)) {
			err_set(err, CWLD_EXIT_FAILED, "store %s: %s: got '%s', want '%s'",
			    st->path, sql, got != NULL ? got : "", want);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "%s", sql);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(stmt);
	return ret;
}

struct store *
store_open(const char *path, struct cwld_err *err)
{
	struct store *st = NULL, *ret = NULL;
	int i;

	st = xcalloc(1, sizeof *st);
	st->path = xstrdup(path);
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL) != SQLITE_OK) {
		if (st->db == NULL)
			err_set(err, CWLD_EXIT_FAILED, "store %s: cannot open: out of memory",
			    path);
		else
			store_fail(st, err, "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	/* An in-memory database answers "memory" and is fine for tools. */
	if (store_pragma(st, "PRAGMA journal_mode = WAL",
	    strcmp(path, ":memory:") == 0 ? "memory" : "wal", err) == -1 ||
	    store_pragma(st, "PRAGMA foreign_keys = ON", NULL, err) == -1 ||
	    /* WAL + NORMAL: a commit survives the process dying (kill -9);
	     * only an OS crash or power loss may roll back the last ones, and
	     * the database stays consistent. FULL cost an fsync per commit. */
	    store_pragma(st, "PRAGMA synchronous = NORMAL", NULL, err) == -1)
		goto out;
	if (migrate_apply(st->db, err) == -1) {
		err_prefix(err, "store %s", path);
		goto out;
	}
	for (i = 0; i < STORE_NSTMT; i++) {
		if (sqlite3_prepare_v3(st->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &st->stmt[i], NULL) != SQLITE_OK) {
			store_fail(st, err, "preparing statement %d", i);
			goto out;
		}
	}
	ret = st;
	st = NULL;
out:
	store_close(st);
	return ret;
}

void
store_close(struct store *st)
{
	struct cwld_err err = { 0 };
	int i;

	if (st == NULL)
		return;
	if (store_batch_commit(st, &err) < 0)
		log_warnx("%s", err.msg);
	for (i = 0; i < STORE_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

int
store_batch_begin(struct store *st, struct cwld_err *err)
{
	if (!sqlite3_get_autocommit(st->db))
		return 0;
	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, err, "opening a write batch");
	return 0;
}

int
store_batch_commit(struct store *st, struct cwld_err *err)
{
	if (sqlite3_get_autocommit(st->db))
		return 0;
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(st, err, "committing a write batch");
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
store_run_create(struct store *st, const char *run_id, const char *process,
    const json_t *inputs, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_RUN_CREATE];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "creating run '%s'", run_id);
	if ((rc = store_bind_text(stmt, 1, run_id)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, process)) == SQLITE_OK) {
		if (inputs != NULL)
			rc = store_bind_json(stmt, 3, inputs);
		else
			rc = sqlite3_bind_text(stmt, 3, "{}", -1, SQLITE_STATIC);
	}
	return store_write(st, STORE_RUN_CREATE, rc, 0, err, what);
}

int
store_run_set_state(struct store *st, const char *run_id, const char *state,
    const json_t *outputs, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_RUN_SET_STATE];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "setting run '%s' to '%s'", run_id,
	    state != NULL ? state : "(null)");
	if (!store_state_valid(state))
		return err_set(err, CWLD_EXIT_FAILED, "store %s: %s: unknown state",
		    st->path, what);
	if ((rc = store_bind_text(stmt, 1, run_id)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, state)) == SQLITE_OK &&
	    (rc = store_bind_json(stmt, 3, outputs)) == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 4, (sqlite3_int64)getpid());
	return store_write(st, STORE_RUN_SET_STATE, rc, 1, err, what);
}

int
store_run_set_error(struct store *st, const char *run_id, const char *message,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_RUN_SET_ERROR];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "recording the error of run '%s'", run_id);
	if ((rc = store_bind_text(stmt, 1, run_id)) == SQLITE_OK)
		rc = store_bind_text(stmt, 2, message);
	return store_write(st, STORE_RUN_SET_ERROR, rc, 1, err, what);
}

int64_t
store_step_create(struct store *st, const char *run_id, const char *name,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_STEP_CREATE];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "creating step '%s' of run '%s'", name, run_id);
	if ((rc = store_bind_text(stmt, 1, run_id)) == SQLITE_OK)
		rc = store_bind_text(stmt, 2, name);
	if (store_write(st, STORE_STEP_CREATE, rc, 0, err, what) == -1)
		return -1;
	return (int64_t)sqlite3_last_insert_rowid(st->db);
}

int
store_step_set_state(struct store *st, int64_t step, const char *state,
    const json_t *outputs, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_STEP_SET_STATE];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "setting step %lld to '%s'", (long long)step,
	    state != NULL ? state : "(null)");
	if (!store_state_valid(state))
		return err_set(err, CWLD_EXIT_FAILED, "store %s: %s: unknown state",
		    st->path, what);
	if ((rc = sqlite3_bind_int64(stmt, 1, step)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, state)) == SQLITE_OK)
		rc = store_bind_json(stmt, 3, outputs);
	return store_write(st, STORE_STEP_SET_STATE, rc, 1, err, what);
}

int64_t
store_attempt_create(struct store *st, int64_t step, int number, const char *workdir,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_ATTEMPT_CREATE];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "creating attempt %d of step %lld", number,
	    (long long)step);
	if ((rc = sqlite3_bind_int64(stmt, 1, step)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(stmt, 2, number)) == SQLITE_OK)
		rc = store_bind_text(stmt, 3, workdir);
	if (store_write(st, STORE_ATTEMPT_CREATE, rc, 0, err, what) == -1)
		return -1;
	return (int64_t)sqlite3_last_insert_rowid(st->db);
}

int
store_attempt_started(struct store *st, int64_t attempt, const char *container_id,
    const char *image, const json_t *command, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_ATTEMPT_STARTED];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "starting attempt %lld", (long long)attempt);
	if ((rc = sqlite3_bind_int64(stmt, 1, attempt)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, container_id)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 3, image)) == SQLITE_OK)
		rc = store_bind_json(stmt, 4, command);
	return store_write(st, STORE_ATTEMPT_STARTED, rc, 1, err, what);
}

int
store_attempt_set_pid(struct store *st, int64_t attempt, long pid, const char *ident,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_ATTEMPT_PID];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "recording the process of attempt %lld", (long long)attempt);
	if ((rc = sqlite3_bind_int64(stmt, 1, attempt)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(stmt, 2, pid)) == SQLITE_OK)
		rc = store_bind_text(stmt, 3, ident);
	return store_write(st, STORE_ATTEMPT_PID, rc, 1, err, what);
}

int
store_attempt_finished(struct store *st, int64_t attempt, const char *state,
    int exit_code, const char *message, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_ATTEMPT_FINISHED];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "finishing attempt %lld as '%s'",
	    (long long)attempt, state != NULL ? state : "(null)");
	if (!store_state_valid(state))
		return err_set(err, CWLD_EXIT_FAILED, "store %s: %s: unknown state",
		    st->path, what);
	if ((rc = sqlite3_bind_int64(stmt, 1, attempt)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, state)) == SQLITE_OK &&
	    (rc = (exit_code < 0 ? sqlite3_bind_null(stmt, 3) :
	    sqlite3_bind_int(stmt, 3, exit_code))) == SQLITE_OK)
		rc = store_bind_text(stmt, 4, message);
	return store_write(st, STORE_ATTEMPT_FINISHED, rc, 1, err, what);
}

int
store_attempt_set_container(struct store *st, int64_t attempt, const char *container_id,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_ATTEMPT_CONTAINER];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "recording the container of attempt %lld", (long long)attempt);
	if ((rc = sqlite3_bind_int64(stmt, 1, attempt)) == SQLITE_OK)
		rc = store_bind_text(stmt, 2, container_id);
	return store_write(st, STORE_ATTEMPT_CONTAINER, rc, 1, err, what);
}

int
store_output_file_add(struct store *st, int64_t attempt, const char *location,
    const char *checksum, int64_t size, const char *image, const json_t *derived_from,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_OUTPUT_FILE_ADD];
	char what[512];
	int rc;

	snprintf(what, sizeof what, "recording output '%s' of attempt %lld",
	    location != NULL ? location : "(null)", (long long)attempt);
	if ((rc = sqlite3_bind_int64(stmt, 1, attempt)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, location)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 3, checksum)) == SQLITE_OK &&
	    (rc = (size < 0 ? sqlite3_bind_null(stmt, 4) :
	    sqlite3_bind_int64(stmt, 4, size))) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 5, image)) == SQLITE_OK)
		rc = store_bind_json(stmt, 6, derived_from);
	return store_write(st, STORE_OUTPUT_FILE_ADD, rc, 0, err, what);
}

/* One result row as a new JSON object; NULL on a JSON column that fails to
 * parse (cannot happen through this module: columns are json_valid). */
static json_t *
store_row_json(sqlite3_stmt *stmt)
{
	json_t *obj = NULL, *ret = NULL, *v;
	const char *name, *text;
	size_t j;
	int i, n, is_json;

	obj = json_object();
	n = sqlite3_column_count(stmt);
	for (i = 0; i < n; i++) {
		name = sqlite3_column_name(stmt, i);
		is_json = 0;
		for (j = 0; j < sizeof store_json_columns / sizeof store_json_columns[0]; j++)
			is_json |= strcmp(name, store_json_columns[j]) == 0;
		switch (sqlite3_column_type(stmt, i)) {
		case SQLITE_NULL:
			v = json_null();
			break;
		case SQLITE_INTEGER:
			v = json_integer((json_int_t)sqlite3_column_int64(stmt, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(stmt, i));
			break;
		default:
			text = (const char *)sqlite3_column_text(stmt, i);
			if (text == NULL)
				v = json_null();
			else if (is_json)
				v = json_loads(text, JSON_DECODE_ANY, NULL);
			else
				v = json_stringn_nocheck(text,
				    (size_t)sqlite3_column_bytes(stmt, i));
			break;
		}
		if (v == NULL)
			goto out;
		json_object_set_new(obj, name, v);
	}
	ret = obj;
	obj = NULL;
out:
	json_decref(obj);
	return ret;
}

/* Runs a bound query and appends each row (as store_row_json) to arr. */
static int
store_query_rows(struct store *st, int which, json_t *arr, struct cwld_err *err,
    const char *what)
{
	sqlite3_stmt *stmt = st->stmt[which];
	json_t *row;
	int rc, ret = -1;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((row = store_row_json(stmt)) == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "store %s: %s: bad JSON in a row",
			    st->path, what);
			goto out;
		}
		json_array_append_new(arr, row);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "%s", what);
		goto out;
	}
	ret = 0;
out:
	store_stmt_done(stmt);
	return ret;
}

/* Fills in "steps" (with attempts and their files) of a run object. */
static int
store_run_fill(struct store *st, json_t *run, struct cwld_err *err)
{
	json_t *steps, *attempts, *files, *step, *attempt;
	const char *run_id = json_string_value(json_object_get(run, "id"));
	char what[256];
	size_t i, j;

	snprintf(what, sizeof what, "reading the steps of run '%s'", run_id);
	steps = json_array();
	json_object_set_new(run, "steps", steps);
	if (store_bind_text(st->stmt[STORE_STEPS_OF_RUN], 1, run_id) != SQLITE_OK ||
	    store_query_rows(st, STORE_STEPS_OF_RUN, steps, err, what) == -1)
		return -1;
	json_array_foreach(steps, i, step) {
		attempts = json_array();
		json_object_set_new(step, "attempts", attempts);
		sqlite3_bind_int64(st->stmt[STORE_ATTEMPTS_OF_STEP], 1,
		    json_integer_value(json_object_get(step, "id")));
		if (store_query_rows(st, STORE_ATTEMPTS_OF_STEP, attempts, err, what) == -1)
			return -1;
		json_array_foreach(attempts, j, attempt) {
			files = json_array();
			json_object_set_new(attempt, "output_files", files);
			sqlite3_bind_int64(st->stmt[STORE_FILES_OF_ATTEMPT], 1,
			    json_integer_value(json_object_get(attempt, "id")));
			if (store_query_rows(st, STORE_FILES_OF_ATTEMPT, files, err,
			    what) == -1)
				return -1;
		}
	}
	return 0;
}

json_t *
store_run_get(struct store *st, const char *run_id, struct cwld_err *err)
{
	json_t *rows = NULL, *ret = NULL;
	char what[256];
	int in_tx = 0;

	snprintf(what, sizeof what, "reading run '%s'", run_id);
	/* One read transaction so the run and its steps are one snapshot (an
	 * open batch already is one). */
	if (sqlite3_get_autocommit(st->db)) {
		if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
			store_fail(st, err, "%s", what);
			goto out;
		}
		in_tx = 1;
	}
	rows = json_array();
	if (store_bind_text(st->stmt[STORE_RUN_GET], 1, run_id) != SQLITE_OK ||
	    store_query_rows(st, STORE_RUN_GET, rows, err, what) == -1)
		goto out;
	if (json_array_size(rows) == 0) {
		err_set(err, CWLD_EXIT_USAGE, "no run '%s'", run_id);
		goto out;
	}
	if (store_run_fill(st, json_array_get(rows, 0), err) == -1)
		goto out;
	ret = json_incref(json_array_get(rows, 0));
out:
	if (in_tx)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	json_decref(rows);
	return ret;
}

json_t *
store_runs_list(struct store *st, const char *state, struct cwld_err *err)
{
	json_t *rows = NULL, *ret = NULL;

	rows = json_array();
	if (store_bind_text(st->stmt[STORE_RUNS_LIST], 1, state) != SQLITE_OK ||
	    store_query_rows(st, STORE_RUNS_LIST, rows, err, "listing runs") == -1)
		goto out;
	ret = rows;
	rows = NULL;
out:
	json_decref(rows);
	return ret;
}

int
store_run_set_meta(struct store *st, const char *run_id, const json_t *labels,
    const json_t *options, const char *owner, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_RUN_SET_META];
	char *l = labels ? json_dumps(labels, JSON_COMPACT) : NULL;
	char *o = options ? json_dumps(options, JSON_COMPACT) : NULL;
	int rc;

	rc = store_bind_text(stmt, 1, run_id) == SQLITE_OK &&
	    store_bind_text(stmt, 2, l) == SQLITE_OK &&
	    store_bind_text(stmt, 3, o) == SQLITE_OK &&
	    store_bind_text(stmt, 4, owner) == SQLITE_OK ? sqlite3_step(stmt) : SQLITE_ERROR;
	free(l);
	free(o);
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "setting labels and options of run '%s'", run_id);
		store_stmt_done(stmt);
		return -1;
	}
	store_stmt_done(stmt);
	if (sqlite3_changes(st->db) == 0)
		return err_set(err, CWLD_EXIT_USAGE, "no run '%s'", run_id);
	return 0;
}

json_t *
store_run_counts(struct store *st, struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_RUN_COUNTS];
	json_t *counts = json_object();
	size_t i;
	int rc;

	for (i = 0; i < sizeof store_states / sizeof store_states[0]; i++)
		json_object_set_new(counts, store_states[i], json_integer(0));
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		json_object_set_new(counts, (const char *)sqlite3_column_text(stmt, 0),
		    json_integer(sqlite3_column_int64(stmt, 1)));
	store_stmt_done(stmt);
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "counting runs");
		json_decref(counts);
		return NULL;
	}
	return counts;
}

int64_t
store_step_find(struct store *st, const char *run_id, const char *name, json_t **found,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_STEP_FIND];
	int64_t id = 0;
	int rc;

	if (found)
		*found = NULL;
	if (store_bind_text(stmt, 1, run_id) != SQLITE_OK ||
	    store_bind_text(stmt, 2, name) != SQLITE_OK)
		rc = SQLITE_ERROR;
	else if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		if (found && (*found = store_row_json(stmt)) == NULL)
			rc = SQLITE_ERROR;
		else
			rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "looking up step '%s' of run '%s'", name, run_id);
		store_stmt_done(stmt);
		return -1;
	}
	store_stmt_done(stmt);
	return id;
}

/* Newest first; the page token is the created_at and id of the last run of
 * the previous page, so pages stay stable while runs are added. */
json_t *
store_runs_page(struct store *st, const struct store_runs_filter *f, struct cwld_err *err)
{
	sqlite3_stmt *stmt = NULL;
	char *sql = NULL, *tok_time = NULL;
	const char *tok_id = NULL, *key;
	json_t *runs = json_array(), *ret = NULL, *v;
	size_t i, nstates = 0, limit = f->limit ? f->limit : 100;
	int rc, n = 1;
	size_t cap = 1024, len;

	sql = xmalloc(cap);
	len = (size_t)snprintf(sql, cap, "SELECT " STORE_RUN_COLUMNS " FROM runs WHERE 1");
	for (i = 0; f->states && f->states[i]; i++)
		nstates++;
	if (nstates > 16 || json_object_size(f->labels) > 16) {
		err_set(err, CWLD_EXIT_USAGE, "at most 16 states and 16 labels in a filter");
		goto out;
	}
	if (nstates) {
		len += (size_t)snprintf(sql + len, cap - len, " AND state IN (");
		for (i = 0; i < nstates; i++)
			len += (size_t)snprintf(sql + len, cap - len, "%s?", i ? ", " : "");
		len += (size_t)snprintf(sql + len, cap - len, ")");
	}
	for (i = 0; i < json_object_size(f->labels); i++)
		len += (size_t)snprintf(sql + len, cap - len, " AND json_extract(labels, ?) = ?");
	if (f->page_token) {
		const char *bar = strchr(f->page_token, '|');

		if (bar == NULL || bar == f->page_token || bar[1] == '\0') {
			err_set(err, CWLD_EXIT_USAGE, "bad page token '%s'", f->page_token);
			goto out;
		}
		tok_time = xstrndup(f->page_token, (size_t)(bar - f->page_token));
		tok_id = bar + 1;
		len += (size_t)snprintf(sql + len, cap - len,
		    " AND (created_at < ? OR (created_at = ? AND id < ?))");
	}
	snprintf(sql + len, cap - len, " ORDER BY created_at DESC, id DESC LIMIT %zu", limit + 1);
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_fail(st, err, "listing runs");
		goto out;
	}
	for (i = 0; i < nstates; i++)
		sqlite3_bind_text(stmt, n++, f->states[i], -1, SQLITE_TRANSIENT);
	json_object_foreach((json_t *)f->labels, key, v) {
		/* a JSON path naming the key, quoted: keys may hold dots */
		char *path = xasprintf("$.\"%s\"", key);

		for (char *q = path + 3; *q && q[1]; q++)
			if (*q == '"' || *q == '\\')
				*q = '_'; /* cannot match a label key written by the API */
		sqlite3_bind_text(stmt, n++, path, -1, SQLITE_TRANSIENT);
		free(path);
		sqlite3_bind_text(stmt, n++, json_is_string(v) ? json_string_value(v) : "", -1,
		    SQLITE_TRANSIENT);
	}
	if (tok_time) {
		sqlite3_bind_text(stmt, n++, tok_time, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, n++, tok_time, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(stmt, n++, tok_id, -1, SQLITE_TRANSIENT);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		json_t *row = store_row_json(stmt);

		if (row == NULL) {
			err_set(err, CWLD_EXIT_FAILED, "store %s: listing runs: bad JSON in a row",
			    st->path);
			goto out;
		}
		json_array_append_new(runs, row);
	}
	if (rc != SQLITE_DONE) {
		store_fail(st, err, "listing runs");
		goto out;
	}
	ret = json_object();
	if (json_array_size(runs) > limit) {
		json_t *last = json_array_get(runs, limit - 1);

		json_object_set_new(ret, "next_page_token", json_sprintf("%s|%s",
		    json_string_value(json_object_get(last, "created_at")),
		    json_string_value(json_object_get(last, "id"))));
		json_array_remove(runs, limit);
	}
	json_object_set(ret, "runs", runs);
out:
	sqlite3_finalize(stmt);
	free(sql);
	free(tok_time);
	json_decref(runs);
	return ret;
}

json_t *
store_attempt_latest(struct store *st, int64_t step, struct cwld_err *err)
{
	json_t *rows = json_array(), *ret = NULL;
	char what[96];

	snprintf(what, sizeof what, "reading the attempts of step %lld", (long long)step);
	sqlite3_bind_int64(st->stmt[STORE_ATTEMPTS_OF_STEP], 1, step);
	if (store_query_rows(st, STORE_ATTEMPTS_OF_STEP, rows, err, what) == -1) {
		json_decref(rows);
		return NULL;
	}
	ret = json_array_size(rows) ? json_incref(json_array_get(rows, json_array_size(rows) - 1)) :
	    json_null();
	json_decref(rows);
	return ret;
}

/* ---- the Airflow mirror's outbox (migrations/0003_airflow_outbox.sql) ---- */

int64_t
store_outbox_add(struct store *st, const char *run_id, const char *op, const json_t *body,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_OUTBOX_ADD];
	char what[256];
	int rc;

	snprintf(what, sizeof what, "queueing Airflow call '%s' of run '%s'", op, run_id);
	if ((rc = store_bind_text(stmt, 1, run_id)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, op)) == SQLITE_OK)
		rc = store_bind_json(stmt, 3, body);
	if (store_write(st, STORE_OUTBOX_ADD, rc, 0, err, what) == -1)
		return -1;
	return (int64_t)sqlite3_last_insert_rowid(st->db);
}

json_t *
store_outbox_next(struct store *st, struct cwld_err *err)
{
	json_t *rows = json_array();

	if (store_query_rows(st, STORE_OUTBOX_NEXT, rows, err,
	    "reading the Airflow calls to make") == -1) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

int
store_outbox_done(struct store *st, int64_t id, const char *outcome, const char *error,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_OUTBOX_DONE];
	char what[128];
	int rc;

	snprintf(what, sizeof what, "marking Airflow call %lld %s", (long long)id,
	    outcome ? outcome : "(null)");
	if ((rc = sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id)) == SQLITE_OK &&
	    (rc = store_bind_text(stmt, 2, outcome)) == SQLITE_OK)
		rc = store_bind_text(stmt, 3, error);
	return store_write(st, STORE_OUTBOX_DONE, rc, 1, err, what);
}

int
store_outbox_retry(struct store *st, int64_t id, int64_t delay_ms, const char *error,
    struct cwld_err *err)
{
	sqlite3_stmt *stmt = st->stmt[STORE_OUTBOX_RETRY];
	char what[128];
	int rc;

	snprintf(what, sizeof what, "delaying Airflow call %lld", (long long)id);
	if ((rc = sqlite3_bind_int64(stmt, 1, (sqlite3_int64)id)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(stmt, 2, (sqlite3_int64)delay_ms)) == SQLITE_OK)
		rc = store_bind_text(stmt, 3, error);
	return store_write(st, STORE_OUTBOX_RETRY, rc, 1, err, what);
}

json_t *
store_outbox_of_run(struct store *st, const char *run_id, struct cwld_err *err)
{
	json_t *rows = json_array();
	char what[256];

	snprintf(what, sizeof what, "reading the Airflow calls of run '%s'", run_id);
	if (store_bind_text(st->stmt[STORE_OUTBOX_OF_RUN], 1, run_id) != SQLITE_OK ||
	    store_query_rows(st, STORE_OUTBOX_OF_RUN, rows, err, what) == -1) {
		json_decref(rows);
		return NULL;
	}
	return rows;
}

json_t *
store_outbox_open_runs(struct store *st, struct cwld_err *err)
{
	json_t *rows = json_array(), *ids = NULL, *row;
	size_t i;

	if (store_query_rows(st, STORE_OUTBOX_OPEN_RUNS, rows, err,
	    "listing runs mirrored to Airflow") == -1)
		goto out;
	ids = json_array();
	json_array_foreach(rows, i, row)
		json_array_append(ids, json_object_get(row, "run_id"));
out:
	json_decref(rows);
	return ids;
}

int64_t
store_outbox_prune(struct store *st, int64_t older_than_s, struct cwld_err *err)
{
	char mod[48];

	snprintf(mod, sizeof mod, "-%lld seconds", (long long)(older_than_s > 0 ? older_than_s : 0));
	if (store_write(st, STORE_OUTBOX_PRUNE,
	    sqlite3_bind_text(st->stmt[STORE_OUTBOX_PRUNE], 1, mod, -1, SQLITE_TRANSIENT), 0,
	    err, "pruning the Airflow outbox") == -1)
		return -1;
	return (int64_t)sqlite3_changes(st->db);
}

char *
store_new_run_id(void)
{
	unsigned char r[6] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
		/* no urandom: the clock and pid still keep ids apart */
		for (size_t i = 0; i < sizeof r; i++)
			r[i] = (unsigned char)((ts.tv_nsec >> (i * 5)) ^ ((long)getpid() >> i));
	}
	if (fd >= 0)
		close(fd);
	return xasprintf("%08lx%02x%02x%02x%02x%02x%02x", (unsigned long)ts.tv_sec,
	    r[0], r[1], r[2], r[3], r[4], r[5]);
}

/* Tests for store.c on a real SQLite file in a fresh temporary directory:
 * migrations once, WAL, the run/step/attempt lifecycle, provenance rows and
 * the constraints that keep bad data out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cwld/err.h"
#include "cwld/fs.h"
#include "cwld/migrate.h"
#include "cwld/store.h"
#include "cwld/xmalloc.h"

struct test_store {
	char *dir;
	char *path;
	struct store *st;
};

static int
test_store_setup(void **state)
{
	struct test_store *t = xcalloc(1, sizeof *t);
	struct cwld_err err = { 0 };
	char tmpl[] = "/tmp/cwld-test-store.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		return -1;
	t->dir = xstrdup(tmpl);
	t->path = xasprintf("%s/cwld.db", t->dir);
	t->st = store_open(t->path, &err);
	if (t->st == NULL) {
		print_error("store_open: %s\n", err.msg);
		return -1;
	}
	*state = t;
	return 0;
}

static int
test_store_teardown(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };

	store_close(t->st);
	fs_rm_rf(t->dir, &err);
	free(t->path);
	free(t->dir);
	free(t);
	return 0;
}

/* A second, plain connection to the same file, as another process would. */
static sqlite3 *
test_store_peek(struct test_store *t)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE, NULL),
	    SQLITE_OK);
	sqlite3_extended_result_codes(db, 1);
	return db;
}

static char *
test_store_text(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	char *s;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	s = xstrdup(sqlite3_column_text(stmt, 0) != NULL ?
	    (const char *)sqlite3_column_text(stmt, 0) : "(null)");
	sqlite3_finalize(stmt);
	return s;
}

static void
test_store_text_eq(sqlite3 *db, const char *sql, const char *want)
{
	char *got = test_store_text(db, sql);

	assert_string_equal(got, want);
	free(got);
}

static void
test_store_is_time(const json_t *v)
{
	const char *s = json_string_value(v);

	assert_non_null(s);
	/* 2024-05-01T12:00:00.123Z */
	assert_int_equal(strlen(s), 24);
	assert_int_equal(s[4], '-');
	assert_int_equal(s[10], 'T');
	assert_int_equal(s[19], '.');
	assert_int_equal(s[23], 'Z');
}

static void
test_store_migrated_once(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	char *want;
	sqlite3 *db;
	int i;

	/* Reopening (twice) applies nothing again. */
	for (i = 0; i < 2; i++) {
		store_close(t->st);
		t->st = store_open(t->path, &err);
		assert_non_null(t->st);
	}
	db = test_store_peek(t);
	want = xasprintf("%zu", migrate_nentries);
	test_store_text_eq(db, "SELECT count(*) FROM schema_migrations", want);
	free(want);
	assert_int_equal(migrate_version(db), migrate_entries[migrate_nentries - 1].number);
	sqlite3_close(db);
}

static void
test_store_wal(void **state)
{
	struct test_store *t = *state;
	sqlite3 *db = test_store_peek(t);
	char *wal;

	test_store_text_eq(db, "PRAGMA journal_mode", "wal");
	sqlite3_close(db);
	wal = xasprintf("%s-wal", t->path);
	assert_true(fs_exists(wal));
	free(wal);
}

static void
test_store_lifecycle(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	json_t *inputs, *outputs, *command, *derived, *run, *step, *attempt, *file;
	int64_t step_id, attempt_id;

	inputs = json_pack("{s:{s:s,s:s}}", "file1", "class", "File", "location",
	    "file:///data/in.txt");
	assert_int_equal(store_run_create(t->st, "run-1", "file:///wf.cwl", inputs, &err), 0);
	run = store_run_get(t->st, "run-1", &err);
	assert_non_null(run);
	assert_string_equal(json_string_value(json_object_get(run, "state")), STORE_PENDING);
	assert_true(json_equal(json_object_get(run, "inputs"), inputs));
	assert_true(json_is_null(json_object_get(run, "started_at")));
	test_store_is_time(json_object_get(run, "created_at"));
	json_decref(run);

	assert_int_equal(store_run_set_state(t->st, "run-1", STORE_RUNNING, NULL, &err), 0);
	step_id = store_step_create(t->st, "run-1", "step1", &err);
	assert_true(step_id > 0);
	assert_int_equal(store_step_set_state(t->st, step_id, STORE_RUNNING, NULL, &err), 0);
	attempt_id = store_attempt_create(t->st, step_id, 1, "/state/runs/run-1/step1/1", &err);
	assert_true(attempt_id > 0);
	command = json_pack("[s,s]", "wc", "-l");
	assert_int_equal(store_attempt_started(t->st, attempt_id, "c0ffee", "busybox:1.36",
	    command, &err), 0);
	derived = json_pack("[{s:s,s:s}]", "location", "file:///data/in.txt",
	    "checksum", "sha1$aaaa");
	assert_int_equal(store_output_file_add(t->st, attempt_id, "file:///out/o.txt",
	    "sha1$bbbb", 12, "busybox:1.36", derived, &err), 0);
	assert_int_equal(store_attempt_finished(t->st, attempt_id, STORE_SUCCESS, 0, NULL,
	    &err), 0);
	outputs = json_pack("{s:i}", "count_output", 16);
	assert_int_equal(store_step_set_state(t->st, step_id, STORE_SUCCESS, outputs, &err), 0);
	assert_int_equal(store_run_set_state(t->st, "run-1", STORE_SUCCESS, outputs, &err), 0);

	run = store_run_get(t->st, "run-1", &err);
	assert_non_null(run);
	assert_string_equal(json_string_value(json_object_get(run, "state")), STORE_SUCCESS);
	assert_true(json_equal(json_object_get(run, "outputs"), outputs));
	assert_int_equal(json_integer_value(json_object_get(run, "pid")), getpid());
	test_store_is_time(json_object_get(run, "started_at"));
	test_store_is_time(json_object_get(run, "finished_at"));
	assert_true(json_is_null(json_object_get(run, "error")));
	assert_int_equal(json_array_size(json_object_get(run, "steps")), 1);
	step = json_array_get(json_object_get(run, "steps"), 0);
	assert_string_equal(json_string_value(json_object_get(step, "name")), "step1");
	assert_string_equal(json_string_value(json_object_get(step, "state")), STORE_SUCCESS);
	assert_true(json_equal(json_object_get(step, "outputs"), outputs));
	test_store_is_time(json_object_get(step, "finished_at"));
	attempt = json_array_get(json_object_get(step, "attempts"), 0);
	assert_non_null(attempt);
	assert_int_equal(json_integer_value(json_object_get(attempt, "id")), attempt_id);
	assert_int_equal(json_integer_value(json_object_get(attempt, "number")), 1);
	assert_string_equal(json_string_value(json_object_get(attempt, "container_id")), "c0ffee");
	assert_string_equal(json_string_value(json_object_get(attempt, "image")), "busybox:1.36");
	assert_true(json_equal(json_object_get(attempt, "command"), command));
	assert_int_equal(json_integer_value(json_object_get(attempt, "exit_code")), 0);
	assert_true(json_is_integer(json_object_get(attempt, "exit_code")));
	test_store_is_time(json_object_get(attempt, "started_at"));
	file = json_array_get(json_object_get(attempt, "output_files"), 0);
	assert_non_null(file);
	assert_string_equal(json_string_value(json_object_get(file, "location")), "file:///out/o.txt");
	assert_string_equal(json_string_value(json_object_get(file, "checksum")), "sha1$bbbb");
	assert_int_equal(json_integer_value(json_object_get(file, "size")), 12);
	assert_true(json_equal(json_object_get(file, "derived_from"), derived));
	json_decref(run);

	/* Outputs NULL keeps what was stored; an error message is recorded. */
	assert_int_equal(store_run_set_state(t->st, "run-1", STORE_FAILED, NULL, &err), 0);
	assert_int_equal(store_run_set_error(t->st, "run-1", "step 'step1' failed", &err), 0);
	run = store_run_get(t->st, "run-1", &err);
	assert_true(json_equal(json_object_get(run, "outputs"), outputs));
	assert_string_equal(json_string_value(json_object_get(run, "error")),
	    "step 'step1' failed");
	json_decref(run);

	json_decref(inputs);
	json_decref(outputs);
	json_decref(command);
	json_decref(derived);
}

static void
test_store_attempt_unknown_exit(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	int64_t step_id, a1, a2;
	json_t *run, *attempts;

	assert_int_equal(store_run_create(t->st, "r", "file:///t.cwl", NULL, &err), 0);
	step_id = store_step_create(t->st, "r", "scatter/align.3", &err);
	assert_true(step_id > 0);
	a1 = store_attempt_create(t->st, step_id, 1, NULL, &err);
	assert_true(a1 > 0);
	/* Host execution: no container, no image, no command yet. */
	assert_int_equal(store_attempt_started(t->st, a1, NULL, NULL, NULL, &err), 0);
	assert_int_equal(store_attempt_finished(t->st, a1, STORE_FAILED, -1, "killed", &err), 0);
	/* Same number twice is refused; the next number is fine. */
	assert_int_equal(store_attempt_create(t->st, step_id, 1, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "UNIQUE"));
	assert_non_null(strstr(err.msg, "creating attempt 1 of step"));
	a2 = store_attempt_create(t->st, step_id, 2, NULL, &err);
	assert_true(a2 > a1);

	run = store_run_get(t->st, "r", &err);
	assert_non_null(run);
	assert_true(json_is_object(json_object_get(run, "inputs")));
	assert_int_equal(json_object_size(json_object_get(run, "inputs")), 0);
	attempts = json_object_get(json_array_get(json_object_get(run, "steps"), 0), "attempts");
	assert_int_equal(json_array_size(attempts), 2);
	assert_true(json_is_null(json_object_get(json_array_get(attempts, 0), "exit_code")));
	assert_true(json_is_null(json_object_get(json_array_get(attempts, 0), "container_id")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(attempts, 0),
	    "message")), "killed");
	assert_string_equal(json_string_value(json_object_get(json_array_get(attempts, 1),
	    "state")), STORE_PENDING);
	json_decref(run);
}

static void
test_store_bad_state(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	sqlite3 *db;
	int64_t step_id;

	assert_int_equal(store_run_create(t->st, "r", "file:///t.cwl", NULL, &err), 0);
	assert_int_equal(store_run_set_state(t->st, "r", "done", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "'done'"));
	step_id = store_step_create(t->st, "r", "s", &err);
	assert_int_equal(store_step_set_state(t->st, step_id, "RUNNING", NULL, &err), -1);

	/* The schema itself refuses, whoever writes. */
	db = test_store_peek(t);
	assert_int_equal(sqlite3_exec(db, "UPDATE runs SET state = 'done'", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO runs (id, process, state)"
	    " VALUES ('x', 'p', 'bogus')", NULL, NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "UPDATE steps SET state = 'waiting'", NULL, NULL,
	    NULL), SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(sqlite3_exec(db, "UPDATE runs SET inputs = '{not json'", NULL,
	    NULL, NULL), SQLITE_CONSTRAINT_CHECK);
	test_store_text_eq(db, "SELECT state FROM runs WHERE id = 'r'", "pending");
	sqlite3_close(db);
}

static void
test_store_unknown_rows(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	json_t *run;

	assert_int_equal(store_run_set_state(t->st, "nope", STORE_RUNNING, NULL, &err), -1);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	assert_non_null(strstr(err.msg, "run 'nope'"));
	/* Foreign keys are on. */
	memset(&err, 0, sizeof err);
	assert_int_equal(store_step_create(t->st, "nope", "s", &err), -1);
	assert_non_null(strstr(err.msg, "FOREIGN KEY"));
	assert_non_null(strstr(err.msg, t->path));
	assert_int_equal(store_attempt_create(t->st, 12345, 1, NULL, &err), -1);
	assert_int_equal(store_output_file_add(t->st, 999, "file:///x", NULL, -1, NULL,
	    NULL, &err), -1);
	assert_int_equal(store_attempt_finished(t->st, 999, STORE_SUCCESS, 0, NULL, &err), -1);
	run = store_run_get(t->st, "nope", &err);
	assert_null(run);
	assert_int_equal(err.code, CWLD_EXIT_USAGE);
	/* Duplicate run ids are refused. */
	assert_int_equal(store_run_create(t->st, "r", "p", NULL, &err), 0);
	assert_int_equal(store_run_create(t->st, "r", "p", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "creating run 'r'"));
}

static void
test_store_runs_list(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	json_t *all, *running;

	assert_int_equal(store_run_create(t->st, "a", "p", NULL, &err), 0);
	assert_int_equal(store_run_create(t->st, "b", "p", NULL, &err), 0);
	assert_int_equal(store_run_create(t->st, "c", "p", NULL, &err), 0);
	assert_int_equal(store_run_set_state(t->st, "b", STORE_RUNNING, NULL, &err), 0);
	all = store_runs_list(t->st, NULL, &err);
	assert_int_equal(json_array_size(all), 3);
	assert_null(json_object_get(json_array_get(all, 0), "steps"));
	running = store_runs_list(t->st, STORE_RUNNING, &err);
	assert_int_equal(json_array_size(running), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(running, 0),
	    "id")), "b");
	json_decref(all);
	json_decref(running);
}

static void
test_store_cascade(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	int64_t s, a;
	sqlite3 *db;

	assert_int_equal(store_run_create(t->st, "r", "p", NULL, &err), 0);
	s = store_step_create(t->st, "r", "s", &err);
	a = store_attempt_create(t->st, s, 0, NULL, &err);
	assert_int_equal(store_output_file_add(t->st, a, "file:///o", "sha1$00", 0, NULL,
	    NULL, &err), 0);
	db = test_store_peek(t);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON;"
	    " DELETE FROM runs WHERE id = 'r'", NULL, NULL, NULL), SQLITE_OK);
	test_store_text_eq(db, "SELECT count(*) FROM output_files", "0");
	test_store_text_eq(db, "SELECT count(*) FROM attempts", "0");
	sqlite3_close(db);
}

/* Several processes opening one fresh file at once: each succeeds and the
 * migrations are applied exactly once. */
static void
test_store_concurrent_open(void **state)
{
	struct cwld_err err = { 0 };
	char tmpl[] = "/tmp/cwld-test-store.XXXXXX";
	char *path, *want;
	struct store *st;
	pid_t pids[4];
	sqlite3 *db = NULL;
	int i, status;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	path = xasprintf("%s/cwld.db", tmpl);
	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			st = store_open(path, &err);
			if (st == NULL)
				fprintf(stderr, "child: %s\n", err.msg);
			store_close(st);
			_exit(st == NULL);
		}
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	want = xasprintf("%zu", migrate_nentries);
	test_store_text_eq(db, "SELECT count(*) FROM schema_migrations", want);
	free(want);
	sqlite3_close(db);
	fs_rm_rf(tmpl, &err);
	free(path);
}

static void
test_store_open_fails(void **state)
{
	struct cwld_err err = { 0 };

	(void)state;
	assert_null(store_open("/nonexistent-dir-cwld/x.db", &err));
	assert_non_null(strstr(err.msg, "/nonexistent-dir-cwld/x.db"));
	assert_int_not_equal(err.code, 0);
}

/* A batch is one transaction: another connection sees none of its writes
 * until the commit, then all of them; reads inside the batch see them. */
static void
test_store_batch(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	sqlite3 *peek = test_store_peek(t);
	json_t *run;

	assert_int_equal(store_batch_commit(t->st, &err), 0); /* none open: nothing */
	assert_int_equal(store_batch_begin(t->st, &err), 0);
	assert_int_equal(store_batch_begin(t->st, &err), 0); /* already open */
	assert_int_equal(store_run_create(t->st, "r1", "file:///wf.cwl", NULL, &err), 0);
	assert_true(store_step_create(t->st, "r1", "a", &err) > 0);
	run = store_run_get(t->st, "r1", &err); /* its own snapshot is the batch */
	assert_non_null(run);
	assert_int_equal(json_array_size(json_object_get(run, "steps")), 1);
	json_decref(run);
	test_store_text_eq(peek, "select count(*) from runs", "0");
	assert_int_equal(store_batch_commit(t->st, &err), 0);
	test_store_text_eq(peek, "select count(*) from runs", "1");
	test_store_text_eq(peek, "select count(*) from steps", "1");

	/* store_close commits what is still open */
	assert_int_equal(store_batch_begin(t->st, &err), 0);
	assert_int_equal(store_run_set_state(t->st, "r1", STORE_RUNNING, NULL, &err), 0);
	test_store_text_eq(peek, "select state from runs", "pending");
	store_close(t->st);
	t->st = NULL;
	test_store_text_eq(peek, "select state from runs", "running");
	sqlite3_close(peek);
}

/* Outbox rows of runs mirrored long ago go; those of a run still being
 * mirrored, or mirrored recently, stay. */
static void
test_store_outbox_prune(void **state)
{
	struct test_store *t = *state;
	struct cwld_err err = { 0 };
	json_t *body = json_pack("{s:s}", "dag_id", "d");
	const char *ids[] = { "old", "recent", "open" };
	int64_t row;
	size_t i;
	sqlite3 *db;

	for (i = 0; i < 3; i++) {
		assert_int_equal(store_run_create(t->st, ids[i], "file:///t.cwl", NULL, &err), 0);
		row = store_outbox_add(t->st, ids[i], "create_run", body, &err);
		assert_true(row > 0);
		assert_int_equal(store_outbox_done(t->st, row, "sent", NULL, &err), 0);
		row = store_outbox_add(t->st, ids[i], "run", body, &err);
		assert_true(row > 0);
		/* "open": its last call waits */
		if (strcmp(ids[i], "open") != 0)
			assert_int_equal(store_outbox_done(t->st, row, "sent", NULL, &err), 0);
	}
	db = test_store_peek(t);
	assert_int_equal(sqlite3_exec(db, "UPDATE airflow_outbox SET done_at ="
	    " strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-8 days') WHERE run_id IN ('old', 'open')"
	    " AND done_at IS NOT NULL", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_outbox_prune(t->st, 7 * 24 * 3600, &err), 2);
	test_store_text_eq(db, "SELECT group_concat(run_id || ':' || op, ' ') FROM"
	    " (SELECT run_id, op FROM airflow_outbox ORDER BY id)",
	    "recent:create_run recent:run open:create_run open:run");
	/* nothing more to drop; the runs themselves stay */
	assert_int_equal(store_outbox_prune(t->st, 7 * 24 * 3600, &err), 0);
	test_store_text_eq(db, "SELECT count(*) FROM runs", "3");
	/* with no grace at all the recent one goes too, never the open one */
	assert_int_equal(store_outbox_prune(t->st, 0, &err), 2);
	test_store_text_eq(db, "SELECT group_concat(DISTINCT run_id) FROM airflow_outbox", "open");
	sqlite3_close(db);
	json_decref(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_migrated_once, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_wal, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_lifecycle, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_attempt_unknown_exit,
		    test_store_setup, test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_bad_state, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_unknown_rows, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_runs_list, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_cascade, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_batch, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test_setup_teardown(test_store_outbox_prune, test_store_setup,
		    test_store_teardown),
		cmocka_unit_test(test_store_concurrent_open),
		cmocka_unit_test(test_store_open_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

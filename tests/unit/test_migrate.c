/* Tests for migrate.c: versions, idempotent reruns, rollback of a failing
 * migration, refusal of a newer database, and the embedded table itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <string.h>
#include <strings.h>

#include "cwld/err.h"
#include "cwld/migrate.h"

static sqlite3 *
test_migrate_open(void)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	return db;
}

static int
test_migrate_count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = NULL;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static int
test_migrate_has_table(sqlite3 *db, const char *name)
{
	sqlite3_stmt *stmt = NULL;
	int n;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name = ?1", -1, &stmt, NULL), SQLITE_OK);
	sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

static const struct migrate_entry test_migrate_two[] = {
	{ 1, "0001_a", "CREATE TABLE a (x INTEGER);" },
	{ 2, "0002_b", "CREATE TABLE b (y TEXT); INSERT INTO a VALUES (1);" },
};

static void
test_migrate_empty_version(void **state)
{
	sqlite3 *db = test_migrate_open();

	(void)state;
	assert_int_equal(migrate_version(db), 0);
	sqlite3_close(db);
}

static void
test_migrate_apply_and_rerun(void **state)
{
	struct cwld_err err = { 0 };
	sqlite3 *db = test_migrate_open();

	(void)state;
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 2, &err), 0);
	assert_int_equal(migrate_version(db), 2);
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM a"), 1);
	assert_int_equal(test_migrate_count(db,
	    "SELECT count(*) FROM schema_migrations"), 2);
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM schema_migrations"
	    " WHERE name = '0002_b' AND applied_at LIKE '____-__-__T__:__:__.___Z'"), 1);
	/* A rerun applies nothing twice. */
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 2, &err), 0);
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM a"), 1);
	assert_int_equal(test_migrate_count(db,
	    "SELECT count(*) FROM schema_migrations"), 2);
	sqlite3_close(db);
}

static void
test_migrate_only_new_ones(void **state)
{
	struct cwld_err err = { 0 };
	sqlite3 *db = test_migrate_open();

	(void)state;
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 1, &err), 0);
	assert_int_equal(migrate_version(db), 1);
	assert_false(test_migrate_has_table(db, "b"));
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 2, &err), 0);
	assert_int_equal(migrate_version(db), 2);
	assert_true(test_migrate_has_table(db, "b"));
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM a"), 1);
	sqlite3_close(db);
}

static void
test_migrate_failure_rolls_back(void **state)
{
	static const struct migrate_entry bad[] = {
		{ 1, "0001_a", "CREATE TABLE a (x INTEGER);" },
		{ 2, "0002_bad", "CREATE TABLE c (z); INSERT INTO a VALUES (7); SELEC oops;" },
		{ 3, "0003_never", "CREATE TABLE d (w);" },
	};
	struct cwld_err err = { 0 };
	sqlite3 *db = test_migrate_open();

	(void)state;
	assert_int_equal(migrate_apply_entries(db, bad, 3, &err), -1);
	assert_non_null(strstr(err.msg, "migrations/0002_bad.sql"));
	assert_non_null(strstr(err.msg, "syntax error"));
	assert_int_equal(migrate_version(db), 1);
	assert_false(test_migrate_has_table(db, "c"));
	assert_false(test_migrate_has_table(db, "d"));
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM a"), 0);
	/* Not left inside a transaction. */
	assert_int_not_equal(sqlite3_get_autocommit(db), 0);
	sqlite3_close(db);
}

static void
test_migrate_newer_database(void **state)
{
	struct cwld_err err = { 0 };
	sqlite3 *db = test_migrate_open();

	(void)state;
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 2, &err), 0);
	assert_int_equal(migrate_apply_entries(db, test_migrate_two, 1, &err), -1);
	assert_non_null(strstr(err.msg, "newer"));
	sqlite3_close(db);
}

static void
test_migrate_embedded(void **state)
{
	static const char *const tables[] = {
		"runs", "steps", "attempts", "output_files", "schema_migrations",
	};
	struct cwld_err err = { 0 };
	sqlite3 *db = test_migrate_open();
	size_t i;

	(void)state;
	assert_true(migrate_nentries >= 1);
	assert_int_equal(migrate_entries[0].number, 1);
	assert_string_equal(migrate_entries[0].name, "0001_init");
	for (i = 0; i < migrate_nentries; i++) {
		if (i > 0)
			assert_true(migrate_entries[i].number > migrate_entries[i - 1].number);
		/* migrate.c owns the transactions. */
		assert_null(strcasestr(migrate_entries[i].sql, "COMMIT"));
		assert_null(strcasestr(migrate_entries[i].sql, "BEGIN TRANSACTION"));
	}
	assert_int_equal(migrate_apply(db, &err), 0);
	assert_int_equal(migrate_version(db),
	    migrate_entries[migrate_nentries - 1].number);
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++)
		assert_true(test_migrate_has_table(db, tables[i]));
	assert_int_equal(migrate_apply(db, &err), 0);
	assert_int_equal(test_migrate_count(db, "SELECT count(*) FROM schema_migrations"),
	    (int)migrate_nentries);
	sqlite3_close(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_empty_version),
		cmocka_unit_test(test_migrate_apply_and_rerun),
		cmocka_unit_test(test_migrate_only_new_ones),
		cmocka_unit_test(test_migrate_failure_rolls_back),
		cmocka_unit_test(test_migrate_newer_database),
		cmocka_unit_test(test_migrate_embedded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

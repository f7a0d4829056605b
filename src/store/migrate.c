/* Schema migrations: applies the SQL files embedded from migrations/ in
 * order, each in one transaction that also records its number in
 * schema_migrations. What the tables mean is store.c's business. */
#include <sqlite3.h>
#include <stdio.h>

#include "cwld/err.h"
#include "cwld/migrate.h"

static const char migrate_table_sql[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " number INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))";

int
migrate_version(sqlite3 *db)
{
	sqlite3_stmt *stmt = NULL;
	int version = -1, rc;

	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'table' AND name = 'schema_migrations'", -1, &stmt, NULL);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int(stmt, 0) == 0) {
		version = 0;
		goto out;
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	rc = sqlite3_prepare_v2(db, "SELECT coalesce(max(number), 0)"
	    " FROM schema_migrations", -1, &stmt, NULL);
	if (rc != SQLITE_OK || sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	version = sqlite3_column_int(stmt, 0);
out:
	sqlite3_finalize(stmt);
	return version;
}

/* Applies one migration inside the caller's transaction and records it. */
static int
migrate_one(sqlite3 *db, const struct migrate_entry *e, struct cwld_err *err)
{
	sqlite3_stmt *stmt = NULL;
	char *emsg = NULL;
	int ret = -1;

	if (sqlite3_exec(db, e->sql, NULL, NULL, &emsg) != SQLITE_OK) {
		err_set(err, CWLD_EXIT_FAILED, "migrations/%s.sql: %s", e->name,
		    emsg != NULL ? emsg : sqlite3_errmsg(db));
		goto out;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (number, name)"
	    " VALUES (?1, ?2)", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_bind_int(stmt, 1, e->number) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, e->name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_DONE) {
		err_set(err, CWLD_EXIT_FAILED, "migrations/%s.sql: recording it: %s",
		    e->name, sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_free(emsg);
	sqlite3_finalize(stmt);
	return ret;
}

int
migrate_apply_entries(sqlite3 *db, const struct migrate_entry *entries, size_t n,
    struct cwld_err *err)
{
	size_t i;
	int version, in_tx = 0, ret = -1;

	/* Fast path without the write lock: an up-to-date store opened by a
	 * second process must not wait for the daemon's writes. */
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if ((version = migrate_version(db)) < 0) {
		err_set(err, CWLD_EXIT_FAILED, "reading schema version: %s",
		    sqlite3_errmsg(db));
		goto out;
	}
	if (version > entries[n - 1].number) {
		err_set(err, CWLD_EXIT_FAILED, "database schema version %d is newer"
		    " than this cwld knows (%d)", version, entries[n - 1].number);
		goto out;
	}
	if (version == entries[n - 1].number) {
		ret = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		/* IMMEDIATE takes the write lock before reading the version, so
		 * two processes opening a fresh file cannot both apply it. */
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
			err_set(err, CWLD_EXIT_FAILED, "migrations/%s.sql: begin: %s",
			    entries[i].name, sqlite3_errmsg(db));
			goto out;
		}
		in_tx = 1;
		if (sqlite3_exec(db, migrate_table_sql, NULL, NULL, NULL) != SQLITE_OK) {
			err_set(err, CWLD_EXIT_FAILED, "creating schema_migrations: %s",
			    sqlite3_errmsg(db));
			goto out;
		}
		if ((version = migrate_version(db)) < 0) {
			err_set(err, CWLD_EXIT_FAILED, "reading schema version: %s",
			    sqlite3_errmsg(db));
			goto out;
		}
		if (version > entries[n - 1].number) {
			err_set(err, CWLD_EXIT_FAILED, "database schema version %d is newer"
			    " than this cwld knows (%d)", version, entries[n - 1].number);
			goto out;
		}
		if (entries[i].number > version && migrate_one(db, &entries[i], err) == -1)
			goto out;
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			err_set(err, CWLD_EXIT_FAILED, "migrations/%s.sql: commit: %s",
			    entries[i].name, sqlite3_errmsg(db));
			goto out;
		}
		in_tx = 0;
	}
	ret = 0;
out:
	if (in_tx)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int
migrate_apply(sqlite3 *db, struct cwld_err *err)
{
	return migrate_apply_entries(db, migrate_entries, migrate_nentries, err);
}

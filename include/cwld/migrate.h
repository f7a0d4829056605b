/* Schema migrations embedded from migrations/NNNN_name.sql at build time,
 * each applied once in its own transaction and recorded. */
#ifndef CWLD_MIGRATE_H
#define CWLD_MIGRATE_H
#include <stddef.h>
#include <sqlite3.h>
#include "cwld/err.h"

struct migrate_entry {
	int number;
	const char *name;
	const char *sql;
};
extern const struct migrate_entry migrate_entries[]; /* sorted by number */
extern const size_t migrate_nentries;

/* Applies every migration above the database's current version, each in
 * its own BEGIN IMMEDIATE transaction that also inserts its row into
 * schema_migrations (number, name, applied_at), so concurrent openers and
 * reruns apply nothing twice. A database newer than the table (a higher
 * number than any entry) is an error. 0 or -1 with err naming the file. */
int migrate_apply(sqlite3 *db, struct cwld_err *err);
/* The same with an explicit table (sorted by number, numbers > 0, unique);
 * migrate_apply passes migrate_entries. For tests. */
int migrate_apply_entries(sqlite3 *db, const struct migrate_entry *entries,
    size_t n, struct cwld_err *err);
/* Highest applied number, 0 for an empty database, -1 on error. */
int migrate_version(sqlite3 *db);

#endif

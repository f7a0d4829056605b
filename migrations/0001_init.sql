-- 0001_init: runs, their steps, the attempts at each step and the provenance
-- of every output file.
--
-- Conventions for this and later migrations:
-- * No transaction statements here: migrate.c applies each file in one
--   transaction and records its number in schema_migrations (number, name,
--   applied_at); PRAGMA user_version is not used.
-- * Times are ISO-8601 UTC text with milliseconds, "2024-05-01T12:00:00.123Z",
--   written by SQLite itself (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')); they
--   sort correctly as text. NULL means "not yet".
-- * JSON columns hold JSON text and are checked with json_valid().
-- * States are the lower-case words of include/cwld/store.h.

CREATE TABLE runs (
	id          TEXT PRIMARY KEY NOT NULL,
	process     TEXT NOT NULL,                 -- document URI
	inputs      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(inputs)),
	outputs     TEXT CHECK (outputs IS NULL OR json_valid(outputs)),
	state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
	                ('pending', 'running', 'success', 'failed', 'skipped', 'cancelled')),
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	started_at  TEXT,
	finished_at TEXT,
	pid         INTEGER,                       -- process that runs it (set when running)
	error       TEXT                           -- why it failed, for people
);
CREATE INDEX runs_state ON runs (state);
CREATE INDEX runs_created ON runs (created_at);

-- name is the step's path in the run: "align", "sub/inner", "scatter/align.3".
-- It is not unique: the engine decides how repeated invocations are named.
CREATE TABLE steps (
	id          INTEGER PRIMARY KEY,
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
	                ('pending', 'running', 'success', 'failed', 'skipped', 'cancelled')),
	outputs     TEXT CHECK (outputs IS NULL OR json_valid(outputs)),
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	started_at  TEXT,
	finished_at TEXT
);
CREATE INDEX steps_run ON steps (run_id, name);
CREATE INDEX steps_state ON steps (state);

-- One try at running a step: a container (container_id) or a host process
-- (container_id NULL). exit_code -1 or NULL when unknown.
CREATE TABLE attempts (
	id           INTEGER PRIMARY KEY,
	step_id      INTEGER NOT NULL REFERENCES steps (id) ON DELETE CASCADE,
	number       INTEGER NOT NULL CHECK (number >= 0),
	state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN
	                 ('pending', 'running', 'success', 'failed', 'skipped', 'cancelled')),
	workdir      TEXT,
	container_id TEXT,
	image        TEXT,
	command      TEXT CHECK (command IS NULL OR json_valid(command)),
	exit_code    INTEGER,
	message      TEXT,
	created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	started_at   TEXT,
	finished_at  TEXT,
	UNIQUE (step_id, number)
);
CREATE INDEX attempts_container ON attempts (container_id)
	WHERE container_id IS NOT NULL;
CREATE INDEX attempts_state ON attempts (state);

-- Provenance: which attempt produced a file, with which image, from what
-- (derived_from: JSON array of input locations/checksums).
CREATE TABLE output_files (
	id           INTEGER PRIMARY KEY,
	attempt_id   INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
	location     TEXT NOT NULL,
	checksum     TEXT,
	size         INTEGER CHECK (size IS NULL OR size >= 0),
	image        TEXT,
	derived_from TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(derived_from)),
	created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX output_files_attempt ON output_files (attempt_id);
CREATE INDEX output_files_location ON output_files (location);
CREATE INDEX output_files_checksum ON output_files (checksum)
	WHERE checksum IS NOT NULL;

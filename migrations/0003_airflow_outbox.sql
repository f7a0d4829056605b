-- 0003_airflow_outbox: the Airflow mirror's durable queue (src/airflow/
-- mirror.c). Each REST call that mirrors a run into Airflow is a row here
-- before it is sent; a run's rows go out one at a time in id order, a
-- failed attempt waits (next_at) and is tried again, and rows left by a
-- daemon that stopped are sent by the next one. Airflow is never waited
-- for: the run goes on, the rows wait.
CREATE TABLE airflow_outbox (
	id          INTEGER PRIMARY KEY,           -- order of sending within a run
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	-- 'dag' (wait until Airflow has parsed the DAG file), 'create_run',
	-- 'task' (a task instance's state and note), 'run' (the DAG run's
	-- final state, always the last of a run but for 'reskip'), 'reskip'
	-- (Airflow 2 only: a skipped task its run's success turned into success)
	op          TEXT NOT NULL CHECK (op IN ('dag', 'create_run', 'task', 'run', 'reskip')),
	body        TEXT NOT NULL CHECK (json_valid(body)), -- the call's arguments
	attempts    INTEGER NOT NULL DEFAULT 0,   -- failed attempts so far
	next_at     TEXT,                          -- not before then; NULL: at once
	last_error  TEXT,                          -- why the last attempt failed
	-- NULL while to be sent; 'sent' when Airflow took it (or had it already),
	-- 'refused' when Airflow rejected the request itself (last_error says why)
	outcome     TEXT CHECK (outcome IS NULL OR outcome IN ('sent', 'refused')),
	created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	done_at     TEXT
);
CREATE INDEX airflow_outbox_todo ON airflow_outbox (run_id, id) WHERE outcome IS NULL;
CREATE INDEX airflow_outbox_run ON airflow_outbox (run_id, op);

-- 0002_daemon: what the daemon needs to list runs by label and to resume a
-- run after a restart with the options it was submitted with.
ALTER TABLE runs ADD COLUMN labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels));
ALTER TABLE runs ADD COLUMN options TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options));
-- who executes it: 'run' (a `cwld run` process, pid in runs.pid) or
-- 'serve' (the daemon of this state directory, which resumes it)
ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT 'run';

-- 0004_attempt_pid: the host process of an attempt run without a container
-- (daemon runs), so that a restarted daemon stops what its predecessor
-- left running instead of leaving it orphaned. pid_ident is
-- "BOOT_ID/START_TICKS" (src/util/proc.c): a pid may be reused.
ALTER TABLE attempts ADD COLUMN pid INTEGER;
ALTER TABLE attempts ADD COLUMN pid_ident TEXT;

-- One jobs subsystem for every kind of background work, shared by every
-- console process of an installation. `ops.jobs` says what is to run, where
-- it runs and how often it was tried; the rows it drives (builds, backups,
-- drills) keep their own domain state. A console proves it is alive by its
-- heartbeat in `ops.consoles`: the jobs of a console whose heartbeat is stale
-- are retried (or closed) by another.

CREATE TABLE ops.consoles (
    id           text PRIMARY KEY,
    host         text NOT NULL,
    pid          integer NOT NULL,
    version      text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);

CREATE TABLE ops.jobs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind         text NOT NULL CHECK (kind IN ('build', 'backup', 'drill', 'poll', 'backup_schedule',
                                               'shell_sweep', 'reconcile', 'retention')),
    -- The row it drives (a build, backup or drill); NULL for periodic work.
    subject      uuid,
    tenant_id    uuid REFERENCES ops.tenants (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
    run_after    timestamptz NOT NULL DEFAULT now(),
    -- The console running it (`ops.consoles.id`).
    worker       text,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX jobs_queued ON ops.jobs (kind, run_after, created_at) WHERE state = 'queued';
CREATE INDEX jobs_running ON ops.jobs (worker) WHERE state = 'running';
CREATE INDEX jobs_running_tenant ON ops.jobs (kind, tenant_id) WHERE state = 'running';
CREATE INDEX jobs_finished ON ops.jobs (finished_at) WHERE state IN ('done', 'failed');
-- A build, backup or drill is driven by one open job at a time.
CREATE UNIQUE INDEX jobs_one_open_per_subject ON ops.jobs (kind, subject)
    WHERE subject IS NOT NULL AND state IN ('queued', 'running');
-- Each periodic task is one row, cycling queued → running → queued: whichever
-- console claims it runs it, so it never runs twice at once.
CREATE UNIQUE INDEX jobs_one_periodic ON ops.jobs (kind) WHERE subject IS NULL;

-- Only the system account (background work) reads or changes jobs and consoles.
ALTER TABLE ops.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.consoles ENABLE ROW LEVEL SECURITY;
CREATE POLICY jobs_system ON ops.jobs FOR ALL
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY consoles_system ON ops.consoles FOR ALL
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.jobs, ops.consoles TO odooops_app;

-- Queuing a build, backup or drill queues its job in the same statement,
-- whoever inserts it (a push, a person's request, the scheduler): a job is
-- never forgotten, and the person needs no right on the jobs table.
CREATE FUNCTION ops.queue_job() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    IF NEW.state = 'pending' THEN
        INSERT INTO ops.jobs (kind, subject, tenant_id, max_attempts)
        VALUES (TG_ARGV[0], NEW.id, NEW.tenant_id, TG_ARGV[1]::integer)
        ON CONFLICT DO NOTHING;
        PERFORM pg_notify('ops_jobs', TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER builds_queue_job AFTER INSERT ON ops.builds
    FOR EACH ROW EXECUTE FUNCTION ops.queue_job('build', '2');
CREATE TRIGGER backups_queue_job AFTER INSERT ON ops.backups
    FOR EACH ROW EXECUTE FUNCTION ops.queue_job('backup', '1');
CREATE TRIGGER drills_queue_job AFTER INSERT ON ops.backup_drills
    FOR EACH ROW EXECUTE FUNCTION ops.queue_job('drill', '1');

-- Work queued before this migration keeps its place. What was running then
-- belongs to no live console, so the first console to start recovers it.
INSERT INTO ops.jobs (kind, subject, tenant_id, state, attempts, max_attempts, worker, started_at)
SELECT 'build', id, tenant_id, CASE state WHEN 'pending' THEN 'queued' ELSE 'running' END, attempts, 2,
       worker, started_at
  FROM ops.builds WHERE state IN ('pending', 'running');
INSERT INTO ops.jobs (kind, subject, tenant_id, state, attempts, worker, started_at)
SELECT 'backup', id, tenant_id, CASE state WHEN 'pending' THEN 'queued' ELSE 'running' END,
       CASE state WHEN 'pending' THEN 0 ELSE 1 END, worker, started_at
  FROM ops.backups WHERE state IN ('pending', 'running');
INSERT INTO ops.jobs (kind, subject, tenant_id, state, attempts, worker)
SELECT 'drill', id, tenant_id, CASE state WHEN 'pending' THEN 'queued' ELSE 'running' END,
       CASE state WHEN 'pending' THEN 0 ELSE 1 END, worker
  FROM ops.backup_drills WHERE state IN ('pending', 'running');

-- The console bridging a shell: when it dies, its sessions are closed by another.
ALTER TABLE ops.shell_sessions ADD COLUMN console_id text;
GRANT UPDATE (console_id) ON ops.shell_sessions TO odooops_app;

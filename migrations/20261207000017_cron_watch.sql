-- The cron-runtime gate (issue 17): each project's limit on one run of a
-- scheduled action, and the runs the watcher stopped (the third in a day
-- disables the action). The watcher is a periodic job.

ALTER TABLE ops.projects ADD COLUMN cron_limit_seconds integer NOT NULL DEFAULT 900
    CHECK (cron_limit_seconds BETWEEN 5 AND 86400);

CREATE TABLE ops.cron_overruns (
    id            bigserial PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    env_id        uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    build_id      uuid REFERENCES ops.builds ON DELETE SET NULL,
    -- The scheduled action in the environment's database (ir_cron.id), as it was named then.
    cron_id       integer NOT NULL,
    cron_name     text NOT NULL,
    model         text,
    started_at    timestamptz NOT NULL,
    ran_seconds   integer NOT NULL,
    limit_seconds integer NOT NULL,
    stopped_at    timestamptz NOT NULL DEFAULT now(),
    -- This overrun was the one that disabled the action.
    disabled      boolean NOT NULL DEFAULT false
);
CREATE INDEX cron_overruns_recent ON ops.cron_overruns (env_id, cron_id, stopped_at);
CREATE INDEX cron_overruns_project ON ops.cron_overruns (project_id, stopped_at DESC);

-- The project's people read them; only the watcher (the system) writes.
ALTER TABLE ops.cron_overruns ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_overruns_read ON ops.cron_overruns FOR SELECT USING (
    ops.reads_everything() OR project_id IN (SELECT ops.my_projects())
    OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY cron_overruns_system ON ops.cron_overruns FOR ALL
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.cron_overruns TO odooops_app;
GRANT USAGE ON SEQUENCE ops.cron_overruns_id_seq TO odooops_app;

ALTER TABLE ops.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE ops.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('build', 'backup', 'drill', 'poll',
    'backup_schedule', 'shell_sweep', 'reconcile', 'retention', 'instance_operation', 'catalog_refresh',
    'webhook_delivery', 'cron_watch'));

-- Backups and restores: backups are rows that double as jobs (claimed with
-- SKIP LOCKED, woken by NOTIFY ops_backups), each with its own log; restore
-- drills likewise. A restore is a build that loads a backup instead of
-- copying production (ops.builds.restore_from), so it has a build's
-- timeline, logs, health check and preview, and a failed restore leaves the
-- serving build alone.

ALTER TABLE ops.projects
    -- Five-field cron expressions, in UTC.
    ADD COLUMN backup_cron   text NOT NULL DEFAULT '0 3 * * *',
    ADD COLUMN drill_cron    text NOT NULL DEFAULT '0 4 1 * *',
    ADD COLUMN keep_daily    integer NOT NULL DEFAULT 7 CHECK (keep_daily BETWEEN 1 AND 366),
    ADD COLUMN keep_weekly   integer NOT NULL DEFAULT 4 CHECK (keep_weekly BETWEEN 0 AND 520),
    ADD COLUMN keep_monthly  integer NOT NULL DEFAULT 3 CHECK (keep_monthly BETWEEN 0 AND 240);

CREATE TABLE ops.backups (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    env_id        uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    -- The build whose database was backed up (none for imports).
    build_id      uuid REFERENCES ops.builds ON DELETE SET NULL,
    kind          text NOT NULL CHECK (kind IN ('daily', 'manual', 'pre_update', 'pre_restore', 'import')),
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed', 'pruned')),
    -- Scheduled backups: the cron instant they stand for (one per environment and instant).
    scheduled_for timestamptz,
    requested_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    worker        text,
    db_name       text,
    -- Where the archive is in the backup store, once written.
    storage_key   text,
    -- `zip` (Odoo's backup format) or `dump` (pg_dump -Fc, imports only).
    format        text NOT NULL DEFAULT 'zip' CHECK (format IN ('zip', 'dump')),
    size_bytes    bigint,
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- The OdooOps manifest (parts, sizes, checksums, row counts).
    manifest      jsonb,
    progress_bytes bigint NOT NULL DEFAULT 0,
    error         text,
    verified_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    pruned_at     timestamptz
);
CREATE INDEX backups_env ON ops.backups (env_id, created_at DESC);
CREATE INDEX backups_pending ON ops.backups (created_at) WHERE state = 'pending';
CREATE UNIQUE INDEX backups_one_per_slot ON ops.backups (env_id, scheduled_for) WHERE scheduled_for IS NOT NULL;

CREATE TABLE ops.backup_events (
    id         bigserial PRIMARY KEY,
    backup_id  uuid NOT NULL REFERENCES ops.backups ON DELETE CASCADE,
    level      text NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    message    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX backup_events_backup ON ops.backup_events (backup_id, id);

-- A restore is a build that starts from a backup.
ALTER TABLE ops.builds ADD COLUMN restore_from uuid REFERENCES ops.backups ON DELETE SET NULL;
ALTER TABLE ops.builds DROP CONSTRAINT builds_trigger_check;
ALTER TABLE ops.builds ADD CONSTRAINT builds_trigger_check
    CHECK (trigger IN ('push', 'pull_request', 'rebuild', 'poll', 'api', 'restore'));

CREATE TABLE ops.backup_drills (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    backup_id     uuid REFERENCES ops.backups ON DELETE SET NULL,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'passed', 'failed')),
    scheduled_for timestamptz,
    worker        text,
    -- What was checked, table by table.
    report        jsonb,
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE UNIQUE INDEX drills_one_per_slot ON ops.backup_drills (project_id, scheduled_for) WHERE scheduled_for IS NOT NULL;

ALTER TABLE ops.backups ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.backup_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.backup_drills ENABLE ROW LEVEL SECURITY;

-- Backups follow the role matrix: production backups are for project admins;
-- staging backups also for testers; development for every member.
CREATE FUNCTION ops.may_see_backups(p_project uuid, p_env uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT ops.reads_everything()
        OR ops.my_project_role(p_project) = 'admin'
        OR (ops.my_project_role(p_project) = 'tester'
            AND EXISTS (SELECT 1 FROM ops.environments e WHERE e.id = p_env AND e.stage <> 'production'))
        OR (ops.my_project_role(p_project) = 'developer'
            AND EXISTS (SELECT 1 FROM ops.environments e WHERE e.id = p_env AND e.stage = 'development'))
$$;

CREATE POLICY backups_read ON ops.backups FOR SELECT USING (ops.may_see_backups(project_id, env_id));
CREATE POLICY backups_request ON ops.backups FOR INSERT WITH CHECK (
    ops.is_platform_admin()
    OR (ops.may_see_backups(project_id, env_id)
        AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)));
CREATE POLICY backups_work ON ops.backups FOR UPDATE USING (ops.is_platform_admin());
CREATE POLICY backup_events_read ON ops.backup_events FOR SELECT
    USING (backup_id IN (SELECT b.id FROM ops.backups b));
CREATE POLICY backup_events_write ON ops.backup_events FOR INSERT WITH CHECK (ops.is_platform_admin());
CREATE POLICY drills_read ON ops.backup_drills FOR SELECT
    USING (ops.reads_everything() OR ops.my_project_role(project_id) = 'admin');
CREATE POLICY drills_work ON ops.backup_drills FOR ALL
    USING (ops.is_platform_admin()) WITH CHECK (ops.is_platform_admin());

GRANT SELECT, INSERT, UPDATE ON ops.backups, ops.backup_drills TO odooops_app;
GRANT SELECT, INSERT ON ops.backup_events TO odooops_app;
GRANT USAGE ON SEQUENCE ops.backup_events_id_seq TO odooops_app;
REVOKE ALL ON FUNCTION ops.may_see_backups(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.may_see_backups(uuid, uuid) TO odooops_app;

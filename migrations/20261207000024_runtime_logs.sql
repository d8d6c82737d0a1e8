-- Runtime logs (#18): the serving Odoo's lines (`source = 'odoo'`) read per
-- environment across its builds, newest first, filtered; kept for the
-- project's `log_retention_days` (default 14) by the retention job.

ALTER TABLE ops.projects ADD COLUMN log_retention_days integer NOT NULL DEFAULT 14
    CHECK (log_retention_days BETWEEN 1 AND 365);
CREATE INDEX run_events_runtime ON ops.run_events (env_id, id) WHERE source = 'odoo';
CREATE INDEX run_events_runtime_age ON ops.run_events (created_at) WHERE source = 'odoo';

-- The retention job (the system) removes old runtime lines; nobody else deletes them.
CREATE POLICY run_events_retention ON ops.run_events FOR DELETE
    USING ((SELECT ops.current_user_id()) = '00000000-0000-0000-0000-000000000001' AND source = 'odoo');
GRANT DELETE ON ops.run_events TO odooops_app;
CREATE POLICY run_events_system_read ON ops.run_events FOR SELECT
    USING ((SELECT ops.current_user_id()) = '00000000-0000-0000-0000-000000000001');

-- Filestores are measured too (every few minutes: a walk, never through a link),
-- and a project may be told when one grows over a size.
ALTER TABLE ops.env_samples ADD COLUMN filestore_bytes bigint;
ALTER TABLE ops.env_rollups ADD COLUMN filestore_bytes bigint;
ALTER TABLE ops.alert_rules DROP CONSTRAINT alert_rules_kind_check;
ALTER TABLE ops.alert_rules ADD CONSTRAINT alert_rules_kind_check CHECK (kind IN ('env_down', 'build_failed',
    'backup_failed', 'db_size', 'filestore_size', 'cron_disabled', 'domain_failing'));
CREATE OR REPLACE FUNCTION ops.default_alert_rules() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    INSERT INTO ops.alert_rules (tenant_id, project_id, kind, threshold)
    VALUES (NEW.tenant_id, NEW.id, 'env_down', 2), (NEW.tenant_id, NEW.id, 'build_failed', 0),
           (NEW.tenant_id, NEW.id, 'backup_failed', 0), (NEW.tenant_id, NEW.id, 'db_size', 10240),
           (NEW.tenant_id, NEW.id, 'filestore_size', 51200),
           (NEW.tenant_id, NEW.id, 'cron_disabled', 0), (NEW.tenant_id, NEW.id, 'domain_failing', 0)
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
INSERT INTO ops.alert_rules (tenant_id, project_id, kind, threshold)
SELECT tenant_id, id, 'filestore_size', 51200 FROM ops.projects
ON CONFLICT DO NOTHING;

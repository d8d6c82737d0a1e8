-- Preflight gates (issue 17): each build's gate results, and per project the
-- warnings its admins accepted and the failures platform staff waived.

ALTER TABLE ops.builds ADD COLUMN preflight jsonb NOT NULL DEFAULT '[]';
GRANT UPDATE (preflight) ON ops.builds TO odooops_app;

CREATE TABLE ops.preflight_overrides (
    project_id uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    gate       text NOT NULL CHECK (gate IN ('extensions', 'object_count', 'cron_runtime', 'system_packages',
                                             'smtp_ports', 'long_connections')),
    -- accept: a warning (project admins); waive: a failure or a warning (platform staff).
    kind       text NOT NULL CHECK (kind IN ('accept', 'waive')),
    reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    decided_by uuid REFERENCES ops.users ON DELETE SET NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, gate)
);

-- The project's people see them; its admins accept, platform staff waive (and
-- only they change or withdraw a waiver).
ALTER TABLE ops.preflight_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY preflight_overrides_read ON ops.preflight_overrides FOR SELECT USING (
    ops.reads_everything() OR project_id IN (SELECT ops.my_projects()));
CREATE POLICY preflight_overrides_write ON ops.preflight_overrides FOR ALL USING (
    ops.is_platform_admin() OR (kind = 'accept' AND project_id IN (SELECT ops.my_admin_projects())))
    WITH CHECK (ops.is_platform_admin() OR (kind = 'accept' AND project_id IN (SELECT ops.my_admin_projects())));
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.preflight_overrides TO odooops_app;

-- The platform's limits for the gates: the extensions allowed (a JSON array)
-- and the object-count thresholds.
ALTER TABLE ops.platform_settings DROP CONSTRAINT platform_settings_key_check;
ALTER TABLE ops.platform_settings ADD CONSTRAINT platform_settings_key_check CHECK (key IN (
    'signup_open', 'instances_per_tenant', 'preflight_extensions', 'preflight_objects_warn', 'preflight_objects_fail'));

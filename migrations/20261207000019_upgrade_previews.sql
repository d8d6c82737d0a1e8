-- The upgrade advisor (issue 17): previews of production on a target series.
-- A preview is a build (trigger `upgrade_preview`) in the production
-- branch's upgrade environment (`<branch>~upgrade`, staging: a neutralized
-- copy of production), on the target series' image and the project's target
-- branch, with `-u all` and the tests; its report is filled as it runs.

CREATE TABLE ops.upgrade_previews (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    build_id      uuid REFERENCES ops.builds ON DELETE SET NULL,
    source_series text NOT NULL,
    target_series text NOT NULL,
    target_branch text NOT NULL,
    state         text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'passed', 'warned', 'failed')),
    report        jsonb NOT NULL DEFAULT '{}',
    requested_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX upgrade_previews_project ON ops.upgrade_previews (project_id, created_at DESC);
CREATE UNIQUE INDEX upgrade_previews_build ON ops.upgrade_previews (build_id);

ALTER TABLE ops.upgrade_previews ENABLE ROW LEVEL SECURITY;
CREATE POLICY upgrade_previews_read ON ops.upgrade_previews FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
-- Project admins ask for previews; the pipeline (the system) fills them.
CREATE POLICY upgrade_previews_write ON ops.upgrade_previews FOR ALL
    USING (ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin')
    WITH CHECK ((ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin')
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
GRANT SELECT, INSERT, UPDATE ON ops.upgrade_previews TO odooops_app;

-- An upgrade is a promotion of a preview's build (its image: the target
-- series and branch) to production, with `-u all`, a backup first and a
-- rollback to it on failure; once deployed, the project is on the target series.
ALTER TABLE ops.promotions ADD COLUMN upgrade_preview uuid REFERENCES ops.upgrade_previews ON DELETE SET NULL;

ALTER TABLE ops.builds DROP CONSTRAINT builds_trigger_check;
ALTER TABLE ops.builds ADD CONSTRAINT builds_trigger_check
    CHECK (trigger IN ('push', 'pull_request', 'rebuild', 'poll', 'api', 'restore', 'promote', 'rollback', 'instance',
                       'upgrade_preview'));

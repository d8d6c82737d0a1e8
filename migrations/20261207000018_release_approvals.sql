-- Production changes only through approvals (issue 17).
--
-- A project may require approval for production (new projects do, through
-- the console's create form and API; existing ones keep deploying pushes in
-- place until an admin turns it on). A push to its production branch then
-- builds a candidate in a staging environment of its own (a neutralized copy
-- of production, `candidate_for` the production environment) and, when that
-- build succeeds, waits as a promotion request; approving it deploys the
-- candidate's image. Production restores wait for the same approval.

ALTER TABLE ops.projects ADD COLUMN production_requires_approval boolean NOT NULL DEFAULT false;

ALTER TABLE ops.environments ADD COLUMN candidate_for uuid REFERENCES ops.environments ON DELETE CASCADE;
CREATE UNIQUE INDEX environments_one_candidate ON ops.environments (candidate_for) WHERE candidate_for IS NOT NULL;

-- Who pushed a candidate's commit (GitHub's `pusher`): the promotion is asked
-- in their name when they have an account, so they cannot approve it.
ALTER TABLE ops.builds ADD COLUMN pusher_email text;
GRANT UPDATE (pusher_email) ON ops.builds TO odooops_app;

-- A promotion the platform asked for on a push's behalf (its source is a candidate build).
ALTER TABLE ops.promotions ADD COLUMN candidate boolean NOT NULL DEFAULT false;
ALTER TABLE ops.promotions ADD COLUMN pushed_by text;

-- A restore of production waiting for someone other than its requester.
CREATE TABLE ops.restore_requests (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id   uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    env_id       uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    backup_id    uuid NOT NULL REFERENCES ops.backups ON DELETE CASCADE,
    requested_by uuid NOT NULL REFERENCES ops.users,
    state        text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved', 'rejected')),
    decided_by   uuid REFERENCES ops.users,
    build_id     uuid REFERENCES ops.builds ON DELETE SET NULL,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz,
    CHECK (decided_by IS NULL OR decided_by <> requested_by OR state = 'rejected')
);
-- One production restore waiting per project.
CREATE UNIQUE INDEX restore_requests_one_open ON ops.restore_requests (project_id) WHERE state = 'requested';

ALTER TABLE ops.restore_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY restore_requests_read ON ops.restore_requests FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
-- Admins ask and decide (the domain checks the rest: the requester never approves).
CREATE POLICY restore_requests_write ON ops.restore_requests FOR ALL
    USING (ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin')
    WITH CHECK ((ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin')
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
GRANT SELECT, INSERT, UPDATE ON ops.restore_requests TO odooops_app;

-- Promotion of a staging build to production with approvals, rollback, and
-- the project's own token scrubbing.
-- A promotion deploys the staging build's very image (ops.builds.image_from)
-- on production after a backup; if that build fails, a rollback build
-- redeploys the previous image on the pre-promotion backup. Rollbacks are new
-- builds: history is never edited.

ALTER TABLE ops.projects
    ADD COLUMN required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals BETWEEN 1 AND 5),
    -- Token scrubbing the project adds to neutralisation: statements run as the
    -- copy's owner, and patterns no credential column may match afterwards.
    ADD COLUMN neutralize_sql text NOT NULL DEFAULT '',
    ADD COLUMN secret_patterns text[] NOT NULL DEFAULT '{}';

ALTER TABLE ops.builds
    -- Deploy this earlier build's image instead of building one (promotions, rollbacks).
    ADD COLUMN image_from uuid REFERENCES ops.builds ON DELETE SET NULL,
    -- The installable addons discovered at checkout (what `-u` updates).
    ADD COLUMN addons text[],
    -- The backup this build took of production before changing it.
    ADD COLUMN pre_backup uuid REFERENCES ops.backups ON DELETE SET NULL,
    ADD COLUMN promotion_id uuid;
ALTER TABLE ops.builds DROP CONSTRAINT builds_trigger_check;
ALTER TABLE ops.builds ADD CONSTRAINT builds_trigger_check
    CHECK (trigger IN ('push', 'pull_request', 'rebuild', 'poll', 'api', 'restore', 'promote', 'rollback'));

CREATE TABLE ops.promotions (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id     uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    -- The staging build whose image goes to production.
    source_build   uuid NOT NULL REFERENCES ops.builds ON DELETE CASCADE,
    image_digest   text NOT NULL,
    commit_sha     text NOT NULL,
    state          text NOT NULL DEFAULT 'requested' CHECK (state IN
                       ('requested', 'deploying', 'deployed', 'rolling_back', 'rolled_back', 'failed', 'rejected')),
    requested_by   uuid NOT NULL REFERENCES ops.users,
    required       integer NOT NULL,
    -- The production build serving when the deployment started (what a rollback returns to).
    previous_build uuid REFERENCES ops.builds ON DELETE SET NULL,
    deploy_build   uuid REFERENCES ops.builds ON DELETE SET NULL,
    rollback_build uuid REFERENCES ops.builds ON DELETE SET NULL,
    reason         text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
-- One promotion in flight per project.
CREATE UNIQUE INDEX promotions_one_open ON ops.promotions (project_id)
    WHERE state IN ('requested', 'deploying', 'rolling_back');
ALTER TABLE ops.builds ADD CONSTRAINT builds_promotion_fk
    FOREIGN KEY (promotion_id) REFERENCES ops.promotions ON DELETE SET NULL;

CREATE TABLE ops.promotion_approvals (
    promotion_id uuid NOT NULL REFERENCES ops.promotions ON DELETE CASCADE,
    user_id      uuid NOT NULL REFERENCES ops.users,
    approved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (promotion_id, user_id)
);

-- The requester never approves their own promotion, whatever the code above does.
CREATE FUNCTION ops.refuse_self_approval() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ops.promotions p WHERE p.id = NEW.promotion_id AND p.requested_by = NEW.user_id) THEN
        RAISE EXCEPTION 'the requester of a promotion cannot approve it' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER promotion_approvals_not_self BEFORE INSERT OR UPDATE ON ops.promotion_approvals
    FOR EACH ROW EXECUTE FUNCTION ops.refuse_self_approval();

ALTER TABLE ops.promotions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.promotion_approvals ENABLE ROW LEVEL SECURITY;

CREATE POLICY promotions_read ON ops.promotions FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
-- Testers and admins ask; the domain checks the rest.
CREATE POLICY promotions_request ON ops.promotions FOR INSERT WITH CHECK (
    ops.is_platform_admin()
    OR (ops.my_project_role(project_id) IN ('admin', 'tester')
        AND requested_by = ops.current_user_id()
        AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)));
CREATE POLICY promotions_decide ON ops.promotions FOR UPDATE
    USING (ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin');
CREATE POLICY approvals_read ON ops.promotion_approvals FOR SELECT
    USING (promotion_id IN (SELECT p.id FROM ops.promotions p));
CREATE POLICY approvals_give ON ops.promotion_approvals FOR INSERT WITH CHECK (
    user_id = ops.current_user_id()
    AND promotion_id IN (SELECT p.id FROM ops.promotions p
                          WHERE ops.is_platform_admin() OR ops.my_project_role(p.project_id) = 'admin'));

GRANT SELECT, INSERT, UPDATE ON ops.promotions TO odooops_app;
GRANT SELECT, INSERT ON ops.promotion_approvals TO odooops_app;

-- A tenant admin adds a colleague by email before they can see each other
-- (sign-up puts everyone in their own tenant first): only the id comes back,
-- and only for an exact address.
CREATE FUNCTION ops.user_id_by_email(p_email text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT id FROM ops.users WHERE email = lower(p_email)
$$;
REVOKE ALL ON FUNCTION ops.user_id_by_email(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.user_id_by_email(text) TO odooops_app;

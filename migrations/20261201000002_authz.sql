-- Authorization by stage, in the database too (security review SEC-06, SEC-18,
-- SEC-19), webhook replays (SEC-14) and tenant membership by invitation (SEC-17).
--
-- The domain layer checks the role matrix of `domain/src/types/roles.rs` before
-- it acts; the policies below say the same thing, so a query that forgets the
-- check (or passes a mismatched id) still cannot reach another stage's builds,
-- logs, backups or mails:
-- - builds are queued, killed and updated by roles that may `upgrade` their
--   stage, and their events are read by roles that may read `logs` there;
-- - backups and caught mails carry the stage they were taken at, and are
--   authorized by it (moving a staging branch to development does not hand its
--   staging data to developers);
-- - child ids in WITH CHECK clauses belong to the row's project;
-- - the application may update only the columns of ops.builds that change
--   during a build's life;
-- - a webhook body is accepted once per project, whatever its delivery id;
-- - people join a tenant by accepting an invitation, never by being added.

-- The role matrix -------------------------------------------------------------------

-- `ProjectRole::allows` in SQL (domain/src/types/roles.rs; a test compares the two).
CREATE FUNCTION ops.role_allows(p_role text, p_stage text, p_cap text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_role IS NULL OR p_role NOT IN ('admin', 'developer', 'tester')
             OR p_stage IS NULL OR p_stage NOT IN ('production', 'staging', 'development') THEN false
        WHEN p_cap IN ('project_settings', 'manage_members', 'promote', 'audit_log') THEN p_role = 'admin'
        WHEN p_stage = 'development' THEN p_cap <> 'backups'
        WHEN p_role = 'admin' THEN p_cap <> 'mails' OR p_stage <> 'production'
        WHEN p_stage = 'staging' AND p_role = 'tester' THEN true
        ELSE p_cap IN ('connect', 'history', 'status')
    END
$$;

-- Whether the caller may use `p_cap` on a branch of `p_stage` of a project
-- (platform and tenant admins act as project admins, see ops.my_project_role).
CREATE FUNCTION ops.may(p_project uuid, p_stage text, p_cap text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT ops.is_platform_admin() OR ops.role_allows(ops.my_project_role(p_project), p_stage, p_cap)
$$;

-- The stage of an environment of a project, or NULL when the environment is
-- not that project's (binds child ids to the row's project in WITH CHECK).
CREATE FUNCTION ops.env_stage(p_env uuid, p_project uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT stage FROM ops.environments WHERE id = p_env AND project_id = p_project
$$;

-- Whether a build belongs to a project.
CREATE FUNCTION ops.build_in_project(p_build uuid, p_project uuid) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM ops.builds WHERE id = p_build AND project_id = p_project)
$$;

-- Builds and their logs ------------------------------------------------------------

-- Queuing a build (rebuild, restore, promotion) is `upgrade` on the stage of its
-- environment, which the row must agree with.
DROP POLICY builds_insert ON ops.builds;
CREATE POLICY builds_insert ON ops.builds FOR INSERT WITH CHECK (
    tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)
    AND stage = ops.env_stage(env_id, project_id)
    AND ops.may(project_id, stage, 'upgrade'));

-- Killing and every other change: `upgrade` on the build's stage.
DROP POLICY builds_update ON ops.builds;
CREATE POLICY builds_update ON ops.builds FOR UPDATE
    USING (ops.may(project_id, stage, 'upgrade'))
    WITH CHECK (ops.may(project_id, stage, 'upgrade'));

-- Only what changes during a build's life; its identity (project, environment,
-- stage, commit) never does.
REVOKE UPDATE ON ops.builds FROM odooops_app;
GRANT UPDATE (state, result, reason, attempts, kill_requested, worker, heartbeat_at, started_at, finished_at,
              image_digest, db_name, db_role, network, container_id, preview_target, preview_slug, live,
              restore_from, image_from, addons, pre_backup, promotion_id)
    ON ops.builds TO odooops_app;

DROP POLICY run_events_read ON ops.run_events;
CREATE POLICY run_events_read ON ops.run_events FOR SELECT USING (
    ops.reads_everything()
    OR build_id IN (SELECT b.id FROM ops.builds b WHERE ops.may(b.project_id, b.stage, 'logs')));

-- Backups: authorized by the stage they were taken at --------------------------------

ALTER TABLE ops.backups ADD COLUMN stage text CHECK (stage IN ('production', 'staging', 'development'));
ALTER TABLE ops.mailbox_messages ADD COLUMN stage text CHECK (stage IN ('production', 'staging', 'development'));
UPDATE ops.backups b SET stage = e.stage FROM ops.environments e WHERE e.id = b.env_id;
UPDATE ops.mailbox_messages m SET stage = e.stage FROM ops.environments e WHERE e.id = m.env_id;
ALTER TABLE ops.backups ALTER COLUMN stage SET NOT NULL;
ALTER TABLE ops.mailbox_messages ALTER COLUMN stage SET NOT NULL;

-- A new backup or message records its environment's stage at that moment,
-- whatever the inserting statement says.
CREATE FUNCTION ops.record_stage() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    NEW.stage := (SELECT e.stage FROM ops.environments e WHERE e.id = NEW.env_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER backups_stage BEFORE INSERT ON ops.backups FOR EACH ROW EXECUTE FUNCTION ops.record_stage();
CREATE TRIGGER mailbox_stage BEFORE INSERT ON ops.mailbox_messages FOR EACH ROW EXECUTE FUNCTION ops.record_stage();
-- The stage is history: it is never updated.
REVOKE UPDATE ON ops.backups FROM odooops_app;
GRANT UPDATE (state, worker, build_id, db_name, storage_key, format, size_bytes, sha256, manifest, progress_bytes, error,
              verified_at, started_at, finished_at, pruned_at)
    ON ops.backups TO odooops_app;

CREATE FUNCTION ops.may_see_backup(p_project uuid, p_stage text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT ops.reads_everything() OR ops.may(p_project, p_stage, 'backups')
        -- Development databases are rebuilt rather than backed up, but imports and
        -- restores of development branches are their members' own.
        OR (p_stage = 'development' AND ops.my_project_role(p_project) IS NOT NULL)
$$;

DROP POLICY backups_read ON ops.backups;
CREATE POLICY backups_read ON ops.backups FOR SELECT USING (ops.may_see_backup(project_id, stage));
DROP POLICY backups_request ON ops.backups;
CREATE POLICY backups_request ON ops.backups FOR INSERT WITH CHECK (
    tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)
    AND ops.env_stage(env_id, project_id) IS NOT NULL
    AND (ops.is_platform_admin() OR ops.may_see_backup(project_id, stage)));
-- Replaced by ops.may_see_backup, which reads the backup's own stage.
DROP FUNCTION ops.may_see_backups(uuid, uuid);

-- Mails: the matrix on the stage they were caught at.
DROP POLICY mailbox_read ON ops.mailbox_messages;
CREATE POLICY mailbox_read ON ops.mailbox_messages FOR SELECT
    USING (ops.reads_everything() OR ops.may(project_id, stage, 'mails'));
DROP POLICY mailbox_mark ON ops.mailbox_messages;
CREATE POLICY mailbox_mark ON ops.mailbox_messages FOR UPDATE USING (ops.may(project_id, stage, 'mails'));
DROP POLICY mailbox_delete ON ops.mailbox_messages;
CREATE POLICY mailbox_delete ON ops.mailbox_messages FOR DELETE USING (ops.may(project_id, stage, 'mails'));
DROP POLICY mailbox_catch ON ops.mailbox_messages;
CREATE POLICY mailbox_catch ON ops.mailbox_messages FOR INSERT WITH CHECK (
    ops.is_platform_admin() AND ops.env_stage(env_id, project_id) IS NOT NULL);

-- Child ids belong to the row's project (SEC-19) -------------------------------------

DROP POLICY shell_sessions_open ON ops.shell_sessions;
CREATE POLICY shell_sessions_open ON ops.shell_sessions FOR INSERT
    WITH CHECK (user_id = ops.current_user_id() AND project_id IN (SELECT ops.my_projects())
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)
                AND ops.build_in_project(build_id, project_id)
                AND ops.may(project_id, stage, 'shell'));

DROP POLICY promotions_request ON ops.promotions;
CREATE POLICY promotions_request ON ops.promotions FOR INSERT WITH CHECK (
    ops.build_in_project(source_build, project_id)
    AND (ops.is_platform_admin()
         OR (ops.my_project_role(project_id) IN ('admin', 'tester')
             AND requested_by = ops.current_user_id()
             AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id))));

-- A project's webhook secret: for its admins and the platform (the webhook
-- receiver checks signatures as the system account), never for anyone else.
CREATE OR REPLACE FUNCTION ops.webhook_secret(p_project uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT webhook_secret FROM ops.project_secrets
     WHERE project_id = p_project
       AND (ops.is_platform_admin() OR p_project IN (SELECT ops.my_admin_projects()))
$$;

REVOKE ALL ON FUNCTION ops.role_allows(text, text, text), ops.may(uuid, text, text), ops.env_stage(uuid, uuid),
    ops.build_in_project(uuid, uuid), ops.may_see_backup(uuid, text), ops.record_stage() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.role_allows(text, text, text), ops.may(uuid, text, text), ops.env_stage(uuid, uuid),
    ops.build_in_project(uuid, uuid), ops.may_see_backup(uuid, text) TO odooops_app;

-- Webhook replays (SEC-14): the delivery id is not signed, the body is. -------------

ALTER TABLE ops.webhook_deliveries ADD COLUMN body_sha256 bytea;
CREATE UNIQUE INDEX webhook_deliveries_body ON ops.webhook_deliveries (project_id, body_sha256);


-- Tenant membership by invitation (SEC-17) ----------------------------------------------
--
-- A tenant admin invites an email address; the account with that address (now
-- or once it signs up) sees the invitation and accepts or declines it. Nobody
-- joins a tenant without saying yes, and inviting tells the admin nothing
-- about whether the address has an account.

CREATE TABLE ops.tenant_invitations (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    role        text NOT NULL CHECK (role IN ('tenant_admin', 'member')),
    invited_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '14 days',
    answered_at timestamptz,
    answer      text CHECK (answer IN ('accepted', 'declined')),
    CHECK ((answered_at IS NULL) = (answer IS NULL))
);
-- One pending invitation per address and tenant (inviting again refreshes it).
CREATE UNIQUE INDEX tenant_invitations_pending ON ops.tenant_invitations (tenant_id, email) WHERE answered_at IS NULL;
CREATE INDEX tenant_invitations_email ON ops.tenant_invitations (email) WHERE answered_at IS NULL;
ALTER TABLE ops.tenant_invitations ENABLE ROW LEVEL SECURITY;

CREATE FUNCTION ops.my_email() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT email FROM ops.users WHERE id = ops.current_user_id()
$$;

CREATE POLICY invitations_read ON ops.tenant_invitations FOR SELECT USING (
    email = ops.my_email() OR tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.reads_everything());
CREATE POLICY invitations_send ON ops.tenant_invitations FOR INSERT WITH CHECK (
    (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    AND invited_by = ops.current_user_id() AND answered_at IS NULL);
-- Admins refresh a pending invitation; the invitee answers it.
CREATE POLICY invitations_update ON ops.tenant_invitations FOR UPDATE USING (
    email = ops.my_email() OR tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());

-- An invitee sees the name of the tenant that invites them.
DROP POLICY tenants_read ON ops.tenants;
CREATE POLICY tenants_read ON ops.tenants FOR SELECT USING (
    id IN (SELECT ops.my_tenants()) OR ops.reads_everything()
    OR id IN (SELECT i.tenant_id FROM ops.tenant_invitations i
               WHERE i.email = ops.my_email() AND i.answered_at IS NULL AND i.expires_at > now()));

-- Accepting: the invitee joins the tenant (its admins write ops.tenant_members
-- otherwise). The tenant joined, or NULL when there is no such pending
-- invitation for the caller.
CREATE FUNCTION ops.accept_invitation(p_id uuid) RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    WITH inv AS (
        UPDATE ops.tenant_invitations i SET answered_at = now(), answer = 'accepted'
         WHERE i.id = p_id AND i.email = ops.my_email() AND i.answered_at IS NULL AND i.expires_at > now()
        RETURNING i.tenant_id, i.role)
    INSERT INTO ops.tenant_members AS m (tenant_id, user_id, role)
    SELECT inv.tenant_id, ops.current_user_id(), inv.role FROM inv
    ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = EXCLUDED.role
    RETURNING m.tenant_id
$$;

-- Memberships are written by accepting (above), by sign-up and by platform
-- administrators creating a tenant; tenant admins change roles and remove.
DROP POLICY tenant_members_write ON ops.tenant_members;
CREATE POLICY tenant_members_add ON ops.tenant_members FOR INSERT WITH CHECK (ops.is_platform_admin());
CREATE POLICY tenant_members_change ON ops.tenant_members FOR UPDATE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY tenant_members_remove ON ops.tenant_members FOR DELETE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin() OR user_id = ops.current_user_id());

-- Tenant admins no longer look accounts up by email: invitations go to addresses.
DROP FUNCTION ops.user_id_by_email(text);

GRANT SELECT, INSERT, UPDATE ON ops.tenant_invitations TO odooops_app;
REVOKE ALL ON FUNCTION ops.my_email(), ops.accept_invitation(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.my_email(), ops.accept_invitation(uuid) TO odooops_app;

-- Issue 20: a colleague is added to a project by email. Someone already in
-- the project's tenant joins at once; anyone else gets an invitation: a
-- tenant invitation that also names the project and the role there, sent by
-- the project's admins (not only the tenant's), listed and revocable by them.
-- Accepting joins the tenant as a member and the project with that role.
ALTER TABLE ops.tenant_invitations
    ADD COLUMN project_id uuid REFERENCES ops.projects ON DELETE CASCADE,
    ADD COLUMN project_role text,
    -- The project's name when invited: the invitee cannot read the project before joining it.
    ADD COLUMN project_name text,
    ADD CONSTRAINT tenant_invitations_project_role CHECK ((project_id IS NULL) = (project_role IS NULL));
ALTER TABLE ops.tenant_invitations DROP CONSTRAINT tenant_invitations_answer_check;
ALTER TABLE ops.tenant_invitations
    ADD CONSTRAINT tenant_invitations_answer_check CHECK (answer IN ('accepted', 'declined', 'revoked'));
CREATE INDEX tenant_invitations_project ON ops.tenant_invitations (project_id) WHERE answered_at IS NULL;

-- A project's admins invite into its tenant only as plain members, only for
-- their own project, and see and revoke only those invitations.
CREATE POLICY invitations_send_project ON ops.tenant_invitations FOR INSERT WITH CHECK (
    (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
    AND role = 'member'
    AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)
    AND invited_by = ops.current_user_id() AND answered_at IS NULL);
CREATE POLICY invitations_read_project ON ops.tenant_invitations FOR SELECT USING (
    project_id IN (SELECT ops.my_admin_projects()));
CREATE POLICY invitations_update_project ON ops.tenant_invitations FOR UPDATE USING (
    project_id IN (SELECT ops.my_admin_projects()));

CREATE OR REPLACE FUNCTION ops.accept_invitation(p_id uuid) RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    inv record;
BEGIN
    UPDATE ops.tenant_invitations i SET answered_at = now(), answer = 'accepted'
     WHERE i.id = p_id AND i.email = ops.my_email() AND i.answered_at IS NULL AND i.expires_at > now()
    RETURNING i.tenant_id, i.role, i.project_id, i.project_role INTO inv;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- Joining never lowers a tenant role the person already has.
    INSERT INTO ops.tenant_members AS m (tenant_id, user_id, role)
    VALUES (inv.tenant_id, ops.current_user_id(), inv.role)
    ON CONFLICT (tenant_id, user_id) DO UPDATE
        SET role = CASE WHEN m.role = 'tenant_admin' THEN m.role ELSE EXCLUDED.role END;
    IF inv.project_id IS NOT NULL THEN
        INSERT INTO ops.project_members (project_id, tenant_id, user_id, role)
        VALUES (inv.project_id, inv.tenant_id, ops.current_user_id(), inv.project_role)
        ON CONFLICT (project_id, user_id) DO UPDATE SET role = EXCLUDED.role;
    END IF;
    RETURN inv.tenant_id;
END
$$;
REVOKE ALL ON FUNCTION ops.accept_invitation(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.accept_invitation(uuid) TO odooops_app;

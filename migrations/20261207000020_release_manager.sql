-- The release manager (issue 17): a project role with a tester's rights that
-- also approves promotions, upgrades and production restores, without
-- administering the project. The SQL matrix stays the Rust one
-- (domain/src/types/roles.rs; a test compares them cell by cell).

ALTER TABLE ops.project_members DROP CONSTRAINT project_members_role_check;
ALTER TABLE ops.project_members ADD CONSTRAINT project_members_role_check
    CHECK (role IN ('admin', 'developer', 'tester', 'release_manager'));

CREATE OR REPLACE FUNCTION ops.role_allows(p_role text, p_stage text, p_cap text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_role IS NULL OR p_role NOT IN ('admin', 'developer', 'tester', 'release_manager')
             OR p_stage IS NULL OR p_stage NOT IN ('production', 'staging', 'development') THEN false
        WHEN p_cap = 'request_promotion' THEN p_role IN ('admin', 'tester', 'release_manager')
        WHEN p_cap = 'promote' THEN p_role IN ('admin', 'release_manager')
        WHEN p_cap IN ('project_settings', 'manage_members', 'audit_log') THEN p_role = 'admin'
        WHEN p_stage = 'development' THEN p_cap <> 'backups'
        WHEN p_role = 'admin' THEN p_cap <> 'mails' OR p_stage <> 'production'
        WHEN p_stage = 'staging' AND p_role IN ('tester', 'release_manager') THEN true
        ELSE p_cap IN ('connect', 'history', 'status')
    END
$$;

DROP POLICY promotions_request ON ops.promotions;
CREATE POLICY promotions_request ON ops.promotions FOR INSERT WITH CHECK (
    ops.build_in_project(source_build, project_id)
    AND (ops.is_platform_admin()
         OR (ops.my_project_role(project_id) IN ('admin', 'tester', 'release_manager')
             AND requested_by = ops.current_user_id()
             AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id))));
DROP POLICY promotions_decide ON ops.promotions;
CREATE POLICY promotions_decide ON ops.promotions FOR UPDATE
    USING (ops.is_platform_admin() OR ops.my_project_role(project_id) IN ('admin', 'release_manager'));
DROP POLICY approvals_give ON ops.promotion_approvals;
CREATE POLICY approvals_give ON ops.promotion_approvals FOR INSERT WITH CHECK (
    user_id = ops.current_user_id()
    AND promotion_id IN (SELECT p.id FROM ops.promotions p
                          WHERE ops.is_platform_admin()
                             OR ops.my_project_role(p.project_id) IN ('admin', 'release_manager')));

-- Production restores: admins ask; admins and release managers decide.
DROP POLICY restore_requests_write ON ops.restore_requests;
CREATE POLICY restore_requests_ask ON ops.restore_requests FOR INSERT
    WITH CHECK ((ops.is_platform_admin() OR ops.my_project_role(project_id) = 'admin')
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
CREATE POLICY restore_requests_decide ON ops.restore_requests FOR UPDATE
    USING (ops.is_platform_admin() OR ops.my_project_role(project_id) IN ('admin', 'release_manager')
           OR requested_by = ops.current_user_id())
    WITH CHECK (tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));

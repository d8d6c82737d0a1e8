-- Who-is-acting functions in PL/pgSQL (#21). As SECURITY DEFINER SQL
-- functions they cannot be inlined, and PostgreSQL parses and plans a SQL
-- function's body again on every call: a profile of the project page under
-- load spent a fifth of the database's CPU there (my_projects() alone plans a
-- UNION per call, once per statement of every request). PL/pgSQL keeps each
-- session's plans. Same bodies, same owner, same search path, same answers.

CREATE OR REPLACE FUNCTION ops.platform_role() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN (SELECT platform_role FROM ops.users WHERE id = ops.current_user_id());
END
$$;

CREATE OR REPLACE FUNCTION ops.my_email() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN (SELECT email FROM ops.users WHERE id = ops.current_user_id());
END
$$;

CREATE OR REPLACE FUNCTION ops.my_tenants() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN QUERY SELECT tenant_id FROM ops.tenant_members WHERE user_id = ops.current_user_id();
END
$$;

CREATE OR REPLACE FUNCTION ops.my_admin_tenants() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN QUERY SELECT tenant_id FROM ops.tenant_members
                  WHERE user_id = ops.current_user_id() AND role = 'tenant_admin';
END
$$;

CREATE OR REPLACE FUNCTION ops.my_projects() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN QUERY
        SELECT project_id FROM ops.project_members WHERE user_id = ops.current_user_id()
        UNION
        SELECT p.id FROM ops.projects p JOIN ops.tenant_members m ON m.tenant_id = p.tenant_id
         WHERE m.user_id = ops.current_user_id() AND m.role = 'tenant_admin';
END
$$;

CREATE OR REPLACE FUNCTION ops.my_admin_projects() RETURNS SETOF uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN QUERY
        SELECT project_id FROM ops.project_members WHERE user_id = ops.current_user_id() AND role = 'admin'
        UNION
        SELECT p.id FROM ops.projects p JOIN ops.tenant_members m ON m.tenant_id = p.tenant_id
         WHERE m.user_id = ops.current_user_id() AND m.role = 'tenant_admin';
END
$$;

CREATE OR REPLACE FUNCTION ops.my_project_role(p_project uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN (SELECT CASE
        WHEN ops.is_platform_admin() OR p_project IN (SELECT ops.my_admin_projects()) THEN 'admin'
        ELSE (SELECT role FROM ops.project_members WHERE project_id = p_project AND user_id = ops.current_user_id())
    END);
END
$$;

CREATE OR REPLACE FUNCTION ops.my_membership_role(p_project uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN (SELECT CASE
        WHEN p_project IN (SELECT ops.my_admin_projects()) THEN 'admin'
        ELSE (SELECT role FROM ops.project_members WHERE project_id = p_project AND user_id = ops.current_user_id())
    END);
END
$$;

CREATE OR REPLACE FUNCTION ops.env_stage(p_env uuid, p_project uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN (SELECT stage FROM ops.environments WHERE id = p_env AND project_id = p_project);
END
$$;

CREATE OR REPLACE FUNCTION ops.build_in_project(p_build uuid, p_project uuid) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM ops.builds WHERE id = p_build AND project_id = p_project);
END
$$;

-- The instance admin password's hash waits in ops.instance_operations only
-- until provisioning writes it into the instance's database. Nobody reads it
-- there but that build: the application role may read every other column of
-- an operation (its tenant's members see their operations), and the hash
-- only through a function that answers the system account alone.

REVOKE SELECT ON ops.instance_operations FROM odooops_app;
GRANT SELECT (id, instance_id, tenant_id, kind, state, from_state, idempotency_key, requested_by, build_id,
              backup_id, error, created_at, started_at, finished_at, target_strategy, log, downtime_ms,
              serving_stopped_at)
    ON ops.instance_operations TO odooops_app;

CREATE FUNCTION ops.pending_admin_hash(p_build uuid)
RETURNS TABLE (operation uuid, hash text, login text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT o.id, o.admin_password_hash, i.admin_login
      FROM ops.instance_operations o JOIN ops.instances i ON i.id = o.instance_id
     WHERE o.build_id = p_build AND o.admin_password_hash IS NOT NULL
       AND ops.current_user_id() = '00000000-0000-0000-0000-000000000001'
$$;
REVOKE ALL ON FUNCTION ops.pending_admin_hash(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.pending_admin_hash(uuid) TO odooops_app;

-- A person's own role on a project, by membership only: tenant admins count
-- as its admins, platform staff do not by their office. The access module
-- reads this (platform staff administer through their own flag), so a shell
-- into a tenant's container is for its members, never for staff as such.
CREATE FUNCTION ops.my_membership_role(p_project uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT CASE
        WHEN p_project IN (SELECT ops.my_admin_projects()) THEN 'admin'
        ELSE (SELECT role FROM ops.project_members WHERE project_id = p_project AND user_id = ops.current_user_id())
    END
$$;
REVOKE ALL ON FUNCTION ops.my_membership_role(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.my_membership_role(uuid) TO odooops_app;

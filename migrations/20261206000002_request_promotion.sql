-- The role matrix gains `request_promotion`: testers validate staging and ask
-- for its promotion; admins approve (`promote`). The SQL matrix stays the
-- Rust one (domain/src/types/roles.rs; a test compares them cell by cell).
CREATE OR REPLACE FUNCTION ops.role_allows(p_role text, p_stage text, p_cap text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_role IS NULL OR p_role NOT IN ('admin', 'developer', 'tester')
             OR p_stage IS NULL OR p_stage NOT IN ('production', 'staging', 'development') THEN false
        WHEN p_cap = 'request_promotion' THEN p_role IN ('admin', 'tester')
        WHEN p_cap IN ('project_settings', 'manage_members', 'promote', 'audit_log') THEN p_role = 'admin'
        WHEN p_stage = 'development' THEN p_cap <> 'backups'
        WHEN p_role = 'admin' THEN p_cap <> 'mails' OR p_stage <> 'production'
        WHEN p_stage = 'staging' AND p_role = 'tester' THEN true
        ELSE p_cap IN ('connect', 'history', 'status')
    END
$$;

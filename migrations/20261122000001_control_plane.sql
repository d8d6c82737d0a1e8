-- OdooOps control plane: accounts, tenancy, projects, environments, audit.
--
-- Security model: the application logs in as a role that is a member of the
-- NOLOGIN group `odooops_app`. It owns nothing and has no BYPASSRLS, so every
-- row it touches goes through the policies below. Each request sets
-- `odooops.user_id` with SET LOCAL (set_config(..., true)) in its transaction;
-- the policies read it through ops.current_user_id(). Operations that must run
-- before anyone is known (sign-in, session lookup) go through a few
-- SECURITY DEFINER functions with narrow contracts.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'odooops_app') THEN
        CREATE ROLE odooops_app NOLOGIN NOBYPASSRLS NOSUPERUSER NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;

CREATE SCHEMA ops;
-- Owner-only bookkeeping (e.g. the application role's password); the app role has no USAGE here.
CREATE SCHEMA ops_private;
REVOKE ALL ON SCHEMA ops_private FROM PUBLIC;
GRANT USAGE ON SCHEMA ops TO odooops_app;

CREATE TABLE ops_private.settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- Accounts -------------------------------------------------------------------

CREATE TABLE ops.users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email LIKE '%_@_%'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    password_hash text NOT NULL,
    platform_role text CHECK (platform_role IN ('platform_owner', 'platform_operator', 'auditor')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The account background workers (builds, sweeps) act as, through the same
-- row-level security as people. It cannot sign in (no hash verifies against
-- '!') and does not count as "the first account".
INSERT INTO ops.users (id, email, display_name, password_hash, platform_role)
VALUES ('00000000-0000-0000-0000-000000000001', 'system@odooops.invalid', 'OdooOps', '!', 'platform_operator');

CREATE TABLE ops.sessions (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL DEFAULT now(),
    ip          text,
    user_agent  text
);
CREATE INDEX sessions_user ON ops.sessions (user_id);

CREATE TABLE ops.api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    prefix       text NOT NULL,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON ops.api_tokens (user_id);

CREATE TABLE ops.password_resets (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- Tenancy --------------------------------------------------------------------

CREATE TABLE ops.tenants (
    id          uuid PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    -- `shared` uses the platform's PostgreSQL; `dedicated` a server of the tenant's own.
    db_mode     text NOT NULL DEFAULT 'shared' CHECK (db_mode IN ('shared', 'dedicated')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.tenant_members (
    tenant_id  uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('tenant_admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX tenant_members_user ON ops.tenant_members (user_id);

CREATE TABLE ops.projects (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    slug          text NOT NULL,
    name          text NOT NULL,
    repo_url      text NOT NULL,
    odoo_version  text NOT NULL,
    base_image    text NOT NULL,
    -- [{"pattern": "main", "stage": "production"}, ...], first match wins.
    stage_rules   jsonb NOT NULL,
    cpu_limit     numeric(5,2) NOT NULL DEFAULT 1.0,
    memory_limit_mb integer NOT NULL DEFAULT 2048,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE ops.project_members (
    project_id uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    tenant_id  uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('admin', 'developer', 'tester')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON ops.project_members (user_id);

-- One row per branch of a project: its stage and, later, its builds.
CREATE TABLE ops.environments (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id  uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    branch      text NOT NULL,
    stage       text NOT NULL CHECK (stage IN ('production', 'staging', 'development')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, branch)
);
CREATE UNIQUE INDEX one_production_per_project ON ops.environments (project_id) WHERE stage = 'production';

-- Audit ----------------------------------------------------------------------

CREATE TABLE ops.audit_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id    uuid REFERENCES ops.users ON DELETE SET NULL,
    actor_email text,
    tenant_id   uuid,
    project_id  uuid,
    action      text NOT NULL,
    target      text NOT NULL,
    summary     jsonb NOT NULL DEFAULT '{}',
    ip          text,
    user_agent  text,
    request_id  text,
    prev_hash   bytea,
    hash        bytea
);
CREATE INDEX audit_tenant_at ON ops.audit_events (tenant_id, at DESC);
CREATE INDEX audit_project_at ON ops.audit_events (project_id, at DESC);

-- Each row's hash covers its content and the previous row's hash, so editing
-- or deleting any row breaks the chain from there on. Rows are chained in id
-- order; the advisory lock serialises writers so the chain never forks.
CREATE FUNCTION ops.audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7301);
    SELECT hash INTO NEW.prev_hash FROM ops.audit_events ORDER BY id DESC LIMIT 1;
    NEW.hash := sha256(convert_to(concat_ws('|',
        NEW.id::text, (extract(epoch FROM NEW.at) * 1000000)::bigint::text, coalesce(NEW.actor_id::text, ''), coalesce(NEW.actor_email, ''),
        coalesce(NEW.tenant_id::text, ''), coalesce(NEW.project_id::text, ''), NEW.action, NEW.target,
        NEW.summary::text, coalesce(NEW.ip, ''), coalesce(NEW.user_agent, ''), coalesce(NEW.request_id, ''),
        coalesce(encode(NEW.prev_hash, 'hex'), '')), 'UTF8'));
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_chain BEFORE INSERT ON ops.audit_events FOR EACH ROW EXECUTE FUNCTION ops.audit_chain();

CREATE FUNCTION ops.audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ops.audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON ops.audit_events
    FOR EACH ROW EXECUTE FUNCTION ops.audit_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON ops.audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION ops.audit_refuse_change();

-- Who is acting ----------------------------------------------------------------

CREATE FUNCTION ops.current_user_id() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('odooops.user_id', true), '')::uuid
$$;

CREATE FUNCTION ops.platform_role() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT platform_role FROM ops.users WHERE id = ops.current_user_id()
$$;

-- Owners and operators administer the platform; auditors read everything.
CREATE FUNCTION ops.is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(ops.platform_role() IN ('platform_owner', 'platform_operator'), false)
$$;

CREATE FUNCTION ops.reads_everything() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(ops.platform_role() IN ('platform_owner', 'platform_operator', 'auditor'), false)
$$;

CREATE FUNCTION ops.my_tenants() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT tenant_id FROM ops.tenant_members WHERE user_id = ops.current_user_id()
$$;

CREATE FUNCTION ops.my_admin_tenants() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT tenant_id FROM ops.tenant_members WHERE user_id = ops.current_user_id() AND role = 'tenant_admin'
$$;

-- Projects the user can see: a project role, or admin of the project's tenant.
CREATE FUNCTION ops.my_projects() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT project_id FROM ops.project_members WHERE user_id = ops.current_user_id()
    UNION
    SELECT p.id FROM ops.projects p JOIN ops.tenant_members m ON m.tenant_id = p.tenant_id
     WHERE m.user_id = ops.current_user_id() AND m.role = 'tenant_admin'
$$;

CREATE FUNCTION ops.my_admin_projects() RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT project_id FROM ops.project_members WHERE user_id = ops.current_user_id() AND role = 'admin'
    UNION
    SELECT p.id FROM ops.projects p JOIN ops.tenant_members m ON m.tenant_id = p.tenant_id
     WHERE m.user_id = ops.current_user_id() AND m.role = 'tenant_admin'
$$;

-- Pre-authentication entry points -----------------------------------------------

-- Sign-in: the hash of one account, looked up by email.
CREATE FUNCTION ops.auth_password_hash(p_email text) RETURNS TABLE (user_id uuid, password_hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT id, password_hash FROM ops.users
     WHERE email = lower(p_email) AND id <> '00000000-0000-0000-0000-000000000001'
$$;

-- A live session's user; touches last_seen at most once a minute.
CREATE FUNCTION ops.auth_session_user(p_token_hash bytea) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.sessions SET last_seen = now()
     WHERE token_hash = p_token_hash AND expires_at > now() AND last_seen < now() - interval '1 minute';
    SELECT user_id INTO uid FROM ops.sessions WHERE token_hash = p_token_hash AND expires_at > now();
    RETURN uid;
END
$$;

-- A live personal access token's user; records its use.
CREATE FUNCTION ops.auth_token_user(p_token_hash bytea) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.api_tokens SET last_used_at = now()
     WHERE token_hash = p_token_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    RETURNING user_id INTO uid;
    RETURN uid;
END
$$;

-- Sign-up: a user, their tenant, and their tenant-admin membership, in one go.
-- The first account of an empty installation becomes the platform owner.
CREATE FUNCTION ops.auth_sign_up(p_id uuid, p_email text, p_name text, p_hash text,
                                 p_tenant_id uuid, p_tenant_slug text, p_tenant_name text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE role text;
BEGIN
    LOCK TABLE ops.users IN SHARE ROW EXCLUSIVE MODE;
    role := CASE WHEN EXISTS (SELECT 1 FROM ops.users WHERE id <> '00000000-0000-0000-0000-000000000001')
                 THEN NULL ELSE 'platform_owner' END;
    INSERT INTO ops.users (id, email, display_name, password_hash, platform_role)
         VALUES (p_id, lower(p_email), p_name, p_hash, role);
    INSERT INTO ops.tenants (id, slug, name) VALUES (p_tenant_id, p_tenant_slug, p_tenant_name);
    INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES (p_tenant_id, p_id, 'tenant_admin');
    INSERT INTO ops.audit_events (actor_id, actor_email, tenant_id, action, target, summary)
         VALUES (p_id, lower(p_email), p_tenant_id, 'account.sign_up', 'user:' || p_id,
                 jsonb_build_object('tenant', p_tenant_slug, 'platform_role', role));
    RETURN role;
END
$$;

-- Password reset, step 1: store a token hash for an existing account. Returns
-- the user id, or NULL for an unknown email (the caller answers the same either way).
CREATE FUNCTION ops.auth_request_reset(p_email text, p_token_hash bytea, p_expires timestamptz) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    SELECT id INTO uid FROM ops.users WHERE email = lower(p_email);
    IF uid IS NOT NULL THEN
        INSERT INTO ops.password_resets (token_hash, user_id, expires_at) VALUES (p_token_hash, uid, p_expires);
    END IF;
    RETURN uid;
END
$$;

-- Step 2: consume the token once, set the new hash, end every session.
CREATE FUNCTION ops.auth_consume_reset(p_token_hash bytea, p_new_hash text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.password_resets SET used_at = now()
     WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
    RETURNING user_id INTO uid;
    IF uid IS NOT NULL THEN
        UPDATE ops.users SET password_hash = p_new_hash WHERE id = uid;
        DELETE FROM ops.sessions WHERE user_id = uid;
        INSERT INTO ops.audit_events (actor_id, actor_email, action, target)
             SELECT uid, email, 'account.password_reset', 'user:' || uid FROM ops.users WHERE id = uid;
    END IF;
    RETURN uid;
END
$$;

-- Row-level security ----------------------------------------------------------------

ALTER TABLE ops.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.password_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.tenant_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.project_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.environments ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.audit_events ENABLE ROW LEVEL SECURITY;

-- Users: yourself, people who share a tenant with you, or everyone for platform staff.
CREATE POLICY users_read ON ops.users FOR SELECT USING (
    id = ops.current_user_id() OR ops.reads_everything()
    OR id IN (SELECT user_id FROM ops.tenant_members WHERE tenant_id IN (SELECT ops.my_tenants())));
CREATE POLICY users_update_self ON ops.users FOR UPDATE USING (id = ops.current_user_id());

CREATE POLICY sessions_own ON ops.sessions FOR ALL
    USING (user_id = ops.current_user_id()) WITH CHECK (user_id = ops.current_user_id());
CREATE POLICY tokens_own ON ops.api_tokens FOR ALL
    USING (user_id = ops.current_user_id()) WITH CHECK (user_id = ops.current_user_id());

CREATE POLICY tenants_read ON ops.tenants FOR SELECT
    USING (id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY tenants_create ON ops.tenants FOR INSERT WITH CHECK (ops.is_platform_admin());
CREATE POLICY tenants_update ON ops.tenants FOR UPDATE
    USING (id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY tenants_delete ON ops.tenants FOR DELETE USING (ops.is_platform_admin());

CREATE POLICY tenant_members_read ON ops.tenant_members FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY tenant_members_write ON ops.tenant_members FOR ALL
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());

CREATE POLICY projects_read ON ops.projects FOR SELECT
    USING (id IN (SELECT ops.my_projects()) OR ops.reads_everything());
CREATE POLICY projects_create ON ops.projects FOR INSERT
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY projects_update ON ops.projects FOR UPDATE
    USING (id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin());
CREATE POLICY projects_delete ON ops.projects FOR DELETE
    USING (id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin());

CREATE POLICY project_members_read ON ops.project_members FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
CREATE POLICY project_members_write ON ops.project_members FOR ALL
    USING (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
    WITH CHECK ((project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));

CREATE POLICY environments_read ON ops.environments FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
CREATE POLICY environments_write ON ops.environments FOR ALL
    USING (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
    WITH CHECK ((project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));

CREATE POLICY audit_read ON ops.audit_events FOR SELECT USING (
    ops.reads_everything()
    OR actor_id = ops.current_user_id()
    OR tenant_id IN (SELECT ops.my_admin_tenants())
    OR project_id IN (SELECT ops.my_admin_projects()));
CREATE POLICY audit_insert ON ops.audit_events FOR INSERT
    WITH CHECK (actor_id IS NOT DISTINCT FROM ops.current_user_id());

-- Privileges: no table is owned by the application; audit is insert-only. ----------

GRANT SELECT (id, email, display_name, platform_role, created_at), UPDATE (display_name, password_hash)
    ON ops.users TO odooops_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.sessions, ops.api_tokens, ops.tenants, ops.tenant_members,
    ops.projects, ops.project_members, ops.environments TO odooops_app;
GRANT SELECT, INSERT ON ops.audit_events TO odooops_app;
GRANT USAGE ON SEQUENCE ops.audit_events_id_seq TO odooops_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA ops FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ops TO odooops_app;

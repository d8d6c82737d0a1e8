-- Web shells and SSH into build containers: sessions with a TTL, their
-- byte-exact transcripts, and the public keys people log in with.

-- How long a shell may live, per project (Odoo.sh kills idle shells; we also cap their age).
ALTER TABLE ops.projects
    ADD COLUMN shell_ttl_minutes integer NOT NULL DEFAULT 15 CHECK (shell_ttl_minutes BETWEEN 15 AND 30);

-- The caller's effective role in a project: platform and tenant admins act as project admins.
CREATE FUNCTION ops.my_project_role(p_project uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT CASE
        WHEN ops.is_platform_admin() OR p_project IN (SELECT ops.my_admin_projects()) THEN 'admin'
        ELSE (SELECT role FROM ops.project_members WHERE project_id = p_project AND user_id = ops.current_user_id())
    END
$$;

-- Public keys for the SSH gateway. A key identifies one account, so it is unique platform-wide
-- (which also makes it unique per user).
CREATE TABLE ops.ssh_keys (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    algorithm    text NOT NULL,
    bits         integer NOT NULL,
    fingerprint  text NOT NULL UNIQUE CHECK (fingerprint LIKE 'SHA256:%'),
    public_key   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
CREATE INDEX ssh_keys_user ON ops.ssh_keys (user_id);

-- Before anyone is known, the SSH gateway needs the owner of a presented key.
CREATE FUNCTION ops.ssh_key_owner(p_fingerprint text) RETURNS uuid
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    UPDATE ops.ssh_keys SET last_used_at = now() WHERE fingerprint = p_fingerprint RETURNING user_id
$$;

-- Whether a fingerprint is taken by someone else (keys are unique platform-wide; RLS hides others' rows).
CREATE FUNCTION ops.ssh_key_taken(p_fingerprint text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM ops.ssh_keys WHERE fingerprint = p_fingerprint)
$$;

-- The live build behind an SSH user name (its preview slug, e.g. `b12-shop`), for key holders.
CREATE FUNCTION ops.build_by_slug(p_slug text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT id FROM ops.builds WHERE preview_slug = p_slug
$$;

CREATE TABLE ops.shell_sessions (
    id                uuid PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id        uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    build_id          uuid NOT NULL REFERENCES ops.builds ON DELETE CASCADE,
    user_id           uuid NOT NULL REFERENCES ops.users,
    user_email        text NOT NULL,
    container_id      text NOT NULL,
    stage             text NOT NULL CHECK (stage IN ('production', 'staging', 'development')),
    via               text NOT NULL CHECK (via IN ('web', 'ssh')),
    -- One-time attach token of a web session; cleared when the terminal attaches.
    token_hash        bytea,
    opened_at         timestamptz NOT NULL DEFAULT now(),
    attached_at       timestamptz,
    expires_at        timestamptz NOT NULL,
    idle_timeout_secs integer NOT NULL CHECK (idle_timeout_secs > 0),
    closed_at         timestamptz,
    close_reason      text,
    bytes_in          bigint NOT NULL DEFAULT 0,
    bytes_out         bigint NOT NULL DEFAULT 0,
    -- Bytes that did not fit under the transcript limit (recorded as a count, never silently lost).
    dropped_bytes     bigint NOT NULL DEFAULT 0,
    ip                text,
    user_agent        text,
    CHECK ((closed_at IS NULL) = (close_reason IS NULL))
);
CREATE INDEX shell_sessions_build ON ops.shell_sessions (build_id, opened_at DESC);
CREATE INDEX shell_sessions_open ON ops.shell_sessions (expires_at) WHERE closed_at IS NULL;

-- The transcript: what was typed (`in`), printed (`out`), terminal resizes and notes, in order.
CREATE TABLE ops.exec_events (
    id         bigserial PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES ops.shell_sessions ON DELETE CASCADE,
    direction  text NOT NULL CHECK (direction IN ('in', 'out', 'resize', 'note')),
    data       bytea NOT NULL,
    at         timestamptz NOT NULL
);
CREATE INDEX exec_events_session ON ops.exec_events (session_id, id);

ALTER TABLE ops.ssh_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.shell_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.exec_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY ssh_keys_own ON ops.ssh_keys FOR ALL
    USING (user_id = ops.current_user_id()) WITH CHECK (user_id = ops.current_user_id());
CREATE POLICY ssh_keys_audit ON ops.ssh_keys FOR SELECT USING (ops.reads_everything());

-- A session is read by its user, the project's admins and auditors; opened by a member for themselves.
CREATE POLICY shell_sessions_read ON ops.shell_sessions FOR SELECT
    USING (user_id = ops.current_user_id() OR project_id IN (SELECT ops.my_admin_projects()) OR ops.reads_everything());
CREATE POLICY shell_sessions_open ON ops.shell_sessions FOR INSERT
    WITH CHECK (user_id = ops.current_user_id() AND project_id IN (SELECT ops.my_projects())
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
CREATE POLICY shell_sessions_update ON ops.shell_sessions FOR UPDATE
    USING (user_id = ops.current_user_id() OR ops.is_platform_admin());

CREATE POLICY exec_events_read ON ops.exec_events FOR SELECT
    USING (session_id IN (SELECT s.id FROM ops.shell_sessions s));
CREATE POLICY exec_events_write ON ops.exec_events FOR INSERT
    WITH CHECK (session_id IN (SELECT s.id FROM ops.shell_sessions s
                                WHERE s.user_id = ops.current_user_id() OR ops.is_platform_admin()));

-- Transcripts are evidence: the application appends and reads, never edits.
GRANT SELECT, INSERT, DELETE ON ops.ssh_keys TO odooops_app;
GRANT SELECT, INSERT, UPDATE ON ops.shell_sessions TO odooops_app;
GRANT SELECT, INSERT ON ops.exec_events TO odooops_app;
GRANT USAGE ON SEQUENCE ops.exec_events_id_seq TO odooops_app;
REVOKE ALL ON FUNCTION ops.my_project_role(uuid), ops.ssh_key_owner(text), ops.ssh_key_taken(text),
    ops.build_by_slug(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.my_project_role(uuid), ops.ssh_key_owner(text), ops.ssh_key_taken(text),
    ops.build_by_slug(text) TO odooops_app;

-- Branch builds: webhook deliveries, the build queue, and build events.
--
-- Builds are rows; workers claim pending ones with FOR UPDATE SKIP LOCKED and
-- are woken by NOTIFY on channel `ops_builds`. Background work acts as the
-- built-in system account (control-plane migration), through the same row-level security as people.

-- Build settings of a project.
ALTER TABLE ops.projects
    ADD COLUMN allow_fork_builds boolean NOT NULL DEFAULT false,
    ADD COLUMN public_previews   boolean NOT NULL DEFAULT false,
    ADD COLUMN keep_dev_builds   integer NOT NULL DEFAULT 3 CHECK (keep_dev_builds BETWEEN 1 AND 50),
    ADD COLUMN dev_idle_hours    integer NOT NULL DEFAULT 72 CHECK (dev_idle_hours BETWEEN 1 AND 720),
    -- For repositories that cannot send webhooks: check the branches every N minutes (0 = off).
    ADD COLUMN poll_minutes      integer NOT NULL DEFAULT 0 CHECK (poll_minutes BETWEEN 0 AND 1440),
    ADD COLUMN last_polled_at    timestamptz;

-- Secrets of a project: project admins only.
CREATE TABLE ops.project_secrets (
    project_id     uuid PRIMARY KEY REFERENCES ops.projects ON DELETE CASCADE,
    tenant_id      uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    webhook_secret text NOT NULL,
    -- OpenSSH private key of the project's deploy key (ed25519), for private repositories.
    deploy_key     text
);
-- The public half is shown to members, to add as a read-only deploy key.
ALTER TABLE ops.projects ADD COLUMN deploy_key_public text;
ALTER TABLE ops.project_secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY project_secrets_admin ON ops.project_secrets FOR ALL
    USING (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
    WITH CHECK (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin());
INSERT INTO ops.project_secrets (project_id, tenant_id, webhook_secret)
     SELECT id, tenant_id, encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex')
       FROM ops.projects;

-- Webhooks arrive before anyone is known: this returns a project's secret for
-- the signature check and nothing else.
CREATE FUNCTION ops.webhook_secret(p_project uuid) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT webhook_secret FROM ops.project_secrets WHERE project_id = p_project
$$;

-- Every delivery we accepted, so a redelivery is acknowledged and not built twice.
CREATE TABLE ops.webhook_deliveries (
    delivery_id text PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id  uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    event       text NOT NULL,
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ops.environments
    ADD COLUMN pr_number    integer,
    ADD COLUMN last_activity timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN deleted_at   timestamptz;

CREATE TABLE ops.builds (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    env_id        uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    seq           bigserial,
    branch        text NOT NULL,
    stage         text NOT NULL CHECK (stage IN ('production', 'staging', 'development')),
    commit_sha    text NOT NULL CHECK (commit_sha ~ '^[0-9a-f]{40}$'),
    subject       text NOT NULL DEFAULT '',
    author        text NOT NULL DEFAULT '',
    trigger       text NOT NULL CHECK (trigger IN ('push', 'pull_request', 'rebuild', 'poll', 'api')),
    -- Runbot's vocabulary: state says where it is, result how it ended.
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done')),
    result        text CHECK (result IN ('ok', 'warn', 'ko', 'killed')),
    reason        text,
    attempts      integer NOT NULL DEFAULT 0,
    kill_requested boolean NOT NULL DEFAULT false,
    worker        text,
    heartbeat_at  timestamptz,
    image_digest  text,
    db_name       text,
    db_role       text,
    network       text,
    container_id  text,
    -- `ip:port` of the serving container while the preview is live.
    preview_target text,
    preview_slug  text UNIQUE,
    live          boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    CHECK ((state = 'done') = (result IS NOT NULL))
);
CREATE INDEX builds_pending ON ops.builds (created_at) WHERE state = 'pending';
CREATE INDEX builds_env ON ops.builds (env_id, created_at DESC);
CREATE INDEX builds_project ON ops.builds (project_id, created_at DESC);

-- Phase timeline and log lines of builds (and later of environments).
CREATE TABLE ops.run_events (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    build_id   uuid REFERENCES ops.builds ON DELETE CASCADE,
    env_id     uuid REFERENCES ops.environments ON DELETE CASCADE,
    level      text NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
    source     text NOT NULL,
    message    text NOT NULL,
    meta       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX run_events_build ON ops.run_events (build_id, id);

ALTER TABLE ops.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.builds ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.run_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY deliveries_read ON ops.webhook_deliveries FOR SELECT
    USING (project_id IN (SELECT ops.my_admin_projects()) OR ops.reads_everything());
CREATE POLICY deliveries_write ON ops.webhook_deliveries FOR INSERT WITH CHECK (ops.is_platform_admin());
CREATE POLICY deliveries_outcome ON ops.webhook_deliveries FOR UPDATE USING (ops.is_platform_admin());

CREATE POLICY builds_read ON ops.builds FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
-- Members may queue builds (Rebuild); workers (platform operator) run them.
CREATE POLICY builds_insert ON ops.builds FOR INSERT
    WITH CHECK ((project_id IN (SELECT ops.my_projects()) OR ops.is_platform_admin())
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
CREATE POLICY builds_update ON ops.builds FOR UPDATE
    USING (project_id IN (SELECT ops.my_projects()) OR ops.is_platform_admin());

CREATE POLICY run_events_read ON ops.run_events FOR SELECT
    USING (build_id IN (SELECT b.id FROM ops.builds b) OR ops.reads_everything());
CREATE POLICY run_events_write ON ops.run_events FOR INSERT WITH CHECK (ops.is_platform_admin());

GRANT SELECT, INSERT, UPDATE, DELETE ON ops.project_secrets, ops.builds TO odooops_app;

-- Preview routing happens before anyone is known: the target and access facts of one live build.
CREATE FUNCTION ops.preview_target(p_slug text)
RETURNS TABLE (build_id uuid, target text, live boolean, state text, result text, stage text, public boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT b.id, b.preview_target, b.live, b.state, b.result, b.stage, p.public_previews
      FROM ops.builds b JOIN ops.projects p ON p.id = b.project_id
     WHERE b.preview_slug = p_slug
$$;
REVOKE ALL ON FUNCTION ops.preview_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.preview_target(text) TO odooops_app;
GRANT SELECT, INSERT, UPDATE ON ops.webhook_deliveries TO odooops_app;
GRANT SELECT, INSERT ON ops.run_events TO odooops_app;
GRANT USAGE ON SEQUENCE ops.builds_seq_seq, ops.run_events_id_seq TO odooops_app;
GRANT EXECUTE ON FUNCTION ops.webhook_secret(uuid) TO odooops_app;
REVOKE ALL ON FUNCTION ops.webhook_secret(uuid) FROM PUBLIC;

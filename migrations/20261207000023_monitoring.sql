-- Monitoring and alerts (#18). A periodic job probes every serving
-- environment (`/web/health`), reads its container's statistics, its
-- database's size and the router's traffic to it, and writes one row per
-- environment per pass (raw: 48 hours), rolled up into 5-minute buckets
-- (90 days). Uptime's state changes are kept; alert rules per project fire,
-- repeat and recover, and every notification is a delivery with its tries.
-- The project's people read all of it; only the system writes samples and
-- alerts; project admins manage rules and channels.

CREATE TABLE ops.env_samples (
    env_id          uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    at              timestamptz NOT NULL,
    project_id      uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    build_id        uuid,
    up              boolean NOT NULL,
    latency_ms      real,
    cpu_pct         real,
    mem_bytes       bigint,
    mem_limit_bytes bigint,
    net_rx_bytes    bigint,
    net_tx_bytes    bigint,
    blk_read_bytes  bigint,
    blk_write_bytes bigint,
    db_bytes        bigint,
    requests        integer NOT NULL DEFAULT 0,
    req_2xx         integer NOT NULL DEFAULT 0,
    req_3xx         integer NOT NULL DEFAULT 0,
    req_4xx         integer NOT NULL DEFAULT 0,
    req_5xx         integer NOT NULL DEFAULT 0,
    p50_ms          real,
    p95_ms          real,
    p99_ms          real,
    PRIMARY KEY (env_id, at)
);
CREATE INDEX env_samples_at ON ops.env_samples (at);

CREATE TABLE ops.env_rollups (
    env_id       uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    bucket       timestamptz NOT NULL,
    project_id   uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    samples      integer NOT NULL,
    up_samples   integer NOT NULL,
    latency_ms   real,
    cpu_pct      real,
    mem_bytes    bigint,
    mem_limit_bytes bigint,
    db_bytes     bigint,
    requests     integer NOT NULL,
    req_5xx      integer NOT NULL,
    p95_ms       real,
    PRIMARY KEY (env_id, bucket)
);
CREATE INDEX env_rollups_bucket ON ops.env_rollups (bucket);

-- Each environment's current health, and its changes.
CREATE TABLE ops.env_health (
    env_id        uuid PRIMARY KEY REFERENCES ops.environments ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    up            boolean NOT NULL,
    since         timestamptz NOT NULL,
    last_probe_at timestamptz NOT NULL,
    detail        text
);
CREATE TABLE ops.uptime_changes (
    id         bigserial PRIMARY KEY,
    env_id     uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    up         boolean NOT NULL,
    detail     text
);
CREATE INDEX uptime_changes_env ON ops.uptime_changes (env_id, at DESC);

-- Alert rules: one per project and kind, made with the defaults for every
-- project (and by a trigger for new ones).
CREATE TABLE ops.alert_rules (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id     uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('env_down', 'build_failed', 'backup_failed', 'db_size',
                                                 'cron_disabled', 'domain_failing')),
    enabled        boolean NOT NULL DEFAULT true,
    -- env_down: minutes down before it fires (0: the first failed probe); db_size: megabytes.
    threshold      bigint NOT NULL DEFAULT 0 CHECK (threshold >= 0),
    repeat_minutes integer NOT NULL DEFAULT 60 CHECK (repeat_minutes BETWEEN 5 AND 10080),
    UNIQUE (project_id, kind)
);

CREATE FUNCTION ops.default_alert_rules() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    INSERT INTO ops.alert_rules (tenant_id, project_id, kind, threshold)
    VALUES (NEW.tenant_id, NEW.id, 'env_down', 2), (NEW.tenant_id, NEW.id, 'build_failed', 0),
           (NEW.tenant_id, NEW.id, 'backup_failed', 0), (NEW.tenant_id, NEW.id, 'db_size', 10240),
           (NEW.tenant_id, NEW.id, 'cron_disabled', 0), (NEW.tenant_id, NEW.id, 'domain_failing', 0)
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;
CREATE TRIGGER projects_default_alert_rules AFTER INSERT ON ops.projects
    FOR EACH ROW EXECUTE FUNCTION ops.default_alert_rules();
INSERT INTO ops.alert_rules (tenant_id, project_id, kind, threshold)
SELECT p.tenant_id, p.id, k.kind, k.threshold FROM ops.projects p
 CROSS JOIN (VALUES ('env_down', 2), ('build_failed', 0), ('backup_failed', 0), ('db_size', 10240),
                    ('cron_disabled', 0), ('domain_failing', 0)) AS k(kind, threshold)
ON CONFLICT DO NOTHING;

-- Where a project's alerts go. No channel: its admins by email.
CREATE TABLE ops.alert_channels (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id    uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('email', 'webhook', 'slack')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    -- email: addresses, comma-separated; webhook and slack: the https URL.
    target        text NOT NULL CHECK (length(target) BETWEEN 3 AND 2000),
    -- A webhook's signing secret (whsec_…), sealed; shown once when made.
    secret_sealed bytea,
    created_by    uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_channels_project ON ops.alert_channels (project_id);

CREATE TABLE ops.alerts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id       uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    rule_id          uuid NOT NULL REFERENCES ops.alert_rules ON DELETE CASCADE,
    kind             text NOT NULL,
    -- What it is about (an environment, a domain): one firing alert per rule and subject.
    subject          text NOT NULL,
    env_id           uuid REFERENCES ops.environments ON DELETE CASCADE,
    state            text NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'resolved')),
    summary          text NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    last_notified_at timestamptz NOT NULL DEFAULT now(),
    resolved_at      timestamptz
);
CREATE UNIQUE INDEX alerts_one_firing ON ops.alerts (rule_id, subject) WHERE state = 'firing';
CREATE INDEX alerts_project ON ops.alerts (project_id, started_at DESC);

CREATE TABLE ops.alert_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id       uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id      uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    alert_id        uuid REFERENCES ops.alerts ON DELETE CASCADE,
    channel_id      uuid REFERENCES ops.alert_channels ON DELETE SET NULL,
    -- Where it went when there was no channel (the admins' addresses), or the channel's kind.
    channel_kind    text NOT NULL CHECK (channel_kind IN ('email', 'webhook', 'slack')),
    notice          text NOT NULL CHECK (notice IN ('fired', 'repeat', 'resolved', 'test')),
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sending', 'failed', 'delivered', 'gave_up')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_deliveries_due ON ops.alert_deliveries (next_attempt_at) WHERE state IN ('pending', 'sending', 'failed');
CREATE INDEX alert_deliveries_project ON ops.alert_deliveries (project_id, created_at DESC);

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['env_samples', 'env_rollups', 'env_health', 'uptime_changes', 'alerts',
                             'alert_deliveries', 'alert_rules', 'alert_channels'] LOOP
        EXECUTE format('ALTER TABLE ops.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY %I ON ops.%I FOR SELECT USING (
            (SELECT ops.reads_everything()) OR project_id IN (SELECT ops.my_projects())
            OR (SELECT ops.current_user_id()) = '00000000-0000-0000-0000-000000000001')$p$, t || '_read', t);
        EXECUTE format($p$CREATE POLICY %I ON ops.%I FOR ALL
            USING ((SELECT ops.current_user_id()) = '00000000-0000-0000-0000-000000000001')
            WITH CHECK ((SELECT ops.current_user_id()) = '00000000-0000-0000-0000-000000000001')$p$, t || '_system', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ops.%I TO odooops_app', t);
    END LOOP;
END
$$;
GRANT USAGE ON SEQUENCE ops.uptime_changes_id_seq TO odooops_app;

-- Project admins (and platform admins) change rules and channels.
CREATE POLICY alert_rules_admin ON ops.alert_rules FOR UPDATE
    USING (project_id IN (SELECT ops.my_admin_projects()) OR (SELECT ops.is_platform_admin()));
CREATE POLICY alert_channels_admin ON ops.alert_channels FOR ALL
    USING (project_id IN (SELECT ops.my_admin_projects()) OR (SELECT ops.is_platform_admin()))
    WITH CHECK ((project_id IN (SELECT ops.my_admin_projects()) OR (SELECT ops.is_platform_admin()))
                AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id));
-- A test notice is queued by the admin who asks for it.
CREATE POLICY alert_deliveries_test ON ops.alert_deliveries FOR INSERT
    WITH CHECK (notice = 'test' AND (project_id IN (SELECT ops.my_admin_projects()) OR (SELECT ops.is_platform_admin())));

ALTER TABLE ops.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE ops.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('build', 'backup', 'drill', 'poll',
    'backup_schedule', 'shell_sweep', 'reconcile', 'retention', 'instance_operation', 'catalog_refresh',
    'webhook_delivery', 'cron_watch', 'monitor', 'monitor_rollup'));

-- The tenant wizard (issue 15): drafts kept on the server between steps,
-- what a tenant is beyond its name (contact, locale, region and groups, its
-- status), the billing boundary's subscription record, and a tenant's
-- OpenID Connect configuration with its client secret sealed.

ALTER TABLE ops.tenants
    ADD COLUMN status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'archived')),
    ADD COLUMN contact_email text,
    ADD COLUMN country       text,
    ADD COLUMN language      text,
    ADD COLUMN timezone      text,
    ADD COLUMN region        text NOT NULL DEFAULT '',
    ADD COLUMN groups        text[] NOT NULL DEFAULT '{}';

-- A wizard in progress: resumable from any browser of its author, for 7 days
-- (the retention job deletes expired ones). `data` holds the steps' fields as
-- typed; the SSO client secret is never in it, only sealed in `sso_secret`.
CREATE TABLE ops.tenant_drafts (
    id          uuid PRIMARY KEY,
    created_by  uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    data        jsonb NOT NULL DEFAULT '{}',
    sso_secret  bytea,
    -- What the last SSO Test found (cleared when the issuer changes).
    sso_found   jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '7 days',
    -- Set as Create goes: a retried Create resumes after what already exists.
    tenant_id   uuid REFERENCES ops.tenants ON DELETE SET NULL,
    instance_id uuid REFERENCES ops.instances ON DELETE SET NULL
);
CREATE INDEX tenant_drafts_expiry ON ops.tenant_drafts (expires_at);
ALTER TABLE ops.tenant_drafts ENABLE ROW LEVEL SECURITY;
CREATE POLICY drafts_own ON ops.tenant_drafts FOR ALL
    USING (created_by = ops.current_user_id()) WITH CHECK (created_by = ops.current_user_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.tenant_drafts TO odooops_app;

-- The billing boundary: OdooOps processes no payment. A provider (today only
-- `manual`: the platform team invoices by hand) keeps a subscription per
-- tenant whose status the console shows and changes.
CREATE TABLE ops.subscriptions (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    plan         text NOT NULL REFERENCES ops.plans (slug),
    provider     text NOT NULL DEFAULT 'manual' CHECK (provider IN ('manual')),
    status       text NOT NULL CHECK (status IN ('pending', 'active', 'past_due', 'cancelled')),
    external_ref text,
    started_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX subscriptions_one_open ON ops.subscriptions (tenant_id) WHERE status <> 'cancelled';
ALTER TABLE ops.subscriptions ENABLE ROW LEVEL SECURITY;
CREATE POLICY subscriptions_read ON ops.subscriptions FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY subscriptions_write ON ops.subscriptions FOR ALL
    USING (ops.is_platform_admin()) WITH CHECK (ops.is_platform_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.subscriptions TO odooops_app;

-- How people sign in to a tenant's instances. The discovered endpoints are
-- what the issuer's discovery document said when it was last tested.
CREATE TABLE ops.tenant_sso (
    tenant_id              uuid PRIMARY KEY REFERENCES ops.tenants ON DELETE CASCADE,
    issuer                 text NOT NULL,
    client_id              text NOT NULL,
    client_secret          bytea,
    scopes                 text NOT NULL,
    authorization_endpoint text,
    token_endpoint         text,
    userinfo_endpoint      text,
    jwks_uri               text,
    tested_at              timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ops.tenant_sso ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_sso_read ON ops.tenant_sso FOR SELECT
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.reads_everything());
-- Written by platform staff only, through the wizard, whose Test checks the issuer first.
CREATE POLICY tenant_sso_write ON ops.tenant_sso FOR ALL
    USING (ops.is_platform_admin()) WITH CHECK (ops.is_platform_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.tenant_sso TO odooops_app;

-- Whether a tenant slug is taken, by any tenant (the wizard's live availability;
-- row-level security would hide tenants the caller cannot see).
CREATE FUNCTION ops.tenant_slug_taken(candidate text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM ops.tenants WHERE slug = candidate)
$$;

-- The retention job forgets expired drafts, whoever wrote them.
CREATE FUNCTION ops.forget_expired_drafts() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    WITH gone AS (DELETE FROM ops.tenant_drafts WHERE expires_at <= now() RETURNING 1)
    SELECT count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION ops.forget_expired_drafts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.forget_expired_drafts() TO odooops_app;

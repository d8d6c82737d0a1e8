-- The support center (issue 15): runbooks platform staff write for everyone
-- to read, and support requests a tenant's people open and staff answer.

CREATE TABLE ops.runbooks (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    body        text NOT NULL CHECK (length(body) <= 100000),
    updated_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ops.runbooks ENABLE ROW LEVEL SECURITY;
CREATE POLICY runbooks_read ON ops.runbooks FOR SELECT USING (ops.current_user_id() IS NOT NULL);
CREATE POLICY runbooks_write ON ops.runbooks FOR ALL
    USING (ops.is_platform_admin()) WITH CHECK (ops.is_platform_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.runbooks TO odooops_app;

CREATE TABLE ops.support_requests (
    id          uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    opened_by   uuid REFERENCES ops.users ON DELETE SET NULL,
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body        text NOT NULL CHECK (length(body) <= 20000),
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'in_progress', 'answered', 'closed')),
    answer      text CHECK (length(answer) <= 20000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_requests_tenant ON ops.support_requests (tenant_id, created_at DESC);
ALTER TABLE ops.support_requests ENABLE ROW LEVEL SECURITY;
-- A tenant's people see and open its requests; staff and auditors see all; staff answer.
CREATE POLICY support_read ON ops.support_requests FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY support_open ON ops.support_requests FOR INSERT
    WITH CHECK (tenant_id IN (SELECT ops.my_tenants()) AND opened_by = ops.current_user_id());
CREATE POLICY support_update ON ops.support_requests FOR UPDATE
    USING (ops.is_platform_admin() OR tenant_id IN (SELECT ops.my_admin_tenants()))
    WITH CHECK (ops.is_platform_admin() OR tenant_id IN (SELECT ops.my_admin_tenants()));
GRANT SELECT, INSERT, UPDATE ON ops.support_requests TO odooops_app;

-- Plan changes (issue 15): finance (or an owner) proposes moving a tenant's
-- subscription to another plan; a platform owner approves or rejects it.

CREATE TABLE ops.plan_changes (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    from_plan    text REFERENCES ops.plans (slug),
    to_plan      text NOT NULL REFERENCES ops.plans (slug),
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    state        text NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'approved', 'rejected')),
    proposed_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    decided_by   uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    decided_at   timestamptz
);
CREATE UNIQUE INDEX plan_changes_one_open ON ops.plan_changes (tenant_id) WHERE state = 'proposed';
ALTER TABLE ops.plan_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY plan_changes_read ON ops.plan_changes FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_billing());
CREATE POLICY plan_changes_propose ON ops.plan_changes FOR INSERT
    WITH CHECK (ops.platform_role() IN ('platform_owner', 'finance_owner') AND proposed_by = ops.current_user_id()
                AND state = 'proposed' AND decided_by IS NULL AND decided_at IS NULL);
CREATE POLICY plan_changes_decide ON ops.plan_changes FOR UPDATE
    USING (ops.platform_role() = 'platform_owner') WITH CHECK (ops.platform_role() = 'platform_owner');
GRANT SELECT, INSERT, UPDATE ON ops.plan_changes TO odooops_app;

-- Tenant instances: an Odoo workspace run for a customer organisation, on
-- its own subdomain, made from an Odoo version and a bundle of modules.
--
-- An instance is backed by a project of kind 'instance' with one production
-- branch, so it reuses what projects have: builds (image, database, install,
-- start, health, route), backups and retention, shells, the audit trail and
-- the reconciler. Every change to an instance is an operation, queued as a
-- job and recovered after a console restart like every other job.

ALTER TABLE ops.projects ADD COLUMN kind text NOT NULL DEFAULT 'repository'
    CHECK (kind IN ('repository', 'instance'));

CREATE TABLE ops.instances (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id   uuid NOT NULL UNIQUE REFERENCES ops.projects ON DELETE CASCADE,
    env_id       uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    subdomain    text NOT NULL UNIQUE CHECK (subdomain ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    odoo_version text NOT NULL,
    modules      text[] NOT NULL DEFAULT '{}',
    plan         text NOT NULL DEFAULT 'starter',
    db_strategy  text NOT NULL DEFAULT 'shared' CHECK (db_strategy IN ('shared', 'dedicated')),
    state        text NOT NULL DEFAULT 'draft' CHECK (state IN
                     ('draft', 'provisioning', 'active', 'paused', 'decommissioning', 'decommissioned', 'error')),
    -- Why it is in `error` (or how the last operation failed).
    reason       text,
    -- The Odoo admin's login; the password is never kept.
    admin_login  text NOT NULL,
    created_by   uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instances_tenant ON ops.instances (tenant_id, created_at DESC);

CREATE TABLE ops.instance_operations (
    id           uuid PRIMARY KEY,
    instance_id  uuid NOT NULL REFERENCES ops.instances ON DELETE CASCADE,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('provision', 'pause', 'resume', 'restart', 'redeploy', 'backup',
                                               'restore', 'migrate_database', 'decommission')),
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- The instance's state when the operation was accepted (where a failure returns, for some).
    from_state   text NOT NULL,
    -- A client's key: the same key for the same instance answers the same operation.
    idempotency_key text CHECK (length(idempotency_key) <= 200),
    requested_by uuid REFERENCES ops.users ON DELETE SET NULL,
    -- The build that carries it out (provision, redeploy, restart, resume, restore).
    build_id     uuid REFERENCES ops.builds ON DELETE SET NULL,
    -- The backup it made or restores.
    backup_id    uuid REFERENCES ops.backups ON DELETE SET NULL,
    -- Provisioning only: the admin password's Odoo hash, until it is written
    -- into the instance's database (then NULL). Never the password itself.
    admin_password_hash text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz,
    UNIQUE (instance_id, idempotency_key)
);
-- One operation at a time per instance.
CREATE UNIQUE INDEX instance_operations_one_open ON ops.instance_operations (instance_id)
    WHERE state IN ('queued', 'running');
CREATE INDEX instance_operations_build ON ops.instance_operations (build_id) WHERE build_id IS NOT NULL;

-- A tenant's members see its instances; its admins (and platform staff)
-- create them and ask for operations; only background work changes them.
ALTER TABLE ops.instances ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.instance_operations ENABLE ROW LEVEL SECURITY;
CREATE POLICY instances_read ON ops.instances FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY instances_create ON ops.instances FOR INSERT
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY instances_system ON ops.instances FOR UPDATE
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY instance_operations_read ON ops.instance_operations FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY instance_operations_create ON ops.instance_operations FOR INSERT
    WITH CHECK ((tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
                AND tenant_id = (SELECT i.tenant_id FROM ops.instances i WHERE i.id = instance_id));
CREATE POLICY instance_operations_system ON ops.instance_operations FOR UPDATE
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
GRANT SELECT, INSERT, UPDATE ON ops.instances, ops.instance_operations TO odooops_app;

-- Instance operations are jobs.
ALTER TABLE ops.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE ops.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('build', 'backup', 'drill', 'poll',
    'backup_schedule', 'shell_sweep', 'reconcile', 'retention', 'instance_operation'));
CREATE FUNCTION ops.queue_instance_operation() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    IF NEW.state = 'queued' THEN
        INSERT INTO ops.jobs (kind, subject, tenant_id, max_attempts)
        VALUES ('instance_operation', NEW.id, NEW.tenant_id, 3)
        ON CONFLICT DO NOTHING;
        PERFORM pg_notify('ops_jobs', 'instance_operation');
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops.queue_instance_operation() FROM PUBLIC;
CREATE TRIGGER instance_operations_queue_job AFTER INSERT ON ops.instance_operations
    FOR EACH ROW EXECUTE FUNCTION ops.queue_instance_operation();

-- Instance builds: provisioning and redeploying build from the bundle, not a repository.
ALTER TABLE ops.builds DROP CONSTRAINT builds_trigger_check;
ALTER TABLE ops.builds ADD CONSTRAINT builds_trigger_check
    CHECK (trigger IN ('push', 'pull_request', 'rebuild', 'poll', 'api', 'restore', 'promote', 'rollback', 'instance'));

-- A final backup before decommissioning, kept for the retention period.
ALTER TABLE ops.backups DROP CONSTRAINT backups_kind_check;
ALTER TABLE ops.backups ADD CONSTRAINT backups_kind_check
    CHECK (kind IN ('daily', 'manual', 'pre_update', 'pre_restore', 'import', 'final'));

-- The router's view of an instance host: where its serving build answers.
-- Instances are public (Odoo asks for its own login).
CREATE FUNCTION ops.instance_target(p_subdomain text)
RETURNS TABLE (instance_id uuid, state text, target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT i.id, i.state,
           (SELECT b.preview_target FROM ops.builds b
             WHERE b.env_id = i.env_id AND b.live AND b.preview_target IS NOT NULL
             ORDER BY b.finished_at DESC NULLS LAST, b.seq DESC LIMIT 1)
      FROM ops.instances i WHERE i.subdomain = p_subdomain
$$;
REVOKE ALL ON FUNCTION ops.instance_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.instance_target(text) TO odooops_app;

-- The module catalog (issue 15): git repositories in the OCA layout (one
-- branch per Odoo series, one folder per module), mirrored and read by the
-- console; and bundles, named module sets per series that instances install.

CREATE TABLE ops.catalog_sources (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{1,39}$'),
    repo_url text NOT NULL CHECK (length(repo_url) BETWEEN 1 AND 500),
    series text[] NOT NULL CHECK (cardinality(series) BETWEEN 1 AND 10),
    -- Asked for by a person (the next run of the refresh takes it), else every six hours.
    refresh_requested boolean NOT NULL DEFAULT true,
    refreshed_at timestamptz,
    refresh_error text,
    created_by uuid REFERENCES ops.users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.catalog_modules (
    source_id uuid NOT NULL REFERENCES ops.catalog_sources(id) ON DELETE CASCADE,
    series text NOT NULL,
    name text NOT NULL,
    title text NOT NULL DEFAULT '',
    version text NOT NULL DEFAULT '',
    summary text NOT NULL DEFAULT '',
    category text NOT NULL DEFAULT '',
    license text NOT NULL DEFAULT '',
    author text NOT NULL DEFAULT '',
    depends text[] NOT NULL DEFAULT '{}',
    installable boolean NOT NULL DEFAULT true,
    external_python text[] NOT NULL DEFAULT '{}',
    external_bin text[] NOT NULL DEFAULT '{}',
    -- A manifest that did not read: the module is listed with why, and never installed.
    problem text,
    commit text NOT NULL,
    PRIMARY KEY (source_id, series, name)
);
CREATE INDEX catalog_modules_lookup ON ops.catalog_modules (series, name);

CREATE TABLE ops.bundles (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL: the platform's own, offered to every tenant.
    tenant_id uuid REFERENCES ops.tenants(id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    series text NOT NULL,
    modules text[] NOT NULL CHECK (cardinality(modules) BETWEEN 1 AND 300),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_by uuid REFERENCES ops.users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX bundles_name ON ops.bundles
    (COALESCE(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), name, series);

-- Everyone signed in reads the catalog; platform staff change its sources;
-- only the refresh (the system account) writes modules.
ALTER TABLE ops.catalog_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.catalog_modules ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.bundles ENABLE ROW LEVEL SECURITY;
CREATE POLICY catalog_sources_read ON ops.catalog_sources FOR SELECT USING (true);
CREATE POLICY catalog_sources_write ON ops.catalog_sources FOR ALL
    USING (ops.is_platform_admin() OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.is_platform_admin() OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY catalog_modules_read ON ops.catalog_modules FOR SELECT USING (true);
CREATE POLICY catalog_modules_write ON ops.catalog_modules FOR ALL
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
-- Platform bundles are everyone's to read; a tenant's, its members'. Platform
-- staff change the platform's; a tenant's admins (and staff) change the tenant's.
CREATE POLICY bundles_read ON ops.bundles FOR SELECT
    USING (tenant_id IS NULL OR tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY bundles_write ON ops.bundles FOR ALL
    USING (ops.is_platform_admin() OR (tenant_id IS NOT NULL AND tenant_id IN (SELECT ops.my_admin_tenants())))
    WITH CHECK (ops.is_platform_admin() OR (tenant_id IS NOT NULL AND tenant_id IN (SELECT ops.my_admin_tenants())));
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.catalog_sources, ops.catalog_modules, ops.bundles TO odooops_app;

-- The catalog's refresh is a periodic job.
ALTER TABLE ops.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE ops.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('build', 'backup', 'drill', 'poll',
    'backup_schedule', 'shell_sweep', 'reconcile', 'retention', 'instance_operation', 'catalog_refresh'));

-- Applying a bundle to a running instance is an operation.
ALTER TABLE ops.instance_operations ADD COLUMN bundle_id uuid REFERENCES ops.bundles(id) ON DELETE SET NULL;
ALTER TABLE ops.instance_operations ADD COLUMN added_modules text[];
GRANT SELECT (bundle_id, added_modules) ON ops.instance_operations TO odooops_app;
ALTER TABLE ops.instance_operations DROP CONSTRAINT instance_operations_kind_check;
ALTER TABLE ops.instance_operations ADD CONSTRAINT instance_operations_kind_check CHECK (kind IN ('provision', 'pause',
    'resume', 'restart', 'redeploy', 'backup', 'restore', 'migrate_database', 'decommission', 'apply_bundle'));

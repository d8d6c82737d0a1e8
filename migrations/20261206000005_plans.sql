-- Plans: what an instance may use. CPU and memory limit its containers,
-- storage (database + filestore) is measured against its plan with a
-- warning at 80 % and a refusal at 100 %; workers, users, backup retention,
-- support level and the monthly price are the plan's terms (the wizard and
-- the billing boundary of the next issue read them from here).

CREATE TABLE ops.plans (
    slug            text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    cpu_limit       numeric(5,2) NOT NULL CHECK (cpu_limit > 0),
    memory_limit_mb integer NOT NULL CHECK (memory_limit_mb >= 256),
    workers         integer NOT NULL CHECK (workers BETWEEN 0 AND 64),
    storage_mb      integer NOT NULL CHECK (storage_mb > 0),
    max_users       integer NOT NULL CHECK (max_users > 0),
    backup_retention_days integer NOT NULL DEFAULT 30 CHECK (backup_retention_days > 0),
    support_level   text NOT NULL DEFAULT 'community',
    monthly_price_cents integer NOT NULL DEFAULT 0 CHECK (monthly_price_cents >= 0),
    sort            integer NOT NULL DEFAULT 0
);
INSERT INTO ops.plans (slug, name, cpu_limit, memory_limit_mb, workers, storage_mb, max_users,
                       backup_retention_days, support_level, monthly_price_cents, sort) VALUES
    ('starter',    'Starter',    1.0, 1024, 0,   2048,   5,  30, 'community', 2900,  1),
    ('standard',   'Standard',   2.0, 2048, 2,  10240,  25,  60, 'business',  9900,  2),
    ('business',   'Business',   2.0, 4096, 4,  51200, 100,  90, 'business', 29900,  3),
    ('enterprise', 'Enterprise', 4.0, 8192, 8, 204800, 500, 365, 'priority', 99900,  4);

-- Everyone signed in may read the catalog; platform owners change it.
ALTER TABLE ops.plans ENABLE ROW LEVEL SECURITY;
CREATE POLICY plans_read ON ops.plans FOR SELECT USING (true);
CREATE POLICY plans_write ON ops.plans FOR ALL
    USING (ops.platform_role() = 'platform_owner') WITH CHECK (ops.platform_role() = 'platform_owner');
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.plans TO odooops_app;

-- The last measured storage, and the last quota notice sent (so each crossing is mailed once).
ALTER TABLE ops.instances
    ADD COLUMN storage_used_bytes bigint,
    ADD COLUMN storage_database_bytes bigint,
    ADD COLUMN storage_files_bytes bigint,
    ADD COLUMN storage_checked_at timestamptz,
    ADD COLUMN quota_notice text CHECK (quota_notice IN ('warning', 'exceeded'));

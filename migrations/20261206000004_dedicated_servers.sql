-- Dedicated PostgreSQL servers and moving an instance's database between
-- the shared server and its own one (`migrate_database`).
--
-- An instance on a dedicated server remembers the server's port, so its
-- containers reach it again after a console restart. While its database
-- moves, the instance is `migrating` (its address answers 503 with
-- Retry-After). A migration keeps where it goes, the steps it took (its
-- log: row counts, checksums, switch-over) and the downtime it caused.

ALTER TABLE ops.instances ADD COLUMN db_port int CHECK (db_port BETWEEN 1 AND 65535);
ALTER TABLE ops.instances DROP CONSTRAINT instances_state_check;
ALTER TABLE ops.instances ADD CONSTRAINT instances_state_check CHECK (state IN
    ('draft', 'provisioning', 'active', 'paused', 'migrating', 'decommissioning', 'decommissioned', 'error'));

ALTER TABLE ops.instance_operations
    ADD COLUMN target_strategy text CHECK (target_strategy IN ('shared', 'dedicated')),
    ADD COLUMN log text[] NOT NULL DEFAULT '{}',
    ADD COLUMN downtime_ms bigint CHECK (downtime_ms >= 0),
    -- When the instance stopped serving for it (the downtime runs from here).
    ADD COLUMN serving_stopped_at timestamptz;

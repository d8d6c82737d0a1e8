-- Build log lines are written by the thousand (#21): each row paid three
-- foreign-key checks. Every row belongs to a build (the writer always sets
-- `build_id`), and a build belongs to its environment and its tenant, so
-- deleting a tenant or an environment still removes its log lines through
-- the build. The two redundant checks go; the build's stays.
ALTER TABLE ops.run_events DROP CONSTRAINT run_events_tenant_id_fkey;
ALTER TABLE ops.run_events DROP CONSTRAINT run_events_env_id_fkey;

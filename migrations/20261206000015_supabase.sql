-- The Supabase kit (issue 16): a Supabase project linked to a tenant or to
-- one of its projects, with the Management API token sealed by the console
-- (never in clear in the database, never in a response). The analytics page's
-- Supabase ref (issue 15) becomes the tenant's link.

CREATE TABLE ops.supabase_links (
    id           uuid PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    -- NULL: the tenant's own link; else one project's.
    project_id   uuid REFERENCES ops.projects ON DELETE CASCADE,
    ref          text NOT NULL CHECK (ref ~ '^[a-z]{20}$'),
    -- The Management API token, sealed; NULL: linked for reference only (no kit calls).
    token_sealed bytea,
    linked_by    uuid REFERENCES ops.users ON DELETE SET NULL,
    linked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX supabase_links_one ON ops.supabase_links
    (tenant_id, coalesce(project_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE INDEX supabase_links_ref ON ops.supabase_links (ref);

-- A tenant's people see its link, a project's people their project's; admins
-- (tenant, project, platform) link and unlink.
ALTER TABLE ops.supabase_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY supabase_links_read ON ops.supabase_links FOR SELECT USING (
    ops.reads_everything()
    OR (project_id IS NULL AND tenant_id IN (SELECT ops.my_tenants()))
    OR (project_id IS NOT NULL AND project_id IN (SELECT ops.my_projects())));
CREATE POLICY supabase_links_write ON ops.supabase_links FOR ALL USING (
    ops.is_platform_admin()
    OR (project_id IS NULL AND tenant_id IN (SELECT ops.my_admin_tenants()))
    OR (project_id IS NOT NULL AND project_id IN (SELECT ops.my_admin_projects())))
    WITH CHECK (
    ops.is_platform_admin()
    OR (project_id IS NULL AND tenant_id IN (SELECT ops.my_admin_tenants()))
    OR (project_id IS NOT NULL AND project_id IN (SELECT ops.my_admin_projects())
        AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)));
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.supabase_links TO odooops_app;

INSERT INTO ops.supabase_links (id, tenant_id, ref, linked_by, linked_at)
SELECT gen_random_uuid(), tenant_id, supabase_ref, updated_by, updated_at
  FROM ops.tenant_analytics WHERE supabase_ref IS NOT NULL;
ALTER TABLE ops.tenant_analytics DROP COLUMN supabase_ref;

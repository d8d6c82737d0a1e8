-- Stable addresses (#18). Production answers at `<project>.<preview domain>`
-- and every other branch at `<branch>-<project>.<preview domain>`, following
-- the environment's newest live build (a build goes live only once its health
-- check passed, so the address switches only to a healthy build). The labels
-- share one namespace across tenants with tenant instances' subdomains, so a
-- label is claimed once, by a SECURITY DEFINER function that also refuses an
-- instance's subdomain; nobody writes the table directly.

ALTER TABLE ops.projects ADD COLUMN private_production boolean NOT NULL DEFAULT false;

CREATE TABLE ops.env_hosts (
    label      text PRIMARY KEY CHECK (label ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    env_id     uuid NOT NULL UNIQUE REFERENCES ops.environments ON DELETE CASCADE,
    tenant_id  uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX env_hosts_project ON ops.env_hosts (project_id);
ALTER TABLE ops.env_hosts ENABLE ROW LEVEL SECURITY;
CREATE POLICY env_hosts_read ON ops.env_hosts FOR SELECT
    USING (project_id IN (SELECT ops.my_projects()) OR ops.reads_everything());
GRANT SELECT ON ops.env_hosts TO odooops_app;

-- The environment's label: the one it has, or the first free candidate
-- (free: no other environment's label and no instance's subdomain).
CREATE FUNCTION ops.claim_env_host(p_env uuid, p_candidates text[]) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    v_label text;
    v_candidate text;
BEGIN
    SELECT label INTO v_label FROM ops.env_hosts WHERE env_id = p_env;
    IF FOUND THEN
        RETURN v_label;
    END IF;
    FOREACH v_candidate IN ARRAY p_candidates LOOP
        CONTINUE WHEN v_candidate !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
        CONTINUE WHEN EXISTS (SELECT 1 FROM ops.instances WHERE subdomain = v_candidate);
        INSERT INTO ops.env_hosts (label, env_id, tenant_id, project_id)
             SELECT v_candidate, e.id, e.tenant_id, e.project_id FROM ops.environments e WHERE e.id = p_env
        ON CONFLICT DO NOTHING
        RETURNING label INTO v_label;
        IF v_label IS NOT NULL THEN
            RETURN v_label;
        END IF;
        -- Lost to another environment, or this one claimed meanwhile.
        SELECT label INTO v_label FROM ops.env_hosts WHERE env_id = p_env;
        IF FOUND THEN
            RETURN v_label;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops.claim_env_host(uuid, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.claim_env_host(uuid, text[]) TO odooops_app;

-- Whether a label is an environment's stable address (instances refuse it as a subdomain).
CREATE FUNCTION ops.env_host_taken(p_label text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM ops.env_hosts WHERE label = p_label)
$$;
REVOKE ALL ON FUNCTION ops.env_host_taken(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.env_host_taken(text) TO odooops_app;

-- The router's view of a stable address: the environment's newest live build,
-- and whether the address opens without a share link (production unless the
-- project keeps it private; development when its previews are public).
CREATE FUNCTION ops.env_host_target(p_label text)
RETURNS TABLE (env_id uuid, stage text, public boolean, target text, bus_target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT h.env_id, e.stage,
           CASE e.stage WHEN 'production' THEN NOT p.private_production
                        WHEN 'development' THEN p.public_previews ELSE false END,
           s.preview_target, s.bus_target
      FROM ops.env_hosts h
      JOIN ops.environments e ON e.id = h.env_id AND e.deleted_at IS NULL
      JOIN ops.projects p ON p.id = h.project_id
      LEFT JOIN LATERAL (SELECT b.preview_target, b.bus_target FROM ops.builds b
                          WHERE b.env_id = h.env_id AND b.live AND b.preview_target IS NOT NULL
                          ORDER BY b.created_at DESC, b.seq DESC LIMIT 1) s ON true
     WHERE h.label = p_label
$$;
REVOKE ALL ON FUNCTION ops.env_host_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.env_host_target(text) TO odooops_app;

-- Custom domains of projects: the same claims as instances', routed to the
-- project's production address once verified.
ALTER TABLE ops.custom_domains ALTER COLUMN instance_id DROP NOT NULL;
ALTER TABLE ops.custom_domains ADD COLUMN project_id uuid REFERENCES ops.projects ON DELETE CASCADE;
ALTER TABLE ops.custom_domains ADD CONSTRAINT custom_domains_one_owner CHECK (num_nonnulls(instance_id, project_id) = 1);
CREATE UNIQUE INDEX custom_domains_project_host ON ops.custom_domains (project_id, hostname) WHERE project_id IS NOT NULL;

DROP POLICY custom_domains_create ON ops.custom_domains;
CREATE POLICY custom_domains_create ON ops.custom_domains FOR INSERT
    WITH CHECK (CASE WHEN instance_id IS NOT NULL THEN
                    (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
                    AND tenant_id = (SELECT i.tenant_id FROM ops.instances i WHERE i.id = instance_id)
                ELSE
                    (project_id IN (SELECT ops.my_admin_projects()) OR ops.is_platform_admin())
                    AND tenant_id = (SELECT p.tenant_id FROM ops.projects p WHERE p.id = project_id)
                END);
DROP POLICY custom_domains_change ON ops.custom_domains;
CREATE POLICY custom_domains_change ON ops.custom_domains FOR UPDATE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()
           OR project_id IN (SELECT ops.my_admin_projects()));
DROP POLICY custom_domains_remove ON ops.custom_domains;
CREATE POLICY custom_domains_remove ON ops.custom_domains FOR DELETE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin()
           OR project_id IN (SELECT ops.my_admin_projects()));
DROP POLICY custom_domains_read ON ops.custom_domains;
CREATE POLICY custom_domains_read ON ops.custom_domains FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything()
           OR project_id IN (SELECT ops.my_projects()));

DROP FUNCTION ops.custom_domain_route(text);
CREATE FUNCTION ops.custom_domain_route(p_host text)
RETURNS TABLE (subdomain text, env_label text, tokens text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT (SELECT i.subdomain FROM ops.custom_domains d JOIN ops.instances i ON i.id = d.instance_id
             WHERE d.hostname = p_host AND d.state = 'verified'),
           (SELECT h.label FROM ops.custom_domains d
              JOIN ops.environments e ON e.project_id = d.project_id AND e.stage = 'production'
                                     AND e.candidate_for IS NULL AND e.deleted_at IS NULL
              JOIN ops.env_hosts h ON h.env_id = e.id
             WHERE d.hostname = p_host AND d.state = 'verified'),
           ARRAY(SELECT d.token FROM ops.custom_domains d WHERE d.hostname = p_host AND d.state = 'pending')
$$;
REVOKE ALL ON FUNCTION ops.custom_domain_route(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.custom_domain_route(text) TO odooops_app;

-- Custom domains of tenant instances (`erp.example.com`): a tenant admin adds
-- one, points its DNS at the platform, and the console verifies it by fetching
-- a token the router serves for it under /.well-known/odooops-domain/. Only a
-- verified domain routes to the instance, and a name is verified for one
-- instance at a time across all tenants.

CREATE TABLE ops.custom_domains (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL REFERENCES ops.tenants(id) ON DELETE CASCADE,
    instance_id uuid NOT NULL REFERENCES ops.instances(id) ON DELETE CASCADE,
    hostname text NOT NULL CHECK (hostname = lower(hostname) AND length(hostname) BETWEEN 3 AND 253),
    -- Served to whoever asks the router for this name: proof that the name reaches
    -- this platform, not a secret.
    token text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'verified')),
    last_error text,
    checked_at timestamptz,
    verified_at timestamptz,
    created_by uuid REFERENCES ops.users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (instance_id, hostname)
);
CREATE UNIQUE INDEX custom_domains_verified_once ON ops.custom_domains (hostname) WHERE state = 'verified';
CREATE INDEX custom_domains_hostname ON ops.custom_domains (hostname);

ALTER TABLE ops.custom_domains ENABLE ROW LEVEL SECURITY;
CREATE POLICY custom_domains_read ON ops.custom_domains FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY custom_domains_create ON ops.custom_domains FOR INSERT
    WITH CHECK ((tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
                AND tenant_id = (SELECT i.tenant_id FROM ops.instances i WHERE i.id = instance_id));
CREATE POLICY custom_domains_change ON ops.custom_domains FOR UPDATE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY custom_domains_remove ON ops.custom_domains FOR DELETE
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.custom_domains TO odooops_app;

-- Whether a name is verified for any instance (whatever tenant holds it).
CREATE FUNCTION ops.custom_domain_taken(p_host text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM ops.custom_domains WHERE hostname = p_host AND state = 'verified')
$$;
REVOKE ALL ON FUNCTION ops.custom_domain_taken(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.custom_domain_taken(text) TO odooops_app;

-- The router's view of a custom domain: the instance it routes to once
-- verified, and the tokens of the claims waiting for verification.
CREATE FUNCTION ops.custom_domain_route(p_host text)
RETURNS TABLE (subdomain text, tokens text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT (SELECT i.subdomain FROM ops.custom_domains d JOIN ops.instances i ON i.id = d.instance_id
             WHERE d.hostname = p_host AND d.state = 'verified'),
           ARRAY(SELECT d.token FROM ops.custom_domains d WHERE d.hostname = p_host AND d.state = 'pending')
$$;
REVOKE ALL ON FUNCTION ops.custom_domain_route(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.custom_domain_route(text) TO odooops_app;

-- Every name the router should answer (the console's host check learns them from this).
CREATE FUNCTION ops.custom_domain_hosts() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT DISTINCT hostname FROM ops.custom_domains
$$;
REVOKE ALL ON FUNCTION ops.custom_domain_hosts() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.custom_domain_hosts() TO odooops_app;

-- With workers (a plan's), Odoo serves its bus (`/websocket`) on another port
-- (8072, gevent): where the router sends it for this build.
ALTER TABLE ops.builds ADD COLUMN bus_target text;
GRANT UPDATE (bus_target) ON ops.builds TO odooops_app;

DROP FUNCTION ops.instance_target(text);
CREATE FUNCTION ops.instance_target(p_subdomain text)
RETURNS TABLE (instance_id uuid, state text, target text, bus_target text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT i.id, i.state, s.preview_target, s.bus_target
      FROM ops.instances i
      LEFT JOIN LATERAL (SELECT b.preview_target, b.bus_target FROM ops.builds b
                          WHERE b.env_id = i.env_id AND b.live AND b.preview_target IS NOT NULL
                          ORDER BY b.finished_at DESC NULLS LAST, b.seq DESC LIMIT 1) s ON true
     WHERE i.subdomain = p_subdomain
$$;
REVOKE ALL ON FUNCTION ops.instance_target(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.instance_target(text) TO odooops_app;

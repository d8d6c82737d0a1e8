-- Issue 20: Connect signs a person in to a build's Odoo as its admin, as
-- Odoo.sh does (development and staging for everyone who may connect;
-- production only for those with its tools). The console hands the browser a
-- one-time ticket; the preview router redeems it on the build's own host,
-- signs in to that Odoo as its admin and gives the browser the session.
-- Only a ticket's hash is stored; a ticket lives a minute and opens once.
CREATE TABLE ops.connect_tickets (
    ticket_hash bytea PRIMARY KEY,
    build_id    uuid NOT NULL REFERENCES ops.builds ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX connect_tickets_expiry ON ops.connect_tickets (expires_at);
ALTER TABLE ops.connect_tickets ENABLE ROW LEVEL SECURITY;

-- Issued by the signed-in person, for themselves and a build they can see
-- (the subquery runs under their own row-level security on builds).
CREATE POLICY connect_tickets_issue ON ops.connect_tickets FOR INSERT TO odooops_app
    WITH CHECK (user_id = ops.current_user_id() AND used_at IS NULL
                AND EXISTS (SELECT 1 FROM ops.builds b WHERE b.id = build_id));
GRANT INSERT ON ops.connect_tickets TO odooops_app;

-- Redeemed by the router, anonymously, on the preview host `p_slug`: once,
-- before it expires, only for the build serving at that host, and only while
-- its holder still belongs to the build's project (or administers its tenant
-- or the platform): a member removed a moment ago cannot use one.
CREATE FUNCTION ops.redeem_connect_ticket(p_ticket_hash bytea, p_slug text)
RETURNS TABLE (build_id uuid, db_name text, user_id uuid)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    DELETE FROM ops.connect_tickets WHERE expires_at < now() - interval '1 day';
    RETURN QUERY
    UPDATE ops.connect_tickets t SET used_at = now()
      FROM ops.builds b
     WHERE t.ticket_hash = p_ticket_hash AND t.used_at IS NULL AND t.expires_at > now()
       AND b.id = t.build_id AND b.preview_slug = p_slug AND b.live AND b.db_name IS NOT NULL
       AND (EXISTS (SELECT 1 FROM ops.project_members m WHERE m.project_id = b.project_id AND m.user_id = t.user_id)
            OR EXISTS (SELECT 1 FROM ops.tenant_members tm WHERE tm.tenant_id = b.tenant_id AND tm.user_id = t.user_id
                          AND tm.role = 'tenant_admin')
            OR EXISTS (SELECT 1 FROM ops.users u WHERE u.id = t.user_id
                          AND u.platform_role IN ('platform_owner', 'platform_operator')))
    RETURNING b.id, b.db_name, t.user_id;
END
$$;
REVOKE ALL ON FUNCTION ops.redeem_connect_ticket(bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.redeem_connect_ticket(bytea, text) TO odooops_app;

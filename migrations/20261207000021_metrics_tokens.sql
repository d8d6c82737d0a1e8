-- Metrics (issue 18): a personal access token may be scoped to reading
-- `/metrics` only (a Prometheus scraper's credential); platform staff create
-- them. A metrics token authenticates nowhere else.

ALTER TABLE ops.api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'api' CHECK (scope IN ('api', 'metrics'));

-- A live token's user and scope; records its use.
CREATE FUNCTION ops.auth_token_use(p_token_hash bytea) RETURNS TABLE (user_id uuid, scope text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    RETURN QUERY
    UPDATE ops.api_tokens t SET last_used_at = now()
     WHERE t.token_hash = p_token_hash AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
    RETURNING t.user_id, t.scope;
END
$$;
REVOKE ALL ON FUNCTION ops.auth_token_use(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.auth_token_use(bytea) TO odooops_app;

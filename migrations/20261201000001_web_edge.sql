-- Web edge and accounts (security review SEC-07, SEC-12, SEC-22).
--
-- 1. The first platform owner needs a one-time setup token. The console prints
--    a new token in its log at start while no account exists, and keeps only
--    its SHA-256 (hex) in ops_private.settings under `setup_token_sha256`.
--    Sign-up of the first account consumes it under the same lock that decides
--    who is first, so it is single-use and the race between two visitors of a
--    fresh install has one winner, who had the token.
-- 2. A password reset ends everything the old password could have handed out:
--    sessions, personal access tokens and SSH keys.

DROP FUNCTION ops.auth_sign_up(uuid, text, text, text, uuid, text, text);

CREATE FUNCTION ops.auth_sign_up(p_id uuid, p_email text, p_name text, p_hash text,
                                 p_tenant_id uuid, p_tenant_slug text, p_tenant_name text,
                                 p_setup_hash bytea)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE role text;
BEGIN
    LOCK TABLE ops.users IN SHARE ROW EXCLUSIVE MODE;
    IF EXISTS (SELECT 1 FROM ops.users WHERE id <> '00000000-0000-0000-0000-000000000001') THEN
        role := NULL;
    ELSE
        DELETE FROM ops_private.settings
         WHERE key = 'setup_token_sha256' AND p_setup_hash IS NOT NULL
           AND value = encode(p_setup_hash, 'hex');
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the first account needs the setup token' USING ERRCODE = 'OO001';
        END IF;
        role := 'platform_owner';
    END IF;
    INSERT INTO ops.users (id, email, display_name, password_hash, platform_role)
         VALUES (p_id, lower(p_email), p_name, p_hash, role);
    INSERT INTO ops.tenants (id, slug, name) VALUES (p_tenant_id, p_tenant_slug, p_tenant_name);
    INSERT INTO ops.tenant_members (tenant_id, user_id, role) VALUES (p_tenant_id, p_id, 'tenant_admin');
    INSERT INTO ops.audit_events (actor_id, actor_email, tenant_id, action, target, summary)
         VALUES (p_id, lower(p_email), p_tenant_id, 'account.sign_up', 'user:' || p_id,
                 jsonb_build_object('tenant', p_tenant_slug, 'platform_role', role));
    RETURN role;
END
$$;
REVOKE ALL ON FUNCTION ops.auth_sign_up(uuid, text, text, text, uuid, text, text, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.auth_sign_up(uuid, text, text, text, uuid, text, text, bytea) TO odooops_app;

CREATE OR REPLACE FUNCTION ops.auth_consume_reset(p_token_hash bytea, p_new_hash text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.password_resets SET used_at = now()
     WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
    RETURNING user_id INTO uid;
    IF uid IS NOT NULL THEN
        UPDATE ops.users SET password_hash = p_new_hash WHERE id = uid;
        DELETE FROM ops.sessions WHERE user_id = uid;
        UPDATE ops.api_tokens SET revoked_at = now() WHERE user_id = uid AND revoked_at IS NULL;
        DELETE FROM ops.ssh_keys WHERE user_id = uid;
        -- Other reset links of the account die with this one.
        UPDATE ops.password_resets SET used_at = now() WHERE user_id = uid AND used_at IS NULL;
        INSERT INTO ops.audit_events (actor_id, actor_email, action, target, summary)
             SELECT uid, email, 'account.password_reset', 'user:' || uid,
                    jsonb_build_object('revoked', 'sessions, tokens, ssh keys')
               FROM ops.users WHERE id = uid;
    END IF;
    RETURN uid;
END
$$;

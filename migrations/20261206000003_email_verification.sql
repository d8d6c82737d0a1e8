-- Verified e-mail addresses: self-service instances are for accounts whose
-- owner proved they read the address (a link sent by the console's mail).
-- Accounts made before this existed count as verified (they were admitted then).

ALTER TABLE ops.users ADD COLUMN email_verified_at timestamptz;
UPDATE ops.users SET email_verified_at = created_at;
GRANT SELECT (email_verified_at) ON ops.users TO odooops_app;

CREATE TABLE ops.email_verifications (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES ops.users ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
-- Reached only through the two functions below.
ALTER TABLE ops.email_verifications ENABLE ROW LEVEL SECURITY;

-- Step 1, as the signed-in user: a token hash for their own address.
CREATE FUNCTION ops.auth_request_verification(p_token_hash bytea, p_expires timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE addr text;
BEGIN
    SELECT email INTO addr FROM ops.users WHERE id = ops.current_user_id() AND email_verified_at IS NULL;
    IF addr IS NOT NULL THEN
        INSERT INTO ops.email_verifications (token_hash, user_id, expires_at)
        VALUES (p_token_hash, ops.current_user_id(), p_expires);
    END IF;
    RETURN addr;
END
$$;

-- Step 2, by whoever holds the link: consumed once, the address verified, audited.
CREATE FUNCTION ops.auth_verify_email(p_token_hash bytea) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.email_verifications SET used_at = now()
     WHERE token_hash = p_token_hash AND used_at IS NULL AND expires_at > now()
    RETURNING user_id INTO uid;
    IF uid IS NOT NULL THEN
        UPDATE ops.email_verifications SET used_at = now() WHERE user_id = uid AND used_at IS NULL;
        UPDATE ops.users SET email_verified_at = coalesce(email_verified_at, now()) WHERE id = uid;
        INSERT INTO ops.audit_events (actor_id, actor_email, action, target)
             SELECT uid, email, 'account.verify_email', 'user:' || uid FROM ops.users WHERE id = uid;
    END IF;
    RETURN uid;
END
$$;
REVOKE ALL ON FUNCTION ops.auth_request_verification(bytea, timestamptz), ops.auth_verify_email(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.auth_request_verification(bytea, timestamptz), ops.auth_verify_email(bytea) TO odooops_app;

-- What a self-service requester chose for their workspace (Odoo's defaults when absent).
ALTER TABLE ops.instances ADD COLUMN lang text CHECK (lang ~ '^[a-z]{2}(_[A-Z]{2})?$'),
                          ADD COLUMN country text CHECK (country ~ '^[A-Z]{2}$'),
                          ADD COLUMN timezone text CHECK (length(timezone) <= 64);

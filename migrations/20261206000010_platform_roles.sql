-- Platform roles (issue 15): finance owners read billing and nothing below it,
-- and platform owners grant and withdraw platform roles (never removing the
-- last owner). The application role cannot write `platform_role` itself:
-- only through ops.set_platform_role, which checks the caller is an owner.

ALTER TABLE ops.users DROP CONSTRAINT users_platform_role_check;
ALTER TABLE ops.users ADD CONSTRAINT users_platform_role_check
    CHECK (platform_role IN ('platform_owner', 'platform_operator', 'auditor', 'finance_owner'));

-- Who reads every tenant's billing: staff, auditors and finance.
CREATE FUNCTION ops.reads_billing() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(ops.platform_role() IN ('platform_owner', 'platform_operator', 'auditor', 'finance_owner'), false)
$$;

DROP POLICY subscriptions_read ON ops.subscriptions;
CREATE POLICY subscriptions_read ON ops.subscriptions FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_billing());

-- Finance sees tenants (whom it bills), not their projects, instances or people.
DROP POLICY tenants_read ON ops.tenants;
CREATE POLICY tenants_read ON ops.tenants FOR SELECT USING (
    id IN (SELECT ops.my_tenants()) OR ops.reads_billing()
    OR id IN (SELECT i.tenant_id FROM ops.tenant_invitations i
               WHERE i.email = ops.my_email() AND i.answered_at IS NULL AND i.expires_at > now()));

-- Sets (or, with NULL, withdraws) the platform role of the account with this
-- email; owners only. Answers the account's id, or NULL when there is none.
CREATE FUNCTION ops.set_platform_role(p_email text, p_role text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    target uuid;
    was text;
BEGIN
    IF ops.platform_role() IS DISTINCT FROM 'platform_owner' THEN
        RAISE EXCEPTION 'only platform owners grant platform roles' USING ERRCODE = '42501';
    END IF;
    -- One change of roles at a time: two owners demoting each other must not leave none.
    PERFORM pg_advisory_xact_lock(hashtext('ops.platform_roles'));
    SELECT id, platform_role INTO target, was FROM ops.users
     WHERE email = lower(p_email) AND id <> '00000000-0000-0000-0000-000000000001' FOR UPDATE;
    IF target IS NULL THEN
        RETURN NULL;
    END IF;
    -- A role goes only to an address its owner proved (else whoever signed up first with it gets it).
    IF p_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ops.users WHERE id = target AND email_verified_at IS NOT NULL) THEN
        RAISE EXCEPTION 'that account has not confirmed its email address' USING ERRCODE = '22023';
    END IF;
    IF was = 'platform_owner' AND p_role IS DISTINCT FROM 'platform_owner'
       AND (SELECT count(*) FROM ops.users WHERE platform_role = 'platform_owner') <= 1 THEN
        RAISE EXCEPTION 'the installation keeps at least one platform owner' USING ERRCODE = '23514';
    END IF;
    UPDATE ops.users SET platform_role = p_role WHERE id = target;
    RETURN target;
END
$$;
REVOKE ALL ON FUNCTION ops.set_platform_role(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.set_platform_role(text, text) TO odooops_app;

-- Row-level security evaluated once per statement, not once per row (#21).
--
-- The policies call who-is-acting functions such as ops.reads_everything(),
-- which reach the SECURITY DEFINER ops.platform_role(): PostgreSQL cannot
-- inline that, so a bare call in a policy runs again for every row a query
-- touches (the grid's query over 1,000 builds, every log line written). None of
-- them depends on the row, so each call is wrapped in a scalar sub-select,
-- which the planner evaluates once per statement as an init plan. The rules
-- themselves do not change: the same expressions, only evaluated once.
--
-- Done for every policy in the schema, so that none is forgotten; a test
-- (`rls_policies_evaluate_who_is_acting_once`) refuses a later policy that
-- calls one of them bare.

CREATE FUNCTION ops.wrap_acting_calls(expr text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(
        expr,
        '(?<!SELECT )(ops\.(current_user_id|platform_role|is_platform_admin|reads_everything|reads_billing|reads_console_mail|my_email)\(\))',
        '(SELECT \1)',
        'g')
$$;

DO $$
DECLARE
    p record;
    qual text;
    chk text;
    sql text;
    saved text := current_setting('search_path');
BEGIN
    -- Deparse with nothing on the search path, so every function shows its
    -- schema (put back afterwards: the migration's bookkeeping follows).
    PERFORM set_config('search_path', 'pg_catalog', true);
    FOR p IN
        SELECT pol.polname, c.relname,
               pg_get_expr(pol.polqual, pol.polrelid) AS qual,
               pg_get_expr(pol.polwithcheck, pol.polrelid) AS chk
          FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'ops'
    LOOP
        qual := ops.wrap_acting_calls(p.qual);
        chk := ops.wrap_acting_calls(p.chk);
        IF qual IS DISTINCT FROM p.qual OR chk IS DISTINCT FROM p.chk THEN
            sql := format('ALTER POLICY %I ON ops.%I', p.polname, p.relname);
            IF qual IS NOT NULL THEN
                sql := sql || format(' USING (%s)', qual);
            END IF;
            IF chk IS NOT NULL THEN
                sql := sql || format(' WITH CHECK (%s)', chk);
            END IF;
            EXECUTE sql;
        END IF;
    END LOOP;
    PERFORM set_config('search_path', saved, true);
END
$$;

DROP FUNCTION ops.wrap_acting_calls(text);

-- A personal access token's use is recorded at most once a minute, as a
-- session's is: every REST call used to write (and flush) the token's row, and
-- concurrent calls with one token queued on that row's lock.
CREATE OR REPLACE FUNCTION ops.auth_token_user(p_token_hash bytea) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE uid uuid;
BEGIN
    UPDATE ops.api_tokens SET last_used_at = now()
     WHERE token_hash = p_token_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
       AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
    SELECT user_id INTO uid FROM ops.api_tokens
     WHERE token_hash = p_token_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());
    RETURN uid;
END
$$;

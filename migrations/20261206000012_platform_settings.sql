-- Platform settings that change at run time (issue 15), owners only, audited.
-- A missing key means the console's flag or built-in default applies.

CREATE TABLE ops.platform_settings (
    key         text PRIMARY KEY CHECK (key IN ('signup_open', 'instances_per_tenant')),
    value       jsonb NOT NULL,
    updated_by  uuid REFERENCES ops.users ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ops.platform_settings ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_settings_read ON ops.platform_settings FOR SELECT USING (ops.reads_everything());
CREATE POLICY platform_settings_write ON ops.platform_settings FOR ALL
    USING (ops.platform_role() = 'platform_owner') WITH CHECK (ops.platform_role() = 'platform_owner');
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.platform_settings TO odooops_app;

-- Sign-up and instance creation read a setting before anyone (or anyone staff) is known.
CREATE FUNCTION ops.platform_setting(p_key text) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT value FROM ops.platform_settings WHERE key = p_key
$$;
REVOKE ALL ON FUNCTION ops.platform_setting(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.platform_setting(text) TO odooops_app;

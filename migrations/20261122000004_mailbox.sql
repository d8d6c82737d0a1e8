-- The mail catcher: SMTP credentials per development/staging environment, and
-- the messages caught for each, byte-exact.

-- Retention per environment, and the project's real outgoing relay (production only).
ALTER TABLE ops.projects
    ADD COLUMN mail_keep_count integer NOT NULL DEFAULT 500 CHECK (mail_keep_count BETWEEN 1 AND 100000),
    ADD COLUMN mail_keep_days integer NOT NULL DEFAULT 30 CHECK (mail_keep_days BETWEEN 1 AND 3650),
    ADD COLUMN smtp_relay_host text,
    ADD COLUMN smtp_relay_port integer CHECK (smtp_relay_port BETWEEN 1 AND 65535);

-- Credentials that identify an environment to the catcher. The password is
-- injected into the environment's containers, so it is kept (system only).
CREATE TABLE ops.mail_credentials (
    env_id     uuid PRIMARY KEY REFERENCES ops.environments ON DELETE CASCADE,
    tenant_id  uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    username   text NOT NULL UNIQUE,
    password   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ops.mailbox_messages (
    id              uuid PRIMARY KEY,
    tenant_id       uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    project_id      uuid NOT NULL REFERENCES ops.projects ON DELETE CASCADE,
    env_id          uuid NOT NULL REFERENCES ops.environments ON DELETE CASCADE,
    received_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    envelope_from   text NOT NULL,
    envelope_to     text[] NOT NULL,
    -- What was received is what is downloaded.
    raw             bytea NOT NULL,
    size            integer NOT NULL,
    subject         text,
    from_header     text,
    to_header       text,
    cc_header       text,
    date_header     timestamptz,
    message_id      text,
    has_attachments boolean NOT NULL DEFAULT false,
    text_body       text,
    html_body       text,
    headers         jsonb NOT NULL DEFAULT '[]',
    attachments     jsonb NOT NULL DEFAULT '[]',
    -- Set when the message could not be parsed: it is still kept and shown raw.
    parse_error     text,
    read            boolean NOT NULL DEFAULT false
);
CREATE INDEX mailbox_env ON ops.mailbox_messages (env_id, received_at DESC);

ALTER TABLE ops.mail_credentials ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.mailbox_messages ENABLE ROW LEVEL SECURITY;

CREATE POLICY mail_credentials_system ON ops.mail_credentials FOR ALL
    USING (ops.is_platform_admin()) WITH CHECK (ops.is_platform_admin());

-- Mails follow the role matrix: members read development mails; staging mails are for
-- admins and testers; production is never caught.
CREATE POLICY mailbox_read ON ops.mailbox_messages FOR SELECT USING (
    ops.reads_everything()
    OR ops.my_project_role(project_id) = 'admin'
    OR (ops.my_project_role(project_id) = 'tester')
    OR (ops.my_project_role(project_id) = 'developer'
        AND env_id IN (SELECT e.id FROM ops.environments e WHERE e.stage = 'development')));
CREATE POLICY mailbox_catch ON ops.mailbox_messages FOR INSERT WITH CHECK (ops.is_platform_admin());
CREATE POLICY mailbox_mark ON ops.mailbox_messages FOR UPDATE USING (
    ops.is_platform_admin() OR ops.my_project_role(project_id) IS NOT NULL);
CREATE POLICY mailbox_delete ON ops.mailbox_messages FOR DELETE USING (
    ops.is_platform_admin() OR ops.my_project_role(project_id) IN ('admin', 'tester')
    OR (ops.my_project_role(project_id) = 'developer'
        AND env_id IN (SELECT e.id FROM ops.environments e WHERE e.stage = 'development')));

-- The catcher, before anyone is known: which live non-production environment these credentials open.
CREATE FUNCTION ops.mail_login(p_username text, p_password text)
RETURNS TABLE (env_id uuid, tenant_id uuid, project_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT c.env_id, c.tenant_id, c.project_id
      FROM ops.mail_credentials c JOIN ops.environments e ON e.id = c.env_id
     WHERE c.username = p_username AND c.password = p_password
       AND e.deleted_at IS NULL AND e.stage <> 'production'
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON ops.mail_credentials TO odooops_app;
GRANT SELECT, INSERT, DELETE ON ops.mailbox_messages TO odooops_app;
GRANT UPDATE (read) ON ops.mailbox_messages TO odooops_app;
REVOKE ALL ON FUNCTION ops.mail_login(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.mail_login(text, text) TO odooops_app;

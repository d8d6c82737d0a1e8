-- The console's own mail (password resets, invitations, alerts) when no SMTP
-- relay is configured: kept in a mailbox that only platform owners read,
-- instead of a log, which travels further than mail (shippers, support, backups).

CREATE TABLE ops.console_mail (
    id          uuid PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    to_addr     text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    read        boolean NOT NULL DEFAULT false
);
CREATE INDEX console_mail_received ON ops.console_mail (received_at DESC);
ALTER TABLE ops.console_mail ENABLE ROW LEVEL SECURITY;

-- Platform owners read it; the system (which keeps it and applies retention) too.
-- Operators and auditors do not: a reset link in it opens someone's account.
CREATE FUNCTION ops.reads_console_mail() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(ops.platform_role() = 'platform_owner', false)
        OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001'
$$;

CREATE POLICY console_mail_read ON ops.console_mail FOR SELECT USING (ops.reads_console_mail());
CREATE POLICY console_mail_keep ON ops.console_mail FOR INSERT
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY console_mail_mark ON ops.console_mail FOR UPDATE USING (ops.reads_console_mail());
CREATE POLICY console_mail_prune ON ops.console_mail FOR DELETE USING (ops.reads_console_mail());

GRANT SELECT, INSERT, DELETE ON ops.console_mail TO odooops_app;
GRANT UPDATE (read) ON ops.console_mail TO odooops_app;

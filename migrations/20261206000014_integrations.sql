-- Integrations (issue 15): outbound event subscriptions per tenant (signed
-- webhooks, the way n8n and similar tools consume events, with a delivery
-- history and retries), a tenant's analytics links (its Supabase project and
-- dashboard URLs), and deleting a tenant, which only platform owners may do.

-- Automation -------------------------------------------------------------------

-- Where a tenant's events go. The signing secret is sealed by the console
-- (AES-256-GCM, key outside the database); the database never holds it in clear.
CREATE TABLE ops.event_subscriptions (
    id            uuid PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    url           text NOT NULL CHECK (url ~ '^https://' AND length(url) <= 2000),
    description   text NOT NULL DEFAULT '' CHECK (length(description) <= 200),
    events        text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
                      'instance.created', 'instance.state_changed', 'operation.queued',
                      'operation.succeeded', 'operation.failed']),
    secret_sealed bytea NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    created_by    uuid REFERENCES ops.users ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_subscriptions_tenant ON ops.event_subscriptions (tenant_id) WHERE active;

-- One event for one subscription: its payload as sent, and how sending went.
-- `sending` is a lease: a console that died while sending leaves it due again.
CREATE TABLE ops.event_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    subscription_id uuid NOT NULL REFERENCES ops.event_subscriptions ON DELETE CASCADE,
    tenant_id       uuid NOT NULL REFERENCES ops.tenants ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sending', 'failed', 'delivered', 'gave_up')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status     integer,
    last_error      text,
    duration_ms     integer,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at    timestamptz
);
CREATE INDEX event_deliveries_due ON ops.event_deliveries (next_attempt_at)
    WHERE state IN ('pending', 'sending', 'failed');
CREATE INDEX event_deliveries_subscription ON ops.event_deliveries (subscription_id, created_at DESC);
CREATE INDEX event_deliveries_tenant ON ops.event_deliveries (tenant_id, created_at DESC);

-- A tenant's admins and platform staff manage its subscriptions; auditors read.
-- Deliveries are written by background work (and the triggers below); people
-- ask for a retry or a test through the console, which acts as the system.
ALTER TABLE ops.event_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE ops.event_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY event_subscriptions_read ON ops.event_subscriptions FOR SELECT
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.reads_everything()
           OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY event_subscriptions_write ON ops.event_subscriptions FOR ALL
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
CREATE POLICY event_deliveries_read ON ops.event_deliveries FOR SELECT
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.reads_everything()
           OR ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
CREATE POLICY event_deliveries_system ON ops.event_deliveries FOR ALL
    USING (ops.current_user_id() = '00000000-0000-0000-0000-000000000001')
    WITH CHECK (ops.current_user_id() = '00000000-0000-0000-0000-000000000001');
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.event_subscriptions, ops.event_deliveries TO odooops_app;

-- Delivering is a periodic job (woken when an event is queued).
ALTER TABLE ops.jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE ops.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('build', 'backup', 'drill', 'poll',
    'backup_schedule', 'shell_sweep', 'reconcile', 'retention', 'instance_operation', 'catalog_refresh',
    'webhook_delivery'));

-- Queues event `p_type` for every active subscription of `p_tenant` that asked for it.
CREATE FUNCTION ops.emit_event(p_tenant uuid, p_type text, p_data jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    queued integer;
BEGIN
    WITH ins AS (
        INSERT INTO ops.event_deliveries (subscription_id, tenant_id, event, payload)
        SELECT s.id, s.tenant_id, p_type,
               jsonb_build_object('type', p_type, 'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC',
                                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'data', p_data)
          FROM ops.event_subscriptions s
         WHERE s.tenant_id = p_tenant AND s.active AND p_type = ANY (s.events)
        RETURNING 1)
    SELECT count(*) INTO queued FROM ins;
    IF queued > 0 THEN
        -- Wake the delivery job unless another writer holds it (then it wakes anyway).
        UPDATE ops.jobs SET run_after = clock_timestamp()
         WHERE id = (SELECT id FROM ops.jobs WHERE kind = 'webhook_delivery' AND subject IS NULL
                        AND state = 'queued' AND run_after > clock_timestamp() FOR UPDATE SKIP LOCKED);
        PERFORM pg_notify('ops_jobs', 'webhook_delivery');
    END IF;
END
$$;
REVOKE ALL ON FUNCTION ops.emit_event(uuid, text, jsonb) FROM PUBLIC;

-- A test event to one subscription, asked by someone who manages it.
CREATE FUNCTION ops.webhook_ping(p_subscription uuid, p_asked_by text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    delivery uuid;
BEGIN
    INSERT INTO ops.event_deliveries (subscription_id, tenant_id, event, payload)
    SELECT s.id, s.tenant_id, 'ping', jsonb_build_object('type', 'ping',
           'timestamp', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object('tenant', t.slug, 'subscription', s.id, 'asked_by', p_asked_by))
      FROM ops.event_subscriptions s JOIN ops.tenants t ON t.id = s.tenant_id
     WHERE s.id = p_subscription AND (s.tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    RETURNING id INTO delivery;
    RETURN delivery;
END
$$;
REVOKE ALL ON FUNCTION ops.webhook_ping(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.webhook_ping(uuid, text) TO odooops_app;

-- A failed delivery sent again now with a fresh set of tries, asked by someone who manages it.
CREATE FUNCTION ops.webhook_retry(p_delivery uuid) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    WITH retried AS (
        UPDATE ops.event_deliveries SET state = 'pending', attempts = 0, next_attempt_at = clock_timestamp()
         WHERE id = p_delivery AND state IN ('failed', 'gave_up')
           AND (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM retried)
$$;
REVOKE ALL ON FUNCTION ops.webhook_retry(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ops.webhook_retry(uuid) TO odooops_app;

CREATE FUNCTION ops.instance_event_data(i ops.instances) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
    SELECT jsonb_build_object('tenant', (SELECT t.slug FROM ops.tenants t WHERE t.id = i.tenant_id),
        'instance', jsonb_build_object('id', i.id, 'subdomain', i.subdomain, 'name', i.name,
                                       'odoo_version', i.odoo_version, 'plan', i.plan, 'state', i.state))
$$;
REVOKE ALL ON FUNCTION ops.instance_event_data(ops.instances) FROM PUBLIC;

CREATE FUNCTION ops.instance_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ops.emit_event(NEW.tenant_id, 'instance.created', ops.instance_event_data(NEW));
    ELSIF NEW.state IS DISTINCT FROM OLD.state THEN
        PERFORM ops.emit_event(NEW.tenant_id, 'instance.state_changed',
            ops.instance_event_data(NEW) || jsonb_build_object('from', OLD.state, 'to', NEW.state, 'reason', NEW.reason));
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops.instance_events() FROM PUBLIC;
CREATE TRIGGER instances_events AFTER INSERT OR UPDATE OF state ON ops.instances
    FOR EACH ROW EXECUTE FUNCTION ops.instance_events();

CREATE FUNCTION ops.operation_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = ops, pg_catalog AS $$
DECLARE
    kind text;
    data jsonb;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'operation.queued';
    ELSIF NEW.state IS DISTINCT FROM OLD.state AND NEW.state = 'done' THEN
        kind := 'operation.succeeded';
    ELSIF NEW.state IS DISTINCT FROM OLD.state AND NEW.state = 'failed' THEN
        kind := 'operation.failed';
    ELSE
        RETURN NULL;
    END IF;
    SELECT ops.instance_event_data(i) INTO data FROM ops.instances i WHERE i.id = NEW.instance_id;
    PERFORM ops.emit_event(NEW.tenant_id, kind, coalesce(data, '{}') || jsonb_build_object('operation',
        jsonb_build_object('id', NEW.id, 'kind', NEW.kind, 'state', NEW.state, 'error', NEW.error,
                           'created_at', NEW.created_at, 'finished_at', NEW.finished_at)));
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops.operation_events() FROM PUBLIC;
CREATE TRIGGER instance_operations_events AFTER INSERT OR UPDATE OF state ON ops.instance_operations
    FOR EACH ROW EXECUTE FUNCTION ops.operation_events();

-- Analytics ----------------------------------------------------------------------

-- A tenant's Supabase project (its ref; the Management API token comes with
-- the Supabase kit) and the dashboards its people look at.
CREATE TABLE ops.tenant_analytics (
    tenant_id    uuid PRIMARY KEY REFERENCES ops.tenants ON DELETE CASCADE,
    supabase_ref text CHECK (supabase_ref ~ '^[a-z]{20}$'),
    dashboards   jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(dashboards) = 'array'),
    updated_by   uuid REFERENCES ops.users ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE ops.tenant_analytics ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_analytics_read ON ops.tenant_analytics FOR SELECT
    USING (tenant_id IN (SELECT ops.my_tenants()) OR ops.reads_everything());
CREATE POLICY tenant_analytics_write ON ops.tenant_analytics FOR ALL
    USING (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin())
    WITH CHECK (tenant_id IN (SELECT ops.my_admin_tenants()) OR ops.is_platform_admin());
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.tenant_analytics TO odooops_app;

-- Deleting a tenant ----------------------------------------------------------------

-- Operators run everything but may not delete a tenant: only owners.
DROP POLICY tenants_delete ON ops.tenants;
CREATE POLICY tenants_delete ON ops.tenants FOR DELETE
    USING (coalesce(ops.platform_role() = 'platform_owner', false));

-- Fair build slots: claiming counts each waiting tenant's running builds
-- (domain/src/builds/queue.rs, `claim`); this keeps that count an index lookup.
CREATE INDEX builds_running_by_tenant ON ops.builds (tenant_id) WHERE state = 'running';

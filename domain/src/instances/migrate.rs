//! Moving an instance's database between the shared PostgreSQL server and
//! its own dedicated one (`migrate_database`), in either direction.
//!
//! The window: the instance is `migrating` (its address answers 503 with
//! Retry-After) and its serving build stops, so nothing writes; the database
//! is copied with `pg_dump | pg_restore`, each side logged in as the
//! database's own role; every table's row count and a checksum of a sample
//! of its rows are compared; only then does the instance switch over, and a
//! redeploy serves it from the new server. Any failure before the switch
//! drops the copy and serves again from the old server; a redeploy that
//! fails after it switches back. The old copy is dropped only once the new
//! one serves. The filestore stays where it is (it is named after the
//! database, which keeps its name). The downtime is measured and kept.
//!
//! A console that stops half-way leaves the job to run again: before the
//! switch (recorded with the strategy, in one transaction) it starts over,
//! after it it finishes.

use super::dedicated::{database_prefix, record_port};
use super::run::{enqueue_build, env_databases, serving, Op};
use crate::builds::infra::{BuildDatabases, BuildInfra};
use crate::builds::queue::SYSTEM_USER;
use crate::platform::Platform;
use crate::types::{DbStrategy, InstanceState};
use anyhow::Context;
use sqlx::{ConnectOptions, Connection, Row};
use std::time::Duration;
use uuid::Uuid;

/// How a migration ended.
pub(super) enum Moved {
    /// The database lives where it was asked to, and serves from there.
    Done,
    /// It failed and the instance is back as it was, on its old server (why).
    Reverted(String),
    /// It failed and the instance could not be brought back (why): `error`.
    Broken(String),
}

/// Rows whose checksums are compared per table (the first ones by `id`, or by their text).
const SAMPLE_ROWS: i64 = 1000;

/// Before a build of an instance on a dedicated server: the server runs
/// here and the instance's databases are routed to it.
pub(super) async fn serve_from_dedicated(p: &Platform, infra: &BuildInfra, op: &Op) -> anyhow::Result<()> {
    let prefix = database_prefix(&infra.installation, op.env);
    let (_, port) =
        infra.dedicated.ensure(op.instance, &prefix, op.db_port, &infra.databases, &infra.installation).await?;
    infra.dedicated.route(op.instance);
    if Some(port) != op.db_port {
        record_port(p, op.instance, Some(port)).await?;
    }
    Ok(())
}

fn server_name(s: DbStrategy) -> &'static str {
    match s {
        DbStrategy::Shared => "the shared PostgreSQL server",
        DbStrategy::Dedicated => "its own PostgreSQL server",
    }
}

/// Adds a line to the operation's log (what the instance page shows).
async fn say(p: &Platform, operation: Uuid, line: impl Into<String>) -> anyhow::Result<()> {
    let line = line.into();
    tracing::info!(%operation, "{line}");
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.instance_operations SET log = array_append(log, $2) WHERE id = $1")
        .bind(operation)
        .bind(line.chars().take(1000).collect::<String>())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Carries out a `migrate_database` operation (see the module's text).
/// `Err` is a failure of the step itself (the job tries again).
pub(super) async fn migrate(p: &Platform, infra: &BuildInfra, op: &Op, operation: Uuid) -> anyhow::Result<Moved> {
    let to = op.target.unwrap_or_else(|| op.strategy.other());
    let serving_before = op.from == InstanceState::Active;
    if op.strategy != to {
        say(p, operation, format!("moving the database from {} to {}", server_name(op.strategy), server_name(to)))
            .await?;
        if let Err(e) = move_data(p, infra, op, operation, to).await {
            let why = format!("{e:#}");
            // The switch-over is the point of no return: once recorded, the new copy is the one served.
            if strategy_now(p, op.instance).await? != to {
                say(p, operation, format!("failed before the switch-over: {why}")).await?;
                return revert_before_switch(p, infra, op, operation, to, serving_before, why).await;
            }
            tracing::warn!(%operation, error = %why, "a step after the switch-over failed; finishing the move");
        }
    } else {
        say(p, operation, "resuming after the switch-over (the console stopped meanwhile)").await?;
    }
    // Switched: serve from the new server, then let go of the old copy.
    if serving_before && !serves(p, op.env).await? {
        if let Err(why) = redeploy(p, op, operation).await? {
            say(p, operation, format!("the redeploy on the new server failed: {why}; switching back")).await?;
            return revert_after_switch(p, infra, op, operation, to, why).await;
        }
    }
    drop_copy_on(p, infra, op, to.other()).await?;
    let downtime = record_downtime(p, operation, serving_before).await?;
    let took = match downtime {
        Some(ms) => format!("; downtime {:.1} s", ms as f64 / 1000.0),
        None => String::new(),
    };
    say(p, operation, format!("done: the database lives on {}{took}", server_name(to))).await?;
    Ok(Moved::Done)
}

/// Stop serving, copy, verify, switch over.
async fn move_data(p: &Platform, infra: &BuildInfra, op: &Op, operation: Uuid, to: DbStrategy) -> anyhow::Result<()> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let current = crate::backups::jobs::current_database(&mut tx, op.env).await?.map(|(db, _)| db);
    tx.commit().await?;
    let target = match to {
        DbStrategy::Dedicated => {
            let prefix = database_prefix(&infra.installation, op.env);
            let (dbs, port) = infra
                .dedicated
                .ensure(op.instance, &prefix, None, &infra.databases, &infra.installation)
                .await
                .context("starting the instance's own PostgreSQL server")?;
            say(p, operation, format!("its own server runs (port {port})")).await?;
            dbs
        }
        DbStrategy::Shared => infra.databases.clone(),
    };
    let Some(db) = current else {
        say(p, operation, "no database yet: nothing to copy").await?;
        return switch(p, infra, op, operation, to).await;
    };
    let builds = serving(p, op.env).await?;
    for build in &builds {
        crate::builds::lifecycle::teardown(p, infra, *build).await?;
    }
    if !builds.is_empty() {
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        sqlx::query(
            "UPDATE ops.instance_operations SET serving_stopped_at = coalesce(serving_stopped_at, clock_timestamp())
              WHERE id = $1",
        )
        .bind(operation)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        say(p, operation, "stopped serving: its address shows a maintenance page (503, Retry-After)").await?;
    }
    let source = infra.db(&db);
    anyhow::ensure!(
        source.admin.get_port() != target.admin.get_port() || source.admin.get_host() != target.admin.get_host(),
        "the database is already on that server"
    );
    // A copy left by an earlier attempt goes first.
    target.drop(&db, &db).await.context("removing an earlier attempt's copy")?;
    target.provision(&db, None).await.context("creating the database on the new server")?;
    source.dump_restore_into(&db, &target, &db).await.context("copying the database")?;
    say(p, operation, format!("copied {db} (pg_dump | pg_restore, as the database's own role)")).await?;
    // However many tables there are, a verification ends (each statement also has its own limit).
    let v = tokio::time::timeout(Duration::from_secs(3600), verify(&source, &target, &db))
        .await
        .map_err(|_| anyhow::anyhow!("the verification took over an hour"))?
        .context("verifying the copy")?;
    say(
        p,
        operation,
        format!(
            "verified: {} tables and {} rows, the same on both servers; checksums of {} sampled rows match",
            v.tables, v.rows, v.sampled
        ),
    )
    .await?;
    switch(p, infra, op, operation, to).await
}

/// From now on the instance's database is on `to`'s server: recorded with
/// the strategy in one transaction, and routed.
async fn switch(p: &Platform, infra: &BuildInfra, op: &Op, operation: Uuid, to: DbStrategy) -> anyhow::Result<()> {
    let port = match to {
        DbStrategy::Dedicated => infra.dedicated.port(op.instance),
        DbStrategy::Shared => None,
    };
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    sqlx::query("UPDATE ops.instances SET db_strategy = $2, db_port = $3, updated_at = now() WHERE id = $1")
        .bind(op.instance)
        .bind(to.as_str())
        .bind(port.map(i32::from))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    match to {
        DbStrategy::Dedicated => infra.dedicated.route(op.instance),
        DbStrategy::Shared => infra.dedicated.unroute(op.instance),
    }
    // Past the point of no return: a log line that cannot be written is no reason to undo it.
    if let Err(e) = say(p, operation, format!("switched over: the database is served by {}", server_name(to))).await {
        tracing::warn!(%operation, error = %format!("{e:#}"), "could not log the switch-over");
    }
    Ok(())
}

/// Where the instance's database is recorded to live now.
async fn strategy_now(p: &Platform, instance: Uuid) -> anyhow::Result<DbStrategy> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let s: String = sqlx::query_scalar("SELECT db_strategy FROM ops.instances WHERE id = $1")
        .bind(instance)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    DbStrategy::parse(&s).map_err(|e| anyhow::anyhow!("{e}"))
}

/// A failure before the switch: the new copy goes, the old server serves again.
async fn revert_before_switch(
    p: &Platform,
    infra: &BuildInfra,
    op: &Op,
    operation: Uuid,
    to: DbStrategy,
    serving_before: bool,
    why: String,
) -> anyhow::Result<Moved> {
    drop_copy_on(p, infra, op, to).await?;
    if serving_before && !serves(p, op.env).await? {
        if let Err(again) = redeploy(p, op, operation).await? {
            return Ok(Moved::Broken(format!("{why}; serving again from the old server failed too: {again}")));
        }
    }
    say(p, operation, format!("reverted: the database stays on {}", server_name(op.strategy))).await?;
    Ok(Moved::Reverted(format!("the database was not moved (reverted): {why}")))
}

/// The redeploy on the new server failed: back to the old one, which still has its copy.
async fn revert_after_switch(
    p: &Platform,
    infra: &BuildInfra,
    op: &Op,
    operation: Uuid,
    to: DbStrategy,
    why: String,
) -> anyhow::Result<Moved> {
    let back = to.other();
    if back == DbStrategy::Dedicated {
        super::migrate::serve_from_dedicated(p, infra, op).await?;
    }
    switch(p, infra, op, operation, back).await?;
    let again = redeploy(p, op, operation).await?;
    drop_copy_on(p, infra, op, to).await?;
    match again {
        Ok(()) => {
            say(p, operation, format!("reverted: the database stays on {}", server_name(back))).await?;
            Ok(Moved::Reverted(format!("the database was not moved (reverted): {why}")))
        }
        Err(again) => Ok(Moved::Broken(format!("{why}; serving again from the old server failed too: {again}"))),
    }
}

/// Removes the instance's copy on `server`: the shared server's databases of
/// its builds, or its whole dedicated server. A failed move removes the new
/// copy this way; a finished one, the old.
async fn drop_copy_on(p: &Platform, infra: &BuildInfra, op: &Op, server: DbStrategy) -> anyhow::Result<()> {
    match server {
        DbStrategy::Dedicated => infra.dedicated.remove(op.instance).await.context("removing the dedicated server"),
        DbStrategy::Shared => {
            for (db, role) in env_databases(p, op.env).await? {
                infra.databases.drop(&db, &role).await.context("dropping the shared server's copy")?;
            }
            Ok(())
        }
    }
}

/// Whether a build of the instance serves now.
async fn serves(p: &Platform, env: Uuid) -> anyhow::Result<bool> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let live: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ops.builds WHERE env_id = $1 AND live)")
        .bind(env)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(live)
}

/// A redeploy of the instance (a production build, its log linked to the
/// operation), waited for. `Ok(Err(why))` when the build did not succeed.
async fn redeploy(p: &Platform, op: &Op, operation: Uuid) -> anyhow::Result<Result<(), String>> {
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let build = enqueue_build(&mut tx, op, operation, None).await?;
    tx.commit().await?;
    say(p, operation, format!("redeploying (build {build})")).await?;
    loop {
        let mut tx = p.db.begin_as(SYSTEM_USER).await?;
        let r = sqlx::query("SELECT state, result, reason FROM ops.builds WHERE id = $1")
            .bind(build)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        if r.get::<&str, _>("state") == "done" {
            let ok = matches!(r.get::<Option<&str>, _>("result"), Some("ok" | "warn"));
            return Ok(if ok {
                Ok(())
            } else {
                Err(r.get::<Option<String>, _>("reason").unwrap_or_else(|| "the build did not succeed".into()))
            });
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The downtime: from when serving stopped to now (serving again); none
/// when the instance was not serving.
async fn record_downtime(p: &Platform, operation: Uuid, serving_before: bool) -> anyhow::Result<Option<i64>> {
    if !serving_before {
        return Ok(None);
    }
    let mut tx = p.db.begin_as(SYSTEM_USER).await?;
    let ms: i64 = sqlx::query_scalar(
        "UPDATE ops.instance_operations
            SET downtime_ms = greatest(0, (extract(epoch FROM clock_timestamp()
                                  - coalesce(serving_stopped_at, started_at)) * 1000)::bigint)
          WHERE id = $1 RETURNING downtime_ms",
    )
    .bind(operation)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(ms))
}

/// What the verification compared.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verified {
    pub tables: usize,
    pub rows: i64,
    pub sampled: i64,
}

/// Compares the two copies of `db`, each read as the database's own role:
/// the same tables, the same row count in each, and the same checksum over
/// a sample of each table's rows (the first by `id`, else by their text).
pub async fn verify(source: &BuildDatabases, target: &BuildDatabases, db: &str) -> anyhow::Result<Verified> {
    let connect = |dbs: &BuildDatabases| {
        // Only pg_catalog is searched, so no function, operator or cast the tenant defined is picked.
        let opts = dbs
            .owner_options(db)
            .options([("statement_timeout", "300000"), ("search_path", "pg_catalog")])
            .log_statements(tracing::log::LevelFilter::Off);
        async move { sqlx::PgConnection::connect_with(&opts).await }
    };
    let mut a = connect(source).await.context("connecting to the old copy")?;
    let mut b = connect(target).await.context("connecting to the new copy")?;
    let list = "SELECT n.nspname, c.relname,
                       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id' AND NOT a.attisdropped)
                  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg\\_%'
                 ORDER BY 1, 2";
    let tables: Vec<(String, String, bool)> = sqlx::query_as(list).fetch_all(&mut a).await?;
    let theirs: Vec<(String, String, bool)> = sqlx::query_as(list).fetch_all(&mut b).await?;
    if tables != theirs {
        let names = |t: &[(String, String, bool)]| t.iter().map(|(s, n, _)| format!("{s}.{n}")).collect::<Vec<_>>();
        let (x, y) = (names(&tables), names(&theirs));
        let missing: Vec<&String> = x.iter().filter(|n| !y.contains(n)).take(5).collect();
        anyhow::bail!("the copy's tables differ (missing: {missing:?}; {} vs {} tables)", x.len(), y.len());
    }
    let q = crate::db::embedded::quote_ident;
    let mut out = Verified { tables: tables.len(), ..Verified::default() };
    for (schema, name, has_id) in &tables {
        let rel = format!("{}.{}", q(schema), q(name));
        let count = format!("SELECT pg_catalog.count(*) FROM {rel}");
        let (n, m): (i64, i64) =
            (sqlx::query_scalar(&count).fetch_one(&mut a).await?, sqlx::query_scalar(&count).fetch_one(&mut b).await?);
        anyhow::ensure!(n == m, "{rel} has {n} rows on the old server and {m} on the new one");
        // Each row as JSON text (built-in output functions only; `alias.*` is the whole row even
        // if a column shares the alias's name), ordered byte-wise so both servers agree whatever their collation.
        let row = "pg_catalog.row_to_json(odooops_row.*)::text";
        let by_text = format!("{row} COLLATE \"C\"");
        let order = if *has_id { "odooops_row.\"id\"" } else { by_text.as_str() };
        let sum = format!(
            "SELECT pg_catalog.count(*), COALESCE(pg_catalog.md5(pg_catalog.string_agg(x, E'\\n' ORDER BY o, x COLLATE \"C\")), '')
               FROM (SELECT {row} AS x, pg_catalog.row_number() OVER (ORDER BY {order}) AS o FROM {rel} odooops_row
                      ORDER BY {order} LIMIT {SAMPLE_ROWS}) s"
        );
        let (k, x): (i64, String) = sqlx::query_as(&sum).fetch_one(&mut a).await?;
        let (_, y): (i64, String) = sqlx::query_as(&sum).fetch_one(&mut b).await?;
        anyhow::ensure!(x == y, "the sampled rows of {rel} differ between the old and the new server");
        out.rows += n;
        out.sampled += k;
    }
    a.close().await.ok();
    b.close().await.ok();
    Ok(out)
}

//! Staging clone time on a generated database of a few hundred MB, against
//! the raw floor measured in the same run: `createdb -T` (which needs the
//! source idle). OdooOps copies with `CREATE DATABASE … TEMPLATE` when
//! production is idle and with `pg_dump | pg_restore` while it serves; both
//! are printed with their ratio to the floor. `CLONE_ROWS` sets the size
//! (default 1,200,000 rows ≈ 350 MB).

use sqlx::{ConnectOptions, Connection};
use std::time::Instant;

#[tokio::main]
async fn main() {
    let rows: i64 = std::env::var("CLONE_ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(1_200_000);
    let dbs = domain::testing::build_databases()
        .expect("the benchmark needs Docker (the builds' server listens on its bridge)");
    let admin = domain::testing::server();
    // Production is a tenant's database, owned by its own role, as in a real build.
    let source = format!("ob_bench_src_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect_with(&admin).await.unwrap();
    dbs.provision(&source, None).await.unwrap();
    let mut src = sqlx::PgConnection::connect_with(&dbs.owner_options(&source)).await.unwrap();
    let t = Instant::now();
    sqlx::query("CREATE TABLE res_partner AS SELECT g AS id, md5(g::text) AS name, repeat(md5(g::text), 7) AS comment FROM generate_series(1, $1) g")
        .bind(rows)
        .execute(&mut src)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE res_partner ADD PRIMARY KEY (id)").execute(&mut src).await.unwrap();
    let size: i64 =
        sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut src).await.unwrap();
    src.close().await.unwrap();
    println!("generated {} MB in {:.1} s", size / 1_000_000, t.elapsed().as_secs_f64());

    // Floor: createdb -T (a file-level copy; the source must be idle).
    let floor_db = format!("ob_bench_floor_{}", std::process::id());
    let t = Instant::now();
    sqlx::query(&format!("CREATE DATABASE {floor_db} TEMPLATE {source}")).execute(&mut c).await.unwrap();
    let floor = t.elapsed();

    // OdooOps, production idle: the same file-level copy plus ownership for the build's role.
    let idle_db = format!("ob_bench_idle_{}", std::process::id());
    let t = Instant::now();
    dbs.provision(&idle_db, Some(&source)).await.unwrap();
    let idle = t.elapsed();

    // OdooOps, production serving (a connection is open): pg_dump | pg_restore.
    let busy_db = format!("ob_bench_busy_{}", std::process::id());
    let holder = sqlx::PgConnection::connect_with(
        &admin.clone().database(&source).log_statements(tracing::log::LevelFilter::Off),
    )
    .await
    .unwrap();
    let t = Instant::now();
    dbs.provision(&busy_db, Some(&source)).await.unwrap();
    let busy = t.elapsed();
    holder.close().await.unwrap();

    sqlx::query(&format!("DROP DATABASE {floor_db} WITH (FORCE)")).execute(&mut c).await.unwrap();
    for db in [&idle_db, &busy_db, &source] {
        dbs.drop(db, db).await.unwrap();
    }
    println!("floor (createdb -T, idle source): {:.2} s", floor.as_secs_f64());
    println!(
        "OdooOps, idle production:  {:.2} s  ratio {:.2}x",
        idle.as_secs_f64(),
        idle.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "OdooOps, serving production (pg_dump | pg_restore): {:.2} s  ratio {:.2}x",
        busy.as_secs_f64(),
        busy.as_secs_f64() / floor.as_secs_f64()
    );
}

//! Backup and restore throughput on a generated production database of a few
//! hundred MB, beside the raw floor measured in the same run on the same
//! database: `pg_dump -Fc` to a file, and `pg_restore` of that file into an
//! empty database. OdooOps writes Odoo's zip (plain dump streamed through
//! deflate, sha256 and row counting, plus the filestore) and restores it by
//! verifying the checksum, then `psql` and the filestore. Prints MB/s for
//! each and the ratios (target ≥ 0.9×). `BACKUP_ROWS` sets the size
//! (default 1,200,000 rows ≈ 350 MB). Needs Docker and the stand-in binary.

#[expect(dead_code, reason = "the shared bench helpers include some this bench does not use")]
mod common;

use common::Bench;
use domain::builds::queue::SYSTEM_USER;
use domain::config::Settings;
use sqlx::Connection;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let rows: i64 = std::env::var("BACKUP_ROWS").ok().and_then(|r| r.parse().ok()).unwrap_or(1_200_000);
    let Bench { p, actor, project, secret, repo, scratch, infra, .. } =
        common::setup(Settings::for_url("http://127.0.0.1")).await;

    // Production, built once.
    let sha = common::git(&repo, &["rev-parse", "HEAD"]);
    let body =
        serde_json::to_vec(&serde_json::json!({"ref": "refs/heads/main", "after": sha, "deleted": false})).unwrap();
    let sig = domain::builds::github::sign(secret.as_bytes(), &body);
    domain::builds::webhooks::receive(
        &p,
        project,
        domain::builds::webhooks::Delivery { event: "push", delivery_id: "bench", signature: Some(&sig), body: &body },
    )
    .await
    .expect("webhook");
    let build = loop {
        let builds = domain::builds::grid::page_builds(&p, &actor, project, Default::default()).await.unwrap();
        if let Some(b) = builds.into_iter().find(|b| b.state == domain::types::BuildState::Done) {
            assert!(b.live, "the production build failed: {:?}", b.reason);
            break b;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let db = build.db_name.clone().expect("production database");

    // A few hundred MB of data and a filestore of 200 files.
    let mut c = sqlx::PgConnection::connect_with(&infra.databases.owner_options(&db)).await.unwrap();
    let t = Instant::now();
    sqlx::query("CREATE TABLE res_partner_bench AS SELECT g AS id, md5(g::text) AS name, repeat(md5(g::text), 7) AS comment FROM generate_series(1, $1) g")
        .bind(rows)
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE res_partner_bench ADD PRIMARY KEY (id)").execute(&mut c).await.unwrap();
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(&mut c).await.unwrap();
    c.close().await.unwrap();
    let store = infra.filestore_dir.join(&db);
    for i in 0..200u32 {
        let dir = store.join(format!("{:02x}", i % 256));
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<u8> = (0..20_000u32).map(|j| (j.wrapping_mul(i + 7) >> 3) as u8).collect();
        std::fs::write(dir.join(format!("{i:08x}")), data).unwrap();
    }
    let mb = size as f64 / 1_000_000.0;
    println!("generated {mb:.0} MB in {:.1} s", t.elapsed().as_secs_f64());

    // Floor: pg_dump -Fc to a file, then pg_restore into an empty database.
    let bin = domain::db::embedded::find_bin_dir().unwrap();
    let raw = scratch.join("raw.dump");
    let t = Instant::now();
    let out = std::process::Command::new(bin.join("pg_dump"))
        .args(["--format=custom", "--no-owner", "--no-acl", "--file"])
        .arg(&raw)
        .envs(infra.databases.owner_env(&db))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw_dump = t.elapsed();
    let raw_db = format!("ob_bench_raw_{}", std::process::id());
    infra.databases.provision(&raw_db, None).await.unwrap();
    let t = Instant::now();
    let out = std::process::Command::new(bin.join("pg_restore"))
        .args(["--no-owner", "--no-acl", "--exit-on-error", "--dbname", &raw_db])
        .arg(&raw)
        .envs(infra.databases.owner_env(&raw_db))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw_restore = t.elapsed();
    infra.databases.drop(&raw_db, &raw_db).await.unwrap();

    // OdooOps: a backup job (as the worker runs it), then the restore's load.
    let id = uuid::Uuid::new_v4();
    let mut tx = p.db.begin_as(SYSTEM_USER).await.unwrap();
    sqlx::query(
        "INSERT INTO ops.backups (id, tenant_id, project_id, env_id, kind, state, worker, started_at)
         SELECT $1, tenant_id, project_id, id, 'manual', 'running', 'bench', now() FROM ops.environments WHERE id = $2",
    )
    .bind(id)
    .bind(build.env_id)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let t = Instant::now();
    domain::backups::jobs::run(&p, &infra, id).await.expect("backup");
    let ours_backup = t.elapsed();
    let ours_db = format!("ob_bench_ours_{}", std::process::id());
    infra.databases.provision(&ours_db, None).await.unwrap();
    let files = scratch.join("restored-filestore");
    let t = Instant::now();
    domain::backups::restore::load(&p, &infra, id, &ours_db, &files, &|_| {}).await.expect("restore");
    let ours_restore = t.elapsed();
    infra.databases.drop(&ours_db, &ours_db).await.unwrap();

    let rate = |d: Duration| mb / d.as_secs_f64();
    println!("raw pg_dump -Fc:      {:.2} s  {:.1} MB/s", raw_dump.as_secs_f64(), rate(raw_dump));
    println!(
        "OdooOps backup (zip): {:.2} s  {:.1} MB/s  ratio {:.2}x of raw throughput",
        ours_backup.as_secs_f64(),
        rate(ours_backup),
        raw_dump.as_secs_f64() / ours_backup.as_secs_f64()
    );
    println!("raw pg_restore:       {:.2} s  {:.1} MB/s", raw_restore.as_secs_f64(), rate(raw_restore));
    println!(
        "OdooOps restore:      {:.2} s  {:.1} MB/s  ratio {:.2}x of raw throughput",
        ours_restore.as_secs_f64(),
        rate(ours_restore),
        raw_restore.as_secs_f64() / ours_restore.as_secs_f64()
    );
    for b in domain::builds::grid::page_builds(&p, &actor, project, Default::default()).await.unwrap() {
        domain::builds::lifecycle::teardown(&p, &infra, b.id).await.ok();
    }
    infra.databases.drop(&db, &db).await.ok();
    std::fs::remove_dir_all(&scratch).ok();
}

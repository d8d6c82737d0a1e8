//! Filestores are the tenant's to change (SEC-05): production's containers
//! can plant links in them, to host files and to host directories. Neither a
//! backup nor a staging copy may then carry, or hard-link, a host file.

use crate::backups::production;
use crate::helpers::{spawn_app_with_builds, tear_down_builds};
use crate::pipeline::{commit_file, finished, push, repository};
use std::io::Read;
use std::os::unix::fs::MetadataExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_planted_in_a_filestore_reach_no_backup_and_no_copy() {
    let app = spawn_app_with_builds().await;
    let b = app.signed_up("mallory@evil.test", "Evil").await;
    let api = app.api(&b.token().await);
    let repo = repository();
    let (project, prod, prod_db) = production(&app, &api, &repo, "Planted").await;
    let infra = app.platform.builds.as_ref().unwrap();

    // A host directory with a secret, on the same filesystem as the filestores (so a hard link would work).
    let host = infra.filestore_dir.parent().unwrap().join(format!("host-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&host).unwrap();
    let secret = host.join("secret");
    std::fs::write(&secret, "the host's secret").unwrap();
    let store = infra.filestore_dir.join(&prod_db);
    std::fs::create_dir_all(store.join("aa")).unwrap();
    std::os::unix::fs::symlink(&secret, store.join("aa/leak")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", store.join("aa/hostname")).unwrap();
    std::os::unix::fs::symlink(&host, store.join("zz")).unwrap();

    let env = prod["env_id"].as_str().unwrap();
    let id = super::support::backup_now(&api, env).await;
    let zip = crate::backups::download(&api, &id, true).await;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let names: Vec<String> = archive.file_names().map(str::to_owned).collect();
    assert!(names.iter().any(|n| n == "filestore/7f/7f00aa11bb22"), "the real attachment is there: {names:?}");
    for name in &names {
        assert!(!name.contains("leak") && !name.contains("hostname") && !name.starts_with("filestore/zz"), "{names:?}");
    }
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut content = Vec::new();
        f.read_to_end(&mut content).unwrap();
        assert!(!String::from_utf8_lossy(&content).contains("the host's secret"), "{} carries it", f.name());
    }

    // A staging copy of production: links are not copied, nothing is hard-linked through them.
    let sha = commit_file(&repo, "release/1", "R.md", "r\n", "Release");
    push(&app, &api, &project, "release/1", &sha).await;
    let staging = finished(&api, &project, &sha).await;
    assert_eq!(staging["result"], "ok", "{staging}");
    let copy = infra.filestore_dir.join(staging["db_name"].as_str().unwrap());
    assert!(copy.join("7f/7f00aa11bb22").is_file());
    for planted in ["aa/leak", "aa/hostname", "zz"] {
        assert!(std::fs::symlink_metadata(copy.join(planted)).is_err(), "{planted} was copied");
    }
    assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1, "the host file was hard-linked");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "the host's secret");
    std::fs::remove_dir_all(&host).ok();
    tear_down_builds(&app).await;
}

//! Backups and restores. A backup is Odoo's own backup zip (`dump.sql`,
//! `filestore/`, `manifest.json`) plus an OdooOps manifest, written by a job,
//! checksummed, kept in a [`store::BackupStore`] and pruned
//! grandfather-father-son. A restore is a build that loads a backup instead
//! of copying production (see `builds::pipeline`), so it is logged, health
//! checked and, when it fails, leaves the serving build alone.

pub mod approvals;
pub mod archive;
pub mod download;
pub mod drill;
pub mod jobs;
pub mod restore;
pub mod restricted;
pub mod retention;
pub mod schedule;
pub mod settings;
pub mod store;
pub mod uploads;

use std::path::PathBuf;
use std::sync::Arc;

/// Where backups are written and kept, and how big an import may be.
#[derive(Clone)]
pub struct BackupInfra {
    pub store: Arc<dyn store::BackupStore>,
    /// Local scratch space: archives being written, downloads, imports.
    pub scratch: PathBuf,
    pub limits: archive::Limits,
    /// Import uploads in flight, per tenant.
    pub uploads: Arc<uploads::UploadSlots>,
}

impl BackupInfra {
    /// Backups kept below `root` (`store/`), written in `root/scratch`.
    pub fn local(root: &std::path::Path) -> anyhow::Result<Self> {
        Self::with_store(root, Arc::new(store::LocalStore::new(root.join("store"))?))
    }

    pub fn with_store(root: &std::path::Path, store: Arc<dyn store::BackupStore>) -> anyhow::Result<Self> {
        let scratch = root.join("scratch");
        std::fs::create_dir_all(&scratch)?;
        Ok(BackupInfra {
            store,
            scratch,
            limits: archive::Limits::default(),
            uploads: uploads::UploadSlots::new(uploads::PER_TENANT),
        })
    }
}

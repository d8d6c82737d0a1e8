//! The upgrade advisor in the pipeline (see `crate::upgrades`): a preview
//! runs the target series' image with `-u all` on the neutralized copy,
//! measured before and after with the migration's duration; an approved
//! upgrade deploys the preview's image to production with `-u all` (the
//! promotion takes the backup first and rolls back to it on failure).

use super::{Facts, Run};
use crate::builds::infra::DbGrant;
use std::time::Instant;

impl Run<'_> {
    /// The target series of this build's preview or approved upgrade (none for other builds).
    pub(super) async fn upgrade_target(&self) -> anyhow::Result<Option<String>> {
        let mut tx = self.p.db.begin_as(crate::builds::queue::SYSTEM_USER).await?;
        let series: Option<String> = sqlx::query_scalar(
            "SELECT target_series FROM ops.upgrade_previews WHERE build_id = $1
             UNION ALL
             SELECT v.target_series FROM ops.builds b JOIN ops.promotions pr ON pr.id = b.promotion_id
               JOIN ops.upgrade_previews v ON v.id = pr.upgrade_preview
              WHERE b.id = $1 AND b.trigger = 'promote'
             LIMIT 1",
        )
        .bind(self.b.id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(series)
    }

    /// `-u all` and the tests on the copy, measured before and after.
    pub(super) async fn upgrade_install(
        &mut self,
        image: &str,
        grant: &DbGrant,
        addons: &[String],
        smtp: &[String],
        facts: &Facts,
    ) -> anyhow::Result<()> {
        let owner = self.infra.db(&grant.database).owner_options(&grant.database);
        let before = crate::upgrades::measure(&owner).await?;
        self.log.info(
            "install",
            format!(
                "upgrade preview: {} module(s) installed, {:.1} MB before the migration",
                before.modules.len(),
                before.size as f64 / 1_048_576.0
            ),
        );
        let started = Instant::now();
        let ran = self.install(image, grant, &["all".to_owned()], false, true, smtp, facts).await;
        let ms = started.elapsed().as_millis() as i64;
        let after = crate::upgrades::measure(&owner).await.ok();
        crate::upgrades::record_run(self.p, self.b.id, &before, after.as_ref(), ms, addons).await?;
        ran
    }
}

//! Promotions as people read them: one, or a project's newest, each saying
//! whether the reader may approve it (release rights, not the requester,
//! not approved yet).

use crate::auth::Actor;
use crate::error::{DomainError, DomainResult};
use crate::platform::Platform;
use crate::wire::PromotionView;
use sqlx::Row;
use uuid::Uuid;

const VIEW_SQL: &str = "SELECT pr.id, pr.project_id, pr.source_build, b.seq AS source_number, pr.commit_sha, pr.image_digest,
        pr.state, u.email AS requested_by, pr.requested_by AS requester_id, pr.required, pr.deploy_build,
        pr.rollback_build, pr.reason, pr.created_at, pr.finished_at, pr.candidate, pr.pushed_by,
        ARRAY(SELECT au.email FROM ops.promotion_approvals a JOIN ops.users au ON au.id = a.user_id
               WHERE a.promotion_id = pr.id ORDER BY a.approved_at) AS approvals,
        EXISTS (SELECT 1 FROM ops.promotion_approvals a WHERE a.promotion_id = pr.id AND a.user_id = ops.current_user_id()) AS approved_by_me,
        (ops.is_platform_admin() OR ops.my_project_role(pr.project_id) IN ('admin', 'release_manager')) AS release_rights
   FROM ops.promotions pr JOIN ops.builds b ON b.id = pr.source_build JOIN ops.users u ON u.id = pr.requested_by";

fn view(r: &sqlx::postgres::PgRow, me: Uuid) -> PromotionView {
    let state: String = r.get("state");
    PromotionView {
        id: r.get("id"),
        project_id: r.get("project_id"),
        source_build: r.get("source_build"),
        source_number: r.get("source_number"),
        commit_sha: r.get("commit_sha"),
        image_digest: r.get("image_digest"),
        may_approve: state == "requested"
            && r.get::<bool, _>("release_rights")
            && !r.get::<bool, _>("approved_by_me")
            && r.get::<Uuid, _>("requester_id") != me,
        may_withdraw: state == "requested" && r.get::<Uuid, _>("requester_id") == me,
        state,
        requested_by: r.get("requested_by"),
        approvals: r.get("approvals"),
        required: r.get("required"),
        deploy_build: r.get("deploy_build"),
        rollback_build: r.get("rollback_build"),
        reason: r.get("reason"),
        created_at: r.get("created_at"),
        finished_at: r.get("finished_at"),
        candidate: r.get("candidate"),
        pushed_by: r.get("pushed_by"),
    }
}

/// One promotion (its project's members).
pub async fn get(p: &Platform, actor: &Actor, id: Uuid) -> DomainResult<PromotionView> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let r = sqlx::query(&format!("{VIEW_SQL} WHERE pr.id = $1"))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DomainError::NotFound("promotion"))?;
    tx.commit().await?;
    Ok(view(&r, actor.user_id.0))
}

/// A project's promotions, newest first.
pub async fn list(p: &Platform, actor: &Actor, project: Uuid) -> DomainResult<Vec<PromotionView>> {
    let mut tx = p.db.begin_as(actor.user_id).await?;
    let rows = sqlx::query(&format!("{VIEW_SQL} WHERE pr.project_id = $1 ORDER BY pr.created_at DESC LIMIT 50"))
        .bind(project)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(|r| view(r, actor.user_id.0)).collect())
}

//! The tenant wizard: drafts on the server (start, resume, save a step,
//! discard), live checks (slug availability, the modules' closure), the SSO
//! issuer's Test, and Create. Each authenticates and calls `domain::wizard`.

use crate::error::AppError;
use domain::types::{Closure, DraftData, WizardStep};
use domain::wire::{DraftView, InstanceView, SsoFound, StepSaved};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// A new draft (platform owners and operators).
#[server(prefix = "/rpc", endpoint = "wizard/start")]
pub async fn start_draft() -> Result<DraftView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::start(&ssr::platform()?, &actor).await?)
}

/// The caller's draft.
#[server(prefix = "/rpc", endpoint = "wizard/get")]
pub async fn get_draft(id: uuid::Uuid) -> Result<DraftView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::get(&ssr::platform()?, &actor, id).await?)
}

/// The caller's open drafts.
#[server(prefix = "/rpc", endpoint = "wizard/list")]
pub async fn list_drafts() -> Result<Vec<DraftView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::list(&ssr::platform()?, &actor).await?)
}

/// Stores a step as typed and answers what is still wrong with it. The SSO
/// client secret, when given, is sealed on the server and never sent back.
#[server(prefix = "/rpc", endpoint = "wizard/save", input = Json)]
pub async fn save_step(
    id: uuid::Uuid,
    step: WizardStep,
    data: DraftData,
    sso_secret: Option<String>,
) -> Result<StepSaved, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::save(&ssr::platform()?, &actor, id, step, data, sso_secret).await?)
}

/// Forgets a draft.
#[server(prefix = "/rpc", endpoint = "wizard/discard")]
pub async fn discard_draft(id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::discard(&ssr::platform()?, &actor, id).await?)
}

/// Whether a tenant slug is free.
#[server(prefix = "/rpc", endpoint = "wizard/slug")]
pub async fn slug_available(slug: String) -> Result<bool, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::slug_available(&ssr::platform()?, &actor, &slug).await?)
}

/// The closure of some bundles and modules for a series.
#[server(prefix = "/rpc", endpoint = "wizard/closure", input = Json)]
pub async fn wizard_closure(series: String, bundles: Vec<uuid::Uuid>, modules: String) -> Result<Closure, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::preview_closure(&ssr::platform()?, &actor, &series, &bundles, &modules).await?)
}

/// Fetches the draft's issuer's discovery document.
#[server(prefix = "/rpc", endpoint = "wizard/test_sso")]
pub async fn test_sso(id: uuid::Uuid) -> Result<SsoFound, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::sso::test(&ssr::platform()?, &actor, id).await?)
}

/// Makes the tenant and its first instance.
#[server(prefix = "/rpc", endpoint = "wizard/create")]
pub async fn create_from_draft(id: uuid::Uuid, admin_password: String) -> Result<InstanceView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::wizard::create(&ssr::platform()?, &actor, id, admin_password).await?)
}

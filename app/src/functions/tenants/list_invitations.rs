use crate::error::AppError;
use domain::wire::Invitation;
use leptos::prelude::*;

/// The signed-in user's pending invitations into tenants.
#[server(prefix = "/rpc", endpoint = "tenants/invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::invitations(&ssr::platform()?, &actor).await?)
}

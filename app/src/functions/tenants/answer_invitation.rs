use crate::error::AppError;
use leptos::prelude::*;

/// Accepts (joins the tenant) or declines one of the user's invitations.
#[server(prefix = "/rpc", endpoint = "tenants/answer_invitation")]
pub async fn answer_invitation(id: uuid::Uuid, accept: bool) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::answer(&ssr::platform()?, &actor, id, accept).await?)
}

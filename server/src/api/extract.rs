//! Extractors of the REST API: the authenticated caller, JSON bodies and path
//! parameters whose rejections become [`ApiError`]s.

use super::error::ApiError;
use app::functions::ssr::RequestAuth;
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use domain::auth::Actor;

/// The caller, authenticated by the middleware (bearer token or session cookie).
pub struct ApiActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<RequestAuth>()
            .and_then(|a| a.actor.clone())
            .map(ApiActor)
            .ok_or_else(|| ApiError::unauthenticated("send `Authorization: Bearer <personal access token>`"))
    }
}

#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

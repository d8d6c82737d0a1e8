//! `GET /api/health`: whether the database answers, and whether Docker does.

use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::Health;

/// Health of the console. `status` is `fail` (HTTP 503) when the database does not answer;
/// Docker being absent only limits features.
#[utoipa::path(get, path = "/api/health", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    let p = &state.platform;
    let (db_ok, docker) = tokio::join!(p.db.ping(), p.runtime.ping());
    let health = Health {
        status: if db_ok { "pass" } else { "fail" }.into(),
        database: if db_ok { "pass".into() } else { "fail: the control-plane database does not answer".into() },
        docker: match docker {
            Ok(_) => "pass".into(),
            Err(why) => why,
        },
    };
    let code = if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, axum::Json(health))
}

//! The first platform owner's one-time setup token.
//!
//! Why: on a fresh installation the first account becomes platform owner. If
//! sign-up alone decided that, whoever reaches a new console first (a drive-by
//! page through DNS rebinding, anyone on the network) would own it. So while
//! no account exists, the console prints a one-time token in its log at start;
//! the first sign-up must present it. Only its SHA-256 is stored (owner-only
//! schema), and `ops.auth_sign_up` consumes it under the lock that decides who
//! is first. `odooops admin create-owner` remains the other way in.

use crate::auth::{random_token, token_hash};
use crate::db::Db;

/// Where the token's hash lives in `ops_private.settings`.
pub(crate) const SETTING: &str = "setup_token_sha256";

/// SQLSTATE `ops.auth_sign_up` raises when the first account's token is missing or wrong.
pub const SQLSTATE_NEEDS_SETUP_TOKEN: &str = "OO001";

/// While nobody has an account, replaces any earlier setup token with a new
/// one and returns it, for the caller to print. `None` once an account exists
/// (and any leftover token is dropped).
pub async fn issue(db: &Db) -> anyhow::Result<Option<String>> {
    let mut tx = db.owner().begin().await?;
    sqlx::query("LOCK TABLE ops.users IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    let empty: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM ops.users WHERE id <> $1)")
        .bind(crate::builds::queue::SYSTEM_USER.0)
        .fetch_one(&mut *tx)
        .await?;
    if !empty {
        sqlx::query("DELETE FROM ops_private.settings WHERE key = $1").bind(SETTING).execute(&mut *tx).await?;
        tx.commit().await?;
        return Ok(None);
    }
    let token = random_token(24);
    sqlx::query(
        "INSERT INTO ops_private.settings (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind(SETTING)
    .bind(hex::encode(token_hash(&token)))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(token))
}

/// The line the console logs with a new token: where to use it, and the alternative.
pub fn log_line(public_url: &str, token: &str) -> String {
    format!(
        "no account exists yet: the first account becomes platform owner and needs this one-time setup token. \
         Sign up at {public_url}/sign-up?setup_token={token} (or run `odooops admin create-owner`). \
         A restart replaces the token."
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_line_carries_a_ready_link() {
        let line = super::log_line("http://127.0.0.1:3000", "abc_-9");
        assert!(line.contains("http://127.0.0.1:3000/sign-up?setup_token=abc_-9 "), "{line}");
        assert!(line.contains("odooops admin create-owner"));
    }
}

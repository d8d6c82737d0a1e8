//! GitHub webhooks: signature check over the raw body, then parsing of the
//! events OdooOps acts on (`ping`, `push`, `pull_request`).
//!
//! The signature is checked before anything is parsed or stored: a request
//! whose `X-Hub-Signature-256` is missing or wrong is refused as a whole.

use crate::types::BranchName;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 must look like sha256=<64 hex digits>")]
    Malformed,
    #[error("signature does not match the webhook secret")]
    Mismatch,
}

/// Checks `sha256=<hex>` against HMAC-SHA256(secret, body), in constant time.
pub fn verify_signature(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_sig = header.trim().strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let sig = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    if sig.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

/// The signature GitHub would send for `body` (tests and the CLI use it).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A commit as a webhook describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub sha: String,
    pub subject: String,
    pub author: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    Ping,
    /// A branch was created or moved.
    BranchUpdated {
        branch: BranchName,
        commit: CommitInfo,
        forced: bool,
        /// The email of whoever pushed (GitHub's `pusher`), when given: a
        /// production candidate's promotion is then theirs, and they cannot approve it.
        pusher: Option<String>,
    },
    BranchDeleted {
        branch: BranchName,
    },
    /// A PR head to build (opened, synchronize, reopened).
    PullRequestHead {
        number: u64,
        branch: BranchName,
        sha: String,
        from_fork: bool,
        title: String,
        author: String,
    },
    PullRequestClosed {
        number: u64,
        branch: BranchName,
        from_fork: bool,
    },
    /// Something we acknowledge and do not act on (tags, other events, other PR actions).
    Ignored(String),
}

#[derive(Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    forced: bool,
    head_commit: Option<HeadCommit>,
    pusher: Option<Pusher>,
}

#[derive(Deserialize)]
struct Pusher {
    email: Option<String>,
}

#[derive(Deserialize)]
struct HeadCommit {
    id: String,
    #[serde(default)]
    message: String,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct Person {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct PullRequestEvent {
    action: String,
    number: u64,
    pull_request: PullRequest,
}

#[derive(Deserialize)]
struct PullRequest {
    #[serde(default)]
    title: String,
    head: PrRef,
    base: PrRef,
    user: Option<Login>,
}

#[derive(Deserialize)]
struct PrRef {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    repo: Option<Repo>,
}

#[derive(Deserialize)]
struct Repo {
    full_name: String,
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

/// Parses a verified webhook body. Errors are for malformed payloads.
pub fn parse_event(event: &str, body: &[u8]) -> Result<WebhookEvent, String> {
    match event {
        "ping" => Ok(WebhookEvent::Ping),
        "push" => {
            let p: Push = serde_json::from_slice(body).map_err(|e| format!("push payload: {e}"))?;
            let Some(branch) = BranchName::from_ref(&p.git_ref) else {
                return Ok(WebhookEvent::Ignored(format!("push to {}", p.git_ref)));
            };
            let branch = branch.map_err(|e| e.to_string())?;
            if p.deleted || p.after.bytes().all(|b| b == b'0') {
                return Ok(WebhookEvent::BranchDeleted { branch });
            }
            check_sha(&p.after)?;
            let (subject, author) = match p.head_commit {
                Some(c) if c.id == p.after => (
                    c.message.lines().next().unwrap_or_default().to_owned(),
                    c.author.map(|a| a.name).unwrap_or_default(),
                ),
                _ => (String::new(), String::new()),
            };
            Ok(WebhookEvent::BranchUpdated {
                branch,
                commit: CommitInfo { sha: p.after, subject, author },
                forced: p.forced,
                pusher: p.pusher.and_then(|u| u.email).map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()),
            })
        }
        "pull_request" => {
            let e: PullRequestEvent = serde_json::from_slice(body).map_err(|e| format!("pull_request payload: {e}"))?;
            let pr = e.pull_request;
            let branch = BranchName::parse(&pr.head.git_ref).map_err(|e| e.to_string())?;
            let name = |r: &Option<Repo>| r.as_ref().map(|r| r.full_name.clone());
            let from_fork = name(&pr.head.repo) != name(&pr.base.repo);
            match e.action.as_str() {
                "opened" | "synchronize" | "reopened" => {
                    check_sha(&pr.head.sha)?;
                    Ok(WebhookEvent::PullRequestHead {
                        number: e.number,
                        branch,
                        sha: pr.head.sha,
                        from_fork,
                        title: pr.title,
                        author: pr.user.map(|u| u.login).unwrap_or_default(),
                    })
                }
                "closed" => Ok(WebhookEvent::PullRequestClosed { number: e.number, branch, from_fork }),
                other => Ok(WebhookEvent::Ignored(format!("pull_request {other}"))),
            }
        }
        other => Ok(WebhookEvent::Ignored(other.to_owned())),
    }
}

fn check_sha(sha: &str) -> Result<(), String> {
    if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!("`{sha}` is not a commit sha"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn signatures() {
        let body = br#"{"zen":"hi"}"#;
        let good = sign(b"s3cret", body);
        assert_eq!(verify_signature(b"s3cret", body, Some(&good)), Ok(()));
        assert_eq!(verify_signature(b"other", body, Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"s3cret", b"tampered", Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature(b"s3cret", body, None), Err(SignatureError::Missing));
        assert_eq!(verify_signature(b"s3cret", body, Some("sha1=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(b"s3cret", body, Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature(b"s3cret", body, Some("sha256=abcd")), Err(SignatureError::Malformed));
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256 of "Hello, World!" with "It's a Secret to Everybody" (GitHub's documented example).
        assert_eq!(
            sign(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn push_events() {
        let body = format!(
            r#"{{"ref":"refs/heads/feature/x","before":"{z}","after":"{SHA}","created":true,"deleted":false,"forced":false,
               "head_commit":{{"id":"{SHA}","message":"Add thing\n\nbody","author":{{"name":"Ann"}}}}}}"#,
            z = "0".repeat(40)
        );
        match parse_event("push", body.as_bytes()).unwrap() {
            WebhookEvent::BranchUpdated { branch, commit, .. } => {
                assert_eq!(branch.as_str(), "feature/x");
                assert_eq!(commit, CommitInfo { sha: SHA.into(), subject: "Add thing".into(), author: "Ann".into() });
            }
            other => panic!("{other:?}"),
        }
        let del = format!(r#"{{"ref":"refs/heads/old","after":"{}","deleted":true}}"#, "0".repeat(40));
        assert_eq!(
            parse_event("push", del.as_bytes()).unwrap(),
            WebhookEvent::BranchDeleted { branch: BranchName::parse("old").unwrap() }
        );
        let tag = format!(r#"{{"ref":"refs/tags/v1","after":"{SHA}"}}"#);
        assert!(matches!(parse_event("push", tag.as_bytes()).unwrap(), WebhookEvent::Ignored(_)));
    }

    #[test]
    fn pull_requests() {
        let pr = |action: &str, head_repo: &str| {
            format!(
                r#"{{"action":"{action}","number":7,"pull_request":{{"title":"T","user":{{"login":"bob"}},
                 "head":{{"ref":"fix","sha":"{SHA}","repo":{{"full_name":"{head_repo}"}}}},
                 "base":{{"ref":"main","sha":"{SHA}","repo":{{"full_name":"acme/addons"}}}}}}}}"#
            )
        };
        match parse_event("pull_request", pr("opened", "acme/addons").as_bytes()).unwrap() {
            WebhookEvent::PullRequestHead { number, from_fork, author, .. } => {
                assert_eq!((number, from_fork, author.as_str()), (7, false, "bob"))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_event("pull_request", pr("synchronize", "evil/fork").as_bytes()).unwrap(),
            WebhookEvent::PullRequestHead { from_fork: true, .. }
        ));
        assert!(matches!(
            parse_event("pull_request", pr("closed", "acme/addons").as_bytes()).unwrap(),
            WebhookEvent::PullRequestClosed { number: 7, .. }
        ));
        assert!(matches!(
            parse_event("pull_request", pr("labeled", "acme/addons").as_bytes()).unwrap(),
            WebhookEvent::Ignored(_)
        ));
    }

    #[test]
    fn malformed_payloads_are_errors_not_panics() {
        assert!(parse_event("push", b"{not json").is_err());
        assert!(parse_event("push", br#"{"ref":"refs/heads/x","after":"nothex"}"#).is_err());
        assert!(parse_event("push", br#"{"ref":"refs/heads/a b","after":"0"}"#).is_err());
        assert!(parse_event("pull_request", br#"{"action":"opened"}"#).is_err());
        assert_eq!(parse_event("issues", b"{}").unwrap(), WebhookEvent::Ignored("issues".into()));
    }
}

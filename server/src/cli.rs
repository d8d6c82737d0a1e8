//! The command line: `odooops` (serve), `odooops admin create-owner`,
//! `odooops admin audit-verify`, `odooops admin migrate`; and the clients of
//! a running console's REST API, authenticated by a token: `login`,
//! `logout`, `whoami` ([`crate::client`]), `rollback`, `upgrade preview|start`.

use crate::config::ServeConfig;
use crate::startup;
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::Read;

#[derive(Debug, Parser)]
#[command(name = "odooops", version, about = "Self-hosted platform console for Odoo")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeConfig,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the console (the default).
    Serve,
    /// Store a console's address and a personal access token (checked first) for the other commands.
    ///
    /// The token is read from `--token`, or from standard input (a prompt on a terminal):
    ///   odooops login https://ops.example.com
    ///   echo "$TOKEN" | odooops login https://ops.example.com
    /// CI sets ODOOOPS_URL and ODOOOPS_TOKEN instead, which override the stored login.
    Login {
        /// The console, e.g. `https://ops.example.com`.
        url: String,
        #[arg(long, hide_env_values = true)]
        token: Option<String>,
    },
    /// Forget the stored login.
    Logout,
    /// Who the token belongs to: e-mail, platform role, tenants.
    Whoami {
        /// The answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Administer the installation (uses the owner connection).
    #[command(subcommand)]
    Admin(Admin),
    /// Roll production back to an earlier production build, through a console's API.
    Rollback {
        /// The console, e.g. `https://ops.example.com`.
        #[arg(long, env = "ODOOOPS_URL")]
        url: String,
        /// A personal access token of a project admin.
        #[arg(long, env = "ODOOOPS_TOKEN", hide_env_values = true)]
        token: String,
        /// The project's id.
        #[arg(long)]
        project: uuid::Uuid,
        /// The earlier production build to redeploy.
        #[arg(long)]
        build: uuid::Uuid,
        /// Also restore this backup of production (otherwise the database is kept).
        #[arg(long)]
        restore_backup: Option<uuid::Uuid>,
    },
    /// Preview production on a newer Odoo series, or ask to upgrade it with a preview, through a console's API.
    Upgrade {
        /// The console, e.g. `https://ops.example.com`.
        #[arg(long, env = "ODOOOPS_URL", global = true, default_value = "")]
        url: String,
        /// A personal access token of a project admin.
        #[arg(long, env = "ODOOOPS_TOKEN", hide_env_values = true, global = true, default_value = "")]
        token: String,
        #[command(subcommand)]
        action: Upgrade,
    },
}

#[derive(Debug, Subcommand)]
pub enum Upgrade {
    /// Start a preview: production's neutralized copy on the target series, `-u all`, the tests.
    /// With `--wait`, follow it and exit 0 when not blocked, 1 when blocked.
    Preview {
        #[arg(long)]
        project: uuid::Uuid,
        /// The series to upgrade to, e.g. `18.0`.
        #[arg(long)]
        target: String,
        /// The project's branch for that series (default: the production branch).
        #[arg(long)]
        branch: Option<String>,
        #[arg(long)]
        wait: bool,
    },
    /// Ask to upgrade production with a finished preview; someone else approves it under Promotions.
    Start {
        #[arg(long)]
        preview: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum Admin {
    /// Create a platform owner, or promote an existing account. Reads the password from stdin.
    CreateOwner {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Recompute the audit trail's hash chain and report the first tampered event.
    AuditVerify,
    /// Run database migrations and exit.
    Migrate,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(cli.serve).await,
        Command::Login { url, token } => Ok(crate::client::account::login(&url, token).await?),
        Command::Logout => Ok(crate::client::account::logout()?),
        Command::Whoami { json } => Ok(crate::client::account::whoami(json).await?),
        Command::Rollback { url, token, project, build, restore_backup } => {
            let r = reqwest::Client::new()
                .post(format!("{}/api/v1/projects/{project}/rollback", url.trim_end_matches('/')))
                .bearer_auth(token)
                .json(&domain::wire::RollbackRequest { build_id: build, restore_backup })
                .send()
                .await
                .context("reaching the console")?;
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            if !status.is_success() {
                bail!("the console refused ({status}): {}", body["message"].as_str().unwrap_or("no reason given"));
            }
            println!("rollback queued: build {}", body["build_id"].as_str().unwrap_or_default());
            Ok(())
        }
        Command::Upgrade { url, token, action } => upgrade(&url, &token, action).await,
        Command::Admin(admin) => {
            let db = startup::Database::open(&cli.serve, None).await?;
            let res = run_admin(admin, &db).await;
            db.shutdown().await;
            res
        }
    }
}

async fn run_admin(admin: Admin, db: &startup::Database) -> anyhow::Result<()> {
    match admin {
        Admin::Migrate => {
            println!("database is migrated");
            Ok(())
        }
        Admin::CreateOwner { email, name } => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password).context("reading the password from stdin")?;
            let password = password.trim_end_matches(['\n', '\r']);
            let outcome = domain::accounts::create_owner(db.db.owner(), &email, password, &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("platform owner {email} {outcome}");
            Ok(())
        }
        Admin::AuditVerify => match domain::audit::verify(db.db.owner()).await? {
            domain::audit::ChainReport::Intact { events } => {
                println!("audit trail intact: {events} events");
                Ok(())
            }
            domain::audit::ChainReport::BrokenAt { id, reason } => bail!("audit trail broken at event {id}: {reason}"),
        },
    }
}

/// `odooops upgrade …`: the upgrade advisor over the REST API.
async fn upgrade(url: &str, token: &str, action: Upgrade) -> anyhow::Result<()> {
    if url.is_empty() || token.is_empty() {
        bail!("give the console's --url and a --token (or ODOOOPS_URL and ODOOOPS_TOKEN)");
    }
    let base = url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let answer = |r: reqwest::Response| async move {
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("the console refused ({status}): {}", body["message"].as_str().unwrap_or("no reason given"));
        }
        Ok(body)
    };
    match action {
        Upgrade::Preview { project, target, branch, wait } => {
            let started = answer(
                http.post(format!("{base}/api/v1/projects/{project}/upgrade-previews"))
                    .bearer_auth(token)
                    .json(&domain::wire::NewPreview { target_series: target, branch })
                    .send()
                    .await
                    .context("reaching the console")?,
            )
            .await?;
            let id = started["id"].as_str().unwrap_or_default().to_owned();
            println!("preview {id} started: build {}", started["build_id"].as_str().unwrap_or_default());
            if !wait {
                return Ok(());
            }
            loop {
                let v = answer(
                    http.get(format!("{base}/api/v1/upgrade-previews/{id}"))
                        .bearer_auth(token)
                        .send()
                        .await
                        .context("reaching the console")?,
                )
                .await?;
                if v["state"] != "running" {
                    println!(
                        "preview {id}: {} (risk {})",
                        v["state"].as_str().unwrap_or("?"),
                        v["risk"].as_str().unwrap_or("?")
                    );
                    for b in v["blockers"].as_array().into_iter().flatten() {
                        println!("  blocker: {}", b.as_str().unwrap_or_default());
                    }
                    if v["risk"] == "blocked" {
                        bail!("the upgrade is blocked");
                    }
                    return Ok(());
                }
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            }
        }
        Upgrade::Start { preview } => {
            let pr = answer(
                http.post(format!("{base}/api/v1/upgrade-previews/{preview}/upgrade"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .context("reaching the console")?,
            )
            .await?;
            println!("upgrade requested: promotion {} waits for approval", pr["id"].as_str().unwrap_or_default());
            Ok(())
        }
    }
}

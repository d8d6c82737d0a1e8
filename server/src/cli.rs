//! The command line: `odooops` (serve), `odooops admin create-owner`,
//! `odooops admin audit-verify`, `odooops admin migrate`, and `odooops rollback`
//! (a client of a running console's REST API, authenticated by a token).

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

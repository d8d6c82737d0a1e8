//! The command line: `odooops` (serve), `odooops admin create-owner`,
//! `odooops admin audit-verify`, `odooops admin migrate`.

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

//! The command line: `odooops` (serve), `odooops admin create-owner`,
//! `odooops admin audit-verify`, `odooops admin migrate`, `login`, `logout`
//! and `whoami` are declared here; every other command is a client of a
//! console's REST API, built from its OpenAPI document by
//! [`crate::client::commands`] and added to this parser.

use crate::config::ServeConfig;
use crate::startup;
use anyhow::{bail, Context};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
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

/// Parses the whole command line (usage errors exit 2) and runs it.
pub async fn main() -> anyhow::Result<()> {
    // Serving and administering need no client commands: the console starts without building them.
    if matches!(std::env::args().nth(1).as_deref(), None | Some("serve") | Some("admin")) {
        return run(Cli::parse()).await;
    }
    let doc = crate::client::commands::document();
    let root = crate::client::commands::augment(Cli::command(), &doc);
    let m = root.clone().get_matches();
    if let Some((name, sub)) = m.subcommand() {
        if crate::client::commands::owns(name) {
            return Ok(crate::client::commands::run(root, &doc, name, sub).await?);
        }
    }
    run(Cli::from_arg_matches(&m).unwrap_or_else(|e| e.exit())).await
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(cli.serve).await,
        Command::Login { url, token } => Ok(crate::client::account::login(&url, token).await?),
        Command::Logout => Ok(crate::client::account::logout()?),
        Command::Whoami { json } => Ok(crate::client::account::whoami(json).await?),
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

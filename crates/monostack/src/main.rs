//! `monostack`: one binary for the whole cloud. `all-in-one` runs every service in one
//! process; the role subcommands run the services of one node type.

mod roles;

use clap::{Parser, Subcommand};
use monostack_common::config::Config;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "monostack", version, about = "An OpenStack cloud in one binary")]
struct Cli {
    /// Configuration file (TOML); every option also reads MONOSTACK__<SECTION>__<OPTION>.
    #[arg(long, short, global = true, env = "MONOSTACK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every service in one process (SQLite and the in-process bus by default).
    AllInOne,
    /// The controller node: API services, schedulers, conductors.
    Controller,
    /// A compute node: the compute agent and its virt driver.
    Compute,
    /// A network node: L2/DHCP/L3/metadata agents.
    Network,
    /// A storage node: the volume manager and its drivers.
    Storage,
    /// Database maintenance.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Creates the initial domain, admin, roles, service users and catalog (idempotent).
    Bootstrap,
    /// Prints every option with its default and documentation.
    Config,
    /// Identity maintenance.
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// Creates or upgrades every service's schema.
    Sync,
}

#[derive(Subcommand)]
enum IdentityCommand {
    /// Rotates the Fernet keys: staged becomes primary, a new staged key is made.
    FernetRotate,
    /// Creates the Fernet key repository if it is empty.
    FernetSetup,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("monostack: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Command::Config = cli.command {
        print!("{}", Config::render_documented());
        return std::process::ExitCode::SUCCESS;
    }
    if let Err(e) = monostack_common::logging::init(config.default.debug, config.default.log_file.as_deref()) {
        eprintln!("monostack: cannot set up logging: {e}");
        return std::process::ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("monostack: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("monostack: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Arc<Config>) -> anyhow::Result<()> {
    match command {
        Command::AllInOne => roles::all_in_one(config).await,
        Command::Controller => roles::controller(config).await,
        Command::Compute => roles::compute_node(),
        Command::Network => roles::not_yet("network", &["L2 agent", "DHCP agent", "L3 agent", "metadata agent"]),
        Command::Storage => roles::not_yet("storage", &["volume manager"]),
        Command::Db { command: DbCommand::Sync } => roles::db_sync(config).await,
        Command::Bootstrap => roles::bootstrap(config).await,
        Command::Config => Ok(()),
        Command::Identity { command } => {
            let dir = monostack_identity::key_repository(&config);
            let repo = match command {
                IdentityCommand::FernetRotate => {
                    monostack_identity::fernet::KeyRepository::rotate(&dir, config.identity.max_active_keys)?
                }
                IdentityCommand::FernetSetup => monostack_identity::fernet::KeyRepository::setup(&dir)?,
            };
            println!("key repository {}: keys {:?} (primary {})", dir.display(), repo.indexes(), repo.indexes()[0]);
            Ok(())
        }
    }
}

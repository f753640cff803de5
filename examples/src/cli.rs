//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::settings::{LogFormat, Overrides};

const AFTER_HELP: &str = "\
Settings come from, lowest precedence first: built-in defaults, a TOML file (--config or
TASKLANE_CONFIG), TASKLANE_* environment variables, then the flags above. Every key of the file
has a variable: `bind` is TASKLANE_BIND, `[http] body_limit` is TASKLANE_HTTP__BODY_LIMIT (two
underscores between a section and its key). Keys:

  bind                        address to listen on                     [127.0.0.1:8080]
  data_dir                    sled database directory                  [./tasklane-data]
  database_url                postgres:// URL; switches to PostgreSQL  [unset: sled]
  log_format                  text | json                              [text]
  log_filter                  tracing filter, e.g. info,tower_http=debug (or RUST_LOG) [info]
  registration                open | invite-only | closed              [open]
  shutdown_grace_secs         wait for requests in flight on shutdown  [30]
  [http]       body_limit (bytes) [1048576], request_timeout_secs [30],
               cors_origins (list, or comma-separated in the variable; `*` = any) [none]
  [rate_limit] enabled [true], per_token_per_minute [3000], per_token_burst [200],
               per_address_per_minute [600], per_address_burst [50]
  [login_throttle] enabled [true], max_failures_per_account [5],
               max_failures_per_address [5], window_secs [900]
  [sled]       durability = flush | periodic [flush], flush_interval_ms [100] (periodic only),
               cache_capacity_mb [128], task_cache_mb (decoded tasks, ~1 KB each; 0 = off) [96]
  [postgres]   schema [server default], max_connections [10], statement_timeout_ms [30000],
               acquire_timeout_ms [5000], log_poll_interval_ms [1000],
               record_cache_capacity (entries of each of its maps; 0 = off) [100000],
               task_cache_mb (the cache's tasks, ~1 KB each; 0 = none) [96]

A bad value is reported with its key and where it came from, and the process exits with code 2.";

/// Tasklane: a team task manager. Serves the HTTP API (the default command) on an embedded sled
/// store, or on PostgreSQL with --database-url.
#[derive(Debug, Parser)]
#[command(
    name = "tasklane",
    version,
    after_long_help = AFTER_HELP
)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// `serve`'s options, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Read settings from this TOML file (or the file named by TASKLANE_CONFIG); environment
    /// variables and flags override it
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of the embedded sled database, created when missing [env: TASKLANE_DATA_DIR]
    /// [default: ./tasklane-data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use PostgreSQL at this postgres:// URL instead of sled; pending migrations are applied at
    /// start-up [env: TASKLANE_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log lines as human-readable text or as JSON objects, on standard error
    /// [env: TASKLANE_LOG_FORMAT] [default: text]
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
}

/// Options of `serve`.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free one. The bound address is printed on
    /// standard output as `listening on http://ADDR` [env: TASKLANE_BIND]
    /// [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API until SIGTERM or Ctrl-C (the default command)
    Serve(ServeArgs),
    /// Operator tasks on the configured store (with sled, stop the server first: one process
    /// at a time may open the database)
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Manage the PostgreSQL schema (the server applies pending migrations at start-up)
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

/// `tasklane admin ...`
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an account (registration policy does not apply)
    CreateUser {
        /// The account's e-mail address
        #[arg(long)]
        email: String,
        /// The display name
        #[arg(long)]
        name: String,
        /// The password; read from standard input when absent (prompted for on a terminal)
        #[arg(long)]
        password: Option<String>,
        /// Make the account a server administrator
        #[arg(long)]
        admin: bool,
    },
    /// Set a new password for an account and sign out all its sessions and tokens
    ResetPassword {
        /// The account's e-mail address
        #[arg(long)]
        email: String,
        /// The new password; read from standard input when absent (prompted for on a terminal)
        #[arg(long)]
        password: Option<String>,
    },
    /// Write every workspace the store holds (members, projects, workflows, labels, milestones,
    /// tasks including the trash, dependencies, comments) as one JSON document
    Export {
        /// Write to this file instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// `tasklane migrate ...`
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply every pending migration
    Up,
    /// Revert the newest applied migration (or, with --to, every migration newer than VERSION);
    /// this drops tables and their data
    Down {
        /// Revert every migration newer than this version (0 reverts all)
        #[arg(long, value_name = "VERSION")]
        to: Option<i64>,
        /// Confirm that the data of the reverted migrations may be dropped
        #[arg(long)]
        yes: bool,
    },
    /// List the migrations and whether each is applied
    Status,
}

impl Cli {
    /// Parses the command line, exiting with a usage error (code 2) when it is wrong.
    pub fn parse_checked() -> Cli {
        let cli = Cli::parse();
        if let Err(e) = cli.check() {
            e.exit();
        }
        cli
    }

    /// `--bind` belongs to `serve`: before another command it is a mistake.
    fn check(&self) -> Result<(), clap::Error> {
        let other = match &self.command {
            None => return Ok(()),
            Some(Command::Serve(_)) => None,
            Some(Command::Admin(_)) => Some("admin"),
            Some(Command::Migrate(_)) => Some("migrate"),
        };
        match (other, self.serve.bind) {
            (Some(name), Some(_)) => Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                format!("--bind applies to `serve` only, not to `{name}`"),
            )),
            (None, Some(_)) => Err(Cli::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "give --bind after `serve` (tasklane serve --bind ADDR) or without a command",
            )),
            _ => Ok(()),
        }
    }

    /// The settings the flags override.
    pub fn overrides(&self) -> Overrides {
        let bind = match &self.command {
            Some(Command::Serve(args)) => args.bind,
            _ => self.serve.bind,
        };
        Overrides {
            bind: bind.map(|b| b.to_string()),
            data_dir: self.global.data_dir.clone(),
            database_url: self.global.database_url.clone(),
            log_format: self.global.log_format,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_globals_go_anywhere() {
        let cli = Cli::try_parse_from(["tasklane", "--bind", "127.0.0.1:0"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.overrides().bind.as_deref(), Some("127.0.0.1:0"));
        let cli = Cli::try_parse_from(["tasklane", "--data-dir", "x", "admin", "export"]).unwrap();
        assert_eq!(cli.overrides().data_dir, Some(PathBuf::from("x")));
        let cli = Cli::try_parse_from(["tasklane", "admin", "export", "--data-dir", "y"]).unwrap();
        assert_eq!(cli.overrides().data_dir, Some(PathBuf::from("y")));
        let cli = Cli::try_parse_from(["tasklane", "serve", "--bind", "0.0.0.0:1"]).unwrap();
        assert_eq!(cli.overrides().bind.as_deref(), Some("0.0.0.0:1"));
        assert!(Cli::try_parse_from(["tasklane", "--bind", "nope"]).is_err());
        let cli = Cli::try_parse_from(["tasklane", "--bind", "127.0.0.1:1", "admin", "export"]);
        assert!(cli.unwrap().check().is_err());
        let cli = Cli::try_parse_from(["tasklane", "--bind", "127.0.0.1:1", "serve"]);
        assert!(cli.unwrap().check().is_err());
    }
}

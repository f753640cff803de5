//! `tasklane migrate up|down|status`: the PostgreSQL schema by hand. (The sled store upgrades
//! its own schema when it is opened.)

use crate::cli::MigrateCommand;
use crate::error::Error;
use crate::settings::Settings;

/// Runs a migration command against `database_url`.
pub async fn run(command: MigrateCommand, settings: &Settings) -> Result<(), Error> {
    let Some(url) = settings.database_url.as_deref() else {
        return Err(Error::Usage(
            "migrations apply to PostgreSQL only: set --database-url or TASKLANE_DATABASE_URL \
             (the sled store upgrades its schema by itself when opened)"
                .into(),
        ));
    };
    postgres::run(command, url, settings).await
}

#[cfg(feature = "postgres")]
mod postgres {
    use tasklane_storage_postgres::{MigrationStatus, PgMigrations};

    use crate::cli::MigrateCommand;
    use crate::error::Error;
    use crate::settings::Settings;
    use crate::store::pg_config;

    pub async fn run(command: MigrateCommand, url: &str, settings: &Settings) -> Result<(), Error> {
        // Check the confirmation before connecting.
        if let MigrateCommand::Down { yes: false, .. } = command {
            return Err(Error::Usage(
                "`migrate down` drops the tables of the reverted migrations and their data; \
                 add --yes to confirm"
                    .into(),
            ));
        }
        let migrations = PgMigrations::connect(&pg_config(url, settings)).await?;
        match command {
            MigrateCommand::Up => {
                migrations.up().await?;
                print_status(&migrations.status().await?);
                Ok(())
            }
            MigrateCommand::Down { to, .. } => down(&migrations, to).await,
            MigrateCommand::Status => {
                print_status(&migrations.status().await?);
                Ok(())
            }
        }
    }

    async fn down(migrations: &PgMigrations, to: Option<i64>) -> Result<(), Error> {
        let status = migrations.status().await?;
        let applied: Vec<i64> = status
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .collect();
        let target = match to {
            Some(to) if to < 0 => {
                return Err(Error::Usage(format!(
                    "--to {to}: a migration version is 0 or more"
                )))
            }
            Some(to) => to,
            // The newest applied one goes: the target is the one below it.
            None => match applied.len() {
                0 => {
                    println!("no migration is applied; nothing to revert");
                    return Ok(());
                }
                n if n >= 2 => applied[n - 2],
                _ => 0,
            },
        };
        migrations.down_to(target).await?;
        print_status(&migrations.status().await?);
        Ok(())
    }

    fn print_status(status: &[MigrationStatus]) {
        for m in status {
            let state = match (m.applied, m.known) {
                (true, true) => "applied",
                (false, _) => "pending",
                (true, false) => "applied (unknown to this build)",
            };
            println!("{:04} {:<28} {state}", m.version, m.description);
        }
    }
}

#[cfg(not(feature = "postgres"))]
mod postgres {
    use crate::cli::MigrateCommand;
    use crate::error::Error;
    use crate::settings::Settings;

    pub async fn run(_: MigrateCommand, _: &str, _: &Settings) -> Result<(), Error> {
        Err(crate::store::no_postgres())
    }
}

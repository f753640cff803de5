//! The server's settings: defaults, then a TOML file, then `TASKLANE_*` environment variables,
//! then command-line flags, each overriding the one before (figment). A value that does not fit
//! is an error naming its key and where it came from.

use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Deserializer, Serialize};
use tasklane_core::{EngineConfig, RegistrationPolicy};
use tasklane_http::{HttpConfig, LoginThrottleConfig, RateLimitConfig};
use tasklane_storage_sled::{Durability, SledConfig};

use crate::error::Error;

/// The prefix of every environment variable the server reads.
pub const ENV_PREFIX: &str = "TASKLANE_";

/// The variable naming the configuration file when `--config` is not given.
pub const CONFIG_ENV: &str = "TASKLANE_CONFIG";

/// The top-level keys (and sections) a `TASKLANE_*` variable may set. Other `TASKLANE_*`
/// variables (`TASKLANE_CONFIG`, test harness variables, ...) are not settings and are ignored.
const KEYS: &[&str] = &[
    "bind",
    "data_dir",
    "database_url",
    "log_format",
    "log_filter",
    "registration",
    "shutdown_grace_secs",
    "http",
    "rate_limit",
    "login_throttle",
    "sled",
    "postgres",
];

/// Everything the server can be told. See `tasklane --help` and the README for each key.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Directory of the embedded sled database.
    #[serde(deserialize_with = "path_like")]
    pub data_dir: PathBuf,
    /// A `postgres://` URL; when set, the server uses PostgreSQL instead of sled.
    #[serde(deserialize_with = "optional_string_like")]
    pub database_url: Option<String>,
    /// How log lines look.
    pub log_format: LogFormat,
    /// Which log lines to write (tracing-subscriber's `EnvFilter` syntax).
    #[serde(deserialize_with = "string_like")]
    pub log_filter: String,
    /// Who may register an account.
    pub registration: Registration,
    /// How long a shutdown waits for requests in flight before giving up on them.
    pub shutdown_grace_secs: u64,
    /// The HTTP transport.
    pub http: HttpSettings,
    /// Request rate limits.
    pub rate_limit: RateLimitSettings,
    /// Throttling of failed logins.
    pub login_throttle: LoginThrottleSettings,
    /// The sled store.
    pub sled: SledSettings,
    /// The PostgreSQL store.
    pub postgres: PostgresSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./tasklane-data"),
            database_url: None,
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            registration: Registration::Open,
            shutdown_grace_secs: 30,
            http: HttpSettings::default(),
            rate_limit: RateLimitSettings::default(),
            login_throttle: LoginThrottleSettings::default(),
            sled: SledSettings::default(),
            postgres: PostgresSettings::default(),
        }
    }
}

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Who may register an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Registration {
    /// Anyone.
    Open,
    /// Only the first user; later accounts come from an administrator.
    #[serde(alias = "invite_only")]
    InviteOnly,
    /// Nobody; accounts come from `tasklane admin create-user`.
    Closed,
}

/// The `[http]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// The largest request body accepted, in bytes.
    pub body_limit: NonZeroUsize,
    /// How long a request may take before it is answered with 408, in seconds.
    pub request_timeout_secs: NonZeroU64,
    /// Origins allowed to call the API from a browser; empty disables CORS, `*` allows any.
    #[serde(deserialize_with = "list_like")]
    pub cors_origins: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        let d = HttpConfig::default();
        HttpSettings {
            body_limit: NonZeroUsize::new(d.body_limit).unwrap_or(NonZeroUsize::MIN),
            request_timeout_secs: NonZeroU64::new(d.request_timeout.as_secs())
                .unwrap_or(NonZeroU64::MIN),
            cors_origins: d.cors_origins,
        }
    }
}

/// The `[rate_limit]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Whether limits apply at all (turn off for benchmarks only).
    pub enabled: bool,
    /// Sustained requests per minute for one token.
    pub per_token_per_minute: NonZeroU32,
    /// Requests one token may make in a burst.
    pub per_token_burst: NonZeroU32,
    /// Sustained requests per minute for one anonymous client address.
    pub per_address_per_minute: NonZeroU32,
    /// Requests one anonymous client address may make in a burst.
    pub per_address_burst: NonZeroU32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        let d = RateLimitConfig::default();
        let nz = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        RateLimitSettings {
            enabled: d.enabled,
            per_token_per_minute: nz(d.per_token_per_minute),
            per_token_burst: nz(d.per_token_burst),
            per_address_per_minute: nz(d.per_address_per_minute),
            per_address_burst: nz(d.per_address_burst),
        }
    }
}

/// The `[login_throttle]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottleSettings {
    /// Whether failed logins are throttled at all.
    pub enabled: bool,
    /// Failed logins for one account within the window before further attempts get 429.
    pub max_failures_per_account: NonZeroU32,
    /// Failed logins from one client address within the window before further attempts get 429.
    pub max_failures_per_address: NonZeroU32,
    /// How long a failure counts, in seconds.
    pub window_secs: NonZeroU64,
}

impl Default for LoginThrottleSettings {
    fn default() -> Self {
        let d = LoginThrottleConfig::default();
        let nz = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
        LoginThrottleSettings {
            enabled: d.enabled,
            max_failures_per_account: nz(d.max_failures_per_account),
            max_failures_per_address: nz(d.max_failures_per_address),
            window_secs: NonZeroU64::new(d.window.as_secs()).unwrap_or(NonZeroU64::MIN),
        }
    }
}

/// When a sled commit is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurabilityMode {
    /// After it is flushed to disk (group commit).
    Flush,
    /// At once; a background thread flushes every `flush_interval_ms`.
    Periodic,
}

/// The `[sled]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SledSettings {
    /// `flush` (every acknowledged commit is on disk) or `periodic`.
    pub durability: DurabilityMode,
    /// Under `periodic`, how often the store is flushed, in milliseconds.
    pub flush_interval_ms: NonZeroU64,
    /// sled's page cache, in MiB.
    pub cache_capacity_mb: NonZeroU64,
    /// The memory for decoded tasks kept besides the page cache, in MiB, as estimated from each
    /// task's size (about 1 KB for a task of the usual size); 0 keeps none.
    pub task_cache_mb: u64,
}

impl Default for SledSettings {
    fn default() -> Self {
        SledSettings {
            durability: DurabilityMode::Flush,
            flush_interval_ms: NonZeroU64::new(100).unwrap_or(NonZeroU64::MIN),
            cache_capacity_mb: NonZeroU64::new(SledConfig::DEFAULT_CACHE_CAPACITY / (1024 * 1024))
                .unwrap_or(NonZeroU64::MIN),
            task_cache_mb: SledConfig::DEFAULT_TASK_CACHE_BYTES / (1024 * 1024),
        }
    }
}

/// The `[postgres]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostgresSettings {
    /// The schema holding Tasklane's tables (created when missing); the server's default
    /// `search_path` when absent.
    #[serde(deserialize_with = "optional_string_like")]
    pub schema: Option<String>,
    /// The size of the connection pool.
    pub max_connections: NonZeroU32,
    /// `statement_timeout` of every connection in milliseconds; 0 disables it.
    pub statement_timeout_ms: u64,
    /// How long to wait for a free connection (and for the database at start-up), in
    /// milliseconds.
    pub acquire_timeout_ms: NonZeroU64,
    /// How often the event log's watch re-reads the log's end besides listening for other
    /// instances' notifications, in milliseconds: the longest a wake-up is late when a
    /// notification is lost.
    pub log_poll_interval_ms: NonZeroU64,
    /// The most entries of each map of the record cache (records kept decoded in the process:
    /// tokens, users, memberships, projects and workflows; blocker and member lists), kept
    /// coherent across instances by notifications; 0 turns the cache off, tasks included (for
    /// databases also edited by other SQL).
    pub record_cache_capacity: usize,
    /// The memory for the record cache's tasks, in MiB, as estimated from each task's size
    /// (about 1 KB for a task of the usual size); 0 keeps no task.
    pub task_cache_mb: u64,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            schema: None,
            max_connections: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
            statement_timeout_ms: 30_000,
            acquire_timeout_ms: NonZeroU64::new(5_000).unwrap_or(NonZeroU64::MIN),
            log_poll_interval_ms: NonZeroU64::new(1_000).unwrap_or(NonZeroU64::MIN),
            record_cache_capacity: 100_000,
            // `PgConfig::DEFAULT_TASK_CACHE_BYTES` (this module builds without the adapter).
            task_cache_mb: 96,
        }
    }
}

/// Values given on the command line; only those present override.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    /// `--bind`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--log-format`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Loads the settings: defaults < `file` (or `$TASKLANE_CONFIG`) < `TASKLANE_*` < `flags`.
pub fn load(file: Option<&Path>, flags: Overrides) -> Result<Settings, Error> {
    let file = file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os(CONFIG_ENV).map(PathBuf::from));
    let mut figment = Figment::new()
        // `RUST_LOG` is honoured as a default for `log_filter`, below everything else.
        .merge(Env::raw().only(&["RUST_LOG"]).map(|_| "log_filter".into()));
    if let Some(path) = &file {
        if !path.is_file() {
            return Err(Error::Config(format!(
                "the configuration file {} does not exist or is not a file",
                path.display()
            )));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment
        .merge(Env::prefixed(ENV_PREFIX).split("__").filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            KEYS.iter().any(|k| k.eq_ignore_ascii_case(top))
        }))
        .merge(Serialized::defaults(flags));
    let settings: Settings = figment.extract().map_err(|e| Error::Config(describe(e)))?;
    settings.validate(&figment)?;
    Ok(settings)
}

/// Where a value came from, for error messages: ` (environment variable TASKLANE_HTTP__BODY_LIMIT)`,
/// ` (from TOML file /etc/tasklane.toml)`.
fn source_of(md: &figment::Metadata, path: &[&str]) -> String {
    if md.name.contains("environment variable") {
        let var = if md.name.contains(ENV_PREFIX) {
            format!("{ENV_PREFIX}{}", path.join("__").to_uppercase())
        } else {
            "RUST_LOG".to_owned()
        };
        format!(" (environment variable {var})")
    } else if md.name.contains("Serialized") {
        " (command-line flag)".to_owned()
    } else {
        match &md.source {
            Some(source) => format!(" (from {} {source})", md.name),
            None => format!(" (from {})", md.name),
        }
    }
}

/// Where the value of `key` came from.
fn origin(figment: &Figment, key: &str) -> String {
    let path: Vec<&str> = key.split('.').collect();
    figment
        .find_metadata(key)
        .map(|md| source_of(md, &path))
        .unwrap_or_default()
}

/// Figment's errors, one line each, naming the key and where its value came from.
fn describe(errors: figment::Error) -> String {
    errors
        .into_iter()
        .map(|e| {
            let path: Vec<&str> = e.path.iter().map(String::as_str).collect();
            let from = e
                .metadata
                .as_ref()
                .map(|md| source_of(md, &path))
                .unwrap_or_default();
            if path.is_empty() {
                format!("{}{from}", e.kind)
            } else {
                format!(
                    "invalid value for key \"{}\"{from}: {}",
                    path.join("."),
                    e.kind
                )
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl Settings {
    fn validate(&self, figment: &Figment) -> Result<(), Error> {
        let mut problems = Vec::new();
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log_filter) {
            problems.push(format!(
                "invalid value for key \"log_filter\"{}: {e}",
                origin(figment, "log_filter")
            ));
        }
        if let Some(url) = &self.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                problems.push(format!(
                    "invalid value for key \"database_url\"{}: it must start with postgres:// or postgresql://",
                    origin(figment, "database_url")
                ));
            }
        }
        if self.data_dir.as_os_str().is_empty() {
            problems.push(format!(
                "invalid value for key \"data_dir\"{}: it must not be empty",
                origin(figment, "data_dir")
            ));
        }
        for o in &self.http.cors_origins {
            if let Err(why) = check_origin(o) {
                problems.push(format!(
                    "invalid value {o:?} for key \"http.cors_origins\"{}: {why}",
                    origin(figment, "http.cors_origins")
                ));
            }
        }
        if let Some(schema) = &self.postgres.schema {
            if schema.is_empty() || schema.len() > 63 || schema.contains('\0') {
                problems.push(format!(
                    "invalid value for key \"postgres.schema\"{}: it must have 1 to 63 bytes",
                    origin(figment, "postgres.schema")
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(problems.join("\n")))
        }
    }

    /// The engine's configuration: production defaults with the registration policy.
    pub fn engine_config(&self) -> EngineConfig {
        EngineConfig {
            registration: match self.registration {
                Registration::Open => RegistrationPolicy::Open,
                Registration::InviteOnly => RegistrationPolicy::InviteOnly,
                Registration::Closed => RegistrationPolicy::Closed,
            },
            ..EngineConfig::default()
        }
    }

    /// The HTTP transport's configuration.
    #[allow(clippy::needless_update)]
    pub fn http_config(&self) -> HttpConfig {
        let r = &self.rate_limit;
        let t = &self.login_throttle;
        HttpConfig {
            body_limit: self.http.body_limit.get(),
            request_timeout: Duration::from_secs(self.http.request_timeout_secs.get()),
            cors_origins: self.http.cors_origins.clone(),
            rate_limit: RateLimitConfig {
                enabled: r.enabled,
                per_token_per_minute: r.per_token_per_minute.get(),
                per_token_burst: r.per_token_burst.get(),
                per_address_per_minute: r.per_address_per_minute.get(),
                per_address_burst: r.per_address_burst.get(),
            },
            login_throttle: LoginThrottleConfig {
                enabled: t.enabled,
                max_failures_per_account: t.max_failures_per_account.get(),
                max_failures_per_address: t.max_failures_per_address.get(),
                window: Duration::from_secs(t.window_secs.get()),
            },
            // Settings the transport gains later keep their defaults until mapped here.
            ..HttpConfig::default()
        }
    }

    /// The sled store's configuration.
    pub fn sled_config(&self) -> SledConfig {
        let durability = match self.sled.durability {
            DurabilityMode::Flush => Durability::Flush,
            DurabilityMode::Periodic => Durability::Periodic {
                every_ms: self.sled.flush_interval_ms.get(),
            },
        };
        SledConfig::new(&self.data_dir)
            .durability(durability)
            .cache_capacity_bytes(
                self.sled
                    .cache_capacity_mb
                    .get()
                    .saturating_mul(1024 * 1024),
            )
            .task_cache_bytes(self.sled.task_cache_mb.saturating_mul(1024 * 1024))
    }

    /// How long a shutdown waits for requests in flight.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// Checks a CORS origin: `*`, or `scheme://host[:port]` without a path.
fn check_origin(origin: &str) -> Result<(), &'static str> {
    if origin == "*" {
        return Ok(());
    }
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err("an origin looks like https://app.example.com (or `*` for any)");
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err("the scheme is malformed");
    }
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) || !origin.is_ascii() {
        return Err("an origin has a host and an optional port, and no path or trailing slash");
    }
    Ok(())
}

/// A scalar as text: environment variables are parsed (`8080` becomes a number), but some
/// settings are always text.
fn scalar_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_char<E: serde::de::Error>(self, v: char) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(V)
}

fn string_like<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar_text(d)
}

fn path_like<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    scalar_text(d).map(PathBuf::from)
}

/// An optional text setting; an empty value means "not set".
fn optional_string_like<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = scalar_text(d)?;
    Ok(if s.trim().is_empty() { None } else { Some(s) })
}

/// A list of strings, or one string of comma-separated items (handy in environment variables).
fn list_like<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::Many(v) => v,
        OneOrMany::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_serve_sled_on_localhost_8080() {
        let s = Settings::default();
        assert_eq!(s.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(s.data_dir, PathBuf::from("./tasklane-data"));
        assert!(s.database_url.is_none());
        assert_eq!(s.http_config(), HttpConfig::default());
        assert_eq!(s.sled_config().durability, Durability::Flush);
        let e = s.engine_config();
        assert_eq!(e.registration, RegistrationPolicy::Open);
        assert_eq!(
            e.password_hashing,
            tasklane_core::PasswordHashing::default()
        );
    }

    #[test]
    fn origins() {
        assert!(check_origin("*").is_ok());
        assert!(check_origin("https://app.example.com").is_ok());
        assert!(check_origin("http://localhost:3000").is_ok());
        assert!(check_origin("https://app.example.com/").is_err());
        assert!(check_origin("app.example.com").is_err());
    }
}

//! The monostack configuration: one TOML file with one section per service.
//!
//! Every option has a default and a doc string (`monostack config` prints them), so
//! `monostack all-in-one` works with no file at all. Any option can be overridden from the
//! environment as `MONOSTACK__<SECTION>__<OPTION>` (e.g. `MONOSTACK__DATABASE__CONNECTION`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One documented option, as printed by `monostack config`.
#[derive(Debug, Clone)]
pub struct OptionDoc {
    pub name: &'static str,
    pub default: String,
    pub doc: &'static str,
}

/// Declares a config section: a struct whose fields each have a default and a doc comment.
macro_rules! section {
    ($(#[doc = $sdoc:literal])* $name:ident ($key:literal) {
        $( $(#[doc = $doc:literal])+ $field:ident : $ty:ty = $default:expr, )*
    }) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name { $( $(#[doc = $doc])+ pub $field: $ty, )* }

        impl Default for $name {
            fn default() -> Self { Self { $( $field: $default, )* } }
        }

        impl $name {
            /// The section's name in the TOML file.
            pub const SECTION: &'static str = $key;
            /// Every option of this section with its default and doc.
            pub fn describe() -> Vec<OptionDoc> {
                let defaults = Self::default();
                vec![$( OptionDoc {
                    name: stringify!($field),
                    default: render_default(&defaults.$field),
                    doc: concat!($($doc, "\n"),+),
                }, )*]
            }
        }
    };
}

fn render_default<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Null) => "<unset>".into(),
        Ok(v) => v.to_string(),
        Err(_) => "<unprintable>".into(),
    }
}

section! {
    /// Options shared by every service.
    DefaultSection ("DEFAULT") {
        /// Directory holding databases, keys, images and generated credentials. Unset means
        /// /var/lib/monostack when running as root, ./.monostack otherwise.
        state_dir: Option<PathBuf> = None,
        /// Address every API listens on.
        bind_host: String = "127.0.0.1".into(),
        /// Host name put in catalog URLs. Unset means bind_host (or 127.0.0.1 when bind_host
        /// is a wildcard address).
        public_host: Option<String> = None,
        /// The region this deployment registers its endpoints in.
        region: String = "RegionOne".into(),
        /// Log at DEBUG level.
        debug: bool = false,
        /// Write logs to this file instead of standard error.
        log_file: Option<PathBuf> = None,
        /// Largest request body accepted by any API, in bytes (oslo's max_request_body_size).
        max_request_body_size: usize = 114_688,
    }
}

section! {
    /// Database connection used by every service.
    DatabaseSection ("database") {
        /// SQL connection URL. Unset means one SQLite file per service in the state directory.
        /// `postgresql://user@host/NAME` or `mysql://user@host/NAME` use one database per service
        /// named NAME_<service> (created when missing); put `{service}` in the URL to choose
        /// the database name yourself.
        connection: Option<String> = None,
        /// Connections per service pool.
        max_pool_size: u32 = 8,
    }
}

section! {
    /// The message bus between services.
    BusSection ("bus") {
        /// Transport URL; unset means the in-process bus (all-in-one only).
        /// `rabbit://user:pass@host:5672/` selects RabbitMQ.
        transport_url: Option<String> = None,
        /// Default timeout of an RPC call, in seconds (oslo's rpc_response_timeout).
        rpc_response_timeout: u64 = 60,
    }
}

section! {
    /// Identity service (Keystone v3).
    IdentitySection ("identity") {
        /// Port of the identity API.
        port: u16 = 5000,
        /// Password of the bootstrap admin user; unset means a random one is generated on the
        /// first start and written to clouds.yaml and openrc in the state directory.
        admin_password: Option<String> = None,
        /// Name of the bootstrap admin user.
        admin_username: String = "admin".into(),
        /// Name of the bootstrap admin project.
        admin_project_name: String = "admin".into(),
        /// Lifetime of a token, in seconds.
        token_expiration: i64 = 86_400,
        /// How long after expiry a token may still be validated with allow_expired, in seconds.
        allow_expired_window: i64 = 172_800,
        /// bcrypt cost for stored passwords (Keystone's password_hash_rounds).
        password_hash_rounds: u32 = 12,
        /// Fernet key repository; unset means <state_dir>/fernet-keys.
        key_repository: Option<PathBuf> = None,
        /// Keys kept by rotation: one staged, one primary, the rest secondary.
        max_active_keys: usize = 3,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/identity.yaml if it exists.
        policy_file: Option<PathBuf> = None,
        /// Most entities a list call returns (Keystone's list_limit); 0 means no limit.
        list_limit: usize = 0,
    }
}

section! {
    /// Token validation for services that are not co-located with identity
    /// (keystonemiddleware's [keystone_authtoken]).
    AuthTokenSection ("keystone_authtoken") {
        /// Identity endpoint used to validate tokens remotely; unset means validate in-process.
        auth_url: Option<String> = None,
        /// Seconds a remotely validated token is cached (revocations are also pushed on the bus).
        token_cache_time: u64 = 300,
    }
}

section! {
    /// Image service (Glance v2).
    ImageSection ("image") {
        /// Port of the image API.
        port: u16 = 9292,
        /// Directory of the filesystem store: one file per image, named by its id. Unset means
        /// <state_dir>/images.
        filesystem_store_datadir: Option<PathBuf> = None,
        /// Directory where `PUT /v2/images/{id}/stage` keeps data until it is imported (Glance's
        /// node_staging_uri). Unset means <state_dir>/image-staging.
        staging_dir: Option<PathBuf> = None,
        /// Largest image accepted, in bytes (Glance's image_size_cap).
        image_size_cap: u64 = 1_099_511_627_776,
        /// Enforce the per-project image quotas registered in identity as unified limits
        /// (image_count_total, image_count_uploading, image_size_total and image_stage_total,
        /// sizes in MiB). A resource without a registered limit is not limited.
        use_keystone_limits: bool = true,
        /// Import methods offered by /v2/info/import.
        enabled_import_methods: Vec<String> = vec!["glance-direct".into(), "web-download".into(), "copy-image".into()],
        /// Page size of image lists when the request gives no limit.
        limit_param_default: usize = 25,
        /// Largest page an image list returns.
        api_limit_max: usize = 1000,
        /// Most members an image may have.
        image_member_quota: usize = 128,
        /// Most custom properties an image may have.
        image_property_quota: usize = 128,
        /// Most tags an image may have.
        image_tag_quota: usize = 128,
        /// Operator policy overrides (YAML); unset means <state_dir>/policy/image.yaml if it exists.
        policy_file: Option<PathBuf> = None,
    }
}

section! {
    /// Catalog ports of services that are registered from day one.
    CatalogSection ("catalog") {
        /// Compute API port (Nova), served at /v2.1.
        compute_port: u16 = 8774,
        /// Placement API port.
        placement_port: u16 = 8778,
        /// Block storage API port (Cinder), served at /v3.
        volume_port: u16 = 8776,
        /// Networking API port (Neutron).
        network_port: u16 = 9696,
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(rename = "DEFAULT")]
    pub default: DefaultSection,
    pub database: DatabaseSection,
    pub bus: BusSection,
    pub identity: IdentitySection,
    pub keystone_authtoken: AuthTokenSection,
    pub image: ImageSection,
    pub catalog: CatalogSection,
}

/// Config loading failures, with the offending place named.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config: {0}")]
    Parse(String),
    #[error("environment override {var}: unknown section or option")]
    UnknownEnv { var: String },
}

const ENV_PREFIX: &str = "MONOSTACK__";

impl Config {
    /// Every section's documentation, in file order.
    pub fn describe() -> Vec<(&'static str, Vec<OptionDoc>)> {
        vec![
            (DefaultSection::SECTION, DefaultSection::describe()),
            (DatabaseSection::SECTION, DatabaseSection::describe()),
            (BusSection::SECTION, BusSection::describe()),
            (IdentitySection::SECTION, IdentitySection::describe()),
            (AuthTokenSection::SECTION, AuthTokenSection::describe()),
            (ImageSection::SECTION, ImageSection::describe()),
            (CatalogSection::SECTION, CatalogSection::describe()),
        ]
    }

    /// Loads the file (if any), applies environment overrides, and validates.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p)
                .map_err(|source| ConfigError::Read { path: p.to_path_buf(), source })?,
            None => String::new(),
        };
        Self::from_toml_and_env(&text, std::env::vars())
    }

    /// Parses TOML text and overlays `MONOSTACK__SECTION__OPTION` variables.
    pub fn from_toml_and_env(
        text: &str,
        env: impl Iterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        let sections = Self::describe();
        for (var, value) in env {
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else { continue };
            let Some((section, option)) = rest.split_once("__") else {
                return Err(ConfigError::UnknownEnv { var });
            };
            let Some((section_name, docs)) =
                sections.iter().find(|(name, _)| name.eq_ignore_ascii_case(section))
            else {
                return Err(ConfigError::UnknownEnv { var });
            };
            let option = option.to_ascii_lowercase();
            if !docs.iter().any(|d| d.name == option) {
                return Err(ConfigError::UnknownEnv { var });
            }
            let entry = table
                .entry(section_name.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(t) = entry {
                t.insert(option, env_value(&value));
            }
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.identity.max_active_keys < 2 {
            return Err(ConfigError::Parse("identity.max_active_keys must be at least 2".into()));
        }
        if !(4..=31).contains(&self.identity.password_hash_rounds) {
            return Err(ConfigError::Parse("identity.password_hash_rounds must be 4..=31".into()));
        }
        if self.identity.token_expiration <= 0 {
            return Err(ConfigError::Parse("identity.token_expiration must be positive".into()));
        }
        Ok(())
    }

    /// The state directory, resolved as documented on `state_dir`.
    pub fn state_dir(&self) -> PathBuf {
        if let Some(dir) = &self.default.state_dir {
            return dir.clone();
        }
        if is_root() {
            PathBuf::from("/var/lib/monostack")
        } else {
            PathBuf::from(".monostack")
        }
    }

    /// Host name used in catalog URLs.
    pub fn public_host(&self) -> String {
        if let Some(h) = &self.default.public_host {
            return h.clone();
        }
        match self.default.bind_host.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".into(),
            h => h.into(),
        }
    }

    /// Renders the documented defaults as a commented TOML file.
    pub fn render_documented() -> String {
        let mut out = String::new();
        for (section, options) in Self::describe() {
            out.push_str(&format!("[{section}]\n"));
            for opt in options {
                for line in opt.doc.lines() {
                    out.push_str(&format!("# {}\n", line.trim()));
                }
                out.push_str(&format!("# {} = {}\n\n", opt.name, opt.default));
            }
        }
        out
    }
}

/// Environment values are TOML scalars when they parse as one (numbers, booleans), else strings.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(v) = raw.parse::<i64>() {
        return toml::Value::Integer(v);
    }
    match raw {
        "true" | "True" => toml::Value::Boolean(true),
        "false" | "False" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

#[allow(unsafe_code)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml_and_env("", std::iter::empty()).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.identity.port, 5000);
    }

    #[test]
    fn env_overrides_file() {
        let env = vec![
            ("MONOSTACK__DATABASE__CONNECTION".to_string(), "postgresql://x/y".to_string()),
            ("MONOSTACK__IDENTITY__PORT".to_string(), "5001".to_string()),
            ("MONOSTACK__default__DEBUG".to_string(), "true".to_string()),
            ("OTHER".to_string(), "x".to_string()),
        ];
        let c = Config::from_toml_and_env("[identity]\nport = 7000\n", env.into_iter()).unwrap();
        assert_eq!(c.database.connection.as_deref(), Some("postgresql://x/y"));
        assert_eq!(c.identity.port, 5001);
        assert!(c.default.debug);
    }

    #[test]
    fn unknown_options_are_refused() {
        assert!(Config::from_toml_and_env("[identity]\nbogus = 1\n", std::iter::empty()).is_err());
        let env = vec![("MONOSTACK__IDENTITY__BOGUS".to_string(), "1".to_string())];
        assert!(Config::from_toml_and_env("", env.into_iter()).is_err());
    }

    #[test]
    fn every_option_is_documented() {
        let text = Config::render_documented();
        assert!(text.contains("# connection = <unset>"));
        assert!(text.contains("# port = 5000"));
        for (_, opts) in Config::describe() {
            assert!(opts.iter().all(|o| !o.doc.trim().is_empty()));
        }
    }
}

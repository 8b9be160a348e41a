//! What a dialect client needs to know about its account, and the limits
//! every request it makes is held to.
//!
//! A [`ClientConfig`] is built from an [`Account`] (the replica's row, which
//! never holds a secret) plus the account's password from the OS keychain.
//! The password is wrapped in [`Password`] so that neither `Debug` output
//! nor logs can show it.

use std::fmt;
use std::time::Duration;

use jiff::tz::TimeZone;
use tasklane_core::model::{Account, AccountSettings};
use url::Url;

/// A password or token. `Debug` shows `***`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(secret: impl Into<String>) -> Self {
        Password(secret.into())
    }

    /// The secret itself, for building an `Authorization` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Bounds on every exchange with a server, so that a slow, huge or hostile
/// answer costs a bounded amount of time and memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for one whole request, from sending to the last byte of the answer.
    pub request_timeout: Duration,
    /// The largest answer read; a larger one is a protocol error.
    pub max_response_bytes: usize,
    /// Tasks asked for per listing page.
    pub page_size: u32,
    /// Pages a client walks on its own (for example to find one task by
    /// its stable key) before giving up.
    pub max_scan_pages: u32,
    /// Pages of a whole listing asked for before their turn, so that the
    /// server prepares them while the client reads the ones before (0:
    /// none; at most [`MAX_PAGES_AHEAD`]). See `Http::read_ahead`.
    pub pages_ahead: u32,
}

/// The most listing pages a client has in flight besides the one it
/// reads: a server is never asked for more at once by one listing.
pub const MAX_PAGES_AHEAD: u32 = 4;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_response_bytes: 16 * 1024 * 1024,
            page_size: 100,
            max_scan_pages: 20,
            pages_ahead: 2,
        }
    }
}

impl Limits {
    /// The page size within what the servers accept (GEVER's listings stop
    /// at 1000; OMFLOW's and Hitachi's have no documented maximum).
    pub(crate) fn page(&self) -> u32 {
        self.page_size.clamp(1, 1000)
    }

    /// The pages read ahead, within [`MAX_PAGES_AHEAD`].
    pub(crate) fn pages_ahead(&self) -> u32 {
        self.pages_ahead.min(MAX_PAGES_AHEAD)
    }
}

/// How request bodies are written, for servers that accept both (Hitachi
/// CSCIW takes XML or JSON; the other dialects are JSON only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyFormat {
    #[default]
    Json,
    Xml,
}

/// Everything a dialect client is built from.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's base URL: OMFLOW and Hitachi the site root (Hitachi
    /// paths start with `/csciwws`), GEVER the Plone site (`.../fd`).
    pub base_url: Url,
    /// The user's login name at the server.
    pub user_name: String,
    pub password: Password,
    pub settings: AccountSettings,
    pub limits: Limits,
    /// Hitachi only: request bodies as XML or JSON. Read from the account
    /// setting `body_format` (`"xml"` or `"json"`).
    pub body_format: BodyFormat,
}

/// A configuration that cannot work; nothing was sent anywhere.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid server address: {0}")]
    Url(String),
    #[error("invalid account setting: {0}")]
    Setting(String),
    #[error("invalid CA certificate: {0}")]
    Certificate(String),
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl ClientConfig {
    /// A configuration with default settings and limits.
    pub fn new(
        base_url: &str,
        user_name: impl Into<String>,
        password: Password,
    ) -> Result<Self, ConfigError> {
        let mut url = Url::parse(base_url.trim()).map_err(|e| ConfigError::Url(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Url(format!(
                "{base_url}: only http and https are supported"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // Credentials in a URL end up in logs and error messages.
            return Err(ConfigError::Url(
                "the address must not contain a user name or password".into(),
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::Url(format!("{base_url}: no host")));
        }
        url.set_query(None);
        url.set_fragment(None);
        let user_name = user_name.into();
        if user_name.trim().is_empty() {
            return Err(ConfigError::Setting("the user name is empty".into()));
        }
        Ok(ClientConfig {
            base_url: url,
            user_name,
            password,
            settings: AccountSettings::default(),
            limits: Limits::default(),
            body_format: BodyFormat::Json,
        })
    }

    /// The configuration of a stored account.
    pub fn from_account(account: &Account, password: Password) -> Result<Self, ConfigError> {
        let settings =
            AccountSettings::from_map(&account.settings).map_err(ConfigError::Setting)?;
        let body_format = match account.settings.get("body_format").and_then(|v| v.as_str()) {
            None | Some("json") => BodyFormat::Json,
            Some("xml") => BodyFormat::Xml,
            Some(other) => {
                return Err(ConfigError::Setting(format!(
                    "body_format is \"json\" or \"xml\", not {other:?}"
                )));
            }
        };
        Ok(
            ClientConfig::new(&account.base_url, account.user_name.clone(), password)?
                .with_settings(settings)
                .with_body_format(body_format),
        )
    }

    pub fn with_settings(mut self, settings: AccountSettings) -> Self {
        self.settings = settings;
        self
    }

    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    pub fn with_body_format(mut self, format: BodyFormat) -> Self {
        self.body_format = format;
        self
    }

    /// The time zone of the server's naive datetimes: the account's
    /// `time_zone`, or the dialect's default.
    pub(crate) fn time_zone(&self, default: &str) -> Result<TimeZone, ConfigError> {
        let name = self.settings.time_zone.as_deref().unwrap_or(default);
        TimeZone::get(name).map_err(|e| ConfigError::Setting(format!("time_zone {name:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let config =
            ClientConfig::new("https://omflow.example", "amy", Password::new("s3cret!")).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret!"), "{shown}");
        assert!(shown.contains("Password(***)"));
    }

    #[test]
    fn addresses_that_cannot_work_are_refused_before_anything_is_sent() {
        for (url, why) in [
            ("ftp://files.example", "only http and https"),
            ("https://amy:pw@omflow.example", "must not contain"),
            ("not a url", "invalid server address"),
        ] {
            let err = ClientConfig::new(url, "amy", Password::new("pw")).unwrap_err();
            assert!(err.to_string().contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn an_unknown_time_zone_is_a_setting_error() {
        let mut config =
            ClientConfig::new("https://x.example", "amy", Password::new("pw")).unwrap();
        config.settings.time_zone = Some("Mars/Olympus".into());
        assert!(matches!(
            config.time_zone("Asia/Taipei"),
            Err(ConfigError::Setting(_))
        ));
        config.settings.time_zone = None;
        assert_eq!(
            config.time_zone("Asia/Taipei").unwrap().iana_name(),
            Some("Asia/Taipei")
        );
    }
}

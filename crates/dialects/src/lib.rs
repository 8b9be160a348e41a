//! tasklane-dialects: what OMFLOW, OneGov GEVER and Hitachi CSCIW servers
//! send and accept (the wire types), and tasklane's HTTP clients for them,
//! each implementing [`tasklane_core::remote::Remote`].
//!
//! The wire types are shared with `tasklane serve` (tasklane-engine), so
//! client and server agree on one definition of every payload; the tests
//! therefore also run the clients against independent stubs that reproduce
//! each vendor's documented bytes.
//!
//! Module map:
//! - [`omflow`], [`gever`], [`hitachi`]: one dialect each — `wire` (the
//!   payloads), `normalize` (the state table and the mapping onto
//!   [`tasklane_core::TaskRecord`]) and the client.
//! - [`config`]: what a client needs to know about its account, and the
//!   limits every request is held to.
//! - [`tls`]: certificate verification (system roots plus an optional
//!   per-account CA), with rustls's ring provider.
//! - [`servertime`]: the datetimes servers send, with or without an offset.
//! - `transport` and `classify` (private): the bounded HTTP exchange and the
//!   mapping of every failure onto a [`tasklane_core::remote::RemoteErrorKind`].

pub mod config;
pub mod gever;
pub mod hitachi;
pub mod lenient;
pub mod omflow;
pub mod servertime;
pub mod tls;

mod classify;
mod transport;

pub use config::{BodyFormat, ClientConfig, ConfigError, Limits, Password};
pub use gever::GeverClient;
pub use hitachi::HitachiClient;
pub use omflow::OmflowClient;

use tasklane_core::model::{Account, AccountKind};
use tasklane_core::remote::Remote;

/// The client for `account`'s server, as the sync engine holds it.
///
/// Local accounts are served in-process by tasklane-engine, not by a
/// dialect client, so they are refused here.
pub fn remote_for(account: &Account, password: Password) -> Result<Box<dyn Remote>, ConfigError> {
    remote_with(account.kind, ClientConfig::from_account(account, password)?)
}

/// The client of kind `kind` for `config`: [`remote_for`] with a
/// configuration of one's own (other limits, say).
pub fn remote_with(
    kind: AccountKind,
    config: ClientConfig,
) -> Result<Box<dyn Remote>, ConfigError> {
    Ok(match kind {
        AccountKind::Omflow => Box::new(OmflowClient::new(config)?),
        AccountKind::Gever => Box::new(GeverClient::new(config)?),
        AccountKind::Hitachi => Box::new(HitachiClient::new(config)?),
        AccountKind::Local => {
            return Err(ConfigError::Setting(
                "a local account is served by the embedded engine, not over HTTP".into(),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use tasklane_core::model::AccountSettings;

    #[test]
    fn no_client_shows_the_password_or_its_basic_auth_form_in_debug_output() {
        let secret = "s3cret-pw";
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("amy:{secret}"));
        let config =
            || ClientConfig::new("https://x.example", "amy", Password::new(secret)).unwrap();
        let jwt = AccountSettings {
            auth: Some("jwt".into()),
            ..AccountSettings::default()
        };
        let shown = [
            format!("{:?}", OmflowClient::new(config()).unwrap()),
            format!("{:?}", GeverClient::new(config()).unwrap()),
            format!(
                "{:?}",
                GeverClient::new(config().with_settings(jwt)).unwrap()
            ),
            format!("{:?}", HitachiClient::new(config()).unwrap()),
        ];
        for text in shown {
            assert!(!text.contains(secret) && !text.contains(&basic), "{text}");
        }
    }

    #[test]
    fn local_accounts_are_not_served_over_http() {
        let account = Account {
            id: 1,
            name: "me".into(),
            kind: AccountKind::Local,
            base_url: "https://x.example".into(),
            user_name: "amy".into(),
            settings: serde_json::Map::new(),
            created_at: None,
        };
        assert!(matches!(
            remote_for(&account, Password::new("pw")),
            Err(ConfigError::Setting(_))
        ));
        let hitachi = Account {
            kind: AccountKind::Hitachi,
            ..account
        };
        let remote = remote_for(&hitachi, Password::new("pw")).unwrap();
        assert!(
            remote
                .capabilities()
                .supports(tasklane_core::outbox::OpKind::Allocate)
        );
    }
}

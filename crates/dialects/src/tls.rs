//! Certificate verification for every dialect client.
//!
//! Servers are verified against the operating system's roots plus, for
//! on-premise servers with their own certificate authority, the account's
//! CA certificate (`AccountSettings::ca_cert`, PEM). There is deliberately
//! no setting that turns verification off: a server whose certificate
//! cannot be verified is not talked to.
//!
//! The crypto is rustls's ring provider (reqwest is built without one, so
//! that aws-lc never has to be compiled). Code elsewhere in the workspace
//! that builds its own `reqwest::Client` must call
//! [`install_default_provider`] first, or reqwest panics for lack of a
//! provider.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::config::ConfigError;

/// rustls's ring provider.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes the ring provider the process default, for code that builds
/// `reqwest` clients directly (tests, the engine's own checks). Calling it
/// again, or after another provider was installed, changes nothing.
pub fn install_default_provider() {
    if CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: a provider is set.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The certificates in a PEM text; at least one is required.
pub fn parse_ca_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError::Certificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(ConfigError::Certificate(
            "no \"BEGIN CERTIFICATE\" block found".into(),
        ));
    }
    Ok(certs)
}

/// The TLS configuration for one account: system roots, plus `ca_pem`'s
/// certificates when given.
pub fn client_config(ca_pem: Option<&str>) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = crypto_provider();
    let extra = match ca_pem {
        Some(pem) if !pem.trim().is_empty() => parse_ca_pem(pem)?,
        _ => Vec::new(),
    };
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| ConfigError::Client(format!("certificate verifier: {e}")))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Client(e.to_string()))?
        // rustls files every custom verifier under `dangerous`; this one is
        // the platform verifier itself, which checks chains and host names.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_setting_without_a_certificate_is_refused() {
        for pem in [
            "hello",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert!(
                matches!(client_config(Some(pem)), Err(ConfigError::Certificate(_))),
                "{pem}"
            );
        }
    }

    #[test]
    fn no_ca_setting_means_system_roots_only() {
        let config = client_config(None).unwrap();
        assert_eq!(config.alpn_protocols.len(), 2);
        assert!(client_config(Some("  \n")).is_ok());
    }
}

//! Certificate verification against a real TLS server on 127.0.0.1 whose
//! certificate is signed by a private CA: trusted only with the account's
//! `ca_cert`, and refused (nothing sent) without it.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tasklane_core::model::AccountSettings;
use tasklane_core::remote::{Remote, RemoteErrorKind};
use tasklane_dialects::HitachiClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CA: &str = include_str!("fixtures/tls/ca.pem");
const CERT: &str = include_str!("fixtures/tls/server.pem");
const KEY: &str = include_str!("fixtures/tls/server.key");

const ITEM: &str = r#"{"ActivityInstanceID":"1","ClosedDate":"","CreationDate":"2016-12-09T15:54:55+09:00","Deadline":"","ID":"1","Name":"","Participant":"amy","Priority":"0","ProcessDefinitionID":"1","ProcessInstanceID":"7","ProcessInstanceName":"案件","StartDate":"","StateCode":"f","WorkDefinitionID":"1","WorkDefinitionName":"W","WorkTypeCode":"0"}"#;

/// A TLS server that answers every request with one work item.
async fn tls_server() -> std::net::SocketAddr {
    let certs = CertificateDer::pem_slice_iter(CERT.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{ITEM}",
                    ITEM.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_private_ca_is_trusted_only_when_the_account_names_it() {
    let addr = tls_server().await;
    let base = format!("https://{addr}");

    let trusting = HitachiClient::new(common::config(&base, "amy", "pw").with_settings(
        AccountSettings {
            ca_cert: Some(CA.into()),
            ..AccountSettings::default()
        },
    ))
    .unwrap();
    let task = trusting.fetch("7:1").await.unwrap().unwrap();
    assert_eq!(task.key, "7:1");

    let default = HitachiClient::new(common::config(&base, "amy", "pw")).unwrap();
    let err = default.fetch("7:1").await.unwrap_err();
    assert_eq!(err.kind, RemoteErrorKind::Permanent, "{}", err.message);
    assert!(err.message.contains("TLS"), "{}", err.message);
}

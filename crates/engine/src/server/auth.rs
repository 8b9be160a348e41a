//! Who is asking: HTTP basic auth (every dialect) and the JSON Web Tokens
//! GEVER's `@login` hands out (HS256, signed with a key that lives only in
//! this process, so a restart logs everyone out, as with OMFLOW's codes).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Engine;
use crate::error::Result;
use crate::users::Principal;

/// How long an `@login` token is valid by default.
pub const TOKEN_LIFETIME_SECS: i64 = 12 * 3600;

/// The user name and password of a `Basic` Authorization header.
pub fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// The token of a `Bearer` Authorization header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Basic auth against the engine's users (blocking: argon2 on a cache miss).
pub fn basic_principal(engine: &Engine, headers: &HeaderMap) -> Result<Option<Principal>> {
    match basic(headers) {
        Some((user, password)) => engine.authenticate(&user, &password),
        None => Ok(None),
    }
}

/// The process's token signing key.
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct JwtHeader {
    alg: String,
    typ: String,
}

impl TokenKey {
    /// A fresh random key (two v4 UUIDs' worth of OS randomness).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        TokenKey(key)
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// A signed token for `user`, valid for [`TOKEN_LIFETIME_SECS`].
    pub fn issue(&self, user: &str) -> String {
        self.issue_valid_for(user, TOKEN_LIFETIME_SECS)
    }

    /// A signed token for `user`, valid for `lifetime_secs` from now.
    pub fn issue_valid_for(&self, user: &str, lifetime_secs: i64) -> String {
        let now = jiff::Timestamp::now().as_second();
        let header = JwtHeader {
            alg: "HS256".into(),
            typ: "JWT".into(),
        };
        let claims = Claims {
            sub: user.to_string(),
            iat: now,
            exp: now + lifetime_secs,
        };
        let encode = |v: &dyn erased::Json| URL_SAFE_NO_PAD.encode(v.to_json());
        let signing_input = format!("{}.{}", encode(&header), encode(&claims));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The user a token was issued to, if it is ours, well-formed, signed
    /// with HS256 and not expired.
    pub fn verify(&self, token: &str) -> Option<String> {
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: JwtHeader = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        if header.alg != "HS256" {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
        let mut mac = self.mac();
        mac.update(format!("{h}.{c}").as_bytes());
        // Constant-time comparison inside.
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
        (claims.exp > jiff::Timestamp::now().as_second()).then_some(claims.sub)
    }
}

mod erased {
    /// Serializes either JWT part without a generic closure.
    pub trait Json {
        fn to_json(&self) -> Vec<u8>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_when_ours_intact_and_unexpired() {
        let key = TokenKey::random();
        let token = key.issue("hans.muster");
        assert_eq!(key.verify(&token).as_deref(), Some("hans.muster"));
        assert_eq!(
            TokenKey::random().verify(&token),
            None,
            "another process's key"
        );
        let mut tampered = token.clone();
        tampered.replace_range(token.len() - 3.., "AAA");
        assert_eq!(key.verify(&tampered), None);
        let parts: Vec<&str> = token.split('.').collect();
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            parts[1]
        );
        assert_eq!(key.verify(&none_alg), None, "alg none is refused");
        let expired_claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"x","iat":0,"exp":1}"#);
        let input = format!("{}.{expired_claims}", parts[0]);
        let mut mac = key.mac();
        mac.update(input.as_bytes());
        let expired = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert_eq!(key.verify(&expired), None, "expired");
        for junk in ["", "a.b", "a.b.c.d", "💥.💥.💥"] {
            assert_eq!(key.verify(junk), None);
        }
    }

    #[test]
    fn basic_auth_headers_are_parsed_strictly() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode("hans:pa:ss"))
                .parse()
                .unwrap(),
        );
        assert_eq!(basic(&h), Some(("hans".into(), "pa:ss".into())));
        h.insert(header::AUTHORIZATION, "Basic !!!".parse().unwrap());
        assert_eq!(basic(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!((basic(&h), bearer(&h)), (None, Some("abc".into())));
    }
}

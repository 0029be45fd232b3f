//! Credentials: Argon2id password hashes, signed access tokens, opaque
//! refresh tokens and activation codes.
//!
//! Access tokens are short-lived HS256 JWTs whose algorithm, issuer,
//! audience, expiry and not-before are all checked, with a leeway that is
//! configuration (none by default). They carry the session id, so a
//! revoked session stops its access tokens too.

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Limits;

const ISSUER: &str = "scrm";
const AUDIENCE: &str = "scrm-app";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub sid: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Mints and checks access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    access_ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &str, limits: &Limits) -> anyhow::Result<TokenKeys> {
        anyhow::ensure!(
            secret.len() >= 32,
            "JWT_SECRET must be at least 32 characters"
        );
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = limits.jwt_leeway_seconds;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret.as_bytes()).context("bad JWT_SECRET")?,
            decoding: DecodingKey::from_secret(secret.as_bytes()).context("bad JWT_SECRET")?,
            validation,
            access_ttl: Duration::minutes(limits.access_token_minutes),
        })
    }

    /// A fresh access token and the instant it stops working.
    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let expires_at = now + self.access_ttl;
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: expires_at.timestamp(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .context("failed to sign an access token")?;
        Ok((token, expires_at))
    }

    /// The claims of a valid token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }

    /// Signs arbitrary claims; tests use it to forge expired tokens.
    pub fn sign_claims(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .context("failed to sign claims")
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("failed to hash a password: {e}"))?;
    Ok(hash.to_string())
}

/// Hashes off the async runtime: Argon2 is deliberately slow.
pub async fn hash_password_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("the hashing task failed: {e}"))?
}

/// Checks a password. With no stored hash it still does the work of a
/// check, so that an unknown account answers as slowly as a wrong
/// password.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("not-a-real-password").unwrap_or_default());
    let hash = stored.unwrap_or(dummy);
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && stored.is_some()
}

/// A refresh token: 256 random bits, shown once to the client.
pub fn new_refresh_token() -> String {
    let bytes: [u8; 32] = rand::thread_rng().r#gen();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An activation code of 10 characters without look-alikes (0/O, 1/I),
/// stored without separators.
pub fn new_activation_code() -> String {
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// Codes are handed out as `ABCDE-FGHJK`; people type them in any case,
/// with or without the dash or spaces.
pub fn normalize_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn display_code(stored: &str) -> String {
    if stored.len() == 10 {
        format!("{}-{}", &stored[..5], &stored[5..])
    } else {
        stored.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("rahasia123").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("rahasia123", Some(&hash)));
        assert!(!verify_password("rahasia124", Some(&hash)));
        assert!(!verify_password("rahasia123", None));
    }

    #[test]
    fn a_typed_code_matches_however_it_is_written() {
        let code = new_activation_code();
        let shown = display_code(&code).to_lowercase().replace('-', " - ");
        assert_eq!(normalize_code(&shown), code);
    }

    #[test]
    fn a_token_from_another_issuer_is_refused() {
        let keys = TokenKeys::new(&"k".repeat(40), &Limits::default()).unwrap();
        let now = Utc::now().timestamp();
        let forged = keys
            .sign_claims(&serde_json::json!({
                "sub": Uuid::nil(), "sid": Uuid::nil(), "iat": now, "nbf": now,
                "exp": now + 60, "iss": "other", "aud": AUDIENCE
            }))
            .unwrap();
        assert!(keys.verify(&forged).is_none());
        let (good, _) = keys.issue(Uuid::nil(), Uuid::nil(), Utc::now()).unwrap();
        assert!(keys.verify(&good).is_some());
    }
}

//! Human passwords: argon2id with OWASP's minimum parameters (19 MiB, 2 passes, 1 lane).
//! Hashing takes tens of milliseconds of CPU, so async callers go through `spawn_blocking`.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::LoginError;

pub const MIN_LENGTH: usize = 10;

fn hasher() -> Result<Argon2<'static>, String> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Checks the rules a new password must meet, saying which one failed.
pub fn validate(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!("must be at least {MIN_LENGTH} characters"));
    }
    if password.len() > 1024 {
        return Err("must be at most 1024 bytes".into());
    }
    Ok(())
}

pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Verifies `password` against `stored`; with no stored hash it still spends the same work on
/// a dummy hash, so response time does not tell whether the user exists.
pub fn verify(stored: Option<&str>, password: &str) -> Result<bool, String> {
    let Some(stored) = stored else {
        let _ = hash(password)?;
        return Ok(false);
    };
    let parsed = PasswordHash::new(stored).map_err(|e| e.to_string())?;
    Ok(hasher()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

pub async fn verify_blocking(stored: Option<String>, password: String) -> Result<bool, LoginError> {
    tokio::task::spawn_blocking(move || verify(stored.as_deref(), &password))
        .await
        .map_err(|e| LoginError::Hash(e.to_string()))?
        .map_err(LoginError::Hash)
}

pub async fn hash_blocking(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| e.to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(Some(&h), "correct horse battery").unwrap());
        assert!(!verify(Some(&h), "correct horse batterx").unwrap());
        assert!(!verify(None, "anything at all").unwrap());
    }

    #[test]
    fn short_passwords_are_refused_with_the_rule() {
        assert!(validate("short").unwrap_err().contains("at least 10"));
        assert!(validate("long enough!").is_ok());
    }
}

//! HTTPS with rustls (ring backend) when `tls_cert` and `tls_key` are configured.
//!
//! Connections are served by the same accept loop as plain TCP (`conn.rs`), so graceful
//! shutdown, the drain limit, the connection limits and `ConnectInfo` work the same; each
//! handshake runs in its connection's task, so a slow or silent client cannot hold up the
//! others.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;

/// A TLS start-up failure, naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("configuration: cannot read `{setting}` ({env}) {path}: {source}")]
    Read {
        setting: &'static str,
        env: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("configuration: invalid `{setting}` ({env}) {path}: {reason}")]
    Invalid {
        setting: &'static str,
        env: &'static str,
        path: PathBuf,
        reason: String,
    },
}

const CERT: (&str, &str) = ("tls_cert", "TOLLGATE_TLS_CERT");
const KEY: (&str, &str) = ("tls_key", "TOLLGATE_TLS_KEY");

fn read(path: &Path, (setting, env): (&'static str, &'static str)) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        setting,
        env,
        path: path.to_owned(),
        source,
    })
}

fn invalid(
    path: &Path,
    (setting, env): (&'static str, &'static str),
    reason: impl Into<String>,
) -> TlsError {
    TlsError::Invalid {
        setting,
        env,
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Reads the PEM certificate chain and private key, and checks that they belong together.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_pem = read(cert, CERT)?;
    let key_pem = read(key, KEY)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert, CERT, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(invalid(
            cert,
            CERT,
            "no certificate found (expected PEM `BEGIN CERTIFICATE` blocks, leaf first)",
        ));
    }
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        invalid(
            key,
            KEY,
            format!("no PEM private key (PKCS#8, PKCS#1 or SEC1) found: {e}"),
        )
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(cert, CERT, e.to_string()))?
        .with_no_client_auth()
        // Also checks that the key matches the leaf certificate.
        .with_single_cert(chain, private)
        .map_err(|e| invalid(key, KEY, format!("does not fit the certificate: {e}")))?;
    // The server speaks HTTP/1.1 only (`conn.rs`).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_invalid_files_name_the_setting() {
        let dir = std::env::temp_dir().join(format!("tollgate-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not pem at all").unwrap();
        let e = server_config(&missing, &junk).unwrap_err().to_string();
        assert!(e.contains("tls_cert") && e.contains("missing.pem"), "{e}");
        let e = server_config(&junk, &missing).unwrap_err().to_string();
        assert!(e.contains("tls_key") && e.contains("missing.pem"), "{e}");
        let e = server_config(&junk, &junk).unwrap_err().to_string();
        assert!(
            e.contains("tls_cert") && e.contains("no certificate"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

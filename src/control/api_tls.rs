//! TLS for the remote API (seed 000 5.2 com_ssl_certificate, com_ssl_key,
//! com_ssl_peer_verify, com_ssl_ca) with rustls: the server configuration
//! from PEM files, and a per-connection wrapper that turns socket bytes into
//! WebSocket bytes and back with bounded buffers.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use crate::config::typed::RemoteApiSettings;

/// Plaintext and TLS bytes rustls may buffer per connection.
const BUFFER_LIMIT: usize = 256 * 1024;

fn pem_file(path: &str, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{what} {path}: {e}"))
}

/// The TLS server configuration, or None without com_ssl_certificate.
pub fn server_config(r: &RemoteApiSettings) -> Result<Option<Arc<ServerConfig>>, String> {
    let Some(cert_path) = &r.com_ssl_certificate else { return Ok(None) };
    let key_path = r.com_ssl_key.as_deref().ok_or("com_ssl_key is required with com_ssl_certificate")?;
    let certs = rustls_pemfile::certs(&mut pem_file(cert_path, "com_ssl_certificate")?.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("com_ssl_certificate {cert_path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("com_ssl_certificate {cert_path}: no certificate"));
    }
    let key = rustls_pemfile::private_key(&mut pem_file(key_path, "com_ssl_key")?.as_slice())
        .map_err(|e| format!("com_ssl_key {key_path}: {e}"))?
        .ok_or(format!("com_ssl_key {key_path}: no private key"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().map_err(|e| e.to_string())?;
    let builder = if r.com_ssl_peer_verify {
        // Seed 000 5.2: verify the client's certificate against com_ssl_ca.
        let ca_path = r.com_ssl_ca.as_deref().ok_or("com_ssl_peer_verify needs com_ssl_ca")?;
        let mut roots = RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut pem_file(ca_path, "com_ssl_ca")?.as_slice()) {
            roots.add(c.map_err(|e| format!("com_ssl_ca {ca_path}: {e}"))?).map_err(|e| format!("com_ssl_ca {ca_path}: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider).build().map_err(|e| format!("com_ssl_ca: {e}"))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let cfg = builder.with_single_cert(certs, key).map_err(|e| format!("com_ssl_certificate / com_ssl_key: {e}"))?;
    Ok(Some(Arc::new(cfg)))
}

/// One TLS connection's record layer.
pub struct TlsSession {
    conn: ServerConnection,
}

impl TlsSession {
    /// A server-side session for a new socket.
    pub fn new(cfg: &Arc<ServerConfig>) -> io::Result<TlsSession> {
        let mut conn = ServerConnection::new(cfg.clone()).map_err(io::Error::other)?;
        conn.set_buffer_limit(Some(BUFFER_LIMIT));
        Ok(TlsSession { conn })
    }

    /// Feeds TLS bytes read from the socket; calls `plain` with each decrypted chunk.
    /// Err: a TLS alert or a closed stream (the caller drops the connection after flushing).
    pub fn handle_tls(&mut self, mut data: &[u8], plain: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let mut buf = [0u8; 16 * 1024];
        while !data.is_empty() {
            if self.conn.read_tls(&mut data)? == 0 {
                break;
            }
            self.conn.process_new_packets().map_err(io::Error::other)?;
            loop {
                match self.conn.reader().read(&mut buf) {
                    Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => plain(buf.get(..n).unwrap_or_default()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Encrypts as much of `plain` as the buffer limit allows; returns the bytes taken.
    pub fn write_plain(&mut self, plain: &[u8]) -> io::Result<usize> {
        self.conn.writer().write(plain)
    }

    /// Writes pending TLS records to `sock` until it would block.
    pub fn write_tls(&mut self, sock: &mut dyn Write) -> io::Result<()> {
        while self.conn.wants_write() {
            match self.conn.write_tls(sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

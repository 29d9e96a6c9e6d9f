//! The remote API server's settings from the configuration (seed 000 5.2
//! com_addr, com_name, com_auth, com_logs_lock, com_ssl_*).

use std::net::SocketAddr;
use std::sync::Arc;

use crate::api::{ApiConfig, ApiServer, AuthConfig, ServerConfig};
use crate::config::typed::Config;

/// What the remote API listens with.
pub struct ApiListen {
    /// com_addr.
    pub addr: SocketAddr,
    /// The sans-IO server.
    pub server: ApiServer,
    /// TLS settings when com_ssl_certificate is set (never plaintext then).
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// The API listener settings, or None when com_addr is not set.
pub fn server(cfg: &Config) -> Result<Option<ApiListen>, String> {
    let r = &cfg.remote_api;
    let Some(addr) = r.com_addr else { return Ok(None) };
    let tls = super::api_tls::server_config(r)?;
    let auth = match &r.com_auth {
        None => None,
        Some(a) => {
            let password = match (&a.password, &a.passfile) {
                (Some(p), _) => p.clone(),
                (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| format!("com_auth.passfile {f}: {e}"))?.trim_end_matches(['\r', '\n']).to_owned(),
                (None, None) => return Err("com_auth: password or passfile required".into()),
            };
            Some(AuthConfig { password, unsecure: a.unsecure })
        }
    };
    let api = ApiConfig { name: r.com_name.clone(), auth, logs_locked: r.com_logs_lock, ..ApiConfig::default() };
    let server = ApiServer::new(ServerConfig { api, ..ServerConfig::default() }, seed());
    Ok(Some(ApiListen { addr, server, tls }))
}

/// 32 bytes from the OS for the challenge generator.
fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut s);
    }
    s
}

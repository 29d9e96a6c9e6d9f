//! The remote API server's settings from the configuration (seed 000 5.2
//! com_addr, com_name, com_auth, com_logs_lock, com_ssl_*).

use std::net::SocketAddr;

use crate::api::{ApiConfig, ApiServer, AuthConfig, ServerConfig};
use crate::config::typed::Config;

/// The API listener address and server, or None when com_addr is not set.
pub fn server(cfg: &Config) -> Result<Option<(SocketAddr, ApiServer)>, String> {
    let r = &cfg.remote_api;
    let Some(addr) = r.com_addr else { return Ok(None) };
    if r.com_ssl_certificate.is_some() {
        // Never fall back to plaintext when the operator asked for TLS.
        return Err("com_ssl_certificate: TLS not supported yet for the remote API".into());
    }
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
    Ok(Some((addr, ApiServer::new(ServerConfig { api, ..ServerConfig::default() }, seed()))))
}

/// 32 bytes from the OS for the challenge generator.
fn seed() -> [u8; 32] {
    let mut s = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut s);
    }
    s
}

//! Security mechanism agreement values: Security-Client, Security-Server and
//! Security-Verify (RFC 3329 2.2) with the IPsec-3gpp parameters of 3GPP TS 33.203 annex H.

use super::error::Error;
use super::header::HeaderName;
use super::nameaddr::parse_qvalue;
use super::scan::{is_token_str, parse_u32, unquote, Params};
use super::uri::parse_port;
use super::values::ParamValue;

/// One `sec-mechanism`: `mechanism-name *(SEMI mech-parameters)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecMechanism<'a> {
    /// Mechanism name (`ipsec-3gpp`, `tls`, `digest`, ...).
    pub mechanism: &'a [u8],
    /// Raw parameters.
    pub params: &'a [u8],
}

impl<'a> SecMechanism<'a> {
    /// Parses one sec-mechanism (already split from the comma list).
    pub fn parse(v: &'a [u8]) -> Result<SecMechanism<'a>, Error> {
        let p = ParamValue::parse(v);
        if !is_token_str(p.value) {
            return Err(Error::Bad(HeaderName::SecurityClient));
        }
        Ok(SecMechanism { mechanism: p.value, params: p.params })
    }

    /// Parameters.
    pub fn params(&self) -> Params<'a> {
        Params::new(self.params)
    }

    fn get(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.params().get(name).flatten().map(unquote)
    }

    /// `alg` (integrity: `hmac-md5-96`, `hmac-sha-1-96`)
    pub fn alg(&self) -> Option<&'a [u8]> {
        self.get(b"alg")
    }
    /// `ealg` (encryption: `null`, `aes-cbc`, `des-ede3-cbc`)
    pub fn ealg(&self) -> Option<&'a [u8]> {
        self.get(b"ealg")
    }
    /// `prot` (`esp` / `ah`)
    pub fn prot(&self) -> Option<&'a [u8]> {
        self.get(b"prot")
    }
    /// `mod` (`trans` / `tun` / `UDP-enc-tun`)
    pub fn mode(&self) -> Option<&'a [u8]> {
        self.get(b"mod")
    }
    /// `spi-c`
    pub fn spi_c(&self) -> Option<u32> {
        self.get(b"spi-c").and_then(parse_u32)
    }
    /// `spi-s`
    pub fn spi_s(&self) -> Option<u32> {
        self.get(b"spi-s").and_then(parse_u32)
    }
    /// `port-c`
    pub fn port_c(&self) -> Option<u16> {
        self.get(b"port-c").and_then(parse_port)
    }
    /// `port-s`
    pub fn port_s(&self) -> Option<u16> {
        self.get(b"port-s").and_then(parse_port)
    }
    /// `q` preference in thousandths (RFC 3329 2.2)
    pub fn q(&self) -> Option<u16> {
        self.get(b"q").and_then(parse_qvalue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipsec_3gpp_params() {
        let m = SecMechanism::parse(b"ipsec-3gpp; alg=hmac-sha-1-96; ealg=aes-cbc; spi-c=3929102; spi-s=1203393; port-c=5062; port-s=5064; mod=trans; prot=esp; q=0.1").unwrap();
        assert_eq!(m.mechanism, b"ipsec-3gpp");
        assert_eq!(m.alg(), Some(&b"hmac-sha-1-96"[..]));
        assert_eq!(m.ealg(), Some(&b"aes-cbc"[..]));
        assert_eq!((m.spi_c(), m.spi_s()), (Some(3929102), Some(1203393)));
        assert_eq!((m.port_c(), m.port_s()), (Some(5062), Some(5064)));
        assert_eq!(m.mode(), Some(&b"trans"[..]));
        assert_eq!(m.prot(), Some(&b"esp"[..]));
        assert_eq!(m.q(), Some(100));
        assert!(SecMechanism::parse(b";alg=x").is_err());
    }
}

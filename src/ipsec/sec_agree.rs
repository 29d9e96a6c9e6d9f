//! Security mechanism agreement for IMS access (RFC 3329; TS 33.203 7.1-7.2; TS 24.229
//! 5.2.2): choose the `ipsec-3gpp` algorithms from the UE's Security-Client offer, produce
//! the P-CSCF's Security-Server value and the four SAs, and check the Security-Verify echo.

use core::fmt;

use super::sa::{Direction, SaParams};
use crate::auth::ipsec_keys::{ck_esp, ik_esp, EncrAlg, EspKey, IntegAlg};

/// Most algorithms per configured list (each known name at most once).
const MAX_ALGS: usize = 3;

/// A sec-mechanism name (RFC 3329 2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// `ipsec-3gpp` (TS 33.203 Annex H).
    Ipsec3gpp,
    /// `digest`, `tls`, `ipsec-ike`, ...: not offered by this core.
    Other,
}

/// An integrity algorithm token (`alg`); `null` is accepted where the configuration lists
/// it (lteims `ipsec_aalg_list`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aalg {
    /// No integrity.
    Null,
    /// An HMAC-*-96 transform.
    Hmac(IntegAlg),
}

impl Aalg {
    /// Parses the token (case-insensitive).
    pub fn from_name(name: &[u8]) -> Option<Aalg> {
        if name.eq_ignore_ascii_case(b"null") {
            return Some(Aalg::Null);
        }
        IntegAlg::from_name(name).map(Aalg::Hmac)
    }

    /// The token.
    pub fn name(self) -> &'static str {
        match self {
            Aalg::Null => "null",
            Aalg::Hmac(a) => a.name(),
        }
    }

    /// The ESP integrity transform, `None` for null.
    pub fn integ(self) -> Option<IntegAlg> {
        match self {
            Aalg::Null => None,
            Aalg::Hmac(a) => Some(a),
        }
    }
}

/// The `mod` parameter (TS 33.203 Annex H; UDP encapsulation per TS 33.203 Annex M and
/// RFC 3948).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EspMode {
    /// `trans`: ESP transport mode directly over IP.
    Transport,
    /// `UDP-enc-tun`: ESP tunnel mode encapsulated in UDP (RFC 3948).
    UdpEncTunnel,
    /// `tun` or anything else: not carried.
    Other,
}

impl EspMode {
    /// Parses the token (case-insensitive).
    pub fn from_name(name: &[u8]) -> EspMode {
        if name.eq_ignore_ascii_case(b"trans") {
            EspMode::Transport
        } else if name.eq_ignore_ascii_case(b"UDP-enc-tun") {
            EspMode::UdpEncTunnel
        } else {
            EspMode::Other
        }
    }

    /// The token.
    pub fn name(self) -> &'static str {
        match self {
            EspMode::Transport => "trans",
            EspMode::UdpEncTunnel => "UDP-enc-tun",
            EspMode::Other => "tun",
        }
    }
}

/// One sec-mechanism, with the `ipsec-3gpp` parameters of TS 33.203 Annex H resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpsecMechanism {
    /// Mechanism name.
    pub mechanism: Mechanism,
    /// `alg`; `None` when absent or unknown (the entry is then unusable).
    pub alg: Option<Aalg>,
    /// `ealg`; absent means NULL (TS 33.203 Annex H); `None` when unknown.
    pub ealg: Option<EncrAlg>,
    /// `spi-c`: SPI of the SA inbound at the sender's protected client port.
    pub spi_c: u32,
    /// `spi-s`: SPI of the SA inbound at the sender's protected server port.
    pub spi_s: u32,
    /// `port-c`: the sender's protected client port.
    pub port_c: u16,
    /// `port-s`: the sender's protected server port.
    pub port_s: u16,
    /// `mod` (TS 33.203 Annex H; `trans` when absent).
    pub mode: EspMode,
    /// `prot=esp` (the default); false for `ah` or other.
    pub esp: bool,
    /// `q` in thousandths (RFC 3329 2.2), when present.
    pub q: Option<u16>,
}

/// The raw parameter values of one sec-mechanism, as the SIP parser gives them
/// (`crate::sip::security::SecMechanism` accessors), to be resolved into an
/// [`IpsecMechanism`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawMechanism<'a> {
    /// Mechanism name.
    pub mechanism: &'a [u8],
    /// `alg` token.
    pub alg: Option<&'a [u8]>,
    /// `ealg` token.
    pub ealg: Option<&'a [u8]>,
    /// `spi-c`.
    pub spi_c: Option<u32>,
    /// `spi-s`.
    pub spi_s: Option<u32>,
    /// `port-c`.
    pub port_c: Option<u16>,
    /// `port-s`.
    pub port_s: Option<u16>,
    /// `mod` token.
    pub mode: Option<&'a [u8]>,
    /// `prot` token.
    pub prot: Option<&'a [u8]>,
    /// `q` in thousandths.
    pub q: Option<u16>,
}

impl RawMechanism<'_> {
    /// Resolves tokens and defaults (TS 33.203 Annex H: `mod` defaults to `trans`, `prot`
    /// to `esp`, an absent `ealg` to NULL); missing SPIs and ports read as 0 (unusable).
    pub fn resolve(&self) -> IpsecMechanism {
        let mechanism = if self.mechanism.eq_ignore_ascii_case(b"ipsec-3gpp") {
            Mechanism::Ipsec3gpp
        } else {
            Mechanism::Other
        };
        IpsecMechanism {
            mechanism,
            alg: self.alg.and_then(Aalg::from_name),
            ealg: self.ealg.map_or(Some(EncrAlg::Null), EncrAlg::from_name),
            spi_c: self.spi_c.unwrap_or(0),
            spi_s: self.spi_s.unwrap_or(0),
            port_c: self.port_c.unwrap_or(0),
            port_s: self.port_s.unwrap_or(0),
            mode: self.mode.map_or(EspMode::Transport, EspMode::from_name),
            esp: self.prot.map_or(true, |p| p.eq_ignore_ascii_case(b"esp")),
            q: self.q,
        }
    }
}

impl<'a> From<&crate::sip::SecMechanism<'a>> for RawMechanism<'a> {
    /// The parameters of a parsed Security-Client / -Server / -Verify entry.
    fn from(m: &crate::sip::SecMechanism<'a>) -> RawMechanism<'a> {
        RawMechanism {
            mechanism: m.mechanism,
            alg: m.alg(),
            ealg: m.ealg(),
            spi_c: m.spi_c(),
            spi_s: m.spi_s(),
            port_c: m.port_c(),
            port_s: m.port_s(),
            mode: m.mode(),
            prot: m.prot(),
            q: m.q(),
        }
    }
}

impl IpsecMechanism {
    /// Usable as an `ipsec-3gpp` offer with known algorithms: ESP, a mode `modes` allows,
    /// SPIs outside 0..=255 (RFC 4303 2.1) and non-zero ports.
    fn usable(&self, modes: &[Option<EspMode>]) -> Option<(Aalg, EncrAlg)> {
        let ok = self.mechanism == Mechanism::Ipsec3gpp
            && self.esp
            && modes.contains(&Some(self.mode))
            && self.spi_c > 255
            && self.spi_s > 255
            && self.port_c != 0
            && self.port_s != 0;
        if !ok {
            return None;
        }
        Some((self.alg?, self.ealg?))
    }
}

/// Header value text (RFC 3329 2.2), e.g. `ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;
/// spi-c=..;spi-s=..;port-c=..;port-s=..;prot=esp;mod=trans;q=0.1`.
impl fmt::Display for IpsecMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.mechanism {
            Mechanism::Ipsec3gpp => "ipsec-3gpp",
            Mechanism::Other => "other",
        })?;
        if let Some(a) = self.alg {
            write!(f, ";alg={}", a.name())?;
        }
        if let Some(e) = self.ealg {
            write!(f, ";ealg={}", e.name())?;
        }
        // SPIs and ports are 0 only in the 494 list of supported mechanisms.
        if self.spi_c != 0 {
            write!(
                f,
                ";spi-c={};spi-s={};port-c={};port-s={}",
                self.spi_c, self.spi_s, self.port_c, self.port_s
            )?;
        }
        f.write_str(if self.esp { ";prot=esp" } else { ";prot=ah" })?;
        write!(f, ";mod={}", self.mode.name())?;
        if let Some(q) = self.q {
            write!(f, ";q={}.{:03}", q / 1000, q % 1000)?;
        }
        Ok(())
    }
}

/// The configured algorithm lists (lteims `ipsec_aalg_list` / `ipsec_ealg_list`), in
/// order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecAgreePolicy {
    aalgs: [Option<Aalg>; MAX_ALGS],
    ealgs: [Option<EncrAlg>; MAX_ALGS],
    modes: [Option<EspMode>; 2],
}

impl SecAgreePolicy {
    /// From the configured names; unknown names (e.g. `aes-gmac`, `aes-gcm`) and repeats
    /// are skipped.
    pub fn from_lists(aalg_list: &[&str], ealg_list: &[&str]) -> SecAgreePolicy {
        let mut p = SecAgreePolicy {
            aalgs: [None; MAX_ALGS],
            ealgs: [None; MAX_ALGS],
            modes: [Some(EspMode::Transport), Some(EspMode::UdpEncTunnel)],
        };
        fill(
            &mut p.aalgs,
            aalg_list
                .iter()
                .filter_map(|n| Aalg::from_name(n.as_bytes())),
        );
        fill(
            &mut p.ealgs,
            ealg_list
                .iter()
                .filter_map(|n| EncrAlg::from_name(n.as_bytes())),
        );
        p
    }

    /// Restricts the accepted `mod` values to those the data plane carries.
    pub fn with_modes(mut self, transport: bool, udp_enc_tunnel: bool) -> SecAgreePolicy {
        self.modes = [
            transport.then_some(EspMode::Transport),
            udp_enc_tunnel.then_some(EspMode::UdpEncTunnel),
        ];
        self
    }

    /// The accepted algorithm pairs and modes as Security-Server entries without SPIs or
    /// ports, for the 494 answer (RFC 3329 2.3.1: the server lists what it supports).
    pub fn offer(&self) -> impl Iterator<Item = IpsecMechanism> + '_ {
        self.pairs().flat_map(move |(a, e)| {
            self.modes.iter().flatten().map(move |mode| IpsecMechanism {
                mechanism: Mechanism::Ipsec3gpp,
                alg: Some(a),
                ealg: Some(e),
                spi_c: 0,
                spi_s: 0,
                port_c: 0,
                port_s: 0,
                mode: *mode,
                esp: true,
                q: None,
            })
        })
    }

    fn pairs(&self) -> impl Iterator<Item = (Aalg, EncrAlg)> + '_ {
        let e = self.ealgs.iter().flatten();
        self.aalgs
            .iter()
            .flatten()
            .flat_map(move |a| e.clone().map(move |e| (*a, *e)))
    }
}

fn fill<T: PartialEq + Copy>(slots: &mut [Option<T>], items: impl Iterator<Item = T>) {
    let mut n = 0;
    for item in items {
        if slots.contains(&Some(item)) {
            continue;
        }
        if let Some(s) = slots.get_mut(n) {
            *s = Some(item);
            n += 1;
        }
    }
}

/// The P-CSCF's own SPIs (allocated by the owning worker's [`super::SpiAllocator`]) and
/// protected ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalSecParams {
    /// SPI of our SA inbound at `port_c`.
    pub spi_c: u32,
    /// SPI of our SA inbound at `port_s`.
    pub spi_s: u32,
    /// Our protected client port.
    pub port_c: u16,
    /// Our protected server port.
    pub port_s: u16,
}

/// Why sec-agree failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecAgreeError {
    /// No usable `ipsec-3gpp` entry with an algorithm pair we accept: answer 494 Security
    /// Agreement Required (RFC 3329 2.3), with our Security-Server.
    NoAcceptable,
    /// Security-Verify does not echo our Security-Server (RFC 3329 2.4): reject.
    VerifyMismatch,
}

/// The outcome of a successful negotiation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// The UE's chosen Security-Client entry.
    pub client: IpsecMechanism,
    /// Our Security-Server value (sent in the 401; echoed in Security-Verify).
    pub server: IpsecMechanism,
}

/// One of the four SAs of TS 33.203 7.1, seen from the P-CSCF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaSpec {
    /// Inbound (UE to us) or outbound.
    pub direction: Direction,
    /// SPI (ours inbound, the UE's outbound).
    pub spi: u32,
    /// Our protected port.
    pub local_port: u16,
    /// The UE's protected port.
    pub ue_port: u16,
    /// Integrity algorithm (`None` for null).
    pub integ: Option<IntegAlg>,
    /// IK_ESP.
    pub integ_key: EspKey,
    /// Encryption algorithm.
    pub encr: EncrAlg,
    /// CK_ESP.
    pub encr_key: EspKey,
}

impl SaSpec {
    /// The parameters to build the [`super::Sa`].
    pub fn params(&self, replay_window: u16) -> SaParams<'_> {
        SaParams {
            spi: self.spi,
            direction: self.direction,
            integ: self.integ,
            integ_key: self.integ_key.as_slice(),
            encr: self.encr,
            encr_key: self.encr_key.as_slice(),
            replay_window,
        }
    }
}

/// TS 33.203 7.1-7.2: picks the first pair of our preference order (integrity list
/// outermost, then encryption) that a usable entry of `offered` carries, and builds our
/// Security-Server value with the same algorithms.
pub fn negotiate(
    policy: &SecAgreePolicy,
    offered: &[IpsecMechanism],
    local: LocalSecParams,
) -> Result<Agreement, SecAgreeError> {
    let client = policy
        .pairs()
        .find_map(|pair| offered.iter().find(|m| m.usable(&policy.modes) == Some(pair)))
        .ok_or(SecAgreeError::NoAcceptable)?;
    let server = IpsecMechanism {
        mechanism: Mechanism::Ipsec3gpp,
        alg: client.alg,
        ealg: client.ealg,
        spi_c: local.spi_c,
        spi_s: local.spi_s,
        port_c: local.port_c,
        port_s: local.port_s,
        // TS 33.203 7.1: the P-CSCF's mode is the one the UE chose.
        mode: client.mode,
        esp: true,
        q: Some(100),
    };
    Ok(Agreement {
        client: *client,
        server,
    })
}

impl Agreement {
    /// The four SAs of TS 33.203 7.1 with keys from IK/CK (Annex I): UE port-c to our
    /// port-s (in, our spi-s) and back (out, UE spi-c); UE port-s to our port-c (in, our
    /// spi-c) and back (out, UE spi-s).
    pub fn sa_specs(&self, ik: &[u8; 16], ck: &[u8; 16]) -> [SaSpec; 4] {
        let (c, s) = (&self.client, &self.server);
        let integ = c.alg.and_then(Aalg::integ);
        let encr = c.ealg.unwrap_or(EncrAlg::Null);
        let integ_key = integ.map(|a| ik_esp(a, ik)).unwrap_or_default();
        let encr_key = ck_esp(encr, ck);
        let spec = |direction, spi, local_port, ue_port| SaSpec {
            direction,
            spi,
            local_port,
            ue_port,
            integ,
            integ_key,
            encr,
            encr_key,
        };
        [
            spec(Direction::Inbound, s.spi_s, s.port_s, c.port_c),
            spec(Direction::Outbound, c.spi_c, s.port_s, c.port_c),
            spec(Direction::Inbound, s.spi_c, s.port_c, c.port_s),
            spec(Direction::Outbound, c.spi_s, s.port_c, c.port_s),
        ]
    }
}

/// RFC 3329 2.4 / TS 33.203 7.2: the protected REGISTER's Security-Verify must list exactly
/// the mechanisms of the Security-Server we sent, in the same order.
pub fn verify_security_verify(
    sent: &[IpsecMechanism],
    received: &[IpsecMechanism],
) -> Result<(), SecAgreeError> {
    if sent == received {
        Ok(())
    } else {
        Err(SecAgreeError::VerifyMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipsec::Sa;

    const CLIENT: RawMechanism<'static> = RawMechanism {
        mechanism: b"ipsec-3gpp",
        alg: Some(b"hmac-sha-1-96"),
        ealg: Some(b"aes-cbc"),
        spi_c: Some(3_929_102),
        spi_s: Some(1_203_393),
        port_c: Some(5062),
        port_s: Some(5064),
        mode: Some(b"trans"),
        prot: Some(b"esp"),
        q: Some(100),
    };

    const LOCAL: LocalSecParams = LocalSecParams {
        spi_c: 0x1001,
        spi_s: 0x1005,
        port_c: 5100,
        port_s: 5102,
    };

    fn offer(alg: &'static [u8], ealg: Option<&'static [u8]>) -> IpsecMechanism {
        RawMechanism {
            alg: Some(alg),
            ealg,
            ..CLIENT
        }
        .resolve()
    }

    #[test]
    fn picks_by_configured_preference() {
        let offered = [
            offer(b"hmac-md5-96", Some(b"des-ede3-cbc")),
            offer(b"hmac-sha-1-96", Some(b"aes-cbc")),
            offer(b"hmac-md5-96", None),
            RawMechanism {
                mechanism: b"digest",
                ..CLIENT
            }
            .resolve(),
        ];
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96", "hmac-md5-96"], &["aes-cbc", "null"]);
        let a = negotiate(&p, &offered, LOCAL).unwrap();
        assert_eq!(a.client, offered[1]);
        let p = SecAgreePolicy::from_lists(&["hmac-md5-96", "aes-gmac"], &["null", "des-ede3-cbc"]);
        let a = negotiate(&p, &offered, LOCAL).unwrap();
        assert_eq!(
            a.client, offered[2],
            "absent ealg is NULL (TS 33.203 Annex H)"
        );
        assert_eq!(a.server.ealg, Some(EncrAlg::Null));
        let p = SecAgreePolicy::from_lists(&["hmac-md5-96"], &["des-ede3-cbc"]);
        assert_eq!(negotiate(&p, &offered, LOCAL).unwrap().client, offered[0]);
    }

    #[test]
    fn no_acceptable_algorithm_means_494() {
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["des-ede3-cbc", "aes-gcm"]);
        let offered = [
            offer(b"hmac-sha-1-96", Some(b"aes-cbc")),
            offer(b"hmac-md5-96", Some(b"des-ede3-cbc")),
        ];
        assert_eq!(
            negotiate(&p, &offered, LOCAL),
            Err(SecAgreeError::NoAcceptable)
        );
        assert_eq!(negotiate(&p, &[], LOCAL), Err(SecAgreeError::NoAcceptable));
        // Usable algorithms but unusable parameters: tunnel mode, AH, reserved SPI, port 0.
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]);
        for bad in [
            RawMechanism {
                mode: Some(b"tun"),
                ..CLIENT
            },
            RawMechanism {
                prot: Some(b"ah"),
                ..CLIENT
            },
            RawMechanism {
                spi_c: Some(255),
                ..CLIENT
            },
            RawMechanism {
                port_s: None,
                ..CLIENT
            },
            RawMechanism {
                alg: Some(b"hmac-sha-256"),
                ..CLIENT
            },
        ] {
            assert_eq!(
                negotiate(&p, &[bad.resolve()], LOCAL),
                Err(SecAgreeError::NoAcceptable)
            );
        }
        // NULL integrity when configured, never together with NULL encryption.
        let p = SecAgreePolicy::from_lists(&["null"], &["null", "aes-cbc"]);
        let a = negotiate(
            &p,
            &[offer(b"null", None), offer(b"null", Some(b"aes-cbc"))],
            LOCAL,
        )
        .unwrap();
        assert_eq!(a.client.ealg, Some(EncrAlg::Null));
        let specs = a.sa_specs(&[1; 16], &[2; 16]);
        assert_eq!(
            Sa::new(&specs[0].params(64)).err(),
            Some(crate::ipsec::EspError::BadKey)
        );
    }

    #[test]
    fn udp_encapsulated_tunnel_mode_when_enabled() {
        let udp = RawMechanism {
            mode: Some(b"udp-enc-tun"),
            ..CLIENT
        }
        .resolve();
        assert_eq!(udp.mode, EspMode::UdpEncTunnel);
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]);
        let a = negotiate(&p.with_modes(false, true), &[CLIENT.resolve(), udp], LOCAL).unwrap();
        assert_eq!(a.client, udp, "the transport entry is skipped");
        assert!(a.server.to_string().contains(";mod=UDP-enc-tun"));
        assert_eq!(
            negotiate(&p.with_modes(false, true), &[CLIENT.resolve()], LOCAL),
            Err(SecAgreeError::NoAcceptable)
        );
        assert_eq!(
            negotiate(&p.with_modes(true, false), &[udp], LOCAL),
            Err(SecAgreeError::NoAcceptable)
        );
        let tun = RawMechanism {
            mode: Some(b"tun"),
            ..CLIENT
        };
        assert_eq!(
            negotiate(&p.with_modes(false, true), &[tun.resolve()], LOCAL),
            Err(SecAgreeError::NoAcceptable)
        );
        let offer: Vec<String> = p.with_modes(false, true).offer().map(|m| m.to_string()).collect();
        assert_eq!(
            offer,
            ["ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=UDP-enc-tun"]
        );
    }

    #[test]
    fn security_server_text_and_verify() {
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]);
        let a = negotiate(&p, &[CLIENT.resolve()], LOCAL).unwrap();
        assert_eq!(
            a.server.to_string(),
            "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=4097;spi-s=4101;port-c=5100;\
             port-s=5102;prot=esp;mod=trans;q=0.100"
        );
        // The UE echoes it (parameters in another order parse to the same value).
        let echo = RawMechanism {
            mechanism: b"IPSEC-3GPP",
            alg: Some(b"hmac-sha-1-96"),
            ealg: Some(b"aes-cbc"),
            spi_c: Some(4097),
            spi_s: Some(4101),
            port_c: Some(5100),
            port_s: Some(5102),
            mode: None,
            prot: None,
            q: Some(100),
        };
        assert_eq!(
            verify_security_verify(&[a.server], &[echo.resolve()]),
            Ok(())
        );
        for bad in [
            RawMechanism {
                spi_s: Some(4102),
                ..echo
            },
            RawMechanism {
                ealg: Some(b"null"),
                ..echo
            },
            RawMechanism {
                port_c: Some(5101),
                ..echo
            },
        ] {
            assert_eq!(
                verify_security_verify(&[a.server], &[bad.resolve()]),
                Err(SecAgreeError::VerifyMismatch)
            );
        }
        assert_eq!(
            verify_security_verify(&[a.server], &[]),
            Err(SecAgreeError::VerifyMismatch)
        );
        assert_eq!(
            verify_security_verify(&[a.server], &[echo.resolve(), echo.resolve()]),
            Err(SecAgreeError::VerifyMismatch)
        );
    }

    #[test]
    fn four_sas_of_ts_33_203() {
        let p = SecAgreePolicy::from_lists(&["hmac-sha-1-96"], &["aes-cbc"]);
        let a = negotiate(&p, &[CLIENT.resolve()], LOCAL).unwrap();
        let (ik, ck) = ([0x5a; 16], [0xa5; 16]);
        let s = a.sa_specs(&ik, &ck);
        let summary: Vec<_> = s
            .iter()
            .map(|x| (x.direction, x.spi, x.local_port, x.ue_port))
            .collect();
        assert_eq!(
            summary,
            [
                (Direction::Inbound, 0x1005, 5102, 5062),
                (Direction::Outbound, 3_929_102, 5102, 5062),
                (Direction::Inbound, 0x1001, 5100, 5064),
                (Direction::Outbound, 1_203_393, 5100, 5064),
            ]
        );
        assert_eq!(
            s[0].integ_key.as_slice(),
            ik_esp(IntegAlg::HmacSha1_96, &ik).as_slice()
        );
        assert_eq!(s[0].integ_key.len(), 20);
        assert_eq!(s[0].encr_key.as_slice(), &ck);
        // Our outbound SA talks to the UE's inbound SA made from the same keys.
        let mut ours = Sa::new(&s[1].params(64)).unwrap();
        let mut ue = Sa::new(&SaParams {
            direction: Direction::Inbound,
            ..s[1].params(64)
        })
        .unwrap();
        let mut buf = [0u8; 128];
        let n = ours
            .encap(
                b"SIP/2.0 200 OK",
                17,
                &mut |iv: &mut [u8]| iv.fill(9),
                &mut buf,
            )
            .unwrap();
        let inner = ue.decap(&mut buf[..n]).unwrap();
        assert_eq!(&buf[inner.payload], b"SIP/2.0 200 OK");
    }
}

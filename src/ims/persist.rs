//! The state `ue_db_filename` keeps across restarts (seed 000 5.2.1): the
//! registrations with their contacts, and each subscriber's SEQ_HE, so a
//! restarted core neither forgets registered UEs nor reuses sequence numbers
//! the USIMs have already seen (TS 33.102 6.3.2 would reject them).
//!
//! The file is JSON, written whole to a temporary file in the same directory,
//! flushed to disk, then renamed over the old one (rename is atomic on
//! POSIX), so a crash leaves either the old or the new state, never a torn
//! file. Expiry times are stored as Unix times and turned back into
//! monotonic deadlines on load; expired contacts are dropped. TCP
//! connections do not survive a restart, so restored TCP contacts are
//! reached by opening a new connection.

use super::bindings::{Bindings, Contact, Flow, Record, RecordKey};
use super::hss::Hss;
use crate::auth::Sqn;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Format version of the file.
pub const VERSION: u32 = 1;
/// Largest state file read back (a bound against a wrong path).
pub const MAX_FILE: u64 = 512 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
struct State {
    version: u32,
    saved_at: u64,
    sqn: Vec<(String, String)>,
    registrations: Vec<SavedRecord>,
    /// Pending SMS (absent in files of older builds).
    #[serde(default)]
    sms: Vec<crate::smsc::SavedMessage>,
}

#[derive(Serialize, Deserialize)]
struct SavedRecord {
    impi: String,
    imei: String,
    emergency: bool,
    impus: Vec<String>,
    contacts: Vec<SavedContact>,
}

#[derive(Serialize, Deserialize)]
struct SavedContact {
    uri: String,
    expires_at: u64,
    q: u16,
    instance: Option<String>,
    imei: Option<String>,
    sms: bool,
    video: bool,
    icsi: Vec<String>,
    path: Vec<String>,
    call_id: String,
    cseq: u32,
    peer: std::net::SocketAddr,
    tcp: bool,
    worker: u16,
    sock: u16,
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Writes the state atomically to `path`.
pub fn save(path: &Path, now: Instant, bindings: &Bindings, hss: &Hss) -> std::io::Result<()> {
    save_with_sms(path, now, bindings, hss, &[])
}

/// Writes the state with the pending SMS atomically to `path`.
pub fn save_with_sms(path: &Path, now: Instant, bindings: &Bindings, hss: &Hss, sms: &[crate::smsc::SavedMessage]) -> std::io::Result<()> {
    let wall = unix_now();
    let to_unix = |t: Instant| wall + t.saturating_duration_since(now).as_secs();
    let mut sqn: Vec<(String, String)> = hss
        .subscribers()
        .filter(|s| s.sim.is_some())
        .map(|s| (s.impi.clone(), format!("{:012x}", s.sqn.current().value())))
        .collect();
    sqn.sort();
    let registrations = bindings
        .records()
        .map(|r| SavedRecord {
            impi: r.key.impi.clone(),
            imei: r.key.imei.clone(),
            emergency: r.key.emergency,
            impus: r.impus.clone(),
            contacts: r
                .contacts
                .iter()
                .map(|c| SavedContact {
                    uri: c.uri.clone(),
                    expires_at: to_unix(c.expires_at),
                    q: c.q,
                    instance: c.instance.clone(),
                    imei: c.imei.clone(),
                    sms: c.sms,
                    video: c.video,
                    icsi: c.icsi.clone(),
                    path: c.path.clone(),
                    call_id: c.call_id.clone(),
                    cseq: c.cseq,
                    peer: c.flow.peer,
                    tcp: c.flow.tcp,
                    worker: c.flow.worker,
                    sock: c.flow.sock,
                })
                .collect(),
        })
        .collect();
    let state = State { version: VERSION, saved_at: wall, sqn, registrations, sms: sms.to_vec() };
    let tmp = temp_path(path);
    {
        let mut f = std::fs::File::create(&tmp)?;
        serde_json::to_writer(&mut f, &state).map_err(std::io::Error::other)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// What a load restored.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Registration records restored.
    pub records: usize,
    /// Contacts dropped because they expired while the core was down.
    pub expired: usize,
    /// Subscribers whose SEQ_HE was restored.
    pub sqns: usize,
}

/// Reads the state back; a missing file is an empty state. Restored records
/// go into `bindings` (their change events are discarded: nothing changed
/// for the UEs).
pub fn load(path: &Path, now: Instant, bindings: &mut Bindings, hss: &mut Hss) -> Result<Restored, String> {
    load_with_sms(path, now, bindings, hss).map(|(r, _)| r)
}

/// [`load`], also returning the pending SMS of the file.
pub fn load_with_sms(path: &Path, now: Instant, bindings: &mut Bindings, hss: &mut Hss) -> Result<(Restored, Vec<crate::smsc::SavedMessage>), String> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Restored::default(), Vec::new())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if meta.len() > MAX_FILE {
        return Err(format!("{}: larger than {MAX_FILE} bytes", path.display()));
    }
    let text = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let state: State = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if state.version != VERSION {
        return Err(format!("{}: unknown format version {}", path.display(), state.version));
    }
    let wall = unix_now();
    let mut out = Restored::default();
    for (impi, hex) in &state.sqn {
        if let Some(sqn) = u64::from_str_radix(hex, 16).ok().and_then(Sqn::new) {
            hss.restore_sqn(impi, sqn);
            out.sqns += 1;
        }
    }
    for r in state.registrations {
        let key = RecordKey { impi: r.impi, imei: r.imei, emergency: r.emergency };
        let mut contacts = Vec::new();
        for c in r.contacts {
            if c.expires_at <= wall {
                out.expired += 1;
                continue;
            }
            contacts.push(Contact {
                uri: c.uri,
                expires_at: now + Duration::from_secs(c.expires_at - wall),
                q: c.q,
                instance: c.instance,
                imei: c.imei,
                sms: c.sms,
                video: c.video,
                icsi: c.icsi,
                path: c.path,
                call_id: c.call_id,
                cseq: c.cseq,
                flow: Flow { worker: c.worker, conn: None, peer: c.peer, tcp: c.tcp, sock: c.sock },
                id: 0,
            });
        }
        if !contacts.is_empty() && bindings.restore(now, Record { key, impus: r.impus, contacts, id: 0 }) {
            out.records += 1;
        }
    }
    while bindings.poll_event().is_some() {}
    Ok((out, state.sms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ims::bindings::ContactUpdate;

    fn contact(uri: &str, now: Instant, secs: u64) -> Contact {
        Contact {
            uri: uri.into(),
            expires_at: now + Duration::from_secs(secs),
            q: 500,
            instance: Some("<urn:gsma:imei:35209900-176148-1>".into()),
            imei: Some("35209900176148".into()),
            sms: true,
            video: false,
            icsi: vec!["urn:urn-7:3gpp-service.ims.icsi.mmtel".into()],
            path: vec!["<sip:pcscf;lr>".into()],
            call_id: "c".into(),
            cseq: 3,
            flow: Flow { worker: 0, conn: Some(9), peer: "127.0.0.1:5062".parse().unwrap(), tcp: true, sock: 0 },
            id: 0,
        }
    }

    #[test]
    fn state_survives_a_round_trip_through_the_file() {
        let dir = std::env::temp_dir().join(format!("ringcore-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ue_db.state");
        let now = Instant::now();
        let mut b = Bindings::new(10);
        let key = RecordKey { impi: "a@ims".into(), imei: String::new(), emergency: false };
        let ups = vec![ContactUpdate { contact: contact("sip:a@1", now, 600), remove: false }];
        b.update(now, &key, &["sip:a@ims".into(), "tel:+1".into()], ups).unwrap();
        let hss = Hss::default();
        save(&path, now, &b, &hss).unwrap();
        assert!(!temp_path(&path).exists(), "the temporary file is renamed away");

        let mut b2 = Bindings::new(10);
        let mut hss2 = Hss::default();
        let r = load(&path, now, &mut b2, &mut hss2).unwrap();
        assert_eq!(r.records, 1);
        let rec = b2.get(&key).unwrap();
        assert_eq!(rec.impus, vec!["sip:a@ims".to_string(), "tel:+1".to_string()]);
        let c = &rec.contacts[0];
        assert_eq!((c.q, c.sms, c.cseq, c.flow.conn), (500, true, 3, None));
        let left = c.expires_at.saturating_duration_since(now).as_secs();
        assert!((598..=600).contains(&left), "{left}");
        assert_eq!(b2.lookup("tel:+1").count(), 1);
        assert!(b2.poll_event().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_an_error() {
        let dir = std::env::temp_dir().join(format!("ringcore-persist-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut b = Bindings::new(10);
        let mut hss = Hss::default();
        assert_eq!(load(&dir.join("none"), Instant::now(), &mut b, &mut hss).unwrap(), Restored::default());
        std::fs::write(dir.join("bad"), b"{not json").unwrap();
        assert!(load(&dir.join("bad"), Instant::now(), &mut b, &mut hss).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

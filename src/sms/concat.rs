//! Concatenated short messages (TS 23.040 9.2.3.24.1): splitting a text into parts with an
//! 8-bit reference header, and a bounded reassembly table driven by the caller's clock.

use super::dcs::{Alphabet, Dcs};
use super::error::Error;
use super::gsm7::{gsm7_decode, gsm7_encode, gsm7_septet_len};
use super::ucs2::{ucs2_decode, ucs2_encode};
use super::udh::{Concat, Udh};
use super::user_data::{Unit, UserData, MAX_UD_OCTETS, MAX_UD_SEPTETS};
use std::time::Instant;

/// Most parts of a concatenated message (the 8-bit part count).
const MAX_PARTS: usize = 255;
/// Septets per part after a 6-octet concatenation header (7 septets with the fill bit).
const SEPTETS_PER_PART: usize = 153;
/// Octets per part after a 6-octet concatenation header.
const OCTETS_PER_PART: usize = 134;

/// A text split into user data parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segments {
    /// The alphabet the parts use: put it in the DCS of every part.
    pub alphabet: Alphabet,
    /// The parts in order; a single part carries no header.
    pub parts: Vec<UserData>,
}

/// Splits `text` into parts: GSM 7-bit when every character is representable (160 septets in
/// one part, else 153 per part, never splitting an escape sequence), otherwise UCS2 (70
/// characters in one part, else 67 UTF-16 units per part, never splitting a surrogate pair).
/// Parts carry an 8-bit concatenation reference header; at most 255 parts ([`Error::TooLong`]).
pub fn segment_text(text: &str, reference: u8) -> Result<Segments, Error> {
    let mut buf = [0u8; MAX_UD_SEPTETS];
    match gsm7_septet_len(text) {
        Ok(_) => {
            let cost = |c: char| {
                if gsm7_septet_len(c.encode_utf8(&mut [0; 4])) == Ok(2) {
                    2
                } else {
                    1
                }
            };
            let chunks = split(text, MAX_UD_SEPTETS, SEPTETS_PER_PART, cost)?;
            let parts = with_headers(&chunks, reference, |chunk, h| {
                let n = gsm7_encode(chunk, &mut buf)?;
                UserData::from_septets(h, &buf[..n])
            })?;
            Ok(Segments {
                alphabet: Alphabet::Gsm7,
                parts,
            })
        }
        Err(_) => {
            let chunks = split(
                text,
                MAX_UD_OCTETS / 2,
                OCTETS_PER_PART / 2,
                char::len_utf16,
            )?;
            let parts = with_headers(&chunks, reference, |chunk, h| {
                let n = ucs2_encode(chunk, &mut buf[..MAX_UD_OCTETS])?;
                UserData::from_octets(h, &buf[..n])
            })?;
            Ok(Segments {
                alphabet: Alphabet::Ucs2,
                parts,
            })
        }
    }
}

/// Splits 8-bit data: 140 octets in one part, else 134 octets per part.
pub fn segment_data(data: &[u8], reference: u8) -> Result<Vec<UserData>, Error> {
    if data.len() <= MAX_UD_OCTETS {
        return Ok(vec![UserData::from_octets(None, data)?]);
    }
    let chunks: Vec<&[u8]> = data.chunks(OCTETS_PER_PART).collect();
    with_headers(&chunks, reference, |chunk, h| {
        UserData::from_octets(h, chunk)
    })
}

/// Cuts `text` at character boundaries into chunks of at most `per_part` units (one chunk when
/// the whole fits `single`).
fn split(
    text: &str,
    single: usize,
    per_part: usize,
    cost: impl Fn(char) -> usize,
) -> Result<Vec<&str>, Error> {
    let total: usize = text.chars().map(&cost).sum();
    if total <= single {
        return Ok(vec![text]);
    }
    let mut chunks = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, c) in text.char_indices() {
        if used + cost(c) > per_part {
            chunks.push(&text[start..i]); // i is a char boundary
            (start, used) = (i, 0);
        }
        used += cost(c);
    }
    chunks.push(&text[start..]);
    if chunks.len() > MAX_PARTS {
        return Err(Error::TooLong);
    }
    Ok(chunks)
}

/// Builds parts, adding the concatenation header when there is more than one.
fn with_headers<T: Copy>(
    chunks: &[T],
    reference: u8,
    mut build: impl FnMut(T, Option<Udh>) -> Result<UserData, Error>,
) -> Result<Vec<UserData>, Error> {
    let total = u8::try_from(chunks.len()).map_err(|_| Error::TooLong)?;
    if total == 1 {
        return chunks.iter().map(|c| build(*c, None)).collect();
    }
    (1..=total)
        .zip(chunks)
        .map(|(seq, c)| {
            let concat = Concat {
                reference: u16::from(reference),
                wide: false,
                total,
                seq,
            };
            build(*c, Some(Udh::with_concat(concat)))
        })
        .collect()
}

/// A complete message out of the reassembly table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled<K> {
    /// The caller's key (e.g. the originating address).
    pub key: K,
    /// The parts in sequence order.
    pub parts: Vec<UserData>,
}

impl<K> Reassembled<K> {
    /// The bodies of all parts joined (septet values or octets).
    pub fn body(&self) -> Vec<u8> {
        self.parts
            .iter()
            .flat_map(|p| p.body().iter().copied())
            .collect()
    }

    /// The text for `dcs`, decoded over the joined bodies (`None` for 8-bit or compressed data).
    pub fn text(&self, dcs: Dcs) -> Option<String> {
        let unit = self.parts.first()?.unit();
        let mut out = String::new();
        match (dcs.alphabet(), unit, dcs.compressed()) {
            (Alphabet::Gsm7, Unit::Septets, false) => gsm7_decode(&self.body(), &mut out),
            (Alphabet::Ucs2, Unit::Octets, false) => ucs2_decode(&self.body(), &mut out),
            _ => return None,
        }
        Some(out)
    }
}

struct Pending<K> {
    key: K,
    reference: u16,
    first_seen: Instant,
    parts: Vec<Option<UserData>>,
    received: usize,
}

/// Bounded reassembly of concatenated messages. It never reads a clock: the caller passes
/// `now` and decides the timeout with [`Reassembler::expire`].
pub struct Reassembler<K> {
    max_pending: usize,
    pending: Vec<Pending<K>>,
}

impl<K: Eq + Clone> Reassembler<K> {
    /// A table holding at most `max_pending` incomplete messages.
    pub fn new(max_pending: usize) -> Self {
        Reassembler {
            max_pending,
            pending: Vec::with_capacity(max_pending),
        }
    }

    /// Incomplete messages held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes one received part from `key`. A part without a (valid) concatenation element is
    /// complete by itself; a duplicate part is dropped; a part whose total disagrees with the
    /// pending message of the same reference restarts it. Returns the message once complete.
    pub fn handle_part(
        &mut self,
        now: Instant,
        key: K,
        part: &UserData,
    ) -> Result<Option<Reassembled<K>>, Error> {
        let concat = match part.header().and_then(Udh::concat) {
            Some(c) if c.is_valid() && c.total > 1 => c,
            _ => {
                return Ok(Some(Reassembled {
                    key,
                    parts: vec![*part],
                }))
            }
        };
        let total = usize::from(concat.total);
        let found = self
            .pending
            .iter()
            .position(|p| p.key == key && p.reference == concat.reference);
        let idx = match found {
            Some(i) if self.pending[i].parts.len() == total => i,
            Some(i) => {
                self.pending[i] = Pending {
                    key,
                    reference: concat.reference,
                    first_seen: now,
                    parts: vec![None; total],
                    received: 0,
                };
                i
            }
            None => {
                if self.pending.len() >= self.max_pending {
                    return Err(Error::ReassemblyFull);
                }
                self.pending.push(Pending {
                    key,
                    reference: concat.reference,
                    first_seen: now,
                    parts: vec![None; total],
                    received: 0,
                });
                self.pending.len() - 1
            }
        };
        let entry = &mut self.pending[idx]; // idx found or pushed above
        let slot = &mut entry.parts[usize::from(concat.seq) - 1]; // 1 <= seq <= total
        if slot.is_none() {
            *slot = Some(*part);
            entry.received += 1;
        }
        if entry.received < total {
            return Ok(None);
        }
        let done = self.pending.swap_remove(idx);
        Ok(Some(Reassembled {
            key: done.key,
            parts: done.parts.into_iter().flatten().collect(),
        }))
    }

    /// The first-seen time of the oldest incomplete message: the caller's timer reference.
    pub fn oldest(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.first_seen).min()
    }

    /// Drops incomplete messages first seen before `deadline`; returns how many.
    pub fn expire(&mut self, deadline: Instant) -> usize {
        let before = self.pending.len();
        self.pending.retain(|p| p.first_seen >= deadline);
        before - self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn short_text_is_one_part_without_header() {
        let s = segment_text(&"a".repeat(160), 1).unwrap();
        assert_eq!((s.alphabet, s.parts.len()), (Alphabet::Gsm7, 1));
        assert!(s.parts[0].header().is_none());
        let s = segment_text(&"é€".repeat(53), 1).unwrap(); // 53 * 3 = 159 septets
        assert_eq!(s.parts.len(), 1);
    }

    #[test]
    fn escape_sequences_are_never_split() {
        // 152 'a' then '€' (2 septets) would straddle septet 153: '€' moves to part 2.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let s = segment_text(&text, 9).unwrap();
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.parts[0].body().len(), 152);
        assert_eq!(s.parts[1].body()[..3], [0x1b, 0x65, 0x62]);
    }

    #[test]
    fn surrogate_pairs_are_never_split() {
        let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(5)); // the pair straddles unit 67
        let s = segment_text(&text, 3).unwrap();
        assert_eq!((s.alphabet, s.parts.len()), (Alphabet::Ucs2, 2));
        assert_eq!(s.parts[0].body().len(), 132);
        assert_eq!(s.parts[1].body()[..4], [0xD8, 0x3D, 0xDE, 0x00]);
        let s = segment_text(&"ж".repeat(70), 3).unwrap();
        assert_eq!(s.parts.len(), 1);
    }

    #[test]
    fn data_and_limits() {
        assert_eq!(segment_data(&[7; 140], 1).unwrap().len(), 1);
        let parts = segment_data(&[7; 141], 1).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body().len(), 134);
        assert_eq!(
            segment_text(&"a".repeat(153 * 255), 1).unwrap().parts.len(),
            255
        );
        assert_eq!(
            segment_text(&"a".repeat(153 * 255 + 1), 1),
            Err(Error::TooLong)
        );
    }

    #[test]
    fn reassembly_out_of_order_with_duplicates_and_bounds() {
        let t0 = Instant::now();
        let text = "x".repeat(400);
        let s = segment_text(&text, 77).unwrap();
        assert_eq!(s.parts.len(), 3);
        let mut r = Reassembler::new(1);
        assert_eq!(r.handle_part(t0, "alice", &s.parts[2]), Ok(None));
        assert_eq!(r.handle_part(t0, "alice", &s.parts[2]), Ok(None));
        assert_eq!(
            r.handle_part(t0, "bob", &s.parts[0]),
            Err(Error::ReassemblyFull)
        );
        assert_eq!(r.handle_part(t0, "alice", &s.parts[0]), Ok(None));
        let done = r.handle_part(t0, "alice", &s.parts[1]).unwrap().unwrap();
        assert_eq!(done.text(Dcs::GSM7).as_deref(), Some(text.as_str()));
        assert_eq!(r.pending(), 0);

        assert_eq!(r.handle_part(t0, "bob", &s.parts[0]), Ok(None));
        assert_eq!(r.oldest(), Some(t0));
        assert_eq!(r.expire(t0), 0);
        assert_eq!(r.expire(t0 + Duration::from_secs(1)), 1);
        assert_eq!(r.pending(), 0);
    }
}

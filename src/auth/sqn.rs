//! Sequence numbers for AKA (TS 33.102 6.3.2, 6.3.5 and Annex C).
//!
//! SQN is a 48-bit integer split as SEQ || IND (Annex C.1.1), IND being the low
//! `ind_bits` bits (5 by default). [`HeSqn`] is the network side (SEQ_HE counter per
//! subscriber, fresh SQN generation, resynchronisation); [`UeSqnStore`] is the USIM side
//! used by ringload's emulated UEs (array of SEQ_MS per IND, Δ and L limits, C.2).

use super::AuthError;

/// Largest SQN value (48 bits).
pub const SQN_MAX: u64 = (1 << 48) - 1;
/// Largest supported IND length; bounds the UE-side array to 32 entries.
pub const MAX_IND_BITS: u8 = 5;
/// Recommended Δ (TS 33.102 C.2.1): 2^28.
pub const DEFAULT_DELTA: u64 = 1 << 28;

/// Mask of the low `ind_bits` bits (all ones from 64 bits on).
const fn ind_mask(ind_bits: u8) -> u64 {
    match 1u64.checked_shl(ind_bits as u32) {
        Some(v) => v - 1,
        None => u64::MAX,
    }
}

/// A 48-bit sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sqn(u64);

impl Sqn {
    /// The SQN with this value, or `None` if it does not fit in 48 bits.
    pub const fn new(value: u64) -> Option<Sqn> {
        if value > SQN_MAX {
            None
        } else {
            Some(Sqn(value))
        }
    }

    /// The integer value (< 2^48).
    pub const fn value(self) -> u64 {
        self.0
    }

    /// From the 6-byte big-endian wire form.
    pub const fn from_bytes(b: [u8; 6]) -> Sqn {
        Sqn(((b[0] as u64) << 40)
            | ((b[1] as u64) << 32)
            | ((b[2] as u64) << 24)
            | ((b[3] as u64) << 16)
            | ((b[4] as u64) << 8)
            | (b[5] as u64))
    }

    /// From a slice that must be exactly 6 bytes.
    pub fn from_slice(s: &[u8]) -> Result<Sqn, AuthError> {
        let b: [u8; 6] = s.try_into().map_err(|_| AuthError::BadSqn)?;
        Ok(Sqn::from_bytes(b))
    }

    /// The 6-byte big-endian wire form.
    pub const fn to_bytes(self) -> [u8; 6] {
        let v = self.0.to_be_bytes();
        [v[2], v[3], v[4], v[5], v[6], v[7]]
    }

    /// SEQ part (Annex C.1.1: SQN = SEQ || IND).
    pub const fn seq(self, ind_bits: u8) -> u64 {
        match self.0.checked_shr(ind_bits as u32) {
            Some(v) => v,
            None => 0,
        }
    }

    /// IND part (the low `ind_bits` bits).
    pub const fn ind(self, ind_bits: u8) -> u32 {
        (self.0 & ind_mask(ind_bits)) as u32
    }

    /// SEQ || IND, SEQ being truncated to the 48 - `ind_bits` bits available.
    pub const fn from_seq_ind(seq: u64, ind: u32, ind_bits: u8) -> Sqn {
        let seq = match seq.checked_shl(ind_bits as u32) {
            Some(v) => v,
            None => 0,
        };
        Sqn((seq | (ind as u64 & ind_mask(ind_bits))) & SQN_MAX)
    }
}

/// SQN management parameters (TS 33.102 Annex C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SqnParams {
    /// Length of IND in bits (C.1.1; 5 recommended), at most [`MAX_IND_BITS`].
    pub ind_bits: u8,
    /// Δ: largest accepted jump of SEQ above the highest accepted SEQ (C.2.1).
    pub delta: u64,
    /// L: optional limit on the age of an accepted SEQ (C.2.2); `None` disables it.
    pub age_limit: Option<u64>,
}

impl SqnParams {
    /// IND of 5 bits, Δ = 2^28, no age limit.
    pub const DEFAULT: SqnParams = SqnParams {
        ind_bits: 5,
        delta: DEFAULT_DELTA,
        age_limit: None,
    };

    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), AuthError> {
        if self.ind_bits > MAX_IND_BITS || self.delta == 0 {
            return Err(AuthError::BadSqnParams);
        }
        Ok(())
    }

    fn seq_max(&self) -> u64 {
        SQN_MAX >> self.ind_bits
    }
}

impl Default for SqnParams {
    fn default() -> Self {
        SqnParams::DEFAULT
    }
}

/// Network-side SQN state of one subscriber (HE/AuC, Annex C.1 and C.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeSqn {
    params: SqnParams,
    /// SEQ_HE: the SEQ of the last SQN handed out.
    seq_he: u64,
    /// IND of the last SQN handed out.
    ind: u32,
}

impl HeSqn {
    /// Starts from `last` (the configured initial SQN, taken as the last one used).
    pub fn new(last: Sqn, params: SqnParams) -> Result<HeSqn, AuthError> {
        params.validate()?;
        Ok(HeSqn {
            params,
            seq_he: last.seq(params.ind_bits),
            ind: last.ind(params.ind_bits),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &SqnParams {
        &self.params
    }

    /// SQN of the last vector generated (SEQ_HE || IND).
    pub fn current(&self) -> Sqn {
        Sqn::from_seq_ind(self.seq_he, self.ind, self.params.ind_bits)
    }

    /// A fresh SQN for a new authentication vector.
    pub fn next_sqn(&mut self) -> Sqn {
        // C.1.2 / C.3.2 (non time-based): SEQ_HE is incremented for every vector, so a
        // fresh SQN is always above every SEQ_MS(i) the USIM holds.
        self.seq_he = (self.seq_he + 1) & self.params.seq_max();
        // C.1.3: IND values are allocated cyclically.
        let ind_count = 1u32 << self.params.ind_bits;
        self.ind = (self.ind + 1) % ind_count;
        self.current()
    }

    /// Resynchronisation with the SQN_MS recovered from an AUTS (TS 33.102 6.3.5).
    pub fn resync(&mut self, sqn_ms: Sqn) {
        let seq_ms = sqn_ms.seq(self.params.ind_bits);
        let next = self.seq_he.saturating_add(1);
        // 6.3.5: if the next SQN_HE would be accepted by the USIM (fresh and within Δ of
        // the highest accepted SEQ), keep the counter; otherwise reset SEQ_HE := SEQ_MS
        // (C.3.4) so the next vector is SEQ_MS + 1.
        let acceptable = next > seq_ms && next - seq_ms <= self.params.delta;
        if !acceptable {
            self.seq_he = seq_ms;
            self.ind = sqn_ms.ind(self.params.ind_bits);
        }
    }
}

/// Why the USIM rejected an SQN (TS 33.102 C.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqnReject {
    /// SEQ <= SEQ_MS(IND): replayed or older than the array entry (C.2.2).
    NotFresh,
    /// SEQ - SEQ_MS > Δ (C.2.1 wrap-around protection).
    TooFarAhead,
    /// SEQ_MS - SEQ >= L (C.2.2 age limit).
    TooOld,
}

/// USIM-side SQN store for an emulated UE (TS 33.102 C.2): one SEQ_MS per IND.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeSqnStore {
    params: SqnParams,
    /// SEQ_MS(i) for each IND value i (entries past 2^ind_bits stay unused).
    seq_ms: [u64; 1 << MAX_IND_BITS],
    /// Highest SQN accepted so far; sent back as SQN_MS in AUTS (6.3.3).
    highest: Sqn,
}

impl UeSqnStore {
    /// A store whose every entry starts at `initial` (usually 0).
    pub fn new(initial: Sqn, params: SqnParams) -> Result<UeSqnStore, AuthError> {
        params.validate()?;
        let seq = initial.seq(params.ind_bits);
        Ok(UeSqnStore {
            params,
            seq_ms: [seq; 1 << MAX_IND_BITS],
            highest: initial,
        })
    }

    /// SQN_MS: the highest previously accepted SQN.
    pub fn sqn_ms(&self) -> Sqn {
        self.highest
    }

    /// Checks `sqn` without recording it (C.2.1 and C.2.2).
    pub fn check(&self, sqn: Sqn) -> Result<(), SqnReject> {
        let p = &self.params;
        let seq = sqn.seq(p.ind_bits);
        let i = sqn.ind(p.ind_bits) as usize;
        // ind < 2^ind_bits <= 32 = array length, so `get` never misses; stay total anyway.
        let entry = self.seq_ms.get(i).copied().unwrap_or(u64::MAX);
        let seq_highest = self.highest.seq(p.ind_bits);
        if seq > seq_highest && seq - seq_highest > p.delta {
            return Err(SqnReject::TooFarAhead);
        }
        if seq <= entry {
            return Err(SqnReject::NotFresh);
        }
        if let Some(l) = p.age_limit {
            if seq_highest >= seq && seq_highest - seq >= l {
                return Err(SqnReject::TooOld);
            }
        }
        Ok(())
    }

    /// Checks `sqn` and, if accepted, records it: SEQ_MS(IND) := SEQ.
    pub fn accept(&mut self, sqn: Sqn) -> Result<(), SqnReject> {
        self.check(sqn)?;
        let p = self.params;
        if let Some(e) = self.seq_ms.get_mut(sqn.ind(p.ind_bits) as usize) {
            *e = sqn.seq(p.ind_bits);
        }
        if sqn.seq(p.ind_bits) > self.highest.seq(p.ind_bits) {
            self.highest = sqn;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> SqnParams {
        SqnParams::DEFAULT
    }

    #[test]
    fn bytes_round_trip() {
        let s = Sqn::from_bytes([0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07]);
        assert_eq!(s.value(), 0xff9b_b4d0_b607);
        assert_eq!(s.to_bytes(), [0xff, 0x9b, 0xb4, 0xd0, 0xb6, 0x07]);
        assert!(Sqn::new(1 << 48).is_none());
        assert!(Sqn::from_slice(&[1, 2, 3]).is_err());
    }

    #[test]
    fn seq_ind_split() {
        let s = Sqn::from_seq_ind(7, 3, 5);
        assert_eq!(s.value(), (7 << 5) | 3);
        assert_eq!(s.seq(5), 7);
        assert_eq!(s.ind(5), 3);
        // Out-of-range IND lengths do not panic.
        assert_eq!(s.seq(70), 0);
        assert_eq!(Sqn::from_seq_ind(1, 1, 200).value(), 1);
    }

    #[test]
    fn he_generates_increasing_cyclic_ind() {
        let mut he = HeSqn::new(Sqn::default(), p()).unwrap();
        let a = he.next_sqn();
        let b = he.next_sqn();
        assert_eq!((a.seq(5), a.ind(5)), (1, 1));
        assert_eq!((b.seq(5), b.ind(5)), (2, 2));
        for _ in 0..30 {
            he.next_sqn();
        }
        assert_eq!(he.current().ind(5), 0);
    }

    #[test]
    fn ue_rejects_replay_and_accepts_fresh() {
        let mut he = HeSqn::new(Sqn::default(), p()).unwrap();
        let mut ue = UeSqnStore::new(Sqn::default(), p()).unwrap();
        let s1 = he.next_sqn();
        assert_eq!(ue.accept(s1), Ok(()));
        assert_eq!(ue.accept(s1), Err(SqnReject::NotFresh));
        let s2 = he.next_sqn();
        assert_eq!(ue.accept(s2), Ok(()));
        assert_eq!(ue.sqn_ms(), s2);
    }

    #[test]
    fn ue_accepts_out_of_order_with_distinct_ind() {
        let mut he = HeSqn::new(Sqn::default(), p()).unwrap();
        let mut ue = UeSqnStore::new(Sqn::default(), p()).unwrap();
        let s1 = he.next_sqn();
        let s2 = he.next_sqn();
        assert_eq!(ue.accept(s2), Ok(()));
        // C.2.2: an older vector with another IND is still fresh for its array entry.
        assert_eq!(ue.accept(s1), Ok(()));
        assert_eq!(ue.sqn_ms(), s2);
    }

    #[test]
    fn ue_delta_and_age_limits() {
        let params = SqnParams {
            ind_bits: 5,
            delta: 10,
            age_limit: Some(3),
        };
        let mut ue = UeSqnStore::new(Sqn::default(), params).unwrap();
        assert_eq!(
            ue.accept(Sqn::from_seq_ind(11, 0, 5)),
            Err(SqnReject::TooFarAhead)
        );
        assert_eq!(ue.accept(Sqn::from_seq_ind(10, 0, 5)), Ok(()));
        assert_eq!(
            ue.accept(Sqn::from_seq_ind(7, 1, 5)),
            Err(SqnReject::TooOld)
        );
        assert_eq!(ue.accept(Sqn::from_seq_ind(8, 1, 5)), Ok(()));
    }

    #[test]
    fn he_resync_resets_only_when_needed() {
        let mut he = HeSqn::new(Sqn::from_seq_ind(100, 0, 5), p()).unwrap();
        // USIM far ahead: reset to SEQ_MS, next vector is SEQ_MS + 1.
        he.resync(Sqn::from_seq_ind(5000, 4, 5));
        assert_eq!(he.next_sqn().seq(5), 5001);
        // USIM behind: the next SQN would be accepted, keep counting.
        he.resync(Sqn::from_seq_ind(10, 0, 5));
        assert_eq!(he.next_sqn().seq(5), 5002);
    }

    #[test]
    fn params_validated() {
        let bad = SqnParams {
            ind_bits: 6,
            ..SqnParams::DEFAULT
        };
        assert_eq!(
            HeSqn::new(Sqn::default(), bad),
            Err(AuthError::BadSqnParams)
        );
    }
}

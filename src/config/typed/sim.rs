//! SIM authentication algorithm and keys of a `ue_db` entry (seed 001
//! 5.2.1: `sim_algo` xor / miln / tuak, `K`, `op`/`opc`, `r`, `c`,
//! `top`/`topc`, `keccak_iter`), as fixed-size byte arrays.

use serde::Serialize;

use super::common::Hex;
use super::reader::{Ctx, Field, Obj};

/// Milenage operator key: OP, or OPc already derived from K (TS 35.206 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MilenageOp {
    /// OP.
    #[serde(rename = "op")]
    Op(Hex<16>),
    /// OPc.
    #[serde(rename = "opc")]
    Opc(Hex<16>),
}

/// TUAK operator key: TOP, or TOPc derived from K (TS 35.231 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TuakOp {
    /// TOP.
    #[serde(rename = "top")]
    Top(Hex<32>),
    /// TOPc.
    #[serde(rename = "topc")]
    Topc(Hex<32>),
}

/// TUAK subscriber key: 128 or 256 bits (TS 35.231 6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TuakKey {
    /// 128-bit K.
    K128(Hex<16>),
    /// 256-bit K.
    K256(Hex<32>),
}

/// TS 35.206 4.1 default rotation constants r1..r5 (in bits).
pub const MILENAGE_R: [u8; 5] = [64, 0, 32, 64, 96];

/// TS 35.206 4.1 default constants c1..c5 (c1 = 0, ck = 1 << (k - 2) in the last byte).
pub const MILENAGE_C: [Hex<16>; 5] = {
    let mut c = [Hex([0u8; 16]); 5];
    c[1].0[15] = 1;
    c[2].0[15] = 2;
    c[3].0[15] = 4;
    c[4].0[15] = 8;
    c
};

/// The algorithm and its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "sim_algo")]
pub enum Sim {
    /// The XOR test algorithm of test USIMs (TS 34.108 8.1.2).
    #[serde(rename = "xor")]
    Xor {
        /// K.
        #[serde(rename = "K")]
        k: Hex<16>,
    },
    /// Milenage (TS 35.205/35.206).
    #[serde(rename = "miln")]
    Milenage {
        /// K.
        #[serde(rename = "K")]
        k: Hex<16>,
        /// OP or OPc.
        #[serde(flatten)]
        op: MilenageOp,
        /// r1..r5.
        r: [u8; 5],
        /// c1..c5.
        c: [Hex<16>; 5],
    },
    /// TUAK (TS 35.231).
    #[serde(rename = "tuak")]
    Tuak {
        /// K.
        #[serde(rename = "K")]
        k: TuakKey,
        /// TOP or TOPc.
        #[serde(flatten)]
        op: TuakOp,
        /// Keccak permutations (default 1).
        keccak_iter: u32,
    },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Algo {
    Xor,
    Miln,
    Tuak,
}

/// Properties of the other algorithms, reported as ignored.
const MILN_ONLY: [&str; 4] = ["op", "opc", "r", "c"];
const TUAK_ONLY: [&str; 3] = ["top", "topc", "keccak_iter"];

impl Sim {
    /// Reads `sim_algo` and the keys; `None` when `K` is absent (MD5 or
    /// unauthenticated users). `res_len` is checked against the algorithm.
    pub(crate) fn read(ctx: &mut Ctx, o: &mut Obj<'_>, res_len: u8) -> Option<Sim> {
        let table = [("xor", Algo::Xor), ("miln", Algo::Miln), ("tuak", Algo::Tuak)];
        let algo = o.enumeration(ctx, "sim_algo", Algo::Xor, &table);
        let ignored: &[&str] = match algo {
            Algo::Xor => &["op", "opc", "r", "c", "top", "topc", "keccak_iter"],
            Algo::Miln => &TUAK_ONLY,
            Algo::Tuak => &MILN_ONLY,
        };
        for name in ignored {
            if let Some(f) = o.take(ctx, name) {
                ctx.warn(&f.v.loc, &f.path, "not used by this sim_algo, ignored");
            }
        }
        let res_ok = match algo {
            Algo::Xor => true,
            // f2 of Milenage yields 64 bits (TS 35.206 4.1).
            Algo::Miln => res_len <= 8,
            // TS 35.231 6.1: RES is 32, 64, 128 or 256 bits; the manual allows 4, 8, 16 bytes.
            Algo::Tuak => matches!(res_len, 4 | 8 | 16),
        };
        if !res_ok {
            ctx.error(o.loc(), o.path(), format!("res_len {res_len} not supported by this sim_algo"));
        }
        let k = o.take(ctx, "K")?;
        match algo {
            Algo::Xor => Some(Sim::Xor { k: k.hex(ctx)? }),
            Algo::Miln => read_milenage(ctx, o, &k),
            Algo::Tuak => read_tuak(ctx, o, &k),
        }
    }
}

fn read_milenage(ctx: &mut Ctx, o: &mut Obj<'_>, k: &Field<'_>) -> Option<Sim> {
    let k = k.hex(ctx);
    let op = match (o.take(ctx, "op"), o.take(ctx, "opc")) {
        (Some(op), None) => op.hex(ctx).map(MilenageOp::Op),
        (None, Some(opc)) => opc.hex(ctx).map(MilenageOp::Opc),
        (Some(_), Some(opc)) => {
            ctx.error(&opc.v.loc, &opc.path, "op and opc are both set, set only one");
            None
        }
        (None, None) => {
            ctx.error(o.loc(), o.path(), "missing required property op or opc (sim_algo miln)");
            None
        }
    };
    let r = o.take(ctx, "r").map_or(Some(MILENAGE_R), |f| read_five(ctx, &f, |ctx, f| f.int(ctx, 0..=127)));
    let c = o.take(ctx, "c").map_or(Some(MILENAGE_C), |f| read_five(ctx, &f, |ctx, f| f.hex(ctx)));
    Some(Sim::Milenage { k: k?, op: op?, r: r?, c: c? })
}

fn read_tuak(ctx: &mut Ctx, o: &mut Obj<'_>, k: &Field<'_>) -> Option<Sim> {
    let k = match k.str(ctx).map(str::len) {
        Some(64) => k.hex(ctx).map(TuakKey::K256),
        Some(_) => k.hex(ctx).map(TuakKey::K128),
        None => None,
    };
    let op = match (o.take(ctx, "top"), o.take(ctx, "topc")) {
        (Some(top), None) => top.hex(ctx).map(TuakOp::Top),
        (None, Some(topc)) => topc.hex(ctx).map(TuakOp::Topc),
        (Some(_), Some(topc)) => {
            ctx.error(&topc.v.loc, &topc.path, "top and topc are both set, set only one");
            None
        }
        (None, None) => {
            ctx.error(o.loc(), o.path(), "missing required property top or topc (sim_algo tuak)");
            None
        }
    };
    let keccak_iter = o.int(ctx, "keccak_iter", 1, 1..=i64::from(i32::MAX));
    Some(Sim::Tuak { k: k?, op: op?, keccak_iter })
}

/// An array of exactly five items read by `item`.
fn read_five<'a, T: Copy + Default>(
    ctx: &mut Ctx,
    f: &Field<'a>,
    item: impl Fn(&mut Ctx, &Field<'a>) -> Option<T>,
) -> Option<[T; 5]> {
    let items = f.array(ctx)?;
    if items.len() != 5 {
        ctx.error(&f.v.loc, &f.path, format!("expected array of 5 items, got {}", items.len()));
        return None;
    }
    let mut out = [T::default(); 5];
    let mut ok = true;
    for (slot, it) in out.iter_mut().zip(&items) {
        match item(ctx, it) {
            Some(v) => *slot = v,
            None => ok = false,
        }
    }
    ok.then_some(out)
}

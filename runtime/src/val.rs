//! Host-side values ([`Val`], [`FuncAddr`]), their conversion to and from the
//! raw 16-byte slots ([`ValRaw`]) generated code uses, and the set of
//! function reference addresses a store may hand out ([`FuncRefSet`]).
//!
//! This file only converts and checks values; it must not read or write
//! memories, tables or globals.

use crate::abi::{FuncRef, ValRaw, ValType};
use std::ptr::NonNull;

/// The address of a function reference record ([`FuncRef`]) inside an
/// instance, as `ref.func` produces it and tables store it.
///
/// Only the runtime creates these. One stays meaningful while the store it
/// came from lives, and is only accepted by that store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FuncAddr(NonNull<FuncRef>);

impl FuncAddr {
    /// The address as generated code sees it.
    pub fn as_ptr(self) -> *const FuncRef {
        self.0.as_ptr()
    }

    fn from_bits(bits: u64) -> Option<FuncAddr> {
        NonNull::new(bits as usize as *mut FuncRef).map(FuncAddr)
    }
}

/// A WebAssembly value as the host sees it. Floats are kept as their bits so
/// NaN payloads survive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val {
    /// An `i32`.
    I32(i32),
    /// An `i64`.
    I64(i64),
    /// An `f32`, as bits.
    F32(u32),
    /// An `f64`, as bits.
    F64(u64),
    /// A `funcref`; `None` is `ref.null func`.
    FuncRef(Option<FuncAddr>),
    /// An `externref` carrying a host handle; `None` is `ref.null extern`.
    ExternRef(Option<u32>),
    /// A `v128`: its 16 bytes, read as a little-endian number (lane 0 in
    /// the low bits).
    V128(u128),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::V128(_) => ValType::V128,
        }
    }

    /// The value in the raw representation (low bytes, little-endian; an
    /// externref handle `h` becomes `h + 1`, null becomes 0; a `v128` fills
    /// the slot).
    pub(crate) fn to_raw(self) -> ValRaw {
        match self {
            Val::I32(v) => raw_from_u64(u64::from(v as u32)),
            Val::F32(v) => raw_from_u64(u64::from(v)),
            Val::I64(v) => raw_from_u64(v as u64),
            Val::F64(v) => raw_from_u64(v),
            Val::FuncRef(f) => raw_from_u64(f.map_or(0, |f| f.as_ptr() as usize as u64)),
            Val::ExternRef(h) => raw_from_u64(h.map_or(0, |h| u64::from(h) + 1)),
            Val::V128(v) => ValRaw(v.to_le_bytes()),
        }
    }

    /// Reads a value of type `ty` from its raw representation.
    pub(crate) fn from_raw(raw: ValRaw, ty: ValType) -> Val {
        let bits = raw_to_u64(raw);
        match ty {
            ValType::I32 => Val::I32(bits as u32 as i32),
            ValType::I64 => Val::I64(bits as i64),
            ValType::F32 => Val::F32(bits as u32),
            ValType::F64 => Val::F64(bits),
            ValType::FuncRef => Val::FuncRef(FuncAddr::from_bits(bits)),
            ValType::ExternRef => Val::ExternRef(bits.checked_sub(1).map(|h| h as u32)),
            ValType::V128 => Val::V128(u128::from_le_bytes(raw.0)),
        }
    }

    /// The function reference this value carries, if it is a non-null funcref.
    pub(crate) fn func_addr(self) -> Option<FuncAddr> {
        match self {
            Val::FuncRef(f) => f,
            _ => None,
        }
    }
}

/// A raw slot holding `bits` in its low eight bytes and zeros above.
pub(crate) fn raw_from_u64(bits: u64) -> ValRaw {
    let mut raw = ValRaw::default();
    raw.0[..8].copy_from_slice(&bits.to_le_bytes());
    raw
}

/// The low eight bytes of a raw slot.
pub(crate) fn raw_to_u64(raw: ValRaw) -> u64 {
    let mut low = [0; 8];
    low.copy_from_slice(&raw.0[..8]);
    u64::from_le_bytes(low)
}

/// Checks that `vals` has the types `types`, and that every function
/// reference among them is one `refs` knows. `what` names the list in the
/// error ("arguments", "results").
pub(crate) fn check_vals(
    types: &[ValType],
    vals: &[Val],
    refs: &FuncRefSet,
    what: &str,
) -> Result<(), String> {
    if types.len() != vals.len() {
        return Err(format!(
            "expected {} {what}, got {}",
            types.len(),
            vals.len()
        ));
    }
    for (i, (ty, val)) in types.iter().zip(vals).enumerate() {
        if val.ty() != *ty {
            return Err(format!(
                "{what}[{i}] has type {:?}, expected {ty:?}",
                val.ty()
            ));
        }
        if let Some(f) = val.func_addr() {
            if !refs.contains(f) {
                return Err(format!(
                    "{what}[{i}] is a function reference from another store"
                ));
            }
        }
    }
    Ok(())
}

/// The arrays of [`FuncRef`] records of every instance of one store: a
/// [`FuncAddr`] is valid for the store exactly when it points at one of
/// their elements.
#[derive(Debug, Default)]
pub(crate) struct FuncRefSet {
    /// `(address of the first record, number of records)` per instance.
    arrays: Vec<(usize, usize)>,
}

impl FuncRefSet {
    /// Adds an array of `len` records starting at `first`.
    pub(crate) fn add(&mut self, first: *const FuncRef, len: usize) {
        if len > 0 {
            self.arrays.push((first as usize, len));
        }
    }

    /// Whether `f` points at a record of one of the arrays.
    pub(crate) fn contains(&self, f: FuncAddr) -> bool {
        let addr = f.as_ptr() as usize;
        let size = std::mem::size_of::<FuncRef>();
        self.arrays.iter().any(|&(first, len)| {
            addr.checked_sub(first)
                .is_some_and(|off| off % size == 0 && off / size < len)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_round_trips() {
        let vals = [
            Val::I32(-5),
            Val::I64(i64::MIN),
            Val::F32(0x7fc0_0001),
            Val::F64(0xfff8_0000_0000_0001),
            Val::ExternRef(None),
            Val::ExternRef(Some(0)),
            Val::ExternRef(Some(u32::MAX)),
            Val::FuncRef(None),
            Val::V128(0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100),
        ];
        for v in vals {
            assert_eq!(Val::from_raw(v.to_raw(), v.ty()), v);
        }
        assert_eq!(
            Val::V128(0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100)
                .to_raw()
                .0[1],
            1
        );
        assert_eq!(raw_to_u64(Val::ExternRef(Some(7)).to_raw()), 8);
        assert_eq!(raw_to_u64(Val::I32(-1).to_raw()), 0xffff_ffff);
    }

    #[test]
    fn funcref_set_checks_bounds_and_alignment() {
        let records = [FuncRef {
            code: std::ptr::null(),
            vmctx: std::ptr::null_mut(),
            sig_id: 0,
            reserved: 0,
        }; 3];
        let mut set = FuncRefSet::default();
        set.add(records.as_ptr(), records.len());
        let at = |i: usize| FuncAddr::from_bits(records.as_ptr() as u64 + i as u64).unwrap();
        assert!(set.contains(at(0)));
        assert!(set.contains(at(48)));
        assert!(!set.contains(at(72)));
        assert!(!set.contains(at(8)));
        let other = FuncAddr::from_bits(8).unwrap();
        assert!(!set.contains(other));
    }

    #[test]
    fn check_vals_reports_mismatches() {
        let refs = FuncRefSet::default();
        let check =
            |vals: &[Val]| check_vals(&[ValType::I32, ValType::FuncRef], vals, &refs, "arguments");
        assert_eq!(check(&[Val::I32(1), Val::FuncRef(None)]), Ok(()));
        assert_eq!(
            check(&[Val::I32(1)]),
            Err("expected 2 arguments, got 1".into())
        );
        assert_eq!(
            check(&[Val::I64(1), Val::FuncRef(None)]),
            Err("arguments[0] has type I64, expected I32".into())
        );
        let foreign = Val::FuncRef(FuncAddr::from_bits(64));
        assert_eq!(
            check(&[Val::I32(1), foreign]),
            Err("arguments[1] is a function reference from another store".into())
        );
    }
}

//! Process-wide interning of function types into canonical signature ids.
//!
//! Generated `call_indirect` compares `u32` ids instead of types, so two
//! structurally equal [`FuncType`]s must get the same id in every module and
//! store of the process. This file only assigns ids; it must not know about
//! modules, stores or instances. Ids are never released.

use crate::abi::FuncType;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

/// The first id handed out. Zero is never used, so a zeroed `FuncRef`
/// never matches any type.
const FIRST_ID: u32 = 1;

static INTERNER: LazyLock<Mutex<HashMap<FuncType, u32>>> = LazyLock::new(Default::default);

/// The canonical id of `ty`: equal for equal types, different otherwise.
pub(crate) fn intern(ty: &FuncType) -> u32 {
    // The map is only ever inserted into, so a panic elsewhere while it was
    // locked cannot leave it inconsistent.
    let mut map = INTERNER.lock().unwrap_or_else(PoisonError::into_inner);
    let next = FIRST_ID + map.len() as u32;
    *map.entry(ty.clone()).or_insert(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::ValType;

    fn ty(params: &[ValType], results: &[ValType]) -> FuncType {
        FuncType {
            params: params.to_vec(),
            results: results.to_vec(),
        }
    }

    #[test]
    fn equal_types_share_an_id() {
        let a = intern(&ty(&[ValType::I32, ValType::F64], &[ValType::I64]));
        let b = intern(&ty(&[ValType::I32, ValType::F64], &[ValType::I64]));
        assert_eq!(a, b);
        assert_ne!(a, 0);
    }

    #[test]
    fn different_types_get_different_ids() {
        let a = intern(&ty(&[ValType::I32], &[]));
        let b = intern(&ty(&[], &[ValType::I32]));
        let c = intern(&ty(&[ValType::I32], &[ValType::I32]));
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
    }

    #[test]
    fn ids_agree_across_threads() {
        let t = ty(&[ValType::ExternRef, ValType::FuncRef], &[ValType::F32]);
        let here = intern(&t);
        let there = std::thread::spawn(move || intern(&t)).join().unwrap();
        assert_eq!(here, there);
    }
}

//! Globals: one raw value cell each, shared by every instance that imports
//! it, plus its type.
//!
//! Generated code reads and writes the cell directly. This file must not
//! evaluate initializers or check who may write (instantiation and the store
//! do).

use crate::abi::{GlobalCell, GlobalType};
use crate::val::Val;

/// A global. `#[repr(C)]` with the cell first: the cell pointer generated
/// code holds is a pointer to the whole object.
#[repr(C)]
pub(crate) struct GlobalObj {
    cell: GlobalCell,
    ty: GlobalType,
}

impl GlobalObj {
    /// A global of type `ty` holding the raw value `init`.
    pub(crate) fn new(ty: GlobalType, init: GlobalCell) -> GlobalObj {
        GlobalObj { cell: init, ty }
    }

    /// The global's type.
    pub(crate) fn ty(&self) -> GlobalType {
        self.ty
    }

    /// The cell generated code reads and writes, of the global at `this`.
    pub(crate) fn cell(this: *mut GlobalObj) -> *mut GlobalCell {
        // `#[repr(C)]` puts `cell` at offset 0.
        this.cast()
    }

    /// The value.
    pub(crate) fn get(&self) -> Val {
        Val::from_raw(self.cell, self.ty.content)
    }

    /// Replaces the value, whatever the mutability (callers check it).
    pub(crate) fn set(&mut self, v: Val) {
        self.cell = v.to_raw();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::ValType;

    #[test]
    fn stores_values() {
        let ty = GlobalType {
            content: ValType::I64,
            mutable: true,
        };
        let mut g = GlobalObj::new(ty, Val::I64(-3).to_raw());
        assert_eq!(g.get(), Val::I64(-3));
        g.set(Val::I64(9));
        assert_eq!(g.get(), Val::I64(9));
        // SAFETY: the cell belongs to `g`, which is alive.
        assert_eq!(unsafe { *GlobalObj::cell(&mut g) }, Val::I64(9).to_raw());
        assert_eq!(g.ty(), ty);
    }

    #[test]
    fn stores_v128() {
        let ty = GlobalType {
            content: ValType::V128,
            mutable: false,
        };
        let v = Val::V128(u128::MAX - 1);
        assert_eq!(GlobalObj::new(ty, v.to_raw()).get(), v);
    }
}

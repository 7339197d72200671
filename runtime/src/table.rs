//! Tables: storage of raw references, growth and the bulk operations the
//! builtins and instantiation perform on them.
//!
//! Elements are raw 64-bit references as generated code reads them (a
//! funcref is the address of a `FuncRef`, an externref is handle + 1, null
//! is 0). The element vector may move when the table grows; the
//! [`TableDefinition`] generated code reads is updated after every change.
//! This file must not interpret references or know about instances.

use crate::abi::{Limits, RefType, TableDefinition, TableType, TrapCode, MAX_TABLE_ELEMENTS};
use crate::bounds::range;

/// A table. `#[repr(C)]` with the [`TableDefinition`] first: the definition
/// pointer generated code holds is a pointer to the whole object.
#[repr(C)]
pub(crate) struct TableObj {
    def: TableDefinition,
    elements: Vec<u64>,
    element: RefType,
    max: Option<u64>,
}

impl TableObj {
    /// A table of type `ty` with every element set to `init`.
    pub(crate) fn new(ty: TableType, init: u64) -> Result<TableObj, String> {
        let Limits { min, max } = ty.limits;
        if min > MAX_TABLE_ELEMENTS || max.is_some_and(|max| max < min) {
            return Err(format!("invalid table limits: min {min}, max {max:?}"));
        }
        let mut elements = Vec::new();
        elements
            .try_reserve_exact(min as usize)
            .map_err(|e| format!("cannot allocate a table of {min} elements: {e}"))?;
        elements.resize(min as usize, init);
        let mut table = TableObj {
            def: TableDefinition {
                base: std::ptr::null_mut(),
                length: 0,
            },
            elements,
            element: ty.element,
            max,
        };
        table.sync();
        Ok(table)
    }

    /// Points the definition at the current elements.
    fn sync(&mut self) {
        self.def.base = self.elements.as_mut_ptr();
        self.def.length = self.elements.len() as u64;
    }

    /// The definition generated code reads, of the table at `this`.
    pub(crate) fn definition(this: *mut TableObj) -> *mut TableDefinition {
        // `#[repr(C)]` puts `def` at offset 0.
        this.cast()
    }

    /// The table's current type: its current size as minimum.
    pub(crate) fn ty(&self) -> TableType {
        TableType {
            element: self.element,
            limits: Limits {
                min: self.size(),
                max: self.max,
            },
        }
    }

    /// Current number of elements.
    pub(crate) fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The size after growing by `delta`, or `None` if that exceeds the
    /// type's maximum or [`MAX_TABLE_ELEMENTS`]. Changes nothing.
    fn grown_size(&self, delta: u64) -> Option<u64> {
        let new = self.size().checked_add(delta)?;
        let limit = self
            .max
            .unwrap_or(MAX_TABLE_ELEMENTS)
            .min(MAX_TABLE_ELEMENTS);
        (new <= limit).then_some(new)
    }

    /// Whether growing by `delta` elements is within the table's limits: if
    /// so, [`TableObj::grow`] fails only if memory cannot be allocated.
    pub(crate) fn can_grow(&self, delta: u64) -> bool {
        self.grown_size(delta).is_some()
    }

    /// Grows by `delta` elements set to `init` and returns the old size, or
    /// `None` (and no change) past the limits (see [`TableObj::can_grow`])
    /// or without memory.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = self.grown_size(delta)?;
        self.elements.try_reserve_exact(delta as usize).ok()?;
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// `len` elements starting at `start`.
    pub(crate) fn slice(&self, start: u64, len: u64) -> Result<&[u64], TrapCode> {
        let r = range(start, len, self.elements.len(), TrapCode::TableOutOfBounds)?;
        Ok(&self.elements[r])
    }

    /// Copies `items` to index `dst` (`table.init`, element segments, and
    /// `table.copy` between two tables): checks bounds, runs `pay`, then
    /// copies.
    pub(crate) fn write(
        &mut self,
        dst: u64,
        items: &[u64],
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let r = range(
            dst,
            items.len() as u64,
            self.elements.len(),
            TrapCode::TableOutOfBounds,
        )?;
        pay()?;
        self.elements[r].copy_from_slice(items);
        Ok(())
    }

    /// `table.fill`: checks bounds, runs `pay`, then fills.
    pub(crate) fn fill(
        &mut self,
        dst: u64,
        value: u64,
        len: u64,
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let r = range(dst, len, self.elements.len(), TrapCode::TableOutOfBounds)?;
        pay()?;
        self.elements[r].fill(value);
        Ok(())
    }

    /// `table.copy` within this table (the ranges may overlap): checks
    /// bounds, runs `pay`, then copies.
    pub(crate) fn copy_within(
        &mut self,
        dst: u64,
        src: u64,
        len: u64,
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let size = self.elements.len();
        let src = range(src, len, size, TrapCode::TableOutOfBounds)?;
        let dst = range(dst, len, size, TrapCode::TableOutOfBounds)?;
        pay()?;
        self.elements.copy_within(src, dst.start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::free;

    fn ty(min: u64, max: Option<u64>) -> TableType {
        TableType {
            element: RefType::FuncRef,
            limits: Limits { min, max },
        }
    }

    #[test]
    fn new_tables_are_filled_and_published() {
        let mut t = TableObj::new(ty(3, None), 5).unwrap();
        assert_eq!(t.slice(0, 3), Ok(&[5, 5, 5][..]));
        // SAFETY: the definition belongs to `t`, which is alive.
        let def = unsafe { &*TableObj::definition(&mut t) };
        assert_eq!(def.length, 3);
        assert_eq!(def.base.cast_const(), t.slice(0, 0).unwrap().as_ptr());
    }

    #[test]
    fn grows_up_to_the_maximum_and_republishes() {
        let mut t = TableObj::new(ty(1, Some(4)), 0).unwrap();
        assert!(t.can_grow(3) && !t.can_grow(4) && !t.can_grow(u64::MAX));
        assert_eq!(t.grow(2, 9), Some(1));
        assert_eq!(t.slice(0, 3), Ok(&[0, 9, 9][..]));
        assert_eq!(t.grow(2, 9), None);
        assert_eq!(t.grow(1, 8), Some(3));
        assert_eq!(t.grow(0, 8), Some(4));
        assert_eq!(t.ty(), ty(4, Some(4)));
        // SAFETY: the definition belongs to `t`, which is alive.
        let def = unsafe { &*TableObj::definition(&mut t) };
        assert_eq!(def.length, 4);
        assert_eq!(def.base.cast_const(), t.slice(0, 0).unwrap().as_ptr());
        let mut unbounded = TableObj::new(ty(0, None), 0).unwrap();
        assert!(unbounded.can_grow(MAX_TABLE_ELEMENTS));
        assert!(!unbounded.can_grow(MAX_TABLE_ELEMENTS + 1));
        assert_eq!(unbounded.grow(MAX_TABLE_ELEMENTS + 1, 0), None);
        assert_eq!(unbounded.grow(u64::MAX, 0), None);
    }

    #[test]
    fn rejects_invalid_limits() {
        assert!(TableObj::new(ty(2, Some(1)), 0).is_err());
        assert!(TableObj::new(ty(MAX_TABLE_ELEMENTS + 1, None), 0).is_err());
    }

    #[test]
    fn bulk_operations_check_bounds() {
        let oob = Err(TrapCode::TableOutOfBounds);
        let mut t = TableObj::new(ty(4, None), 0).unwrap();
        assert_eq!(t.write(2, &[1, 2], free), Ok(()));
        assert_eq!(t.write(3, &[1, 2], free), oob);
        assert_eq!(t.write(4, &[], free), Ok(()));
        assert_eq!(t.write(5, &[], free), oob);
        assert_eq!(t.fill(0, 7, 2, free), Ok(()));
        assert_eq!(t.fill(4, 7, 0, free), Ok(()));
        assert_eq!(t.fill(3, 7, 2, free), oob);
        assert_eq!(t.copy_within(1, 0, 3, free), Ok(()));
        assert_eq!(t.slice(0, 4), Ok(&[7, 7, 7, 1][..]));
        assert_eq!(t.copy_within(0, 2, 3, free), oob);
        assert_eq!(t.slice(4, 0), Ok(&[][..]));
        assert_eq!(t.slice(4, 1), Err(TrapCode::TableOutOfBounds));
    }

    #[test]
    fn bulk_operations_pay_after_checks_and_before_acting() {
        let mut t = TableObj::new(ty(4, None), 0).unwrap();
        let unpaid = || -> Result<(), TrapCode> { panic!("out of bounds, so never paid") };
        let oob = Err(TrapCode::TableOutOfBounds);
        assert_eq!(t.write(3, &[1, 2], unpaid), oob);
        assert_eq!(t.fill(3, 7, 2, unpaid), oob);
        assert_eq!(t.copy_within(0, 2, 3, unpaid), oob);
        let refuse = || Err(TrapCode::OutOfFuel);
        let refused = Err(TrapCode::OutOfFuel);
        assert_eq!(t.write(0, &[1, 2], refuse), refused);
        assert_eq!(t.fill(0, 7, 2, refuse), refused);
        assert_eq!(t.write(0, &[1, 2], free), Ok(()));
        assert_eq!(t.copy_within(2, 0, 2, refuse), refused);
        assert_eq!(t.slice(0, 4), Ok(&[1, 2, 0, 0][..]));
    }
}

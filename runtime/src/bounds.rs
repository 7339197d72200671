//! The one range check shared by every bulk operation on memories, tables
//! and segments: WebAssembly checks `start + len <= size` with no overflow,
//! and a zero-length access at exactly `size` is in bounds.
//!
//! Bulk operations run in one order: check every range, then pay (a
//! closure that charges the operation's dynamic fuel cost and may refuse),
//! then act; so an operation that is out of bounds pays nothing, and one
//! that cannot pay changes nothing. This file only checks ranges and names
//! the free payment; it must not touch the data being checked.

use crate::abi::TrapCode;
use std::ops::Range;

/// `start..start + len` as indices into something of `size` elements, or
/// `trap` if that range does not fit.
pub(crate) fn range(
    start: u64,
    len: u64,
    size: usize,
    trap: TrapCode,
) -> Result<Range<usize>, TrapCode> {
    let end = start.checked_add(len).ok_or(trap)?;
    if end > size as u64 {
        return Err(trap);
    }
    // Both fit in `usize` because `end <= size`.
    Ok(start as usize..end as usize)
}

/// The payment of an operation that costs nothing: instantiation's segment
/// copies, and code without metering.
pub(crate) fn free() -> Result<(), TrapCode> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TrapCode = TrapCode::MemoryOutOfBounds;

    #[test]
    fn accepts_ranges_that_fit() {
        assert_eq!(range(0, 10, 10, T), Ok(0..10));
        assert_eq!(range(10, 0, 10, T), Ok(10..10));
        assert_eq!(range(3, 4, 10, T), Ok(3..7));
    }

    #[test]
    fn rejects_ranges_past_the_end() {
        assert_eq!(range(11, 0, 10, T), Err(T));
        assert_eq!(range(5, 6, 10, T), Err(T));
        assert_eq!(range(u64::MAX, 2, 10, T), Err(T));
        assert_eq!(
            range(0, 1, 0, TrapCode::TableOutOfBounds),
            Err(TrapCode::TableOutOfBounds)
        );
    }
}

//! Linear memories: allocation, growth and the bulk operations the builtins
//! and instantiation perform on them.
//!
//! Under [`BoundsChecks::Guard`] a memory reserves
//! [`GUARD_MEMORY_RESERVATION`] bytes of address space with no access and
//! makes only its current length readable and writable, so generated code's
//! out-of-bounds accesses fault; it never moves. Under
//! [`BoundsChecks::Explicit`] it maps exactly its length and may move when it
//! grows. This file owns the mapping; it must not know about instances,
//! traps being raised or the store.

use crate::abi::{
    BoundsChecks, Limits, MemoryDefinition, MemoryType, TrapCode, GUARD_MEMORY_RESERVATION,
    MAX_WASM_PAGES, WASM_PAGE_SIZE,
};
use crate::bounds::range;
use std::ptr;

/// A linear memory. `#[repr(C)]` with the [`MemoryDefinition`] first: the
/// definition pointer generated code holds is a pointer to the whole object.
#[repr(C)]
pub(crate) struct LinearMemory {
    def: MemoryDefinition,
    max: Option<u64>,
    mode: BoundsChecks,
}

impl LinearMemory {
    /// A memory of type `ty`, zeroed, for code compiled with `mode`.
    pub(crate) fn new(ty: MemoryType, mode: BoundsChecks) -> Result<LinearMemory, String> {
        let Limits { min, max } = ty.limits;
        if min > MAX_WASM_PAGES || max.is_some_and(|max| max < min || max > MAX_WASM_PAGES) {
            return Err(format!("invalid memory limits: min {min}, max {max:?}"));
        }
        let len = pages_to_bytes(min);
        let base = match mode {
            BoundsChecks::Guard => reserve_guarded(len)?,
            BoundsChecks::Explicit => map_exact(len)?,
        };
        Ok(LinearMemory {
            def: MemoryDefinition {
                base,
                length: len as u64,
            },
            max,
            mode,
        })
    }

    /// The definition generated code reads, of the memory at `this`.
    pub(crate) fn definition(this: *mut LinearMemory) -> *mut MemoryDefinition {
        // `#[repr(C)]` puts `def` at offset 0.
        this.cast()
    }

    /// How code using this memory may check bounds.
    pub(crate) fn mode(&self) -> BoundsChecks {
        self.mode
    }

    /// The memory's current type: its current size as minimum.
    pub(crate) fn ty(&self) -> MemoryType {
        MemoryType {
            limits: Limits {
                min: self.def.length / WASM_PAGE_SIZE,
                max: self.max,
            },
        }
    }

    /// The size in pages after growing by `delta`, or `None` if that exceeds
    /// the type's maximum or [`MAX_WASM_PAGES`] (which a guarded memory's
    /// reservation always holds). Changes nothing.
    fn grown_pages(&self, delta: u64) -> Option<u64> {
        let new_pages = (self.def.length / WASM_PAGE_SIZE).checked_add(delta)?;
        let limit = self.max.unwrap_or(MAX_WASM_PAGES).min(MAX_WASM_PAGES);
        (new_pages <= limit).then_some(new_pages)
    }

    /// Whether growing by `delta` pages is within the memory's limits: if
    /// so, [`LinearMemory::grow`] fails only if the system refuses memory.
    pub(crate) fn can_grow(&self, delta: u64) -> bool {
        self.grown_pages(delta).is_some()
    }

    /// Grows by `delta` pages and returns the old size in pages, or `None`
    /// (and no change) if that exceeds the limits (see
    /// [`LinearMemory::can_grow`]) or memory is unavailable.
    pub(crate) fn grow(&mut self, delta: u64) -> Option<u64> {
        let old_pages = self.def.length / WASM_PAGE_SIZE;
        let new_pages = self.grown_pages(delta)?;
        if delta == 0 {
            return Some(old_pages);
        }
        let old_len = self.def.length as usize;
        let new_len = pages_to_bytes(new_pages);
        match self.mode {
            // SAFETY: `base + old_len .. base + new_len` lies inside this
            // memory's reservation (`new_len <= 4 GiB < GUARD_MEMORY_RESERVATION`).
            BoundsChecks::Guard => unsafe {
                protect(self.def.base.add(old_len), new_len - old_len).ok()?;
            },
            BoundsChecks::Explicit => self.def.base = remap(self.def.base, old_len, new_len)?,
        }
        self.def.length = new_len as u64;
        Some(old_pages)
    }

    /// The memory's bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: `base .. base + length` is mapped readable and writable
        // and owned by this object; `&self` excludes writers through it.
        unsafe { std::slice::from_raw_parts(self.def.base, self.def.length as usize) }
    }

    /// The memory's bytes, writable.
    pub(crate) fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.def.base, self.def.length as usize) }
    }

    /// `memory.fill`: checks bounds, runs `pay`, then fills.
    pub(crate) fn fill(
        &mut self,
        dst: u64,
        value: u8,
        len: u64,
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let data = self.data_mut();
        let dst = range(dst, len, data.len(), TrapCode::MemoryOutOfBounds)?;
        pay()?;
        data[dst].fill(value);
        Ok(())
    }

    /// `memory.copy` within this memory (the ranges may overlap): checks
    /// bounds, runs `pay`, then copies.
    pub(crate) fn copy(
        &mut self,
        dst: u64,
        src: u64,
        len: u64,
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let data = self.data_mut();
        let src = range(src, len, data.len(), TrapCode::MemoryOutOfBounds)?;
        let dst = range(dst, len, data.len(), TrapCode::MemoryOutOfBounds)?;
        pay()?;
        data.copy_within(src, dst.start);
        Ok(())
    }

    /// Copies `bytes` to offset `dst` (`memory.init` and data segments):
    /// checks bounds, runs `pay`, then copies.
    pub(crate) fn write(
        &mut self,
        dst: u64,
        bytes: &[u8],
        pay: impl FnOnce() -> Result<(), TrapCode>,
    ) -> Result<(), TrapCode> {
        let data = self.data_mut();
        let dst = range(
            dst,
            bytes.len() as u64,
            data.len(),
            TrapCode::MemoryOutOfBounds,
        )?;
        pay()?;
        data[dst].copy_from_slice(bytes);
        Ok(())
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        let mapped = match self.mode {
            BoundsChecks::Guard => GUARD_MEMORY_RESERVATION as usize,
            BoundsChecks::Explicit => self.def.length as usize,
        };
        if mapped > 0 {
            // SAFETY: `base .. base + mapped` is exactly the mapping this
            // object created, and nothing uses it after the object is gone.
            unsafe { libc::munmap(self.def.base.cast(), mapped) };
        }
    }
}

// The largest memory fits a guarded memory's reservation, so growth within
// `MAX_WASM_PAGES` never needs more than the reservation holds.
const _: () = assert!(MAX_WASM_PAGES * WASM_PAGE_SIZE < GUARD_MEMORY_RESERVATION);

fn pages_to_bytes(pages: u64) -> usize {
    // At most MAX_WASM_PAGES * 64 KiB = 4 GiB, which fits the 64-bit usize.
    (pages * WASM_PAGE_SIZE) as usize
}

/// Reserves the guarded address space and makes its first `len` bytes
/// accessible.
fn reserve_guarded(len: usize) -> Result<*mut u8, String> {
    // SAFETY: a fresh private anonymous mapping at an address the kernel
    // picks aliases nothing.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            GUARD_MEMORY_RESERVATION as usize,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(format!(
            "cannot reserve {GUARD_MEMORY_RESERVATION} bytes of address space: {}",
            std::io::Error::last_os_error()
        ));
    }
    let base = base.cast::<u8>();
    // SAFETY: `len <= 4 GiB` lies inside the reservation just made.
    if let Err(e) = unsafe { protect(base, len) } {
        // SAFETY: unmaps exactly the reservation just made, used by no one.
        unsafe { libc::munmap(base.cast(), GUARD_MEMORY_RESERVATION as usize) };
        return Err(e);
    }
    Ok(base)
}

/// Makes `len` bytes at `start` readable and writable.
///
/// # Safety
/// `start .. start + len` must lie in a mapping owned by the caller.
unsafe fn protect(start: *mut u8, len: usize) -> Result<(), String> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: the caller owns the range.
    let rc = unsafe { libc::mprotect(start.cast(), len, libc::PROT_READ | libc::PROT_WRITE) };
    if rc != 0 {
        return Err(format!(
            "cannot commit {len} bytes of memory: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Maps exactly `len` zeroed bytes; a zero-length memory maps nothing and
/// gets a dangling, never dereferenced base.
fn map_exact(len: usize) -> Result<*mut u8, String> {
    if len == 0 {
        return Ok(ptr::NonNull::dangling().as_ptr());
    }
    // SAFETY: a fresh private anonymous mapping aliases nothing.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(format!(
            "cannot allocate {len} bytes of memory: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(base.cast())
}

/// Resizes an exact mapping from `old_len` to the larger `new_len`, keeping
/// its contents and zeroing the rest; `None` if the system refuses.
fn remap(base: *mut u8, old_len: usize, new_len: usize) -> Option<*mut u8> {
    if old_len == 0 {
        return map_exact(new_len).ok();
    }
    // SAFETY: `base .. base + old_len` is this memory's whole mapping;
    // MREMAP_MAYMOVE lets the kernel move it, and the caller replaces `base`.
    let new = unsafe { libc::mremap(base.cast(), old_len, new_len, libc::MREMAP_MAYMOVE) };
    (new != libc::MAP_FAILED).then_some(new.cast())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::free;

    fn ty(min: u64, max: Option<u64>) -> MemoryType {
        MemoryType {
            limits: Limits { min, max },
        }
    }

    const MODES: [BoundsChecks; 2] = [BoundsChecks::Guard, BoundsChecks::Explicit];

    #[test]
    fn grows_up_to_the_maximum() {
        for mode in MODES {
            let mut m = LinearMemory::new(ty(1, Some(3)), mode).unwrap();
            assert_eq!(m.data().len(), 65536);
            assert!(m.can_grow(2) && !m.can_grow(3) && !m.can_grow(u64::MAX));
            assert_eq!(m.grow(1), Some(1));
            assert_eq!(m.grow(0), Some(2));
            assert_eq!(m.grow(2), None);
            assert_eq!(m.grow(1), Some(2));
            assert_eq!(m.grow(1), None);
            assert!(m.can_grow(0) && !m.can_grow(1));
            assert_eq!(m.ty(), ty(3, Some(3)));
            assert_eq!(m.data().len(), 3 * 65536);
        }
    }

    #[test]
    fn growth_keeps_contents_and_zeroes_new_pages() {
        for mode in MODES {
            let mut m = LinearMemory::new(ty(0, None), mode).unwrap();
            assert!(m.data().is_empty());
            assert_eq!(m.grow(1), Some(0));
            m.data_mut()[65535] = 7;
            assert_eq!(m.grow(2), Some(1));
            assert_eq!(m.data()[65535], 7);
            assert!(m.data()[65536..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn never_grows_past_the_wasm_limit() {
        let mut m = LinearMemory::new(ty(0, None), BoundsChecks::Guard).unwrap();
        assert!(m.can_grow(MAX_WASM_PAGES) && !m.can_grow(MAX_WASM_PAGES + 1));
        assert_eq!(m.grow(MAX_WASM_PAGES + 1), None);
        assert_eq!(m.grow(u64::MAX), None);
        assert_eq!(m.ty().limits.min, 0);
    }

    #[test]
    fn guard_memory_never_moves() {
        let mut m = LinearMemory::new(ty(1, None), BoundsChecks::Guard).unwrap();
        let base = m.data().as_ptr();
        assert_eq!(m.grow(16), Some(1));
        assert_eq!(m.data().as_ptr(), base);
    }

    #[test]
    fn rejects_invalid_limits() {
        for limits in [
            (2, Some(1)),
            (MAX_WASM_PAGES + 1, None),
            (0, Some(MAX_WASM_PAGES + 1)),
        ] {
            assert!(LinearMemory::new(ty(limits.0, limits.1), BoundsChecks::Explicit).is_err());
        }
    }

    #[test]
    fn bulk_operations_check_bounds() {
        for mode in MODES {
            let mut m = LinearMemory::new(ty(1, None), mode).unwrap();
            let oob = Err(TrapCode::MemoryOutOfBounds);
            assert_eq!(m.write(65534, &[1, 2], free), Ok(()));
            assert_eq!(m.write(65535, &[1, 2], free), oob);
            assert_eq!(m.write(65536, &[], free), Ok(()));
            assert_eq!(m.write(65537, &[], free), oob);
            assert_eq!(m.fill(10, 9, 4, free), Ok(()));
            assert_eq!(m.fill(65536, 9, 0, free), Ok(()));
            assert_eq!(m.fill(65530, 9, 7, free), oob);
            assert_eq!(m.copy(11, 10, 4, free), Ok(()));
            assert_eq!(&m.data()[10..15], &[9, 9, 9, 9, 9]);
            assert_eq!(m.copy(0, 65535, 2, free), oob);
            assert_eq!(m.copy(65536, 0, 0, free), Ok(()));
            assert_eq!(m.data()[65534..], [1, 2]);
        }
    }
}

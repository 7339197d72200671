//! Bounds-checked access to the calling instance's linear memory: guest
//! pointers are `u32` offsets, every access checks `pointer + length`
//! against the memory with checked arithmetic, and an access out of range
//! is `ERRNO_FAULT`, never a panic.
//!
//! This file must not know any preview1 struct beyond `iovec` (callers
//! encode structs with `abi.rs`) and must not call the host.

use super::abi::{Errno, IOVEC_SIZE};
use std::io::IoSlice;
use std::ops::Range;

/// At most this many buffers of an iovec array are used, the host's
/// `IOV_MAX`; the rest are left out, as a short read or write.
const MAX_IOVECS: u32 = 1024;

/// At most this many bytes move in one read or write (Linux's own limit),
/// so counts always fit the guest's `size`.
const MAX_IO_BYTES: usize = 0x7fff_f000;

/// A guest's linear memory during one WASI call.
pub(crate) struct GuestMemory<'a> {
    bytes: &'a mut [u8],
}

impl<'a> GuestMemory<'a> {
    /// The memory `bytes`.
    pub(crate) fn new(bytes: &'a mut [u8]) -> GuestMemory<'a> {
        GuestMemory { bytes }
    }

    /// The byte range of `len` bytes at `ptr`, if it is inside memory.
    pub(crate) fn range(&self, ptr: u32, len: usize) -> Result<Range<usize>, Errno> {
        let start = usize::try_from(ptr).map_err(|_| Errno::Fault)?;
        let end = start.checked_add(len).ok_or(Errno::Fault)?;
        if end <= self.bytes.len() {
            Ok(start..end)
        } else {
            Err(Errno::Fault)
        }
    }

    /// Checks that `len` bytes at `ptr` are inside memory, before a call
    /// does something it cannot undo and then writes its result there.
    pub(crate) fn check(&self, ptr: u32, len: usize) -> Result<(), Errno> {
        self.range(ptr, len).map(drop)
    }

    /// The `len` bytes at `ptr`.
    pub(crate) fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let range = self.range(ptr, len as usize)?;
        self.slice(range)
    }

    /// The `len` bytes at `ptr`, writable.
    pub(crate) fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let range = self.range(ptr, len as usize)?;
        self.slice_mut(range)
    }

    /// The bytes of `range`.
    pub(crate) fn slice(&self, range: Range<usize>) -> Result<&[u8], Errno> {
        self.bytes.get(range).ok_or(Errno::Fault)
    }

    /// The bytes of `range`, writable.
    pub(crate) fn slice_mut(&mut self, range: Range<usize>) -> Result<&mut [u8], Errno> {
        self.bytes.get_mut(range).ok_or(Errno::Fault)
    }

    /// All of memory, writable, for a host call filling several ranges.
    pub(crate) fn all_mut(&mut self) -> &mut [u8] {
        self.bytes
    }

    /// The `N` bytes at `ptr`.
    pub(crate) fn array<const N: usize>(&self, ptr: u32) -> Result<[u8; N], Errno> {
        let bytes = self.bytes(ptr, N as u32)?;
        bytes.try_into().map_err(|_| Errno::Fault)
    }

    /// The little-endian `u32` at `ptr`.
    fn read_u32(&self, ptr: u32) -> Result<u32, Errno> {
        self.array(ptr).map(u32::from_le_bytes)
    }

    /// Copies `data` to `ptr`.
    pub(crate) fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let range = self.range(ptr, data.len())?;
        self.slice_mut(range)?.copy_from_slice(data);
        Ok(())
    }

    /// Writes `value` little-endian at `ptr`.
    pub(crate) fn write_u32(&mut self, ptr: u32, value: u32) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes `value` little-endian at `ptr`.
    pub(crate) fn write_u64(&mut self, ptr: u32, value: u64) -> Result<(), Errno> {
        self.write(ptr, &value.to_le_bytes())
    }

    /// Writes a byte count (at most [`MAX_IO_BYTES`], so it fits) at `ptr`.
    pub(crate) fn write_size(&mut self, ptr: u32, count: usize) -> Result<(), Errno> {
        let count = u32::try_from(count).map_err(|_| Errno::Overflow)?;
        self.write_u32(ptr, count)
    }

    /// The buffers of the `count` iovecs at `ptr`, each checked to be in
    /// memory, in order. Only the first [`MAX_IOVECS`] are used, and only
    /// [`MAX_IO_BYTES`] bytes in all (the last buffer used is shortened).
    pub(crate) fn iovecs(&self, ptr: u32, count: u32) -> Result<Vec<Range<usize>>, Errno> {
        let count = count.min(MAX_IOVECS);
        let mut buffers = Vec::with_capacity(count as usize);
        let mut total = 0usize;
        for i in 0..count {
            let at = element(ptr, i, IOVEC_SIZE)?;
            let buf = self.read_u32(at)?;
            let len = self.read_u32(at.checked_add(4).ok_or(Errno::Fault)?)? as usize;
            let len = len.min(MAX_IO_BYTES - total);
            buffers.push(self.range(buf, len)?);
            total += len;
        }
        Ok(buffers)
    }

    /// The buffers `ranges` (from [`GuestMemory::iovecs`]) for a vectored
    /// write.
    pub(crate) fn io_slices(&self, ranges: &[Range<usize>]) -> Result<Vec<IoSlice<'_>>, Errno> {
        ranges
            .iter()
            .map(|r| self.slice(r.clone()).map(IoSlice::new))
            .collect()
    }
}

/// The address of element `index` of an array of `size`-byte elements at
/// `base`; `FAULT` if it overflows the address space.
pub(crate) fn element(base: u32, index: u32, size: u32) -> Result<u32, Errno> {
    index
        .checked_mul(size)
        .and_then(|offset| base.checked_add(offset))
        .ok_or(Errno::Fault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accesses_out_of_memory_fault() {
        let mut bytes = vec![0u8; 16];
        let mut memory = GuestMemory::new(&mut bytes);
        assert_eq!(memory.write_u32(12, 1), Ok(()));
        assert_eq!(memory.write_u32(13, 1), Err(Errno::Fault));
        assert_eq!(memory.write_u64(u32::MAX, 1), Err(Errno::Fault));
        assert_eq!(memory.bytes(16, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(memory.bytes(17, 0), Err(Errno::Fault));
        assert_eq!(element(u32::MAX - 4, 1, 8), Err(Errno::Fault));
    }

    #[test]
    fn iovecs_are_checked_and_capped() {
        let mut bytes = vec![0u8; 64];
        bytes[0..4].copy_from_slice(&32u32.to_le_bytes());
        bytes[4..8].copy_from_slice(&8u32.to_le_bytes());
        bytes[8..12].copy_from_slice(&60u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&8u32.to_le_bytes());
        let memory = GuestMemory::new(&mut bytes);
        let buffers = memory.iovecs(0, 1).unwrap();
        assert_eq!(buffers.len(), 1);
        assert_eq!(buffers[0], 32..40);
        assert_eq!(memory.iovecs(0, 2), Err(Errno::Fault));
        assert_eq!(memory.iovecs(60, 1), Err(Errno::Fault));
    }
}

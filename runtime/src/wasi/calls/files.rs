//! The preview1 `fd_*` functions: reading, writing, seeking, syncing,
//! status, flags, sizes and times of the guest's fds, the names of
//! preopened directories, directory listings, closing and renumbering.
//!
//! These must not resolve paths (`paths.rs` does, through `path.rs`).

use super::{Status, WasiState};
use crate::wasi::abi::{self, filetype, whence, Dirent, Errno, Fdstat, Filestat};
use crate::wasi::fd::{Dir, Entry};
use crate::wasi::memory::GuestMemory;
use crate::wasi::sys;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::ops::Range;
use std::os::fd::AsFd;
use std::os::unix::fs::FileExt;

/// The status flags `fd_fdstat_set_flags` can change on a host file.
const CHANGEABLE_FLAGS: libc::c_int = libc::O_APPEND | libc::O_NONBLOCK;

/// The host file behind `fd`, or `error` for an in-memory stream.
fn host_file(state: &WasiState, fd: u32, error: Errno) -> Result<&File, Errno> {
    state.fds.get(fd)?.host().ok_or(error)
}

/// `fd_advise`: advice is a hint, checked and not acted on.
pub(crate) fn fd_advise(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    _offset: u64,
    _len: u64,
    advice: u32,
) -> Status {
    host_file(state, fd, Errno::Spipe)?;
    if advice > abi::ADVICE_MAX {
        return Err(Errno::Inval);
    }
    Ok(())
}

/// `fd_allocate`: extends the file to `offset + len` bytes if it is
/// shorter.
pub(crate) fn fd_allocate(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    offset: u64,
    len: u64,
) -> Status {
    let file = host_file(state, fd, Errno::Spipe)?;
    let end = offset.checked_add(len).ok_or(Errno::Fbig)?;
    if end > file.metadata()?.len() {
        file.set_len(end)?;
    }
    Ok(())
}

/// `fd_close`.
pub(crate) fn fd_close(state: &mut WasiState, _: &mut GuestMemory<'_>, fd: u32) -> Status {
    state.fds.remove(fd).map(drop)
}

/// `fd_datasync`.
pub(crate) fn fd_datasync(state: &mut WasiState, _: &mut GuestMemory<'_>, fd: u32) -> Status {
    Ok(host_file(state, fd, Errno::Inval)?.sync_data()?)
}

/// `fd_sync`.
pub(crate) fn fd_sync(state: &mut WasiState, _: &mut GuestMemory<'_>, fd: u32) -> Status {
    Ok(host_file(state, fd, Errno::Inval)?.sync_all()?)
}

/// `fd_fdstat_get`. In-memory streams are of unknown type.
pub(crate) fn fd_fdstat_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    stat: u32,
) -> Status {
    let fdstat = match state.fds.get(fd)?.host() {
        Some(file) => Fdstat {
            filetype: abi::filetype_of_mode(sys::fstat(file.as_fd())?.st_mode),
            flags: abi::fdflags_from_host(sys::status_flags(file.as_fd())?),
        },
        None => Fdstat {
            filetype: filetype::UNKNOWN,
            flags: 0,
        },
    };
    memory.write(stat, &fdstat.encode())
}

/// `fd_fdstat_set_flags`: `append` and `nonblock` can change on host
/// files; the synchronization flags, and any flag on an in-memory stream,
/// are `NOTSUP`.
pub(crate) fn fd_fdstat_set_flags(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
) -> Status {
    let entry = state.fds.get(fd)?;
    let wanted = abi::fdflags_to_host(flags)?;
    let Some(file) = entry.host() else {
        return if flags == 0 {
            Ok(())
        } else {
            Err(Errno::Notsup)
        };
    };
    if wanted & !CHANGEABLE_FLAGS != 0 {
        return Err(Errno::Notsup);
    }
    let current = sys::status_flags(file.as_fd())?;
    Ok(sys::set_status_flags(
        file.as_fd(),
        (current & !CHANGEABLE_FLAGS) | wanted,
    )?)
}

/// `fd_fdstat_set_rights`: every right stays granted.
pub(crate) fn fd_fdstat_set_rights(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    _base: u64,
    _inheriting: u64,
) -> Status {
    state.fds.get(fd).map(drop)
}

/// `fd_filestat_get`. In-memory streams are of unknown type, all zeros.
pub(crate) fn fd_filestat_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    stat: u32,
) -> Status {
    let filestat = match state.fds.get(fd)?.host() {
        Some(file) => Filestat::from_host(&sys::fstat(file.as_fd())?),
        None => Filestat::default(),
    };
    memory.write(stat, &filestat.encode())
}

/// `fd_filestat_set_size`.
pub(crate) fn fd_filestat_set_size(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    size: u64,
) -> Status {
    Ok(host_file(state, fd, Errno::Inval)?.set_len(size)?)
}

/// `fd_filestat_set_times`.
pub(crate) fn fd_filestat_set_times(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Status {
    let file = host_file(state, fd, Errno::Inval)?;
    let times = abi::set_times(atim, mtim, fst_flags)?;
    Ok(sys::futimens(file.as_fd(), times)?)
}

/// Runs `transfer` on each of `buffers` at consecutive file offsets from
/// `offset` until one moves less than its length, and returns the bytes
/// moved. An error after some bytes moved ends the run without failing it.
fn at_offsets(
    buffers: &[Range<usize>],
    offset: u64,
    mut transfer: impl FnMut(Range<usize>, u64) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let mut total = 0usize;
    for range in buffers {
        let at = offset.checked_add(total as u64).ok_or(Errno::Overflow)?;
        match transfer(range.clone(), at) {
            Ok(n) if n < range.len() => return Ok(total + n),
            Ok(n) => total += n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

/// `fd_pread`.
pub(crate) fn fd_pread(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nread: u32,
) -> Status {
    memory.check(nread, 4)?;
    let buffers = memory.iovecs(iovs, iovs_len)?;
    let file = host_file(state, fd, Errno::Spipe)?;
    let n = at_offsets(&buffers, offset, |range, at| {
        Ok(file.read_at(memory.slice_mut(range)?, at)?)
    })?;
    memory.write_size(nread, n)
}

/// `fd_pwrite`.
pub(crate) fn fd_pwrite(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    offset: u64,
    nwritten: u32,
) -> Status {
    memory.check(nwritten, 4)?;
    let buffers = memory.iovecs(iovs, iovs_len)?;
    let file = host_file(state, fd, Errno::Spipe)?;
    let n = at_offsets(&buffers, offset, |range, at| {
        Ok(file.write_at(memory.slice(range)?, at)?)
    })?;
    memory.write_size(nwritten, n)
}

/// Copies from `data` at `*pos` into `buffers` in order, advancing `pos`,
/// and returns how many bytes it copied.
fn read_bytes(
    memory: &mut GuestMemory<'_>,
    buffers: &[Range<usize>],
    data: &[u8],
    pos: &mut usize,
) -> Result<usize, Errno> {
    let start = *pos;
    for range in buffers {
        let n = fill(
            memory.slice_mut(range.clone())?,
            data.get(*pos..).unwrap_or_default(),
        );
        *pos += n;
        if n < range.len() {
            break;
        }
    }
    Ok(*pos - start)
}

/// `fd_read`.
pub(crate) fn fd_read(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nread: u32,
) -> Status {
    memory.check(nread, 4)?;
    let buffers = memory.iovecs(iovs, iovs_len)?;
    let n = match state.fds.get_mut(fd)? {
        Entry::File(file) | Entry::Dir(Dir { file, .. }) => {
            sys::readv(file.as_fd(), memory.all_mut(), &buffers)?
        }
        Entry::Input { data, pos } => read_bytes(memory, &buffers, data, pos)?,
        Entry::Output(_) => return Err(Errno::Badf),
    };
    memory.write_size(nread, n)
}

/// `fd_write`.
pub(crate) fn fd_write(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    iovs: u32,
    iovs_len: u32,
    nwritten: u32,
) -> Status {
    memory.check(nwritten, 4)?;
    let buffers = memory.iovecs(iovs, iovs_len)?;
    let slices = memory.io_slices(&buffers)?;
    let n = match state.fds.get_mut(fd)? {
        Entry::File(file) | Entry::Dir(Dir { file, .. }) => file.write_vectored(&slices)?,
        Entry::Output(buffer) => {
            let mut buffer = buffer.try_borrow_mut().map_err(|_| Errno::Io)?;
            for slice in &slices {
                buffer.extend_from_slice(slice);
            }
            slices.iter().map(|s| s.len()).sum()
        }
        Entry::Input { .. } => return Err(Errno::Badf),
    };
    memory.write_size(nwritten, n)
}

/// Moves the offset of `fd` as `from` says and returns the new offset.
fn seek(state: &WasiState, fd: u32, from: SeekFrom) -> Result<u64, Errno> {
    let mut file = host_file(state, fd, Errno::Spipe)?;
    Ok(file.seek(from)?)
}

/// `fd_seek`.
pub(crate) fn fd_seek(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    offset: i64,
    whence: u32,
    newoffset: u32,
) -> Status {
    memory.check(newoffset, 8)?;
    let from = match whence {
        whence::SET => SeekFrom::Start(u64::try_from(offset).map_err(|_| Errno::Inval)?),
        whence::CUR => SeekFrom::Current(offset),
        whence::END => SeekFrom::End(offset),
        _ => return Err(Errno::Inval),
    };
    let pos = seek(state, fd, from)?;
    memory.write_u64(newoffset, pos)
}

/// `fd_tell`.
pub(crate) fn fd_tell(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    offset: u32,
) -> Status {
    memory.check(offset, 8)?;
    let pos = seek(state, fd, SeekFrom::Current(0))?;
    memory.write_u64(offset, pos)
}

/// The guest path of preopened directory `fd` (`BADF` for any other fd,
/// which is how wasi-libc finds the end of the preopens).
fn preopen_name(state: &WasiState, fd: u32) -> Result<&[u8], Errno> {
    match state.fds.get(fd)? {
        Entry::Dir(Dir {
            preopen: Some(name),
            ..
        }) => Ok(name.as_bytes()),
        _ => Err(Errno::Badf),
    }
}

/// `fd_prestat_get`.
pub(crate) fn fd_prestat_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    prestat: u32,
) -> Status {
    let len = u32::try_from(preopen_name(state, fd)?.len()).map_err(|_| Errno::Overflow)?;
    memory.write(prestat, &abi::prestat_dir(len))
}

/// `fd_prestat_dir_name`: the name without a NUL; `NAMETOOLONG` if
/// `path_len` is shorter.
pub(crate) fn fd_prestat_dir_name(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Status {
    let name = preopen_name(state, fd)?;
    if (path_len as usize) < name.len() {
        return Err(Errno::Nametoolong);
    }
    memory.write(path, name)
}

/// Copies as much of `src` as fits at the start of `dst` and returns how
/// much.
fn fill(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}

/// `fd_readdir`: entries from index `cookie` of the listing taken at
/// cookie 0, each a `dirent` and its name, the last one cut off where the
/// buffer ends (so `bufused == buf_len` means there may be more).
pub(crate) fn fd_readdir(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    buf: u32,
    buf_len: u32,
    cookie: u64,
    bufused: u32,
) -> Status {
    memory.check(bufused, 4)?;
    let dir = state.fds.get_mut(fd)?.dir_mut()?;
    if cookie == 0 || dir.listing.is_none() {
        dir.listing = Some(sys::list_dir(dir.file.as_fd())?);
    }
    let listing = dir.listing.as_deref().unwrap_or_default();
    let out = memory.bytes_mut(buf, buf_len)?;
    let first = usize::try_from(cookie).unwrap_or(usize::MAX);
    let mut used = 0;
    for (index, entry) in listing.iter().enumerate().skip(first) {
        let dirent = Dirent {
            next: index as u64 + 1,
            ino: entry.ino,
            namlen: u32::try_from(entry.name.len()).map_err(|_| Errno::Overflow)?,
            filetype: entry.filetype,
        };
        for bytes in [&dirent.encode()[..], &entry.name] {
            used += fill(out.get_mut(used..).unwrap_or_default(), bytes);
        }
        if used == out.len() {
            break;
        }
    }
    memory.write_size(bufused, used)
}

/// `fd_renumber`.
pub(crate) fn fd_renumber(
    state: &mut WasiState,
    _: &mut GuestMemory<'_>,
    fd: u32,
    to: u32,
) -> Status {
    state.fds.renumber(fd, to)
}

//! The preview1 `path_*` functions: opening, status, times, directories,
//! hard and symbolic links, renaming and removal, each on a target the
//! sandbox (`path.rs`) resolved below a directory fd the guest holds.
//!
//! These must not give a guest path to the host: every host call gets a
//! directory descriptor and a single name from `path::resolve`, without
//! following a symbolic link in it.

use super::{Status, WasiState};
use crate::wasi::abi::{self, filetype, filetype_of_mode, oflags, Errno, Filestat};
use crate::wasi::fd::Entry;
use crate::wasi::memory::GuestMemory;
use crate::wasi::path::{self, Target};
use crate::wasi::sys;
use std::ffi::CString;
use std::os::fd::AsFd;

/// Mode of files `path_open` creates, before the host's umask.
const CREATE_MODE: libc::c_uint = 0o666;

/// Resolves the guest path of `len` bytes at `ptr` below directory fd
/// `fd` (see [`path::resolve`]).
fn resolve<'a>(
    state: &'a WasiState,
    memory: &GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
    follow: bool,
) -> Result<Target<'a>, Errno> {
    let dir = state.fds.get(fd)?.dir()?;
    path::resolve(dir.file.as_fd(), memory.bytes(ptr, len)?, follow)
}

/// `path_create_directory`.
pub(crate) fn path_create_directory(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Status {
    let target = resolve(state, memory, fd, path, path_len, false)?;
    Ok(sys::mkdirat(target.dir(), target.name())?)
}

/// `path_filestat_get`.
pub(crate) fn path_filestat_get(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    stat: u32,
) -> Status {
    let follow = abi::follows_symlinks(flags)?;
    let target = resolve(state, memory, fd, path, path_len, follow)?;
    let filestat = Filestat::from_host(&sys::fstatat(target.dir(), target.name())?);
    memory.write(stat, &filestat.encode())
}

/// `path_filestat_set_times`.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_filestat_set_times(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    path: u32,
    path_len: u32,
    atim: u64,
    mtim: u64,
    fst_flags: u32,
) -> Status {
    let follow = abi::follows_symlinks(flags)?;
    let times = abi::set_times(atim, mtim, fst_flags)?;
    let target = resolve(state, memory, fd, path, path_len, follow)?;
    Ok(sys::utimensat(target.dir(), target.name(), times)?)
}

/// `path_link`.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_link(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    old_fd: u32,
    old_flags: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Status {
    let follow = abi::follows_symlinks(old_flags)?;
    let old = resolve(state, memory, old_fd, old_path, old_path_len, follow)?;
    let new = resolve(state, memory, new_fd, new_path, new_path_len, false)?;
    Ok(sys::linkat(old.dir(), old.name(), new.dir(), new.name())?)
}

/// `path_open`: the access mode follows the requested base rights (see
/// [`abi::open_flags`]); the new fd is the lowest free one. With `creat`
/// and `excl` a final symbolic link is never followed, so it counts as an
/// existing file.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_open(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    dirflags: u32,
    path: u32,
    path_len: u32,
    oflags: u32,
    fs_rights_base: u64,
    _fs_rights_inheriting: u64,
    fdflags: u32,
    opened: u32,
) -> Status {
    let follow = abi::follows_symlinks(dirflags)?;
    let flags = abi::open_flags(oflags, fs_rights_base, fdflags)?;
    memory.check(opened, 4)?;
    let exclusive = oflags & (oflags::CREAT | oflags::EXCL) == oflags::CREAT | oflags::EXCL;
    let target = resolve(state, memory, fd, path, path_len, follow && !exclusive)?;
    let file = sys::openat(target.dir(), target.name(), flags, CREATE_MODE)?;
    drop(target);
    let new = state.fds.insert(Entry::open(file)?)?;
    memory.write_u32(opened, new)
}

/// `path_readlink`: the target is cut to `buf_len` bytes, without a NUL.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_readlink(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
    buf: u32,
    buf_len: u32,
    bufused: u32,
) -> Status {
    memory.check(bufused, 4)?;
    let target = resolve(state, memory, fd, path, path_len, false)?;
    let link = sys::readlinkat(target.dir(), target.name())?;
    let used = link.get(..buf_len as usize).unwrap_or(&link);
    memory.write(buf, used)?;
    memory.write_size(bufused, used.len())
}

/// `path_remove_directory`.
pub(crate) fn path_remove_directory(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Status {
    let target = resolve(state, memory, fd, path, path_len, false)?;
    Ok(sys::unlinkat(target.dir(), target.name(), true)?)
}

/// `path_rename`.
#[allow(clippy::too_many_arguments)] // the preview1 signature
pub(crate) fn path_rename(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    old_path: u32,
    old_path_len: u32,
    new_fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Status {
    let old = resolve(state, memory, fd, old_path, old_path_len, false)?;
    let new = resolve(state, memory, new_fd, new_path, new_path_len, false)?;
    Ok(sys::renameat(old.dir(), old.name(), new.dir(), new.name())?)
}

/// `path_symlink`: the target must stay inside (see
/// [`path::check_link_target`]).
pub(crate) fn path_symlink(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    old_path: u32,
    old_path_len: u32,
    fd: u32,
    new_path: u32,
    new_path_len: u32,
) -> Status {
    let link_target = memory.bytes(old_path, old_path_len)?.to_vec();
    let link = resolve(state, memory, fd, new_path, new_path_len, false)?;
    path::check_link_target(&link_target, link.depth())?;
    let link_target = CString::new(link_target).map_err(|_| Errno::Inval)?;
    Ok(sys::symlinkat(&link_target, link.dir(), link.name())?)
}

/// `path_unlink_file`. Unlinking a directory is `ISDIR`, on macOS too
/// (whose host error is `EPERM`).
pub(crate) fn path_unlink_file(
    state: &mut WasiState,
    memory: &mut GuestMemory<'_>,
    fd: u32,
    path: u32,
    path_len: u32,
) -> Status {
    let target = resolve(state, memory, fd, path, path_len, false)?;
    match sys::unlinkat(target.dir(), target.name(), false) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            let stat = sys::fstatat(target.dir(), target.name())?;
            if filetype_of_mode(stat.st_mode) == filetype::DIRECTORY {
                Err(Errno::Isdir)
            } else {
                Err(e.into())
            }
        }
        Err(e) => Err(e.into()),
    }
}

//! Safe wrappers over the host calls WASI needs that `std` does not offer:
//! the `*at` calls relative to a directory descriptor, `readv` into guest
//! memory, directory listings, file status, descriptor status flags, file
//! times, clocks, randomness and `poll`. Linux and macOS, through `libc`.
//!
//! This file holds the `unsafe` of the WASI implementation. It must not
//! interpret guest data: names come already checked from `path.rs`
//! (single components, never absolute, never `..`), buffers already
//! bounds-checked from `memory.rs`, and errors go back as `io::Error`.

use super::abi::{filetype, filetype_of_mode, SetTime};
use std::ffi::CStr;
use std::io;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::ptr::NonNull;

/// The longest symbolic link target read.
const MAX_LINK_TARGET: usize = 1 << 16;

/// `result`, or the thread's `errno` if it is -1.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

/// An error with host `errno` value `raw`.
fn error(raw: libc::c_int) -> io::Error {
    io::Error::from_raw_os_error(raw)
}

/// Opens `name` in directory `dir` with `flags` (and `mode` if it creates).
pub(crate) fn openat(
    dir: BorrowedFd<'_>,
    name: &CStr,
    flags: libc::c_int,
    mode: libc::c_uint,
) -> io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated and `dir` is open; openat reads the
    // mode as its variadic argument only with O_CREAT.
    let fd = check(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })?;
    // SAFETY: openat returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The target of symbolic link `name` in `dir` (`EINVAL` if it is not one).
pub(crate) fn readlinkat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<Vec<u8>> {
    let mut buf: Vec<u8> = Vec::with_capacity(256);
    loop {
        // SAFETY: `name` is NUL-terminated and `dir` is open; readlinkat
        // writes at most `capacity` bytes into the buffer's spare capacity.
        let n = unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.capacity(),
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        if n < buf.capacity() {
            // SAFETY: readlinkat initialized the first `n` bytes.
            unsafe { buf.set_len(n) };
            return Ok(buf);
        }
        if buf.capacity() >= MAX_LINK_TARGET {
            return Err(error(libc::ENAMETOOLONG));
        }
        buf.reserve(buf.capacity() * 2);
    }
}

/// Runs `stat_call` on an uninitialized `stat` and returns it once the call
/// succeeded.
fn stat_with(stat_call: impl FnOnce(*mut libc::stat) -> libc::c_int) -> io::Result<libc::stat> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    check(stat_call(stat.as_mut_ptr()))?;
    // SAFETY: the call succeeded, so it filled the struct.
    Ok(unsafe { stat.assume_init() })
}

/// The status of open descriptor `fd`.
pub(crate) fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: `fd` is open and `stat` points to a `libc::stat`.
    stat_with(|stat| unsafe { libc::fstat(fd.as_raw_fd(), stat) })
}

/// The status of `name` in `dir`, not following a symbolic link.
pub(crate) fn fstatat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: `dir` is open, `name` NUL-terminated and `stat` points to a
    // `libc::stat`.
    stat_with(|stat| unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            stat,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Creates directory `name` in `dir`.
pub(crate) fn mkdirat(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `dir` is open and `name` NUL-terminated.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), 0o777) }).map(drop)
}

/// Removes `name` from `dir`: a directory if `directory`, else a file.
pub(crate) fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, directory: bool) -> io::Result<()> {
    let flags = if directory { libc::AT_REMOVEDIR } else { 0 };
    // SAFETY: `dir` is open and `name` NUL-terminated.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop)
}

/// Renames `old` in `old_dir` to `new` in `new_dir`.
pub(crate) fn renameat(
    old_dir: BorrowedFd<'_>,
    old: &CStr,
    new_dir: BorrowedFd<'_>,
    new: &CStr,
) -> io::Result<()> {
    // SAFETY: both directories are open and both names NUL-terminated.
    check(unsafe {
        libc::renameat(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
        )
    })
    .map(drop)
}

/// Makes `new` in `new_dir` a hard link to `old` in `old_dir` (a symbolic
/// link itself, not its target).
pub(crate) fn linkat(
    old_dir: BorrowedFd<'_>,
    old: &CStr,
    new_dir: BorrowedFd<'_>,
    new: &CStr,
) -> io::Result<()> {
    // SAFETY: both directories are open and both names NUL-terminated.
    check(unsafe {
        libc::linkat(
            old_dir.as_raw_fd(),
            old.as_ptr(),
            new_dir.as_raw_fd(),
            new.as_ptr(),
            0,
        )
    })
    .map(drop)
}

/// Creates symbolic link `name` in `dir` pointing to `target`.
pub(crate) fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `dir` is open and both strings NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

/// The `timespec` `utimensat` and `futimens` take for `time`.
fn timespec(time: SetTime) -> libc::timespec {
    let (tv_sec, tv_nsec) = match time {
        SetTime::Omit => (0, libc::UTIME_OMIT),
        SetTime::Now => (0, libc::UTIME_NOW),
        SetTime::At(ns) => (
            libc::time_t::try_from(ns / 1_000_000_000).unwrap_or(libc::time_t::MAX),
            libc::c_long::try_from(ns % 1_000_000_000).unwrap_or(0),
        ),
    };
    libc::timespec { tv_sec, tv_nsec }
}

/// Sets the access and modification times of `name` in `dir`, not
/// following a symbolic link.
pub(crate) fn utimensat(dir: BorrowedFd<'_>, name: &CStr, times: [SetTime; 2]) -> io::Result<()> {
    let times = times.map(timespec);
    // SAFETY: `dir` is open, `name` NUL-terminated and `times` two timespecs.
    check(unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            name.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
    .map(drop)
}

/// Sets the access and modification times of open file `fd`.
pub(crate) fn futimens(fd: BorrowedFd<'_>, times: [SetTime; 2]) -> io::Result<()> {
    let times = times.map(timespec);
    // SAFETY: `fd` is open and `times` two timespecs.
    check(unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) }).map(drop)
}

/// The status flags (`O_APPEND`, `O_NONBLOCK`, ...) of `fd`.
pub(crate) fn status_flags(fd: BorrowedFd<'_>) -> io::Result<libc::c_int> {
    // SAFETY: F_GETFL only reads the flags of open descriptor `fd`.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })
}

/// Sets the status flags of `fd`.
pub(crate) fn set_status_flags(fd: BorrowedFd<'_>, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: F_SETFL only changes the flags of open descriptor `fd`.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags) }).map(drop)
}

/// Reads from `fd` into the buffers `buffers` of `memory` with one
/// `readv`, and returns how many bytes it read. A buffer outside `memory`
/// is `EFAULT`.
pub(crate) fn readv(
    fd: BorrowedFd<'_>,
    memory: &mut [u8],
    buffers: &[Range<usize>],
) -> io::Result<usize> {
    let len = memory.len();
    let base = memory.as_mut_ptr();
    let iovecs = buffers
        .iter()
        .map(|r| {
            if r.start <= r.end && r.end <= len {
                Ok(libc::iovec {
                    iov_base: base.wrapping_add(r.start).cast(),
                    iov_len: r.end - r.start,
                })
            } else {
                Err(error(libc::EFAULT))
            }
        })
        .collect::<io::Result<Vec<libc::iovec>>>()?;
    let count = libc::c_int::try_from(iovecs.len()).map_err(|_| error(libc::EINVAL))?;
    // SAFETY: every iovec lies inside `memory`, which the unique borrow
    // lets the kernel write; no reference into it lives during the call
    // (overlapping buffers are fine for the kernel).
    let n = unsafe { libc::readv(fd.as_raw_fd(), iovecs.as_ptr(), count) };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DirEntry {
    /// The name (no `/`, no NUL).
    pub(crate) name: Vec<u8>,
    /// The inode number.
    pub(crate) ino: u64,
    /// The preview1 file type.
    pub(crate) filetype: u8,
}

/// An open `DIR` stream, closed on drop.
struct DirStream(NonNull<libc::DIR>);

impl Drop for DirStream {
    fn drop(&mut self) {
        // SAFETY: the stream is open and closed only here.
        unsafe { libc::closedir(self.0.as_ptr()) };
    }
}

/// Clears the thread's `errno`, so that a null `readdir` can tell the end
/// of the stream from an error.
fn clear_errno() {
    #[cfg(not(any(target_os = "macos", target_os = "ios", target_os = "freebsd")))]
    use libc::__errno_location as errno_location;
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    use libc::__error as errno_location;
    // SAFETY: the errno location is valid for the thread's lifetime.
    unsafe { *errno_location() = 0 };
}

/// Every entry of directory `dir` (`.` and `..` included), read through a
/// new descriptor of it so that `dir`'s own offset does not matter.
pub(crate) fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<DirEntry>> {
    let fd = openat(
        dir,
        c".",
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        0,
    )?;
    // SAFETY: `fd` is an open directory; on success the stream owns it.
    let stream = NonNull::new(unsafe { libc::fdopendir(fd.as_raw_fd()) })
        .ok_or_else(io::Error::last_os_error)?;
    let _owned_by_stream = fd.into_raw_fd();
    let stream = DirStream(stream);
    let mut entries = Vec::new();
    loop {
        clear_errno();
        // SAFETY: the stream is open.
        let entry = unsafe { libc::readdir(stream.0.as_ptr()) };
        // SAFETY: a non-null entry stays valid until the next readdir on
        // the stream, and its name is NUL-terminated.
        let Some(entry) = (unsafe { entry.as_ref() }) else {
            let error = io::Error::last_os_error();
            return match error.raw_os_error() {
                Some(0) => Ok(entries),
                _ => Err(error),
            };
        };
        // SAFETY: as above.
        let name = unsafe { CStr::from_ptr(entry.d_name.as_ptr()) };
        let filetype = match entry.d_type {
            libc::DT_BLK => filetype::BLOCK_DEVICE,
            libc::DT_CHR => filetype::CHARACTER_DEVICE,
            libc::DT_DIR => filetype::DIRECTORY,
            libc::DT_REG => filetype::REGULAR_FILE,
            libc::DT_SOCK => filetype::SOCKET_STREAM,
            libc::DT_LNK => filetype::SYMBOLIC_LINK,
            libc::DT_UNKNOWN => {
                fstatat(dir, name).map_or(filetype::UNKNOWN, |stat| filetype_of_mode(stat.st_mode))
            }
            _ => filetype::UNKNOWN,
        };
        entries.push(DirEntry {
            name: name.to_bytes().to_vec(),
            ino: entry.d_ino,
            filetype,
        });
    }
}

/// A host clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock(libc::clockid_t);

impl Clock {
    /// The host clock for preview1 `clockid` `id`, if there is one.
    pub(crate) fn from_wasi(id: u32) -> Option<Clock> {
        use super::abi::clock::*;
        Some(Clock(match id {
            REALTIME => libc::CLOCK_REALTIME,
            MONOTONIC => libc::CLOCK_MONOTONIC,
            PROCESS_CPUTIME_ID => libc::CLOCK_PROCESS_CPUTIME_ID,
            THREAD_CPUTIME_ID => libc::CLOCK_THREAD_CPUTIME_ID,
            _ => return None,
        }))
    }

    /// Runs `call` on the clock and a `timespec` and returns the time it
    /// filled in, in nanoseconds.
    fn query(
        self,
        call: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
    ) -> io::Result<u64> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `call` is clock_gettime or clock_getres, which fill `ts`.
        check(unsafe { call(self.0, &mut ts) })?;
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
        Ok(secs.saturating_mul(1_000_000_000).saturating_add(nanos))
    }

    /// The current time in nanoseconds.
    pub(crate) fn now(self) -> io::Result<u64> {
        self.query(libc::clock_gettime)
    }

    /// The resolution in nanoseconds.
    pub(crate) fn resolution(self) -> io::Result<u64> {
        self.query(libc::clock_getres)
    }
}

/// Fills `buf` with random bytes from the kernel.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn random(buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // SAFETY: getrandom writes at most `rest.len()` bytes to `rest`.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match usize::try_from(n) {
            Ok(n) => filled += n,
            Err(_) => {
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }
    Ok(())
}

/// Fills `buf` with random bytes from the kernel.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn random(buf: &mut [u8]) -> io::Result<()> {
    for chunk in buf.chunks_mut(256) {
        // SAFETY: getentropy writes exactly `chunk.len()` (at most 256)
        // bytes to `chunk`.
        check(unsafe { libc::getentropy(chunk.as_mut_ptr().cast(), chunk.len()) })?;
    }
    Ok(())
}

/// Waits until one of `fds` is ready or `timeout_ms` passes (-1: no
/// limit), filling in `revents`. An interruption by a signal counts as a
/// timeout.
pub(crate) fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<()> {
    let count = libc::nfds_t::try_from(fds.len()).map_err(|_| error(libc::EINVAL))?;
    // SAFETY: the pointer and count describe `fds`.
    let result = check(unsafe { libc::poll(fds.as_mut_ptr(), count, timeout_ms) });
    match result {
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        other => other.map(drop),
    }
}

//! The guest's file descriptor table: what each preview1 fd number stands
//! for (a host file, a host directory, or an in-memory standard stream)
//! and how numbers are given out: 0, 1 and 2 for the standard streams,
//! the preopened directories from 3 in configuration order, then the
//! lowest free number.
//!
//! This file must not resolve paths (`path.rs`) or implement calls
//! (`calls/`). It owns every host descriptor the guest holds, as a `File`
//! that closes when its entry drops.

use super::abi::{filetype, filetype_of_mode, Errno};
use super::config::{Input, Output, Preopen};
use super::sys::{self, DirEntry};
use std::cell::RefCell;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::rc::Rc;

/// What an fd stands for.
pub(crate) enum Entry {
    /// A host file that is not a directory: a regular file, a device, a
    /// pipe, a socket, or an inherited standard stream.
    File(File),
    /// A host directory.
    Dir(Dir),
    /// Standard input given as bytes, read up to `pos`.
    Input {
        /// All of the input.
        data: Vec<u8>,
        /// How much of it was read.
        pos: usize,
    },
    /// Standard output or error captured in a buffer.
    Output(Rc<RefCell<Vec<u8>>>),
}

/// A directory the guest holds.
pub(crate) struct Dir {
    /// The open directory.
    pub(crate) file: File,
    /// The guest path of a preopened directory.
    pub(crate) preopen: Option<String>,
    /// The listing `fd_readdir` reads, taken when it reads from cookie 0
    /// (or first reads at all).
    pub(crate) listing: Option<Vec<DirEntry>>,
}

impl Entry {
    /// The entry for newly opened host descriptor `fd`.
    pub(crate) fn open(fd: OwnedFd) -> io::Result<Entry> {
        let stat = sys::fstat(fd.as_fd())?;
        let file = File::from(fd);
        Ok(if filetype_of_mode(stat.st_mode) == filetype::DIRECTORY {
            Entry::Dir(Dir {
                file,
                preopen: None,
                listing: None,
            })
        } else {
            Entry::File(file)
        })
    }

    /// The host file behind the entry, unless it lives in memory.
    pub(crate) fn host(&self) -> Option<&File> {
        match self {
            Entry::File(file) => Some(file),
            Entry::Dir(dir) => Some(&dir.file),
            Entry::Input { .. } | Entry::Output(_) => None,
        }
    }

    /// The directory, or `NOTDIR`.
    pub(crate) fn dir(&self) -> Result<&Dir, Errno> {
        match self {
            Entry::Dir(dir) => Ok(dir),
            _ => Err(Errno::Notdir),
        }
    }

    /// The directory, writable, or `NOTDIR`.
    pub(crate) fn dir_mut(&mut self) -> Result<&mut Dir, Errno> {
        match self {
            Entry::Dir(dir) => Ok(dir),
            _ => Err(Errno::Notdir),
        }
    }
}

/// An entry sharing the host's standard stream `stream`, if it is open.
fn inherit(stream: impl AsFd) -> Option<Entry> {
    let fd = stream.as_fd().try_clone_to_owned().ok()?;
    Entry::open(fd).ok()
}

/// The entry of an output stream configured as `output`, whose host
/// stream is `host`.
fn output(output: Output, host: impl AsFd) -> Option<Entry> {
    match output {
        Output::Inherit => inherit(host),
        Output::Buffer(buffer) => Some(Entry::Output(buffer)),
    }
}

/// The fd table.
pub(crate) struct FdTable {
    /// Entry `n` is fd `n`; `None` is a free number.
    entries: Vec<Option<Entry>>,
}

impl FdTable {
    /// The table a program starts with. An inherited standard stream the
    /// host has closed stays closed for the guest.
    pub(crate) fn new(
        stdin: Input,
        stdout: Output,
        stderr: Output,
        preopens: Vec<Preopen>,
    ) -> FdTable {
        let stdin = match stdin {
            Input::Inherit => inherit(io::stdin()),
            Input::Bytes(data) => Some(Entry::Input { data, pos: 0 }),
        };
        let mut entries = vec![
            stdin,
            output(stdout, io::stdout()),
            output(stderr, io::stderr()),
        ];
        entries.extend(preopens.into_iter().map(|p| {
            Some(Entry::Dir(Dir {
                file: p.dir,
                preopen: Some(p.guest_path),
                listing: None,
            }))
        }));
        FdTable { entries }
    }

    /// The entry of `fd`, or `BADF`.
    pub(crate) fn get(&self, fd: u32) -> Result<&Entry, Errno> {
        self.entries
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Errno::Badf)
    }

    /// The entry of `fd`, writable, or `BADF`.
    pub(crate) fn get_mut(&mut self, fd: u32) -> Result<&mut Entry, Errno> {
        self.entries
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Errno::Badf)
    }

    /// Gives `entry` the lowest free fd and returns it.
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<u32, Errno> {
        let index = self
            .entries
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.entries.len());
        let fd = u32::try_from(index).map_err(|_| Errno::Mfile)?;
        match self.entries.get_mut(index) {
            Some(slot) => *slot = Some(entry),
            None => self.entries.push(Some(entry)),
        }
        Ok(fd)
    }

    /// Takes the entry of `fd` out of the table (`BADF` if none).
    pub(crate) fn remove(&mut self, fd: u32) -> Result<Entry, Errno> {
        self.entries
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Errno::Badf)
    }

    /// Moves the entry of `from` to `to`, closing what `to` had. Both must
    /// be open (`BADF`).
    pub(crate) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.get(to)?;
        let entry = self.remove(from)?;
        if let Some(slot) = self.entries.get_mut(to as usize) {
            *slot = Some(entry);
        }
        Ok(())
    }
}

//! The path sandbox: turns a guest path, relative to a directory the guest
//! holds a descriptor of, into a host directory descriptor and one name in
//! it, so that every path operation runs as `*at(dir, name)` and never
//! reaches outside the directory the path started from.
//!
//! Resolution walks the path a component at a time. Each intermediate
//! directory is opened from the previous one with `openat(O_DIRECTORY |
//! O_NOFOLLOW)`. `..` goes back to the previous descriptor rather than
//! asking the host, and is refused (`NOTCAPABLE`) at the starting
//! directory. A symbolic link met on the way (the open fails with `ELOOP`
//! or `ENOTDIR` and `readlinkat` confirms it is a link) has its target
//! spliced in front of the remaining components, at most 32 times (then
//! `LOOP`). Absolute paths and absolute link targets are refused
//! (`NOTCAPABLE`). The final component is followed only on request; the
//! caller then runs its operation without following it again, so a link
//! swapped in meanwhile is never followed. The host only ever sees single
//! components that are neither `..` nor empty, and `.`.
//!
//! This file must not perform the operations themselves (the calls do),
//! and must not rely on `O_PATH`, `openat2` or anything else Linux-only.

use super::abi::{filetype, filetype_of_mode, Errno};
use super::sys;
use std::collections::VecDeque;
use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// Symbolic links one resolution expands before failing with `LOOP`.
const MAX_SYMLINK_EXPANSIONS: u32 = 32;

/// How an intermediate directory is opened: never through a link.
const DIR_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;

/// Where a path leads: `name` in a directory.
pub(crate) struct Target<'a> {
    /// The directory the path started from.
    start: BorrowedFd<'a>,
    /// The directory holding `name`, if it is not `start`.
    parent: Option<OwnedFd>,
    /// A single component (no `/`, not `..`), or `.` for the directory
    /// itself.
    name: CString,
    /// How many directories below `start` the directory holding `name` is.
    depth: usize,
}

impl Target<'_> {
    /// The directory holding the name.
    pub(crate) fn dir(&self) -> BorrowedFd<'_> {
        self.parent.as_ref().map_or(self.start, AsFd::as_fd)
    }

    /// The name: one component, or `.` when the path names a directory
    /// reached through `.` or `..`.
    pub(crate) fn name(&self) -> &CStr {
        &self.name
    }

    /// How many directories below the starting directory [`Target::dir`] is.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }
}

/// The components of `path` between slashes, empty ones left out.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty())
}

/// Resolves `path` relative to directory `start`, following a symbolic
/// link in the last component only if `follow`. A path ending in `/` must
/// name a directory if it names anything (`NOTDIR` otherwise).
///
/// Errors: `NOENT` for an empty path, `INVAL` for a NUL byte,
/// `NOTCAPABLE` for an absolute path or a way out of `start`, `LOOP`
/// after 32 link expansions, and the host's error where a component is
/// missing or not a directory.
pub(crate) fn resolve<'a>(
    start: BorrowedFd<'a>,
    path: &[u8],
    follow: bool,
) -> Result<Target<'a>, Errno> {
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    if path.contains(&0) {
        return Err(Errno::Inval);
    }
    if path.starts_with(b"/") {
        return Err(Errno::Notcapable);
    }
    let mut walk = Walk {
        start,
        stack: Vec::new(),
        rest: components(path).map(<[u8]>::to_vec).collect(),
        expansions: 0,
        trailing_slash: path.ends_with(b"/"),
    };
    let name = walk.run(follow)?;
    walk.finish(name)
}

/// A resolution in progress.
struct Walk<'a> {
    /// The directory the path started from.
    start: BorrowedFd<'a>,
    /// The directories opened below `start`, innermost last.
    stack: Vec<OwnedFd>,
    /// The components left, next first.
    rest: VecDeque<Vec<u8>>,
    /// Symbolic links expanded so far.
    expansions: u32,
    /// Whether the last component must be a directory.
    trailing_slash: bool,
}

/// Whether `error` is the host's errno `raw`.
fn is(error: &std::io::Error, raw: &[libc::c_int]) -> bool {
    error.raw_os_error().is_some_and(|e| raw.contains(&e))
}

impl<'a> Walk<'a> {
    /// The directory the walk is in.
    fn current(&self) -> BorrowedFd<'_> {
        self.stack.last().map_or(self.start, AsFd::as_fd)
    }

    /// Walks the components and returns the last one, or `.` if the path
    /// ends at a directory (`.`, `..`).
    fn run(&mut self, follow: bool) -> Result<CString, Errno> {
        while let Some(component) = self.rest.pop_front() {
            match component.as_slice() {
                b"." => continue,
                b".." => {
                    self.stack.pop().ok_or(Errno::Notcapable)?;
                    continue;
                }
                _ => {}
            }
            let name = CString::new(component).map_err(|_| Errno::Inval)?;
            let last = self.rest.is_empty();
            if last && !follow {
                return Ok(name);
            }
            if last {
                match sys::readlinkat(self.current(), &name) {
                    Ok(target) => self.expand(&target, true)?,
                    Err(e) if is(&e, &[libc::EINVAL, libc::ENOENT]) => return Ok(name),
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            match sys::openat(self.current(), &name, DIR_FLAGS, 0) {
                Ok(dir) => self.stack.push(dir),
                Err(e) if is(&e, &[libc::ELOOP, libc::ENOTDIR]) => {
                    let target = sys::readlinkat(self.current(), &name).map_err(|_| e)?;
                    self.expand(&target, false)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(c".".into())
    }

    /// Splices `target`, the target of the link just met (as the path's
    /// last component if `last`), in front of the remaining components.
    fn expand(&mut self, target: &[u8], last: bool) -> Result<(), Errno> {
        self.expansions += 1;
        if self.expansions > MAX_SYMLINK_EXPANSIONS {
            return Err(Errno::Loop);
        }
        if target.is_empty() {
            return Err(Errno::Noent);
        }
        if target.starts_with(b"/") {
            return Err(Errno::Notcapable);
        }
        if last && target.ends_with(b"/") {
            self.trailing_slash = true;
        }
        for component in components(target).rev() {
            self.rest.push_front(component.to_vec());
        }
        Ok(())
    }

    /// The target `name` in the directory the walk ended in, checked to be
    /// a directory (if it exists) when the path ended in `/`.
    fn finish(mut self, name: CString) -> Result<Target<'a>, Errno> {
        let parent = self.stack.pop();
        let depth = self.stack.len() + usize::from(parent.is_some());
        let target = Target {
            start: self.start,
            parent,
            name,
            depth,
        };
        if self.trailing_slash && target.name.as_bytes() != b"." {
            match sys::fstatat(target.dir(), target.name()) {
                Ok(stat) if filetype_of_mode(stat.st_mode) != filetype::DIRECTORY => {
                    return Err(Errno::Notdir)
                }
                Err(e) if !is(&e, &[libc::ENOENT]) => return Err(e.into()),
                _ => {}
            }
        }
        Ok(target)
    }
}

/// Checks the target of a symbolic link the guest creates `depth`
/// directories below the directory its path started from: `NOENT` if
/// empty, `INVAL` with a NUL byte, `NOTCAPABLE` if absolute or if its `..`
/// components climb above that directory, counted lexically. The guest's
/// own resolution above refuses every way out whatever the link says; this
/// keeps the links it leaves for the host inside too, as long as their
/// targets do not pass through other links.
pub(crate) fn check_link_target(target: &[u8], depth: usize) -> Result<(), Errno> {
    if target.is_empty() {
        return Err(Errno::Noent);
    }
    if target.contains(&0) {
        return Err(Errno::Inval);
    }
    if target.starts_with(b"/") {
        return Err(Errno::Notcapable);
    }
    components(target)
        .try_fold(depth, |depth, component| match component {
            b"." => Ok(depth),
            b".." => depth.checked_sub(1).ok_or(Errno::Notcapable),
            _ => Ok(depth + 1),
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::io::Read;
    use std::os::unix::fs::symlink;
    use std::path::Path;
    use tempfile::TempDir;

    /// A temporary directory with `outside.txt` and `root/`, the directory
    /// paths start from, holding `a/b/`, `a/c.txt` ("c") and `top.txt`
    /// ("top").
    struct Tree {
        tmp: TempDir,
        root: File,
    }

    impl Tree {
        fn new() -> Tree {
            let tmp = tempfile::tempdir().unwrap();
            let root = tmp.path().join("root");
            fs::create_dir_all(root.join("a/b")).unwrap();
            fs::write(root.join("a/c.txt"), "c").unwrap();
            fs::write(root.join("top.txt"), "top").unwrap();
            fs::write(tmp.path().join("outside.txt"), "outside").unwrap();
            let root = File::open(&root).unwrap();
            Tree { tmp, root }
        }

        /// Creates symbolic link `link` (relative to `root`) to `target`.
        fn link(&self, target: impl AsRef<Path>, link: &str) {
            symlink(target, self.tmp.path().join("root").join(link)).unwrap();
        }

        fn resolve(&self, path: &str, follow: bool) -> Result<Target<'_>, Errno> {
            resolve(self.root.as_fd(), path.as_bytes(), follow)
        }

        /// The contents of the file `path` resolves to.
        fn read(&self, path: &str, follow: bool) -> Result<String, Errno> {
            let target = self.resolve(path, follow)?;
            let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
            let fd = sys::openat(target.dir(), target.name(), flags, 0)?;
            let mut text = String::new();
            File::from(fd).read_to_string(&mut text).unwrap();
            Ok(text)
        }
    }

    #[test]
    fn dot_dot_cannot_leave_the_start_directory() {
        let tree = Tree::new();
        for path in [
            "..",
            "../outside.txt",
            "a/../..",
            "a/../../x",
            "a/b/../../../x",
        ] {
            assert_eq!(
                tree.resolve(path, false).err(),
                Some(Errno::Notcapable),
                "{path}"
            );
        }
        assert_eq!(tree.read("a/b/../../top.txt", false), Ok("top".into()));
    }

    #[test]
    fn absolute_paths_are_refused() {
        let tree = Tree::new();
        let outside = tree.tmp.path().join("outside.txt");
        let outside = outside.to_str().unwrap();
        assert_eq!(tree.resolve(outside, false).err(), Some(Errno::Notcapable));
        assert_eq!(tree.resolve("/", true).err(), Some(Errno::Notcapable));
    }

    #[test]
    fn links_out_of_the_tree_are_refused() {
        let tree = Tree::new();
        tree.link(tree.tmp.path().join("outside.txt"), "abs");
        tree.link(tree.tmp.path(), "absdir");
        tree.link("../../outside.txt", "a/up");
        tree.link("../..", "a/updir");
        assert_eq!(tree.read("abs", true), Err(Errno::Notcapable));
        assert_eq!(
            tree.read("absdir/outside.txt", false),
            Err(Errno::Notcapable)
        );
        assert_eq!(tree.read("a/up", true), Err(Errno::Notcapable));
        assert_eq!(
            tree.read("a/updir/outside.txt", false),
            Err(Errno::Notcapable)
        );
    }

    #[test]
    fn link_loops_fail_with_loop() {
        let tree = Tree::new();
        tree.link("l2", "l1");
        tree.link("l1", "l2");
        tree.link("self", "self");
        assert_eq!(tree.resolve("l1", true).err(), Some(Errno::Loop));
        assert_eq!(tree.resolve("l1/x", false).err(), Some(Errno::Loop));
        assert_eq!(tree.resolve("self", true).err(), Some(Errno::Loop));
    }

    #[test]
    fn chains_of_32_links_resolve_and_33_do_not() {
        let tree = Tree::new();
        tree.link("top.txt", "chain0");
        for i in 1..=33 {
            tree.link(format!("chain{}", i - 1), &format!("chain{i}"));
        }
        assert_eq!(tree.read("chain31", true), Ok("top".into()));
        assert_eq!(tree.read("chain32", true), Err(Errno::Loop));
    }

    #[test]
    fn links_inside_the_tree_resolve() {
        let tree = Tree::new();
        tree.link("a/c.txt", "to_c");
        tree.link("../top.txt", "a/b/../to_top");
        tree.link("b/..", "a/to_a");
        assert_eq!(tree.read("to_c", true), Ok("c".into()));
        assert_eq!(tree.read("a/to_top", true), Ok("top".into()));
        assert_eq!(tree.read("a/to_a/c.txt", false), Ok("c".into()));
    }

    #[test]
    fn dot_and_dot_dot_inside_the_tree_resolve() {
        let tree = Tree::new();
        assert_eq!(tree.read("a/./b/../c.txt", false), Ok("c".into()));
        assert_eq!(tree.read("./a//b/..//c.txt", false), Ok("c".into()));
        let target = tree.resolve("a/b/..", false).unwrap();
        assert_eq!(target.name(), c".");
        assert_eq!(target.depth(), 1);
        assert_eq!(tree.resolve("a/b/c", false).unwrap().depth(), 2);
    }

    #[test]
    fn the_last_link_is_followed_only_on_request() {
        let tree = Tree::new();
        tree.link("top.txt", "link");
        let target = tree.resolve("link", false).unwrap();
        assert_eq!(target.name(), c"link");
        assert_eq!(tree.read("link", false), Err(Errno::Loop));
        assert_eq!(tree.read("link", true), Ok("top".into()));
    }

    #[test]
    fn malformed_paths_are_refused() {
        let tree = Tree::new();
        assert_eq!(tree.resolve("", false).err(), Some(Errno::Noent));
        assert_eq!(tree.resolve("a\0b", false).err(), Some(Errno::Inval));
        assert_eq!(tree.resolve("top.txt/", false).err(), Some(Errno::Notdir));
        assert_eq!(tree.resolve("top.txt/x", false).err(), Some(Errno::Notdir));
        assert_eq!(tree.resolve("missing/x", false).err(), Some(Errno::Noent));
        assert!(tree.resolve("a/", false).is_ok());
        assert!(tree.resolve("new/", false).is_ok());
    }

    #[test]
    fn link_targets_must_stay_inside() {
        assert_eq!(check_link_target(b"a/../b", 0), Ok(()));
        assert_eq!(check_link_target(b"../x", 1), Ok(()));
        assert_eq!(check_link_target(b"../x", 0), Err(Errno::Notcapable));
        assert_eq!(check_link_target(b"a/../../x", 0), Err(Errno::Notcapable));
        assert_eq!(check_link_target(b"/etc", 3), Err(Errno::Notcapable));
        assert_eq!(check_link_target(b"", 0), Err(Errno::Noent));
        assert_eq!(check_link_target(b"a\0", 0), Err(Errno::Inval));
    }
}

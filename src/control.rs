//! The control structure of a function body as a walk sees it: the frames
//! of the constructs open at the current operator, and whether the current
//! operator can execute.
//!
//! Fuel planning ([`crate::fuel`]) and translation ([`crate::translate`])
//! both walk a body with a [`ControlStack`], each keeping its own data in
//! the frames. Reachability is decided here, once: code after `br`,
//! `br_table`, `return` and `unreachable` up to the enclosing `else` or
//! `end` is unreachable, and so is the code after an `end` that nothing
//! reaches (no branch targets it and no arm falls through to it). The
//! translator emits nothing for unreachable code and the planner charges
//! nothing for it, so they agree on it by construction.
//!
//! This module must not know about fuel or Cranelift; the body is
//! validated before it is walked.

/// What kind of construct a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstructKind {
    /// The function body.
    Function,
    /// A `block`.
    Block,
    /// A `loop`.
    Loop,
    /// An `if`, with or without `else`.
    If,
}

/// One open construct.
#[derive(Debug)]
pub struct Frame<T> {
    /// What it is.
    pub kind: ConstructKind,
    /// For an `if`: whether its `else` has been walked.
    pub else_seen: bool,
    /// Whether control can arrive after its `end`: a branch targets it, or
    /// an arm falls through (so far).
    next_reachable: bool,
    /// Whether a branch targets its `end` (never for a loop, whose
    /// branches go to its start).
    targeted: bool,
    /// What the walker keeps for it.
    pub data: T,
}

impl<T> Frame<T> {
    /// Whether a branch targets the construct's `end`.
    pub fn targeted(&self) -> bool {
        self.targeted
    }
}

/// The frames open at the current operator, innermost last, and whether it
/// is reachable.
#[derive(Debug)]
pub struct ControlStack<T> {
    frames: Vec<Frame<T>>,
    reachable: bool,
    /// Constructs opened in unreachable code, whose operators up to their
    /// `end` are skipped without frames.
    skipped: u32,
}

impl<T> ControlStack<T> {
    /// The stack at a body's first operator: the function's frame.
    pub fn new(function: T) -> ControlStack<T> {
        let mut stack = ControlStack {
            frames: Vec::new(),
            reachable: true,
            skipped: 0,
        };
        stack.push(ConstructKind::Function, function);
        stack
    }

    /// Whether the current operator can execute.
    pub fn is_reachable(&self) -> bool {
        self.reachable
    }

    /// At `block`, `loop` or `if`: in unreachable code, counts the construct
    /// as skipped and returns `false`; otherwise returns `true`, and the
    /// walker then [`push`](Self::push)es its frame.
    pub fn enters(&mut self) -> bool {
        if !self.reachable {
            self.skipped += 1;
        }
        self.reachable
    }

    /// Opens a reachable construct's frame.
    pub fn push(&mut self, kind: ConstructKind, data: T) {
        debug_assert!(self.reachable, "frames open in reachable code");
        self.frames.push(Frame {
            kind,
            else_seen: false,
            next_reachable: false,
            targeted: false,
            data,
        });
    }

    /// At `else`: whether it belongs to a skipped `if` (then the walker
    /// skips it).
    pub fn skips_else(&self) -> bool {
        self.skipped > 0
    }

    /// At the `else` of the innermost frame, an `if`: records whether the
    /// then arm fell through, and makes the else arm reachable (the `if`
    /// was). Returns the frame.
    pub fn else_arm(&mut self) -> &mut Frame<T> {
        debug_assert_eq!(self.skipped, 0, "skipped else");
        let fell_through = self.reachable;
        let frame = self.frames.last_mut().expect("validated else");
        debug_assert_eq!(frame.kind, ConstructKind::If, "validated else");
        frame.next_reachable |= fell_through;
        frame.else_seen = true;
        self.reachable = true;
        frame
    }

    /// At `end`: whether it closes a skipped construct, which it then
    /// counts as closed (the walker skips the `end`).
    pub fn skips_end(&mut self) -> bool {
        if self.skipped > 0 {
            self.skipped -= 1;
            return true;
        }
        false
    }

    /// Whether control can arrive after the innermost frame's `end` if it
    /// closed now.
    fn next_reachable(&self) -> bool {
        let frame = self.innermost();
        self.reachable
            || frame.next_reachable
            || (frame.kind == ConstructKind::If && !frame.else_seen)
    }

    /// At an `end` that is not skipped: pops the innermost frame and
    /// returns it. The code after the `end` is reachable if a branch
    /// targets the construct, an arm falls through, or it is an `if`
    /// without `else`.
    pub fn end(&mut self) -> Frame<T> {
        debug_assert_eq!(self.skipped, 0, "skipped end");
        self.reachable = self.next_reachable();
        self.frames.pop().expect("validated end")
    }

    /// A branch from reachable code to the frame `depth` levels out: the
    /// code after that construct's `end` becomes reachable, unless it is
    /// a loop. Returns the frame.
    pub fn branch(&mut self, depth: u32) -> &mut Frame<T> {
        debug_assert!(self.reachable, "branches are walked in reachable code");
        let frame = self.frame_mut(depth);
        if frame.kind != ConstructKind::Loop {
            frame.targeted = true;
            frame.next_reachable = true;
        }
        frame
    }

    /// After `br`, `br_table`, `return` or `unreachable`: the code up to
    /// the enclosing `else` or `end` is unreachable.
    pub fn stop(&mut self) {
        self.reachable = false;
    }

    /// Makes the current operator reachable or not. Only for a walker that
    /// walks a stretch of reachable code twice (the translator's exact
    /// fallbacks): it restores what the first walk left.
    pub fn set_reachable(&mut self, reachable: bool) {
        self.reachable = reachable;
    }

    /// The frame `depth` levels out.
    pub fn frame(&self, depth: u32) -> &Frame<T> {
        &self.frames[self.index(depth)]
    }

    /// The frame `depth` levels out, mutably.
    pub fn frame_mut(&mut self, depth: u32) -> &mut Frame<T> {
        let index = self.index(depth);
        &mut self.frames[index]
    }

    /// The innermost frame.
    pub fn innermost(&self) -> &Frame<T> {
        self.frames.last().expect("the function's frame is open")
    }

    /// The innermost frame, mutably.
    pub fn innermost_mut(&mut self) -> &mut Frame<T> {
        self.frames
            .last_mut()
            .expect("the function's frame is open")
    }

    /// The function's frame.
    pub fn function(&self) -> &Frame<T> {
        &self.frames[0]
    }

    /// How many frames are open, the function's included.
    pub fn open_frames(&self) -> usize {
        self.frames.len()
    }

    /// The index from the outermost frame (the function's, 0) of the frame
    /// `depth` levels out.
    pub fn index(&self, depth: u32) -> usize {
        self.frames.len() - 1 - depth as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_after_a_branch_is_unreachable_up_to_the_end() {
        let mut s = ControlStack::new(());
        assert!(s.enters());
        s.push(ConstructKind::Block, ());
        s.stop();
        // A construct in unreachable code is skipped with its `end`.
        assert!(!s.enters());
        assert!(s.skips_end());
        assert!(!s.skips_end());
        assert_eq!(s.end().kind, ConstructKind::Block);
        assert!(!s.is_reachable(), "nothing reaches the block's end");
    }

    #[test]
    fn a_branch_makes_the_end_reachable_but_not_for_a_loop() {
        let mut s = ControlStack::new(());
        s.push(ConstructKind::Block, ());
        s.push(ConstructKind::Loop, ());
        assert!(!s.branch(0).targeted());
        assert!(s.branch(1).targeted());
        s.stop();
        s.end();
        assert!(!s.is_reachable(), "branches to a loop go to its start");
        s.end();
        assert!(s.is_reachable());
    }

    #[test]
    fn an_if_end_is_reachable_when_an_arm_falls_through_or_it_has_no_else() {
        let mut s = ControlStack::new(());
        s.push(ConstructKind::If, ());
        s.stop();
        s.end();
        assert!(s.is_reachable(), "the missing else arm falls through");

        s.push(ConstructKind::If, ());
        assert!(s.else_arm().else_seen);
        s.stop();
        s.end();
        assert!(s.is_reachable(), "the then arm fell through");

        s.push(ConstructKind::If, ());
        s.stop();
        s.else_arm();
        assert!(s.is_reachable(), "the else arm is reachable");
        s.stop();
        s.end();
        assert!(!s.is_reachable(), "neither arm falls through");
    }
}

//! What a host function sees of its call: the [`Caller`] (the calling
//! instance's memory and the store's fuel) and the [`HostError`] it returns
//! to trap or to end the program.
//!
//! This file must not convert values or unwind (`call.rs` does both); it
//! only gives a running host function safe access to what wasm left
//! suspended.

use crate::fuel::StoreState;
use crate::memory::LinearMemory;
use std::marker::PhantomData;

/// Why a host function did not return results.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// A failure: the call traps with [`TrapCode::HostError`](crate::TrapCode::HostError).
    #[error("{0}")]
    Message(String),
    /// The program ends with this exit status (WASI `proc_exit`): wasm
    /// unwinds to the host, and the call fails with
    /// [`CallError::Exit`](crate::CallError::Exit).
    #[error("exit with status {0}")]
    Exit(i32),
}

impl From<String> for HostError {
    fn from(message: String) -> HostError {
        HostError::Message(message)
    }
}

impl From<&str> for HostError {
    fn from(message: &str) -> HostError {
        HostError::Message(message.to_string())
    }
}

/// The context of one host function call: the linear memory of the
/// instance that called (empty when the host calls the function directly,
/// or the caller has no memory) and the fuel of the store it runs in.
///
/// Valid only during the call; wasm is suspended meanwhile, so nothing else
/// reads or writes what a `Caller` reaches.
pub struct Caller<'a> {
    memory: Option<*mut LinearMemory>,
    state: *mut StoreState,
    _call: PhantomData<&'a mut StoreState>,
}

impl Caller<'_> {
    /// A caller reaching `memory` (if any) and the store `state`. Both must
    /// stay alive, and nothing else may use them, for the caller's lifetime.
    pub(crate) fn new(memory: Option<*mut LinearMemory>, state: *mut StoreState) -> Self {
        Caller {
            memory,
            state,
            _call: PhantomData,
        }
    }

    /// The calling instance's memory (memory 0), empty if it has none.
    pub fn memory(&self) -> &[u8] {
        // SAFETY: by `new`'s contract the memory is alive and unused by
        // anyone else while this caller lives.
        self.memory.map_or(&[], |m| unsafe { (*m).data() })
    }

    /// The calling instance's memory, writable; empty if it has none.
    pub fn memory_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `memory`, and `&mut self` makes the access exclusive.
        self.memory.map_or(&mut [], |m| unsafe { (*m).data_mut() })
    }

    /// The store's remaining fuel (see [`Store::fuel_remaining`](crate::Store::fuel_remaining)).
    pub fn fuel_remaining(&self) -> u64 {
        // SAFETY: by `new`'s contract the state is alive and unused by
        // anyone else while this caller lives; metered code flushed its fuel
        // register into it before calling the host.
        unsafe { (*self.state).remaining() }
    }

    /// The fuel the store has consumed (see [`Store::fuel_consumed`](crate::Store::fuel_consumed)).
    pub fn fuel_consumed(&self) -> u64 {
        // SAFETY: as in `fuel_remaining`.
        unsafe { (*self.state).consumed() }
    }
}

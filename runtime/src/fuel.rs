//! A store's fuel: the [`StoreState`] record behind every store's
//! [`StoreContext`], the fuel accounting (remaining, consumed, set, add) and
//! the out-of-fuel handler that builtins run when a charge finds the store
//! short, and the refund of a charge whose action did not happen.
//!
//! While metered code runs, the live fuel is in a register and
//! `StoreContext::fuel` is current only when control is outside wasm code
//! (see `docs/fuel.md`); everything here reads and writes that field, so it
//! must only run then: from the host, or from a builtin called by wasm. This
//! file must not decide what an operation costs (`instance.rs`) nor raise
//! traps (`builtins.rs`).

use crate::abi::{StoreContext, TrapCode};
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// The store's out-of-fuel handler: given `(required, remaining)`, returns
/// the fuel to add, or `None` to stop with [`TrapCode::OutOfFuel`].
pub(crate) type FuelHandler = Box<dyn FnMut(u64, u64) -> Option<u64>>;

/// The default handler: always stop.
fn stop(_required: u64, _remaining: u64) -> Option<u64> {
    None
}

/// Everything generated code and the builtins reach through an instance's
/// store pointer. `#[repr(C)]` with the [`StoreContext`] first: the context
/// pointer generated code holds is a pointer to the whole record.
#[repr(C)]
pub(crate) struct StoreState {
    context: StoreContext,
    /// Fuel consumed before the last time fuel was set or added.
    consumed_before: u64,
    /// The remaining fuel right after it was last set or added: what has
    /// been consumed since is `granted - remaining`.
    granted: u64,
    handler: FuelHandler,
    /// A panic of the handler, for the builtin that ran it to resume.
    panic: Option<Box<dyn Any + Send>>,
}

impl Default for StoreState {
    fn default() -> StoreState {
        StoreState {
            context: StoreContext::default(),
            consumed_before: 0,
            granted: 0,
            handler: Box::new(stop),
            panic: None,
        }
    }
}

impl StoreState {
    /// The context generated code reads, at the start of `this`.
    pub(crate) fn context(this: *mut StoreState) -> *mut StoreContext {
        this.cast()
    }

    /// The record whose context is `context`, which must come from
    /// [`StoreState::context`].
    pub(crate) fn from_context(context: *mut StoreContext) -> *mut StoreState {
        context.cast()
    }

    /// The remaining fuel.
    pub(crate) fn remaining(&self) -> u64 {
        self.context.fuel
    }

    /// The fuel charged since the store was created: setting or adding
    /// fuel does not change it.
    pub(crate) fn consumed(&self) -> u64 {
        let since = self.granted.saturating_sub(self.context.fuel);
        self.consumed_before.saturating_add(since)
    }

    /// Sets the remaining fuel to `fuel`; what was consumed stays counted.
    pub(crate) fn set(&mut self, fuel: u64) {
        self.consumed_before = self.consumed();
        self.granted = fuel;
        self.context.fuel = fuel;
    }

    /// Adds `fuel` to the remaining fuel, saturating.
    pub(crate) fn add(&mut self, fuel: u64) {
        self.set(self.context.fuel.saturating_add(fuel));
    }

    /// Replaces the out-of-fuel handler.
    pub(crate) fn set_handler(&mut self, handler: FuelHandler) {
        self.handler = handler;
    }

    /// Makes sure at least `required` fuel remains, without charging it: if
    /// less does, runs the handler with `(required, remaining)` and adds
    /// what it returns. Fails with [`TrapCode::OutOfFuel`] if the store is
    /// still short, or if the handler panicked (see [`StoreState::take_panic`]).
    pub(crate) fn ensure(&mut self, required: u64) -> Result<(), TrapCode> {
        let remaining = self.remaining();
        if remaining >= required {
            return Ok(());
        }
        // The handler is taken out while it runs: a nested charge (from
        // wasm it somehow entered) finds the default handler and stops.
        let mut handler = std::mem::replace(&mut self.handler, Box::new(stop));
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| handler(required, remaining)));
        self.handler = handler;
        match outcome {
            Ok(Some(fuel)) => self.add(fuel),
            Ok(None) => {}
            Err(payload) => self.panic = Some(payload),
        }
        if self.remaining() >= required {
            Ok(())
        } else {
            Err(TrapCode::OutOfFuel)
        }
    }

    /// Charges `cost`: [`StoreState::ensure`] it remains, then subtracts it.
    /// A failed charge subtracts nothing.
    pub(crate) fn charge(&mut self, cost: u64) -> Result<(), TrapCode> {
        self.ensure(cost)?;
        self.context.fuel -= cost;
        Ok(())
    }

    /// Charges `cost` for `act` and runs it, refunding the charge if `act`
    /// does not happen (returns `None`): an action that fails costs nothing.
    /// If the charge fails, `act` does not run.
    pub(crate) fn charge_for<R>(
        &mut self,
        cost: u64,
        act: impl FnOnce() -> Option<R>,
    ) -> Result<Option<R>, TrapCode> {
        self.charge(cost)?;
        let outcome = act();
        if outcome.is_none() {
            // Cannot overflow: `cost` was just subtracted, and `act` cannot
            // reach the store to change its fuel.
            self.context.fuel += cost;
        }
        Ok(outcome)
    }

    /// The payload of a panic of the handler since the last call, if any.
    pub(crate) fn take_panic(&mut self) -> Option<Box<dyn Any + Send>> {
        self.panic.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn consumed_fuel_survives_set_and_add() {
        let mut s = StoreState::default();
        assert_eq!((s.remaining(), s.consumed()), (0, 0));
        s.set(100);
        assert_eq!(s.charge(30), Ok(()));
        assert_eq!((s.remaining(), s.consumed()), (70, 30));
        s.add(5);
        assert_eq!((s.remaining(), s.consumed()), (75, 30));
        s.set(10);
        assert_eq!(s.charge(4), Ok(()));
        assert_eq!((s.remaining(), s.consumed()), (6, 34));
        s.add(u64::MAX);
        assert_eq!(s.charge(1), Ok(()));
        assert_eq!((s.remaining(), s.consumed()), (u64::MAX - 1, 35));
    }

    #[test]
    fn short_charges_run_the_handler_once() {
        let mut s = StoreState::default();
        s.set(3);
        assert_eq!(s.charge(5), Err(TrapCode::OutOfFuel));
        assert_eq!(s.remaining(), 3);
        let log = Rc::new(RefCell::new(Vec::new()));
        let seen = log.clone();
        s.set_handler(Box::new(move |required, remaining| {
            seen.borrow_mut().push((required, remaining));
            Some(1)
        }));
        assert_eq!(
            s.charge(5),
            Err(TrapCode::OutOfFuel),
            "1 added, still short"
        );
        assert_eq!(s.remaining(), 4, "what the handler added stays");
        assert_eq!(s.charge(5), Ok(()));
        assert_eq!((s.remaining(), s.consumed()), (0, 5));
        assert_eq!(s.charge(0), Ok(()));
        assert_eq!(*log.borrow(), [(5, 3), (5, 4)]);
    }

    #[test]
    fn actions_that_fail_are_refunded() {
        let mut s = StoreState::default();
        s.set(10);
        assert_eq!(s.charge_for(4, || Some(7)), Ok(Some(7)));
        assert_eq!((s.remaining(), s.consumed()), (6, 4));
        assert_eq!(s.charge_for(4, || None::<()>), Ok(None));
        assert_eq!((s.remaining(), s.consumed()), (6, 4), "refunded");
        let unpaid = || -> Option<()> { panic!("not paid for, so never run") };
        assert_eq!(s.charge_for(7, unpaid), Err(TrapCode::OutOfFuel));
        assert_eq!((s.remaining(), s.consumed()), (6, 4));
        s.set_handler(Box::new(|_, _| Some(5)));
        assert_eq!(s.charge_for(8, || None::<()>), Ok(None));
        assert_eq!(
            (s.remaining(), s.consumed()),
            (11, 4),
            "what the handler added stays; the charge does not"
        );
    }

    #[test]
    fn handler_panics_are_kept_for_the_builtin() {
        let mut s = StoreState::default();
        s.set_handler(Box::new(|_, _| panic!("handler panic")));
        assert_eq!(s.ensure(1), Err(TrapCode::OutOfFuel));
        let payload = s.take_panic().expect("the panic is kept");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler panic"));
        assert!(s.take_panic().is_none());
    }
}

//! A Rust host for a wasm module that `build.rs` compiled with fuelc and
//! linked into this crate: it loads the module from its linked symbol,
//! gives it a host function as a closure, calls exports with typed
//! signatures, reads its memory, and bounds it with fuel.

use anyhow::{anyhow, bail, Result};
use fuelc_runtime::{CallError, Caller, Extern, HostError, Store, TrapCode};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;

/// Runs the tour, writing what happens to `out`.
pub fn run(out: &mut dyn Write) -> Result<()> {
    let module = fuelc_runtime::linked_module!("guest")?;
    let mut store = Store::new();

    // `env.log(ptr, len)`: the guest hands the host a string in its memory.
    let logged = Rc::new(RefCell::new(Vec::new()));
    let log = store.wrap_func({
        let logged = Rc::clone(&logged);
        move |caller: &mut Caller<'_>, (ptr, len): (i32, i32)| -> Result<(), HostError> {
            let start = ptr as u32 as usize;
            let bytes = caller
                .memory()
                .get(start..start + len as u32 as usize)
                .ok_or("log: string out of bounds")?;
            logged
                .borrow_mut()
                .push(String::from_utf8_lossy(bytes).into_owned());
            Ok(())
        }
    });
    let instance = store.instantiate(&module, &[Extern::Func(log)])?;

    // The module is metered: it runs only on fuel.
    store.set_fuel(1_000_000);
    let add = store.typed_func::<(i32, i32), i32>(instance, "add")?;
    writeln!(out, "add(2, 40) = {}", add.call(&mut store, (2, 40))?)?;
    let fib = store.typed_func::<i32, i64>(instance, "fib")?;
    writeln!(out, "fib(50) = {}", fib.call(&mut store, 50)?)?;
    let greet = store.typed_func::<(), ()>(instance, "greet")?;
    greet.call(&mut store, ())?;
    writeln!(out, "guest said: {}", logged.borrow().join(", "))?;
    let Some(Extern::Memory(memory)) = store.export(instance, "memory") else {
        bail!("the guest exports no memory");
    };
    let bytes = &store.memory_data(memory)[16..21];
    writeln!(out, "memory[16..21] = {:?}", String::from_utf8_lossy(bytes))?;
    writeln!(
        out,
        "fuel: consumed {}, remaining {}",
        store.fuel_consumed(),
        store.fuel_remaining()
    )?;

    // An endless loop stops when the fuel runs out. The handler may add
    // more; here it refuels three times, then lets the call trap.
    let refuels = Rc::new(Cell::new(0));
    store.set_out_of_fuel_handler({
        let refuels = Rc::clone(&refuels);
        move |_required, _remaining| {
            refuels.set(refuels.get() + 1);
            (refuels.get() <= 3).then_some(10_000)
        }
    });
    store.set_fuel(10_000);
    let spin = store.typed_func::<(), ()>(instance, "spin")?;
    match spin.call(&mut store, ()) {
        Err(CallError::Trap(trap)) if trap.code == TrapCode::OutOfFuel => {
            writeln!(out, "spin: {trap}")?;
            writeln!(out, "handler ran {} times", refuels.get())?;
        }
        other => return Err(anyhow!("spin should run out of fuel, got {other:?}")),
    }
    Ok(())
}

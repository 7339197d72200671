//! Typed calls in both directions: [`TypedFunc`], a wasm function whose
//! parameter and result types were checked once, called with Rust values
//! (`store.typed_func::<(i32, i32), i64>(instance, "add")`), and
//! [`Store::wrap_func`], a host function written as a Rust closure over
//! Rust values.
//!
//! Both sides only convert between Rust values and [`Val`]s over the
//! store's untyped API; this file must not call or enter wasm by itself.

use crate::abi::{FuncType, ValType};
use crate::call::CallError;
use crate::host::{Caller, HostError};
use crate::store::{Extern, Func, Instance, Store};
use crate::val::Val;
use std::marker::PhantomData;

/// A Rust type that is one wasm value type (`u128` is `v128`, lane 0 in
/// its low bits).
pub trait WasmType: Copy + 'static {
    /// The wasm type.
    const TYPE: ValType;
    /// The value as a [`Val`].
    fn into_val(self) -> Val;
    /// The Rust value of `val`, if it has this type.
    fn from_val(val: Val) -> Option<Self>;
}

macro_rules! wasm_types {
    ($($rust:ty => $variant:ident, $to_bits:expr, $from_bits:expr;)*) => {$(
        impl WasmType for $rust {
            const TYPE: ValType = ValType::$variant;
            fn into_val(self) -> Val {
                Val::$variant($to_bits(self))
            }
            fn from_val(val: Val) -> Option<Self> {
                match val {
                    Val::$variant(x) => Some($from_bits(x)),
                    _ => None,
                }
            }
        }
    )*};
}

wasm_types! {
    i32 => I32, |x| x, |x| x;
    i64 => I64, |x| x, |x| x;
    f32 => F32, f32::to_bits, f32::from_bits;
    f64 => F64, f64::to_bits, f64::from_bits;
    u128 => V128, |x| x, |x| x;
}

/// A list of wasm values as Rust values: `()`, one [`WasmType`], or a
/// tuple of up to eight of them. Parameters and results of typed
/// functions.
pub trait WasmTypeList: Sized + 'static {
    /// The wasm types, in order.
    fn types() -> Vec<ValType>;
    /// The values as [`Val`]s.
    fn into_vals(self) -> Vec<Val>;
    /// The Rust values of `vals`, if they have these types.
    fn from_vals(vals: &[Val]) -> Option<Self>;
}

impl<T: WasmType> WasmTypeList for T {
    fn types() -> Vec<ValType> {
        vec![T::TYPE]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.into_val()]
    }
    fn from_vals(vals: &[Val]) -> Option<Self> {
        match vals {
            [v] => T::from_val(*v),
            _ => None,
        }
    }
}

macro_rules! wasm_tuples {
    ($(($($t:ident),*))*) => {$(
        #[allow(non_snake_case)]
        impl<$($t: WasmType),*> WasmTypeList for ($($t,)*) {
            fn types() -> Vec<ValType> {
                vec![$($t::TYPE),*]
            }
            fn into_vals(self) -> Vec<Val> {
                let ($($t,)*) = self;
                vec![$($t.into_val()),*]
            }
            fn from_vals(vals: &[Val]) -> Option<Self> {
                match vals {
                    [$($t),*] => Some(($($t::from_val(*$t)?,)*)),
                    _ => None,
                }
            }
        }
    )*};
}

wasm_tuples! {
    ()
    (A)
    (A, B)
    (A, B, C)
    (A, B, C, D)
    (A, B, C, D, E)
    (A, B, C, D, E, F)
    (A, B, C, D, E, F, G)
    (A, B, C, D, E, F, G, H)
}

/// The function type of `P -> R`.
fn func_type<P: WasmTypeList, R: WasmTypeList>() -> FuncType {
    FuncType {
        params: P::types(),
        results: R::types(),
    }
}

/// A function of a [`Store`] known to have type `P -> R`.
pub struct TypedFunc<P, R> {
    func: Func,
    _type: PhantomData<fn(P) -> R>,
}

impl<P, R> Clone for TypedFunc<P, R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, R> Copy for TypedFunc<P, R> {}

impl<P: WasmTypeList, R: WasmTypeList> TypedFunc<P, R> {
    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }

    /// Calls the function in `store` (the one it came from) with `params`.
    pub fn call(&self, store: &mut Store, params: P) -> Result<R, CallError> {
        let results = store.call(self.func, &params.into_vals())?;
        // The type was checked when this was made, so the results fit.
        R::from_vals(&results)
            .ok_or_else(|| CallError::Arguments("results do not match the type".into()))
    }
}

impl Store {
    /// The function `instance` exports as `name`, if its type is `P -> R`;
    /// otherwise [`CallError::Arguments`] says why not.
    pub fn typed_func<P: WasmTypeList, R: WasmTypeList>(
        &self,
        instance: Instance,
        name: &str,
    ) -> Result<TypedFunc<P, R>, CallError> {
        let Some(Extern::Func(func)) = self.export(instance, name) else {
            return Err(CallError::Arguments(format!(
                "no exported function {name:?}"
            )));
        };
        let expected = func_type::<P, R>();
        let actual = self.func_type(func);
        if actual != expected {
            return Err(CallError::Arguments(format!(
                "{name} has type {actual:?}, not {expected:?}"
            )));
        }
        Ok(TypedFunc {
            func,
            _type: PhantomData,
        })
    }

    /// A host function of type `P -> R` running `f` (see
    /// [`Store::new_host_func`] for errors and exits).
    pub fn wrap_func<P: WasmTypeList, R: WasmTypeList>(
        &mut self,
        mut f: impl FnMut(&mut Caller<'_>, P) -> Result<R, HostError> + 'static,
    ) -> Func {
        self.new_host_func(func_type::<P, R>(), move |caller, args| {
            // The store checked the arguments against the type.
            let params = P::from_vals(args).ok_or("arguments do not match the type")?;
            Ok(f(caller, params)?.into_vals())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_lists_convert_both_ways() {
        assert_eq!(<(i32, f64)>::types(), vec![ValType::I32, ValType::F64]);
        assert_eq!(<()>::types(), Vec::<ValType>::new());
        assert_eq!(i64::types(), vec![ValType::I64]);
        assert_eq!(u128::MAX.into_vals(), vec![Val::V128(u128::MAX)]);
        let vals = (7i32, 1.5f32).into_vals();
        assert_eq!(vals, vec![Val::I32(7), Val::F32(1.5f32.to_bits())]);
        assert_eq!(<(i32, f32)>::from_vals(&vals), Some((7, 1.5)));
        assert_eq!(<(i32, i32)>::from_vals(&vals), None);
        assert_eq!(i32::from_vals(&vals), None);
    }

    #[test]
    fn host_functions_wrap_closures() {
        let mut store = Store::new();
        let add = store.wrap_func(|_, (a, b): (i32, i32)| Ok(i64::from(a) + i64::from(b)));
        assert_eq!(
            store.func_type(add),
            FuncType {
                params: vec![ValType::I32, ValType::I32],
                results: vec![ValType::I64],
            }
        );
        let results = store.call(add, &[Val::I32(2), Val::I32(40)]).unwrap();
        assert_eq!(results, vec![Val::I64(42)]);
        let exit =
            store.wrap_func(|_, code: i32| -> Result<(), HostError> { Err(HostError::Exit(code)) });
        assert_eq!(store.call(exit, &[Val::I32(3)]), Err(CallError::Exit(3)));
    }
}

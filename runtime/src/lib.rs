//! fuelc-runtime (skeleton).
pub mod abi;

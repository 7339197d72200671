//! Compiles `guest.wat` for the crate's target with exact fuel metering and
//! links it into the crate (see `fuelc::cargo_build`).

fn main() -> anyhow::Result<()> {
    fuelc::cargo_build::WasmBuild::new("guest.wat")
        .fuel(fuelc_runtime::abi::FuelMode::Exact)
        .compile()
}

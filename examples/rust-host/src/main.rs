//! Runs the tour of `lib.rs` on standard output.

fn main() -> anyhow::Result<()> {
    rust_host_example::run(&mut std::io::stdout())
}

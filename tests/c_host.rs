//! The C host example (`examples/c-host`) end to end: its `build.sh`
//! compiles the guest with `--emit-header`, has fuelc write the runtime
//! files, compiles `main.c` against the generated header and links it with
//! the runtime library; the program's
//! output is checked against values known independently of fuelc
//! (47 / 5, 2 * 1.5 * 3, the data segment's text, the table's size).

mod support;

use std::path::Path;
use std::process::Command;

#[test]
fn c_host_example_builds_and_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fuelc = Path::new(env!("CARGO_BIN_EXE_fuelc"));
    let out = tempfile::tempdir().unwrap();
    // Under a cross runner, build.sh runs fuelc through it too.
    let runner = std::env::var("FUELC_TEST_RUNNER").unwrap_or_default();
    let fuelc_command = format!("{runner} {}", fuelc.display());
    let cc_variable = format!("CC_{}_unknown_linux_gnu", std::env::consts::ARCH);
    let build = Command::new("sh")
        .arg(root.join("examples/c-host/build.sh"))
        .arg(out.path())
        .env("FUELC", fuelc_command.trim())
        .env("CC", std::env::var(cc_variable).unwrap_or("cc".into()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(build.status.success(), "build.sh failed:\n{stderr}");

    let run = support::target_command(&out.path().join("app"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[..8],
        [
            "divmod(47, 5) = 9, 2",
            "host: hello from wasm",
            "area(1.5) = 9",
            "calls = 1",
            "calls after set and call = 42",
            "memory: 65536 bytes, starts with \"hello\"",
            "table: 2 elements",
            lines[7],
        ],
        "{stdout}"
    );
    let (consumed, remaining) = lines[7]
        .strip_prefix("fuel: consumed ")
        .and_then(|rest| rest.split_once(", remaining "))
        .map(|(c, r)| (c.parse::<u64>().unwrap(), r.parse::<u64>().unwrap()))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(consumed > 0);
    assert_eq!(consumed + remaining, 1_000_000);
    assert_eq!(
        lines[8..],
        ["spin: status 2, trap code 12: out of fuel in function spin"],
        "{stdout}"
    );
}

//! The example runs and its guest computes what it should: the values are
//! known independently (42, the 50th Fibonacci number, the data segment's
//! text), the fuel adds up, and the endless loop stops after the handler
//! refuelled exactly three times.

#[test]
fn the_tour_runs() {
    let mut out = Vec::new();
    rust_host_example::run(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "add(2, 40) = 42");
    assert_eq!(lines[1], "fib(50) = 12586269025");
    assert_eq!(lines[2], "guest said: hello from wasm");
    assert_eq!(lines[3], "memory[16..21] = \"hello\"");
    let (consumed, remaining) = lines[4]
        .strip_prefix("fuel: consumed ")
        .and_then(|rest| rest.split_once(", remaining "))
        .map(|(c, r)| (c.parse::<u64>().unwrap(), r.parse::<u64>().unwrap()))
        .unwrap();
    assert!(consumed > 50, "{out}");
    assert_eq!(consumed + remaining, 1_000_000);
    assert!(
        lines[5].starts_with("spin: out of fuel in function "),
        "{out}"
    );
    assert_eq!(lines[6], "handler ran 4 times");
    assert_eq!(lines.len(), 7, "{out}");
}

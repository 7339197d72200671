;; The guest of examples/c-host: multi-value results, host imports (one
;; reading a string from linear memory, one on floats), an exported memory,
;; mutable global and table, and a loop that never ends.
(module
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "scale" (func $scale (param f64) (result f64)))
  (memory (export "memory") 1)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (table (export "table") 2 funcref)
  (data (i32.const 0) "hello from wasm")

  (func (export "divmod") (param i32 i32) (result i32 i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.div_u (local.get 0) (local.get 1))
    (i32.rem_u (local.get 0) (local.get 1)))

  (func (export "greet")
    (call $log (i32.const 0) (i32.const 15)))

  (func (export "area") (param f64) (result f64)
    (f64.mul (call $scale (local.get 0)) (f64.const 3)))

  (func (export "spin")
    (loop $forever (br $forever))))

;; The README's quick-start module: a recursive factorial and a function
;; that uses linear memory.
;;
;;   cargo run --release -- run examples/fac.wat --invoke fac 20
;;   cargo run --release -- run examples/fac.wat --invoke sum_to 100
(module
  (memory (export "memory") 1)

  ;; n! (1 for n <= 1), by recursion; wraps modulo 2^64 past 20!.
  (func $fac (export "fac") (param $n i64) (result i64)
    (if (result i64) (i64.le_s (local.get $n) (i64.const 1))
      (then (i64.const 1))
      (else
        (i64.mul
          (local.get $n)
          (call $fac (i64.sub (local.get $n) (i64.const 1)))))))

  ;; Stores 1, 2, ..., n as i32 values at addresses 0, 4, 8, ..., then
  ;; reads them back and returns their sum, n(n+1)/2. Past n = 16384 the
  ;; stores leave the one-page memory and the call traps.
  (func (export "sum_to") (param $n i32) (result i32)
    (local $i i32)
    (local $sum i32)
    (block $stored
      (loop $store
        (br_if $stored (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store
          (i32.shl (local.get $i) (i32.const 2))
          (i32.add (local.get $i) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $store)))
    (local.set $i (i32.const 0))
    (block $summed
      (loop $sum
        (br_if $summed (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum
          (i32.add
            (local.get $sum)
            (i32.load (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $sum)))
    (local.get $sum)))

;; The operators Wasmtime charges nothing for (nop, drop, block, loop,
;; return, else, end, and unreachable when not reached) inside loops, and
;; dead code after br, br_table, return and unreachable that must never be
;; charged.
;; invoke: nops 0
;; invoke: nops 64
;; invoke: dead_code 0
;; invoke: dead_code 1
;; invoke: dead_code 7
;; invoke: straight
(module
  (func (export "nops") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (nop)
      (loop $next
        (nop) (nop)
        (br_if $done (i32.eqz (local.get $n)))
        (block (block (block (nop))))
        (drop (local.get $acc))
        (local.set $acc (i32.add (local.get $acc) (local.get $n)))
        (if (i32.and (local.get $n) (i32.const 1))
          (then (nop))
          (else (drop (i32.const 5)) (nop)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (loop (nop))
        (br $next)
        (unreachable)
        (local.set $acc (i32.const 0))))
    (local.get $acc))

  (func (export "dead_code") (param $x i32) (result i32)
    (block $a
      (block $b
        (br_table $a $b (local.get $x))
        (local.set $x (i32.const 100))
        (drop (i32.div_u (i32.const 1) (i32.const 0))))
      (if (local.get $x)
        (then
          (return (i32.const 42))
          (unreachable)
          (drop (call $never)))
        (else (unreachable)))
      (local.set $x (i32.const 200)))
    (block $c (result i32)
      (br $c (i32.add (local.get $x) (i32.const 1)))
      (i32.const 1)
      (i32.add (i32.const 2))))

  (func $never (result i32) (unreachable))

  ;; By hand: entry 1 + three i32.const 3 + i32.add 1 + nop, drop, return 0 = 5.
  (func (export "straight") (result i32)
    (nop)
    (drop (i32.const 7))
    (i32.add (i32.const 0) (i32.const 0))
    (return)))

;; Multi-value: functions returning several values, blocks, loops and ifs
;; with parameters and several results, and a `br` carrying two values.
;; invoke: divmod_sum 1000 7
;; invoke: fib_pair 40
;; invoke: swap_chain 9
;; invoke: if_params 1
;; invoke: if_params 0
(module
  (func $divmod (param $a i32) (param $b i32) (result i32 i32)
    (i32.div_u (local.get $a) (local.get $b))
    (i32.rem_u (local.get $a) (local.get $b)))

  ;; Sum of q + r for divmod(a - i, b), i in [0, 10).
  (func (export "divmod_sum") (param $a i32) (param $b i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $next
      (call $divmod (i32.sub (local.get $a) (local.get $i)) (local.get $b))
      (i32.add)
      (local.get $acc)
      (i32.add)
      (local.set $acc)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 10))))
    (local.get $acc))

  ;; Fibonacci with the pair (a, b) carried as loop parameters.
  (func (export "fib_pair") (param $n i32) (result i64)
    (i64.const 0) (i64.const 1)
    (loop $step (param i64 i64) (result i64 i64)
      (block $body (param i64 i64) (result i64 i64)
        (br_if $body (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (call $advance)
        (br $step)))
    (drop))

  (func $advance (param $a i64) (param $b i64) (result i64 i64)
    (local.get $b)
    (i64.add (local.get $a) (local.get $b)))

  ;; Rotates three values n times through a block with parameters.
  (func (export "swap_chain") (param $n i32) (result i32)
    (local $x i32) (local $y i32) (local $z i32)
    (local.set $x (i32.const 1)) (local.set $y (i32.const 2)) (local.set $z (i32.const 3))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.get $x) (local.get $y) (local.get $z)
        (block (param i32 i32 i32) (result i32 i32 i32)
          (local.set $x) (local.set $z) (local.set $y)
          (local.get $x) (local.get $y) (local.get $z))
        (local.set $z) (local.set $y) (local.set $x)
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i32.add (i32.mul (local.get $x) (i32.const 100))
      (i32.add (i32.mul (local.get $y) (i32.const 10)) (local.get $z))))

  ;; An if with two parameters and two results; the then arm leaves early
  ;; through a br carrying both values.
  (func (export "if_params") (param $c i32) (result i32)
    (i32.const 6) (i32.const 7)
    (if (param i32 i32) (result i32 i32) (local.get $c)
      (then
        (i32.mul)
        (i32.const 1)
        (br 0))
      (else
        (i32.sub)
        (i32.const 2)))
    (i32.add)))

;; Early returns: `return` from inside nested blocks, loops and if arms,
;; returning several values, and code after the return that never runs.
;; invoke: index_of 0
;; invoke: index_of 37
;; invoke: index_of 500
;; invoke: sign_and_magnitude -9
;; invoke: sign_and_magnitude 0
;; invoke: sign_and_magnitude 44
(module
  (memory 1)
  ;; Squares of 0..99 as i32s at 0.
  (func $fill
    (local $i i32)
    (loop $next
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (i32.mul (local.get $i) (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 100)))))

  ;; The index of the first square >= x, or -1.
  (func (export "index_of") (param $x i32) (result i32)
    (local $i i32)
    (call $fill)
    (block $outer
      (loop $next
        (block $skip
          (br_if $skip (i32.lt_u (i32.load (i32.shl (local.get $i) (i32.const 2))) (local.get $x)))
          (return (local.get $i))
          (i32.const 99)
          (local.set $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $outer (i32.ge_u (local.get $i) (i32.const 100)))
        (br $next)))
    (i32.const -1))

  (func $sm (param $x i32) (result i32 i32)
    (if (i32.lt_s (local.get $x) (i32.const 0))
      (then (return (i32.const -1) (i32.sub (i32.const 0) (local.get $x)))))
    (if (i32.eqz (local.get $x))
      (then
        (return (i32.const 0) (i32.const 0))
        (unreachable)))
    (i32.const 1)
    (local.get $x)
    (return)
    (drop)
    (i32.const 5))

  (func (export "sign_and_magnitude") (param $x i32) (result i32)
    (call $sm (local.get $x))
    (i32.add (i32.const 1000))
    (i32.mul)))

;; Sign-extension operators: i32.extend8_s/16_s and i64.extend8_s/16_s/32_s
;; over a sweep of bit patterns, folded into checksums.
;; invoke: sweep32 0
;; invoke: sweep32 1000
;; invoke: sweep64 1000
;; invoke: one_each -129
(module
  (func (export "sweep32") (param $n i32) (result i32)
    (local $i i32) (local $x i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.mul (local.get $i) (i32.const 0x9e3779b1)))
        (local.set $acc
          (i32.xor
            (i32.add (local.get $acc) (i32.extend8_s (local.get $x)))
            (i32.extend16_s (i32.rotl (local.get $x) (i32.const 7)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  (func (export "sweep64") (param $n i32) (result i64)
    (local $i i32) (local $x i64) (local $acc i64)
    (loop $next
      (local.set $x (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 0x9e3779b97f4a7c15)))
      (local.set $acc
        (i64.add (local.get $acc)
          (i64.xor
            (i64.xor (i64.extend8_s (local.get $x))
                     (i64.extend16_s (i64.shr_u (local.get $x) (i64.const 8))))
            (i64.extend32_s (i64.rotr (local.get $x) (i64.const 13))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  (func (export "one_each") (param $x i64) (result i32 i32 i64 i64 i64)
    (i32.extend8_s (i32.wrap_i64 (local.get $x)))
    (i32.extend16_s (i32.wrap_i64 (local.get $x)))
    (i64.extend8_s (local.get $x))
    (i64.extend16_s (local.get $x))
    (i64.extend32_s (local.get $x))))

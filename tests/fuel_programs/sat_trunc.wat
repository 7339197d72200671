;; Non-trapping float-to-int conversions (all eight trunc_sat forms) on
;; in-range, out-of-range, infinite and NaN inputs built from integer
;; arguments, summed into a checksum.
;; invoke: edges 0
;; invoke: edges 3
;; invoke: sweep 200
(module
  ;; Every trunc_sat of x (as f32 and f64), folded.
  (func $all (param $x f64) (result i64)
    (local $f f32)
    (local.set $f (f32.demote_f64 (local.get $x)))
    (i64.add
      (i64.add
        (i64.extend_i32_s (i32.trunc_sat_f32_s (local.get $f)))
        (i64.extend_i32_u (i32.trunc_sat_f32_u (local.get $f))))
      (i64.xor
        (i64.xor
          (i64.add
            (i64.extend_i32_s (i32.trunc_sat_f64_s (local.get $x)))
            (i64.extend_i32_u (i32.trunc_sat_f64_u (local.get $x))))
          (i64.add (i64.trunc_sat_f32_s (local.get $f)) (i64.trunc_sat_f32_u (local.get $f))))
        (i64.sub (i64.trunc_sat_f64_s (local.get $x)) (i64.trunc_sat_f64_u (local.get $x))))))

  ;; Edge inputs scaled by 2^k: +-inf, NaN, huge, tiny, negative.
  (func (export "edges") (param $k i32) (result i64)
    (local $scale f64)
    (local.set $scale (f64.convert_i32_u (i32.shl (i32.const 1) (local.get $k))))
    (i64.add
      (i64.add
        (i64.add (call $all (f64.const inf)) (call $all (f64.const -inf)))
        (i64.add (call $all (f64.const nan))
                 (call $all (f64.mul (f64.const 1e19) (local.get $scale)))))
      (i64.add
        (i64.add (call $all (f64.const 4294967295.5)) (call $all (f64.const -2147483648.9)))
        (i64.add (call $all (f64.div (f64.const -0.75) (local.get $scale)))
                 (call $all (f64.mul (f64.const 3e9) (local.get $scale)))))))

  ;; x = (i - n/2) * 2^(i mod 70) for i in [0, n).
  (func (export "sweep") (param $n i32) (result i64)
    (local $i i32) (local $acc i64)
    (loop $next
      (local.set $acc
        (i64.add (local.get $acc)
          (call $all
            (f64.mul
              (f64.convert_i32_s (i32.sub (local.get $i) (i32.shr_u (local.get $n) (i32.const 1))))
              (f64.reinterpret_i64
                (i64.shl
                  (i64.extend_i32_u
                    (i32.add (i32.rem_u (local.get $i) (i32.const 70)) (i32.const 1023)))
                  (i64.const 52)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))

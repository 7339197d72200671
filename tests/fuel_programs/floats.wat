;; Floating point: Newton's square root in f64, an f32 polynomial, the
;; rounding operators (floor/ceil/trunc/nearest), min/max/copysign/abs/neg,
;; promote/demote and reinterpret; returns float results directly (compared
;; bit for bit) and as integers.
;; invoke: newton_sqrt 2
;; invoke: newton_sqrt 1000000
;; invoke: poly32 50
;; invoke: rounding 7
;; invoke: mixed -3
(module
  (func (export "newton_sqrt") (param $n i32) (result f64)
    (local $x f64) (local $g f64) (local $i i32)
    (local.set $x (f64.convert_i32_u (local.get $n)))
    (local.set $g (f64.max (f64.const 1) (f64.mul (local.get $x) (f64.const 0.5))))
    (loop $next
      (local.set $g
        (f64.mul (f64.const 0.5) (f64.add (local.get $g) (f64.div (local.get $x) (local.get $g)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 30))))
    (local.get $g))

  ;; Sum over i < n of p(i / n) for p(t) = 3t^3 - 2t^2 + t - 0.5, in f32.
  (func (export "poly32") (param $n i32) (result f32)
    (local $i i32) (local $t f32) (local $acc f32)
    (loop $next
      (local.set $t (f32.div (f32.convert_i32_u (local.get $i)) (f32.convert_i32_u (local.get $n))))
      (local.set $acc
        (f32.add (local.get $acc)
          (f32.sub
            (f32.add
              (f32.mul (local.get $t)
                (f32.sub (f32.mul (f32.const 3) (f32.mul (local.get $t) (local.get $t)))
                         (f32.mul (f32.const 2) (local.get $t))))
              (local.get $t))
            (f32.const 0.5))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  ;; floor/ceil/trunc/nearest of k/4 - 1 and its negation, f32 and f64.
  (func (export "rounding") (param $k i32) (result f64 f32 i64)
    (local $x f64) (local $y f32)
    (local.set $x
      (f64.sub (f64.div (f64.convert_i32_s (local.get $k)) (f64.const 4)) (f64.const 1)))
    (local.set $y (f32.demote_f64 (f64.neg (local.get $x))))
    (f64.add
      (f64.add (f64.floor (local.get $x)) (f64.ceil (local.get $x)))
      (f64.add (f64.trunc (local.get $x)) (f64.nearest (local.get $x))))
    (f32.add
      (f32.add (f32.floor (local.get $y)) (f32.ceil (local.get $y)))
      (f32.mul (f32.trunc (local.get $y)) (f32.nearest (local.get $y))))
    (i64.reinterpret_f64 (f64.promote_f32 (f32.sqrt (f32.abs (local.get $y))))))

  (func (export "mixed") (param $k i32) (result f64 i32 i64)
    (local $x f64)
    (local.set $x (f64.convert_i32_s (local.get $k)))
    (f64.copysign
      (f64.min (f64.abs (local.get $x)) (f64.const 2.5))
      (f64.max (local.get $x) (f64.const -0)))
    (i32.reinterpret_f32 (f32.neg (f32.convert_i64_s (i64.extend_i32_s (local.get $k)))))
    (i64.add
      (i64.trunc_f64_s (f64.mul (local.get $x) (f64.const 1.5e10)))
      (i64.extend_i32_u
        (i32.add
          (f64.lt (local.get $x) (f64.const 0))
          (i32.add (f64.ne (local.get $x) (local.get $x)) (f32.ge (f32.const 1) (f32.const 1))))))))

;; Local-heavy code: a function with sixteen locals of every numeric type,
;; read before and after being written and shuffled with local.tee in a
;; loop, and a function with a wide parameter list.
;; invoke: shuffle 0
;; invoke: shuffle 100
;; invoke: wide 1 2 3 4 5 6 7 8
(module
  (func (export "shuffle") (param $n i32) (result i64)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local $p i64) (local $q i64) (local $r i64) (local $s i64)
    (local $x f32) (local $y f32) (local $u f64) (local $v f64)
    (local.set $a (i32.const 1))
    (local.set $p (i64.const 3))
    (local.set $x (f32.const 0.5))
    (local.set $u (f64.const 0.25))
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $h (local.tee $g (local.tee $f (i32.add (local.get $e) (local.get $a)))))
        (local.set $e (local.tee $d (i32.xor (local.get $c) (local.get $g))))
        (local.set $c
          (local.tee $b (i32.add (local.get $b) (i32.rotl (local.get $h) (i32.const 3)))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (local.set $s (local.tee $r (i64.add (local.get $q) (i64.extend_i32_u (local.get $d)))))
        (local.set $q (local.tee $p (i64.mul (local.get $p) (i64.const 3))))
        (local.set $y (local.tee $x (f32.add (local.get $x) (f32.convert_i32_u (local.get $a)))))
        (local.set $v (local.tee $u (f64.mul (local.get $u) (f64.promote_f32 (local.get $y)))))
        (local.set $u (f64.sqrt (local.get $v)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (i64.add
      (i64.add (local.get $s) (i64.extend_i32_u (local.get $c)))
      (i64.trunc_sat_f64_u (f64.add (local.get $u) (f64.promote_f32 (local.get $x))))))

  (func (export "wide")
    (param i32 i64 i32 i64 i32 i64 i32 i64) (result i64)
    (local i32 i64 i32 i64)
    (local.set 8 (i32.add (local.get 0) (local.get 2)))
    (local.set 9 (i64.add (local.get 1) (local.get 3)))
    (local.set 10 (i32.mul (local.get 4) (local.get 6)))
    (local.set 11 (i64.mul (local.get 5) (local.get 7)))
    (i64.add
      (i64.add (i64.extend_i32_u (local.get 8)) (local.get 9))
      (i64.add (i64.extend_i32_u (local.get 10)) (local.get 11)))))

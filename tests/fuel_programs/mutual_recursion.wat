;; Mutual recursion: even/odd by alternating calls, and Hofstadter's female
;; and male sequences (each calls itself and the other).
;; invoke: is_even 0
;; invoke: is_even 77
;; invoke: is_even 300
;; invoke: hofstadter 25
(module
  (func $even (export "is_even") (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else (call $odd (i32.sub (local.get $n) (i32.const 1))))))
  (func $odd (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (call $even (i32.sub (local.get $n) (i32.const 1))))))

  (func $female (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 1))
      (else
        (i32.sub (local.get $n)
          (call $male (call $female (i32.sub (local.get $n) (i32.const 1))))))))
  (func $male (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else
        (i32.sub (local.get $n)
          (call $female (call $male (i32.sub (local.get $n) (i32.const 1))))))))

  ;; F(n) * 1000 + M(n).
  (func (export "hofstadter") (param $n i32) (result i32)
    (i32.add
      (i32.mul (call $female (local.get $n)) (i32.const 1000))
      (call $male (local.get $n)))))

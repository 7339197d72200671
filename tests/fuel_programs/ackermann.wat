;; Deep, irregular recursion: the Ackermann function on small arguments,
;; written with early returns and a tail position call.
;; invoke: ack 0 0
;; invoke: ack 1 5
;; invoke: ack 2 3
;; invoke: ack 3 3
(module
  (func $ack (export "ack") (param $m i32) (param $n i32) (result i32)
    (if (i32.eqz (local.get $m))
      (then (return (i32.add (local.get $n) (i32.const 1)))))
    (if (i32.eqz (local.get $n))
      (then (return (call $ack (i32.sub (local.get $m) (i32.const 1)) (i32.const 1)))))
    (call $ack
      (i32.sub (local.get $m) (i32.const 1))
      (call $ack (local.get $m) (i32.sub (local.get $n) (i32.const 1))))))

;; String search over text in a data segment: a naive scan with a nested
;; compare loop (early exits on mismatch) and Horspool's algorithm with a
;; 256-entry shift table built by memory.fill and a loop; returns the
;; number of matches and the first position.
;; invoke: naive 0 3
;; invoke: naive 2 5
;; invoke: horspool 1 5
;; invoke: horspool 2 5
;; invoke: horspool 3 4
;; invoke: horspool 9 9
(module
  (memory 1)
  ;; The text at 0 (472 bytes); patterns at 600, 9 bytes apart.
  (data (i32.const 0)
    "It was the best of times, it was the worst of times, it was the age of "
    "wisdom, it was the age of foolishness, it was the epoch of belief, it w"
    "as the epoch of incredulity, it was the season of Light, it was the sea"
    "son of Darkness, it was the spring of hope, it was the winter of despai"
    "r, we had everything before us, we had nothing before us, we were all g"
    "oing direct to Heaven, we were all going direct the other way - in shor"
    "t, the period was so far like the present peri")
  (data (i32.const 600)
    "was\00\00\00\00\00\00" "times\00\00\00\00" "epoch\00\00\00\00"
    "the \00\00\00\00\00" "unfound!!")
  (global $text_len i32 (i32.const 472))

  ;; The address of pattern $p: 0 "was", 1 "times", 2 "epoch", 3 "the ",
  ;; anything else "unfound!!".
  (func $pattern (param $p i32) (result i32)
    (i32.add (i32.const 600)
      (i32.mul (i32.const 9)
        (select (local.get $p) (i32.const 4) (i32.lt_u (local.get $p) (i32.const 4))))))

  ;; count * 1000 + first position (999 if none).
  (func $result (param $count i32) (param $first i32) (result i32)
    (i32.add (i32.mul (local.get $count) (i32.const 1000)) (local.get $first)))

  (func (export "naive") (param $p i32) (param $m i32) (result i32)
    (local $pat i32) (local $i i32) (local $j i32) (local $count i32) (local $first i32)
    (local.set $pat (call $pattern (local.get $p)))
    (local.set $first (i32.const 999))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (local.get $m)) (global.get $text_len)))
        (local.set $j (i32.const 0))
        (block $mismatch
          (loop $cmp
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $i) (local.get $j)))
                      (i32.load8_u (i32.add (local.get $pat) (local.get $j)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $cmp (i32.lt_u (local.get $j) (local.get $m))))
          (if (i32.eqz (local.get $count)) (then (local.set $first (local.get $i))))
          (local.set $count (i32.add (local.get $count) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $result (local.get $count) (local.get $first)))

  ;; The shift table: 256 i32s at 1024.
  (func (export "horspool") (param $p i32) (param $m i32) (result i32)
    (local $pat i32) (local $i i32) (local $j i32) (local $count i32) (local $first i32)
    (local.set $pat (call $pattern (local.get $p)))
    (local.set $first (i32.const 999))
    ;; Every shift is m (m < 256, so each byte of the i32 is m or 0).
    (memory.fill (i32.const 1024) (i32.const 0) (i32.const 1024))
    (loop $init
      (i32.store offset=1024 (i32.shl (local.get $i) (i32.const 2)) (local.get $m))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $init (i32.lt_u (local.get $i) (i32.const 256))))
    (local.set $i (i32.const 0))
    (block $built
      (loop $shift
        (br_if $built (i32.ge_u (local.get $i) (i32.sub (local.get $m) (i32.const 1))))
        (i32.store offset=1024
          (i32.shl (i32.load8_u (i32.add (local.get $pat) (local.get $i))) (i32.const 2))
          (i32.sub (i32.sub (local.get $m) (i32.const 1)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $shift)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $window
        (br_if $done (i32.gt_u (i32.add (local.get $i) (local.get $m)) (global.get $text_len)))
        (local.set $j (i32.sub (local.get $m) (i32.const 1)))
        (block $mismatch
          (loop $cmp
            (br_if $mismatch
              (i32.ne (i32.load8_u (i32.add (local.get $i) (local.get $j)))
                      (i32.load8_u (i32.add (local.get $pat) (local.get $j)))))
            (if (i32.eqz (local.get $j))
              (then
                (if (i32.eqz (local.get $count)) (then (local.set $first (local.get $i))))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))
                (br $mismatch)))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
            (br $cmp)))
        (local.set $i
          (i32.add (local.get $i)
            (i32.load offset=1024
              (i32.shl
                (i32.load8_u (i32.add (local.get $i) (i32.sub (local.get $m) (i32.const 1))))
                (i32.const 2)))))
        (br $window)))
    (call $result (local.get $count) (local.get $first))))

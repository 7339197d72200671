;; Ifs with straight-line arms inside loops and blocks: arms of different
;; costs with and without else, arms that store, arms that leave (return,
;; br out of a block, br back to the loop, unreachable), a br to the if
;; itself, ifs with parameters and results, an arm that leaves costing more
;; than the rest of its block, an arm that leaves through a br_if and a
;; br (a string comparison loop) or a br_if back to the loop and a return,
;; and ifs followed by forward br_ifs.
;; invoke: clamp_sum 40
;; invoke: clamp_sum 0
;; invoke: skip_odd 30
;; invoke: find_marked 25 11
;; invoke: find_marked 25 40
;; invoke: small_or_loop 1
;; invoke: small_or_loop 9
;; invoke: pick 1 5
;; invoke: pick 0 5
;; invoke: else_returns 1 3
;; invoke: else_returns 0 3
;; invoke: guarded 17
;; invoke: common_suffix 4 9
;; invoke: common_suffix 37 40
;; invoke: countdown 5 0
;; invoke: countdown 1 0
;; invoke: countdown 5 1
(module
  (memory 1)

  ;; Sum of v = (i * 7) mod 13 for i < n, where v > 6 becomes 2v + 1 and is
  ;; stored, and v <= 6 becomes v - 1; stops early when the sum passes 150.
  (func (export "clamp_sum") (param $n i32) (result i32)
    (local $i i32) (local $v i32) (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (i32.rem_u (i32.mul (local.get $i) (i32.const 7)) (i32.const 13)))
        (if (i32.gt_u (local.get $v) (i32.const 6))
          (then
            (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 2)) (i32.const 1)))
            (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $v)))
          (else
            (local.set $v (i32.sub (local.get $v) (i32.const 1)))))
        (local.set $acc (i32.add (local.get $acc) (local.get $v)))
        (br_if $done (i32.gt_u (local.get $acc) (i32.const 150)))
        (if (i32.eqz (i32.and (local.get $i) (i32.const 3)))
          (then
            (i32.store offset=1024 (local.get $i) (local.get $acc))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $acc))

;; Sums i * i for the even i <= n; odd i continue the loop from an arm,
  ;; and the loop repeats from an arm too, so that its `end` is reached by
  ;; falling through. Multiples of 5 take an arm that holds a br_if (an if
  ;; that is not merged).
  (func (export "skip_odd") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
        (then
          (local.set $acc (i32.add (local.get $acc) (i32.const 1)))
          (br_if $next (i32.lt_u (local.get $i) (local.get $n)))))
      (if (i32.and (i32.lt_u (local.get $i) (local.get $n)) (i32.and (local.get $i) (i32.const 1)))
        (then (br $next)))
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $i))))
      (i32.store (i32.const 2048) (local.get $acc))
      (if (i32.lt_u (local.get $i) (local.get $n))
        (then (br $next))))
    (i32.store (i32.const 2052) (local.get $i))
    (local.get $acc))

  ;; Marks slots 0..n, then finds the first slot whose index equals k: the
  ;; arm that finds it does much more work before leaving the block.
  (func (export "find_marked") (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $found i32)
    (local.set $found (i32.const -1))
    (block $out
      (loop $next
        (br_if $out (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (local.get $i) (local.get $k))
          (then
            (local.set $found
              (i32.xor
                (i32.mul (i32.add (local.get $i) (i32.const 3)) (i32.const 17))
                (i32.rotl (local.get $k) (i32.const 5))))
            (i32.store (i32.const 4096) (local.get $found))
            (i32.store (i32.const 4100) (i32.mul (local.get $found) (local.get $found)))
            (br $out)))
        (i32.store8 offset=3000 (local.get $i) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $found))

  ;; Returns early from a then arm for small x; otherwise counts down.
  (func (export "small_or_loop") (param $x i32) (result i32)
    (local $acc i32)
    (if (i32.lt_s (local.get $x) (i32.const 2))
      (then
        (i32.store (i32.const 8) (local.get $x))
        (return (i32.mul (local.get $x) (i32.const 3)))))
    (loop $next
      (local.set $acc (i32.add (local.get $acc) (local.get $x)))
      (local.set $x (i32.sub (local.get $x) (i32.const 1)))
      (br_if $next (local.get $x)))
    (local.get $acc))

  ;; An if with two parameters and two results whose then arm leaves
  ;; through a br to the if itself; the else arm stores.
  (func (export "pick") (param $c i32) (param $x i32) (result i32)
    (local.get $x) (i32.const 7)
    (if (param i32 i32) (result i32 i32) (local.get $c)
      (then
        (i32.mul)
        (i32.const 1)
        (br 0))
      (else
        (i32.store (i32.const 16) (i32.add))
        (i32.const 40) (i32.const 2)))
    (i32.add))

  ;; The else arm returns, the then arm falls through.
  (func (export "else_returns") (param $c i32) (param $x i32) (result i32)
    (if (local.get $c)
      (then
        (local.set $x (i32.add (local.get $x) (i32.const 100)))
        (i32.store (i32.const 24) (local.get $x)))
      (else
        (return (i32.const -5))))
    (i32.mul (local.get $x) (i32.const 2)))

  ;; A guard whose arm traps, never taken for these arguments.
  (func (export "guarded") (param $x i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $next
      (if (i32.gt_u (local.get $i) (i32.const 1000))
        (then (unreachable)))
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $x))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $x))))
    (local.get $acc))

  ;; Fills bytes 100.. with i mod 5 and 200.. with i mod 7, then counts the
  ;; bytes equal at both from index i down, as string search does: the arm
  ;; taken on equality leaves through a br_if back to the loop or a br out.
  (func (export "common_suffix") (param $i i32) (param $n i32) (result i32)
    (local $k i32) (local $len i32)
    (loop $fill
      (i32.store8 offset=100 (local.get $k) (i32.rem_u (local.get $k) (i32.const 5)))
      (i32.store8 offset=200 (local.get $k) (i32.rem_u (local.get $k) (i32.const 7)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $k) (local.get $n))))
    (block $done
      (loop $next
        (if (i32.eq (i32.load8_u offset=100 (local.get $i))
                    (i32.load8_u offset=200 (local.get $i)))
          (then
            (local.set $len (i32.add (local.get $len) (i32.const 1)))
            (i32.store (i32.const 32) (local.get $len))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br_if $next (i32.ge_s (local.get $i) (i32.const 0)))
            (br $done)))
        (local.set $len (i32.add (local.get $len) (i32.const 1000)))))
    (local.get $len))
  ;; Counts $n down in a loop whose body holds one if: while $skip is 0,
  ;; its else arm branches back to the loop until the count reaches 0 and
  ;; then returns the tally; with $skip set, the then arm branches to the
  ;; if itself and the code after it runs once. The path after the if
  ;; costs more than the else arm, which refunds the difference when it
  ;; starts, so its br_if back to the loop refunds only the rest.
  (func (export "countdown") (param $n i32) (param $skip i32) (result i32)
    (local $t i32)
    (loop $again
      (if (local.get $skip)
        (then
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br 0))
        (else
          (local.set $t (i32.add (local.get $t) (i32.const 2)))
          (br_if $again (local.tee $n (i32.sub (local.get $n) (i32.const 1))))
          (return (local.get $t))))
      (local.set $t (i32.mul (local.get $t) (i32.const 3)))
      (local.set $t (i32.xor (local.get $t) (i32.const 5))))
    (local.get $t))
)

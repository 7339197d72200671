;; Blocks left by forward br_ifs and by if arms that branch to their end
;; (C's `continue`, and ifs without else as clang emits them), followed by
;; more code in the same metered block: a br_if that skips a store, a
;; merged if whose arm branches to the block's end, nested blocks joined
;; one after the other with a br_if out of both, and an arm that branches
;; to the block's end costing more than the rest of the block.
;; invoke: skip_multiples 30 3
;; invoke: skip_multiples 0 3
;; invoke: nested_joins 20
;; invoke: nested_joins 1
;; invoke: continue_arm 25
;; invoke: dear_arm 12
(module
  (memory 1)

  ;; Stores i * i at 4 * i for each i < n that is not a multiple of k;
  ;; returns how many it stored.
  (func (export "skip_multiples") (param $n i32) (param $k i32) (result i32)
    (local $i i32) (local $count i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $skip
          (br_if $skip (i32.eqz (i32.rem_u (local.get $i) (local.get $k))))
          (i32.store (i32.shl (local.get $i) (i32.const 2))
                     (i32.mul (local.get $i) (local.get $i)))
          (local.set $count (i32.add (local.get $count) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $count))

  ;; Two nested blocks, each left early depending on the bits of i, with
  ;; code after each end; stores the accumulator every iteration.
  (func (export "nested_joins") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $next
      (block $outer
        (block $inner
          (br_if $inner (i32.and (local.get $i) (i32.const 1)))
          (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
          (br_if $outer (i32.and (local.get $i) (i32.const 2)))
          (local.set $acc (i32.xor (local.get $acc) (local.get $i))))
        (local.set $acc (i32.add (local.get $acc) (local.get $i)))
        (br_if $outer (i32.gt_u (local.get $acc) (i32.const 1000)))
        (local.set $acc (i32.mul (local.get $acc) (i32.const 3))))
      (i32.store (i32.const 0) (local.get $acc))
      (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                             (local.get $n))))
    (local.get $acc))

  ;; Sums the squares of i < n that are not multiples of 5: the multiples
  ;; skip the rest of the body through an arm that branches to its end.
  (func (export "continue_arm") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (loop $next
      (block $body
        (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
          (then
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $body)))
        (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $i) (local.get $i))))
        (i32.store (i32.const 8) (local.get $sum))
        (local.set $i (i32.add (local.get $i) (i32.const 1))))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $sum))

  ;; Odd i take an arm that stores and branches to the block's end, and
  ;; costs more than the rest of the block; even i add.
  (func (export "dear_arm") (param $n i32) (result i32)
    (local $i i32) (local $x i32)
    (loop $next
      (block $body
        (if (i32.and (local.get $i) (i32.const 1))
          (then
            (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 7))
                                   (i32.xor (local.get $i) (i32.const 3))))
            (local.set $x (i32.rotl (local.get $x) (i32.const 5)))
            (i32.store (i32.const 16) (local.get $x))
            (br $body)))
        (local.set $x (i32.add (local.get $x) (local.get $i))))
      (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                             (local.get $n))))
    (local.get $x))
)

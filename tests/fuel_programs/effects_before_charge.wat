;; Stores, global writes and loads ahead of the only costed operator of
;; their metered block, which a cost model may make free (the fuel
;; boundary test's free-effects model does): a budget that stops at that
;; operator must still see them done, as per-op metering does.
;; invoke: after_call 5
;; invoke: in_loop 4
(module
  (memory 1)
  (global $g (mut i32) (i32.const 0))

  (func $get (result i32) (global.get $g))

  ;; After the call, the block stores, writes the global and loads before
  ;; its one costed operator, the add.
  (func (export "after_call") (param $v i32) (result i32)
    (drop (call $get))
    (i32.store (i32.const 16) (local.get $v))
    (global.set $g (local.get $v))
    (i32.add (i32.load (i32.const 16)) (global.get $g)))

  ;; Each iteration stores the count before the loop's one costed
  ;; operator, the br_if (the count is kept in memory and the global).
  (func (export "in_loop") (param $n i32) (result i32)
    (global.set $g (local.get $n))
    (loop $next
      (i32.store (i32.const 32) (global.get $g))
      (global.set $g (i32.load (i32.const 36)))
      (i32.store (i32.const 36) (i32.load (i32.const 32)))
      (br_if $next (i32.load8_u (i32.const 40))))
    (i32.load (i32.const 32)))
)

;; memory.grow that succeeds, that fails against the maximum, that fails
;; beyond 4 GiB, and a zero-page grow; memory.size before and after, and
;; writes into the newly added pages.
;; invoke: grow 0
;; invoke: grow 1
;; invoke: grow 3
;; invoke: grow 4
;; invoke: grow 70000
;; invoke: grow -1
;; invoke: grow_in_steps 5
(module
  (memory 1 4)

  ;; old size * 100 + new size, or -100 + size when the grow fails; touches
  ;; the last byte of the memory either way.
  (func (export "grow") (param $pages i32) (result i32)
    (local $old i32)
    (local.set $old (memory.grow (local.get $pages)))
    (i32.store8
      (i32.sub (i32.shl (memory.size) (i32.const 16)) (i32.const 1))
      (i32.const 0xff))
    (i32.add (i32.mul (local.get $old) (i32.const 100)) (memory.size)))

  ;; Grows one page at a time n times (failing once the maximum is hit),
  ;; counting successes and writing the first word of each new page.
  (func (export "grow_in_steps") (param $n i32) (result i32)
    (local $ok i32) (local $old i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (local.set $old (memory.grow (i32.const 1)))
        (br_if $next (i32.eq (local.get $old) (i32.const -1)))
        (i32.store (i32.shl (local.get $old) (i32.const 16)) (local.get $old))
        (local.set $ok (i32.add (local.get $ok) (i32.const 1)))
        (br $next)))
    (i32.add (i32.mul (local.get $ok) (i32.const 100)) (memory.size))))

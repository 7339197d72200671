;; A small stack-machine interpreter: a loop that fetches an opcode and
;; dispatches through `br_table` (with a default arm for bad opcodes). The
;; bytecode is in a data segment; `run` executes the program at an offset.
;;
;; Opcodes (one byte each, PUSH takes a one-byte immediate):
;;   0 HALT  1 PUSH b  2 ADD  3 SUB  4 MUL  5 DUP  6 SWAP  7 JNZ b  8 DEC
;;   9 OVER
;; Program at 0 computes 10! ; program at 32 sums 1..100 ; program at 64
;; hits an invalid opcode and returns -1.
;; invoke: run 0
;; invoke: run 32
;; invoke: run 64
(module
  (memory 1)
  ;; acc = 1, n = 10; loop: acc *= n; n -= 1; while n != 0.
  ;; stack: [acc n]
  (data (i32.const 0)
    "\01\01"          ;; 0: PUSH 1        [acc]
    "\01\0a"          ;; 2: PUSH 10       [acc n]
    "\06"             ;; 4: SWAP          [n acc]
    "\09"             ;; 5: OVER          [n acc n]
    "\04"             ;; 6: MUL           [n acc*n]
    "\06"             ;; 7: SWAP          [acc n]
    "\08"             ;; 8: DEC           [acc n-1]
    "\05"             ;; 9: DUP           [acc n n]
    "\07\04"          ;; 10: JNZ 4        [acc n]
    "\03"             ;; 12: SUB          [acc-0]
    "\00")            ;; 13: HALT
  ;; sum = 0, n = 100; loop: sum += n; n -= 1; while n != 0.
  (data (i32.const 32)
    "\01\00"          ;; 32: PUSH 0       [sum]
    "\01\64"          ;; 34: PUSH 100     [sum n]
    "\06"             ;; 36: SWAP         [n sum]
    "\09"             ;; 37: OVER         [n sum n]
    "\02"             ;; 38: ADD          [n sum+n]
    "\06"             ;; 39: SWAP         [sum n]
    "\08"             ;; 40: DEC          [sum n-1]
    "\05"             ;; 41: DUP          [sum n n]
    "\07\24"          ;; 42: JNZ 36       [sum n]
    "\03"             ;; 44: SUB          [sum]
    "\00")            ;; 45: HALT
  (data (i32.const 64) "\01\07\01\05\02\0f\00")

  ;; The value stack grows down from 2048; $sp is the address of the top.
  (func (export "run") (param $pc i32) (result i32)
    (local $sp i32) (local $op i32) (local $a i32) (local $target i32)
    (local.set $sp (i32.const 2048))
    (block $bad
      (block $halt
        (loop $fetch
          (local.set $op (i32.load8_u (local.get $pc)))
          (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
          (block $over
            (block $dec
              (block $jnz
                (block $swap
                  (block $dup
                    (block $mul
                      (block $sub
                        (block $add
                          (block $push
                            (br_table $halt $push $add $sub $mul $dup $swap $jnz $dec $over $bad
                              (local.get $op)))
                          ;; PUSH
                          (local.set $sp (i32.sub (local.get $sp) (i32.const 4)))
                          (i32.store (local.get $sp) (i32.load8_u (local.get $pc)))
                          (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
                          (br $fetch))
                        ;; ADD
                        (i32.store offset=4 (local.get $sp)
                          (i32.add (i32.load offset=4 (local.get $sp)) (i32.load (local.get $sp))))
                        (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                        (br $fetch))
                      ;; SUB
                      (i32.store offset=4 (local.get $sp)
                        (i32.sub (i32.load offset=4 (local.get $sp)) (i32.load (local.get $sp))))
                      (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                      (br $fetch))
                    ;; MUL
                    (i32.store offset=4 (local.get $sp)
                      (i32.mul (i32.load offset=4 (local.get $sp)) (i32.load (local.get $sp))))
                    (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
                    (br $fetch))
                  ;; DUP
                  (local.set $sp (i32.sub (local.get $sp) (i32.const 4)))
                  (i32.store (local.get $sp) (i32.load offset=4 (local.get $sp)))
                  (br $fetch))
                ;; SWAP
                (local.set $a (i32.load (local.get $sp)))
                (i32.store (local.get $sp) (i32.load offset=4 (local.get $sp)))
                (i32.store offset=4 (local.get $sp) (local.get $a))
                (br $fetch))
              ;; JNZ: pops the condition.
              (local.set $a (i32.load (local.get $sp)))
              (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
              (local.set $target (i32.load8_u (local.get $pc)))
              (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
              (br_if $fetch (i32.eqz (local.get $a)))
              (local.set $pc (local.get $target))
              (br $fetch))
            ;; DEC
            (i32.store (local.get $sp) (i32.sub (i32.load (local.get $sp)) (i32.const 1)))
            (br $fetch))
          ;; OVER
          (local.set $sp (i32.sub (local.get $sp) (i32.const 4)))
          (i32.store (local.get $sp) (i32.load offset=8 (local.get $sp)))
          (br $fetch)))
      ;; HALT: the top of the stack.
      (return (i32.load (local.get $sp))))
    (i32.const -1)))

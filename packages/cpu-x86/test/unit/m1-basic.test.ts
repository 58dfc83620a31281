import { describe, expect, it } from 'vitest';
import { run32, gpr, RAX, RBX, RCX, RDX, RSI, RDI } from './helpers.js';

const CF = 1, ZF = 0x40, SF = 0x80, OF = 0x800, PF = 4;

describe('32-bit integer core', () => {
  it('prints over the UART and exits through port 0x501', () => {
    const m = run32(`
      mov esi, msg
    .next:
      lodsb
      test al, al
      jz .done
      mov dx, 0x3f8
      out dx, al
      jmp .next
    .done:
      mov ax, 41
      mov dx, 0x501
      out dx, ax
      hlt
    msg: db "Hello, x86!", 10, 0
    `);
    expect(m.exit).toBe('stopped');
    expect(m.serial()).toBe('Hello, x86!\n');
    expect(m.log.writes.at(-1)).toEqual({ port: 0x501, size: 2, value: 41 });
  });

  it('HLT with IF=0 kills the CPU with a register dump', () => {
    const m = run32(`mov eax, 0x1234\n cli\n hlt`);
    expect(m.exit).toBe('dead');
    expect(m.cpu.deathReason).toMatch(/^HLT with interrupts disabled/);
    expect(m.cpu.deathReason).toContain('EAX=00001234');
  });

  it('HLT with IF=1 returns halted', () => {
    const m = run32(`sti\n hlt`);
    expect(m.exit).toBe('halted');
  });

  it('unknown opcode without an IDT is a triple fault naming the bytes and EIP', () => {
    const m = run32(`nop\n ud2`);
    expect(m.exit).toBe('dead');
    expect(m.cpu.deathReason).toMatch(/triple fault/);
    expect(m.cpu.deathReason).toMatch(/#UD .*EIP=0x1001 opcode bytes 0f 0b/);
  });

  it('ADD/ADC/SUB/SBB/CMP set flags like hardware', () => {
    const m = run32(`
      mov eax, 0xffffffff
      add eax, 1          ; CF=1 ZF=1
      pushfd
      mov ebx, 0x7fffffff
      add ebx, 1          ; OF=1 SF=1
      pushfd
      mov ecx, 5
      sub ecx, 7          ; CF=1 SF=1
      pushfd
      stc
      mov edx, 10
      adc edx, 5          ; 16
      stc
      mov esi, 10
      sbb esi, 5          ; 4
      pop edi             ; flags of sub
      hlt
    `);
    expect(gpr(m, RAX)).toBe(0n);
    expect(gpr(m, RBX)).toBe(0x80000000n);
    expect(gpr(m, RCX)).toBe(0xfffffffen);
    expect(gpr(m, RDX)).toBe(16n);
    expect(gpr(m, RSI)).toBe(4n);
    const subFlags = Number(gpr(m, RDI));
    expect(subFlags & (CF | SF | ZF | OF)).toBe(CF | SF);
    const mem = m.mem;
    const esp = Number(m.cpu.getGpr(4));
    const ovf = mem.readU32(esp);
    const carry = mem.readU32(esp + 4);
    expect(ovf & (OF | SF | CF | ZF)).toBe(OF | SF);
    expect(carry & (CF | ZF | PF)).toBe(CF | ZF | PF);
  });

  it('INC/DEC keep CF; NEG/NOT; logic ops clear CF/OF', () => {
    const m = run32(`
      stc
      mov eax, 0x7f
      inc al           ; OF=1, CF still 1
      pushfd
      mov ebx, 5
      neg ebx
      not ecx
      xor edx, edx
      or edx, 0x80000000
      pushfd
      hlt
    `);
    const esp = Number(m.cpu.getGpr(4));
    const logicFlags = m.mem.readU32(esp);
    const incFlags = m.mem.readU32(esp + 4);
    expect(incFlags & (CF | OF | SF)).toBe(CF | OF | SF);
    expect(gpr(m, RBX)).toBe(0xfffffffbn);
    expect(gpr(m, RCX)).toBe(0xffffffffn);
    expect(logicFlags & (CF | OF | SF | ZF)).toBe(SF);
  });

  it('MOVZX/MOVSX/LEA/XCHG/BSWAP/CDQ/CWDE', () => {
    const m = run32(`
      mov eax, 0x80
      movsx ebx, al
      movzx ecx, al
      mov edx, 0x1000
      lea esi, [edx + ebx*4 + 8]
      mov edi, 0x11223344
      bswap edi
      xchg eax, edi
      mov ax, 0x8000
      cwde
      cdq
      hlt
    `);
    expect(gpr(m, RBX)).toBe(0xffffff80n);
    expect(gpr(m, RCX)).toBe(0x80n);
    expect(gpr(m, RSI)).toBe(BigInt((0x1000 + 0xffffff80 * 4 + 8) >>> 0));
    expect(gpr(m, RDI)).toBe(0x80n);
    expect(gpr(m, RAX)).toBe(0xffff8000n);
    expect(gpr(m, RDX)).toBe(0xffffffffn);
  });

  it('shifts and rotates', () => {
    const m = run32(`
      mov eax, 0x80000001
      shl eax, 1        ; CF=1, eax=2
      setc bl
      mov ecx, 0x80000000
      sar ecx, 4        ; 0xf8000000
      mov edx, 0x80000001
      rol edx, 4        ; 0x00000018
      mov esi, 0x12345678
      shr esi, 8
      mov edi, 1
      mov cl, 31
      shl edi, cl
      hlt
    `);
    expect(gpr(m, RAX)).toBe(2n);
    expect(gpr(m, RBX) & 0xffn).toBe(1n);
    expect(gpr(m, RCX) & 0xffffff00n).toBe(0xf8000000n);
    expect(gpr(m, RDX)).toBe(0x18n);
    expect(gpr(m, RSI)).toBe(0x123456n);
    expect(gpr(m, RDI)).toBe(0x80000000n);
  });

  it('MUL/IMUL/DIV/IDIV including 64-by-32 division', () => {
    const m = run32(`
      mov eax, 0xffffffff
      mov ecx, 0xffffffff
      mul ecx              ; edx:eax = 0xfffffffe00000001
      mov esi, edx
      mov edi, eax
      mov edx, 0x12345678
      mov eax, 0x9abcdef0
      mov ecx, 0x9abcdef1
      div ecx              ; q = 0x1e1e1e1e? computed below
      mov ebx, eax
      mov ebp, edx
      mov eax, -7
      cdq
      mov ecx, 2
      idiv ecx             ; -3 rem -1
      imul ecx, eax, 100   ; -300
      hlt
    `);
    expect(gpr(m, RSI)).toBe(0xfffffffen);
    expect(gpr(m, RDI)).toBe(1n);
    const n = 0x123456789abcdef0n, d = 0x9abcdef1n;
    expect(gpr(m, RBX)).toBe(n / d);
    expect(gpr(m, 5)).toBe(n % d);
    expect(gpr(m, RAX)).toBe(0xfffffffdn);
    expect(gpr(m, RDX)).toBe(0xffffffffn);
    expect(gpr(m, RCX)).toBe(BigInt((-300) >>> 0));
  });

  it('string ops with REP/REPE/REPNE', () => {
    const m = run32(`
      cld
      mov esi, src
      mov edi, 0x3000
      mov ecx, 5
      rep movsb
      mov edi, 0x3000
      mov esi, src
      mov ecx, 5
      repe cmpsb       ; all equal: ZF=1, ecx=0
      setz bl
      mov edi, src
      mov al, 'l'
      mov ecx, 10
      repne scasb      ; finds first 'l' at index 2
      mov edx, ecx
      mov edi, 0x4000
      mov eax, 0xabababab
      mov ecx, 4
      rep stosd
      hlt
    src: db "hello"
    `);
    expect(new TextDecoder().decode(m.mem.bytes(0x3000, 5))).toBe('hello');
    expect(gpr(m, RBX) & 0xffn).toBe(1n);
    expect(gpr(m, RDX)).toBe(7n);
    expect(m.mem.readU32(0x400c)).toBe(0xabababab);
    expect(m.mem.readU32(0x4010)).toBe(0);
  });

  it('CALL/RET, PUSHA/POPA, LOOP, JECXZ, CMOV, BT/BSF/BSR', () => {
    const m = run32(`
      mov ecx, 10
      xor eax, eax
    .l: add eax, ecx
      loop .l           ; eax = 55
      jecxz .z
      mov eax, 0
    .z:
      push eax
      call f
      pop ebx           ; ebx = 55
      mov edx, 0x100
      bsf esi, edx      ; 8
      bsr edi, edx      ; 8
      bt edx, 8
      mov ecx, 1
      cmovc ecx, ebx    ; 55
      hlt
    f:
      pushad
      mov eax, 0
      mov ebx, 0
      popad
      ret
    `);
    expect(gpr(m, RAX)).toBe(55n);
    expect(gpr(m, RBX)).toBe(55n);
    expect(gpr(m, RSI)).toBe(8n);
    expect(gpr(m, RDI)).toBe(8n);
    expect(gpr(m, RCX)).toBe(55n);
  });

  it('division by zero without an IDT triple-faults naming #DE', () => {
    const m = run32(`xor ecx, ecx\n div ecx`);
    expect(m.exit).toBe('dead');
    expect(m.cpu.deathReason).toMatch(/#DE/);
  });
});

// A tiny SMP multiboot kernel (nasm, flat binary with the a.out kludge) for the SMP tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where the guest leaves its results (guest-physical). */
export const SMP_DATA = {
  /** APs that arrived (LOCK XADD). */
  arrived: 0x50004,
  /** Sum of LOCK-incremented counts: 1000 per AP. */
  counter: 0x50008,
  /** APs done incrementing. */
  done: 0x5000c,
  /** Per APIC ID: the ID + 1 read from its own local APIC's ID register. */
  apicIds: 0x50100,
  /** The arrival order: APIC IDs. */
  order: 0x50200,
  /** Per APIC ID: fixed IPIs (vector 0x40) taken. */
  ipis: 0x50300,
  /** Per APIC ID: CPUID.1:EBX[31:24] as that CPU sees it. */
  cpuidIds: 0x50400,
  /** Per APIC ID: CPUID.1:EBX[23:16] (logical processors per package). */
  cpuidCounts: 0x50500,
} as const;

/** The exit code the guest writes to isa-debug-exit when every check passed: QEMU status (v << 1) | 1. */
export const SMP_GUEST_OK = 0x21;

const SOURCE = String.raw`
bits 32
org 0x100000
LAPIC       equ 0xfee00000
TRAMP       equ 0x8000            ; start-up vector 0x08
STACKS      equ 0x70000

header:
  dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
  dd header, header, image_end, bss_end, start

start:
  lgdt [gdt_desc]
  jmp 0x08:.flat
.flat:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, STACKS
  ; the IDT: vector 0x40 -> ipi_handler
  mov eax, ipi_handler
  mov [idt + 0x40*8], ax
  mov word [idt + 0x40*8 + 2], 0x08
  mov word [idt + 0x40*8 + 4], 0x8e00
  shr eax, 16
  mov [idt + 0x40*8 + 6], ax
  lidt [idt_desc]
  ; the trampoline goes below 1 MiB
  mov esi, tramp
  mov edi, TRAMP
  mov ecx, tramp_end - tramp
  rep movsb
  ; CPUs in the package (CPUID.1:EBX[23:16], 1 without HTT)
  mov eax, 1
  cpuid
  mov ecx, 1
  test edx, 1 << 28
  jz .one
  shr ebx, 16
  movzx ecx, bl
.one:
  mov [ncpus], ecx
  call whoami                     ; the BSP records itself too
  ; INIT, then start-up twice (SDM 8.4.4.1), to all but self
  mov dword [LAPIC + 0x310], 0
  mov dword [LAPIC + 0x300], 0x000c4500
  call delay
  mov dword [LAPIC + 0x300], 0x000c4600 | (TRAMP >> 12)
  call delay
  mov dword [LAPIC + 0x300], 0x000c4600 | (TRAMP >> 12)
  mov ecx, [ncpus]
  dec ecx
.wait_done:
  pause
  cmp [0x5000c], ecx
  jne .wait_done
  ; a fixed IPI, vector 0x40, to each AP by physical APIC ID
  mov ebx, 1
.next_ipi:
  cmp ebx, [ncpus]
  jae .ipis_sent
  mov eax, ebx
  shl eax, 24
  mov [LAPIC + 0x310], eax
  mov dword [LAPIC + 0x300], 0x00004040
.wait_ipi:
  pause
  cmp dword [0x50300 + ebx*4], 1
  jne .wait_ipi
  inc ebx
  jmp .next_ipi
.ipis_sent:
  ; report: "cpus N order ... sum XXXXXXXX\n"
  mov esi, msg_cpus
  call puts
  mov eax, [ncpus]
  call puthex1
  mov esi, msg_order
  call puts
  xor ebx, ebx
.order:
  mov ecx, [ncpus]
  dec ecx
  cmp ebx, ecx
  jae .order_done
  mov al, ' '
  call putc
  mov eax, [0x50200 + ebx*4]
  call puthex1
  inc ebx
  jmp .order
.order_done:
  mov esi, msg_sum
  call puts
  mov eax, [0x50008]
  call puthex8
  mov al, 10
  call putc
  mov ax, 0x10                    ; exit status (0x10 << 1) | 1 = 0x21
  mov dx, 0x501
  out dx, ax
.dead:
  cli
  hlt
  jmp .dead

; record this CPU: EBX = APIC ID from its own local APIC; CPUID's view of it
whoami:
  mov esi, [LAPIC + 0x20]
  shr esi, 24
  lea eax, [esi + 1]
  mov [0x50100 + esi*4], eax
  mov eax, 1
  cpuid
  mov eax, ebx
  shr eax, 24
  mov [0x50400 + esi*4], eax
  shr ebx, 16
  movzx eax, bl
  mov [0x50500 + esi*4], eax
  ret

delay:
  mov ecx, 200
.d: pause
  loop .d
  ret

; APs arrive here in 32-bit protected mode
ap32:
  mov ax, 0x10
  mov ds, ax
  mov es, ax
  mov ss, ax
  mov esp, [LAPIC + 0x20]
  shr esp, 24
  inc esp
  shl esp, 12
  add esp, STACKS
  call whoami
  mov eax, 1
  lock xadd [0x50004], eax
  mov [0x50200 + eax*4], esi
  mov ecx, 1000
.inc:
  mov eax, 1
  lock xadd [0x50008], eax
  loop .inc
  lock inc dword [0x5000c]
  mov dword [LAPIC + 0xf0], 0x1ff     ; software-enable this CPU's APIC
  lidt [idt_desc]
  sti
.idle:
  hlt
  jmp .idle

ipi_handler:
  push eax
  mov eax, [LAPIC + 0x20]
  shr eax, 24
  lock inc dword [0x50300 + eax*4]
  mov dword [LAPIC + 0xb0], 0          ; EOI
  pop eax
  iret

putc:
  push edx
  mov dx, 0x3f8
  out dx, al
  pop edx
  ret
puts:
  lodsb
  test al, al
  jz .e
  call putc
  jmp puts
.e: ret
puthex1:
  and eax, 15
  mov al, [hex + eax]
  jmp putc
puthex8:
  mov ecx, 8
.h:
  rol eax, 4
  push eax
  call puthex1
  pop eax
  loop .h
  ret

; the real-mode trampoline, copied to TRAMP: to protected mode, then to ap32
tramp:
bits 16
  cli
  xor ax, ax
  mov ds, ax
  o32 lgdt [TRAMP + (tramp_gdt_desc - tramp)]
  mov eax, cr0
  or al, 1
  mov cr0, eax
  jmp dword 0x08:ap32
bits 32
tramp_gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt
tramp_end:

align 8
gdt:
  dq 0
  dq 0x00cf9a000000ffff              ; 0x08 code
  dq 0x00cf92000000ffff              ; 0x10 data
gdt_end:
gdt_desc:
  dw gdt_end - gdt - 1
  dd gdt
idt_desc:
  dw 256*8 - 1
  dd idt
hex: db '0123456789abcdef'
msg_cpus: db 'cpus ', 0
msg_order: db ' order', 0
msg_sum: db ' sum ', 0
align 4
image_end:
ncpus: resd 1
align 8
idt: resb 256*8
bss_end:
`;

/** Assemble the guest into a fresh folder; returns the kernel's path. */
export function buildSmpGuest(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'smp-guest-'));
  const src = path.join(dir, 'smp.asm');
  const out = path.join(dir, 'smp.bin');
  writeFileSync(src, SOURCE);
  execFileSync('nasm', ['-f', 'bin', '-o', out, src], { stdio: 'pipe' });
  return out;
}

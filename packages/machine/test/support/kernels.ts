// Tiny multiboot kernels built with the system gcc, for loader and run-loop tests.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface BuiltKernels {
  dir: string;
  /** ELF32, multiboot header without address fields; prints its boot information on 0x3f8. */
  elf32: string;
  /** ELF64 whose multiboot header has the a.out kludge; the same 32-bit code. */
  elf64: string;
  /** ELF64 without the kludge (QEMU refuses it). */
  elf64NoKludge: string;
  /** Prints "ready\n" on 0x3f8, then spins forever with interrupts off. */
  spin: string;
  /** Prints "type:\n", then echoes COM1 input in upper case (polling the LSR); 'q' exits with 20. */
  echo: string;
  /**
   * Interrupt-driven: programs the 8259 pair and an IDT, enables the COM1 receive interrupt, prints
   * "ready\n" and halts (STI; HLT) between interrupts; each byte is echoed in upper case, 'q' exits with 20.
   */
  irqEcho: string;
}

const ECHO_C = String.raw`
static inline void outb(unsigned short p, unsigned char v){ __asm__ volatile("outb %0,%1"::"a"(v),"Nd"(p)); }
static inline void outw(unsigned short p, unsigned short v){ __asm__ volatile("outw %0,%1"::"a"(v),"Nd"(p)); }
static inline unsigned char inb(unsigned short p){ unsigned char v; __asm__ volatile("inb %1,%0":"=a"(v):"Nd"(p)); return v; }
void cmain(void){
  const char *s = "type:\n"; while (*s) outb(0x3f8, *s++);
  for (;;) {
    while (!(inb(0x3fd) & 1)) ;
    unsigned char c = inb(0x3f8);
    if (c == 'q') outw(0x501, 20);
    outb(0x3f8, c >= 'a' && c <= 'z' ? c - 32 : c);
  }
}
`;

const SPIN_S = `
.section .multiboot, "a"
.align 4
.long 0x1BADB002
.long 0
.long -0x1BADB002
.text
.code32
.globl _start
_start:
  mov $0x3f8, %dx
  mov $ready, %esi
1: lodsb
  test %al, %al
  jz 2f
  out %al, %dx
  jmp 1b
2: jmp 2b
.section .rodata
ready: .asciz "ready\\n"
`;

const IRQ_ECHO_S = String.raw`
.section .multiboot, "a"
.align 4
.long 0x1BADB002
.long 0
.long -0x1BADB002
.text
.code32
.globl _start
_start:
  mov $stack_top, %esp
  /* Multiboot leaves GDTR undefined: load our own flat GDT before taking any interrupt */
  lgdt gdtr
  ljmp $0x10, $3f
3: mov $0x18, %ax
  mov %ax, %ds
  mov %ax, %es
  mov %ax, %ss
  /* 8259 pair: ICW1..ICW4, vectors 0x20/0x28; only IRQ4 (COM1) unmasked */
  mov $0x11, %al
  out %al, $0x20
  out %al, $0xa0
  mov $0x20, %al
  out %al, $0x21
  mov $0x28, %al
  out %al, $0xa1
  mov $4, %al
  out %al, $0x21
  mov $2, %al
  out %al, $0xa1
  mov $1, %al
  out %al, $0x21
  out %al, $0xa1
  mov $0xef, %al
  out %al, $0x21
  mov $0xff, %al
  out %al, $0xa1
  /* IDT: vector 0x24 is a 32-bit interrupt gate to on_com1 in the loader's code segment */
  mov $on_com1, %eax
  movw %ax, idt + 0x24 * 8
  shr $16, %eax
  movw %ax, idt + 0x24 * 8 + 6
  movw $0x10, idt + 0x24 * 8 + 2
  movw $0x8e00, idt + 0x24 * 8 + 4
  lidt idtr
  /* COM1: receive-data interrupt on; MCR OUT2 connects the UART's interrupt to the PIC */
  mov $0x3f9, %dx
  mov $1, %al
  out %al, %dx
  mov $0x3fc, %dx
  mov $0x08, %al
  out %al, %dx
  mov $ready, %esi
  mov $0x3f8, %dx
1: lodsb
  test %al, %al
  jz 2f
  out %al, %dx
  jmp 1b
2: sti
  hlt
  jmp 2b

on_com1:
  push %eax
  push %edx
3: mov $0x3fd, %dx
  in %dx, %al
  test $1, %al
  jz 5f
  mov $0x3f8, %dx
  in %dx, %al
  cmp $'q', %al
  jne 4f
  mov $0x501, %dx
  mov $20, %ax
  out %ax, %dx
4: cmp $'a', %al
  jb 6f
  cmp $'z', %al
  ja 6f
  sub $32, %al
6: mov $0x3f8, %dx
  out %al, %dx
  jmp 3b
5: mov $0x20, %al
  out %al, $0x20
  pop %edx
  pop %eax
  iret

.section .rodata
ready: .asciz "ready\n"
.data
.align 8
gdt: .quad 0, 0, 0x00cf9a000000ffff, 0x00cf92000000ffff
gdtr: .word 4 * 8 - 1
  .long gdt
idtr: .word 256 * 8 - 1
  .long idt
.bss
.align 8
idt: .skip 256 * 8
.skip 4096
stack_top:
`;

// A probe that prints the multiboot information as QEMU's loader leaves it, then exits via 0x501.
const PROBE_C = String.raw`
typedef unsigned int u32; typedef unsigned char u8; typedef unsigned short u16;
static inline void outb(u16 p, u8 v){ __asm__ volatile("outb %0,%1"::"a"(v),"Nd"(p)); }
static inline void outw(u16 p, u16 v){ __asm__ volatile("outw %0,%1"::"a"(v),"Nd"(p)); }
static void putc(char c){ outb(0x3f8,c); }
static void puts(const char*s){ while(*s) putc(*s++); }
static void hex(u32 v){ const char*d="0123456789abcdef"; for(int i=28;i>=0;i-=4) putc(d[(v>>i)&15]); }
void cmain(u32 magic, u32 *mbi){
  puts("magic="); hex(magic); puts(" mbi="); hex((u32)mbi); puts("\n");
  for(int i=0;i<22;i++){ hex(mbi[i]); putc(i%8==7?'\n':' '); } puts("\n");
  if(mbi[0]&4){ puts("cmdline=["); puts((char*)mbi[4]); puts("]\n"); }
  if(mbi[0]&0x200){ puts("loader=["); puts((char*)mbi[16]); puts("]\n"); }
  u32 a=mbi[12], end=a+mbi[11];
  while(a<end){ u32*e=(u32*)a; puts("mmap size="); hex(e[0]); puts(" base="); hex(e[2]); hex(e[1]);
    puts(" len="); hex(e[4]); hex(e[3]); puts(" type="); hex(e[5]); puts("\n"); a+=e[0]+4; }
  outw(0x501, 7);
  for(;;) __asm__ volatile("cli; hlt");
}
`;

function startS(kludge: boolean): string {
  const flags = kludge ? '0x00010003' : '0x3';
  return `
.section .multiboot, "a"
.align 4
mb_header:
.long 0x1BADB002
.long ${flags}
.long -(0x1BADB002 + ${flags})
${kludge ? '.long mb_header\n.long _load_start\n.long _load_end\n.long _bss_end\n.long _start' : ''}
.text
.code32
.globl _start
_start:
  mov $stack_top, %esp
  push %ebx
  push %eax
  call cmain
1: hlt
  jmp 1b
.bss
.align 16
.skip 4096
stack_top:
`;
}

const LINK = `
ENTRY(_start)
SECTIONS {
  . = 0x100000;
  _load_start = .;
  .text : { *(.multiboot) *(.text*) }
  .rodata : { *(.rodata*) }
  .data : { *(.data*) }
  _load_end = .;
  .bss : { *(COMMON) *(.bss*) }
  _bss_end = .;
}
`;

let built: BuiltKernels | undefined;

/** Build once per test worker; the folder goes away when the worker exits. */
export function buildKernels(): BuiltKernels {
  if (!built) {
    built = buildKernelsInto(mkdtempSync(path.join(tmpdir(), 'unimachine-kernels-')));
    const dir = built.dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return built;
}

function buildKernelsInto(dir: string): BuiltKernels {
  const w = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  w('probe.c', PROBE_C);
  w('start32.S', startS(false));
  w('start64.S', startS(true));
  w('link.ld', LINK);
  w('spin.S', SPIN_S);
  w('irq-echo.S', IRQ_ECHO_S);
  w('echo.c', ECHO_C.replace('void cmain(void)', 'void cmain(unsigned magic, unsigned *mbi)'));
  const cc = (args: string[]) => execFileSync('gcc', args, { cwd: dir, stdio: 'pipe' });
  const ld = (args: string[]) => execFileSync('ld', ['--no-warn-rwx-segments', '-z', 'noexecstack', ...args], { cwd: dir, stdio: 'pipe' });
  const flags = ['-ffreestanding', '-nostdlib', '-fno-pic', '-no-pie', '-static', '-O2', '-fno-stack-protector', '-fno-asynchronous-unwind-tables'];
  cc(['-m32', ...flags, '-c', 'probe.c', '-o', 'probe32.o']);
  cc(['-m32', '-c', 'start32.S', '-o', 'start32.o']);
  ld(['-m', 'elf_i386', '-T', 'link.ld', '-o', 'probe32.elf', 'start32.o', 'probe32.o']);
  // The 64-bit ELFs carry the same 32-bit code (a multiboot entry runs in 32-bit protected mode):
  // link as i386, then rewrap the linked image as ELF64, as a Solo5 kernel's 32-bit entry stub is.
  cc(['-m32', '-c', 'start64.S', '-o', 'start64.o']);
  ld(['-m', 'elf_i386', '-T', 'link.ld', '-o', 'probe32-kludge.elf', 'start64.o', 'probe32.o']);
  execFileSync('objcopy', ['-O', 'elf64-x86-64', 'probe32-kludge.elf', 'probe64.elf'], { cwd: dir });
  execFileSync('objcopy', ['-O', 'elf64-x86-64', 'probe32.elf', 'probe64-nokludge.elf'], { cwd: dir });
  cc(['-m32', '-c', 'spin.S', '-o', 'spin.o']);
  ld(['-m', 'elf_i386', '-T', 'link.ld', '-o', 'spin.elf', 'spin.o']);
  cc(['-m32', '-c', 'irq-echo.S', '-o', 'irq-echo.o']);
  ld(['-m', 'elf_i386', '-T', 'link.ld', '-o', 'irq-echo.elf', 'irq-echo.o']);
  cc(['-m32', ...flags, '-c', 'echo.c', '-o', 'echo.o']);
  ld(['-m', 'elf_i386', '-T', 'link.ld', '-o', 'echo.elf', 'start32.o', 'echo.o']);
  return {
    dir,
    spin: path.join(dir, 'spin.elf'),
    echo: path.join(dir, 'echo.elf'),
    irqEcho: path.join(dir, 'irq-echo.elf'),
    elf32: path.join(dir, 'probe32.elf'),
    elf64: path.join(dir, 'probe64.elf'),
    elf64NoKludge: path.join(dir, 'probe64-nokludge.elf'),
  };
}

export function read(file: string): Uint8Array {
  return new Uint8Array(readFileSync(file));
}

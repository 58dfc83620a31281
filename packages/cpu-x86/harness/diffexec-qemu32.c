// diffexec-qemu32: a bare-metal multiboot kernel that runs differential cases in 32- or 16-bit protected
// mode at CPL 3 with paging, under QEMU, the reference where the host cannot run 32-bit code.
//
// Input: one multiboot module in the native harness's stream format (diff/protocol.ts, diffexec.c):
//   "DX01" u32 windowSize, window bytes, then cases: u16 codeLen, u16 patchCount, u16 bitness (32/16),
//   u16 0, code bytes, state (16 x u64 GPR, u64 RFLAGS, u32 MXCSR, 16 x 16 bytes XMM), patches.
// Output on the IDE disk (primary master; see flush_results): "DXRS", u32 length, then per case
// (decoded by diff/qemu.ts; what is not sent equals the case's input):
//   u8 outcome (0 completed, 1 exception, 2 timeout), u8 vector, u8 xmmChangedMask, u8 0,
//   u32 errorCode, u32 cr2, u32 eip, u32 eflags, u32 mxcsr, 8 x u32 GPR (EAX..EDI),
//   16 bytes per changed XMM register, u32 runCount, runs (u32 offset, u32 len, bytes) where the
//   window differs from how the case started (pristine + patches); then "DXEND". COM1 gets "DXEND"
//   too, or "DXERR" u32 n, message, u32 a, u32 b when the runner fails. isa-debug-exit ends QEMU
//   with status 1 (success) or 3 (failure).
//
// Environment, identical in diff/guest.ts (the interpreter side, diff/env32.ts): GDT below, flat 32-bit
// user code (CS 0x1b) and data (DS/ES/FS/SS 0x23), GS 0x3b (a 64 KiB data segment based at the window,
// for 16-bit address forms). 16-bit cases (bitness 16) run with CS 0x33 (16-bit, based at the code
// page, IP from 0) and every data segment and SS 0x3b. 32-bit paging: 0..128 MiB identity-mapped with 4 MiB supervisor pages, the
// data window user+writable, the code page user read-only, everything else not present. IDT gates
// 3 (INT3) and 4 (INTO) have DPL 3, the rest DPL 0. The TSS has no I/O bitmap (IN/OUT at CPL 3: #GP).
// The PIT interrupts at 100 Hz; a case still running after TIMEOUT_TICKS ends as a timeout.
#include <stdint.h>

#define WINDOW_BASE 0x10000000u
#define WINDOW_SIZE 0x10000u
#define CODE_BASE (WINDOW_BASE + WINDOW_SIZE)
#define CODE_SIZE 0x1000u
#define TIMEOUT_TICKS 10

enum { OUT_COMPLETED = 0, OUT_EXCEPTION = 1, OUT_TIMEOUT = 2 };

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static void *memcpy_(void *d, const void *s, uint32_t n) {
  uint8_t *dd = d;
  const uint8_t *ss = s;
  while (n--) *dd++ = *ss++;
  return d;
}
static void memset_(void *d, int v, uint32_t n) {
  uint8_t *dd = d;
  while (n--) *dd++ = (uint8_t)v;
}
static int memeq(const void *a, const void *b, uint32_t n) {
  const uint8_t *x = a, *y = b;
  while (n--) if (*x++ != *y++) return 0;
  return 1;
}

// ---------------------------------------------------------------- output
// Results collect in RAM and go to the IDE disk at the end (ATA PIO, 32-bit data port): QEMU's serial
// port costs a host write() per byte, which made output-heavy families (x87: FXSAVE images) several
// times slower than running the cases. COM1 carries only errors.

static uint8_t *out_buf, *out_pos, *out_limit;

static void serial_put(const void *p, uint32_t n) {
  const uint8_t *b = p;
  while (n--) {
    while (!(inb(0x3fd) & 0x20)) {}
    outb(0x3f8, *b++);
  }
}
static void fatal(const char *msg, uint32_t a, uint32_t b) __attribute__((noreturn));
static void put(const void *p, uint32_t n) {
  if ((uint32_t)(out_limit - out_pos) < n) fatal("result buffer full (bytes, 0)", (uint32_t)(out_pos - out_buf), 0);
  memcpy_(out_pos, p, n);
  out_pos += n;
}
static void put32(uint32_t v) { put(&v, 4); }

static uint8_t ata_wait(void) {
  uint8_t s;
  while ((s = inb(0x1f7)) & 0x80) {}
  return s;
}

/** Write `sectors` sectors from `p` at LBA `lba` (at most 256 per command). */
static void ata_write(uint32_t lba, const uint8_t *p, uint32_t sectors) {
  while (sectors) {
    uint32_t n = sectors > 256 ? 256 : sectors;
    ata_wait();
    outb(0x1f6, 0xe0 | ((lba >> 24) & 0xf));
    outb(0x1f2, n & 0xff);
    outb(0x1f3, lba & 0xff);
    outb(0x1f4, (lba >> 8) & 0xff);
    outb(0x1f5, (lba >> 16) & 0xff);
    outb(0x1f7, 0x30); // WRITE SECTORS
    for (uint32_t i = 0; i < n; i++) {
      uint8_t s;
      while (((s = inb(0x1f7)) & 0x88) != 0x08) if (s & 1) fatal("ATA write error (status, lba)", s, lba);
      uint32_t words = 128;
      const uint8_t *src = p;
      __asm__ volatile("rep outsl" : "+S"(src), "+c"(words) : "d"(0x1f0) : "memory");
      p += 512;
    }
    if (ata_wait() & 1) fatal("ATA write error (status, lba)", inb(0x1f7), lba);
    lba += n;
    sectors -= n;
  }
}

/** The disk image: "DXRS", u32 length, then the results. */
static void flush_results(void) {
  uint32_t len = (uint32_t)(out_pos - out_buf) - 8;
  memcpy_(out_buf, "DXRS", 4);
  memcpy_(out_buf + 4, &len, 4);
  while ((uint32_t)(out_pos - out_buf) & 511) *out_pos++ = 0;
  outb(0x3f6, 2); // nIEN: we poll
  ata_write(0, out_buf, (uint32_t)(out_pos - out_buf) / 512);
  outb(0x1f7, 0xe7); // FLUSH CACHE
  ata_wait();
}

static void __attribute__((noreturn)) finish(uint16_t code) {
  outw(0x501, code); // QEMU exits with (code << 1) | 1
  for (;;) __asm__ volatile("cli; hlt");
}
static void fatal(const char *msg, uint32_t a, uint32_t b) {
  uint32_t n = 0;
  while (msg[n]) n++;
  serial_put("DXERR", 5);
  serial_put(&n, 4);
  serial_put(msg, n);
  serial_put(&a, 4);
  serial_put(&b, 4);
  finish(1);
}

// ---------------------------------------------------------------- descriptor tables, paging

struct __attribute__((packed)) tss {
  uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags, gpr[8], seg[6], ldt;
  uint16_t trap, iomap;
};
static struct tss tss;

static uint64_t gdt[11];
static uint64_t idt[48];
static uint32_t page_dir[1024] __attribute__((aligned(4096)));
static uint32_t window_table[1024] __attribute__((aligned(4096)));
static uint8_t window_mem[WINDOW_SIZE] __attribute__((aligned(4096)));
static uint8_t code_mem[CODE_SIZE] __attribute__((aligned(4096)));
static uint8_t trap_stack[16384] __attribute__((aligned(16)));

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags) {
  return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 | (uint64_t)access << 40 |
         (uint64_t)((limit >> 16) & 0xf) << 48 | (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

extern char trap_0[], trap_1[], trap_2[], trap_3[], trap_4[], trap_5[], trap_6[], trap_7[], trap_8[], trap_9[],
    trap_10[], trap_11[], trap_12[], trap_13[], trap_14[], trap_15[], trap_16[], trap_17[], trap_18[], trap_19[],
    trap_20[], trap_21[], trap_22[], trap_23[], trap_24[], trap_25[], trap_26[], trap_27[], trap_28[], trap_29[],
    trap_30[], trap_31[], trap_32[], trap_33[], trap_34[], trap_35[], trap_36[], trap_37[], trap_38[], trap_39[],
    trap_40[], trap_41[], trap_42[], trap_43[], trap_44[], trap_45[], trap_46[], trap_47[];
static char *const stubs[48] = {
    trap_0,  trap_1,  trap_2,  trap_3,  trap_4,  trap_5,  trap_6,  trap_7,  trap_8,  trap_9,  trap_10, trap_11,
    trap_12, trap_13, trap_14, trap_15, trap_16, trap_17, trap_18, trap_19, trap_20, trap_21, trap_22, trap_23,
    trap_24, trap_25, trap_26, trap_27, trap_28, trap_29, trap_30, trap_31, trap_32, trap_33, trap_34, trap_35,
    trap_36, trap_37, trap_38, trap_39, trap_40, trap_41, trap_42, trap_43, trap_44, trap_45, trap_46, trap_47};

static void setup_tables(void) {
  gdt[0] = 0;
  gdt[1] = seg_desc(0, 0xfffff, 0x9b, 0xc);                // 0x08 kernel code32
  gdt[2] = seg_desc(0, 0xfffff, 0x93, 0xc);                // 0x10 kernel data
  gdt[3] = seg_desc(0, 0xfffff, 0xfb, 0xc);                // 0x1b user code32
  gdt[4] = seg_desc(0, 0xfffff, 0xf3, 0xc);                // 0x23 user data
  gdt[5] = seg_desc((uint32_t)&tss, sizeof tss - 1, 0x89, 0); // 0x28 TSS (32-bit, available)
  gdt[6] = seg_desc(CODE_BASE, 0xffff, 0xfb, 0);           // 0x33 user code16 at the code page
  gdt[7] = seg_desc(WINDOW_BASE, 0xffff, 0xf3, 0);         // 0x3b user data16 at the window
  gdt[8] = seg_desc(0, 0xfffff, 0xf1, 0xc);                // 0x43 user data, read-only
  gdt[9] = seg_desc(0, 0xfffff, 0xd3, 0xc);                // 0x48 DPL 2 data (not loadable at CPL 3)
  gdt[10] = seg_desc(0, 0xfffff, 0xff, 0xc);               // 0x53 user code32, conforming
  tss.ss0 = 0x10;
  tss.esp0 = (uint32_t)(trap_stack + sizeof trap_stack);
  tss.iomap = sizeof tss; // past the limit: no I/O permission bitmap
  for (int v = 0; v < 48; v++) {
    uint32_t off = (uint32_t)stubs[v];
    uint32_t dpl = v == 3 || v == 4 ? 3 : 0; // INT3 and INTO are allowed at CPL 3, as on Linux
    idt[v] = (uint64_t)(off & 0xffff) | (uint64_t)0x08 << 16 | (uint64_t)(0x8e | dpl << 5) << 40 | (uint64_t)(off >> 16) << 48;
  }
  struct __attribute__((packed)) { uint16_t limit; uint32_t base; } gdtr = {sizeof gdt - 1, (uint32_t)gdt},
                                                                   idtr = {sizeof idt - 1, (uint32_t)idt};
  __asm__ volatile("lgdt %0; lidt %1" ::"m"(gdtr), "m"(idtr));
  __asm__ volatile("ljmp $0x08, $1f; 1: movw $0x10, %%ax; movw %%ax, %%ds; movw %%ax, %%es; movw %%ax, %%ss;"
                   "movw %%ax, %%fs; movw %%ax, %%gs; movw $0x28, %%ax; ltr %%ax;"
                   // A null LDTR: the reset one (base 0, limit 0xFFFF) would make LDT selectors usable.
                   "xorl %%eax, %%eax; lldt %%ax" ::: "eax", "memory");

  for (uint32_t i = 0; i < 32; i++) page_dir[i] = (i << 22) | 0x83; // 4 MiB, present, writable, supervisor
  page_dir[WINDOW_BASE >> 22] = (uint32_t)window_table | 7;
  uint32_t first = (WINDOW_BASE >> 12) & 1023;
  for (uint32_t i = 0; i < WINDOW_SIZE / 4096; i++) window_table[first + i] = ((uint32_t)window_mem + 4096 * i) | 7;
  window_table[first + WINDOW_SIZE / 4096] = (uint32_t)code_mem | 5; // user, read-only
  uint32_t cr0, cr4;
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= 0x10 | 0x200 | 0x400; // PSE, OSFXSR, OSXMMEXCPT
  __asm__ volatile("mov %0, %%cr4; mov %1, %%cr3" ::"r"(cr4), "r"(page_dir));
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 | 0x80010022) & ~0x4u; // PG, WP, NE, MP; EM clear
  __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));

  // 8259 pair: IRQs at 32..47, only the PIT unmasked; PIT channel 0 at 100 Hz.
  static const uint8_t pic[] = {0x11, 0x11, 32, 40, 4, 2, 1, 1, 0xfe, 0xff};
  outb(0x20, pic[0]); outb(0xa0, pic[1]); outb(0x21, pic[2]); outb(0xa1, pic[3]);
  outb(0x21, pic[4]); outb(0xa1, pic[5]); outb(0x21, pic[6]); outb(0xa1, pic[7]);
  outb(0x21, pic[8]); outb(0xa1, pic[9]);
  outb(0x43, 0x34);
  outb(0x40, 11932 & 0xff);
  outb(0x40, 11932 >> 8);
}

// ---------------------------------------------------------------- cases

struct __attribute__((packed)) frame {
  uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax, es, ds, vector, err, eip, cs, eflags, esp, ss;
};

// Read by run_case (diffexec-qemu32.S): EAX ECX EDX EBX ESP EBP ESI EDI, EFLAGS at +32.
uint32_t case_in[9];
uint32_t case_eip = CODE_BASE, case_cs = 0x1b, case_ds = 0x23;
uint32_t kernel_esp;
uint8_t case_fx[512] __attribute__((aligned(16)));
static uint8_t out_fx[512] __attribute__((aligned(16)));

static struct {
  uint8_t outcome, vector;
  uint32_t err, cr2, eip, eflags, gpr[8];
} res;
static uint32_t end_eip, ticks;

static const uint32_t HAS_ERROR = 1u << 8 | 1u << 10 | 1u << 11 | 1u << 12 | 1u << 13 | 1u << 14 | 1u << 17 | 1u << 21 | 1u << 29 | 1u << 30;

// Called by trap_common. 0: resume the interrupted case; 1: the case is over (results in res).
int trap_c(struct frame *f) {
  if ((f->cs & 3) != 3) fatal("trap in the runner itself (vector, eip)", f->vector, f->eip);
  if (f->vector >= 32) {
    outb(0x20, 0x20);
    if (f->vector != 32 || ++ticks < TIMEOUT_TICKS) return 0;
    res.outcome = OUT_TIMEOUT;
  } else if (f->vector == 6 && f->eip == end_eip) {
    res.outcome = OUT_COMPLETED;
  } else {
    res.outcome = OUT_EXCEPTION;
    res.vector = (uint8_t)f->vector;
    if (HAS_ERROR >> f->vector & 1) res.err = f->err;
    if (f->vector == 14) __asm__ volatile("mov %%cr2, %0" : "=r"(res.cr2));
  }
  res.eip = f->eip;
  res.eflags = f->eflags;
  const uint32_t g[8] = {f->eax, f->ecx, f->edx, f->ebx, f->esp, f->ebp, f->esi, f->edi};
  memcpy_(res.gpr, g, sizeof g);
  __asm__ volatile("fxsave %0; fninit" : "=m"(out_fx));
  return 1;
}

extern void run_case(void);

static const uint8_t *in, *in_end;
static const uint8_t *take(uint32_t n) {
  if ((uint32_t)(in_end - in) < n) fatal("truncated case stream (offset, wanted)", (uint32_t)in, n);
  const uint8_t *p = in;
  in += n;
  return p;
}
static uint32_t rd16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static int block_eq(const uint8_t *a, const uint8_t *b) { // 64 bytes, 4-byte aligned
  const uint32_t *x = (const uint32_t *)a, *y = (const uint32_t *)b;
  for (int i = 0; i < 16; i++) if (x[i] != y[i]) return 0;
  return 1;
}

// The window as the case started (pristine + patches): runs are sent relative to it, so patched bytes
// the case did not change are not echoed back (the decoder re-applies the patches).
static uint8_t start_mem[WINDOW_SIZE] __attribute__((aligned(64)));

static void emit_window_diff(const uint8_t *pristine) {
  static uint32_t run_off[WINDOW_SIZE / 2], run_len[WINDOW_SIZE / 2];
  uint32_t runs = 0, i = 0;
  while (i < WINDOW_SIZE) {
    if ((i & 63) == 0 && block_eq(window_mem + i, start_mem + i)) { i += 64; continue; }
    if (window_mem[i] == start_mem[i]) { i++; continue; }
    uint32_t j = i;
    while (j < WINDOW_SIZE && window_mem[j] != start_mem[j]) j++;
    run_off[runs] = i;
    run_len[runs++] = j - i;
    i = j;
  }
  put32(runs);
  for (uint32_t r = 0; r < runs; r++) {
    put32(run_off[r]);
    put32(run_len[r]);
    put(window_mem + run_off[r], run_len[r]);
    memcpy_(window_mem + run_off[r], pristine + run_off[r], run_len[r]);
  }
}

struct mb_info { uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr; };
struct mb_module { uint32_t start, end, string, reserved; };

void runner_main(uint32_t magic, struct mb_info *mbi) {
  outb(0x3f9, 0); // COM1: no interrupts; QEMU needs no baud setup
  if (magic != 0x2badb002 || !(mbi->flags & 8) || mbi->mods_count < 1) fatal("no multiboot module (magic, flags)", magic, mbi->flags);
  struct mb_module *mod = (struct mb_module *)mbi->mods_addr;
  in = (const uint8_t *)mod->start;
  in_end = (const uint8_t *)mod->end;
  if (mod->end > 32u << 22) fatal("module beyond the identity map (end, 0)", mod->end, 0);
  setup_tables();
  // Results go after the module, up to the end of the identity map (128 MiB).
  out_buf = out_pos = (uint8_t *)((mod->end + 4095) & ~4095u);
  out_limit = (uint8_t *)(32u << 22) - 4096;
  put32(0);
  put32(0);
  const uint8_t *hdr = take(8);
  if (!memeq(hdr, "DX01", 4) || rd32(hdr + 4) != WINDOW_SIZE) fatal("bad stream header", rd32(hdr), rd32(hdr + 4));
  const uint8_t *pristine = take(WINDOW_SIZE);
  memcpy_(window_mem, pristine, WINDOW_SIZE);
  memcpy_(start_mem, pristine, WINDOW_SIZE);
  __asm__ volatile("fninit");

  while (in < in_end) {
    const uint8_t *h = take(8);
    uint32_t code_len = rd16(h), patches = rd16(h + 2), bitness = rd16(h + 4);
    if (bitness != 32 && bitness != 16) fatal("only 32- and 16-bit cases run here (bitness, 0)", bitness, 0);
    if (code_len > CODE_SIZE - 2) fatal("code too long", code_len, 0);
    memset_(code_mem, 0, CODE_SIZE);
    memcpy_(code_mem, take(code_len), code_len);
    code_mem[code_len] = 0x0f; // UD2 marks the end of the case
    code_mem[code_len + 1] = 0x0b;
    // 16-bit cases: CS is the 16-bit code segment based at the code page, every data segment and SS
    // the 64 KiB segment based at the window (offsets instead of linear addresses).
    case_eip = bitness == 16 ? 0 : CODE_BASE;
    case_cs = bitness == 16 ? 0x33 : 0x1b;
    case_ds = bitness == 16 ? 0x3b : 0x23;
    end_eip = case_eip + code_len;
    const uint8_t *st = take(16 * 8 + 8 + 4 + 16 * 16);
    for (int i = 0; i < 8; i++) case_in[i] = rd32(st + 8 * i);
    case_in[8] = (rd32(st + 128) & 0xcd5) | 0x202; // arithmetic flags and DF; IF=1 as for a user process
    uint32_t mxcsr = rd32(st + 136);
    const uint8_t *xmm_in = st + 140;
    // FXRSTOR image: the FNINIT x87 state (FCW 0x37F, all empty), the case's MXCSR and XMM0..7.
    memset_(case_fx, 0, sizeof case_fx);
    case_fx[0] = 0x7f;
    case_fx[1] = 0x03;
    memcpy_(case_fx + 24, &mxcsr, 4);
    memcpy_(case_fx + 160, xmm_in, 8 * 16);
    const uint8_t *patch_list = in;
    for (uint32_t p = 0; p < patches; p++) {
      const uint8_t *ph = take(6);
      uint32_t off = rd32(ph), len = rd16(ph + 4);
      if (off + len > WINDOW_SIZE) fatal("patch outside the window", off, len);
      const uint8_t *bytes = take(len);
      memcpy_(window_mem + off, bytes, len);
      memcpy_(start_mem + off, bytes, len);
    }
    const uint8_t *patch_end = in;
    memset_(&res, 0, sizeof res);
    ticks = 0;
    // The code page changed behind QEMU's back only through its physical alias, which QEMU tracks;
    // the TLB needs no flush because no mapping changed.
    run_case();

    uint8_t xmm_mask = 0;
    for (int i = 0; i < 8; i++) if (!memeq(out_fx + 160 + 16 * i, xmm_in + 16 * i, 16)) xmm_mask |= 1 << i;
    uint8_t head[4] = {res.outcome, res.vector, xmm_mask, 0};
    put(head, 4);
    uint32_t mx_out;
    memcpy_(&mx_out, out_fx + 24, 4);
    uint32_t words[5] = {res.err, res.cr2, res.eip, res.eflags, mx_out};
    put(words, sizeof words);
    put(res.gpr, sizeof res.gpr);
    for (int i = 0; i < 8; i++) if (xmm_mask >> i & 1) put(out_fx + 160 + 16 * i, 16);
    emit_window_diff(pristine);
    // Undo the patches (the runs above restored what the case wrote).
    for (const uint8_t *p = patch_list; p < patch_end; ) {
      uint32_t off = rd32(p), len = rd16(p + 4);
      memcpy_(window_mem + off, pristine + off, len);
      memcpy_(start_mem + off, pristine + off, len);
      p += 6 + len;
    }
  }
  put("DXEND", 5);
  flush_results();
  serial_put("DXEND", 5);
  finish(0);
}

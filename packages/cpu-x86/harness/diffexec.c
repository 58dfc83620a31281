// diffexec: run x86-64 instruction cases natively, for differential testing of the interpreter.
//
// stdin:  "DX01" u32 windowSize, window bytes (the pristine data window), then cases until EOF:
//           u16 codeLen, u16 patchCount, u16 bitness (64, or 32: compatibility mode), u16 0,
//           code bytes, state, patches (u32 offset, u16 len, bytes)
// stdout: per case: u8 outcome, u8 vector, u16 0, u32 errorCode, u64 faultAddress, u64 rip, state,
//           u32 runCount, runs (u32 offset, u32 len, final bytes) where the window differs from pristine
// state:  16 x u64 GPR (RAX..R15), u64 RFLAGS, u32 MXCSR, 16 x 16 bytes XMM0..15 (396 bytes)
//
// The code page holds the case bytes followed by UD2. Every case ends in a signal: the UD2 at the end
// (outcome 0, completed) or a fault inside the case (outcome 1, with the hardware vector Linux reports
// in the signal context). The handler reads the final state from the ucontext and siglongjmps back.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/ldt.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#define WINDOW_BASE 0x10000000UL
#define WINDOW_SIZE 0x10000UL
#define CODE_BASE (WINDOW_BASE + WINDOW_SIZE)
#define CODE_SIZE 0x1000UL
// Reserved (PROT_NONE) space around the window and code page, so "unmapped" test addresses are ours.
#define GUARD_LO (WINDOW_BASE - 0x10000UL)
#define GUARD_HI (CODE_BASE + 0x10000UL)

enum { OUT_COMPLETED = 0, OUT_EXCEPTION = 1, OUT_TIMEOUT = 2 };

struct state {
  uint64_t gpr[16];
  uint64_t rflags;
  uint32_t mxcsr;
  uint8_t xmm[16][16];
} __attribute__((packed));

// Read by the entry trampoline with RIP-relative addressing (no register is free at that point).
struct state de_in; // offsets used by de_enter: gpr 0, rflags 128, mxcsr 136, xmm 140
_Static_assert(sizeof(struct state) == 396, "state layout");
uint64_t de_code_entry = CODE_BASE;
// m16:32 far pointer for 32-bit cases, which run in compatibility mode: a flat 32-bit code segment we
// put in the LDT (Linux's own __USER32_CS, 0x23, when modify_ldt is unavailable; some hypervisor
// kernels reject a far jump to it).
struct __attribute__((packed)) { uint32_t offset; uint16_t selector; } de_far32 = {CODE_BASE, 0x23};
void de_compat(void);
static uint8_t tramp_stack[4096] __attribute__((aligned(16)));
uint8_t *de_tramp_stack_top = tramp_stack + sizeof tramp_stack;

struct result {
  uint8_t outcome, vector;
  uint32_t error_code;
  uint64_t fault_address, rip;
  struct state st;
};

static struct result res;
static sigjmp_buf env;
static volatile sig_atomic_t in_case;
static volatile uint32_t case_serial, watchdog_seen, watchdog_ticks;
static uint8_t *window;      // WINDOW_BASE
static uint8_t *code_rw;     // writable alias of the code page
static uint8_t *pristine;

void de_enter(void) __attribute__((noreturn));
__asm__(
    ".text\n.globl de_enter\nde_enter:\n"
    "  ldmxcsr de_in+136(%rip)\n"
    "  movdqu de_in+140(%rip), %xmm0\n  movdqu de_in+156(%rip), %xmm1\n"
    "  movdqu de_in+172(%rip), %xmm2\n  movdqu de_in+188(%rip), %xmm3\n"
    "  movdqu de_in+204(%rip), %xmm4\n  movdqu de_in+220(%rip), %xmm5\n"
    "  movdqu de_in+236(%rip), %xmm6\n  movdqu de_in+252(%rip), %xmm7\n"
    "  movdqu de_in+268(%rip), %xmm8\n  movdqu de_in+284(%rip), %xmm9\n"
    "  movdqu de_in+300(%rip), %xmm10\n  movdqu de_in+316(%rip), %xmm11\n"
    "  movdqu de_in+332(%rip), %xmm12\n  movdqu de_in+348(%rip), %xmm13\n"
    "  movdqu de_in+364(%rip), %xmm14\n  movdqu de_in+380(%rip), %xmm15\n"
    "  movq de_tramp_stack_top(%rip), %rsp\n"
    "  pushq de_in+128(%rip)\n  popfq\n"
    "  movq de_in+0(%rip), %rax\n  movq de_in+8(%rip), %rcx\n  movq de_in+16(%rip), %rdx\n"
    "  movq de_in+24(%rip), %rbx\n  movq de_in+40(%rip), %rbp\n  movq de_in+48(%rip), %rsi\n"
    "  movq de_in+56(%rip), %rdi\n  movq de_in+64(%rip), %r8\n  movq de_in+72(%rip), %r9\n"
    "  movq de_in+80(%rip), %r10\n  movq de_in+88(%rip), %r11\n  movq de_in+96(%rip), %r12\n"
    "  movq de_in+104(%rip), %r13\n  movq de_in+112(%rip), %r14\n  movq de_in+120(%rip), %r15\n"
    "  movq de_in+32(%rip), %rsp\n"
    // Flags are loaded: only flag-neutral instructions from here. de_code_entry is the case itself
    // (64-bit) or de_compat, which far-jumps to it through the 32-bit code segment.
    "  jmp *de_code_entry(%rip)\n"
    ".globl de_compat\nde_compat:\n"
    "  ljmpl *de_far32(%rip)\n");

static const int greg_index[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                   REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};

static void capture(ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  for (int i = 0; i < 16; i++) res.st.gpr[i] = (uint64_t)g[greg_index[i]];
  res.st.rflags = (uint64_t)g[REG_EFL];
  res.rip = (uint64_t)g[REG_RIP];
  struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
  res.st.mxcsr = fp->mxcsr;
  memcpy(res.st.xmm, fp->_xmm, sizeof res.st.xmm);
}

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  if (!in_case) { // a bug in the harness itself: die loudly
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  // Linux delivers the signal with the case's EFLAGS.AC still set: clear it before any harness code
  // (glibc's misaligned accesses would raise #AC, CR0.AM being set).
  __asm__ volatile("pushfq\n  andq $~0x40000, (%%rsp)\n  popfq" ::: "cc", "memory");
  ucontext_t *uc = ctx;
  in_case = 0;
  capture(uc);
  greg_t *g = uc->uc_mcontext.gregs;
  int trapno = (int)g[REG_TRAPNO];
  res.vector = (uint8_t)trapno;
  res.error_code = (uint32_t)g[REG_ERR];
  res.fault_address = trapno == 14 ? (uint64_t)si->si_addr : 0;
  res.outcome = OUT_EXCEPTION;
  siglongjmp(env, 1);
}

// SIGVTALRM every 100 ms of user CPU time (not wall time, so a busy machine cannot trip it): a case
// still running after two ticks is stuck (a loop the generator let through).
static void on_alarm(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  __asm__ volatile("pushfq\n  andq $~0x40000, (%%rsp)\n  popfq" ::: "cc", "memory"); // as in on_fault
  if (!in_case) return;
  if (watchdog_seen != case_serial) { watchdog_seen = case_serial; watchdog_ticks = 0; return; }
  if (++watchdog_ticks < 2) return;
  in_case = 0;
  capture(ctx);
  res.outcome = OUT_TIMEOUT;
  siglongjmp(env, 1);
}

static void die(const char *msg) { fprintf(stderr, "diffexec: %s\n", msg); exit(2); }

static void read_exact(void *p, size_t n) {
  if (fread(p, 1, n, stdin) != n) die("truncated input");
}

static void setup(void) {
  if (mmap((void *)GUARD_LO, GUARD_HI - GUARD_LO, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0) != (void *)GUARD_LO)
    die("cannot reserve the window area");
  window = mmap((void *)WINDOW_BASE, WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (window != (void *)WINDOW_BASE) die("cannot map the window");
  // The code page is read+execute for the case; the harness writes it through a second mapping.
  int fd = memfd_create("diffexec-code", 0);
  if (fd < 0 || ftruncate(fd, CODE_SIZE) != 0) die("memfd");
  code_rw = mmap(NULL, CODE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (code_rw == MAP_FAILED) die("code alias");
  if (mmap((void *)CODE_BASE, CODE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) != (void *)CODE_BASE)
    die("cannot map the code page");

  struct user_desc code32;
  memset(&code32, 0, sizeof code32);
  code32.limit = 0xfffff;
  code32.limit_in_pages = 1;
  code32.seg_32bit = 1;
  code32.contents = 2; // code, non-conforming
  code32.useable = 1;
  if (syscall(SYS_modify_ldt, 1, &code32, sizeof code32) == 0) de_far32.selector = 0x7; // LDT entry 0, RPL 3

  static uint8_t altstack[1 << 16];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) die("sigaltstack");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  // SA_NODEFER: we leave the handler with siglongjmp and never restore a mask, so none may be added.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sa.sa_sigaction = on_fault;
  int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) != 0) die("sigaction");
  sa.sa_sigaction = on_alarm;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  if (sigaction(SIGVTALRM, &sa, NULL) != 0) die("sigaction alarm");
  struct itimerval it = {{0, 100000}, {0, 100000}};
  setitimer(ITIMER_VIRTUAL, &it, NULL);
}

static void put(const void *p, size_t n) {
  if (fwrite(p, 1, n, stdout) != n) die("write failed");
}

// Emit the runs where the window differs from pristine, and restore those bytes for the next case.
static void emit_window_diff(void) {
  static uint32_t run_off[WINDOW_SIZE / 2], run_len[WINDOW_SIZE / 2];
  uint32_t runs = 0;
  size_t i = 0;
  while (i < WINDOW_SIZE) {
    if ((i & 63) == 0 && memcmp(window + i, pristine + i, 64) == 0) { i += 64; continue; }
    if (window[i] == pristine[i]) { i++; continue; }
    size_t j = i;
    while (j < WINDOW_SIZE && window[j] != pristine[j]) j++;
    run_off[runs] = (uint32_t)i;
    run_len[runs++] = (uint32_t)(j - i);
    i = j;
  }
  put(&runs, 4);
  for (uint32_t r = 0; r < runs; r++) {
    put(&run_off[r], 4);
    put(&run_len[r], 4);
    put(window + run_off[r], run_len[r]);
    memcpy(window + run_off[r], pristine + run_off[r], run_len[r]);
  }
}

int main(void) {
  static char inbuf[1 << 20], outbuf[1 << 20];
  setvbuf(stdin, inbuf, _IOFBF, sizeof inbuf);
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  char magic[4];
  uint32_t wsize;
  read_exact(magic, 4);
  if (memcmp(magic, "DX01", 4) != 0) die("bad magic");
  read_exact(&wsize, 4);
  if (wsize != WINDOW_SIZE) die("window size mismatch");
  setup();
  pristine = malloc(WINDOW_SIZE);
  read_exact(pristine, WINDOW_SIZE);
  memcpy(window, pristine, WINDOW_SIZE);

  uint16_t hdr[4];
  while (fread(hdr, 1, 8, stdin) == 8) {
    uint16_t code_len = hdr[0], patches = hdr[1], bitness = hdr[2];
    if (bitness != 64 && bitness != 32) die("bitness must be 32 or 64");
    de_code_entry = bitness == 32 ? (uint64_t)(uintptr_t)de_compat : CODE_BASE;
    if (code_len > CODE_SIZE - 2) die("code too long");
    memset(code_rw, 0, CODE_SIZE);
    read_exact(code_rw, code_len);
    code_rw[code_len] = 0x0f; // UD2 marks the end of the case
    code_rw[code_len + 1] = 0x0b;
    read_exact(&de_in, sizeof de_in);
    for (unsigned p = 0; p < patches; p++) {
      uint32_t off;
      uint16_t len;
      read_exact(&off, 4);
      read_exact(&len, 2);
      if ((uint64_t)off + len > WINDOW_SIZE) die("patch outside the window");
      read_exact(window + off, len);
    }
    memset(&res, 0, sizeof res);
    case_serial++;
    if (sigsetjmp(env, 0) == 0) {
      in_case = 1;
      de_enter();
    }
    if (res.outcome == OUT_EXCEPTION && res.vector == 6 && res.rip == CODE_BASE + code_len) {
      res.outcome = OUT_COMPLETED;
      res.vector = 0;
      res.error_code = 0;
    }
    uint8_t head[24] = {res.outcome, res.vector, 0, 0};
    memcpy(head + 4, &res.error_code, 4);
    memcpy(head + 8, &res.fault_address, 8);
    memcpy(head + 16, &res.rip, 8);
    put(head, sizeof head);
    put(&res.st, sizeof res.st);
    emit_window_diff();
  }
  fflush(stdout);
  return 0;
}

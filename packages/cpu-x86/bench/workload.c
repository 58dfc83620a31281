/* Fixed CPU benchmark workload: integer loops, calls, memory traffic, string ops and SSE math
 * (-DTIGHT: a register-only integer loop instead). Booted like a multiboot kernel: built -m64 it
 * switches to long mode with 2 MiB pages; built -m32 it stays in flat protected mode without paging.
 * Prints a checksum and exits. */
typedef unsigned long long u64; typedef unsigned int u32; typedef unsigned char u8; typedef unsigned short u16;
#ifdef HOST
#include <stdio.h>
static void putch(char c) { putchar(c); }
static void finish(void) { fflush(stdout); }
#define memset my_memset
#define memcpy my_memcpy
#else
static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outw(u16 p, u16 v) { __asm__ volatile("outw %0,%1" :: "a"(v), "Nd"(p)); }
static void putch(char c) { outb(0x3f8, c); }
static void finish(void) { outw(0x501, 41); for (;;) __asm__ volatile("cli; hlt"); }
#endif
static void putx(u64 v) { for (int s = 60; s >= 0; s -= 4) putch("0123456789abcdef"[(v >> s) & 15]); }
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }

static u8 buf[16384];
static u8 sieve[65536];
static int arr[512];
static double ma[24][24], mb[24][24], mc[24][24];

static u32 crc32(const u8 *p, int n) {
  u32 c = 0xffffffff;
  for (int i = 0; i < n; i++) { c ^= p[i]; for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320 & -(c & 1)); }
  return ~c;
}
static int primes(void) {
  int n = 0;
  memset(sieve, 1, sizeof sieve);
  for (int i = 2; i < (int)sizeof sieve; i++) if (sieve[i]) { n++; for (int j = i * 2; j < (int)sizeof sieve; j += i) sieve[j] = 0; }
  return n;
}
static void sort(int *a, int n) { for (int i = 1; i < n; i++) { int k = a[i], j = i - 1; while (j >= 0 && a[j] > k) { a[j + 1] = a[j]; j--; } a[j + 1] = k; } }
static double matmul(void) {
  for (int i = 0; i < 24; i++) for (int j = 0; j < 24; j++) { double s = 0; for (int k = 0; k < 24; k++) s += ma[i][k] * mb[k][j]; mc[i][j] = s; }
  double t = 0; for (int i = 0; i < 24; i++) t += mc[i][i]; return t;
}
static u64 fib(int n) { return n < 2 ? (u64)n : fib(n - 1) + fib(n - 2); }

#ifdef TIGHT
/* Tight integer loop: register-only xorshift, one load and one store per iteration. */
static volatile u32 sink;
void kmain(void) {
  u64 sum = 0;
  u32 x = 2463534242u;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < 100000; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; sum += x ^ (u32)i; }
    sink = x;
  }
  putx(sum); putch('\n');
  finish();
}
#else
void kmain(void) {
  u64 sum = 0, seed = 12345;
  for (int i = 0; i < 24; i++) for (int j = 0; j < 24; j++) { ma[i][j] = (i + 1) * 0.5 + j; mb[i][j] = (j - i) * 0.25; }
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < (int)sizeof buf; i++) { seed = seed * 6364136223846793005ull + 1442695040888963407ull; buf[i] = (u8)(seed >> 33); }
    sum += crc32(buf, 4096);
    sum += primes();
    for (int i = 0; i < 512; i++) { seed = seed * 6364136223846793005ull + 1; arr[i] = (int)(seed >> 40); }
    sort(arr, 512);
    sum += (u64)arr[7] + (u64)arr[500];
    sum += (u64)(matmul() * 1000.0);
    sum += fib(18);
    sum = (sum << 7) ^ (sum >> 3) ^ (u64)round;
  }
  putx(sum); putch('\n');
  finish();
}
#endif
#ifdef HOST
int main(void) { kmain(); return 0; }
#elif defined(__i386__)
/* 32-bit protected mode, flat segments from the multiboot entry, no paging; SSE enabled for -mfpmath=sse. */
__asm__(
  ".section .text.entry,\"ax\"\n"
  ".globl _start\n_start:\n"
  "  mov $0x80000, %esp\n"
  "  mov %cr4, %eax\n  or $0x600, %eax\n  mov %eax, %cr4\n"   /* OSFXSR | OSXMMEXCPT */
  "  mov %cr0, %eax\n  and $0xfffffffb, %eax\n  or $2, %eax\n  mov %eax, %cr0\n" /* MP, !EM */
  "  call kmain\n"
  ".previous\n");
#else

#include "../test/unit/fixtures/longmode-entry.h"
#endif

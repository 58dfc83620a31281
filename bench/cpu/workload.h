/* The CPU benchmark workload: a fixed mix of integer kernels, deterministic, no libc.
 * The same source is built three ways (32-bit multiboot kernel, 64-bit long-mode
 * kernel, native host program) and must print the same checksums on all three. */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

/* Default number of rounds when the command line gives no n=. */
#define WORKLOAD_DEFAULT_ROUNDS 4

/* Where the workload writes its report (a serial port, or stdout natively). */
typedef void (*put_char_fn)(char c);

/* Runs the kernels named in `args` ("n=<rounds> [kernel...]"; no kernel names = all)
 * and prints one line per kernel plus the combined checksum. Returns 0, or 1 when the
 * arguments name an unknown kernel. */
int workload_main(const char *args, put_char_fn put);

#endif

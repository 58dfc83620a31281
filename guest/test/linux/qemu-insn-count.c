/*
 * A QEMU TCG plugin that counts guest instructions executed (all vCPUs), so a QEMU boot can be
 * compared with Unimachine's retired-instruction count. It needs only QEMU's stable plugin ABI
 * (version 1, QEMU 7.2; Debian ships no qemu-plugin.h, so the few entry points are declared here).
 * SIGUSR2 prints "qemu-insn-count: N" on stderr; so does QEMU's exit.
 *   gcc -shared -fPIC -O2 -o qemu-insn-count.so qemu-insn-count.c
 *   qemu-system-x86_64 -plugin ./qemu-insn-count.so ...
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef uint64_t plugin_id;
struct qemu_plugin_tb;
/* enum qemu_plugin_op: the only inline operation, 64-bit add. */
#define INLINE_ADD_U64 0

extern void qemu_plugin_register_vcpu_tb_trans_cb(plugin_id id, void (*cb)(plugin_id, struct qemu_plugin_tb *));
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr, uint64_t imm);
extern void qemu_plugin_register_atexit_cb(plugin_id id, void (*cb)(plugin_id, void *), void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* Whole blocks are counted when they start: a block cut short by an exception counts in full. */
static volatile uint64_t executed;

static void on_translate(plugin_id id, struct qemu_plugin_tb *tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, (void *)&executed, qemu_plugin_tb_n_insns(tb));
}

static void report(void) {
  char line[64];
  int n = snprintf(line, sizeof line, "qemu-insn-count: %llu\n", (unsigned long long)executed);
  if (write(2, line, (size_t)n) < 0) return;
}

static void on_signal(int sig) {
  (void)sig;
  report();
}

static void on_exit_cb(plugin_id id, void *p) {
  (void)id;
  (void)p;
  report();
}

__attribute__((visibility("default"))) int qemu_plugin_install(plugin_id id, const void *info, int argc, char **argv) {
  (void)info;
  (void)argc;
  (void)argv;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR2, &sa, NULL);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}

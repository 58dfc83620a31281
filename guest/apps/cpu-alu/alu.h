/* cpu-alu runs the same cases in the guest and, as a check of the expected
 * output, natively on the host CPU (test/host-alu.c). */
#ifndef ALU_H
#define ALU_H
#include <stdint.h>

/* Prints one line; the guest maps it to um_printf, the host to printf. */
void alu_print(const char *name, uint64_t count, uint64_t hash);
void alu_run_all(void);

#endif

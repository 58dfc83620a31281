/* The long-mode descriptor tables: GDT (kernel and user segments, TSS), the
 * TSS with IST stacks for #DF and NMI, and the IDT. */
#include "base.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

struct __attribute__((packed)) table_register {
	uint16_t limit;
	uint64_t base;
};

/* Selector order matters for SYSCALL/SYSRET: STAR[47:32] = UM_KERNEL_CS (SS = +8),
 * STAR[63:48] = UM_USER_CS32 (SYSRET to 64-bit loads SS = +8, CS = +16). */
static uint64_t gdt[11] __attribute__((aligned(16))) = {
	0,
	0x00AF9A000000FFFFull, /* 0x08 kernel code, 64-bit */
	0x00CF92000000FFFFull, /* 0x10 kernel data */
	0x00CFFA000000FFFFull, /* 0x18 user code, 32-bit (compatibility mode) */
	0x00CFF2000000FFFFull, /* 0x20 user data */
	0x00AFFA000000FFFFull, /* 0x28 user code, 64-bit */
	0, 0,                  /* 0x30 TSS: 16-byte system descriptor, filled in at run time */
	0x00CF9A000000FFFFull, /* 0x40 kernel code, 32-bit (compatibility mode tests) */
	0x00009A000000FFFFull, /* 0x48 kernel code, 16-bit, 64 KiB (real-mode round trip) */
	0x000092000000FFFFull, /* 0x50 data, 16-bit, 64 KiB (real-mode round trip) */
};

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));

static uint8_t kernel_stack[16384] __attribute__((aligned(16)));   /* TSS.RSP0: entries from ring 3 */
static uint8_t double_fault_stack[8192] __attribute__((aligned(16)));
static uint8_t nmi_stack[8192] __attribute__((aligned(16)));

void idt_set_gate(int vector, void (*handler)(void), int ist, int dpl)
{
	uint64_t addr = (uint64_t)handler;
	struct idt_gate *g = &idt[vector];
	g->offset_low = (uint16_t)addr;
	g->selector = UM_KERNEL_CS;
	g->ist = (uint8_t)ist;
	g->type_attr = (uint8_t)(0x80 | (dpl << 5) | 0x0E); /* present, 64-bit interrupt gate */
	g->offset_mid = (uint16_t)(addr >> 16);
	g->offset_high = (uint32_t)(addr >> 32);
	g->reserved = 0;
}

static void tss_descriptor_init(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof tss - 1;
	gdt[UM_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
			   (0x89ull << 40) /* present, available 64-bit TSS */ |
			   (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[UM_TSS / 8 + 1] = base >> 32;
}

void cpu_tables_init(void)
{
	tss.rsp[0] = (uint64_t)(kernel_stack + sizeof kernel_stack);
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(double_fault_stack + sizeof double_fault_stack);
	tss.ist[IST_NMI - 1] = (uint64_t)(nmi_stack + sizeof nmi_stack);
	tss.iomap_base = sizeof tss; /* no I/O permission bitmap */
	tss_descriptor_init();

	struct table_register gdtr = { sizeof gdt - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"             /* reload CS from the new table */
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3\n\t"
		:
		: "m"(gdtr), "i"(UM_KERNEL_CS), "i"(UM_KERNEL_DS), "r"((uint16_t)UM_TSS)
		: "rax", "memory");

	for (int v = 0; v < 48; v++)
		idt_set_gate(v, (void (*)(void))isr_stub_table[v], 0, 0);
	idt_set_gate(2, (void (*)(void))isr_stub_table[2], IST_NMI, 0);
	idt_set_gate(8, (void (*)(void))isr_stub_table[8], IST_DOUBLE_FAULT, 0);

	struct table_register idtr = { sizeof idt - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

void um_idt_set_attributes(int vector, int ist, int dpl)
{
	if (vector >= 0 && vector < 48)
		idt_set_gate(vector, (void (*)(void))isr_stub_table[vector], ist, dpl);
}

uint64_t um_ist_stack_top(int ist)
{
	return ist == IST_DOUBLE_FAULT ? tss.ist[IST_DOUBLE_FAULT - 1] : ist == IST_NMI ? tss.ist[IST_NMI - 1] : 0;
}

uint64_t um_rsp0_stack_top(void)
{
	return tss.rsp[0];
}

/* cpu-tasks32: hardware task switches (see tasks.S). */
#include <um32.h>

extern uint64_t gdt_tss_a, gdt_tss_b, gdt_tss_c, idt[256];
extern uint8_t tss_a[0x68], tss_b[0x68], tss_c[0x68];
extern uint32_t results[21];
extern char task_b_entry[], task_b_stack_top[], task_c_entry[], task_c_stack_top[], ts_recorder_entry[], kint_entry[];

static uint64_t int_gate(uint16_t sel, void *handler, uint8_t attr)
{
	uint32_t h = (uint32_t)handler;
	return (h & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)attr << 40) | ((uint64_t)(h >> 16) << 48);
}
void run_tasks(void);

static uint64_t tss_descriptor(void *tss)
{
	uint32_t base = (uint32_t)tss;
	return 0x67 | ((uint64_t)(base & 0xffffff) << 16) | (0x89ull << 40) | ((uint64_t)(base >> 24) << 56);
}

static void put32(uint8_t *tss, int off, uint32_t v)
{
	*(volatile uint32_t *)(tss + off) = v;
}

static void init_task(uint8_t *tss, char *eip, char *esp)
{
	put32(tss, 0x20, (uint32_t)eip);
	put32(tss, 0x24, 0x2);                         /* EFLAGS */
	put32(tss, 0x38, (uint32_t)esp);
	put32(tss, 0x48, 0x10);                        /* ES */
	put32(tss, 0x4c, 0x08);                        /* CS */
	put32(tss, 0x50, 0x10);                        /* SS */
	put32(tss, 0x54, 0x10);                        /* DS */
	put32(tss, 0x58, 0x10);                        /* FS */
	put32(tss, 0x5c, 0x10);                        /* GS */
}

static void line(const char *what, uint32_t v)
{
	um32_puts(what);
	um32_put_hex(v, 8);
	um32_putc('\n');
}

int app32_main(const char *args)
{
	(void)args;
	gdt_tss_a = tss_descriptor(tss_a);
	gdt_tss_b = tss_descriptor(tss_b);
	gdt_tss_c = tss_descriptor(tss_c);
	init_task(tss_b, task_b_entry, task_b_stack_top);
	init_task(tss_c, task_c_entry, task_c_stack_top);
	put32(tss_b, 0x28, 0x1234);                    /* EAX */
	idt[0x40] = 0x0000850000200000ull;             /* task gate -> B */
	idt[13] = 0x0000850000300000ull;               /* task gate -> C */
	idt[10] = int_gate(0x48, ts_recorder_entry, 0x8e); /* #TS: conforming, stays at CPL 3 */
	idt[0x41] = int_gate(0x08, kint_entry, 0xee);   /* DPL 3 gate to ring 0 */
	run_tasks();
	line("B: EAX from its TSS ", results[0]);
	line("B: TR ", results[1] & 0xffff);
	line("B: EFLAGS.NT after CALL ", (results[2] >> 14) & 1);
	line("B: back link ", results[3]);
	line("A: EBX after IRET from B ", results[4]);
	line("A: CR0.TS after the switches ", (results[5] >> 3) & 1);
	line("A: TSS A type after CALL/IRET ", (results[6] >> 8) & 0xf);
	line("A: TSS B type after IRET ", (results[7] >> 8) & 0xf);
	line("B: ESP at second entry is top-", (uint32_t)task_b_stack_top - results[8]);
	line("B: EFLAGS.NT after JMP ", (results[9] >> 14) & 1);
	line("B: TSS A type after JMP ", (results[10] >> 8) & 0xf);
	line("A: EBX after JMP back ", results[11]);
	line("B via IDT task gate: EFLAGS.NT ", (results[12] >> 14) & 1);
	line("B via IDT task gate: back link ", results[13]);
	line("C: #GP error code ", results[15]);
	line("C: A faulted at a MOV to DS (8E D8): ", *(uint16_t *)results[16] == 0xd88e);
	line("ring 3 INT n, SS0 null: #TS error ", results[17]);
	line("ring 3 INT n, SS0 RPL 3: #TS error ", results[18]);
	line("ring 3 INT n, SS0 DPL 3: #TS error ", results[19]);
	line("ring 3 INT n, SS0 good: #TS error ", results[20]);
	return 0;
}

/* exceptions: triggers the CPU exception named on the command line and lets the
 * base's handler report it. The handler ends the run, so the test boots this app
 * once per exception; each exits with UM_EXIT_EXCEPTION_BASE + vector. */
#include <unimachine.h>

/* Each trigger is a labelled instruction so the app can print the RIP the
 * handler must report (the expected output ties the two together). */
extern const char fault_de[], fault_ud[], fault_pf[], fault_gp[], after_bp[];

__attribute__((noinline)) static void trigger(const char *which)
{
	if (!strcmp(which, "de"))
		__asm__ volatile("xorl %%edx, %%edx\n\txorl %%ecx, %%ecx\n\tmovl $1, %%eax\n"
				 ".globl fault_de\nfault_de:\n\tdivl %%ecx" ::: "rax", "rcx", "rdx");
	else if (!strcmp(which, "ud"))
		__asm__ volatile(".globl fault_ud\nfault_ud:\n\tud2");
	else if (!strcmp(which, "pf")) /* read through a null pointer: page 0 is not mapped */
		__asm__ volatile("xorl %%eax, %%eax\n.globl fault_pf\nfault_pf:\n\tmovq (%%rax), %%rax" ::: "rax");
	else if (!strcmp(which, "gp")) /* non-canonical address */
		__asm__ volatile("movabsq $0x8000000000000000, %%rax\n.globl fault_gp\nfault_gp:\n\tmovq (%%rax), %%rax" ::: "rax");
	else if (!strcmp(which, "bp")) /* a trap: RIP points after INT3 */
		__asm__ volatile("int3\n.globl after_bp\nafter_bp:\n\tnop");
	else if (!strcmp(which, "df"))
		/* Stack in the unmapped page 0: delivering #UD faults (#PF), delivering
		 * that #PF faults again, which is a double fault (taken on its IST stack). */
		__asm__ volatile("movq %%rsp, %%rbx\n\tmovq $0x800, %%rsp\n\tud2\n\tmovq %%rbx, %%rsp" ::: "rbx", "memory");
}

struct trigger_info {
	const char *arg, *name;
	const char *rip;
};

int app_main(const char *args)
{
	static const struct trigger_info triggers[] = {
		{ "de", "#DE", fault_de }, { "ud", "#UD", fault_ud }, { "pf", "#PF", fault_pf },
		{ "gp", "#GP", fault_gp }, { "bp", "#BP", after_bp }, { "df", "#DF", 0 },
	};
	for (size_t i = 0; i < sizeof triggers / sizeof triggers[0]; i++) {
		const struct trigger_info *t = &triggers[i];
		if (strcmp(args, t->arg))
			continue;
		if (t->rip)
			um_printf("exceptions: triggering %s, expect RIP %016lx\n", t->name, (unsigned long)t->rip);
		else
			um_printf("exceptions: triggering %s\n", t->name);
		trigger(args);
		um_printf("exceptions: %s was not raised\n", t->name);
		return UM_EXIT_FAILURE;
	}
	um_printf("exceptions: usage: one of de ud pf gp bp df (got \"%s\")\n", args);
	return UM_EXIT_FAILURE;
}

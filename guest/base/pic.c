/* The 8259A pair: remapped to vectors 0x20-0x2F (out of the way of CPU
 * exceptions) and fully masked; IRQs are unmasked one by one as drivers need them. */
#include "base.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI   0x20
#define PIC_READ_ISR 0x0B /* OCW3: the next command-port read returns the in-service register */
#define PIC_READ_IRR 0x0A /* OCW3: ... the interrupt request register (the power-on default) */

static uint16_t irq_mask = 0xFFFF;

void pic_init(void)
{
	outb(PIC1_CMD, 0x11);          /* ICW1: edge triggered, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_BASE);     /* ICW2: vector base */
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 0x04);         /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);         /* ICW3: slave identity 2 */
	outb(PIC1_DATA, 0x01);         /* ICW4: 8086 mode, normal EOI */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xFF);         /* OCW1: mask everything */
	outb(PIC2_DATA, 0xFF);
	irq_mask = 0xFFFF;
}

void pic_mask(int irq, int masked)
{
	if (masked)
		irq_mask |= (uint16_t)(1u << irq);
	else
		irq_mask &= (uint16_t)~(1u << irq);
	/* The slave's output reaches the master on IRQ2: open it while any slave IRQ is. */
	uint8_t master = (uint8_t)irq_mask;
	if ((irq_mask & 0xFF00) != 0xFF00)
		master &= (uint8_t)~0x04;
	else
		master |= 0x04;
	outb(PIC1_DATA, master);
	outb(PIC2_DATA, (uint8_t)(irq_mask >> 8));
}

void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

int pic_in_service(int irq)
{
	uint16_t port = irq >= 8 ? PIC2_CMD : PIC1_CMD;
	outb(port, PIC_READ_ISR);
	uint8_t isr = inb(port);
	outb(port, PIC_READ_IRR);
	return (isr >> (irq & 7)) & 1;
}

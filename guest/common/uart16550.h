/* The COM1 console both bases use: a 16550 driven by polling LSR.THRE. */
#ifndef UM_COMMON_UART16550_H
#define UM_COMMON_UART16550_H

#include "io.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding register (DLAB=0) */
#define UART_DLL 0 /* divisor latch, low byte (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch, high byte (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

/* A typical driver init: interrupts off, 115200 baud 8N1, FIFOs on and
 * cleared, DTR/RTS/OUT2 set. */
static inline void uart_init(void)
{
	outb(COM1 + UART_IER, 0x00); /* no UART interrupts: the console polls */
	outb(COM1 + UART_LCR, 0x80); /* DLAB=1 to reach the divisor latch */
	outb(COM1 + UART_DLL, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB=0 */
	outb(COM1 + UART_FCR, 0xC7); /* FIFOs on, cleared, 14-byte trigger */
	outb(COM1 + UART_MCR, 0x0B); /* DTR, RTS, OUT2 */
}

/* Waits for room in the transmitter before each byte, as a real driver must. */
static inline void uart_putc(char c)
{
	while ((inb(COM1 + UART_LSR) & LSR_THRE) == 0)
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

#endif

/* The C API the unikernel base gives its apps.
 *
 * An app provides `int app_main(const char *args)`. The base boots, sets up the
 * CPU, interrupts, clocks, console, memory and PCI, then calls it with the
 * command-line arguments (the multiboot command line without the kernel path).
 * Returning from app_main is um_exit(return value). */
#ifndef UNIMACHINE_H
#define UNIMACHINE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

int app_main(const char *args);

/* Console (COM1, 16550 at 0x3F8). */
void um_console_write(const char *buf, size_t len);
void um_puts(const char *s); /* no newline added */
/* printf subset: %d %i %u %x %X %p %s %c %%, flags '0' '-', width, length
 * modifiers l ll z. */
int um_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int um_vprintf(const char *fmt, va_list ap);
int um_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Command-line words of the form key=value: copies the value of the first
 * `key=` word into value (NUL-terminated); 0, or -1 when absent or longer
 * than capacity - 1. um_arg_u64 also parses it as a decimal number. */
int um_arg(const char *args, const char *key, char *value, size_t capacity);
int um_arg_u64(const char *args, const char *key, uint64_t *value);

/* Time. Monotonic: nanoseconds since boot, from the TSC calibrated against the
 * PIT. Wall clock: nanoseconds since 1970-01-01 UTC, the RTC read at boot plus
 * monotonic time. */
uint64_t um_monotonic_ns(void);
uint64_t um_wallclock_ns(void);
uint64_t um_tsc_hz(void);
/* Read the RTC now (1-second resolution), in seconds since the epoch. */
uint64_t um_rtc_epoch_seconds(void);
/* Halt the CPU until monotonic time reaches deadline_ns (PIT one-shot IRQ0). */
void um_yield(uint64_t deadline_ns);
/* A deadline that never comes: waits on it end only by what they wait for
 * (um_net_receive then sleeps until the device's interrupt, no timer armed). */
#define UM_FOREVER UINT64_MAX

/* Exit through QEMU's isa-debug-exit (port 0x501): the machine's exit status
 * is (code << 1) | 1. See guest/README.md for the codes. */
#define UM_EXIT_SUCCESS 0
#define UM_EXIT_FAILURE 1
#define UM_EXIT_EXCEPTION_BASE 32 /* + vector number */
__attribute__((noreturn)) void um_exit(int code);
/* Print "ABORT: msg" and exit with UM_EXIT_FAILURE. */
__attribute__((noreturn)) void um_abort(const char *msg);

/* Heap over the largest free RAM region above the kernel. */
void *um_malloc(size_t size);
void *um_calloc(size_t n, size_t size);
void um_free(void *p);
uint64_t um_heap_free_bytes(void);

/* Memory map from the multiboot info. */
struct um_mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* 1 = available RAM */
};
size_t um_memory_map(const struct um_mem_region **regions);

/* PCI (configuration mechanism #1). */
struct um_pci_device {
	uint8_t bus, slot, func;
	uint16_t vendor, device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type, irq_line;
	uint32_t bar[6];
};
size_t um_pci_devices(const struct um_pci_device **devices);
uint32_t um_pci_read32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t offset);
void um_pci_write32(uint8_t bus, uint8_t slot, uint8_t func, uint8_t offset, uint32_t value);

/* Block devices: the legacy virtio-blk PCI functions found at boot (vendor
 * 1AF4, device 1001) on any bus, in PCI order (bus, slot, function); polled
 * like Solo5's driver, one request at a time, 512-byte sectors. Transfers of
 * any length are split into requests of at most 256 KiB.
 * Read, write and flush return 0, or -1 on a bad range, a read-only device
 * (write), a device error or a timeout. */
size_t um_blk_count(void);
uint64_t um_blk_sectors(size_t dev);
int um_blk_read(size_t dev, uint64_t sector, void *buf, size_t sectors);
int um_blk_write(size_t dev, uint64_t sector, const void *buf, size_t sectors);
/* VIRTIO_BLK_T_FLUSH when the device offers VIRTIO_BLK_F_FLUSH; without it
 * the device has no write cache and this returns 0 at once. */
int um_blk_flush(size_t dev);
int um_blk_read_only(size_t dev); /* VIRTIO_BLK_F_RO */
/* The PCI function behind block device dev (0 for a bad index). */
const struct um_pci_device *um_blk_pci(size_t dev);

/* Network: the first legacy virtio-net PCI function (1AF4:1000) that offers
 * VIRTIO_NET_F_MAC. Frames are whole Ethernet frames without the FCS, at
 * most 1514 bytes. Sending queues the frame and returns (the base waits for
 * queued frames in um_exit); receiving halts until the device's interrupt
 * (INTx on the 8259) or polls when it has none. */
int um_net_present(void);
void um_net_mac(uint8_t mac[6]);
int um_net_send(const void *frame, size_t len);   /* 0, or -1 */
/* Waits until monotonic time deadline_ns (or UM_FOREVER) for a frame; returns
 * its length (truncated to capacity), or -1 when none arrived. */
int64_t um_net_receive(void *frame, size_t capacity, uint64_t deadline_ns);
struct um_net_stats {
	uint64_t rx_frames, tx_frames;
	int irq;                   /* the 8259 input receive waits on, or -1 (polled) */
	uint32_t queue_interrupts; /* interrupts whose ISR read showed a used ring */
};
void um_net_stats(struct um_net_stats *stats);

/* Exceptions: the base prints the vector, error code, CR2 and the registers,
 * then exits with UM_EXIT_EXCEPTION_BASE + vector (um_catch in um_cpu.h lets
 * a test survive one). This is the register layout its entry stubs save. */
struct um_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* as pushed by the CPU */
};

/* Small libc-style helpers (gcc may emit calls to memcpy/memset/memmove/memcmp). */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif

/* The memory map from the multiboot info, and a first-fit heap over the
 * largest free RAM region above the kernel image. */
#include "base.h"
#include "../common/multiboot.h"

#define MAX_REGIONS   32
#define IDENTITY_MAPPED_LIMIT 0x100000000ull /* boot.S maps the first 4 GiB */
#define HEAP_ALIGN 16

extern char __image_end[];

static struct um_mem_region regions[MAX_REGIONS];
static size_t region_count;

/* Heap: a bump pointer plus a free list of returned blocks (first fit, no
 * coalescing); each block carries its size in a 16-byte header. */
struct block {
	uint64_t size; /* payload bytes */
	struct block *next_free;
};
static uint8_t *heap_next, *heap_end;
static struct block *free_list;

static void add_region(uint64_t base, uint64_t length, uint32_t type)
{
	if (region_count < MAX_REGIONS)
		regions[region_count++] = (struct um_mem_region){ base, length, type };
}

/* Copies what it needs out of the multiboot info: the heap may later reuse
 * the memory the loader put it in. */
void memory_init(uint32_t mb_info)
{
	const uint32_t *mbi = (const uint32_t *)(uintptr_t)mb_info;
	if (mbi[0] & MB_INFO_MMAP) {
		uintptr_t p = mbi[12], end = p + mbi[11];
		while (p < end) {
			const uint8_t *e = (const uint8_t *)p;
			uint32_t size;
			uint64_t base, length;
			uint32_t type;
			memcpy(&size, e, 4);
			memcpy(&base, e + 4, 8);
			memcpy(&length, e + 12, 8);
			memcpy(&type, e + 20, 4);
			add_region(base, length, type);
			p += size + 4;
		}
	} else if (mbi[0] & MB_INFO_MEM) {
		add_region(0, (uint64_t)mbi[1] * 1024, 1);
		add_region(0x100000, (uint64_t)mbi[2] * 1024, 1);
	}

	uint64_t kernel_end = ((uint64_t)(uintptr_t)__image_end + 0xFFF) & ~0xFFFull;
	uint64_t best_start = 0, best_end = 0;
	for (size_t i = 0; i < region_count; i++) {
		if (regions[i].type != 1)
			continue;
		uint64_t start = regions[i].base, end = regions[i].base + regions[i].length;
		if (start < kernel_end)
			start = kernel_end;
		if (end > IDENTITY_MAPPED_LIMIT)
			end = IDENTITY_MAPPED_LIMIT;
		if (end > start && end - start > best_end - best_start) {
			best_start = start;
			best_end = end;
		}
	}
	heap_next = (uint8_t *)(uintptr_t)best_start;
	heap_end = (uint8_t *)(uintptr_t)best_end;
}

size_t um_memory_map(const struct um_mem_region **out)
{
	*out = regions;
	return region_count;
}

void *um_malloc(size_t size)
{
	size = (size + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
	for (struct block **link = &free_list; *link; link = &(*link)->next_free) {
		struct block *b = *link;
		if (b->size >= size) {
			*link = b->next_free;
			return b + 1;
		}
	}
	if ((size_t)(heap_end - heap_next) < sizeof(struct block) + size)
		return 0;
	struct block *b = (struct block *)heap_next;
	b->size = size;
	heap_next += sizeof(struct block) + size;
	return b + 1;
}

void *um_calloc(size_t n, size_t size)
{
	if (size && n > (size_t)-1 / size)
		return 0;
	void *p = um_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void um_free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)p - 1;
	b->next_free = free_list;
	free_list = b;
}

void *heap_alloc_pages(size_t bytes)
{
	uint8_t *p = um_malloc(bytes + 4095);
	if (!p)
		return 0;
	p = (uint8_t *)(((uintptr_t)p + 4095) & ~(uintptr_t)4095);
	memset(p, 0, bytes);
	return p;
}

uint64_t um_heap_free_bytes(void)
{
	return (uint64_t)(heap_end - heap_next);
}

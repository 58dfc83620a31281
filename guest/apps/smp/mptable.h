#ifndef SMP_MPTABLE_H
#define SMP_MPTABLE_H

struct mp_info {
	unsigned processors;  /* processor entries */
	unsigned enabled;     /* of which the enabled flag is set */
	int bsp_apic_id;      /* the entry flagged BSP, or -1 */
	unsigned default_config; /* feature byte 1: a default configuration number, or 0 */
};

/* Finds and parses the MP tables; 0, or -1 when there are none (or they are corrupt). */
int mp_table_read(struct mp_info *info);

#endif

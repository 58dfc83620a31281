/* ping: answers ARP and ICMP echo for the address on the command line,
 * `ip=10.0.0.2 [count=N]`: one line per echo request answered; with count,
 * exits after N of them (else runs forever). It first announces itself with
 * a gratuitous ARP so a peer knows the link is up. */
#include <um_inet.h>


static struct um_inet inet;

int app_main(const char *args)
{
	char text[32], from[16], self[16];
	uint32_t ip;
	uint64_t count = 0;
	if (um_arg(args, "ip", text, sizeof text) != 0 || um_inet_parse_ip(text, &ip) != 0 ||
	    (um_arg(args, "count", text, sizeof text) == 0 && um_arg_u64(args, "count", &count) != 0)) {
		um_printf("usage: ip=a.b.c.d [count=N]\n");
		return UM_EXIT_FAILURE;
	}
	int forever = um_arg(args, "count", text, sizeof text) != 0;
	if (um_inet_init(&inet, ip) != 0) {
		um_printf("ping: no network device\n");
		return UM_EXIT_FAILURE;
	}
	um_inet_format_ip(ip, self);
	um_printf("ping: %s at %02x:%02x:%02x:%02x:%02x:%02x\n", self, inet.mac[0], inet.mac[1], inet.mac[2],
		  inet.mac[3], inet.mac[4], inet.mac[5]);
	um_inet_announce(&inet);
	if (forever)
		um_printf("ping: answering echo requests\n");
	else
		um_printf("ping: answering %lu echo requests\n", (unsigned long)count);

	uint64_t answered = 0;
	while (forever || answered < count) {
		struct um_ipv4 p;
		struct um_icmp_echo e;
		if (!um_inet_receive(&inet, &p, UM_FOREVER))
			continue;
		if (um_inet_parse_echo(&inet, &p, &e) != 0 || e.type != UM_ICMP_ECHO_REQUEST)
			continue;
		if (um_inet_send_echo(&inet, p.src_mac, p.src, UM_ICMP_ECHO_REPLY, e.id, e.seq, e.data, e.length) != 0) {
			um_printf("ping: send failed\n");
			return UM_EXIT_FAILURE;
		}
		answered++;
		um_inet_format_ip(p.src, from);
		um_printf("ping: echo seq %u from %s, %u data bytes: replied\n", e.seq, from, (unsigned)e.length);
	}
	um_printf("ping: echo requests answered: %lu, ARP requests answered: %u\n", (unsigned long)answered,
		  inet.arp_requests_answered);
	um_inet_report("ping", &inet);
	return UM_EXIT_SUCCESS;
}

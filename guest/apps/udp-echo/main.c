/* udp-echo: answers UDP datagrams to one port by sending the payload back,
 * `ip=10.0.0.2 port=7 [count=N]`: prints each payload as a line (bytes
 * outside printable ASCII as \xNN, a trailing newline dropped); with count,
 * exits after N echoes. ARP is answered; datagrams to other ports are
 * reported and dropped. Announces itself with a gratuitous ARP first. */
#include <um_inet.h>

#define MAX_SHOWN 200

static struct um_inet inet;

static void print_payload(const uint8_t *data, size_t length)
{
	if (length && data[length - 1] == '\n')
		length--;
	size_t shown = length < MAX_SHOWN ? length : MAX_SHOWN;
	um_puts("\"");
	for (size_t i = 0; i < shown; i++) {
		if (data[i] >= 0x20 && data[i] < 0x7F && data[i] != '\\' && data[i] != '"')
			um_printf("%c", data[i]);
		else
			um_printf("\\x%02x", data[i]);
	}
	um_puts(shown < length ? "\"...\n" : "\"\n");
}

int app_main(const char *args)
{
	char text[32], from[16], self[16];
	uint32_t ip;
	uint64_t port = 0, count = 0;
	int forever = um_arg(args, "count", text, sizeof text) != 0;
	if (um_arg(args, "ip", text, sizeof text) != 0 || um_inet_parse_ip(text, &ip) != 0 ||
	    um_arg_u64(args, "port", &port) != 0 || port == 0 || port > 0xFFFF ||
	    (!forever && um_arg_u64(args, "count", &count) != 0)) {
		um_printf("usage: ip=a.b.c.d port=N [count=N]\n");
		return UM_EXIT_FAILURE;
	}
	if (um_inet_init(&inet, ip) != 0) {
		um_printf("udp-echo: no network device\n");
		return UM_EXIT_FAILURE;
	}
	um_inet_format_ip(ip, self);
	um_printf("udp-echo: %s port %u at %02x:%02x:%02x:%02x:%02x:%02x\n", self, (unsigned)port, inet.mac[0],
		  inet.mac[1], inet.mac[2], inet.mac[3], inet.mac[4], inet.mac[5]);
	um_inet_announce(&inet);

	uint64_t echoed = 0;
	while (forever || echoed < count) {
		struct um_ipv4 p;
		struct um_udp u;
		if (!um_inet_receive(&inet, &p, UM_FOREVER) || um_inet_parse_udp(&inet, &p, &u) != 0)
			continue;
		um_inet_format_ip(p.src, from);
		if (u.dst_port != port) {
			um_printf("udp-echo: ignored a datagram from %s:%u to port %u\n", from, u.src_port, u.dst_port);
			continue;
		}
		um_printf("udp-echo: %s:%u sent %u bytes%s: ", from, u.src_port, (unsigned)u.length,
			  u.had_checksum ? "" : " (no checksum)");
		print_payload(u.data, u.length);
		if (um_inet_send_udp(&inet, p.src_mac, p.src, (uint16_t)port, u.src_port, u.data, u.length) != 0) {
			um_printf("udp-echo: send failed\n");
			return UM_EXIT_FAILURE;
		}
		echoed++;
	}
	um_printf("udp-echo: datagrams echoed: %lu, ARP requests answered: %u\n", (unsigned long)echoed,
		  inet.arp_requests_answered);
	um_inet_report("udp-echo", &inet);
	return UM_EXIT_SUCCESS;
}

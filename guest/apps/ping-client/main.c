/* ping-client: pings a peer on the link, `ip=10.0.0.3 peer=10.0.0.2 count=3`:
 * resolves the peer with ARP, then sends echo requests (id 0x554D, seq 1..N,
 * 56 data bytes) one at a time and prints each matching reply (sequence,
 * TTL, length; no timings). Replies that do not match (other id or seq,
 * changed data) are reported and skipped. Exits 0 when every request got its
 * reply within 3 s. */
#include <um_inet.h>

#define ECHO_ID 0x554D /* "UM" */
#define DATA_BYTES 56
#define ARP_TIMEOUT_NS (10 * 1000000000ull)
#define REPLY_TIMEOUT_NS (3 * 1000000000ull)

static struct um_inet inet;

static void fill_data(uint8_t *data, uint16_t seq)
{
	um_snprintf((char *)data, DATA_BYTES, "unimachine ping-client seq %u ", seq);
	for (size_t i = strlen((char *)data); i < DATA_BYTES; i++)
		data[i] = (uint8_t)('a' + i % 26);
}

/* Waits for the reply to seq; 1 when it came, 0 on timeout. */
static int await_reply(uint32_t peer, uint16_t seq, const uint8_t *sent)
{
	uint64_t deadline = um_monotonic_ns() + REPLY_TIMEOUT_NS;
	char from[16];
	struct um_ipv4 p;
	while (um_inet_receive(&inet, &p, deadline)) {
		struct um_icmp_echo e;
		if (um_inet_parse_echo(&inet, &p, &e) != 0 || e.type != UM_ICMP_ECHO_REPLY)
			continue;
		um_inet_format_ip(p.src, from);
		if (p.src != peer || e.id != ECHO_ID || e.seq != seq) {
			um_printf("ping-client: skipped a reply from %s id %04x seq %u\n", from, e.id, e.seq);
			continue;
		}
		int same = e.length == DATA_BYTES && memcmp(e.data, sent, DATA_BYTES) == 0;
		um_printf("ping-client: reply from %s: seq %u ttl %u, %u data bytes%s\n", from, e.seq, p.ttl,
			  (unsigned)e.length, same ? "" : " (data differs)");
		return same;
	}
	return 0;
}

int app_main(const char *args)
{
	char text[32], self[16], peer_text[16];
	uint32_t ip, peer;
	uint64_t count = 0;
	if (um_arg(args, "ip", text, sizeof text) != 0 || um_inet_parse_ip(text, &ip) != 0 ||
	    um_arg(args, "peer", text, sizeof text) != 0 || um_inet_parse_ip(text, &peer) != 0 ||
	    um_arg_u64(args, "count", &count) != 0 || count == 0 || count > 0xFFFF) {
		um_printf("usage: ip=a.b.c.d peer=a.b.c.d count=N\n");
		return UM_EXIT_FAILURE;
	}
	if (um_inet_init(&inet, ip) != 0) {
		um_printf("ping-client: no network device\n");
		return UM_EXIT_FAILURE;
	}
	um_inet_format_ip(ip, self);
	um_inet_format_ip(peer, peer_text);
	um_printf("ping-client: %s at %02x:%02x:%02x:%02x:%02x:%02x pings %s\n", self, inet.mac[0], inet.mac[1],
		  inet.mac[2], inet.mac[3], inet.mac[4], inet.mac[5], peer_text);

	uint8_t mac[6];
	if (um_inet_resolve(&inet, peer, mac, um_monotonic_ns() + ARP_TIMEOUT_NS) != 0) {
		um_printf("ping-client: no ARP reply from %s\n", peer_text);
		return UM_EXIT_FAILURE;
	}
	um_printf("ping-client: %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", peer_text, mac[0], mac[1], mac[2], mac[3],
		  mac[4], mac[5]);

	uint64_t received = 0;
	for (uint16_t seq = 1; seq <= count; seq++) {
		uint8_t data[DATA_BYTES];
		fill_data(data, seq);
		if (um_inet_send_echo(&inet, mac, peer, UM_ICMP_ECHO_REQUEST, ECHO_ID, seq, data, DATA_BYTES) != 0) {
			um_printf("ping-client: send failed\n");
			return UM_EXIT_FAILURE;
		}
		if (await_reply(peer, seq, data))
			received++;
		else
			um_printf("ping-client: seq %u: no reply\n", seq);
	}
	um_printf("ping-client: sent %lu, received %lu, ARP requests answered: %u\n", (unsigned long)count,
		  (unsigned long)received, inet.arp_requests_answered);
	um_inet_report("ping-client", &inet);
	return received == count ? UM_EXIT_SUCCESS : UM_EXIT_FAILURE;
}

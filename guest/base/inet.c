/* Minimal IPv4/ARP/ICMP/UDP over um_net_* (see include/um_inet.h). Fields
 * are read and written byte by byte in network order: no packed structs. */
#include <um_inet.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define ETH_MIN_FRAME  60 /* without the FCS; shorter frames are padded with zeros */
#define ARP_BYTES      28
#define ARP_HTYPE_ETHERNET 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2
#define IPV4_VERSION   4
#define IPV4_FLAG_DF   0x4000
#define IPV4_FLAG_MF   0x2000
#define IPV4_FRAGMENT_OFFSET 0x1FFF
#define IPV4_TTL       64
#define ICMP_HEADER_BYTES 8
#define UDP_HEADER_BYTES 8
#define ARP_RETRY_NS   500000000ull
#define REPORT_SETTLE_NS 10000000ull

static const uint8_t broadcast_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

uint16_t um_inet_checksum(const void *data, size_t length, uint32_t partial)
{
	const uint8_t *p = data;
	uint64_t sum = partial;
	for (; length >= 2; p += 2, length -= 2)
		sum += get16(p);
	if (length)
		sum += (uint32_t)p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The partial sum of the UDP pseudo-header (source, destination, protocol, length). */
static uint32_t pseudo_header_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint16_t length)
{
	return (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + protocol + length;
}

int um_inet_parse_ip(const char *text, uint32_t *ip)
{
	uint32_t value = 0;
	for (int part = 0; part < 4; part++) {
		if (*text < '0' || *text > '9')
			return -1;
		uint32_t n = 0;
		int digits = 0;
		while (*text >= '0' && *text <= '9' && digits < 4) {
			n = n * 10 + (uint32_t)(*text++ - '0');
			digits++;
		}
		if (n > 255 || (part < 3 && *text++ != '.'))
			return -1;
		value = value << 8 | n;
	}
	if (*text != 0 && *text != ' ')
		return -1;
	*ip = value;
	return 0;
}

void um_inet_format_ip(uint32_t ip, char out[16])
{
	um_snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

int um_inet_init(struct um_inet *s, uint32_t ip)
{
	memset(s, 0, sizeof *s);
	if (!um_net_present())
		return -1;
	um_net_mac(s->mac);
	s->ip = ip;
	s->next_ip_id = 1;
	return 0;
}

static int send_frame(struct um_inet *s, const uint8_t dst_mac[6], uint16_t ethertype, size_t payload_length)
{
	memcpy(s->tx_frame, dst_mac, 6);
	memcpy(s->tx_frame + 6, s->mac, 6);
	put16(s->tx_frame + 12, ethertype);
	size_t length = UM_ETH_HEADER_BYTES + payload_length;
	for (; length < ETH_MIN_FRAME; length++)
		s->tx_frame[length] = 0;
	return um_net_send(s->tx_frame, length);
}

static void arp_learn(struct um_inet *s, uint32_t ip, const uint8_t mac[6])
{
	int slot = -1;
	for (int i = 0; i < UM_ARP_CACHE_ENTRIES; i++) {
		if (s->arp[i].valid && s->arp[i].ip == ip) {
			slot = i;
			break;
		}
		if (!s->arp[i].valid && slot < 0)
			slot = i;
	}
	if (slot < 0)
		slot = (int)(ip % UM_ARP_CACHE_ENTRIES); /* full: overwrite one */
	s->arp[slot].ip = ip;
	memcpy(s->arp[slot].mac, mac, 6);
	s->arp[slot].valid = 1;
}

static int arp_lookup(const struct um_inet *s, uint32_t ip, uint8_t mac[6])
{
	for (int i = 0; i < UM_ARP_CACHE_ENTRIES; i++) {
		if (s->arp[i].valid && s->arp[i].ip == ip) {
			memcpy(mac, s->arp[i].mac, 6);
			return 0;
		}
	}
	return -1;
}

static int send_arp(struct um_inet *s, uint16_t op, const uint8_t eth_dst[6], const uint8_t target_mac[6],
		    uint32_t target_ip)
{
	uint8_t *a = s->tx_frame + UM_ETH_HEADER_BYTES;
	put16(a, ARP_HTYPE_ETHERNET);
	put16(a + 2, ETHERTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, s->mac, 6);
	put32(a + 14, s->ip);
	memcpy(a + 18, target_mac, 6);
	put32(a + 24, target_ip);
	return send_frame(s, eth_dst, ETHERTYPE_ARP, ARP_BYTES);
}

int um_inet_announce(struct um_inet *s)
{
	static const uint8_t unknown[6];
	return send_arp(s, ARP_OP_REQUEST, broadcast_mac, unknown, s->ip);
}

static void handle_arp(struct um_inet *s, const uint8_t *a, size_t length)
{
	if (length < ARP_BYTES || get16(a) != ARP_HTYPE_ETHERNET || get16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 ||
	    a[5] != 4) {
		s->drops.malformed++;
		return;
	}
	uint16_t op = get16(a + 6);
	uint32_t sender_ip = get32(a + 14), target_ip = get32(a + 24);
	if (target_ip != s->ip || sender_ip == s->ip) {
		s->drops.not_for_us++; /* someone else's, or an announcement */
		return;
	}
	uint8_t sender_mac[6];
	memcpy(sender_mac, a + 8, 6);
	arp_learn(s, sender_ip, sender_mac);
	if (op == ARP_OP_REQUEST) {
		send_arp(s, ARP_OP_REPLY, sender_mac, sender_mac, sender_ip);
		s->arp_requests_answered++;
	}
}

/* Checks one IPv4 packet; fills *p when it is intact and for us. */
static int accept_ipv4(struct um_inet *s, const uint8_t *frame, size_t frame_length, struct um_ipv4 *p)
{
	const uint8_t *ip = frame + UM_ETH_HEADER_BYTES;
	size_t available = frame_length - UM_ETH_HEADER_BYTES;
	if (available < UM_IPV4_HEADER_BYTES || ip[0] >> 4 != IPV4_VERSION) {
		s->drops.malformed++;
		return 0;
	}
	size_t header_length = (size_t)(ip[0] & 0xF) * 4;
	size_t total_length = get16(ip + 2);
	if (header_length < UM_IPV4_HEADER_BYTES || total_length < header_length || total_length > available) {
		s->drops.malformed++;
		return 0;
	}
	if (um_inet_checksum(ip, header_length, 0) != 0) {
		s->drops.bad_checksum++;
		return 0;
	}
	if (get32(ip + 16) != s->ip) {
		s->drops.not_for_us++;
		return 0;
	}
	if (get16(ip + 6) & (IPV4_FLAG_MF | IPV4_FRAGMENT_OFFSET)) {
		s->drops.unsupported++;
		return 0;
	}
	memcpy(p->src_mac, frame + 6, 6);
	p->src = get32(ip + 12);
	p->dst = get32(ip + 16);
	p->protocol = ip[9];
	p->ttl = ip[8];
	p->id = get16(ip + 4);
	p->payload = ip + header_length;
	p->length = total_length - header_length;
	return 1;
}

enum frame_result { TIMED_OUT, HANDLED, IPV4_FOR_US };

/* Takes one frame: ARP is handled here, an intact IPv4 packet for us fills *p. */
static enum frame_result receive_frame(struct um_inet *s, struct um_ipv4 *p, uint64_t deadline_ns)
{
	int64_t length = um_net_receive(s->rx_frame, sizeof s->rx_frame, deadline_ns);
	if (length < 0)
		return TIMED_OUT;
	const uint8_t *frame = s->rx_frame;
	if (length < UM_ETH_HEADER_BYTES) {
		s->drops.malformed++;
		return HANDLED;
	}
	if (memcmp(frame, s->mac, 6) != 0 && memcmp(frame, broadcast_mac, 6) != 0) {
		s->drops.not_for_us++;
		return HANDLED;
	}
	uint16_t ethertype = get16(frame + 12);
	if (ethertype == ETHERTYPE_ARP)
		handle_arp(s, frame + UM_ETH_HEADER_BYTES, (size_t)length - UM_ETH_HEADER_BYTES);
	else if (ethertype != ETHERTYPE_IPV4)
		s->drops.unsupported++;
	else if (accept_ipv4(s, frame, (size_t)length, p))
		return IPV4_FOR_US;
	return HANDLED;
}

int um_inet_receive(struct um_inet *s, struct um_ipv4 *p, uint64_t deadline_ns)
{
	for (;;) {
		enum frame_result r = receive_frame(s, p, deadline_ns);
		if (r != HANDLED)
			return r == IPV4_FOR_US;
	}
}

int um_inet_resolve(struct um_inet *s, uint32_t ip, uint8_t mac[6], uint64_t deadline_ns)
{
	static const uint8_t unknown[6];
	while (arp_lookup(s, ip, mac) != 0) {
		uint64_t now = um_monotonic_ns();
		if (now >= deadline_ns)
			return -1;
		send_arp(s, ARP_OP_REQUEST, broadcast_mac, unknown, ip);
		uint64_t retry = now + ARP_RETRY_NS < deadline_ns ? now + ARP_RETRY_NS : deadline_ns;
		struct um_ipv4 ignored;
		/* ARP replies are learned as frames arrive; IPv4 meanwhile is dropped. */
		while (arp_lookup(s, ip, mac) != 0 && receive_frame(s, &ignored, retry) != TIMED_OUT)
			;
	}
	return 0;
}

int um_inet_send_ipv4(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint8_t protocol,
		      const void *payload, size_t length)
{
	if (length > UM_ETH_MAX_FRAME - UM_ETH_HEADER_BYTES - UM_IPV4_HEADER_BYTES)
		return -1;
	uint8_t *ip = s->tx_frame + UM_ETH_HEADER_BYTES;
	ip[0] = IPV4_VERSION << 4 | UM_IPV4_HEADER_BYTES / 4;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(UM_IPV4_HEADER_BYTES + length));
	put16(ip + 4, s->next_ip_id++);
	put16(ip + 6, IPV4_FLAG_DF);
	ip[8] = IPV4_TTL;
	ip[9] = protocol;
	put16(ip + 10, 0);
	put32(ip + 12, s->ip);
	put32(ip + 16, dst);
	put16(ip + 10, um_inet_checksum(ip, UM_IPV4_HEADER_BYTES, 0));
	if (payload != ip + UM_IPV4_HEADER_BYTES)
		memmove(ip + UM_IPV4_HEADER_BYTES, payload, length);
	return send_frame(s, dst_mac, ETHERTYPE_IPV4, UM_IPV4_HEADER_BYTES + length);
}

/* Where a transport header plus data goes in the transmit frame. */
static uint8_t *transport_area(struct um_inet *s)
{
	return s->tx_frame + UM_ETH_HEADER_BYTES + UM_IPV4_HEADER_BYTES;
}

#define MAX_TRANSPORT_BYTES (UM_ETH_MAX_FRAME - UM_ETH_HEADER_BYTES - UM_IPV4_HEADER_BYTES)

int um_inet_parse_echo(struct um_inet *s, const struct um_ipv4 *p, struct um_icmp_echo *e)
{
	if (p->protocol != UM_IP_PROTO_ICMP)
		return -1;
	if (p->length < ICMP_HEADER_BYTES) {
		s->drops.malformed++;
		return -1;
	}
	if (um_inet_checksum(p->payload, p->length, 0) != 0) {
		s->drops.bad_checksum++;
		return -1;
	}
	const uint8_t *icmp = p->payload;
	if ((icmp[0] != UM_ICMP_ECHO_REQUEST && icmp[0] != UM_ICMP_ECHO_REPLY) || icmp[1] != 0) {
		s->drops.unsupported++;
		return -1;
	}
	*e = (struct um_icmp_echo){
		.type = icmp[0], .id = get16(icmp + 4), .seq = get16(icmp + 6),
		.data = icmp + ICMP_HEADER_BYTES, .length = p->length - ICMP_HEADER_BYTES,
	};
	return 0;
}

int um_inet_send_echo(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint8_t type, uint16_t id,
		      uint16_t seq, const void *data, size_t length)
{
	if (length > MAX_TRANSPORT_BYTES - ICMP_HEADER_BYTES)
		return -1;
	uint8_t *icmp = transport_area(s);
	memmove(icmp + ICMP_HEADER_BYTES, data, length); /* data may be the received frame: another buffer */
	icmp[0] = type;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	put16(icmp + 2, um_inet_checksum(icmp, ICMP_HEADER_BYTES + length, 0));
	return um_inet_send_ipv4(s, dst_mac, dst, UM_IP_PROTO_ICMP, icmp, ICMP_HEADER_BYTES + length);
}

int um_inet_parse_udp(struct um_inet *s, const struct um_ipv4 *p, struct um_udp *u)
{
	if (p->protocol != UM_IP_PROTO_UDP)
		return -1;
	const uint8_t *udp = p->payload;
	if (p->length < UDP_HEADER_BYTES || get16(udp + 4) < UDP_HEADER_BYTES || get16(udp + 4) > p->length) {
		s->drops.malformed++;
		return -1;
	}
	uint16_t length = get16(udp + 4);
	uint16_t checksum = get16(udp + 6);
	if (checksum != 0 &&
	    um_inet_checksum(udp, length, pseudo_header_sum(p->src, p->dst, UM_IP_PROTO_UDP, length)) != 0) {
		s->drops.bad_checksum++;
		return -1;
	}
	*u = (struct um_udp){
		.src_port = get16(udp), .dst_port = get16(udp + 2), .had_checksum = checksum != 0,
		.data = udp + UDP_HEADER_BYTES, .length = (size_t)length - UDP_HEADER_BYTES,
	};
	return 0;
}

int um_inet_send_udp(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint16_t src_port,
		     uint16_t dst_port, const void *data, size_t length)
{
	if (length > MAX_TRANSPORT_BYTES - UDP_HEADER_BYTES)
		return -1;
	uint8_t *udp = transport_area(s);
	uint16_t udp_length = (uint16_t)(UDP_HEADER_BYTES + length);
	memmove(udp + UDP_HEADER_BYTES, data, length);
	put16(udp, src_port);
	put16(udp + 2, dst_port);
	put16(udp + 4, udp_length);
	put16(udp + 6, 0);
	uint16_t checksum = um_inet_checksum(udp, udp_length, pseudo_header_sum(s->ip, dst, UM_IP_PROTO_UDP, udp_length));
	put16(udp + 6, checksum ? checksum : 0xFFFF); /* 0 would mean "no checksum" */
	return um_inet_send_ipv4(s, dst_mac, dst, UM_IP_PROTO_UDP, udp, udp_length);
}

void um_inet_report(const char *app, const struct um_inet *s)
{
	um_printf("%s: dropped %u bad checksum, %u not for us, %u malformed, %u unsupported\n", app,
		  s->drops.bad_checksum, s->drops.not_for_us, s->drops.malformed, s->drops.unsupported);
	/* Frames found without waiting leave their interrupt pending while
	 * interrupts are off: a short sleep lets it in, so the count below tells
	 * whether the device raised its line at all. */
	um_yield(um_monotonic_ns() + REPORT_SETTLE_NS);
	struct um_net_stats st;
	um_net_stats(&st);
	um_printf("%s: receive interrupts: %s\n", app,
		  st.irq < 0 ? "none (no IRQ line, polled)" : st.queue_interrupts ? "yes" : "none arrived");
}

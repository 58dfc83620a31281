/* A minimal IPv4 stack over the base's network device (um_net_*): Ethernet
 * II, ARP (answers requests for our address, resolves others), IPv4 without
 * options or fragments on send, ICMP echo and UDP, every checksum computed on
 * send and verified on receive. One address, no routing: peers are on the link.
 * Addresses are uint32_t in host byte order (10.0.0.2 is 0x0A000002). */
#ifndef UM_INET_H
#define UM_INET_H

#include <unimachine.h>

#define UM_ETH_HEADER_BYTES 14
#define UM_ETH_MAX_FRAME 1514
#define UM_IPV4_HEADER_BYTES 20
#define UM_IP_PROTO_ICMP 1
#define UM_IP_PROTO_UDP 17
#define UM_ICMP_ECHO_REPLY 0
#define UM_ICMP_ECHO_REQUEST 8
#define UM_ARP_CACHE_ENTRIES 8

/* Frames um_inet_receive dropped, by reason (what the apps print at the end). */
struct um_inet_drops {
	uint32_t bad_checksum;  /* IPv4 header, ICMP or UDP checksum wrong */
	uint32_t malformed;     /* too short, wrong version, lengths that do not add up */
	uint32_t not_for_us;    /* IPv4 to another address; ARP asking for another address */
	uint32_t unsupported;   /* other EtherTypes, fragments */
};

struct um_inet {
	uint8_t mac[6];
	uint32_t ip;
	uint16_t next_ip_id;
	struct { uint32_t ip; uint8_t mac[6]; uint8_t valid; } arp[UM_ARP_CACHE_ENTRIES];
	uint32_t arp_requests_answered;
	struct um_inet_drops drops;
	uint8_t rx_frame[UM_ETH_MAX_FRAME];
	uint8_t tx_frame[UM_ETH_MAX_FRAME];
};

/* An intact IPv4 packet addressed to us; payload points into s->rx_frame and
 * stays valid until the next um_inet_receive. */
struct um_ipv4 {
	uint8_t src_mac[6];
	uint32_t src, dst;
	uint8_t protocol, ttl;
	uint16_t id;
	const uint8_t *payload;
	size_t length;
};

struct um_icmp_echo {
	uint8_t type; /* UM_ICMP_ECHO_REQUEST or UM_ICMP_ECHO_REPLY */
	uint16_t id, seq;
	const uint8_t *data;
	size_t length;
};

struct um_udp {
	uint16_t src_port, dst_port;
	int had_checksum; /* 0: the sender sent none (allowed over IPv4) */
	const uint8_t *data;
	size_t length;
};

/* 0, or -1 when there is no network device. */
int um_inet_init(struct um_inet *s, uint32_t ip);
/* "a.b.c.d" -> 0 and *ip, or -1. */
int um_inet_parse_ip(const char *text, uint32_t *ip);
/* Writes "a.b.c.d" (at most 16 bytes with the NUL). */
void um_inet_format_ip(uint32_t ip, char out[16]);
/* The Internet checksum (RFC 1071) of data, continuing from a partial sum. */
uint16_t um_inet_checksum(const void *data, size_t length, uint32_t partial);

/* Waits until deadline_ns for an IPv4 packet for us: answers ARP requests for
 * our address and learns from ARP on the way, drops (and counts) everything
 * else. Returns 1 with *p, or 0 on timeout. */
int um_inet_receive(struct um_inet *s, struct um_ipv4 *p, uint64_t deadline_ns);
/* A gratuitous ARP request for our own address: tells the link we are up. */
int um_inet_announce(struct um_inet *s);
/* ARP for ip: from the cache, else requests every 500 ms until deadline_ns
 * (IPv4 packets arriving meanwhile are dropped). Returns 0 with mac, or -1. */
int um_inet_resolve(struct um_inet *s, uint32_t ip, uint8_t mac[6], uint64_t deadline_ns);
/* Sends one IPv4 packet (TTL 64, DF, no options). 0, or -1. */
int um_inet_send_ipv4(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint8_t protocol,
		      const void *payload, size_t length);

/* ICMP echo request/reply in p: 0 with *e, or -1 (not echo, or bad checksum: counted). */
int um_inet_parse_echo(struct um_inet *s, const struct um_ipv4 *p, struct um_icmp_echo *e);
int um_inet_send_echo(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint8_t type, uint16_t id,
		      uint16_t seq, const void *data, size_t length);
/* UDP in p: 0 with *u, or -1 (not UDP, malformed or bad checksum: counted). */
int um_inet_parse_udp(struct um_inet *s, const struct um_ipv4 *p, struct um_udp *u);
int um_inet_send_udp(struct um_inet *s, const uint8_t dst_mac[6], uint32_t dst, uint16_t src_port,
		     uint16_t dst_port, const void *data, size_t length);

/* Prints two lines for the end of a run: "<app>: dropped ..." (the counts in
 * s->drops) and "<app>: receive interrupts: yes" (or why not). */
void um_inet_report(const char *app, const struct um_inet *s);

#endif

/* net: virtio-net through the base's um_net_* API, talking to a test peer on
 * the other end of the link (guest/test/expected.ts, netPeer):
 *   1. the app broadcasts a frame of EtherType 0x88B5 with "hello from the net app";
 *   2. the peer answers to the app's MAC with "hello from the peer";
 *   3. the app sends "echo: " + that payload back to the peer's MAC. */
#include <unimachine.h>

#define ETHERTYPE_TEST 0x88B5 /* IEEE local experimental */
#define HELLO "hello from the net app"
#define ECHO_PREFIX "echo: "
#define WAIT_NS (10 * 1000000000ull)
#define MIN_FRAME 60

static size_t build_frame(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6], const char *payload)
{
	size_t n = strlen(payload);
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = ETHERTYPE_TEST >> 8;
	frame[13] = ETHERTYPE_TEST & 0xFF;
	memcpy(frame + 14, payload, n);
	size_t len = 14 + n;
	while (len < MIN_FRAME)
		frame[len++] = 0;
	return len;
}

static void print_mac(const char *label, const uint8_t m[6])
{
	um_printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", label, m[0], m[1], m[2], m[3], m[4], m[5]);
}

int app_main(const char *args)
{
	(void)args;
	static const uint8_t broadcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
	uint8_t mac[6], frame[1514], reply[1514];
	if (!um_net_present()) {
		um_printf("net: no network device\n");
		return UM_EXIT_FAILURE;
	}
	um_net_mac(mac);
	print_mac("net: mac", mac);

	size_t len = build_frame(frame, broadcast, mac, HELLO);
	if (um_net_send(frame, len) != 0) {
		um_printf("net: send failed\n");
		return UM_EXIT_FAILURE;
	}
	um_printf("net: sent \"%s\"\n", HELLO);

	uint64_t deadline = um_monotonic_ns() + WAIT_NS;
	for (;;) {
		int64_t got = um_net_receive(frame, sizeof frame - 1, deadline);
		if (got < 0) {
			um_printf("net: no answer\n");
			return UM_EXIT_FAILURE;
		}
		if (got < 14 || ((frame[12] << 8) | frame[13]) != ETHERTYPE_TEST || memcmp(frame, mac, 6) != 0)
			continue; /* not for us: other traffic on the link */
		frame[got] = 0;
		const char *payload = (const char *)frame + 14;
		print_mac("net: answer from", frame + 6);
		um_printf("net: received \"%s\"\n", payload);
		char echo[256];
		um_snprintf(echo, sizeof echo, ECHO_PREFIX "%s", payload);
		len = build_frame(reply, frame + 6, mac, echo);
		if (um_net_send(reply, len) != 0) {
			um_printf("net: send failed\n");
			return UM_EXIT_FAILURE;
		}
		um_printf("net: sent \"%s\"\n", echo);
		return UM_EXIT_SUCCESS;
	}
}

/*
 * tap-helper IFNAME: attach to Linux tap interface IFNAME and relay its frames over stdio.
 *
 * Node cannot issue the TUNSETIFF ioctl, so this small process does it and then copies frames:
 * tap -> stdout and stdin -> tap, each frame preceded by its length as 2 bytes, big-endian.
 *
 * Status goes to stderr as one line: "ready IFNAME" once attached, or
 * "error STAGE ERRNO TEXT" (STAGE is open or tunsetiff) before exiting with status 1.
 * EOF on stdin (the emulator went away) ends the relay with status 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_FRAME 65535
#define PREFIX 2

static unsigned char out_buf[PREFIX + MAX_FRAME];
static unsigned char in_buf[2 * (PREFIX + MAX_FRAME)];
static size_t in_len;

static void report(const char *stage, int err) {
  fprintf(stderr, "error %s %d %s\n", stage, err, strerror(err));
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* One frame from the tap to stdout. Returns -1 when stdout is gone. */
static int tap_to_stdout(int tap) {
  ssize_t n = read(tap, out_buf + PREFIX, MAX_FRAME);
  if (n <= 0) return 0; /* EAGAIN or an empty read: nothing to relay */
  out_buf[0] = (unsigned char)(n >> 8);
  out_buf[1] = (unsigned char)n;
  return write_all(STDOUT_FILENO, out_buf, PREFIX + (size_t)n);
}

/* Whatever stdin has, then every complete frame to the tap. Returns -1 at EOF. */
static int stdin_to_tap(int tap) {
  ssize_t n = read(STDIN_FILENO, in_buf + in_len, sizeof in_buf - in_len);
  if (n == 0) return -1;
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  in_len += (size_t)n;
  size_t at = 0;
  while (in_len - at >= PREFIX) {
    size_t frame = ((size_t)in_buf[at] << 8) | in_buf[at + 1];
    if (in_len - at < PREFIX + frame) break;
    /* A write error (interface down, bad frame) drops this frame, like a busy wire. */
    if (frame > 0 && write(tap, in_buf + at + PREFIX, frame) < 0 && errno == EBADF) return -1;
    at += PREFIX + frame;
  }
  memmove(in_buf, in_buf + at, in_len - at);
  in_len -= at;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 || strlen(argv[1]) == 0 || strlen(argv[1]) >= IFNAMSIZ) {
    report("args", EINVAL);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (tap < 0) {
    report("open", errno);
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(tap, TUNSETIFF, &ifr) < 0) {
    report("tunsetiff", errno);
    return 1;
  }
  fprintf(stderr, "ready %s\n", ifr.ifr_name);

  struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = tap, .events = POLLIN}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[1].revents & POLLIN && tap_to_stdout(tap) < 0) return 0;
    if (fds[0].revents & (POLLIN | POLLHUP) && stdin_to_tap(tap) < 0) return 0;
    if (fds[1].revents & (POLLERR | POLLNVAL)) return 1;
  }
}

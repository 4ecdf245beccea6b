/*
 * notify_peer.c - a process that does what an OCI runtime does for a seccomp agent,
 * for the agent's tests: it loads a filter that notifies keyctl(2) (every other call
 * is allowed), connects to the agent's socket, sends the container process state it is
 * given with the notification fd attached (SCM_RIGHTS, one sendmsg, as crun does), keeps
 * the connection open (as runc does), then makes N keyctl calls and prints one line:
 *
 *   calls=N errno=E count=K      K calls failed with errno E, the errno of the first
 *   calls=N mixed                the calls did not all fail with one errno
 *
 *   gcc -static -O2 -o notify_peer notify_peer.c
 *   notify_peer SOCKET STATE_FILE N        (STATE_FILE "-": send no state, only the fd;
 *                                           "nofd": send the state without the fd)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static char state[1 << 16];

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: notify_peer SOCKET STATE_FILE|-|nofd:STATE_FILE N\n");
		return 2;
	}
	const char *file = argv[2];
	int send_fd = 1;
	if (!strncmp(file, "nofd:", 5)) {
		send_fd = 0;
		file += 5;
	}
	size_t len = 0;
	if (strcmp(file, "-")) {
		int f = open(file, O_RDONLY);
		if (f < 0) {
			perror("open state");
			return 2;
		}
		ssize_t n = read(f, state, sizeof(state));
		if (n < 0) {
			perror("read state");
			return 2;
		}
		len = (size_t)n;
		close(f);
	}
	long n_calls = atol(argv[3]);

	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_keyctl, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fprog = { .len = sizeof(prog) / sizeof(prog[0]), .filter = prog };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("no_new_privs");
		return 2;
	}
	int listener = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
			       SECCOMP_FILTER_FLAG_NEW_LISTENER, &fprog);
	if (listener < 0) {
		perror("seccomp");
		return 2;
	}

	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strncpy(addr.sun_path, argv[1], sizeof(addr.sun_path) - 1);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("connect");
		return 2;
	}
	char one = ' ';
	struct iovec iov = { .iov_base = len ? state : &one, .iov_len = len ? len : 1 };
	char ctrl[CMSG_SPACE(sizeof(int))];
	memset(ctrl, 0, sizeof(ctrl));
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (send_fd) {
		msg.msg_control = ctrl;
		msg.msg_controllen = sizeof(ctrl);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &listener, sizeof(int));
	}
	if (!len && !send_fd) {
		close(sock);
	} else if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		perror("sendmsg");
		return 2;
	}
	/* The agent alone holds the listener now. */
	close(listener);

	int first = 0, same = 1;
	long count = 0;
	for (long i = 0; i < n_calls; i++) {
		long r = syscall(__NR_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3L, 0L, 0L, 0L);
		int e = r < 0 ? errno : 0;
		if (i == 0)
			first = e;
		if (e == first)
			count++;
		else
			same = 0;
	}
	if (same)
		printf("calls=%ld errno=%d count=%ld\n", n_calls, first, count);
	else
		printf("calls=%ld mixed\n", n_calls);
	fflush(stdout);
	return 0;
}

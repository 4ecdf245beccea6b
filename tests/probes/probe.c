/*
 * probe.c - multi-call probe program run INSIDE syscage containers by the
 * end-to-end tests.
 *
 *   gcc -static -O2 -pthread -Wall -Wextra -o probe probe.c
 *   probe NAME [ARGS]      run one probe
 *   probe list             print every probe name, one per line
 *
 * Output contract: each probe prints exactly ONE line on stdout,
 *
 *   NAME: ok                          the probed call succeeded
 *   NAME: ok value=N                  ... and its return value matters
 *   NAME: blocked errno=N (ESYM)      the probed call failed with errno N
 *   NAME: blocked errno=N (ESYM) at STEP
 *                                     a preparatory STEP failed, the probed
 *                                     call was not (or not fully) made
 *   NAME: raw=R                       getpid, i386_getpid, x32_getpid: raw
 *                                     kernel return value (e.g. -100 under
 *                                     an ERRNO(100) rule)
 *
 * and exits 0.  A seccomp KILL shows up as no line at all and exit status
 * 159 (128 + SIGSYS): nothing is ever printed before the probed call, and
 * stdout is flushed before it.  Exceptions: `status` prints several lines,
 * `sigterm_wait` prints two, `exit`/`kill_self`/`sleep_forever`/`spin` do
 * what their name says.
 *
 * Every probed system call is made with the `syscall` instruction (or
 * `int $0x80` for the i386 ABI) through inline assembly, so no glibc wrapper
 * can rewrite, emulate or fall back from what is sent to the kernel.  Setup
 * steps (creating files, ptys, children) use ordinary glibc calls.
 *
 * Needs only: x86_64 Linux, a writable /tmp, /dev/ptmx (tty probes),
 * /proc (status), /bin/true (fork_exec default).  No dynamic libraries.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <asm/unistd.h>
#include <linux/bpf.h>
#include <linux/fanotify.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/seccomp.h>
#include <linux/stat.h>

/* ------------------------------------------------------------------ */
/* syscall numbers that older headers may lack (x86_64 ABI)           */

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_enter
#define __NR_io_uring_enter 426
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_open_tree
#define __NR_open_tree 428
#endif
#ifndef __NR_move_mount
#define __NR_move_mount 429
#endif
#ifndef __NR_fsopen
#define __NR_fsopen 430
#endif
#ifndef __NR_fsmount
#define __NR_fsmount 432
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_clone3
#define __NR_clone3 435
#endif
#ifndef __NR_pidfd_getfd
#define __NR_pidfd_getfd 438
#endif
#ifndef __NR_process_madvise
#define __NR_process_madvise 440
#endif
#ifndef __NR_mount_setattr
#define __NR_mount_setattr 442
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_statmount
#define __NR_statmount 457
#endif
#ifndef __NR_listmount
#define __NR_listmount 458
#endif
#ifndef __NR_lsm_get_self_attr
#define __NR_lsm_get_self_attr 459
#endif
#ifndef __NR_mseal
#define __NR_mseal 462
#endif
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif
#ifndef __NR_uretprobe
#define __NR_uretprobe 335
#endif
/* removed from the kernel / from the headers, numbers are still reserved */
#define NR_uselib 134
#define NR_ustat 136
#define NR_sysfs 139
#define NR__sysctl 156
#define NR_nfsservctl 180
#define NR_lookup_dcookie 212

/* i386 ABI (int $0x80) */
#define NR32_getpid 20
#define NR32_socketcall 102
#define NR32_unshare 310
/* x32 ABI: x86_64 numbers | __X32_SYSCALL_BIT (x32 getpid = 39, x32 unshare = 272) */
#define X32_BIT 0x40000000L

#define HIGH32 (1UL << 32)

#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_KCM
#define AF_KCM 41
#endif
#ifndef AF_RDS
#define AF_RDS 21
#endif
#ifndef AF_TIPC
#define AF_TIPC 30
#endif
#ifndef AF_BLUETOOTH
#define AF_BLUETOOTH 31
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441
#endif
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x4000U
#endif
#define STATMOUNT_SB_BASIC 0x1ULL
#define LSMT_ROOT 0xffffffffffffffffULL
#define LSM_ATTR_CURRENT 100
#define MPOL_DEFAULT 0
#define SYSLOG_ACTION_SIZE_BUFFER 10
#define TIOCL_GETSHIFTSTATE 6
#define KEXEC_ARCH_386 (3 << 16)
#define Q_SYNC_CMD 0x800001
#define USRQUOTA_T 0
#define QCMD_(cmd, type) (((cmd) << 8) | ((type) & 0xff))
#define MADV_COLD_ 20

struct clone_args_v0 { /* CLONE_ARGS_SIZE_VER0 = 64 */
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		stack_size, tls;
};

struct mnt_id_req_v0 { /* MNT_ID_REQ_SIZE_VER0 = 24 */
	uint32_t size, spare;
	uint64_t mnt_id, param;
};

/* ------------------------------------------------------------------ */
/* raw system calls                                                    */

static inline long rsys(long n, long a1, long a2, long a3, long a4, long a5,
			long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8),
			   "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#define SC_(n, a, b, c, d, e, f, ...)                                     \
	rsys((long)(n), (long)(a), (long)(b), (long)(c), (long)(d),        \
	     (long)(e), (long)(f))
/* SC(nr, args...) - up to 6 arguments, missing ones are 0 */
#define SC(...) SC_(__VA_ARGS__, 0, 0, 0, 0, 0, 0, 0)

/* i386 ABI through int $0x80; pointers must be below 4 GiB */
static inline long rsys32(long n, long b, long c, long d)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(n), "b"(b), "c"(c), "d"(d)
			 : "r8", "r9", "r10", "r11", "memory");
	return (long)(int)ret; /* the i386 ABI returns a 32-bit value */
}

static int is_err(long r) { return r < 0 && r > -4096; }

/* ------------------------------------------------------------------ */
/* errno names                                                         */

static const struct { int n; const char *s; } errnames[] = {
#define E(x) { x, #x },
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(ENOEXEC) E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES)
	E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
	E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY)
	E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE)
	E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS)
	E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM) E(ECHRNG) E(EL2NSYNC)
	E(EL3HLT) E(EL3RST) E(ELNRNG) E(EUNATCH) E(ENOCSI) E(EL2HLT)
	E(EBADE) E(EBADR) E(EXFULL) E(ENOANO) E(EBADRQC) E(EBADSLT)
	E(EBFONT) E(ENOSTR) E(ENODATA) E(ETIME) E(ENOSR) E(ENONET)
	E(ENOPKG) E(EREMOTE) E(ENOLINK) E(EADV) E(ESRMNT) E(ECOMM)
	E(EPROTO) E(EMULTIHOP) E(EDOTDOT) E(EBADMSG) E(EOVERFLOW)
	E(ENOTUNIQ) E(EBADFD) E(EREMCHG) E(ELIBACC) E(ELIBBAD) E(ELIBSCN)
	E(ELIBMAX) E(ELIBEXEC) E(EILSEQ) E(ERESTART) E(ESTRPIPE) E(EUSERS)
	E(ENOTSOCK) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
	E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EOPNOTSUPP) E(EPFNOSUPPORT)
	E(EAFNOSUPPORT) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN)
	E(ENETUNREACH) E(ENETRESET) E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS)
	E(EISCONN) E(ENOTCONN) E(ESHUTDOWN) E(ETOOMANYREFS) E(ETIMEDOUT)
	E(ECONNREFUSED) E(EHOSTDOWN) E(EHOSTUNREACH) E(EALREADY)
	E(EINPROGRESS) E(ESTALE) E(EUCLEAN) E(ENOTNAM) E(ENAVAIL) E(EISNAM)
	E(EREMOTEIO) E(EDQUOT) E(ENOMEDIUM) E(EMEDIUMTYPE) E(ECANCELED)
	E(ENOKEY) E(EKEYEXPIRED) E(EKEYREVOKED) E(EKEYREJECTED)
	E(EOWNERDEAD) E(ENOTRECOVERABLE) E(ERFKILL) E(EHWPOISON)
#undef E
	/* kernel-internal values that can leak to user space */
	{ 512, "ERESTARTSYS" }, { 513, "ERESTARTNOINTR" },
	{ 514, "ERESTARTNOHAND" }, { 515, "ENOIOCTLCMD" },
	{ 516, "ERESTART_RESTARTBLOCK" }, { 517, "EPROBE_DEFER" },
	{ 518, "EOPENSTALE" }, { 519, "ENOPARAM" }, { 521, "EBADHANDLE" },
	{ 524, "ENOTSUPP" }, { 526, "EJUKEBOX" },
};

static const char *errname(int e)
{
	for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
		if (errnames[i].n == e)
			return errnames[i].s;
	return "EUNKNOWN";
}

/* ------------------------------------------------------------------ */
/* output                                                              */

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int out_ok(const char *name) { line("%s: ok", name); return 0; }
static int out_okv(const char *name, long v)
{
	line("%s: ok value=%ld", name, v);
	return 0;
}
static int out_err(const char *name, int e)
{
	line("%s: blocked errno=%d (%s)", name, e, errname(e));
	return 0;
}
static int out_err_at(const char *name, int e, const char *step)
{
	line("%s: blocked errno=%d (%s) at %s", name, e, errname(e), step);
	return 0;
}
static int out_raw(const char *name, long r)
{
	line("%s: raw=%ld", name, r);
	return 0;
}

/* report a raw return value; closes it when it is a file descriptor */
#define R_VALUE 1 /* print value=N on success */
#define R_FD 2    /* success value is an fd: close it */
static int report(const char *name, long r, int how)
{
	if (is_err(r))
		return out_err(name, (int)-r);
	if (how & R_FD)
		close((int)r);
	if (how & R_VALUE)
		return out_okv(name, r);
	return out_ok(name);
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static char tmpbuf[256];
static const char *tmppath(const char *tag)
{
	snprintf(tmpbuf, sizeof tmpbuf, "/tmp/probe-%s-%d", tag, (int)getpid());
	return tmpbuf;
}

static long argl(int argc, char **argv, int i, long dflt)
{
	if (i < argc)
		return strtol(argv[i], NULL, 0);
	return dflt;
}

/* wait for a raw-cloned child; returns its status */
static int reap(long pid)
{
	int st = 0;
	while (waitpid((pid_t)pid, &st, __WALL) < 0 && errno == EINTR)
		;
	return st;
}

/*
 * Open a fresh pty pair from /dev/ptmx.  With want_ctty the slave is made
 * the controlling terminal (setsid() when we are not already a session
 * leader, then TIOCSCTTY), so TIOCSTI is allowed by the kernel without
 * CAP_SYS_ADMIN; failures of that part are ignored.
 * Returns 0, or -errno with *step set.
 */
static int open_pty(int *mfd, int *sfd, int want_ctty, const char **step)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0) {
		*step = "open_ptmx";
		return -errno;
	}
	int zero = 0;
	if (ioctl(m, TIOCSPTLCK, &zero) < 0) {
		*step = "unlockpt";
		int e = errno;
		close(m);
		return -e;
	}
	int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		char pn[64];
		if (ptsname_r(m, pn, sizeof pn) != 0 ||
		    (s = open(pn, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
			*step = "open_pts";
			int e = errno;
			close(m);
			return -e;
		}
	}
	if (want_ctty) {
		/* closing the pair later hangs up our controlling tty */
		signal(SIGHUP, SIG_IGN);
		if (getsid(0) != getpid())
			(void)setsid();
		(void)ioctl(s, TIOCSCTTY, 0);
	}
	*mfd = m;
	*sfd = s;
	return 0;
}

static int make_file(const char *path, int *fdp)
{
	umask(022);
	unlink(path);
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	return 0;
}

/* ------------------------------------------------------------------ */
/* probes                                                              */

typedef int (*probe_fn)(const char *name, int argc, char **argv);

static int p_getpid(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return out_raw(n, SC(__NR_getpid));
}

/* ---- namespaces ---- */
static int p_unshare0(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_unshare, 0), 0);
}
static int p_unshare_userns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_unshare, CLONE_NEWUSER), 0);
}
static int p_unshare_mountns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_unshare, CLONE_NEWNS), 0);
}
static int p_unshare_userns_high(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_unshare, (unsigned long)CLONE_NEWUSER | HIGH32), 0);
}
static int p_unshare_net(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_unshare, CLONE_NEWNET), 0);
}
static int p_setns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_setns, -1, 0), 0);
}

static int do_clone(const char *n, unsigned long flags)
{
	long r = SC(__NR_clone, flags | SIGCHLD, 0, 0, 0, 0);
	if (r == 0)
		SC(__NR_exit_group, 0); /* child */
	if (is_err(r))
		return out_err(n, (int)-r);
	reap(r);
	return out_ok(n);
}
static int p_clone_userns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_clone(n, CLONE_NEWUSER);
}
static int p_clone_newns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_clone(n, CLONE_NEWNS);
}
static int p_clone_plain(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_clone(n, 0);
}

static int do_clone3(const char *n, uint64_t flags)
{
	struct clone_args_v0 ca;
	memset(&ca, 0, sizeof ca);
	ca.flags = flags;
	ca.exit_signal = SIGCHLD;
	long r = SC(__NR_clone3, &ca, sizeof ca);
	if (r == 0)
		SC(__NR_exit_group, 0); /* child */
	if (is_err(r))
		return out_err(n, (int)-r);
	reap(r);
	return out_ok(n);
}
static int p_clone3_userns(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_clone3(n, CLONE_NEWUSER);
}
static int p_clone3_plain(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_clone3(n, 0);
}

/* ---- mounts ---- */
static int p_mount_tmpfs(const char *n, int c, char **v)
{
	(void)c; (void)v;
	const char *d = tmppath("mnt");
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return out_err_at(n, errno, "mkdir");
	long r = SC(__NR_mount, "none", d, "tmpfs", 0, NULL);
	if (!is_err(r))
		SC(__NR_umount2, d, MNT_DETACH);
	rmdir(d);
	return report(n, r, 0);
}
/* umount2 of a directory that is NOT a mount point: EINVAL when the kernel
 * is reached with CAP_SYS_ADMIN, EPERM without; never unmounts anything. */
static int p_umount(const char *n, int c, char **v)
{
	(void)c; (void)v;
	const char *d = tmppath("umount");
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return out_err_at(n, errno, "mkdir");
	long r = SC(__NR_umount2, d, MNT_DETACH);
	rmdir(d);
	return report(n, r, 0);
}
static int p_fsopen(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_fsopen, "tmpfs", 0), R_FD);
}
static int p_fsmount(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_fsmount, -1, 0, 0), R_FD);
}
static int p_move_mount(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_move_mount, -1, "", -1, "", 0), 0);
}
static int p_open_tree(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_open_tree, AT_FDCWD, "/", 0), R_FD);
}
static int p_open_tree_attr(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_open_tree_attr, AT_FDCWD, "/", 0, NULL, 0), R_FD);
}
static int p_mount_setattr(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_mount_setattr, -1, "", 0, NULL, 0), 0);
}
/* pivot_root(".", ".") from inside a fresh non-mount-point directory, so
 * it can never succeed (EBUSY or EINVAL when reached with CAP_SYS_ADMIN). */
static int p_pivot_root(const char *n, int c, char **v)
{
	(void)c; (void)v;
	const char *d = tmppath("pivot");
	if (mkdir(d, 0755) < 0 && errno != EEXIST)
		return out_err_at(n, errno, "mkdir");
	if (chdir(d) < 0) {
		int e = errno;
		rmdir(d);
		return out_err_at(n, e, "chdir");
	}
	long r = SC(__NR_pivot_root, ".", ".");
	if (chdir("/") < 0) { /* ignore */ }
	rmdir(d);
	return report(n, r, 0);
}
static int p_chroot(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_chroot, "/"), 0);
}
static int p_statmount(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct statx sx;
	memset(&sx, 0, sizeof sx);
	uint64_t id = 0;
	if (!is_err(SC(__NR_statx, AT_FDCWD, "/", 0, STATX_MNT_ID_UNIQUE, &sx)))
		id = sx.stx_mnt_id;
	struct mnt_id_req_v0 req = { .size = sizeof req, .mnt_id = id,
				     .param = STATMOUNT_SB_BASIC };
	static uint64_t buf[512];
	return report(n, SC(__NR_statmount, &req, buf, sizeof buf, 0), 0);
}
static int p_listmount(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct mnt_id_req_v0 req = { .size = sizeof req, .mnt_id = LSMT_ROOT };
	uint64_t ids[64];
	return report(n, SC(__NR_listmount, &req, ids, 64, 0), R_VALUE);
}

/* ---- ttys ---- */
static int do_tty_ioctl(const char *n, unsigned long req, int ctty, int argkind)
{
	int m = -1, s = -1;
	const char *step = "";
	int e = open_pty(&m, &s, ctty, &step);
	if (e < 0)
		return out_err_at(n, -e, step);
	char ch = 'x';
	char sub = TIOCL_GETSHIFTSTATE;
	struct winsize ws;
	char tio[64];
	void *arg = argkind == 0 ? (void *)&ch
		  : argkind == 1 ? (void *)&sub
		  : argkind == 2 ? (void *)&ws : (void *)tio;
	fflush(stdout);
	long r = SC(__NR_ioctl, s, req, arg);
	close(s);
	close(m);
	return report(n, r, 0);
}
static int p_tiocsti(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TIOCSTI, 1, 0);
}
static int p_tiocsti_high(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TIOCSTI | HIGH32, 1, 0);
}
static int p_tiocsti_stdin(const char *n, int c, char **v)
{
	(void)c; (void)v;
	char ch = '#';
	fflush(stdout);
	return report(n, SC(__NR_ioctl, 0, TIOCSTI, &ch), 0);
}
static int p_tioclinux(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TIOCLINUX, 0, 1);
}
static int p_tioclinux_high(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TIOCLINUX | HIGH32, 0, 1);
}
static int p_tiocgwinsz(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TIOCGWINSZ, 0, 2);
}
static int p_tcgets(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_tty_ioctl(n, TCGETS, 0, 3);
}
/* vhangup hangs up the controlling terminal: drop it first so that running
 * the probe from an interactive shell is harmless. */
static int p_vhangup(const char *n, int c, char **v)
{
	(void)c; (void)v;
	if (getsid(0) != getpid())
		(void)setsid();
	int t = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (t >= 0) {
		if (getsid(0) != getpid())
			(void)ioctl(t, TIOCNOTTY);
		close(t);
		t = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (t >= 0) {
			close(t);
			return out_err_at(n, EBUSY, "drop_ctty");
		}
	}
	return report(n, SC(__NR_vhangup), 0);
}

/* ---- sockets ---- */
struct sockprobe {
	const char *name;
	unsigned long family;
	int type, proto;
};
static const struct sockprobe sockprobes[] = {
	{ "socket_unix", AF_UNIX, SOCK_STREAM, 0 },
	{ "socket_inet", AF_INET, SOCK_STREAM, 0 },
	{ "socket_inet6", AF_INET6, SOCK_STREAM, 0 },
	{ "socket_vsock", AF_VSOCK, SOCK_STREAM, 0 },
	{ "socket_vsock_high", AF_VSOCK | HIGH32, SOCK_STREAM, 0 },
	{ "socket_alg", AF_ALG, SOCK_SEQPACKET, 0 },
	{ "socket_alg_high", AF_ALG | HIGH32, SOCK_SEQPACKET, 0 },
	{ "socket_netlink", AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */ },
	{ "socket_packet", AF_PACKET, SOCK_RAW, 0 },
	{ "socket_bluetooth", AF_BLUETOOTH, SOCK_SEQPACKET, 0 /* L2CAP */ },
	{ "socket_kcm", AF_KCM, SOCK_DGRAM, 0 },
	{ "socket_rds", AF_RDS, SOCK_SEQPACKET, 0 },
	{ "socket_tipc", AF_TIPC, SOCK_RDM, 0 },
	{ "socket_raw_inet", AF_INET, SOCK_RAW, IPPROTO_ICMP },
};
static int p_socket(const char *n, int c, char **v)
{
	(void)c; (void)v;
	for (size_t i = 0; i < sizeof sockprobes / sizeof sockprobes[0]; i++)
		if (!strcmp(sockprobes[i].name, n))
			return report(n, SC(__NR_socket, sockprobes[i].family,
					    sockprobes[i].type, sockprobes[i].proto),
				      R_FD);
	return 2;
}

/* socketpair(FAMILY, SOCK_DGRAM, 0): the families' own socket code is reached as by
 * socket(); vsock answers ENODEV or EOPNOTSUPP itself when reached. */
static int p_socketpair(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long family = !strcmp(n, "socketpair_unix") ? AF_UNIX
		    : !strcmp(n, "socketpair_vsock") ? 40
		    : !strcmp(n, "socketpair_vsock_high") ? (long)(40 | HIGH32)
		    : 30 /* AF_TIPC */;
	int sv[2];
	long r = SC(__NR_socketpair, family, SOCK_DGRAM, 0, sv);
	if (!is_err(r)) {
		close(sv[0]);
		close(sv[1]);
	}
	return report(n, r, 0);
}

/* ---- io_uring ---- */
static int p_io_uring_setup(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct io_uring_params p;
	memset(&p, 0, sizeof p);
	return report(n, SC(__NR_io_uring_setup, 1, &p), R_FD);
}
static int p_io_uring_enter(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_io_uring_enter, -1, 0, 0, 0, NULL, 0), 0);
}
static int p_io_uring_register(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_io_uring_register, -1, 0, NULL, 0), 0);
}

/* ---- keys ---- */
static int p_keyctl(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_keyctl, KEYCTL_GET_KEYRING_ID,
			    KEY_SPEC_SESSION_KEYRING, 0), R_VALUE);
}
static int p_add_key(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_add_key, "user", "syscage-probe", "x", 1,
			    KEY_SPEC_PROCESS_KEYRING), 0);
}
static int p_request_key(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_request_key, "user", "syscage-probe-none",
			    NULL, 0), 0);
}

/* ---- assorted dangerous interfaces ---- */
static int p_userfaultfd(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_userfaultfd, 0), R_FD);
}
static int p_perf_event_open(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct perf_event_attr a;
	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof a;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	return report(n, SC(__NR_perf_event_open, &a, 0, -1, -1, 0), R_FD);
}
static int p_bpf(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof insns);
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
	insns[1].code = BPF_JMP | BPF_EXIT;
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insn_cnt = 2;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.license = (uint64_t)(uintptr_t)"GPL";
	return report(n, SC(__NR_bpf, BPF_PROG_LOAD, &a, sizeof a), R_FD);
}
static int p_ptrace_traceme(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0), 0);
}
static int p_ptrace_attach(const char *n, int c, char **v)
{
	(void)c; (void)v;
	pid_t pid = fork();
	if (pid < 0)
		return out_err_at(n, errno, "fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	long r = SC(__NR_ptrace, 16 /* PTRACE_ATTACH */, pid, 0, 0);
	if (!is_err(r)) {
		int st;
		waitpid(pid, &st, __WALL);
		SC(__NR_ptrace, 17 /* PTRACE_DETACH */, pid, 0, 0);
	}
	kill(pid, SIGKILL);
	reap(pid);
	return report(n, r, 0);
}
/* Hijack the container's init: attach to pid 1 and make it run unshare(CLONE_NEWUSER)
 * from its own syscall instruction.  The init's own filter kills it for any call it does
 * not need, and the whole container with it; "init ran" is the failure to look for. */
static int p_init_inject(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long r = SC(__NR_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0);
	if (is_err(r))
		return out_err_at(n, (int)-r, "attach");
	int st;
	waitpid(1, &st, __WALL);
	struct user_regs_struct o, w;
	if (ptrace(PTRACE_GETREGS, 1, 0, &o) < 0)
		return out_err_at(n, errno, "getregs");
	errno = 0;
	long text = ptrace(PTRACE_PEEKTEXT, 1, (void *)(o.rip - 2), 0);
	if (errno)
		return out_err_at(n, errno, "peektext");
	if ((text & 0xffff) != 0x050f) {
		line("%s: no syscall instruction before the init's rip", n);
		return 0;
	}
	line("%s: attached", n);
	w = o;
	w.rip = o.rip - 2;
	w.rax = __NR_unshare;
	w.orig_rax = -1;
	w.rdi = CLONE_NEWUSER;
	w.rsi = w.rdx = 0;
	ptrace(PTRACE_SETREGS, 1, 0, &w);
	ptrace(PTRACE_SINGLESTEP, 1, 0, 0);
	waitpid(1, &st, __WALL);
	if (WIFSIGNALED(st) || WIFEXITED(st)) {
		line("%s: init died (signal %d)", n, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		return 0;
	}
	ptrace(PTRACE_GETREGS, 1, 0, &w);
	line("%s: init ran the call, returned %lld", n, (long long)w.rax);
	ptrace(PTRACE_SETREGS, 1, 0, &o);
	ptrace(PTRACE_DETACH, 1, 0, 0);
	return 0;
}
static int p_process_vm_readv(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static char src[64] = "syscage probe process_vm_readv";
	char dst[64];
	struct iovec l = { dst, sizeof dst }, rm = { src, sizeof src };
	long pid = SC(__NR_getpid);
	return report(n, SC(__NR_process_vm_readv, pid, &l, 1, &rm, 1, 0),
		      R_VALUE);
}
static int p_kcmp(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long pid = SC(__NR_getpid);
	return report(n, SC(__NR_kcmp, pid, pid, KCMP_VM, 0, 0), R_VALUE);
}
static int p_personality(const char *n, int c, char **v)
{
	(void)c; (void)v;
	unsigned long p;
	if (!strcmp(n, "personality_query"))
		p = 0xffffffffUL;
	else if (!strcmp(n, "personality_linux"))
		p = PER_LINUX;
	else if (!strcmp(n, "personality_addr_no_randomize"))
		p = ADDR_NO_RANDOMIZE;
	else if (!strcmp(n, "personality_read_implies_exec"))
		p = READ_IMPLIES_EXEC;
	else /* personality_high */
		p = PER_LINUX | HIGH32;
	return report(n, SC(__NR_personality, p), R_VALUE);
}
static int p_name_to_handle_at(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct { struct file_handle fh; unsigned char buf[MAX_HANDLE_SZ]; } h;
	memset(&h, 0, sizeof h);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	int mnt = 0;
	return report(n, SC(__NR_name_to_handle_at, AT_FDCWD, "/", &h.fh, &mnt, 0), 0);
}
/* name_to_handle_at("/") then open_by_handle_at(); if the first step is
 * refused a dummy handle is used so that open_by_handle_at is still sent. */
static int p_open_by_handle_at(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct { struct file_handle fh; unsigned char buf[MAX_HANDLE_SZ]; } h;
	memset(&h, 0, sizeof h);
	h.fh.handle_bytes = MAX_HANDLE_SZ;
	int mnt = 0;
	if (is_err(SC(__NR_name_to_handle_at, AT_FDCWD, "/", &h.fh, &mnt, 0))) {
		memset(&h, 0, sizeof h);
		h.fh.handle_bytes = 8;
		h.fh.handle_type = 1;
	}
	int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return out_err_at(n, errno, "open_root");
	long r = SC(__NR_open_by_handle_at, mfd, &h.fh, O_RDONLY | O_CLOEXEC);
	close(mfd);
	return report(n, r, R_FD);
}

/* ---- chmod family ---- */
/* open and openat: the mode register counts only when the flags create (O_CREAT,
 * __O_TMPFILE, and not O_PATH). The _junk probes open an existing file for reading with a
 * stale set-user-ID mode in the register, as jemalloc's syscall(SYS_open, path,
 * O_RDONLY|O_CLOEXEC) does; the _suid probes create one. */
#ifndef O_TMPFILE
#define O_TMPFILE (020000000 | O_DIRECTORY)
#endif
static int p_open_mode(const char *n, int c, char **v)
{
	(void)c; (void)v;
	int at = !strncmp(n, "openat", 6);
	long flags, mode;
	const char *path;
	if (strstr(n, "_junk")) {
		path = "/etc/passwd";
		flags = O_RDONLY | O_CLOEXEC;
		mode = 06000 | 0xdead00000000L;
	} else if (strstr(n, "_path_creat")) {
		path = "/etc/passwd";
		flags = O_PATH | O_CREAT | O_CLOEXEC;
		mode = 04755;
	} else if (strstr(n, "_tmpfile")) {
		path = "/tmp";
		flags = O_TMPFILE | O_RDWR | O_CLOEXEC;
		mode = 04755;
	} else {
		path = tmppath(n);
		unlink(path);
		flags = O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC;
		mode = 04755;
	}
	fflush(stdout);
	long r = at ? SC(__NR_openat, AT_FDCWD, path, flags, mode)
		    : SC(__NR_open, path, flags, mode);
	if (!is_err(r))
		close((int)r);
	if (!strstr(n, "_junk") && !strstr(n, "_path_creat") && !strstr(n, "_tmpfile"))
		unlink(path);
	return report(n, r, 0);
}

static int p_chmod(const char *n, int c, char **v)
{
	(void)c; (void)v;
	unsigned long mode;
	if (strstr(n, "_suid"))
		mode = 04755;
	else if (strstr(n, "_sgid"))
		mode = 02755;
	else
		mode = 0755;
	if (strstr(n, "_high"))
		mode |= HIGH32;
	const char *path = tmppath(n);
	int fd = -1;
	int e = make_file(path, &fd);
	if (e < 0)
		return out_err_at(n, -e, "create");
	long r;
	if (!strncmp(n, "chmod_", 6))
		r = SC(__NR_chmod, path, mode);
	else if (!strncmp(n, "fchmodat2_", 10))
		r = SC(__NR_fchmodat2, AT_FDCWD, path, mode, 0);
	else if (!strncmp(n, "fchmodat_", 9))
		r = SC(__NR_fchmodat, AT_FDCWD, path, mode);
	else /* fchmod_ */
		r = SC(__NR_fchmod, fd, mode);
	close(fd);
	unlink(path);
	return report(n, r, 0);
}
static int do_mknod(const char *n, int at)
{
	const char *path = tmppath(n);
	unlink(path);
	long r = at ? SC(__NR_mknodat, AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 3))
		    : SC(__NR_mknod, path, S_IFCHR | 0600, makedev(1, 3));
	unlink(path);
	return report(n, r, 0);
}
static int p_mknod_dev(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_mknod(n, 0);
}
static int p_mknodat_dev(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return do_mknod(n, 1);
}

/* ---- seccomp ---- */
static struct sock_filter allow_insn[1] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_fprog allow_prog = { 1, allow_insn };
static int p_seccomp_filter(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &allow_prog), 0);
}
static int p_prctl_seccomp(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
			    &allow_prog, 0, 0), 0);
}

/* ---- system administration: every call is made harmless ---- */
static int p_kexec_load(const char *n, int c, char **v)
{
	(void)c; (void)v;
	/* 1000 segments and a foreign arch: EINVAL after the CAP_SYS_BOOT check */
	return report(n, SC(__NR_kexec_load, 0, 1000, NULL, KEXEC_ARCH_386), 0);
}
static int p_init_module(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static char img[8];
	return report(n, SC(__NR_init_module, img, 0, ""), 0);
}
static int p_finit_module(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_finit_module, -1, "", 0), 0);
}
static int p_delete_module(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_delete_module, "syscage_probe_none", O_NONBLOCK), 0);
}
static int p_reboot(const char *n, int c, char **v)
{
	(void)c; (void)v;
	/* CAD_OFF: EINVAL in a non-initial pid namespace; in the initial one
	 * it sets kernel.ctrl-alt-del to 0 (no reboot happens). */
	return report(n, SC(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			    LINUX_REBOOT_CMD_CAD_OFF, NULL), 0);
}
static int p_swapon(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_swapon, "/syscage-probe-no-such-swapfile", 0), 0);
}
static int p_acct(const char *n, int c, char **v)
{
	(void)c; (void)v;
	/* a missing file: fails without turning accounting on or off */
	return report(n, SC(__NR_acct, "/syscage-probe-no-such-dir/acct"), 0);
}
static int p_settimeofday(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_settimeofday, NULL, NULL), 0);
}
static int p_clock_settime(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct timespec ts = { 0, 0 };
	return report(n, SC(__NR_clock_settime, -1, &ts), 0);
}
static int p_iopl(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_iopl, 0), 0);
}
static int p_ioperm(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_ioperm, 0x80, 1, 0), 0); /* turn off: harmless */
}
static int p_syslog(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_syslog, SYSLOG_ACTION_SIZE_BUFFER, NULL, 0), R_VALUE);
}
static int p_mbind(const char *n, int c, char **v)
{
	(void)c; (void)v;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return out_err_at(n, errno, "mmap");
	return report(n, SC(__NR_mbind, p, 4096, MPOL_DEFAULT, NULL, 0, 0), 0);
}
static int p_set_mempolicy(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_set_mempolicy, MPOL_DEFAULT, NULL, 0), 0);
}
static int p_migrate_pages(const char *n, int c, char **v)
{
	(void)c; (void)v;
	unsigned long from = 1, to = 1;
	return report(n, SC(__NR_migrate_pages, 0, 64, &from, &to), R_VALUE);
}
static int p_move_pages(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static char page[4096] __attribute__((aligned(4096))) = { 1 };
	void *pages[1] = { page };
	int status[1] = { 0 };
	return report(n, SC(__NR_move_pages, 0, 1, pages, NULL, status, 0), 0);
}
static int p_lookup_dcookie(const char *n, int c, char **v)
{
	(void)c; (void)v;
	char buf[64];
	return report(n, SC(NR_lookup_dcookie, 0, buf, sizeof buf), 0);
}
static int p_quotactl(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_quotactl, QCMD_(Q_SYNC_CMD, USRQUOTA_T), NULL, 0, NULL), 0);
}
static int p_nfsservctl(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(NR_nfsservctl, 0, NULL, NULL), 0);
}
static int p_uselib(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(NR_uselib, "/syscage-probe-no-such-lib"), 0);
}
static int p_ustat(const char *n, int c, char **v)
{
	(void)c; (void)v;
	char buf[64];
	struct stat st;
	long dev = 0;
	if (stat("/", &st) == 0)
		dev = (long)st.st_dev;
	return report(n, SC(NR_ustat, dev, buf), 0);
}
static int p_sysfs(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(NR_sysfs, 3), R_VALUE); /* number of fs types */
}
static int p__sysctl(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(NR__sysctl, NULL), 0);
}
static int p_memfd_secret(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_memfd_secret, 0), R_FD);
}
static int p_pidfd_getfd(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long pfd = SC(__NR_pidfd_open, SC(__NR_getpid), 0);
	if (is_err(pfd))
		pfd = -1; /* still send pidfd_getfd: EBADF if reached */
	long r = SC(__NR_pidfd_getfd, pfd, 1, 0);
	if (pfd >= 0)
		close((int)pfd);
	return report(n, r, R_FD);
}
static int p_process_madvise(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long pfd = SC(__NR_pidfd_open, SC(__NR_getpid), 0);
	if (is_err(pfd))
		pfd = -1;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return out_err_at(n, errno, "mmap");
	memset(p, 1, 4096);
	struct iovec iov = { p, 4096 };
	long r = SC(__NR_process_madvise, pfd, &iov, 1, MADV_COLD_, 0);
	if (pfd >= 0)
		close((int)pfd);
	return report(n, r, R_VALUE);
}
static int p_fanotify_init(const char *n, int c, char **v)
{
	(void)c; (void)v;
	return report(n, SC(__NR_fanotify_init, FAN_CLASS_NOTIF, O_RDONLY), R_FD);
}
static int p_modify_ldt(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static char buf[64];
	return report(n, SC(__NR_modify_ldt, 0, buf, sizeof buf), R_VALUE);
}
static int p_lsm_get_self_attr(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static uint64_t buf[512];
	uint32_t size = sizeof buf;
	return report(n, SC(__NR_lsm_get_self_attr, LSM_ATTR_CURRENT, buf, &size, 0),
		      R_VALUE);
}
static int p_mseal(const char *n, int c, char **v)
{
	(void)c; (void)v;
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return out_err_at(n, errno, "mmap");
	return report(n, SC(__NR_mseal, p, 4096, 0), 0);
}
/* Outside a uretprobe trampoline the kernel answers uretprobe() with SIGILL;
 * catching it proves the call got past the filter. */
static volatile sig_atomic_t got_sigill;
static void on_sigill(int s) { (void)s; got_sigill = 1; }
static int p_uretprobe(const char *n, int c, char **v)
{
	(void)c; (void)v;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigill;
	sigaction(SIGILL, &sa, NULL);
	fflush(stdout);
	long r = SC(__NR_uretprobe);
	if (got_sigill) {
		line("%s: ok sigill", n);
		return 0;
	}
	return report(n, r, 0);
}

/* ---- other ABIs ---- */
static int p_i386_getpid(const char *n, int c, char **v)
{
	(void)c; (void)v;
	fflush(stdout);
	return out_raw(n, rsys32(NR32_getpid, 0, 0, 0));
}
static int p_i386_socketcall(const char *n, int c, char **v)
{
	(void)c; (void)v;
	uint32_t *args = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (args == MAP_FAILED)
		return out_err_at(n, errno, "mmap32");
	args[0] = AF_VSOCK;
	args[1] = SOCK_STREAM;
	args[2] = 0;
	fflush(stdout);
	long r = rsys32(NR32_socketcall, 1 /* SYS_SOCKET */, (long)(uintptr_t)args, 0);
	return report(n, r, R_FD);
}
static int p_i386_unshare(const char *n, int c, char **v)
{
	(void)c; (void)v;
	fflush(stdout);
	return report(n, rsys32(NR32_unshare, CLONE_NEWUSER, 0, 0), 0);
}
static int p_x32_getpid(const char *n, int c, char **v)
{
	(void)c; (void)v;
	fflush(stdout);
	return out_raw(n, SC(__NR_getpid | X32_BIT));
}
static int p_x32_unshare(const char *n, int c, char **v)
{
	(void)c; (void)v;
	fflush(stdout);
	return report(n, SC(__NR_unshare | X32_BIT, CLONE_NEWUSER), 0);
}

/* ---- workloads ---- */
static int thr_pipe[2];
static void *thr_main(void *arg)
{
	(void)arg;
	struct timespec ts;
	for (int i = 0; i < 100; i++) {
		SC(__NR_getpid);
		SC(__NR_clock_gettime, CLOCK_MONOTONIC, &ts);
	}
	long r = SC(__NR_write, thr_pipe[1], "t", 1);
	return (void *)(intptr_t)(r == 1 ? 0 : 1);
}
static int p_threads(const char *n, int c, char **v)
{
	long cnt = argl(c, v, 2, 8);
	if (cnt < 1 || cnt > 4096)
		cnt = 8;
	if (pipe(thr_pipe) < 0)
		return out_err_at(n, errno, "pipe");
	pthread_t *t = calloc((size_t)cnt, sizeof *t);
	long started = 0, failed = 0;
	for (long i = 0; i < cnt; i++) {
		int e = pthread_create(&t[i], NULL, thr_main, NULL);
		if (e) {
			for (long j = 0; j < started; j++)
				pthread_join(t[j], NULL);
			return out_err_at(n, e, "pthread_create");
		}
		started++;
	}
	for (long i = 0; i < started; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		if (rv)
			failed++;
	}
	char buf[4096];
	long got = 0;
	while (got < started - failed) {
		ssize_t k = read(thr_pipe[0], buf, sizeof buf);
		if (k <= 0)
			break;
		got += k;
	}
	if (failed)
		return out_err_at(n, EIO, "thread_write");
	return out_okv(n, got);
}
static int p_fork_exec(const char *n, int c, char **v)
{
	const char *path = c > 2 ? v[2] : "/bin/true";
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return out_err_at(n, errno, "fork");
	if (pid == 0) {
		char *args[] = { (char *)path, NULL };
		execv(path, args);
		_exit(127);
	}
	int st = reap(pid);
	return out_okv(n, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static int tcp_port;
static int tcp_client_err;
static const char *tcp_client_step = "";
static void *tcp_client(void *arg)
{
	(void)arg;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		tcp_client_err = errno;
		tcp_client_step = "client_socket";
		return NULL;
	}
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)tcp_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[8] = { 0 };
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
		tcp_client_err = errno;
		tcp_client_step = "connect";
	} else if (write(s, "ping", 4) != 4) {
		tcp_client_err = errno ? errno : EIO;
		tcp_client_step = "client_send";
	} else if (read(s, buf, 4) != 4 || memcmp(buf, "pong", 4)) {
		tcp_client_err = errno ? errno : EIO;
		tcp_client_step = "client_recv";
	}
	close(s);
	return NULL;
}
static int p_tcp_loopback(const char *n, int c, char **v)
{
	(void)c; (void)v;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		return out_err_at(n, errno, "socket");
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0)
		return out_err_at(n, errno, "bind");
	if (listen(ls, 4) < 0)
		return out_err_at(n, errno, "listen");
	if (getsockname(ls, (struct sockaddr *)&a, &al) < 0)
		return out_err_at(n, errno, "getsockname");
	tcp_port = ntohs(a.sin_port);
	pthread_t t;
	int e = pthread_create(&t, NULL, tcp_client, NULL);
	if (e)
		return out_err_at(n, e, "pthread_create");
	int cs = accept(ls, NULL, NULL);
	int serr = 0;
	const char *sstep = "";
	char buf[8] = { 0 };
	if (cs < 0) {
		serr = errno;
		sstep = "accept";
		shutdown(ls, SHUT_RDWR);
	} else {
		if (read(cs, buf, 4) != 4 || memcmp(buf, "ping", 4)) {
			serr = errno ? errno : EIO;
			sstep = "server_recv";
		} else if (write(cs, "pong", 4) != 4) {
			serr = errno ? errno : EIO;
			sstep = "server_send";
		}
	}
	pthread_join(t, NULL);
	if (cs >= 0)
		close(cs);
	close(ls);
	if (tcp_client_err)
		return out_err_at(n, tcp_client_err, tcp_client_step);
	if (serr)
		return out_err_at(n, serr, sstep);
	return out_ok(n);
}

static int p_mmap_file(const char *n, int c, char **v)
{
	(void)c; (void)v;
	const size_t sz = 1 << 20;
	const char *path = tmppath("mmap");
	int fd = -1;
	int e = make_file(path, &fd);
	if (e < 0)
		return out_err_at(n, -e, "create");
	char *blk = malloc(65536);
	for (size_t i = 0; i < 65536; i++)
		blk[i] = (char)(i * 7 + 3);
	for (size_t off = 0; off < sz; off += 65536)
		if (write(fd, blk, 65536) != 65536) {
			e = errno ? errno : EIO;
			close(fd);
			unlink(path);
			return out_err_at(n, e, "write");
		}
	char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		e = errno;
		close(fd);
		unlink(path);
		return out_err_at(n, e, "mmap");
	}
	const char *step = NULL;
	for (size_t i = 0; i < sz; i++)
		if (m[i] != blk[i % 65536]) {
			step = "verify";
			e = EIO;
			break;
		}
	if (!step) {
		m[12345] = 'Z';
		if (msync(m, sz, MS_SYNC) < 0) {
			e = errno;
			step = "msync";
		}
	}
	if (munmap(m, sz) < 0 && !step) {
		e = errno;
		step = "munmap";
	}
	if (!step) {
		char ch = 0;
		if (pread(fd, &ch, 1, 12345) != 1 || ch != 'Z') {
			e = EIO;
			step = "verify_msync";
		}
	}
	close(fd);
	unlink(path);
	free(blk);
	if (step)
		return out_err_at(n, e, step);
	return out_ok(n);
}

static int p_status(const char *n, int c, char **v)
{
	(void)c; (void)v;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return out_err_at(n, errno, "open");
	char buf[512];
	int any = 0;
	while (fgets(buf, sizeof buf, f)) {
		if (strncmp(buf, "Cap", 3) && strncmp(buf, "NoNewPrivs", 10) &&
		    strncmp(buf, "Seccomp", 7))
			continue;
		buf[strcspn(buf, "\n")] = 0;
		printf("%s: %s\n", n, buf);
		any = 1;
	}
	fclose(f);
	fflush(stdout);
	if (!any)
		return out_err_at(n, ENODATA, "parse");
	return 0;
}

/* Bytes readable from `path` (at most 64 KiB), 0 if it is not there. */
static long readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	char buf[4096];
	long total = 0;
	ssize_t r;
	while (total < 65536 && (r = read(fd, buf, sizeof buf)) > 0)
		total += r;
	close(fd);
	return total;
}

static const char *fs_kind(const char *path)
{
	struct statfs s;
	if (statfs(path, &s) < 0)
		return errname(errno);
	switch ((unsigned long)s.f_type) {
	case 0x9fa0: return "proc";
	case 0x62656572: return "sysfs";
	case 0x01021994: return "tmpfs";
	default: return "other";
	}
}

/* The walls set up around the command, in one line: whether /proc/sys opens for writing,
 * how many bytes the masked /proc files give, and what /proc, /sys and /dev are. */
static int p_walls(const char *n, int c, char **v)
{
	(void)c; (void)v;
	int fd = open("/proc/sys/kernel/core_pattern", O_WRONLY | O_CLOEXEC);
	const char *w = fd < 0 ? errname(errno) : "WRITABLE";
	if (fd >= 0)
		close(fd);
	long masked = readable("/proc/keys") + readable("/proc/timer_list") +
		      readable("/proc/interrupts") + readable("/proc/sched_debug");
	printf("%s: proc_sys=%s masked=%ld proc=%s sys=%s dev=%s\n", n, w, masked,
	       fs_kind("/proc"), fs_kind("/sys"), fs_kind("/dev"));
	return 0;
}

/* open(PATH, O_WRONLY) without writing: whether the file is writable to this process. */
static int p_open_write(const char *n, int c, char **v)
{
	if (c < 3)
		return out_err_at(n, EINVAL, "usage");
	int fd = open(v[2], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return out_err(n, errno);
	close(fd);
	return out_ok(n);
}

static int p_deny_loop(const char *n, int c, char **v)
{
	long cnt = argl(c, v, 2, 1000);
	const char *what = c > 3 ? v[3] : "keyctl";
	long failed = 0;
	int last = 0;
	for (long i = 0; i < cnt; i++) {
		long r;
		if (!strcmp(what, "bpf"))
			r = SC(__NR_bpf, BPF_MAP_CREATE, NULL, 0);
		else if (!strcmp(what, "getpid"))
			r = SC(__NR_getpid);
		else
			r = SC(__NR_keyctl, KEYCTL_GET_KEYRING_ID,
			       KEY_SPEC_SESSION_KEYRING, 0);
		if (is_err(r)) {
			failed++;
			last = (int)-r;
		}
	}
	line("%s: ok value=%ld errno=%d", n, failed, last);
	return 0;
}

/* many_values ioctl|prctl [N=100]: N distinct ioctl requests on /dev/null (ENOTTY
 * from the kernel) or N distinct unknown prctl options (EINVAL): more values than learn
 * keeps for one call.  value = how many the filter refused (EPERM). */
static int p_many_values(const char *n, int c, char **v)
{
	const char *what = c > 2 ? v[2] : "ioctl";
	long cnt = argl(c, v, 3, 100);
	int fd = open("/dev/null", O_RDONLY);
	long refused = 0;
	if (fd < 0)
		return out_err_at(n, errno, "open");
	for (long i = 0; i < cnt; i++) {
		long r;
		if (!strcmp(what, "prctl"))
			r = SC(__NR_prctl, 1000 + i, 0, 0, 0, 0);
		else
			r = SC(__NR_ioctl, fd, 0x7000 + i, 0);
		if (r == -EPERM)
			refused++;
	}
	close(fd);
	return out_okv(n, refused);
}

struct deny_arg {
	long count;
	long failed;
};

static void *deny_thread(void *p)
{
	struct deny_arg *a = p;
	for (long i = 0; i < a->count; i++) {
		long r = SC(__NR_keyctl, KEYCTL_GET_KEYRING_ID,
			    KEY_SPEC_SESSION_KEYRING, 0);
		if (is_err(r))
			a->failed++;
	}
	return NULL;
}

/* deny_threads N M: N threads make M denied calls each at once. */
static int p_deny_threads(const char *n, int c, char **v)
{
	long nt = argl(c, v, 2, 8), m = argl(c, v, 3, 1000), failed = 0;
	pthread_t t[256];
	struct deny_arg a[256];
	if (nt > 256)
		nt = 256;
	for (long i = 0; i < nt; i++) {
		a[i].count = m;
		a[i].failed = 0;
		if (pthread_create(&t[i], NULL, deny_thread, &a[i]) != 0) {
			line("%s: blocked errno=%d (%s) at pthread_create", n, errno, errname(errno));
			return 0;
		}
	}
	for (long i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		failed += a[i].failed;
	}
	line("%s: ok value=%ld", n, failed);
	return 0;
}

/* deny_and_exit: a thread loops on a denied call while the process exits after 20 ms,
 * so it leaves with notifications pending. */
static int p_deny_and_exit(const char *n, int c, char **v)
{
	(void)c; (void)v;
	static struct deny_arg a = { 1L << 40, 0 };
	pthread_t t;
	pthread_create(&t, NULL, deny_thread, &a);
	usleep(20000);
	line("%s: ok", n);
	fflush(stdout);
	_exit(0);
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* bench [N=200000]: nanoseconds per call of getpid, fchmod, personality(query) and
 * ioctl(TCGETS), each made N times in a loop through the raw syscall instruction. */
static int p_bench(const char *n, int c, char **v)
{
	long cnt = argl(c, v, 2, 200000);
	char path[] = "/tmp/probe-bench-XXXXXX";
	int fd = mkstemp(path);
	int nul = open("/dev/null", O_RDONLY);
	char t[64];
	double r[5];
	if (fd < 0 || nul < 0) {
		line("%s: blocked errno=%d (%s) at open", n, errno, errname(errno));
		return 0;
	}
	unlink(path);
	for (int k = 0; k < 5; k++) {
		/* warm up, then measure */
		for (int pass = 0; pass < 2; pass++) {
			double t0 = now_ns();
			for (long i = 0; i < cnt; i++) {
				switch (k) {
				case 0: SC(__NR_getpid); break;
				case 1: SC(__NR_fchmod, fd, 0644); break;
				case 2: SC(__NR_personality, 0xffffffffUL); break;
				case 3: SC(__NR_ioctl, nul, TCGETS, t); break;
				/* AF_INET with a flag no kernel knows: the filter checks the
				 * family, then the kernel answers EINVAL before making anything */
				default: SC(__NR_socket, AF_INET, SOCK_STREAM | 0x40000000, 0); break;
				}
			}
			r[k] = (now_ns() - t0) / (double)cnt;
		}
	}
	line("%s: getpid=%.1f fchmod=%.1f personality=%.1f ioctl=%.1f socket=%.1f", n, r[0], r[1], r[2], r[3], r[4]);
	return 0;
}

static int p_sleep_forever(const char *n, int c, char **v)
{
	(void)n; (void)c; (void)v;
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}
static int p_spin(const char *n, int c, char **v)
{
	(void)n; (void)c; (void)v;
	fflush(stdout);
	for (;;)
		__asm__ volatile("" ::: "memory");
	return 0;
}
static int p_exit(const char *n, int c, char **v)
{
	(void)n;
	fflush(stdout);
	exit((int)argl(c, v, 2, 0));
}

static int signum(const char *s)
{
	static const struct { const char *n; int s; } sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
		{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
		{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
		{ "XCPU", SIGXCPU }, { "SYS", SIGSYS },
	};
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!strcasecmp(s, sigs[i].n))
			return sigs[i].s;
	return (int)strtol(s, NULL, 0);
}
static int p_kill_self(const char *n, int c, char **v)
{
	int sig = c > 2 ? signum(v[2]) : SIGTERM;
	if (sig <= 0 || sig >= 65) {
		fprintf(stderr, "probe: kill_self: bad signal\n");
		return 2;
	}
	fflush(stdout);
	if (sig != SIGKILL && sig != SIGSTOP)
		signal(sig, SIG_DFL);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, sig);
	sigprocmask(SIG_UNBLOCK, &ss, NULL);
	long r = SC(__NR_kill, SC(__NR_getpid), sig);
	if (is_err(r))
		return out_err(n, (int)-r);
	/* still alive: the default action of sig is to ignore (or stop) */
	return out_okv(n, sig);
}

static int p_zombies(const char *n, int c, char **v)
{
	long cnt = argl(c, v, 2, 5);
	fflush(stdout);
	signal(SIGCHLD, SIG_DFL); /* SIG_IGN would auto-reap them */
	long made = 0;
	int err = 0;
	for (long i = 0; i < cnt; i++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0)
			_exit(0);
		made++;
	}
	sleep(1);
	if (err)
		line("%s: ok value=%ld blocked errno=%d (%s)", n, made, err, errname(err));
	else
		out_okv(n, made);
	return 0;
}

static volatile sig_atomic_t got_term;
static void on_term(int s) { (void)s; got_term = 1; }
static int p_sigterm_wait(const char *n, int c, char **v)
{
	(void)c; (void)v;
	sigset_t blk, old;
	sigemptyset(&blk);
	sigaddset(&blk, SIGTERM);
	sigprocmask(SIG_BLOCK, &blk, &old);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	line("%s: ready", n);
	sigdelset(&old, SIGTERM);
	while (!got_term)
		sigsuspend(&old);
	line("%s: got SIGTERM", n);
	return 0;
}

/* A hostile container given the user's terminal: on stdin, stdout and stderr, line
 * discipline N_NULL, O_NONBLOCK on the open file description, ECHO and ICANON off, a 1x1
 * window, exclusive mode.  value = how many of the 15 changes were made. */
static int p_tty_wreck(const char *n, int c, char **v)
{
	(void)c; (void)v;
	int done = 0;
	for (int fd = 0; fd <= 2; fd++) {
		int nnull = 27; /* N_NULL */
		if (ioctl(fd, TIOCSETD, &nnull) == 0)
			done++;
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
			done++;
		struct termios t;
		if (tcgetattr(fd, &t) == 0) {
			t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
			if (tcsetattr(fd, TCSANOW, &t) == 0)
				done++;
		}
		struct winsize w = { 1, 1, 0, 0 };
		if (ioctl(fd, TIOCSWINSZ, &w) == 0)
			done++;
		if (ioctl(fd, TIOCEXCL) == 0)
			done++;
	}
	return out_okv(n, done);
}
/* Stop the container's init: attach to pid 1 and exit without detaching (the init stays
 * in a group stop).  Needs --cap-add SYS_PTRACE. */
static int p_ptrace_stop_init(const char *n, int c, char **v)
{
	(void)c; (void)v;
	long r = SC(__NR_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0);
	if (is_err(r))
		return out_err_at(n, (int)-r, "attach");
	int st;
	if (waitpid(1, &st, __WALL) != 1)
		return out_err_at(n, errno, "waitpid");
	/* Let the SIGSTOP through: a group stop, which outlives the tracer. */
	r = SC(__NR_ptrace, 7 /* PTRACE_CONT */, 1, 0, SIGSTOP);
	if (is_err(r))
		return out_err_at(n, (int)-r, "cont");
	if (waitpid(1, &st, __WALL) != 1)
		return out_err_at(n, errno, "waitpid");
	return out_ok(n);
}

static int p_alloc(const char *n, int c, char **v)
{
	long mb = argl(c, v, 2, 16);
	if (mb < 0)
		mb = 0;
	fflush(stdout);
	size_t sz = (size_t)mb << 20;
	char *p = malloc(sz ? sz : 1);
	if (!p)
		return out_err_at(n, errno ? errno : ENOMEM, "malloc");
	memset(p, 0x5a, sz);
	/* keep the stores from being optimised away */
	__asm__ volatile("" : : "r"(p) : "memory");
	long ok = sz ? p[sz - 1] == 0x5a : 1;
	free(p);
	if (!ok)
		return out_err_at(n, EIO, "verify");
	return out_okv(n, mb);
}

static int p_forkbomb(const char *n, int c, char **v)
{
	long cnt = argl(c, v, 2, 100);
	if (cnt < 0)
		cnt = 0;
	pid_t *kids = calloc((size_t)cnt + 1, sizeof *kids);
	long made = 0;
	int err = 0;
	pid_t parent = getpid();
	fflush(stdout);
	for (long i = 0; i < cnt; i++) {
		pid_t p = fork();
		if (p < 0) {
			err = errno;
			break;
		}
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			struct timespec ts = { 5, 0 };
			nanosleep(&ts, NULL);
			_exit(0);
		}
		kids[made++] = p;
	}
	for (long i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < made; i++)
		reap(kids[i]);
	free(kids);
	if (err)
		line("%s: ok value=%ld blocked errno=%d (%s)", n, made, err, errname(err));
	else
		out_okv(n, made);
	return 0;
}

/* ------------------------------------------------------------------ */
/* table                                                               */

static const struct probe {
	const char *name;
	probe_fn fn;
	const char *help;
} probes[] = {
#define P(name, fn, help) { name, fn, help },
	P("getpid", p_getpid, "raw getpid; prints raw=R (R = -100 under ERRNO(100))")
	P("unshare0", p_unshare0, "unshare(0)")
	P("unshare_userns", p_unshare_userns, "unshare(CLONE_NEWUSER)")
	P("unshare_mountns", p_unshare_mountns, "unshare(CLONE_NEWNS)")
	P("unshare_userns_high", p_unshare_userns_high, "unshare(CLONE_NEWUSER | 1<<32)")
	P("unshare_net", p_unshare_net, "unshare(CLONE_NEWNET)")
	P("setns", p_setns, "setns(-1, 0)")
	P("clone_userns", p_clone_userns, "raw clone(CLONE_NEWUSER|SIGCHLD), child exits at once")
	P("clone_newns", p_clone_newns, "raw clone(CLONE_NEWNS|SIGCHLD)")
	P("clone_plain", p_clone_plain, "raw clone(SIGCHLD) (fork)")
	P("clone3_userns", p_clone3_userns, "raw clone3, flags CLONE_NEWUSER")
	P("clone3_plain", p_clone3_plain, "raw clone3, flags 0")
	P("mount_tmpfs", p_mount_tmpfs, "mount tmpfs on a fresh /tmp dir (unmounted again)")
	P("umount", p_umount, "umount2(fresh non-mount /tmp dir, MNT_DETACH): EINVAL if reached")
	P("fsopen", p_fsopen, "fsopen(\"tmpfs\", 0)")
	P("fsmount", p_fsmount, "fsmount(-1, 0, 0)")
	P("move_mount", p_move_mount, "move_mount(-1, \"\", -1, \"\", 0)")
	P("open_tree", p_open_tree, "open_tree(AT_FDCWD, \"/\", 0)")
	P("open_tree_attr", p_open_tree_attr, "open_tree_attr(AT_FDCWD, \"/\", 0, NULL, 0) (467)")
	P("mount_setattr", p_mount_setattr, "mount_setattr(-1, \"\", 0, NULL, 0)")
	P("statmount", p_statmount, "statmount() of the root mount (457)")
	P("listmount", p_listmount, "listmount(LSMT_ROOT) (458); value = mounts listed")
	P("pivot_root", p_pivot_root, "pivot_root(\".\", \".\") in a fresh non-mount /tmp dir: never succeeds (EBUSY/EINVAL if reached)")
	P("chroot", p_chroot, "chroot(\"/\")")
	P("tiocsti", p_tiocsti, "ioctl(new pty slave made ctty, TIOCSTI, \"x\")")
	P("tiocsti_high", p_tiocsti_high, "same, request TIOCSTI | 1<<32")
	P("tiocsti_stdin", p_tiocsti_stdin, "ioctl(0, TIOCSTI, \"#\"): push input into the terminal the container was given")
	P("tioclinux", p_tioclinux, "ioctl(pty, TIOCLINUX, &6) (ENOTTY on a pty if reached)")
	P("tioclinux_high", p_tioclinux_high, "same, request TIOCLINUX | 1<<32")
	P("tiocgwinsz", p_tiocgwinsz, "ioctl(pty, TIOCGWINSZ) (must be ok)")
	P("tcgets", p_tcgets, "ioctl(pty, TCGETS) (must be ok)")
	P("vhangup", p_vhangup, "vhangup() after dropping any controlling tty")
	P("socketpair_unix", p_socketpair, "socketpair(AF_UNIX, SOCK_DGRAM, 0) (must be ok)")
	P("socketpair_vsock", p_socketpair, "socketpair(AF_VSOCK=40, SOCK_DGRAM, 0)")
	P("socketpair_vsock_high", p_socketpair, "socketpair(40 | 1<<32, SOCK_DGRAM, 0)")
	P("socketpair_tipc", p_socketpair, "socketpair(AF_TIPC=30, SOCK_DGRAM, 0)")
	P("socket_unix", p_socket, "socket(AF_UNIX, SOCK_STREAM, 0)")
	P("socket_inet", p_socket, "socket(AF_INET, SOCK_STREAM, 0)")
	P("socket_inet6", p_socket, "socket(AF_INET6, SOCK_STREAM, 0)")
	P("socket_vsock", p_socket, "socket(AF_VSOCK=40, SOCK_STREAM, 0)")
	P("socket_vsock_high", p_socket, "socket(40 | 1<<32, SOCK_STREAM, 0)")
	P("socket_alg", p_socket, "socket(AF_ALG=38, SOCK_SEQPACKET, 0)")
	P("socket_alg_high", p_socket, "socket(38 | 1<<32, SOCK_SEQPACKET, 0)")
	P("socket_netlink", p_socket, "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)")
	P("socket_packet", p_socket, "socket(AF_PACKET, SOCK_RAW, 0)")
	P("socket_bluetooth", p_socket, "socket(AF_BLUETOOTH=31, SOCK_SEQPACKET, 0)")
	P("socket_kcm", p_socket, "socket(AF_KCM=41, SOCK_DGRAM, 0)")
	P("socket_rds", p_socket, "socket(AF_RDS=21, SOCK_SEQPACKET, 0)")
	P("socket_tipc", p_socket, "socket(AF_TIPC=30, SOCK_RDM, 0)")
	P("socket_raw_inet", p_socket, "socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)")
	P("io_uring_setup", p_io_uring_setup, "io_uring_setup(1, &params)")
	P("io_uring_enter", p_io_uring_enter, "io_uring_enter(-1, ...)")
	P("io_uring_register", p_io_uring_register, "io_uring_register(-1, ...)")
	P("keyctl", p_keyctl, "keyctl(KEYCTL_GET_KEYRING_ID, session)")
	P("add_key", p_add_key, "add_key(\"user\", ..., process keyring)")
	P("request_key", p_request_key, "request_key(\"user\", missing key): ENOKEY if reached")
	P("userfaultfd", p_userfaultfd, "userfaultfd(0)")
	P("perf_event_open", p_perf_event_open, "perf_event_open(sw task-clock, self)")
	P("bpf", p_bpf, "bpf(BPF_PROG_LOAD, 2-insn socket filter)")
	P("ptrace_traceme", p_ptrace_traceme, "ptrace(PTRACE_TRACEME)")
	P("init_inject", p_init_inject, "ptrace(PTRACE_ATTACH, 1) and make the init run unshare(CLONE_NEWUSER)")
	P("ptrace_attach", p_ptrace_attach, "ptrace(PTRACE_ATTACH) to a forked sleeping child")
	P("process_vm_readv", p_process_vm_readv, "process_vm_readv on own pid; value = bytes")
	P("kcmp", p_kcmp, "kcmp(self, self, KCMP_VM)")
	P("personality_query", p_personality, "personality(0xffffffff) (must be ok)")
	P("personality_linux", p_personality, "personality(PER_LINUX)")
	P("personality_addr_no_randomize", p_personality, "personality(ADDR_NO_RANDOMIZE)")
	P("personality_read_implies_exec", p_personality, "personality(READ_IMPLIES_EXEC)")
	P("personality_high", p_personality, "personality(PER_LINUX | 1<<32)")
	P("name_to_handle_at", p_name_to_handle_at, "name_to_handle_at(AT_FDCWD, \"/\")")
	P("open_by_handle_at", p_open_by_handle_at, "open_by_handle_at with the handle of \"/\" (dummy handle if that fails)")
	P("open_junk", p_open_mode, "open(/etc/passwd, O_RDONLY|O_CLOEXEC) with a stale mode 06000 (must be ok)")
	P("openat_junk", p_open_mode, "openat(AT_FDCWD, /etc/passwd, O_RDONLY|O_CLOEXEC) with a stale mode 06000 (must be ok)")
	P("open_path_creat", p_open_mode, "open(/etc/passwd, O_PATH|O_CREAT, 04755): O_PATH drops O_CREAT (must be ok)")
	P("open_creat_suid", p_open_mode, "open(/tmp file, O_CREAT|O_EXCL|O_WRONLY, 04755)")
	P("openat_creat_suid", p_open_mode, "openat(AT_FDCWD, /tmp file, O_CREAT|O_EXCL|O_WRONLY, 04755)")
	P("openat_tmpfile_suid", p_open_mode, "openat(AT_FDCWD, /tmp, O_TMPFILE|O_RDWR, 04755)")
	P("chmod_suid", p_chmod, "chmod(/tmp file, 04755)")
	P("chmod_sgid", p_chmod, "chmod(/tmp file, 02755)")
	P("chmod_plain", p_chmod, "chmod(/tmp file, 0755) (must be ok)")
	P("fchmod_suid", p_chmod, "fchmod(fd, 04755)")
	P("fchmod_sgid", p_chmod, "fchmod(fd, 02755)")
	P("fchmod_plain", p_chmod, "fchmod(fd, 0755) (must be ok)")
	P("fchmod_suid_high", p_chmod, "fchmod(fd, 04755 | 1<<32) (kernel truncates umode_t)")
	P("fchmodat_suid", p_chmod, "fchmodat(AT_FDCWD, path, 04755)")
	P("fchmodat_sgid", p_chmod, "fchmodat(AT_FDCWD, path, 02755)")
	P("fchmodat2_suid", p_chmod, "fchmodat2(AT_FDCWD, path, 04755, 0) (452)")
	P("fchmodat2_sgid", p_chmod, "fchmodat2(AT_FDCWD, path, 02755, 0)")
	P("fchmodat2_plain", p_chmod, "fchmodat2(AT_FDCWD, path, 0755, 0) (must be ok)")
	P("mknod_dev", p_mknod_dev, "mknod(/tmp/..., S_IFCHR, 1:3)")
	P("mknodat_dev", p_mknodat_dev, "mknodat(AT_FDCWD, /tmp/..., S_IFCHR, 1:3)")
	P("seccomp_filter", p_seccomp_filter, "seccomp(SECCOMP_SET_MODE_FILTER, 0, allow-all)")
	P("prctl_seccomp", p_prctl_seccomp, "prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, allow-all)")
	P("kexec_load", p_kexec_load, "kexec_load with invalid args (EINVAL if reached with CAP_SYS_BOOT)")
	P("init_module", p_init_module, "init_module(empty image): ENOEXEC if reached")
	P("finit_module", p_finit_module, "finit_module(-1): EBADF if reached")
	P("delete_module", p_delete_module, "delete_module(missing): ENOENT if reached")
	P("reboot", p_reboot, "reboot(LINUX_REBOOT_CMD_CAD_OFF)")
	P("swapon", p_swapon, "swapon(missing file)")
	P("acct", p_acct, "acct(missing file)")
	P("settimeofday", p_settimeofday, "settimeofday(NULL, NULL)")
	P("clock_settime", p_clock_settime, "clock_settime(-1, ...): EINVAL if reached")
	P("iopl", p_iopl, "iopl(0)")
	P("ioperm", p_ioperm, "ioperm(0x80, 1, 0)")
	P("syslog", p_syslog, "syslog(SYSLOG_ACTION_SIZE_BUFFER); value = size")
	P("mbind", p_mbind, "mbind(page, MPOL_DEFAULT)")
	P("set_mempolicy", p_set_mempolicy, "set_mempolicy(MPOL_DEFAULT)")
	P("migrate_pages", p_migrate_pages, "migrate_pages(self, node0 -> node0)")
	P("move_pages", p_move_pages, "move_pages(self, query one page)")
	P("lookup_dcookie", p_lookup_dcookie, "lookup_dcookie (212; removed in 6.x)")
	P("quotactl", p_quotactl, "quotactl(Q_SYNC, NULL)")
	P("nfsservctl", p_nfsservctl, "nfsservctl (180; ENOSYS)")
	P("uselib", p_uselib, "uselib(missing) (134)")
	P("ustat", p_ustat, "ustat(dev of /) (136)")
	P("sysfs", p_sysfs, "sysfs(3) (139); value = fs type count")
	P("_sysctl", p__sysctl, "_sysctl(NULL) (156; ENOSYS)")
	P("memfd_secret", p_memfd_secret, "memfd_secret(0)")
	P("pidfd_getfd", p_pidfd_getfd, "pidfd_getfd(pidfd_open(self), 1)")
	P("process_madvise", p_process_madvise, "process_madvise(pidfd self, page, MADV_COLD)")
	P("fanotify_init", p_fanotify_init, "fanotify_init(FAN_CLASS_NOTIF)")
	P("modify_ldt", p_modify_ldt, "modify_ldt(0 = read); value = bytes")
	P("lsm_get_self_attr", p_lsm_get_self_attr, "lsm_get_self_attr(LSM_ATTR_CURRENT) (459)")
	P("mseal", p_mseal, "mseal(fresh page) (462)")
	P("uretprobe", p_uretprobe, "uretprobe() (335); `ok sigill` = reached the kernel")
	P("i386_getpid", p_i386_getpid, "getpid via int $0x80 (eax=20); prints raw=R")
	P("i386_socketcall", p_i386_socketcall, "socketcall(SYS_SOCKET, AF_VSOCK) via int $0x80 (eax=102)")
	P("i386_unshare", p_i386_unshare, "unshare(CLONE_NEWUSER) via int $0x80 (eax=310)")
	P("x32_getpid", p_x32_getpid, "getpid as x32 (39|0x40000000); prints raw=R")
	P("x32_unshare", p_x32_unshare, "unshare as x32 (272|0x40000000)")
	P("threads", p_threads, "threads [N=8]: N pthreads doing syscalls; value = N")
	P("fork_exec", p_fork_exec, "fork_exec [PATH=/bin/true]; value = exit status")
	P("tcp_loopback", p_tcp_loopback, "TCP ping/pong over 127.0.0.1")
	P("mmap_file", p_mmap_file, "write/mmap/verify/msync/munmap 1 MiB /tmp file")
	P("walls", p_walls, "one line: /proc/sys writable?, bytes of masked /proc files, kinds of /proc, /sys, /dev")
	P("open_write", p_open_write, "open_write PATH: open(PATH, O_WRONLY), nothing written")
	P("status", p_status, "Cap*, NoNewPrivs, Seccomp lines of /proc/self/status (several lines)")
	P("bench", p_bench, "bench [N=200000]: ns per getpid, fchmod, personality(query), ioctl(TCGETS), socket(AF_INET, bad flag)")
	P("many_values", p_many_values, "many_values ioctl|prctl [N=100]: N distinct requests or options; value = refused")
	P("deny_loop", p_deny_loop, "deny_loop [N=1000] [keyctl|bpf|getpid]; value = failures")
	P("deny_threads", p_deny_threads, "deny_threads [N=8] [M=1000]: N threads deny M keyctl calls each; value = failures")
	P("deny_and_exit", p_deny_and_exit, "a thread denies keyctl in a loop while the process exits after 20 ms")
	P("sleep_forever", p_sleep_forever, "pause() forever")
	P("spin", p_spin, "busy loop forever")
	P("exit", p_exit, "exit CODE")
	P("kill_self", p_kill_self, "kill_self SIG (number or name)")
	P("zombies", p_zombies, "zombies [N=5]: fork N children, never wait; value = N")
	P("sigterm_wait", p_sigterm_wait, "print ready, wait for SIGTERM (two lines)")
	P("alloc", p_alloc, "alloc [MB=16]: malloc + touch; value = MB")
	P("forkbomb", p_forkbomb, "forkbomb [N=100]: fork N sleepers; value = created")
	P("tty_wreck", p_tty_wreck, "break the terminal on fds 0-2 (ldisc, O_NONBLOCK, termios, window, TIOCEXCL); value = changes made")
	P("ptrace_stop_init", p_ptrace_stop_init, "PTRACE_ATTACH pid 1 and exit, leaving it stopped")
#undef P
};

int main(int argc, char **argv)
{
	size_t np = sizeof probes / sizeof probes[0];
	if (argc < 2) {
		fprintf(stderr, "usage: probe NAME [ARGS] | probe list\n");
		return 2;
	}
	if (!strcmp(argv[1], "list")) {
		for (size_t i = 0; i < np; i++)
			if (probes[i].fn)
				printf("%s\n", probes[i].name);
		return 0;
	}
	if (!strcmp(argv[1], "help")) {
		for (size_t i = 0; i < np; i++)
			if (probes[i].fn)
				printf("%-30s %s\n", probes[i].name, probes[i].help);
		return 0;
	}
	for (size_t i = 0; i < np; i++)
		if (probes[i].fn && !strcmp(argv[1], probes[i].name)) {
			fflush(stdout);
			int rc = probes[i].fn(probes[i].name, argc, argv);
			fflush(stdout);
			return rc;
		}
	fprintf(stderr, "probe: unknown probe '%s' (try: probe list)\n", argv[1]);
	return 2;
}

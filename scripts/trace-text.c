// Which of a program's instructions run: single-steps the program (ptrace) and every
// process it forks or clones, each until it executes another program, and prints the
// offset from the program's load address of each distinct instruction address inside its
// executable mapping, one hexadecimal number per line. Used by scripts/hot-functions.sh.
//
//   trace-text PROGRAM [ARG...] > offsets
//
// Slow (a few million steps a minute): for a short run only.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PID (1 << 22)

static unsigned long base, lo, hi;
static unsigned char *seen;
static unsigned char stepping[MAX_PID];

// The executable's mappings in /proc/PID/maps: its lowest address and its r-xp range.
static int find_text(pid_t pid, const char *exe)
{
	char path[64], line[4096];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char real[4096];
	if (!realpath(exe, real))
		return -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		char perms[8];
		int name = 0;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &a, &b, perms, &name) < 3 || !name)
			continue;
		char *n = line + name;
		n[strcspn(n, "\n")] = 0;
		if (strcmp(n, real))
			continue;
		if (!base || a < base)
			base = a;
		if (!strcmp(perms, "r-xp")) {
			lo = a;
			hi = b;
		}
	}
	fclose(f);
	return lo ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: trace-text PROGRAM [ARG...]\n");
		return 2;
	}
	pid_t child = fork();
	if (child == 0) {
		ptrace(PTRACE_TRACEME, 0, 0, 0);
		raise(SIGSTOP);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	int st;
	waitpid(child, &st, 0);
	ptrace(PTRACE_SETOPTIONS, child, 0,
	       PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		       PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
	ptrace(PTRACE_CONT, child, 0, 0);
	int live = 1, started = 0;
	while (live > 0) {
		pid_t p = waitpid(-1, &st, __WALL);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			live--;
			continue;
		}
		if (!WIFSTOPPED(st) || p >= MAX_PID)
			continue;
		int sig = WSTOPSIG(st), event = st >> 16, pass = 0;
		if (event == PTRACE_EVENT_CLONE || event == PTRACE_EVENT_FORK ||
		    event == PTRACE_EVENT_VFORK) {
			unsigned long np;
			ptrace(PTRACE_GETEVENTMSG, p, 0, &np);
			if (np < MAX_PID)
				stepping[np] = stepping[p];
			live++;
		} else if (event == PTRACE_EVENT_EXEC) {
			if (p == child && !started) {
				if (find_text(p, argv[1])) {
					fprintf(stderr, "trace-text: cannot find the text of %s\n", argv[1]);
					return 1;
				}
				seen = calloc(hi - lo, 1);
				started = stepping[p] = 1;
			} else {
				stepping[p] = 0;
			}
		} else if (sig != SIGTRAP && !(sig == SIGSTOP && event == 0)) {
			pass = sig;
		}
		if (stepping[p]) {
			struct user_regs_struct r;
			if (ptrace(PTRACE_GETREGS, p, 0, &r) == 0 && r.rip >= lo && r.rip < hi)
				seen[r.rip - lo] = 1;
			ptrace(PTRACE_SINGLESTEP, p, 0, pass);
		} else {
			ptrace(PTRACE_CONT, p, 0, pass);
		}
	}
	for (unsigned long i = 0; seen && i < hi - lo; i++)
		if (seen[i])
			printf("%lx\n", lo - base + i);
	return 0;
}

/*
 * The one symbol Debian's libseccomp.a needs that musl does not have: the
 * _FORTIFY_SOURCE form of fprintf, which libseccomp's text output (`syscage profile
 * show --pfc`, through seccomp_export_pfc) was compiled to call. Same output; the
 * flag only asks glibc to check %n formats, and libseccomp's formats are its own.
 * Built by scripts/build-release.sh with the compiler's own <stdarg.h>, no libc headers.
 */
#include <stdarg.h>

struct musl_file;
int vfprintf(struct musl_file *f, const char *fmt, va_list ap);

int __fprintf_chk(struct musl_file *f, int flag, const char *fmt, ...)
{
	va_list ap;
	int r;

	(void)flag;
	va_start(ap, fmt);
	r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

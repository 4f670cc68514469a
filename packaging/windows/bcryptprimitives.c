/*
 * A stand-in for Windows' bcryptprimitives.dll for Wine 8 (Debian bookworm), which lacks it: the Go 1.26
 * runtime gets its random bytes from ProcessPrng there. Test-only (scripts/test.d/80-wine.sh builds it
 * into the Wine prefix's system32 with x86_64-w64-mingw32-gcc); it is never shipped. It forwards to
 * RtlGenRandom (advapi32's SystemFunction036), which Wine implements.
 */
#include <windows.h>

extern BOOLEAN WINAPI SystemFunction036(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}

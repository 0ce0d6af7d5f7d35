/*
 * A stand-in for Windows 10's bcryptprimitives.dll, for running minirt's
 * Windows test binaries under Wine 8 (Debian bookworm), which lacks it.
 *
 * Rust's std (1.78 and later) imports ProcessPrng from bcryptprimitives.dll
 * to seed HashMap keys; without the DLL no Rust program starts under that
 * Wine ("Library bcryptprimitives.dll ... not found"). This DLL exports
 * ProcessPrng and fills the buffer from RtlGenRandom (advapi32's
 * SystemFunction036), which Wine has. Used only by .ci/wine.sh, never shipped.
 */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

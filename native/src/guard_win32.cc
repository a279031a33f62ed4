// Fault-guarded access to mapped memory on Win32.
//
// A read of a mapped view raises EXCEPTION_IN_PAGE_ERROR when the page cannot be brought in (the
// network share went away, the device failed, the file was cut short under us), and
// EXCEPTION_ACCESS_VIOLATION if the view is gone. MSVC would use __try/__except; mingw-w64 g++
// has no SEH keywords, so recovery works like a kernel exception table instead:
//
//  - Every guarded byte is moved by ONE instruction, `rep movsb`, in a tiny assembly routine
//    (hexmap_guarded_movsb) whose only memory accesses are the source and destination ranges.
//  - A vectored exception handler, installed first in the chain, looks at the faulting
//    instruction pointer. If (and only if) it is that `rep movsb` and the exception is an
//    in-page error or an access violation, it rewrites the CONTEXT: Rip = the routine's fault
//    exit, Rax = the exception code, and resumes (EXCEPTION_CONTINUE_EXECUTION). The routine
//    then returns the code normally through its own epilogue, so the stack is exactly as it
//    would be after a successful copy: no longjmp over C++ frames, no per-thread state, no
//    allocation inside the handler, and the exception dispatcher unwinds itself through
//    NtContinue as it was designed to.
//  - Every other exception (C++ throws, V8's WebAssembly traps, faults anywhere else) gets
//    EXCEPTION_CONTINUE_SEARCH and travels on to its usual handler.
//
// `rep movsb` is restartable: at a fault, Rsi/Rdi/Rcx describe how far it got, so the copy is
// correct up to the faulting page, and Windows x64 guarantees the direction flag is clear on entry.
// Under Wine, a page past the end of a file truncated by a Linux process raises SIGBUS, which
// Wine reports as EXCEPTION_ACCESS_VIOLATION: both codes are handled alike.
//
// An MSVC build (node-gyp on Windows, via binding.gyp) uses __try/__except around memcpy instead.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include "mapping.h"

#include <atomic>
#include <cstring>

#if defined(_MSC_VER)
// MSVC (a native node-gyp build on Windows) has structured exception handling in the language.
namespace {
int FilterFault(unsigned long code) {
  return code == EXCEPTION_IN_PAGE_ERROR || code == EXCEPTION_ACCESS_VIOLATION ? EXCEPTION_EXECUTE_HANDLER
                                                                               : EXCEPTION_CONTINUE_SEARCH;
}
unsigned long GuardedMove(void* dst, const void* src, size_t n) {
  __try {
    std::memcpy(dst, src, n);
  } __except (FilterFault(GetExceptionCode())) {
    return GetExceptionCode();
  }
  return 0;
}
}  // namespace
#else
#if !defined(__x86_64__)
#error "the mingw-w64 build of guard_win32.cc supports x86-64 only (its guarded copy is x86-64 assembly)"
#endif

extern "C" {
// Returns 0 after copying n bytes, or the exception code (EXCEPTION_IN_PAGE_ERROR,
// EXCEPTION_ACCESS_VIOLATION) if the copy faulted.
unsigned long hexmap_guarded_movsb(void* dst, const void* src, size_t n);
extern const char hexmap_guarded_movsb_insn[];   // the `rep movsb`
extern const char hexmap_guarded_movsb_after[];  // the instruction after it
extern const char hexmap_guarded_movsb_fault[];  // where a faulting copy resumes
}

// Win64 ABI: rcx=dst, rdx=src, r8=n; rsi/rdi are callee-saved. The .seh_* directives give the
// routine proper unwind data so stack walks (debuggers, crash dumps) stay correct through it.
asm(R"(
    .text
    .p2align 4
    .globl hexmap_guarded_movsb
    .globl hexmap_guarded_movsb_insn
    .globl hexmap_guarded_movsb_after
    .globl hexmap_guarded_movsb_fault
    .def hexmap_guarded_movsb; .scl 2; .type 32; .endef
    .seh_proc hexmap_guarded_movsb
hexmap_guarded_movsb:
    pushq %rsi
    .seh_pushreg %rsi
    pushq %rdi
    .seh_pushreg %rdi
    .seh_endprologue
    movq %rcx, %rdi
    movq %rdx, %rsi
    movq %r8, %rcx
    xorl %eax, %eax
hexmap_guarded_movsb_insn:
    rep movsb
hexmap_guarded_movsb_after:
hexmap_guarded_movsb_fault:
    popq %rdi
    popq %rsi
    ret
    .seh_endproc
)");

namespace {

std::atomic<PVOID> g_handler{nullptr};

LONG CALLBACK OnException(EXCEPTION_POINTERS* info) {
  if (!info || !info->ExceptionRecord || !info->ContextRecord) return EXCEPTION_CONTINUE_SEARCH;
  const DWORD code = info->ExceptionRecord->ExceptionCode;
  if (code != EXCEPTION_IN_PAGE_ERROR && code != EXCEPTION_ACCESS_VIOLATION) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  CONTEXT* ctx = info->ContextRecord;
  const DWORD64 rip = ctx->Rip;
  if (rip < reinterpret_cast<DWORD64>(hexmap_guarded_movsb_insn) ||
      rip >= reinterpret_cast<DWORD64>(hexmap_guarded_movsb_after)) {
    return EXCEPTION_CONTINUE_SEARCH;
  }
  // Only the source and destination are touched there; the fault is in a guarded range.
  ctx->Rip = reinterpret_cast<DWORD64>(hexmap_guarded_movsb_fault);
  ctx->Rax = code;
  return EXCEPTION_CONTINUE_EXECUTION;
}

unsigned long GuardedMove(void* dst, const void* src, size_t n) {
  hexmap::InstallFaultGuard();
  return hexmap_guarded_movsb(dst, src, n);
}

}  // namespace
#endif

namespace hexmap {
namespace {

bool Guarded(void* dst, const void* src, size_t n, OsError* err, bool write) {
  if (n == 0) return true;
  const unsigned long code = GuardedMove(dst, src, n);
  if (code == 0) return true;
  if (err) {
    err->code = "EIO";
    err->syscall = write ? "write" : "read";
    err->errnum = static_cast<int64_t>(code);
    if (code == EXCEPTION_IN_PAGE_ERROR) {
      err->message = write ? "I/O error while writing to the mapped file: the file may have been "
                             "truncated, or its disk or network share failed."
                           : "I/O error while reading the mapped file: the file may have been "
                             "truncated, or its disk or network share failed.";
    } else {
      // Wine reports a page past the end of a truncated file this way too.
      err->message = write ? "Cannot write to the mapped file here: the memory is no longer accessible "
                             "(the file may have been truncated by another program)."
                           : "Cannot read the mapped file here: the memory is no longer accessible "
                             "(the file may have been truncated by another program).";
    }
  }
  return false;
}

}  // namespace

#if defined(_MSC_VER)
void InstallFaultGuard() {}  // __try/__except needs no process-wide handler
#else
void InstallFaultGuard() {
  if (g_handler.load(std::memory_order_acquire)) return;
  static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
  InitOnceExecuteOnce(
      &once,
      [](PINIT_ONCE, PVOID, PVOID*) -> BOOL {
        // First in the chain: a guarded fault must be recovered before anyone else (a crash
        // reporter, V8) looks at it; everything else we pass on untouched.
        g_handler.store(AddVectoredExceptionHandler(1, OnException), std::memory_order_release);
        return TRUE;
      },
      nullptr, nullptr);
}
#endif

bool GuardedCopy(void* dst, const void* src, size_t n, OsError* err) { return Guarded(dst, src, n, err, false); }

bool GuardedWrite(void* dst, const void* src, size_t n, OsError* err) { return Guarded(dst, src, n, err, true); }

}  // namespace hexmap

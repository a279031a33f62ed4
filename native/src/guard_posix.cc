// Fault-guarded access to mapped memory on POSIX.
//
// Touching a page of a MAP_SHARED view past the end of a file that another process truncated
// raises SIGBUS. A process-wide SIGBUS/SIGSEGV handler checks whether the faulting thread is
// inside a guarded copy whose source or destination range contains the faulting address; if so
// it siglongjmps back into GuardedAccess, which reports EIO. Every other fault is passed on to
// the handler that was installed before ours (Node/V8 use SIGSEGV for WebAssembly bounds traps),
// or, if there was none, to the default action.
//
// Rules that keep the jump sound:
//  - GuardedAccess's frame and memcpy hold no C++ objects with destructors, so skipping them
//    with siglongjmp leaks nothing; the OsError is filled only after the jump has landed.
//  - The per-thread state is a single pointer in initial-exec TLS: reading it in a signal
//    handler never allocates (a dlopen'ed library's general-dynamic TLS may malloc on first use).
//  - sigsetjmp(..., 1) saves the signal mask, so returning by siglongjmp unblocks the signal.
#include "mapping.h"

#include <atomic>
#include <cstring>
#include <mutex>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unistd.h>

namespace hexmap {
namespace {

struct GuardFrame {
  sigjmp_buf jump;
  const volatile uint8_t* srcLo;
  const volatile uint8_t* srcHi;
  const volatile uint8_t* dstLo;
  const volatile uint8_t* dstHi;
  void* volatile faultAddress;
  volatile int faultSignal;
};

__attribute__((tls_model("initial-exec"))) thread_local GuardFrame* volatile t_frame = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local bool t_unblocked = false;

struct sigaction g_previousBus;
struct sigaction g_previousSegv;
std::atomic<bool> g_installed{false};

uintptr_t g_pageMask = 4095;  // set at install time (PageSize() - 1)

const volatile uint8_t* PageDown(const void* p) {
  return reinterpret_cast<const volatile uint8_t*>(reinterpret_cast<uintptr_t>(p) & ~g_pageMask);
}
const volatile uint8_t* PageUp(const void* p) {
  return reinterpret_cast<const volatile uint8_t*>((reinterpret_cast<uintptr_t>(p) + g_pageMask) & ~g_pageMask);
}

bool InRange(const void* a, const volatile uint8_t* lo, const volatile uint8_t* hi) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(a);
  return p >= reinterpret_cast<uintptr_t>(lo) && p < reinterpret_cast<uintptr_t>(hi);
}

// Hands a fault we do not own to whoever handled it before us.
void Chain(int sig, siginfo_t* info, void* context) {
  const struct sigaction& prev = (sig == SIGBUS) ? g_previousBus : g_previousSegv;
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) {
      prev.sa_sigaction(sig, info, context);
      return;
    }
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN && prev.sa_handler) {
    prev.sa_handler(sig);
    return;
  }
  // No previous handler (or SIG_IGN, which cannot apply to a real fault): restore the default
  // action. A hardware fault re-executes the instruction on return and dies with the right
  // signal and address; a signal sent with kill() is raised again (it stays blocked until this
  // handler returns, then is delivered with the default action).
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  (void)sigaction(sig, &dfl, nullptr);
  if (info == nullptr || info->si_code <= 0) (void)raise(sig);
}

void OnFault(int sig, siginfo_t* info, void* context) {
  GuardFrame* frame = t_frame;
  if (frame != nullptr && info != nullptr && info->si_code > 0) {
    const void* addr = info->si_addr;
    if (InRange(addr, frame->srcLo, frame->srcHi) || InRange(addr, frame->dstLo, frame->dstHi)) {
      t_frame = nullptr;
      frame->faultAddress = info->si_addr;
      frame->faultSignal = sig;
      siglongjmp(frame->jump, 1);
    }
  }
  Chain(sig, info, context);
}

void InstallOnce() {
  g_pageMask = static_cast<uintptr_t>(PageSize()) - 1;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = OnFault;
  sigemptyset(&sa.sa_mask);
  // SA_ONSTACK: if a thread runs on an alternate signal stack (stack overflow handling), use it.
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  (void)sigaction(SIGBUS, &sa, &g_previousBus);
  (void)sigaction(SIGSEGV, &sa, &g_previousSegv);
  g_installed.store(true, std::memory_order_release);
}

// A synchronous SIGBUS/SIGSEGV that is blocked kills the process regardless of handlers, so
// make sure the calling thread (often a libuv pool thread) does not block them.
void EnsureUnblocked() {
  if (t_unblocked) return;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGBUS);
  sigaddset(&set, SIGSEGV);
  (void)pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  t_unblocked = true;
}

// Returns 0 on success, or the signal number that interrupted the copy. Deliberately free of
// objects with destructors; noinline keeps its frame (and the jump buffer) separate.
__attribute__((noinline)) int GuardedAccess(void* dst, const void* src, size_t n,
                                            void* volatile* faultAddress) {
  GuardFrame frame;
  // Whole pages: a vectorized memcpy may touch a faulting page through an aligned access that
  // starts a little before `src`; any fault in these pages belongs to this copy.
  frame.srcLo = PageDown(src);
  frame.srcHi = PageUp(static_cast<const uint8_t*>(src) + n);
  frame.dstLo = PageDown(dst);
  frame.dstHi = PageUp(static_cast<const uint8_t*>(dst) + n);
  frame.faultAddress = nullptr;
  frame.faultSignal = 0;
  GuardFrame* volatile previous = t_frame;
  if (sigsetjmp(frame.jump, 1) != 0) {
    t_frame = previous;
    *faultAddress = frame.faultAddress;
    return frame.faultSignal;
  }
  t_frame = &frame;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(dst, src, n);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_frame = previous;
  return 0;
}

bool Guarded(void* dst, const void* src, size_t n, bool writing, OsError* err) {
  if (n == 0) return true;
  if (!g_installed.load(std::memory_order_acquire)) InstallFaultGuard();
  EnsureUnblocked();
  void* volatile faultAddress = nullptr;
  int sig = GuardedAccess(dst, src, n, &faultAddress);
  if (sig == 0) return true;
  if (err) {
    err->code = "EIO";
    err->syscall.clear();
    err->errnum = 0;
    err->message = writing
                       ? "Cannot write at this offset: the file changed on disk and these bytes "
                         "are no longer there (another program truncated it). Reopen the file."
                       : "Cannot read at this offset: the file changed on disk and these bytes "
                         "are no longer there (another program truncated it). Reopen the file.";
  }
  return false;
}

}  // namespace

void InstallFaultGuard() {
  static std::once_flag once;
  std::call_once(once, InstallOnce);
}

bool GuardedCopy(void* dst, const void* src, size_t n, OsError* err) {
  return Guarded(dst, src, n, false, err);
}

bool GuardedWrite(void* dst, const void* src, size_t n, OsError* err) {
  return Guarded(dst, src, n, true, err);
}

}  // namespace hexmap

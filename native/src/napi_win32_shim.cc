// Node-API from the host process, for the mingw-w64 build of hexmap.node.
//
// A Windows addon normally links against node.lib, an import library naming "node.exe"; the
// loader then looks for a module called node.exe, which does not exist in Electron (electron.exe,
// or whatever the app is called) nor in a renamed node. MSVC builds fix that with a delay-load
// hook; here there is no import of node.exe at all. scripts/build-win32.js generates, from
// node-api-headers' .def files, one slot and one trampoline per Node-API export:
//
//     __imp_napi_foo:  .quad hexmap_napi_lazy_<i>       (what a dllimport call goes through)
//     napi_foo:        jmp *__imp_napi_foo(%rip)        (for callers without dllimport)
//
// Every slot starts at a lazy stub that calls hexmap_napi_resolve(i) (below) with the argument
// registers saved, stores the host's address in the slot and jumps there; DllMain fills all the
// slots up front so the stubs only matter if something calls Node-API before DllMain ran. The
// host is the process's .exe (GetModuleHandleW(NULL)), which is where node.exe and Electron
// export Node-API; an embedder that keeps Node in libnode.dll / node.dll is found next.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern "C" {
// Generated (build/win32/napi_win32_trampolines.S).
extern void* hexmap_napi_table[];
extern const char* const hexmap_napi_names[];
extern const unsigned hexmap_napi_count;
void* hexmap_napi_resolve(unsigned index);
}

namespace {

std::atomic<HMODULE> g_host{nullptr};

// The module that exports Node-API: the .exe itself (node.exe, electron.exe, any renamed copy),
// else a shared-library build of Node loaded into the process.
HMODULE FindHost() {
  HMODULE h = g_host.load(std::memory_order_acquire);
  if (h) return h;
  const wchar_t* const candidates[] = {nullptr, L"libnode.dll", L"node.dll"};
  for (const wchar_t* name : candidates) {
    HMODULE m = GetModuleHandleW(name);
    if (m && GetProcAddress(m, "napi_create_function")) {
      g_host.store(m, std::memory_order_release);
      return m;
    }
  }
  return nullptr;
}

[[noreturn]] void Missing(const char* name) {
  // Reached only if the addon calls a Node-API function the host does not export: an older
  // Node.js, or a host that is not Node/Electron at all. There is no JS to throw into yet.
  char msg[512];
  const char* why = FindHost() ? "the host process does not export it (Node.js too old?)"
                               : "the host process is not Node.js or Electron (no Node-API exports)";
  int n = std::snprintf(msg, sizeof msg, "hexmap.node: cannot resolve Node-API function %s: %s\n", name, why);
  if (n > 0) {
    DWORD written = 0;
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    if (err && err != INVALID_HANDLE_VALUE) WriteFile(err, msg, static_cast<DWORD>(n), &written, nullptr);
    OutputDebugStringA(msg);
  }
  std::abort();
}

void* Lookup(unsigned i) {
  HMODULE host = FindHost();
  return host ? reinterpret_cast<void*>(GetProcAddress(host, hexmap_napi_names[i])) : nullptr;
}

void ResolveAll() {
  for (unsigned i = 0; i < hexmap_napi_count; i++) {
    // Functions newer than the host stay lazy: they fail only if actually called.
    if (void* p = Lookup(i)) hexmap_napi_table[i] = p;
  }
}

}  // namespace

extern "C" void* hexmap_napi_resolve(unsigned index) {
  void* p = Lookup(index);
  if (!p) Missing(hexmap_napi_names[index]);
  // Aligned pointer store: atomic on x86-64; racing resolvers store the same value.
  __atomic_store_n(&hexmap_napi_table[index], p, __ATOMIC_RELEASE);
  return p;
}

extern "C" BOOL WINAPI DllMain(HINSTANCE, DWORD reason, LPVOID) {
  // GetModuleHandleW and GetProcAddress are safe under the loader lock.
  if (reason == DLL_PROCESS_ATTACH) ResolveAll();
  return TRUE;
}

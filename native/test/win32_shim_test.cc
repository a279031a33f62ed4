// Test of the Node-API host shim (napi_win32_shim.cc + the generated trampolines), without Node.
//
// Built by `node scripts/build-win32.js --test-exe` as build/win32/shimtest/win32_shim_test.exe
// next to a fake host library, build/win32/shimtest/libnode.dll (this file with
// HEXMAP_FAKE_LIBNODE defined), which exports a few Node-API functions that record their
// arguments. In an .exe no DllMain runs, so every call here takes the lazy path: the first call
// of each function goes through its stub, which saves the argument registers (integer and xmm),
// resolves the host's export, and jumps to it; later calls go straight through the slot. It
// checks argument passing (a double in xmm1, eight arguments with four on the stack), both the
// dllimport (__imp_) and the direct (napi_x) entry points, and that a missing host or function
// ends the process with a message naming the function.
//
//   win32_shim_test.exe               run the checks (spawns itself for the fatal cases)
//   win32_shim_test.exe --no-host     call Node-API with no host loaded (must abort)
//   win32_shim_test.exe --missing     call a function the fake host lacks (must abort)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

typedef struct napi_env__* napi_env;
typedef struct napi_value__* napi_value;
typedef int napi_status;
typedef void* napi_callback;

#ifdef HEXMAP_FAKE_LIBNODE
// ---- the fake host: libnode.dll -------------------------------------------------------------
extern "C" {
__declspec(dllexport) double g_lastDouble = 0;
__declspec(dllexport) uint64_t g_lastSum = 0;

__declspec(dllexport) napi_status napi_create_function(napi_env, const char*, size_t, napi_callback, void*,
                                                       napi_value* result) {
  *result = reinterpret_cast<napi_value>(0xF00D);
  return 0;
}

__declspec(dllexport) napi_status napi_create_double(napi_env env, double value, napi_value* result) {
  g_lastDouble = value;
  *result = reinterpret_cast<napi_value>(env);
  return value == 2.5 ? 0 : 9;
}

// Eight arguments: four in registers, four on the stack.
__declspec(dllexport) napi_status napi_define_class(napi_env env, const char* name, size_t length,
                                                    napi_callback ctor, void* data, size_t count,
                                                    const void* props, napi_value* result) {
  g_lastSum = reinterpret_cast<uintptr_t>(env) + std::strlen(name) * 10 + length * 100 +
              reinterpret_cast<uintptr_t>(ctor) * 1000 + reinterpret_cast<uintptr_t>(data) * 10000 +
              count * 100000 + reinterpret_cast<uintptr_t>(props) * 1000000;
  *result = reinterpret_cast<napi_value>(0xC1A55);
  return 0;
}
}
#else
// ---- the test .exe --------------------------------------------------------------------------
extern "C" {
// Through the __imp_ slots, as node-api-headers declare them with BUILDING_NODE_EXTENSION.
__declspec(dllimport) napi_status napi_create_double(napi_env env, double value, napi_value* result);
__declspec(dllimport) napi_status napi_create_function(napi_env, const char*, size_t, napi_callback, void*,
                                                       napi_value*);
// Through the napi_x trampolines, as a caller without dllimport would.
napi_status napi_define_class(napi_env env, const char* name, size_t length, napi_callback ctor, void* data,
                              size_t count, const void* props, napi_value* result);
napi_status napi_get_uv_event_loop(napi_env env, void** loop);
extern void* hexmap_napi_table[];
}

namespace {
int g_passed = 0, g_failed = 0;
void Check(bool ok, const std::string& what, std::string detail = "") {
  (ok ? g_passed : g_failed)++;
  for (auto& c : detail) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  while (!detail.empty() && detail.back() == ' ') detail.pop_back();
  std::printf("  %s shim: %s%s%s\n", ok ? "ok  " : "FAIL", what.c_str(), detail.empty() ? "" : " -- ", detail.c_str());
  std::fflush(stdout);
}

// Runs this .exe with `arg`; returns its exit code and what it wrote to stderr.
DWORD RunSelf(const wchar_t* arg, std::string* errText) {
  wchar_t self[MAX_PATH];
  GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring cmd = L"\"" + std::wstring(self) + L"\" " + arg;
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE rd = nullptr, wr = nullptr;
  CreatePipe(&rd, &wr, &sa, 0);
  SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
  STARTUPINFOW si;
  std::memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  si.hStdOutput = wr;
  si.hStdError = wr;
  PROCESS_INFORMATION pi;
  std::wstring line = cmd;
  if (!CreateProcessW(nullptr, &line[0], nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si, &pi)) {
    CloseHandle(rd);
    CloseHandle(wr);
    return 0xFFFFFFFF;
  }
  CloseHandle(wr);
  char buf[4096];
  DWORD n = 0;
  while (ReadFile(rd, buf, sizeof buf, &n, nullptr) && n > 0) errText->append(buf, n);
  CloseHandle(rd);
  WaitForSingleObject(pi.hProcess, 30000);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return code;
}
}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  napi_value v = nullptr;
  if (mode == "--no-host") {
    napi_create_double(nullptr, 2.5, &v);  // no libnode.dll loaded, the .exe exports nothing
    std::printf("still alive\n");
    return 0;
  }
  if (!LoadLibraryW(L"libnode.dll")) {
    std::printf("cannot load the fake libnode.dll next to the test (error %lu)\n", GetLastError());
    return 2;
  }
  if (mode == "--missing") {
    void* loop = nullptr;
    napi_get_uv_event_loop(nullptr, &loop);  // not exported by the fake host
    std::printf("still alive\n");
    return 0;
  }

  std::printf("Node-API shim test\n");
  HMODULE host = GetModuleHandleW(L"libnode.dll");
  auto* lastDouble = reinterpret_cast<double*>(GetProcAddress(host, "g_lastDouble"));
  auto* lastSum = reinterpret_cast<uint64_t*>(GetProcAddress(host, "g_lastSum"));
  void* realDouble = reinterpret_cast<void*>(GetProcAddress(host, "napi_create_double"));

  // Lazy path (first call), then the resolved slot (second call).
  for (int round = 0; round < 2; round++) {
    const std::string r = round == 0 ? " (first call: lazy stub)" : " (second call: resolved slot)";
    napi_env env = reinterpret_cast<napi_env>(0x1234);
    napi_status st = napi_create_double(env, 2.5, &v);
    Check(st == 0 && *lastDouble == 2.5 && v == reinterpret_cast<napi_value>(0x1234),
          "a double argument in xmm1 arrives intact" + r, std::to_string(*lastDouble));
    st = napi_define_class(reinterpret_cast<napi_env>(1), "abc", 2, reinterpret_cast<napi_callback>(3),
                           reinterpret_cast<void*>(4), 5, reinterpret_cast<const void*>(6), &v);
    Check(st == 0 && *lastSum == 1 + 30 + 200 + 3000 + 40000 + 500000 + 6000000 &&
              v == reinterpret_cast<napi_value>(0xC1A55),
          "eight arguments (four on the stack) arrive intact" + r, std::to_string(*lastSum));
  }
  bool found = false;
  for (int i = 0; i < 400 && !found; i++) found = hexmap_napi_table[i] == realDouble;
  Check(found, "the slot now holds the host's address");
  Check(napi_create_function(nullptr, "f", 1, nullptr, nullptr, &v) == 0 && v == reinterpret_cast<napi_value>(0xF00D),
        "a host found as libnode.dll when the .exe exports no Node-API");

  std::string text;
  DWORD code = RunSelf(L"--missing", &text);
  Check(code != 0 && text.find("napi_get_uv_event_loop") != std::string::npos &&
            text.find("still alive") == std::string::npos,
        "a function the host lacks: the process ends, naming it", "exit " + std::to_string(code) + ": " + text);
  text.clear();
  code = RunSelf(L"--no-host", &text);
  Check(code != 0 && text.find("not Node.js or Electron") != std::string::npos &&
            text.find("still alive") == std::string::npos,
        "no Node-API host at all: the process ends with a message", "exit " + std::to_string(code) + ": " + text);

  std::printf("win32 shim: %d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
#endif

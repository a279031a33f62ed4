// Win32 backend of mapping.h: CreateFileW / CreateFileMappingW / MapViewOfFile, named sections.
// Never throws: every failure is reported through OsError (see mapping.h). Wide (W) calls only;
// UTF-8 from JS becomes UTF-16 in one place (Widen).
//
// Why the file-mapping object is not kept open: a section object on the file is created for each
// MapView, the view is mapped, and the section handle is closed at once (a mapped view keeps its
// section alive by itself). So the mapping always covers the file's *current* size (a file that
// grew is simply mapped again at its new size), there is no per-source lock, and when no view is
// mapped Hexmap holds nothing but a shared file handle -- other programs can still write,
// rename, delete or resize the file, which is what users expect of a viewer.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#include <winioctl.h>

#include "mapping.h"

#include <cstring>
#include <new>
#include <string>

namespace hexmap {

struct Source {
  SourceKind kind = SourceKind::File;
  bool writable = false;
  HANDLE file = INVALID_HANDLE_VALUE;  // disk file (kind File)
  HANDLE section = nullptr;            // named section (kind SharedMemory); keeps it alive
  uint64_t sectionSize = 0;            // exact size of the section, when known
  std::string name;                    // for messages
};

namespace {

const SYSTEM_INFO& SysInfo() {
  static const SYSTEM_INFO info = [] {
    SYSTEM_INFO si;
    std::memset(&si, 0, sizeof si);
    GetSystemInfo(&si);
    if (si.dwAllocationGranularity == 0) si.dwAllocationGranularity = 65536;
    if (si.dwPageSize == 0) si.dwPageSize = 4096;
    return si;
  }();
  return info;
}

// GetLastError() -> the stable code shared with the POSIX backend.
const char* Win32Code(DWORD e) {
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_UNIT:
    case ERROR_NOT_READY:
    case ERROR_DEV_NOT_EXIST:
      return "ENOENT";
    case ERROR_ACCESS_DENIED:
    case ERROR_INVALID_ACCESS:
    case ERROR_NETWORK_ACCESS_DENIED:
    case ERROR_CANT_ACCESS_FILE:
      return "EACCES";
    case ERROR_PRIVILEGE_NOT_HELD:
      return "EPERM";
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_USER_MAPPED_FILE:
    case ERROR_BUSY:
      return "EBUSY";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_NOT_ENOUGH_QUOTA:
      return "ENOMEM";
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return "ENOSPC";
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
      return "EEXIST";
    case ERROR_WRITE_PROTECT:
      return "EROFS";
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_BUFFER_OVERFLOW:
      return "ENAMETOOLONG";
    case ERROR_DIRECTORY:
      return "ENOTDIR";
    case ERROR_TOO_MANY_OPEN_FILES:
      return "EMFILE";
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_INVALID_HANDLE:
    case ERROR_MAPPED_ALIGNMENT:
    case ERROR_FILE_INVALID:
    case ERROR_NOT_SUPPORTED:
      return "EINVAL";
    case ERROR_CANT_RESOLVE_FILENAME:
      return "ELOOP";
    default:
      return "EIO";
  }
}

// A sentence-ending explanation aimed at the user, not the programmer.
std::string Explain(DWORD e) {
  switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
    case ERROR_INVALID_DRIVE:
      return "it does not exist";
    case ERROR_NOT_READY:
    case ERROR_DEV_NOT_EXIST:
      return "its drive is not available";
    case ERROR_ACCESS_DENIED:
    case ERROR_INVALID_ACCESS:
    case ERROR_NETWORK_ACCESS_DENIED:
    case ERROR_CANT_ACCESS_FILE:
      return "access is denied (check the file's permissions, or open it read-only)";
    case ERROR_PRIVILEGE_NOT_HELD:
      return "a privilege the process does not hold is required";
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return "another program has the file open exclusively (close it there and retry)";
    case ERROR_USER_MAPPED_FILE:
      return "the file is mapped by another program";
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_NOT_ENOUGH_QUOTA:
      return "not enough memory or address space (map a smaller window)";
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return "there is no space left on the device";
    case ERROR_WRITE_PROTECT:
      return "the media is write-protected (open it read-only)";
    case ERROR_FILENAME_EXCED_RANGE:
      return "the name is too long";
    case ERROR_DIRECTORY:
      return "a component of the path is not a directory";
    case ERROR_TOO_MANY_OPEN_FILES:
      return "too many files are open (close some and retry)";
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
      return "the name is not valid";
    case ERROR_FILE_INVALID:
      return "the file is no longer valid (it may have been truncated or removed)";
    default: {
      wchar_t* buf = nullptr;
      DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                                   FORMAT_MESSAGE_IGNORE_INSERTS,
                               nullptr, e, 0, reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
      std::string text;
      if (n && buf) {
        int len = WideCharToMultiByte(CP_UTF8, 0, buf, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
        if (len > 0) {
          text.resize(static_cast<size_t>(len));
          WideCharToMultiByte(CP_UTF8, 0, buf, static_cast<int>(n), &text[0], len, nullptr, nullptr);
        }
      }
      if (buf) LocalFree(buf);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                               text.back() == '.')) {
        text.pop_back();
      }
      if (text.empty()) text = "Windows error " + std::to_string(e);
      return text;
    }
  }
}

bool Fail(OsError* err, DWORD e, const char* syscall, const std::string& what) {
  if (err) {
    err->code = Win32Code(e);
    err->syscall = syscall;
    err->errnum = static_cast<int64_t>(e);
    err->message = what + ": " + Explain(e) + ".";
  }
  return false;
}

// Same as Fail, with a code chosen here rather than derived from the Win32 error.
bool FailAs(OsError* err, const char* code, DWORD e, const char* syscall, const std::string& message) {
  if (err) {
    err->code = code;
    err->syscall = syscall;
    err->errnum = static_cast<int64_t>(e);
    err->message = message;
  }
  return false;
}

bool FailPlain(OsError* err, const char* code, const std::string& message) {
  if (err) {
    err->code = code;
    err->syscall.clear();
    err->errnum = 0;
    err->message = message;
  }
  return false;
}

// The one UTF-8 -> UTF-16 conversion. Rejects invalid UTF-8 and embedded NULs.
bool Widen(const std::string& utf8, std::wstring* out) {
  out->clear();
  if (utf8.empty()) return true;
  if (utf8.find('\0') != std::string::npos) return false;
  if (utf8.size() > static_cast<size_t>(INT32_MAX)) return false;
  const int inLen = static_cast<int>(utf8.size());
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), inLen, nullptr, 0);
  if (n <= 0) return false;
  out->resize(static_cast<size_t>(n));
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), inLen, &(*out)[0], n) == n;
}

// Long absolute paths (>= MAX_PATH) get the \\?\ prefix so they open without the system-wide
// long-path opt-in. Only fully qualified paths qualify: \\?\ disables normalisation, so the
// slashes are turned into backslashes here and relative paths are left alone.
std::wstring ForOpen(std::wstring p) {
  if (p.size() < MAX_PATH - 12) return p;
  if (p.rfind(L"\\\\?\\", 0) == 0 || p.rfind(L"//?/", 0) == 0) return p;
  for (auto& c : p) {
    if (c == L'/') c = L'\\';
  }
  const bool drive = p.size() >= 3 && ((p[0] >= L'A' && p[0] <= L'Z') || (p[0] >= L'a' && p[0] <= L'z')) &&
                     p[1] == L':' && p[2] == L'\\';
  if (drive) return L"\\\\?\\" + p;
  if (p.rfind(L"\\\\", 0) == 0 && p.size() > 2 && p[2] != L'.' && p[2] != L'?') {
    return L"\\\\?\\UNC\\" + p.substr(2);  // \\server\share\x -> \\?\UNC\server\share\x
  }
  return p;
}

void SplitOffset(uint64_t offset, DWORD* high, DWORD* low) {
  *high = static_cast<DWORD>(offset >> 32);
  *low = static_cast<DWORD>(offset & 0xFFFFFFFFull);
}

Source* NewSource(SourceKind kind, bool writable) {
  Source* s = new (std::nothrow) Source;
  if (!s) return nullptr;
  s->kind = kind;
  s->writable = writable;
  return s;
}

// NtQuerySection(SectionBasicInformation) gives a section's exact size; it is in ntdll on every
// Windows (and Wine) but not in the SDK import libraries, so it is looked up once.
struct SectionBasicInformation {
  PVOID baseAddress;
  ULONG attributes;
  LARGE_INTEGER size;
};
using NtQuerySectionFn = LONG(WINAPI*)(HANDLE, int, PVOID, SIZE_T, PSIZE_T);

bool QuerySectionExact(HANDLE section, uint64_t* size) {
  static const NtQuerySectionFn fn = [] {
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll ? reinterpret_cast<NtQuerySectionFn>(
                       reinterpret_cast<void*>(GetProcAddress(ntdll, "NtQuerySection")))
                 : nullptr;
  }();
  if (!fn) return false;
  SectionBasicInformation info;
  std::memset(&info, 0, sizeof info);
  SIZE_T got = 0;
  if (fn(section, 0 /* SectionBasicInformation */, &info, sizeof info, &got) < 0) return false;
  if (info.size.QuadPart <= 0) return false;
  *size = static_cast<uint64_t>(info.size.QuadPart);
  return true;
}

// The size of a section: NtQuerySection when the handle allows SECTION_QUERY (exact on Windows,
// page-rounded under Wine), else the page-rounded size of a view of the whole section
// (VirtualQuery's RegionSize).
bool SectionSize(HANDLE section, bool writable, uint64_t* size, OsError* err, const std::string& name) {
  if (QuerySectionExact(section, size)) return true;
  void* p = MapViewOfFile(section, writable ? FILE_MAP_WRITE : FILE_MAP_READ, 0, 0, 0);
  if (!p) {
    DWORD e = GetLastError();
    return Fail(err, e, "MapViewOfFile", "Cannot map shared memory '" + name + "' to read its size");
  }
  MEMORY_BASIC_INFORMATION mbi;
  std::memset(&mbi, 0, sizeof mbi);
  SIZE_T r = VirtualQuery(p, &mbi, sizeof mbi);
  DWORD e = GetLastError();
  UnmapViewOfFile(p);
  if (r == 0) return Fail(err, e, "VirtualQuery", "Cannot read the size of shared memory '" + name + "'");
  *size = static_cast<uint64_t>(mbi.RegionSize);
  return true;
}

bool ValidSectionName(const std::string& utf8Name, std::wstring* wide, OsError* err) {
  if (utf8Name.empty() || !Widen(utf8Name, wide) || wide->size() > 32000) {
    return FailPlain(err, "EINVAL",
                     "Invalid shared-memory name '" + utf8Name +
                         "': use a non-empty name, optionally prefixed with Local\\ or Global\\.");
  }
  return true;
}

// Wraps an open section handle in a Source (which then owns it); closes the handle on failure.
bool AdoptSection(HANDLE h, bool writable, uint64_t size, const std::string& utf8Name, Source** out, OsError* err) {
  Source* s = NewSource(SourceKind::SharedMemory, writable);
  if (!s) {
    CloseHandle(h);
    return FailPlain(err, "ENOMEM", "Out of memory while opening shared memory.");
  }
  s->section = h;
  s->sectionSize = size;
  s->name = utf8Name;
  *out = s;
  return true;
}

}  // namespace

uint64_t AllocationGranularity() { return SysInfo().dwAllocationGranularity; }
uint64_t PageSize() { return SysInfo().dwPageSize; }
const char* BackendName() { return "win32"; }

bool OpenFile(const std::string& utf8Path, bool writable, Source** out, OsError* err) {
  *out = nullptr;
  std::wstring wpath;
  if (utf8Path.empty()) return FailPlain(err, "ENOENT", "Cannot open '': the path is empty.");
  if (!Widen(utf8Path, &wpath)) {
    return FailPlain(err, "EINVAL",
                     "Invalid path '" + utf8Path + "': it is not valid UTF-8 or contains a NUL character.");
  }
  wpath = ForOpen(std::move(wpath));
  const std::string what = "Cannot open '" + utf8Path + "'";

  // Share everything: other programs keep reading, writing, renaming and deleting the file.
  const DWORD access = GENERIC_READ | (writable ? GENERIC_WRITE : 0);
  const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
  HANDLE h = CreateFileW(wpath.c_str(), access, share, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL,
                         nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    // CreateFileW without FILE_FLAG_BACKUP_SEMANTICS refuses directories with ACCESS_DENIED.
    DWORD attrs = GetFileAttributesW(wpath.c_str());
    if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
      return FailAs(err, "EISDIR", e, "CreateFileW", what + ": it is a directory, not a file.");
    }
    if (e == ERROR_SHARING_VIOLATION || e == ERROR_LOCK_VIOLATION) {
      return FailAs(err, "EBUSY", e, "CreateFileW",
                    what + ": another program has the file open exclusively (close it there and retry).");
    }
    return Fail(err, e, "CreateFileW", what);
  }

  const DWORD type = GetFileType(h);
  if (type != FILE_TYPE_DISK) {
    DWORD e = GetLastError();
    CloseHandle(h);
    const char* kind = type == FILE_TYPE_PIPE   ? "a pipe"
                       : type == FILE_TYPE_CHAR ? "a character device"
                                                : "not a disk file";
    return FailAs(err, "EINVAL", type == FILE_TYPE_UNKNOWN ? e : 0, "GetFileType",
                  what + ": it is " + kind + ", not a regular file, and cannot be memory-mapped.");
  }
  BY_HANDLE_FILE_INFORMATION info;
  if (GetFileInformationByHandle(h, &info) && (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    CloseHandle(h);
    return FailAs(err, "EISDIR", 0, "CreateFileW", what + ": it is a directory, not a file.");
  }

  Source* s = NewSource(SourceKind::File, writable);
  if (!s) {
    CloseHandle(h);
    return FailPlain(err, "ENOMEM", "Out of memory while opening '" + utf8Path + "'.");
  }
  s->file = h;
  s->name = utf8Path;
  *out = s;
  return true;
}

bool CreateSharedMemory(const std::string& utf8Name, uint64_t size, Source** out, bool* existed,
                        OsError* err) {
  *out = nullptr;
  *existed = false;
  std::wstring wname;
  if (!ValidSectionName(utf8Name, &wname, err)) return false;
  if (size == 0 || size > static_cast<uint64_t>(INT64_MAX)) {
    return FailPlain(err, "EINVAL", "Shared memory size must be at least 1 byte.");
  }
  DWORD high, low;
  SplitOffset(size, &high, &low);
  SetLastError(ERROR_SUCCESS);
  HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, high, low, wname.c_str());
  DWORD e = GetLastError();
  if (!h) {
    if (e == ERROR_INVALID_HANDLE) {
      // The name belongs to another kind of object (an event, a mutex...).
      return FailAs(err, "EEXIST", e, "CreateFileMappingW",
                    "Cannot create shared memory '" + utf8Name +
                        "': the name is used by another kind of object; pick another name.");
    }
    return Fail(err, e, "CreateFileMappingW", "Cannot create shared memory '" + utf8Name + "'");
  }
  uint64_t actual = size;
  if (e == ERROR_ALREADY_EXISTS) {
    if (!SectionSize(h, true, &actual, err, utf8Name)) {
      CloseHandle(h);
      return false;
    }
    // Sizes may come back in whole pages (VirtualQuery, Wine): the same size, rounded, matches.
    const uint64_t page = PageSize();
    const bool same = actual == size || actual == (size + page - 1) / page * page;
    if (!same) {
      CloseHandle(h);
      return FailAs(err, "EEXIST", ERROR_ALREADY_EXISTS, "CreateFileMappingW",
                    "Shared memory '" + utf8Name + "' already exists with a different size (" +
                        std::to_string(actual) + " bytes, not " + std::to_string(size) +
                        "): open it with openShm or pick another name.");
    }
    *existed = true;
    actual = size;
  }
  return AdoptSection(h, true, actual, utf8Name, out, err);
}

bool OpenSharedMemory(const std::string& utf8Name, bool writable, Source** out, OsError* err) {
  *out = nullptr;
  std::wstring wname;
  if (!ValidSectionName(utf8Name, &wname, err)) return false;
  // SECTION_QUERY lets NtQuerySection report the exact size; fall back without it if refused.
  const DWORD base = writable ? FILE_MAP_ALL_ACCESS : FILE_MAP_READ;
  HANDLE h = OpenFileMappingW(base | SECTION_QUERY, FALSE, wname.c_str());
  if (!h) {
    DWORD e = GetLastError();
    if (e == ERROR_ACCESS_DENIED) h = OpenFileMappingW(base, FALSE, wname.c_str());
    if (!h) {
      e = GetLastError();
      if (e == ERROR_INVALID_HANDLE) {
        return FailAs(err, "ENOENT", e, "OpenFileMappingW",
                      "Cannot open shared memory '" + utf8Name + "': the name belongs to another kind of object.");
      }
      return Fail(err, e, "OpenFileMappingW", "Cannot open shared memory '" + utf8Name + "'");
    }
  }
  uint64_t size = 0;
  if (!SectionSize(h, writable, &size, err, utf8Name)) {
    CloseHandle(h);
    return false;
  }
  return AdoptSection(h, writable, size, utf8Name, out, err);
}

bool UnlinkSharedMemory(const std::string& utf8Name, OsError* err) {
  // A section has no name in a file system: it dies with its last handle.
  std::wstring wname;
  return ValidSectionName(utf8Name, &wname, err);
}

SourceKind KindOf(const Source* src) { return src->kind; }
bool IsWritable(const Source* src) { return src->writable; }

bool SourceSize(Source* src, uint64_t* size, OsError* err) {
  if (src->kind == SourceKind::SharedMemory) {
    *size = src->sectionSize;
    return true;
  }
  LARGE_INTEGER li;
  if (!GetFileSizeEx(src->file, &li)) {
    DWORD e = GetLastError();
    return Fail(err, e, "GetFileSizeEx", "Cannot read the size of '" + src->name + "'");
  }
  *size = static_cast<uint64_t>(li.QuadPart);
  return true;
}

// FSCTL_QUERY_ALLOCATED_RANGES: the file system's allocated ranges intersecting [from, limit)
// (NTFS answers for sparse files in clusters or 64 KiB units; for a file that is not sparse it
// reports one range, all of it). The first one is the data range; everything before it in
// [from, limit) is a hole. Where the control code is refused (FAT, a network share, Wine, which
// fails it on every file system) everything is data, which is always exact, only slower.
bool NextDataRange(Source* src, uint64_t from, uint64_t limit, uint64_t* dataStart, uint64_t* dataEnd,
                   OsError* /*err*/) {
  *dataStart = from < limit ? from : limit;
  *dataEnd = limit;
  if (from >= limit || src->kind != SourceKind::File || src->file == INVALID_HANDLE_VALUE) return true;
  if (limit > static_cast<uint64_t>(INT64_MAX)) return true;
  FILE_ALLOCATED_RANGE_BUFFER query;
  query.FileOffset.QuadPart = static_cast<LONGLONG>(from);
  query.Length.QuadPart = static_cast<LONGLONG>(limit - from);
  FILE_ALLOCATED_RANGE_BUFFER ranges[1];
  DWORD bytes = 0;
  if (!DeviceIoControl(src->file, FSCTL_QUERY_ALLOCATED_RANGES, &query, sizeof query, ranges, sizeof ranges, &bytes,
                       nullptr)) {
    if (GetLastError() != ERROR_MORE_DATA) return true;  // cannot say: all data
  }
  LARGE_INTEGER size;
  if (!GetFileSizeEx(src->file, &size)) return true;
  const bool any = bytes >= sizeof ranges[0];
  DataRangeFromAllocated(from, limit, static_cast<uint64_t>(size.QuadPart), any,
                         any ? static_cast<uint64_t>(ranges[0].FileOffset.QuadPart) : 0,
                         any ? static_cast<uint64_t>(ranges[0].Length.QuadPart) : 0, dataStart, dataEnd);
  return true;
}

void DataRangeFromAllocated(uint64_t from, uint64_t limit, uint64_t fileSize, bool any, uint64_t allocStart,
                            uint64_t allocLength, uint64_t* dataStart, uint64_t* dataEnd) {
  *dataStart = from < limit ? from : limit;
  *dataEnd = limit;
  if (from >= limit) return;
  if (fileSize <= from) return;  // truncated under us: "data", so the read faults with EIO
  if (!any) {
    // No allocation in [from, limit): a hole up to the end of the file; past it is "data" as above.
    *dataStart = fileSize < limit ? fileSize : limit;
    return;
  }
  uint64_t s = allocStart < from ? from : allocStart;
  uint64_t e = allocStart + allocLength;
  if (s >= limit) {
    *dataStart = *dataEnd = limit;
    return;
  }
  if (e > limit || e <= s) e = limit;
  *dataStart = s;
  *dataEnd = e;
}

bool MapView(Source* src, uint64_t offset, size_t length, bool writable, View* out, OsError* err) {
  if (length == 0) return FailPlain(err, "ERANGE", "Cannot map an empty range.");
  if (offset % AllocationGranularity() != 0) {
    return FailPlain(err, "ERANGE",
                     "The view offset must be a multiple of the allocation granularity (" +
                         std::to_string(AllocationGranularity()) + " bytes).");
  }
  if (writable && !src->writable) {
    return FailPlain(err, "EACCES", "Cannot map a writable view of a source opened read-only.");
  }
  if (offset > static_cast<uint64_t>(INT64_MAX) || length > static_cast<uint64_t>(INT64_MAX) - offset) {
    return FailPlain(err, "ERANGE", "The view range is too large.");
  }
  uint64_t size = 0;
  if (!SourceSize(src, &size, err)) return false;
  if (offset + length > size) {
    // Sections are page-granular: a view may reach the end of the section's last page.
    const uint64_t page = PageSize();
    const uint64_t limit = src->kind == SourceKind::SharedMemory ? (size + page - 1) / page * page : size;
    if (offset + length > limit) {
      return FailPlain(err, "ERANGE",
                       "Cannot map [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                           "): it ends past the end (" + std::to_string(size) + " bytes).");
    }
  }

  DWORD high, low;
  SplitOffset(offset, &high, &low);
  const DWORD access = writable ? FILE_MAP_WRITE : FILE_MAP_READ;
  void* p = nullptr;
  if (src->kind == SourceKind::SharedMemory) {
    p = MapViewOfFile(src->section, access, high, low, length);
    if (!p) {
      DWORD e = GetLastError();
      return Fail(err, e, "MapViewOfFile", "Cannot map a view of " + std::to_string(length) + " bytes");
    }
  } else {
    // 0,0: a section of the file's current size (never extends the file, even when writable).
    HANDLE mapping = CreateFileMappingW(src->file, nullptr, src->writable ? PAGE_READWRITE : PAGE_READONLY,
                                        0, 0, nullptr);
    if (!mapping) {
      DWORD e = GetLastError();
      return Fail(err, e, "CreateFileMappingW", "Cannot map '" + src->name + "'");
    }
    p = MapViewOfFile(mapping, access, high, low, length);
    DWORD e = GetLastError();
    CloseHandle(mapping);  // the view keeps the section alive
    if (!p) {
      return Fail(err, e, "MapViewOfFile",
                  "Cannot map a view of " + std::to_string(length) + " bytes of '" + src->name + "'");
    }
  }
  out->base = static_cast<uint8_t*>(p);
  out->offset = offset;
  out->length = length;
  out->writable = writable;
  out->platform = nullptr;
  return true;
}

void AdviseView(View*, AccessHint) {
  // Nothing to do: Windows has no per-view read-ahead switch for mapped files (see mapping.h).
}

void UnmapView(View* view) {
  if (view->base) (void)UnmapViewOfFile(view->base);
  view->base = nullptr;
  view->length = 0;
}

bool ViewResident(View* /*view*/, size_t /*at*/, size_t /*length*/) {
  // QueryWorkingSetEx knows this process's working set, not the file cache: a page of the cache
  // not yet mapped here would look absent, one paged out would need the disk. Not worth a guess.
  return false;
}

bool FlushView(View* view, size_t at, size_t length, OsError* err) {
  if (!view->base || length == 0) return true;
  if (at > view->length) return FailPlain(err, "ERANGE", "The flush range lies outside the view.");
  if (length > view->length - at) length = view->length - at;
  if (!FlushViewOfFile(view->base + at, length)) {
    DWORD e = GetLastError();
    return Fail(err, e, "FlushViewOfFile", "Cannot write the view back to the file");
  }
  return true;
}

bool SyncSource(Source* src, OsError* err) {
  // Sections have no device; a read-only handle has nothing of ours to flush (and
  // FlushFileBuffers would refuse it with ACCESS_DENIED).
  if (src->kind == SourceKind::SharedMemory || !src->writable) return true;
  if (!FlushFileBuffers(src->file)) {
    DWORD e = GetLastError();
    return Fail(err, e, "FlushFileBuffers", "Cannot flush '" + src->name + "' to the device");
  }
  return true;
}

void CloseSource(Source* src) {
  if (!src) return;
  if (src->file != INVALID_HANDLE_VALUE) CloseHandle(src->file);
  if (src->section) CloseHandle(src->section);
  delete src;
}

bool ReplaceFileAtomically(const std::string& utf8Target, const std::string& utf8Replacement, OsError* err) {
  std::wstring target;
  std::wstring replacement;
  if (!Widen(utf8Target, &target) || !Widen(utf8Replacement, &replacement)) {
    return FailPlain(err, "EINVAL", "The path is not valid UTF-8 or contains a NUL character.");
  }
  // No backup name: the replaced file's data is gone once this returns true. Merge errors (the
  // replacement's ACL or attributes could not be merged) do not fail the replace.
  if (ReplaceFileW(target.c_str(), replacement.c_str(), nullptr,
                   REPLACEFILE_IGNORE_MERGE_ERRORS | REPLACEFILE_IGNORE_ACL_ERRORS, nullptr, nullptr)) {
    return true;
  }
  DWORD e = GetLastError();
  if (e == ERROR_FILE_NOT_FOUND && GetFileAttributesW(target.c_str()) == INVALID_FILE_ATTRIBUTES) {
    // The target went away meanwhile (ReplaceFileW needs one): a plain move puts the new file there.
    if (MoveFileExW(replacement.c_str(), target.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) return true;
    e = GetLastError();
    return Fail(err, e, "MoveFileExW", "Cannot put the new version of '" + utf8Target + "' in place");
  }
  if (e == ERROR_UNABLE_TO_REMOVE_REPLACED || e == ERROR_UNABLE_TO_MOVE_REPLACEMENT) {
    // Both files are as they were (documented for these two codes without a backup name).
    return FailAs(err, "EBUSY", e, "ReplaceFileW",
                  "Cannot replace '" + utf8Target + "': another program holds it open without sharing deletion; it was not changed.");
  }
  return Fail(err, e, "ReplaceFileW", "Cannot replace '" + utf8Target + "' with its new version");
}

bool CopyFileRangeSparse(int /*inFd*/, int /*outFd*/, uint64_t /*inOff*/, uint64_t /*outOff*/, uint64_t /*length*/,
                         uint64_t* written, OsError* err) {
  // Node's descriptors on Windows are CRT numbers, not handles; the copy goes through memory there.
  *written = 0;
  return FailPlain(err, "ENOTSUP", "An in-kernel copy is not available on Windows.");
}

}  // namespace hexmap

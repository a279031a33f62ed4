// The one interface between the Node-API bindings (addon.cc) and the per-OS backends
// (mapping_posix.cc, mapping_win32.cc, guard_*.cc). addon.cc includes only this header.
//
// Exception model: platform code never throws. Every fallible call returns false and fills an
// OsError; addon.cc turns that into a JS Error with .code/.syscall/.errno. C++ exceptions are
// enabled for node-addon-api only (NAPI_CPP_EXCEPTIONS), never across a guarded copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace hexmap {

struct OsError {
  std::string code;     // stable code: ENOENT EACCES EISDIR EBUSY EIO EINVAL ENOMEM EEXIST ENOSPC EPERM ...
  std::string syscall;  // e.g. "open", "mmap", "CreateFileW", "MapViewOfFile"
  int64_t errnum = 0;   // errno (POSIX) or GetLastError() (Win32)
  std::string message;  // one sentence a user can act on
};

enum class SourceKind { File, SharedMemory };

// An open file or named shared-memory section. Owned by addon.cc; created and destroyed only
// through the functions below. Opaque outside its backend.
struct Source;

// A mapped window of a Source. `base` points at the first byte of the window, which starts at
// `offset` (a multiple of AllocationGranularity()) and is `length` bytes long.
struct View {
  uint8_t* base = nullptr;
  uint64_t offset = 0;
  size_t length = 0;
  bool writable = false;
  void* platform = nullptr;  // backend bookkeeping (e.g. the mapping HANDLE on Win32)
};

// 64 KiB on Windows (SYSTEM_INFO.dwAllocationGranularity), the page size on POSIX.
uint64_t AllocationGranularity();
// The VM page size (4 KiB on x86-64 everywhere).
uint64_t PageSize();
// "win32" or "posix".
const char* BackendName();

// Opens a disk file. Shares read/write/delete with other processes on Windows
// (FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE). A directory fails with EISDIR; a
// sharing violation with EBUSY; a missing file with ENOENT. Non-regular files (FIFOs, devices)
// fail with EINVAL ("not a regular file"). Zero-length files open fine.
bool OpenFile(const std::string& utf8Path, bool writable, Source** out, OsError* err);

// Named shared memory. POSIX: shm_open("/name"); Win32: CreateFileMapping(INVALID_HANDLE_VALUE,
// ..., name) / OpenFileMapping(name) with Local\ or Global\ prefixes passed through as given.
// CreateSharedMemory opens the section if it already exists with the same size (sets *existed),
// and fails with EEXIST if it exists with another size.
bool CreateSharedMemory(const std::string& utf8Name, uint64_t size, Source** out, bool* existed,
                        OsError* err);
bool OpenSharedMemory(const std::string& utf8Name, bool writable, Source** out, OsError* err);
// POSIX shm_unlink; a no-op returning true on Win32 (a section dies with its last handle).
bool UnlinkSharedMemory(const std::string& utf8Name, OsError* err);

SourceKind KindOf(const Source* src);
bool IsWritable(const Source* src);

// Current size as the OS reports it now (fstat / GetFileSizeEx; for sections, the section size).
bool SourceSize(Source* src, uint64_t* size, OsError* err);

// Maps [offset, offset+length). offset must be a multiple of AllocationGranularity(); the range
// must lie within the current size (checked by the caller, re-checked here where cheap).
// writable requires a writable Source.
bool MapView(Source* src, uint64_t offset, size_t length, bool writable, View* out, OsError* err);
void UnmapView(View* view);

// Access-pattern hint for a mapped view. Views start as Random (the grid reads scattered pages;
// read-ahead would turn each cold 4 KiB read into megabytes); scans switch their windows to
// Sequential so a cold file streams at disk speed. POSIX: madvise; Win32: a no-op (the cache
// manager's read-ahead follows the access pattern by itself).
enum class AccessHint { Random, Sequential };
void AdviseView(View* view, AccessHint hint);

// True when every page of [at, at+length) of the view is in memory now (POSIX mincore: the page
// cache for a file mapping), so that a copy of it cannot wait for the disk. False when some page
// is not, or the OS cannot say (Win32: always false; reads take a worker there).
bool ViewResident(View* view, size_t at, size_t length);

// Writes dirty pages of [at, at+length) of the view to the file: FlushViewOfFile / msync(MS_SYNC).
bool FlushView(View* view, size_t at, size_t length, OsError* err);
// Flushes the file's buffers to the device: FlushFileBuffers / fsync. No-op for sections.
bool SyncSource(Source* src, OsError* err);

// Sparse files: the first range of data (bytes not in a hole) that intersects [from, limit), as
// [*dataStart, *dataEnd) clipped to limit; *dataStart = *dataEnd = limit when [from, limit) is all
// hole. Holes read as zeros, so scans may skip them. Where the OS or file system cannot say
// (no SEEK_DATA, a section, an error) it reports [from, limit) as data, which is always safe.
// Bytes past the current end of file (a file truncated meanwhile) are reported as data, so
// reading them faults with EIO as before. A plain syscall: safe on any thread. Never fails today;
// the bool and err are for backends that might.
bool NextDataRange(Source* src, uint64_t from, uint64_t limit, uint64_t* dataStart, uint64_t* dataEnd,
                   OsError* err);

// Whole-file operations of a save that rewrites the file (app/engine/save-resize.ts).
//
// ReplaceFileAtomically: puts `replacement` (a complete, synced temp file in the same folder) in
// place of `target`. Win32: ReplaceFileW, which keeps the target's ACL, attributes, alternate
// data streams and creation time (MoveFileExW would give the new file the folder's inherited
// ACL and drop the rest); when `target` no longer exists, MoveFileExW(MOVEFILE_REPLACE_EXISTING |
// MOVEFILE_WRITE_THROUGH). POSIX: rename(2), atomic. On failure the target is unchanged.
bool ReplaceFileAtomically(const std::string& utf8Target, const std::string& utf8Replacement, OsError* err);

// Copies [inOff, inOff+length) of descriptor inFd into outFd at outOff inside the kernel, the
// source's holes skipped (left as holes in a fresh output): Linux copy_file_range with
// SEEK_DATA/SEEK_HOLE; on a file system with shared extents (btrfs, XFS, bcachefs) a block-aligned
// copy shares the blocks (reflink). *written is the data bytes copied. Elsewhere, or when the
// kernel or file system cannot (EXDEV, ENOSYS, EOPNOTSUPP, EINVAL before any byte), false with
// code ENOTSUP and nothing written: the caller copies through memory. A source shorter than the
// range fails with ECHANGED. Blocking: call it on a worker thread.
bool CopyFileRangeSparse(int inFd, int outFd, uint64_t inOff, uint64_t outOff, uint64_t length, uint64_t* written,
                         OsError* err);

// Win32 only: how NextDataRange reads FSCTL_QUERY_ALLOCATED_RANGES' first answer for
// [from, limit) of a file of fileSize bytes (`any`: a range came back). Pure; tested on its own
// by win32_backend_test.exe, because Wine fails the control code itself.
void DataRangeFromAllocated(uint64_t from, uint64_t limit, uint64_t fileSize, bool any, uint64_t allocStart,
                            uint64_t allocLength, uint64_t* dataStart, uint64_t* dataEnd);

// Closes the source. All views of it must have been unmapped first.
void CloseSource(Source* src);

// Fault-guarded memory access. A fault while touching mapped memory (SIGBUS/SIGSEGV on POSIX,
// EXCEPTION_IN_PAGE_ERROR/ACCESS_VIOLATION on Win32) returns false with code "EIO" instead of
// killing the process. Safe to call from any thread.
bool GuardedCopy(void* dst, const void* src, size_t n, OsError* err);
bool GuardedWrite(void* dst, const void* src, size_t n, OsError* err);
// Installs the process-wide fault handler once (chaining to any previous handler for faults
// outside guarded regions). Called by the addon at load.
void InstallFaultGuard();

}  // namespace hexmap

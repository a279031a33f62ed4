// POSIX backend of mapping.h: open/fstat, mmap/munmap/msync/fsync, shm_open/shm_unlink.
// Never throws: every failure is reported through OsError (see mapping.h).
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif

#include "mapping.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <new>

#include <cstdio>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hexmap {

struct Source {
  int fd = -1;
  SourceKind kind = SourceKind::File;
  bool writable = false;
};

namespace {

const char* ErrnoCode(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EISDIR: return "EISDIR";
    case ENOTDIR: return "ENOTDIR";
    case EBUSY: return "EBUSY";
    case ETXTBSY: return "EBUSY";
    case EIO: return "EIO";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    case ENOSPC: return "ENOSPC";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ELOOP: return "ELOOP";
    case EROFS: return "EROFS";
    case EFBIG: return "EFBIG";
    case EOVERFLOW: return "EOVERFLOW";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EDQUOT: return "EDQUOT";
    default: return "EIO";
  }
}

// A sentence-ending explanation of errno aimed at the user, not the programmer.
std::string Explain(int e) {
  switch (e) {
    case ENOENT: return "it does not exist";
    case EACCES:
    case EPERM: return "permission denied (check the file's permissions, or open it read-only)";
    case EISDIR: return "it is a directory, not a file";
    case ENOTDIR: return "a component of the path is not a directory";
    case EROFS: return "it is on a read-only file system (open it read-only)";
    case ETXTBSY:
    case EBUSY: return "it is busy (in use by another program)";
    case EMFILE:
    case ENFILE: return "too many files are open (close some and retry)";
    case ENOMEM: return "not enough memory or address space (map a smaller window)";
    case ENAMETOOLONG: return "the name is too long";
    case ELOOP: return "too many symbolic links in the path";
    case ENOSPC:
    case EDQUOT: return "there is no space left on the device";
    case ENODEV: return "the file system does not support memory mapping";
    default: return std::strerror(e);
  }
}

bool Fail(OsError* err, int e, const char* syscall, const std::string& what) {
  if (err) {
    err->code = ErrnoCode(e);
    err->syscall = syscall;
    err->errnum = e;
    err->message = what + ": " + Explain(e) + ".";
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

void CloseFd(int fd) {
  // close() may be interrupted; on Linux the fd is released anyway, so never retry.
  (void)::close(fd);
}

// "name" or "/name" -> "/name"; anything else with a '/' is rejected (Linux shm names are
// single path components under /dev/shm).
bool NormalizeShmName(const std::string& in, std::string* out, OsError* err) {
  std::string body = (!in.empty() && in[0] == '/') ? in.substr(1) : in;
  if (body.empty() || body.find('/') != std::string::npos || body.size() > NAME_MAX - 1 ||
      body.find('\0') != std::string::npos || body == "." || body == "..") {
    return FailPlain(err, "EINVAL",
                     "Invalid shared-memory name '" + in +
                         "': use a short name without '/' (an optional leading '/' is allowed).");
  }
  *out = "/" + body;
  return true;
}

Source* NewSource(int fd, SourceKind kind, bool writable) {
  Source* s = new (std::nothrow) Source;
  if (!s) return nullptr;
  s->fd = fd;
  s->kind = kind;
  s->writable = writable;
  return s;
}

}  // namespace

uint64_t AllocationGranularity() { return PageSize(); }

uint64_t PageSize() {
  static const uint64_t page = [] {
    long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<uint64_t>(p) : uint64_t{4096};
  }();
  return page;
}

const char* BackendName() { return "posix"; }

bool OpenFile(const std::string& utf8Path, bool writable, Source** out, OsError* err) {
  *out = nullptr;
  if (utf8Path.find('\0') != std::string::npos) {
    return FailPlain(err, "EINVAL", "Invalid path: it contains a NUL character.");
  }
  // O_NONBLOCK so that opening a FIFO does not wait for a writer; cleared below for regular files.
  int flags = (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  int fd;
  do {
    fd = ::open(utf8Path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int e = errno;
    return Fail(err, e, "open", "Cannot open '" + utf8Path + "'");
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    CloseFd(fd);
    return Fail(err, e, "fstat", "Cannot read the attributes of '" + utf8Path + "'");
  }
  if (S_ISDIR(st.st_mode)) {
    CloseFd(fd);
    return Fail(err, EISDIR, "open", "Cannot open '" + utf8Path + "'");
  }
  if (!S_ISREG(st.st_mode)) {
    CloseFd(fd);
    const char* what = S_ISFIFO(st.st_mode)   ? "a pipe (FIFO)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return FailPlain(err, "EINVAL",
                     "Cannot open '" + utf8Path + "': it is " + std::string(what) +
                         ", not a regular file, and cannot be memory-mapped.");
  }
  int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) (void)::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  Source* s = NewSource(fd, SourceKind::File, writable);
  if (!s) {
    CloseFd(fd);
    return FailPlain(err, "ENOMEM", "Out of memory while opening '" + utf8Path + "'.");
  }
  *out = s;
  return true;
}

bool CreateSharedMemory(const std::string& utf8Name, uint64_t size, Source** out, bool* existed,
                        OsError* err) {
  *out = nullptr;
  *existed = false;
  std::string name;
  if (!NormalizeShmName(utf8Name, &name, err)) return false;
  if (size == 0 || size > static_cast<uint64_t>(INT64_MAX)) {
    return FailPlain(err, "EINVAL", "Shared memory size must be at least 1 byte.");
  }
  int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      int e = errno;
      CloseFd(fd);
      (void)::shm_unlink(name.c_str());
      return Fail(err, e, "ftruncate", "Cannot size shared memory '" + name + "'");
    }
  } else {
    int e = errno;
    if (e != EEXIST) return Fail(err, e, "shm_open", "Cannot create shared memory '" + name + "'");
    fd = ::shm_open(name.c_str(), O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
      e = errno;
      return Fail(err, e, "shm_open", "Cannot open existing shared memory '" + name + "'");
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      e = errno;
      CloseFd(fd);
      return Fail(err, e, "fstat", "Cannot read the size of shared memory '" + name + "'");
    }
    if (static_cast<uint64_t>(st.st_size) != size) {
      CloseFd(fd);
      return FailPlain(err, "EEXIST", "Shared memory '" + name + "' already exists with a different size (" +
                     std::to_string(static_cast<long long>(st.st_size)) + " bytes, not " +
                     std::to_string(static_cast<unsigned long long>(size)) +
                     "): open it with openShm or pick another name.");
    }
    *existed = true;
  }
  Source* s = NewSource(fd, SourceKind::SharedMemory, true);
  if (!s) {
    CloseFd(fd);
    return FailPlain(err, "ENOMEM", "Out of memory while opening shared memory.");
  }
  *out = s;
  return true;
}

bool OpenSharedMemory(const std::string& utf8Name, bool writable, Source** out, OsError* err) {
  *out = nullptr;
  std::string name;
  if (!NormalizeShmName(utf8Name, &name, err)) return false;
  int fd = ::shm_open(name.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    return Fail(err, e, "shm_open", "Cannot open shared memory '" + name + "'");
  }
  Source* s = NewSource(fd, SourceKind::SharedMemory, writable);
  if (!s) {
    CloseFd(fd);
    return FailPlain(err, "ENOMEM", "Out of memory while opening shared memory.");
  }
  *out = s;
  return true;
}

bool UnlinkSharedMemory(const std::string& utf8Name, OsError* err) {
  std::string name;
  if (!NormalizeShmName(utf8Name, &name, err)) return false;
  if (::shm_unlink(name.c_str()) != 0) {
    int e = errno;
    return Fail(err, e, "shm_unlink", "Cannot remove shared memory '" + name + "'");
  }
  return true;
}

SourceKind KindOf(const Source* src) { return src->kind; }
bool IsWritable(const Source* src) { return src->writable; }

bool SourceSize(Source* src, uint64_t* size, OsError* err) {
  struct stat st;
  if (::fstat(src->fd, &st) != 0) {
    int e = errno;
    return Fail(err, e, "fstat", "Cannot read the size");
  }
  *size = static_cast<uint64_t>(st.st_size);
  return true;
}

bool MapView(Source* src, uint64_t offset, size_t length, bool writable, View* out, OsError* err) {
  if (length == 0) return FailPlain(err, "ERANGE", "Cannot map an empty range.");
  if (offset % PageSize() != 0) {
    return FailPlain(err, "ERANGE", "The view offset must be a multiple of the page size.");
  }
  if (writable && !src->writable) {
    return FailPlain(err, "EACCES", "Cannot map a writable view of a source opened read-only.");
  }
  if (offset > static_cast<uint64_t>(INT64_MAX)) {
    return FailPlain(err, "ERANGE", "The view offset is too large.");
  }
  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  void* p = ::mmap(nullptr, length, prot, MAP_SHARED, src->fd, static_cast<off_t>(offset));
  if (p == MAP_FAILED) {
    int e = errno;
    return Fail(err, e, "mmap", "Cannot map a view of " + std::to_string(length) + " bytes");
  }
  // Views serve random page reads from the grid: without this hint the kernel's read-ahead
  // (8 MiB on our disks) turns every cold 4 KiB read into an 8 MiB one (measured: 3-5 ms vs
  // ~25 us per cold read, bench/read-bench).
  (void)::madvise(p, length, MADV_RANDOM);
  out->base = static_cast<uint8_t*>(p);
  out->offset = offset;
  out->length = length;
  out->writable = writable;
  out->platform = nullptr;
  return true;
}

void AdviseView(View* view, AccessHint hint) {
  if (!view->base || !view->length) return;
  (void)::madvise(view->base, view->length, hint == AccessHint::Sequential ? MADV_SEQUENTIAL : MADV_RANDOM);
}

bool ViewResident(View* view, size_t at, size_t length) {
  if (!view->base || length == 0 || at > view->length || length > view->length - at) return false;
  const uintptr_t page = static_cast<uintptr_t>(PageSize());
  const uintptr_t start = (reinterpret_cast<uintptr_t>(view->base) + at) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(view->base) + at + length;
  const size_t pages = static_cast<size_t>((end - start + page - 1) / page);
  if (pages > 256) return false;  // large reads go to a worker anyway
#if defined(__APPLE__)
  char vec[256];
#else
  unsigned char vec[256];
#endif
  if (::mincore(reinterpret_cast<void*>(start), end - start, vec) != 0) return false;
  for (size_t i = 0; i < pages; i++) {
    if (!(vec[i] & 1)) return false;
  }
  return true;
}

void UnmapView(View* view) {
  if (view->base && view->length) (void)::munmap(view->base, view->length);
  view->base = nullptr;
  view->length = 0;
}

bool FlushView(View* view, size_t at, size_t length, OsError* err) {
  if (!view->base || length == 0) return true;
  // msync needs a page-aligned address; the view base is page-aligned, so align `at` down.
  const uintptr_t page = static_cast<uintptr_t>(PageSize());
  uintptr_t start = reinterpret_cast<uintptr_t>(view->base) + at;
  uintptr_t aligned = start & ~(page - 1);
  size_t len = length + (start - aligned);
  if (::msync(reinterpret_cast<void*>(aligned), len, MS_SYNC) != 0) {
    int e = errno;
    return Fail(err, e, "msync", "Cannot write the view back to the file");
  }
  return true;
}

bool SyncSource(Source* src, OsError* err) {
  if (src->kind == SourceKind::SharedMemory) return true;
  int r;
  do {
    r = ::fsync(src->fd);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    int e = errno;
    return Fail(err, e, "fsync", "Cannot flush the file to the device");
  }
  return true;
}

bool NextDataRange(Source* src, uint64_t from, uint64_t limit, uint64_t* dataStart, uint64_t* dataEnd,
                   OsError* /*err*/) {
  *dataStart = from;
  *dataEnd = limit;  // "all data" unless the file system says otherwise
  if (from >= limit) {
    *dataStart = limit;
    return true;
  }
  if (from > static_cast<uint64_t>(INT64_MAX)) return true;
  // lseek moves the shared file offset, which nothing here uses (all I/O is mapped), and returns
  // its own result atomically, so worker threads may call it concurrently.
  const off_t d = ::lseek(src->fd, static_cast<off_t>(from), SEEK_DATA);
  if (d < 0) {
    if (errno != ENXIO) return true;  // EINVAL (no SEEK_DATA here) and the like: scan everything
    // No data from `from` to the end of file. Past the end there is no file at all (truncated
    // under us): call that data, so the read faults and reports EIO.
    struct stat st;
    if (::fstat(src->fd, &st) != 0) return true;
    const uint64_t size = static_cast<uint64_t>(st.st_size);
    if (size <= from) return true;
    *dataStart = size < limit ? size : limit;
    return true;
  }
  const uint64_t ds = static_cast<uint64_t>(d);
  if (ds < from) return true;  // not expected; be safe
  if (ds >= limit) {
    *dataStart = *dataEnd = limit;
    return true;
  }
  *dataStart = ds;
  const off_t h = ::lseek(src->fd, d, SEEK_HOLE);
  if (h > d && static_cast<uint64_t>(h) < limit) *dataEnd = static_cast<uint64_t>(h);
  return true;
}

void CloseSource(Source* src) {
  if (!src) return;
  if (src->fd >= 0) CloseFd(src->fd);
  delete src;
}


bool ReplaceFileAtomically(const std::string& utf8Target, const std::string& utf8Replacement, OsError* err) {
  if (::rename(utf8Replacement.c_str(), utf8Target.c_str()) != 0) {
    int e = errno;
    return Fail(err, e, "rename", "Cannot replace " + utf8Target + " with its new version");
  }
  return true;
}

bool CopyFileRangeSparse(int inFd, int outFd, uint64_t inOff, uint64_t outOff, uint64_t length, uint64_t* written,
                         OsError* err) {
  *written = 0;
#if defined(__linux__)
  struct stat st;
  if (::fstat(inFd, &st) != 0) {
    int e = errno;
    return Fail(err, e, "fstat", "Cannot read the size of the file being copied");
  }
  const uint64_t end = inOff + length;
  if (end > static_cast<uint64_t>(st.st_size) || end < inOff || end > static_cast<uint64_t>(INT64_MAX)) {
    return FailPlain(err, "ECHANGED", "The file is shorter than the range to copy: it was changed on disk during the save.");
  }
  bool any = false;  // a byte was copied: an error after this is an error, not "not supported"
  uint64_t pos = inOff;
  while (pos < end) {
    uint64_t ds = pos;
    uint64_t de = end;
    const off_t d = ::lseek(inFd, static_cast<off_t>(pos), SEEK_DATA);
    if (d < 0) {
      if (errno == ENXIO) break;  // only holes from here to the end of the range (checked above: within the file)
      // EINVAL and the like: no SEEK_DATA here; treat the rest as data.
    } else {
      ds = static_cast<uint64_t>(d);
      if (ds >= end) break;
      const off_t h = ::lseek(inFd, d, SEEK_HOLE);
      if (h > d && static_cast<uint64_t>(h) < end) de = static_cast<uint64_t>(h);
    }
    loff_t ip = static_cast<loff_t>(ds);
    loff_t op = static_cast<loff_t>(outOff + (ds - inOff));
    while (static_cast<uint64_t>(ip) < de) {
      const uint64_t want = de - static_cast<uint64_t>(ip);
      const size_t n = static_cast<size_t>(want < (1u << 30) ? want : (1u << 30));
      const ssize_t r = ::copy_file_range(inFd, &ip, outFd, &op, n, 0);
      if (r < 0) {
        const int e = errno;
        if (e == EINTR) continue;
        if (!any && (e == ENOSYS || e == EXDEV || e == EOPNOTSUPP || e == EINVAL || e == ENOTSUP)) {
          return FailPlain(err, "ENOTSUP", "copy_file_range is not available for these files.");
        }
        return Fail(err, e, "copy_file_range", "Cannot copy the unchanged bytes into the new version of the file");
      }
      if (r == 0) {
        return FailPlain(err, "ECHANGED", "The file ended before the range to copy: it was changed on disk during the save.");
      }
      any = true;
      *written += static_cast<uint64_t>(r);
    }
    pos = de;
  }
  return true;
#else
  (void)inFd;
  (void)outFd;
  (void)inOff;
  (void)outOff;
  (void)length;
  return FailPlain(err, "ENOTSUP", "copy_file_range is not available on this system.");
#endif
}

}  // namespace hexmap

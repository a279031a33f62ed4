// Byte search and newline counting over a Source, window by window (map → scan → unmap), for
// the async scan jobs in addon.cc. Platform-free: it reaches the OS only through mapping.h and
// touches mapped bytes only through the fault guard. Each window is read in chunks of at most
// 256 KiB that GuardedCopy moves into a per-job buffer (it stays in L2) before the SIMD kernels
// run over it, so a file truncated under a scan makes the job fail with EIO instead of killing
// the process, with the same guard on both OSes and no code of ours running on mapped memory.
//
// Threading: a job runs on one worker thread; the only state it shares is ScanControl (atomics):
// the main thread sets `cancel` (checked before every chunk, so a cancel lands within one chunk's
// time, microseconds) and reads `scanned`.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mapping.h"

namespace hexmap {

// A compiled search pattern: data byte d matches pattern byte i when (d & mask[i]) == value[i].
// A wildcard byte has mask 0; ASCII case folding turns a letter into mask 0xDF and its upper
// case value, which accepts exactly the two cases. The two rarest bytes (by a static byte
// frequency table) are the anchors of a SIMD two-byte filter; candidates are then verified.
struct Matcher {
  // Fails (with *error, a sentence) on an empty pattern, a mask of another length, or a
  // pattern without a single non-wildcard byte.
  static bool Compile(const uint8_t* bytes, size_t n, const uint8_t* mask, bool caseless, Matcher* out,
                      std::string* error);

  size_t length = 0;
  std::vector<uint8_t> value, mask;
  size_t a1 = 0, a2 = 0;  // anchor offsets (equal when the pattern has one non-wildcard byte)
  uint8_t v1 = 0, m1 = 0, v2 = 0, m2 = 0;
};

struct ScanControl {
  std::atomic<bool> cancel{false};
  std::atomic<uint64_t> scanned{0};  // bytes of the range examined so far
};

// Hands results to the other thread. Hits and Samples come from the job's own thread, in
// increasing offset order; Tick() comes once per chunk from any of the job's threads (so it must
// be thread-safe) and lets the receiver throttle its progress reports.
class ScanSink {
 public:
  virtual ~ScanSink() = default;
  virtual void Hits(const uint64_t* /*offsets*/, size_t /*n*/) {}
  virtual void Samples(const uint64_t* /*offsets*/, size_t /*n*/) {}
  virtual void Tick() {}
};

enum class SearchMode { Forward, Backward, All };

struct ScanGeometry {
  uint64_t windowSize = 0;  // mapped window; 0 = 32 MiB. Grown to hold a chunk plus the overlap.
  uint64_t chunkSize = 0;   // guarded-copy unit; 0 = 256 KiB
};

// Find-all searches and plain newline counts split their range into slices scanned by up to
// `threads` threads (0 = the CPU count, at most 4; slices are at least 32 MiB).

struct SearchParams {
  uint64_t from = 0;  // Forward/All: first start considered; Backward: hits start before `from`
  uint64_t to = 0;    // end of the range: a match must end at or before `to`
  SearchMode mode = SearchMode::Forward;
  uint64_t maxHits = 0;  // All: at most this many hits go to the sink; `total` counts them all
  unsigned threads = 0;
  ScanGeometry geometry;
};

struct SearchOutcome {
  bool found = false;  // Forward/Backward: the hit
  uint64_t hit = 0;
  uint64_t total = 0;  // All: every match (overlapping ones included) in the range
  uint64_t kept = 0;   // All: hits given to the sink
  bool canceled = false;
};

bool RunSearch(Source* src, const Matcher& matcher, const SearchParams& params, ScanControl* control,
               ScanSink* sink, SearchOutcome* out, OsError* err);

struct LineParams {
  uint64_t from = 0;
  uint64_t to = 0;
  unsigned unit = 1;         // 1: count '\n' bytes; 2: count UTF-16 units U+000A at from, from+2, ...
  bool bigEndian = false;    // unit 2 only
  uint64_t sampleEvery = 0;  // K > 0: report the offset of newline number K, 2K, 3K, ... (1-based)
  unsigned threads = 0;      // ignored (one pass) when sampling
  ScanGeometry geometry;
};

struct LineOutcome {
  uint64_t newlines = 0;
  bool canceled = false;
};

bool RunLineCount(Source* src, const LineParams& params, ScanControl* control, ScanSink* sink,
                  LineOutcome* out, OsError* err);

// Kernels (used by the jobs above; exposed for tests and benchmarks).
uint64_t CountByte(const uint8_t* p, size_t n, uint8_t byte);
// Units are 2-byte words at p, p+2, ...; `unitAsLoaded` is the little-endian load of the unit
// looked for (0x000A for UTF-16LE '\n', 0x0A00 for UTF-16BE).
uint64_t CountUnit16(const uint8_t* p, size_t units, uint16_t unitAsLoaded);
// Calls hit(start) for every match starting in [0, candidates); data must hold
// candidates + length - 1 bytes. Stops (returning false) when hit returns false.
bool ForEachMatch(const Matcher& m, const uint8_t* data, size_t candidates, bool (*hit)(void*, uint64_t),
                  void* ctx);

}  // namespace hexmap

// Search and newline counting over mapped windows (see scan.h). Platform-free: OS access goes
// through mapping.h; SIMD is chosen by compiler target, never by OS.
//
// Kernels: SSE2 is the x86-64 baseline (and what the mingw-w64 build uses: GCC there does not
// realign the stack for 32-byte AVX spills); on other x86-64 builds an AVX2 version is picked at
// run time when the CPU has it. Anything else gets the scalar loop.
#include "scan.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#if defined(__x86_64__) || defined(_M_X64)
#define HEXMAP_SSE2 1
#include <emmintrin.h>
#if (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)
#define HEXMAP_AVX2 1
#include <immintrin.h>
#endif
#endif

namespace hexmap {
namespace {

constexpr uint64_t kDefaultWindow = 32ull << 20;  // per thread: resident pages stay under threads x 32 MiB
constexpr uint64_t kDefaultChunk = 256ull << 10;
constexpr uint64_t kMaxChunk = 4ull << 20;  // the cancel latency bound: one chunk

inline int Ctz32(uint32_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_ctz(x);
#else
  unsigned long i;
  _BitScanForward(&i, x);
  return static_cast<int>(i);
#endif
}

inline int Popcount64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_popcountll(x);
#else
  return static_cast<int>(__popcnt64(x));
#endif
}

// 16-bit units equal to `unit` (as loaded, native byte order) among `units` unaligned ones: the
// tail of the vector counts, and the whole count without SIMD.
uint64_t CountUnit16Scalar(const uint8_t* p, size_t units, uint16_t unit) {
  uint64_t total = 0;
  for (size_t u = 0; u < units; u++) {
    uint16_t w;
    std::memcpy(&w, p + 2 * u, 2);
    total += w == unit;
  }
  return total;
}

// How common a byte is in the files people search (text, logs, executables, disk images), on a
// rough 0..255 scale. Only the order matters: the filter anchors on the rarest pattern bytes.
uint8_t ByteRank(uint8_t b) {
  static const char kEnglish[] = "etaoinshrdlcumwfgypbvkjxqz";  // most to least common
  if (b == 0x00) return 255;
  if (b == ' ') return 250;
  if (b >= 'a' && b <= 'z') {
    const char* p = std::strchr(kEnglish, b);
    return static_cast<uint8_t>(245 - 4 * (p - kEnglish));  // 245 .. 145
  }
  if (b >= 'A' && b <= 'Z') {
    const char* p = std::strchr(kEnglish, b - 'A' + 'a');
    return static_cast<uint8_t>(150 - 2 * (p - kEnglish));  // 150 .. 100
  }
  if (b >= '0' && b <= '9') return 160;
  if (b == 0xFF) return 200;
  if (b == '\n' || b == '\r' || b == '\t') return 170;
  switch (b) {
    case '.': case ',': case '-': case '/': case ':': case '=': case '"': case '\'': case '(':
    case ')': case '_': case ';': case '<': case '>':
      return 120;
    default:
      break;
  }
  if (b >= 0x80) return 60;  // UTF-8 continuation and lead bytes, high binary bytes
  if (b < 0x20) return 70;   // control bytes (small integers in binaries)
  return 90;                 // rarer punctuation
}

// Rank of a pattern byte under its mask: a wildcard is "everywhere"; a caseless letter is as
// common as its two cases together; a partial mask is treated as common.
int PositionRank(uint8_t value, uint8_t mask) {
  if (mask == 0) return 1000;
  if (mask == 0xFF) return ByteRank(value);
  if (mask == 0xDF && value >= 'A' && value <= 'Z') return ByteRank(value) + ByteRank(value | 0x20);
  return 400;
}

inline bool VerifyAt(const Matcher& m, const uint8_t* p) {
  const uint8_t* v = m.value.data();
  const uint8_t* k = m.mask.data();
  const size_t n = m.length;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t d, vv, kk;
    std::memcpy(&d, p + i, 8);
    std::memcpy(&vv, v + i, 8);
    std::memcpy(&kk, k + i, 8);
    if ((d & kk) != vv) return false;
  }
  for (; i < n; i++) {
    if ((p[i] & k[i]) != v[i]) return false;
  }
  return true;
}

// The scalar filter + verify over starts [s, candidates).
template <typename F>
inline bool ScalarRange(const Matcher& m, const uint8_t* data, size_t s, size_t candidates, F& hit) {
  for (; s < candidates; s++) {
    if ((data[s + m.a1] & m.m1) == m.v1 && (data[s + m.a2] & m.m2) == m.v2 && VerifyAt(m, data + s)) {
      if (!hit(static_cast<uint64_t>(s))) return false;
    }
  }
  return true;
}

template <typename F>
inline bool VerifyBits(const Matcher& m, const uint8_t* data, size_t base, uint64_t bits, F& hit) {
  while (bits) {
#if defined(__GNUC__) || defined(__clang__)
    const int i = __builtin_ctzll(bits);
#else
    unsigned long i;
    _BitScanForward64(&i, bits);
#endif
    bits &= bits - 1;
    if (VerifyAt(m, data + base + i)) {
      if (!hit(static_cast<uint64_t>(base + i))) return false;
    }
  }
  return true;
}

#if HEXMAP_SSE2
template <typename F>
bool MatchSse2(const Matcher& m, const uint8_t* data, size_t candidates, F& hit) {
  const __m128i k1 = _mm_set1_epi8(static_cast<char>(m.m1)), w1 = _mm_set1_epi8(static_cast<char>(m.v1));
  const __m128i k2 = _mm_set1_epi8(static_cast<char>(m.m2)), w2 = _mm_set1_epi8(static_cast<char>(m.v2));
  const uint8_t* p1 = data + m.a1;
  const uint8_t* p2 = data + m.a2;
  size_t s = 0;
  // Loads reach s + a2 + 63 < candidates + length - 1: inside the data.
  for (; s + 64 <= candidates; s += 64) {
    uint64_t bits = 0;
    for (int j = 0; j < 4; j++) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1 + s + 16 * j));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2 + s + 16 * j));
      const __m128i e = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(a, k1), w1), _mm_cmpeq_epi8(_mm_and_si128(b, k2), w2));
      bits |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(e))) << (16 * j);
    }
    if (bits && !VerifyBits(m, data, s, bits, hit)) return false;
  }
  return ScalarRange(m, data, s, candidates, hit);
}

uint64_t CountByteSse2(const uint8_t* p, size_t n, uint8_t byte) {
  const __m128i needle = _mm_set1_epi8(static_cast<char>(byte));
  const __m128i zero = _mm_setzero_si128();
  uint64_t total = 0;
  size_t i = 0;
  while (i + 64 <= n) {
    // Byte counters: each compare adds 0 or 1 (subtracting -1); 255 rounds at most, then fold.
    __m128i acc = _mm_setzero_si128();
    const size_t rounds = std::min<size_t>((n - i) / 64, 63);  // 4 compares a round: <= 252
    for (size_t r = 0; r < rounds; r++, i += 64) {
      const __m128i* q = reinterpret_cast<const __m128i*>(p + i);
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(q), needle));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(q + 1), needle));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(q + 2), needle));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128(q + 3), needle));
    }
    const __m128i sums = _mm_sad_epu8(acc, zero);
    total += static_cast<uint64_t>(_mm_cvtsi128_si64(sums)) + static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
  for (; i < n; i++) total += p[i] == byte;
  return total;
}

uint64_t CountUnit16Sse2(const uint8_t* p, size_t units, uint16_t unit) {
  const __m128i needle = _mm_set1_epi16(static_cast<short>(unit));
  uint64_t total = 0;
  size_t u = 0;
  for (; u + 32 <= units; u += 32) {
    uint64_t bits = 0;
    for (int j = 0; j < 4; j++) {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2 * u + 16 * j));
      bits |= static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi16(a, needle)))) << (16 * j);
    }
    total += static_cast<uint64_t>(Popcount64(bits)) / 2;
  }
  return total + CountUnit16Scalar(p + 2 * u, units - u, unit);
}
#endif

#if HEXMAP_AVX2
template <typename F>
__attribute__((target("avx2"))) bool MatchAvx2(const Matcher& m, const uint8_t* data, size_t candidates, F& hit) {
  const __m256i k1 = _mm256_set1_epi8(static_cast<char>(m.m1)), w1 = _mm256_set1_epi8(static_cast<char>(m.v1));
  const __m256i k2 = _mm256_set1_epi8(static_cast<char>(m.m2)), w2 = _mm256_set1_epi8(static_cast<char>(m.v2));
  const uint8_t* p1 = data + m.a1;
  const uint8_t* p2 = data + m.a2;
  size_t s = 0;
  for (; s + 64 <= candidates; s += 64) {
    const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1 + s));
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p2 + s));
    const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p1 + s + 32));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p2 + s + 32));
    const __m256i e0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(a0, k1), w1),
                                        _mm256_cmpeq_epi8(_mm256_and_si256(b0, k2), w2));
    const __m256i e1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(a1, k1), w1),
                                        _mm256_cmpeq_epi8(_mm256_and_si256(b1, k2), w2));
    const uint64_t bits = static_cast<uint32_t>(_mm256_movemask_epi8(e0)) |
                          (static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(e1))) << 32);
    if (bits && !VerifyBits(m, data, s, bits, hit)) return false;
  }
  return ScalarRange(m, data, s, candidates, hit);
}

__attribute__((target("avx2"))) uint64_t CountByteAvx2(const uint8_t* p, size_t n, uint8_t byte) {
  const __m256i needle = _mm256_set1_epi8(static_cast<char>(byte));
  const __m256i zero = _mm256_setzero_si256();
  uint64_t total = 0;
  size_t i = 0;
  while (i + 64 <= n) {
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    const size_t rounds = std::min<size_t>((n - i) / 64, 255);
    for (size_t r = 0; r < rounds; r++, i += 64) {
      const __m256i* q = reinterpret_cast<const __m256i*>(p + i);
      acc0 = _mm256_sub_epi8(acc0, _mm256_cmpeq_epi8(_mm256_loadu_si256(q), needle));
      acc1 = _mm256_sub_epi8(acc1, _mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), needle));
    }
    const __m256i sums = _mm256_add_epi64(_mm256_sad_epu8(acc0, zero), _mm256_sad_epu8(acc1, zero));
    alignas(32) uint64_t lanes[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sums);
    total += lanes[0] + lanes[1] + lanes[2] + lanes[3];
  }
  for (; i < n; i++) total += p[i] == byte;
  return total;
}

__attribute__((target("avx2,popcnt"))) uint64_t CountUnit16Avx2(const uint8_t* p, size_t units, uint16_t unit) {
  const __m256i needle = _mm256_set1_epi16(static_cast<short>(unit));
  uint64_t total = 0;
  size_t u = 0;
  for (; u + 32 <= units; u += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * u));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2 * u + 32));
    const uint64_t bits = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(a, needle))) |
                          (static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(b, needle)))) << 32);
    total += static_cast<uint64_t>(__builtin_popcountll(bits)) / 2;
  }
  return total + CountUnit16Scalar(p + 2 * u, units - u, unit);
}

bool HaveAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

template <typename F>
bool Match(const Matcher& m, const uint8_t* data, size_t candidates, F& hit) {
#if HEXMAP_AVX2
  if (HaveAvx2()) return MatchAvx2(m, data, candidates, hit);
#endif
#if HEXMAP_SSE2
  return MatchSse2(m, data, candidates, hit);
#else
  return ScalarRange(m, data, 0, candidates, hit);
#endif
}

// ---------------------------------------------------------------------------------------------
// Windows and chunks

uint64_t AlignDown(uint64_t x, uint64_t a) { return x - x % a; }

bool Canceled(ScanControl* control) { return control && control->cancel.load(std::memory_order_relaxed); }

// Reads [offset, offset+length) of the source into a buffer through the fault guard, mapping
// windows of `window` bytes (aligned to the granularity) as the reads move along, and keeping at
// most one mapped at a time.
class WindowReader {
 public:
  WindowReader(Source* src, uint64_t end, uint64_t window) : src_(src), end_(end), window_(window) {}
  ~WindowReader() { Release(); }
  WindowReader(const WindowReader&) = delete;
  WindowReader& operator=(const WindowReader&) = delete;

  // `forward` says which way the scan moves, so the next window is placed ahead of it.
  // Returns where the bytes are (inside dst, which must have 4 KiB of slack), or null with *err
  // set.
  const uint8_t* Read(uint64_t offset, size_t length, bool forward, uint8_t* dst, OsError* err) {
    if (length == 0) return dst;
    if (!Covers(offset, length)) {
      Release();
      const uint64_t gran = AllocationGranularity();
      uint64_t start;
      if (forward) {
        start = AlignDown(offset, gran);
      } else {
        const uint64_t last = offset + length;
        start = last > window_ ? AlignDown(last - window_, gran) : 0;
        if (start > offset) start = AlignDown(offset, gran);
      }
      uint64_t stop = std::min(end_, std::max(start + window_, offset + length));
      if (!MapView(src_, start, static_cast<size_t>(stop - start), false, &view_, err)) return nullptr;
      AdviseView(&view_, AccessHint::Sequential);
      mapped_ = true;
    }
    const uint8_t* from = view_.base + (offset - view_.offset);
#ifdef HEXMAP_SCAN_UNGUARDED_EXPERIMENT
    return from;
#else
    // Place the copy half a page away from the source's page offset: a destination a few bytes
    // past the source modulo 4 KiB makes `rep movsb` (glibc's memcpy at this size, and the Win32
    // guard's copy) 4x slower on AMD Zen from 4K aliasing (measured 0.85 s vs 0.19 s per 2 GiB).
    uint8_t* to = dst + ((reinterpret_cast<uintptr_t>(from) + 2048 - reinterpret_cast<uintptr_t>(dst)) & 4095);
    return GuardedCopy(to, from, length, err) ? to : nullptr;
#endif
  }

  void Release() {
    if (mapped_) {
      UnmapView(&view_);
      mapped_ = false;
    }
  }

 private:
  bool Covers(uint64_t offset, size_t length) const {
    return mapped_ && offset >= view_.offset && offset + length <= view_.offset + view_.length;
  }

  Source* src_;
  uint64_t end_, window_;
  View view_;
  bool mapped_ = false;
};

struct Geometry {
  uint64_t window, chunk;
};

Geometry Resolve(const ScanGeometry& g, uint64_t overlap) {
  const uint64_t gran = AllocationGranularity();
  Geometry r;
  r.chunk = g.chunkSize ? std::min(g.chunkSize, kMaxChunk) : kDefaultChunk;
  if (r.chunk < 64) r.chunk = 64;
  r.chunk &= ~uint64_t{1};  // even: UTF-16 units never straddle chunks
  r.window = g.windowSize ? g.windowSize : kDefaultWindow;
  // A window must hold a whole chunk plus the overlap wherever the chunk starts in its first page.
  r.window = std::max(r.window, r.chunk + overlap + gran);
  r.window = (r.window + gran - 1) / gran * gran;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Holes. A sparse file's holes read as zeros, so a scan need not read them: no newline lies in a
// hole, and a pattern that cannot match a run of zeros cannot match at a start p whose bytes
// [p, p+m) all lie in one hole. Matches that reach into a hole from data (or out of one into
// data) start at positions that are still scanned. The range is taken in segments; each asks the
// OS (NextDataRange: SEEK_DATA/SEEK_HOLE) where its holes are, then scans only the runs between
// the skippable spans, counting the skipped starts as scanned.

struct Span {
  uint64_t lo, hi;
};

constexpr uint64_t kSegment = 1ull << 30;          // starts whose holes are looked up at once
constexpr uint64_t kMinSkip = 64ull << 10;         // shorter spans are cheaper to scan than to skip
constexpr size_t kMaxSkipsPerSegment = 1024;       // a badly fragmented file: scan the rest instead

// Starts p in [a, b), on the grid base + k*align, whose bytes [p, p+m) lie wholly in one hole, as
// sorted spans with ends on the grid (or b), each at least kMinSkip long. [a, b) must lie on the
// grid at both ends (b may be the range's end, which is on the grid too).
void SkippableStarts(Source* src, uint64_t a, uint64_t b, uint64_t m, uint64_t base, uint64_t align,
                     std::vector<Span>* out) {
  out->clear();
  if (b - a < kMinSkip) return;
  auto up = [&](uint64_t x) { return base + (x - base + align - 1) / align * align; };
  const uint64_t end = b + m - 1;
  uint64_t x = a;
  while (x < end && out->size() < kMaxSkipsPerSegment) {
    uint64_t ds = x, de = end;
    OsError ignored;
    if (!NextDataRange(src, x, end, &ds, &de, &ignored)) return;
    if (ds > x && ds - x >= m) {
      // Starts in [x, ds - m + 1) read only hole bytes; ds - m + 1 <= b. A grid start below
      // up(s1) is at most s1 - 1 when s1 is off the grid, so it is skippable too.
      const uint64_t s0 = up(x);
      const uint64_t s1 = std::min(b, up(ds - m + 1));
      if (s1 > s0 && s1 - s0 >= kMinSkip) out->push_back({s0, s1});
    }
    if (ds >= end || de <= ds) return;
    x = de;
  }
}

// Calls run(lo, hi) for the runs of starts in [a, b) that must be scanned, in the scan's
// direction, and skipped(n) for the n starts of each skippable span between them. Stops early
// (returning false) when run returns false or, at a segment's start, when stop() says so.
template <typename Stopped, typename Run, typename Skipped>
bool ForEachRun(Source* src, bool skipHoles, uint64_t m, uint64_t align, uint64_t a, uint64_t b, bool forward,
                Stopped&& stop, Run&& run, Skipped&& skipped) {
  std::vector<Span> skips;
  auto segment = [&](uint64_t sa, uint64_t sb) {
    if (stop()) return false;
    if (skipHoles) {
      SkippableStarts(src, sa, sb, m, a, align, &skips);
    } else {
      skips.clear();
    }
    if (forward) {
      uint64_t pos = sa;
      for (const Span& s : skips) {
        if (s.lo > pos && !run(pos, s.lo)) return false;
        skipped(s.hi - s.lo);
        pos = s.hi;
      }
      return pos >= sb || run(pos, sb);
    }
    uint64_t pos = sb;
    for (auto it = skips.rbegin(); it != skips.rend(); ++it) {
      if (it->hi < pos && !run(it->hi, pos)) return false;
      skipped(it->hi - it->lo);
      pos = it->lo;
    }
    return pos <= sa || run(sa, pos);
  };
  // Segment edges stay on the grid: kSegment is a multiple of any align.
  if (forward) {
    for (uint64_t sa = a; sa < b;) {
      const uint64_t sb = b - sa > kSegment ? sa + kSegment : b;
      if (!segment(sa, sb)) return false;
      sa = sb;
    }
  } else {
    uint64_t sb = b;
    while (sb > a) {
      // The first segment from the top is the ragged one, so the others stay on the grid.
      const uint64_t rag = (sb - a) % kSegment;
      const uint64_t sa = sb - (rag ? rag : kSegment);
      if (!segment(sa, sb)) return false;
      sb = sa;
    }
  }
  return true;
}

// Whether the pattern matches a run of zeros (then holes hold matches and must be scanned).
bool MatchesZeros(const Matcher& m) {
  for (size_t i = 0; i < m.length; i++) {
    if ((0 & m.mask[i]) != m.value[i]) return false;
  }
  return true;
}

void CompileError(std::string* error, const char* text) {
  if (error) *error = text;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Matcher

bool Matcher::Compile(const uint8_t* bytes, size_t n, const uint8_t* mask, bool caseless, Matcher* out,
                      std::string* error) {
  if (n == 0) {
    CompileError(error, "The pattern is empty: give at least one byte to search for.");
    return false;
  }
  Matcher m;
  m.length = n;
  m.value.resize(n);
  m.mask.resize(n);
  for (size_t i = 0; i < n; i++) {
    uint8_t k = mask ? mask[i] : 0xFF;
    uint8_t v = bytes[i];
    if (caseless && k == 0xFF && ((v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z'))) {
      k = 0xDF;
      v = static_cast<uint8_t>(v & 0xDF);
    }
    m.mask[i] = k;
    m.value[i] = static_cast<uint8_t>(v & k);
  }
  // The rarest position, then the rarest other position (preferring another byte value, so the
  // two compares filter independently).
  size_t best = n;
  for (size_t i = 0; i < n; i++) {
    if (m.mask[i] == 0) continue;
    if (best == n || PositionRank(m.value[i], m.mask[i]) < PositionRank(m.value[best], m.mask[best])) best = i;
  }
  if (best == n) {
    CompileError(error, "The pattern is all wildcards: it needs at least one byte that is not ??.");
    return false;
  }
  size_t second = n;
  auto score = [&](size_t i) {
    int r = PositionRank(m.value[i], m.mask[i]);
    if (m.value[i] == m.value[best] && m.mask[i] == m.mask[best]) r += 500;
    return r;
  };
  for (size_t i = 0; i < n; i++) {
    if (i == best || m.mask[i] == 0) continue;
    if (second == n || score(i) < score(second)) second = i;
  }
  if (second == n) second = best;
  m.a1 = std::min(best, second);
  m.a2 = std::max(best, second);
  m.v1 = m.value[m.a1];
  m.m1 = m.mask[m.a1];
  m.v2 = m.value[m.a2];
  m.m2 = m.mask[m.a2];
  *out = std::move(m);
  return true;
}

bool ForEachMatch(const Matcher& m, const uint8_t* data, size_t candidates, bool (*hit)(void*, uint64_t),
                  void* ctx) {
  auto f = [&](uint64_t s) { return hit(ctx, s); };
  return Match(m, data, candidates, f);
}

uint64_t CountByte(const uint8_t* p, size_t n, uint8_t byte) {
#if HEXMAP_AVX2
  if (HaveAvx2()) return CountByteAvx2(p, n, byte);
#endif
#if HEXMAP_SSE2
  return CountByteSse2(p, n, byte);
#else
  uint64_t t = 0;
  for (size_t i = 0; i < n; i++) t += p[i] == byte;
  return t;
#endif
}

uint64_t CountUnit16(const uint8_t* p, size_t units, uint16_t unitAsLoaded) {
#if HEXMAP_AVX2
  if (HaveAvx2()) return CountUnit16Avx2(p, units, unitAsLoaded);
#endif
#if HEXMAP_SSE2
  return CountUnit16Sse2(p, units, unitAsLoaded);
#else
  return CountUnit16Scalar(p, units, unitAsLoaded);
#endif
}

// ---------------------------------------------------------------------------------------------
// Jobs

namespace {

constexpr size_t kHitBatch = 4096;
constexpr uint64_t kMinPart = 32ull << 20;  // below this a range is not split across threads

unsigned PartCount(unsigned threads, uint64_t bytes) {
  if (threads == 0) {
    const unsigned hw = std::thread::hardware_concurrency();
    threads = hw == 0 ? 1 : std::min(hw, 4u);
  }
  const uint64_t most = std::max<uint64_t>(1, bytes / kMinPart);
  return static_cast<unsigned>(std::min<uint64_t>(threads, most));
}

// Stops every part once one fails, or when the caller cancels.
struct Stop {
  ScanControl* control;
  std::atomic<bool> failed{false};
  bool operator()() const {
    return failed.load(std::memory_order_relaxed) || (control && control->cancel.load(std::memory_order_relaxed));
  }
};

// Runs body(part, lo, hi) for `parts` contiguous slices of [lo, hi) (slice edges even), part 0
// on this thread and the others on threads of their own.
template <typename F>
void RunParts(unsigned parts, uint64_t lo, uint64_t hi, F&& body) {
  if (parts <= 1) {
    body(0u, lo, hi);
    return;
  }
  const uint64_t step = ((hi - lo) / parts) & ~uint64_t{1};
  std::vector<std::thread> threads;
  threads.reserve(parts - 1);
  for (unsigned k = 1; k < parts; k++) {
    const uint64_t a = lo + step * k;
    const uint64_t b = k + 1 == parts ? hi : lo + step * (k + 1);
    threads.emplace_back([&body, k, a, b] { body(k, a, b); });
  }
  body(0u, lo, lo + step);
  for (std::thread& t : threads) t.join();
}

struct PartResult {
  bool ok = true;
  bool stopped = false;  // left early: canceled, or another part failed
  OsError err;
  uint64_t total = 0;
  std::vector<uint64_t> hits;  // parts after the first keep theirs until the merge
};

}  // namespace

bool RunSearch(Source* src, const Matcher& matcher, const SearchParams& params, ScanControl* control,
               ScanSink* sink, SearchOutcome* out, OsError* err) {
  *out = SearchOutcome();
  const uint64_t m = matcher.length;
  const uint64_t to = params.to;
  if (to < m) return true;
  const uint64_t lastStart = to - m + 1;  // starts are < lastStart
  const Geometry g = Resolve(params.geometry, m - 1);

  const bool skipHoles = !MatchesZeros(matcher);
  auto tick = [&](uint64_t n) {
    if (control) control->scanned.fetch_add(n, std::memory_order_relaxed);
    if (sink) sink->Tick();
  };
  auto canceled = [&] {
    if (!Canceled(control)) return false;
    out->canceled = true;
    return true;
  };

  if (params.mode == SearchMode::Backward) {
    WindowReader reader(src, to, g.window);
    std::vector<uint8_t> buffer(static_cast<size_t>(g.chunk + m - 1 + 4096));
    bool failed = false;
    auto run = [&](uint64_t runLo, uint64_t runHi) {
      for (uint64_t hi = runHi; hi > runLo;) {
        if (canceled()) return false;
        const uint64_t lo = hi - runLo > g.chunk ? hi - g.chunk : runLo;
        const size_t n = static_cast<size_t>(hi - lo);
        const uint8_t* data = reader.Read(lo, static_cast<size_t>(n + m - 1), false, buffer.data(), err);
        if (!data) {
          failed = true;
          return false;
        }
        bool found = false;
        uint64_t last = 0;
        auto f = [&](uint64_t s) {
          found = true;
          last = s;
          return true;
        };
        Match(matcher, data, n, f);
        tick(n);
        if (found) {
          out->found = true;
          out->hit = lo + last;
          return false;
        }
        hi = lo;
      }
      return true;
    };
    ForEachRun(src, skipHoles, m, 1, 0, std::min(params.from, lastStart), false, canceled, run, tick);
    return !failed;
  }

  if (params.mode == SearchMode::Forward) {
    WindowReader reader(src, to, g.window);
    std::vector<uint8_t> buffer(static_cast<size_t>(g.chunk + m - 1 + 4096));
    bool failed = false;
    auto run = [&](uint64_t runLo, uint64_t runHi) {
      for (uint64_t lo = runLo; lo < runHi;) {
        if (canceled()) return false;
        const uint64_t hi = std::min(runHi, lo + g.chunk);
        const size_t n = static_cast<size_t>(hi - lo);
        const uint8_t* data = reader.Read(lo, static_cast<size_t>(n + m - 1), true, buffer.data(), err);
        if (!data) {
          failed = true;
          return false;
        }
        bool found = false;
        uint64_t first = 0;
        auto f = [&](uint64_t s) {
          found = true;
          first = s;
          return false;
        };
        Match(matcher, data, n, f);
        if (found) {
          out->found = true;
          out->hit = lo + first;
          if (control) control->scanned.fetch_add(first + 1, std::memory_order_relaxed);
          return false;
        }
        tick(n);
        lo = hi;
      }
      return true;
    };
    if (params.from < lastStart) {
      ForEachRun(src, skipHoles, m, 1, params.from, lastStart, true, canceled, run, tick);
    }
    return !failed;
  }

  // All: every match, in parallel slices of the range. The first slice streams its hits to the
  // sink as it goes; later slices keep theirs (at most maxHits each) for the in-order merge.
  if (params.from >= lastStart) return true;
  const unsigned parts = PartCount(params.threads, lastStart - params.from);
  std::vector<PartResult> results(parts);
  Stop stop{control};
  const uint64_t maxHits = params.maxHits;
  RunParts(parts, params.from, lastStart, [&](unsigned part, uint64_t from, uint64_t until) {
    PartResult& r = results[part];
    WindowReader reader(src, to, g.window);
    std::vector<uint8_t> buffer(static_cast<size_t>(g.chunk + m - 1 + 4096));
    std::vector<uint64_t> batch;
    auto flush = [&] {
      if (part == 0 && sink && !batch.empty()) sink->Hits(batch.data(), batch.size());
      batch.clear();
    };
    uint64_t total = 0, kept = 0;
    auto stopped = [&] {
      if (!stop()) return false;
      r.stopped = true;
      return true;
    };
    auto run = [&](uint64_t runLo, uint64_t runHi) {
      for (uint64_t lo = runLo; lo < runHi;) {
        if (stopped()) return false;
        const uint64_t hi = std::min(runHi, lo + g.chunk);
        const size_t n = static_cast<size_t>(hi - lo);
        const uint8_t* data = reader.Read(lo, static_cast<size_t>(n + m - 1), true, buffer.data(), &r.err);
        if (!data) {
          r.ok = false;
          stop.failed.store(true);
          return false;
        }
        auto f = [&](uint64_t s) {
          total++;
          if (kept < maxHits) {
            kept++;
            if (part == 0) {
              batch.push_back(lo + s);
              if (batch.size() >= kHitBatch) flush();
            } else {
              r.hits.push_back(lo + s);
            }
          }
          return true;
        };
        Match(matcher, data, n, f);
        tick(n);
        lo = hi;
      }
      return true;
    };
    ForEachRun(src, skipHoles, m, 1, from, until, true, stopped, run, tick);
    flush();
    r.total = total;
    if (part == 0) out->kept = kept;
  });
  for (PartResult& r : results) {
    if (!r.ok) {
      *err = r.err;
      return false;
    }
  }
  for (const PartResult& r : results) out->canceled = out->canceled || r.stopped;
  for (unsigned k = 0; k < parts; k++) {
    out->total += results[k].total;
    if (k == 0) continue;
    std::vector<uint64_t>& hits = results[k].hits;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(hits.size(), maxHits - out->kept));
    for (size_t at = 0; at < take && sink; at += kHitBatch) {
      sink->Hits(hits.data() + at, std::min(kHitBatch, take - at));
    }
    out->kept += take;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Newline count job

namespace {

// Appends the offsets of the newlines numbered next, next+K, ... (1-based, counting `seen`
// newlines before p) among the `count` newlines in [p, p+n).
void Sample(const uint8_t* p, size_t n, unsigned unit, uint16_t unitValue, uint64_t seen, uint64_t count,
            uint64_t k, uint64_t base, std::vector<uint64_t>* samples) {
  uint64_t next = (seen / k + 1) * k;
  uint64_t number = seen;
  if (unit == 1) {
    const uint8_t* q = p;
    const uint8_t* end = p + n;
    while (q < end && next <= seen + count) {
      const void* hit = std::memchr(q, '\n', static_cast<size_t>(end - q));
      if (!hit) break;
      const uint8_t* h = static_cast<const uint8_t*>(hit);
      if (++number == next) {
        samples->push_back(base + static_cast<uint64_t>(h - p));
        next += k;
      }
      q = h + 1;
    }
  } else {
    for (size_t u = 0; u * 2 + 1 < n && next <= seen + count; u++) {
      uint16_t w;
      std::memcpy(&w, p + 2 * u, 2);
      if (w == unitValue && ++number == next) {
        samples->push_back(base + 2 * u);
        next += k;
      }
    }
  }
}

}  // namespace

bool RunLineCount(Source* src, const LineParams& params, ScanControl* control, ScanSink* sink,
                  LineOutcome* out, OsError* err) {
  *out = LineOutcome();
  const unsigned unit = params.unit == 2 ? 2 : 1;
  uint64_t to = params.to;
  if (params.from >= to) return true;
  if (unit == 2) to = params.from + (to - params.from) / 2 * 2;  // whole units only
  if (params.from >= to) return true;
  const Geometry g = Resolve(params.geometry, 0);
  const uint16_t unitValue = params.bigEndian ? 0x0A00 : 0x000A;
  const uint64_t k = params.sampleEvery;
  auto count = [&](const uint8_t* p, size_t n) {
    return unit == 1 ? CountByte(p, n, '\n') : CountUnit16(p, n / 2, unitValue);
  };
  // Samples need the running count, so a sampled scan is one sequential pass; a plain count is
  // split across threads.
  const unsigned parts = k ? 1 : PartCount(params.threads, to - params.from);
  std::vector<PartResult> results(parts);
  Stop stop{control};
  RunParts(parts, params.from, to, [&](unsigned part, uint64_t from, uint64_t until) {
    PartResult& r = results[part];
    WindowReader reader(src, to, g.window);
    std::vector<uint8_t> buffer(static_cast<size_t>(g.chunk + 4096));
    std::vector<uint64_t> samples;
    // A chunk is counted in sub-blocks; one that holds a sampled newline is walked again to
    // find it, so the walk stays short whatever K is.
    constexpr size_t kSub = 16 << 10;
    uint64_t total = 0;
    auto stopped = [&] {
      if (!stop()) return false;
      r.stopped = true;
      return true;
    };
    auto tick = [&](uint64_t n) {
      if (control) control->scanned.fetch_add(n, std::memory_order_relaxed);
      if (sink) sink->Tick();
    };
    auto run = [&](uint64_t runLo, uint64_t runHi) {
      for (uint64_t lo = runLo; lo < runHi;) {
        if (stopped()) return false;
        const uint64_t hi = std::min(runHi, lo + g.chunk);
        const size_t n = static_cast<size_t>(hi - lo);
        const uint8_t* data = reader.Read(lo, n, true, buffer.data(), &r.err);
        if (!data) {
          r.ok = false;
          stop.failed.store(true);
          return false;
        }
        if (k == 0) {
          total += count(data, n);
        } else {
          for (size_t at = 0; at < n; at += kSub) {
            const size_t len = std::min(kSub, n - at);
            const uint64_t c = count(data + at, len);
            if (c && total % k + c >= k) Sample(data + at, len, unit, unitValue, total, c, k, lo + at, &samples);
            total += c;
          }
          if (sink && samples.size() >= 4096) {
            sink->Samples(samples.data(), samples.size());
            samples.clear();
          }
        }
        tick(n);
        lo = hi;
      }
      return true;
    };
    // A hole holds no newline: no '\n' byte, no U+000A unit.
    ForEachRun(src, true, unit, unit, from, until, true, stopped, run, tick);
    if (sink && !samples.empty()) sink->Samples(samples.data(), samples.size());
    r.total = total;
  });
  for (PartResult& r : results) {
    if (!r.ok) {
      *err = r.err;
      return false;
    }
    out->newlines += r.total;
    out->canceled = out->canceled || r.stopped;
  }
  return true;
}

}  // namespace hexmap

// Node-API bindings for hexmap: argument validation, object lifetimes and error conversion.
// All OS work lives behind mapping.h (mapping_posix.cc / mapping_win32.cc, guard_*.cc); this
// file must stay free of platform headers so it builds with both g++ and mingw-w64.
//
// Lifetimes. JS Source/View objects own a shared_ptr to a SourceState/ViewState. A view
// keeps its source open (the source really closes only once all its views are unmapped). An
// async operation pins its view (or, for sync(), its source) and holds a shared_ptr, so
// unmap()/close()/GC while work is in flight only *request* the release; the real
// munmap/close happens when the last pin is dropped, on the main thread. All state is touched
// only on the main thread, except the mapped bytes themselves, which workers copy through the
// fault guard.
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "mapping.h"
#include "scan.h"

namespace {

using hexmap::OsError;

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

// Process-wide counts of live OS resources, reported by stats() (leak tests).
std::atomic<int64_t> g_sources{0};
std::atomic<int64_t> g_views{0};
std::atomic<int64_t> g_mappedBytes{0};
std::atomic<int64_t> g_scanJobs{0};  // search/countLines jobs running (each maps its own windows)

// ---------------------------------------------------------------------------------------------
// Errors

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message,
                      const std::string& syscall = std::string(), int64_t errnum = 0) {
  Napi::Error e = Napi::Error::New(env, message);
  Napi::Object o = e.Value();
  o.Set("code", Napi::String::New(env, code));
  if (!syscall.empty()) {
    o.Set("syscall", Napi::String::New(env, syscall));
    o.Set("errno", Napi::Number::New(env, static_cast<double>(errnum)));
  }
  return e;
}

Napi::Error MakeError(Napi::Env env, const OsError& err) {
  std::string code = err.code.empty() ? "EIO" : err.code;
  std::string message = err.message.empty() ? "The operating system reported an error." : err.message;
  return MakeError(env, code, message, err.syscall, err.errnum);
}

[[noreturn]] void Throw(Napi::Env env, const std::string& code, const std::string& message) {
  throw MakeError(env, code, message);
}

std::string Describe(const Napi::Value& v) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", d);
    return buf;
  }
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsString()) return "a string";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsBigInt()) return "a bigint";
  if (v.IsSymbol()) return "a symbol";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// A non-negative safe integer (0 .. 2^53-1), else EINVAL.
uint64_t ToIndex(Napi::Env env, const Napi::Value& v, const char* what) {
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && d >= 0 && d <= kMaxSafeInteger && std::floor(d) == d) {
      return static_cast<uint64_t>(d);
    }
  }
  Throw(env, "EINVAL",
        std::string(what) + " must be a non-negative safe integer (0 to 2^53-1), got " + Describe(v) +
            ".");
}

bool ToOptionalBool(Napi::Env env, const Napi::Value& v, const char* what, bool fallback) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsBoolean()) Throw(env, "EINVAL", std::string(what) + " must be a boolean, got " + Describe(v) + ".");
  return v.As<Napi::Boolean>().Value();
}

std::string ToName(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsString()) Throw(env, "EINVAL", std::string(what) + " must be a string, got " + Describe(v) + ".");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty()) Throw(env, "EINVAL", std::string(what) + " must not be empty.");
  if (s.find('\0') != std::string::npos) {
    Throw(env, "EINVAL", std::string(what) + " must not contain a NUL character.");
  }
  return s;
}

// { writable?: boolean } or undefined.
bool WritableOption(Napi::Env env, const Napi::Value& options) {
  if (options.IsUndefined() || options.IsNull()) return false;
  if (!options.IsObject()) {
    Throw(env, "EINVAL", "options must be an object like { writable: true }, got " + Describe(options) + ".");
  }
  return ToOptionalBool(env, options.As<Napi::Object>().Get("writable"), "options.writable", false);
}

// Bytes of a TypedArray, DataView or ArrayBuffer (not copied).
void BytesOf(Napi::Env env, const Napi::Value& v, const uint8_t** data, size_t* size) {
  if (v.IsTypedArray()) {
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    Napi::ArrayBuffer ab = ta.ArrayBuffer();
    *data = static_cast<const uint8_t*>(ab.Data()) + ta.ByteOffset();
    *size = ta.ByteLength();
    return;
  }
  if (v.IsDataView()) {
    Napi::DataView dv = v.As<Napi::DataView>();
    Napi::ArrayBuffer ab = dv.ArrayBuffer();
    *data = static_cast<const uint8_t*>(ab.Data()) + dv.ByteOffset();
    *size = dv.ByteLength();
    return;
  }
  if (v.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = v.As<Napi::ArrayBuffer>();
    *data = static_cast<const uint8_t*>(ab.Data());
    *size = ab.ByteLength();
    return;
  }
  Throw(env, "EINVAL", "data must be a Uint8Array (or Buffer), got " + Describe(v) + ".");
}

// ---------------------------------------------------------------------------------------------
// Native state

struct ViewState;

struct SourceState {
  hexmap::Source* os = nullptr;  // null once really closed
  hexmap::SourceKind kind = hexmap::SourceKind::File;
  bool writable = false;
  bool closeRequested = false;  // close() was called: no new work; views are being unmapped
  bool orphaned = false;        // the JS object was collected: close once nothing uses it
  int pins = 0;                 // sync() and scan workers in flight
  std::vector<ViewState*> views;  // views still mapped (including those with a pending unmap)
  std::vector<std::shared_ptr<hexmap::ScanControl>> jobs;  // scans to cancel on close()

  ~SourceState() { CloseNow(); }

  void MaybeClose() {
    if ((closeRequested || orphaned) && pins == 0 && views.empty()) CloseNow();
  }
  void CloseNow() {
    if (!os) return;
    hexmap::CloseSource(os);
    os = nullptr;
    g_sources.fetch_sub(1);
  }
  void RequestClose();
};

struct ViewState {
  hexmap::View view;
  bool mapped = false;
  bool unmapRequested = false;
  int pins = 0;  // async operations in flight
  std::shared_ptr<SourceState> source;
  // Kept after unmapping so that offset/length stay readable on a closed view.
  uint64_t offset = 0;
  size_t length = 0;
  bool writable = false;

  ~ViewState() { UnmapNow(); }

  void RequestUnmap() {
    unmapRequested = true;
    MaybeRelease();
  }
  void MaybeRelease() {
    if (unmapRequested && pins == 0) UnmapNow();
  }
  void UnmapNow() {
    if (!mapped) return;
    hexmap::UnmapView(&view);
    mapped = false;
    g_views.fetch_sub(1);
    g_mappedBytes.fetch_sub(static_cast<int64_t>(length));
    if (source) {
      auto& vs = source->views;
      vs.erase(std::remove(vs.begin(), vs.end(), this), vs.end());
      source->MaybeClose();
    }
  }
};

void SourceState::RequestClose() {
  closeRequested = true;
  for (auto& job : jobs) job->cancel.store(true);
  std::vector<ViewState*> copy = views;  // RequestUnmap may erase from `views`
  for (ViewState* v : copy) v->RequestUnmap();
  MaybeClose();
}

struct AddonData {
  Napi::FunctionReference sourceCtor;
  Napi::FunctionReference viewCtor;
};

AddonData* Data(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

// ---------------------------------------------------------------------------------------------
// Async workers. Execute() runs on a libuv pool thread and touches only plain memory (the
// mapped view, a buffer allocated and referenced on the main thread); everything that needs
// napi_env happens in the constructor and OnOK/OnError on the main thread.

class PinnedWorker : public Napi::AsyncWorker {
 public:
  PinnedWorker(Napi::Env env, Napi::Promise::Deferred deferred, std::shared_ptr<ViewState> view,
               std::shared_ptr<SourceState> source)
      : Napi::AsyncWorker(env, "hexmap"),
        deferred_(deferred),
        view_(std::move(view)),
        source_(std::move(source)) {
    if (view_) view_->pins++;
    if (source_) source_->pins++;
  }
  ~PinnedWorker() override { Unpin(); }

 protected:
  void OnOK() override {
    Unpin();  // before settling, so a continuation already sees the view released
    if (ok_) {
      deferred_.Resolve(Result());
    } else {
      deferred_.Reject(MakeError(Env(), err_).Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Unpin();
    deferred_.Reject(e.Value());
  }
  virtual Napi::Value Result() { return Env().Undefined(); }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<ViewState> view_;
  std::shared_ptr<SourceState> source_;
  bool ok_ = false;
  OsError err_;

 private:
  void Unpin() {
    if (unpinned_) return;
    unpinned_ = true;
    if (view_) {
      view_->pins--;
      view_->MaybeRelease();
    }
    if (source_) {
      source_->pins--;
      source_->MaybeClose();
    }
  }
  bool unpinned_ = false;
};

class ReadWorker : public PinnedWorker {
 public:
  ReadWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<ViewState> view, size_t at,
             size_t length)
      : PinnedWorker(env, d, std::move(view), nullptr), at_(at), length_(length) {
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, length);
    dst_ = buf.Data();
    buffer_ = Napi::Persistent(buf);
  }
  void Execute() override { ok_ = hexmap::GuardedCopy(dst_, view_->view.base + at_, length_, &err_); }
  Napi::Value Result() override { return buffer_.Value(); }

 private:
  size_t at_, length_;
  uint8_t* dst_ = nullptr;
  Napi::Reference<Napi::Buffer<uint8_t>> buffer_;
};

class WriteWorker : public PinnedWorker {
 public:
  WriteWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<ViewState> view, size_t at,
              const uint8_t* data, size_t size)
      : PinnedWorker(env, d, std::move(view), nullptr), at_(at), data_(data, data + size) {}
  // The bytes are copied on the main thread: the caller's ArrayBuffer could be detached or
  // reused while the worker runs.
  void Execute() override {
    ok_ = hexmap::GuardedWrite(view_->view.base + at_, data_.data(), data_.size(), &err_);
  }

 private:
  size_t at_;
  std::vector<uint8_t> data_;
};

class FlushWorker : public PinnedWorker {
 public:
  FlushWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<ViewState> view, size_t at,
              size_t length)
      : PinnedWorker(env, d, std::move(view), nullptr), at_(at), length_(length) {}
  void Execute() override { ok_ = hexmap::FlushView(&view_->view, at_, length_, &err_); }

 private:
  size_t at_, length_;
};

class SyncWorker : public PinnedWorker {
 public:
  SyncWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<SourceState> source)
      : PinnedWorker(env, d, nullptr, std::move(source)) {}
  void Execute() override { ok_ = hexmap::SyncSource(source_->os, &err_); }
};

// Scan jobs (search, countLines). Execute() runs the job on a pool thread (plus the job's own
// slice threads); hits, samples and progress travel back through a mutex-protected queue that
// the worker signals at most every 50 ms (and whenever a hit batch is ready), and that
// OnProgress drains into the JS callbacks on the main thread. The promise settles after the
// last drain: { ..., canceled } when cancel() (or the source's close()) stopped it early.

constexpr int64_t kProgressIntervalMs = 50;

class ScanWorker : public Napi::AsyncProgressWorker<char>, public hexmap::ScanSink {
 public:
  ScanWorker(Napi::Env env, Napi::Promise::Deferred deferred, std::shared_ptr<SourceState> source,
             std::shared_ptr<hexmap::ScanControl> control, uint64_t rangeBytes, Napi::Value onProgress)
      : Napi::AsyncProgressWorker<char>(env, "hexmap.scan"),
        deferred_(deferred),
        source_(std::move(source)),
        control_(std::move(control)),
        rangeBytes_(rangeBytes) {
    if (onProgress.IsFunction()) onProgress_ = Napi::Persistent(onProgress.As<Napi::Function>());
    source_->pins++;
    source_->jobs.push_back(control_);
    g_scanJobs.fetch_add(1);
  }
  ~ScanWorker() override { Finish(); }

  // hexmap::ScanSink, on the job's threads.
  void Hits(const uint64_t* offsets, size_t n) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hits_.insert(hits_.end(), offsets, offsets + n);
    }
    Signal();
  }
  void Samples(const uint64_t* offsets, size_t n) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      samples_.insert(samples_.end(), offsets, offsets + n);
    }
    if (streamSamples_) Signal();
  }
  void Tick() override {
    const int64_t now = NowMs();
    int64_t last = lastSignal_.load(std::memory_order_relaxed);
    if (now - last >= kProgressIntervalMs && lastSignal_.compare_exchange_strong(last, now)) Signal();
  }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    progress_ = &progress;
    Run();
    progress_ = nullptr;
  }
  void OnProgress(const char*, size_t) override { Drain(true); }

  void OnOK() override {
    Drain(false);
    Finish();
    if (ok_) {
      deferred_.Resolve(Result());
    } else {
      deferred_.Reject(MakeError(Env(), err_).Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Finish();
    deferred_.Reject(e.Value());
  }

  virtual void Run() = 0;
  virtual Napi::Object Result() = 0;
  // Called on the main thread with newly arrived hits/samples (never empty).
  virtual void DeliverHits(std::vector<uint64_t>&) {}
  virtual void DeliverSamples(std::vector<uint64_t>&) {}

  static Napi::Float64Array ToFloat64Array(Napi::Env env, const std::vector<uint64_t>& v) {
    Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); i++) a[i] = static_cast<double>(v[i]);
    return a;
  }

  // Calls a JS callback; an exception it throws is reported as an uncaught exception rather
  // than unwinding through the worker.
  void CallJs(const Napi::FunctionReference& fn, std::initializer_list<napi_value> args) {
    try {
      fn.Call(args);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(Env(), e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  std::shared_ptr<SourceState> source_;
  std::shared_ptr<hexmap::ScanControl> control_;
  uint64_t rangeBytes_;
  bool streamSamples_ = false;
  bool ok_ = false;
  OsError err_;

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  void Signal() {
    if (progress_) progress_->Signal();
  }
  void Drain(bool reportProgress) {
    std::vector<uint64_t> hits, samples;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      hits.swap(hits_);
      if (streamSamples_) samples.swap(samples_);
    }
    if (!hits.empty()) DeliverHits(hits);
    if (!samples.empty()) DeliverSamples(samples);
    if (reportProgress && !onProgress_.IsEmpty()) {
      Napi::Env env = Env();
      Napi::HandleScope scope(env);
      const double scanned = static_cast<double>(control_->scanned.load());
      CallJs(onProgress_, {Napi::Number::New(env, scanned), Napi::Number::New(env, static_cast<double>(rangeBytes_))});
    }
  }
  void Finish() {
    if (finished_) return;
    finished_ = true;
    auto& jobs = source_->jobs;
    jobs.erase(std::remove(jobs.begin(), jobs.end(), control_), jobs.end());
    source_->pins--;
    source_->MaybeClose();
    g_scanJobs.fetch_sub(1);
  }

  const ExecutionProgress* progress_ = nullptr;
  std::atomic<int64_t> lastSignal_{0};
  Napi::FunctionReference onProgress_;
  bool finished_ = false;

 protected:
  std::mutex mutex_;
  std::vector<uint64_t> hits_, samples_;
};

class SearchWorker : public ScanWorker {
 public:
  SearchWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<SourceState> source,
               std::shared_ptr<hexmap::ScanControl> control, hexmap::Matcher matcher, hexmap::SearchParams params,
               uint64_t rangeBytes, Napi::Value onProgress, Napi::Value onHits)
      : ScanWorker(env, d, std::move(source), std::move(control), rangeBytes, onProgress),
        matcher_(std::move(matcher)),
        params_(params) {
    if (onHits.IsFunction()) onHits_ = Napi::Persistent(onHits.As<Napi::Function>());
  }

 protected:
  void Run() override {
    ok_ = hexmap::RunSearch(source_->os, matcher_, params_, control_.get(), this, &outcome_, &err_);
  }
  void DeliverHits(std::vector<uint64_t>& hits) override {
    if (onHits_.IsEmpty()) return;
    Napi::HandleScope scope(Env());
    CallJs(onHits_, {ToFloat64Array(Env(), hits)});
  }
  Napi::Object Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    const bool single = params_.mode != hexmap::SearchMode::All;
    o.Set("hit", Napi::Number::New(env, outcome_.found ? static_cast<double>(outcome_.hit) : -1.0));
    o.Set("total", Napi::Number::New(env, static_cast<double>(single ? (outcome_.found ? 1 : 0) : outcome_.total)));
    o.Set("kept", Napi::Number::New(env, static_cast<double>(single ? (outcome_.found ? 1 : 0) : outcome_.kept)));
    o.Set("scanned", Napi::Number::New(env, static_cast<double>(control_->scanned.load())));
    o.Set("canceled", Napi::Boolean::New(env, outcome_.canceled));
    return o;
  }

 private:
  hexmap::Matcher matcher_;
  hexmap::SearchParams params_;
  hexmap::SearchOutcome outcome_;
  Napi::FunctionReference onHits_;
};

class LineCountWorker : public ScanWorker {
 public:
  LineCountWorker(Napi::Env env, Napi::Promise::Deferred d, std::shared_ptr<SourceState> source,
                  std::shared_ptr<hexmap::ScanControl> control, hexmap::LineParams params, uint64_t rangeBytes,
                  Napi::Value onProgress, Napi::Value onSamples)
      : ScanWorker(env, d, std::move(source), std::move(control), rangeBytes, onProgress), params_(params) {
    if (onSamples.IsFunction()) {
      onSamples_ = Napi::Persistent(onSamples.As<Napi::Function>());
      streamSamples_ = true;
    }
  }

 protected:
  void Run() override {
    ok_ = hexmap::RunLineCount(source_->os, params_, control_.get(), this, &outcome_, &err_);
  }
  void DeliverSamples(std::vector<uint64_t>& samples) override {
    Napi::HandleScope scope(Env());
    CallJs(onSamples_, {ToFloat64Array(Env(), samples)});
  }
  Napi::Object Result() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("newlines", Napi::Number::New(env, static_cast<double>(outcome_.newlines)));
    o.Set("scanned", Napi::Number::New(env, static_cast<double>(control_->scanned.load())));
    o.Set("canceled", Napi::Boolean::New(env, outcome_.canceled));
    if (params_.sampleEvery && !streamSamples_) {
      std::lock_guard<std::mutex> lock(mutex_);
      o.Set("samples", ToFloat64Array(env, samples_));
    }
    return o;
  }

 private:
  hexmap::LineParams params_;
  hexmap::LineOutcome outcome_;
  Napi::FunctionReference onSamples_;
};

// { promise, cancel() }: cancel() sets the job's flag; the promise then resolves with
// canceled: true within one chunk's time.
Napi::Object JobObject(Napi::Env env, Napi::Promise promise, std::shared_ptr<hexmap::ScanControl> control) {
  Napi::Object job = Napi::Object::New(env);
  job.Set("promise", promise);
  std::weak_ptr<hexmap::ScanControl> weak = control;
  job.Set("cancel", Napi::Function::New(
                        env,
                        [weak](const Napi::CallbackInfo& info) -> Napi::Value {
                          if (auto c = weak.lock()) c->cancel.store(true);
                          return info.Env().Undefined();
                        },
                        "cancel"));
  return job;
}

// An optional non-negative safe integer property of an options object.
uint64_t OptionalIndex(Napi::Env env, const Napi::Object& o, const char* key, const char* what, uint64_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return ToIndex(env, v, what);
}

void CheckCallback(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsUndefined() && !v.IsNull() && !v.IsFunction()) {
    Throw(env, "EINVAL", std::string(what) + " must be a function, got " + Describe(v) + ".");
  }
}

hexmap::ScanGeometry GeometryOption(Napi::Env env, const Napi::Object& o) {
  hexmap::ScanGeometry g;
  g.windowSize = OptionalIndex(env, o, "windowSize", "options.windowSize", 0);
  g.chunkSize = OptionalIndex(env, o, "chunkSize", "options.chunkSize", 0);
  return g;
}

unsigned ThreadsOption(Napi::Env env, const Napi::Object& o) {
  uint64_t t = OptionalIndex(env, o, "threads", "options.threads", 0);
  if (t > 64) Throw(env, "EINVAL", "options.threads must be at most 64 (0 picks the CPU count).");
  return static_cast<unsigned>(t);
}

void CheckRangeOption(Napi::Env env, uint64_t from, uint64_t to, uint64_t size) {
  if (to > size) {
    Throw(env, "ERANGE",
          "options.to (" + std::to_string(to) + ") is beyond the end of the source (" + std::to_string(size) +
              " bytes).");
  }
  if (from > to) {
    Throw(env, "ERANGE",
          "options.from (" + std::to_string(from) + ") is after the end of the range (" + std::to_string(to) + ").");
  }
}

// Runs `body` and turns a thrown Napi::Error into a rejected promise, so that promise-returning
// methods never throw synchronously.
template <typename F>
Napi::Value PromiseOf(Napi::Env env, F body) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  try {
    body(d);
  } catch (const Napi::Error& e) {
    d.Reject(e.Value());
  }
  return d.Promise();
}

// ---------------------------------------------------------------------------------------------
// JS classes

class ViewWrap : public Napi::ObjectWrap<ViewWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "View",
                       {
                           InstanceAccessor<&ViewWrap::Offset>("offset"),
                           InstanceAccessor<&ViewWrap::Length>("length"),
                           InstanceAccessor<&ViewWrap::Writable>("writable"),
                           InstanceAccessor<&ViewWrap::Closed>("closed"),
                           InstanceMethod<&ViewWrap::Read>("read"),
                           InstanceMethod<&ViewWrap::ReadSync>("readSync"),
                           InstanceMethod<&ViewWrap::ReadIfResident>("readIfResident"),
                           InstanceMethod<&ViewWrap::Write>("write"),
                           InstanceMethod<&ViewWrap::WriteSync>("writeSync"),
                           InstanceMethod<&ViewWrap::Flush>("flush"),
                           InstanceMethod<&ViewWrap::Unmap>("unmap"),
                       });
  }

  explicit ViewWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ViewWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "Illegal constructor: views come from source.map().");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<ViewState>>>().Data();
  }

  // Finalizer: the JS object is gone; release the mapping once no operation uses it.
  ~ViewWrap() override {
    if (state_) state_->RequestUnmap();
  }

 private:
  ViewState& Live(Napi::Env env) {
    if (!state_ || state_->unmapRequested || !state_->mapped) {
      Throw(env, "ECLOSED", "This view was unmapped or its source was closed; map a new view.");
    }
    return *state_;
  }

  // Validates [at, at+length) against the view.
  static void CheckRange(Napi::Env env, const ViewState& v, uint64_t at, uint64_t length) {
    if (at > v.length || length > v.length - at) {
      Throw(env, "ERANGE",
            "The range [" + std::to_string(at) + ", " + std::to_string(at + length) +
                ") is outside this view of " + std::to_string(v.length) + " bytes.");
    }
  }

  static void CheckWritable(Napi::Env env, const ViewState& v) {
    if (!v.writable) {
      Throw(env, "EACCES", "This view is read-only: map it with writable=true from a writable source.");
    }
  }

  Napi::Value Offset(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), state_ ? static_cast<double>(state_->offset) : 0);
  }
  Napi::Value Length(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), state_ ? static_cast<double>(state_->length) : 0);
  }
  Napi::Value Writable(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), state_ && state_->writable);
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !state_ || state_->unmapRequested || !state_->mapped);
  }

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return PromiseOf(env, [&](Napi::Promise::Deferred& d) {
      ViewState& v = Live(env);
      uint64_t at = ToIndex(env, info[0], "at");
      uint64_t length = ToIndex(env, info[1], "length");
      CheckRange(env, v, at, length);
      auto* w = new ReadWorker(env, d, state_, static_cast<size_t>(at), static_cast<size_t>(length));
      w->Queue();
    });
  }

  // readSync when every page of the range is in memory (no wait for the disk), else undefined.
  Napi::Value ReadIfResident(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ViewState& v = Live(env);
    uint64_t at = ToIndex(env, info[0], "at");
    uint64_t length = ToIndex(env, info[1], "length");
    CheckRange(env, v, at, length);
    if (length == 0 || !hexmap::ViewResident(&v.view, static_cast<size_t>(at), static_cast<size_t>(length))) {
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(length));
    OsError err;
    if (!hexmap::GuardedCopy(buf.Data(), v.view.base + at, static_cast<size_t>(length), &err)) {
      throw MakeError(env, err);
    }
    return buf;
  }

  Napi::Value ReadSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ViewState& v = Live(env);
    uint64_t at = ToIndex(env, info[0], "at");
    uint64_t length = ToIndex(env, info[1], "length");
    CheckRange(env, v, at, length);
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, static_cast<size_t>(length));
    OsError err;
    if (!hexmap::GuardedCopy(buf.Data(), v.view.base + at, static_cast<size_t>(length), &err)) {
      throw MakeError(env, err);
    }
    return buf;
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return PromiseOf(env, [&](Napi::Promise::Deferred& d) {
      ViewState& v = Live(env);
      uint64_t at = ToIndex(env, info[0], "at");
      const uint8_t* data = nullptr;
      size_t size = 0;
      BytesOf(env, info[1], &data, &size);
      CheckWritable(env, v);
      CheckRange(env, v, at, size);
      auto* w = new WriteWorker(env, d, state_, static_cast<size_t>(at), data, size);
      w->Queue();
    });
  }

  Napi::Value WriteSync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ViewState& v = Live(env);
    uint64_t at = ToIndex(env, info[0], "at");
    const uint8_t* data = nullptr;
    size_t size = 0;
    BytesOf(env, info[1], &data, &size);
    CheckWritable(env, v);
    CheckRange(env, v, at, size);
    OsError err;
    if (!hexmap::GuardedWrite(v.view.base + at, data, size, &err)) throw MakeError(env, err);
    return env.Undefined();
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return PromiseOf(env, [&](Napi::Promise::Deferred& d) {
      ViewState& v = Live(env);
      uint64_t at = info[0].IsUndefined() ? 0 : ToIndex(env, info[0], "at");
      if (at > v.length) CheckRange(env, v, at, 0);
      uint64_t length = info[1].IsUndefined() ? v.length - at : ToIndex(env, info[1], "length");
      CheckRange(env, v, at, length);
      auto* w = new FlushWorker(env, d, state_, static_cast<size_t>(at), static_cast<size_t>(length));
      w->Queue();
    });
  }

  Napi::Value Unmap(const Napi::CallbackInfo& info) {
    if (state_) state_->RequestUnmap();
    return info.Env().Undefined();
  }

  std::shared_ptr<ViewState> state_;
};

class SourceWrap : public Napi::ObjectWrap<SourceWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Source",
                       {
                           InstanceAccessor<&SourceWrap::Kind>("kind"),
                           InstanceAccessor<&SourceWrap::Writable>("writable"),
                           InstanceAccessor<&SourceWrap::Closed>("closed"),
                           InstanceMethod<&SourceWrap::Size>("size"),
                           InstanceMethod<&SourceWrap::Map>("map"),
                           InstanceMethod<&SourceWrap::Sync>("sync"),
                           InstanceMethod<&SourceWrap::Search>("search"),
                           InstanceMethod<&SourceWrap::CountLines>("countLines"),
                           InstanceMethod<&SourceWrap::DataRanges>("dataRanges"),
                           InstanceMethod<&SourceWrap::Close>("close"),
                       });
  }

  explicit SourceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SourceWrap>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "Illegal constructor: use openFile, createShm or openShm.");
    }
    state_ = *info[0].As<Napi::External<std::shared_ptr<SourceState>>>().Data();
  }

  // Finalizer: close the OS handle once no view or operation needs it. Views whose JS objects
  // are still alive keep working.
  ~SourceWrap() override {
    if (state_) {
      state_->orphaned = true;
      state_->MaybeClose();
    }
  }

  // Wraps a freshly opened OS source in a JS object.
  static Napi::Object Wrap(Napi::Env env, hexmap::Source* os) {
    auto state = std::make_shared<SourceState>();
    state->os = os;
    state->kind = hexmap::KindOf(os);
    state->writable = hexmap::IsWritable(os);
    g_sources.fetch_add(1);
    return Data(env)->sourceCtor.New({Napi::External<std::shared_ptr<SourceState>>::New(env, &state)});
  }

 private:
  SourceState& Live(Napi::Env env) {
    if (!state_ || state_->closeRequested || !state_->os) {
      Throw(env, "ECLOSED", "This source was closed; open it again.");
    }
    return *state_;
  }

  Napi::Value Kind(const Napi::CallbackInfo& info) {
    bool shm = state_ && state_->kind == hexmap::SourceKind::SharedMemory;
    return Napi::String::New(info.Env(), shm ? "shm" : "file");
  }
  Napi::Value Writable(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), state_ && state_->writable);
  }
  Napi::Value Closed(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), !state_ || state_->closeRequested || !state_->os);
  }

  // dataRanges(from, to, max) → Float64Array [start0, end0, start1, end1, …]: the data (not hole)
  // ranges of [from, to), at most `max` of them (the caller goes on from the last end).
  Napi::Value DataRanges(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SourceState& s = Live(env);
    uint64_t from = ToIndex(env, info[0], "from");
    uint64_t to = ToIndex(env, info[1], "to");
    uint64_t max = ToIndex(env, info[2], "max");
    if (from > to) Throw(env, "ERANGE", "from is after to.");
    if (max == 0 || max > 1000000) Throw(env, "EINVAL", "max must be 1 to 1000000.");
    std::vector<double> out;
    uint64_t x = from;
    OsError err;
    while (x < to && out.size() / 2 < max) {
      uint64_t ds = x, de = to;
      if (!hexmap::NextDataRange(s.os, x, to, &ds, &de, &err)) throw MakeError(env, err);
      if (ds >= to) break;
      if (de <= ds) de = to;  // never loop in place
      if (!out.empty() && out.back() == static_cast<double>(ds)) out.back() = static_cast<double>(de);  // touching: one range
      else {
        out.push_back(static_cast<double>(ds));
        out.push_back(static_cast<double>(de));
      }
      x = de;
    }
    Napi::Float64Array a = Napi::Float64Array::New(env, out.size());
    for (size_t i = 0; i < out.size(); i++) a[i] = out[i];
    return a;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SourceState& s = Live(env);
    uint64_t size = 0;
    OsError err;
    if (!hexmap::SourceSize(s.os, &size, &err)) throw MakeError(env, err);
    return Napi::Number::New(env, static_cast<double>(size));
  }

  Napi::Value Map(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SourceState& s = Live(env);
    uint64_t offset = ToIndex(env, info[0], "offset");
    uint64_t length = ToIndex(env, info[1], "length");
    bool writable = ToOptionalBool(env, info[2], "writable", false);
    if (writable && !s.writable) {
      Throw(env, "EACCES", "Cannot map a writable view: the source was opened read-only.");
    }
    const uint64_t granularity = hexmap::AllocationGranularity();
    if (offset % granularity != 0) {
      Throw(env, "ERANGE",
            "The view offset " + std::to_string(offset) + " is not a multiple of the allocation granularity (" +
                std::to_string(granularity) + " bytes); align it down.");
    }
    if (length == 0) {
      Throw(env, "ERANGE", "Cannot map an empty view: length must be at least 1 byte.");
    }
    uint64_t size = 0;
    OsError err;
    if (!hexmap::SourceSize(s.os, &size, &err)) throw MakeError(env, err);
    if (offset > size || length > size - offset) {
      Throw(env, "ERANGE",
            "The range [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                ") is beyond the end of the source (" + std::to_string(size) + " bytes).");
    }
    if (length > static_cast<uint64_t>(std::numeric_limits<size_t>::max())) {
      Throw(env, "ERANGE", "The view is too large for this process's address space; map a smaller window.");
    }
    auto v = std::make_shared<ViewState>();
    if (!hexmap::MapView(s.os, offset, static_cast<size_t>(length), writable, &v->view, &err)) {
      throw MakeError(env, err);
    }
    v->mapped = true;
    v->source = state_;
    v->offset = offset;
    v->length = static_cast<size_t>(length);
    v->writable = writable;
    s.views.push_back(v.get());
    g_views.fetch_add(1);
    g_mappedBytes.fetch_add(static_cast<int64_t>(length));
    return Data(env)->viewCtor.New({Napi::External<std::shared_ptr<ViewState>>::New(env, &v)});
  }

  Napi::Value Sync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return PromiseOf(env, [&](Napi::Promise::Deferred& d) {
      Live(env);
      auto* w = new SyncWorker(env, d, state_);
      w->Queue();
    });
  }

  // search({ pattern, mask?, ignoreCase?, direction?, from?, to?, maxHits?, threads?,
  //          windowSize?, chunkSize?, onProgress?, onHits? }) → { promise, cancel }
  Napi::Value Search(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto control = std::make_shared<hexmap::ScanControl>();
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    try {
      SourceState& s = Live(env);
      if (!info[0].IsObject()) Throw(env, "EINVAL", "search() takes an options object, got " + Describe(info[0]) + ".");
      Napi::Object o = info[0].As<Napi::Object>();
      const uint8_t* pattern = nullptr;
      size_t patternSize = 0;
      Napi::Value pv = o.Get("pattern");
      if (!pv.IsTypedArray() && !pv.IsArrayBuffer() && !pv.IsDataView()) {
        Throw(env, "EINVAL", "options.pattern must be a Uint8Array, got " + Describe(pv) + ".");
      }
      BytesOf(env, pv, &pattern, &patternSize);
      if (patternSize > (1u << 20)) Throw(env, "EINVAL", "options.pattern is longer than 1 MiB.");
      const uint8_t* mask = nullptr;
      size_t maskSize = 0;
      Napi::Value mv = o.Get("mask");
      if (!mv.IsUndefined() && !mv.IsNull()) {
        if (!mv.IsTypedArray() && !mv.IsArrayBuffer() && !mv.IsDataView()) {
          Throw(env, "EINVAL", "options.mask must be a Uint8Array, got " + Describe(mv) + ".");
        }
        BytesOf(env, mv, &mask, &maskSize);
        if (maskSize != patternSize) {
          Throw(env, "EINVAL", "options.mask must have one byte per pattern byte (" + std::to_string(patternSize) +
                                   "), got " + std::to_string(maskSize) + ".");
        }
      }
      const bool caseless = ToOptionalBool(env, o.Get("ignoreCase"), "options.ignoreCase", false);
      hexmap::Matcher matcher;
      std::string problem;
      if (!hexmap::Matcher::Compile(pattern, patternSize, mask, caseless, &matcher, &problem)) {
        Throw(env, "EINVAL", problem);
      }
      hexmap::SearchParams params;
      Napi::Value dv = o.Get("direction");
      std::string direction = dv.IsUndefined() ? "forward" : (dv.IsString() ? dv.As<Napi::String>().Utf8Value() : "");
      if (direction == "forward") {
        params.mode = hexmap::SearchMode::Forward;
      } else if (direction == "backward") {
        params.mode = hexmap::SearchMode::Backward;
      } else if (direction == "all") {
        params.mode = hexmap::SearchMode::All;
      } else {
        Throw(env, "EINVAL", "options.direction must be \"forward\", \"backward\" or \"all\", got " +
                                 (dv.IsString() ? "\"" + direction + "\"" : Describe(dv)) + ".");
      }
      uint64_t size = 0;
      OsError err;
      if (!hexmap::SourceSize(s.os, &size, &err)) throw MakeError(env, err);
      params.to = OptionalIndex(env, o, "to", "options.to", size);
      const bool backward = params.mode == hexmap::SearchMode::Backward;
      params.from = OptionalIndex(env, o, "from", "options.from", backward ? params.to : 0);
      CheckRangeOption(env, params.from, params.to, size);
      params.maxHits = OptionalIndex(env, o, "maxHits", "options.maxHits", 1000);
      params.threads = ThreadsOption(env, o);
      params.geometry = GeometryOption(env, o);
      Napi::Value onProgress = o.Get("onProgress");
      Napi::Value onHits = o.Get("onHits");
      CheckCallback(env, onProgress, "options.onProgress");
      CheckCallback(env, onHits, "options.onHits");
      const uint64_t range = backward ? params.from : params.to - params.from;
      auto* w = new SearchWorker(env, d, state_, control, std::move(matcher), params, range, onProgress, onHits);
      w->Queue();
    } catch (const Napi::Error& e) {
      d.Reject(e.Value());
    }
    return JobObject(env, d.Promise(), control);
  }

  // countLines({ from?, to?, unit?: 1|2, bigEndian?, sampleEvery?, threads?, windowSize?,
  //              chunkSize?, onProgress?, onSamples? }) → { promise, cancel }
  Napi::Value CountLines(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto control = std::make_shared<hexmap::ScanControl>();
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    try {
      SourceState& s = Live(env);
      Napi::Object o = info[0].IsUndefined() ? Napi::Object::New(env) : Napi::Object();
      if (!info[0].IsUndefined()) {
        if (!info[0].IsObject()) {
          Throw(env, "EINVAL", "countLines() takes an options object, got " + Describe(info[0]) + ".");
        }
        o = info[0].As<Napi::Object>();
      }
      uint64_t size = 0;
      OsError err;
      if (!hexmap::SourceSize(s.os, &size, &err)) throw MakeError(env, err);
      hexmap::LineParams params;
      params.to = OptionalIndex(env, o, "to", "options.to", size);
      params.from = OptionalIndex(env, o, "from", "options.from", 0);
      CheckRangeOption(env, params.from, params.to, size);
      const uint64_t unit = OptionalIndex(env, o, "unit", "options.unit", 1);
      if (unit != 1 && unit != 2) Throw(env, "EINVAL", "options.unit must be 1 (bytes) or 2 (UTF-16 code units).");
      params.unit = static_cast<unsigned>(unit);
      params.bigEndian = ToOptionalBool(env, o.Get("bigEndian"), "options.bigEndian", false);
      params.sampleEvery = OptionalIndex(env, o, "sampleEvery", "options.sampleEvery", 0);
      params.threads = ThreadsOption(env, o);
      params.geometry = GeometryOption(env, o);
      Napi::Value onProgress = o.Get("onProgress");
      Napi::Value onSamples = o.Get("onSamples");
      CheckCallback(env, onProgress, "options.onProgress");
      CheckCallback(env, onSamples, "options.onSamples");
      auto* w = new LineCountWorker(env, d, state_, control, params, params.to - params.from, onProgress, onSamples);
      w->Queue();
    } catch (const Napi::Error& e) {
      d.Reject(e.Value());
    }
    return JobObject(env, d.Promise(), control);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (state_) state_->RequestClose();
    return info.Env().Undefined();
  }

  std::shared_ptr<SourceState> state_;
};

// ---------------------------------------------------------------------------------------------
// Module functions

Napi::Value OpenFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToName(env, info[0], "path");
  bool writable = WritableOption(env, info[1]);
  hexmap::Source* os = nullptr;
  OsError err;
  if (!hexmap::OpenFile(path, writable, &os, &err)) throw MakeError(env, err);
  return SourceWrap::Wrap(env, os);
}

Napi::Value CreateShm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ToName(env, info[0], "name");
  uint64_t size = ToIndex(env, info[1], "size");
  if (size == 0) Throw(env, "EINVAL", "size must be at least 1 byte.");
  hexmap::Source* os = nullptr;
  bool existed = false;
  OsError err;
  if (!hexmap::CreateSharedMemory(name, size, &os, &existed, &err)) throw MakeError(env, err);
  Napi::Object obj = SourceWrap::Wrap(env, os);
  obj.DefineProperty(Napi::PropertyDescriptor::Value("existed", Napi::Boolean::New(env, existed), napi_enumerable));
  return obj;
}

Napi::Value OpenShm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ToName(env, info[0], "name");
  bool writable = WritableOption(env, info[1]);
  hexmap::Source* os = nullptr;
  OsError err;
  if (!hexmap::OpenSharedMemory(name, writable, &os, &err)) throw MakeError(env, err);
  return SourceWrap::Wrap(env, os);
}

Napi::Value UnlinkShm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = ToName(env, info[0], "name");
  OsError err;
  if (!hexmap::UnlinkSharedMemory(name, &err)) throw MakeError(env, err);
  return env.Undefined();
}

Napi::Value ReplaceFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = ToName(env, info[0], "target");
  std::string replacement = ToName(env, info[1], "replacement");
  OsError err;
  if (!hexmap::ReplaceFileAtomically(target, replacement, &err)) throw MakeError(env, err);
  return env.Undefined();
}

// copyFileRange(inFd, outFd, inOff, outOff, length) → Promise<number of data bytes copied>.
class CopyRangeWorker : public Napi::AsyncWorker {
 public:
  CopyRangeWorker(Napi::Env env, Napi::Promise::Deferred deferred, int in, int out, uint64_t inOff, uint64_t outOff,
                  uint64_t length)
      : Napi::AsyncWorker(env), deferred_(deferred), in_(in), out_(out), inOff_(inOff), outOff_(outOff), length_(length) {}

  void Execute() override { ok_ = hexmap::CopyFileRangeSparse(in_, out_, inOff_, outOff_, length_, &written_, &err_); }
  void OnOK() override {
    if (ok_) deferred_.Resolve(Napi::Number::New(Env(), static_cast<double>(written_)));
    else deferred_.Reject(MakeError(Env(), err_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int in_;
  int out_;
  uint64_t inOff_;
  uint64_t outOff_;
  uint64_t length_;
  uint64_t written_ = 0;
  bool ok_ = false;
  OsError err_;
};

int ToFd(Napi::Env env, const Napi::Value& v, const char* what) {
  uint64_t n = ToIndex(env, v, what);
  if (n > 0x7fffffff) Throw(env, "EINVAL", std::string(what) + " is not a file descriptor.");
  return static_cast<int>(n);
}

Napi::Value CopyFileRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return PromiseOf(env, [&](Napi::Promise::Deferred& d) {
    int in = ToFd(env, info[0], "inFd");
    int out = ToFd(env, info[1], "outFd");
    uint64_t inOff = ToIndex(env, info[2], "inOffset");
    uint64_t outOff = ToIndex(env, info[3], "outOffset");
    uint64_t length = ToIndex(env, info[4], "length");
    auto* w = new CopyRangeWorker(env, d, in, out, inOff, outOff, length);
    w->Queue();
  });
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("sources", Napi::Number::New(env, static_cast<double>(g_sources.load())));
  o.Set("views", Napi::Number::New(env, static_cast<double>(g_views.load())));
  o.Set("mappedBytes", Napi::Number::New(env, static_cast<double>(g_mappedBytes.load())));
  return o;
}

Napi::Value ScanJobs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(g_scanJobs.load()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  hexmap::InstallFaultGuard();
  auto* data = new AddonData;
  data->sourceCtor = Napi::Persistent(SourceWrap::Define(env));
  data->viewCtor = Napi::Persistent(ViewWrap::Define(env));
  env.SetInstanceData<AddonData>(data);

  auto ro = static_cast<napi_property_attributes>(napi_enumerable);
  exports.DefineProperties({
      Napi::PropertyDescriptor::Value("granularity",
                                      Napi::Number::New(env, static_cast<double>(hexmap::AllocationGranularity())), ro),
      Napi::PropertyDescriptor::Value("pageSize", Napi::Number::New(env, static_cast<double>(hexmap::PageSize())), ro),
      Napi::PropertyDescriptor::Value("backend", Napi::String::New(env, hexmap::BackendName()), ro),
      Napi::PropertyDescriptor::Value("openFile", Napi::Function::New(env, OpenFile, "openFile"), ro),
      Napi::PropertyDescriptor::Value("createShm", Napi::Function::New(env, CreateShm, "createShm"), ro),
      Napi::PropertyDescriptor::Value("openShm", Napi::Function::New(env, OpenShm, "openShm"), ro),
      Napi::PropertyDescriptor::Value("unlinkShm", Napi::Function::New(env, UnlinkShm, "unlinkShm"), ro),
      Napi::PropertyDescriptor::Value("stats", Napi::Function::New(env, Stats, "stats"), ro),
      Napi::PropertyDescriptor::Value("scanJobs", Napi::Function::New(env, ScanJobs, "scanJobs"), ro),
      Napi::PropertyDescriptor::Value("replaceFile", Napi::Function::New(env, ReplaceFile, "replaceFile"), ro),
      Napi::PropertyDescriptor::Value("copyFileRange", Napi::Function::New(env, CopyFileRange, "copyFileRange"), ro),
  });
  return exports;
}

}  // namespace

NODE_API_MODULE(hexmap, Init)

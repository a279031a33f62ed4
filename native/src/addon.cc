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
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mapping.h"

namespace {

using hexmap::OsError;

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

// Process-wide counts of live OS resources, reported by stats() (leak tests).
std::atomic<int64_t> g_sources{0};
std::atomic<int64_t> g_views{0};
std::atomic<int64_t> g_mappedBytes{0};

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
  int pins = 0;                 // sync() workers in flight
  std::vector<ViewState*> views;  // views still mapped (including those with a pending unmap)

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

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("sources", Napi::Number::New(env, static_cast<double>(g_sources.load())));
  o.Set("views", Napi::Number::New(env, static_cast<double>(g_views.load())));
  o.Set("mappedBytes", Napi::Number::New(env, static_cast<double>(g_mappedBytes.load())));
  return o;
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
  });
  return exports;
}

}  // namespace

NODE_API_MODULE(hexmap, Init)

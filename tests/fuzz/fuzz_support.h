// Shared by the fuzz targets: FUZZ_CHECK (a property that must hold: prints and aborts, which
// libFuzzer reports as a crash) and FuzzInput.
//
// FuzzInput reads typed values from the front of a fuzzer's byte string.  Every read succeeds;
// an exhausted input yields zeros and empty strings, so a target never branches on "enough
// bytes".  (clang's FuzzedDataProvider does the same, but the replay binaries are also built
// with gcc.)
//
// Thread-safety: a value type over borrowed bytes; the bytes must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                      \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)

namespace mnemo::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t Byte() { return size_ == 0 ? 0 : Take(); }
  bool Bool() { return (Byte() & 1) != 0; }
  uint64_t U64() {
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value = (value << 8) | Byte();
    return value;
  }
  int64_t I64() { return static_cast<int64_t>(U64()); }
  // A string of up to `max_length` bytes (the length comes from the input).
  std::string String(size_t max_length) {
    const size_t length = Byte() % (max_length + 1);
    std::string value;
    for (size_t i = 0; i < length && size_ > 0; ++i) value.push_back(static_cast<char>(Take()));
    return value;
  }
  // Everything not read yet.
  std::string_view Rest() const { return {reinterpret_cast<const char*>(data_), size_}; }
  bool empty() const { return size_ == 0; }

 private:
  uint8_t Take() {
    --size_;
    return *data_++;
  }

  const uint8_t* data_;
  size_t size_;
};

}  // namespace mnemo::fuzz

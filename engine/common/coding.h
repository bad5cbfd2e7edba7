// Byte encodings for stored values: little-endian fixed-width integers, varints and
// length-prefixed strings.  Put* append to a std::string; Get* consume from the front of a
// std::string_view and return false on truncated or malformed input (never read past the end).
//
// Keys use a different, order-preserving encoding: see storage/key_codec.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mnemo::coding {

void PutFixed32(std::string* dst, uint32_t value);
void PutFixed64(std::string* dst, uint64_t value);
void PutVarint64(std::string* dst, uint64_t value);
// Signed values are zig-zag encoded so small negatives stay small.
void PutVarsint64(std::string* dst, int64_t value);
void PutLengthPrefixed(std::string* dst, std::string_view value);

bool GetFixed32(std::string_view* input, uint32_t* value);
bool GetFixed64(std::string_view* input, uint64_t* value);
bool GetVarint64(std::string_view* input, uint64_t* value);
bool GetVarsint64(std::string_view* input, int64_t* value);
bool GetByte(std::string_view* input, uint8_t* value);
// The returned view points into the input's storage.
bool GetLengthPrefixed(std::string_view* input, std::string_view* value);

}  // namespace mnemo::coding

// .npy and .fvecs readers (see vector_files.h).
//
// .npy layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE for v2/v3), an
// ASCII Python dict such as {'descr': '<f4', 'fortran_order': False, 'shape': (1000, 128), },
// padding, then the raw array.
#include "vector_files.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <regex>

namespace mnemo::bench {
namespace {

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool ReadNpy(std::ifstream& in, size_t max_rows, VectorFile* out, std::string* error) {
  char magic[8];
  if (!in.read(magic, sizeof magic) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    *error = "not a .npy file (bad magic)";
    return false;
  }
  const uint8_t major = static_cast<uint8_t>(magic[6]);
  uint32_t header_len = 0;
  if (major == 1) {
    unsigned char len[2];
    if (!in.read(reinterpret_cast<char*>(len), 2)) {
      *error = "truncated .npy header";
      return false;
    }
    header_len = len[0] | (len[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char len[4];
    if (!in.read(reinterpret_cast<char*>(len), 4)) {
      *error = "truncated .npy header";
      return false;
    }
    header_len = len[0] | (len[1] << 8) | (len[2] << 16) | (static_cast<uint32_t>(len[3]) << 24);
  } else {
    *error = "unsupported .npy version " + std::to_string(major);
    return false;
  }
  if (header_len > (1u << 20)) {
    *error = ".npy header too long";
    return false;
  }
  std::string header(header_len, '\0');
  if (!in.read(header.data(), header_len)) {
    *error = "truncated .npy header";
    return false;
  }
  if (!std::regex_search(header, std::regex("'descr'\\s*:\\s*'<f4'"))) {
    *error = ".npy dtype must be little-endian float32 ('<f4')";
    return false;
  }
  if (!std::regex_search(header, std::regex("'fortran_order'\\s*:\\s*False"))) {
    *error = ".npy must be C order (fortran_order False)";
    return false;
  }
  std::smatch shape;
  if (!std::regex_search(header, shape,
                         std::regex("'shape'\\s*:\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)"))) {
    *error = ".npy shape must be 2-D (rows, dim)";
    return false;
  }
  const size_t rows = std::stoull(shape[1].str());
  const size_t dim = std::stoull(shape[2].str());
  if (dim == 0 || rows == 0) {
    *error = ".npy array is empty";
    return false;
  }
  const size_t wanted = max_rows == 0 ? rows : std::min(rows, max_rows);
  out->dim = dim;
  out->rows.resize(wanted * dim);
  if (!in.read(reinterpret_cast<char*>(out->rows.data()),
               static_cast<std::streamsize>(out->rows.size() * sizeof(float)))) {
    *error = ".npy body is shorter than its shape says";
    return false;
  }
  return true;
}

bool ReadFvecs(std::ifstream& in, size_t max_rows, VectorFile* out, std::string* error) {
  out->dim = 0;
  out->rows.clear();
  for (size_t row = 0; max_rows == 0 || row < max_rows; ++row) {
    int32_t dim = 0;
    if (!in.read(reinterpret_cast<char*>(&dim), sizeof dim)) {
      if (in.gcount() == 0 && row > 0) return true;  // clean end of file
      *error = row == 0 ? ".fvecs file is empty" : ".fvecs row header truncated";
      return false;
    }
    if (dim <= 0 || dim > (1 << 16)) {
      *error = ".fvecs row has a bad dimension";
      return false;
    }
    if (out->dim == 0) out->dim = static_cast<size_t>(dim);
    if (static_cast<size_t>(dim) != out->dim) {
      *error = ".fvecs rows disagree on the dimension (row " + std::to_string(row) + ")";
      return false;
    }
    const size_t offset = out->rows.size();
    out->rows.resize(offset + out->dim);
    if (!in.read(reinterpret_cast<char*>(out->rows.data() + offset),
                 static_cast<std::streamsize>(out->dim * sizeof(float)))) {
      *error = ".fvecs row " + std::to_string(row) + " is truncated";
      return false;
    }
  }
  return true;
}

}  // namespace

bool ReadVectorFile(const std::string& path, size_t max_rows, VectorFile* out, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  bool ok = false;
  if (EndsWith(path, ".npy"))
    ok = ReadNpy(in, max_rows, out, error);
  else if (EndsWith(path, ".fvecs"))
    ok = ReadFvecs(in, max_rows, out, error);
  else
    *error = "unknown vector file type (want .npy or .fvecs): " + path;
  if (!ok && error->rfind(path, 0) != 0) *error = path + ": " + *error;
  return ok;
}

}  // namespace mnemo::bench

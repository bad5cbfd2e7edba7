// Reading embedding files: NumPy .npy (2-D little-endian float32, C order; format versions 1-3)
// and .fvecs (each row: int32 dimension, then that many float32), picked by file extension.
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mnemo::bench {

struct VectorFile {
  size_t dim = 0;
  std::vector<float> rows;  // row-major, size() * dim floats
  size_t size() const { return dim == 0 ? 0 : rows.size() / dim; }
};

// Reads `path`.  False with a reason in *error for an unknown extension, an unreadable file, a
// malformed header, a dtype other than float32, Fortran order, inconsistent row dimensions or a
// truncated body.  At most `max_rows` rows are read (0: all).
bool ReadVectorFile(const std::string& path, size_t max_rows, VectorFile* out, std::string* error);

}  // namespace mnemo::bench

// The vectors of one run: generated (bench/vector/dataset.h: clustered, skewed topic sizes,
// anisotropic, unit norm) or read from .npy/.fvecs files and normalised; plus, per row, a
// Zipf-skewed owner (user) and a month bucket.  `cache_key` names the data for the ground-truth
// cache: equal keys mean byte-identical data.
//
// Thread-safety: BuildBenchData is reentrant; BenchData is a plain value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataset.h"
#include "options.h"

namespace mnemo::bench {

struct BenchData {
  Dataset data;                 // base rows, queries, owners (topics empty for file data)
  std::vector<uint32_t> month;  // month bucket of each base row, in [0, months)
  std::string cache_key;
  std::string source;  // "synthetic" or the file names
};

// Builds the run's data.  False with a reason in *error when a file cannot be read, the base and
// query dimensions differ, or a row has zero norm.
bool BuildBenchData(const BenchOptions& options, BenchData* out, std::string* error);

// Month bucket of row i of a run with `months` buckets and `seed`: a deterministic hash, so
// buckets interleave with topics and owners.
uint32_t MonthOf(size_t row, size_t months, uint64_t seed);

}  // namespace mnemo::bench

// The `text` phase: keyword (BM25) and hybrid search over real text that Debian ships.
//
// Corpus: package descriptions (`apt-cache dumpavail`), English man pages (/usr/share/man/man*)
// and Chinese ones (manpages-zh, /usr/share/man/zh_CN), stripped of roff markup and cut into
// chunks of about 600 bytes; built once and cached ("text-corpus-v1-<chunks>.txt" in the cache
// directory).  Each chunk gets a vector of the bench data as its embedding.
//
// Measured over the wire, one client thread, on mnemod with keyword search on ("A") and off
// ("B", --keyword-search false), same chunks and embeddings:
//   - durable 1000-chunk AddChunks batches: the first batches alternate between B and A; the
//     ratio of their median latencies is what indexing adds to a batch write; A's whole ingest
//     gives chunks/s;
//   - the index's size (GetStats) beside the chunk_text bytes;
//   - keyword top-10 latency for terms by how many chunks hold them (rare: 2-10 chunks, medium:
//     0.1-1%, frequent: > 5%; English words and Chinese two-character words), with the share of
//     postings whose score was computed;
//   - hybrid top-10 latency (a medium term plus a bench query vector, RRF), beside the same
//     vector search on its own (top 50, what the hybrid's vector leg asks).
// Queries start once every chunk is linked into the vector graph.
//
// Thread-safety: RunTextPhase runs on the calling thread.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "options.h"
#include "progress.h"

namespace mnemo::bench {

// Chunks of Debian's text, `count` of them (fewer when the machine holds less text); false with
// a reason when no source could be read.
bool LoadTextCorpus(size_t count, const std::string& cache_dir, std::vector<std::string>* chunks,
                    std::string* error);

struct TextPhaseInput {
  const BenchOptions* options = nullptr;
  const BenchData* bench = nullptr;
  std::string mnemod_binary;
  std::string work_dir;
  std::string cache_dir;
  const TimeBudget* budget = nullptr;
};

nlohmann::json RunTextPhase(const TextPhaseInput& input);

// The phase's Markdown section.
void TextSection(const nlohmann::json& text, std::ostringstream& out);

}  // namespace mnemo::bench

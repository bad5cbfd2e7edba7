// EngineOptions: how a data directory is opened.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mnemo/maintenance.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace mnemo {

class FileSystem;

// The token estimate for text without a measured count: ceil(ascii_bytes / ascii_bytes_per_token
// + other_chars * tokens_per_other_char) + per_text_overhead.  The defaults follow common BPE
// tokenizers: about 4 bytes of English per token, and about one token per CJK character (other
// non-ASCII code points are counted the same way).  Set tokens_used on messages for exact
// budgets.
struct TokenEstimate {
  double ascii_bytes_per_token = 4.0;  // > 0
  double tokens_per_other_char = 1.0;  // >= 0
  int64_t per_text_overhead = 0;       // >= 0; e.g. 4 for a chat format's per-message framing
};

struct EngineOptions {
  // ---- behaviour ----
  // The data directory; created when missing (unless create_if_missing is false).
  std::string data_dir = "./data";
  bool create_if_missing = true;
  // Names of entries in data_dir that belong to the embedding process, not the engine (mnemod
  // keeps its API keys in "auth/").  They are ignored when deciding whether data_dir is a fresh,
  // empty directory the engine may create its files in.
  std::vector<std::string> foreign_entries;
  // Embedding dimension.  Fixed when the directory is created (default 1536); opening an
  // existing directory with a different explicit value fails.
  std::optional<uint32_t> dimension;
  // Sync the write-ahead log before acknowledging a write.  Default true: an acknowledged write
  // survives kill -9 and power loss.  false trades that for latency (survives process crashes
  // only).  A write is applied, then synced: concurrent readers may see it a moment before it
  // is durable, and a power cut in that moment loses it (it was never acknowledged).
  bool sync_writes = true;
  // Vectors are stored in segment files of this many bytes under data_dir/vectors (about 10,000
  // 1536-d vectors each); a segment's file is removed once none of its vectors is stored any
  // more.
  uint64_t vector_segment_bytes = uint64_t{64} << 20;
  // A write whose vectors take at most this many bytes (10 vectors of 1536-d) keeps them in the
  // RocksDB batch with its rows instead of the segment files, so it costs one sync, not two (the
  // segment records' and the batch's).  Larger writes go to the segments, where their bytes
  // skip RocksDB's log and memtable.  0 sends every vector to the segments.
  uint64_t vector_inline_max_bytes = uint64_t{64} << 10;
  // Write every committed write call into the replication log (the `replog` column family), in
  // the same batch as the write, for replicas to apply (Engine::ReadLog, ApplyLogged).  Off by
  // default: a single node pays nothing.  Records carry embeddings inline, so with the log on a
  // vector is written twice (its segment and its record).
  bool replication_log = false;

  // ---- vector search ----
  // HNSW parameters for new user graphs (SPEC §3 defaults).
  uint32_t hnsw_m = 16;
  uint32_t hnsw_ef_construction = 64;
  // Beam width of a search that names none (raised to top_k), for a user with up to 10,000 rows in
  // their graph; each doubling beyond adds half of it (20k rows: 1.5x, 40k: 2x, 80k: 2.5x, capped
  // at 4x), since a walk's recall at a fixed beam falls as the graph grows.  On the clustered test
  // data with out-of-distribution queries (tests/vector_recall_test.cc, 20k rows in one graph)
  // recall@10 was 0.88 at 64, 0.95 at 128, 0.98 at 256; requests may trade recall for speed with
  // their own ef.
  size_t default_ef = 128;
  // Walk the graph on compact 8-bit codes (a quarter of the bytes per node) and re-rank the best
  // top_k * vector_rerank_factor candidates with exact float32 cosine; returned similarities are
  // exact either way.  Default on: about 2x the QPS of the float32 walk at the same recall@10
  // (bench/vector).  false walks on the float32 vectors.  Costs dim bytes of RAM per row.
  bool compressed_vector_search = true;
  // Re-rank pool factor of the compressed search (>= 1; 0 is treated as 1).  Larger: recall
  // closer to the float32 walk, more float32 vectors read per query.
  size_t vector_rerank_factor = 2;
  // Close() links up to this many not-yet-indexed rows before saving the graphs (the next open
  // then needs no catch-up); a larger backlog is left to the next open.
  size_t max_rows_linked_on_close = 200'000;
  // After a burst of writes, memory the writes used stays resident: memtables hold them until
  // they fill, and glibc keeps freed heap pages (the float copies of rows waiting to be linked,
  // the request buffers).  Once the indexer has linked this many bytes of vectors (rows x
  // dimension x 4) since it last did and its backlog is gone, it flushes the memtables and
  // returns free heap pages to the system.
  uint64_t release_after_linked_bytes = uint64_t{64} << 20;

  // ---- keyword search ----
  // Index chunk texts and message contents for keyword and hybrid search.  false: no index is kept
  // or loaded (stored row terms stay untouched), and keyword and hybrid searches answer
  // UNAVAILABLE.  For measuring what indexing costs a write; a store must not switch it off and on
  // again, since chunks written meanwhile have no terms (messages get theirs from the backfill).
  bool keyword_search = true;
  // Messages' content is indexed as it is written.  Messages stored without terms (by builds
  // before message content was indexed, or with keyword_search off) get theirs from a backfill:
  // true runs it on a background thread after open (resuming where an earlier open stopped);
  // false leaves it to Engine::BackfillMessageTerms.  Progress: EngineMetrics.
  bool backfill_message_terms = true;
  // BM25 parameters (text/bm25.h): k1 in (0, 100] sets how much repeated occurrences of a term
  // add (1.2: the third occurrence adds a fifth of the first's weight); b in [0, 1] how strongly
  // a long chunk's score is normalised by its length (0.75; 0 = not at all).
  double bm25_k1 = 1.2;
  double bm25_b = 0.75;

  // ---- context assembly ----
  // How Engine::AssembleContext counts the tokens of a text that carries no count of its own
  // (a message without tokens_used, a system prompt, a chunk).
  TokenEstimate token_estimate;

  // ---- retention ----
  // Applied in the background every retention_interval while the engine is open (nothing runs
  // when the policy is disabled).  Engine::ApplyRetention runs any policy on demand.
  RetentionPolicy retention;
  std::chrono::seconds retention_interval{3600};

  // ---- performance ----
  // RocksDB block cache shared by all tables.
  size_t block_cache_bytes = size_t{256} << 20;

  // ---- for tests and embedding ----
  // The file system RocksDB keeps the database files on; null is RocksDB's default (POSIX).
  // The power-loss test passes one that forgets what was not synced.
  std::shared_ptr<rocksdb::FileSystem> rocksdb_file_system;
  // The file system of mnemo's own files (saved graphs, partition archives, the graph copies of
  // a backup); null is PosixFileSystem() (mnemo/file_system.h).
  std::shared_ptr<FileSystem> file_system;
};

}  // namespace mnemo

// TextIndex: BM25 keyword search over rows of text, per user and per row kind.
//
// Each indexed row is known by its label, unique in the store and drawn from the vector layer's
// counter: a chunk's is its vector's label, so a caller filters text hits with the same per-row
// state it filters vector hits with; a message's is a label of its own (its vector, when it has
// one, may be replaced on its own).  The index does not know what a row is beyond (kind, user,
// month, label, text).
//
// Stored, in the caller's WriteTxn (so a row's terms commit with the row and are deleted with it;
// key layouts in storage/key_codec.h):
//   term dictionary  [0x50][0x00][group u64 BE]               -> term group v1 (below)
//                    [0x50][term]                             -> term id varint (earlier builds)
//   row terms        [0x51][kind][user][month u32][label u64] -> row group (below), or text
//                                                                row v1 (earlier builds)
//   term group v1: 0x01 | entry count varint | per entry: term id varint, term length varint,
//                  term bytes.  A write stores its new terms as one group; group numbers are
//                  never reused (no term starts with 0x00, so the keys never meet a term's).
//   row terms of one row: row length varint | term count varint |
//                         per term, ids ascending: varint((id - previous id) << 1 | (tf > 1)),
//                                                  then varint(tf) when tf > 1
//   row group: (0x80 | analyzer version) u8 | row count varint |
//              per row: zig-zag varint(label - previous label), its row terms;
//              the previous label of the first row is the key's label.  A write stores its rows
//              as groups of up to 64 rows of one month, each under its first row's label;
//              removing rows rewrites their group without them (or deletes it when empty).
//   text row v1: analyzer version u8 | row terms of its one row (the key's label)
// A row whose text yields no term (empty, punctuation, stop words only) stores nothing and is
// not part of its user's collection.  Term ids are shared by all users: the dictionary holds
// each distinct term once however many users write it; no statistic is shared.
//
// In memory, per (kind, user): posting lists by term id (text/postings.h), row lengths, each
// term's df, the row count N and the summed length, rebuilt from the stored rows on open.  A
// search touches only its user's structures, so other users' rows never change its scores or
// its cost.  Removed rows leave dead postings that searches skip; the user's lists are rebuilt
// without them when they outnumber the live rows.
//
// Thread-safety: thread-safe.  Stage* REQUIRE the caller to hold the user's write lock until the
// transaction commits (rows of one user are published in commit order).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mnemo/result.h"
#include "storage/db.h"
#include "storage/write_txn.h"
#include "text/bm25.h"

namespace mnemo::text {

// What a row is.  FROZEN: stored in keys.
enum class RowKind : uint8_t { kChunk = 1, kMessage = 2 };

struct TextRow {
  uint64_t label = 0;
  uint32_t month = 0;
  std::string_view text;  // borrowed for the Stage call
};

struct RowRef {
  uint32_t month = 0;
  uint64_t label = 0;
};

// A query's terms after analysis (ParseQuery).
struct ParsedQuery {
  std::vector<std::string> terms;  // distinct, in query order
  size_t stopwords = 0;
};

// Validates and analyzes a query text; errors name `field`.  VALIDATION_ERROR for invalid
// UTF-8, an empty or blank text, more than kMaxTextQueryBytes bytes or more than
// kMaxTextQueryTerms distinct terms.  A query of stop words only is valid (no terms).
Status ParseQuery(std::string_view field, std::string_view query, ParsedQuery* out);

struct TextHit {
  uint64_t label = 0;
  double score = 0;
};

struct TextAnswer {
  std::vector<TextHit> hits;               // best first
  std::vector<std::string> unknown_terms;  // query terms no row of this user holds
  uint64_t rows = 0;                       // N: the user's rows with terms
  uint64_t postings = 0;                   // postings in the query terms' lists
  uint64_t rows_scored = 0;                // rows whose score was computed
};

struct TextIndexStats {
  uint64_t rows = 0;          // live rows with terms, all users and kinds
  uint64_t message_rows = 0;  // of them, RowKind::kMessage rows
  uint64_t terms = 0;         // dictionary size
  uint64_t postings = 0;      // live and dead postings in memory
  uint64_t stored_bytes = 0;  // keys + values of the stored row terms (before compression)
  uint64_t memory_bytes = 0;  // posting lists and per-row arrays
};

class TextIndex {
 public:
  // Loads the dictionary and every stored row.  `db` must outlive the index.
  static Result<std::unique_ptr<TextIndex>> Open(storage::Db& db, const Bm25Params& params);
  // The same, loading on a thread of its own: it returns at once, and every operation below
  // waits until the load is done (an opening store serves what does not need this index
  // meanwhile).  When the load fails, the operations fail with its error (INTERNAL for damage,
  // UNAVAILABLE for I/O).  Destroying the index waits for the load.
  static Result<std::unique_ptr<TextIndex>> OpenLoading(storage::Db& db, const Bm25Params& params);
  ~TextIndex();
  TextIndex(const TextIndex&) = delete;
  TextIndex& operator=(const TextIndex&) = delete;

  const Bm25Params& params() const { return params_; }

  // Stages the terms of new rows; they become searchable when txn commits.  *rows_stored, when
  // given, is set to the number of rows that hold a term (the others store nothing).  A large
  // batch's texts are analyzed on two threads, each taking a few rows at a time until none is
  // left: the caller's and the index's analysis thread, which helps one batch at a time (a
  // caller finding it busy analyzes everything itself, as it does the rows the thread has no CPU
  // to take).
  // REQUIRES: labels not indexed yet; the texts are valid UTF-8.
  Status StageAdd(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                  const std::vector<TextRow>& rows, size_t* rows_stored = nullptr);

  // The analysis of a batch's texts, started before the writer stages the rest of its
  // transaction so that the analysis thread works beside it (StartAnalysis).  Destroying it
  // waits for the thread's share.
  class Analysis;
  // Starts analyzing `texts` (borrowed until the Analysis is destroyed) on the analysis thread
  // when the batch is large and the thread is free; otherwise StageAdd analyzes them.
  // REQUIRES: the texts are valid UTF-8.
  std::shared_ptr<Analysis> StartAnalysis(std::vector<std::string_view> texts);
  // As StageAdd above, with the terms of rows[i] those of texts[sources[i]] of `analysis`, whose
  // remaining texts the caller analyzes now; each started text is staged at most once.
  Status StageAdd(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                  const std::vector<TextRow>& rows, Analysis& analysis,
                  std::span<const size_t> sources, size_t* rows_stored = nullptr);
  // Stages the removal of rows' terms (rows without stored terms are skipped).
  // REQUIRES: the rows were added by transactions committed before this one.
  Status StageRemove(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                     const std::vector<RowRef>& rows);

  // The `k` best rows of the user for the terms (ParseQuery's), best first.  `admit(label)` is
  // called only for rows that would enter the top k, under the user's read lock: it must not
  // call back into this index.
  Result<TextAnswer> Search(RowKind kind, std::string_view user_id,
                            const std::vector<std::string>& terms, size_t k,
                            const std::function<bool(uint64_t label)>& admit) const;

  TextIndexStats Stats() const;

 private:
  class UserIndex;
  class Dictionary;
  class AnalysisThread;
  struct BatchTerms;
  struct SliceWork;

  TextIndex(storage::Db& db, const Bm25Params& params);
  Status Load();
  // The load's outcome, once it is done.
  const Status& AwaitLoad() const { return loaded_.get(); }
  std::shared_ptr<UserIndex> Find(RowKind kind, std::string_view user_id) const;
  std::shared_ptr<UserIndex> FindOrCreate(RowKind kind, std::string_view user_id);
  // Takes slices of `batch` until none is left, analyzing each into batch.stored; the first
  // failure ends every thread's work on the batch and is left in work->status.
  void AnalyzeSlices(BatchTerms& batch, SliceWork* work);
  Status AnalyzeSlice(BatchTerms& batch, size_t begin, size_t end, SliceWork* work);

  storage::Db& db_;
  const Bm25Params params_;
  std::unique_ptr<Dictionary> dictionary_;
  std::unique_ptr<AnalysisThread> analysis_thread_;
  mutable std::shared_mutex users_mutex_;
  std::unordered_map<std::string, std::shared_ptr<UserIndex>> users_;  // by kind byte + user id
  // Declared last, so destroyed first: destroying it waits for the load, which uses the rest.
  std::shared_future<Status> loaded_;
};

}  // namespace mnemo::text

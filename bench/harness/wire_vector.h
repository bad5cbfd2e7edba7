// The vector phases over the wire, against a running mnemod through the C++ client:
//  * Ingest: rows in atomic batches (a document plus up to `batch` chunks each, one ApplyBatch,
//    acknowledged only once durable), timing every batch; then how long until the last batch is
//    searchable (freshness) and until the graph has linked every row (no pending rows).
//  * Search sweep: recall@k, QPS and latency percentiles per ef and client-thread count.
//  * Filtered: per-user search (tenant isolation is the filter) for users chosen by their share
//    of the rows, with the server's adaptive ef.
//
// Thread-safety: each function drives its own threads; call them from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_data.h"
#include "latency.h"
#include "mnemo/client/client.h"
#include "progress.h"

namespace mnemo::bench {

struct IngestPlan {
  // Batches of base-row numbers; all rows of one batch belong to batch_users[i].
  std::vector<std::vector<uint32_t>> batches;
  std::vector<std::string> batch_users;
  // Month bucket of every base row; null: the run's (BenchData::month).  Borrowed.
  const std::vector<uint32_t>* months = nullptr;
};

// Every row owned by `user`, in batches of `batch` rows.
IngestPlan SingleOwnerPlan(size_t rows, size_t batch, const std::string& user);
// Rows grouped by their owner ("u<owner>"), batches of at most `batch` rows per owner.
IngestPlan PerOwnerPlan(const Dataset& data, size_t batch);

struct IngestResult {
  size_t rows = 0;
  size_t batches = 0;
  size_t failed_batches = 0;
  std::string first_error;
  double seconds = 0;               // first send to last ack
  std::vector<double> batch_seconds;
  double last_batch_searchable_s = -1;  // from the last ack until a search returns its row
  double indexed_s = -1;            // from the first send until no row is pending in any graph
  bool truncated = false;           // stopped early by the time budget
};

// Sends the plan's batches on `threads` client threads.  Rows are chunks whose text is their
// row number and whose created_at falls in their month bucket.
IngestResult Ingest(client::Client& client, const BenchData& bench, const IngestPlan& plan,
                    size_t threads, const TimeBudget& budget, const std::string& label);

// Polls the server's partitions until no row is pending (or the budget or `max_wait_s` ends);
// seconds waited, or -1 on timeout.
double WaitUntilIndexed(client::Client& client, const TimeBudget& budget, double max_wait_s);

struct SearchRun {
  std::string user;
  size_t ef = 0;           // 0: the server's adaptive default
  size_t threads = 1;
  size_t queries = 0;      // answered
  size_t errors = 0;
  double recall = 0;
  double qps = 0;
  double exact_fraction = 0;  // answers the server reported as exact scans
  std::vector<double> latencies;
};

// Runs the first `queries` queries as `user` at `ef` with `threads` client threads; recall
// against `truth` (row-major, k per query).
SearchRun RunSearches(client::Client& client, const Dataset& data, const std::string& user,
                      size_t queries, size_t k, size_t ef, size_t threads,
                      const std::vector<int64_t>& truth, const TimeBudget& budget);

// Queries with their own users and exact answers, and one filter for all of them.
struct SearchPlan {
  std::vector<uint32_t> query_rows;  // the query vector of each search
  std::vector<std::string> users;    // the user each search runs as
  std::vector<int64_t> truth;        // row-major, k base rows per search (-1: none)
  client::SearchFilters filters;
};

// Runs the plan's searches at `ef` (0: adaptive) with `threads` client threads.
SearchRun RunPlannedSearches(client::Client& client, const Dataset& data, const SearchPlan& plan,
                             size_t k, size_t ef, size_t threads, const TimeBudget& budget);

// created_at of base row `row` in month bucket `month`: month m is month m+1 of 2024 (rolling
// into later years), plus a per-row offset spread over its first 27 days.
client::Timestamp CreatedAt(uint32_t month, uint32_t row);

// One ingest batch as every mnemo line writes it: a new document, and per row a chunk whose text
// is the row number, whose created_at falls in the row's month bucket.  Fills the caller's
// document and chunk types (the client's or the engine's, which have the same fields).
template <typename NewDocumentT, typename NewChunkT>
void FillBatch(const BenchData& bench, const std::vector<uint32_t>& months,
               const std::vector<uint32_t>& rows, size_t index, NewDocumentT* document,
               std::vector<NewChunkT>* chunks) {
  document->id = Uuid::Generate();
  document->filename = "bench-" + std::to_string(index) + ".txt";
  document->file_type = "txt";
  document->content = "benchmark document";
  chunks->resize(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint32_t row = rows[i];
    NewChunkT& chunk = (*chunks)[i];
    chunk.document_id = *document->id;
    chunk.chunk_index = static_cast<int64_t>(i);
    chunk.chunk_text = std::to_string(row);
    const auto vector = bench.data.Row(row);
    chunk.embedding.assign(vector.begin(), vector.end());
    chunk.created_at = CreatedAt(months[row], row);
  }
}

nlohmann::json ToJson(const IngestResult& result);
nlohmann::json ToJson(const SearchRun& run, bool with_cdf);

}  // namespace mnemo::bench

// Ingest and search over the wire (see wire_vector.h).
#include "wire_vector.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "bench_systems.h"

namespace mnemo::bench {
namespace {

using client::Client;

constexpr double kFreshnessTimeoutS = 30;

client::Batch MakeBatch(const BenchData& bench, const std::vector<uint32_t>& months,
                        const std::vector<uint32_t>& rows, size_t index) {
  client::NewDocument document;
  std::vector<client::NewChunk> chunks;
  FillBatch(bench, months, rows, index, &document, &chunks);
  client::Batch batch;
  batch.CreateDocument(std::move(document));
  for (client::NewChunk& chunk : chunks) batch.AddChunk(std::move(chunk));
  return batch;
}

// The base row a hit stands for (its chunk text), or -1.
int64_t RowOf(const client::SearchHit& hit) {
  try {
    return static_cast<int64_t>(std::stoull(hit.chunk_text));
  } catch (const std::exception&) {
    return -1;
  }
}

double FreshnessProbe(Client& client, const BenchData& bench, const std::string& user, uint32_t row) {
  client::SearchRequest request;
  const auto vector = bench.data.Row(row);
  request.query.assign(vector.begin(), vector.end());
  request.top_k = 1;
  const double start = NowSeconds();
  while (NowSeconds() - start < kFreshnessTimeoutS) {
    auto answer = client.Search(user, request);
    if (answer.ok() && !answer->hits.empty() && RowOf(answer->hits[0]) == row) return NowSeconds() - start;
  }
  return -1;
}

}  // namespace

client::Timestamp CreatedAt(uint32_t month, uint32_t row) {
  using namespace std::chrono;
  const int year_offset = static_cast<int>(month / 12);
  const unsigned month_of_year = 1 + month % 12;
  const sys_days day = year{2024 + year_offset} / std::chrono::month{month_of_year} / 1;
  const int64_t start_us = duration_cast<microseconds>(day.time_since_epoch()).count();
  // Rows spread over the bucket's first 27 days (a multiplicative hash of the row number).
  const uint64_t second = (uint64_t{row} * 2654435761u) % (27 * 86400);
  return start_us + static_cast<int64_t>(second) * 1'000'000;
}

IngestPlan SingleOwnerPlan(size_t rows, size_t batch, const std::string& user) {
  IngestPlan plan;
  for (size_t start = 0; start < rows; start += batch) {
    std::vector<uint32_t> part;
    for (size_t row = start; row < std::min(rows, start + batch); ++row) part.push_back(static_cast<uint32_t>(row));
    plan.batches.push_back(std::move(part));
    plan.batch_users.push_back(user);
  }
  return plan;
}

IngestPlan PerOwnerPlan(const Dataset& data, size_t batch) {
  std::vector<std::vector<uint32_t>> by_owner;
  for (size_t row = 0; row < data.size(); ++row) {
    const uint32_t owner = data.owners[row];
    if (owner >= by_owner.size()) by_owner.resize(owner + 1);
    by_owner[owner].push_back(static_cast<uint32_t>(row));
  }
  IngestPlan plan;
  for (size_t owner = 0; owner < by_owner.size(); ++owner) {
    const auto& rows = by_owner[owner];
    for (size_t start = 0; start < rows.size(); start += batch) {
      plan.batches.emplace_back(rows.begin() + static_cast<ptrdiff_t>(start),
                                rows.begin() + static_cast<ptrdiff_t>(std::min(rows.size(), start + batch)));
      plan.batch_users.push_back("u" + std::to_string(owner));
    }
  }
  return plan;
}

IngestResult Ingest(Client& client, const BenchData& bench, const IngestPlan& plan, size_t threads,
                    const TimeBudget& budget, const std::string& label) {
  IngestResult result;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  std::atomic<size_t> rows{0};
  std::atomic<bool> stopped{false};
  size_t last_index = 0;
  double last_ack = 0;
  std::optional<Progress> progress(std::in_place, label, plan.batches.size());
  const double start = NowSeconds();
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < plan.batches.size(); i = next.fetch_add(1)) {
      if (budget.Expired()) {
        stopped = true;
        return;
      }
      const client::Batch batch =
          MakeBatch(bench, plan.months != nullptr ? *plan.months : bench.month, plan.batches[i], i);
      const double sent = NowSeconds();
      auto answer = client.ApplyBatch(plan.batch_users[i], batch);
      const double acked = NowSeconds();
      std::lock_guard lock(mutex);
      result.batch_seconds.push_back(acked - sent);
      if (!answer.ok()) {
        ++result.failed_batches;
        if (result.first_error.empty()) result.first_error = answer.error().ToString();
      } else {
        rows += plan.batches[i].size();
        if (acked >= last_ack) {
          last_ack = acked;
          last_index = i;
        }
      }
      progress->Advance();
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  result.seconds = NowSeconds() - start;
  progress.reset();
  result.rows = rows;
  result.batches = result.batch_seconds.size();
  result.truncated = stopped;
  if (result.rows > 0) {
    const auto& last_rows = plan.batches[last_index];
    result.last_batch_searchable_s =
        FreshnessProbe(client, bench, plan.batch_users[last_index], last_rows.back());
  }
  const double waited = WaitUntilIndexed(client, budget, 3600);
  if (waited >= 0) result.indexed_s = NowSeconds() - start;
  return result;
}

double WaitUntilIndexed(Client& client, const TimeBudget& budget, double max_wait_s) {
  const double start = NowSeconds();
  while (NowSeconds() - start < max_wait_s && !budget.Expired()) {
    auto partitions = client.ListPartitions();
    if (partitions.ok()) {
      int64_t pending = 0;
      for (const auto& partition : *partitions) pending += partition.pending_rows;
      if (pending == 0) return NowSeconds() - start;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

SearchRun RunSearches(Client& client, const Dataset& data, const std::string& user, size_t queries,
                      size_t k, size_t ef, size_t threads, const std::vector<int64_t>& truth,
                      const TimeBudget& budget) {
  SearchPlan plan;
  const size_t nq = std::min(queries, data.query_count());
  plan.users.assign(nq, user);
  for (size_t q = 0; q < nq; ++q) plan.query_rows.push_back(static_cast<uint32_t>(q));
  plan.truth = truth;
  plan.truth.resize(nq * k, -1);
  SearchRun run = RunPlannedSearches(client, data, plan, k, ef, threads, budget);
  run.user = user;
  return run;
}

SearchRun RunPlannedSearches(Client& client, const Dataset& data, const SearchPlan& plan, size_t k,
                             size_t ef, size_t threads, const TimeBudget& budget) {
  SearchRun run;
  run.ef = ef;
  run.threads = threads;
  const size_t nq = plan.query_rows.size();
  const std::vector<int64_t>& truth = plan.truth;
  std::vector<double> latencies(nq, -1);
  std::vector<double> recalls(nq, 0);
  std::vector<char> exact(nq, 0);
  std::atomic<size_t> next{0};
  std::atomic<size_t> errors{0};
  auto worker = [&] {
    client::SearchRequest request;
    request.top_k = static_cast<int64_t>(k);
    if (ef > 0) request.ef = static_cast<int64_t>(ef);
    request.filters = plan.filters;
    std::vector<uint64_t> got;
    for (size_t q = next.fetch_add(1); q < nq; q = next.fetch_add(1)) {
      if (budget.Expired()) return;
      const auto vector = data.Query(plan.query_rows[q]);
      request.query.assign(vector.begin(), vector.end());
      const double sent = NowSeconds();
      auto answer = client.Search(plan.users[q], request);
      latencies[q] = NowSeconds() - sent;
      if (!answer.ok()) {
        ++errors;
        continue;
      }
      got.clear();
      for (const auto& hit : answer->hits) {
        const int64_t row = RowOf(hit);
        if (row >= 0) got.push_back(static_cast<uint64_t>(row));
      }
      recalls[q] = RecallOf(got, truth, q, k);
      exact[q] = answer->exact ? 1 : 0;
    }
  };
  const double start = NowSeconds();
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  const double elapsed = NowSeconds() - start;
  double recall_sum = 0;
  size_t exact_count = 0;
  for (size_t q = 0; q < nq; ++q) {
    if (latencies[q] < 0) continue;
    run.latencies.push_back(latencies[q]);
    recall_sum += recalls[q];
    exact_count += static_cast<size_t>(exact[q]);
  }
  run.queries = run.latencies.size();
  run.errors = errors;
  if (run.queries > 0) {
    run.recall = recall_sum / static_cast<double>(run.queries);
    run.qps = static_cast<double>(run.queries) / elapsed;
    run.exact_fraction = static_cast<double>(exact_count) / static_cast<double>(run.queries);
  }
  return run;
}

nlohmann::json ToJson(const IngestResult& result) {
  const double vectors_per_s = result.seconds > 0 ? static_cast<double>(result.rows) / result.seconds : 0;
  return {{"rows", result.rows},
          {"batches", result.batches},
          {"failed_batches", result.failed_batches},
          {"first_error", result.first_error},
          {"seconds", result.seconds},
          {"vectors_per_s", vectors_per_s},
          {"batch_latency", ToJson(Summarize(result.batch_seconds))},
          {"batch_latency_cdf", LatencyCdf(result.batch_seconds)},
          {"last_batch_searchable_s", result.last_batch_searchable_s},
          {"indexed_s", result.indexed_s},
          {"truncated", result.truncated}};
}

nlohmann::json ToJson(const SearchRun& run, bool with_cdf) {
  nlohmann::json out = {{"user", run.user},
                        {"ef", run.ef},
                        {"threads", run.threads},
                        {"queries", run.queries},
                        {"errors", run.errors},
                        {"recall", run.recall},
                        {"qps", run.qps},
                        {"exact_fraction", run.exact_fraction},
                        {"latency", ToJson(Summarize(run.latencies))}};
  if (with_cdf) out["latency_cdf"] = LatencyCdf(run.latencies);
  return out;
}

}  // namespace mnemo::bench

// The seed phase (see seed_phase.h).
#include "seed_phase.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>

#include "faiss_peer.h"
#include "mnemod_process.h"
#include "wire_vector.h"

namespace mnemo::bench {
namespace {

using nlohmann::json;

constexpr double kStartTimeoutS = 120;
constexpr int64_t kDayUs = int64_t{86400} * 1'000'000;
constexpr size_t kIngestThreads = 2;

struct Bucket {
  std::string name;
  std::vector<uint32_t> owners;  // owners in the bucket, each with at least one row
};

// Buckets by share of all rows: the big tenant, > 5%, 1-5%, < 1%.
std::vector<Bucket> MakeBuckets(const std::vector<size_t>& counts, size_t rows) {
  std::vector<Bucket> buckets = {{"big tenant", {}}, {"> 5%", {}}, {"1-5%", {}}, {"< 1%", {}}};
  for (uint32_t owner = 0; owner < counts.size(); ++owner) {
    if (counts[owner] == 0) continue;
    const double share = static_cast<double>(counts[owner]) / static_cast<double>(rows);
    const size_t slot = owner == 0 ? 0 : share > 0.05 ? 1 : share >= 0.01 ? 2 : 3;
    buckets[slot].owners.push_back(owner);
  }
  std::erase_if(buckets, [](const Bucket& bucket) { return bucket.owners.empty(); });
  return buckets;
}

// The plan of one bucket: query q runs as owner owners[q % size]; truth is the exact top-k over
// that owner's rows whose created_at passes `from` (inclusive).
SearchPlan PlanBucket(const Dataset& data, const std::vector<uint32_t>& owners_of_rows,
                      const std::vector<client::Timestamp>& created, const Bucket& bucket,
                      size_t queries, size_t k, client::Timestamp from) {
  SearchPlan plan;
  const size_t nq = std::min(queries, data.query_count());
  plan.truth.assign(nq * k, -1);
  std::map<uint32_t, std::vector<uint32_t>> queries_of;
  for (size_t q = 0; q < nq; ++q) {
    const uint32_t owner = bucket.owners[q % bucket.owners.size()];
    plan.query_rows.push_back(static_cast<uint32_t>(q));
    plan.users.push_back(SeedUserName(owner));
    queries_of[owner].push_back(static_cast<uint32_t>(q));
  }
  for (const auto& [owner, qs] : queries_of) {
    std::vector<uint32_t> rows;
    for (size_t row = 0; row < owners_of_rows.size(); ++row) {
      if (owners_of_rows[row] == owner && created[row] >= from)
        rows.push_back(static_cast<uint32_t>(row));
    }
    if (rows.empty()) continue;
    FaissFlatPeer flat(data.dim);
    std::vector<float> base(rows.size() * data.dim);
    for (size_t i = 0; i < rows.size(); ++i)
      std::copy_n(data.Row(rows[i]).data(), data.dim, &base[i * data.dim]);
    flat.Add(rows.size(), base.data());
    std::vector<float> query_rows(qs.size() * data.dim);
    for (size_t i = 0; i < qs.size(); ++i)
      std::copy_n(data.Query(qs[i]).data(), data.dim, &query_rows[i * data.dim]);
    std::vector<int64_t> labels;
    flat.Search(qs.size(), query_rows.data(), k, &labels);
    for (size_t i = 0; i < qs.size(); ++i) {
      for (size_t j = 0; j < k; ++j) {
        const int64_t label = labels[i * k + j];
        plan.truth[qs[i] * k + j] =
            label < 0 ? -1 : static_cast<int64_t>(rows[static_cast<size_t>(label)]);
      }
    }
  }
  return plan;
}

json RunJson(const SearchRun& run) {
  json out = ToJson(run, false);
  out.erase("user");
  return out;
}

// One store: ingest every row with `owners` and `months`, wait for the graphs, run the buckets.
json RunStore(const SeedPhaseInput& input, const std::string& name,
              const std::vector<uint32_t>& owners, const std::vector<uint32_t>& months,
              size_t month_count, const std::vector<Bucket>& buckets, bool with_time_filter) {
  const BenchOptions& options = *input.options;
  const Dataset& data = input.bench->data;
  json result = {{"months", month_count}};
  const std::string dir = input.work_dir + "/" + name;
  std::filesystem::create_directories(dir);
  MnemodProcess server(input.mnemod_binary, dir, data.dim, options);
  std::string error;
  if (!server.Start(kStartTimeoutS, &error)) return {{"error", error}};
  client::ClientOptions client_options;
  client_options.port = server.port();
  client_options.pool_size = static_cast<int>(kIngestThreads);
  client_options.client_name = "mnemo-bench";
  auto connected = client::Client::Connect(client_options);
  if (!connected.ok()) return {{"error", connected.error().ToString()}};
  client::Client& client = **connected;

  // Rows grouped by owner, in batches of at most `batch`.
  std::vector<std::vector<uint32_t>> by_owner;
  for (size_t row = 0; row < owners.size(); ++row) {
    if (owners[row] >= by_owner.size()) by_owner.resize(owners[row] + 1);
    by_owner[owners[row]].push_back(static_cast<uint32_t>(row));
  }
  IngestPlan plan;
  plan.months = &months;
  for (uint32_t owner = 0; owner < by_owner.size(); ++owner) {
    const auto& rows = by_owner[owner];
    for (size_t start = 0; start < rows.size(); start += options.batch) {
      plan.batches.emplace_back(
          rows.begin() + static_cast<std::ptrdiff_t>(start),
          rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), start + options.batch)));
      plan.batch_users.push_back(SeedUserName(owner));
    }
  }
  // Interleave owners, as a live store receives them.
  std::vector<size_t> order(plan.batches.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(options.seed));
  IngestPlan shuffled;
  shuffled.months = &months;
  for (size_t i : order) {
    shuffled.batches.push_back(std::move(plan.batches[i]));
    shuffled.batch_users.push_back(plan.batch_users[i]);
  }
  const IngestResult ingest =
      Ingest(client, *input.bench, shuffled, kIngestThreads, *input.budget, "seed: ingest " + name);
  result["ingest"] = ToJson(ingest);
  result["ingest"].erase("batch_latency_cdf");
  if (ingest.failed_batches > 0) return {{"error", "ingest failed: " + ingest.first_error}};
  const MnemodProcess::Resident resident = server.ResidentMemory();
  const double rows = static_cast<double>(std::max<size_t>(ingest.rows, 1));
  result["rss_bytes_per_vector"] = static_cast<double>(resident.total) / rows;
  result["rss_anon_bytes_per_vector"] = static_cast<double>(resident.anon) / rows;

  std::vector<client::Timestamp> created(owners.size());
  client::Timestamp newest = 0;
  for (size_t row = 0; row < owners.size(); ++row) {
    created[row] = CreatedAt(months[row], static_cast<uint32_t>(row));
    newest = std::max(newest, created[row]);
  }
  const client::Timestamp last_30_days = newest - 30 * kDayUs;
  result["buckets"] = json::array();
  Progress progress("seed: search " + name, buckets.size() * (with_time_filter ? 2 : 1));
  for (const Bucket& bucket : buckets) {
    size_t rows = 0;
    for (uint32_t owner : bucket.owners) rows += by_owner[owner].size();
    json entry = {{"bucket", bucket.name},
                  {"users", bucket.owners.size()},
                  {"rows", rows},
                  {"share", static_cast<double>(rows) / static_cast<double>(owners.size())}};
    for (const bool filtered : {false, true}) {
      if (input.budget->Expired() || (filtered && !with_time_filter)) break;
      const client::Timestamp from =
          filtered ? last_30_days : std::numeric_limits<client::Timestamp>::min();
      SearchPlan searches =
          PlanBucket(data, owners, created, bucket, options.seed_queries, options.k, from);
      if (filtered) searches.filters.created_from = last_30_days;
      const SearchRun run =
          RunPlannedSearches(client, data, searches, options.k, 0, 1, *input.budget);
      entry[filtered ? "last_30_days" : "all"] = RunJson(run);
      progress.Advance();
    }
    result["buckets"].push_back(std::move(entry));
  }
  return result;
}

}  // namespace

std::vector<uint32_t> SeedOwners(size_t rows, size_t users, double big_share, uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5EEDu);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<double> weights(users);
  for (size_t r = 0; r < users; ++r) weights[r] = 1.0 / static_cast<double>(r + 1);
  std::discrete_distribution<uint32_t> zipf(weights.begin(), weights.end());
  std::vector<uint32_t> owners(rows);
  for (uint32_t& owner : owners) owner = uniform(rng) < big_share ? 0 : 1 + zipf(rng);
  return owners;
}

std::string SeedUserName(uint32_t owner) {
  return owner == 0 ? "big" : "s" + std::to_string(owner);
}

json RunSeedPhase(const SeedPhaseInput& input) {
  const BenchOptions& options = *input.options;
  const Dataset& data = input.bench->data;
  const std::vector<uint32_t> owners =
      SeedOwners(data.size(), options.seed_users, options.seed_big_share, options.seed);
  std::vector<size_t> counts(options.seed_users + 1, 0);
  for (uint32_t owner : owners) ++counts[owner];
  const std::vector<Bucket> buckets = MakeBuckets(counts, data.size());

  json result = {{"users", options.seed_users},
                 {"big_share", options.seed_big_share},
                 {"queries_per_bucket", options.seed_queries},
                 {"stores", json::array()}};
  // The reference: the same rows in one month, owned by one tenant.
  {
    const std::vector<uint32_t> one_owner(data.size(), 0);
    const std::vector<uint32_t> one_month(data.size(), 0);
    const std::vector<size_t> one_count = {data.size()};
    json reference = RunStore(input, "one-month-one-tenant", one_owner, one_month, 1,
                              MakeBuckets(one_count, data.size()),
                              /*with_time_filter=*/false);
    result["reference"] = std::move(reference);
  }
  for (const size_t month_count : options.seed_months) {
    if (input.budget->Expired()) break;
    std::vector<uint32_t> months(data.size());
    for (size_t row = 0; row < data.size(); ++row)
      months[row] = MonthOf(row, month_count, options.seed);
    result["stores"].push_back(RunStore(input, std::to_string(month_count) + "-months", owners,
                                        months, month_count, buckets,
                                        /*with_time_filter=*/true));
  }
  return result;
}

}  // namespace mnemo::bench

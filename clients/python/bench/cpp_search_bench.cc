// mnemo_cpp_search_bench: vector-search throughput of the C++ client against a running mnemod,
// measured the same way as clients/python/bench/search_throughput.py so the two can be compared
// (the Python script loads the data; this program only queries it).
//
// Usage: mnemo_cpp_search_bench --port P [--host H] [--user bench] [--threads 64] [--pool 4]
//                               [--seconds 10] [--top-k 10]
// Prints one line: queries/s over the measured interval (after a 1 s warm-up).
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include <sys/resource.h>
#include <string>
#include <thread>
#include <vector>

#include "mnemo/client/client.h"

namespace {

// CPU time (user + system) of this process, in seconds.
double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

using mnemo::client::Client;
using mnemo::client::ClientOptions;
using mnemo::client::SearchRequest;

struct Args {
  std::string host = "127.0.0.1";
  int port = 7420;
  std::string user = "bench";
  int threads = 64;
  int pool = 4;
  int seconds = 10;
  int top_k = 10;
};

bool Parse(int argc, char** argv, Args* args) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--host") args->host = value;
    else if (flag == "--port") args->port = std::atoi(value);
    else if (flag == "--user") args->user = value;
    else if (flag == "--threads") args->threads = std::atoi(value);
    else if (flag == "--pool") args->pool = std::atoi(value);
    else if (flag == "--seconds") args->seconds = std::atoi(value);
    else if (flag == "--top-k") args->top_k = std::atoi(value);
    else return false;
  }
  return argc % 2 == 1 && args->port > 0 && args->threads > 0 && args->pool > 0 &&
         args->seconds > 0 && args->top_k > 0;
}

// Random unit query vectors (Gaussian, normalised), fixed seed.
std::vector<SearchRequest> Queries(uint32_t dimension, int top_k, size_t count) {
  std::mt19937 rng(7);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<SearchRequest> queries(count);
  for (SearchRequest& request : queries) {
    request.query.resize(dimension);
    double norm = 0;
    for (float& value : request.query) {
      value = gauss(rng);
      norm += static_cast<double>(value) * value;
    }
    const float scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& value : request.query) value *= scale;
    request.top_k = top_k;
  }
  return queries;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!Parse(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: %s --port P [--host H] [--user U] [--threads N] [--pool N] "
                 "[--seconds N] [--top-k N]\n",
                 argv[0]);
    return 2;
  }
  ClientOptions options;
  options.host = args.host;
  options.port = static_cast<uint16_t>(args.port);
  options.pool_size = args.pool;
  options.client_name = "mnemo-cpp-search-bench";
  auto connected = Client::Connect(options);
  if (!connected.ok()) {
    std::fprintf(stderr, "connect: %s\n", connected.error().ToString().c_str());
    return 1;
  }
  Client& client = **connected;
  const auto queries = Queries(client.server_info().dimension, args.top_k, 256);

  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> failed{0};
  std::atomic<bool> exact_seen{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < args.threads; ++t) {
    threads.emplace_back([&, t] {
      size_t next = static_cast<size_t>(t);
      while (!stop.load(std::memory_order_relaxed)) {
        const auto result = client.Search(args.user, queries[next++ % queries.size()]);
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (result.ok()) {
          answered.fetch_add(1, std::memory_order_relaxed);
          if (result->exact) exact_seen.store(true, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // warm-up
  measuring = true;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(args.seconds));
  measuring = false;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = ProcessCpuSeconds() - cpu_start;
  stop = true;
  for (auto& thread : threads) thread.join();

  const double done = static_cast<double>(answered.load());
  std::printf("cpp client: %.0f queries/s (threads=%d pool=%d top_k=%d dim=%u, %lld answered, "
              "%lld failed, client CPU %.0f us/query, %s)\n",
              done / elapsed, args.threads, args.pool, args.top_k,
              client.server_info().dimension, static_cast<long long>(answered.load()),
              static_cast<long long>(failed.load()), cpu * 1e6 / (done > 0 ? done : 1),
              exact_seen ? "exact scans seen" : "graph search");
  return failed.load() == 0 ? 0 : 1;
}

// mnemo-rest: the REST sidecar of mnemo (SPEC §5).  Parses the command line (flags or
// MNEMO_REST_* environment variables), starts the HTTP server, the worker pools and the lazy
// upstream client, and runs until SIGINT/SIGTERM.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http_server.h"
#include "jwt.h"
#include "metrics.h"
#include "rest_handler.h"
#include "rest_options.h"
#include "upstream.h"

namespace {

using namespace mnemo::rest;

// "host:port" -> parts; false when the port is missing or not a number in 0..65535.
bool SplitHostPort(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  try {
    size_t used = 0;
    const int value = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || value < 0 || value > 65535) return false;
    *port = static_cast<uint16_t>(value);
  } catch (const std::exception&) {
    return false;
  }
  *host = text.substr(0, colon);
  return true;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t b = item.find_first_not_of(" \t");
    const size_t e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  RestOptions options;
  std::string listen = "127.0.0.1:8080";
  std::string upstream = "127.0.0.1:7420";
  std::string cors = "http://localhost:3000,http://localhost:8000";
  std::string rate_create = "10/min", rate_read = "30/min", rate_other = "100/min";
  std::string log_level = "info";
  std::string issue_token;
  int64_t token_ttl = 3600;
  int64_t upstream_timeout_ms = options.upstream_timeout.count();

  CLI::App app{
      "mnemo-rest: the REST/JSON sidecar of mnemod (SPEC §5). Every flag can also be set "
      "by the environment variable shown."};
  app.add_option("--listen", listen, "HTTP address HOST:PORT (port 0 = ephemeral)")
      ->envname("MNEMO_REST_LISTEN")
      ->capture_default_str();
  app.add_option("--port-file", options.port_file,
                 "write the bound HTTP port to this file once listening");
  app.add_option("--upstream", upstream,
                 "mnemod address HOST:PORT, or several nodes of a cluster comma-separated")
      ->envname("MNEMO_REST_UPSTREAM")
      ->capture_default_str();
  app.add_option("--service-key", options.service_key,
                 "mnemod service API key (empty: a protected-mode mnemod on loopback accepts us as "
                 "service)")
      ->envname("MNEMO_REST_SERVICE_KEY");
  app.add_option("--jwt-secret", options.jwt_secret,
                 "HS256 secret of the bearer JWTs (sub = user id, exp required); empty: bearer "
                 "tokens refused")
      ->envname("MNEMO_REST_JWT_SECRET");
  app.add_flag(
         "--dev-user-header", options.dev_user_header,
         "DEVELOPMENT ONLY: accept X-User-ID as the identity when no Authorization header is sent")
      ->envname("MNEMO_REST_DEV_USER_HEADER");
  app.add_option("--cors-origins", cors, "comma-separated allowed CORS origins ('*' = any)")
      ->envname("MNEMO_REST_CORS_ORIGINS")
      ->capture_default_str();
  app.add_option(
         "--rate-create", rate_create,
         "per-user, per-route limit of creates (POST conversations, messages, documents, chunks): "
         "N/s, N/min, N/h, N/<sec>s or off")
      ->envname("MNEMO_REST_RATE_CREATE")
      ->capture_default_str();
  app.add_option("--rate-read", rate_read,
                 "per-user, per-route limit of reads (GETs and document searches)")
      ->envname("MNEMO_REST_RATE_READ")
      ->capture_default_str();
  app.add_option("--rate-other", rate_other,
                 "per-user, per-route limit of other calls (PATCH, PUT, DELETE, restore)")
      ->envname("MNEMO_REST_RATE_OTHER")
      ->capture_default_str();
  std::string error_codes = "mnemo";
  app.add_option("--error-codes", error_codes,
                 "spelling of error codes: mnemo (SPEC), or seed (RECORD_NOT_FOUND and "
                 "INTERNAL_SERVER_ERROR "
                 "for NOT_FOUND and INTERNAL_ERROR, as the backend mnemo replaces)")
      ->envname("MNEMO_REST_ERROR_CODES")
      ->capture_default_str()
      ->check(CLI::IsMember({"mnemo", "seed"}));
  app.add_option("--max-body-bytes", options.max_body_bytes,
                 "largest request body; larger gets 413")
      ->envname("MNEMO_REST_MAX_BODY_BYTES")
      ->capture_default_str();
  app.add_option("--io-threads", options.io_threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--worker-threads", options.worker_threads, "threads running mnemod calls")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--max-pending", options.max_pending, "API requests queued or running before 503")
      ->capture_default_str();
  app.add_option("--upstream-connections", options.upstream_connections,
                 "pipelined TCP connections to mnemod (as many direct ones open on demand)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--upstream-timeout-ms", upstream_timeout_ms, "timeout of one mnemod call")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->envname("MNEMO_REST_LOG_LEVEL")
      ->capture_default_str();
  app.add_option(
      "--issue-token", issue_token,
      "print a JWT for this user id signed with --jwt-secret, then exit (development aid)");
  app.add_option("--token-ttl", token_ttl, "lifetime of --issue-token tokens, seconds")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!issue_token.empty()) {
    if (options.jwt_secret.empty()) {
      std::fprintf(stderr, "--issue-token needs --jwt-secret\n");
      return 2;
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const nlohmann::json payload = {{"sub", issue_token}, {"iat", now}, {"exp", now + token_ttl}};
    std::printf("%s\n", SignJwtHs256(payload.dump(), options.jwt_secret).c_str());
    return 0;
  }

  spdlog::set_level(spdlog::level::from_str(log_level));
  if (!SplitHostPort(listen, &options.listen_host, &options.listen_port)) {
    std::fprintf(stderr, "--listen must be HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  const std::vector<std::string> upstreams = SplitList(upstream);
  for (const std::string& node : upstreams) {
    std::string host;
    uint16_t port = 0;
    if (!SplitHostPort(node, &host, &port) || port == 0) {
      std::fprintf(stderr, "--upstream must be HOST:PORT[,HOST:PORT...], got '%s'\n",
                   upstream.c_str());
      return 2;
    }
  }
  if (upstreams.empty() ||
      !SplitHostPort(upstreams.front(), &options.upstream_host, &options.upstream_port)) {
    std::fprintf(stderr, "--upstream must be HOST:PORT[,HOST:PORT...], got '%s'\n",
                 upstream.c_str());
    return 2;
  }
  if (upstreams.size() > 1) options.upstream_addresses = upstreams;
  const std::pair<const char*, std::string*> rates[] = {
      {"--rate-create", &rate_create}, {"--rate-read", &rate_read}, {"--rate-other", &rate_other}};
  for (size_t i = 0; i < kRateClassCount; ++i) {
    const auto limit = ParseRateLimit(*rates[i].second);
    if (!limit) {
      std::fprintf(stderr, "%s: expected N/s, N/min, N/h, N/<sec>s or off, got '%s'\n",
                   rates[i].first, rates[i].second->c_str());
      return 2;
    }
    options.rate_limits[i] = *limit;
  }
  options.cors_origins = SplitList(cors);
  options.seed_error_codes = error_codes == "seed";
  options.upstream_timeout = std::chrono::milliseconds(upstream_timeout_ms);
  if (options.jwt_secret.empty() && !options.dev_user_header) {
    spdlog::warn("no --jwt-secret and no --dev-user-header: every /api/v1 request will get 401");
  }
  if (options.dev_user_header)
    spdlog::warn("--dev-user-header: X-User-ID is trusted (development only)");

  mnemo::client::ClientOptions client_options;
  client_options.host = options.upstream_host;
  client_options.port = options.upstream_port;
  client_options.addresses = options.upstream_addresses;
  client_options.api_key = options.service_key;
  client_options.client_name = "mnemo-rest";
  client_options.pool_size = options.upstream_connections;
  client_options.request_timeout = options.upstream_timeout;
  client_options.connect_timeout = std::chrono::milliseconds(2000);

  Upstream upstream_client(client_options);
  Metrics metrics;
  boost::asio::thread_pool workers(static_cast<size_t>(options.worker_threads));
  boost::asio::thread_pool probes(1);
  RestHandler handler(options, upstream_client, metrics, workers, probes);
  {
    auto connected = upstream_client.Get();  // connect early when mnemod is up; fine if not
    (void)connected;
  }

  boost::asio::io_context ioc(options.io_threads);
  HttpServer server(ioc, handler, options.max_body_bytes);
  if (auto error = server.Listen(options.listen_host, options.listen_port)) {
    spdlog::error("{}", *error);
    return 1;
  }
  spdlog::info("mnemo-rest listening on http://{}:{} (upstream mnemod {}:{})", options.listen_host,
               server.port(), options.upstream_host, options.upstream_port);
  if (!options.port_file.empty()) {
    const std::string tmp = options.port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), options.port_file.c_str());
  }

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: shutting down", signal);
    server.Stop();
    ioc.stop();
  });

  std::vector<std::thread> io_threads;
  for (int i = 1; i < options.io_threads; ++i) io_threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : io_threads) t.join();
  workers.join();
  probes.join();
  return 0;
}

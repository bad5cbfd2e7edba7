// RestOptions: everything mnemo-rest is configured with (flags / environment, see main.cc and
// `mnemo-rest --help`), with the defaults that work beside a local mnemod in protected mode.
//
// Thread-safety: a value type.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "rate_limiter.h"

namespace mnemo::rest {

struct RestOptions {
  // ---- behaviour ----
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8080;  // 0 = ephemeral (see port_file)
  std::string port_file;        // when set, the bound port is written here once listening
  std::string upstream_host = "127.0.0.1";
  uint16_t upstream_port = 7420;
  // Every mnemod node given to --upstream ("host:port"), when more than one: the client uses one
  // at a time and follows NOT_PRIMARY to the cluster's primary (clients/cpp client.h).
  std::vector<std::string> upstream_addresses;
  std::string service_key;       // empty: protected-mode mnemod on loopback accepts us as service
  std::string jwt_secret;        // empty: bearer tokens are refused (401)
  bool dev_user_header = false;  // accept X-User-ID (development only)
  // Answer mnemod's NOT_FOUND and INTERNAL_ERROR as RECORD_NOT_FOUND and INTERNAL_SERVER_ERROR,
  // for front ends written against the backend mnemo replaces.
  bool seed_error_codes = false;
  // Origins allowed by CORS; "*" allows any.  Seed 001's default.
  std::vector<std::string> cors_origins = {"http://localhost:3000", "http://localhost:8000"};
  // Seed 001: create 10/min, read 30/min, default 100/min.  Indexed by RateClass.
  std::array<RateLimit, kRateClassCount> rate_limits = {RateLimit{10, 60}, RateLimit{30, 60},
                                                        RateLimit{100, 60}};

  // ---- performance and limits ----
  size_t max_body_bytes = 32u << 20;  // larger bodies get 413
  int io_threads = 2;                 // Beast I/O threads
  int worker_threads = 8;             // threads running the (blocking) mnemod calls
  size_t max_pending = 256;           // queued + running API requests; more get 503
  int upstream_connections = 2;       // the client library's pool_size
  std::chrono::milliseconds upstream_timeout{10'000};
};

}  // namespace mnemo::rest

// Small helpers shared by the hardening tests: knobs from the environment and client options
// for a local mnemod.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include "mnemo/client/options.h"

namespace mnemo::hardening {

// The integer in environment variable `name`, or `fallback` when unset or not a number.
inline int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  return *end == '\0' ? static_cast<int>(value) : fallback;
}

// The seed in environment variable `name`, or a random one.
inline uint64_t EnvSeed(const char* name) {
  if (const char* text = std::getenv(name); text != nullptr && *text != '\0')
    return std::strtoull(text, nullptr, 10);
  std::random_device source;
  return (static_cast<uint64_t>(source()) << 32) | source();
}

inline client::ClientOptions LocalClientOptions(uint16_t port, int pool_size = 4) {
  client::ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.client_name = "mnemo-hardening";
  options.pool_size = pool_size;
  options.request_timeout = std::chrono::seconds(20);
  options.connect_timeout = std::chrono::seconds(5);
  return options;
}

}  // namespace mnemo::hardening

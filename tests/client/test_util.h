// Helpers shared by the client integration tests.
#pragma once

#include <cmath>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mnemo/client/client.h"
#include "mnemod_process.h"

namespace mnemo::client {
// gtest prints ids in their text form.
inline void PrintTo(const Uuid& id, std::ostream* os) { *os << id.ToString(); }
}  // namespace mnemo::client

namespace mnemo::client::testing {

// A random vector of the test dimension (Gaussian entries: distinct directions).
inline std::vector<float> RandomVector(std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(MnemodProcess::kDimension);
  for (float& x : v) x = normal(rng);
  return v;
}

inline ClientOptions LocalOptions(uint16_t port, const std::string& api_key = "") {
  ClientOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.api_key = api_key;
  options.client_name = "client-integration-test";
  options.request_timeout = std::chrono::seconds(15);
  options.connect_timeout = std::chrono::seconds(5);
  return options;
}

// Unwraps a Result in a test, failing it with the error's text otherwise.
#define MNEMO_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                         \
  MNEMO_ASSERT_OK_AND_ASSIGN_IMPL(MNEMO_TEST_CONCAT(_r, __LINE__), lhs, rexpr)
#define MNEMO_TEST_CONCAT_INNER(a, b) a##b
#define MNEMO_TEST_CONCAT(a, b) MNEMO_TEST_CONCAT_INNER(a, b)
#define MNEMO_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)                      \
  auto tmp = (rexpr);                                                         \
  ASSERT_TRUE(tmp.ok()) << #rexpr << ": " << tmp.error().ToString();          \
  lhs = std::move(tmp).value()

#define MNEMO_ASSERT_OK(rexpr)                                                \
  do {                                                                        \
    auto _result = (rexpr);                                                   \
    ASSERT_TRUE(_result.ok()) << #rexpr << ": " << _result.error().ToString(); \
  } while (0)

}  // namespace mnemo::client::testing

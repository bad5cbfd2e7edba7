// Helpers shared by the client integration tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

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
#define MNEMO_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  MNEMO_ASSERT_OK_AND_ASSIGN_IMPL(MNEMO_TEST_CONCAT(_r, __LINE__), lhs, rexpr)
#define MNEMO_TEST_CONCAT_INNER(a, b) a##b
#define MNEMO_TEST_CONCAT(a, b) MNEMO_TEST_CONCAT_INNER(a, b)
#define MNEMO_ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, rexpr)             \
  auto tmp = (rexpr);                                                \
  ASSERT_TRUE(tmp.ok()) << #rexpr << ": " << tmp.error().ToString(); \
  lhs = std::move(tmp).value()

#define MNEMO_ASSERT_OK(rexpr)                                                 \
  do {                                                                         \
    auto _result = (rexpr);                                                    \
    ASSERT_TRUE(_result.ok()) << #rexpr << ": " << _result.error().ToString(); \
  } while (0)

// A test suite sharing one mnemod (protected mode: the client acts as a service principal) and
// one Client; each test gets a user id of its own (User()).
class LiveServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    server_ = new MnemodProcess(dir_->path());
    std::string error;
    if (!server_->Start(0, &error)) {
      start_error_ = error;
      return;
    }
    auto client = Client::Connect(LocalOptions(server_->port()));
    if (!client.ok()) {
      start_error_ = client.error().ToString();
      return;
    }
    client_ = std::move(client).value().release();
  }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    if (server_->running()) {
      EXPECT_EQ(server_->Stop(), 0) << "mnemod did not exit cleanly";
    }
    delete server_;
    delete dir_;
  }
  void SetUp() override { ASSERT_NE(client_, nullptr) << "mnemod did not start: " << start_error_; }

  Client& client() { return *client_; }
  std::string User() {
    return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  Conversation NewConv(const std::string& user, const std::string& title) {
    NewConversation input;
    input.title = title;
    auto row = client().CreateConversation(user, input);
    EXPECT_TRUE(row.ok()) << row.error().ToString();
    return row.ok() ? *row : Conversation{};
  }
  Message Append(const std::string& user, const Uuid& conversation, const std::string& role,
                 const std::string& content, std::optional<int64_t> tokens = std::nullopt) {
    NewMessage input;
    input.conversation_id = conversation;
    input.role = role;
    input.content = content;
    input.tokens_used = tokens;
    auto row = client().AppendMessage(user, input);
    EXPECT_TRUE(row.ok()) << row.error().ToString();
    return row.ok() ? *row : Message{};
  }

  static inline TempDir* dir_ = nullptr;
  static inline MnemodProcess* server_ = nullptr;
  static inline Client* client_ = nullptr;
  static inline std::string start_error_;
};

}  // namespace mnemo::client::testing

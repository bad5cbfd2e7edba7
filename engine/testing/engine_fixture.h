// EngineTest: a gtest fixture with a fresh Engine in a temporary directory, plus helpers that
// create rows and unwrap Results with readable failures.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "mnemo/engine.h"
#include "testing/temp_dir.h"

namespace mnemo::testing {

// The unit vector along axis i % dim: queries and rows whose nearest neighbours a test knows.
inline std::vector<float> BasisVector(uint32_t dim, int i) {
  std::vector<float> v(dim, 0.0f);
  v[static_cast<size_t>(i) % dim] = 1.0f;
  return v;
}

// Unwraps a Result in a test, failing with its status when it is an error.
template <typename T>
T Unwrap(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) throw std::runtime_error(result.status().ToString());
  return std::move(result).value();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Closes the engine (if open) and opens the same directory again.
  void Reopen(EngineOptions options = {}) {
    engine_.reset();
    options.data_dir = dir_.Sub("data");
    auto opened = Engine::Open(options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    engine_ = std::move(opened).value();
  }

  Conversation MakeConversation(const std::string& user, const std::string& title = "A title") {
    NewConversation input;
    input.title = title;
    return Unwrap(engine_->CreateConversation(user, input));
  }

  Message Append(const std::string& user, const Uuid& conversation, const std::string& role,
                 const std::string& content, std::optional<int64_t> tokens = std::nullopt) {
    NewMessage input;
    input.conversation_id = conversation;
    input.role = role;
    input.content = content;
    input.tokens_used = tokens;
    return Unwrap(engine_->AppendMessage(user, input));
  }

  Document MakeDocument(const std::string& user, const std::string& filename = "notes.md") {
    NewDocument input;
    input.filename = filename;
    input.file_type = "md";
    input.content = "# notes";
    return Unwrap(engine_->CreateDocument(user, input));
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

// EXPECT that `expr` (a Status or Result) fails with `code` and, if given, names `field`.
#define EXPECT_STATUS(expr, expected_code, expected_field)       \
  do {                                                           \
    const ::mnemo::Status _s = ::mnemo::testing::StatusOf(expr); \
    EXPECT_EQ(_s.code(), expected_code) << _s.ToString();        \
    if (std::string_view(expected_field).size() > 0) {           \
      EXPECT_EQ(_s.field(), expected_field) << _s.ToString();    \
    }                                                            \
  } while (0)

inline Status StatusOf(const Status& status) { return status; }
template <typename T>
Status StatusOf(const Result<T>& result) {
  return result.status();
}

}  // namespace mnemo::testing

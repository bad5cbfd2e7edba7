// mnemo-demo: opens (or creates) a data directory, writes a conversation with a few messages
// and a document, and reads everything back.  README command 1 runs it until mnemod exists.
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "mnemo/engine.h"

namespace {

int Fail(const mnemo::Status& status) {
  std::fprintf(stderr, "mnemo-demo: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mnemo-demo: write a conversation into a mnemo data directory and read it back"};
  std::string data_dir = "./data";
  bool fresh = false;
  std::string user = "demo-user";
  app.add_option("--data", data_dir, "data directory")->capture_default_str();
  app.add_option("--user", user, "user id to write as")->capture_default_str();
  app.add_flag("--fresh", fresh, "delete the data directory first");
  CLI11_PARSE(app, argc, argv);

  if (fresh) std::filesystem::remove_all(data_dir);
  mnemo::EngineOptions options;
  options.data_dir = data_dir;
  auto engine = mnemo::Engine::Open(options);
  if (!engine.ok()) return Fail(engine.status());
  mnemo::Engine& db = **engine;
  std::printf("opened %s (embedding dimension %u)\n", data_dir.c_str(), db.dimension());

  mnemo::NewConversation input;
  input.title = "Weather in Berlin";
  input.system_prompt = "You are a helpful assistant.";
  auto conversation = db.CreateConversation(user, input);
  if (!conversation.ok()) return Fail(conversation.status());
  const mnemo::Uuid id = conversation->id;

  const struct {
    const char* role;
    const char* content;
    const char* tool_calls;
    int64_t tokens;
  } turns[] = {
      {"user", "What's the weather in Berlin?", nullptr, 9},
      {"assistant", "Let me check.",
       R"([{"id":"call_1","name":"get_weather","arguments":{"city":"Berlin"}}])", 14},
      {"tool", R"({"temp_c": 7, "sky": "overcast"})", nullptr, 11},
      {"assistant", "It is 7 °C and overcast in Berlin.", nullptr, 12},
  };
  for (const auto& turn : turns) {
    mnemo::NewMessage message;
    message.conversation_id = id;
    message.role = turn.role;
    message.content = turn.content;
    if (turn.tool_calls) message.tool_calls = turn.tool_calls;
    message.tokens_used = turn.tokens;
    auto appended = db.AppendMessage(user, message);
    if (!appended.ok()) return Fail(appended.status());
  }

  auto stored = db.GetConversation(user, id);
  if (!stored.ok()) return Fail(stored.status());
  std::printf("conversation %s \"%s\": %lld messages, %lld tokens, updated %s\n",
              id.ToString().c_str(), stored->title.c_str(),
              static_cast<long long>(stored->message_count),
              static_cast<long long>(stored->total_tokens),
              mnemo::FormatTimestamp(stored->updated_at).c_str());
  auto messages = db.LastMessages(user, id, 50);
  if (!messages.ok()) return Fail(messages.status());
  for (const auto& m : *messages) {
    std::printf("  [%s] %-9s %s%s\n", mnemo::FormatTimestamp(m.created_at).c_str(),
                std::string(mnemo::RoleName(m.role)).c_str(), m.content.c_str(),
                m.tool_calls ? "  (tool call)" : "");
  }
  if (messages->size() < std::size(turns)) {
    return Fail(mnemo::Status::Internal("read back fewer messages than written"));
  }

  auto stats = db.GetUserStats(user);
  if (!stats.ok()) return Fail(stats.status());
  std::printf("user %s: %lld conversations (%lld active, %lld deleted)\n", user.c_str(),
              static_cast<long long>(stats->total), static_cast<long long>(stats->active),
              static_cast<long long>(stats->deleted));
  return 0;
}

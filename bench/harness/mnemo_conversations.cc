// mnemod as a ConversationStore (see mnemo_conversations.h).
#include "mnemo_conversations.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "mnemo/client/client.h"
#include "wire_vector.h"

namespace mnemo::bench {
namespace {

using client::Client;
using client::Uuid;

constexpr size_t kPreloadThreads = 2;

std::unique_ptr<Client> Connect(uint16_t port, int pool_size, std::string* error) {
  client::ClientOptions options;
  options.port = port;
  options.pool_size = pool_size;
  options.client_name = "mnemo-bench";
  auto client = Client::Connect(options);
  if (!client.ok()) {
    *error = client.error().ToString();
    return nullptr;
  }
  return std::move(client).value();
}

// ~150 tokens of text (by mnemo's default estimate) for chunk `index`.
std::string ChunkText(size_t index) {
  std::string text = "chunk " + std::to_string(index) + ": ";
  while (text.size() < 600) text += MessageContent(index);
  text.resize(600);
  return text;
}

class MnemoSession final : public ConversationSession {
 public:
  MnemoSession(std::unique_ptr<Client> client, bool expect_chunks, bool expect_memories)
      : client_(std::move(client)),
        expect_chunks_(expect_chunks),
        expect_memories_(expect_memories) {}

  bool GetConversation(const std::string& user, const std::string& id) override {
    return Check(client_->GetConversation(user, *Uuid::Parse(id)));
  }
  bool ListRecent(const std::string& user) override {
    client::ConversationListOptions options;
    options.order = client::ConversationOrder::kUpdatedDesc;
    options.limit = static_cast<int64_t>(kRecentConversations);
    return Check(client_->ListConversations(user, options));
  }
  bool LastMessages(const std::string& user, const std::string& id) override {
    return Check(
        client_->LastMessages(user, *Uuid::Parse(id), static_cast<int64_t>(kLastMessages)));
  }
  bool AppendMessage(const std::string& user, const std::string& id, size_t index) override {
    client::NewMessage message;
    message.conversation_id = *Uuid::Parse(id);
    message.role = MessageRole(index);
    message.content = MessageContent(index);
    message.tokens_used = MessageTokens(index);
    return Check(client_->AppendMessage(user, message));
  }
  bool ChatTurn(const std::string& user, const std::string& id, size_t index,
                std::span<const float> query, bool append) override {
    const Uuid conversation = *Uuid::Parse(id);
    if (append) {
      client::NewMessage message;
      message.conversation_id = conversation;
      message.role = "user";
      message.content = MessageContent(index);
      message.tokens_used = MessageTokens(index);
      if (expect_memories_) message.embedding.assign(query.begin(), query.end());
      if (!Check(client_->AppendMessage(user, message))) return false;
    }
    client::ContextRequest request;
    request.conversation_id = conversation;
    request.token_budget = kTurnBudget;
    request.message_budget = kTurnMessageBudget;
    request.max_messages = kTurnMessages;
    request.k_chunks = kTurnChunks;
    request.k_memories = expect_memories_ ? kTurnMemories : 0;
    request.query_embedding.assign(query.begin(), query.end());
    auto context = client_->AssembleContext(user, request);
    if (!Check(context)) return false;
    // A turn without chunks, memories or messages measured less than a turn: count it as an
    // error.
    if (context->messages.empty() || (expect_chunks_ && context->chunks.empty()) ||
        (expect_memories_ && context->memories.empty())) {
      last_error_ = "a context came back without messages, chunks or memories";
      return false;
    }
    return true;
  }
  std::string last_error() const override { return last_error_; }

 private:
  template <typename T>
  bool Check(const client::Result<T>& result) {
    if (!result.ok()) last_error_ = result.error().ToString();
    return result.ok();
  }

  std::unique_ptr<Client> client_;
  const bool expect_chunks_;
  const bool expect_memories_;
  std::string last_error_;
};

class MnemoStore final : public ConversationStore {
 public:
  explicit MnemoStore(uint16_t port) : port_(port) {}
  std::string name() const override { return "mnemo"; }

  bool Preload(const ConversationShape& shape, const TimeBudget& budget,
               std::vector<std::vector<std::string>>* ids, std::string* error) override {
    auto client = Connect(port_, static_cast<int>(kPreloadThreads), error);
    if (client == nullptr) return false;
    ids->assign(shape.users, {});
    for (auto& user_ids : *ids) {
      for (size_t c = 0; c < shape.conversations_per_user; ++c)
        user_ids.push_back(Uuid::Generate().ToString());
    }
    const size_t total = shape.users * shape.conversations_per_user;
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_mutex;
    Progress progress("mnemo preload conversations", total);
    auto worker = [&] {
      for (size_t i = next.fetch_add(1); i < total && !failed; i = next.fetch_add(1)) {
        if (budget.Expired()) {
          std::lock_guard lock(error_mutex);
          *error = "time budget spent during the preload";
          failed = true;
          return;
        }
        const size_t user = i / shape.conversations_per_user;
        const std::string& id = (*ids)[user][i % shape.conversations_per_user];
        client::Batch batch;
        client::NewConversation conversation;
        conversation.id = *Uuid::Parse(id);
        conversation.title = "Conversation " + std::to_string(i % shape.conversations_per_user) +
                             " of user " + std::to_string(user);
        conversation.system_prompt = "You are a helpful assistant.";
        batch.CreateConversation(std::move(conversation));
        for (size_t m = 0; m < shape.messages_per_conversation; ++m) {
          client::NewMessage message;
          message.conversation_id = *Uuid::Parse(id);
          message.role = MessageRole(m);
          message.content = MessageContent(m);
          message.tokens_used = MessageTokens(m);
          if (shape.message_embedding_every > 0 && m % shape.message_embedding_every == 0 &&
              shape.embeddings != nullptr) {
            const Dataset& rows = *shape.embeddings;
            const std::span<const float> embedding = rows.Row((i * 7919 + m) % rows.size());
            message.embedding.assign(embedding.begin(), embedding.end());
          }
          batch.AppendMessage(std::move(message));
        }
        auto result = client->ApplyBatch(ConversationUser(user), batch);
        std::string failure = result.ok() ? "" : result.error().ToString();
        if (failure.empty() && i % shape.conversations_per_user == 0)
          failure = AddUserChunks(*client, shape, user);
        if (!failure.empty()) {
          std::lock_guard lock(error_mutex);
          *error = failure;
          failed = true;
          return;
        }
        progress.Advance();
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < kPreloadThreads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& thread : pool) thread.join();
    chunks_ = shape.chunks_per_user > 0 && shape.embeddings != nullptr;
    memories_ = shape.message_embedding_every > 0 && shape.embeddings != nullptr;
    // Turns are measured on linked graphs, not beside the indexer's catch-up after the preload.
    if (!failed && chunks_ && WaitUntilIndexed(*client, budget, 1800) < 0) {
      *error = "the chunks were not linked into their graphs within 30 minutes";
      return false;
    }
    return !failed;
  }

  // One document of `user` holding shape.chunks_per_user chunks; "" or the error.
  static std::string AddUserChunks(Client& client, const ConversationShape& shape, size_t user) {
    if (shape.chunks_per_user == 0 || shape.embeddings == nullptr) return "";
    const Dataset& rows = *shape.embeddings;
    client::NewDocument document;
    document.filename = "notes-" + std::to_string(user) + ".md";
    document.file_type = "md";
    document.content = "# notes";
    auto created = client.CreateDocument(ConversationUser(user), document);
    if (!created.ok()) return created.error().ToString();
    std::vector<client::NewChunk> chunks;
    for (size_t c = 0; c < shape.chunks_per_user; ++c) {
      const size_t row = (user * shape.chunks_per_user + c) % rows.size();
      client::NewChunk chunk;
      chunk.document_id = created->id;
      chunk.chunk_index = static_cast<int64_t>(c);
      chunk.chunk_text = ChunkText(row);
      const std::span<const float> embedding = rows.Row(row);
      chunk.embedding.assign(embedding.begin(), embedding.end());
      chunks.push_back(std::move(chunk));
    }
    auto added = client.AddChunks(ConversationUser(user), chunks);
    return added.ok() ? "" : added.error().ToString();
  }

  std::unique_ptr<ConversationSession> OpenSession(std::string* error) override {
    auto client = Connect(port_, 1, error);
    if (client == nullptr) return nullptr;
    return std::make_unique<MnemoSession>(std::move(client), chunks_, memories_);
  }

 private:
  uint16_t port_;
  bool chunks_ = false;    // the preload stored chunks: every turn must retrieve some
  bool memories_ = false;  // the preload stored message embeddings: likewise memories
};

}  // namespace

std::unique_ptr<ConversationStore> MakeMnemoConversationStore(uint16_t port) {
  return std::make_unique<MnemoStore>(port);
}

}  // namespace mnemo::bench

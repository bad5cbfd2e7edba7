// The conversation workload (SPEC §7): users x conversations x messages preloaded, then four
// operations measured one kind at a time on `threads` client threads, each thread picking
// uniformly random users and conversations (fixed seeds):
//
//   get_conversation   one conversation by id (scoped to its user)
//   list_recent        the user's 10 most recently updated conversations, with the total
//   last_messages      the last 50 messages of a conversation, oldest first
//   append_message     append a ~200-byte message; the conversation's updated_at (and, in mnemo,
//                      its counters) moves in the same durable write
//
// and, in the chat-turn phase, one kind that is a whole chat turn:
//
//   chat_turn          append the user's message, then gather what the model needs: in mnemo one
//                      AssembleContext call (the last kTurnMessages messages within
//                      kTurnMessageBudget tokens, the top kTurnChunks of the user's chunks and the
//                      top kTurnMemories of the user's past messages by vector, in a context of
//                      kTurnBudget tokens; the appended message carries the turn's embedding); in
//                      PostgreSQL the relational part only, as the seeds do it (insert, select the
//                      conversation, select the last messages), since Debian's PostgreSQL has no
//                      vector extension
//   turn_context       the same turn without its append: what gathering the context costs
//   append_message     the append alone, as in the conversation phase, on this phase's data
//
// The same driver runs against mnemod (over the wire) and PostgreSQL (libpq), through the
// ConversationStore interface, so both see identical operation sequences.
//
// Thread-safety: a ConversationStore is used from one thread; each ConversationSession from one
// client thread (a session is one connection for PostgreSQL).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dataset.h"
#include "progress.h"

namespace mnemo::bench {

struct ConversationShape {
  size_t users = 1000;
  size_t conversations_per_user = 20;
  size_t messages_per_conversation = 50;
  // Chunks per user, each with a row of `embeddings` (cycled) as its vector; 0 = none.  Stores
  // without vector search ignore them.
  size_t chunks_per_user = 0;
  // Every n-th message of a conversation (index % n == 0) carries a row of `embeddings` as its
  // vector; 0 = none.
  size_t message_embedding_every = 0;
  const Dataset* embeddings = nullptr;
};

inline constexpr size_t kRecentConversations = 10;
inline constexpr size_t kLastMessages = 50;
inline constexpr int64_t kTurnMessages = 20;
inline constexpr int64_t kTurnMessageBudget = 4000;  // the recent messages' share
inline constexpr int64_t kTurnBudget = 8000;         // the whole context's
inline constexpr int64_t kTurnChunks = 5;
inline constexpr int64_t kTurnMemories = 5;
// Half of the chat-turn phase's messages carry embeddings.
inline constexpr size_t kTurnMessageEmbeddingEvery = 2;

// The kinds of the conversation phase, and of the chat-turn phase.
const std::vector<std::string>& ConversationKinds();
const std::vector<std::string>& ChatTurnKinds();

// "cu<index>".
std::string ConversationUser(size_t user);
// The ~200-byte content of message `index` (deterministic).
std::string MessageContent(size_t index);
// "user" for even indexes, "assistant" for odd ones.
const char* MessageRole(size_t index);
// Tokens of message `index`, in [20, 400).
int64_t MessageTokens(size_t index);

class ConversationSession {
 public:
  virtual ~ConversationSession() = default;
  // Each returns false on any error (the driver counts errors, keeps the first message).
  virtual bool GetConversation(const std::string& user, const std::string& id) = 0;
  virtual bool ListRecent(const std::string& user) = 0;
  virtual bool LastMessages(const std::string& user, const std::string& id) = 0;
  virtual bool AppendMessage(const std::string& user, const std::string& id, size_t index) = 0;
  // Appends message `index` (unless `append` is false: the read half of a turn alone) and
  // gathers the turn's context; `query` is the turn's embedding.
  virtual bool ChatTurn(const std::string& user, const std::string& id, size_t index,
                        std::span<const float> query, bool append) = 0;
  virtual std::string last_error() const = 0;
};

class ConversationStore {
 public:
  virtual ~ConversationStore() = default;
  virtual std::string name() const = 0;
  // Loads the shape; (*ids)[u] = the conversation ids of user u.  False with *error on failure.
  virtual bool Preload(const ConversationShape& shape, const TimeBudget& budget,
                       std::vector<std::vector<std::string>>* ids, std::string* error) = 0;
  // A new session (connection); null with *error when it cannot be opened.
  virtual std::unique_ptr<ConversationSession> OpenSession(std::string* error) = 0;
};

// Runs `ops_per_kind` operations of each of `kinds` on `threads` threads, after an untimed pass
// of every kind and `settle` (when given: waits for the server's background work; returns the
// seconds waited, or < 0 when it did not settle).  Returns {preload_s, settle_s, ops: {kind:
// {ops, errors, first_error, ops_per_s, latency}}} or {error}.
nlohmann::json RunConversationWorkload(ConversationStore& store, const ConversationShape& shape,
                                       const std::vector<std::string>& kinds, size_t ops_per_kind,
                                       size_t threads, const TimeBudget& budget,
                                       const std::function<double()>& settle = {});

}  // namespace mnemo::bench

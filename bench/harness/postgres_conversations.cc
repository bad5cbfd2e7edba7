// PostgreSQL as a ConversationStore (see postgres_conversations.h).
//
// The schema is seed 000's (Task 1.1.1 / 1.1.2): the conversations and messages tables with
// their CHECK constraints and every index the seed creates.  The seed's tables carry no
// message_count / total_tokens columns, so an append moves updated_at only (mnemo also moves
// its counters: slightly more work on mnemo's side).
#include "postgres_conversations.h"

#include <libpq-fe.h>

#include <cstdlib>

#include "postgres_server.h"

namespace mnemo::bench {
namespace {

constexpr char kSchema[] = R"SQL(
CREATE TABLE conversations (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id VARCHAR(255) NOT NULL,
    title VARCHAR(255) NOT NULL,
    summary TEXT,
    model VARCHAR(100) NOT NULL DEFAULT 'claude-sonnet-4-5-20250929',
    system_prompt TEXT NOT NULL,
    metadata JSONB DEFAULT '{}',
    is_deleted BOOLEAN DEFAULT FALSE NOT NULL,
    deleted_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_conversations_user_id_not_empty CHECK (LENGTH(user_id) > 0),
    CONSTRAINT ck_conversations_title_not_empty CHECK (LENGTH(title) > 0),
    CONSTRAINT ck_conversations_model_not_empty CHECK (LENGTH(model) > 0)
);
CREATE INDEX idx_conversations_user_active ON conversations (user_id) WHERE is_deleted = false;
CREATE INDEX idx_conversations_user_created ON conversations (user_id, created_at DESC) WHERE is_deleted = false;
CREATE INDEX idx_conversations_title_search ON conversations (title) WHERE is_deleted = false;
CREATE INDEX idx_conversations_user_id ON conversations (user_id);
CREATE INDEX idx_conversations_is_deleted ON conversations (is_deleted);
CREATE INDEX idx_conversations_created_at ON conversations (created_at);
CREATE INDEX idx_conversations_updated_at ON conversations (updated_at);
CREATE TABLE messages (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id UUID NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role VARCHAR(20) NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content TEXT NOT NULL,
    tool_calls JSONB,
    tool_results JSONB,
    tokens_used INTEGER,
    metadata JSONB DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT ck_messages_content_not_empty CHECK (LENGTH(content) > 0),
    CONSTRAINT ck_messages_tokens_positive CHECK (tokens_used IS NULL OR tokens_used >= 0)
);
CREATE INDEX idx_messages_conversation ON messages (conversation_id, created_at ASC);
CREATE INDEX idx_messages_role ON messages (conversation_id, role) WHERE role IN ('assistant', 'user');
CREATE INDEX idx_messages_conversation_recent ON messages (conversation_id, created_at DESC) INCLUDE (role, content);
CREATE INDEX idx_messages_tokens ON messages (conversation_id) WHERE tokens_used IS NOT NULL;
CREATE INDEX idx_messages_created_at ON messages (created_at);
CREATE INDEX idx_messages_has_tool_calls ON messages (conversation_id) WHERE tool_calls IS NOT NULL;
CREATE INDEX idx_messages_tool_results ON messages (conversation_id) WHERE tool_results IS NOT NULL;
)SQL";

// Preload, server-side: $1 users, $2 conversations per user.
constexpr char kPreloadConversations[] = R"SQL(
INSERT INTO conversations (user_id, title, system_prompt, created_at, updated_at)
SELECT 'cu' || u, 'Conversation ' || c || ' of user ' || u, 'You are a helpful assistant.',
       now() - interval '1 day' + (u * $2::int + c) * interval '1 millisecond',
       now() - interval '1 day' + (u * $2::int + c) * interval '1 millisecond'
FROM generate_series(0, $1::int - 1) u, generate_series(0, $2::int - 1) c)SQL";

// $1 messages per conversation, $2 filler text.  Content, role and tokens follow
// MessageContent / MessageRole / MessageTokens.
constexpr char kPreloadMessages[] = R"SQL(
INSERT INTO messages (conversation_id, role, content, tokens_used, created_at)
SELECT c.id, CASE WHEN g % 2 = 0 THEN 'user' ELSE 'assistant' END,
       left('message ' || g || ': ' || $2 || $2, 200), 20 + (g * 37) % 380,
       c.created_at + g * interval '1 microsecond'
FROM conversations c, generate_series(0, $1::int - 1) g)SQL";

constexpr char kGet[] = R"SQL(
SELECT id, user_id, title, summary, model, system_prompt, metadata, is_deleted, deleted_at,
       created_at, updated_at
FROM conversations WHERE id = $1 AND user_id = $2 AND is_deleted = false)SQL";

constexpr char kListRecent[] = R"SQL(
SELECT id, user_id, title, summary, model, system_prompt, metadata, is_deleted, deleted_at,
       created_at, updated_at, count(*) OVER () AS total
FROM conversations WHERE user_id = $1 AND is_deleted = false
ORDER BY updated_at DESC LIMIT 10)SQL";

// The last $3 messages, oldest first.
constexpr char kLastMessagesSql[] = R"SQL(
SELECT * FROM (
  SELECT m.id, m.conversation_id, m.role, m.content, m.tool_calls, m.tool_results,
         m.tokens_used, m.metadata, m.created_at
  FROM messages m
  WHERE m.conversation_id = $1
    AND EXISTS (SELECT 1 FROM conversations c
                WHERE c.id = $1 AND c.user_id = $2 AND c.is_deleted = false)
  ORDER BY m.created_at DESC LIMIT $3::int) recent
ORDER BY created_at ASC)SQL";

// One statement, one transaction: the conversation must be the user's and live; its updated_at
// moves with the insert.
constexpr char kAppend[] = R"SQL(
WITH c AS (
  UPDATE conversations SET updated_at = now()
  WHERE id = $1 AND user_id = $2 AND is_deleted = false RETURNING id)
INSERT INTO messages (conversation_id, role, content, tokens_used, metadata)
SELECT c.id, $3, $4, $5::int, '{}' FROM c RETURNING id, created_at)SQL";

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;

struct PgResultCloser {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, PgResultCloser>;

PgConn Open(const std::string& conninfo, std::string* error) {
  PgConn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    *error = std::string("connect: ") + PQerrorMessage(conn.get());
    return nullptr;
  }
  return conn;
}

bool Exec(PGconn* conn, const char* sql, std::string* error) {
  PgResult result(PQexec(conn, sql));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return true;
  *error = PQerrorMessage(conn);
  return false;
}

bool ExecParams(PGconn* conn, const char* sql, const std::vector<std::string>& params,
                std::string* error) {
  std::vector<const char*> values;
  for (const std::string& param : params) values.push_back(param.c_str());
  PgResult result(PQexecParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return true;
  *error = PQerrorMessage(conn);
  return false;
}

class PgSession final : public ConversationSession {
 public:
  explicit PgSession(PgConn conn) : conn_(std::move(conn)) {}

  bool Prepare(std::string* error) {
    const std::pair<const char*, const char*> statements[] = {
        {"get", kGet}, {"list", kListRecent}, {"last", kLastMessagesSql}, {"append", kAppend}};
    for (const auto& [name, sql] : statements) {
      PgResult result(PQprepare(conn_.get(), name, sql, 0, nullptr));
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        *error = std::string("prepare ") + name + ": " + PQerrorMessage(conn_.get());
        return false;
      }
    }
    return true;
  }

  bool GetConversation(const std::string& user, const std::string& id) override {
    return Run("get", {id.c_str(), user.c_str()}, true);
  }
  bool ListRecent(const std::string& user) override { return Run("list", {user.c_str()}, true); }
  bool LastMessages(const std::string& user, const std::string& id) override {
    const std::string limit = std::to_string(kLastMessages);
    return Run("last", {id.c_str(), user.c_str(), limit.c_str()}, true);
  }
  bool AppendMessage(const std::string& user, const std::string& id, size_t index) override {
    const std::string content = MessageContent(index);
    const std::string tokens = std::to_string(MessageTokens(index));
    return Run("append",
               {id.c_str(), user.c_str(), MessageRole(index), content.c_str(), tokens.c_str()},
               true);
  }
  // The seeds' turn: three statements, three round trips.  No chunk retrieval: Debian's
  // PostgreSQL has no vector extension.
  bool ChatTurn(const std::string& user, const std::string& id, size_t index,
                std::span<const float>, bool append) override {
    const std::string content = MessageContent(index);
    const std::string tokens = std::to_string(MessageTokens(index));
    const std::string limit = std::to_string(kTurnMessages);
    if (append &&
        !Run("append", {id.c_str(), user.c_str(), "user", content.c_str(), tokens.c_str()}, true)) {
      return false;
    }
    return Run("get", {id.c_str(), user.c_str()}, true) &&
           Run("last", {id.c_str(), user.c_str(), limit.c_str()}, true);
  }
  std::string last_error() const override { return last_error_; }

 private:
  // Executes a prepared statement; with `need_row`, an empty answer is an error (NOT_FOUND).
  bool Run(const char* name, std::vector<const char*> params, bool need_row) {
    PgResult result(PQexecPrepared(conn_.get(), name, static_cast<int>(params.size()),
                                   params.data(), nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      last_error_ = PQerrorMessage(conn_.get());
      return false;
    }
    if (need_row && PQntuples(result.get()) == 0) {
      last_error_ = std::string(name) + ": no row";
      return false;
    }
    return true;
  }

  PgConn conn_;
  std::string last_error_;
};

class PgStore final : public ConversationStore {
 public:
  explicit PgStore(std::unique_ptr<PostgresServer> server) : server_(std::move(server)) {}
  std::string name() const override { return "postgres"; }

  bool Preload(const ConversationShape& shape, const TimeBudget&,
               std::vector<std::vector<std::string>>* ids, std::string* error) override {
    PgConn conn = Open(server_->conninfo(), error);
    if (conn == nullptr) return false;
    Progress progress("postgres preload", 4);
    if (!Exec(conn.get(), kSchema, error)) return false;
    progress.Advance();
    const std::string filler = MessageContent(0).substr(std::string("message 0: ").size());
    if (!ExecParams(conn.get(), kPreloadConversations,
                    {std::to_string(shape.users), std::to_string(shape.conversations_per_user)},
                    error)) {
      return false;
    }
    progress.Advance();
    if (!ExecParams(conn.get(), kPreloadMessages,
                    {std::to_string(shape.messages_per_conversation), filler}, error)) {
      return false;
    }
    progress.Advance();
    for (const char* sql :
         {"VACUUM ANALYZE conversations", "VACUUM ANALYZE messages", "CHECKPOINT"}) {
      if (!Exec(conn.get(), sql, error)) return false;
    }
    progress.Advance();
    PgResult result(
        PQexec(conn.get(), "SELECT substr(user_id, 3)::int, id::text FROM conversations"));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      *error = PQerrorMessage(conn.get());
      return false;
    }
    ids->assign(shape.users, {});
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      const size_t user = static_cast<size_t>(std::atoi(PQgetvalue(result.get(), row, 0)));
      if (user < ids->size()) (*ids)[user].push_back(PQgetvalue(result.get(), row, 1));
    }
    return true;
  }

  std::unique_ptr<ConversationSession> OpenSession(std::string* error) override {
    PgConn conn = Open(server_->conninfo(), error);
    if (conn == nullptr) return nullptr;
    auto session = std::make_unique<PgSession>(std::move(conn));
    if (!session->Prepare(error)) return nullptr;
    return session;
  }

  std::string Version() {
    std::string error;
    PgConn conn = Open(server_->conninfo(), &error);
    if (conn == nullptr) return "unknown";
    PgResult result(PQexec(conn.get(), "SHOW server_version"));
    return PQresultStatus(result.get()) == PGRES_TUPLES_OK ? PQgetvalue(result.get(), 0, 0)
                                                           : "unknown";
  }

 private:
  std::unique_ptr<PostgresServer> server_;
};

}  // namespace

std::unique_ptr<ConversationStore> StartPostgresConversationStore(std::string* version,
                                                                  std::string* error) {
  auto server = std::make_unique<PostgresServer>();
  if (!server->Start(error)) return nullptr;
  auto store = std::make_unique<PgStore>(std::move(server));
  *version = store->Version();
  return store;
}

}  // namespace mnemo::bench

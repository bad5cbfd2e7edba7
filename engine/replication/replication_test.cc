// The replication log end to end: a randomized workload on engine A with the log on, A's log
// applied to engine B, and every read compared on both.
#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <thread>

#include "mnemo/engine.h"
#include "replication/write_record.h"
#include "testing/engine_fixture.h"
#include "testing/temp_dir.h"
#include "testing/vectors.h"

namespace mnemo {
namespace {

using testing::Unwrap;

constexpr uint32_t kDim = 8;
const char* const kUsers[] = {"alice", "bob"};
const char* const kWords[] = {"apple", "river", "stone", "cloud", "ember", "maple", "quartz"};
const char* const kRoles[] = {"user", "assistant", "system", "tool"};

std::unique_ptr<Engine> OpenEngine(const std::string& dir, bool log = true) {
  EngineOptions options;
  options.data_dir = dir;
  options.dimension = kDim;
  options.replication_log = log;
  options.sync_writes = false;
  auto opened = Engine::Open(options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return std::move(opened).value();
}

// Drives random write calls; failures (a row deleted meanwhile, a taken chunk_index) are part of
// the workload: they log nothing.
class Workload {
 public:
  Workload(Engine& engine, uint32_t seed) : engine_(engine), rng_(seed) {}

  void Step() {
    const std::string user = kUsers[Pick(2)];
    switch (Pick(22)) {
      case 0:
      case 1: Remember(&conversations_, engine_.CreateConversation(user, NewConv(false))); break;
      case 2: Remember(&conversations_, engine_.UpsertConversation(user, NewConv(true))); break;
      case 3: {
        ConversationUpdate update;
        update.title = Text(2);
        if (Pick(2) == 0) update.metadata = "{\"tag\":\"" + Text(1) + "\"}";
        Ignore(engine_.UpdateConversation(user, Any(conversations_), update));
        break;
      }
      case 4: Ignore(engine_.SoftDeleteConversation(user, Any(conversations_))); break;
      case 5: Ignore(engine_.UndeleteConversation(user, Any(conversations_))); break;
      case 6:
        if (Pick(4) == 0) Ignore(engine_.HardDeleteConversation(user, Any(conversations_)));
        break;
      case 7:
      case 8:
      case 9: Remember(&messages_, engine_.AppendMessage(user, NewMsg(false))); break;
      case 10: Remember(&messages_, engine_.UpsertMessage(user, NewMsg(true))); break;
      case 11: {
        MessageUpdate update;
        if (Pick(2) == 0) update.content = Text(5);
        if (Pick(2) == 0) update.role = kRoles[Pick(4)];
        if (Pick(3) == 0) update.tokens_used = Pick(100);
        Ignore(engine_.UpdateMessage(user, Any(messages_), update));
        break;
      }
      case 12:
        Ignore(engine_.SetToolResults(user, Any(messages_),
                                      "[{\"ok\":" + std::to_string(Pick(9)) + "}]"));
        break;
      case 13:
        if (Pick(2) == 0) Ignore(engine_.DeleteMessage(user, Any(messages_)));
        if (Pick(12) == 0) Ignore(engine_.DeleteAllMessages(user, Any(conversations_)));
        break;
      case 14: Remember(&documents_, engine_.CreateDocument(user, NewDoc())); break;
      case 15: {
        DocumentUpdate update;
        update.filename = Text(1) + ".md";
        Ignore(engine_.UpdateDocument(user, Any(documents_), update));
        break;
      }
      case 16:
        if (Pick(2) == 0) {
          Ignore(engine_.SoftDeleteDocument(user, Any(documents_)));
        } else {
          Ignore(engine_.UndeleteDocument(user, Any(documents_)));
        }
        if (Pick(10) == 0) Ignore(engine_.HardDeleteDocument(user, Any(documents_)));
        break;
      case 17:
      case 18: {
        const Uuid document = Any(documents_);
        std::vector<NewChunk> chunks;
        for (size_t i = 0, n = 1 + Pick(4); i < n; ++i) chunks.push_back(NewChunkOf(document));
        RememberAll(&chunks_, engine_.AddChunks(user, chunks));
        break;
      }
      case 19: {
        const Uuid document = Any(documents_);
        std::vector<NewChunk> chunks;
        for (size_t i = 0, n = Pick(3); i < n; ++i) chunks.push_back(NewChunkOf(document));
        RememberAll(&chunks_, engine_.ReplaceChunks(user, document, chunks));
        break;
      }
      case 20: {
        const Uuid chunk = Any(chunks_);
        switch (Pick(3)) {
          case 0: Ignore(engine_.SoftDeleteChunk(user, chunk)); break;
          case 1: Ignore(engine_.RestoreChunk(user, chunk)); break;
          default: Ignore(engine_.DeleteChunk(user, chunk));
        }
        break;
      }
      default: {
        std::vector<WriteOp> ops;
        ops.emplace_back(CreateConversationOp{NewConv(false)});
        ops.emplace_back(AppendMessageOp{NewMsg(false)});
        ops.emplace_back(UpsertMessageOp{NewMsg(true)});
        ops.emplace_back(CreateDocumentOp{NewDoc()});
        ops.emplace_back(AddChunkOp{NewChunkOf(Any(documents_))});
        ops.emplace_back(AddChunkOp{NewChunkOf(Any(documents_))});
        const auto result = engine_.ApplyBatch(user, ops);
        if (result.ok()) {
          conversations_.push_back(result->ids[0]);
          messages_.push_back(result->ids[1]);
          messages_.push_back(result->ids[2]);
          documents_.push_back(result->ids[3]);
          chunks_.push_back(result->ids[4]);
          chunks_.push_back(result->ids[5]);
        }
      }
    }
  }

  std::vector<Uuid> conversations_, messages_, documents_, chunks_;

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  Uuid Any(const std::vector<Uuid>& ids) {
    if (ids.empty() || Pick(20) == 0) return Uuid::Generate();
    return ids[Pick(ids.size())];
  }
  std::string Text(size_t words) {
    std::string text;
    for (size_t i = 0; i < words; ++i) {
      if (i > 0) text += ' ';
      text += kWords[Pick(std::size(kWords))];
    }
    return text;
  }
  std::vector<float> Vector() { return testing::RandomUnitVector(kDim, rng_); }

  NewConversation NewConv(bool with_id) {
    NewConversation c;
    if (with_id) c.id = Pick(2) == 0 ? Any(conversations_) : Uuid::Generate();
    c.title = Text(3);
    if (Pick(2) == 0) c.metadata = "{\"tag\":\"" + Text(1) + "\"}";
    return c;
  }
  NewMessage NewMsg(bool with_id) {
    NewMessage m;
    if (with_id) m.id = Pick(2) == 0 ? Any(messages_) : Uuid::Generate();
    m.conversation_id = Any(conversations_);
    m.role = kRoles[Pick(4)];
    m.content = Text(6);
    if (Pick(2) == 0) m.tokens_used = Pick(50);
    if (Pick(2) == 0) m.embedding = Vector();
    return m;
  }
  NewDocument NewDoc() {
    NewDocument d;
    d.filename = Text(1) + ".txt";
    d.file_type = "txt";
    d.content = Text(10);
    return d;
  }
  NewChunk NewChunkOf(const Uuid& document) {
    NewChunk c;
    c.document_id = document;
    c.chunk_index = static_cast<int64_t>(Pick(40));
    c.chunk_text = Text(8);
    c.embedding = Vector();
    if (Pick(2) == 0) c.metadata = "{\"part\":\"" + Text(1) + "\"}";
    return c;
  }

  template <typename T>
  void Remember(std::vector<Uuid>* ids, const Result<T>& result) {
    if (result.ok()) ids->push_back(result->id);
  }
  void RememberAll(std::vector<Uuid>* ids, const Result<std::vector<Chunk>>& result) {
    if (!result.ok()) return;
    for (const Chunk& chunk : *result) ids->push_back(chunk.id);
  }
  template <typename T>
  static void Ignore(const T&) {}

  Engine& engine_;
  std::mt19937 rng_;
};

std::string Opt(const std::optional<std::string>& value) { return value ? *value : "<none>"; }
template <typename T>
std::string Opt(const std::optional<T>& value) {
  return value ? std::to_string(*value) : "<none>";
}

void Dump(std::ostream& out, const Conversation& c) {
  out << "conversation " << c.id.ToString() << " " << c.user_id << " " << c.title << " "
      << Opt(c.summary) << " " << c.model << " " << c.metadata << " del=" << c.is_deleted << " "
      << Opt(c.deleted_at) << " " << c.created_at << " " << c.updated_at << " n=" << c.message_count
      << " tokens=" << c.total_tokens << " last=" << Opt(c.last_message_at) << "\n";
}

void Dump(std::ostream& out, const Message& m) {
  out << "  message " << m.id.ToString() << " " << m.conversation_id.ToString() << " "
      << RoleName(m.role) << " " << m.content << " " << Opt(m.tool_calls) << " "
      << Opt(m.tool_results) << " " << Opt(m.tokens_used) << " " << m.metadata << " "
      << m.created_at << " emb=" << m.has_embedding << "\n";
}

void Dump(std::ostream& out, const Document& d) {
  out << "document " << d.id.ToString() << " " << d.user_id << " " << d.filename << " "
      << d.file_type << " chunks=" << d.total_chunks << " " << d.metadata << " del=" << d.is_deleted
      << " " << Opt(d.deleted_at) << " " << d.created_at << " " << d.updated_at << "\n";
}

void Dump(std::ostream& out, const Chunk& c) {
  out << "  chunk " << c.id.ToString() << " " << c.chunk_index << " " << c.chunk_text << " "
      << c.metadata << " " << c.created_at << " del=" << c.is_deleted << " " << Opt(c.deleted_at)
      << "\n";
}

// What a node scores with its own graph (rows are linked in another order, and a distance is
// summed in another batch of the kernel) may differ in the last bits of the float: reads
// list scores apart, to be compared with a tolerance.
struct Reads {
  std::string text;
  std::vector<double> scores;
};

void Dump(std::ostream& out, std::vector<double>& scores, const SearchHit& hit) {
  out << "  hit " << hit.chunk_id.ToString() << " " << hit.chunk_index << " " << hit.filename << " "
      << hit.created_at << "\n";
  scores.push_back(hit.similarity);
}

template <typename T>
T Must(Result<T> result, std::ostream& out) {
  if (!result.ok()) {
    out << "error " << result.status().ToString() << "\n";
    return T();
  }
  return std::move(result).value();
}

// Every read of the API over what `workload` wrote, as text: equal text, equal answers.
Reads ReadEverything(Engine& engine, const Workload& workload) {
  engine.WaitForIndexing();
  std::ostringstream out;
  std::vector<double> scores;
  std::mt19937 rng(7);  // the same queries on both engines
  for (const char* user : kUsers) {
    out << "== " << user << "\n";
    for (auto order : {ConversationOrder::kCreatedDesc, ConversationOrder::kUpdatedDesc}) {
      ConversationListOptions list;
      list.order = order;
      list.include_deleted = true;
      list.limit = kMaxConversationPageSize;
      const ConversationPage page = Must(engine.ListConversations(user, list), out);
      out << "conversations total=" << page.total << "\n";
      for (const Conversation& c : page.items) Dump(out, c);
    }
    const UserStats stats = Must(engine.GetUserStats(user), out);
    out << "stats " << stats.total << " " << stats.active << " " << stats.deleted << " "
        << Opt(stats.last_activity) << "\n";
    out << "count " << Must(engine.CountConversations(user, {}), out) << "\n";
    ConversationListOptions by_title;
    by_title.limit = kMaxConversationPageSize;
    for (const Conversation& c :
         Must(engine.SearchConversationsByTitle(user, "river", by_title), out).items) {
      out << "title-hit " << c.id.ToString() << "\n";
    }
    for (const Uuid& id : workload.conversations_) {
      auto conversation = engine.GetConversation(user, id, true);
      if (!conversation.ok()) continue;
      Dump(out, *conversation);
      MessageQuery query;
      query.limit = kMaxMessagePageSize;
      const MessagePage page = Must(engine.ListMessages(user, id, query), out);
      out << " messages total=" << page.total << "\n";
      for (const Message& m : page.items) Dump(out, m);
      for (const Message& m : Must(engine.LastMessages(user, id, 3), out)) Dump(out, m);
      out << " count " << Must(engine.CountMessages(user, id, query), out) << "\n";
      const TokenStats tokens = Must(engine.GetTokenStats(user, id), out);
      out << " tokens " << tokens.message_count << " " << tokens.messages_with_tokens << " "
          << tokens.total_tokens << "\n";
      const auto last = Must(engine.LastMessageByRole(user, id, Role::kAssistant), out);
      if (last) Dump(out, *last);
    }
    for (const Uuid& id : workload.messages_) {
      auto message = engine.GetMessage(user, id);
      if (message.ok()) Dump(out, *message);
    }
    DocumentListOptions documents;
    documents.include_deleted = true;
    documents.limit = kMaxDocumentPageSize;
    const DocumentPage page = Must(engine.ListDocuments(user, documents), out);
    out << "documents total=" << page.total << "\n";
    const DocumentCounts counts = Must(engine.CountDocuments(user), out);
    out << "document counts " << counts.total << " " << counts.active << " " << counts.deleted
        << "\n";
    for (const Document& d : page.items) {
      Dump(out, d);
      ChunkListOptions chunks;
      chunks.include_deleted = true;
      chunks.limit = 1000;
      for (const Chunk& c : Must(engine.ListChunks(user, d.id, chunks), out).items) Dump(out, c);
    }
    for (const Uuid& id : workload.chunks_) {
      auto chunk = engine.GetChunk(user, id, true);
      if (chunk.ok()) Dump(out, *chunk);
    }
    for (int q = 0; q < 3; ++q) {
      SearchRequest search;
      search.query = testing::RandomUnitVector(kDim, rng);
      search.top_k = 10;
      const SearchResponse response = Must(engine.Search(user, search), out);
      out << "search exact=" << response.exact << "\n";
      for (const SearchHit& hit : response.hits) Dump(out, scores, hit);
      MessageSearchRequest memories;
      memories.query = testing::RandomUnitVector(kDim, rng);
      memories.query_text = kWords[q];
      memories.top_k = 10;
      for (const MessageHit& hit : Must(engine.SearchMessages(user, memories), out).hits) {
        out << "  memory " << hit.message.id.ToString() << " " << hit.text_rank << " "
            << hit.vector_rank << "\n";
        scores.push_back(hit.similarity);
        scores.push_back(hit.score);
      }
      TextSearchRequest text;
      text.query = std::string(kWords[q]) + " " + kWords[q + 3];
      text.top_k = 10;
      for (const RankedHit& hit : Must(engine.SearchText(user, text), out).hits) {
        out << "  text " << hit.hit.chunk_id.ToString() << " " << hit.score << "\n";
      }
    }
  }
  return Reads{out.str(), std::move(scores)};
}

// Applies `from`'s log records [first, last] to `to`.
void Ship(Engine& from, Engine& to, uint64_t first = 1) {
  for (;;) {
    const std::vector<LogRecord> records = Unwrap(from.ReadLog(first, 64));
    if (records.empty()) return;
    for (const LogRecord& record : records) {
      ASSERT_EQ(record.seq, first);
      const Status applied = to.ApplyLogged(record);
      ASSERT_TRUE(applied.ok()) << "record " << record.seq << ": " << applied.ToString();
      ++first;
    }
  }
}

// Compares line by line, so a failure shows the first reads that differ.
void ExpectSameReads(const Reads& a, const Reads& b) {
  ASSERT_EQ(a.scores.size(), b.scores.size());
  for (size_t i = 0; i < a.scores.size(); ++i) {
    EXPECT_NEAR(a.scores[i], b.scores[i], 1e-5) << "score " << i;
  }
  std::istringstream in_a(a.text), in_b(b.text);
  std::string line_a, line_b;
  int line = 0;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(in_a, line_a));
    const bool more_b = static_cast<bool>(std::getline(in_b, line_b));
    ++line;
    if (!more_a && !more_b) return;
    ASSERT_EQ(line_a, line_b) << "first difference at line " << line;
  }
}

TEST(ReplicationTest, ReplayedLogGivesTheSameAnswers) {
  testing::TempDir dir;
  auto a = OpenEngine(dir.Sub("a"));
  Workload workload(*a, 20261203);
  for (int i = 0; i < 1500; ++i) workload.Step();
  const uint64_t written = a->LastLogSeq();
  ASSERT_GT(written, 400u);  // each call that changed something logged one record

  auto b = OpenEngine(dir.Sub("b"));
  Ship(*a, *b);
  EXPECT_EQ(b->LastLogSeq(), written);
  const Reads on_a = ReadEverything(*a, workload);
  ExpectSameReads(on_a, ReadEverything(*b, workload));
  // The same records in both logs.
  EXPECT_EQ(Unwrap(a->ReadLog(1, written))[written / 2].record,
            Unwrap(b->ReadLog(1, written))[written / 2].record);

  // Applied writes are durable like any other, and the log position with them.
  ASSERT_TRUE(b->Close().ok());
  b.reset();
  b = OpenEngine(dir.Sub("b"));
  EXPECT_EQ(b->LastLogSeq(), written);
  ExpectSameReads(on_a, ReadEverything(*b, workload));

  // Following resumes where it stopped.
  for (int i = 0; i < 100; ++i) workload.Step();
  Ship(*a, *b, written + 1);
  ExpectSameReads(ReadEverything(*a, workload), ReadEverything(*b, workload));
}

TEST(ReplicationTest, ConcurrentWritersLogInCommitOrder) {
  // Writers of the same user serialize on its lock, of different users run in parallel: applied
  // one by one in sequence order, the records rebuild the same state.
  testing::TempDir dir;
  auto a = OpenEngine(dir.Sub("a"));
  std::vector<std::unique_ptr<Workload>> workloads;
  std::vector<std::thread> writers;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    workloads.push_back(std::make_unique<Workload>(*a, seed));
    writers.emplace_back([&w = *workloads.back()] {
      for (int i = 0; i < 300; ++i) w.Step();
    });
  }
  for (auto& writer : writers) writer.join();
  Workload all(*a, 0);
  for (const auto& w : workloads) {
    const auto add = [](std::vector<Uuid>* to, const std::vector<Uuid>& from) {
      to->insert(to->end(), from.begin(), from.end());
    };
    add(&all.conversations_, w->conversations_);
    add(&all.messages_, w->messages_);
    add(&all.documents_, w->documents_);
    add(&all.chunks_, w->chunks_);
  }
  auto b = OpenEngine(dir.Sub("b"));
  Ship(*a, *b);
  EXPECT_EQ(b->LastLogSeq(), a->LastLogSeq());
  ExpectSameReads(ReadEverything(*a, all), ReadEverything(*b, all));
}

TEST(ReplicationTest, LogOffWritesNoRecords) {
  testing::TempDir dir;
  auto engine = OpenEngine(dir.Sub("a"), /*log=*/false);
  Workload workload(*engine, 1);
  for (int i = 0; i < 20; ++i) workload.Step();
  EXPECT_EQ(engine->LastLogSeq(), 0u);
  EXPECT_STATUS(engine->ReadLog(1, 10), StatusCode::kUnavailable, "");
  EXPECT_STATUS(engine->ApplyLogged(LogRecord{1, "x"}), StatusCode::kUnavailable, "");
}

TEST(ReplicationTest, TrimmingKeepsTheLastRecordAndItsEpoch) {
  testing::TempDir dir;
  auto engine = OpenEngine(dir.Sub("a"));
  ASSERT_TRUE(engine->SetLogEpoch(3).ok());
  Workload workload(*engine, 1);
  for (int i = 0; i < 1000 && engine->LastLogSeq() < 10; ++i) workload.Step();
  const uint64_t last = engine->LastLogSeq();
  ASSERT_GE(last, 10u);
  auto trimmed = engine->TrimLog(6);
  ASSERT_TRUE(trimmed.ok()) << trimmed.status().ToString();
  EXPECT_EQ(*trimmed, 6u);
  auto records = engine->ReadLog(1, 100);
  ASSERT_TRUE(records.ok());
  ASSERT_FALSE(records->empty());
  EXPECT_EQ(records->front().seq, 6u);
  EXPECT_EQ(records->back().seq, last);
  // Asked to trim everything, the log keeps its last record: after a reopen the position and
  // the epoch are still known.
  ASSERT_TRUE(engine->TrimLog(last + 100).ok());
  records = engine->ReadLog(1, 100);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 1u);
  EXPECT_EQ(records->front().seq, last);
  ASSERT_TRUE(engine->Close().ok());
  engine.reset();
  engine = OpenEngine(dir.Sub("a"));
  EXPECT_EQ(engine->LastLogSeq(), last);
  EXPECT_STATUS(engine->SetLogEpoch(2), StatusCode::kValidationError, "epoch");
}

TEST(ReplicationTest, FailedAndNoOpCallsLogNothing) {
  testing::TempDir dir;
  auto engine = OpenEngine(dir.Sub("a"));
  NewConversation input;
  input.id = Uuid::Generate();
  input.title = "t";
  ASSERT_TRUE(engine->CreateConversation("u", input).ok());
  EXPECT_EQ(engine->LastLogSeq(), 1u);
  ASSERT_TRUE(engine->CreateConversation("u", input).ok());  // idempotent: nothing staged
  EXPECT_FALSE(engine->SoftDeleteConversation("u", Uuid::Generate()).ok());
  EXPECT_EQ(engine->LastLogSeq(), 1u);
}

TEST(ReplicationTest, ReplicaRefusesGapsOlderEpochsAndBadRecords) {
  testing::TempDir dir;
  auto a = OpenEngine(dir.Sub("a"));
  auto b = OpenEngine(dir.Sub("b"));
  ASSERT_TRUE(a->SetLogEpoch(2).ok());
  NewConversation input;
  input.title = "t";
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a->CreateConversation("u", input).ok());
  const std::vector<LogRecord> records = Unwrap(a->ReadLog(1, 10));
  ASSERT_EQ(records.size(), 3u);

  EXPECT_STATUS(b->ApplyLogged(records[1]), StatusCode::kValidationError, "seq");
  ASSERT_TRUE(b->ApplyLogged(records[0]).ok());
  EXPECT_STATUS(b->ApplyLogged(records[0]), StatusCode::kValidationError, "seq");
  EXPECT_STATUS(b->ApplyLogged(records[2]), StatusCode::kValidationError, "seq");

  LogRecord unknown = records[1];
  unknown.record[1] = static_cast<char>(replication::kMaxKind + 1);
  EXPECT_STATUS(b->ApplyLogged(unknown), StatusCode::kValidationError, "record");
  LogRecord truncated = records[1];
  truncated.record.pop_back();
  EXPECT_STATUS(b->ApplyLogged(truncated), StatusCode::kValidationError, "record");

  // A record of epoch 1 after one of epoch 2: a deposed primary's.
  std::string stale;
  replication::PutHeader(&stale, {replication::Kind::kCreateConversation, 1, 5, "u"});
  replication::PutConversation(&stale, input);
  EXPECT_STATUS(b->ApplyLogged(LogRecord{2, stale}), StatusCode::kValidationError, "epoch");
  EXPECT_STATUS(b->SetLogEpoch(1), StatusCode::kValidationError, "epoch");
  EXPECT_EQ(b->LastLogSeq(), 1u);

  ASSERT_TRUE(b->ApplyLogged(records[1]).ok());
  // The highest epoch survives a reopen (read from the log's last record).
  b.reset();
  b = OpenEngine(dir.Sub("b"));
  EXPECT_STATUS(b->ApplyLogged(LogRecord{3, stale}), StatusCode::kValidationError, "epoch");
  ASSERT_TRUE(b->ApplyLogged(records[2]).ok());
  EXPECT_EQ(Unwrap(b->ListConversations("u", {})).total, 3);
}

}  // namespace
}  // namespace mnemo

// Durability through the client: several threads write (atomic batches, appends, chunk batches)
// while mnemod is SIGKILLed at a random moment; after a restart on the same data directory every
// acknowledged write is there, and no unacknowledged write is half-applied.  The same Client
// object is used across the restart, so this also checks its transparent reconnect.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

using namespace std::chrono_literals;

// One write a writer attempted, and whether the server acknowledged it.
struct TxRecord {  // ApplyBatch: a conversation and its first messages
  Uuid conversation;
  std::vector<Uuid> messages;
  bool acked = false;
};
struct AppendRecord {
  Uuid conversation;
  Uuid message;
  bool acked = false;
};
struct ChunkRecord {  // AddChunks: one batch
  std::vector<Uuid> ids;
  std::vector<std::vector<float>> vectors;
  bool acked = false;
};

struct Ledger {
  std::string user;
  Uuid document;
  std::vector<TxRecord> batches;
  std::vector<AppendRecord> appends;
  std::vector<ChunkRecord> chunks;
  std::string unexpected;  // a failure other than UNAVAILABLE
};

constexpr int kWriters = 4;
constexpr int kMessagesPerBatch = 3;
constexpr int kChunksPerBatch = 8;
constexpr int kMaxIterations = 400;  // per writer: bounds the verification work
constexpr int64_t kMaxTopK = 1000;

// Writes until the server goes away (the first UNAVAILABLE) or `stop`.
void Write(Client& client, Ledger& ledger, std::atomic<int>& acked, const std::atomic<bool>& stop,
           uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t chunk_index = 0;
  auto failed = [&](const Error& error) {
    if (error.code != Code::kUnavailable && ledger.unexpected.empty()) {
      ledger.unexpected = error.ToString();
    }
    return true;
  };
  for (int iteration = 0; iteration < kMaxIterations && !stop.load(); ++iteration) {
    // An atomic batch: a conversation and its first messages.
    TxRecord tx;
    tx.conversation = Uuid::Generate();
    Batch batch;
    NewConversation conversation;
    conversation.id = tx.conversation;
    conversation.title = "durable";
    batch.CreateConversation(conversation);
    for (int i = 0; i < kMessagesPerBatch; ++i) {
      NewMessage message;
      message.id = Uuid::Generate();
      message.conversation_id = tx.conversation;
      message.content = "batched " + std::to_string(i);
      message.tokens_used = 1;
      tx.messages.push_back(*message.id);
      batch.AppendMessage(message);
    }
    auto applied = client.ApplyBatch(ledger.user, batch);
    tx.acked = applied.ok();
    ledger.batches.push_back(tx);
    if (!applied.ok() && failed(applied.error())) return;
    ++acked;

    // Single appends to that conversation.
    for (int i = 0; i < 2; ++i) {
      NewMessage message;
      message.id = Uuid::Generate();
      message.conversation_id = tx.conversation;
      message.role = "assistant";
      message.content = "appended " + std::to_string(i);
      auto appended = client.AppendMessage(ledger.user, message);
      ledger.appends.push_back({tx.conversation, *message.id, appended.ok()});
      if (!appended.ok() && failed(appended.error())) return;
      ++acked;
    }

    // A batch of chunks.
    ChunkRecord record;
    std::vector<NewChunk> chunks(kChunksPerBatch);
    for (auto& chunk : chunks) {
      chunk.id = Uuid::Generate();
      chunk.document_id = ledger.document;
      chunk.chunk_index = chunk_index++;
      chunk.chunk_text = "chunk " + std::to_string(chunk.chunk_index);
      chunk.embedding = RandomVector(rng);
      record.ids.push_back(*chunk.id);
      record.vectors.push_back(chunk.embedding);
    }
    auto added = client.AddChunks(ledger.user, chunks);
    record.acked = added.ok();
    ledger.chunks.push_back(std::move(record));
    if (!added.ok() && failed(added.error())) return;
    ++acked;
  }
}

// Whether `id` is stored, found by searching its own vector within its document.
bool ChunkPresent(Client& client, const std::string& user, const Uuid& document, const Uuid& id,
                  const std::vector<float>& vector, std::string* error) {
  SearchRequest request;
  request.query = vector;
  request.top_k = 1;
  // The widest beam: the walk then reaches every row, so a miss means the row is gone, not that
  // an approximate search passed it by.
  request.ef = kMaxEf;
  request.filters.document_ids = {document};
  auto found = client.Search(user, request);
  if (!found.ok()) {
    *error = found.error().ToString();
    return false;
  }
  return !found->hits.empty() && found->hits[0].chunk_id == id &&
         found->hits[0].similarity > 0.999f;
}

TEST(ClientDurabilityTest, AcknowledgedWritesSurviveKill9) {
  TempDir dir;
  MnemodProcess server(dir.path());
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;
  const uint16_t port = server.port();
  auto options = LocalOptions(port);
  options.pool_size = 4;
  options.request_timeout = 10s;
  MNEMO_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client, Client::Connect(options));

  std::random_device seed_source;
  const uint64_t seed = (static_cast<uint64_t>(seed_source()) << 32) | seed_source();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));

  std::vector<Ledger> ledgers(kWriters);
  for (int t = 0; t < kWriters; ++t) {
    ledgers[t].user = "durable-" + std::to_string(t);
    NewDocument document;
    document.filename = "doc.txt";
    document.file_type = "txt";
    MNEMO_ASSERT_OK_AND_ASSIGN(const Document doc,
                               client->CreateDocument(ledgers[t].user, document));
    ledgers[t].document = doc.id;
  }

  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] { Write(*client, ledgers[t], acked, stop, seed + t); });
  }
  // Let some writes land, then kill at a random moment within ~1.5 s.
  const auto warmup_deadline = std::chrono::steady_clock::now() + 10s;
  while (acked.load() < 20 && std::chrono::steady_clock::now() < warmup_deadline) {
    std::this_thread::sleep_for(5ms);
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 1500)(rng)));
  server.Kill();
  const int acked_at_kill = acked.load();
  stop = true;
  for (auto& writer : writers) writer.join();
  ASSERT_GE(acked_at_kill, 20) << "the writers made too little progress before the kill";
  for (const auto& ledger : ledgers) EXPECT_EQ(ledger.unexpected, "") << ledger.user;

  // While the server is down, calls fail with UNAVAILABLE.
  EXPECT_EQ(client->GetUserStats(ledgers[0].user).code(), Code::kUnavailable);

  // Restart on the same data directory and port; the same client reconnects by itself.  (Should
  // another process have taken the port meanwhile, restart on a new one with a new client.)
  if (!server.Start(port, &error)) {
    std::printf("[ durability ] could not restart on port %u (%s); using a new port and client\n",
                port, error.c_str());
    ASSERT_TRUE(server.Start(0, &error)) << error;
    MNEMO_ASSERT_OK_AND_ASSIGN(client, Client::Connect(LocalOptions(server.port())));
  }

  int acked_batches = 0, acked_appends = 0, acked_chunk_batches = 0, unacked_seen = 0;
  for (const Ledger& ledger : ledgers) {
    SCOPED_TRACE(ledger.user);
    // Atomic batches: acknowledged ones complete, the others all-or-nothing.
    for (const TxRecord& tx : ledger.batches) {
      int present = client->GetConversation(ledger.user, tx.conversation).ok() ? 1 : 0;
      for (const Uuid& message : tx.messages) {
        auto got = client->GetMessage(ledger.user, message);
        ASSERT_TRUE(got.ok() || got.code() == Code::kNotFound) << got.error().ToString();
        present += got.ok() ? 1 : 0;
      }
      if (tx.acked) {
        ++acked_batches;
        EXPECT_EQ(present, 1 + kMessagesPerBatch) << "acknowledged batch lost rows";
      } else {
        ++unacked_seen;
        EXPECT_TRUE(present == 0 || present == 1 + kMessagesPerBatch)
            << "unacknowledged batch half-applied: " << present << " rows";
      }
    }
    // Appends: acknowledged ones are present.
    for (const AppendRecord& append : ledger.appends) {
      auto got = client->GetMessage(ledger.user, append.message);
      if (append.acked) {
        ++acked_appends;
        EXPECT_TRUE(got.ok()) << "acknowledged append lost: " << got.error().ToString();
      }
    }
    // Counters agree with the rows, for every conversation that exists.
    for (const TxRecord& tx : ledger.batches) {
      auto conversation = client->GetConversation(ledger.user, tx.conversation);
      if (!conversation.ok()) continue;
      MNEMO_ASSERT_OK_AND_ASSIGN(const MessagePage page,
                                 client->ListMessages(ledger.user, tx.conversation));
      EXPECT_EQ(conversation->message_count, page.total);
    }
    // Chunks: acknowledged batches are searchable, the others all-or-nothing; no phantom rows.
    std::set<Uuid> expected_present;
    for (const ChunkRecord& record : ledger.chunks) {
      int present = 0;
      for (size_t i = 0; i < record.ids.size(); ++i) {
        std::string search_error;
        const bool found = ChunkPresent(*client, ledger.user, ledger.document, record.ids[i],
                                        record.vectors[i], &search_error);
        ASSERT_TRUE(search_error.empty()) << search_error;
        if (found) {
          ++present;
          expected_present.insert(record.ids[i]);
        }
      }
      if (record.acked) {
        ++acked_chunk_batches;
        EXPECT_EQ(present, kChunksPerBatch) << "acknowledged chunks lost";
      } else {
        ++unacked_seen;
        EXPECT_TRUE(present == 0 || present == kChunksPerBatch)
            << "unacknowledged chunk batch half-applied: " << present << " chunks";
      }
    }
    MNEMO_ASSERT_OK_AND_ASSIGN(const Document document,
                               client->GetDocument(ledger.user, ledger.document));
    EXPECT_EQ(document.total_chunks, static_cast<int64_t>(expected_present.size()));
    if (!ledger.chunks.empty()) {
      // One search over the user's whole corpus (up to the top_k limit) sees only stored chunks.
      SearchRequest everything;
      everything.query = ledger.chunks[0].vectors[0];
      everything.top_k = kMaxTopK;
      MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse all, client->Search(ledger.user, everything));
      std::set<Uuid> found;
      for (const auto& hit : all.hits) found.insert(hit.chunk_id);
      if (expected_present.size() <= static_cast<size_t>(kMaxTopK)) {
        EXPECT_EQ(found, expected_present) << "search does not see exactly the stored chunks";
      } else {
        EXPECT_EQ(found.size(), static_cast<size_t>(kMaxTopK));
        for (const Uuid& id : found)
          EXPECT_TRUE(expected_present.count(id)) << "phantom chunk " << id.ToString();
      }
    }
  }
  EXPECT_GT(acked_batches, 0);
  EXPECT_GT(acked_chunk_batches, 0);
  std::printf(
      "[ durability ] seed %llu: killed after %d acknowledged writes (%d batches, %d appends, "
      "%d chunk batches acknowledged; %d unacknowledged writes checked)\n",
      static_cast<unsigned long long>(seed), acked_at_kill, acked_batches, acked_appends,
      acked_chunk_batches, unacked_seen);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace mnemo::client::testing

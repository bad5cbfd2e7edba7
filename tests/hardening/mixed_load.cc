// LoadWriter half of op_log.h: one user's sequential mixed write load, logged op by op.
#include <chrono>
#include <unordered_map>

#include "op_log.h"

namespace mnemo::hardening {
namespace {

using client::Code;
using client::Error;

std::vector<float> RandomVector(std::mt19937_64& rng, uint32_t dimension) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(dimension);
  for (float& x : v) x = normal(rng);
  return v;
}

class Writer {
 public:
  Writer(Client& client, WriterLog& log, const LoadOptions& options, std::atomic<uint64_t>& clock,
         std::atomic<int>& acked, uint64_t seed)
      : client_(client), log_(log), options_(options), clock_(clock), acked_(acked), rng_(seed) {}

  // One round of every op kind; false when the writer must stop.
  bool Iterate(int iteration) {
    const int conversation = BatchConversation();
    if (conversation < 0) return false;
    if (log_.ops[conversation].acked && !Append(conversation)) return false;
    if (!(iteration % 2 == 0 ? AddChunks() : BatchDocument())) return false;
    if (iteration % 3 == 2 && !DeleteSomething(iteration % 2 == 0)) return false;
    return Search();
  }

 private:
  // Sends one logged write; returns whether the writer may go on.
  template <typename Call>
  bool Send(Op op, Call&& call) {
    op.started = clock_.fetch_add(1);
    const Error* error = nullptr;
    auto result = call();
    if (result.ok()) {
      op.acked = true;
      op.acked_at = clock_.fetch_add(1);
      ++acked_;
    } else {
      error = &result.error();
    }
    log_.ops.push_back(std::move(op));
    return error == nullptr || Tolerate(*error);
  }

  bool Tolerate(const Error& error) {
    if (error.code == Code::kUnavailable && options_.stop_on_unavailable) return false;
    if (log_.unexpected.empty()) log_.unexpected = error.ToString();
    return false;
  }

  // Returns the op's index, or -1 to stop.
  int BatchConversation() {
    Op op;
    op.kind = OpKind::kBatchConversation;
    op.target = Uuid::Generate();
    client::Batch batch;
    client::NewConversation conversation;
    conversation.id = op.target;
    conversation.title = "torture";
    batch.CreateConversation(conversation);
    for (int i = 0; i < 3; ++i) {
      client::NewMessage message;
      message.id = Uuid::Generate();
      message.conversation_id = op.target;
      message.content = "batched " + std::to_string(i);
      message.tokens_used = i + 1;
      op.ids.push_back(*message.id);
      batch.AppendMessage(message);
    }
    const int index = static_cast<int>(log_.ops.size());
    return Send(std::move(op), [&] { return client_.ApplyBatch(log_.user, batch); }) ? index : -1;
  }

  bool Append(int conversation) {
    Op op;
    op.kind = OpKind::kAppend;
    op.owner = conversation;
    op.target = log_.ops[conversation].target;
    client::NewMessage message;
    message.id = Uuid::Generate();
    message.conversation_id = op.target;
    message.role = "assistant";
    message.content = "appended";
    message.tokens_used = 5;
    op.ids.push_back(*message.id);
    return Send(std::move(op), [&] { return client_.AppendMessage(log_.user, message); });
  }

  std::vector<client::NewChunk> Chunks(const Uuid& document, Op& op) {
    std::vector<client::NewChunk> chunks(options_.chunks_per_op);
    for (auto& chunk : chunks) {
      chunk.id = Uuid::Generate();
      chunk.document_id = document;
      chunk.chunk_index = next_chunk_index_++;
      chunk.chunk_text = "chunk " + std::to_string(chunk.chunk_index);
      chunk.embedding = RandomVector(rng_, options_.dimension);
      op.ids.push_back(*chunk.id);
      op.vectors.push_back(chunk.embedding);
    }
    return chunks;
  }

  bool AddChunks() {
    Op op;
    op.kind = OpKind::kAddChunks;
    op.target = log_.document;
    const auto chunks = Chunks(op.target, op);
    return Send(std::move(op), [&] { return client_.AddChunks(log_.user, chunks); });
  }

  bool BatchDocument() {
    Op op;
    op.kind = OpKind::kBatchDocument;
    op.target = Uuid::Generate();
    client::Batch batch;
    client::NewDocument document;
    document.id = op.target;
    document.filename = "batch.txt";
    document.file_type = "txt";
    document.content = "batched document";
    batch.CreateDocument(document);
    for (auto& chunk : Chunks(op.target, op)) batch.AddChunk(std::move(chunk));
    return Send(std::move(op), [&] { return client_.ApplyBatch(log_.user, batch); });
  }

  // Hard-deletes a random earlier acknowledged, not yet deleted conversation or document.
  bool DeleteSomething(bool conversation) {
    const OpKind created = conversation ? OpKind::kBatchConversation : OpKind::kBatchDocument;
    std::vector<int> candidates;
    for (size_t i = 0; i < log_.ops.size(); ++i) {
      if (log_.ops[i].kind == created && log_.ops[i].acked && !deleted_[static_cast<int>(i)]) {
        candidates.push_back(static_cast<int>(i));
      }
    }
    if (candidates.empty()) return true;
    const int owner =
        candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng_)];
    deleted_[owner] = true;
    Op op;
    op.kind = conversation ? OpKind::kDeleteConversation : OpKind::kDeleteDocument;
    op.owner = owner;
    op.target = log_.ops[owner].target;
    const Uuid target = op.target;
    if (conversation)
      return Send(std::move(op), [&] { return client_.HardDeleteConversation(log_.user, target); });
    return Send(std::move(op), [&] { return client_.HardDeleteDocument(log_.user, target); });
  }

  bool Search() {
    client::SearchRequest request;
    request.query = RandomVector(rng_, options_.dimension);
    request.top_k = 5;
    auto found = client_.Search(log_.user, request);
    ++log_.searches;
    return found.ok() || Tolerate(found.error());
  }

  Client& client_;
  WriterLog& log_;
  const LoadOptions& options_;
  std::atomic<uint64_t>& clock_;
  std::atomic<int>& acked_;
  std::mt19937_64 rng_;
  int64_t next_chunk_index_ = 0;
  std::unordered_map<int, bool> deleted_;
};

}  // namespace

bool PrepareWriter(Client& client, WriterLog& log, std::string* error) {
  client::NewDocument document;
  document.filename = "main.txt";
  document.file_type = "txt";
  document.content = "long-lived";
  auto created = client.CreateDocument(log.user, document);
  if (!created.ok()) {
    *error = created.error().ToString();
    return false;
  }
  log.document = created->id;
  return true;
}

void RunWriter(Client& client, WriterLog& log, const LoadOptions& options,
               std::atomic<uint64_t>& clock, std::atomic<int>& acked, const std::atomic<bool>& stop,
               uint64_t seed) {
  Writer writer(client, log, options, clock, acked, seed);
  for (int iteration = 0; iteration < options.max_iterations && !stop.load(); ++iteration) {
    if (!writer.Iterate(iteration)) return;
  }
}

}  // namespace mnemo::hardening

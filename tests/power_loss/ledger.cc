#include "ledger.h"

#include <map>
#include <random>
#include <set>

#include "mnemo/base/limits.h"

namespace mnemo::testing {
namespace {

using Row = LedgerWrite::Row;
using Type = LedgerWrite::Row::Type;
using Kind = LedgerWrite::Kind;

std::vector<float> RandomVector(std::mt19937_64& rng, uint32_t dimension) {
  std::normal_distribution<float> normal;
  std::vector<float> v(dimension);
  for (float& x : v) x = normal(rng);
  v[0] += 0.1f;  // never all zero
  return v;
}

// One writer thread's view: what it created and may still use.
class Writer {
 public:
  Writer(Engine& engine, Ledger& ledger, uint64_t seed, const WorkloadOptions& options,
         const std::function<bool()>& still_up)
      : engine_(engine), ledger_(ledger), rng_(seed), options_(options), still_up_(still_up) {}

  void Step() {
    const uint64_t pick = rng_() % 100;
    if (pick < 25 && !conversations_.empty()) return AppendMessage();
    if (pick < 40) return CreateConversation();
    if (pick < 55) return ConversationBatch();
    if (pick < 63) return CreateDocument();
    if (pick < 78 && !documents_.empty() && chunks_ + 4 <= options_.max_chunks) return AddChunks();
    if (pick < 84 && chunks_ + 2 <= options_.max_chunks) return DocumentBatch();
    if (pick < 89 && !conversations_.empty()) return SoftDeleteConversation();
    if (pick < 94 && !conversations_.empty()) return EraseConversation();
    if (!documents_.empty()) return EraseDocument();
    CreateConversation();
  }

 private:
  // Records the write, runs it, and marks it acknowledged when it succeeded before the cut.
  template <typename Fn>
  bool Issue(LedgerWrite write, Fn&& fn) {
    ledger_.writes.push_back(std::move(write));
    const size_t index = ledger_.writes.size() - 1;
    const bool ok = fn();
    ledger_.writes[index].acknowledged = ok && still_up_();
    return ledger_.writes[index].acknowledged;
  }

  Uuid PickAndMaybeForget(std::vector<Uuid>& ids, bool forget) {
    const size_t i = rng_() % ids.size();
    const Uuid id = ids[i];
    if (forget) {
      ids[i] = ids.back();
      ids.pop_back();
    }
    return id;
  }

  NewConversation Conversation(const Uuid& id) {
    NewConversation input;
    input.id = id;
    input.title = "conversation " + std::to_string(rng_() % 1000);
    return input;
  }
  NewMessage Message(const Uuid& id, const Uuid& conversation) {
    NewMessage input;
    input.id = id;
    input.conversation_id = conversation;
    input.role = rng_() % 2 ? "user" : "assistant";
    input.content = "message " + std::to_string(rng_());
    input.tokens_used = static_cast<int64_t>(rng_() % 500);
    input.embedding = RandomVector(rng_, options_.dimension);
    return input;
  }
  NewChunk Chunk(const Uuid& id, const Uuid& document) {
    NewChunk chunk;
    chunk.id = id;
    chunk.document_id = document;
    chunk.chunk_index = next_chunk_index_[document]++;
    chunk.chunk_text = "chunk " + std::to_string(chunk.chunk_index);
    chunk.embedding = RandomVector(rng_, options_.dimension);
    ++chunks_;
    return chunk;
  }
  NewDocument Document(const Uuid& id) {
    NewDocument input;
    input.id = id;
    input.filename = "doc" + std::to_string(rng_() % 1000) + ".md";
    input.file_type = "md";
    input.content = "content";
    return input;
  }

  void CreateConversation() {
    const Uuid id = Uuid::Generate();
    LedgerWrite write{
        Kind::kCreate, {{Type::kConversation, id, {}}}, {}, false, "create conversation"};
    if (Issue(std::move(write),
              [&] { return engine_.CreateConversation(ledger_.user, Conversation(id)).ok(); })) {
      conversations_.push_back(id);
    }
  }

  void AppendMessage() {
    const Uuid conversation = PickAndMaybeForget(conversations_, false);
    const Uuid id = Uuid::Generate();
    LedgerWrite write{
        Kind::kCreate, {{Type::kMessage, id, conversation}}, {}, false, "append message"};
    Issue(std::move(write),
          [&] { return engine_.AppendMessage(ledger_.user, Message(id, conversation)).ok(); });
  }

  void ConversationBatch() {
    const Uuid conversation = Uuid::Generate();
    LedgerWrite write{Kind::kCreate,
                      {{Type::kConversation, conversation, {}}},
                      {},
                      false,
                      "batch: conversation + 3 messages"};
    std::vector<WriteOp> ops{CreateConversationOp{Conversation(conversation)}};
    for (int i = 0; i < 3; ++i) {
      const Uuid message = Uuid::Generate();
      write.rows.push_back({Type::kMessage, message, conversation});
      ops.push_back(AppendMessageOp{Message(message, conversation)});
    }
    if (Issue(std::move(write), [&] { return engine_.ApplyBatch(ledger_.user, ops).ok(); })) {
      conversations_.push_back(conversation);
    }
  }

  void CreateDocument() {
    const Uuid id = Uuid::Generate();
    LedgerWrite write{Kind::kCreate, {{Type::kDocument, id, {}}}, {}, false, "create document"};
    if (Issue(std::move(write),
              [&] { return engine_.CreateDocument(ledger_.user, Document(id)).ok(); })) {
      documents_.push_back(id);
    }
  }

  void AddChunks() {
    const Uuid document = PickAndMaybeForget(documents_, false);
    LedgerWrite write{Kind::kCreate, {}, {}, false, "add 4 chunks"};
    std::vector<NewChunk> chunks;
    for (int i = 0; i < 4; ++i) {
      const Uuid id = Uuid::Generate();
      write.rows.push_back({Type::kChunk, id, document});
      chunks.push_back(Chunk(id, document));
    }
    Issue(std::move(write), [&] { return engine_.AddChunks(ledger_.user, chunks).ok(); });
  }

  void DocumentBatch() {
    const Uuid document = Uuid::Generate();
    LedgerWrite write{
        Kind::kCreate, {{Type::kDocument, document, {}}}, {}, false, "batch: document + 2 chunks"};
    std::vector<WriteOp> ops{CreateDocumentOp{Document(document)}};
    for (int i = 0; i < 2; ++i) {
      const Uuid chunk = Uuid::Generate();
      write.rows.push_back({Type::kChunk, chunk, document});
      ops.push_back(AddChunkOp{Chunk(chunk, document)});
    }
    if (Issue(std::move(write), [&] { return engine_.ApplyBatch(ledger_.user, ops).ok(); })) {
      documents_.push_back(document);
    }
  }

  void SoftDeleteConversation() {
    const Uuid id = PickAndMaybeForget(conversations_, true);
    LedgerWrite write{Kind::kSoftDeleteConversation, {}, id, false, "soft-delete conversation"};
    Issue(std::move(write), [&] { return engine_.SoftDeleteConversation(ledger_.user, id).ok(); });
  }

  void EraseConversation() {
    const Uuid id = PickAndMaybeForget(conversations_, true);
    LedgerWrite write{Kind::kEraseConversation, {}, id, false, "hard-delete conversation"};
    Issue(std::move(write), [&] { return engine_.HardDeleteConversation(ledger_.user, id).ok(); });
  }

  void EraseDocument() {
    const Uuid id = PickAndMaybeForget(documents_, true);
    LedgerWrite write{Kind::kEraseDocument, {}, id, false, "hard-delete document"};
    Issue(std::move(write), [&] { return engine_.HardDeleteDocument(ledger_.user, id).ok(); });
  }

  Engine& engine_;
  Ledger& ledger_;
  std::mt19937_64 rng_;
  const WorkloadOptions options_;
  const std::function<bool()>& still_up_;
  std::vector<Uuid> conversations_;  // acknowledged, not deleted by this writer
  std::vector<Uuid> documents_;
  std::map<Uuid, int64_t> next_chunk_index_;
  size_t chunks_ = 0;
};

// What one user's rows look like in the reopened engine.
class Observed {
 public:
  Observed(Engine& engine, const std::string& user) : engine_(engine), user_(user) {
    SearchRequest everything;
    everything.query = std::vector<float>(engine.dimension(), 0.0f);
    everything.query[0] = 1.0f;
    everything.top_k = kMaxTopK;
    everything.ef = kMaxEf;
    auto found = engine.Search(user, everything);
    if (!found.ok()) {
      error_ = "search failed: " + found.status().ToString();
      return;
    }
    for (const SearchHit& hit : found->hits) chunks_[hit.chunk_id] = hit.document_id;
  }

  const std::string& error() const { return error_; }

  // The messages a search restricted to `conversation` finds (each carries an embedding).
  const std::set<Uuid>& SearchableMessages(const Uuid& conversation) {
    auto [it, inserted] = messages_.try_emplace(conversation);
    if (!inserted) return it->second;
    MessageSearchRequest request;
    request.query = std::vector<float>(engine_.dimension(), 0.0f);
    request.query[0] = 1.0f;
    request.top_k = kMaxTopK;
    request.ef = kMaxEf;
    request.filters.conversation_ids = {conversation};
    auto found = engine_.SearchMessages(user_, request);
    if (!found.ok()) {
      error_ = "message search failed: " + found.status().ToString();
      return it->second;
    }
    for (const MessageHit& hit : found->hits) it->second.insert(hit.message.id);
    return it->second;
  }
  const std::map<Uuid, Uuid>& chunks() const { return chunks_; }

  bool Present(const Row& row) {
    switch (row.type) {
      case Type::kConversation:
        return engine_.GetConversation(user_, row.id, /*include_deleted=*/true).ok();
      case Type::kMessage: {
        // The row, and its vector: searchable within its conversation.
        auto message = engine_.GetMessage(user_, row.id);
        if (!message.ok()) return false;
        if (!message->has_embedding) {
          error_ = "message " + row.id.ToString() + " lost its embedding";
          return false;
        }
        return SearchableMessages(row.parent).contains(row.id);
      }
      case Type::kDocument:
        return engine_.GetDocument(user_, row.id, /*include_deleted=*/true).ok();
      case Type::kChunk: return chunks_.contains(row.id);
    }
    return false;
  }

 private:
  Engine& engine_;
  const std::string user_;
  std::map<Uuid, Uuid> chunks_;              // chunk id -> document id
  std::map<Uuid, std::set<Uuid>> messages_;  // conversation -> searchable messages
  std::string error_;
};

}  // namespace

void RunWorkload(Engine& engine, Ledger& ledger, uint64_t seed, const WorkloadOptions& options,
                 const std::atomic<bool>& stop, const std::function<bool()>& still_up) {
  Writer writer(engine, ledger, seed, options, still_up);
  while (!stop.load() && ledger.writes.size() < options.max_writes) writer.Step();
}

size_t AcknowledgedWrites(const std::vector<Ledger>& ledgers) {
  size_t count = 0;
  for (const Ledger& ledger : ledgers) {
    for (const LedgerWrite& write : ledger.writes) count += write.acknowledged ? 1 : 0;
  }
  return count;
}

std::vector<std::string> CheckAgainstLedgers(Engine& engine, const std::vector<Ledger>& ledgers,
                                             const std::vector<size_t>& settled) {
  std::vector<std::string> problems;
  for (size_t l = 0; l < ledgers.size(); ++l) {
    const Ledger& ledger = ledgers[l];
    const size_t limit = settled.empty() ? ledger.writes.size() : settled[l];
    const auto acknowledged = [&](size_t i) { return i < limit && ledger.writes[i].acknowledged; };
    const auto report = [&](size_t i, const std::string& text) {
      problems.push_back(ledger.user + " write " + std::to_string(i) + " (" +
                         ledger.writes[i].what +
                         (acknowledged(i) ? ", acknowledged" : ", in flight") + "): " + text);
    };
    // Deletes: certainly applied (acknowledged), perhaps applied (in flight), and soft ones.
    std::set<Uuid> erased, maybe_erased, soft_deleted, maybe_soft_deleted;
    for (size_t i = 0; i < ledger.writes.size(); ++i) {
      const LedgerWrite& write = ledger.writes[i];
      if (write.kind == Kind::kEraseConversation || write.kind == Kind::kEraseDocument) {
        (acknowledged(i) ? erased : maybe_erased).insert(write.target);
      } else if (write.kind == Kind::kSoftDeleteConversation) {
        (acknowledged(i) ? soft_deleted : maybe_soft_deleted).insert(write.target);
      }
    }
    Observed observed(engine, ledger.user);
    if (!observed.error().empty()) {
      problems.push_back(ledger.user + ": " + observed.error());
      continue;
    }
    std::map<Uuid, int64_t> chunks_per_document;
    for (const auto& [chunk, document] : observed.chunks()) ++chunks_per_document[document];

    for (size_t i = 0; i < ledger.writes.size(); ++i) {
      const LedgerWrite& write = ledger.writes[i];
      if (write.kind != Kind::kCreate) continue;
      size_t seen = 0, present = 0;
      for (const Row& row : write.rows) {
        const Uuid owner =
            row.type == Type::kConversation || row.type == Type::kDocument ? row.id : row.parent;
        if (maybe_erased.contains(owner)) continue;  // unknowable
        if (row.type == Type::kMessage &&
            (soft_deleted.contains(owner) || maybe_soft_deleted.contains(owner))) {
          continue;  // messages of a soft-deleted conversation are hidden
        }
        const bool here = observed.Present(row);
        if (erased.contains(owner)) {
          if (here)
            report(i,
                   "row " + row.id.ToString() + " is back after its hard delete was acknowledged");
          continue;
        }
        ++seen;
        present += here ? 1 : 0;
        if (!here && acknowledged(i)) report(i, "row " + row.id.ToString() + " was lost");
      }
      if (present != 0 && present != seen) {
        report(i, "partly applied: " + std::to_string(present) + " of " + std::to_string(seen) +
                      " rows");
      }
    }
    for (const Uuid& id : soft_deleted) {
      if (erased.contains(id) || maybe_erased.contains(id)) continue;
      auto row = engine.GetConversation(ledger.user, id, /*include_deleted=*/true);
      if (!row.ok() || !row->is_deleted) {
        problems.push_back(ledger.user + ": acknowledged soft delete of " + id.ToString() +
                           " undone");
      }
    }
    // Counters agree with the rows they count.
    for (size_t i = 0; i < ledger.writes.size(); ++i) {
      for (const Row& row : ledger.writes[i].rows) {
        if (row.type == Type::kConversation && !soft_deleted.contains(row.id) &&
            !maybe_soft_deleted.contains(row.id)) {
          auto conversation = engine.GetConversation(ledger.user, row.id);
          if (!conversation.ok()) continue;
          MessageQuery query;
          query.limit = kMaxMessagePageSize;
          auto page = engine.ListMessages(ledger.user, row.id, query);
          if (!page.ok() || page->total != conversation->message_count) {
            problems.push_back(
                ledger.user + ": conversation " + row.id.ToString() + " counts " +
                std::to_string(conversation->message_count) + " messages, holds " +
                (page.ok() ? std::to_string(page->total) : page.status().ToString()));
          }
        } else if (row.type == Type::kDocument) {
          auto document = engine.GetDocument(ledger.user, row.id);
          if (!document.ok()) continue;
          const int64_t found = chunks_per_document[row.id];
          if (document->total_chunks != found) {
            problems.push_back(ledger.user + ": document " + row.id.ToString() + " counts " +
                               std::to_string(document->total_chunks) + " chunks, search finds " +
                               std::to_string(found));
          }
        }
      }
    }
    if (!observed.error().empty()) problems.push_back(ledger.user + ": " + observed.error());
  }
  return problems;
}

}  // namespace mnemo::testing

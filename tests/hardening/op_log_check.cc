// CheckOpLog half of op_log.h: observe every logged op's rows through the client, find the cut
// that explains them, and check the index and the counters against the rows.
#include <algorithm>
#include <set>
#include <sstream>

#include "op_log.h"

namespace mnemo::hardening {
namespace {

using client::Code;

// Beam width of the whole-corpus search: small enough that the planner walks the graph once a
// user owns a large share of a partition, wide enough that a stored vector finds itself.
constexpr int64_t kGraphEf = 32;
constexpr int64_t kWideEf = 512;

enum class Seen : uint8_t { kNotObserved, kNone, kAll, kPartial };

const char* KindName(OpKind kind) {
  switch (kind) {
    case OpKind::kBatchConversation: return "batch-conversation";
    case OpKind::kAppend: return "append";
    case OpKind::kAddChunks: return "add-chunks";
    case OpKind::kBatchDocument: return "batch-document";
    case OpKind::kDeleteConversation: return "delete-conversation";
    case OpKind::kDeleteDocument: return "delete-document";
  }
  return "?";
}

const char* SeenName(Seen seen) {
  switch (seen) {
    case Seen::kNotObserved: return "-";
    case Seen::kNone: return "none";
    case Seen::kAll: return "all";
    case Seen::kPartial: return "PARTIAL";
  }
  return "?";
}

class Checker {
 public:
  Checker(Client& client, std::vector<std::string>* failures, CheckSummary* summary)
      : client_(client), failures_(failures), summary_(summary) {}

  void Check(const WriterLog& log, const CheckBounds& bounds) {
    log_ = &log;
    const std::vector<Seen> seen = Observe();
    const int cut = FindCut(seen, bounds);
    if (cut < 0) return;
    summary_->ops += static_cast<int>(log.ops.size());
    summary_->visible_ops += cut;
    for (const Op& op : log.ops) summary_->unacked_ops += op.acked ? 0 : 1;
    CheckIndexAndCounters(cut);
  }

 private:
  void Fail(const std::string& what) { failures_->push_back(log_->user + ": " + what); }

  bool RowPresent(Code code, const std::string& what) {
    if (code != Code::kOk && code != Code::kNotFound)
      Fail(what + " read failed: " + std::string(client::CodeName(code)));
    return code == Code::kOk;
  }

  // Whether the chunk is the top-1 hit of its own vector within its document.
  bool ChunkFound(const Uuid& document, const Uuid& id, const std::vector<float>& vector) {
    client::SearchRequest request;
    request.query = vector;
    request.top_k = 1;
    // The widest beam: the walk then reaches every row, so a miss means the row is gone, not that
    // an approximate search passed it by.
    request.ef = kMaxEf;
    request.filters.document_ids = {document};
    auto found = client_.Search(log_->user, request);
    if (!found.ok()) {
      Fail("search failed: " + found.error().ToString());
      return false;
    }
    return !found->hits.empty() && found->hits[0].chunk_id == id &&
           found->hits[0].similarity > 0.999f;
  }

  static Seen Summarize(size_t present, size_t total) {
    if (present == 0) return Seen::kNone;
    return present == total ? Seen::kAll : Seen::kPartial;
  }

  std::vector<Seen> Observe() {
    std::vector<Seen> seen;
    for (const Op& op : log_->ops) {
      size_t present = 0, total = 0;
      switch (op.kind) {
        case OpKind::kBatchConversation:
          present +=
              RowPresent(client_.GetConversation(log_->user, op.target).code(), "conversation");
          total = 1 + op.ids.size();
          for (const Uuid& id : op.ids)
            present += RowPresent(client_.GetMessage(log_->user, id).code(), "message");
          break;
        case OpKind::kAppend:
          present += RowPresent(client_.GetMessage(log_->user, op.ids[0]).code(), "message");
          total = 1;
          break;
        case OpKind::kBatchDocument:
          present += RowPresent(client_.GetDocument(log_->user, op.target).code(), "document");
          ++total;
          [[fallthrough]];
        case OpKind::kAddChunks:
          for (size_t i = 0; i < op.ids.size(); ++i)
            present += ChunkFound(op.target, op.ids[i], op.vectors[i]);
          total += op.ids.size();
          summary_->chunks_checked += static_cast<int>(op.ids.size());
          break;
        case OpKind::kDeleteConversation:
        case OpKind::kDeleteDocument: break;
      }
      seen.push_back(total == 0 ? Seen::kNotObserved : Summarize(present, total));
    }
    return seen;
  }

  // Whether op `index`'s rows exist once the first `cut` ops applied.
  bool Visible(size_t index, int cut) const {
    const auto& ops = log_->ops;
    if (static_cast<int>(index) >= cut) return false;
    const int owner =
        ops[index].kind == OpKind::kAppend ? ops[index].owner : static_cast<int>(index);
    for (int d = 0; d < cut; ++d) {
      const OpKind kind = ops[d].kind;
      if ((kind == OpKind::kDeleteConversation || kind == OpKind::kDeleteDocument) &&
          ops[d].owner == owner)
        return false;
    }
    return true;
  }

  // The largest cut that explains `seen` within the bounds, or -1 (failure recorded).
  int FindCut(const std::vector<Seen>& seen, const CheckBounds& bounds) {
    const auto& ops = log_->ops;
    int lower = 0, upper = static_cast<int>(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
      const uint64_t acked_at = ops[i].acked_at;
      const bool must_in = bounds.must_include_acked_before == kNever
                               ? acked_at != kNever
                               : acked_at < bounds.must_include_acked_before;
      if (must_in) lower = static_cast<int>(i) + 1;
      if (bounds.must_exclude_started_after != kNever &&
          ops[i].started > bounds.must_exclude_started_after) {
        upper = std::min(upper, static_cast<int>(i));
      }
    }
    std::vector<int> explaining;
    for (int cut = 0; cut <= static_cast<int>(ops.size()); ++cut) {
      bool fits = true;
      for (size_t i = 0; i < ops.size() && fits; ++i) {
        if (seen[i] == Seen::kNotObserved) continue;
        fits = seen[i] == (Visible(i, cut) ? Seen::kAll : Seen::kNone);
      }
      if (fits) explaining.push_back(cut);
    }
    for (auto it = explaining.rbegin(); it != explaining.rend(); ++it) {
      if (*it >= lower && *it <= upper) return *it;
    }
    std::ostringstream text;
    text << (explaining.empty() ? "no prefix of the op log explains the state"
                                : "the state is a prefix, but not one the acknowledgements allow")
         << " (must include ops [0," << lower << "), exclude from " << upper
         << "; explaining cuts:";
    for (int cut : explaining) text << ' ' << cut;
    text << ") ops:";
    for (size_t i = 0; i < ops.size(); ++i) {
      text << "\n  #" << i << ' ' << KindName(ops[i].kind) << (ops[i].acked ? " acked" : " unacked")
           << " seen=" << SeenName(seen[i]);
    }
    Fail(text.str());
    return -1;
  }

  void CheckIndexAndCounters(int cut) {
    const auto& ops = log_->ops;
    std::set<Uuid> visible_chunks;
    int64_t main_document_chunks = 0;
    std::vector<float> any_vector;
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (!Visible(i, cut)) continue;
      if (op.kind == OpKind::kAddChunks || op.kind == OpKind::kBatchDocument) {
        for (size_t c = 0; c < op.ids.size(); ++c) {
          visible_chunks.insert(op.ids[c]);
          CheckGraphFinds(op.ids[c], op.vectors[c]);
          any_vector = op.vectors[c];
        }
        if (op.kind == OpKind::kAddChunks)
          main_document_chunks += static_cast<int64_t>(op.ids.size());
        if (op.kind == OpKind::kBatchDocument)
          CheckDocumentChunks(op.target, static_cast<int64_t>(op.ids.size()));
      }
      if (op.kind == OpKind::kBatchConversation) CheckConversationCounters(i, cut);
    }
    CheckDocumentChunks(log_->document, main_document_chunks);
    std::vector<Uuid> documents = {log_->document};
    for (const Op& op : ops) {
      if (op.kind == OpKind::kBatchDocument) documents.push_back(op.target);
    }
    if (!any_vector.empty()) CheckNoPhantoms(any_vector, documents, visible_chunks);
  }

  // The user-wide top-10 holds the chunk.  A graph walk at kGraphEf is approximate, so a miss
  // there is retried at kWideEf (counted); only a miss at both fails.
  void CheckGraphFinds(const Uuid& id, const std::vector<float>& vector) {
    for (const int64_t ef : {kGraphEf, kWideEf}) {
      client::SearchRequest request;
      request.query = vector;
      request.top_k = 10;
      request.ef = ef;
      auto found = client_.Search(log_->user, request);
      if (!found.ok()) return Fail("search failed: " + found.error().ToString());
      if (!found->exact) ++summary_->graph_searches;
      for (const auto& hit : found->hits) {
        if (hit.chunk_id == id) return;
      }
      if (ef == kGraphEf) ++summary_->narrow_beam_misses;
    }
    Fail("chunk " + id.ToString() +
         " is stored but its own vector does not find it in the user's corpus");
  }

  void CheckDocumentChunks(const Uuid& document, int64_t expected) {
    auto got = client_.GetDocument(log_->user, document);
    if (!got.ok()) return Fail("document " + document.ToString() + ": " + got.error().ToString());
    if (got->total_chunks != expected) {
      Fail("document " + document.ToString() + " total_chunks " +
           std::to_string(got->total_chunks) + ", rows " + std::to_string(expected));
    }
  }

  void CheckConversationCounters(size_t index, int cut) {
    const auto& ops = log_->ops;
    int64_t expected = static_cast<int64_t>(ops[index].ids.size());
    for (size_t j = 0; j < ops.size(); ++j) {
      if (ops[j].kind == OpKind::kAppend && ops[j].owner == static_cast<int>(index) &&
          Visible(j, cut))
        ++expected;
    }
    auto conversation = client_.GetConversation(log_->user, ops[index].target);
    auto page = client_.ListMessages(log_->user, ops[index].target);
    if (!conversation.ok() || !page.ok())
      return Fail("conversation " + ops[index].target.ToString() + " unreadable");
    if (conversation->message_count != expected || page->total != expected) {
      Fail("conversation " + ops[index].target.ToString() + ": message_count " +
           std::to_string(conversation->message_count) + ", listed " + std::to_string(page->total) +
           ", expected " + std::to_string(expected));
    }
  }

  void CheckNoPhantoms(const std::vector<float>& query, const std::vector<Uuid>& documents,
                       const std::set<Uuid>& visible) {
    constexpr int64_t kMaxTopK = 1000;
    client::SearchRequest request;
    request.query = query;
    request.top_k = kMaxTopK;
    request.filters.document_ids = documents;  // the user may own rows of other logs
    auto found = client_.Search(log_->user, request);
    if (!found.ok()) return Fail("search failed: " + found.error().ToString());
    std::set<Uuid> ids;
    for (const auto& hit : found->hits) {
      if (!visible.count(hit.chunk_id))
        Fail("search returns chunk " + hit.chunk_id.ToString() + " no visible op wrote");
      ids.insert(hit.chunk_id);
    }
    if (visible.size() <= static_cast<size_t>(kMaxTopK) && ids.size() != visible.size()) {
      Fail("search over the whole corpus sees " + std::to_string(ids.size()) + " chunks, " +
           std::to_string(visible.size()) + " are stored");
    }
  }

  Client& client_;
  std::vector<std::string>* failures_;
  CheckSummary* summary_;
  const WriterLog* log_ = nullptr;
};

}  // namespace

void CheckOpLog(Client& client, const std::vector<WriterLog>& logs, const CheckBounds& bounds,
                std::vector<std::string>* failures, CheckSummary* summary) {
  Checker checker(client, failures, summary);
  for (const WriterLog& log : logs) checker.Check(log, bounds);
}

}  // namespace mnemo::hardening

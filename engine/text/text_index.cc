#include "text/text_index.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>

#include "common/coding.h"
#include "common/thread_priority.h"
#include "common/utf8.h"
#include "mnemo/base/limits.h"
#include "storage/key_codec.h"
#include "text/analyzer.h"
#include "text/postings.h"
#include "text/string_table.h"
#include "text/top_k.h"

namespace mnemo::text {

using TermCounts = std::vector<std::pair<uint32_t, uint32_t>>;  // (term id, tf), ids ascending

namespace {

using storage::Cf;

// Removed rows whose postings trigger a rebuild of the user's lists: more than the live rows,
// and at least this many.
constexpr size_t kMinDeadForCompaction = 256;

// Rows a text row group holds at most: a removal rewrites its row's group, so this bounds
// what removing one row costs, while a 1000-row write stores a few values, not a thousand.
constexpr size_t kRowsPerGroup = 64;
// Set in the first byte of a text row value that holds a group (beside the analyzer version).
constexpr uint8_t kRowGroupFlag = 0x80;
static_assert(kAnalyzerVersion < kRowGroupFlag, "the flag must not collide with a version");
// First byte of a dictionary group's value.
constexpr uint8_t kTermGroupV1 = 1;

std::string UserKey(RowKind kind, std::string_view user_id) {
  std::string key(1, static_cast<char>(kind));
  key.append(user_id);
  return key;
}

// A row's terms in a stored value: row length varint | term count varint | per term, ids
// ascending: varint((id - previous id) << 1 | (tf > 1)), then varint(tf) when tf > 1.
void PutRowTerms(std::string* out, uint32_t length, const TermCounts& terms) {
  coding::PutVarint64(out, length);
  coding::PutVarint64(out, terms.size());
  uint32_t previous = 0;
  for (const auto& [id, tf] : terms) {
    coding::PutVarint64(out, (static_cast<uint64_t>(id - previous) << 1) | (tf > 1 ? 1 : 0));
    if (tf > 1) coding::PutVarint64(out, tf);
    previous = id;
  }
}

// Consumes one row's terms from the front of *data.
Status GetRowTerms(std::string_view* data, uint32_t* length, TermCounts* terms) {
  const Status corrupt = Status::Internal("corrupt text row");
  uint64_t value = 0;
  uint64_t count = 0;
  if (!coding::GetVarint64(data, &value) || value > UINT32_MAX) return corrupt;
  *length = static_cast<uint32_t>(value);
  if (!coding::GetVarint64(data, &count) || count > data->size()) return corrupt;
  terms->clear();
  terms->reserve(count);
  uint64_t id = 0;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!coding::GetVarint64(data, &value)) return corrupt;
    id += value >> 1;
    uint64_t tf = 1;
    if ((value & 1) && (!coding::GetVarint64(data, &tf) || tf < 2)) return corrupt;
    if (id > UINT32_MAX || tf > UINT32_MAX || (i > 0 && (value >> 1) == 0)) return corrupt;
    terms->emplace_back(static_cast<uint32_t>(id), static_cast<uint32_t>(tf));
    sum += tf;
  }
  if (sum != *length || count == 0) return corrupt;
  return Status::Ok();
}

Status WrongAnalyzer(uint8_t version) {
  return Status::Internal("text row of analyzer version " + std::to_string(version) +
                          "; this build reads " + std::to_string(kAnalyzerVersion));
}

// A stored row as the index reads and writes it.
struct StoredRow {
  uint64_t label;
  uint64_t group;  // the label in its key
  uint32_t length;
  TermCounts terms;
};

// Encodes `rows` (one month's, at least one) as a text row group stored under the key of label
// `group`, and sets their group.
std::string EncodeRowGroup(uint64_t group, const std::vector<StoredRow*>& rows) {
  std::string out;
  out.push_back(static_cast<char>(kRowGroupFlag | kAnalyzerVersion));
  coding::PutVarint64(&out, rows.size());
  uint64_t previous = group;
  for (StoredRow* row : rows) {
    coding::PutVarsint64(&out, static_cast<int64_t>(row->label - previous));
    PutRowTerms(&out, row->length, row->terms);
    row->group = group;
    previous = row->label;
  }
  return out;
}

// Decodes the value stored under the text row key of label `key_label`: one row (text row v1) or
// a group.  Appends its rows to *rows.
Status DecodeTextValue(uint64_t key_label, std::string_view data, std::vector<StoredRow>* rows) {
  const Status corrupt = Status::Internal("corrupt text row");
  uint8_t first = 0;
  if (!coding::GetByte(&data, &first)) return corrupt;
  if ((first & kRowGroupFlag) == 0) {  // text row v1: one row, its key's label
    if (first != kAnalyzerVersion) return WrongAnalyzer(first);
    StoredRow row{key_label, key_label, 0, {}};
    MNEMO_RETURN_IF_ERROR(GetRowTerms(&data, &row.length, &row.terms));
    if (!data.empty()) return corrupt;
    rows->push_back(std::move(row));
    return Status::Ok();
  }
  if ((first & ~kRowGroupFlag) != kAnalyzerVersion) return WrongAnalyzer(first & ~kRowGroupFlag);
  uint64_t count = 0;
  if (!coding::GetVarint64(&data, &count) || count == 0 || count > data.size()) return corrupt;
  uint64_t previous = key_label;
  for (uint64_t i = 0; i < count; ++i) {
    int64_t delta = 0;
    if (!coding::GetVarsint64(&data, &delta)) return corrupt;
    StoredRow row{previous + static_cast<uint64_t>(delta), key_label, 0, {}};
    MNEMO_RETURN_IF_ERROR(GetRowTerms(&data, &row.length, &row.terms));
    previous = row.label;
    rows->push_back(std::move(row));
  }
  if (!data.empty()) return corrupt;
  return Status::Ok();
}

// A group of dictionary entries: [0x50][0x00][group u64 big-endian].  No term starts with a
// 0x00 byte (the analyzer never makes one of U+0000), so these keys never meet a term's.
std::string TermGroupKey(uint64_t group) {
  std::string key = keys::TextTermPrefix();
  key.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(group >> shift));
  return key;
}

}  // namespace

// ---- ParseQuery -------------------------------------------------------------------------------

Status ParseQuery(std::string_view field, std::string_view query, ParsedQuery* out) {
  const std::string name(field);
  if (!utf8::IsValid(query)) return Status::ValidationError(name, "must be valid UTF-8");
  if (query.size() > kMaxTextQueryBytes) {
    return Status::ValidationError(name, "has " + std::to_string(query.size()) +
                                             " bytes; at most " +
                                             std::to_string(kMaxTextQueryBytes));
  }
  if (utf8::IsBlank(query)) return Status::ValidationError(name, "must not be empty or blank");
  Analysis analysis;
  MNEMO_RETURN_IF_ERROR(Analyze(query, &analysis));
  out->stopwords = analysis.stopwords;
  out->terms.clear();
  std::unordered_set<std::string_view> seen;
  for (const std::string& term : analysis.terms) {
    if (seen.insert(term).second) out->terms.push_back(term);
  }
  if (out->terms.size() > kMaxTextQueryTerms) {
    return Status::ValidationError(name, "has " + std::to_string(out->terms.size()) +
                                             " distinct terms; at most " +
                                             std::to_string(kMaxTextQueryTerms));
  }
  return Status::Ok();
}

// ---- Dictionary -------------------------------------------------------------------------------

namespace {
uint64_t NextDictionarySerial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}
}  // namespace

// Term -> id.  An id is assigned in memory when a row first uses the term; its dictionary entry
// is staged by every write that uses the term until one of them commits ("durable"), so a
// stored row never names an id whose entry is not stored.
class TextIndex::Dictionary {
 public:
  // Different for every dictionary the process creates.
  uint64_t serial() const { return serial_; }

  struct Lookup {
    uint32_t id;
    bool durable;
  };

  std::optional<uint32_t> Find(std::string_view term) const {
    std::shared_lock lock(mutex_);
    auto it = entries_.find(term);
    if (it == entries_.end()) return std::nullopt;
    return it->second.id;
  }

  // The lookups of every string of `terms`, by number (interning those that are new).
  void InternAll(const StringTable& terms, std::vector<Lookup>* out) {
    out->resize(terms.size());
    std::vector<uint32_t> missing;
    {
      std::shared_lock lock(mutex_);
      for (uint32_t number = 0; number < terms.size(); ++number) {
        auto it = entries_.find(terms.at(number));
        if (it == entries_.end()) {
          missing.push_back(number);
        } else {
          (*out)[number] = Lookup{it->second.id, it->second.durable};
        }
      }
    }
    if (missing.empty()) return;
    std::unique_lock lock(mutex_);
    for (const uint32_t number : missing) {
      auto [it, inserted] =
          entries_.try_emplace(std::string(terms.at(number)), Entry{next_id_, false});
      if (inserted) ++next_id_;
      (*out)[number] = Lookup{it->second.id, it->second.durable};
    }
  }

  void MarkDurable(const std::vector<std::string>& terms) {
    std::unique_lock lock(mutex_);
    for (const std::string& term : terms) {
      auto it = entries_.find(term);
      if (it != entries_.end()) it->second.durable = true;
    }
  }

  // Loading: a stored entry.
  void Restore(std::string_view term, uint32_t id) {
    entries_.insert_or_assign(std::string(term), Entry{id, true});
    next_id_ = std::max(next_id_, id + 1);
  }

  // Loading: a stored group of entries (`number`: its key after the 0x00 byte).
  Status RestoreGroup(std::string_view number, std::string_view value) {
    const Status corrupt = Status::Internal("corrupt text term group");
    if (number.size() != 8) return corrupt;
    uint64_t group = 0;
    for (const char byte : number) group = (group << 8) | static_cast<uint8_t>(byte);
    uint8_t version = 0;
    uint64_t count = 0;
    if (!coding::GetByte(&value, &version) || version != kTermGroupV1) return corrupt;
    if (!coding::GetVarint64(&value, &count) || count == 0 || count > value.size()) return corrupt;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t id = 0;
      std::string_view term;
      if (!coding::GetVarint64(&value, &id) || id == 0 || id > UINT32_MAX ||
          !coding::GetLengthPrefixed(&value, &term) || term.empty()) {
        return corrupt;
      }
      Restore(term, static_cast<uint32_t>(id));
    }
    if (!value.empty()) return corrupt;
    next_group_ = std::max(next_group_, group + 1);
    return Status::Ok();
  }

  // A number for a new group of entries, never used before in this data directory.
  uint64_t NewGroup() {
    std::unique_lock lock(mutex_);
    return next_group_++;
  }

  size_t size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    uint32_t id;
    bool durable;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
  uint32_t next_id_ = 1;
  uint64_t next_group_ = 0;
  const uint64_t serial_ = NextDictionarySerial();
};

// ---- UserIndex --------------------------------------------------------------------------------

namespace {

// One posting of a batch of rows: a term id, the row's position in the batch, its tf.
struct BatchPosting {
  uint32_t id;
  uint32_t row;
  uint32_t tf;
};

// Sorts by id, keeping the order of equal ids (rows stay ascending within a term): a least
// significant digit radix sort, 11 bits a pass, or a comparison sort for a few postings (one
// row's, as a single message append stages), where clearing the radix buckets would cost more.
void SortById(std::vector<BatchPosting>* postings) {
  constexpr size_t kComparisonSortBelow = 512;
  if (postings->size() < kComparisonSortBelow) {
    std::stable_sort(postings->begin(), postings->end(),
                     [](const BatchPosting& a, const BatchPosting& b) { return a.id < b.id; });
    return;
  }
  constexpr int kBits = 11;
  constexpr uint32_t kBuckets = 1U << kBits;
  uint32_t largest = 0;
  for (const BatchPosting& p : *postings) largest = std::max(largest, p.id);
  std::vector<BatchPosting> scratch(postings->size());
  std::vector<uint32_t> counts(kBuckets);
  for (int shift = 0; shift < 32 && (largest >> shift) != 0; shift += kBits) {
    std::fill(counts.begin(), counts.end(), 0);
    for (const BatchPosting& p : *postings) ++counts[(p.id >> shift) & (kBuckets - 1)];
    uint32_t sum = 0;
    for (uint32_t& count : counts) {
      const uint32_t here = count;
      count = sum;
      sum += here;
    }
    for (const BatchPosting& p : *postings) scratch[counts[(p.id >> shift) & (kBuckets - 1)]++] = p;
    postings->swap(scratch);
  }
}

// Term id -> a position: open addressing (linear probing, at most half full) over slots that
// hold both, so a batch can start loading the slots of the terms it reaches next (Prefetch)
// where a node-based map would make it wait for each.  Ids are never 0 (the dictionary's start
// at 1), so 0 marks an empty slot.
class TermPositions {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t Find(uint32_t id) const {
    if (slots_.empty()) return kNone;
    for (size_t slot = Slot(id);; slot = (slot + 1) & (slots_.size() - 1)) {
      if (slots_[slot].id == id) return slots_[slot].position;
      if (slots_[slot].id == 0) return kNone;
    }
  }
  // REQUIRES: id != 0 and not present.
  void Insert(uint32_t id, uint32_t position) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    size_t slot = Slot(id);
    while (slots_[slot].id != 0) slot = (slot + 1) & (slots_.size() - 1);
    slots_[slot] = Entry{id, position};
    ++count_;
  }
  void Prefetch(uint32_t id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[Slot(id)]);
  }
  void Clear() {
    slots_.clear();
    count_ = 0;
  }
  size_t memory_bytes() const { return slots_.capacity() * sizeof(Entry); }

 private:
  struct Entry {
    uint32_t id = 0;
    uint32_t position = 0;
  };
  size_t Slot(uint32_t id) const {
    return static_cast<size_t>((id * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void Grow() {
    std::vector<Entry> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Entry{});
    shift_ = 64 - std::countr_zero(slots_.size());
    count_ = 0;
    for (const Entry& entry : old) {
      if (entry.id != 0) Insert(entry.id, entry.position);
    }
  }

  std::vector<Entry> slots_;
  size_t count_ = 0;
  int shift_ = 64;
};

}  // namespace

// One user's rows of one kind.
class TextIndex::UserIndex {
 public:
  // Adds rows term by term rather than row by row: a batch's postings of one term are appended
  // together, so each list is reached once per batch, not once per row that holds the term.
  // `stored_delta`: what the write changed the size of the user's stored keys and values by.
  void Add(const std::vector<StoredRow>& rows, int64_t stored_delta) {
    size_t count = 0;
    for (const StoredRow& row : rows) count += row.terms.size();
    std::vector<BatchPosting> postings;
    postings.reserve(count);
    for (uint32_t row = 0; row < rows.size(); ++row) {
      for (const auto& [id, tf] : rows[row].terms) postings.push_back(BatchPosting{id, row, tf});
    }
    SortById(&postings);
    std::vector<uint32_t> starts;  // where each term's postings begin, then postings.size()
    for (size_t i = 0; i < postings.size(); ++i) {
      if (i == 0 || postings[i].id != postings[i - 1].id)
        starts.push_back(static_cast<uint32_t>(i));
    }
    const size_t distinct = starts.size();
    starts.push_back(static_cast<uint32_t>(postings.size()));

    std::unique_lock lock(mutex_);
    ChangeStoredBytesLocked(stored_delta);
    const uint32_t first_doc = static_cast<uint32_t>(labels_.size());
    for (const StoredRow& row : rows) AddRowLocked(row);
    // The terms' positions (new terms get one), then their postings.  Each step starts loading
    // what a later term will need (its slot, then its list), since nearly every term is a cache
    // miss away.
    constexpr size_t kAhead = 8;
    std::vector<uint32_t> positions(distinct);
    for (size_t t = 0; t < distinct; ++t) {
      if (t + kAhead < distinct) positions_.Prefetch(postings[starts[t + kAhead]].id);
      const uint32_t id = postings[starts[t]].id;
      uint32_t position = positions_.Find(id);
      if (position == TermPositions::kNone) {
        position = static_cast<uint32_t>(terms_.size());
        terms_.emplace_back().id = id;
        positions_.Insert(id, position);
      }
      positions[t] = position;
    }
    for (size_t t = 0; t < distinct; ++t) {
      if (t + kAhead < distinct) __builtin_prefetch(&terms_[positions[t + kAhead]]);
      if (t + kAhead / 2 < distinct) terms_[positions[t + kAhead / 2]].postings.PrefetchAppend();
      Term& term = terms_[positions[t]];
      for (size_t i = starts[t]; i < starts[t + 1]; ++i) {
        const uint32_t doc = first_doc + postings[i].row;
        term.postings.Append(doc, postings[i].tf, lengths_[doc]);
        ++term.df;
      }
    }
  }

  // The label in the key of the group that holds row `label`, if the row is indexed.
  std::optional<uint64_t> GroupOf(uint64_t label) const {
    std::shared_lock lock(mutex_);
    auto it = docs_.find(label);
    if (it == docs_.end()) return std::nullopt;
    return groups_[it->second];
  }

  void ChangeStoredBytes(int64_t delta) {
    std::unique_lock lock(mutex_);
    ChangeStoredBytesLocked(delta);
  }

  void Remove(const StoredRow& row) {
    std::unique_lock lock(mutex_);
    auto it = docs_.find(row.label);
    if (it == docs_.end()) return;
    const uint32_t doc = it->second;
    docs_.erase(it);
    total_length_ -= lengths_[doc];
    lengths_[doc] = 0;
    --live_;
    ++dead_;
    for (const auto& [id, tf] : row.terms) {
      const uint32_t position = positions_.Find(id);
      if (position != TermPositions::kNone && terms_[position].df > 0) --terms_[position].df;
    }
    if (dead_ >= kMinDeadForCompaction && dead_ > live_) CompactLocked();
  }

  TextAnswer Search(const std::vector<std::pair<std::string, std::optional<uint32_t>>>& terms,
                    size_t k, const Bm25Params& params,
                    const std::function<bool(uint64_t)>& admit) const {
    TextAnswer answer;
    std::shared_lock lock(mutex_);
    answer.rows = live_;
    std::vector<QueryTerm> query;
    for (const auto& [text, id] : terms) {
      const Term* term = nullptr;
      if (id) {
        const uint32_t position = positions_.Find(*id);
        if (position != TermPositions::kNone && terms_[position].df > 0) term = &terms_[position];
      }
      if (term == nullptr) {
        answer.unknown_terms.push_back(text);
        continue;
      }
      query.push_back(QueryTerm{&term->postings, Bm25TermWeight(live_, term->df, params)});
    }
    if (query.empty() || live_ == 0) return answer;
    const double avg_length = static_cast<double>(total_length_) / static_cast<double>(live_);
    TopKStats stats;
    const std::vector<ScoredDoc> top = TopK(
        query, k, lengths_, avg_length, params, [&](uint32_t doc) { return admit(labels_[doc]); },
        &stats);
    answer.postings = stats.postings;
    answer.rows_scored = stats.docs_scored;
    answer.hits.reserve(top.size());
    for (const ScoredDoc& scored : top)
      answer.hits.push_back(TextHit{labels_[scored.doc], scored.score});
    return answer;
  }

  void AddStats(TextIndexStats* stats) const {
    std::shared_lock lock(mutex_);
    stats->rows += live_;
    stats->stored_bytes += stored_bytes_;
    for (const Term& term : terms_) {
      stats->postings += term.postings.size();
      stats->memory_bytes += term.postings.memory_bytes();
    }
    stats->memory_bytes += terms_.size() * sizeof(Term) + positions_.memory_bytes();
    stats->memory_bytes += (labels_.capacity() + groups_.capacity()) * sizeof(uint64_t) +
                           lengths_.capacity() * sizeof(uint32_t) +
                           docs_.size() * (sizeof(uint64_t) + sizeof(uint32_t) + sizeof(void*));
  }

 private:
  struct Term {
    uint32_t id = 0;
    uint32_t df = 0;  // live rows holding the term
    PostingList postings;
  };

  // REQUIRES: mutex_ held exclusively.
  void ChangeStoredBytesLocked(int64_t delta) {
    stored_bytes_ =
        static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(stored_bytes_) + delta));
  }

  // The row's doc number and per-row state, without its postings.
  // REQUIRES: mutex_ held exclusively.
  uint32_t AddRowLocked(const StoredRow& row) {
    const uint32_t doc = static_cast<uint32_t>(labels_.size());
    labels_.push_back(row.label);
    groups_.push_back(row.group);
    lengths_.push_back(row.length);
    docs_[row.label] = doc;
    ++live_;
    total_length_ += row.length;
    return doc;
  }

  // Renumbers the live rows densely and rebuilds every list without the removed rows.
  // REQUIRES: mutex_ held exclusively.
  void CompactLocked() {
    std::vector<uint32_t> renumbered(labels_.size(), kEndDoc);
    std::vector<uint64_t> labels;
    std::vector<uint64_t> groups;
    std::vector<uint32_t> lengths;
    labels.reserve(live_);
    groups.reserve(live_);
    lengths.reserve(live_);
    for (uint32_t doc = 0; doc < labels_.size(); ++doc) {
      if (lengths_[doc] == 0) continue;
      renumbered[doc] = static_cast<uint32_t>(labels.size());
      docs_[labels_[doc]] = renumbered[doc];
      labels.push_back(labels_[doc]);
      groups.push_back(groups_[doc]);
      lengths.push_back(lengths_[doc]);
    }
    uint32_t docs[PostingList::kBlockSize];
    uint32_t tfs[PostingList::kBlockSize];
    std::deque<Term> terms;
    positions_.Clear();
    for (Term& term : terms_) {
      if (term.df == 0) continue;
      Term& kept = terms.emplace_back();
      kept.id = term.id;
      kept.df = term.df;
      const PostingList& old = term.postings;
      for (size_t block = 0; block < old.blocks().size(); ++block) {
        const uint32_t count = old.DecodeBlock(block, docs, tfs);
        for (uint32_t i = 0; i < count; ++i) {
          const uint32_t doc = renumbered[docs[i]];
          if (doc != kEndDoc) kept.postings.Append(doc, tfs[i], lengths[doc]);
        }
      }
      term = Term{};
      positions_.Insert(kept.id, static_cast<uint32_t>(terms.size() - 1));
    }
    terms_ = std::move(terms);
    labels_ = std::move(labels);
    groups_ = std::move(groups);
    lengths_ = std::move(lengths);
    dead_ = 0;
  }

  mutable std::shared_mutex mutex_;
  // In the order the user's rows first held them (compaction aside); a deque grows without
  // moving them or holding spare room for as many again.
  std::deque<Term> terms_;
  TermPositions positions_;                      // term id -> its position in terms_
  std::vector<uint64_t> labels_;                 // by doc
  std::vector<uint64_t> groups_;                 // by doc: the label in its stored key
  std::vector<uint32_t> lengths_;                // by doc; 0 = removed
  std::unordered_map<uint64_t, uint32_t> docs_;  // live rows: label -> doc
  uint64_t live_ = 0;
  uint64_t dead_ = 0;
  uint64_t total_length_ = 0;
  uint64_t stored_bytes_ = 0;
};

// ---- TextIndex --------------------------------------------------------------------------------

namespace {

// Marks a term code that is not a dictionary id yet (AnalyzeSlice).
constexpr uint64_t kUnresolved = uint64_t{1} << 32;
// A batch of at least this many rows is analyzed on two threads.
constexpr size_t kParallelRows = 128;
// Rows a thread takes from a batch at a time: few enough that the two threads finish close
// together wherever the costly (non-ASCII) texts fall, enough that a slice's one round of
// dictionary lookups costs little.
constexpr size_t kSliceRows = 32;

// Per thread: the dictionary ids of the terms of one state of the thread's analyzer term table
// (TermNumbers::table), for one dictionary; 0 where not known or not durable yet.  Ids never
// change and durable entries stay durable, so a remembered id is always right.
struct IdCache {
  uint64_t dictionary = 0;
  uint64_t table = 0;
  std::vector<uint32_t> ids;  // by analyzer term number
};

IdCache& ThreadIdCache() {
  thread_local IdCache cache;
  return cache;
}

}  // namespace

// A batch being staged: its rows, taken kSliceRows at a time by the threads that analyze them,
// and each row's terms as dictionary ids.
struct TextIndex::BatchTerms {
  explicit BatchTerms(std::vector<std::string_view> batch_texts)
      : texts(std::move(batch_texts)), stored(texts.size()) {}
  std::vector<std::string_view> texts;
  std::vector<StoredRow> stored;  // by text; no terms when it has none; labels set when staged
  std::atomic<size_t> next{0};    // the first row no thread has taken
  std::atomic<bool> failed{false};
};

// What one thread found in the slices of a batch it analyzed, and its scratch space.
struct TextIndex::SliceWork {
  std::vector<std::pair<uint32_t, std::string>> new_terms;  // (id, term) of entries not durable
  Status status;
  StringTable unresolved;  // a slice's terms the thread's IdCache did not know
  struct Source {          // where an entry of `unresolved` came from, to remember its id
    uint64_t table;
    uint32_t number;
  };
  std::vector<Source> sources;  // by entry of `unresolved`
  // The slice's terms, row after row: a dictionary id, or kUnresolved | its entry in
  // `unresolved`.
  std::vector<uint64_t> codes;
  std::vector<size_t> ends;  // the slice's i-th row's terms end at codes[ends[i]]
  std::vector<Dictionary::Lookup> lookups;
  std::vector<uint32_t> ids;
};

void TextIndex::AnalyzeSlices(BatchTerms& batch, SliceWork* work) {
  while (!batch.failed.load(std::memory_order_relaxed)) {
    const size_t begin = batch.next.fetch_add(kSliceRows, std::memory_order_relaxed);
    if (begin >= batch.texts.size()) return;
    const size_t end = std::min(batch.texts.size(), begin + kSliceRows);
    work->status = AnalyzeSlice(batch, begin, end, work);
    if (!work->status.ok()) {
      batch.failed.store(true, std::memory_order_relaxed);
      return;
    }
  }
}

Status TextIndex::AnalyzeSlice(BatchTerms& batch, size_t begin, size_t end, SliceWork* work) {
  IdCache& cache = ThreadIdCache();
  const uint64_t dictionary_serial = dictionary_->serial();
  work->unresolved.Clear();
  work->sources.clear();
  work->codes.clear();
  work->ends.clear();
  TermNumbers analysis;
  for (size_t i = begin; i < end; ++i) {
    MNEMO_RETURN_IF_ERROR(AnalyzeNumbered(batch.texts[i], &analysis));
    if (cache.dictionary != dictionary_serial || cache.table != analysis.table) {
      cache.dictionary = dictionary_serial;
      cache.table = analysis.table;
      cache.ids.clear();
    }
    for (const uint32_t number : analysis.numbers) {
      if (number < cache.ids.size() && cache.ids[number] != 0) {
        work->codes.push_back(cache.ids[number]);
        continue;
      }
      bool added = false;
      const uint32_t entry = work->unresolved.Add(NumberedTerm(number), &added);
      if (added) work->sources.push_back({analysis.table, number});
      work->codes.push_back(kUnresolved | entry);
    }
    work->ends.push_back(work->codes.size());
  }

  // One round of dictionary lookups for the slice; durable ids are remembered for later texts.
  dictionary_->InternAll(work->unresolved, &work->lookups);
  for (uint32_t entry = 0; entry < work->lookups.size(); ++entry) {
    const Dictionary::Lookup& lookup = work->lookups[entry];
    if (!lookup.durable) {
      work->new_terms.emplace_back(lookup.id, work->unresolved.at(entry));
      continue;
    }
    const SliceWork::Source& source = work->sources[entry];
    if (source.table != cache.table) continue;
    if (source.number >= cache.ids.size()) cache.ids.resize(source.number + 1, 0);
    cache.ids[source.number] = lookup.id;
  }

  // Each row's terms as (id, tf), ids ascending.
  std::vector<uint32_t>& ids = work->ids;
  for (size_t i = begin, first = 0; i < end; first = work->ends[i - begin], ++i) {
    const size_t last = work->ends[i - begin];
    if (last == first) continue;
    ids.clear();
    for (size_t t = first; t < last; ++t) {
      const uint64_t code = work->codes[t];
      ids.push_back(code & kUnresolved ? work->lookups[code & ~kUnresolved].id
                                       : static_cast<uint32_t>(code));
    }
    std::sort(ids.begin(), ids.end());
    StoredRow& row = batch.stored[i];
    row.length = static_cast<uint32_t>(ids.size());
    size_t distinct = 1;
    for (size_t t = 1; t < ids.size(); ++t) distinct += ids[t] != ids[t - 1];
    row.terms.reserve(distinct);
    for (size_t t = 0; t < ids.size();) {
      size_t next = t + 1;
      while (next < ids.size() && ids[next] == ids[t]) ++next;
      row.terms.emplace_back(ids[t], static_cast<uint32_t>(next - t));
      t = next;
    }
  }
  return Status::Ok();
}

// Helps analyze batches: runs one batch's share of the work at a time while the caller runs
// the rest.  A long-lived thread, so that its analyzer state (ICU iterator, token cache) and
// its remembered dictionary ids stay warm from batch to batch.
class TextIndex::AnalysisThread {
 public:
  AnalysisThread() : thread_([this] { Loop(); }) {}
  ~AnalysisThread() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  AnalysisThread(const AnalysisThread&) = delete;
  AnalysisThread& operator=(const AnalysisThread&) = delete;

  // Starts running `work` (whose captures are borrowed until Finish); false when another batch
  // holds the thread.  REQUIRES: Finish() follows every start that returned true.
  bool TryStart(std::function<void()> work) {
    std::lock_guard lock(mu_);
    if (taken_) return false;
    taken_ = true;
    job_ = std::move(work);
    done_ = false;
    changed_.notify_all();
    return true;
  }
  // Waits for the started work to return.
  void Finish() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return done_; });
    taken_ = false;
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      changed_.wait(lock, [&] { return stop_ || job_ != nullptr; });
      if (stop_) return;
      const std::function<void()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      done_ = true;
      changed_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool taken_ = false;  // a batch started work and has not finished it
  bool done_ = false;
  std::function<void()> job_;
  std::thread thread_;  // last: starts once the members above exist
};

TextIndex::TextIndex(storage::Db& db, const Bm25Params& params)
    : db_(db),
      params_(params),
      dictionary_(std::make_unique<Dictionary>()),
      analysis_thread_(std::make_unique<AnalysisThread>()) {}

TextIndex::~TextIndex() = default;

Result<std::unique_ptr<TextIndex>> TextIndex::Open(storage::Db& db, const Bm25Params& params) {
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<TextIndex> index, OpenLoading(db, params));
  MNEMO_RETURN_IF_ERROR(index->AwaitLoad());
  return index;
}

Result<std::unique_ptr<TextIndex>> TextIndex::OpenLoading(storage::Db& db,
                                                          const Bm25Params& params) {
  if (!(params.k1 > 0 && params.k1 <= 100))
    return Status::ValidationError("bm25_k1", "must be in (0, 100]");
  if (!(params.b >= 0 && params.b <= 1))
    return Status::ValidationError("bm25_b", "must be in [0, 1]");
  std::unique_ptr<TextIndex> index(new TextIndex(db, params));
  index->loaded_ =
      std::async(std::launch::async, [raw = index.get()] {
        // Below the threads opening the rest of the store: only keyword work waits for this.
        RunAtBackgroundPriority("keyword index load");
        const auto started = std::chrono::steady_clock::now();
        Status loaded = raw->Load();
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (!loaded.ok()) {
          spdlog::error("keyword index: loading failed after {:.2f} s: {}", seconds,
                        loaded.ToString());
          return Status::FromCode(loaded.code(),
                                  "keyword index did not load: " + std::string(loaded.message()));
        }
        spdlog::info("keyword index: {} terms loaded in {:.2f} s", raw->dictionary_->size(),
                     seconds);
        return loaded;
      }).share();
  return index;
}

Status TextIndex::Load() {
  Status decoded;
  storage::ScanRange terms;
  terms.prefix = keys::TextTermPrefix();
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, terms, [&](std::string_view key, std::string_view value) {
        const std::string_view term = key.substr(terms.prefix.size());
        if (!term.empty() && term[0] == '\0') {
          decoded = dictionary_->RestoreGroup(term.substr(1), value);
          return decoded.ok();
        }
        uint64_t id = 0;
        if (!coding::GetVarint64(&value, &id) || id == 0 || id > UINT32_MAX) {
          decoded = Status::Internal("corrupt text term entry");
          return false;
        }
        dictionary_->Restore(term, static_cast<uint32_t>(id));
        return true;
      }));
  MNEMO_RETURN_IF_ERROR(decoded);

  storage::ScanRange rows;
  rows.prefix = keys::TextRowPrefix();
  std::string current_key;
  std::shared_ptr<UserIndex> current;
  std::string user_id;
  std::vector<StoredRow> stored;
  MNEMO_RETURN_IF_ERROR(
      db_.Scan(Cf::kIndex, rows, [&](std::string_view key, std::string_view value) {
        uint8_t kind = 0;
        uint32_t month = 0;
        uint64_t label = 0;
        if (!keys::ParseTextRowKey(key, &kind, &user_id, &month, &label)) {
          decoded = Status::Internal("corrupt text row key");
          return false;
        }
        stored.clear();
        decoded = DecodeTextValue(label, value, &stored);
        if (!decoded.ok()) return false;
        // Keys are grouped by (kind, user): one lookup per user.
        const std::string user_key = UserKey(static_cast<RowKind>(kind), user_id);
        if (!current || user_key != current_key) {
          current = FindOrCreate(static_cast<RowKind>(kind), user_id);
          current_key = user_key;
        }
        current->Add(stored, static_cast<int64_t>(key.size() + value.size()));
        return true;
      }));
  return decoded;
}

std::shared_ptr<TextIndex::UserIndex> TextIndex::Find(RowKind kind,
                                                      std::string_view user_id) const {
  std::shared_lock lock(users_mutex_);
  auto it = users_.find(UserKey(kind, user_id));
  return it == users_.end() ? nullptr : it->second;
}

std::shared_ptr<TextIndex::UserIndex> TextIndex::FindOrCreate(RowKind kind,
                                                              std::string_view user_id) {
  if (auto found = Find(kind, user_id)) return found;
  std::unique_lock lock(users_mutex_);
  auto& slot = users_[UserKey(kind, user_id)];
  if (!slot) slot = std::make_shared<UserIndex>();
  return slot;
}

// A batch's analysis, begun on the analysis thread before the rest of its transaction is staged.
class TextIndex::Analysis {
 public:
  Analysis(TextIndex& index, std::vector<std::string_view> texts)
      : index_(index), batch_(std::move(texts)) {}
  ~Analysis() {
    batch_.failed.store(true, std::memory_order_relaxed);  // never staged: the rest is not needed
    Finish();
  }
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  BatchTerms& batch() { return batch_; }
  SliceWork& thread_work() { return thread_work_; }

  // Starts the analysis thread on the batch, when it is free.
  void Start() {
    shared_ =
        index_.analysis_thread_->TryStart([this] { index_.AnalyzeSlices(batch_, &thread_work_); });
  }
  // Waits for the thread's share, if it took one.
  void Finish() {
    if (!shared_) return;
    index_.analysis_thread_->Finish();
    shared_ = false;
  }

 private:
  TextIndex& index_;
  BatchTerms batch_;
  SliceWork thread_work_;  // the analysis thread's
  bool shared_ = false;    // the thread took part and has not been waited for
};

std::shared_ptr<TextIndex::Analysis> TextIndex::StartAnalysis(std::vector<std::string_view> texts) {
  auto analysis = std::make_shared<Analysis>(*this, std::move(texts));
  // Analysis interns terms in the dictionary: not before it is loaded (StageAdd reports a failure).
  if (AwaitLoad().ok() && analysis->batch().texts.size() >= kParallelRows) analysis->Start();
  return analysis;
}

Status TextIndex::StageAdd(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                           const std::vector<TextRow>& rows, size_t* rows_stored) {
  std::vector<std::string_view> texts;
  texts.reserve(rows.size());
  for (const TextRow& row : rows) texts.push_back(row.text);
  std::vector<size_t> sources(rows.size());
  for (size_t i = 0; i < sources.size(); ++i) sources[i] = i;
  return StageAdd(txn, kind, user_id, rows, *StartAnalysis(std::move(texts)), sources, rows_stored);
}

Status TextIndex::StageAdd(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                           const std::vector<TextRow>& rows, Analysis& analysis,
                           std::span<const size_t> sources, size_t* rows_stored) {
  if (rows_stored) *rows_stored = 0;
  MNEMO_RETURN_IF_ERROR(AwaitLoad());
  if (sources.size() != rows.size()) {
    return Status::Internal("text index: " + std::to_string(rows.size()) + " rows but " +
                            std::to_string(sources.size()) + " sources");
  }
  // The rows are analyzed and their terms looked up in the dictionary slice by slice, on this
  // thread and, for a large batch, on the analysis thread when it is free.
  BatchTerms& batch = analysis.batch();
  SliceWork mine;
  AnalyzeSlices(batch, &mine);
  analysis.Finish();
  MNEMO_RETURN_IF_ERROR(mine.status);
  SliceWork& other = analysis.thread_work();
  MNEMO_RETURN_IF_ERROR(other.status);

  // The dictionary entries this write stores: terms no committed write has stored yet (a slice
  // may share one with another slice).
  std::vector<std::pair<uint32_t, std::string>>& fresh = mine.new_terms;
  for (auto& term : other.new_terms) fresh.push_back(std::move(term));
  std::sort(fresh.begin(), fresh.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  fresh.erase(std::unique(fresh.begin(), fresh.end(),
                          [](const auto& a, const auto& b) { return a.first == b.first; }),
              fresh.end());
  std::vector<std::string> new_terms;
  if (!fresh.empty()) {
    std::string value(1, static_cast<char>(kTermGroupV1));
    coding::PutVarint64(&value, fresh.size());
    new_terms.reserve(fresh.size());
    for (auto& [id, term] : fresh) {
      coding::PutVarint64(&value, id);
      coding::PutLengthPrefixed(&value, term);
      new_terms.push_back(std::move(term));
    }
    txn.Put(Cf::kIndex, TermGroupKey(dictionary_->NewGroup()), std::move(value));
  }

  std::vector<StoredRow> staged;
  std::vector<uint32_t> months;  // by staged row
  staged.reserve(rows.size());
  months.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (sources[i] >= batch.stored.size()) {
      return Status::Internal("text index: row " + std::to_string(i) + " names text " +
                              std::to_string(sources[i]) + " of " +
                              std::to_string(batch.stored.size()));
    }
    StoredRow& row = batch.stored[sources[i]];
    if (row.terms.empty()) continue;
    row.label = rows[i].label;
    row.group = row.label;
    staged.push_back(std::move(row));
    months.push_back(rows[i].month);
  }
  if (rows_stored) *rows_stored = staged.size();

  // Runs of rows of one month, kRowsPerGroup at most, each stored as one value under the key of
  // its first row.
  std::vector<StoredRow> existing;
  std::vector<StoredRow*> group;
  std::string value;
  int64_t stored_delta = 0;
  for (size_t begin = 0; begin < staged.size();) {
    size_t end = begin + 1;
    while (end < staged.size() && end - begin < kRowsPerGroup && months[end] == months[begin])
      ++end;
    const uint64_t label = staged[begin].label;
    const std::string key =
        keys::TextRowKey(static_cast<uint8_t>(kind), user_id, months[begin], label);
    // Labels are never reused, so the key is new; should one be, its rows are kept.
    existing.clear();
    Status found = txn.Get(Cf::kIndex, key, &value);
    if (!found.IsNotFound()) {
      MNEMO_RETURN_IF_ERROR(found);
      MNEMO_RETURN_IF_ERROR(DecodeTextValue(label, value, &existing));
      stored_delta -= static_cast<int64_t>(key.size() + value.size());
    }
    group.clear();
    for (StoredRow& row : existing) group.push_back(&row);
    for (size_t i = begin; i < end; ++i) group.push_back(&staged[i]);
    std::string encoded = EncodeRowGroup(label, group);
    stored_delta += static_cast<int64_t>(key.size() + encoded.size());
    txn.Put(Cf::kIndex, key, std::move(encoded));
    begin = end;
  }
  txn.OnCommit([this, kind, user = std::string(user_id), staged = std::move(staged),
                new_terms = std::move(new_terms), stored_delta] {
    if (!new_terms.empty()) dictionary_->MarkDurable(new_terms);
    FindOrCreate(kind, user)->Add(staged, stored_delta);
  });
  return Status::Ok();
}

Status TextIndex::StageRemove(storage::WriteTxn& txn, RowKind kind, std::string_view user_id,
                              const std::vector<RowRef>& rows) {
  MNEMO_RETURN_IF_ERROR(AwaitLoad());
  // The groups holding the rows, each read and rewritten (or deleted) once.
  std::shared_ptr<UserIndex> index = Find(kind, user_id);
  std::map<std::pair<uint32_t, uint64_t>, std::unordered_set<uint64_t>> groups;
  for (const RowRef& row : rows) {
    std::optional<uint64_t> group;
    if (index) group = index->GroupOf(row.label);
    groups[{row.month, group.value_or(row.label)}].insert(row.label);
  }
  std::vector<StoredRow> removed;
  std::vector<StoredRow> stored;
  int64_t stored_delta = 0;
  std::vector<StoredRow*> kept;
  std::string value;
  for (const auto& [where, labels] : groups) {
    const auto& [month, group] = where;
    const std::string key = keys::TextRowKey(static_cast<uint8_t>(kind), user_id, month, group);
    Status found = txn.Get(Cf::kIndex, key, &value);
    if (found.IsNotFound()) continue;  // rows without terms
    MNEMO_RETURN_IF_ERROR(found);
    stored.clear();
    MNEMO_RETURN_IF_ERROR(DecodeTextValue(group, value, &stored));
    kept.clear();
    for (StoredRow& row : stored) {
      if (labels.count(row.label) != 0) {
        removed.push_back(row);
      } else {
        kept.push_back(&row);
      }
    }
    if (kept.size() == stored.size()) continue;
    stored_delta -= static_cast<int64_t>(key.size() + value.size());
    if (kept.empty()) {
      txn.Delete(Cf::kIndex, key);
    } else {
      std::string encoded = EncodeRowGroup(group, kept);
      stored_delta += static_cast<int64_t>(key.size() + encoded.size());
      txn.Put(Cf::kIndex, key, std::move(encoded));
    }
  }
  if (removed.empty()) return Status::Ok();
  txn.OnCommit(
      [this, kind, user = std::string(user_id), removed = std::move(removed), stored_delta] {
        std::shared_ptr<UserIndex> index = Find(kind, user);
        if (!index) return;
        for (const StoredRow& row : removed) index->Remove(row);
        index->ChangeStoredBytes(stored_delta);
      });
  return Status::Ok();
}

Result<TextAnswer> TextIndex::Search(RowKind kind, std::string_view user_id,
                                     const std::vector<std::string>& terms, size_t k,
                                     const std::function<bool(uint64_t label)>& admit) const {
  MNEMO_RETURN_IF_ERROR(AwaitLoad());
  std::vector<std::pair<std::string, std::optional<uint32_t>>> resolved;
  resolved.reserve(terms.size());
  for (const std::string& term : terms) resolved.emplace_back(term, dictionary_->Find(term));
  std::shared_ptr<UserIndex> index = Find(kind, user_id);
  if (!index) {
    TextAnswer answer;
    answer.unknown_terms = terms;
    return answer;
  }
  return index->Search(resolved, k, params_, admit);
}

TextIndexStats TextIndex::Stats() const {
  TextIndexStats stats;
  if (!AwaitLoad().ok()) return stats;  // nothing loaded: the operations report the error
  stats.terms = dictionary_->size();
  std::vector<std::pair<RowKind, std::shared_ptr<UserIndex>>> users;
  {
    std::shared_lock lock(users_mutex_);
    for (const auto& [key, index] : users_)
      users.emplace_back(static_cast<RowKind>(key.front()), index);
  }
  for (const auto& [kind, index] : users) {
    const uint64_t rows_before = stats.rows;
    index->AddStats(&stats);
    if (kind == RowKind::kMessage) stats.message_rows += stats.rows - rows_before;
  }
  return stats;
}

}  // namespace mnemo::text

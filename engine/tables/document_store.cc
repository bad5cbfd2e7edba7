#include "tables/document_store.h"

#include <algorithm>

#include "common/utf8.h"
#include "storage/key_codec.h"
#include "tables/chunk_store.h"
#include "tables/conversation_store.h"
#include "tables/counts.h"
#include "tables/filters.h"
#include "tables/index_pager.h"
#include "tables/purge_queue.h"
#include "tables/row_codec.h"
#include "tables/validation.h"

namespace mnemo::tables {
namespace {

using keys::IndexTag;
using keys::Scope;
using storage::Cf;

Status ValidateNew(const NewDocument& input) {
  if (input.id && input.id->IsNil())
    return Status::ValidationError("id", "must not be the nil UUID");
  MNEMO_RETURN_IF_ERROR(ValidateRequiredText("filename", input.filename, kMaxFilenameChars));
  MNEMO_RETURN_IF_ERROR(ValidateFileType(input.file_type));
  MNEMO_RETURN_IF_ERROR(ValidateText("content", input.content));
  if (input.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *input.metadata));
  return Status::Ok();
}

Result<Document> DecodeFound(std::string_view value, const Uuid& id, std::string_view user_id,
                             bool include_deleted) {
  Document d;
  MNEMO_RETURN_IF_ERROR(DecodeDocument(value, id, &d));
  if (d.user_id != user_id || (d.is_deleted && !include_deleted)) {
    return Status::NotFound("document " + id.ToString() + " not found");
  }
  return d;
}

}  // namespace

Result<Document> DocumentStore::LoadForWrite(const storage::WriteTxn& txn, std::string_view user_id,
                                             const Uuid& id, bool allow_deleted) const {
  std::string value;
  Status status = txn.Get(Cf::kDocuments, keys::DocumentKey(id), &value);
  if (status.IsNotFound()) return Status::NotFound("document " + id.ToString() + " not found");
  MNEMO_RETURN_IF_ERROR(status);
  return DecodeFound(value, id, user_id, allow_deleted);
}

void DocumentStore::StageIndexes(storage::WriteTxn& txn, const Document& d, bool add) const {
  for (Scope scope : {Scope::kActive, Scope::kAll}) {
    if (scope == Scope::kActive && d.is_deleted) continue;
    const std::string key =
        keys::UserTimeKey(IndexTag::kDocumentByCreated, d.user_id, scope, d.created_at, d.id);
    if (add) {
      txn.Put(Cf::kIndex, key, utf8::FoldCase(d.filename));
    } else {
      txn.Delete(Cf::kIndex, key);
    }
  }
}

Status DocumentStore::Save(storage::WriteTxn& txn, const Document* old,
                           const Document& document) const {
  // Index entries and counts depend only on these fields; a chunk write that bumps
  // total_chunks rewrites the row alone.
  const bool listing_changes = old == nullptr || old->is_deleted != document.is_deleted ||
                               old->filename != document.filename ||
                               old->created_at != document.created_at;
  if (listing_changes) {
    const std::string counts_key =
        keys::UserCountsKey(IndexTag::kUserDocumentCounts, document.user_id);
    MNEMO_ASSIGN_OR_RETURN(Counts counts, LoadCounts(txn, counts_key));
    if (old != nullptr) {
      StageIndexes(txn, *old, /*add=*/false);
      Tally(&counts, *old, -1);
    }
    StageIndexes(txn, document, /*add=*/true);
    Tally(&counts, document, +1);
    txn.Put(Cf::kIndex, counts_key, EncodeCounts(counts));
  }
  StagePurgeEntry(txn, keys::PurgeKind::kDocument, old, &document);
  txn.Put(Cf::kDocuments, keys::DocumentKey(document.id), EncodeDocument(document));
  // A new document has no chunks yet: its first chunks publish its state.
  const bool search_state_changes = old != nullptr && (old->is_deleted != document.is_deleted ||
                                                       old->filename != document.filename ||
                                                       old->file_type != document.file_type);
  if (vectors_ != nullptr && search_state_changes)
    vectors_->StageDocumentState(txn, document, /*erased=*/false);
  return Status::Ok();
}

Result<Document> DocumentStore::Create(storage::WriteTxn& txn, std::string_view user_id,
                                       const NewDocument& input) const {
  MNEMO_RETURN_IF_ERROR(ValidateNew(input));
  const Uuid id = input.id.value_or(Uuid::Generate());
  if (input.id) {
    std::string existing;
    Status found = txn.Get(Cf::kDocuments, keys::DocumentKey(id), &existing);
    if (found.ok()) {
      Document d;
      MNEMO_RETURN_IF_ERROR(DecodeDocument(existing, id, &d));
      if (d.user_id != user_id) {
        return Status::DuplicateRecord("document id " + id.ToString() + " is already in use");
      }
      return d;
    }
    if (!found.IsNotFound()) return found;
  }
  Document d;
  d.id = id;
  d.user_id = std::string(user_id);
  d.filename = input.filename;
  d.file_type = input.file_type;
  d.content = input.content;
  d.metadata = input.metadata.value_or("{}");
  d.created_at = d.updated_at = txn.now();
  MNEMO_RETURN_IF_ERROR(Save(txn, nullptr, d));
  return d;
}

Result<Document> DocumentStore::Update(storage::WriteTxn& txn, std::string_view user_id,
                                       const Uuid& id, const DocumentUpdate& update) const {
  if (update.filename)
    MNEMO_RETURN_IF_ERROR(ValidateRequiredText("filename", *update.filename, kMaxFilenameChars));
  if (update.file_type) MNEMO_RETURN_IF_ERROR(ValidateFileType(*update.file_type));
  if (update.content) MNEMO_RETURN_IF_ERROR(ValidateText("content", *update.content));
  if (update.metadata) MNEMO_RETURN_IF_ERROR(ValidateJsonObject("metadata", *update.metadata));
  if (!update.filename && !update.file_type && !update.content && !update.metadata) {
    return Status::ValidationError("update", "names no field to change");
  }
  MNEMO_ASSIGN_OR_RETURN(Document old, LoadForWrite(txn, user_id, id, false));
  Document d = old;
  if (update.filename) d.filename = *update.filename;
  if (update.file_type) d.file_type = *update.file_type;
  if (update.content) d.content = *update.content;
  if (update.metadata) d.metadata = *update.metadata;
  d.updated_at = NextTimestamp(txn.now(), old.updated_at);
  MNEMO_RETURN_IF_ERROR(Save(txn, &old, d));
  return d;
}

Result<Document> DocumentStore::SoftDelete(storage::WriteTxn& txn, std::string_view user_id,
                                           const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(Document old, LoadForWrite(txn, user_id, id, true));
  if (old.is_deleted) return old;
  Document d = old;
  d.is_deleted = true;
  d.updated_at = NextTimestamp(txn.now(), old.updated_at);
  d.deleted_at = d.updated_at;
  MNEMO_RETURN_IF_ERROR(Save(txn, &old, d));
  return d;
}

Result<Document> DocumentStore::Undelete(storage::WriteTxn& txn, std::string_view user_id,
                                         const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(Document old, LoadForWrite(txn, user_id, id, true));
  if (!old.is_deleted) return old;
  Document d = old;
  d.is_deleted = false;
  d.deleted_at.reset();
  d.updated_at = NextTimestamp(txn.now(), old.updated_at);
  MNEMO_RETURN_IF_ERROR(Save(txn, &old, d));
  return d;
}

Result<Document> DocumentStore::HardDelete(storage::WriteTxn& txn, std::string_view user_id,
                                           const Uuid& id) const {
  MNEMO_ASSIGN_OR_RETURN(Document old, LoadForWrite(txn, user_id, id, true));
  if (chunks_ != nullptr)
    MNEMO_RETURN_IF_ERROR(chunks_->StageDeleteDocumentChunks(txn, user_id, id));
  if (vectors_ != nullptr) vectors_->StageDocumentState(txn, old, /*erased=*/true);
  const std::string counts_key = keys::UserCountsKey(IndexTag::kUserDocumentCounts, user_id);
  MNEMO_ASSIGN_OR_RETURN(Counts counts, LoadCounts(txn, counts_key));
  Tally(&counts, old, -1);
  StageIndexes(txn, old, /*add=*/false);
  StagePurgeEntry<Document>(txn, keys::PurgeKind::kDocument, &old, nullptr);
  txn.Put(Cf::kIndex, counts_key, EncodeCounts(counts));
  txn.Delete(Cf::kDocuments, keys::DocumentKey(id));
  return old;
}

Result<Document> DocumentStore::Get(std::string_view user_id, const Uuid& id,
                                    bool include_deleted) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  std::string value;
  Status status = db_.Get(Cf::kDocuments, keys::DocumentKey(id), &value);
  if (status.IsNotFound()) return Status::NotFound("document " + id.ToString() + " not found");
  MNEMO_RETURN_IF_ERROR(status);
  return DecodeFound(value, id, user_id, include_deleted);
}

namespace {

Result<DocumentPage> LoadPage(const storage::ReadView& view, IndexPage page) {
  DocumentPage result;
  result.items.reserve(page.entries.size());
  for (const auto& [key, value] : page.entries) {
    const Uuid id = TrailingId(key);
    std::string row;
    Status status = view.Get(Cf::kDocuments, keys::DocumentKey(id), &row);
    if (status.IsNotFound())
      return Status::Internal("index entry without document row " + id.ToString());
    MNEMO_RETURN_IF_ERROR(status);
    Document d;
    MNEMO_RETURN_IF_ERROR(DecodeDocument(row, id, &d));
    result.items.push_back(std::move(d));
  }
  result.next_cursor = std::move(page.next_cursor);
  return result;
}

// How one list or count walks the user's newest-first document index: its prefix, the
// created_at bounds, and the per-entry conditions (filename from the index entry; file type and
// metadata from the row).
class DocumentScan {
 public:
  static Result<DocumentScan> Plan(std::string_view user_id, bool include_deleted,
                                   const DocumentFilter& filter) {
    MNEMO_RETURN_IF_ERROR(
        ValidateTimeRange("created_until", filter.created_from, filter.created_until));
    for (const std::string& type : filter.file_types) {
      Status valid = ValidateFileType(type);
      if (!valid.ok()) return Status::ValidationError("file_types", valid.message());
    }
    if (filter.filename_contains)
      MNEMO_RETURN_IF_ERROR(ValidateText("filename_contains", *filter.filename_contains));
    DocumentScan scan;
    MNEMO_ASSIGN_OR_RETURN(scan.metadata_, MetadataMatcher::Parse(filter.metadata_equals));
    scan.filter_ = filter;
    if (filter.filename_contains) scan.needle_ = utf8::FoldCase(*filter.filename_contains);
    scan.request_.prefix = keys::UserScopePrefix(IndexTag::kDocumentByCreated, user_id,
                                                 include_deleted ? Scope::kAll : Scope::kActive);
    SetTimeBounds(filter.created_from, filter.created_until, &scan.request_);
    return scan;
  }

  bool Unfiltered() const {
    return !filter_.created_from && !filter_.created_until && filter_.file_types.empty() &&
           !filter_.filename_contains && metadata_.empty();
  }
  PageRequest& request() { return request_; }

  // Borrows this scan and `view`; empty when Unfiltered().
  EntryMatch Match(const storage::ReadView& view) const {
    if (Unfiltered()) return {};
    return [this, &view](std::string_view key, std::string_view value) -> Result<bool> {
      keys::KeyReader reader(key.substr(request_.prefix.size()));
      Timestamp created_at = 0;
      if (!reader.I64Desc(&created_at)) return Status::Internal("corrupt document index key");
      if (!InTimeRange(created_at, filter_.created_from, filter_.created_until)) return false;
      if (filter_.filename_contains && !utf8::ContainsFolded(value, needle_)) return false;
      if (filter_.file_types.empty() && metadata_.empty()) return true;
      const Uuid id = TrailingId(key);
      std::string encoded;
      MNEMO_RETURN_IF_ERROR(view.Get(Cf::kDocuments, keys::DocumentKey(id), &encoded));
      Document d;
      MNEMO_RETURN_IF_ERROR(DecodeDocument(encoded, id, &d));
      if (!filter_.file_types.empty() &&
          std::find(filter_.file_types.begin(), filter_.file_types.end(), d.file_type) ==
              filter_.file_types.end()) {
        return false;
      }
      return metadata_.Matches(d.metadata);
    };
  }

 private:
  DocumentFilter filter_;
  MetadataMatcher metadata_;
  std::string needle_;
  PageRequest request_;
};

}  // namespace

Result<DocumentPage> DocumentStore::List(std::string_view user_id,
                                         const DocumentListOptions& options) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_RETURN_IF_ERROR(ValidatePaging(options.skip, options.limit, kMaxDocumentPageSize));
  MNEMO_ASSIGN_OR_RETURN(DocumentScan scan,
                         DocumentScan::Plan(user_id, options.include_deleted, options.filter));
  PageRequest& request = scan.request();
  request.cursor = options.cursor;
  request.skip = options.skip;
  request.limit = options.limit;
  storage::ReadView view = db_.Snapshot();
  const EntryMatch match = scan.Match(view);
  MNEMO_ASSIGN_OR_RETURN(IndexPage page, ScanPage(view, Cf::kIndex, request, match));
  MNEMO_ASSIGN_OR_RETURN(DocumentPage result, LoadPage(view, std::move(page)));
  if (scan.Unfiltered()) {
    MNEMO_ASSIGN_OR_RETURN(
        Counts counts,
        ReadCounts(view, keys::UserCountsKey(IndexTag::kUserDocumentCounts, user_id)));
    result.total = options.include_deleted ? counts.total : counts.active;
  } else {
    MNEMO_ASSIGN_OR_RETURN(result.total, CountMatches(view, Cf::kIndex, request, match));
  }
  return result;
}

Result<DocumentPage> DocumentStore::SearchByFilename(std::string_view user_id,
                                                     std::string_view query,
                                                     const DocumentListOptions& options) const {
  MNEMO_RETURN_IF_ERROR(ValidateText("query", query));
  DocumentListOptions with_name = options;
  with_name.filter.filename_contains = std::string(query);
  return List(user_id, with_name);
}

Result<int64_t> DocumentStore::CountMatching(std::string_view user_id, bool include_deleted,
                                             const DocumentFilter& filter, int64_t stop_at) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_ASSIGN_OR_RETURN(DocumentScan scan, DocumentScan::Plan(user_id, include_deleted, filter));
  storage::ReadView view = db_.Snapshot();
  if (scan.Unfiltered()) {
    MNEMO_ASSIGN_OR_RETURN(
        Counts counts,
        ReadCounts(view, keys::UserCountsKey(IndexTag::kUserDocumentCounts, user_id)));
    return std::min(include_deleted ? counts.total : counts.active, stop_at);
  }
  return CountMatches(view, Cf::kIndex, scan.request(), scan.Match(view), stop_at);
}

Result<DocumentCounts> DocumentStore::Count(std::string_view user_id) const {
  MNEMO_RETURN_IF_ERROR(ValidateUserId(user_id));
  MNEMO_ASSIGN_OR_RETURN(
      Counts counts,
      ReadCounts(db_.Snapshot(), keys::UserCountsKey(IndexTag::kUserDocumentCounts, user_id)));
  DocumentCounts result;
  result.total = counts.total;
  result.active = counts.active;
  result.deleted = counts.deleted;
  return result;
}

}  // namespace mnemo::tables

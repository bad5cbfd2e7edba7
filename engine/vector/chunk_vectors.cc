// VectorStore's side of chunk writes (tables::ChunkVectors): chunks' vectors, search payloads
// and keyword-index terms.  The chunk rows are the chunk store's.
#include <unordered_map>

#include "kernels/distance.h"
#include "storage/key_codec.h"
#include "vector/chunk_rows.h"
#include "vector/vector_store.h"

namespace mnemo::vector {
namespace {

using storage::Cf;

ChunkPayload PayloadOf(std::string_view user_id, const Chunk& chunk) {
  ChunkPayload payload;
  payload.user_id = std::string(user_id);
  payload.chunk_id = chunk.id;
  payload.document_id = chunk.document_id;
  payload.chunk_index = chunk.chunk_index;
  payload.created_at = chunk.created_at;
  payload.metadata = chunk.metadata;
  return payload;
}

}  // namespace

class VectorStore::NewChunkBatch final : public tables::ChunkVectors::NewChunks {
 public:
  NewChunkBatch(VectorStore& store, std::string_view user_id,
                std::span<const NewChunk* const> inputs)
      : store_(store), user_id_(user_id), inputs_(inputs) {
    staged_rows_.reserve(inputs.size());
    // The keyword index analyzes the texts on its own thread while the chunk store stages the
    // rows; text_sources_[i] is the input of text_rows_[i].
    if (store_.text_) {
      std::vector<std::string_view> texts;
      texts.reserve(inputs.size());
      for (const NewChunk* chunk : inputs) texts.push_back(chunk->chunk_text);
      analysis_ = store_.text_->StartAnalysis(std::move(texts));
    }
  }

  Status Check(size_t i) override {
    const std::vector<float>& embedding = inputs_[i]->embedding;
    const uint32_t dim = store_.dim_;
    checked_ = i;
    unit_.clear();
    if (embedding.size() != dim) {
      return Status::ValidationError("embedding", "has " + std::to_string(embedding.size()) +
                                                      " values; this data directory stores " +
                                                      std::to_string(dim) +
                                                      "-dimensional embeddings");
    }
    // Normalized as the log copies it, unless the norm is tiny (done here, in double precision).
    scale_ = kernels::UnitScale(embedding.data(), dim);
    if (scale_ == 0.0f) {
      unit_ = embedding;
      if (!kernels::Normalize(unit_.data(), unit_.size()))
        return Status::ValidationError("embedding", "must be finite and have a non-zero norm");
    }
    return Status::Ok();
  }

  tables::VectorRef Add(size_t i, const Chunk& chunk, const Document& document) override {
    const tables::VectorRef ref{store_.next_label_.fetch_add(1), MonthOf(chunk.created_at)};
    documents_.emplace(document.id, &document);
    StagedRow& staged = staged_rows_.emplace_back(
        StagedRow{ref.label, ref.month, PayloadOf(user_id_, chunk), nullptr, 1.0f,
                  i == checked_ ? std::move(unit_) : std::vector<float>()});
    unit_.clear();
    staged.values = staged.unit.empty() ? inputs_[i]->embedding.data() : staged.unit.data();
    staged.scale = staged.unit.empty() ? scale_ : 1.0f;
    text_rows_.push_back(text::TextRow{ref.label, ref.month, inputs_[i]->chunk_text});
    text_sources_.push_back(i);
    return ref;
  }

  Status Stage(storage::WriteTxn& txn) override {
    const uint32_t dim = store_.dim_;
    std::vector<VectorLog::NewVector> vectors;
    vectors.reserve(staged_rows_.size());
    for (const StagedRow& staged : staged_rows_) {
      txn.Put(Cf::kIndex, keys::PayloadKey(staged.month, staged.label),
              EncodePayload(staged.payload));
      vectors.push_back(
          VectorLog::NewVector{staged.month, staged.label, staged.values, staged.scale});
    }
    std::vector<const float*> addresses;
    MNEMO_RETURN_IF_ERROR(store_.log_->StagePut(txn, vectors, &addresses));
    for (size_t i = 0; i < staged_rows_.size(); ++i) {
      StagedRow& staged = staged_rows_[i];
      if (addresses[i] != nullptr) {
        staged.stored = addresses[i];
        std::vector<float>().swap(staged.unit);  // fresh rows read it in place: freed
      } else if (staged.unit.empty()) {          // stored inline: the fresh row keeps a copy
        staged.unit.assign(staged.values, staged.values + dim);
        kernels::Scale(staged.unit.data(), dim, staged.scale);
      }
    }
    if (store_.text_) {
      MNEMO_RETURN_IF_ERROR(store_.text_->StageAdd(txn, text::RowKind::kChunk, user_id_, text_rows_,
                                                   *analysis_, text_sources_));
    }
    // The hook keeps only what the row state needs of each document (not its content).
    struct DocumentFields {
      std::string file_type;
      std::string filename;
      bool is_deleted;
    };
    std::unordered_map<Uuid, DocumentFields, UuidHash> document_fields;
    for (const auto& [id, document] : documents_) {
      document_fields.emplace(
          id, DocumentFields{document->file_type, document->filename, document->is_deleted});
    }
    // One hook for the whole write, so the user, each document and each partition are looked up
    // (and locked) once, not once per row.
    txn.OnCommit([&store = store_, user = std::string(user_id_),
                  staged_rows = std::move(staged_rows_),
                  document_fields = std::move(document_fields)]() mutable {
      const uint32_t user_ref = store.TenantFor(user)->user_ref();
      std::unordered_map<Uuid, std::shared_ptr<DocumentState>, UuidHash> states;
      for (const auto& [id, fields] : document_fields) {
        states.emplace(
            id, store.documents_.Upsert(id, fields.file_type, fields.filename, fields.is_deleted));
      }
      std::vector<Tenant::FreshRow> fresh;
      fresh.reserve(staged_rows.size());
      for (StagedRow& staged : staged_rows) {
        RowState row;
        row.user_ref = user_ref;
        row.created_at = staged.payload.created_at;
        row.chunk_index = staged.payload.chunk_index;
        row.chunk_id = staged.payload.chunk_id;
        row.document = states.at(staged.payload.document_id);
        row.metadata = ParseChunkMetadata(staged.payload.metadata);
        fresh.push_back(
            Tenant::FreshRow{staged.label, std::move(row), std::move(staged.unit), staged.stored});
      }
      std::shared_ptr<Tenant> tenant = store.TenantFor(user);
      tenant->InsertBatch(std::move(fresh));
      store.NotifyIndexer(std::move(tenant));
    });
    return Status::Ok();
  }

 private:
  // What the commit hook publishes to search of one added input.
  struct StagedRow {
    uint64_t label;
    uint32_t month;
    ChunkPayload payload;
    // The vector as the log takes it (VectorLog::NewVector): the chunk's embedding and the
    // factor that normalizes it, or `unit` (normalized in double precision) and 1.
    const float* values;
    float scale;
    std::vector<float> unit;        // the fresh row's copy when the vector is not stored in place
    const float* stored = nullptr;  // in place (VectorLog::StagePut)
  };

  VectorStore& store_;
  const std::string_view user_id_;
  const std::span<const NewChunk* const> inputs_;
  std::shared_ptr<text::TextIndex::Analysis> analysis_;
  // The last input checked: its normalizing factor, or its normalized copy.
  size_t checked_ = SIZE_MAX;
  float scale_ = 1.0f;
  std::vector<float> unit_;
  std::vector<StagedRow> staged_rows_;
  std::unordered_map<Uuid, const Document*, UuidHash> documents_;  // borrowed until Stage
  std::vector<text::TextRow> text_rows_;  // the keyword index's view of the added inputs
  std::vector<size_t> text_sources_;
};

std::unique_ptr<tables::ChunkVectors::NewChunks> VectorStore::StartChunks(
    std::string_view user_id, std::span<const NewChunk* const> inputs) {
  return std::make_unique<NewChunkBatch>(*this, user_id, inputs);
}

Status VectorStore::StageHide(storage::WriteTxn& txn, std::string_view user_id, const Chunk& chunk,
                              const tables::VectorRef& ref) {
  txn.Delete(Cf::kIndex, keys::PayloadKey(ref.month, ref.label));
  txn.Put(Cf::kIndex, keys::DeletedPayloadKey(ref.month, ref.label),
          EncodePayload(PayloadOf(user_id, chunk)));
  if (text_)
    MNEMO_RETURN_IF_ERROR(
        text_->StageRemove(txn, text::RowKind::kChunk, user_id, {{ref.month, ref.label}}));
  txn.OnCommit(
      [this, user = std::string(user_id), label = ref.label] { RemoveRows(user, {label}); });
  return Status::Ok();
}

Result<tables::VectorRef> VectorStore::StageShow(storage::WriteTxn& txn, std::string_view user_id,
                                                 const Chunk& chunk, const Document& document,
                                                 const tables::VectorRef& old) {
  std::vector<float> unit;
  MNEMO_RETURN_IF_ERROR(log_->Get(txn, old.month, old.label, &unit));
  const tables::VectorRef ref{next_label_.fetch_add(1), old.month};
  ChunkPayload payload = PayloadOf(user_id, chunk);
  txn.Delete(Cf::kIndex, keys::DeletedPayloadKey(old.month, old.label));
  txn.Put(Cf::kIndex, keys::PayloadKey(ref.month, ref.label), EncodePayload(payload));
  // The record names its (month, label): a new label takes a new record.
  MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, old.month, old.label));
  const VectorLog::NewVector moved{ref.month, ref.label, unit.data()};
  std::vector<const float*> addresses;
  MNEMO_RETURN_IF_ERROR(log_->StagePut(txn, std::span(&moved, 1), &addresses));
  const float* in_place = addresses[0];
  if (in_place != nullptr) std::vector<float>().swap(unit);  // read in place: freed
  if (text_) {
    MNEMO_RETURN_IF_ERROR(text_->StageAdd(txn, text::RowKind::kChunk, user_id,
                                          {text::TextRow{ref.label, ref.month, chunk.chunk_text}}));
  }
  txn.OnCommit([this, label = ref.label, payload = std::move(payload), id = document.id,
                file_type = document.file_type, filename = document.filename,
                is_deleted = document.is_deleted, unit = std::move(unit), in_place]() mutable {
    std::shared_ptr<Tenant> tenant = TenantFor(payload.user_id);
    RowState state;
    state.user_ref = tenant->user_ref();
    state.created_at = payload.created_at;
    state.chunk_index = payload.chunk_index;
    state.chunk_id = payload.chunk_id;
    state.document = documents_.Upsert(id, file_type, filename, is_deleted);
    state.metadata = ParseChunkMetadata(payload.metadata);
    std::vector<Tenant::FreshRow> rows;
    rows.push_back(Tenant::FreshRow{label, std::move(state), std::move(unit), in_place});
    tenant->InsertBatch(std::move(rows));
    NotifyIndexer(tenant);
  });
  return ref;
}

Status VectorStore::StageRemoveChunks(storage::WriteTxn& txn, std::string_view user_id,
                                      std::span<const tables::ChunkVectors::StoredChunk> chunks) {
  std::vector<uint64_t> removed;
  std::vector<text::RowRef> text_rows;
  for (const StoredChunk& chunk : chunks) {
    const tables::VectorRef& ref = chunk.ref;
    MNEMO_RETURN_IF_ERROR(log_->StageDelete(txn, ref.month, ref.label));
    if (chunk.hidden) {  // soft-deleted: its payload sits under the hidden tag, not in search
      txn.Delete(Cf::kIndex, keys::DeletedPayloadKey(ref.month, ref.label));
      continue;
    }
    txn.Delete(Cf::kIndex, keys::PayloadKey(ref.month, ref.label));
    removed.push_back(ref.label);
    text_rows.push_back(text::RowRef{ref.month, ref.label});
  }
  if (text_)
    MNEMO_RETURN_IF_ERROR(text_->StageRemove(txn, text::RowKind::kChunk, user_id, text_rows));
  txn.OnCommit([this, user = std::string(user_id), removed = std::move(removed)] {
    RemoveRows(user, removed);
  });
  return Status::Ok();
}

}  // namespace mnemo::vector

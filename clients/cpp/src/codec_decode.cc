// The decoders of codec.h: verified Response FlatBuffers -> client values.
#include <utility>

#include "codec.h"
#include "flatbuffers/flatbuffers.h"
#include "protocol/wire_codes.h"

namespace mnemo::client::internal {
namespace {

namespace fb = flatbuffers;

template <typename T>
using Offset = fb::Offset<T>;

// ---- decoding helpers -------------------------------------------------------------------------

static_assert(static_cast<uint8_t>(ContextRetrieval::kNone) ==
                  static_cast<uint8_t>(wire::ContextRetrieval::none) &&
              static_cast<uint8_t>(ContextRetrieval::kVector) ==
                  static_cast<uint8_t>(wire::ContextRetrieval::vector) &&
              static_cast<uint8_t>(ContextRetrieval::kKeyword) ==
                  static_cast<uint8_t>(wire::ContextRetrieval::keyword) &&
              static_cast<uint8_t>(ContextRetrieval::kHybrid) ==
                  static_cast<uint8_t>(wire::ContextRetrieval::hybrid));

static_assert(static_cast<uint8_t>(ClusterInfo::Role::kStandalone) ==
                  static_cast<uint8_t>(wire::NodeRole::standalone) &&
              static_cast<uint8_t>(ClusterInfo::Role::kFollower) ==
                  static_cast<uint8_t>(wire::NodeRole::follower) &&
              static_cast<uint8_t>(ClusterInfo::Role::kPrimary) ==
                  static_cast<uint8_t>(wire::NodeRole::primary));

std::string Str(const fb::String* text) { return text ? text->str() : std::string(); }
std::optional<std::string> OptStr(const fb::String* text) {
  if (text == nullptr) return std::nullopt;
  return text->str();
}
std::optional<int64_t> OptScalar(fb::Optional<int64_t> value) {
  if (!value) return std::nullopt;
  return *value;
}
Uuid IdOf(const wire::Id* id) { return id ? UuidFromWire(*id) : Uuid(); }

Role RoleFromWire(wire::Role role) {
  const auto value = static_cast<uint8_t>(role);
  return value <= static_cast<uint8_t>(Role::kTool) ? static_cast<Role>(value) : Role::kUser;
}

Conversation ToConversation(const wire::Conversation& in) {
  Conversation out;
  out.id = IdOf(in.id());
  out.user_id = Str(in.user_id());
  out.title = Str(in.title());
  out.summary = OptStr(in.summary());
  out.model = Str(in.model());
  out.system_prompt = Str(in.system_prompt());
  out.metadata = Str(in.metadata());
  out.is_deleted = in.is_deleted();
  out.deleted_at = OptScalar(in.deleted_at());
  out.created_at = in.created_at();
  out.updated_at = in.updated_at();
  out.message_count = in.message_count();
  out.total_tokens = in.total_tokens();
  out.last_message_at = OptScalar(in.last_message_at());
  return out;
}

Message ToMessage(const wire::Message& in) {
  Message out;
  out.id = IdOf(in.id());
  out.conversation_id = IdOf(in.conversation_id());
  out.role = RoleFromWire(in.role());
  out.content = Str(in.content());
  out.parts = OptStr(in.parts());
  out.tool_calls = OptStr(in.tool_calls());
  out.tool_results = OptStr(in.tool_results());
  out.attachments = OptStr(in.attachments());
  out.tokens_used = OptScalar(in.tokens_used());
  out.metadata = Str(in.metadata());
  out.created_at = in.created_at();
  out.has_embedding = in.has_embedding();
  return out;
}

Document ToDocument(const wire::Document& in) {
  Document out;
  out.id = IdOf(in.id());
  out.user_id = Str(in.user_id());
  out.filename = Str(in.filename());
  out.file_type = Str(in.file_type());
  out.content = Str(in.content());
  out.total_chunks = in.total_chunks();
  out.metadata = Str(in.metadata());
  out.is_deleted = in.is_deleted();
  out.deleted_at = OptScalar(in.deleted_at());
  out.created_at = in.created_at();
  out.updated_at = in.updated_at();
  return out;
}

Chunk ToChunk(const wire::Chunk& in) {
  Chunk out;
  out.id = IdOf(in.id());
  out.document_id = IdOf(in.document_id());
  out.chunk_index = in.chunk_index();
  out.chunk_text = Str(in.chunk_text());
  out.metadata = Str(in.metadata());
  out.created_at = in.created_at();
  out.is_deleted = in.is_deleted();
  out.deleted_at = OptScalar(in.deleted_at());
  return out;
}

SearchHit ToSearchHit(const wire::SearchHit& hit) {
  SearchHit h;
  h.chunk_id = IdOf(hit.chunk_id());
  h.document_id = IdOf(hit.document_id());
  h.chunk_index = hit.chunk_index();
  h.chunk_text = Str(hit.chunk_text());
  h.filename = Str(hit.filename());
  h.similarity = hit.similarity();
  h.created_at = hit.created_at();
  return h;
}

RankedHit ToRankedHit(const wire::RankedHit& in) {
  RankedHit out;
  if (in.hit() != nullptr) out.hit = ToSearchHit(*in.hit());
  out.score = in.score();
  if (in.bm25()) out.bm25 = *in.bm25();
  if (in.similarity()) out.similarity = *in.similarity();
  out.text_rank = in.text_rank();
  out.vector_rank = in.vector_rank();
  return out;
}

// A fusion this client does not know is reported as the default.
Fusion ToFusion(wire::Fusion fusion) {
  return fusion == wire::Fusion::weighted ? Fusion::kWeighted : Fusion::kRrf;
}

std::vector<std::string> Strings(const fb::Vector<Offset<fb::String>>* items) {
  std::vector<std::string> out;
  if (items == nullptr) return out;
  for (const fb::String* item : *items) out.push_back(Str(item));
  return out;
}

TextLegInfo ToTextLegInfo(const wire::TextLegInfo& text) {
  TextLegInfo out;
  out.ran = text.ran();
  out.terms = Strings(text.terms());
  out.stopwords_ignored = text.stopwords_ignored();
  out.unknown_terms = Strings(text.unknown_terms());
  out.candidates = text.candidates();
  out.rows = text.rows();
  out.postings = text.postings();
  out.rows_scored = text.rows_scored();
  out.exact = text.exact();
  return out;
}

VectorLegInfo ToVectorLegInfo(const wire::VectorLegInfo& vector) {
  VectorLegInfo out;
  out.ran = vector.ran();
  out.exact = vector.exact();
  out.ef_used = vector.ef_used();
  out.partitions_searched = vector.partitions_searched();
  out.candidates = vector.candidates();
  return out;
}

SearchResponse ToSearchResponse(const wire::SearchReply& in) {
  SearchResponse out;
  if (in.hits() != nullptr) {
    out.hits.reserve(in.hits()->size());
    for (const wire::SearchHit* hit : *in.hits()) {
      if (hit != nullptr) out.hits.push_back(ToSearchHit(*hit));
    }
  }
  out.exact = in.exact();
  out.ef_used = in.ef_used();
  out.fewer_than_top_k = in.fewer_than_top_k();
  out.partitions_searched = in.partitions_searched();
  return out;
}

PartitionInfo ToPartition(const wire::PartitionInfo& in) {
  PartitionInfo out;
  out.month = Str(in.month());
  out.rows = in.rows();
  out.vector_bytes = in.vector_bytes();
  out.index_bytes = in.index_bytes();
  out.pending_rows = in.pending_rows();
  out.deleted_in_index = in.deleted_in_index();
  return out;
}

std::vector<PartitionInfo> ToPartitions(const fb::Vector<Offset<wire::PartitionInfo>>* in) {
  std::vector<PartitionInfo> out;
  if (in == nullptr) return out;
  out.reserve(in->size());
  for (const wire::PartitionInfo* info : *in) {
    if (info != nullptr) out.push_back(ToPartition(*info));
  }
  return out;
}

template <typename Out, typename In, typename Convert>
std::vector<Out> ToVector(const fb::Vector<Offset<In>>* in, Convert convert) {
  std::vector<Out> out;
  if (in == nullptr) return out;
  out.reserve(in->size());
  for (const In* item : *in) {
    if (item != nullptr) out.push_back(convert(*item));
  }
  return out;
}

std::string_view BodyName(wire::ResponseBody type) {
  const char* name = wire::EnumNameResponseBody(type);
  return name != nullptr && *name != '\0' ? name : "unknown";
}

// The typed body of a successful response, or the response's error, or INTERNAL_ERROR when the
// body is of another type.
template <typename Body>
Result<const Body*> BodyOf(const wire::Response& response) {
  if (response.error() != nullptr) return ErrorFromWire(*response.error());
  constexpr wire::ResponseBody kExpected = wire::ResponseBodyTraits<Body>::enum_value;
  if (response.body_type() != kExpected || response.body() == nullptr) {
    return Error{Code::kInternalError,
                 "unexpected response body " + std::string(BodyName(response.body_type())) +
                     " (expected " + std::string(BodyName(kExpected)) + ")",
                 ""};
  }
  return static_cast<const Body*>(response.body());
}

}  // namespace

// ---- ids and errors ---------------------------------------------------------------------------

Uuid UuidFromWire(const wire::Id& id) { return protocol::FromWire(id); }
wire::Id UuidToWire(const Uuid& id) { return protocol::ToWire(id); }

Code CodeFromWire(wire::StatusCode code) {
  return protocol::FromWire(code).value_or(Code::kInternalError);
}

Error ErrorFromWire(const wire::Error& error) {
  Error out{CodeFromWire(error.code()), Str(error.message()), Str(error.field())};
  if (out.code == Code::kNotPrimary) {
    out.primary_address = Str(error.primary_address());
    out.primary_epoch = error.primary_epoch();
  }
  if (out.code == Code::kOk) {
    // An error table that says OK is a broken response, not a success.
    out.code = Code::kInternalError;
    if (out.message.empty()) out.message = "error response with code OK";
  }
  if (!protocol::FromWire(error.code())) {
    out.message = "unknown status code " + std::to_string(static_cast<int>(error.code())) + ": " +
                  out.message;
  }
  return out;
}

// ---- decoders ---------------------------------------------------------------------------------

Result<ServerInfo> DecodeHelloReply(const wire::Response& response) {
  auto body = BodyOf<wire::HelloReply>(response);
  if (!body.ok()) return body.error();
  const wire::HelloReply& in = **body;
  ServerInfo out;
  out.protocol_version = in.protocol_version();
  out.server_version = Str(in.server_version());
  out.max_frame_bytes = in.max_frame_bytes();
  out.max_in_flight = in.max_in_flight();
  out.dimension = in.dimension();
  out.principal = Str(in.principal());
  return out;
}

Result<Conversation> DecodeConversation(const wire::Response& response) {
  auto body = BodyOf<wire::ConversationReply>(response);
  if (!body.ok()) return body.error();
  if ((*body)->conversation() == nullptr) {
    return Error{Code::kInternalError, "ConversationReply without a conversation", ""};
  }
  return ToConversation(*(*body)->conversation());
}

Result<ConversationPage> DecodeConversationPage(const wire::Response& response) {
  auto body = BodyOf<wire::ConversationPage>(response);
  if (!body.ok()) return body.error();
  ConversationPage out;
  out.items = ToVector<Conversation>((*body)->items(), ToConversation);
  out.total = (*body)->total();
  out.next_cursor = Str((*body)->next_cursor());
  return out;
}

Result<UserStats> DecodeUserStats(const wire::Response& response) {
  auto body = BodyOf<wire::UserStats>(response);
  if (!body.ok()) return body.error();
  UserStats out;
  out.total = (*body)->total();
  out.active = (*body)->active();
  out.deleted = (*body)->deleted();
  out.last_activity = OptScalar((*body)->last_activity());
  return out;
}

Result<Message> DecodeMessage(const wire::Response& response) {
  auto body = BodyOf<wire::MessageReply>(response);
  if (!body.ok()) return body.error();
  if ((*body)->message() == nullptr) return Error{Code::kNotFound, "message not found", ""};
  return ToMessage(*(*body)->message());
}

Result<std::optional<Message>> DecodeOptionalMessage(const wire::Response& response) {
  auto body = BodyOf<wire::MessageReply>(response);
  if (!body.ok()) return body.error();
  if ((*body)->message() == nullptr) return std::optional<Message>();
  return std::optional<Message>(ToMessage(*(*body)->message()));
}

Result<MessagePage> DecodeMessagePage(const wire::Response& response) {
  auto body = BodyOf<wire::MessageList>(response);
  if (!body.ok()) return body.error();
  MessagePage out;
  out.items = ToVector<Message>((*body)->items(), ToMessage);
  out.total = (*body)->total();
  out.next_cursor = Str((*body)->next_cursor());
  return out;
}

Result<std::vector<Message>> DecodeMessages(const wire::Response& response) {
  auto body = BodyOf<wire::MessageList>(response);
  if (!body.ok()) return body.error();
  return ToVector<Message>((*body)->items(), ToMessage);
}

Result<TokenStats> DecodeTokenStats(const wire::Response& response) {
  auto body = BodyOf<wire::TokenStats>(response);
  if (!body.ok()) return body.error();
  const wire::TokenStats& in = **body;
  TokenStats out;
  out.message_count = in.message_count();
  out.messages_with_tokens = in.messages_with_tokens();
  out.total_tokens = in.total_tokens();
  out.average_tokens = in.average_tokens();
  if (in.per_role() != nullptr) {
    for (const wire::RoleTokens* role : *in.per_role()) {
      if (role == nullptr) continue;
      const auto index = static_cast<size_t>(role->role());
      if (index >= out.per_role.size()) continue;  // a role this client does not know
      out.per_role[index].message_count = role->message_count();
      out.per_role[index].total_tokens = role->total_tokens();
    }
  }
  return out;
}

Result<int64_t> DecodeCount(const wire::Response& response) {
  auto body = BodyOf<wire::CountReply>(response);
  if (!body.ok()) return body.error();
  return (*body)->count();
}

Result<Document> DecodeDocument(const wire::Response& response) {
  auto body = BodyOf<wire::DocumentReply>(response);
  if (!body.ok()) return body.error();
  if ((*body)->document() == nullptr) {
    return Error{Code::kInternalError, "DocumentReply without a document", ""};
  }
  return ToDocument(*(*body)->document());
}

Result<DocumentPage> DecodeDocumentPage(const wire::Response& response) {
  auto body = BodyOf<wire::DocumentPage>(response);
  if (!body.ok()) return body.error();
  DocumentPage out;
  out.items = ToVector<Document>((*body)->items(), ToDocument);
  out.total = (*body)->total();
  out.next_cursor = Str((*body)->next_cursor());
  return out;
}

Result<DocumentCounts> DecodeDocumentCounts(const wire::Response& response) {
  auto body = BodyOf<wire::DocumentCounts>(response);
  if (!body.ok()) return body.error();
  DocumentCounts out;
  out.total = (*body)->total();
  out.active = (*body)->active();
  out.deleted = (*body)->deleted();
  return out;
}

Result<std::vector<Chunk>> DecodeChunks(const wire::Response& response) {
  auto body = BodyOf<wire::ChunkList>(response);
  if (!body.ok()) return body.error();
  return ToVector<Chunk>((*body)->chunks(), ToChunk);
}

Result<Chunk> DecodeChunk(const wire::Response& response) {
  auto body = BodyOf<wire::ChunkReply>(response);
  if (!body.ok()) return body.error();
  if ((*body)->chunk() == nullptr)
    return Error{Code::kInternalError, "ChunkReply without a chunk", ""};
  return ToChunk(*(*body)->chunk());
}

Result<ChunkPage> DecodeChunkPage(const wire::Response& response) {
  auto body = BodyOf<wire::ChunkPage>(response);
  if (!body.ok()) return body.error();
  ChunkPage out;
  out.items = ToVector<Chunk>((*body)->items(), ToChunk);
  out.total = (*body)->total();
  out.next_cursor = Str((*body)->next_cursor());
  return out;
}

Result<bool> DecodeExists(const wire::Response& response) {
  auto count = DecodeCount(response);
  if (!count.ok()) return count.error();
  return *count > 0;
}

Result<RetentionReport> DecodeRetention(const wire::Response& response) {
  auto body = BodyOf<wire::RetentionReply>(response);
  if (!body.ok()) return body.error();
  const wire::RetentionReply& in = **body;
  RetentionReport out;
  out.now = in.now();
  out.month_cutoff = in.month_cutoff();
  out.purge_cutoff = in.purge_cutoff();
  out.retired = ToVector<RetiredMonth>(in.retired(), [](const wire::RetiredMonth& month) {
    return RetiredMonth{Str(month.month()), month.rows(), Str(month.archive_path())};
  });
  out.conversations_purged = in.conversations_purged();
  out.documents_purged = in.documents_purged();
  out.chunks_purged = in.chunks_purged();
  return out;
}

Result<SearchResponse> DecodeSearch(const wire::Response& response) {
  auto body = BodyOf<wire::SearchReply>(response);
  if (!body.ok()) return body.error();
  return ToSearchResponse(**body);
}

Result<std::vector<SearchResponse>> DecodeSearchBatch(const wire::Response& response) {
  auto body = BodyOf<wire::SearchBatchReply>(response);
  if (!body.ok()) return body.error();
  return ToVector<SearchResponse>((*body)->results(), ToSearchResponse);
}

Result<RankedSearchResponse> DecodeRankedSearch(const wire::Response& response) {
  auto body = BodyOf<wire::RankedSearchReply>(response);
  if (!body.ok()) return body.error();
  const wire::RankedSearchReply& in = **body;
  RankedSearchResponse out;
  if (in.hits() != nullptr) {
    out.hits.reserve(in.hits()->size());
    for (const wire::RankedHit* hit : *in.hits()) {
      if (hit != nullptr) out.hits.push_back(ToRankedHit(*hit));
    }
  }
  out.fewer_than_top_k = in.fewer_than_top_k();
  out.fusion = ToFusion(in.fusion());
  if (in.text() != nullptr) out.text = ToTextLegInfo(*in.text());
  if (in.vector() != nullptr) out.vector = ToVectorLegInfo(*in.vector());
  return out;
}

Result<ContextResponse> DecodeContext(const wire::Response& response) {
  auto body = BodyOf<wire::ContextReply>(response);
  if (!body.ok()) return body.error();
  const wire::ContextReply& in = **body;
  ContextResponse out;
  if (in.conversation() != nullptr) out.conversation = ToConversation(*in.conversation());
  out.messages = ToVector<ContextMessage>(in.messages(), [](const wire::ContextMessage& item) {
    ContextMessage m;
    if (item.message() != nullptr) m.message = ToMessage(*item.message());
    m.tokens = item.tokens();
    // A source this client does not know was not a measured count.
    m.token_source = item.token_source() == wire::TokenSource::measured ? TokenSource::kMeasured
                                                                        : TokenSource::kEstimated;
    return m;
  });
  out.chunks = ToVector<ContextChunk>(in.chunks(), [](const wire::ContextChunk& item) {
    ContextChunk c;
    if (item.hit() != nullptr) c.hit = ToRankedHit(*item.hit());
    c.tokens = item.tokens();
    return c;
  });
  // Kept as sent: a value past kHybrid is a retrieval kind newer than this client.
  out.retrieval = static_cast<ContextRetrieval>(in.retrieval());
  if (const wire::ContextBudget* budget = in.budget()) {
    out.budget.budget = budget->budget();
    out.budget.system_prompt_tokens = budget->system_prompt_tokens();
    out.budget.message_tokens = budget->message_tokens();
    out.budget.chunk_tokens = budget->chunk_tokens();
    out.budget.remaining = budget->remaining();
    out.budget.messages_left_out = budget->messages_left_out();
    out.budget.chunks_left_out = budget->chunks_left_out();
    out.budget.memory_tokens = budget->memory_tokens();
    out.budget.memories_left_out = budget->memories_left_out();
  }
  out.memories = ToVector<ContextMemory>(in.memories(), [](const wire::ContextMemory& item) {
    ContextMemory m;
    if (item.message() != nullptr) m.message = ToMessage(*item.message());
    m.similarity = item.similarity();
    m.score = item.score();
    if (item.bm25()) m.bm25 = *item.bm25();
    m.tokens = item.tokens();
    m.token_source = item.token_source() == wire::TokenSource::measured ? TokenSource::kMeasured
                                                                        : TokenSource::kEstimated;
    return m;
  });
  return out;
}

Result<MessageSearchResponse> DecodeMessageSearch(const wire::Response& response) {
  auto body = BodyOf<wire::MessageSearchReply>(response);
  if (!body.ok()) return body.error();
  const wire::MessageSearchReply& in = **body;
  MessageSearchResponse out;
  out.hits = ToVector<MessageHit>(in.hits(), [](const wire::MessageHit& item) {
    MessageHit hit;
    if (item.message() != nullptr) hit.message = ToMessage(*item.message());
    hit.similarity = item.similarity();
    hit.score = item.score();
    if (item.bm25()) hit.bm25 = *item.bm25();
    hit.text_rank = item.text_rank();
    hit.vector_rank = item.vector_rank();
    return hit;
  });
  out.exact = in.exact();
  out.ef_used = in.ef_used();
  out.fewer_than_top_k = in.fewer_than_top_k();
  out.fusion = ToFusion(in.fusion());
  if (in.text() != nullptr) out.text = ToTextLegInfo(*in.text());
  if (in.vector() != nullptr) {
    out.vector = ToVectorLegInfo(*in.vector());
  } else {
    // A server before keyword message search ran the vector leg only.
    out.vector.ran = true;
    out.vector.exact = out.exact;
    out.vector.ef_used = out.ef_used;
    out.vector.candidates = static_cast<int64_t>(out.hits.size());
  }
  return out;
}

Result<std::vector<Uuid>> DecodeBatchIds(const wire::Response& response) {
  auto body = BodyOf<wire::BatchReply>(response);
  if (!body.ok()) return body.error();
  std::vector<Uuid> out;
  if ((*body)->ids() != nullptr) {
    out.reserve((*body)->ids()->size());
    for (const wire::Id* id : *(*body)->ids()) out.push_back(IdOf(id));
  }
  return out;
}

Result<std::vector<PartitionInfo>> DecodePartitions(const wire::Response& response) {
  auto body = BodyOf<wire::PartitionList>(response);
  if (!body.ok()) return body.error();
  return ToPartitions((*body)->partitions());
}

Result<AttachResult> DecodeAttach(const wire::Response& response) {
  auto body = BodyOf<wire::AttachReply>(response);
  if (!body.ok()) return body.error();
  return AttachResult{(*body)->attached(), (*body)->skipped()};
}

Result<SnapshotManifest> DecodeSnapshotManifest(const wire::Response& response) {
  auto body = BodyOf<wire::SnapshotManifest>(response);
  if (!body.ok()) return body.error();
  SnapshotManifest out{Str((*body)->snapshot_id()), {}};
  if (const auto* files = (*body)->files()) {
    out.files.reserve(files->size());
    for (const wire::SnapshotFile* file : *files) {
      out.files.push_back(SnapshotFile{Str(file->path()), file->size()});
    }
  }
  return out;
}

Result<SnapshotChunkData> DecodeSnapshotChunk(const wire::Response& response) {
  auto body = BodyOf<wire::SnapshotChunk>(response);
  if (!body.ok()) return body.error();
  SnapshotChunkData out;
  if (const auto* data = (*body)->data()) {
    out.data.assign(reinterpret_cast<const char*>(data->data()), data->size());
  }
  out.crc32c = (*body)->crc32c();
  return out;
}

Result<FollowBatch> DecodeFollow(const wire::Response& response) {
  auto body = BodyOf<wire::FollowReply>(response);
  if (!body.ok()) return body.error();
  FollowBatch out;
  out.last_seq = (*body)->last_seq();
  if (const auto* records = (*body)->records()) {
    out.records.reserve(records->size());
    for (const wire::LogEntry* entry : *records) {
      LogEntry record;
      record.seq = entry->seq();
      if (const auto* bytes = entry->record()) {
        record.record.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
      }
      out.records.push_back(std::move(record));
    }
  }
  return out;
}

Result<ServerStats> DecodeStats(const wire::Response& response) {
  auto body = BodyOf<wire::StatsReply>(response);
  if (!body.ok()) return body.error();
  const wire::StatsReply& in = **body;
  ServerStats out;
  out.uptime_seconds = in.uptime_seconds();
  out.connections = in.connections();
  out.partitions = ToPartitions(in.partitions());
  out.ops = ToVector<OpStats>(in.ops(), [](const wire::OpStats& op) {
    return OpStats{Str(op.name()), op.count(), op.errors(), op.p50_us(), op.p99_us()};
  });
  out.data_bytes = in.data_bytes();
  if (const wire::TextIndexInfo* text = in.text()) {
    out.text = TextIndexInfo{text->rows(),         text->terms(),        text->postings(),
                             text->stored_bytes(), text->memory_bytes(), text->message_rows()};
  }
  if (const wire::ClusterInfo* cluster = in.cluster()) {
    out.cluster.role = static_cast<ClusterInfo::Role>(cluster->role());
    if (cluster->role() > wire::NodeRole::MAX) out.cluster.role = ClusterInfo::Role::kStandalone;
    out.cluster.cluster = Str(cluster->cluster());
    out.cluster.node_id = Str(cluster->node_id());
    out.cluster.address = Str(cluster->address());
    out.cluster.epoch = cluster->epoch();
    out.cluster.writable = cluster->writable();
    out.cluster.primary_node_id = Str(cluster->primary_node_id());
    out.cluster.primary_address = Str(cluster->primary_address());
    out.cluster.primary_epoch = cluster->primary_epoch();
    out.cluster.applied_seq = cluster->applied_seq();
    out.cluster.lag_records = cluster->lag_records();
    if (cluster->lag_ms() >= 0) out.cluster.lag = std::chrono::milliseconds(cluster->lag_ms());
  }
  return out;
}

Result<void> DecodeDone(const wire::Response& response) {
  if (response.error() != nullptr) return ErrorFromWire(*response.error());
  return {};
}

}  // namespace mnemo::client::internal

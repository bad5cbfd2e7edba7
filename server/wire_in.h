// Wire -> engine: turns verified request tables into the engine's input types.
//
// A required sub-table or id that is absent is VALIDATION_ERROR naming the field; everything
// else (lengths, JSON, roles, dimensions) is validated by the engine.  Thread-safety: stateless.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mnemo/batch.h"
#include "mnemo/records.h"
#include "mnemo/result.h"
#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::server {

Uuid FromWireId(const wire::Id& id);
// The id, or VALIDATION_ERROR naming `field` when absent.
Result<Uuid> RequireId(const wire::Id* id, const char* field);
std::optional<Uuid> OptionalId(const wire::Id* id);

// An absent string reads as empty / nullopt.
std::string StringOf(const flatbuffers::String* text);
std::optional<std::string> OptionalString(const flatbuffers::String* text);

Result<NewConversation> FromWire(const wire::NewConversation* input, const char* field);
Result<NewMessage> FromWire(const wire::NewMessage* input, const char* field);
Result<NewDocument> FromWire(const wire::NewDocument* input, const char* field);
Result<NewChunk> FromWire(const wire::NewChunk* input, const char* field);
Result<SearchRequest> FromWire(const wire::SearchQuery* input, const char* field);
Result<SearchFilters> FiltersFromWire(const wire::SearchFilters* input);
Result<TextSearchRequest> FromWire(const wire::SearchTextRequest& input);
Result<HybridSearchRequest> FromWire(const wire::SearchHybridRequest& input);
// Message-search filters; an absent table matches all.  A role that is not one of user,
// assistant, system, tool is VALIDATION_ERROR naming `<field>.roles`.
Result<MessageSearchFilters> MessageFiltersFromWire(const wire::MessageSearchFilters* input,
                                                    const char* field);
// The query, top_k, min_similarity and ef are the engine's to validate.
Result<MessageSearchRequest> FromWire(const wire::SearchMessagesRequest& input);
// VALIDATION_ERROR ("fusion") for a value this build does not know.
Result<Fusion> FusionFromWire(wire::Fusion fusion);
// conversation_id is required; the budget, counts and query are the engine's to validate.
Result<ContextRequest> FromWire(const wire::AssembleContextRequest& input);
// Metadata conditions; an entry without key or value is VALIDATION_ERROR naming `field`.
Result<MetadataEquals> MetadataFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::MetadataEquals>>* items, const char* field);
// Filters: an absent table is the empty filter.
Result<ConversationFilter> FromWire(const wire::ConversationFilter* input);
Result<DocumentFilter> FromWire(const wire::DocumentFilter* input);
// Sets the filter fields of `query` that `input` sets.
Status ApplyFilter(const wire::MessageFilter* input, MessageQuery* query);
MessageUpdate FromWire(const wire::UpdateMessageRequest& input);
DocumentUpdate FromWire(const wire::UpdateDocumentRequest& input);
// A list of chunks of a request; at most kMaxChunksPerWrite.
Result<std::vector<NewChunk>> ChunksFromWire(
    const flatbuffers::Vector<flatbuffers::Offset<wire::NewChunk>>* chunks);
// Exactly one field of a BatchOp must be set.
Result<WriteOp> FromWire(const wire::BatchOp* input, const char* field);

// "user" | "assistant" | "system" | "tool", else VALIDATION_ERROR (field role).
Result<Role> RoleFromString(const std::string& name);

}  // namespace mnemo::server

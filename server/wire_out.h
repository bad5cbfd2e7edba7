// Engine -> wire: builds response tables from engine records (status codes and ids convert
// through protocol/wire_codes.h).
//
// Thread-safety: stateless; each FlatBufferBuilder is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mnemo/records.h"
#include "mnemo/status.h"
#include "mnemo/wire/mnemo_generated.h"

namespace mnemo::server {

wire::Id ToWireId(const Uuid& id);
wire::Role ToWireRole(Role role);

using Builder = flatbuffers::FlatBufferBuilder;

flatbuffers::Offset<wire::Conversation> BuildConversation(Builder& fbb, const Conversation& row);
flatbuffers::Offset<wire::Message> BuildMessage(Builder& fbb, const Message& row);
flatbuffers::Offset<wire::Document> BuildDocument(Builder& fbb, const Document& row);
flatbuffers::Offset<wire::Chunk> BuildChunk(Builder& fbb, const Chunk& row);
flatbuffers::Offset<wire::SearchHit> BuildSearchHit(Builder& fbb, const SearchHit& hit);
flatbuffers::Offset<wire::SearchReply> BuildSearchReply(Builder& fbb,
                                                        const SearchResponse& response);
flatbuffers::Offset<wire::RankedSearchReply> BuildRankedSearchReply(
    Builder& fbb, const RankedSearchResponse& response);
flatbuffers::Offset<wire::RankedHit> BuildRankedHit(Builder& fbb, const RankedHit& ranked);
flatbuffers::Offset<wire::ContextReply> BuildContextReply(Builder& fbb,
                                                          const ContextResponse& response);
flatbuffers::Offset<wire::MessageSearchReply> BuildMessageSearchReply(
    Builder& fbb, const MessageSearchResponse& response);
flatbuffers::Offset<wire::PartitionInfo> BuildPartitionInfo(Builder& fbb,
                                                            const PartitionInfo& info);
flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::PartitionInfo>>>
BuildPartitionInfos(Builder& fbb, const std::vector<PartitionInfo>& infos);

// A finished Response payload (not framed) carrying an error.  `id` 0 is for frames that could
// not be read as a request.
std::string ErrorResponse(uint64_t id, const Status& status);
// A NOT_PRIMARY error Response carrying where the primary is (`primary_address` empty: none
// known) and its epoch.
std::string NotPrimaryResponse(uint64_t id, const std::string& message,
                               const std::string& primary_address, uint64_t primary_epoch);
// Finishes `fbb` with a successful Response around `body` and returns the payload bytes.
std::string FinishResponse(Builder& fbb, uint64_t id, wire::ResponseBody type,
                           flatbuffers::Offset<void> body);

}  // namespace mnemo::server

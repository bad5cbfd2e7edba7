// The conversation workload against mnemod over the wire (C++ client).  Preload: one atomic
// batch per conversation (the conversation plus its messages), on 2 client threads.
//
// Thread-safety: see conversation_workload.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "conversation_workload.h"

namespace mnemo::bench {

// A store talking to the mnemod listening on 127.0.0.1:`port`.
std::unique_ptr<ConversationStore> MakeMnemoConversationStore(uint16_t port);

}  // namespace mnemo::bench

// The conversation workload against PostgreSQL 15 on the seeds' schema (seed 000: conversations
// and messages tables with all their indexes), on a throwaway server the harness starts (see
// postgres_server.h).  Each session is one libpq connection with prepared statements;
// autocommit, synchronous_commit=on, so every append is durable when it returns.
//
// Thread-safety: see conversation_workload.h.
#pragma once

#include <memory>
#include <string>

#include "conversation_workload.h"

namespace mnemo::bench {

// Starts PostgreSQL and returns a store on it (the store stops the server when destroyed).
// Null with the reason in *error when PostgreSQL cannot be started (binaries missing, not built
// with libpq, initdb failing...); `*version` gets the server's version string otherwise.
std::unique_ptr<ConversationStore> StartPostgresConversationStore(std::string* version,
                                                                  std::string* error);

}  // namespace mnemo::bench

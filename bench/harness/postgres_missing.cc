// StartPostgresConversationStore for builds without libpq: always reports why it cannot run.
#include "postgres_conversations.h"

namespace mnemo::bench {

std::unique_ptr<ConversationStore> StartPostgresConversationStore(std::string*,
                                                                  std::string* error) {
  *error = "mnemo-bench was built without libpq (install libpq-dev and reconfigure)";
  return nullptr;
}

}  // namespace mnemo::bench

// Background threads (graph linking, backfills, loading the keyword index) run at a lower CPU
// priority than the threads answering requests: on a node with few cores, the work a client
// waits for gets the cores first.
#pragma once

#include <string_view>

namespace mnemo {

// The background threads' nice value.  On an idle core such a thread runs at full speed; under
// contention it gets about a third of a request thread's share.
inline constexpr int kBackgroundNice = 5;

// Sets the calling thread's nice value to kBackgroundNice (Linux: setpriority with a thread id
// changes that thread only).  Best effort: a refusal is logged at debug level, naming `what`.
void RunAtBackgroundPriority(std::string_view what);

}  // namespace mnemo

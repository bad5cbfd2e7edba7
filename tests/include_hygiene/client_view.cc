// Compiled with exactly the include directories a client target sees (the C++ client library,
// mnemo-rest): the build fails if a client can reach a header of the engine, the server, the
// protocol internals or the source tree.  Clients get their own headers and mnemo_base's.
#include "mnemo/base/limits.h"
#include "mnemo/client/client.h"

#if __has_include("mnemo/engine.h")
#error "the engine's API reaches a client target: mnemo/engine.h"
#endif
#if __has_include("mnemo/status.h")
#error "the engine's API reaches a client target: mnemo/status.h"
#endif
#if __has_include("storage/db.h")
#error "engine internals reach a client target: storage/db.h"
#endif
#if __has_include("common/coding.h")
#error "engine internals reach a client target: common/coding.h"
#endif
#if __has_include("kernels/distance.h")
#error "engine internals reach a client target: kernels/distance.h"
#endif
#if __has_include("vector/hnsw/hnsw_index.h")
#error "engine internals reach a client target: vector/hnsw/hnsw_index.h"
#endif
#if __has_include("testing/temp_dir.h")
#error "engine test helpers reach a client target: testing/temp_dir.h"
#endif
#if __has_include("engine/storage/db.h")
#error "the source tree reaches a client target: engine/storage/db.h"
#endif
#if __has_include("server/server.h")
#error "the server reaches a client target: server/server.h"
#endif
#if __has_include("base/hex.cc")
#error "the source tree reaches a client target: base/hex.cc"
#endif
#ifdef MNEMO_CHECK_NO_PROTOCOL
// mnemo_client uses the protocol privately; its users do not see it.
#if __has_include("protocol/frame.h")
#error "the protocol reaches a client's user: protocol/frame.h"
#endif
#if __has_include("mnemo/wire/mnemo_generated.h")
#error "the protocol reaches a client's user: mnemo/wire/mnemo_generated.h"
#endif
#endif

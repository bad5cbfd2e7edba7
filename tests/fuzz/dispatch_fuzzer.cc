// Fuzz target: request verification and dispatch, in process, against a real Engine in a
// temporary directory (dimension 8, unsynced writes; state accumulates across inputs, as on a
// live server).
//
// Input: a selector byte, then one Request payload.  The selector picks who asks (the service
// principal, or user keys pinned to "alice" / "bob") or, for Hello bodies, the handshake
// against a key store holding one service and one user key.  Properties: a verified request
// always gets a reply that verifies as a Response, echoes the request id, and carries exactly
// one of error / body; a rejected payload says why.  Requests naming a path on this machine
// (backup, archive, attach, retention with an archive directory) are not dispatched: the fuzzer
// must not write where it likes.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "mnemo/engine.h"
#include "protocol/verify.h"
#include "server/auth/key_store.h"
#include "server/dispatcher.h"
#include "server/hello.h"
#include "server/stats.h"

namespace mnemo::fuzz {
namespace {

using server::KeyKind;
using server::Principal;
using wire::RequestBody;

constexpr uint32_t kDimension = 8;

// Everything the target keeps across inputs.  Destroyed at exit: closes the engine, then
// removes the directory.
struct World {
  std::filesystem::path dir;
  std::unique_ptr<Engine> engine;
  server::ServerStats stats;
  std::unique_ptr<server::Dispatcher> dispatcher;
  std::unique_ptr<server::KeyStore> keys;

  World() {
    spdlog::set_level(spdlog::level::critical);  // the dispatcher logs every request
    dir = std::filesystem::temp_directory_path() /
          ("mnemo-fuzz-dispatch-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    EngineOptions options;
    options.data_dir = (dir / "data").string();
    options.dimension = kDimension;
    options.sync_writes = false;
    options.block_cache_bytes = size_t{8} << 20;
    auto opened = Engine::Open(options);
    if (!opened.ok()) {
      std::fprintf(stderr, "cannot open the engine: %s\n", opened.status().ToString().c_str());
      std::abort();
    }
    engine = std::move(opened).value();
    dispatcher = std::make_unique<server::Dispatcher>(
        *engine, stats, server::DispatcherOptions{options.data_dir, 1u << 20});
    keys = std::make_unique<server::KeyStore>((dir / "keys.json").string());
    if (!keys->Create(KeyKind::kService, "").ok() || !keys->Create(KeyKind::kUser, "alice").ok())
      std::abort();
  }
  ~World() {
    dispatcher.reset();
    engine.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

World& TheWorld() {
  static World world;
  return world;
}

bool TouchesTheFileSystem(const wire::Request& request) {
  const RequestBody type = request.body_type();
  if (type == RequestBody::ApplyRetentionRequest) {  // only when it names an archive directory
    const auto* retention = request.body_as_ApplyRetentionRequest();
    return retention == nullptr || retention->archive_dir() != nullptr;
  }
  return type == RequestBody::CreateBackupRequest || type == RequestBody::ArchivePartitionRequest ||
         type == RequestBody::AttachArchiveRequest;
}

void CheckReply(const std::string& reply, uint64_t request_id) {
  std::string error;
  const wire::Response* response = protocol::VerifyResponse(reply, &error);
  FUZZ_CHECK(response != nullptr);
  FUZZ_CHECK(response->id() == request_id);
  FUZZ_CHECK((response->error() != nullptr) != (response->body_type() != wire::ResponseBody::NONE));
}

void Run(uint8_t selector, std::string_view payload) {
  const std::string aligned(payload);
  std::string error;
  const wire::Request* request = protocol::VerifyRequest(aligned, &error);
  if (request == nullptr) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  World& world = TheWorld();
  if (request->body_type() == RequestBody::Hello) {
    server::HelloSettings settings{1u << 20, 64, kDimension, (selector & 1) != 0};
    const server::HelloOutcome outcome = server::HandleHello(*request, *world.keys, settings);
    CheckReply(outcome.response, request->id());
    return;
  }
  if (TouchesTheFileSystem(*request)) return;
  static const Principal kPrincipals[] = {
      {KeyKind::kService, "", "svc0000000000000"},
      {KeyKind::kUser, "alice", "alice00000000000"},
      {KeyKind::kUser, "bob", "bob0000000000000"},
  };
  const Principal& principal = kPrincipals[selector % 3];
  CheckReply(world.dispatcher->Handle(principal, *request), request->id());
}

}  // namespace
}  // namespace mnemo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mnemo::fuzz::FuzzInput input(data, size);
  const uint8_t selector = input.Byte();
  mnemo::fuzz::Run(selector, input.Rest());
  return 0;
}

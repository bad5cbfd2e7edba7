// FetchSnapshot: copies a server's data, as one consistent snapshot, into a local directory
// (Client::OpenSnapshot, ReadSnapshot in CRC-checked chunks, CloseSnapshot).  `mnemo snapshot
// fetch` and a replica's bootstrap both use it; each decides where the copy goes and how it is
// put into place afterwards.
//
// Thread-safety: a free function; it uses `client` for its whole duration (the Client itself is
// thread-safe).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "mnemo/client/client.h"

namespace mnemo::client {

struct FetchedSnapshot {
  std::string id;      // the snapshot's id on the server
  size_t files = 0;    // files written
  uint64_t bytes = 0;  // their total size
  // Why closing the snapshot on the server failed (the server deletes it later by itself);
  // empty when it closed.
  std::string close_problem;
};

// Opens a snapshot on the server, writes each of its files under `dir` (creating subdirectories),
// syncs every file, every directory under `dir` and `dir` itself, and closes the snapshot on the
// server, also when the copy fails.  A file the server names outside the snapshot (absolute, or
// leading out with "..") is refused.  Errors: the server's error when it makes no snapshot or a
// read fails (UNAVAILABLE for a chunk whose CRC does not match); INTERNAL_ERROR when a local file
// cannot be created, written or synced, or a file's size differs from the manifest.  On an error
// what was written stays in `dir` for the caller to inspect or remove.
// REQUIRES: `dir` exists and is empty (files are created exclusively).
Result<FetchedSnapshot> FetchSnapshot(Client& client, const std::filesystem::path& dir);

}  // namespace mnemo::client

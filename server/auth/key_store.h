// KeyStore: the API keys of one data directory, kept hashed in `<data>/auth/keys.json`.
//
// A key's text is "mnemo_<id>_<secret>": <id> is 16 hex digits naming the record, <secret> 64
// hex digits from the system's random source.  Only SHA-256(<secret>) is stored.  The file is
// replaced atomically (temp file + fsync + rename) under an advisory lock, so the `mnemo` CLI may
// create and revoke keys while mnemod runs; mnemod re-reads the file when it changes (checked on
// each Verify, i.e. once per Hello).
//
// File layout (JSON, format 1):
//   {"format": 1,
//    "keys": [{"id": "0123456789abcdef", "kind": "service" | "user", "user_id": "alice" | "",
//              "sha256": "<64 hex>", "created_at": "2026-11-23T22:58:00.123456Z",
//              "revoked": false, "revoked_at": "..." (present once revoked)}]}
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mnemo/result.h"
#include "mnemo/types.h"
#include "server/auth/principal.h"

namespace mnemo::server {

struct ApiKeyRecord {
  std::string id;
  KeyKind kind = KeyKind::kService;
  std::string user_id;        // pinned user (user keys); empty for service keys
  std::string secret_sha256;  // lower-case hex
  Timestamp created_at = 0;
  bool revoked = false;
  std::optional<Timestamp> revoked_at;
};

struct CreatedKey {
  ApiKeyRecord record;
  std::string key;  // the full key text; shown once, never stored
};

class KeyStore {
 public:
  // `<data_dir>/auth/keys.json`.
  static std::string PathFor(const std::string& data_dir);

  // Does no I/O; a missing file means "no keys".
  explicit KeyStore(std::string path);

  const std::string& path() const { return path_; }

  // Re-reads the file if it changed since the last read.  UNAVAILABLE with the path and the
  // reason when the file cannot be read or is not a valid key file; the previous contents are
  // then kept for List/HasKeys but Verify fails closed.
  Status Refresh();

  // Whether any key (revoked or not) exists.  Protected mode is "no keys".
  Result<bool> HasKeys();
  Result<std::vector<ApiKeyRecord>> List();

  // Creates a key and writes the file.  VALIDATION_ERROR (field user_id) when a user key has no
  // user_id, a service key has one, or the id is longer than 255 bytes.
  Result<CreatedKey> Create(KeyKind kind, std::string_view user_id);
  // Marks a key revoked.  NOT_FOUND for an unknown id; revoking twice is OK.
  Status Revoke(std::string_view id);

  // The principal of a key text.  AUTHENTICATION_ERROR for malformed, unknown or revoked keys;
  // UNAVAILABLE when the key file cannot be read.
  Result<Principal> Verify(std::string_view api_key);

  // Changes whenever the keys may have changed (a re-read, a create, a revoke): connections
  // compare it with the value they authenticated under and re-check their principal when it moved.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // Whether a principal authenticated earlier may still act (no file I/O: call Refresh() to see
  // other processes' changes).  AUTHENTICATION_ERROR when its key has been revoked or removed,
  // or, for the protected-mode principal, once any key exists; UNAVAILABLE when the key file
  // could not be read (fails closed).
  Status CheckStillValid(const Principal& principal);

 private:
  struct FileStamp {
    bool exists = false;
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
  };

  Status RefreshLocked();  // REQUIRES: mutex_ held
  // Read-modify-write under the file lock.  `mutate` edits the records; its Status aborts.
  template <typename Fn>
  Status Mutate(Fn&& mutate);

  const std::string path_;
  std::mutex mutex_;
  std::vector<ApiKeyRecord> keys_;       // GUARDED_BY(mutex_)
  std::optional<FileStamp> loaded_;      // GUARDED_BY(mutex_): stamp of the file keys_ came from
  Status load_error_;                    // GUARDED_BY(mutex_): the last refresh's failure
  std::atomic<uint64_t> generation_{0};  // bumped under mutex_ whenever keys_ is re-read or written
};

// Parses the JSON text of a key file; `path` only names it in errors.
Result<std::vector<ApiKeyRecord>> ParseKeyFile(std::string_view text, const std::string& path);
std::string SerializeKeyFile(const std::vector<ApiKeyRecord>& keys);

}  // namespace mnemo::server

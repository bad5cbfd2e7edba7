#include "server/auth/key_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "mnemo/base/hex.h"
#include "mnemo/base/limits.h"
#include "mnemo/base/sha256.h"

namespace mnemo::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFileFormat = 1;
constexpr size_t kIdHexDigits = 16;
constexpr size_t kSecretHexDigits = 64;
constexpr std::string_view kKeyPrefix = "mnemo_";

std::string RandomHex(size_t digits) {
  std::random_device source("/dev/urandom");
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    uint32_t word = source();
    for (int i = 0; i < 8 && out.size() < digits; ++i, word >>= 4) out.push_back(kLowerHexDigits[word & 0xf]);
  }
  return out;
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// An exclusive advisory lock on `<auth dir>/keys.lock`, held while the file is rewritten.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600)) {
    if (fd_ < 0) {
      error_ = Errno("opening lock file " + path);
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        error_ = Errno("locking " + path);
        return;
      }
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  const std::string& error() const { return error_; }

 private:
  int fd_;
  std::string error_;
};

// Writes `contents` to `path` atomically: a temp file beside it, fsync, rename, fsync the dir.
Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable(Errno("creating " + temp));
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status failed = Status::Unavailable(Errno("writing " + temp));
      ::close(fd);
      ::unlink(temp.c_str());
      return failed;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Status failed = Status::Unavailable(Errno("syncing " + temp));
    ::unlink(temp.c_str());
    return failed;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status failed = Status::Unavailable(Errno("renaming " + temp + " to " + path));
    ::unlink(temp.c_str());
    return failed;
  }
  const std::string dir = fs::path(path).parent_path().string();
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::Ok();
}

Timestamp ParseTime(const json& value, const std::string& where) {
  if (!value.is_string()) throw std::runtime_error(where + " is not a timestamp string");
  auto parsed = ParseTimestamp(value.get<std::string>());
  if (!parsed) throw std::runtime_error(where + " is not an ISO-8601 timestamp");
  return *parsed;
}

}  // namespace

std::string KeyStore::PathFor(const std::string& data_dir) {
  return (fs::path(data_dir) / "auth" / "keys.json").string();
}

KeyStore::KeyStore(std::string path) : path_(std::move(path)) {}

Result<std::vector<ApiKeyRecord>> ParseKeyFile(std::string_view text, const std::string& path) {
  const auto corrupt = [&](const std::string& why) {
    return Status::Unavailable("key file " + path + " is corrupt: " + why);
  };
  json root = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return corrupt("not valid JSON");
  if (!root.is_object()) return corrupt("the top level is not an object");
  if (!root.contains("format") || root["format"] != kFileFormat) {
    return corrupt("unknown format (expected \"format\": 1)");
  }
  if (!root.contains("keys") || !root["keys"].is_array()) return corrupt("\"keys\" is not an array");
  std::vector<ApiKeyRecord> keys;
  try {
    for (size_t i = 0; i < root["keys"].size(); ++i) {
      const json& entry = root["keys"][i];
      const std::string where = "key " + std::to_string(i);
      if (!entry.is_object()) throw std::runtime_error(where + " is not an object");
      ApiKeyRecord record;
      record.id = entry.at("id").get<std::string>();
      if (record.id.size() != kIdHexDigits || !IsLowerHex(record.id)) {
        throw std::runtime_error(where + " has a malformed id");
      }
      if (!ParseKeyKind(entry.at("kind").get<std::string>(), &record.kind)) {
        throw std::runtime_error(where + " has an unknown kind");
      }
      record.user_id = entry.at("user_id").get<std::string>();
      if ((record.kind == KeyKind::kUser) == record.user_id.empty()) {
        throw std::runtime_error(where + ": user keys need a user_id, service keys have none");
      }
      record.secret_sha256 = entry.at("sha256").get<std::string>();
      if (record.secret_sha256.size() != 64 || !IsLowerHex(record.secret_sha256)) {
        throw std::runtime_error(where + " has a malformed sha256");
      }
      record.created_at = ParseTime(entry.at("created_at"), where + " created_at");
      record.revoked = entry.at("revoked").get<bool>();
      if (entry.contains("revoked_at")) record.revoked_at = ParseTime(entry["revoked_at"], where + " revoked_at");
      keys.push_back(std::move(record));
    }
  } catch (const std::exception& e) {
    return corrupt(e.what());
  }
  return keys;
}

std::string SerializeKeyFile(const std::vector<ApiKeyRecord>& keys) {
  json list = json::array();
  for (const auto& key : keys) {
    json entry = {{"id", key.id},
                  {"kind", std::string(KeyKindName(key.kind))},
                  {"user_id", key.user_id},
                  {"sha256", key.secret_sha256},
                  {"created_at", FormatTimestamp(key.created_at)},
                  {"revoked", key.revoked}};
    if (key.revoked_at) entry["revoked_at"] = FormatTimestamp(*key.revoked_at);
    list.push_back(std::move(entry));
  }
  json root = {{"format", kFileFormat}, {"keys", std::move(list)}};
  return root.dump(2) + "\n";
}

Status KeyStore::Refresh() {
  std::lock_guard lock(mutex_);
  return RefreshLocked();
}

Status KeyStore::RefreshLocked() {
  FileStamp stamp;
  struct stat info {};
  if (::stat(path_.c_str(), &info) == 0) {
    stamp.exists = true;
    stamp.inode = info.st_ino;
    stamp.size = info.st_size;
    stamp.mtime_ns = int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
  } else if (errno != ENOENT) {
    load_error_ = Status::Unavailable(Errno("reading key file " + path_));
    generation_.fetch_add(1, std::memory_order_acq_rel);
    return load_error_;
  }
  if (loaded_ && *loaded_ == stamp) return load_error_;
  generation_.fetch_add(1, std::memory_order_acq_rel);

  if (!stamp.exists) {
    keys_.clear();
    loaded_ = stamp;
    load_error_ = Status::Ok();
    return load_error_;
  }
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    load_error_ = Status::Unavailable(Errno("reading key file " + path_));
    loaded_ = stamp;
    return load_error_;
  }
  auto parsed = ParseKeyFile(text.str(), path_);
  loaded_ = stamp;
  if (!parsed.ok()) {
    load_error_ = parsed.status();
    return load_error_;
  }
  keys_ = std::move(parsed).value();
  load_error_ = Status::Ok();
  return load_error_;
}

Result<bool> KeyStore::HasKeys() {
  std::lock_guard lock(mutex_);
  MNEMO_RETURN_IF_ERROR(RefreshLocked());
  return !keys_.empty();
}

Result<std::vector<ApiKeyRecord>> KeyStore::List() {
  std::lock_guard lock(mutex_);
  MNEMO_RETURN_IF_ERROR(RefreshLocked());
  return keys_;
}

template <typename Fn>
Status KeyStore::Mutate(Fn&& mutate) {
  std::lock_guard lock(mutex_);
  const fs::path dir = fs::path(path_).parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("creating " + dir.string() + ": " + ec.message());
  FileLock file_lock((dir / "keys.lock").string());
  if (!file_lock.error().empty()) return Status::Unavailable(file_lock.error());
  loaded_.reset();  // another process may have written since: read under the lock
  MNEMO_RETURN_IF_ERROR(RefreshLocked());
  std::vector<ApiKeyRecord> updated = keys_;
  MNEMO_RETURN_IF_ERROR(mutate(updated));
  MNEMO_RETURN_IF_ERROR(WriteFileAtomically(path_, SerializeKeyFile(updated)));
  keys_ = std::move(updated);
  loaded_.reset();  // re-stat on the next read
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

Result<CreatedKey> KeyStore::Create(KeyKind kind, std::string_view user_id) {
  if (kind == KeyKind::kUser && user_id.empty()) {
    return Status::ValidationError("user_id", "a user key needs the user id it is pinned to");
  }
  if (kind == KeyKind::kService && !user_id.empty()) {
    return Status::ValidationError("user_id", "a service key acts for any user and takes no user id");
  }
  if (user_id.size() > kMaxUserIdBytes) {
    return Status::ValidationError("user_id", "user id is longer than 255 bytes");
  }
  CreatedKey created;
  const std::string secret = RandomHex(kSecretHexDigits);
  created.record.kind = kind;
  created.record.user_id = std::string(user_id);
  created.record.secret_sha256 = Sha256Hex(secret);
  created.record.created_at = NowMicros();
  Status written = Mutate([&](std::vector<ApiKeyRecord>& keys) {
    for (;;) {  // 64 random bits: a collision is practically impossible, but stay correct
      created.record.id = RandomHex(kIdHexDigits);
      bool taken = false;
      for (const auto& key : keys) taken |= key.id == created.record.id;
      if (!taken) break;
    }
    keys.push_back(created.record);
    return Status::Ok();
  });
  if (!written.ok()) return written;
  created.key = std::string(kKeyPrefix) + created.record.id + "_" + secret;
  return created;
}

Status KeyStore::Revoke(std::string_view id) {
  return Mutate([&](std::vector<ApiKeyRecord>& keys) {
    for (auto& key : keys) {
      if (key.id != id) continue;
      if (!key.revoked) {
        key.revoked = true;
        key.revoked_at = NowMicros();
      }
      return Status::Ok();
    }
    return Status::NotFound("no key with id " + std::string(id));
  });
}

Result<Principal> KeyStore::Verify(std::string_view api_key) {
  const auto rejected = [] {
    return Status::FromCode(StatusCode::kAuthenticationError, "invalid api key");
  };
  if (!api_key.starts_with(kKeyPrefix)) return rejected();
  api_key.remove_prefix(kKeyPrefix.size());
  if (api_key.size() != kIdHexDigits + 1 + kSecretHexDigits || api_key[kIdHexDigits] != '_') {
    return rejected();
  }
  const std::string_view id = api_key.substr(0, kIdHexDigits);
  const std::string digest = Sha256Hex(api_key.substr(kIdHexDigits + 1));

  std::lock_guard lock(mutex_);
  MNEMO_RETURN_IF_ERROR(RefreshLocked());
  for (const auto& key : keys_) {
    if (key.id != id) continue;
    if (!ConstantTimeEquals(key.secret_sha256, digest)) return rejected();
    if (key.revoked) {
      return Status::FromCode(StatusCode::kAuthenticationError, "api key " + key.id + " has been revoked");
    }
    return Principal{key.kind, key.user_id, key.id};
  }
  return rejected();
}

Status KeyStore::CheckStillValid(const Principal& principal) {
  std::lock_guard lock(mutex_);
  if (!load_error_.ok()) return load_error_;
  if (principal.key_id.empty()) {  // the protected-mode principal
    if (keys_.empty()) return Status::Ok();
    return Status::FromCode(StatusCode::kAuthenticationError,
                            "API keys exist now, so protected mode has ended: reconnect with a key");
  }
  for (const auto& key : keys_) {
    if (key.id != principal.key_id) continue;
    if (!key.revoked) return Status::Ok();
    return Status::FromCode(StatusCode::kAuthenticationError, "api key " + key.id + " has been revoked");
  }
  return Status::FromCode(StatusCode::kAuthenticationError, "api key " + principal.key_id + " no longer exists");
}

}  // namespace mnemo::server

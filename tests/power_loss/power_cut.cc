#include "power_cut.h"

#include <rocksdb/file_system.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

namespace mnemo::testing {

namespace fs = std::filesystem;
using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

struct PowerCut::Node {
  bool dir = false;
  // Files: the bytes now, and the bytes a cut leaves.  `rewritten`: something other than an
  // append happened since the last sync (else `durable` is a prefix of `data`).
  std::string data;
  std::string durable;
  bool rewritten = false;
  // Directories: the entries now, and the entries a cut leaves.
  std::map<std::string, NodePtr> entries;
  std::map<std::string, NodePtr> durable_entries;
};

namespace {

std::string_view View(const Slice& slice) { return {slice.data(), slice.size()}; }

// ---- RocksDB's file system ----------------------------------------------------------------

class TrackedWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::string path,
                      uint64_t offset, std::shared_ptr<PowerCut> cut)
      : FSWritableFileOwnerWrapper(std::move(file)),
        path_(std::move(path)),
        offset_(offset),
        cut_(std::move(cut)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return Wrote(target()->Append(data, options, dbg), offset_, data);
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return Wrote(target()->Append(data, options, info, dbg), offset_, data);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return Wrote(target()->PositionedAppend(data, offset, options, dbg), offset, data);
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Wrote(target()->PositionedAppend(data, offset, options, info, dbg), offset, data);
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = target()->Truncate(size, options, dbg);
    if (status.ok()) {
      cut_->FileTruncated(path_, size);
      offset_ = size;
    }
    return status;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return Synced(target()->Sync(options, dbg));
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Synced(target()->Fsync(options, dbg));
  }

 private:
  IOStatus Wrote(IOStatus status, uint64_t offset, const Slice& data) {
    if (status.ok()) {
      cut_->FileWritten(path_, offset, View(data));
      offset_ = std::max(offset_, offset + data.size());
    }
    return status;
  }
  IOStatus Synced(IOStatus status) {
    if (status.ok()) cut_->FileSynced(path_);
    return status;
  }

  const std::string path_;
  uint64_t offset_;
  const std::shared_ptr<PowerCut> cut_;
};

class TrackedRandomRWFile final : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  TrackedRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> file, std::string path,
                      std::shared_ptr<PowerCut> cut)
      : FSRandomRWFileOwnerWrapper(std::move(file)), path_(std::move(path)), cut_(std::move(cut)) {}

  IOStatus Write(uint64_t offset, const Slice& data, const IOOptions& options,
                 IODebugContext* dbg) override {
    IOStatus status = target()->Write(offset, data, options, dbg);
    if (status.ok()) cut_->FileWritten(path_, offset, View(data));
    return status;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = target()->Sync(options, dbg);
    if (status.ok()) cut_->FileSynced(path_);
    return status;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = target()->Fsync(options, dbg);
    if (status.ok()) cut_->FileSynced(path_);
    return status;
  }

 private:
  const std::string path_;
  const std::shared_ptr<PowerCut> cut_;
};

class TrackedDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, std::string path,
                   std::shared_ptr<PowerCut> cut)
      : FSDirectoryWrapper(std::move(dir)), path_(std::move(path)), cut_(std::move(cut)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus status = FSDirectoryWrapper::Fsync(options, dbg);
    if (status.ok()) cut_->DirSynced(path_);
    return status;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    IOStatus status = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
    if (status.ok()) cut_->DirSynced(path_);
    return status;
  }

 private:
  const std::string path_;
  const std::shared_ptr<PowerCut> cut_;
};

class PowerCutRocksFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit PowerCutRocksFs(std::shared_ptr<PowerCut> cut)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), cut_(std::move(cut)) {}

  const char* Name() const override { return "PowerCutFileSystem"; }

  IOStatus NewWritableFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    IOStatus status = target()->NewWritableFile(path, options, result, dbg);
    if (status.ok()) {
      cut_->FileCreated(path);
      *result = std::make_unique<TrackedWritableFile>(std::move(*result), path, 0, cut_);
    }
    return status;
  }
  IOStatus ReopenWritableFile(const std::string& path, const FileOptions& options,
                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                              IODebugContext* dbg) override {
    IOStatus status = target()->ReopenWritableFile(path, options, result, dbg);
    if (status.ok()) {
      cut_->FileOpened(path);
      std::error_code ec;
      const uint64_t size = fs::file_size(path, ec);
      *result =
          std::make_unique<TrackedWritableFile>(std::move(*result), path, ec ? 0 : size, cut_);
    }
    return status;
  }
  IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                             const FileOptions& options,
                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                             IODebugContext* dbg) override {
    IOStatus status = target()->ReuseWritableFile(path, old_path, options, result, dbg);
    if (status.ok()) {
      cut_->Renamed(old_path, path);
      cut_->FileOpened(path);
      *result = std::make_unique<TrackedWritableFile>(std::move(*result), path, 0, cut_);
    }
    return status;
  }
  IOStatus NewRandomRWFile(const std::string& path, const FileOptions& options,
                           std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                           IODebugContext* dbg) override {
    IOStatus status = target()->NewRandomRWFile(path, options, result, dbg);
    if (status.ok()) {
      cut_->FileOpened(path);
      *result = std::make_unique<TrackedRandomRWFile>(std::move(*result), path, cut_);
    }
    return status;
  }
  IOStatus NewDirectory(const std::string& path, const IOOptions& options,
                        std::unique_ptr<rocksdb::FSDirectory>* result,
                        IODebugContext* dbg) override {
    IOStatus status = target()->NewDirectory(path, options, result, dbg);
    if (status.ok()) *result = std::make_unique<TrackedDirectory>(std::move(*result), path, cut_);
    return status;
  }
  IOStatus DeleteFile(const std::string& path, const IOOptions& options,
                      IODebugContext* dbg) override {
    return Then(target()->DeleteFile(path, options, dbg), [&] { cut_->Removed(path); });
  }
  IOStatus DeleteDir(const std::string& path, const IOOptions& options,
                     IODebugContext* dbg) override {
    return Then(target()->DeleteDir(path, options, dbg), [&] { cut_->Removed(path); });
  }
  IOStatus Truncate(const std::string& path, size_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    return Then(target()->Truncate(path, size, options, dbg),
                [&] { cut_->FileTruncated(path, size); });
  }
  IOStatus CreateDir(const std::string& path, const IOOptions& options,
                     IODebugContext* dbg) override {
    return Then(target()->CreateDir(path, options, dbg), [&] { cut_->DirCreated(path); });
  }
  IOStatus CreateDirIfMissing(const std::string& path, const IOOptions& options,
                              IODebugContext* dbg) override {
    return Then(target()->CreateDirIfMissing(path, options, dbg), [&] { cut_->DirCreated(path); });
  }
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                      IODebugContext* dbg) override {
    return Then(target()->RenameFile(from, to, options, dbg), [&] { cut_->Renamed(from, to); });
  }
  IOStatus LinkFile(const std::string& from, const std::string& to, const IOOptions& options,
                    IODebugContext* dbg) override {
    return Then(target()->LinkFile(from, to, options, dbg), [&] { cut_->Linked(from, to); });
  }

 private:
  template <typename Fn>
  static IOStatus Then(IOStatus status, Fn&& fn) {
    if (status.ok()) fn();
    return status;
  }

  const std::shared_ptr<PowerCut> cut_;
};

// ---- mnemo's file system ------------------------------------------------------------------

class TrackedFile final : public WritableFile {
 public:
  TrackedFile(std::unique_ptr<WritableFile> file, std::string path, std::shared_ptr<PowerCut> cut)
      : file_(std::move(file)), path_(std::move(path)), cut_(std::move(cut)) {}

  Status Append(std::string_view data) override {
    MNEMO_RETURN_IF_ERROR(file_->Append(data));
    cut_->FileWritten(path_, offset_, data);
    offset_ += data.size();
    return Status::Ok();
  }
  Status Sync() override {
    MNEMO_RETURN_IF_ERROR(file_->Sync());
    cut_->FileSynced(path_);
    return Status::Ok();
  }
  Status Close() override { return file_->Close(); }

 private:
  const std::unique_ptr<WritableFile> file_;
  const std::string path_;
  const std::shared_ptr<PowerCut> cut_;
  uint64_t offset_ = 0;
};

class TrackedRWFile final : public RandomRWFile {
 public:
  TrackedRWFile(std::unique_ptr<RandomRWFile> file, std::string path, std::shared_ptr<PowerCut> cut)
      : file_(std::move(file)), path_(std::move(path)), cut_(std::move(cut)) {}

  Status Write(uint64_t offset, std::string_view data) override {
    MNEMO_RETURN_IF_ERROR(file_->Write(offset, data));
    cut_->FileWritten(path_, offset, data);
    return Status::Ok();
  }
  Status Read(uint64_t offset, size_t n, char* out) const override {
    return file_->Read(offset, n, out);
  }
  Status Sync() override {
    MNEMO_RETURN_IF_ERROR(file_->Sync());
    cut_->FileSynced(path_);
    return Status::Ok();
  }
  Result<uint64_t> Size() const override { return file_->Size(); }

 private:
  const std::unique_ptr<RandomRWFile> file_;
  const std::string path_;
  const std::shared_ptr<PowerCut> cut_;
};

class PowerCutMnemoFs final : public FileSystem {
 public:
  explicit PowerCutMnemoFs(std::shared_ptr<PowerCut> cut) : cut_(std::move(cut)) {}

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, real().NewWritableFile(path));
    cut_->FileCreated(path);
    return std::unique_ptr<WritableFile>(new TrackedFile(std::move(file), path, cut_));
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return real().NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRWFile(const std::string& path,
                                                         bool create) override {
    std::error_code ec;
    const bool existed = fs::exists(path, ec);
    MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<RandomRWFile> file,
                           real().OpenRandomRWFile(path, create));
    if (existed) {
      cut_->FileOpened(path);
    } else {
      cut_->FileCreated(path);
    }
    return std::unique_ptr<RandomRWFile>(new TrackedRWFile(std::move(file), path, cut_));
  }
  Status Rename(const std::string& from, const std::string& to) override {
    MNEMO_RETURN_IF_ERROR(real().Rename(from, to));
    cut_->Renamed(from, to);
    return Status::Ok();
  }
  Status Remove(const std::string& path) override {
    MNEMO_RETURN_IF_ERROR(real().Remove(path));
    cut_->Removed(path);
    return Status::Ok();
  }
  Status CreateDir(const std::string& path) override {
    MNEMO_RETURN_IF_ERROR(real().CreateDir(path));
    cut_->DirCreated(path);
    return Status::Ok();
  }
  Status SyncDir(const std::string& path) override {
    MNEMO_RETURN_IF_ERROR(real().SyncDir(path));
    cut_->DirSynced(path);
    return Status::Ok();
  }
  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    return real().ListDir(path);
  }

 private:
  static FileSystem& real() { return PosixFileSystem(); }
  const std::shared_ptr<PowerCut> cut_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

PowerCut::PowerCut(std::string root) : root_(std::move(root)) {}

std::shared_ptr<PowerCut> PowerCut::Create(const std::string& root) {
  std::shared_ptr<PowerCut> cut(new PowerCut(fs::absolute(root).lexically_normal().string()));
  // The tree as it is now, all durable; hard links share one node.
  std::map<std::pair<dev_t, ino_t>, NodePtr> by_inode;
  std::function<NodePtr(const fs::path&)> scan = [&](const fs::path& dir) {
    auto node = std::make_shared<Node>();
    node->dir = true;
    for (const auto& entry : fs::directory_iterator(dir)) {
      NodePtr child;
      if (entry.is_directory()) {
        child = scan(entry.path());
      } else {
        struct stat info;
        ::stat(entry.path().c_str(), &info);
        NodePtr& known = by_inode[{info.st_dev, info.st_ino}];
        if (!known) {
          known = std::make_shared<Node>();
          known->data = known->durable = ReadFile(entry.path());
        }
        child = known;
      }
      node->entries[entry.path().filename().string()] = child;
    }
    node->durable_entries = node->entries;
    return node;
  };
  cut->tree_ = scan(cut->root_);
  return cut;
}

std::shared_ptr<rocksdb::FileSystem> PowerCut::RocksDbFileSystem() {
  return std::make_shared<PowerCutRocksFs>(shared_from_this());
}

std::shared_ptr<FileSystem> PowerCut::MnemoFileSystem() {
  return std::make_shared<PowerCutMnemoFs>(shared_from_this());
}

void PowerCut::Freeze() {
  std::lock_guard lock(mu_);
  frozen_ = true;
}

bool PowerCut::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

PowerCut::Counts PowerCut::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

bool PowerCut::Split(const std::string& path, std::vector<std::string>* parts) const {
  const fs::path relative = fs::absolute(path).lexically_normal().lexically_relative(root_);
  if (relative.empty()) return false;
  parts->clear();
  for (const auto& part : relative) {
    const std::string text = part.string();
    if (text == "..") return false;
    if (!text.empty() && text != ".") parts->push_back(text);
  }
  return true;
}

PowerCut::Node* PowerCut::ParentOf(const std::string& path, std::string* name) const {
  std::vector<std::string> parts;
  if (!Split(path, &parts) || parts.empty()) return nullptr;
  Node* node = tree_.get();
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = node->entries.find(parts[i]);
    if (it == node->entries.end() || !it->second->dir) return nullptr;
    node = it->second.get();
  }
  *name = parts.back();
  return node;
}

PowerCut::NodePtr PowerCut::Find(const std::string& path) const {
  std::vector<std::string> parts;
  if (!Split(path, &parts)) return nullptr;
  if (parts.empty()) return tree_;
  std::string name;
  Node* parent = ParentOf(path, &name);
  if (parent == nullptr) return nullptr;
  auto it = parent->entries.find(name);
  return it == parent->entries.end() ? nullptr : it->second;
}

bool PowerCut::IsDurable(const std::string& path) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> parts;
  if (!Split(path, &parts)) return false;
  NodePtr node = tree_;
  for (const std::string& part : parts) {
    if (!node->dir) return false;
    auto durable = node->durable_entries.find(part);
    auto live = node->entries.find(part);
    if (durable == node->durable_entries.end() || live == node->entries.end() ||
        durable->second != live->second) {
      return false;
    }
    node = durable->second;
  }
  return node->dir || node->durable == node->data;
}

void PowerCut::FileCreated(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string name;
  Node* parent = ParentOf(path, &name);
  if (parent == nullptr) return;
  NodePtr& entry = parent->entries[name];
  if (entry && !entry->dir) {
    entry->data.clear();  // truncated in place: same file, new content
    entry->rewritten = true;
  } else {
    entry = std::make_shared<Node>();
  }
}

void PowerCut::FileOpened(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string name;
  Node* parent = ParentOf(path, &name);
  if (parent == nullptr) return;
  NodePtr& entry = parent->entries[name];
  if (!entry) entry = std::make_shared<Node>();
}

void PowerCut::FileWritten(const std::string& path, uint64_t offset, std::string_view data) {
  std::lock_guard lock(mu_);
  const NodePtr node = Find(path);
  if (!node || node->dir) return;
  if (offset != node->data.size()) node->rewritten = true;
  if (node->data.size() < offset + data.size()) node->data.resize(offset + data.size());
  node->data.replace(offset, data.size(), data);
}

void PowerCut::FileTruncated(const std::string& path, uint64_t size) {
  std::lock_guard lock(mu_);
  const NodePtr node = Find(path);
  if (!node || node->dir) return;
  if (size < node->data.size()) node->rewritten = true;
  node->data.resize(size);
}

void PowerCut::FileSynced(const std::string& path) {
  std::lock_guard lock(mu_);
  const NodePtr node = Find(path);
  if (!node || node->dir || frozen_) return;
  ++counts_.file_syncs;
  if (node->rewritten) {
    node->durable = node->data;
  } else {
    node->durable.append(node->data, node->durable.size());
  }
  node->rewritten = false;
}

void PowerCut::Renamed(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  std::string from_name, to_name;
  Node* from_parent = ParentOf(from, &from_name);
  Node* to_parent = ParentOf(to, &to_name);
  if (from_parent == nullptr) return;
  auto it = from_parent->entries.find(from_name);
  if (it == from_parent->entries.end()) return;
  NodePtr node = it->second;
  from_parent->entries.erase(it);
  if (to_parent != nullptr) to_parent->entries[to_name] = std::move(node);
}

void PowerCut::Linked(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  const NodePtr node = Find(from);
  std::string to_name;
  Node* to_parent = ParentOf(to, &to_name);
  if (node && to_parent != nullptr) to_parent->entries[to_name] = node;
}

void PowerCut::Removed(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string name;
  Node* parent = ParentOf(path, &name);
  if (parent == nullptr || parent->entries.erase(name) == 0) return;
  if (name.ends_with(".sst")) ++counts_.removed_sst_files;
}

void PowerCut::DirCreated(const std::string& path) {
  std::lock_guard lock(mu_);
  std::string name;
  Node* parent = ParentOf(path, &name);
  if (parent == nullptr) return;
  NodePtr& entry = parent->entries[name];
  if (!entry) {
    entry = std::make_shared<Node>();
    entry->dir = true;
  }
}

void PowerCut::DirSynced(const std::string& path) {
  std::lock_guard lock(mu_);
  const NodePtr node = Find(path);
  if (!node || !node->dir || frozen_) return;
  ++counts_.dir_syncs;
  node->durable_entries = node->entries;
}

void PowerCut::Cut() {
  std::lock_guard lock(mu_);
  std::set<const Node*> restored;
  std::function<void(Node&)> restore = [&](Node& node) {
    if (!restored.insert(&node).second) return;
    if (node.dir) {
      node.entries = node.durable_entries;
      for (auto& [name, child] : node.entries) restore(*child);
    } else {
      node.data = node.durable;
      node.rewritten = false;
    }
  };
  restore(*tree_);

  for (const auto& entry : fs::directory_iterator(root_)) fs::remove_all(entry.path());
  std::map<const Node*, fs::path> written;
  std::function<void(const Node&, const fs::path&)> write = [&](const Node& dir,
                                                                const fs::path& at) {
    for (const auto& [name, child] : dir.entries) {
      const fs::path path = at / name;
      if (child->dir) {
        fs::create_directory(path);
        write(*child, path);
      } else if (auto it = written.find(child.get()); it != written.end()) {
        fs::create_hard_link(it->second, path);
      } else {
        std::ofstream(path, std::ios::binary) << child->data;
        written.emplace(child.get(), path);
      }
    }
  };
  write(*tree_, root_);
  frozen_ = false;
}

}  // namespace mnemo::testing

#include "mnemo/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mnemo {
namespace {

Status ErrnoStatus(const std::string& what, const std::string& path, int error) {
  const std::string text = what + " " + path + ": " + std::strerror(error);
  return error == ENOENT ? Status::NotFound(text) : Status::Unavailable(text);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t written = ::write(fd_, p, left);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) return ErrnoStatus("write", path_, written < 0 ? errno : EIO);
      p += written;
      left -= static_cast<size_t>(written);
    }
    return Status::Ok();
  }

  Status Sync() override {
    if (::fsync(fd_) != 0) return ErrnoStatus("fsync", path_, errno);
    return Status::Ok();
  }

  Status Close() override {
    const int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0) return ErrnoStatus("close", path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Result<size_t> Read(char* out, size_t n) override {
    size_t total = 0;
    while (total < n) {
      const ssize_t got = ::read(fd_, out + total, n - total);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return ErrnoStatus("read", path_, errno);
      if (got == 0) break;
      total += static_cast<size_t>(got);
    }
    return total;
  }
  uint64_t size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixRandomRWFile final : public RandomRWFile {
 public:
  PosixRandomRWFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomRWFile() override { ::close(fd_); }

  Status Write(uint64_t offset, std::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t wrote =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) return ErrnoStatus("write", path_, errno);
      done += static_cast<size_t>(wrote);
    }
    return Status::Ok();
  }
  Status Read(uint64_t offset, size_t n, char* out) const override {
    size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return ErrnoStatus("read", path_, errno);
      if (got == 0) {
        return Status::Unavailable("short read of " + path_ + " at offset " +
                                   std::to_string(offset + done));
      }
      done += static_cast<size_t>(got);
    }
    return Status::Ok();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return ErrnoStatus("fdatasync", path_, errno);
    return Status::Ok();
  }
  Result<uint64_t> Size() const override {
    struct stat info;
    if (::fstat(fd_, &info) != 0) return ErrnoStatus("cannot stat", path_, errno);
    return static_cast<uint64_t>(info.st_size);
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixFs final : public FileSystem {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot create", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }

  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open", path, errno);
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      const int error = errno;
      ::close(fd);
      return ErrnoStatus("cannot stat", path, error);
    }
    return std::unique_ptr<SequentialFile>(
        new PosixSequentialFile(path, fd, static_cast<uint64_t>(info.st_size)));
  }

  Result<std::unique_ptr<RandomRWFile>> OpenRandomRWFile(const std::string& path,
                                                         bool create) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd < 0) return ErrnoStatus(create ? "cannot create" : "cannot open", path, errno);
    return std::unique_ptr<RandomRWFile>(new PosixRandomRWFile(path, fd));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return ErrnoStatus("cannot rename to " + to + ":", from, errno);
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus("cannot remove", path, errno);
    return Status::Ok();
  }

  Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("cannot create directory", path, errno);
    }
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("cannot open directory", path, errno);
    const int rc = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus("fsync of directory", path, error);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus("cannot list", path, errno);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static PosixFs* const fs = new PosixFs();  // never destroyed: usable during static teardown
  return *fs;
}

std::string ParentDir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status CreateDirs(FileSystem& fs, const std::string& path) {
  Status created = fs.CreateDir(path);
  if (created.IsNotFound()) {  // a parent is missing
    const std::string parent = ParentDir(path);
    if (parent == path) return created;
    MNEMO_RETURN_IF_ERROR(CreateDirs(fs, parent));
    created = fs.CreateDir(path);
  }
  MNEMO_RETURN_IF_ERROR(created);
  return fs.SyncDir(ParentDir(path));
}

Status CopyFile(FileSystem& fs, const std::string& from, const std::string& to) {
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> in, fs.NewSequentialFile(from));
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, fs.NewWritableFile(to));
  std::string buffer(size_t{1} << 20, '\0');
  for (;;) {
    MNEMO_ASSIGN_OR_RETURN(const size_t got, in->Read(buffer.data(), buffer.size()));
    if (got == 0) break;
    MNEMO_RETURN_IF_ERROR(out->Append(std::string_view(buffer.data(), got)));
  }
  MNEMO_RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

Result<std::string> ReadWholeFile(FileSystem& fs, const std::string& path) {
  MNEMO_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, fs.NewSequentialFile(path));
  std::string data(static_cast<size_t>(file->size()), '\0');
  MNEMO_ASSIGN_OR_RETURN(const size_t got, file->Read(data.data(), data.size()));
  if (got != data.size()) return Status::Unavailable(path + " shrank while being read");
  char extra;
  MNEMO_ASSIGN_OR_RETURN(const size_t more, file->Read(&extra, 1));
  if (more != 0) return Status::Unavailable(path + " grew while being read");
  return data;
}

}  // namespace mnemo

// Disk faults: the data directory on a small tmpfs filled to ENOSPC while clients write (writes
// fail with a clear UNAVAILABLE, reads go on, the server stays up, nothing acknowledged is lost,
// writes succeed again once the filesystem grows, and a restart finds everything), and a
// read-only data directory at start (a clear message and a non-zero exit).
//
// The tmpfs needs mount(2) (root with CAP_SYS_ADMIN).  Where mounting is refused the ENOSPC test
// is skipped with the reason; the read-only test then falls back to a chmod 0555 directory when
// not running as root (root ignores permission bits, so as root without mount it is skipped).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <thread>

#include "hardening_env.h"
#include "mnemo/client/client.h"
#include "mnemod_process.h"

namespace mnemo::hardening {
namespace {

using namespace std::chrono_literals;
using client::Code;
using client::testing::MnemodProcess;
using client::testing::TempDir;

// A tmpfs mounted on `path` for the guard's lifetime (lazily unmounted at the end).
class TmpfsMount {
 public:
  TmpfsMount(std::string path, const std::string& options) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
    if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0) {
      mounted_ = true;
    } else {
      error_ = std::strerror(errno);
    }
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  // Changes the mount's options (e.g. "size=256m", or read-only with MS_RDONLY).
  bool Remount(const std::string& options, unsigned long extra_flags = 0) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT | extra_flags, options.c_str()) == 0;
  }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

std::string Text(size_t bytes, std::mt19937_64& rng) {
  std::string text(bytes, ' ');
  for (char& c : text) c = static_cast<char>('a' + rng() % 26);
  return text;
}

std::string LogTail(const MnemodProcess& server) {
  std::ifstream in(server.log_path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() <= 3000 ? text : text.substr(text.size() - 3000);
}

std::unique_ptr<client::Client> Connect(uint16_t port) {
  auto connected = client::Client::Connect(LocalClientOptions(port, 2));
  EXPECT_TRUE(connected.ok()) << connected.error().ToString();
  return connected.ok() ? std::move(connected).value() : nullptr;
}

TEST(DiskFaultTest, DiskFullFailsWritesCleanlyAndRecoversWhenSpaceReturns) {
  TempDir dir;
  MnemodProcess server(dir.path());
  TmpfsMount mount(server.data_dir(), "size=24m,mode=0755");
  if (!mount.mounted())
    GTEST_SKIP() << "cannot mount a tmpfs here (" << mount.error() << "): ENOSPC not tested";
  std::string error;
  ASSERT_TRUE(server.Start(0, &error)) << error;
  auto client = Connect(server.port());
  ASSERT_NE(client, nullptr);
  const std::string user = "disk-full";
  client::NewConversation conversation;
  conversation.title = "filling the disk";
  auto created = client->CreateConversation(user, conversation);
  ASSERT_TRUE(created.ok()) << created.error().ToString();

  std::mt19937_64 rng(7);
  std::vector<client::Uuid> acknowledged;
  client::Error first_failure;
  bool full = false;
  for (int i = 0; i < 2000 && !full; ++i) {  // 2000 x 64 KiB: far more than the 24 MiB
    client::NewMessage message;
    message.conversation_id = created->id;
    message.content = Text(64 << 10, rng);
    auto appended = client->AppendMessage(user, message);
    if (appended.ok()) {
      acknowledged.push_back(appended->id);
    } else {
      first_failure = appended.error();
      full = true;
    }
  }
  ASSERT_TRUE(full) << "the 24 MiB filesystem never filled";
  EXPECT_EQ(first_failure.code, Code::kUnavailable) << first_failure.ToString();
  std::printf("[ disk ] full after %zu acknowledged 64 KiB appends: %s\n", acknowledged.size(),
              first_failure.ToString().c_str());

  // Full: writes keep failing cleanly, reads keep working, the process stays up.
  client::NewMessage small;
  small.conversation_id = created->id;
  small.content = "still full?";
  const auto while_full = client->AppendMessage(user, small);
  if (!while_full.ok()) {
    EXPECT_EQ(while_full.code(), Code::kUnavailable) << while_full.error().ToString();
  }
  auto read = client->GetConversation(user, created->id);
  ASSERT_TRUE(read.ok()) << read.error().ToString() << "\nmnemod log:\n" << LogTail(server);

  // Space returns: writes succeed again (within a bounded number of tries).
  ASSERT_TRUE(mount.Remount("size=512m")) << std::strerror(errno);
  bool recovered = false;
  client::Error last;
  for (int attempt = 0; attempt < 100 && !recovered; ++attempt) {
    auto appended = client->AppendMessage(user, small);
    if (appended.ok()) {
      recovered = true;
      acknowledged.push_back(appended->id);
    } else {
      last = appended.error();
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(recovered) << "writes still fail after the disk grew: " << last.ToString();

  // Nothing acknowledged is lost, before or after a restart; the counters agree with the rows.
  for (int pass = 0; pass < 2; ++pass) {
    SCOPED_TRACE(pass == 0 ? "after recovery" : "after restart");
    for (const auto& id : acknowledged) {
      auto got = client->GetMessage(user, id);
      ASSERT_TRUE(got.ok()) << id.ToString() << ": " << got.error().ToString();
    }
    auto row = client->GetConversation(user, created->id);
    ASSERT_TRUE(row.ok()) << row.error().ToString();
    auto page = client->ListMessages(user, created->id);
    ASSERT_TRUE(page.ok()) << page.error().ToString();
    EXPECT_EQ(row->message_count, page->total);
    EXPECT_GE(page->total, static_cast<int64_t>(acknowledged.size()));
    if (pass == 0) {
      client.reset();
      EXPECT_EQ(server.Stop(), 0);
      ASSERT_TRUE(server.Start(0, &error)) << error;
      client = Connect(server.port());
      ASSERT_NE(client, nullptr);
    }
  }
  client.reset();
  EXPECT_EQ(server.Stop(), 0);
}

// mnemod on an unwritable data directory: exits non-zero and says which directory and why.
void ExpectRefusedStart(MnemodProcess& server) {
  std::string error;
  ASSERT_FALSE(server.Start(0, &error)) << "mnemod started on a read-only data directory";
  EXPECT_NE(error.find("exited"), std::string::npos) << error;
  EXPECT_NE(error.find(server.data_dir()), std::string::npos)
      << "the message does not name the directory: " << error;
  EXPECT_TRUE(error.find("ead-only") != std::string::npos ||
              error.find("ermission") != std::string::npos)
      << "the message does not say why: " << error;
  std::printf("[ disk ] read-only start refused: %s\n", error.substr(error.find(':') + 1).c_str());
}

TEST(DiskFaultTest, ReadOnlyDataDirectoryAtStartIsRefusedClearly) {
  TempDir dir;
  MnemodProcess server(dir.path());
  TmpfsMount mount(server.data_dir(), "size=64m,mode=0755");
  if (mount.mounted()) {
    // A populated data directory that became read-only.
    std::string error;
    ASSERT_TRUE(server.Start(0, &error)) << error;
    EXPECT_EQ(server.Stop(), 0);
    ASSERT_TRUE(mount.Remount("size=64m", MS_RDONLY)) << std::strerror(errno);
    ExpectRefusedStart(server);
    return;
  }
  if (::geteuid() == 0)
    GTEST_SKIP() << "root without mount(2) (" << mount.error()
                 << "): cannot make a read-only directory";
  std::filesystem::create_directories(server.data_dir());
  ASSERT_EQ(::chmod(server.data_dir().c_str(), 0555), 0);
  ExpectRefusedStart(server);
  ::chmod(server.data_dir().c_str(), 0755);
}

}  // namespace
}  // namespace mnemo::hardening

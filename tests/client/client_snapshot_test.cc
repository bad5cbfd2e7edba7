// Snapshots over the connection: `mnemo snapshot fetch` copies a running mnemod's data into a
// local directory that a second mnemod opens with the same rows and the same search answers;
// the snapshot operations refuse bad input with clear errors and leave nothing behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "mnemo/client/client.h"
#include "mnemod_process.h"
#include "test_util.h"

namespace mnemo::client::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kChunks = 600;  // enough for a graph with a quantizer and vector segments

NewConversation Titled(std::string title) {
  NewConversation input;
  input.title = std::move(title);
  return input;
}

SearchRequest Query(std::vector<float> query) {
  SearchRequest request;
  request.query = std::move(query);
  return request;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() + "/a");
    fs::create_directories(dir_.path() + "/b");
    std::string error;
    ASSERT_TRUE(server_.Start(0, &error)) << error;
    auto client = Client::Connect(LocalOptions(server_.port()));
    ASSERT_TRUE(client.ok()) << client.error().ToString();
    client_ = std::move(client).value();
  }

  TempDir dir_;  // a/: the server's work directory; b/: the fetched copy's
  MnemodProcess server_{dir_.path() + "/a"};
  std::unique_ptr<Client> client_;
};

TEST_F(SnapshotTest, FetchedSnapshotServesTheSameRowsAndSearches) {
  if (MnemoCliPath().empty()) GTEST_SKIP() << "mnemo-cli is not built";
  std::mt19937_64 rng(7);
  MNEMO_ASSERT_OK_AND_ASSIGN(const Conversation conversation,
                             client_->CreateConversation("u", Titled("kept")));
  for (int i = 0; i < 5; ++i) {
    NewMessage message;
    message.conversation_id = conversation.id;
    message.content = "message " + std::to_string(i);
    MNEMO_ASSERT_OK(client_->AppendMessage("u", message));
  }
  NewDocument new_document;
  new_document.filename = "a.txt";
  new_document.file_type = "txt";
  MNEMO_ASSERT_OK_AND_ASSIGN(const Document document, client_->CreateDocument("u", new_document));
  std::vector<NewChunk> chunks(kChunks);
  for (int i = 0; i < kChunks; ++i) {
    chunks[i].document_id = document.id;
    chunks[i].chunk_index = i;
    chunks[i].chunk_text = "chunk " + std::to_string(i);
    chunks[i].embedding = RandomVector(rng);
  }
  MNEMO_ASSERT_OK(client_->AddChunks("u", chunks));
  std::vector<std::vector<float>> queries;
  std::vector<SearchResponse> before;
  for (int q = 0; q < 10; ++q) {
    queries.push_back(RandomVector(rng));
    MNEMO_ASSERT_OK_AND_ASSIGN(SearchResponse hits, client_->Search("u", Query(queries.back())));
    before.push_back(std::move(hits));
  }

  const std::string fetched = dir_.path() + "/b/data";
  std::string out;
  ASSERT_EQ(RunCommand({MnemoCliPath(), "snapshot", "fetch", "--server",
                        "127.0.0.1:" + std::to_string(server_.port()), fetched},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("written to " + fetched), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(fetched + ".partial"));
  // The server deleted its copy: the snapshot directory is empty again.
  EXPECT_TRUE(fs::is_empty(server_.data_dir() + "/snapshots")) << "snapshot left on the server";
  // Fetching into an existing directory is refused before anything is asked of the server.
  EXPECT_EQ(RunCommand({MnemoCliPath(), "snapshot", "fetch", "--server",
                        "127.0.0.1:" + std::to_string(server_.port()), fetched},
                       &out),
            2);

  // A second server on the fetched directory answers as the first one does.
  MnemodProcess copy(dir_.path() + "/b");
  std::string error;
  ASSERT_TRUE(copy.Start(0, &error)) << error;
  auto connected = Client::Connect(LocalOptions(copy.port()));
  ASSERT_TRUE(connected.ok()) << connected.error().ToString();
  Client& on_copy = **connected;
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::vector<Message> last,
                             on_copy.LastMessages("u", conversation.id, 10));
  ASSERT_EQ(last.size(), 5u);
  EXPECT_EQ(last.back().content, "message 4");
  for (size_t q = 0; q < queries.size(); ++q) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const SearchResponse after, on_copy.Search("u", Query(queries[q])));
    ASSERT_EQ(after.hits.size(), before[q].hits.size());
    for (size_t h = 0; h < after.hits.size(); ++h) {
      EXPECT_EQ(after.hits[h].chunk_id, before[q].hits[h].chunk_id) << "query " << q;
    }
  }
}

TEST_F(SnapshotTest, ReadsAreBoundedChecksummedAndConfinedToTheManifest) {
  MNEMO_ASSERT_OK(client_->CreateConversation("u", Titled("t")));
  MNEMO_ASSERT_OK_AND_ASSIGN(const SnapshotManifest manifest, client_->OpenSnapshot());
  ASSERT_FALSE(manifest.files.empty());
  const SnapshotFile* current = nullptr;
  for (const SnapshotFile& file : manifest.files) {
    if (file.path == "CURRENT") current = &file;
    EXPECT_FALSE(file.path.starts_with("/")) << file.path;
  }
  ASSERT_NE(current, nullptr) << "a snapshot holds the RocksDB CURRENT file";

  // Chunked reads put the file together; a read at the end is empty.
  std::string whole;
  for (uint64_t offset = 0; offset < current->size;) {
    MNEMO_ASSERT_OK_AND_ASSIGN(const std::string part,
                               client_->ReadSnapshot(manifest.id, "CURRENT", offset, 3));
    ASSERT_FALSE(part.empty());
    ASSERT_LE(part.size(), 3u);
    whole += part;
    offset += part.size();
  }
  EXPECT_EQ(whole.size(), current->size);
  EXPECT_TRUE(whole.starts_with("MANIFEST-")) << whole;
  MNEMO_ASSERT_OK_AND_ASSIGN(const std::string end,
                             client_->ReadSnapshot(manifest.id, "CURRENT", current->size));
  EXPECT_TRUE(end.empty());

  const auto code_of = [](const Result<std::string>& result) {
    return result.ok() ? Code::kOk : result.error().code;
  };
  EXPECT_EQ(code_of(client_->ReadSnapshot(manifest.id, "CURRENT", current->size + 1)),
            Code::kValidationError);
  EXPECT_EQ(code_of(client_->ReadSnapshot(manifest.id, "../../etc/passwd", 0)), Code::kNotFound);
  EXPECT_EQ(code_of(client_->ReadSnapshot(manifest.id, "/etc/passwd", 0)), Code::kNotFound);
  EXPECT_EQ(code_of(client_->ReadSnapshot("no-such-snapshot", "CURRENT", 0)), Code::kNotFound);
  EXPECT_EQ(code_of(client_->ReadSnapshot("", "CURRENT", 0)), Code::kValidationError);
  EXPECT_EQ(code_of(client_->ReadSnapshot(manifest.id, "", 0)), Code::kValidationError);

  // At most two at once.
  MNEMO_ASSERT_OK_AND_ASSIGN(const SnapshotManifest second, client_->OpenSnapshot());
  auto third = client_->OpenSnapshot();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().code, Code::kUnavailable) << third.error().ToString();

  MNEMO_ASSERT_OK(client_->CloseSnapshot(manifest.id));
  MNEMO_ASSERT_OK(client_->CloseSnapshot(second.id));
  auto again = client_->CloseSnapshot(manifest.id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Code::kNotFound);
  EXPECT_EQ(code_of(client_->ReadSnapshot(manifest.id, "CURRENT", 0)), Code::kNotFound);
  EXPECT_TRUE(fs::is_empty(server_.data_dir() + "/snapshots"));

  // The server still opens its data directory with the snapshot directory beside the engine's
  // files (and deletes what an interrupted snapshot left there).
  MNEMO_ASSERT_OK(client_->OpenSnapshot());
  client_.reset();
  ASSERT_EQ(server_.Stop(), 0);
  std::string error;
  ASSERT_TRUE(server_.Start(0, &error)) << error;
  EXPECT_FALSE(fs::exists(server_.data_dir() + "/snapshots"));
}

}  // namespace
}  // namespace mnemo::client::testing

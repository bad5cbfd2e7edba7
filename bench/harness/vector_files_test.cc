// Tests of the .npy / .fvecs readers and of mnemo-bench's option parser: good files and
// arguments, and every kind of bad input they must refuse.
#include "vector_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "options.h"

namespace mnemo::bench {
namespace {

class VectorFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("mnemo-vf-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  static std::string Npy(const std::string& dict, const std::vector<float>& values) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    bytes += header;
    bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
    return bytes;
  }

  static std::string Fvecs(const std::vector<std::vector<float>>& rows) {
    std::string bytes;
    for (const auto& row : rows) {
      const int32_t dim = static_cast<int32_t>(row.size());
      bytes.append(reinterpret_cast<const char*>(&dim), sizeof dim);
      bytes.append(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float));
    }
    return bytes;
  }

  std::filesystem::path dir_;
};

TEST_F(VectorFilesTest, ReadsNpy) {
  const std::string path =
      Write("a.npy",
            Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", {1, 2, 3, 4, 5, 6}));
  VectorFile file;
  std::string error;
  ASSERT_TRUE(ReadVectorFile(path, 0, &file, &error)) << error;
  EXPECT_EQ(file.dim, 3u);
  EXPECT_EQ(file.size(), 2u);
  EXPECT_EQ(file.rows, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST_F(VectorFilesTest, ReadsAtMostMaxRows) {
  const std::string path =
      Write("a.npy",
            Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", {1, 2, 3, 4, 5, 6}));
  VectorFile file;
  std::string error;
  ASSERT_TRUE(ReadVectorFile(path, 1, &file, &error)) << error;
  EXPECT_EQ(file.size(), 1u);
}

TEST_F(VectorFilesTest, RefusesBadNpy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"dtype.npy",
       Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", {1, 2, 3, 4})},
      {"fortran.npy", Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", {1, 2})},
      {"oned.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {1, 2})},
      {"short.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", {1, 2})},
      {"magic.npy", "not numpy at all"},
      {"empty.npy", ""},
  };
  for (const auto& [name, bytes] : cases) {
    VectorFile file;
    std::string error;
    EXPECT_FALSE(ReadVectorFile(Write(name, bytes), 0, &file, &error)) << name;
    EXPECT_FALSE(error.empty()) << name;
  }
}

TEST_F(VectorFilesTest, ReadsFvecs) {
  VectorFile file;
  std::string error;
  ASSERT_TRUE(ReadVectorFile(Write("a.fvecs", Fvecs({{1, 2}, {3, 4}, {5, 6}})), 0, &file, &error))
      << error;
  EXPECT_EQ(file.dim, 2u);
  EXPECT_EQ(file.size(), 3u);
}

TEST_F(VectorFilesTest, RefusesBadFvecs) {
  std::string truncated = Fvecs({{1, 2}, {3, 4}});
  truncated.resize(truncated.size() - 2);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"mixed.fvecs", Fvecs({{1, 2}, {3, 4, 5}})},
      {"truncated.fvecs", truncated},
      {"empty.fvecs", ""},
      {"zero.fvecs", Fvecs({{}})},
  };
  for (const auto& [name, bytes] : cases) {
    VectorFile file;
    std::string error;
    EXPECT_FALSE(ReadVectorFile(Write(name, bytes), 0, &file, &error)) << name;
  }
}

TEST_F(VectorFilesTest, RefusesUnknownExtensionAndMissingFile) {
  VectorFile file;
  std::string error;
  EXPECT_FALSE(ReadVectorFile(Write("a.csv", "1,2\n"), 0, &file, &error));
  EXPECT_FALSE(ReadVectorFile((dir_ / "missing.npy").string(), 0, &file, &error));
}

std::optional<BenchOptions> Parse(std::vector<std::string> args, int* exit_code) {
  args.insert(args.begin(), "mnemo-bench");
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return ParseBenchOptions(static_cast<int>(argv.size()), argv.data(), exit_code);
}

TEST(BenchOptionsTest, QuickPresetAndOverrides) {
  int exit_code = -1;
  const auto options = Parse({"--n", "5000", "--quick", "--ef=8,24"}, &exit_code);
  ASSERT_TRUE(options.has_value());
  EXPECT_TRUE(options->quick);
  EXPECT_EQ(options->n, 5000u);  // explicit flags win over the preset, wherever they appear
  EXPECT_EQ(options->dim, 128u);
  EXPECT_EQ(options->efs, (std::vector<size_t>{8, 24}));
}

TEST(BenchOptionsTest, RefusesBadArguments) {
  const std::vector<std::vector<std::string>> cases = {
      {"--n", "0"},
      {"--n", "abc"},
      {"--bogus", "1"},
      {"--ef", "16,0"},
      {"--threads", "0"},
      {"--base", "a.npy"},
      {"--n"},
      {"--k", "20", "--n", "10"},
      {"--time-budget", "-5"},
  };
  for (const auto& args : cases) {
    int exit_code = -1;
    EXPECT_FALSE(Parse(args, &exit_code).has_value()) << args[0];
    EXPECT_EQ(exit_code, 2) << args[0];
  }
}

TEST(BenchOptionsTest, HelpExitsZero) {
  int exit_code = -1;
  EXPECT_FALSE(Parse({"--help"}, &exit_code).has_value());
  EXPECT_EQ(exit_code, 0);
}

}  // namespace
}  // namespace mnemo::bench

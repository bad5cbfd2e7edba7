#include "server/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "protocol/version.h"
#include "testing/temp_dir.h"

namespace mnemo::server {
namespace {

ConfigOutcome Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "mnemod");
  std::vector<const char*> argv;
  for (const auto& arg : args) argv.push_back(arg.c_str());
  return ParseServerConfig(static_cast<int>(argv.size()), argv.data());
}

TEST(ConfigTest, Defaults) {
  auto outcome = Parse({});
  ASSERT_TRUE(outcome.config) << outcome.output;
  const ServerConfig& config = *outcome.config;
  EXPECT_EQ(config.data_dir, "./data");
  EXPECT_EQ(config.listen.ToString(), "127.0.0.1:7420");
  EXPECT_TRUE(config.listen.IsLoopback());
  EXPECT_GE(config.io_threads, 1u);
  EXPECT_GE(config.workers, 1u);
  EXPECT_EQ(config.max_connections, 1024u);
  EXPECT_EQ(config.max_in_flight, 64u);
  EXPECT_EQ(config.idle_timeout, std::chrono::seconds(300));
  EXPECT_EQ(config.max_frame_bytes, protocol::kDefaultMaxFrameBytes);
  EXPECT_TRUE(config.sync_writes);
  EXPECT_EQ(config.io_spin, std::chrono::microseconds(50));
  EXPECT_FALSE(config.dimension);
  EXPECT_FALSE(config.hnsw_m);
  EXPECT_FALSE(config.hnsw_ef_construction);
}

TEST(ConfigTest, Flags) {
  auto outcome = Parse({"--data",
                        "/tmp/x",
                        "--listen",
                        "0.0.0.0:9000",
                        "--io-threads",
                        "3",
                        "--io-spin-us",
                        "0",
                        "--workers",
                        "5",
                        "--max-in-flight",
                        "8",
                        "--idle-timeout",
                        "7",
                        "--sync-writes",
                        "false",
                        "--dimension",
                        "16",
                        "--max-frame-bytes",
                        "4096",
                        "--port-file",
                        "/tmp/p",
                        "--hnsw-m",
                        "32",
                        "--hnsw-ef-construction",
                        "200",
                        "--token-ascii-bytes",
                        "3.5",
                        "--token-other-chars",
                        "1.5",
                        "--token-overhead",
                        "4"});
  ASSERT_TRUE(outcome.config) << outcome.output;
  const ServerConfig& config = *outcome.config;
  EXPECT_EQ(config.data_dir, "/tmp/x");
  EXPECT_EQ(config.listen.port, 9000);
  EXPECT_FALSE(config.listen.IsLoopback());
  EXPECT_EQ(config.io_threads, 3u);
  EXPECT_EQ(config.io_spin, std::chrono::microseconds(0));
  EXPECT_EQ(config.workers, 5u);
  EXPECT_EQ(config.max_in_flight, 8u);
  EXPECT_EQ(config.idle_timeout, std::chrono::seconds(7));
  EXPECT_FALSE(config.sync_writes);
  EXPECT_EQ(config.dimension, 16u);
  EXPECT_EQ(config.max_frame_bytes, 4096u);
  EXPECT_EQ(config.port_file, "/tmp/p");
  EXPECT_EQ(config.hnsw_m, 32u);
  EXPECT_EQ(config.hnsw_ef_construction, 200u);
  EXPECT_EQ(config.token_estimate.ascii_bytes_per_token, 3.5);
  EXPECT_EQ(config.token_estimate.tokens_per_other_char, 1.5);
  EXPECT_EQ(config.token_estimate.per_text_overhead, 4);
}

TEST(ConfigTest, ConfigFile) {
  mnemo::testing::TempDir dir;
  const std::string path = dir.Sub("mnemod.toml");
  {
    std::ofstream out(path);
    out << "# mnemod settings\n"
        << "data = \"/srv/mnemo\"\n"
        << "listen = \"[::1]:7500\"\n"
        << "max-connections = 10\n"
        << "log-level = \"debug\"\n";
  }
  auto outcome = Parse({"--config", path, "--workers", "2"});
  ASSERT_TRUE(outcome.config) << outcome.output;
  EXPECT_EQ(outcome.config->data_dir, "/srv/mnemo");
  EXPECT_EQ(outcome.config->listen.host, "::1");
  EXPECT_EQ(outcome.config->listen.ToString(), "[::1]:7500");
  EXPECT_TRUE(outcome.config->listen.IsLoopback());
  EXPECT_EQ(outcome.config->max_connections, 10u);
  EXPECT_EQ(outcome.config->log_level, "debug");
  EXPECT_EQ(outcome.config->workers, 2u);

  auto missing = Parse({"--config", dir.Sub("absent.toml")});
  EXPECT_FALSE(missing.config);
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(ConfigTest, BadInputIsAUsageError) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--listen", "nonsense"},
                                             {"--listen", "127.0.0.1:99999"},
                                             {"--listen", "example.com:80"},
                                             {"--workers", "0"},
                                             {"--io-spin-us", "-1"},
                                             {"--io-spin-us", "10001"},
                                             {"--io-spin-us", "soon"},
                                             {"--max-frame-bytes", "10"},
                                             {"--log-level", "loud"},
                                             {"--hnsw-m", "0"},
                                             {"--hnsw-m", "many"},
                                             {"--hnsw-ef-construction", "-5"},
                                             {"--token-ascii-bytes", "0"},
                                             {"--token-other-chars", "-1"},
                                             {"--token-overhead", "-2"},
                                             {"--no-such-flag"}}) {
    auto outcome = Parse(args);
    EXPECT_FALSE(outcome.config) << args[0];
    EXPECT_EQ(outcome.exit_code, 2) << args[0];
    EXPECT_FALSE(outcome.output.empty()) << args[0];
  }
  auto help = Parse({"--help"});
  EXPECT_FALSE(help.config);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--listen"), std::string::npos);
}

TEST(ConfigTest, ListenAddressParsing) {
  std::string error;
  auto v4 = ParseListenAddress("10.0.0.1:0", &error);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->port, 0);
  EXPECT_FALSE(v4->IsLoopback());
  auto local = ParseListenAddress("localhost:1", &error);
  ASSERT_TRUE(local);
  EXPECT_TRUE(local->IsLoopback());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1", &error));
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:", &error));
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:-1", &error));
}

TEST(ConfigTest, SingleNodeWithoutEtcd) {
  auto outcome = Parse({});
  ASSERT_TRUE(outcome.config) << outcome.output;
  EXPECT_FALSE(outcome.config->cluster.enabled());
}

TEST(ConfigTest, ClusterFlags) {
  auto outcome = Parse({"--etcd", "http://127.0.0.1:2379, 127.0.0.2:2379", "--cluster", "prod",
                        "--node-id", "n-1", "--advertise", "db1.example:7420", "--lease-ttl", "2"});
  ASSERT_TRUE(outcome.config) << outcome.output;
  const ClusterConfig& cluster = outcome.config->cluster;
  EXPECT_TRUE(cluster.enabled());
  EXPECT_EQ(cluster.etcd, (std::vector<std::string>{"http://127.0.0.1:2379", "127.0.0.2:2379"}));
  EXPECT_EQ(cluster.cluster, "prod");
  EXPECT_EQ(cluster.node_id, "n-1");
  EXPECT_EQ(cluster.advertise, "db1.example:7420");
  EXPECT_EQ(cluster.lease_ttl, std::chrono::seconds(2));
  // Cluster nodes keep the replication log and answer writes semi-sync unless told otherwise.
  EXPECT_TRUE(outcome.config->replication_log);
  EXPECT_EQ(cluster.ack_policy, AckPolicy::kSemiSync);
  EXPECT_EQ(cluster.replica_ack_timeout, std::chrono::milliseconds(1000));
}

TEST(ConfigTest, AckPolicyFlags) {
  auto outcome = Parse({"--etcd", "127.0.0.1:2379", "--cluster", "c", "--node-id", "a",
                        "--ack-policy", "async", "--replica-ack-timeout-ms", "250"});
  ASSERT_TRUE(outcome.config) << outcome.output;
  EXPECT_EQ(outcome.config->cluster.ack_policy, AckPolicy::kAsync);
  EXPECT_EQ(outcome.config->cluster.replica_ack_timeout, std::chrono::milliseconds(250));
  EXPECT_FALSE(Parse({}).config->replication_log);  // single-node: off unless asked for
}

TEST(ConfigTest, ClusterKeysInTheConfigFile) {
  mnemo::testing::TempDir dir;
  const std::string path = dir.Sub("mnemod.toml");
  std::ofstream(path) << "etcd = \"127.0.0.1:2379\"\ncluster = \"c\"\nnode-id = \"a\"\n";
  auto outcome = Parse({"--config", path});
  ASSERT_TRUE(outcome.config) << outcome.output;
  EXPECT_EQ(outcome.config->cluster.etcd, std::vector<std::string>{"127.0.0.1:2379"});
  EXPECT_EQ(outcome.config->cluster.node_id, "a");
  EXPECT_EQ(outcome.config->cluster.lease_ttl, std::chrono::seconds(5));
}

TEST(ConfigTest, BadClusterSettingsAreRejectedWithTheirFlag) {
  const std::vector<std::string> named = {"--cluster", "c", "--node-id", "a"};
  const auto rejected = [&](std::vector<std::string> args, const std::string& expected) {
    auto outcome = Parse(std::move(args));
    EXPECT_FALSE(outcome.config);
    EXPECT_EQ(outcome.exit_code, 2);
    EXPECT_NE(outcome.output.find(expected), std::string::npos) << outcome.output;
  };
  const auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), named.begin(), named.end());
    return args;
  };
  rejected(with({"--etcd", ""}), "--etcd: no etcd endpoint");
  rejected(with({"--etcd", " , "}), "--etcd: no etcd endpoint");
  rejected(with({"--etcd", "https://127.0.0.1:2379"}), "--etcd");
  rejected(with({"--etcd", "127.0.0.1"}), "--etcd");
  rejected(with({"--etcd", "127.0.0.1:2379", "--lease-ttl", "0"}), "--lease-ttl: 0");
  rejected(with({"--etcd", "127.0.0.1:2379", "--lease-ttl", "-3"}), "--lease-ttl: -3");
  rejected(with({"--etcd", "127.0.0.1:2379", "--lease-ttl", "100000"}), "--lease-ttl: 100000");
  rejected(with({"--etcd", "127.0.0.1:2379", "--advertise", "nohost"}), "--advertise");
  rejected(with({"--etcd", "127.0.0.1:2379", "--advertise", "h:70000"}), "--advertise");
  rejected({"--etcd", "127.0.0.1:2379", "--node-id", "a"}, "--cluster is required");
  rejected({"--etcd", "127.0.0.1:2379", "--cluster", "c"}, "--node-id is required");
  rejected({"--etcd", "127.0.0.1:2379", "--cluster", "c/d", "--node-id", "a"}, "--cluster: ");
  rejected({"--etcd", "127.0.0.1:2379", "--cluster", "c", "--node-id", "a b"}, "--node-id: ");
  rejected(with({"--etcd", "127.0.0.1:2379", "--listen", "0.0.0.0:7420"}),
           "--advertise is required");
  rejected({"--node-id", "a"}, "need --etcd");
  rejected({"--lease-ttl", "3"}, "need --etcd");
  rejected({"--ack-policy", "async"}, "need --etcd");
  rejected({"--replication-key-file", "k"}, "need --etcd");
  rejected(with({"--etcd", "127.0.0.1:2379", "--ack-policy", "sync"}),
           "--ack-policy: \"sync\" is neither async nor semi-sync");
  rejected(with({"--etcd", "127.0.0.1:2379", "--replica-ack-timeout-ms", "0"}),
           "--replica-ack-timeout-ms: 0 is not");
  rejected(with({"--etcd", "127.0.0.1:2379", "--replication-log", "false"}),
           "--replication-log false: cluster nodes");
}

}  // namespace
}  // namespace mnemo::server

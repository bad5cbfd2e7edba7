// `mnemo cluster status`: the cluster's election state as etcd holds it, and each node's role,
// applied log sequence and, for a follower, its lag behind the primary as the node itself
// reports it (GetStats).
#include <cstdio>
#include <string>
#include <vector>

#include "cluster/etcd_client.h"
#include "cluster/primary_election.h"
#include "mnemo/client/client.h"
#include "server/cli/commands.h"
#include "server/config.h"

namespace mnemo::cli {
namespace {

const char* RoleName(client::ClusterInfo::Role role) {
  switch (role) {
    case client::ClusterInfo::Role::kStandalone: return "standalone";
    case client::ClusterInfo::Role::kFollower: return "follower";
    case client::ClusterInfo::Role::kPrimary: return "primary";
  }
  return "unknown";
}

// Prints etcd's view; false when it cannot be read.
bool PrintEtcdView(const std::string& etcd, const std::string& cluster_name) {
  std::string error;
  auto endpoints = server::ParseEtcdEndpoints(etcd, &error);
  if (!endpoints) {
    std::fprintf(stderr, "mnemo: %s\n", error.c_str());
    return false;
  }
  cluster::GatewayOptions options;
  options.endpoints = std::move(*endpoints);
  auto client = cluster::EtcdClient::Create(std::move(options));
  if (!client.ok()) {
    std::fprintf(stderr, "mnemo: etcd: %s\n", client.status().ToString().c_str());
    return false;
  }
  auto view = cluster::PrimaryElection::ReadCluster(*client, cluster_name);
  if (!view.ok()) {
    std::fprintf(stderr, "mnemo: reading cluster %s from etcd: %s\n", cluster_name.c_str(),
                 view.status().ToString().c_str());
    return false;
  }
  std::printf("cluster %s (etcd revision %lld)\n", cluster_name.c_str(),
              static_cast<long long>(view->revision));
  if (view->primary) {
    std::printf("primary: %s at %s, epoch %llu\n", view->primary->node_id.c_str(),
                view->primary->address.c_str(),
                static_cast<unsigned long long>(view->primary->epoch));
  } else {
    std::printf("primary: none (no node holds the primary key right now)\n");
  }
  std::printf("epoch: %llu (the newest ever granted)\n",
              static_cast<unsigned long long>(view->epoch));
  return true;
}

// "12 rec, 0.3 s" for a follower; "-" for a primary or a standalone node; "n/a" when unknown.
std::string LagText(const client::ClusterInfo& info) {
  if (info.role != client::ClusterInfo::Role::kFollower) return "-";
  if (!info.lag) return "n/a";
  char text[64];
  std::snprintf(text, sizeof(text), "%llu rec, %.1f s",
                static_cast<unsigned long long>(info.lag_records),
                static_cast<double>(info.lag->count()) / 1000.0);
  return text;
}

// Prints one row per node; false when a node could not be asked.
bool PrintNodes(const std::vector<std::string>& nodes, const std::string& api_key) {
  bool all = true;
  std::printf("%-22s %-10s %-12s %6s %-8s %-28s %10s  %s\n", "NODE", "ID", "ROLE", "EPOCH",
              "WRITES", "PRIMARY (as the node sees it)", "APPLIED", "REPLICA_LAG");
  for (const std::string& node : nodes) {
    client::ClientOptions options;
    options.addresses = {node};
    options.follow_primary = false;
    options.api_key = api_key;
    options.client_name = "mnemo-cli";
    options.pool_size = 1;
    options.connect_timeout = std::chrono::seconds(2);
    options.request_timeout = std::chrono::seconds(5);
    auto connected = client::Client::Connect(options);
    auto stats = connected.ok() ? (*connected)->GetStats()
                                : client::Result<client::ServerStats>(connected.error());
    if (!stats.ok()) {
      std::printf("%-22s unreachable: %s\n", node.c_str(), stats.error().ToString().c_str());
      all = false;
      continue;
    }
    const client::ClusterInfo& info = stats->cluster;
    std::string primary = "-";
    if (!info.primary_node_id.empty()) {
      primary = info.primary_node_id + "@" + info.primary_address + " e" +
                std::to_string(info.primary_epoch);
    }
    const bool standalone = info.role == client::ClusterInfo::Role::kStandalone;
    std::printf("%-22s %-10s %-12s %6llu %-8s %-28s %10llu  %s\n", node.c_str(),
                standalone ? "-" : info.node_id.c_str(), RoleName(info.role),
                static_cast<unsigned long long>(info.epoch),
                info.writable || standalone ? "yes" : "no", primary.c_str(),
                static_cast<unsigned long long>(info.applied_seq), LagText(info).c_str());
  }
  return all;
}

}  // namespace

int ClusterStatus(const ClusterStatusArgs& args) {
  if (args.etcd.empty() && args.nodes.empty()) {
    std::fprintf(stderr, "mnemo: cluster status needs --etcd and --cluster, or --nodes\n");
    return 2;
  }
  if (!args.etcd.empty() && args.cluster.empty()) {
    std::fprintf(stderr, "mnemo: --cluster is required with --etcd\n");
    return 2;
  }
  bool ok = true;
  if (!args.etcd.empty()) ok = PrintEtcdView(args.etcd, args.cluster) && ok;
  if (!args.nodes.empty()) ok = PrintNodes(args.nodes, args.api_key) && ok;
  return ok ? 0 : 1;
}

}  // namespace mnemo::cli

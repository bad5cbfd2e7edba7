// mnemod: the mnemo storage server.  `mnemod --data ./data` serves on 127.0.0.1:7420.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

#include "server/config.h"
#include "server/server.h"

int main(int argc, char** argv) {
  auto outcome = mnemo::server::ParseServerConfig(argc, argv);
  if (!outcome.config) {
    std::fputs(outcome.output.c_str(), outcome.exit_code == 0 ? stdout : stderr);
    return outcome.exit_code;
  }
  const auto& config = *outcome.config;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%t] %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  std::signal(SIGPIPE, SIG_IGN);

  auto server = mnemo::server::Server::Create(config);
  if (!server.ok()) {
    spdlog::critical("mnemod cannot start: {}", server.status().message());
    return server.status().IsValidationError() ? 2 : 1;
  }
  return (*server)->Run();
}

// mnemod: the mnemo storage server.  `mnemod --data ./data` serves on 127.0.0.1:7420.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>

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
  std::unique_ptr<mnemo::server::Server> owned = std::move(server).value();
  const int code = owned->Run();
  owned.reset();
  // The server's signal handlers went with it.  A SIGTERM or SIGINT between here and the exit
  // (exit handlers run, for long under a leak checker) must not turn the exit code into a death
  // by signal: a supervisor reads code 3 as "bootstrap again".
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  return code;
}

#include "common/thread_priority.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

namespace mnemo {

void RunAtBackgroundPriority(std::string_view what) {
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBackgroundNice) != 0)
    spdlog::debug("{}: cannot lower its priority: errno {}", what, errno);
}

}  // namespace mnemo

#include "mnemo/records.h"

namespace mnemo {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kSystem: return "system";
    case Role::kTool: return "tool";
  }
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (int i = 0; i < kRoleCount; ++i) {
    const auto role = static_cast<Role>(i);
    if (RoleName(role) == name) return role;
  }
  return std::nullopt;
}

}  // namespace mnemo

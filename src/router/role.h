// role.h: the two routes a message can take. May include only the standard library.
#pragma once

#include <optional>
#include <string_view>

namespace duet::router {

// expert: the big English/technical model; daily: the small Chinese-fluent model.
enum class Role { expert, daily };

inline std::string_view role_name(Role r) { return r == Role::expert ? "expert" : "daily"; }
inline std::optional<Role> parse_role(std::string_view s) {
    if (s == "expert") return Role::expert;
    if (s == "daily") return Role::daily;
    return std::nullopt;
}
inline Role other_role(Role r) { return r == Role::expert ? Role::daily : Role::expert; }

}  // namespace duet::router

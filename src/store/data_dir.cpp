// data_dir.cpp: the --data-dir default (XDG) and creating it.
#include "store/data_dir.h"

#include <cstdlib>
#include <filesystem>

namespace duet::store {

namespace fs = std::filesystem;

Result<std::string> resolve_data_dir(const std::string& flag, const char* xdg_data_home, const char* home) {
    if (!flag.empty()) return flag;
    if (xdg_data_home && xdg_data_home[0] == '/') return (fs::path(xdg_data_home) / "duet").string();
    if (home && home[0] != '\0') return (fs::path(home) / ".local" / "share" / "duet").string();
    return Status::invalid_argument("data dir: neither XDG_DATA_HOME nor HOME is set; pass --data-dir DIR");
}

Result<std::string> resolve_data_dir(const std::string& flag) {
    return resolve_data_dir(flag, std::getenv("XDG_DATA_HOME"), std::getenv("HOME"));
}

Status ensure_data_dir(const std::string& dir) {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
        if (!fs::is_directory(dir, ec))
            return Status::io_error("data dir '%s' exists and is not a directory", dir.c_str());
        return {};
    }
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error("data dir '%s': cannot create: %s", dir.c_str(), ec.message().c_str());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);  // conversations are private
    return {};
}

std::string database_path(const std::string& dir) { return (fs::path(dir) / "duet.db").string(); }

}  // namespace duet::store

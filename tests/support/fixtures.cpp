// fixtures.cpp: locate shared fixtures, the duet binary and temp dirs for tests.
#include "support/fixtures.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace duet::test {

std::string fixtures_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("DUET_FIXTURES"); env != nullptr && fs::is_directory(env)) return env;
    if (fs::is_directory(DUET_FIXTURES_DIR)) return fs::canonical(DUET_FIXTURES_DIR).string();
    return {};
}

std::string fixture(const std::string& relative) {
    std::string dir = fixtures_dir();
    return dir.empty() ? std::string() : dir + "/" + relative;
}

std::string duet_binary() {
    if (const char* env = std::getenv("DUET_BINARY_DIR"); env != nullptr) return std::string(env) + "/duet";
    return std::string(DUET_BINARY_DIR) + "/duet";
}

std::string temp_dir() {
    namespace fs = std::filesystem;
    static std::string dir = [] {
        std::string pattern = (fs::temp_directory_path() / "duet-test-XXXXXX").string();
        char* made = ::mkdtemp(pattern.data());
        return made != nullptr ? std::string(made) : fs::temp_directory_path().string();
    }();
    return dir;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace duet::test

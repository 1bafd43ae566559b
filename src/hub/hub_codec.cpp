// hub_codec.cpp: the hub API's JSON -> RepoFile (the only JSON the hub client reads).
#include <nlohmann/json.hpp>

#include "hub/hub_client.h"

namespace duet::hub {

namespace {

bool is_hex_digest(const std::string& s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

RepoFile file_from(const nlohmann::json& j, const char* path_key) {
    RepoFile f;
    f.path = j.at(path_key).get<std::string>();
    f.size = j.value("size", uint64_t{0});
    if (auto lfs = j.find("lfs"); lfs != j.end() && lfs->is_object()) {
        std::string oid = lfs->value("sha256", lfs->value("oid", std::string()));
        if (oid.rfind("sha256:", 0) == 0) oid = oid.substr(7);
        if (is_hex_digest(oid)) f.sha256 = oid;
        f.size = lfs->value("size", f.size);
    }
    return f;
}

}  // namespace

Result<std::vector<RepoFile>> parse_repo_files(const std::string& json, const std::string& where) {
    std::vector<RepoFile> out;
    try {
        const nlohmann::json doc = nlohmann::json::parse(json);
        if (doc.is_array()) {
            for (const auto& item : doc)
                if (item.value("type", "file") == "file") out.push_back(file_from(item, "path"));
        } else {
            for (const auto& item : doc.at("siblings")) out.push_back(file_from(item, "rfilename"));
        }
    } catch (const nlohmann::json::exception& e) {
        return Status::invalid_data("hub: %s: unexpected answer: %s", where.c_str(), e.what());
    }
    return out;
}

}  // namespace duet::hub

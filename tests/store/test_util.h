// test_util.h: a fresh directory per test (under $TMPDIR or /tmp, removed afterwards) and short builders for
// store types (designated initializers would trip -Wmissing-field-initializers).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "store/types.h"

namespace duet::store::testing {

class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/duet-store-test-XXXXXX";
        char* made = mkdtemp(tmpl.data());
        path_ = made ? made : "";
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

inline Conversation titled(const std::string& title) {
    Conversation c;
    c.title = title;
    return c;
}

inline MessageDraft msg(Role role, const std::string& content) {
    MessageDraft d;
    d.role = role;
    d.content = content;
    return d;
}

inline MessageDraft user(const std::string& content) { return msg(Role::user, content); }

inline MessageDraft answer(const std::string& content, const std::string& reasoning = "",
                           const std::string& model = "") {
    MessageDraft d = msg(Role::assistant, content);
    if (!reasoning.empty()) d.reasoning = reasoning;
    if (!model.empty()) d.model = model;
    return d;
}

inline BattleDraft battle_draft(const std::string& model_a, const std::string& model_b) {
    BattleDraft d;
    d.model_a = model_a;
    d.model_b = model_b;
    return d;
}

inline ListQuery list_query(int limit, const std::string& search = "") {
    ListQuery q;
    q.limit = limit;
    q.search = search;
    return q;
}

}  // namespace duet::store::testing

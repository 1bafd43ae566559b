// model_ref.cpp: parsing ORG/REPO[:QUANT|/FILE.gguf] and choosing the GGUF for a quant.
#include "hub/model_ref.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace duet::hub {

namespace {

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }

bool valid_repo_part(const std::string& s) {
    if (s.empty() || s.size() > 96 || s == "." || s == ".." || s.find("..") != std::string::npos) return false;
    return std::all_of(s.begin(), s.end(), is_name_char);
}

std::string upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool ends_with_gguf(const std::string& s) { return s.size() > 5 && upper(s.substr(s.size() - 5)) == ".GGUF"; }

std::string base_name(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The quant appears in `path` as a whole token: no letter/digit before it, no letter/digit/'_' after it.
bool holds_quant(const std::string& path, const std::string& quant) {
    const std::string up = upper(path);
    for (size_t at = up.find(quant); at != std::string::npos; at = up.find(quant, at + 1)) {
        const bool left_ok = at == 0 || !std::isalnum(static_cast<unsigned char>(up[at - 1]));
        const size_t end = at + quant.size();
        const bool right_ok =
            end == up.size() || !(std::isalnum(static_cast<unsigned char>(up[end])) || up[end] == '_');
        if (left_ok && right_ok) return true;
    }
    return false;
}

const std::regex& split_pattern() {
    static const std::regex re(R"(-(\d{5})-of-(\d{5})\.gguf$)", std::regex::icase);
    return re;
}

std::string list_choices(const std::vector<const RepoFile*>& ggufs) {
    std::string out;
    for (const RepoFile* f : ggufs) {
        const std::string q = quant_of(f->path);
        out += strformat("\n  %s%s%s", f->path.c_str(), q.empty() ? "" : "  (", q.empty() ? "" : (q + ")").c_str());
    }
    return out;
}

}  // namespace

std::string ModelRef::to_string() const { return file.empty() ? repo + ":" + quant : repo + "/" + file; }

bool looks_like_model_ref(const std::string& spec) { return parse_model_ref(spec).ok(); }

Result<ModelRef> parse_model_ref(const std::string& spec) {
    const auto bad = [&](const char* why) {
        return Status::invalid_argument("'%s': %s (expected ORG/REPO[:QUANT|/FILE.gguf])", spec.c_str(), why);
    };
    const size_t slash = spec.find('/');
    if (slash == std::string::npos) return bad("no '/' between organisation and repository");
    ModelRef ref;
    const std::string org = spec.substr(0, slash);
    std::string rest = spec.substr(slash + 1);
    const size_t second_slash = rest.find('/');
    const size_t colon = rest.find(':');
    std::string name;
    if (second_slash != std::string::npos && (colon == std::string::npos || second_slash < colon)) {
        name = rest.substr(0, second_slash);
        ref.file = rest.substr(second_slash + 1);
        if (!ends_with_gguf(ref.file)) return bad("the file after the repository must end in .gguf");
        if (ref.file.find("..") != std::string::npos || ref.file.front() == '/' ||
            ref.file.find("//") != std::string::npos || ref.file.find(':') != std::string::npos)
            return bad("the file path must be a plain path inside the repository");
    } else if (colon != std::string::npos) {
        name = rest.substr(0, colon);
        ref.quant = upper(rest.substr(colon + 1));
        if (ref.quant.empty() || !std::all_of(ref.quant.begin(), ref.quant.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
            }))
            return bad("the quant after ':' must be letters, digits and '_' (e.g. Q4_K_M)");
    } else {
        name = rest;
        ref.quant = kDefaultQuant;
    }
    if (ends_with_gguf(name)) return bad("a local file path, not a hub repository");
    if (!valid_repo_part(org) || !valid_repo_part(name))
        return bad("organisation and repository are letters, digits, '-', '_' and '.'");
    ref.repo = org + "/" + name;
    return ref;
}

std::string quant_of(const std::string& file_name) {
    static const std::regex re(R"((?:^|[^A-Za-z0-9])(I?Q[0-9]_[A-Z0-9_]*?|BF16|F16|F32)(?:[^A-Za-z0-9_]|$))",
                               std::regex::icase);
    std::smatch m;
    const std::string name = base_name(file_name);
    if (!std::regex_search(name, m, re)) return {};
    return upper(m[1].str());
}

Result<RepoFile> choose_file(const ModelRef& ref, const std::vector<RepoFile>& files) {
    std::vector<const RepoFile*> ggufs;
    for (const RepoFile& f : files)
        if (ends_with_gguf(f.path)) ggufs.push_back(&f);
    if (!ref.file.empty()) {
        for (const RepoFile* f : ggufs)
            if (f->path == ref.file) return *f;
        return Status::not_found("%s: no file '%s' in the repository; its GGUF files:%s", ref.repo.c_str(),
                                 ref.file.c_str(), ggufs.empty() ? " none" : list_choices(ggufs).c_str());
    }
    if (ggufs.empty()) return Status::not_found("%s: the repository has no .gguf files", ref.repo.c_str());
    std::vector<const RepoFile*> matches;
    for (const RepoFile* f : ggufs)
        if (holds_quant(f->path, ref.quant) && base_name(f->path).rfind("mmproj", 0) != 0) matches.push_back(f);
    if (matches.empty())
        return Status::not_found("%s: no GGUF file for quant %s; choose one with :QUANT or /FILE.gguf:%s",
                                 ref.repo.c_str(), ref.quant.c_str(), list_choices(ggufs).c_str());
    std::smatch m;
    size_t n_split = 0;
    for (const RepoFile* f : matches)
        if (std::regex_search(f->path, m, split_pattern())) ++n_split;
    if (n_split > 0) {
        std::regex_search(matches.front()->path, m, split_pattern());
        return Status::unsupported(
            "%s: quant %s is split into %s files (%s, ...); duet loads single-file GGUFs only: merge them with "
            "llama-gguf-split --merge, or pick another quant",
            ref.repo.c_str(), ref.quant.c_str(), m[2].str().c_str(), matches.front()->path.c_str());
    }
    if (matches.size() > 1)
        return Status::invalid_argument("%s: %zu GGUF files match quant %s; name one with ORG/REPO/FILE.gguf:%s",
                                        ref.repo.c_str(), matches.size(), ref.quant.c_str(),
                                        list_choices(matches).c_str());
    return *matches.front();
}

}  // namespace duet::hub

// model_ref.h: what `duet pull` is asked for, `ORG/REPO[:QUANT|/FILE.gguf]`, and how one GGUF is chosen from a
// repository's file list. Pure functions: no network, no files. May include only common/.
//
//   bartowski/Qwen2.5-0.5B-Instruct-GGUF             -> quant Q4_K_M (the default)
//   bartowski/Qwen2.5-0.5B-Instruct-GGUF:q8_0        -> quant Q8_0 (matched case-insensitively)
//   bartowski/Qwen2.5-0.5B-Instruct-GGUF/x-Q8_0.gguf -> that file (any path inside the repo)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace duet::hub {

inline constexpr const char* kDefaultQuant = "Q4_K_M";

struct ModelRef {
    std::string repo;   // "org/name"
    std::string quant;  // upper-cased; empty when `file` is given
    std::string file;   // a path inside the repo, or empty

    // "org/name:Q4_K_M" or "org/name/file.gguf": the canonical spelling.
    std::string to_string() const;
};

// Parses ORG/REPO[:QUANT|/FILE.gguf]; the quant defaults to Q4_K_M. Errors name the spec and what is wrong.
Result<ModelRef> parse_model_ref(const std::string& spec);

// True when `spec` has the shape ORG/REPO[:QUANT|/FILE.gguf] (used to tell a hub name from a local path).
bool looks_like_model_ref(const std::string& spec);

// One file of a repository, as the hub's API lists it.
struct RepoFile {
    std::string path;    // inside the repo, e.g. "Q4_K_M/model-Q4_K_M-00001-of-00002.gguf"
    uint64_t size = 0;   // bytes (the LFS object's size for LFS files)
    std::string sha256;  // the LFS oid, lowercase hex; empty for files not in LFS
};

// The GGUF the ref asks for: the file itself, or the one GGUF whose name holds the quant as a whole token
// ("Q4_K" does not match "Q4_K_M"; "Q4_0" does not match "IQ4_0"). Fails, listing the repo's GGUF files and
// their quants, when none or several match; refuses split GGUFs (-00001-of-00003) with a clear message.
Result<RepoFile> choose_file(const ModelRef& ref, const std::vector<RepoFile>& files);

// The quant named in a GGUF file name ("x-Q4_K_M.gguf" -> "Q4_K_M"), or empty when none is recognised.
std::string quant_of(const std::string& file_name);

}  // namespace duet::hub

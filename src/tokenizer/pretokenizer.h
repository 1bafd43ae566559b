// pretokenizer.h: splits text into words before byte-level BPE, with the regexes of each `tokenizer.ggml.pre`.
//
// Every regex stage splits each piece of the previous stage into matches *and* the unmatched gaps between
// them (both become words), so no byte is ever dropped. PCRE2 with JIT, UTF + UCP, invalid UTF-8 allowed
// (invalid bytes never match a class and end up in gap words). \s / \S mean Unicode White_Space, as in the
// Python/Rust regexes the patterns come from.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace duet::tok {

class PreTokenizer {
public:
    PreTokenizer();
    ~PreTokenizer();
    PreTokenizer(PreTokenizer&&) noexcept;
    PreTokenizer& operator=(PreTokenizer&&) noexcept;

    // The pre-tokenizer for a `tokenizer.ggml.pre` value ("" means "default"); unsupported -> error.
    static Result<PreTokenizer> for_name(std::string_view pre_name);
    // Compile explicit regex stages (tests, future vocabularies).
    static Result<PreTokenizer> from_patterns(const std::vector<std::string>& patterns);

    // words: cleared, then views into `text`, in order, covering all of it.
    void split(std::string_view text, std::vector<std::string_view>& words) const;
    size_t n_stages() const;

private:
    struct Stage;
    std::vector<std::unique_ptr<Stage>> stages_;
};

// The names for_name() knows, for error messages and docs.
std::vector<std::string_view> supported_pre_names();

}  // namespace duet::tok

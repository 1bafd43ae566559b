// spm.cpp: SentencePiece-style BPE (llama vocab): merge the adjacent pair whose concatenation is the highest-
// scoring vocab token, repeatedly; symbols that are not tokens fall back to <0xZZ> byte tokens.
//
// Input is already escaped (" " -> "▁", space prefix added by the caller). Ties on score go to the leftmost pair.
#include <algorithm>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

struct SpmSymbol {
    uint32_t start;
    uint32_t size;  // 0: merged into its left neighbour
    int32_t prev, next;
};

struct SpmBigram {
    float score;
    int32_t left, right;
    uint32_t size;
    // max-heap on score, then the leftmost first
    bool operator<(const SpmBigram& o) const { return score < o.score || (score == o.score && left > o.left); }
};

struct SpmScratch {
    std::vector<SpmSymbol> symbols;
    std::vector<SpmBigram> heap;
};

}  // namespace

void TokenizerImpl::encode_spm(std::string_view text, std::vector<TokenId>& out) const {
    thread_local SpmScratch s;
    s.symbols.clear();
    s.heap.clear();
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = std::min(unicode::utf8_len(static_cast<uint8_t>(text[pos])), text.size() - pos);
        const int32_t index = static_cast<int32_t>(s.symbols.size());
        s.symbols.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(len), index - 1,
                             pos + len < text.size() ? index + 1 : -1});
        pos += len;
    }
    auto try_add = [&](int32_t left, int32_t right) {
        if (left < 0 || right < 0) return;
        const SpmSymbol& l = s.symbols[left];
        const SpmSymbol& r = s.symbols[right];
        const TokenId id = lookup(text.substr(l.start, l.size + r.size));
        if (id < 0) return;
        s.heap.push_back({scores[id], left, right, l.size + r.size});
        std::push_heap(s.heap.begin(), s.heap.end());
    };
    for (int32_t i = 1; i < static_cast<int32_t>(s.symbols.size()); ++i) try_add(i - 1, i);
    while (!s.heap.empty()) {
        std::pop_heap(s.heap.begin(), s.heap.end());
        const SpmBigram b = s.heap.back();
        s.heap.pop_back();
        SpmSymbol& l = s.symbols[b.left];
        SpmSymbol& r = s.symbols[b.right];
        if (l.size == 0 || r.size == 0 || l.size + r.size != b.size) continue;  // stale
        l.size += r.size;
        r.size = 0;
        l.next = r.next;
        if (r.next >= 0) s.symbols[r.next].prev = b.left;
        try_add(l.prev, b.left);
        try_add(b.left, l.next);
    }
    if (s.symbols.empty()) return;
    for (int32_t i = 0; i >= 0; i = s.symbols[i].next) {
        const SpmSymbol& sym = s.symbols[i];
        const std::string_view piece = text.substr(sym.start, sym.size);
        const TokenId id = lookup(piece);
        if (id >= 0) {
            out.push_back(id);
            continue;
        }
        for (char c : piece) {
            const TokenId byte = byte_token[static_cast<uint8_t>(c)];
            if (byte >= 0) out.push_back(byte);
            else if (unk >= 0) out.push_back(unk);
        }
    }
}

}  // namespace duet::tok

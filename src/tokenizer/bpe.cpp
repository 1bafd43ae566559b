// bpe.cpp: byte-level BPE: pre-tokenize, map bytes to tokens, apply merges lowest rank first.
//
// Per word: one symbol per byte, linked list over the symbols, a min-heap of candidate pairs keyed by
// (rank, left position). A popped pair is stale when either side changed since it was pushed; merging
// pushes only the two new neighbour pairs, so a word of n bytes costs O(n log n), never O(n^2) rescans.
// Words repeat (Zipf), so each thread keeps a bounded word -> ids cache per tokenizer (keyed by its serial;
// no locks, nothing shared between threads).
#include <algorithm>
#include <atomic>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace duet::tok {

namespace {

struct Symbol {
    TokenId id;    // -1: byte without a token (never merges)
    int32_t prev;  // -1 at the start
    int32_t next;  // -1 at the end
};

struct Candidate {
    uint64_t key;  // rank << 32 | left position: the smallest key merges first
    int32_t right;
    TokenId left_id, right_id, merged;
    bool operator>(const Candidate& o) const { return key > o.key; }
};

constexpr size_t kMaxCachedWordBytes = 48;
constexpr size_t kMaxCachedWords = 1 << 15;  // then the cache starts over (bounds memory per thread)
constexpr size_t kCachesPerThread = 2;       // tokenizers used alternately by one thread

struct WordCache {
    uint64_t owner = 0;  // TokenizerImpl::serial, 0 = unused
    uint64_t last_use = 0;
    std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, StringHash, std::equal_to<>> words;  // -> pool
    std::vector<TokenId> pool;
};

struct BpeScratch {
    bool cache_enabled = true;
    std::array<WordCache, kCachesPerThread> caches;
    uint64_t clock = 0;
    std::vector<Symbol> symbols;
    std::vector<Candidate> heap;
    std::vector<std::string_view> words;
    std::string encoded;
    std::string normalized;
};

BpeScratch& bpe_scratch() {
    thread_local BpeScratch scratch;
    return scratch;
}

WordCache& word_cache(BpeScratch& s, uint64_t owner) {
    WordCache* lru = &s.caches[0];
    for (WordCache& c : s.caches) {
        if (c.owner == owner) {
            c.last_use = ++s.clock;
            return c;
        }
        if (c.last_use < lru->last_use) lru = &c;
    }
    lru->owner = owner;
    lru->last_use = ++s.clock;
    lru->words.clear();
    lru->pool.clear();
    return *lru;
}

void push_candidate(const TokenizerImpl& impl, BpeScratch& s, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const TokenId a = s.symbols[left].id, b = s.symbols[right].id;
    if (a < 0 || b < 0) return;
    const BpeMerge* merge = impl.merges.find(MergeTable::key(a, b));
    if (merge == nullptr) return;
    s.heap.push_back({(uint64_t(uint32_t(merge->rank)) << 32) | uint32_t(left), right, a, b, merge->merged});
    std::push_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
}

void bpe_word(const TokenizerImpl& impl, BpeScratch& s, std::string_view word, std::vector<TokenId>& out) {
    const auto* bytes = reinterpret_cast<const uint8_t*>(word.data());
    if (word.size() == 1) {
        if (impl.byte_token[bytes[0]] >= 0) out.push_back(impl.byte_token[bytes[0]]);
        return;
    }
    if (impl.ignore_merges) {
        const auto& chars = bpe_byte_chars();
        s.encoded.clear();
        for (uint8_t b : std::string_view(word)) s.encoded += chars[b];
        const TokenId whole = impl.lookup(s.encoded);
        if (whole >= 0) {
            out.push_back(whole);
            return;
        }
    }
    const int32_t n = static_cast<int32_t>(word.size());
    s.symbols.resize(n);
    for (int32_t i = 0; i < n; ++i) s.symbols[i] = {impl.byte_token[bytes[i]], i - 1, i + 1 < n ? i + 1 : -1};
    s.heap.clear();
    for (int32_t i = 0; i + 1 < n; ++i) push_candidate(impl, s, i, i + 1);
    while (!s.heap.empty()) {
        std::pop_heap(s.heap.begin(), s.heap.end(), std::greater<>{});
        const Candidate c = s.heap.back();
        s.heap.pop_back();
        const int32_t left = static_cast<int32_t>(c.key & 0xFFFFFFFFu);
        Symbol& l = s.symbols[left];
        Symbol& r = s.symbols[c.right];
        if (l.id != c.left_id || r.id != c.right_id || l.next != c.right) continue;  // stale
        l.id = c.merged;
        l.next = r.next;
        if (r.next >= 0) s.symbols[r.next].prev = left;
        r.id = -2;  // dead
        r.next = -1;
        push_candidate(impl, s, l.prev, left);
        push_candidate(impl, s, left, l.next);
    }
    for (int32_t i = 0; i >= 0; i = s.symbols[i].next)
        if (s.symbols[i].id >= 0) out.push_back(s.symbols[i].id);
}

}  // namespace

void MergeTable::reserve(size_t n_merges) {
    size_t capacity = 16;
    while (capacity < 2 * n_merges) capacity *= 2;
    if (capacity <= slots_.size()) return;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 64 - __builtin_ctzll(capacity);
    size_ = 0;
    for (const Slot& s : old)
        if (s.key != kEmpty) insert(s.key, s.merge);
}

void MergeTable::grow() { reserve(std::max<size_t>(size_ + 1, slots_.size())); }

bool MergeTable::insert(uint64_t key, BpeMerge merge) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = hash(key);; i = (i + 1) & mask_) {
        Slot& s = slots_[i];
        if (s.key == key) return false;
        if (s.key == kEmpty) {
            s.key = key;
            s.merge = merge;
            ++size_;
            return true;
        }
    }
}

void set_bpe_word_cache_enabled(bool enabled) { bpe_scratch().cache_enabled = enabled; }

TokenizerImpl::TokenizerImpl() {
    static std::atomic<uint64_t> next_serial{1};
    serial = next_serial.fetch_add(1);
}

void TokenizerImpl::encode_bpe(std::string_view text, std::vector<TokenId>& out) const {
    BpeScratch& s = bpe_scratch();
    if (apply_nfc && unicode::nfc_if_needed(text, s.normalized)) text = s.normalized;
    pre_tokenizer.split(text, s.words);
    WordCache& cache = word_cache(s, serial);
    for (std::string_view word : s.words) {
        if (!s.cache_enabled || word.size() == 1 || word.size() > kMaxCachedWordBytes) {
            bpe_word(*this, s, word, out);
            continue;
        }
        if (const auto it = cache.words.find(word); it != cache.words.end()) {
            const auto [offset, count] = it->second;
            out.insert(out.end(), cache.pool.begin() + offset, cache.pool.begin() + offset + count);
            continue;
        }
        const size_t first = out.size();
        bpe_word(*this, s, word, out);
        if (cache.words.size() >= kMaxCachedWords) {
            cache.words.clear();
            cache.pool.clear();
        }
        const auto offset = static_cast<uint32_t>(cache.pool.size());
        cache.pool.insert(cache.pool.end(), out.begin() + first, out.end());
        cache.words.emplace(std::string(word), std::make_pair(offset, static_cast<uint32_t>(out.size() - first)));
    }
}

}  // namespace duet::tok

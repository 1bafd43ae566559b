// bench_tokenizer.cpp: encode/decode throughput (MB/s) on 1 MB of generated Chinese/English/code text.
//
// Vocabularies: $DUET_FIXTURES or the first shared/fixtures found walking up from the binary.
//   duet_bench_bench_tokenizer --benchmark_filter=Encode
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_impl.h"

namespace {

namespace fs = std::filesystem;

std::string fixtures_dir() {
    if (const char* env = std::getenv("DUET_FIXTURES")) return env;
    std::error_code ec;
    fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
    for (int up = 0; up < 6 && !dir.empty(); ++up, dir = dir.parent_path()) {
        if (fs::is_directory(dir / "shared" / "fixtures")) return (dir / "shared" / "fixtures").string();
        if (fs::is_directory(dir / ".." / "shared" / "fixtures")) return (dir / ".." / "shared" / "fixtures").string();
    }
    return "";
}

struct LoadedVocab {
    std::unique_ptr<duet::gguf::GgufFile> file;
    std::unique_ptr<duet::tok::Tokenizer> tokenizer;
};

const duet::tok::Tokenizer* vocab(const std::string& relative) {
    static std::map<std::string, LoadedVocab> cache;
    auto it = cache.find(relative);
    if (it != cache.end()) return it->second.tokenizer.get();
    const std::string dir = fixtures_dir();
    if (dir.empty()) return nullptr;
    auto file = duet::gguf::GgufFile::open(dir + "/" + relative);
    if (!file.ok()) return nullptr;
    auto tokenizer = duet::tok::Tokenizer::from_gguf(**file);
    if (!tokenizer.ok()) return nullptr;
    LoadedVocab& v = cache[relative];
    v.file = std::move(file).value();
    v.tokenizer = std::move(tokenizer).value();
    return v.tokenizer.get();
}

// 1 MB of deterministic mixed text: English prose, Chinese prose, C++/Python code, numbers, whitespace runs.
// A third of the words are random (pseudo-words, random CJK characters, identifiers) so that the per-thread
// word cache does not see only a few hundred distinct words.
const std::string& mixed_text() {
    static const std::string text = [] {
        static const char* const kEnglish[] = {"the",         "quick",     "brown",     "fox",        "jumps",
                                               "over",        "lazy",      "dog",       "tokenizer",  "performance",
                                               "benchmark",   "isn't",     "they're",   "we'll",      "Hello",
                                               "World",       "model",     "inference", "throughput", "latency",
                                               "memory",      "bandwidth", "cache",     "attention",  "transformer",
                                               "quantization"};
        static const char* const kChinese[] = {"我们", "今天", "天气", "很好", "模型", "推理", "速度", "分词器",
                                               "中文", "文本", "测试", "数据", "计算", "内存", "带宽", "注意力",
                                               "量化", "的",   "了",   "是",   "在",   "和",   "，",   "。"};
        static const char* const kCode[] = {"for (int i = 0; i < n; ++i) {\n",
                                            "    sum += x[i] * w[i];\n",
                                            "}\n",
                                            "def encode(text: str) -> list[int]:\n",
                                            "    return [ord(c) for c in text]\n",
                                            "if (ptr == nullptr) return Status::invalid_data(\"bad\");\n",
                                            "#include <vector>\n",
                                            "    std::vector<float> out(n, 0.0f);\n",
                                            "x = {\"key\": [1, 2, 3], 'v': None}\n",
                                            "\t\t// TODO: fix\n"};
        std::string s;
        s.reserve((1 << 20) + 256);
        uint64_t state = 0x9E3779B97F4A7C15ull;
        auto next = [&state](uint64_t n) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            return (state >> 33) % n;
        };
        static const char* const kSyllables[] = {"ka", "ro",  "mi",  "ten", "str", "ex", "ion", "ly", "qu",
                                                 "an", "pre", "ful", "th",  "ing", "Ze", "o",   "ba", "ck"};
        auto pseudo_word = [&] {
            std::string w;
            for (uint64_t i = 0, n = 1 + next(4); i < n; ++i) w += kSyllables[next(std::size(kSyllables))];
            return w;
        };
        auto cjk_char = [&] {  // U+4E00..U+9FA5 as UTF-8
            const uint32_t cp = 0x4E00 + static_cast<uint32_t>(next(0x9FA5 - 0x4E00));
            return std::string{static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                               static_cast<char>(0x80 | (cp & 0x3F))};
        };
        while (s.size() < (1u << 20)) {
            switch (next(10)) {
                case 0:
                case 1:
                case 2:
                case 3:  // English sentence
                    for (uint64_t w = 0, n = 4 + next(10); w < n; ++w) {
                        s += next(3) == 0 ? pseudo_word() : kEnglish[next(std::size(kEnglish))];
                        s += next(8) == 0 ? ", " : " ";
                    }
                    s += ".\n";
                    break;
                case 4:
                case 5:
                case 6:  // Chinese sentence
                    for (uint64_t w = 0, n = 6 + next(14); w < n; ++w)
                        s += next(3) == 0 ? cjk_char() : kChinese[next(std::size(kChinese))];
                    s += "。\n";
                    break;
                case 7:
                case 8:  // code
                    for (uint64_t l = 0, n = 1 + next(4); l < n; ++l) s += kCode[next(std::size(kCode))];
                    s += "auto " + pseudo_word() + "_" + std::to_string(next(100)) + " = " + pseudo_word() + "();\n";
                    break;
                default:  // numbers and whitespace
                    s += std::to_string(next(1000000)) + "  " + std::to_string(next(100)) + ".5%\n\n";
            }
        }
        return s;
    }();
    return text;
}

void BM_Encode(benchmark::State& state, const char* relative, bool parse_special, bool word_cache = true) {
    const duet::tok::Tokenizer* tokenizer = vocab(relative);
    if (tokenizer == nullptr) {
        state.SkipWithError("vocab fixture not found (set DUET_FIXTURES)");
        return;
    }
    const std::string& text = mixed_text();
    size_t n_tokens = 0;
    duet::tok::set_bpe_word_cache_enabled(word_cache);
    for (auto _ : state) {
        auto ids = tokenizer->encode(text, false, parse_special);
        n_tokens = ids.size();
        benchmark::DoNotOptimize(ids.data());
    }
    duet::tok::set_bpe_word_cache_enabled(true);
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
    state.counters["tokens"] = static_cast<double>(n_tokens);
    state.counters["bytes/token"] = static_cast<double>(text.size()) / static_cast<double>(n_tokens);
}

void BM_Decode(benchmark::State& state, const char* relative) {
    const duet::tok::Tokenizer* tokenizer = vocab(relative);
    if (tokenizer == nullptr) {
        state.SkipWithError("vocab fixture not found (set DUET_FIXTURES)");
        return;
    }
    const auto ids = tokenizer->encode(mixed_text(), false, false);
    for (auto _ : state) {
        std::string text = tokenizer->decode(ids);
        benchmark::DoNotOptimize(text.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * mixed_text().size()));
}

constexpr const char* kLlama3 = "vocab-derived/vocab-llama3-instruct.derived.gguf";
constexpr const char* kQwen2 = "vocab-derived/vocab-qwen2.5-instruct.derived.gguf";
BENCHMARK_CAPTURE(BM_Encode, llama3, kLlama3, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, qwen2, kQwen2, false)->Unit(benchmark::kMillisecond);
// without the per-thread word cache (every word merged from bytes: the cold-start speed)
BENCHMARK_CAPTURE(BM_Encode, llama3_no_cache, kLlama3, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, qwen2_no_cache, kQwen2, false, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, llama3_parse_special, kLlama3, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, gpt2, "llamacpp-vocab/ggml-vocab-gpt-2.gguf", false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, llama_spm, "llamacpp-vocab/ggml-vocab-llama-spm.gguf", false)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, qwen2, kQwen2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

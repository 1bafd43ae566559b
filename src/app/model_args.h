// model_args.h: small argument helpers shared by generate / logits / bench / make-model (hand-written parsing).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/kv_cache.h"
#include "model/sampler.h"

namespace duet::app {

// Walks argv (argv[0] is the subcommand): `while (args.next()) { if (args.is("-m", "--model")) ... }`.
class ArgReader {
public:
    ArgReader(int argc, char** argv) : argc_(argc), argv_(argv) {}
    bool next() { return ++i_ < argc_; }
    std::string_view arg() const { return argv_[i_]; }
    bool is(std::string_view a, std::string_view b = {}) const { return arg() == a || (!b.empty() && arg() == b); }
    // The value after the current option (error when missing).
    Result<std::string> value();

private:
    int argc_;
    char** argv_;
    int i_ = 0;
};

// The CLI's sampling defaults, llama.cpp's (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties):
// the one place they are set (the API's are in openai/types.h).
model::SamplingParams cli_sampling_params();

Result<int64_t> parse_int(std::string_view s, std::string_view what);
Result<uint64_t> parse_u64(std::string_view s, std::string_view what);
Result<double> parse_float(std::string_view s, std::string_view what);
// "1,2,3" -> {1, 2, 3}; every element an integer; empty elements are errors.
Result<std::vector<int64_t>> parse_int_list(std::string_view s, char sep, std::string_view what);

// --kv-type value: "f16" or "f32".
Result<model::KvType> parse_kv_type(std::string_view s);
// -t value: a thread count in [1, 256].
Result<int64_t> parse_threads(std::string_view s);

// The options every model command shares: -m FILE, -t N, --kv-type, -h.
struct ModelCommandArgs {
    std::string model_path;
    int64_t n_threads = 0;  // 0: default_threads()
    model::KvType kv_type = model::KvType::f16;
};

// The shared argument loop of generate / logits / bench: `own(args)` sees each option first and returns true when
// it took it (then -t, say, can mean a list for bench); then -h (prints `usage`, exits 0), -m, -t, --kv-type;
// anything else is an error quoting `usage`. -m is required.
using OwnOptions = std::function<Result<bool>(ArgReader& args)>;
Status parse_model_command(int argc, char** argv, const char* usage, ModelCommandArgs* common, const OwnOptions& own);

// Prints "error: <message>" to stderr and returns exit code 1 (2 for invalid arguments).
int report_error(const Status& status);

// Default thread count: hardware threads, at most 8.
int default_threads();

}  // namespace duet::app

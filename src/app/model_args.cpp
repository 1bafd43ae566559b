// model_args.cpp: argument helpers for the model subcommands.
#include "app/model_args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace duet::app {

model::SamplingParams cli_sampling_params() {
    model::SamplingParams p;
    p.temperature = 0.8f;
    p.top_k = 40;
    p.top_p = 0.95f;
    p.min_p = 0.05f;
    return p;
}

Result<std::string> ArgReader::value() {
    const std::string option(arg());
    if (i_ + 1 >= argc_) return Status::invalid_argument("option %s needs a value", option.c_str());
    return std::string(argv_[++i_]);
}

Result<int64_t> parse_int(std::string_view s, std::string_view what) {
    const std::string str(s);
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(str.c_str(), &end, 10);
    if (str.empty() || end != str.c_str() + str.size() || errno != 0)
        return Status::invalid_argument("%.*s: '%s' is not an integer", static_cast<int>(what.size()), what.data(),
                                        str.c_str());
    return static_cast<int64_t>(v);
}

Result<uint64_t> parse_u64(std::string_view s, std::string_view what) {
    const std::string str(s);
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(str.c_str(), &end, 10);
    if (str.empty() || str[0] == '-' || end != str.c_str() + str.size() || errno != 0)
        return Status::invalid_argument("%.*s: '%s' is not an unsigned integer", static_cast<int>(what.size()),
                                        what.data(), str.c_str());
    return static_cast<uint64_t>(v);
}

Result<double> parse_float(std::string_view s, std::string_view what) {
    const std::string str(s);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(str.c_str(), &end);
    if (str.empty() || end != str.c_str() + str.size() || errno != 0 || !std::isfinite(v))
        return Status::invalid_argument("%.*s: '%s' is not a number", static_cast<int>(what.size()), what.data(),
                                        str.c_str());
    return v;
}

Result<std::vector<int64_t>> parse_int_list(std::string_view s, char sep, std::string_view what) {
    std::vector<int64_t> out;
    size_t start = 0;
    while (true) {
        const size_t end = s.find(sep, start);
        const std::string_view item = s.substr(start, end == std::string_view::npos ? s.npos : end - start);
        DUET_TRY(int64_t v, parse_int(item, what));
        out.push_back(v);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return out;
}

Result<model::KvType> parse_kv_type(std::string_view s) {
    if (s == "f16") return model::KvType::f16;
    if (s == "f32") return model::KvType::f32;
    return Status::invalid_argument("--kv-type: '%.*s' (expected f16 or f32)", static_cast<int>(s.size()), s.data());
}

Result<int64_t> parse_threads(std::string_view s) {
    DUET_TRY(int64_t n, parse_int(s, "-t"));
    if (n < 1 || n > 256) return Status::invalid_argument("-t: %lld out of range [1, 256]", static_cast<long long>(n));
    return n;
}

Status parse_model_command(int argc, char** argv, const char* usage, ModelCommandArgs* common, const OwnOptions& own) {
    if (common->n_threads == 0) common->n_threads = default_threads();
    ArgReader args(argc, argv);
    while (args.next()) {
        DUET_TRY(bool taken, own(args));
        if (taken) continue;
        if (args.is("-h", "--help")) {
            std::fputs(usage, stdout);
            std::exit(0);
        } else if (args.is("-m", "--model")) {
            DUET_TRY(common->model_path, args.value());
        } else if (args.is("-t", "--threads")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(common->n_threads, parse_threads(v));
        } else if (args.is("--kv-type")) {
            DUET_TRY(std::string v, args.value());
            DUET_TRY(common->kv_type, parse_kv_type(v));
        } else {
            return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), usage);
        }
    }
    if (common->model_path.empty()) return Status::invalid_argument("-m MODEL.gguf is required\n%s", usage);
    return Status::ok_status();
}

int report_error(const Status& status) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    return status.code() == StatusCode::invalid_argument ? 2 : 1;
}

int default_threads() {
    const unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : static_cast<int>(std::min(hw, 8u));
}

}  // namespace duet::app

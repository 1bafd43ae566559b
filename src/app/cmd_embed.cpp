// cmd_embed.cpp: `duet embed -m M.gguf [--json] [-t N] -- TEXT...`: one sentence vector per text, from a BERT-family
// encoder (model::Encoder): [CLS]/[SEP] added and special-token text parsed, as llama.cpp's server does.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "common/thread_pool.h"
#include "model/encoder.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet embed -m MODEL.gguf [--json] [--no-normalize] [-t THREADS] -- TEXT...\n\n"
    "Encodes each TEXT (one argument each) with a BERT-family encoder (general.architecture = bert) and prints\n"
    "one vector per line (%.9g floats separated by spaces), pooled as the model says (bert.pooling_type) and\n"
    "L2-normalised. All texts go through the encoder together.\n\n"
    "  -m, --model FILE   encoder GGUF (its WordPiece vocabulary tokenizes the texts)\n"
    "  --json             print {\"embeddings\":[[...],...],\"n_tokens\":[...]} on one line instead\n"
    "  --no-normalize     print the pooled vectors before L2 normalisation\n"
    "  -t, --threads N    worker threads\n"
    "  -h, --help         this text\n\n"
    "Exit status: 0 on success; 1 with 'error: <message>' on stderr otherwise.\n";

}  // namespace

int cmd_embed(int argc, char** argv) {
    std::string model_path;
    bool json = false, normalize = true;
    int64_t n_threads = default_threads();
    std::vector<std::string> texts;
    ArgReader args(argc, argv);
    auto parse = [&]() -> Status {
        while (args.next()) {
            if (args.is("--")) {
                while (args.next()) texts.emplace_back(args.arg());
                break;
            }
            if (args.is("-h", "--help")) {
                std::fputs(kUsage, stdout);
                std::exit(0);
            } else if (args.is("-m", "--model")) {
                DUET_TRY(model_path, args.value());
            } else if (args.is("--json")) {
                json = true;
            } else if (args.is("--no-normalize")) {
                normalize = false;
            } else if (args.is("-t", "--threads")) {
                DUET_TRY(std::string v, args.value());
                DUET_TRY(n_threads, parse_threads(v));
            } else {
                return Status::invalid_argument("unknown option '%s'\n%s", std::string(args.arg()).c_str(), kUsage);
            }
        }
        if (model_path.empty()) return Status::invalid_argument("-m is required\n%s", kUsage);
        if (texts.empty()) return Status::invalid_argument("no text to embed (give texts after '--')\n%s", kUsage);
        return {};
    };
    if (Status s = parse(); !s.ok()) return report_error(s);

    model::LoadOptions opts;
    opts.progress = false;
    auto loaded = model::Model::load(model_path, opts);
    if (!loaded.ok()) return report_error(loaded.status());
    const model::Model& m = **loaded;
    if (m.config().family != model::Family::encoder)
        return report_error(Status::unsupported("'%s' is a %.*s decoder, not an encoder (bert)", model_path.c_str(),
                                                static_cast<int>(model::arch_name(m.config().arch).size()),
                                                model::arch_name(m.config().arch).data()));
    auto tokenizer = tok::Tokenizer::from_gguf(m.file());
    if (!tokenizer.ok()) return report_error(tokenizer.status().with_context("'" + model_path + "': "));

    std::vector<std::vector<model::TokenId>> sequences;
    int64_t longest = 0;
    for (const std::string& text : texts) {
        sequences.push_back((*tokenizer)->encode(text, /*add_special=*/true, /*parse_special=*/true));
        longest = std::max<int64_t>(longest, static_cast<int64_t>(sequences.back().size()));
    }
    ThreadPool pool(static_cast<int>(n_threads));
    const int32_t max_tokens =
        std::max<int32_t>(static_cast<int32_t>(std::min<int64_t>(longest, m.config().n_ctx_train)),
                          std::min<int32_t>(512, m.config().n_ctx_train));
    model::Encoder encoder(m, max_tokens, &pool);
    auto vectors = encoder.embed(sequences, normalize);
    if (!vectors.ok()) return report_error(vectors.status());

    if (json) {
        std::string out = "{\"embeddings\":[";
        char buf[32];
        for (size_t i = 0; i < vectors->size(); ++i) {
            out += i ? ",[" : "[";
            for (size_t j = 0; j < (*vectors)[i].size(); ++j) {
                std::snprintf(buf, sizeof buf, "%s%.9g", j ? "," : "", static_cast<double>((*vectors)[i][j]));
                out += buf;
            }
            out += "]";
        }
        out += "],\"n_tokens\":[";
        for (size_t i = 0; i < sequences.size(); ++i) out += (i ? "," : "") + std::to_string(sequences[i].size());
        out += "]}\n";
        std::fputs(out.c_str(), stdout);
    } else {
        for (const auto& v : *vectors) {
            for (size_t j = 0; j < v.size(); ++j) std::printf("%s%.9g", j ? " " : "", static_cast<double>(v[j]));
            std::printf("\n");
        }
    }
    return 0;
}

}  // namespace duet::app

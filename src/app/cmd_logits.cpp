// cmd_logits.cpp: `duet logits`: logits for every position of one or more token sequences, as JSON (%.9g).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/model_args.h"
#include "common/thread_pool.h"
#include "model/forward.h"

namespace duet::app {

namespace {

constexpr const char* kUsage =
    "usage: duet logits -m MODEL.gguf (--tokens 1,2,3 | --batch \"1,2,3;4,5\") [--kv-type f32|f16] [-t THREADS]\n"
    "  prints {\"logits\": [[...n_vocab floats...], ...one row per position]}; with --batch every sequence runs\n"
    "  in ONE mixed batch and the output is {\"logits\": [[rows of seq 0], [rows of seq 1], ...]}.\n"
    "  --kv-type defaults to f32 (exact comparisons); -t defaults to the hardware threads (max 8).\n";

void print_row(const float* row, int32_t n) {
    std::fputc('[', stdout);
    for (int32_t i = 0; i < n; ++i) std::printf(i == 0 ? "%.9g" : ",%.9g", static_cast<double>(row[i]));
    std::fputc(']', stdout);
}

}  // namespace

int cmd_logits(int argc, char** argv) {
    std::string tokens_arg, batch_arg;
    ModelCommandArgs common;
    common.kv_type = model::KvType::f32;  // exact comparisons
    auto own = [&](ArgReader& args) -> Result<bool> {
        if (args.is("--tokens")) {
            DUET_TRY(tokens_arg, args.value());
        } else if (args.is("--batch")) {
            DUET_TRY(batch_arg, args.value());
        } else {
            return false;
        }
        return true;
    };
    Status parsed = parse_model_command(argc, argv, kUsage, &common, own);
    if (parsed.ok() && tokens_arg.empty() == batch_arg.empty())
        parsed = Status::invalid_argument("give exactly one of --tokens and --batch\n%s", kUsage);
    if (!parsed.ok()) return report_error(parsed);
    const std::string& model_path = common.model_path;

    // Sequences of token ids.
    std::vector<std::vector<model::TokenId>> seqs;
    const std::string& list = batch_arg.empty() ? tokens_arg : batch_arg;
    size_t start = 0;
    while (true) {
        const size_t end = batch_arg.empty() ? std::string::npos : list.find(';', start);
        auto ids = parse_int_list(std::string_view(list).substr(start, end == std::string::npos ? std::string::npos
                                                                                                : end - start),
                                  ',', batch_arg.empty() ? "--tokens" : "--batch");
        if (!ids.ok()) return report_error(ids.status());
        seqs.emplace_back(ids->begin(), ids->end());
        for (int64_t id : *ids)
            if (id < 0 || id > INT32_MAX)
                return report_error(Status::invalid_argument("token id %lld out of range", static_cast<long long>(id)));
        if (end == std::string::npos) break;
        start = end + 1;
    }

    model::LoadOptions opts;
    auto loaded = model::Model::load(model_path, opts);
    if (!loaded.ok()) return report_error(loaded.status());
    if (Status s = model::require_decoder(**loaded); !s.ok()) return report_error(s);
    const model::Model& m = **loaded;
    const int32_t n_vocab = m.config().n_vocab;

    constexpr int32_t kBlockSize = 16;
    int32_t n_blocks = 0, n_tokens = 0;
    for (const auto& s : seqs) {
        n_blocks += (static_cast<int32_t>(s.size()) + kBlockSize - 1) / kBlockSize;
        n_tokens += static_cast<int32_t>(s.size());
    }
    model::KvCache kv(m.config(), n_blocks, kBlockSize, common.kv_type);
    ThreadPool pool(static_cast<int>(common.n_threads));
    model::Forward forward(m, kv, n_tokens, &pool);

    std::vector<std::vector<model::BlockId>> tables(seqs.size());
    std::vector<model::BatchSequence> batch_seqs(seqs.size());
    std::vector<model::TokenId> tokens;
    std::vector<int32_t> positions, seq_index;
    model::BlockId next_block = 0;
    for (size_t s = 0; s < seqs.size(); ++s) {
        for (size_t b = 0; b < (seqs[s].size() + kBlockSize - 1) / kBlockSize; ++b) tables[s].push_back(next_block++);
        batch_seqs[s].block_table = tables[s];
        for (size_t i = 0; i < seqs[s].size(); ++i) {
            tokens.push_back(seqs[s][i]);
            positions.push_back(static_cast<int32_t>(i));
            seq_index.push_back(static_cast<int32_t>(s));
        }
    }
    std::vector<uint8_t> want(tokens.size(), 1);
    auto out = forward.run(model::Batch{tokens, positions, seq_index, want, batch_seqs});
    if (!out.ok()) return report_error(out.status());

    const float* rows = out->data();
    std::fputs("{\"logits\":[", stdout);
    size_t row = 0;
    for (size_t s = 0; s < seqs.size(); ++s) {
        if (!batch_arg.empty()) std::fputs(s == 0 ? "[" : ",[", stdout);
        for (size_t i = 0; i < seqs[s].size(); ++i, ++row) {
            if (i > 0) std::fputc(',', stdout);
            print_row(rows + row * n_vocab, n_vocab);
        }
        if (!batch_arg.empty()) std::fputc(']', stdout);
    }
    std::fputs("]}\n", stdout);
    return 0;
}

}  // namespace duet::app

// model.h: a Llama / Qwen2 model loaded from GGUF: config plus typed zero-copy views of the weights in the mmap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor_type.h"
#include "gguf/gguf.h"
#include "model/config.h"

namespace duet::model {

// A weight matrix W (d,n): d rows of n elements in `type`'s block layout (GGUF ne = [n, d]), inside the mmap.
struct WeightView {
    TensorType type = TensorType::F32;
    const void* data = nullptr;
    int64_t n = 0;       // row length (input width)
    int64_t d = 0;       // rows (output width)
    size_t n_bytes = 0;  // d * row_size(type, n)
};

struct LayerWeights {
    const float* attn_norm = nullptr;  // (n_embd,)
    WeightView wq;                     // (q_dim, n_embd)
    WeightView wk;                     // (kv_dim, n_embd)
    WeightView wv;                     // (kv_dim, n_embd)
    const float* bq = nullptr;         // (q_dim,)  qwen2 only
    const float* bk = nullptr;         // (kv_dim,) qwen2 only
    const float* bv = nullptr;         // (kv_dim,) qwen2 only
    WeightView wo;                     // (n_embd, q_dim)
    const float* ffn_norm = nullptr;   // (n_embd,)
    WeightView w_gate;                 // (n_ff, n_embd)
    WeightView w_up;                   // (n_ff, n_embd)
    WeightView w_down;                 // (n_embd, n_ff)
};

struct LoadOptions {
    bool progress = true;   // progress bar on stderr while touching the pages (only when stderr is a terminal)
    bool prefetch = true;   // read the whole file into the page cache now (MADV_WILLNEED + touch every page)
};

class Model {
public:
    // Opens and validates `path`. Every missing tensor and every shape/type mismatch is listed in one error.
    static Result<std::unique_ptr<Model>> load(const std::string& path, const LoadOptions& options = {});
    // Same over an already parsed file (tests build models in memory); takes ownership.
    static Result<std::unique_ptr<Model>> from_gguf(std::unique_ptr<gguf::GgufFile> file,
                                                    const LoadOptions& options = {});

    const ModelConfig& config() const { return config_; }
    const gguf::GgufFile& file() const { return *file_; }

    const WeightView& token_embd() const { return token_embd_; }  // (n_vocab, n_embd)
    const float* output_norm() const { return output_norm_; }     // (n_embd,)
    const WeightView& output() const { return output_; }          // (n_vocab, n_embd); token_embd when tied
    const float* rope_freqs() const { return rope_freqs_; }       // (n_rot/2,) or null
    const std::vector<LayerWeights>& layers() const { return layers_; }

    // Bytes of weights one decode step reads: every weight except token_embd, plus one embedding row
    // (the whole token_embd when the output is tied, since the logits read all of it).
    size_t weight_bytes_per_token() const;
    // Bytes of all tensors in the file.
    size_t total_weight_bytes() const;

private:
    Model() = default;
    Status bind_weights();

    std::unique_ptr<gguf::GgufFile> file_;
    ModelConfig config_;
    WeightView token_embd_;
    const float* output_norm_ = nullptr;
    WeightView output_;
    const float* rope_freqs_ = nullptr;
    std::vector<LayerWeights> layers_;
};

}  // namespace duet::model

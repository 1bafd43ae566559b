// model.h: a model loaded from GGUF (Llama / Qwen2 decoders, BERT encoders): config plus typed zero-copy views
// of the weights in the mmap. The architecture's arch/ file reads the config and names the tensors.
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
#include "model/weights.h"

namespace duet::model {

struct LoadOptions {
    bool progress = true;  // progress bar on stderr while touching the pages (only when stderr is a terminal)
    bool prefetch = true;  // read the whole file into the page cache now (MADV_WILLNEED + touch every page)
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

    const ModelWeights& weights() const { return weights_; }
    const WeightView& token_embd() const { return weights_.token_embd; }  // (n_vocab, n_embd)
    const float* output_norm() const { return weights_.output_norm; }     // (n_embd,)
    const WeightView& output() const { return weights_.output; }          // (n_vocab, n_embd); token_embd when tied
    const float* rope_freqs() const { return weights_.rope_freqs; }       // (n_rot/2,) or null
    const std::vector<LayerWeights>& layers() const { return weights_.layers; }

    // Bytes of weights one decode step reads: every weight except token_embd, plus one embedding row
    // (the whole token_embd when the output is tied, since the logits read all of it).
    size_t weight_bytes_per_token() const;
    // Bytes of all tensors in the file.
    size_t total_weight_bytes() const;

private:
    Model() = default;
    std::unique_ptr<gguf::GgufFile> file_;
    ModelConfig config_;
    ModelWeights weights_;
};

// ok for a decoder (Forward can run it); unsupported naming the architecture for an encoder, which only embeds.
Status require_decoder(const Model& model);

}  // namespace duet::model

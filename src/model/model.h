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
    // A decoder's matrices in the layout the active backend reads fastest (kernels::preferred_layout): copied
    // out of the mmap once, and the file's pages of those tensors released. Off: every matrix stays in the file.
    bool pack = true;
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

    // Bytes of weights repacked out of the file at load (LoadOptions::pack), and how many matrices.
    size_t packed_bytes() const { return packed_bytes_; }
    int packed_matrices() const { return static_cast<int>(packed_.size()); }

private:
    Model() = default;
    void pack_matrices();
    std::unique_ptr<gguf::GgufFile> file_;
    ModelConfig config_;
    ModelWeights weights_;
    struct FreeBytes {
        void operator()(uint8_t* p) const;
    };
    std::vector<std::unique_ptr<uint8_t, FreeBytes>> packed_;  // the repacked matrices the views point into
    size_t packed_bytes_ = 0;
    std::vector<bool> released_pages_;  // pages of the file's tensor data given back by pack_matrices
};

// ok for a decoder (Forward can run it); unsupported naming the architecture for an encoder, which only embeds.
Status require_decoder(const Model& model);

}  // namespace duet::model

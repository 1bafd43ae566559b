// llama.cpp: architecture `llama` (Llama-2/3/3.1): RoPE on adjacent pairs, RMSNorm eps 1e-5 unless the file
// says otherwise, optional rope_freqs.weight (Llama-3.1 frequency factors), QKV biases only if the file has them.
#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

namespace {

Status read_config(const gguf::GgufFile& file, ModelConfig& c) {
    c.rope_mode = kernels::RopeMode::norm;
    c.rms_eps = 1e-5f;
    DUET_RETURN_IF_ERROR(read_decoder_config(file, c));
    c.has_qkv_bias = file.find_tensor("blk.0.attn_q.bias") != nullptr;  // some fine-tunes carry them
    return {};
}

}  // namespace

const ArchSpec kLlamaArch = {Arch::llama, "llama", Family::decoder, read_config, bind_decoder_weights};

}  // namespace duet::model

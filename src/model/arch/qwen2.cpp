// qwen2.cpp: architecture `qwen2` (Qwen2 / Qwen2.5, DeepSeek-R1-Distill-Qwen): the Llama layout plus biases on
// q/k/v (required), RoPE on NEOX pairs (i, i + n_rot/2), RMSNorm eps 1e-6 unless the file says otherwise.
#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

namespace {

Status read_config(const gguf::GgufFile& file, ModelConfig& c) {
    c.rope_mode = kernels::RopeMode::neox;
    c.rms_eps = 1e-6f;
    DUET_RETURN_IF_ERROR(read_decoder_config(file, c));
    c.has_qkv_bias = true;
    return {};
}

}  // namespace

const ArchSpec kQwen2Arch = {Arch::qwen2, "qwen2", Family::decoder, read_config, bind_decoder_weights};

}  // namespace duet::model

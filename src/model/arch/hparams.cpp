// hparams.cpp: readers for `{arch}.*` keys shared by the arch/ files, every value range-checked.
#include "gguf/gguf.h"
#include "model/arch/arch.h"

namespace duet::model {

Status read_count(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out) {
    auto v = file.get_u32(key);
    if (!v.ok()) return v.status().with_context("model config: ");
    if (*v == 0 || *v > static_cast<uint32_t>(cap))
        return Status::invalid_data("model config: %s = %u out of range [1, %d]", key.c_str(), *v, cap);
    *out = static_cast<int32_t>(*v);
    return {};
}

Status read_count_or(const gguf::GgufFile& file, const std::string& key, int32_t cap, int32_t* out) {
    if (file.find(key) == nullptr) return {};
    return read_count(file, key, cap, out);
}

Status read_vocab_size(const gguf::GgufFile& file, const std::string& arch, int32_t* out) {
    const gguf::TensorInfo* embd = file.find_tensor("token_embd.weight");
    if (embd == nullptr) return Status::invalid_data("model config: tensor 'token_embd.weight' is missing");
    if (embd->n_dims != 2 || embd->ne[1] <= 0 || embd->ne[1] > kMaxVocab)
        return Status::invalid_data("model config: token_embd.weight has %d dims, %lld rows (want 2 dims, 1..%d rows)",
                                    embd->n_dims, static_cast<long long>(embd->ne[1]), kMaxVocab);
    *out = static_cast<int32_t>(embd->ne[1]);
    if (file.find(arch + ".vocab_size") != nullptr) {
        auto vs = file.get_u32(arch + ".vocab_size");
        if (!vs.ok()) return vs.status().with_context("model config: ");
        if (*vs != static_cast<uint32_t>(*out))
            return Status::invalid_data("model config: %s.vocab_size %u != token_embd.weight rows %d", arch.c_str(),
                                        *vs, *out);
    }
    return {};
}

}  // namespace duet::model

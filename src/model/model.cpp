// model.cpp: Model::load: open the GGUF, read the config, bind every weight as a typed view into the mmap.
#include "model/model.h"

#include <cstdio>
#include <unistd.h>

#include "common/strformat.h"
#include "common/timer.h"

namespace duet::model {

namespace {

// Collects every problem with the tensors so the user sees all of them at once.
class Binder {
public:
    explicit Binder(const gguf::GgufFile& file) : file_(file) {}

    // A matrix W (d,n) of any type duet can multiply.
    WeightView matrix(const std::string& name, int64_t n, int64_t d) {
        const gguf::TensorInfo* t = find(name, true);
        if (t == nullptr) return {};
        if (t->n_dims != 2 || t->ne[0] != n || t->ne[1] != d) {
            add_problem(strformat("'%s': shape [%lld, %lld] (%d dims), expected [%lld, %lld]", name.c_str(),
                                  static_cast<long long>(t->ne[0]), static_cast<long long>(t->ne[1]), t->n_dims,
                                  static_cast<long long>(n), static_cast<long long>(d)));
            return {};
        }
        if (!traits(t->type).supported) {
            add_problem(strformat("'%s': tensor type %.*s is not supported", name.c_str(),
                                  static_cast<int>(tensor_type_name(t->type).size()),
                                  tensor_type_name(t->type).data()));
            return {};
        }
        return {t->type, t->data, n, d, static_cast<size_t>(t->n_bytes)};
    }

    // A vector (n,) stored as F32 (norm weights, biases, rope factors). Null when absent and optional.
    const float* vector(const std::string& name, int64_t n, bool required = true) {
        const gguf::TensorInfo* t = find(name, required);
        if (t == nullptr) return nullptr;
        if (t->n_dims != 1 || t->ne[0] != n) {
            add_problem(strformat("'%s': shape [%lld] (%d dims), expected [%lld]", name.c_str(),
                                  static_cast<long long>(t->ne[0]), t->n_dims, static_cast<long long>(n)));
            return nullptr;
        }
        if (t->type != TensorType::F32) {
            add_problem(strformat("'%s': type %.*s, expected f32", name.c_str(),
                                  static_cast<int>(tensor_type_name(t->type).size()),
                                  tensor_type_name(t->type).data()));
            return nullptr;
        }
        if (reinterpret_cast<uintptr_t>(t->data) % alignof(float) != 0) {
            add_problem(strformat("'%s': data not 4-byte aligned", name.c_str()));
            return nullptr;
        }
        return reinterpret_cast<const float*>(t->data);
    }

    Status status() const {
        if (problems_.empty()) return {};
        std::string msg = strformat("%zu tensor problem(s):", problems_.size());
        for (const auto& p : problems_) msg += "\n  " + p;
        return Status::invalid_data("%s", msg.c_str());
    }

private:
    const gguf::TensorInfo* find(const std::string& name, bool required) {
        const gguf::TensorInfo* t = file_.find_tensor(name);
        if (t == nullptr && required) add_problem(strformat("'%s': missing", name.c_str()));
        return t;
    }
    void add_problem(std::string p) { problems_.push_back(std::move(p)); }

    const gguf::GgufFile& file_;
    std::vector<std::string> problems_;
};

// Touch every page of the tensor data (so the first token does not page-fault), with a bar on a terminal.
void touch_pages(const gguf::GgufFile& file, bool progress) {
    const uint8_t* begin = nullptr;
    size_t size = 0;
    if (const MappedFile* m = file.mapping(); m != nullptr) {
        m->prefetch();
        begin = m->data() + file.data_offset();
        size = m->size() - file.data_offset();
    } else {
        return;  // borrowed bytes are already in memory
    }
    const bool show = progress && ::isatty(STDERR_FILENO) == 1;
    constexpr size_t kPage = 4096;
    constexpr size_t kChunk = size_t{64} << 20;
    volatile uint8_t sink = 0;
    uint8_t acc = 0;
    for (size_t off = 0; off < size; off += kChunk) {
        const size_t end = std::min(size, off + kChunk);
        for (size_t p = off; p < end; p += kPage) acc ^= begin[p];
        if (show) {
            const int pct = static_cast<int>(100.0 * end / size);
            const int bars = pct / 4;
            std::fprintf(stderr, "\rloading [%-25.*s] %3d%%", bars, "#########################", pct);
        }
    }
    sink = acc;
    (void)sink;
    if (show) std::fprintf(stderr, "\r%60s\r", "");
}

}  // namespace

Result<std::unique_ptr<Model>> Model::load(const std::string& path, const LoadOptions& options) {
    auto file = gguf::GgufFile::open(path);
    if (!file.ok()) return file.status().with_context("loading model '" + path + "': ");
    auto model = from_gguf(std::move(file).value(), options);
    if (!model.ok()) return model.status().with_context("loading model '" + path + "': ");
    return model;
}

Result<std::unique_ptr<Model>> Model::from_gguf(std::unique_ptr<gguf::GgufFile> file, const LoadOptions& options) {
    std::unique_ptr<Model> model(new Model());
    model->file_ = std::move(file);
    DUET_TRY(model->config_, config_from_gguf(*model->file_));
    DUET_RETURN_IF_ERROR(model->bind_weights());
    if (options.prefetch) touch_pages(*model->file_, options.progress);
    return model;
}

Status Model::bind_weights() {
    const ModelConfig& c = config_;
    Binder b(*file_);
    token_embd_ = b.matrix("token_embd.weight", c.n_embd, c.n_vocab);
    output_norm_ = b.vector("output_norm.weight", c.n_embd);
    output_ = c.tied_output ? token_embd_ : b.matrix("output.weight", c.n_embd, c.n_vocab);
    rope_freqs_ = c.has_rope_freqs ? b.vector("rope_freqs.weight", c.n_rot / 2) : nullptr;
    layers_.resize(c.n_layers);
    for (int32_t i = 0; i < c.n_layers; ++i) {
        const std::string p = strformat("blk.%d.", i);
        LayerWeights& l = layers_[i];
        l.attn_norm = b.vector(p + "attn_norm.weight", c.n_embd);
        l.wq = b.matrix(p + "attn_q.weight", c.n_embd, c.q_dim());
        l.wk = b.matrix(p + "attn_k.weight", c.n_embd, c.kv_dim());
        l.wv = b.matrix(p + "attn_v.weight", c.n_embd, c.kv_dim());
        if (c.has_qkv_bias) {
            l.bq = b.vector(p + "attn_q.bias", c.q_dim());
            l.bk = b.vector(p + "attn_k.bias", c.kv_dim());
            l.bv = b.vector(p + "attn_v.bias", c.kv_dim());
        }
        l.wo = b.matrix(p + "attn_output.weight", c.q_dim(), c.n_embd);
        l.ffn_norm = b.vector(p + "ffn_norm.weight", c.n_embd);
        l.w_gate = b.matrix(p + "ffn_gate.weight", c.n_embd, c.n_ff);
        l.w_up = b.matrix(p + "ffn_up.weight", c.n_embd, c.n_ff);
        l.w_down = b.matrix(p + "ffn_down.weight", c.n_ff, c.n_embd);
    }
    return b.status();
}

size_t Model::weight_bytes_per_token() const {
    size_t total = 0;
    for (const auto& t : file_->tensors())
        if (t.name != "token_embd.weight") total += t.n_bytes;
    if (config_.tied_output) total += token_embd_.n_bytes;
    else total += row_size(token_embd_.type, token_embd_.n);
    return total;
}

size_t Model::total_weight_bytes() const {
    size_t total = 0;
    for (const auto& t : file_->tensors()) total += t.n_bytes;
    return total;
}

}  // namespace duet::model

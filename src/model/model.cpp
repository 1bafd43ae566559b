// model.cpp: Model::load: open the GGUF, read the config, let the arch/ file bind every weight as a typed view.
#include "model/model.h"

#include <cstdio>
#include <unistd.h>

#include "common/timer.h"
#include "model/arch/arch.h"

namespace duet::model {

namespace {

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
    TensorBinder binder(*model->file_);
    arch_spec(model->config_.arch).bind_weights(binder, model->config_, model->weights_);
    DUET_RETURN_IF_ERROR(binder.status());
    if (options.prefetch) touch_pages(*model->file_, options.progress);
    return model;
}

size_t Model::weight_bytes_per_token() const {
    size_t total = 0;
    for (const auto& t : file_->tensors())
        if (t.name != "token_embd.weight") total += t.n_bytes;
    if (config_.tied_output) total += weights_.token_embd.n_bytes;
    else total += row_size(weights_.token_embd.type, weights_.token_embd.n);
    return total;
}

size_t Model::total_weight_bytes() const {
    size_t total = 0;
    for (const auto& t : file_->tensors()) total += t.n_bytes;
    return total;
}

Status require_decoder(const Model& model) {
    if (model.config().family == Family::decoder) return {};
    const std::string_view arch = arch_name(model.config().arch);
    return Status::unsupported(
        "model: a %.*s file is an encoder: it gives embeddings (duet embed, /v1/embeddings), "
        "not text",
        static_cast<int>(arch.size()), arch.data());
}

}  // namespace duet::model

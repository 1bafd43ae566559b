// model.cpp: Model::load: open the GGUF, read the config, let the arch/ file bind every weight as a typed view.
#include "model/model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common/assert.h"
#include "common/huge_pages.h"
#include "common/mapped_file.h"
#include "common/timer.h"
#include "kernels/kernels.h"
#include "model/arch/arch.h"

namespace duet::model {

namespace {

// Touch every page of the tensor data (so the first token does not page-fault), with a bar on a terminal; pages
// whose tensors were repacked out of the file (skip[page]) stay out.
void touch_pages(const gguf::GgufFile& file, bool progress, const std::vector<bool>& skip) {
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
        for (size_t p = off; p < end; p += kPage)
            if (skip.empty() || !skip[p / kPage]) acc ^= begin[p];
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

// Give back the file's whole pages inside [data, data + bytes) (a repacked tensor's: nothing reads them again) and
// mark them in skip (pages of the mapped tensor data, from `base`), so touch_pages leaves them out.
void release_pages(const uint8_t* base, const void* data, size_t bytes, std::vector<bool>& skip) {
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
    if (begin >= end) return;
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);  // clean file pages: re-read if touched
    // touch_pages reads byte base + 4096 k: the one inside the released page at p has k = ceil((p - base) / 4096)
    const uintptr_t b0 = reinterpret_cast<uintptr_t>(base);
    for (uintptr_t p = begin; p < end; p += 4096) {
        const uintptr_t k = (p - b0 + 4095) / 4096;
        if (p >= b0 && k < skip.size()) skip[k] = true;
    }
}

}  // namespace

void Model::FreeBytes::operator()(uint8_t* p) const { std::free(p); }

// kernels::pack_weights over slices of whole groups of rows on up to 4 threads: the first touch of the new pages
// (the kernel zeroing them) and the copy dominate a load that packs (Llama-3-8B Q4_0: ~2.6 s on one thread).
void pack_parallel(WeightLayout layout, const WeightView& w, uint8_t* out) {
    constexpr int64_t kGroup = kernels::kPackedGroupRows;
    const int64_t groups = w.d / kGroup;
    const int n_threads =
        static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(std::thread::hardware_concurrency(), 4), 1, groups));
    const size_t in_row = row_size(w.type, w.n);
    auto slice = [&](int i) {
        const int64_t r0 = groups * i / n_threads * kGroup, r1 = groups * (i + 1) / n_threads * kGroup;
        kernels::pack_weights(layout, w.type, static_cast<const uint8_t*>(w.data) + r0 * in_row, w.n, r1 - r0,
                              out + kernels::packed_size(layout, w.type, w.n, r0));
    };
    std::vector<std::thread> threads;
    for (int i = 1; i < n_threads; ++i) threads.emplace_back(slice, i);
    slice(0);
    for (std::thread& t : threads) t.join();
}

// Each decoder matrix whose preferred layout is not the file's is copied into it (kernels::pack_weights); the view
// then points at the copy. token_embd (read a row at a time) and a tied output stay in the file.
void Model::pack_matrices() {
    const MappedFile* mapping = file_->mapping();
    const uint8_t* base = mapping != nullptr ? mapping->data() + file_->data_offset() : nullptr;
    std::vector<bool> skip;
    if (base != nullptr) skip.assign((mapping->size() - file_->data_offset() + 4095) / 4096, false);
    auto pack = [&](WeightView& w) {
        if (w.data == nullptr || w.data == weights_.token_embd.data || w.layout != WeightLayout::plain) return;
        const WeightLayout layout = kernels::preferred_layout(w.type, w.n, w.d);
        if (layout == WeightLayout::plain) return;
        const size_t size = kernels::packed_size(layout, w.type, w.n, w.d);
        uint8_t* bytes = nullptr;
        if (size >= kHugePage) {  // a decode step streams every byte once: huge pages (common/huge_pages.h)
            bytes = static_cast<uint8_t*>(alloc_huge_pages(size));
        } else {
            bytes = static_cast<uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64));
        }
        DUET_ASSERT(bytes != nullptr);
        pack_parallel(layout, w, bytes);
        if (base != nullptr) release_pages(base, w.data, w.n_bytes, skip);
        packed_.emplace_back(bytes);
        packed_bytes_ += size;
        w.data = bytes;
        w.layout = layout;
    };
    for (LayerWeights& l : weights_.layers)
        for (WeightView* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) pack(*w);
    if (!config_.tied_output) pack(weights_.output);
    released_pages_ = std::move(skip);
}

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
    if (options.pack && model->config_.family == Family::decoder) model->pack_matrices();
    if (options.prefetch) touch_pages(*model->file_, options.progress, model->released_pages_);
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

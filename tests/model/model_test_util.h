// model_test_util.h: helpers for model tests: a single-model runner over a fresh KV cache, JSON row readers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "model/forward.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/sampler.h"
#include "support/fixtures.h"

namespace duet::model::test {

using Rows = std::vector<std::vector<float>>;

inline Rows json_rows(const nlohmann::json& j) {
    Rows rows;
    for (const auto& r : j) rows.push_back(r.get<std::vector<float>>());
    return rows;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(double(a[i]) - b[i]));
    return m;
}

inline double max_abs_diff(const Rows& a, const Rows& b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, max_abs_diff(a[i], b[i]));
    return m;
}

inline double stddev(const Rows& rows) {
    double sum = 0, sum2 = 0;
    size_t n = 0;
    for (const auto& r : rows)
        for (float v : r) {
            sum += v;
            sum2 += double(v) * v;
            ++n;
        }
    const double mean = sum / n;
    return std::sqrt(std::max(0.0, sum2 / n - mean * mean));
}

// One model with its own KV cache and forward pass; sequences get consecutive fresh blocks.
struct Runner {
    std::unique_ptr<Model> model;
    std::unique_ptr<KvCache> kv;
    std::unique_ptr<Forward> forward;
    int32_t next_block = 0;

    static std::unique_ptr<Runner> open(const std::string& path, KvType kv_type = KvType::f32, int32_t n_blocks = 64,
                                        int32_t block_size = 16, int32_t max_batch = 512, ThreadPool* pool = nullptr,
                                        bool pack = true) {
        LoadOptions opts;
        opts.progress = false;
        opts.pack = pack;
        auto m = Model::load(path, opts);
        EXPECT_TRUE(m.ok()) << m.status().message();
        if (!m.ok()) return nullptr;
        auto r = std::make_unique<Runner>();
        r->model = std::move(m).value();
        r->kv = std::make_unique<KvCache>(r->model->config(), n_blocks, block_size, kv_type);
        r->forward = std::make_unique<Forward>(*r->model, *r->kv, max_batch, pool);
        return r;
    }

    std::vector<BlockId> new_table(int32_t n_positions) {
        std::vector<BlockId> t;
        for (int32_t i = 0; i < (n_positions + kv->block_size() - 1) / kv->block_size(); ++i) t.push_back(next_block++);
        return t;
    }

    int32_t n_vocab() const { return model->config().n_vocab; }

    // Runs tokens at positions [start, start + n) of the sequence with `table`; logits of every token.
    Rows run(const std::vector<TokenId>& tokens, int32_t start, const std::vector<BlockId>& table) {
        std::vector<int32_t> pos(tokens.size()), seq(tokens.size(), 0);
        std::iota(pos.begin(), pos.end(), start);
        std::vector<uint8_t> want(tokens.size(), 1);
        BatchSequence s{table};
        Batch b{tokens, pos, seq, want, std::span<const BatchSequence>(&s, 1)};
        auto out = forward->run(b);
        EXPECT_TRUE(out.ok()) << out.status().message();
        Rows rows;
        if (!out.ok()) return rows;
        for (size_t i = 0; i < tokens.size(); ++i)
            rows.emplace_back(out->begin() + i * n_vocab(), out->begin() + (i + 1) * n_vocab());
        return rows;
    }

    // Feeds the prompt in one batch, then n greedy steps one token at a time.
    std::vector<TokenId> greedy(const std::vector<TokenId>& prompt, int n, const std::vector<BlockId>& table,
                                Rows* step_logits = nullptr) {
        Rows rows = run(prompt, 0, table);
        std::vector<TokenId> out;
        if (rows.empty()) return out;
        std::vector<float> last = rows.back();
        int32_t pos = static_cast<int32_t>(prompt.size());
        for (int i = 0; i < n; ++i) {
            if (step_logits) step_logits->push_back(last);
            const TokenId next = argmax(last);
            out.push_back(next);
            if (i + 1 == n) break;
            Rows r = run({next}, pos++, table);
            if (r.empty()) break;
            last = r[0];
        }
        return out;
    }
};

}  // namespace duet::model::test

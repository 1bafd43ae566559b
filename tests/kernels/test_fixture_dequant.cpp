// test_fixture_dequant.cpp: dequantize tensor rows of the llama.cpp-made GGUF fixtures and compare with ggml's
// own dequantized values stored in the JSON next to each file (reference-logits/README.md, "dequant").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/ref/quants.h"
#include "support/fixtures.h"

namespace duet {
namespace {

// K-quants: the README allows ~1 ulp because ggml's rounding of d*sc*q - dmin*m depends on operation order.
constexpr double kKQuantRelativeTolerance = 1e-6;

TEST(FixtureDequant, RowsMatchGgml) {
    DUET_REQUIRE_FIXTURES();
    const std::string dir = test::fixture("reference-logits");
    int n_files = 0, n_rows = 0, n_exact_rows = 0;
    std::vector<std::string> seen_types;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        const auto json = nlohmann::json::parse(test::read_file(entry.path().string()));
        std::string gguf_path = entry.path().string();
        gguf_path.replace(gguf_path.size() - 5, 5, ".gguf");
        const std::string bytes = test::read_file(gguf_path);
        ASSERT_FALSE(bytes.empty()) << gguf_path;
        ++n_files;
        for (const auto& [name, info] : json["dequant"].items()) {
            const nlohmann::json* tensor = nullptr;
            for (const auto& t : json["tensors"])
                if (t["name"] == name) tensor = &t;
            ASSERT_NE(tensor, nullptr) << name;
            const auto type = tensor_type_from_name(info["type"].get<std::string>());
            ASSERT_TRUE(type.has_value()) << info["type"];
            if (std::find(seen_types.begin(), seen_types.end(), info["type"]) == seen_types.end())
                seen_types.push_back(info["type"]);
            const int64_t n = info["ne"][0].get<int64_t>();
            const size_t offset = (*tensor)["file_offset"].get<size_t>();
            std::vector<std::pair<int64_t, const nlohmann::json*>> rows = {
                {info["row"].get<int64_t>(), &info["values"]}};
            if (info.contains("more_rows"))
                for (const auto& r : info["more_rows"]) rows.push_back({r["row"].get<int64_t>(), &r["values"]});
            const bool k_quant = *type == TensorType::Q4_K || *type == TensorType::Q5_K || *type == TensorType::Q6_K;
            for (const auto& [row, values] : rows) {
                const size_t start = offset + static_cast<size_t>(row) * row_size(*type, n);
                ASSERT_LE(start + row_size(*type, n), bytes.size()) << name;
                std::vector<float> out(static_cast<size_t>(n));
                dequantize_row(*type, bytes.data() + start, out.data(), n);
                ASSERT_EQ(values->size(), static_cast<size_t>(n));
                float max_abs = 0.0f;
                for (const auto& v : *values) max_abs = std::max(max_abs, std::fabs(v.get<float>()));
                bool exact = true;
                for (int64_t i = 0; i < n; ++i) {
                    const float expected = (*values)[static_cast<size_t>(i)].get<float>();
                    exact = exact && out[static_cast<size_t>(i)] == expected;
                    if (k_quant)
                        ASSERT_NEAR(out[static_cast<size_t>(i)], expected, kKQuantRelativeTolerance * max_abs)
                            << entry.path().filename() << " " << name << " row " << row << " [" << i << "]";
                    else
                        ASSERT_EQ(out[static_cast<size_t>(i)], expected)
                            << entry.path().filename() << " " << name << " row " << row << " [" << i << "]";
                }
                ++n_rows;
                n_exact_rows += exact;
            }
        }
    }
    EXPECT_EQ(n_files, 17);
    EXPECT_GE(seen_types.size(), 8u);  // f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K
    std::printf("checked %d rows in %d files, %d bit-exact\n", n_rows, n_files, n_exact_rows);
}

}  // namespace
}  // namespace duet

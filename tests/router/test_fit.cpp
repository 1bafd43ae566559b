// test_fit.cpp: fitting (determinism, the shipped model rebuilt byte for byte, the accuracy bar on dev),
// the reliability table and evaluation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "router/fit.h"
#include "support/fixtures.h"

namespace duet::router {
namespace {

std::string data_path(const std::string& name) { return std::string(DUET_SOURCE_DIR) + "/data/router/" + name; }

std::vector<LabeledText> read_corpus(const std::string& name) {
    std::vector<LabeledText> out;
    std::ifstream in(data_path(name));
    std::string line;
    while (std::getline(in, line)) {
        const auto j = nlohmann::json::parse(line);
        out.push_back(
            {j["text"].get<std::string>(), *parse_role(j["label"].get<std::string>()), j.value("category", "")});
    }
    return out;
}

KeywordSet shipped_keywords() {
    auto kw = KeywordSet::load_file(data_path("keywords.txt"));
    EXPECT_TRUE(kw.ok()) << kw.status().message();
    return std::move(kw).value();
}

TEST(Fit, RefitReproducesTheShippedModelByteForByte) {
    const auto train = read_corpus("train.jsonl");
    const auto dev = read_corpus("dev.jsonl");
    ASSERT_GE(train.size(), 600u);
    ASSERT_GE(dev.size(), 200u);
    auto fit = fit_router(train, dev, shipped_keywords(), FitOptions{});
    ASSERT_TRUE(fit.ok()) << fit.status().message();
    const std::string shipped = duet::test::read_file(data_path("router.bin"));
    EXPECT_TRUE(serialize_router_model(fit->model) == shipped)
        << "data/router/router.bin is stale: duet route fit --data data/router/train.jsonl --dev "
           "data/router/dev.jsonl -o data/router/router.bin";
    EXPECT_TRUE(shipped == std::string(builtin_model_bytes())) << "the binary embeds another router.bin";
    EXPECT_GE(fit->report.dev_accuracy, 0.97f);
    EXPECT_EQ(fit->report.reliability_source, "dev");
    int n = 0;
    for (const auto& b : fit->report.reliability) n += b.count;
    EXPECT_EQ(n, static_cast<int>(dev.size()));
}

TEST(Fit, ShippedModelReachesTheBarOnDevInEveryCategory) {
    auto router = Router::create_default();
    ASSERT_TRUE(router.ok()) << router.status().message();
    const auto dev = read_corpus("dev.jsonl");
    const EvalResult r = evaluate(*router, dev);
    EXPECT_GE(static_cast<double>(r.correct) / r.n, 0.97);
    for (const auto& c : r.categories)
        EXPECT_GE(static_cast<double>(c.correct) / c.n, 0.90) << c.name << ": " << c.correct << "/" << c.n;
    EXPECT_EQ(r.confusion[0][0] + r.confusion[0][1] + r.confusion[1][0] + r.confusion[1][1], r.n);
    EXPECT_EQ(static_cast<int>(r.misrouted.size()), r.n - r.correct);
    EXPECT_LE(r.p50_us, r.p99_us);
}

TEST(Fit, SameSeedSameBytesOtherSeedOtherBytes) {
    const std::vector<LabeledText> train = read_corpus("train.jsonl");
    std::vector<LabeledText> small;  // every 4th message: both labels, every category
    for (size_t i = 0; i < train.size(); i += 4) small.push_back(train[i]);
    const KeywordSet kw = shipped_keywords();
    FitOptions opt;
    auto a = fit_router(small, {}, kw, opt);
    auto b = fit_router(small, {}, kw, opt);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(serialize_router_model(a->model), serialize_router_model(b->model));
    EXPECT_EQ(a->report.reliability_source, "out-of-fold");
    opt.seed = 2;
    auto c = fit_router(small, {}, kw, opt);
    ASSERT_TRUE(c.ok());
    EXPECT_NE(serialize_router_model(a->model), serialize_router_model(c->model));
}

TEST(Fit, RefusesOneLabelOnly) {
    std::vector<LabeledText> data(10, LabeledText{"hello", Role::expert, ""});
    auto r = fit_router(data, {}, shipped_keywords(), FitOptions{});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("both labels"), std::string::npos);
}

TEST(Fit, ReliabilityTableBins) {
    const auto bins = reliability_table({0.05f, 0.07f, 0.95f, 1.0f, 0.5f}, {false, true, true, true, false}, 10);
    ASSERT_EQ(bins.size(), 10u);
    EXPECT_EQ(bins[0].count, 2);
    EXPECT_FLOAT_EQ(bins[0].observed_expert, 0.5f);
    EXPECT_NEAR(bins[0].mean_predicted, 0.06f, 1e-6f);
    EXPECT_EQ(bins[9].count, 2);  // 1.0 falls into the last bin
    EXPECT_EQ(bins[5].count, 1);
}

TEST(Eval, CountsCategoriesAndGroups) {
    auto router = Router::create_default();
    ASSERT_TRUE(router.ok());
    const std::vector<LabeledText> data = {{"kubectl get pods -n prod", Role::expert, "shell"},
                                           {"今天吃啥", Role::daily, "life-food"},
                                           {"孩子发烧了", Role::daily, "life-health"},
                                           {"今天吃啥", Role::expert, "life-food"}};  // mislabelled on purpose
    const EvalResult r = evaluate(*router, data);
    EXPECT_EQ(r.n, 4);
    EXPECT_EQ(r.correct, 3);
    EXPECT_EQ(r.confusion[1][1], 2);
    EXPECT_EQ(r.confusion[0][1], 1);
    ASSERT_EQ(r.misrouted, std::vector<int>{3});
    ASSERT_EQ(r.categories.size(), 4u);  // life-*, life-food, life-health, shell
    EXPECT_EQ(r.categories[0].name, "life-*");
    EXPECT_TRUE(r.categories[0].group);
    EXPECT_EQ(r.categories[0].n, 3);
    EXPECT_EQ(r.categories[1].name, "life-food");
    EXPECT_EQ(r.categories[1].correct, 1);
}

}  // namespace
}  // namespace duet::router

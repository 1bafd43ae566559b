// test_model_ref.cpp: ORG/REPO[:QUANT|/FILE.gguf] parsing, choosing the GGUF for a quant, sha256 vectors, and the
// hub API's JSON.
#include <gtest/gtest.h>

#include "hub/hub_client.h"
#include "hub/model_ref.h"
#include "hub/sha256.h"

namespace duet::hub {
namespace {

TEST(ModelRef, DefaultQuantIsQ4KM) {
    auto r = parse_model_ref("bartowski/Qwen2.5-0.5B-Instruct-GGUF");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->repo, "bartowski/Qwen2.5-0.5B-Instruct-GGUF");
    EXPECT_EQ(r->quant, "Q4_K_M");
    EXPECT_EQ(r->file, "");
    EXPECT_EQ(r->to_string(), "bartowski/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M");
}

TEST(ModelRef, QuantIsUpperCasedAndFileIsKept) {
    auto q = parse_model_ref("org/repo:q8_0");
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->quant, "Q8_0");
    auto f = parse_model_ref("org/repo/sub/dir/x-Q5_K_M.gguf");
    ASSERT_TRUE(f.ok()) << f.status().message();
    EXPECT_EQ(f->repo, "org/repo");
    EXPECT_EQ(f->file, "sub/dir/x-Q5_K_M.gguf");
    EXPECT_EQ(f->quant, "");
}

TEST(ModelRef, RejectsMalformedSpecsWithTheSpecInTheMessage) {
    for (const char* bad :
         {"noslash", "/repo", "org/", "org/repo:", "org/repo:Q4 K", "org/repo/file.bin", "org/repo/../x.gguf", "../x/y",
          "org/re po", "model.gguf", "./models/x.gguf", "models/x.gguf"}) {
        auto r = parse_model_ref(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
        }
    }
    EXPECT_FALSE(looks_like_model_ref("/abs/path/model.gguf"));
    EXPECT_TRUE(looks_like_model_ref("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B-GGUF:Q4_K_M"));
}

std::vector<RepoFile> files(std::initializer_list<const char*> paths) {
    std::vector<RepoFile> out;
    for (const char* p : paths) out.push_back({p, 100, ""});
    return out;
}

TEST(ChooseFile, PicksTheQuantAsAWholeTokenCaseInsensitively) {
    const auto repo = files({"README.md", "m-IQ4_XS.gguf", "m-Q4_K_S.gguf", "m-q4_k_m.gguf", "m-Q8_0.gguf"});
    auto r = choose_file(*parse_model_ref("o/m"), repo);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->path, "m-q4_k_m.gguf");
    auto q8 = choose_file(*parse_model_ref("o/m:Q8_0"), repo);
    ASSERT_TRUE(q8.ok());
    EXPECT_EQ(q8->path, "m-Q8_0.gguf");
    EXPECT_FALSE(choose_file(*parse_model_ref("o/m:Q4_XS"), repo).ok());  // only IQ4_XS is there
}

TEST(ChooseFile, AbsentQuantListsTheChoices) {
    const auto repo = files({"m-Q4_K_M.gguf", "m-Q8_0.gguf"});
    auto r = choose_file(*parse_model_ref("o/m:Q4_K"), repo);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::not_found);
    EXPECT_NE(r.status().message().find("m-Q4_K_M.gguf  (Q4_K_M)"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("m-Q8_0.gguf  (Q8_0)"), std::string::npos);
}

TEST(ChooseFile, AmbiguousQuantFailsAndNamesBothFiles) {
    const auto repo = files({"a-Q4_K_M.gguf", "b/a-Q4_K_M.gguf", "a-Q8_0.gguf"});
    auto r = choose_file(*parse_model_ref("o/m"), repo);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("2 GGUF files match quant Q4_K_M"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("b/a-Q4_K_M.gguf"), std::string::npos);
    auto by_file = choose_file(*parse_model_ref("o/m/b/a-Q4_K_M.gguf"), repo);
    ASSERT_TRUE(by_file.ok());
    EXPECT_EQ(by_file->path, "b/a-Q4_K_M.gguf");
}

TEST(ChooseFile, SplitGgufIsRefusedClearly) {
    const auto repo = files({"m-Q4_K_M-00001-of-00003.gguf", "m-Q4_K_M-00002-of-00003.gguf",
                             "m-Q4_K_M-00003-of-00003.gguf", "m-Q8_0.gguf"});
    auto r = choose_file(*parse_model_ref("o/m"), repo);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::unsupported);
    EXPECT_NE(r.status().message().find("split into 00003 files"), std::string::npos) << r.status().message();
}

TEST(ChooseFile, MissingFileAndEmptyRepo) {
    EXPECT_EQ(choose_file(*parse_model_ref("o/m/x.gguf"), files({"y.gguf"})).status().code(), StatusCode::not_found);
    auto none = choose_file(*parse_model_ref("o/m"), files({"README.md"}));
    EXPECT_NE(none.status().message().find("no .gguf files"), std::string::npos);
}

TEST(QuantOf, ReadsTheQuantFromFileNames) {
    EXPECT_EQ(quant_of("DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf"), "Q4_K_M");
    EXPECT_EQ(quant_of("x.iq4_xs.gguf"), "IQ4_XS");
    EXPECT_EQ(quant_of("dir/x-f16.gguf"), "F16");
    EXPECT_EQ(quant_of("x-BF16.gguf"), "BF16");
    EXPECT_EQ(quant_of("model.gguf"), "");
}

TEST(Sha256, KnownVectors) {  // FIPS 180-2 examples
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    Sha256 h;  // the same bytes fed in pieces
    h.update("ab", 2);
    h.update("c", 1);
    EXPECT_EQ(h.hex(), sha256_hex("abc"));
}

TEST(RepoFiles, ParsesModelInfoSiblingsAndTreeListings) {
    const std::string sha(64, 'a');
    auto info = parse_repo_files(R"({"id":"o/m","siblings":[{"rfilename":"README.md","size":12},)"
                                 R"({"rfilename":"m-Q4_K_M.gguf","size":134,"lfs":{"sha256":")" +
                                     sha + R"(","size":4096,"pointerSize":134}}]})",
                                 "test");
    ASSERT_TRUE(info.ok()) << info.status().message();
    ASSERT_EQ(info->size(), 2u);
    EXPECT_EQ((*info)[1].path, "m-Q4_K_M.gguf");
    EXPECT_EQ((*info)[1].size, 4096u);  // the LFS object's size, not the pointer's
    EXPECT_EQ((*info)[1].sha256, sha);
    EXPECT_EQ((*info)[0].sha256, "");
    auto tree = parse_repo_files(R"([{"type":"directory","path":"d"},{"type":"file","path":"d/x.gguf","size":9,)"
                                 R"("oid":"f00","lfs":{"oid":"sha256:)" +
                                     sha + R"(","size":9}}])",
                                 "test");
    ASSERT_TRUE(tree.ok()) << tree.status().message();
    ASSERT_EQ(tree->size(), 1u);
    EXPECT_EQ((*tree)[0].sha256, sha);
    auto bad = parse_repo_files(R"({"siblings": 3})", "listing o/m");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().message().find("listing o/m"), std::string::npos);
}

}  // namespace
}  // namespace duet::hub

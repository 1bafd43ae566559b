// test_shipped_suites.cpp: every suite under evals/ loads, has the promised size and shape; the sample tasks
// load; each HumanEval sample's canonical solution passes in the sandbox and a wrong one fails.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "eval/dialogue.h"
#include "eval/sandbox.h"
#include "eval/suite.h"
#include "eval/tasks.h"

namespace duet::eval {
namespace {

const std::string kEvals = DUET_EVALS_DIR;

TEST(ShippedSuites, FlowsLoadWithTheKeyboardFlowAndElevenMore) {
    Result<Suite> suite = load_suite(kEvals + "/flows.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    EXPECT_GE(suite->flows.size(), 12u);
    std::set<std::string> languages;
    bool keyboard = false;
    for (const Flow& f : suite->flows) {
        EXPECT_TRUE(f.probe.empty()) << f.id;
        EXPECT_GE(f.turns.size(), 4u) << f.id;
        for (const Turn& t : f.turns) EXPECT_FALSE(t.checks.empty()) << f.id << ": " << t.user;
        languages.insert(f.language);
        if (f.id == "keyboards-zh") {
            keyboard = true;
            EXPECT_EQ(f.turns.size(), 5u);
        }
    }
    EXPECT_TRUE(keyboard);
    EXPECT_EQ(languages, (std::set<std::string>{"en", "zh"}));
}

// A careful answer to the shipped 5-step keyboard flow passes every check; a sloppy last turn does not.
TEST(ShippedSuites, KeyboardFlowScoresAGoodTranscriptFully) {
    Result<Suite> suite = load_suite(kEvals + "/flows.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    const Flow* flow = nullptr;
    for (const Flow& f : suite->flows)
        if (f.id == "keyboards-zh") flow = &f;
    ASSERT_NE(flow, nullptr);
    std::vector<std::string> replies = {
        "1. Keychron K8：无线双模，Mac/Win 都能用。2. HHKB：静电容轴，配列紧凑。3. Filco 圣手二代：做工扎实。",
        "K8 是机械轴，手感偏段落；HHKB 是静电容，敲击更轻，八小时写代码更不累，但布局要适应。",
        "HHKB 的键帽用拔键器垂直向上拔出即可，HHKB 原厂键帽是 PBT。",
        "可以加一个硅胶手托，键盘底部贴防滑垫，手汗多的话换磨砂键帽也有帮助。",
        "购物清单：1. HHKB 键盘 2. 拔键器 3. 硅胶手托 4. 防滑垫",
    };
    const FlowScore good = score_flow(*flow, replies);
    EXPECT_EQ(good.checks_passed, good.checks_total);
    EXPECT_DOUBLE_EQ(good.task_coherence, 1.0);
    EXPECT_EQ(good.coreference_errors, 0);
    replies[4] = "综上所述，买键盘就好。希望对你有帮助";
    const FlowScore sloppy = score_flow(*flow, replies);
    EXPECT_EQ(sloppy.checks_total - sloppy.checks_passed, 3);  // refers back, shopping items, AI-speak
    EXPECT_EQ(sloppy.ai_speak, 2);
}

TEST(ShippedSuites, ProbesCoverEveryKind) {
    Result<Suite> suite = load_suite(kEvals + "/probes.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    std::set<std::string> kinds;
    for (const Flow& f : suite->flows) kinds.insert(f.probe);
    EXPECT_EQ(kinds, (std::set<std::string>{"ai_speak", "boundary", "cold_start", "false_premise"}));
}

TEST(ShippedSuites, AtLeastTwentyClarificationDialogues) {
    Result<Suite> suite = load_suite(kEvals + "/clarify.jsonl");
    ASSERT_TRUE(suite.ok()) << suite.status().message();
    EXPECT_GE(suite->clarifications.size(), 20u);
    std::set<std::string> styles;
    for (const ClarifyDialogue& d : suite->clarifications) {
        styles.insert(d.style);
        EXPECT_GE(d.facts.size(), 2u) << d.id;
    }
    EXPECT_TRUE(styles.count("dialect") && styles.count("typos") && styles.count("emotional"));
}

TEST(ShippedSuites, MultipleChoiceSampleLoads) {
    Result<std::vector<MultipleChoice>> items = load_multiple_choice_csv(kEvals + "/ceval_sample.csv");
    ASSERT_TRUE(items.ok()) << items.status().message();
    ASSERT_EQ(items->size(), 8u);
    EXPECT_EQ((*items)[1].question, "在 Python 中，表达式 3 // 2 的值是？");
    EXPECT_EQ((*items)[1].answer, 'C');
    EXPECT_EQ((*items)[2].options[2], "40");
    EXPECT_EQ((*items)[4].explanation, "");
}

TEST(ShippedSuites, HumanEvalSampleSolutionsPassAndWrongOnesFail) {
    Result<std::vector<CodeTask>> tasks = load_humaneval_jsonl(kEvals + "/humaneval_sample.jsonl");
    ASSERT_TRUE(tasks.ok()) << tasks.status().message();
    ASSERT_EQ(tasks->size(), 5u);
    if (find_python3().empty()) GTEST_SKIP() << "SKIPPED: python3 not installed; the programs were not run";
    for (const CodeTask& task : *tasks) {
        Result<SandboxResult> good = run_python_sandboxed(humaneval_program(task, task.canonical_solution), {});
        ASSERT_TRUE(good.ok()) << good.status().message();
        EXPECT_EQ(good->outcome, SandboxOutcome::ok) << task.task_id << ": " << good->stderr_text;
        Result<SandboxResult> wrong = run_python_sandboxed(humaneval_program(task, "    return None\n"), {});
        ASSERT_TRUE(wrong.ok());
        EXPECT_EQ(wrong->outcome, SandboxOutcome::failed) << task.task_id;
        EXPECT_NE(wrong->stderr_text.find("AssertionError"), std::string::npos) << task.task_id;
    }
}

}  // namespace
}  // namespace duet::eval

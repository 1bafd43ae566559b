// test_replicas.cpp: two Store objects on one database, as two duet replicas behind a load balancer would be
// (on SQLite: two processes on one file). What one writes, the other reads at once: conversations, settings,
// votes, studies; deletes too. Values round-trip exactly on both backends.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "store/pg_test_server.h"
#include "store/store.h"

namespace duet::store {
namespace {

using namespace testing;

class Replicas : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir_);
        auto a = Store::open_location(location);
        auto b = Store::open_location(location);
        ASSERT_TRUE(a.ok()) << a.status().message();
        ASSERT_TRUE(b.ok()) << b.status().message();
        a_ = std::move(a).value();
        b_ = std::move(b).value();
    }
    TempDir dir_;
    std::unique_ptr<Store> a_, b_;
};

TEST_P(Replicas, ConversationsWrittenByOneAreReadByTheOther) {
    auto c = a_->conversations().create(titled("shared"));
    ASSERT_TRUE(c.ok()) << c.status().message();
    ASSERT_TRUE(a_->conversations().append(c->id, user("from a")).ok());
    ASSERT_TRUE(b_->conversations().append(c->id, answer("from b", "thinking", "r1")).ok());
    auto seen = a_->conversations().get_with_messages(c->id);
    ASSERT_TRUE(seen.ok());
    ASSERT_EQ(seen->messages.size(), 2u);
    EXPECT_EQ(seen->messages[0].content, "from a");
    EXPECT_EQ(seen->messages[1].content, "from b");
    EXPECT_EQ(seen->messages[1].ordinal, 1);
    EXPECT_EQ(seen->messages[1].reasoning, "thinking");
    auto page = b_->conversations().list(list_query(10));
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->conversations.size(), 1u);
    EXPECT_EQ(page->conversations[0].message_count, 2);
    ASSERT_TRUE(b_->conversations().remove(c->id).ok());
    EXPECT_EQ(a_->conversations().get(c->id).status().code(), StatusCode::not_found);
}

TEST_P(Replicas, SettingsAndSystemPromptsAreShared) {
    ASSERT_TRUE(a_->conversations().put_settings({{"theme", "\"dark\""}, {"lang", "\"zh\""}}).ok());
    ASSERT_TRUE(b_->conversations().put_settings({{"lang", std::nullopt}}).ok());
    auto settings = a_->conversations().settings();
    ASSERT_TRUE(settings.ok());
    EXPECT_EQ(*settings, (std::map<std::string, std::string>{{"theme", "\"dark\""}}));
    ASSERT_TRUE(b_->conversations().put_system_prompts({{"r1", std::string("be brief"), true}}).ok());
    auto prompts = a_->conversations().system_prompts();
    ASSERT_TRUE(prompts.ok());
    ASSERT_EQ(prompts->size(), 1u);
    EXPECT_EQ((*prompts)[0].prompt, "be brief");
    EXPECT_EQ((*prompts)[0].send, true);
}

TEST_P(Replicas, ABattleVotedOnOneCannotBeVotedOnTheOther) {
    auto battle = a_->arena().create_battle(battle_draft("r1", "llama3"));
    ASSERT_TRUE(battle.ok());
    Vote v;
    v.winner = Verdict::a;
    ASSERT_TRUE(b_->arena().vote(battle->id, v).ok());
    EXPECT_EQ(a_->arena().vote(battle->id, v).code(), StatusCode::already_exists);
    auto seen = a_->arena().battle(battle->id);
    ASSERT_TRUE(seen.ok());
    ASSERT_TRUE(seen->record.vote.has_value());
    EXPECT_EQ(seen->record.vote->winner, Verdict::a);
}

TEST_P(Replicas, AStudyCreatedOnOneIsJoinedAndAnsweredOnTheOther) {
    StudyDraft draft;
    draft.name = "shared study";
    draft.model_a = "r1";
    draft.model_b = "llama3";
    draft.minutes_per_model = 5;
    draft.participant_count = 2;
    draft.questions = {"which one?"};
    auto study = a_->arena().create_study(draft);
    ASSERT_TRUE(study.ok()) << study.status().message();
    auto joined = b_->arena().join_study(study->participants[1].invite_code);
    ASSERT_TRUE(joined.ok());
    EXPECT_EQ(joined->id, study->participants[1].id);
    ASSERT_TRUE(b_->arena().answer(joined->id, 0, Pick::b, std::string("clearer")).ok());
    EXPECT_EQ(a_->arena().answer(joined->id, 0, Pick::a, std::nullopt).code(), StatusCode::already_exists);
    auto results = a_->arena().study_results(study->study.id);
    ASSERT_TRUE(results.ok());
    ASSERT_EQ(results->answers.size(), 1u);
    EXPECT_EQ(results->answers[0].choice, Pick::b);
    EXPECT_EQ(results->answers[0].free_text, "clearer");
    EXPECT_TRUE(results->participants[1].joined_at.has_value());
}

TEST_P(Replicas, ValuesRoundTripExactly) {
    Conversation draft = titled("ünïcødé 标题 \"quoted\" 'single' \\ back");
    draft.settings.temperature = 0.1;
    draft.settings.top_p = 1e-300;
    draft.settings.max_tokens = std::numeric_limits<int64_t>::max();
    draft.settings.system_prompt = "";  // empty, not NULL
    draft.settings.send_system_prompt = false;
    auto c = a_->conversations().create(draft);
    ASSERT_TRUE(c.ok()) << c.status().message();
    MessageDraft m = user("line 1\nline 2\ttab");
    m.timings.ttft_ms = 123.456789012345678;
    m.timings.prompt_tokens = -1;
    ASSERT_TRUE(a_->conversations().append(c->id, m).ok());
    auto seen = b_->conversations().get_with_messages(c->id);
    ASSERT_TRUE(seen.ok());
    EXPECT_EQ(seen->conversation.title, draft.title);
    EXPECT_EQ(seen->conversation.settings, draft.settings);  // doubles compared exactly
    ASSERT_EQ(seen->messages.size(), 1u);
    EXPECT_EQ(seen->messages[0].content, "line 1\nline 2\ttab");
    EXPECT_EQ(seen->messages[0].timings.ttft_ms, m.timings.ttft_ms);
    EXPECT_EQ(seen->messages[0].timings.prompt_tokens, -1);
    EXPECT_FALSE(seen->messages[0].timings.completion_tokens.has_value());
    EXPECT_FALSE(seen->messages[0].reasoning.has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, Replicas, ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

}  // namespace
}  // namespace duet::store

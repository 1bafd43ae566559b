// test_arena.cpp: battles, turns, one vote per battle, listing for the leaderboard, CSV and JSON Lines, studies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "store/csv_export.h"
#include "store/pg_test_server.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;

class Arena : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir_);
        auto s = Store::open_location(location);
        ASSERT_TRUE(s.ok()) << s.status().message();
        store_ = std::move(s).value();
    }
    ArenaStore& arena() { return store_->arena(); }
    BattleTurn turn(const std::string& prompt, const std::string& a, const std::string& b) {
        BattleTurn t;
        t.prompt = prompt;
        t.answer_a = a;
        t.answer_b = b;
        return t;
    }
    TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(Arena, BattleTurnsAndVoteAreStored) {
    BattleDraft d = battle_draft("r1", "llama3");
    d.route = "expert";
    d.router_pick = "r1";
    d.language = "zh";
    auto b = arena().create_battle(d);
    ASSERT_TRUE(b.ok());
    BattleTurn t0 = turn("hi", "hello from A", "hello from B");
    t0.ttft_ms_a = 120;
    t0.tokens_per_second_b = 31.5;
    t0.completion_tokens_a = 7;
    t0.reasoning_a = "hidden";
    auto s0 = arena().record_turn(b->id, t0);
    ASSERT_TRUE(s0.ok());
    EXPECT_EQ(s0->turn, 0);
    auto s1 = arena().record_turn(b->id, turn("more", "a2", "b2"));
    ASSERT_TRUE(s1.ok());
    EXPECT_EQ(s1->turn, 1);
    Vote v;
    v.winner = Verdict::a;
    v.keep_chatting = Pick::a;
    v.too_ai = Pick::b;
    v.session = "s1";
    ASSERT_TRUE(arena().vote(b->id, v).ok());
    auto detail = arena().battle(b->id);
    ASSERT_TRUE(detail.ok());
    const BattleRecord& r = detail->record;
    EXPECT_EQ(r.battle.model_a, "r1");
    EXPECT_EQ(r.battle.route, std::optional<std::string>("expert"));
    EXPECT_EQ(r.battle.router_pick, std::optional<std::string>("r1"));
    EXPECT_EQ(r.battle.language, std::optional<std::string>("zh"));
    EXPECT_EQ(r.n_turns, 2);
    ASSERT_TRUE(r.vote.has_value());
    EXPECT_EQ(r.vote->winner, Verdict::a);
    EXPECT_EQ(r.vote->keep_chatting, std::optional<Pick>(Pick::a));
    EXPECT_FALSE(r.vote->understood.has_value());
    EXPECT_EQ(r.vote->too_ai, std::optional<Pick>(Pick::b));
    ASSERT_EQ(detail->turns.size(), 2u);
    EXPECT_EQ(detail->turns[0].answer_a, "hello from A");
    EXPECT_EQ(detail->turns[0].reasoning_a, std::optional<std::string>("hidden"));
    EXPECT_EQ(detail->turns[0].ttft_ms_a, std::optional<double>(120));
    EXPECT_EQ(detail->turns[0].tokens_per_second_b, std::optional<double>(31.5));
    EXPECT_EQ(detail->turns[0].completion_tokens_a, std::optional<int64_t>(7));
    EXPECT_EQ(detail->turns[1].prompt, "more");
}

TEST_P(Arena, SecondVoteIsAlreadyExistsAndKeepsTheFirst) {
    auto b = arena().create_battle(battle_draft("x", "y"));
    ASSERT_TRUE(b.ok());
    Vote first;
    first.winner = Verdict::b;
    ASSERT_TRUE(arena().vote(b->id, first).ok());
    Vote second;
    second.winner = Verdict::a;
    Status st = arena().vote(b->id, second);
    EXPECT_EQ(st.code(), StatusCode::already_exists);
    EXPECT_NE(st.message().find("already has a vote"), std::string::npos) << st.message();
    EXPECT_EQ(arena().battle(b->id)->record.vote->winner, Verdict::b);
}

TEST_P(Arena, UnknownBattleIsNotFound) {
    Vote v;
    EXPECT_EQ(arena().vote(12345, v).code(), StatusCode::not_found);
    EXPECT_EQ(arena().record_turn(12345, turn("p", "a", "b")).status().code(), StatusCode::not_found);
    EXPECT_EQ(arena().battle(12345).status().code(), StatusCode::not_found);
    EXPECT_EQ(arena().create_battle(battle_draft("", "y")).status().code(), StatusCode::invalid_argument);
}

TEST_P(Arena, ListBattlesPagesAndStreamsEveryBattle) {
    std::vector<BattleDraft> drafts;
    for (int i = 0; i < 25; ++i) drafts.push_back(battle_draft("m" + std::to_string(i % 3), "n"));
    auto ids = arena().create_battles(drafts);
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(ids->size(), 25u);
    Vote v;
    v.winner = Verdict::tie;
    ASSERT_TRUE(arena().vote((*ids)[4], v).ok());
    std::vector<int64_t> paged;
    int64_t after = 0;
    for (;;) {
        auto page = arena().list_battles(after, 10);
        ASSERT_TRUE(page.ok());
        if (page->empty()) break;
        for (auto& r : *page) {
            paged.push_back(r.battle.id);
            EXPECT_EQ(r.vote.has_value(), r.battle.id == (*ids)[4]);
        }
        after = page->back().battle.id;
    }
    EXPECT_EQ(paged, *ids);
    std::vector<int64_t> streamed;
    ASSERT_TRUE(arena()
                    .for_each_battle([&](const BattleRecord& r) {
                        streamed.push_back(r.battle.id);
                        return true;
                    })
                    .ok());
    EXPECT_EQ(streamed, *ids);
    int stopped_after = 0;
    ASSERT_TRUE(arena().for_each_battle([&](const BattleRecord&) { return ++stopped_after < 3; }).ok());
    EXPECT_EQ(stopped_after, 3);
}

TEST_P(Arena, CsvQuotesFieldsAndHasOneRowPerTurn) {
    auto b = arena().create_battle(battle_draft("r1", "llama,3"));
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(arena().record_turn(b->id, turn("say \"hi\"", "line1\nline2", "plain")).ok());
    ASSERT_TRUE(arena().record_turn(b->id, turn("p2", "a", "b")).ok());
    Vote v;
    v.winner = Verdict::both_bad;
    v.understood = Pick::neither;
    ASSERT_TRUE(arena().vote(b->id, v).ok());
    ASSERT_TRUE(arena().create_battle(battle_draft("no", "turns")).ok());
    std::ostringstream out;
    ASSERT_TRUE(write_battles_csv(arena(), out).ok());
    std::string csv = out.str();
    EXPECT_EQ(csv.rfind("battle_id,created_at,model_a,model_b,", 0), 0u);
    EXPECT_NE(csv.find(",r1,\"llama,3\","), std::string::npos) << csv;
    EXPECT_NE(csv.find(",\"say \"\"hi\"\"\",\"line1\nline2\",plain,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",both_bad,,neither,\r\n"), std::string::npos) << csv;
    EXPECT_EQ(csv.find("turns"), std::string::npos);  // a battle without turns has no row
    size_t rows = 0;
    for (size_t p = 0; (p = csv.find("\r\n", p)) != std::string::npos; p += 2) ++rows;
    EXPECT_EQ(rows, 3u);  // header + 2 turns
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("ab"), "ab");
}

TEST_P(Arena, JsonLinesHaveOneBattlePerLineWithVoteAndTurns) {
    BattleDraft d = battle_draft("r1", "llama3");
    d.route = "daily";
    d.router_pick = "r1";
    auto first = arena().create_battle(d);
    ASSERT_TRUE(first.ok());
    BattleTurn t0 = turn("你好", "line1\nline2", "plain \"quoted\"");
    t0.ttft_ms_a = 120.5;
    t0.reasoning_b = "thought";
    ASSERT_TRUE(arena().record_turn(first->id, t0).ok());
    ASSERT_TRUE(arena().record_turn(first->id, turn("p2", "a", "b")).ok());
    Vote v;
    v.winner = Verdict::a;
    v.too_ai = Pick::b;
    ASSERT_TRUE(arena().vote(first->id, v).ok());
    ASSERT_TRUE(arena().create_battle(battle_draft("no", "turns")).ok());
    auto open = arena().create_battle(battle_draft("x", "y"));
    ASSERT_TRUE(open.ok());
    ASSERT_TRUE(arena().record_turn(open->id, turn("q", "a", "b")).ok());

    std::ostringstream out;
    ASSERT_TRUE(write_battles_jsonl(arena(), out).ok());
    std::vector<nlohmann::json> lines;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(lines.size(), 2u) << out.str();  // the battle without turns has no line
    const nlohmann::json& b = lines[0];
    EXPECT_EQ(b["id"], first->id);
    EXPECT_EQ(b["model_a"], "r1");
    EXPECT_EQ(b["route"], "daily");
    EXPECT_EQ(b["router_pick"], "r1");
    EXPECT_EQ(b["vote"]["winner"], "a");
    EXPECT_EQ(b["vote"]["too_ai"], "b");
    EXPECT_TRUE(b["vote"]["understood"].is_null());
    ASSERT_EQ(b["turns"].size(), 2u);
    EXPECT_EQ(b["turns"][0]["prompt"], "你好");
    EXPECT_EQ(b["turns"][0]["answer_a"], "line1\nline2");
    EXPECT_EQ(b["turns"][0]["answer_b"], "plain \"quoted\"");
    EXPECT_EQ(b["turns"][0]["ttft_ms_a"], 120.5);
    EXPECT_TRUE(b["turns"][0]["ttft_ms_b"].is_null());
    EXPECT_EQ(b["turns"][0]["reasoning_b"], "thought");
    EXPECT_EQ(b["turns"][1]["turn"], 1);
    EXPECT_EQ(lines[1]["id"], open->id);
    EXPECT_TRUE(lines[1]["vote"].is_null());
    EXPECT_TRUE(lines[1]["router_pick"].is_null());
    EXPECT_EQ(lines[1]["turns"].size(), 1u);
}

StudyDraft study_draft(int participants) {
    StudyDraft d;
    d.name = "R1 vs Llama";
    d.model_a = "r1";
    d.model_b = "llama3";
    d.minutes_per_model = 10;
    d.questions = {"Which would you keep chatting with?", "Which understood you?", "Which sounded too AI?"};
    d.participant_count = participants;
    return d;
}

TEST_P(Arena, StudyGivesUniqueCodesAndCounterbalancedOrder) {
    auto s = arena().create_study(study_draft(12));
    ASSERT_TRUE(s.ok()) << s.status().message();
    ASSERT_EQ(s->participants.size(), 12u);
    std::set<std::string> codes;
    int a_first = 0;
    for (auto& p : s->participants) {
        codes.insert(p.invite_code);
        a_first += p.a_first;
        EXPECT_FALSE(p.joined_at.has_value());
    }
    EXPECT_EQ(codes.size(), 12u);
    EXPECT_EQ(a_first, 6);
    auto studies = arena().list_studies();
    ASSERT_TRUE(studies.ok());
    ASSERT_EQ(studies->size(), 1u);
    EXPECT_EQ((*studies)[0].questions.size(), 3u);
    EXPECT_EQ((*studies)[0].model_b, "llama3");
}

TEST_P(Arena, JoinByCodeAndAnswerOncePerQuestion) {
    auto s = arena().create_study(study_draft(3));
    ASSERT_TRUE(s.ok());
    const Participant& p1 = s->participants[1];
    auto joined = arena().join_study(p1.invite_code);
    ASSERT_TRUE(joined.ok());
    EXPECT_EQ(joined->id, p1.id);
    EXPECT_FALSE(joined->a_first);
    ASSERT_TRUE(joined->joined_at.has_value());
    auto again = arena().join_study(p1.invite_code);  // resuming keeps the first join time
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->joined_at, joined->joined_at);
    EXPECT_EQ(arena().join_study("no-such-code").status().code(), StatusCode::not_found);

    ASSERT_TRUE(arena().answer(p1.id, 0, Pick::a, std::nullopt).ok());
    ASSERT_TRUE(arena().answer(p1.id, 2, Pick::b, std::string("it said 'as an AI language model'")).ok());
    Status twice = arena().answer(p1.id, 0, Pick::b, std::nullopt);
    EXPECT_EQ(twice.code(), StatusCode::already_exists);
    EXPECT_EQ(arena().answer(p1.id, 3, Pick::a, std::nullopt).code(), StatusCode::invalid_argument);
    EXPECT_EQ(arena().answer(p1.id, -1, Pick::a, std::nullopt).code(), StatusCode::invalid_argument);
    EXPECT_EQ(arena().answer(999, 0, Pick::a, std::nullopt).code(), StatusCode::not_found);
    ASSERT_TRUE(arena().answer(s->participants[0].id, 0, Pick::both, std::nullopt).ok());

    auto results = arena().study_results(s->study.id);
    ASSERT_TRUE(results.ok());
    EXPECT_EQ(results->participants.size(), 3u);
    ASSERT_EQ(results->answers.size(), 3u);
    EXPECT_EQ(results->answers[0].participant_id, s->participants[0].id);
    EXPECT_EQ(results->answers[0].choice, std::optional<Pick>(Pick::both));
    EXPECT_EQ(results->answers[1].choice, std::optional<Pick>(Pick::a));  // the first answer stands
    EXPECT_EQ(results->answers[2].question_idx, 2);
    EXPECT_EQ(results->answers[2].free_text, std::optional<std::string>("it said 'as an AI language model'"));
    EXPECT_EQ(arena().study_results(77).status().code(), StatusCode::not_found);
}

TEST_P(Arena, StudyDraftIsValidated) {
    StudyDraft same = study_draft(2);
    same.model_b = same.model_a;
    EXPECT_EQ(arena().create_study(same).status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(arena().create_study(study_draft(0)).status().code(), StatusCode::invalid_argument);
    StudyDraft minutes = study_draft(2);
    minutes.minutes_per_model = 0;
    EXPECT_EQ(arena().create_study(minutes).status().code(), StatusCode::invalid_argument);
}

TEST_P(Arena, NamesRoundTrip) {
    for (Verdict v : {Verdict::a, Verdict::b, Verdict::tie, Verdict::both_bad})
        EXPECT_EQ(parse_verdict(verdict_name(v)), std::optional<Verdict>(v));
    for (Pick p : {Pick::a, Pick::b, Pick::both, Pick::neither})
        EXPECT_EQ(parse_pick(pick_name(p)), std::optional<Pick>(p));
    EXPECT_FALSE(parse_verdict("A").has_value());
    EXPECT_FALSE(parse_pick("").has_value());
}

INSTANTIATE_TEST_SUITE_P(Backends, Arena, ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

}  // namespace
}  // namespace duet::store

// test_conversations.cpp: every ConversationStore operation, against a real SQLite file and a real PostgreSQL server
// (each test runs once per backend: .../sqlite and .../postgres).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "store/markdown_export.h"
#include "store/pg_test_server.h"
#include "store/store.h"
#include "store/test_util.h"

namespace duet::store {
namespace {

using namespace testing;

class Conversations : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        DUET_STORE_LOCATION_OR_SKIP(location, GetParam(), dir_);
        // SQLite: through a data directory (created on first use), as `duet serve` opens it.
        auto s = GetParam() == Backend::sqlite ? Store::open(dir_.path() + "/data") : Store::open_location(location);
        ASSERT_TRUE(s.ok()) << s.status().message();
        store_ = std::move(s).value();
    }
    ConversationStore& conv() { return store_->conversations(); }
    Conversation make(const std::string& title) {
        auto c = conv().create(titled(title));
        EXPECT_TRUE(c.ok()) << c.status().message();
        return c.ok() ? *c : Conversation{};
    }

    TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(Conversations, CreateAssignsAUrlSafeIdAndTimes) {
    Conversation draft;
    draft.title = "t";
    draft.mode = "expert";
    draft.settings.temperature = 0.3;
    draft.settings.send_system_prompt = false;
    auto c = conv().create(draft);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->id.size(), 22u);
    EXPECT_EQ(c->id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    EXPECT_GT(c->created_at, 0);
    EXPECT_EQ(c->created_at, c->updated_at);
    auto got = conv().get(c->id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->title, "t");
    EXPECT_EQ(got->mode, "expert");
    EXPECT_EQ(got->settings, draft.settings);
    EXPECT_EQ(got->message_count, 0);
    EXPECT_NE(make("other").id, c->id);
}

TEST_P(Conversations, UnknownIdIsNotFound) {
    EXPECT_EQ(conv().get("nope").status().code(), StatusCode::not_found);
    EXPECT_EQ(conv().get_with_messages("nope").status().code(), StatusCode::not_found);
    EXPECT_EQ(conv().append("nope", user("x")).status().code(), StatusCode::not_found);
    EXPECT_EQ(conv().remove("nope").code(), StatusCode::not_found);
    EXPECT_EQ(conv().update("nope", [](Conversation&) {}).status().code(), StatusCode::not_found);
    EXPECT_EQ(conv().replace_tail("nope", 0, {}).status().code(), StatusCode::not_found);
    EXPECT_EQ(conv().export_conversations(std::string("nope")).status().code(), StatusCode::not_found);
}

TEST_P(Conversations, AppendKeepsEveryFieldAndOrdinalsCount) {
    Conversation c = make("chat");
    MessageDraft a;
    a.role = Role::assistant;
    a.content = "answer ✓ 中文";
    a.reasoning = "thinking";
    a.model = "r1";
    a.route = R"({"model":"r1","explanation":"math"})";
    a.system_prompt_sent = "";
    a.finish_reason = "stop";
    a.timings.ttft_ms = 12.5;
    a.timings.tokens_per_second = 30.25;
    a.timings.reasoning_ms = 800;
    a.timings.prompt_tokens = 10;
    a.timings.completion_tokens = 20;
    ASSERT_TRUE(conv().append(c.id, user("question")).ok());
    auto stored = conv().append(c.id, a);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(stored->ordinal, 1);
    auto full = conv().get_with_messages(c.id);
    ASSERT_TRUE(full.ok());
    ASSERT_EQ(full->messages.size(), 2u);
    EXPECT_EQ(full->conversation.message_count, 2);
    EXPECT_GT(full->conversation.updated_at, c.updated_at);
    const Message& m = full->messages[1];
    EXPECT_EQ(m.id, stored->id);
    EXPECT_EQ(m.role, Role::assistant);
    EXPECT_EQ(m.content, a.content);
    EXPECT_EQ(m.reasoning, a.reasoning);
    EXPECT_EQ(m.model, a.model);
    EXPECT_EQ(m.route, a.route);
    EXPECT_EQ(m.system_prompt_sent, std::optional<std::string>(""));  // empty string stays empty, not NULL
    EXPECT_EQ(m.finish_reason, a.finish_reason);
    EXPECT_EQ(m.timings, a.timings);
    EXPECT_EQ(full->messages[0].role, Role::user);
    EXPECT_FALSE(full->messages[0].reasoning.has_value());
    EXPECT_FALSE(full->messages[0].timings.ttft_ms.has_value());
}

TEST_P(Conversations, ListIsNewestFirstAndPages) {
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) ids.push_back(make("c" + std::to_string(i)).id);
    // Touching c2 moves it to the front.
    ASSERT_TRUE(conv().append(ids[2], user("bump")).ok());
    std::vector<std::string> expect = {ids[2], ids[6], ids[5], ids[4], ids[3], ids[1], ids[0]};
    std::vector<std::string> seen;
    ListQuery q;
    q.limit = 3;
    int pages = 0;
    for (;;) {
        auto page = conv().list(q);
        ASSERT_TRUE(page.ok()) << page.status().message();
        ++pages;
        for (auto& c : page->conversations) seen.push_back(c.id);
        if (!page->next) break;
        auto round_trip = PageCursor::parse(page->next->to_string());
        ASSERT_TRUE(round_trip.has_value());
        q.after = *round_trip;
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(seen, expect);
    EXPECT_EQ(conv().list(list_query(0)).status().code(), StatusCode::invalid_argument);
}

TEST_P(Conversations, ListOfExactlyOnePageHasNoNextCursor) {
    make("a");
    make("b");
    auto page = conv().list(list_query(2));
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->conversations.size(), 2u);
    EXPECT_FALSE(page->next.has_value());
}

TEST_P(Conversations, CursorParsingRejectsGarbage) {
    for (const char* bad : {"", ".", "1.", ".2", "a.b", "1.2.3", "-1.2", "99999999999999999999.1", "1 .2"})
        EXPECT_FALSE(PageCursor::parse(bad).has_value()) << bad;
    auto ok = PageCursor::parse("1733170055000.42");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->updated_at, 1733170055000);
    EXPECT_EQ(ok->seq, 42);
}

std::vector<std::string> search_titles(ConversationStore& conv, const std::string& q) {
    auto page = conv.list(list_query(100, q));
    EXPECT_TRUE(page.ok());
    std::vector<std::string> titles;
    for (auto& c : page->conversations) titles.push_back(c.title);
    std::sort(titles.begin(), titles.end());
    return titles;
}

TEST_P(Conversations, SearchMatchesTitleOrContentWithWildcardsLiteral) {
    make("100% sure");
    make("100 percent");
    make("snake_case names");
    make("snakeXcase names");
    make("back\\slash");
    Conversation body = make("plain title");
    ASSERT_TRUE(conv().append(body.id, user("the needle is in the content")).ok());
    using V = std::vector<std::string>;
    EXPECT_EQ(search_titles(conv(), "100%"), V{"100% sure"});
    EXPECT_EQ(search_titles(conv(), "%"), V{"100% sure"});
    EXPECT_EQ(search_titles(conv(), "snake_case"), V{"snake_case names"});
    EXPECT_EQ(search_titles(conv(), "_"), V{"snake_case names"});
    EXPECT_EQ(search_titles(conv(), "\\"), V{"back\\slash"});
    EXPECT_EQ(search_titles(conv(), "NEEDLE"), V{"plain title"});  // ASCII case-insensitive, in content
    EXPECT_EQ(search_titles(conv(), "names"), (V{"snakeXcase names", "snake_case names"}));
    EXPECT_TRUE(search_titles(conv(), "absent").empty());
    EXPECT_EQ(like_contains_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
}

TEST_P(Conversations, UpdateRenamesAndChangesSettings) {
    Conversation c = make("old");
    auto u = conv().update(c.id, [](Conversation& x) {
        x.title = "new";
        x.mode = "daily";
        x.settings.max_tokens = 64;
        x.settings.system_prompt = "be brief";
        x.id = "ignored";
    });
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->id, c.id);
    auto got = conv().get(c.id);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(got->title, "new");
    EXPECT_EQ(got->mode, "daily");
    EXPECT_EQ(got->settings.max_tokens, std::optional<int64_t>(64));
    EXPECT_EQ(got->settings.system_prompt, std::optional<std::string>("be brief"));
    EXPECT_GT(got->updated_at, c.updated_at);
}

TEST_P(Conversations, DeleteCascadesToMessages) {
    Conversation c = make("gone");
    Conversation keep = make("kept");
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(conv().append(c.id, user("m")).ok());
    ASSERT_TRUE(conv().append(keep.id, user("k")).ok());
    ASSERT_TRUE(conv().remove(c.id).ok());
    EXPECT_EQ(conv().get(c.id).status().code(), StatusCode::not_found);
    int64_t n_messages = -1;
    ASSERT_TRUE(store_->database()
                    .read([&](Connection& conn) -> Status {
                        DUET_TRY(Statement s, conn.prepare("SELECT count(*) FROM messages"));
                        DUET_TRY(bool row, s.step());
                        n_messages = row ? s.int64(0) : -1;
                        return {};
                    })
                    .ok());
    EXPECT_EQ(n_messages, 1);
}

TEST_P(Conversations, ReplaceTailRegeneratesAndEdits) {
    Conversation c = make("branch");
    ASSERT_TRUE(conv().append(c.id, user("q1")).ok());
    ASSERT_TRUE(conv().append(c.id, answer("a1")).ok());
    ASSERT_TRUE(conv().append(c.id, user("q2")).ok());
    ASSERT_TRUE(conv().append(c.id, answer("a2")).ok());
    // Regenerate a2: drop it, nothing new yet.
    auto r = conv().replace_tail(c.id, 3, {});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
    // Edit q1 and resend: everything from ordinal 0 replaced by the edited question.
    auto e = conv().replace_tail(c.id, 0, {user("q1 edited")});
    ASSERT_TRUE(e.ok());
    ASSERT_EQ(e->size(), 1u);
    EXPECT_EQ((*e)[0].ordinal, 0);
    ASSERT_TRUE(conv().append(c.id, answer("a1'")).ok());
    auto full = conv().get_with_messages(c.id);
    ASSERT_TRUE(full.ok());
    ASSERT_EQ(full->messages.size(), 2u);
    EXPECT_EQ(full->messages[0].content, "q1 edited");
    EXPECT_EQ(full->messages[1].content, "a1'");
    EXPECT_EQ(full->messages[1].ordinal, 1);
    // Replacing at the end appends; beyond the end is refused and changes nothing.
    ASSERT_TRUE(conv().replace_tail(c.id, 2, {user("q3")}).ok());
    auto beyond = conv().replace_tail(c.id, 9, {user("x")});
    EXPECT_EQ(beyond.status().code(), StatusCode::out_of_range);
    EXPECT_EQ(conv().replace_tail(c.id, -1, {}).status().code(), StatusCode::out_of_range);
    EXPECT_EQ(conv().get(c.id)->message_count, 3);
}

TEST_P(Conversations, MessageIdsAreNeverReused) {
    Conversation c = make("ids");
    ASSERT_TRUE(conv().append(c.id, user("q")).ok());
    auto first = conv().append(c.id, answer("a"));
    ASSERT_TRUE(first.ok());
    // Regenerate: the last row goes, a new answer comes. It must not take the deleted answer's id.
    ASSERT_TRUE(conv().replace_tail(c.id, 1, {}).ok());
    auto second = conv().append(c.id, answer("a again"));
    ASSERT_TRUE(second.ok());
    EXPECT_GT(second->id, first->id);
    // Edit: the replaced user turn gets a new id too.
    auto edited = conv().replace_tail(c.id, 0, {user("q edited")});
    ASSERT_TRUE(edited.ok());
    ASSERT_EQ(edited->size(), 1u);
    EXPECT_GT((*edited)[0].id, second->id);
    // Deleting the whole conversation frees nothing for the next one either.
    ASSERT_TRUE(conv().remove(c.id).ok());
    Conversation d = make("after");
    auto later = conv().append(d.id, user("later"));
    ASSERT_TRUE(later.ok());
    EXPECT_GT(later->id, (*edited)[0].id);
}

TEST_P(Conversations, FiveHundredMessagesComeBackInOrder) {
    Conversation c = make("long");
    std::vector<MessageDraft> drafts;
    for (int i = 0; i < 500; ++i) drafts.push_back(msg(i % 2 ? Role::assistant : Role::user, std::to_string(i)));
    ASSERT_TRUE(conv().replace_tail(c.id, 0, drafts).ok());  // one transaction
    auto full = conv().get_with_messages(c.id);
    ASSERT_TRUE(full.ok());
    ASSERT_EQ(full->messages.size(), 500u);
    for (int i = 0; i < 500; ++i) {
        EXPECT_EQ(full->messages[i].ordinal, i);
        EXPECT_EQ(full->messages[i].content, std::to_string(i));
    }
}

TEST_P(Conversations, ExportImportRoundTripGivesNewIds) {
    Conversation a = make("first");
    ASSERT_TRUE(conv().append(a.id, user("hi")).ok());
    ASSERT_TRUE(conv().append(a.id, answer("hello", "r", "m")).ok());
    make("second");
    auto all = conv().export_conversations(std::nullopt);
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].conversation.title, "second");  // newest first
    auto one = conv().export_conversations(a.id);
    ASSERT_TRUE(one.ok());
    ASSERT_EQ(one->size(), 1u);
    auto ids = conv().import_conversations(*one);
    ASSERT_TRUE(ids.ok());
    ASSERT_EQ(ids->size(), 1u);
    EXPECT_NE((*ids)[0], a.id);
    auto copy = conv().get_with_messages((*ids)[0]);
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(copy->conversation.title, "first");
    EXPECT_EQ(copy->conversation.created_at, a.created_at);
    ASSERT_EQ(copy->messages.size(), 2u);
    EXPECT_EQ(copy->messages[1].reasoning, std::optional<std::string>("r"));
    EXPECT_EQ(copy->messages[1].created_at, (*one)[0].messages[1].created_at);
}

TEST_P(Conversations, MarkdownExportHasTitlesRolesAndReasoning) {
    Conversation a = make("Title\nwith newline");
    ASSERT_TRUE(conv().append(a.id, user("question?")).ok());
    ASSERT_TRUE(conv().append(a.id, answer("**answer**", "because", "r1")).ok());
    auto items = conv().export_conversations(a.id);
    ASSERT_TRUE(items.ok());
    std::string md = export_markdown(*items);
    EXPECT_NE(md.find("# Title with newline\n"), std::string::npos) << md;
    EXPECT_NE(md.find("### user\n\nquestion?\n"), std::string::npos) << md;
    EXPECT_NE(md.find("### assistant (r1)\n"), std::string::npos) << md;
    EXPECT_NE(md.find("<details><summary>Reasoning</summary>\n\nbecause\n\n</details>"), std::string::npos) << md;
    EXPECT_LT(md.find("because"), md.find("**answer**"));
    EXPECT_EQ(format_utc_minutes(0), "1970-01-01 00:00 UTC");
}

TEST_P(Conversations, SettingsSetOverwriteAndDelete) {
    ASSERT_TRUE(conv().put_settings({{"theme", "\"dark\""}, {"enter_sends", "true"}}).ok());
    ASSERT_TRUE(conv().put_settings({{"theme", "\"light\""}, {"enter_sends", std::nullopt}}).ok());
    auto s = conv().settings();
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s, (std::map<std::string, std::string>{{"theme", "\"light\""}}));
}

TEST_P(Conversations, SystemPromptsUpsertAndReset) {
    ASSERT_TRUE(
        conv()
            .put_system_prompts(
                {{"", "You are helpful.", true}, {"r1", std::nullopt, false}, {"llama3", "Be brief.", std::nullopt}})
            .ok());
    ASSERT_TRUE(conv().put_system_prompts({{"llama3", std::nullopt, std::nullopt}, {"r1", "Think.", false}}).ok());
    auto p = conv().system_prompts();
    ASSERT_TRUE(p.ok());
    std::vector<SystemPromptEntry> expect = {{"", "You are helpful.", true}, {"r1", "Think.", false}};
    EXPECT_EQ(*p, expect);
}

TEST_P(Conversations, RandomIdsDoNotRepeat) {
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) ids.insert(random_id());
    EXPECT_EQ(ids.size(), 10000u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Conversations, ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

}  // namespace
}  // namespace duet::store

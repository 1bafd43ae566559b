// test_conversations.cpp: the conversation table behind stickiness (LRU bound, updates, concurrent use).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "router/conversations.h"

namespace duet::router {
namespace {

TEST(ConversationTable, RemembersAndUpdates) {
    ConversationTable t(4);
    EXPECT_FALSE(t.get("a").has_value());
    t.put("a", {Role::daily, 100});
    auto a = t.get("a");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->role, Role::daily);
    EXPECT_EQ(a->cached_tokens, 100);
    t.put("a", {Role::expert, 350});
    EXPECT_EQ(t.get("a")->role, Role::expert);
    EXPECT_EQ(t.get("a")->cached_tokens, 350);
    EXPECT_EQ(t.size(), 1u);
}

TEST(ConversationTable, ForgetsTheLeastRecentlyUsedFirst) {
    ConversationTable t(2);
    t.put("a", {Role::daily, 1});
    t.put("b", {Role::daily, 2});
    ASSERT_TRUE(t.get("a").has_value());  // a is now the most recent
    t.put("c", {Role::expert, 3});        // evicts b
    EXPECT_TRUE(t.get("a").has_value());
    EXPECT_FALSE(t.get("b").has_value());
    EXPECT_TRUE(t.get("c").has_value());
    EXPECT_EQ(t.size(), 2u);
}

TEST(ConversationTable, ConcurrentUseStaysBounded) {
    ConversationTable t(64);
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w)
        threads.emplace_back([&t, w] {
            for (int i = 0; i < 1000; ++i) {
                const std::string key = std::to_string((w * 7 + i) % 100);
                t.put(key, {i % 2 ? Role::expert : Role::daily, i});
                (void)t.get(key);
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(t.size(), 64u);
}

}  // namespace
}  // namespace duet::router

// test_route_roles.cpp: which served models play expert and daily (choose_route_roles): explicit flags, defaults
// by name, non-chat models skipped, errors, and what a client is told when a role is missing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/route_roles.h"

namespace duet::server {
namespace {

TEST(RouteRoles, DefaultsFromTheModelNames) {
    auto c = choose_route_roles({{"expert", true}, {"daily", true}, {"other", true}}, "", "");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->expert, "expert");
    EXPECT_EQ(c->daily, "daily");
    EXPECT_TRUE(c->complete());
    EXPECT_TRUE(c->unavailable.empty());
    EXPECT_TRUE(c->notes.empty());

    c = choose_route_roles({{"Expert", true}, {"DAILY", true}}, "", "");  // ASCII case-insensitive
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->expert, "Expert");
    EXPECT_EQ(c->daily, "DAILY");
}

TEST(RouteRoles, ExplicitFlagsWinOverNames) {
    auto c = choose_route_roles({{"expert", true}, {"daily", true}, {"big", true}, {"small", true}}, "big", "small");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->expert, "big");
    EXPECT_EQ(c->daily, "small");
    // One flag, the other role by name.
    c = choose_route_roles({{"big", true}, {"daily", true}}, "big", "");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->expert, "big");
    EXPECT_EQ(c->daily, "daily");
}

TEST(RouteRoles, ANonChatModelNamedAfterARoleIsSkippedWithANote) {
    auto c = choose_route_roles({{"expert", true}, {"daily", false}}, "", "");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->expert, "expert");
    EXPECT_EQ(c->daily, "");
    EXPECT_FALSE(c->complete());
    ASSERT_EQ(c->notes.size(), 1u);
    EXPECT_NE(c->notes[0].find("'daily' cannot chat"), std::string::npos) << c->notes[0];
    EXPECT_NE(c->unavailable.find("only the expert role has a model ('expert')"), std::string::npos) << c->unavailable;
    EXPECT_NE(c->unavailable.find("--expert NAME --daily NAME"), std::string::npos) << c->unavailable;
}

TEST(RouteRoles, OneRoleOrNoneLeavesTheModesOffAndSaysWhy) {
    auto c = choose_route_roles({{"daily", true}, {"other", true}}, "", "");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->complete());
    EXPECT_NE(c->unavailable.find("only the daily role has a model ('daily')"), std::string::npos) << c->unavailable;
    c = choose_route_roles({{"qwen", true}}, "", "");
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->complete());
    EXPECT_NE(c->unavailable.find("no model has a role"), std::string::npos) << c->unavailable;
}

TEST(RouteRoles, ExplicitErrors) {
    auto c = choose_route_roles({{"a", true}, {"b", true}}, "nosuch", "b");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message(), "--expert 'nosuch': no model of that name is served (models: a, b)");
    c = choose_route_roles({{"a", true}, {"emb", false}}, "a", "emb");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message(), "--daily 'emb': that model cannot chat (an embedding model?)");
    c = choose_route_roles({{"a", true}, {"b", true}}, "a", "a");
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().message(), "--expert and --daily name the same model 'a'");
}

}  // namespace
}  // namespace duet::server

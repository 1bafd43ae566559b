// test_sessions.cpp: the page's session table and cookie helpers.
#include <gtest/gtest.h>

#include <set>

#include "server/sessions.h"

namespace duet::server {
namespace {

TEST(Sessions, TokensAreRandomAndValidUntilRemoved) {
    SessionTable table;
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const std::string t = table.create();
        EXPECT_EQ(t.size(), 43u);
        EXPECT_EQ(t.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                  std::string::npos);
        EXPECT_TRUE(seen.insert(t).second);
        EXPECT_TRUE(table.valid(t));
    }
    const std::string t = *seen.begin();
    table.remove(t);
    EXPECT_FALSE(table.valid(t));
    EXPECT_FALSE(table.valid(""));
    EXPECT_FALSE(table.valid(t.substr(1)));
    EXPECT_EQ(table.size(), 49u);
}

TEST(Sessions, TheOldestIsDroppedAtTheLimit) {
    SessionTable table;
    const std::string first = table.create();
    for (size_t i = 1; i < SessionTable::kMaxSessions; ++i) table.create();
    EXPECT_TRUE(table.valid(first));
    table.create();
    EXPECT_FALSE(table.valid(first));
    EXPECT_EQ(table.size(), SessionTable::kMaxSessions);
}

TEST(Sessions, CookieHeaderParsing) {
    EXPECT_EQ(cookie_value("a=1; duet_session=xyz; b=2", "duet_session"), "xyz");
    EXPECT_EQ(cookie_value("duet_session=xyz", "duet_session"), "xyz");
    EXPECT_EQ(cookie_value("xduet_session=1; duet_session_old=2", "duet_session"), "");
    EXPECT_EQ(cookie_value("", "duet_session"), "");
    EXPECT_EQ(cookie_value("duet_session=", "duet_session"), "");
}

TEST(Sessions, CookiesAreHttpOnlyAndStrict) {
    const std::string c = session_cookie("TOKEN");
    EXPECT_EQ(c.rfind("duet_session=TOKEN; ", 0), 0u);
    EXPECT_NE(c.find("HttpOnly"), std::string::npos);
    EXPECT_NE(c.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(c.find("Path=/"), std::string::npos);
    EXPECT_NE(expired_session_cookie().find("Max-Age=0"), std::string::npos);
}

}  // namespace
}  // namespace duet::server

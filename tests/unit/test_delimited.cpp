// The one splitter of delimited text: RFC 4180 quoting, columns kept in place.
#include <gtest/gtest.h>

#include "distcf/io/delimited.hpp"

using namespace distcf;

namespace {
std::vector<std::string> split(FieldSplitter& s, const std::string& line, std::string* error = nullptr) {
    std::vector<std::string_view> f;
    std::string e;
    const bool ok = s.split(line, f, e);
    if (error) *error = ok ? "" : e;
    return {f.begin(), f.end()};
}
using V = std::vector<std::string>;
}  // namespace

TEST(Delimited, QuotedFieldsKeepDelimitersAndDoubledQuotes) {
    FieldSplitter s(",");
    EXPECT_EQ(split(s, R"("u1","i1",5)"), (V{"u1", "i1", "5"}));
    EXPECT_EQ(split(s, R"(u1,"i, the best",4.5)"), (V{"u1", "i, the best", "4.5"}));
    EXPECT_EQ(split(s, R"(u1,"say ""hi""",3)"), (V{"u1", "say \"hi\"", "3"}));
    EXPECT_EQ(split(s, R"(u1,"",3)"), (V{"u1", "", "3"}));
    EXPECT_EQ(split(s, "a,b,c\r"), (V{"a", "b", "c"}));
}

TEST(Delimited, AnEmptyFirstFieldKeepsTheColumnsInPlace) {
    FieldSplitter tab("\t");
    EXPECT_EQ(split(tab, "\t242\t3\t1"), (V{"", "242", "3", "1"}));
    FieldSplitter comma(",");
    EXPECT_EQ(split(comma, " 1 , 2 ,3"), (V{"1", "2", "3"}));
}

TEST(Delimited, MalformedQuotingIsReported) {
    FieldSplitter s(",");
    std::string error;
    split(s, R"(u1,"open,3)", &error);
    EXPECT_NE(error.find("not closed"), std::string::npos) << error;
    split(s, R"(u1,"x"y,3)", &error);
    EXPECT_NE(error.find("after the closing quote"), std::string::npos) << error;
    // A quote inside an unquoted field is data.
    EXPECT_EQ(split(s, R"(5'7",x,1)"), (V{"5'7\"", "x", "1"}));
}

TEST(Delimited, LooseFormTakesAnyRunOfSpacesTabsAndCommas) {
    FieldSplitter s("");
    EXPECT_EQ(split(s, "  a \t b,, c  "), (V{"a", "b", "c"}));
    EXPECT_EQ(split(s, R"("user one" "item, two")"), (V{"user one", "item, two"}));
    EXPECT_TRUE(split(s, "   ").empty());
}

TEST(Delimited, MultiCharacterDelimiters) {
    FieldSplitter s("::");
    EXPECT_EQ(split(s, "1::1193::5::978300760"), (V{"1", "1193", "5", "978300760"}));
}

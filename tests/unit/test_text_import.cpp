#include <gtest/gtest.h>

#include "distcf/error.hpp"
#include "distcf/io/text_import.hpp"
#include "helpers.hpp"

using namespace distcf;
using distcf::test::TempDir;
using distcf::test::write_text;

namespace {

ImportOptions opts(TextFormat f) {
    ImportOptions o;
    o.format = f;
    return o;
}

/// Expects import_text to fail with a message that names the file, the line and the reason.
void expect_rejected(const std::string& text, const ImportOptions& o, const std::string& where, const std::string& reason) {
    TempDir d;
    const auto path = d.file("bad.txt");
    write_text(path, text);
    try {
        import_text(path, o);
        FAIL() << "accepted: " << text;
    } catch (const InputError& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(path + where), std::string::npos) << msg;
        EXPECT_NE(msg.find(reason), std::string::npos) << msg;
    }
}

}  // namespace

TEST(TextImport, MovieLens100kMapsIdsToSortedDenseIndicesAndSortsRatings) {
    TempDir d;
    const auto path = d.file("u.data");
    write_text(path, "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t51\t2\t880606923\n");
    const auto r = import_text(path, opts(TextFormat::MovieLens100k));
    EXPECT_EQ(r.users.ints(), (std::vector<std::int64_t>{22, 186, 196}));
    EXPECT_EQ(r.items.ints(), (std::vector<std::int64_t>{51, 242, 302, 377}));
    // Sorted by (user, item): (22,377) (186,302) (196,51) (196,242).
    EXPECT_EQ(r.ratings.user, (std::vector<std::int32_t>{0, 1, 2, 2}));
    EXPECT_EQ(r.ratings.item, (std::vector<std::int32_t>{3, 2, 0, 1}));
    EXPECT_EQ(r.ratings.value, (std::vector<double>{1, 3, 2, 3}));
    EXPECT_EQ(r.ratings.time, (std::vector<std::int64_t>{878887116, 891717742, 880606923, 881250949}));
}

TEST(TextImport, MovieLensDatAndCsvFormatsAreDetected) {
    TempDir d;
    write_text(d.file("ratings.dat"), "1::1193::5::978300760\n1::661::3.5::978302109\n");
    auto a = import_text(d.file("ratings.dat"), opts(TextFormat::MovieLens));
    EXPECT_EQ(a.ratings.value, (std::vector<double>{3.5, 5}));
    write_text(d.file("ratings.csv"), "userId,movieId,rating,timestamp\n1,307,3.5,1256677221\n1,481,3.5,1256677456\n2,307,4.0,1\n");
    auto b = import_text(d.file("ratings.csv"), opts(TextFormat::MovieLens));
    EXPECT_EQ(b.ratings.size(), 3);
    EXPECT_EQ(b.users.size(), 2);
}

TEST(TextImport, CsvTakesStringIdsColumnsAndFullPrecisionRatings) {
    TempDir d;
    write_text(d.file("r.csv"), "x;bob;m2;0.123456789012345\ny;alice;m1;4.5\nz;bob;m1;-1e-3\n");
    ImportOptions o = opts(TextFormat::Csv);
    o.delimiter = ";";
    o.columns = {"_", "user", "item", "rating"};
    const auto r = import_text(d.file("r.csv"), o);
    EXPECT_EQ(r.users.strs(), (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(r.items.strs(), (std::vector<std::string>{"m1", "m2"}));
    EXPECT_EQ(r.ratings.value, (std::vector<double>{4.5, -1e-3, 0.123456789012345}));
    EXPECT_DOUBLE_EQ(r.value_min, -1e-3);
}

TEST(TextImport, CsvSwitchesToStringIdsWhenOneIsNotAnInteger) {
    TempDir d;
    write_text(d.file("r.csv"), "10,1,1\nb7,1,2\n9,1,3\n");
    const auto r = import_text(d.file("r.csv"), opts(TextFormat::Csv));
    EXPECT_FALSE(r.users.is_integer());
    EXPECT_EQ(r.users.strs(), (std::vector<std::string>{"10", "9", "b7"}));
}

TEST(TextImport, CrLfLinesAndBlankLinesAreAccepted) {
    TempDir d;
    write_text(d.file("r.csv"), "user,item,rating\r\n1,2,3\r\n\r\n2,2,4\r\n");
    ImportOptions o = opts(TextFormat::Csv);
    o.header = true;
    const auto r = import_text(d.file("r.csv"), o);
    EXPECT_EQ(r.ratings.value, (std::vector<double>{3, 4}));
}

TEST(TextImport, LinesLongerThanTheReadBlockAreJoined) {
    TempDir d;
    std::string text;
    for (int u = 0; u < 500; ++u) text += std::to_string(u) + "\t" + std::to_string(u % 7) + "\t" + std::to_string(1 + u % 5) + "\t1000000\n";
    write_text(d.file("u.data"), text);
    ImportOptions o = opts(TextFormat::MovieLens100k);
    o.block_bytes = 1024;
    const auto r = import_text(d.file("u.data"), o);
    EXPECT_EQ(r.ratings.size(), 500);
    EXPECT_EQ(r.users.size(), 500);
}

TEST(TextImport, DuplicatePoliciesKeepLastOrAverage) {
    TempDir d;
    write_text(d.file("r.csv"), "1,1,2\n1,2,5\n1,1,4\n");
    ImportOptions o = opts(TextFormat::Csv);
    o.duplicates = DuplicatePolicy::Last;
    EXPECT_EQ(import_text(d.file("r.csv"), o).ratings.value, (std::vector<double>{4, 5}));
    o.duplicates = DuplicatePolicy::Mean;
    EXPECT_EQ(import_text(d.file("r.csv"), o).ratings.value, (std::vector<double>{3, 5}));
}

TEST(TextImportErrors, NonNumericField) {
    expect_rejected("1\t2\t3\t4\n1\tx\t3\t4\n", opts(TextFormat::MovieLens100k), ":2:", "field 'item' is not an integer");
}
TEST(TextImportErrors, MissingColumn) {
    expect_rejected("1,2,3\n1,2\n", opts(TextFormat::Csv), ":2:", "missing column");
}
TEST(TextImportErrors, WrongDelimiter) {
    expect_rejected("1;2;3\n", opts(TextFormat::Csv), ":1:", "wrong --delimiter");
}
TEST(TextImportErrors, EmptyFile) { expect_rejected("", opts(TextFormat::Csv), "", "empty file"); }
TEST(TextImportErrors, NanRating) { expect_rejected("1,2,3\n1,3,nan\n", opts(TextFormat::Csv), ":2:", "not finite"); }
TEST(TextImportErrors, InfRating) { expect_rejected("1,2,inf\n", opts(TextFormat::Csv), ":1:", "not finite"); }
TEST(TextImportErrors, RatingOutsideRange) {
    ImportOptions o = opts(TextFormat::Csv);
    o.rating_range = std::make_pair(1.0, 5.0);
    expect_rejected("1,2,3\n2,2,5.5\n", o, ":2:", "outside --rating-range [1, 5]");
}
TEST(TextImportErrors, DuplicateUnderDefaultPolicy) {
    expect_rejected("1,2,3\n4,4,4\n1,2,5\n", opts(TextFormat::Csv), ":3:", "duplicate rating for user 1 and item 2 (first at line 1");
}
TEST(TextImportErrors, IdThatDoesNotFit) {
    expect_rejected("99999999999999999999\t1\t3\t0\n", opts(TextFormat::MovieLens100k), ":1:", "does not fit a 64-bit integer");
}
TEST(TextImportErrors, UndeclaredHeaderLine) {
    expect_rejected("user,item,rating\n1,2,3\n", opts(TextFormat::Csv), ":1:", "pass --header");
}
TEST(TextImportErrors, BadColumnsOptionNamesTheField) {
    ImportOptions o = opts(TextFormat::Csv);
    o.columns = {"user", "rating"};
    EXPECT_THROW(o.validate(), InputError);
    try {
        o.validate();
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("columns:"), std::string::npos);
    }
}

TEST(TextImport, MovieLens100kFullFileHasItsDocumentedSize) {
    DISTCF_REQUIRE_ML100K();
    const auto r = import_text(distcf::test::ml100k("u.data"), opts(TextFormat::MovieLens100k));
    EXPECT_EQ(r.users.size(), 943);
    EXPECT_EQ(r.items.size(), 1682);
    EXPECT_EQ(r.ratings.size(), 100000);
}

TEST(TextImport, CsvFieldsFollowRfc4180Quoting) {
    TempDir d;
    const auto path = d.file("q.csv");
    // Before the one splitter, the quotes stayed in the IDs and a comma inside quotes split the field.
    write_text(path, "\"u1\",\"i1\",5\n\"u2\",\"i, the best\",4\nu1,\"say \"\"hi\"\"\",3\n");
    const auto r = import_text(path, opts(TextFormat::Csv));
    ASSERT_EQ(r.ratings.size(), 3);
    EXPECT_TRUE(r.users.find("u1").has_value());
    EXPECT_TRUE(r.users.find("u2").has_value());
    EXPECT_FALSE(r.users.find("\"u1\"").has_value());
    EXPECT_TRUE(r.items.find("i, the best").has_value());
    EXPECT_TRUE(r.items.find("say \"hi\"").has_value());
    expect_rejected("u1,\"open,5\n", opts(TextFormat::Csv), ":1:", "quoted field is not closed");
}

TEST(TextImport, AnEmptyFirstFieldDoesNotShiftTheColumns) {
    // The line was trimmed before it was split: "\t242\t3\t1" became user 242, item 3, rating 1.
    expect_rejected("1\t2\t3\t4\n\t242\t3\t1\n", opts(TextFormat::MovieLens100k), ":2:", "field 'user'");
}

#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starpunk::http {
namespace {

using namespace std::string_literals;

constexpr std::string_view kType = "multipart/form-data; boundary=XyZ";

// Everything a parser run reports, with data slices coalesced so that runs with
// different chunking compare equal exactly when they should.
struct ParseRun {
    std::vector<std::string> events;
    bool ok = true;
    ErrorCode code = ErrorCode::internal;
    std::string message;

    bool operator==(const ParseRun&) const = default;
};

std::ostream& operator<<(std::ostream& os, const ParseRun& r) {
    for (const auto& e : r.events) os << "[" << printable_excerpt(e, 200) << "] ";
    return os << (r.ok ? "ok" : "error: " + r.message);
}

MultipartParser::Callbacks recorder(std::vector<std::string>& events) {
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [&events](const PartInfo& p) -> Status {
        events.push_back("begin " + p.name + "|" + (p.filename ? "file:" + *p.filename : "field") + "|" +
                         p.content_type);
        return {};
    };
    cb.on_part_data = [&events](std::string_view d) -> Status {
        if (d.empty()) ADD_FAILURE() << "on_part_data called with an empty slice";
        if (events.empty() || events.back().rfind("data ", 0) != 0) events.emplace_back("data ");
        events.back().append(d);
        return {};
    };
    cb.on_part_end = [&events]() -> Status {
        events.emplace_back("end");
        return {};
    };
    return cb;
}

// Feeds `body` split at the given ascending offsets, then finishes.
ParseRun run_split(std::string_view body, const std::vector<size_t>& cuts, const MultipartLimits& limits = {},
              std::string boundary = "XyZ") {
    ParseRun run;
    MultipartParser p(std::move(boundary), limits, recorder(run.events));
    Status st;
    size_t prev = 0;
    std::vector<size_t> all = cuts;
    all.push_back(body.size());
    for (size_t cut : all) {
        st = p.feed(body.substr(prev, cut - prev));
        prev = cut;
        if (!st) break;
    }
    if (st) st = p.finish();
    run.ok = st.ok();
    if (!st) {
        run.code = st.error().code;
        run.message = st.error().message;
    }
    return run;
}

ParseRun run_whole(std::string_view body, const MultipartLimits& limits = {}) {
    return run_split(body, {}, limits);
}

ParseRun run_bytewise(std::string_view body, const MultipartLimits& limits = {}) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < body.size(); ++i) cuts.push_back(i);
    return run_split(body, cuts, limits);
}

std::string field_part(std::string_view name, std::string_view value) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"\r\n\r\n" +
           std::string(value) + "\r\n";
}

std::string file_part(std::string_view name, std::string_view filename, std::string_view type,
                      std::string_view data) {
    return "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"; filename=\"" +
           std::string(filename) + "\"\r\nContent-Type: " + std::string(type) + "\r\n\r\n" + std::string(data) +
           "\r\n";
}

const std::string kClose = "--XyZ--\r\n";

// Binary content with CRs, LFs, NULs and near-delimiters that must all pass as data.
// It ends in CR, so the stream holds "\r\r\n--XyZ" where the part ends.
const std::string kTrickyData =
    "\r\n--XyY\r\n\r\n--Xy\r\r\n--X\r\n-\r\r\n"s + '\0' + "\xff\r\n--xyz\n--XyZ\r--XyZ\r\n-XyZ\r\n--Xy\r";

std::string sample_body() {
    return "preamble text\r\n" + field_part("h", "entry") + field_part("content", "Hello\r\nworld") +
           file_part("photo", "cat.png", "image/png", kTrickyData) + field_part("category", "") + kClose +
           "epilogue ignored";
}

TEST(ParseMultipart, FieldsAndFile) {
    const std::string body = field_part("h", "entry") + field_part("content", "Hello, \xc3\xa9") +
                             field_part("category", "a") + field_part("category", "b") +
                             file_part("photo", "cat.png", "image/png", "\x89PNG\r\n\x1a\n") + kClose;
    auto r = parse_multipart(body, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.items(), (std::vector<std::pair<std::string, std::string>>{
                                     {"h", "entry"}, {"content", "Hello, \xc3\xa9"}, {"category", "a"}, {"category", "b"}}));
    ASSERT_EQ(r->files.size(), 1u);
    EXPECT_EQ(r->files[0].field_name, "photo");
    EXPECT_EQ(r->files[0].filename, "cat.png");
    EXPECT_EQ(r->files[0].content_type, "image/png");
    EXPECT_EQ(r->files[0].data, "\x89PNG\r\n\x1a\n");
}

TEST(ParseMultipart, BinaryDataWithCrLfAndPartialBoundariesSurvives) {
    ASSERT_NE(kTrickyData.find('\0'), std::string::npos);
    const std::string body = file_part("f", "x.bin", "application/octet-stream", kTrickyData) + kClose;
    auto r = parse_multipart(body, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->files.size(), 1u);
    EXPECT_EQ(r->files[0].data, kTrickyData);
}

TEST(ParseMultipart, DataEndingInCrOrDashBeforeDelimiter) {
    for (std::string data : {"a\r"s, "a\r\n"s, "a\r\n-"s, "a\r\n--"s, "a\r\n--Xy"s, "\r\n\r\n"s}) {
        auto r = parse_multipart(file_part("f", "x", "a/b", data) + kClose, kType);
        ASSERT_TRUE(r.ok()) << r.error().message;
        EXPECT_EQ(r->files.at(0).data, data) << printable_excerpt(data);
    }
}

TEST(ParseMultipart, EmptyValuesAndEmptyFile) {
    auto r = parse_multipart(field_part("a", "") + file_part("f", "", "text/plain", "") + kClose, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.get("a"), std::optional<std::string_view>(""));
    ASSERT_EQ(r->files.size(), 1u);
    EXPECT_EQ(r->files[0].filename, "");  // a file input left empty by the browser
    EXPECT_EQ(r->files[0].data, "");
}

TEST(ParseMultipart, PreambleAndEpilogueAreIgnored) {
    const std::string body = "This is a preamble.\r\n--XyY is another boundary\r\n-- XyZ\r\n" + field_part("a", "1") + kClose +
                             "epilogue\r\n--XyZ\r\ngarbage";
    auto r = parse_multipart(body, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.items().size(), 1u);
    EXPECT_EQ(r->fields.get("a"), std::optional<std::string_view>("1"));
}

TEST(ParseMultipart, LeadingCrlfBeforeFirstBoundary) {
    auto r = parse_multipart("\r\n" + field_part("a", "1") + kClose, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.get("a"), std::optional<std::string_view>("1"));
}

TEST(ParseMultipart, TransportPaddingAfterBoundaryAndNoFinalCrlf) {
    auto r = parse_multipart(
        "--XyZ \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--XyZ--", kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.get("a"), std::optional<std::string_view>("1"));
}

TEST(ParseMultipart, OnlyClosingBoundaryIsAnEmptyForm) {
    auto r = parse_multipart(kClose, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->fields.empty());
    EXPECT_TRUE(r->files.empty());
}

TEST(ParseMultipart, HeaderNamesCaseInsensitiveAndContentTypeDefault) {
    const std::string body =
        "--XyZ\r\ncontent-disposition: FORM-DATA; NAME=\"a\"\r\nX-Other: ignored\r\n\r\nv\r\n"
        "--XyZ\r\nCONTENT-TYPE: text/markdown; charset=utf-8\r\nContent-Disposition: form-data; name=b; "
        "filename=b.md\r\n\r\n# hi\r\n" +
        kClose;
    std::vector<std::string> events;
    MultipartParser p("XyZ", {}, recorder(events));
    ASSERT_TRUE(p.feed(body).ok());
    ASSERT_TRUE(p.finish().ok());
    EXPECT_EQ(events, (std::vector<std::string>{"begin a|field|text/plain", "data v", "end",
                                                "begin b|file:b.md|text/markdown; charset=utf-8", "data # hi",
                                                "end"}));
}

TEST(ParseMultipart, QuotedParametersUnescapeQuotesKeepOtherBackslashes) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\\\"b;c\"; filename=\"C:\\dir\\x\\\\y.txt\"\r\n\r\n"
        "data\r\n" +
        kClose;
    auto r = parse_multipart(body, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->files.size(), 1u);
    EXPECT_EQ(r->files[0].field_name, "a\"b;c");
    EXPECT_EQ(r->files[0].filename, "C:\\dir\\x\\y.txt");
}

TEST(ParseMultipart, ExtendedFilenameWinsAndIsDecoded) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"fallback.txt\"; "
        "filename*=UTF-8''na%C3%AFve%20file.txt\r\n\r\nx\r\n" +
        kClose;
    auto r = parse_multipart(body, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->files.at(0).filename, "na\xc3\xafve file.txt");
}

TEST(ParseMultipart, ExtendedFilenameWithOtherCharsetIsRejected) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename*=ISO-8859-1''na%EFve\r\n\r\nx\r\n" + kClose;
    auto r = parse_multipart(body, kType);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos) << r.error().message;
}

TEST(ParseMultipart, FieldValueMustBeUtf8ButFileDataNeedNot) {
    auto bad = parse_multipart(field_part("content", "caf\xe9") + kClose, kType);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::invalid_input);
    EXPECT_NE(bad.error().message.find("\"content\""), std::string::npos) << bad.error().message;
    EXPECT_NE(bad.error().message.find("UTF-8"), std::string::npos) << bad.error().message;

    auto nul = parse_multipart(field_part("content", "a\0b"s) + kClose, kType);
    ASSERT_FALSE(nul.ok());
    EXPECT_NE(nul.error().message.find("NUL"), std::string::npos) << nul.error().message;

    auto file = parse_multipart(file_part("f", "x", "a/b", "caf\xe9\0"s) + kClose, kType);
    ASSERT_TRUE(file.ok()) << file.error().message;
    EXPECT_EQ(file->files.at(0).data, "caf\xe9\0"s);
}

TEST(ParseMultipart, FieldNameMustBeUtf8) {
    auto r = parse_multipart(field_part("n\xff", "v") + kClose, kType);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
    EXPECT_NE(r.error().message.find("field name"), std::string::npos) << r.error().message;
}

struct MalformedCase {
    std::string body;
    std::string expected_in_message;
};

TEST(ParseMultipart, MalformedBodiesAreInvalidInputWithReason) {
    const std::vector<MalformedCase> cases = {
        {"--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n" + kClose, "missing Content-Disposition"},
        {"--XyZ\r\n\r\nx\r\n" + kClose, "missing Content-Disposition"},
        {"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n" + kClose, "no name parameter"},
        {"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n" + kClose, "expected form-data"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n" + kClose, "unterminated"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\nx\r\n" + kClose, "after the quoted value"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n" + kClose, "given twice"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nx\r\n" +
             kClose,
         "duplicate"},
        {"--XyZ\r\nContent-Disposition form-data\r\n\r\nx\r\n" + kClose, "without ':'"},
        {"--XyZ\r\nBad Name: x\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n" + kClose,
         "malformed header name"},
        {"--XyZ\r\n continued: x\r\n\r\nx\r\n" + kClose, "continuation"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\rb\r\n\r\nx\r\n" + kClose, "bare CR"},
        {"--XyZX\r\n" + field_part("a", "1") + kClose, "followed by"},
        {field_part("a", "1\r\n--XyZ-nope") + kClose, "single '-'"},
        {"--XyZ\rContent-Disposition: form-data; name=a\r\n\r\nx\r\n" + kClose, "CR without LF"},
        {"--XyZ\r\nContent-Disposition: form-data; name=f; filename*=UTF-8''%zz\r\n\r\nx\r\n" + kClose,
         "percent-escape"},
    };
    for (const auto& c : cases) {
        const ParseRun whole = run_whole(c.body);
        EXPECT_FALSE(whole.ok) << printable_excerpt(c.body, 200);
        EXPECT_EQ(whole.code, ErrorCode::invalid_input) << whole.message;
        EXPECT_NE(whole.message.find(c.expected_in_message), std::string::npos)
            << "message: " << whole.message << "\nexpected to contain: " << c.expected_in_message;
        EXPECT_EQ(run_bytewise(c.body), whole) << printable_excerpt(c.body, 200);
    }
}

TEST(ParseMultipart, FoldedHeaderLineIsJoined) {
    auto r = parse_multipart("--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nv\r\n" + kClose, kType);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->fields.get("a"), std::optional<std::string_view>("v"));
}

TEST(MultipartParser, ByteAtATimeEqualsWholeBuffer) {
    const std::string body = sample_body();
    const ParseRun whole = run_whole(body);
    ASSERT_TRUE(whole.ok) << whole.message;
    ASSERT_EQ(whole.events.size(), 11u) << whole;  // the empty field has no data event
    EXPECT_EQ(whole.events[7], "data " + kTrickyData);
    EXPECT_EQ(run_bytewise(body), whole);
}

TEST(MultipartParser, EverySplitPointGivesTheSameResult) {
    const std::string body = sample_body();
    const ParseRun whole = run_whole(body);
    for (size_t i = 0; i <= body.size(); ++i) {
        ASSERT_EQ(run_split(body, {i}), whole) << "split at " << i;
    }
}

TEST(MultipartParser, EveryPairOfSplitPointsAroundTheTrickyPart) {
    const std::string body = file_part("f", "t", "a/b", kTrickyData) + kClose;
    const ParseRun whole = run_whole(body);
    ASSERT_TRUE(whole.ok) << whole.message;
    for (size_t i = 0; i <= body.size(); ++i) {
        for (size_t j = i; j <= body.size(); ++j) {
            ASSERT_EQ(run_split(body, {i, j}), whole) << "split at " << i << "," << j;
        }
    }
}

TEST(MultipartParser, EveryProperPrefixFailsAtFinish) {
    const std::string body = field_part("a", "1") + file_part("f", "x", "a/b", "\r\n--Xy") + "--XyZ--";
    ASSERT_TRUE(run_whole(body).ok);
    for (size_t len = 0; len < body.size(); ++len) {
        const ParseRun r = run_whole(std::string_view(body).substr(0, len));
        EXPECT_FALSE(r.ok) << "prefix of " << len << " bytes accepted";
        EXPECT_EQ(r.code, ErrorCode::invalid_input) << r.message;
        EXPECT_TRUE(r.message.find("no boundary") != std::string::npos ||
                    r.message.find("truncated") != std::string::npos)
            << r.message;
    }
}

TEST(MultipartParser, TruncatedInsidePartNamesThePart) {
    const ParseRun r = run_whole(field_part("content", "some text that never ends"));
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::invalid_input);
    EXPECT_NE(r.message.find("truncated"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("\"content\""), std::string::npos) << r.message;
}

TEST(MultipartParser, BodyWithoutBoundaryFailsAtFinish) {
    const ParseRun r = run_whole("just some text, no boundary at all\r\n--XyY");
    ASSERT_FALSE(r.ok);
    EXPECT_NE(r.message.find("no boundary"), std::string::npos) << r.message;
    EXPECT_TRUE(r.events.empty());
}

TEST(MultipartParser, TooManyParts) {
    MultipartLimits limits;
    limits.max_parts = 2;
    EXPECT_TRUE(run_whole(field_part("a", "1") + field_part("b", "2") + kClose, limits).ok);
    const std::string body = field_part("a", "1") + field_part("b", "2") + field_part("c", "3") + kClose;
    const ParseRun r = run_whole(body, limits);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::too_large);
    EXPECT_NE(r.message.find("max_parts"), std::string::npos) << r.message;
    EXPECT_EQ(r.events.size(), 6u) << r;  // two complete parts reported, the third never begins
    EXPECT_EQ(run_bytewise(body, limits), r);
}

TEST(MultipartParser, OversizedFieldStopsAtTheLimit) {
    MultipartLimits limits;
    limits.max_field_bytes = 10;
    EXPECT_TRUE(run_whole(field_part("a", "0123456789") + kClose, limits).ok);  // exactly the limit
    const std::string body = field_part("content", "0123456789X") + kClose;
    const ParseRun r = run_whole(body, limits);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::too_large);
    EXPECT_NE(r.message.find("max_field_bytes"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("\"content\""), std::string::npos) << r.message;
    EXPECT_EQ(r.events.back(), "data 0123456789");  // nothing past the limit is delivered
    EXPECT_EQ(run_bytewise(body, limits), r);
}

TEST(MultipartParser, FileLimitIsSeparateFromFieldLimit) {
    MultipartLimits limits;
    limits.max_field_bytes = 4;
    limits.max_file_bytes = 8;
    EXPECT_TRUE(run_whole(file_part("f", "x", "a/b", "12345678") + kClose, limits).ok);
    const ParseRun r = run_whole(file_part("f", "x", "a/b", "123456789") + kClose, limits);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::too_large);
    EXPECT_NE(r.message.find("max_file_bytes"), std::string::npos) << r.message;
}

TEST(MultipartParser, OversizedHeaders) {
    MultipartLimits limits;
    limits.max_part_header_bytes = 64;
    const std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"" + std::string(100, 'n') +
                             "\"\r\n\r\nx\r\n" + kClose;
    const ParseRun r = run_whole(body, limits);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::too_large);
    EXPECT_NE(r.message.find("max_part_header_bytes"), std::string::npos) << r.message;
    EXPECT_EQ(run_bytewise(body, limits), r);
}

TEST(MultipartParser, TotalLimitCountsEveryByte) {
    const std::string body = field_part("a", "1") + kClose;
    MultipartLimits limits;
    limits.max_total_bytes = body.size();
    EXPECT_TRUE(run_whole(body, limits).ok);
    const ParseRun r = run_whole(body + "x", limits);  // one epilogue byte too many
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.code, ErrorCode::too_large);
    EXPECT_NE(r.message.find("max_total_bytes"), std::string::npos) << r.message;
    EXPECT_EQ(run_bytewise(body + "x", limits), r);
}

TEST(MultipartParser, StreamsDataBeforeTheEndOfThePart) {
    std::vector<std::string> events;
    MultipartParser p("XyZ", {}, recorder(events));
    const std::string head = "--XyZ\r\nContent-Disposition: form-data; name=f; filename=big\r\n\r\n";
    ASSERT_TRUE(p.feed(head).ok());
    ASSERT_TRUE(p.feed(std::string(1000, 'a') + "\r\n--X").ok());
    ASSERT_EQ(events.size(), 2u);
    // All data is delivered except the bytes that might still be a delimiter.
    EXPECT_EQ(events[1], "data " + std::string(1000, 'a'));
    ASSERT_TRUE(p.feed("!" + std::string(10, 'b')).ok());  // not a delimiter after all
    EXPECT_EQ(events[1], "data " + std::string(1000, 'a') + "\r\n--X!" + std::string(10, 'b'));
    EXPECT_FALSE(p.done());
    ASSERT_TRUE(p.feed("\r\n--XyZ--").ok());
    EXPECT_TRUE(p.done());
    EXPECT_TRUE(p.finish().ok());
}

TEST(MultipartParser, CallbackErrorStopsParsingAndSticks) {
    int parts = 0;
    MultipartParser::Callbacks cb;
    cb.on_part_begin = [&parts](const PartInfo& info) -> Status {
        ++parts;
        if (info.name == "stop") return make_error(ErrorCode::unsupported, "no stop fields");
        return {};
    };
    MultipartParser p("XyZ", {}, cb);
    const Status st = p.feed(field_part("a", "1") + field_part("stop", "2") + field_part("c", "3") + kClose);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::unsupported);
    EXPECT_EQ(parts, 2);
    const Status again = p.feed(field_part("d", "4"));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message, "no stop fields");
    EXPECT_EQ(parts, 2);
    ASSERT_FALSE(p.finish().ok());
    EXPECT_EQ(p.finish().error().message, "no stop fields");
}

TEST(MultipartParser, ErrorIsStickyForLaterFeeds) {
    MultipartParser p("XyZ", {}, {});
    const Status st = p.feed("--XyZ\r\nNo colon here\r\n\r\n");
    ASSERT_FALSE(st.ok());
    const Status again = p.feed(kClose);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().message, st.error().message);
}

TEST(MultipartParser, FeedAfterFinishIsAUsageError) {
    MultipartParser p("XyZ", {}, {});
    ASSERT_TRUE(p.feed(kClose).ok());
    ASSERT_TRUE(p.finish().ok());
    EXPECT_TRUE(p.finish().ok());
    const Status st = p.feed("x");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, ErrorCode::internal);
}

TEST(MultipartParser, InvalidBoundaryReportedOnFirstFeed) {
    for (std::string b : {""s, std::string(71, 'b'), "a\r\nb"s}) {
        MultipartParser p(b, {}, {});
        const Status st = p.feed(kClose);
        ASSERT_FALSE(st.ok());
        EXPECT_EQ(st.error().code, ErrorCode::invalid_input);
        EXPECT_FALSE(p.finish().ok());
    }
}

TEST(MultipartParser, RepeatedDelimiterPrefixesInData) {
    // Partial matches that fail at different depths must hand back exactly the bytes they held.
    const std::string b = "aab";
    const std::string data = "\r\n--aa\r\n--a\r\n--aaa\r\n--aa";
    const std::string body =
        "--aab\r\nContent-Disposition: form-data; name=f; filename=x\r\n\r\n" + data + "\r\n--aab--";
    auto r = parse_multipart(body, "multipart/form-data; boundary=aab");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->files.at(0).data, data);
    for (size_t i = 0; i <= body.size(); ++i) {
        std::vector<std::string> a, c;
        MultipartParser whole(b, {}, recorder(a));
        ASSERT_TRUE(whole.feed(body).ok());
        MultipartParser split(b, {}, recorder(c));
        ASSERT_TRUE(split.feed(std::string_view(body).substr(0, i)).ok());
        ASSERT_TRUE(split.feed(std::string_view(body).substr(i)).ok());
        EXPECT_EQ(a, c) << "split at " << i;
    }
}

TEST(MultipartBoundary, ExtractsPlainAndQuoted) {
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW").value(),
              "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    EXPECT_EQ(multipart_boundary("Multipart/Form-Data;BOUNDARY=\"a b:c\"").value(), "a b:c");
    EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x ; foo").value(), "x");
    EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(70, 'b')).value(),
              std::string(70, 'b'));
}

TEST(MultipartBoundary, RejectsWrongTypeAndBadBoundary) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"application/x-www-form-urlencoded", "expected multipart/form-data"},
        {"multipart/mixed; boundary=x", "expected multipart/form-data"},
        {"", "expected multipart/form-data"},
        {"multipart/form-data", "no boundary"},
        {"multipart/form-data; boundary", "no boundary"},
        {"multipart/form-data; boundary=", "empty"},
        {"multipart/form-data; boundary=\"\"", "empty"},
        {"multipart/form-data; boundary=" + std::string(71, 'b'), "70"},
        {"multipart/form-data; boundary=\"x", "unterminated"},
        {"multipart/form-data; boundary=a; boundary=b", "twice"},
        {"multipart/form-data; boundary=\"a\x01\"", "control"},
    };
    for (const auto& [header, expected] : cases) {
        auto r = multipart_boundary(header);
        ASSERT_FALSE(r.ok()) << header;
        EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
        EXPECT_NE(r.error().message.find(expected), std::string::npos)
            << "header: " << header << "\nmessage: " << r.error().message;
    }
}

TEST(ParseMultipart, BadContentTypeHeaderIsReported) {
    auto r = parse_multipart(field_part("a", "1") + kClose, "text/plain");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::invalid_input);
}

}  // namespace
}  // namespace starpunk::http

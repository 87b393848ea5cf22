#include <gtest/gtest.h>

#include "http/router.hpp"

using namespace starpunk::http;

namespace {

Handler tag(std::string name) {
    return [name](Request&) { return text_response(200, name); };
}

Router sample() {
    Router r;
    r.add({Method::get, "/", 0, Execution::inline_, tag("home")});
    r.add({Method::get, "/note/{slug}", 0, Execution::inline_, tag("note")});
    r.add({Method::get, "/admin/", 0, Execution::inline_, tag("admin")});
    r.add({Method::get, "/admin/edit/{id}", 0, Execution::inline_, tag("edit-form")});
    r.add({Method::post, "/admin/edit/{id}", 1, Execution::blocking, tag("edit-save")});
    r.add({Method::get, "/micropub", 0, Execution::inline_, tag("mp-get")});
    r.add({Method::post, "/micropub", 0, Execution::blocking, tag("mp-post")});
    r.add({Method::get, "/static/{path*}", 0, Execution::inline_, tag("static")});
    return r;
}

std::string handler_name(const RouteMatch& m) {
    Request req;
    return m.route->handler(req).body;
}

}  // namespace

TEST(Router, MatchesLiteralRoot) {
    auto r = sample();
    auto m = r.match(Method::get, "/");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(handler_name(m), "home");
}

TEST(Router, CapturesAndDecodesParameters) {
    auto r = sample();
    auto m = r.match(Method::get, "/note/caf%C3%A9-au-lait");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    ASSERT_EQ(m.params.size(), 1u);
    EXPECT_EQ(m.params[0].first, "slug");
    EXPECT_EQ(m.params[0].second, "caf\xC3\xA9-au-lait");
}

TEST(Router, ParameterMustBeNonEmptySingleSegment) {
    auto r = sample();
    EXPECT_EQ(r.match(Method::get, "/note/").outcome, RouteMatch::Outcome::not_found);
    EXPECT_EQ(r.match(Method::get, "/note/a/b").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, TrailingSlashIsSignificant) {
    auto r = sample();
    EXPECT_EQ(r.match(Method::get, "/admin/").outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(r.match(Method::get, "/admin").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, UnknownPathIsNotFound) {
    auto r = sample();
    EXPECT_EQ(r.match(Method::get, "/nope").outcome, RouteMatch::Outcome::not_found);
    EXPECT_EQ(r.match(Method::post, "/nope").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, WrongMethodGives405WithAllow) {
    auto r = sample();
    auto m = r.match(Method::delete_, "/micropub");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::method_not_allowed);
    EXPECT_EQ(m.allow, "GET, HEAD, POST");
    auto m2 = r.match(Method::post, "/note/x");
    ASSERT_EQ(m2.outcome, RouteMatch::Outcome::method_not_allowed);
    EXPECT_EQ(m2.allow, "GET, HEAD");
}

TEST(Router, HeadIsServedByGet) {
    auto r = sample();
    auto m = r.match(Method::head, "/note/x");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(handler_name(m), "note");
}

TEST(Router, MethodSelectsAmongRoutesOfOnePath) {
    auto r = sample();
    EXPECT_EQ(handler_name(r.match(Method::get, "/admin/edit/7")), "edit-form");
    auto m = r.match(Method::post, "/admin/edit/7");
    EXPECT_EQ(handler_name(m), "edit-save");
    EXPECT_EQ(m.route->execution, Execution::blocking);
    EXPECT_EQ(m.route->access, 1);  // the application's access byte, handed back as given
}

TEST(Router, RestParameterTakesRemainingSegments) {
    auto r = sample();
    auto m = r.match(Method::get, "/static/js/vendor/htmx.min.js");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(m.params[0].second, "js/vendor/htmx.min.js");
    EXPECT_EQ(r.match(Method::get, "/static/").outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, DeepPathsMatchRestRoutesWholeAndNothingElse) {
    // Deeper than the segments match() splits out in place: a rest parameter
    // still gets every segment, and no fixed route matches by a prefix.
    auto r = sample();
    std::string rest;
    for (int i = 0; i < 40; ++i) rest += (i ? "/d" : "d") + std::to_string(i);
    auto m = r.match(Method::get, "/static/" + rest);
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(handler_name(m), "static");
    EXPECT_EQ(m.params.at(0).second, rest);
    EXPECT_EQ(r.match(Method::get, "/note/" + rest).outcome, RouteMatch::Outcome::not_found);
    std::string slashes(40, '/');
    EXPECT_EQ(r.match(Method::get, slashes).outcome, RouteMatch::Outcome::not_found);
}

TEST(Router, InvalidEscapeInParameterIsBadPath) {
    auto r = sample();
    EXPECT_EQ(r.match(Method::get, "/note/%zz").outcome, RouteMatch::Outcome::bad_path);
    EXPECT_EQ(r.match(Method::get, "/note/%00").outcome, RouteMatch::Outcome::bad_path);
    EXPECT_EQ(r.match(Method::get, "/note/%4").outcome, RouteMatch::Outcome::bad_path);
}

TEST(Router, PathMustBeAbsolute) {
    auto r = sample();
    EXPECT_EQ(r.match(Method::get, "note/x").outcome, RouteMatch::Outcome::bad_path);
    EXPECT_EQ(r.match(Method::get, "").outcome, RouteMatch::Outcome::bad_path);
}

TEST(Router, EncodedSlashDoesNotSplitSegments) {
    auto r = sample();
    auto m = r.match(Method::get, "/note/a%2Fb");
    ASSERT_EQ(m.outcome, RouteMatch::Outcome::found);
    EXPECT_EQ(m.params[0].second, "a/b");
}

TEST(Router, RejectsMalformedPatterns) {
    Router r;
    EXPECT_THROW(r.add({Method::get, "no-slash", 0, Execution::inline_, tag("x")}), std::invalid_argument);
    EXPECT_THROW(r.add({Method::get, "/{rest*}/x", 0, Execution::inline_, tag("x")}),
                 std::invalid_argument);
    // Deeper than match() splits a request path: such a route could never match.
    std::string deep;
    for (int i = 0; i < 33; ++i) deep += "/s" + std::to_string(i);
    EXPECT_THROW(r.add({Method::get, deep, 0, Execution::inline_, tag("x")}), std::invalid_argument);
    deep.resize(deep.rfind('/'));  // 32 segments: allowed
    EXPECT_NO_THROW(r.add({Method::get, deep, 0, Execution::inline_, tag("x")}));
}

#include <gtest/gtest.h>

#include <algorithm>

#include "config/config.hpp"
#include "util/system.hpp"

using namespace starpunk::config;

namespace {

Environment production() {
    return {{"SITE_URL", "https://example.com/"},
            {"ADMIN_ME", "https://example.com/"},
            {"SESSION_SECRET", std::string(64, 'x')}};
}

bool mentions(const std::vector<std::string>& problems, std::string_view needle) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}

}  // namespace

TEST(Config, DefaultsApplyWhenUnset) {
    auto loaded = load_config(production());
    ASSERT_TRUE(loaded.problems.empty());
    const auto& c = loaded.config;
    EXPECT_EQ(c.site_url, "https://example.com");  // trailing slash normalised
    EXPECT_EQ(c.site_name, "StarPunk");
    EXPECT_EQ(c.data_path, "./data");
    EXPECT_EQ(c.notes_path, "./data/notes");
    EXPECT_EQ(c.database_path, "./data/starpunk.db");
    EXPECT_EQ(c.host, "127.0.0.1");
    EXPECT_EQ(c.port, 8000);
    EXPECT_EQ(c.session_lifetime_days, 30);
    EXPECT_EQ(c.feed_max_items, 50);
    EXPECT_EQ(c.feed_cache_seconds, 300);
    EXPECT_EQ(c.db_pool_size, 5);
    EXPECT_DOUBLE_EQ(c.db_timeout_seconds, 10.0);
    EXPECT_EQ(c.max_content_length, 10u * 1024 * 1024);
    EXPECT_EQ(c.indielogin_url, "https://indielogin.com");
    EXPECT_FALSE(c.dev_mode);
    EXPECT_GE(c.workers, 1);
}

TEST(Config, ConnectionCapDefaultsBelowTheOpenFileLimit) {
    // 32 + 3 per pooled connection + 2 per worker kept for the server itself.
    EXPECT_EQ(reserved_descriptors(5, 2), 51u);
    EXPECT_EQ(default_max_connections(1024, 5, 2), 973u);
    EXPECT_EQ(default_max_connections(64, 5, 2), 13u);
    EXPECT_EQ(default_max_connections(40, 5, 2), 8u) << "never below 8";
    EXPECT_EQ(default_max_connections(UINT64_MAX, 5, 2), 1'000'000u);

    auto env = production();
    env["WORKERS"] = "2";
    auto loaded = load_config(env);
    ASSERT_TRUE(loaded.problems.empty());
    EXPECT_EQ(loaded.config.max_connections, default_max_connections(starpunk::open_files_limit(), 5, 2));

    env["MAX_CONNECTIONS"] = "100";
    EXPECT_EQ(load_config(env).config.max_connections, 100u);
    env["MAX_CONNECTIONS"] = "0";
    EXPECT_TRUE(mentions(load_config(env).problems, "MAX_CONNECTIONS"));
}

TEST(Config, AConnectionCapBeyondTheOpenFileLimitIsAWarning) {
    if (starpunk::open_files_limit() > 5'000'000) GTEST_SKIP() << "no open-file limit to exceed";
    auto env = production();
    env["MAX_CONNECTIONS"] = "10000000";
    auto loaded = load_config(env);
    EXPECT_TRUE(loaded.problems.empty());
    EXPECT_TRUE(mentions(loaded.warnings, "MAX_CONNECTIONS"));
}

TEST(Config, OutboundWorkersDefaultToHalfTheWorkers) {
    auto env = production();
    env["WORKERS"] = "8";
    EXPECT_EQ(load_config(env).config.outbound_workers, 4);
    env["WORKERS"] = "1";
    EXPECT_EQ(load_config(env).config.outbound_workers, 1);
    env["OUTBOUND_WORKERS"] = "3";
    EXPECT_EQ(load_config(env).config.outbound_workers, 3);
    env["OUTBOUND_WORKERS"] = "0";
    EXPECT_TRUE(mentions(load_config(env).problems, "OUTBOUND_WORKERS"));
}

TEST(Config, DevIdentity) {
    Config c;
    c.site_url = "https://site.example";
    EXPECT_EQ(c.dev_identity(), "https://site.example/");
    c.admin_me = "https://me.example/";
    EXPECT_EQ(c.dev_identity(), "https://me.example/");
    c.dev_admin_me = "http://dev.example/";
    EXPECT_EQ(c.dev_identity(), "http://dev.example/");
}

TEST(Config, ProductionRequiresAdminMeAndSecret) {
    auto loaded = load_config({});
    EXPECT_TRUE(mentions(loaded.problems, "ADMIN_ME"));
    EXPECT_TRUE(mentions(loaded.problems, "SESSION_SECRET"));
}

TEST(Config, DevModeNeedsNeitherAndWarnsLoudly) {
    auto loaded = load_config({{"DEV_MODE", "true"}});
    EXPECT_TRUE(loaded.problems.empty());
    EXPECT_TRUE(loaded.config.dev_mode);
    EXPECT_TRUE(mentions(loaded.warnings, "DEV_MODE"));
    EXPECT_EQ(loaded.config.dev_admin_me, "http://localhost:8000/");
}

TEST(Config, DevModeRefusedOnPublicHttpsSite) {
    auto env = production();
    env["DEV_MODE"] = "true";
    auto loaded = load_config(env);
    EXPECT_TRUE(mentions(loaded.problems, "DEV_MODE"));
    env["SITE_URL"] = "https://localhost:8443";
    EXPECT_FALSE(mentions(load_config(env).problems, "DEV_MODE"));
}

TEST(Config, EveryProblemIsListedAtOnce) {
    Environment env = {{"SITE_URL", "not a url"},      {"PORT", "99999"},      {"WORKERS", "many"},
                       {"LOG_LEVEL", "LOUD"},          {"LOG_FORMAT", "xml"},  {"DEV_MODE", "maybe"},
                       {"MAX_CONTENT_LENGTH", "-5"},   {"DB_TIMEOUT", "soon"}, {"METRICS_SAMPLING_RATE", "2"}};
    auto loaded = load_config(env);
    for (const char* key : {"SITE_URL", "PORT", "WORKERS", "LOG_LEVEL", "LOG_FORMAT", "DEV_MODE",
                            "MAX_CONTENT_LENGTH", "DB_TIMEOUT", "METRICS_SAMPLING_RATE", "ADMIN_ME", "SESSION_SECRET"}) {
        EXPECT_TRUE(mentions(loaded.problems, key)) << key;
    }
}

TEST(Config, ProblemsNeverContainSecrets) {
    auto env = production();
    env["SESSION_SECRET"] = "short-secret-value";
    env["METRICS_TOKEN"] = "tok-very-secret";
    env["PORT"] = "x";
    auto loaded = load_config(env);
    for (const auto& list : {loaded.problems, loaded.warnings, describe_config(loaded.config)}) {
        for (const auto& line : list) {
            EXPECT_EQ(line.find("short-secret-value"), std::string::npos) << line;
            EXPECT_EQ(line.find("tok-very-secret"), std::string::npos) << line;
        }
    }
    EXPECT_TRUE(mentions(loaded.warnings, "SESSION_SECRET"));  // shorter than 32
}

TEST(Config, SizesAcceptSuffixes) {
    auto env = production();
    env["MAX_CONTENT_LENGTH"] = "2M";
    EXPECT_EQ(load_config(env).config.max_content_length, 2u * 1024 * 1024);
    env["MAX_CONTENT_LENGTH"] = "512k";
    EXPECT_EQ(load_config(env).config.max_content_length, 512u * 1024);
    env["MAX_CONTENT_LENGTH"] = "1000";
    EXPECT_EQ(load_config(env).config.max_content_length, 1000u);
    env["MAX_CONTENT_LENGTH"] = "0";
    EXPECT_TRUE(mentions(load_config(env).problems, "MAX_CONTENT_LENGTH"));
}

TEST(Config, SamplingRateAcceptsPerTypeMap) {
    auto env = production();
    env["METRICS_SAMPLING_RATE"] = "database=0.1, http=1.0";
    auto c = load_config(env).config;
    EXPECT_DOUBLE_EQ(c.metrics_sampling_rate.at("database"), 0.1);
    EXPECT_DOUBLE_EQ(c.metrics_sampling_rate.at("http"), 1.0);
    EXPECT_DOUBLE_EQ(c.metrics_sampling_rate.at("render"), 1.0);
    env["METRICS_SAMPLING_RATE"] = "queries=0.5";
    EXPECT_TRUE(mentions(load_config(env).problems, "queries"));
    env["METRICS_SAMPLING_RATE"] = "0.25";
    EXPECT_DOUBLE_EQ(load_config(env).config.metrics_sampling_rate.at("render"), 0.25);
}

TEST(Config, BooleansAreStrict) {
    auto env = production();
    env["SEARCH_FORCE_FALLBACK"] = "YES";
    EXPECT_TRUE(load_config(env).config.search_force_fallback);
    env["SEARCH_FORCE_FALLBACK"] = "0";
    EXPECT_FALSE(load_config(env).config.search_force_fallback);
    env["SEARCH_FORCE_FALLBACK"] = "ja";
    EXPECT_TRUE(mentions(load_config(env).problems, "SEARCH_FORCE_FALLBACK"));
}

TEST(Config, DerivedPathsFollowDataPath) {
    auto env = production();
    env["DATA_PATH"] = "/srv/starpunk/";
    auto c = load_config(env).config;
    EXPECT_EQ(c.data_path, "/srv/starpunk");
    EXPECT_EQ(c.notes_path, "/srv/starpunk/notes");
    EXPECT_EQ(c.database_path, "/srv/starpunk/starpunk.db");
}

TEST(Dotenv, ParsesCommentsQuotesAndExport) {
    auto env = parse_dotenv(
        "# a comment\n"
        "\n"
        "SITE_NAME=My Notes   # trailing comment\n"
        "export ADMIN_ME=https://me.example/\n"
        "SITE_DESCRIPTION=\"Line one\\nline \\\"two\\\"\"\n"
        "SESSION_SECRET='a#b c'\n");
    ASSERT_TRUE(env.ok()) << env.error().message;
    EXPECT_EQ(env->at("SITE_NAME"), "My Notes");
    EXPECT_EQ(env->at("ADMIN_ME"), "https://me.example/");
    EXPECT_EQ(env->at("SITE_DESCRIPTION"), "Line one\nline \"two\"");
    EXPECT_EQ(env->at("SESSION_SECRET"), "a#b c");
}

TEST(Dotenv, MalformedLineNamesItsNumber) {
    auto env = parse_dotenv("A=1\nthis is not an assignment\n");
    ASSERT_FALSE(env.ok());
    EXPECT_NE(env.error().message.find("line 2"), std::string::npos);
    auto unterminated = parse_dotenv("A=\"open\n");
    ASSERT_FALSE(unterminated.ok());
    EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
    EXPECT_FALSE(parse_dotenv("BAD-NAME=1\n").ok());
}

TEST(Config, HostMustBeAnIpAddress) {
    for (const char* good : {"127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1%lo", "192.168.1.20"}) {
        auto env = production();
        env["HOST"] = good;
        EXPECT_FALSE(mentions(load_config(env).problems, "HOST")) << good;
    }
    for (const char* bad : {"localhost", "example.com", "127.0.0.1:8000", "256.1.1.1", "::1%", "[::1]", "1.2.3"}) {
        auto env = production();
        env["HOST"] = bad;
        auto loaded = load_config(env);
        EXPECT_TRUE(mentions(loaded.problems, "HOST")) << bad;
        EXPECT_TRUE(mentions(loaded.problems, "is not an IP address")) << bad;
    }
}

TEST(Config, SiteUrlFollowsTheListenAddressOnlyInDevModeWithoutSiteUrl) {
    auto dev = load_config({{"DEV_MODE", "true"}});
    EXPECT_FALSE(dev.config.site_url_set);
    EXPECT_TRUE(site_url_follows_listen_address(dev.config));
    auto dev_with_url = load_config({{"DEV_MODE", "true"}, {"SITE_URL", "http://localhost:8000"}});
    EXPECT_TRUE(dev_with_url.config.site_url_set);
    EXPECT_FALSE(site_url_follows_listen_address(dev_with_url.config));
    auto prod = load_config(production());
    EXPECT_FALSE(site_url_follows_listen_address(prod.config));
}

TEST(Config, ListenUrlIsWhatABrowserOnThisMachineUses) {
    EXPECT_EQ(listen_url("127.0.0.1", 8080), "http://127.0.0.1:8080");
    EXPECT_EQ(listen_url("0.0.0.0", 9000), "http://localhost:9000");
    EXPECT_EQ(listen_url("::", 9000), "http://localhost:9000");
    EXPECT_EQ(listen_url("::1", 8001), "http://[::1]:8001");
    EXPECT_EQ(listen_url("fe80::1%lo", 8001), "http://[fe80::1]:8001");
}

// Uploads (issue 14) have their own cap, independent of MAX_CONTENT_LENGTH,
// and an image pixel limit; bad values are reported like every other.
TEST(Config, UploadCapAndPixelLimit) {
    auto c = load_config(production()).config;
    EXPECT_EQ(c.max_upload_bytes, 20u * 1024 * 1024);
    EXPECT_EQ(c.max_image_pixels, 50'000'000u);
    auto env = production();
    env["MAX_UPLOAD_SIZE"] = "64M";
    env["MAX_IMAGE_PIXELS"] = "1000000";
    auto loaded = load_config(env);
    ASSERT_TRUE(loaded.problems.empty());
    EXPECT_EQ(loaded.config.max_upload_bytes, 64u * 1024 * 1024);
    EXPECT_EQ(loaded.config.max_content_length, 10u * 1024 * 1024);
    EXPECT_EQ(loaded.config.max_image_pixels, 1'000'000u);
    env["MAX_UPLOAD_SIZE"] = "lots";
    env["MAX_IMAGE_PIXELS"] = "0";
    loaded = load_config(env);
    EXPECT_TRUE(mentions(loaded.problems, "MAX_UPLOAD_SIZE"));
    EXPECT_TRUE(mentions(loaded.problems, "MAX_IMAGE_PIXELS"));
}

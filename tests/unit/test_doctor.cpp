// The judgements behind `starpunk doctor` that need no broken machine: disk
// thresholds, configuration findings, and a check that throws.
#include <gtest/gtest.h>

#include <stdexcept>

#include "monitoring/doctor.hpp"

using namespace starpunk;
using monitoring::Severity;

namespace {

config::LoadedConfig load(config::Environment env) { return config::load_config(env, config::Purpose::serve); }

config::Environment production_env() {
    return {{"SITE_URL", "https://example.com"}, {"ADMIN_ME", "https://example.com/"},
            {"SESSION_SECRET", std::string(40, 'k')}};
}

int count(const std::vector<monitoring::Finding>& fs, Severity s) {
    int n = 0;
    for (const auto& f : fs) n += f.severity == s;
    return n;
}

}  // namespace

TEST(Doctor, DiskUnderTheCriticalFloorIsAProblemUnderTenPercentAWarning) {
    const std::uint64_t gib = 1024ull * 1024 * 1024;
    auto full = monitoring::disk_findings({10 * 1024 * 1024, 100 * gib, 0.01}, "/data");
    ASSERT_EQ(full.size(), 1u);
    EXPECT_EQ(full[0].severity, Severity::problem);
    EXPECT_EQ(full[0].path, "/data");
    EXPECT_FALSE(full[0].fix.empty());
    auto low = monitoring::disk_findings({5 * gib, 100 * gib, 5.0}, "/data");
    EXPECT_EQ(low[0].severity, Severity::warning);
    auto fine = monitoring::disk_findings({50 * gib, 100 * gib, 50.0}, "/data");
    EXPECT_EQ(fine[0].severity, Severity::ok);
    EXPECT_NE(fine[0].message.find("51200.0 MiB free"), std::string::npos) << fine[0].message;
}

TEST(Doctor, AValidProductionConfigurationIsOk) {
    auto fs = monitoring::check_configuration(load(production_env()), "");
    EXPECT_EQ(count(fs, Severity::problem), 0);
    EXPECT_EQ(count(fs, Severity::warning), 0);
    ASSERT_FALSE(fs.empty());
    EXPECT_EQ(fs[0].severity, Severity::ok);
}

TEST(Doctor, EveryConfigurationProblemIsAFindingWithoutTheSecret) {
    auto env = production_env();
    env["SESSION_SECRET"] = "too-short-secret";
    env["HOST"] = "example.com";
    env["LOG_LEVEL"] = "LOUD";
    auto fs = monitoring::check_configuration(load(env), "");
    EXPECT_EQ(count(fs, Severity::problem), 2);
    EXPECT_EQ(count(fs, Severity::warning), 1);  // the short secret
    for (const auto& f : fs) {
        EXPECT_EQ(f.message.find("too-short-secret"), std::string::npos);
        if (f.severity != Severity::ok) {
            EXPECT_FALSE(f.fix.empty()) << f.message;
        }
    }
}

TEST(Doctor, ADotenvErrorIsAProblemAtDotenv) {
    auto fs = monitoring::check_configuration(load(production_env()), ".env line 3: expected KEY=VALUE");
    ASSERT_EQ(count(fs, Severity::problem), 1);
    EXPECT_EQ(fs[0].path, ".env");
}

TEST(Doctor, DevModeWithoutSiteUrlIsFineProductionWithoutItIsNot) {
    EXPECT_EQ(count(monitoring::check_configuration(load({{"DEV_MODE", "true"}}), ""), Severity::problem), 0);
    auto env = production_env();
    env.erase("SITE_URL");
    EXPECT_EQ(count(monitoring::check_configuration(load(env), ""), Severity::problem), 1);
}

TEST(Doctor, AThrowingCheckBecomesAProblemAndTheOthersStillRun) {
    auto report = monitoring::run_checks({
        {"first", [] { return std::vector<monitoring::Finding>{{"first", Severity::ok, "fine", {}, {}}}; }},
        {"broken", []() -> std::vector<monitoring::Finding> { throw std::runtime_error("boom"); }},
        {"last", [] { return std::vector<monitoring::Finding>{{"last", Severity::warning, "hm", {}, "do x"}}; }},
    });
    ASSERT_EQ(report.findings.size(), 3u);
    EXPECT_EQ(report.findings[1].check, "broken");
    EXPECT_EQ(report.findings[1].severity, Severity::problem);
    EXPECT_NE(report.findings[1].message.find("boom"), std::string::npos);
    EXPECT_FALSE(report.healthy());
    EXPECT_EQ(report.count(Severity::warning), 1);
}

// `starpunk set-totp` (issue 13): TOTP (RFC 6238) as the second factor of the
// owner's password login. Makes a new secret (libsodium randomness), stores it
// and prints it once — as an otpauth:// URI for an authenticator app and as
// base32 for typing in — on standard output, never in the log. `--remove`
// turns the second factor off. Either way every password session ends
// (auth/totp.hpp, invariant 4).
#include <spdlog/spdlog.h>

#include <cstdio>

#include "auth/indieauth.hpp"
#include "auth/totp.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"

namespace starpunk::cli {

int set_totp(bool remove) {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("cannot open storage: {}", storage.error().message);
        return kExitFailure;
    }
    auth::TotpStore totp(storage->pool, system_clock());
    if (remove) {
        if (auto st = totp.disable(); !st) {
            spdlog::error("TOTP could not be turned off: {}", st.error().message);
            return kExitFailure;
        }
        std::printf("TOTP turned off: the password alone logs in; password sessions ended\n");
        return kExitOk;
    }
    auto secret = totp.enable();
    if (!secret) {
        spdlog::error("TOTP could not be turned on: {}", secret.error().message);
        return kExitFailure;
    }
    const std::string account = cfg->admin_me.empty() ? cfg->site_url : cfg->admin_me;
    const std::string issuer = cfg->site_name.empty() ? std::string("StarPunk") : cfg->site_name;
    std::printf(
        "TOTP is on: after the password, /auth/login asks for the 6-digit code. Password sessions ended.\n"
        "Add this to your authenticator app (shown only now; run `starpunk set-totp` again for a new one):\n\n"
        "  %s\n\n"
        "or type in the secret: %s\n\n"
        "Turn it off with `starpunk set-totp --remove`.\n",
        auth::otpauth_uri(*secret, issuer, account).c_str(), secret->c_str());
    return kExitOk;
}

}  // namespace starpunk::cli

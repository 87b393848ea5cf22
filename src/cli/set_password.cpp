// `starpunk set-password` (issue 13): the owner's password for /auth/login.
// Read from the terminal without echo (asked twice), or as the first line of
// standard input when it is not a terminal — never from the command line,
// where other users and shell history would see it. `--remove` deletes it.
// Either way every password session ends (auth/password.hpp, invariant 3).
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "auth/password.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"

namespace starpunk::cli {

namespace {

// One line from stdin without its line ending; nullopt at end of input.
std::optional<std::string> read_line() {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

// Prompts on stderr and reads one line with echo off.
std::optional<std::string> read_hidden(const char* prompt) {
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
    termios old{};
    const bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    auto line = read_line();
    if (tty) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return line;
}

}  // namespace

int set_password(bool remove) {
    auto cfg = load_config_or_report(config::Purpose::maintenance);
    if (!cfg) return kExitUsage;
    auto storage = open_storage(*cfg);
    if (!storage) {
        spdlog::error("cannot open storage: {}", storage.error().message);
        return kExitFailure;
    }
    auth::PasswordStore store(storage->pool, system_clock());
    if (remove) {
        if (auto st = store.clear(); !st) {
            spdlog::error("the password could not be removed: {}", st.error().message);
            return kExitFailure;
        }
        std::printf("password removed; password sessions ended\n");
        return kExitOk;
    }
    std::optional<std::string> password;
    if (::isatty(STDIN_FILENO) == 1) {
        password = read_hidden("New password: ");
        auto again = read_hidden("Repeat it: ");
        if (password && again && *password != *again) {
            std::fprintf(stderr, "starpunk: the two passwords differ; nothing was changed\n");
            return kExitUsage;
        }
    } else {
        password = read_line();
    }
    if (!password) {
        std::fprintf(stderr, "starpunk: no password given (type it, or pipe it on standard input)\n");
        return kExitUsage;
    }
    if (auto rules = auth::check_password_rules(*password); !rules) {
        std::fprintf(stderr, "starpunk: %s Nothing was changed.\n", rules.error().message.c_str());
        return kExitUsage;
    }
    if (auto st = store.set(*password); !st) {
        spdlog::error("the password could not be stored: {}", st.error().message);
        return kExitFailure;
    }
    std::printf("password set (Argon2id); log in at %s/auth/login. Earlier password sessions ended.\n",
                cfg->site_url.c_str());
    return kExitOk;
}

}  // namespace starpunk::cli

// A scripted net::HttpClient for unit tests: answers by "METHOD url" and
// records every request. Thread-safe; an answer with a delay keeps the calling
// thread that long (without holding the fake's lock), like a slow server.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include "net/http_client.hpp"

namespace starpunk::testing {

class FakeHttpClient final : public net::HttpClient {
public:
    struct Answer {
        int status = 200;
        std::string body;
        net::Fields headers;
        std::string final_url;        // empty: the requested URL
        std::optional<Error> error;  // set: fetch fails with it
        std::chrono::milliseconds delay{0};
    };

    void on(net::Method method, const std::string& url, Answer answer) {
        std::lock_guard lock(mutex_);
        answers_[key(method, url)] = std::move(answer);
    }
    void on_get(const std::string& url, Answer answer) { on(net::Method::get, url, std::move(answer)); }
    void on_post(const std::string& url, Answer answer) { on(net::Method::post, url, std::move(answer)); }

    Result<net::HttpResponse> fetch(const net::HttpRequest& request) override {
        std::unique_lock lock(mutex_);
        requests_.push_back(request);
        auto it = answers_.find(key(request.method, request.url));
        if (it == answers_.end())
            return make_error(ErrorCode::io, "fake: nothing at " + net::url_for_log(request.url));
        const Answer a = it->second;
        if (a.delay.count() > 0) {
            lock.unlock();
            std::this_thread::sleep_for(a.delay);
        }
        if (a.error) return *a.error;
        net::HttpResponse r;
        r.status = a.status;
        r.body = a.body;
        for (const auto& [n, v] : a.headers) r.headers.add(n, v);
        r.final_url = a.final_url.empty() ? request.url : a.final_url;
        return r;
    }

    std::vector<net::HttpRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    size_t count(net::Method method, const std::string& url) const {
        std::lock_guard lock(mutex_);
        size_t n = 0;
        for (const auto& r : requests_) n += (r.method == method && r.url == url) ? 1 : 0;
        return n;
    }

private:
    static std::string key(net::Method m, const std::string& url) {
        return (m == net::Method::post ? "POST " : "GET ") + url;
    }
    mutable std::mutex mutex_;
    std::map<std::string, Answer> answers_;
    std::vector<net::HttpRequest> requests_;
};

}  // namespace starpunk::testing

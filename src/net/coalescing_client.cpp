// Outbound calls bounded and shared (see coalescing_client.hpp for the invariants).
#include "net/coalescing_client.hpp"

#include <fmt/format.h>

#include <exception>

#include "util/crypto.hpp"

namespace starpunk::net {

namespace {

// Only a GET without a body is safe to answer from another thread's request.
bool shareable(const HttpRequest& r) { return r.method == Method::get && r.form.empty(); }

// Header names and values cannot hold NUL (http_client.hpp refuses them), so
// NUL separates the parts unambiguously.
std::string request_key(const HttpRequest& r) {
    std::string text = r.url;
    for (const auto& [name, value] : r.headers) {
        text.push_back('\0');
        text += name;
        text.push_back('\0');
        text += value;
    }
    return sha256(text);
}

}  // namespace

CoalescingHttpClient::CoalescingHttpClient(HttpClient& inner, Options options)
    : inner_(inner), options_(options) {
    if (options_.max_threads == 0) options_.max_threads = 1;
}

Result<HttpResponse> CoalescingHttpClient::fetch(const HttpRequest& request) {
    {
        std::lock_guard lock(mutex_);
        if (in_use_ >= options_.max_threads) {
            return make_error(ErrorCode::busy,
                              fmt::format("{} outbound request(s) already in progress (the limit); {} not sent",
                                          in_use_, url_for_log(request.url)));
        }
        ++in_use_;
    }
    struct Release {
        CoalescingHttpClient& self;
        ~Release() {
            std::lock_guard lock(self.mutex_);
            --self.in_use_;
        }
    } release{*this};
    if (!shareable(request)) return inner_.fetch(request);
    return fetch_shared(request);
}

Result<HttpResponse> CoalescingHttpClient::fetch_shared(const HttpRequest& request) {
    const std::string key = request_key(request);
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
        std::lock_guard lock(mutex_);
        auto it = flights_.find(key);
        if (it != flights_.end()) {
            flight = it->second;
            ++shared_answers_;
        } else {
            flight = std::make_shared<Flight>();
            flights_.emplace(key, flight);
            leader = true;
        }
    }
    if (!leader) {
        std::unique_lock lock(flight->mutex);
        flight->done_cv.wait(lock, [&] { return flight->done; });
        return *flight->result;
    }

    // The leader: whatever happens, the waiters must be woken with an answer.
    std::optional<Result<HttpResponse>> result;
    try {
        result.emplace(inner_.fetch(request));
    } catch (const std::exception& e) {
        result.emplace(make_error(ErrorCode::internal, std::string("outbound request failed: ") + e.what()));
    } catch (...) {
        result.emplace(make_error(ErrorCode::internal, "outbound request failed"));
    }
    {
        std::lock_guard lock(mutex_);
        flights_.erase(key);
    }
    {
        std::lock_guard lock(flight->mutex);
        flight->result = *result;
        flight->done = true;
    }
    flight->done_cv.notify_all();
    return std::move(*result);
}

std::size_t CoalescingHttpClient::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_;
}

std::size_t CoalescingHttpClient::shared_answers() const {
    std::lock_guard lock(mutex_);
    return shared_answers_;
}

}  // namespace starpunk::net

// Shared pieces of the admin pages (web/handlers/admin_*.cpp): the page frame
// and the note ids in admin URLs. Admin pages are never cached (the finalize
// choke point adds no-store under /admin) and always show the admin navigation.
#pragma once

#include <optional>
#include <string_view>

#include "http/request.hpp"
#include "http/response.hpp"
#include "web/site.hpp"

namespace starpunk::web {

// Renders templates/<name>.mustache in the layout, with the session's CSRF
// token available to the template as {{csrf_token}}.
http::Response admin_page(const Site& site, const http::Request& req, int status, std::string title,
                          std::string_view name, TemplateData data);

// The {id} route parameter as a note id; nullopt when it is not a positive integer.
std::optional<int64_t> note_id_param(const http::Request& req);

// After a successful admin action: 303 to the list, with a notice key the list
// turns into a fixed message (nothing from the request is echoed).
http::Response back_to_list(std::string_view notice, std::string_view slug = {}, bool trash = false);

// The response for a failed notes-service call on an admin page.
http::Response admin_error(const Site& site, const http::Request& req, const Error& error);

}  // namespace starpunk::web

// POST /admin/delete/{id}, /admin/restore/{id}, /admin/purge/{id} — the trash.
// Delete is soft (the file stays); purge removes row and file and only works
// on a note already in the trash. The caches follow the notes service's
// change notification.
#include <spdlog/spdlog.h>

#include "web/admin_view.hpp"
#include "web/errors.hpp"
#include "web/handlers/handlers.hpp"

namespace starpunk::web::handlers {

namespace {

enum class TrashAction { remove, restore, purge };

http::Handler trash_action(std::shared_ptr<const Site> site, TrashAction action) {
    return [site = std::move(site), action](http::Request& req) {
        auto id = note_id_param(req);
        if (!id) return error_response(*site, req, 404, "There is no note with that number.");
        std::string slug;
        Status st;
        switch (action) {
            case TrashAction::remove: {
                auto n = site->notes.soft_delete(*id);
                if (n) slug = n->slug; else st = std::move(n).error();
                break;
            }
            case TrashAction::restore: {
                auto n = site->notes.restore(*id);
                if (n) slug = n->slug; else st = std::move(n).error();
                break;
            }
            case TrashAction::purge: st = site->notes.purge(*id); break;
        }
        if (!st) {
            if (is_storage_failure(st.error().code)) spdlog::error("admin trash action failed: {}", st.error().message);
            return admin_error(*site, req, st.error());
        }
        switch (action) {
            case TrashAction::remove: spdlog::info("admin moved note {} to the trash", slug); return back_to_list("deleted");
            case TrashAction::restore: spdlog::info("admin restored note {}", slug); return back_to_list("restored", slug);
            case TrashAction::purge: spdlog::info("admin purged note {}", *id); return back_to_list("purged", {}, true);
        }
        return back_to_list("updated");
    };
}

}  // namespace

http::Handler admin_delete(std::shared_ptr<const Site> site) { return trash_action(std::move(site), TrashAction::remove); }
http::Handler admin_restore(std::shared_ptr<const Site> site) { return trash_action(std::move(site), TrashAction::restore); }
http::Handler admin_purge(std::shared_ptr<const Site> site) { return trash_action(std::move(site), TrashAction::purge); }

}  // namespace starpunk::web::handlers

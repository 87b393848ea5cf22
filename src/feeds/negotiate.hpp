// Content negotiation for GET /feed (SPEC §6): which feed format answers an
// Accept header (RFC 9110 §12.5.1).
//
// Rules:
//   * Each format answers to these media types: RSS — application/rss+xml, and
//     the generic application/xml and text/xml; Atom — application/atom+xml;
//     JSON Feed — application/feed+json and application/json.
//   * A media type's weight is the q of the most specific range that matches it
//     (type/subtype over type/* over */*). A format's weight is its canonical
//     type's (the one it is served as) when a range names that type exactly,
//     else the best of its media types'. Weight 0 means "not acceptable", so
//     "application/rss+xml;q=0, application/xml" refuses RSS.
//   * The format with the highest weight wins; ties go to RSS, then Atom, then
//     JSON Feed. No Accept header, an empty one, or one in which no element
//     parses → RSS (an unparseable header is ignored, as RFC 9110 allows).
//   * Malformed elements (no "/", "*/x", bad tokens, q outside [0, 1] or with
//     more than three decimals) are skipped; parameters other than q are
//     ignored; matching is case-insensitive.
//   * Otherwise, when no format has a weight above 0: nullopt → 406.
// Pure, thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "feeds/writers.hpp"

namespace starpunk::feeds {

std::optional<Format> negotiate_format(std::optional<std::string_view> accept);

// "application/rss+xml, application/atom+xml, application/feed+json" (the 406 message).
std::string_view offered_media_types();

}  // namespace starpunk::feeds

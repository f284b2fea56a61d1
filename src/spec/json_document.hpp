#pragma once
// The JSON documents a user hands urun: config.json, an exec --process file, update
// --resources. Each is bounded in size when it is read and in nesting when it is parsed, and
// every parse error says where: the line and column of a syntax error, the JSON path (and the
// position) of a number no C type holds.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace urun::spec {

// A config with Podman's seccomp profile is about 20 KiB, a large Kubernetes pod's some hundred
// KiB. crun and runc read configs of any size: a 100 MB one costs them (and cost urun) more than
// twice that in memory before the first error.
inline constexpr size_t kMaxDocumentBytes = 4 << 20;
// Copying, printing and comparing a JSON value recurse once per level: a document a million
// levels deep overflows the stack. config.json needs about 8 levels.
inline constexpr size_t kMaxDocumentDepth = 128;

// The text of a document file: a regular file (never a FIFO urun would wait on, nor a device it
// would open) of at most kMaxDocumentBytes. Throws Error("read `path`: ...").
std::string read_document_file(const std::string& path);

// Parses a document. Throws Error with "malformed JSON at line L, column C: <reason>",
// "<path>: number 1e400 is out of range (line L, column C)" or "<path>: nested deeper than 128
// levels"; the caller names the document.
nlohmann::json parse_document(std::string_view text);

}  // namespace urun::spec

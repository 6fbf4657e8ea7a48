# Build step of the kafkawire command line: turns explorer.css and explorer.js into a header of two
# string constants (explorer_assets.hpp), so `kafkawire explain --html` writes one self-contained page.
#   cmake -DSRC=<this folder> -DOUT=<header> -P embed.cmake
file(READ ${SRC}/explorer.css css)
file(READ ${SRC}/explorer.js js)
foreach(part css js)
  string(FIND "${${part}}" ")KWX\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "explorer.${part} holds the raw-string delimiter )KWX\"")
  endif()
endforeach()
file(WRITE ${OUT}.tmp "// Generated from tools/kafkawire/explorer/ by embed.cmake: do not edit.\n#pragma once\n#include <string_view>\n"
  "namespace kafkawire::cli {\n"
  "inline constexpr std::string_view kExplorerCss = R\"KWX(${css})KWX\";\n"
  "inline constexpr std::string_view kExplorerJs = R\"KWX(${js})KWX\";\n"
  "}  // namespace kafkawire::cli\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)

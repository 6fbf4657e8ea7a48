// Writes the generated parts of the API documentation (see docs_gen.hpp), or checks them.
//   kafkawire-docs <source dir>            exit 1 and name the files that differ
//   kafkawire-docs <source dir> --update   rewrite them
#include <cstdio>

#include "apidocs/docs_gen.hpp"

int main(int argc, char** argv) {
  if (argc < 2 || (argc == 3 && std::string_view(argv[2]) != "--update") || argc > 3) {
    std::fprintf(stderr, "usage: kafkawire-docs <source dir> [--update]\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const bool update = argc == 3;
  const auto guide_path = root / "docs/api-guide.md", config_path = root / "docs/configuration.md";
  auto guide = kafkawire::docs::read_file(guide_path);
  if (!guide) {
    std::fprintf(stderr, "kafkawire-docs: cannot read %s\n", guide_path.c_str());
    return 1;
  }
  std::string problem;
  auto new_guide = kafkawire::docs::with_snippets(*guide, root, problem);
  if (!new_guide) {
    std::fprintf(stderr, "kafkawire-docs: %s\n", problem.c_str());
    return 1;
  }
  const std::pair<std::filesystem::path, std::string> files[] = {
      {guide_path, *new_guide}, {config_path, kafkawire::docs::config_markdown()}};
  int differ = 0;
  for (const auto& [path, text] : files) {
    if (kafkawire::docs::read_file(path) == text) continue;
    if (update) {
      std::ofstream(path, std::ios::binary) << text;
      std::printf("updated %s\n", path.c_str());
    } else {
      std::printf("%s differs from what it is generated from\n", path.c_str());
      ++differ;
    }
  }
  if (differ) std::printf("run: kafkawire-docs %s --update\n", root.c_str());
  return differ ? 1 : 0;
}

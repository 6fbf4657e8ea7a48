// Writes a seed corpus for each fuzz target from tests/golden/messages.txt:
//   fuzz-seeds <messages.txt> <out dir>  ->  <out dir>/<MessageName>/v<N>
// Each seed is the version byte the fuzz target expects, then the golden body.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "kafkawire/protocol/apis.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: fuzz-seeds <messages.txt> <out dir>\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::string name, hex;
  int version;
  int count = 0;
  while (in >> name >> version >> hex) {
    int16_t min_version = -1;
    kafkawire::protocol::for_each_message([&](auto type) {
      using M = typename decltype(type)::type;
      if (M::name == name) min_version = M::min_version;
    });
    if (min_version < 0) continue;
    const auto dir = std::filesystem::path(argv[2]) / name;
    std::filesystem::create_directories(dir);
    std::ofstream out(dir / ("v" + std::to_string(version)), std::ios::binary);
    out.put(static_cast<char>(version - min_version));
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
      out.put(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    ++count;
  }
  std::cout << count << " seeds\n";
  return count > 0 ? 0 : 1;
}

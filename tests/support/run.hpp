// Drives an io_context until a future is ready (or a bound passes), for tests of async operations.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <future>
#include <stdexcept>

namespace kafkawire::testing {

template <class T>
T run_until(boost::asio::io_context& io, std::future<T>& f,
            std::chrono::milliseconds bound = std::chrono::milliseconds(30000)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("operation did not complete in time");
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return f.get();
}

}  // namespace kafkawire::testing

// Makes the read loop of a Connection fail the way an allocation does, for the tests of what an exception
// there does to the connection, its requests and the client above it.
#pragma once

#include <cstdint>
#include <new>
#include <utility>

#include "kafkawire/net/connection.hpp"

namespace kafkawire::testing {

// Throws std::bad_alloc from the read loop's next frame allocation for a response to `api_key`, once, while
// it lives: a frame buffer that cannot be allocated, without allocating gigabytes to get there.
class FailNextFrameAllocation {
 public:
  explicit FailNextFrameAllocation(int16_t api_key) {
    net::testing::before_frame_allocation = [this, api_key](int16_t key, size_t) {
      if (key == api_key && !thrown_) {
        thrown_ = true;
        throw std::bad_alloc();
      }
    };
  }
  ~FailNextFrameAllocation() { net::testing::before_frame_allocation = nullptr; }
  FailNextFrameAllocation(const FailNextFrameAllocation&) = delete;
  FailNextFrameAllocation& operator=(const FailNextFrameAllocation&) = delete;
  bool thrown() const { return thrown_; }

 private:
  bool thrown_ = false;
};

}  // namespace kafkawire::testing

// The group library's sources live beside this file; this one keeps the target non-empty.
namespace kafkawire::group {}

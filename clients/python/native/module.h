// The pieces of mnemo._native, the Python client's native core (module.cc defines the module).
//
// Request and Response carry wire payloads between the encoders, the transport and the
// decoders without copying them into Python bytes.  Thread-safety: value types; the functions
// below REQUIRE the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "mnemo/client/types.h"

namespace mnemo::python {

namespace py = pybind11;

// One encoded Request payload (FlatBuffers, unframed) and the request id it carries; sent once
// (sending moves the payload out).
struct Request {
  uint64_t id = 0;
  std::string payload;
};

// One verified Response payload (FlatBuffers, unframed).
struct Response {
  std::string payload;
};

void DefineEncoders(py::module_& enc);  // encoders.cc
void DefineDecoders(py::module_& dec);  // decoders.cc
// The mnemo.models.ServerInfo of a handshake reply (decoders.cc).
py::object DecodeServerInfo(const client::ServerInfo& info);

}  // namespace mnemo::python

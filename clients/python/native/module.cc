// mnemo._native: the native core of the Python client.  It puts the C++ client's transport and
// codec (clients/cpp/src) under mnemo.Client and mnemo.AsyncClient:
//
//   Transport     the C++ connection pool behind the C++ client's router (one node at a time,
//                 NOT_PRIMARY redirects, several addresses), for the blocking mnemo.Client: call()
//                 writes and reads on a direct connection with the GIL released (or waits for the
//                 pipelined pool).
//   enc / dec     the encoders and decoders (encoders.cc, decoders.cc), for both clients.
//   split_frames  splits and verifies the responses an AsyncClient's connection received (its
//                 sockets are the event loop's own: mnemo._connection).
//   Request, Response   payloads passed between them without copies into Python bytes.
//
// Thread-safety: Transport.call() may run on many threads at once (it releases the GIL).
// REQUIRES: no call is in progress when close() runs.
#include "module.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "codec.h"
#include "protocol/frame.h"
#include "protocol/verify.h"
#include "py_values.h"
#include "router.h"

namespace mnemo::python {

namespace {

using client::internal::Router;
using client::internal::Transport;

client::Error ClosedError() {
  return client::Error{client::Code::kUnavailable, "client closed", ""};
}

class PyTransport {
 public:
  explicit PyTransport(client::ClientOptions options) : options_(std::move(options)) {}
  ~PyTransport() { ReleaseTransport(); }
  PyTransport(const PyTransport&) = delete;
  PyTransport& operator=(const PyTransport&) = delete;

  // Establishes the pool unless it is open (the handshake of every connection), GIL released.
  void Open() {
    std::optional<client::Error> failed;
    {
      py::gil_scoped_release release;
      std::lock_guard opening(open_mu_);  // one connect at a time; never taken with the GIL
      if (is_closed()) {
        failed = ClosedError();
      } else if (!Current()) {
        auto opened = Router::Open(options_);
        if (!opened.ok()) {
          failed = opened.error();
        } else {
          std::shared_ptr<Router> fresh(std::move(opened).value());
          std::lock_guard lock(ptr_mu_);
          if (closed_) {
            failed = ClosedError();  // `fresh` closes as it goes out of scope
          } else {
            transport_ = std::move(fresh);
          }
        }
      }
    }
    if (failed) Raise(*failed);
  }

  // Closes every connection for good; later calls raise UnavailableError.  Idempotent.
  void Close() {
    py::gil_scoped_release release;
    ReleaseTransport();
  }

  bool is_open() { return Current() != nullptr; }

  py::object server_info() {
    auto transport = Current();
    return transport ? DecodeServerInfo(transport->server_info()) : py::none();
  }

  uint64_t next_id() {
    auto transport = Current();
    return transport ? transport->NextRequestId() : fallback_ids_++;
  }

  // Sends `request` and returns its response, opening the pool first when needed.
  Response Call(Request& request, bool retry) {
    auto transport = Current();
    if (!transport) {
      Open();
      transport = Current();
      if (!transport) Raise(ClosedError());
    }
    std::optional<client::Result<std::string>> result;
    {
      py::gil_scoped_release release;
      result.emplace(
          transport->Call(request.id, std::move(request.payload),
                          retry ? Transport::Retry::kIfBroken : Transport::Retry::kNever));
    }
    if (!result->ok()) Raise(result->error());
    return Response{std::move(*result).value()};
  }

 private:
  std::shared_ptr<Router> Current() {
    std::lock_guard lock(ptr_mu_);
    return transport_;
  }
  bool is_closed() {
    std::lock_guard lock(ptr_mu_);
    return closed_;
  }

  void ReleaseTransport() {
    std::shared_ptr<Router> transport;
    {
      std::lock_guard lock(ptr_mu_);
      closed_ = true;
      transport = std::move(transport_);
    }
    transport.reset();  // joins the I/O thread
  }

  const client::ClientOptions options_;
  std::mutex open_mu_;  // serializes Open(); held while connecting, never with the GIL
  std::mutex ptr_mu_;   // guards the two below; held only briefly
  std::shared_ptr<Router> transport_;  // GUARDED_BY(ptr_mu_)
  bool closed_ = false;                // GUARDED_BY(ptr_mu_)
  uint64_t fallback_ids_ = 1;          // ids before the pool is open (never sent)
};

client::ClientOptions OptionsOf(const std::string& host, uint16_t port, const std::string& api_key,
                                const std::string& client_name, int pool_size,
                                double request_timeout, double connect_timeout,
                                uint32_t max_frame_bytes, bool direct_calls,
                                std::vector<std::string> addresses) {
  using std::chrono::milliseconds;
  client::ClientOptions options;
  options.host = host;
  options.port = port;
  options.api_key = api_key;
  options.client_name = client_name;
  options.pool_size = pool_size;
  options.request_timeout = milliseconds(static_cast<int64_t>(request_timeout * 1000));
  options.connect_timeout = milliseconds(static_cast<int64_t>(connect_timeout * 1000));
  options.max_frame_bytes = max_frame_bytes;
  options.direct_calls = direct_calls;
  options.addresses = std::move(addresses);
  return options;
}

py::tuple SplitFrames(py::buffer buffer, uint32_t max_frame_bytes) {
  const py::buffer_info info = buffer.request();
  const std::string_view data(static_cast<const char*>(info.ptr),
                              static_cast<size_t>(info.size * info.itemsize));
  py::list responses;
  size_t used = 0;
  py::object error = py::none();
  while (used < data.size()) {
    std::string_view payload;
    size_t consumed = 0;
    uint32_t announced = 0;
    const auto result = mnemo::protocol::ParseFrame(data.substr(used), max_frame_bytes, &payload,
                                                    &consumed, &announced);
    if (result == mnemo::protocol::FrameResult::kNeedMore) break;
    if (result != mnemo::protocol::FrameResult::kFrame) {
      error = py::str(result == mnemo::protocol::FrameResult::kTooLarge
                          ? "response frame of " + std::to_string(announced) +
                                " bytes exceeds max_frame_bytes"
                          : std::string("empty response frame"));
      break;
    }
    Response response{std::string(payload)};  // its own, aligned storage for the verifier
    std::string why;
    if (mnemo::protocol::VerifyResponse(response.payload, &why) == nullptr) {
      error = py::str("malformed response: " + why);
      break;
    }
    responses.append(py::cast(std::move(response)));
    used += consumed;
  }
  return py::make_tuple(std::move(responses), used, std::move(error));
}

}  // namespace
}  // namespace mnemo::python

// NOLINTNEXTLINE: the module's entry point, named by Python's rules
PYBIND11_MODULE(_native, m) {
  using namespace mnemo::python;  // NOLINT: the module's own names
  m.doc() = "The native core of the mnemo client (C++ transport and codec)";
  InitValues();

  py::class_<Request>(m, "Request")
      .def_readonly("id", &Request::id)
      .def_property_readonly("payload", [](const Request& r) { return py::bytes(r.payload); })
      .def_property_readonly(
          "frame",
          [](const Request& r) {
            std::string frame;
            frame.reserve(mnemo::protocol::kFrameHeaderBytes + r.payload.size());
            mnemo::protocol::AppendFrame(r.payload, &frame);
            return py::bytes(frame);
          },
          "The payload framed for the wire (u32 little-endian length first).")
      .def("__len__", [](const Request& r) { return r.payload.size(); });
  py::class_<Response>(m, "Response")
      .def_static(
          "from_bytes",
          [](const py::bytes& data) {
            Response response{std::string(data)};
            std::string why;
            if (mnemo::protocol::VerifyResponse(response.payload, &why) == nullptr) {
              Raise(mnemo::client::Error{mnemo::client::Code::kInternalError,
                                         "malformed response: " + why, ""});
            }
            return response;
          },
          "A verified Response from payload bytes (tests and tools).")
      .def_property_readonly("payload", [](const Response& r) { return py::bytes(r.payload); })
      .def_property_readonly(
          "id",
          [](const Response& r) {
            return flatbuffers::GetRoot<mnemo::wire::Response>(r.payload.data())->id();
          })
      .def_property_readonly(
          "primary_redirect",
          [](const Response& r) -> py::object {
            const auto* error =
                flatbuffers::GetRoot<mnemo::wire::Response>(r.payload.data())->error();
            if (error == nullptr ||
                mnemo::client::internal::CodeFromWire(error->code()) !=
                    mnemo::client::Code::kNotPrimary ||
                error->primary_address() == nullptr || error->primary_address()->size() == 0) {
              return py::none();
            }
            return py::str(error->primary_address()->str());
          },
          "The primary's \"host:port\" when this is a NOT_PRIMARY error naming one, else None.");

  m.def("split_frames", &SplitFrames, py::arg("buffer"), py::arg("max_frame_bytes"),
        "The whole response frames at the front of `buffer` (bytes-like): (responses, bytes used,\n"
        "error).  Stops at the first bad frame (empty, over max_frame_bytes, or a payload the\n"
        "verifier refuses) with its description in `error`; else error is None.");

  py::class_<PyTransport>(m, "Transport")
      .def(py::init([](const std::string& host, uint16_t port, const std::string& api_key,
                       const std::string& client_name, int pool_size, double request_timeout,
                       double connect_timeout, uint32_t max_frame_bytes, bool direct_calls,
                       const py::list& addresses) {
             std::vector<std::string> nodes;
             for (const py::handle address : addresses)
               nodes.push_back(py::cast<std::string>(address));
             return std::make_unique<PyTransport>(
                 OptionsOf(host, port, api_key, client_name, pool_size, request_timeout,
                           connect_timeout, max_frame_bytes, direct_calls, std::move(nodes)));
           }),
           py::arg("host"), py::arg("port"), py::arg("api_key"), py::arg("client_name"),
           py::arg("pool_size"), py::arg("request_timeout"), py::arg("connect_timeout"),
           py::arg("max_frame_bytes"), py::arg("direct_calls"), py::arg("addresses") = py::list())
      .def("open", &PyTransport::Open)
      .def("close", &PyTransport::Close)
      .def_property_readonly("is_open", &PyTransport::is_open)
      .def_property_readonly("server_info", &PyTransport::server_info)
      .def("next_id", &PyTransport::next_id)
      .def("call", &PyTransport::Call);

  py::module_ enc = m.def_submodule("enc", "Request encoders");
  DefineEncoders(enc);
  py::module_ dec = m.def_submodule("dec", "Response decoders");
  DefineDecoders(dec);
}

// mnemo._native: the native core of the Python client.  It puts the C++ client's transport and
// codec (clients/cpp/src) under mnemo.Client and mnemo.AsyncClient:
//
//   Transport   the C++ connection pool.  call() is the blocking path (the calling thread writes
//               and reads on a direct connection with the GIL released, or waits for the
//               pipelined pool); submit() is the asynchronous path: the outcome is queued and
//               completion_fd() (an eventfd) becomes readable, so an asyncio loop that watches
//               it collects every finished call with one drain().
//   enc / dec   the encoders and decoders (encoders.cc, decoders.cc).
//   Request, Response   payloads passed between them without copies into Python bytes.
//
// Thread-safety: Transport.call() may run on many threads at once (it releases the GIL);
// submit()/drain() belong to the one event loop of an AsyncClient.  REQUIRES: no call is in
// progress when close() runs.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "module.h"
#include "protocol/verify.h"
#include "py_values.h"
#include "transport.h"

namespace mnemo::python {


namespace {

using client::internal::Transport;

client::Error ClosedError() { return client::Error{client::Code::kUnavailable, "client closed", ""}; }

class PyTransport {
 public:
  explicit PyTransport(client::ClientOptions options) : options_(std::move(options)) {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~PyTransport() {
    ReleaseTransport();
    ::close(event_fd_);
  }
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
        auto opened = Transport::Open(options_);
        if (!opened.ok()) {
          failed = opened.error();
        } else {
          std::shared_ptr<Transport> fresh(std::move(opened).value());
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

  // Closes every connection for good; asynchronous calls still pending complete with
  // UnavailableError("client closed") in the next drain().  Idempotent.
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
      result.emplace(transport->Call(request.id, std::move(request.payload),
                                     retry ? Transport::Retry::kIfBroken : Transport::Retry::kNever));
    }
    if (!result->ok()) Raise(result->error());
    return Response{std::move(*result).value()};
  }

  // Starts `request`; drain() returns (token, outcome) when it finishes.  REQUIRES: open.
  void Submit(Request& request, bool retry, uint64_t token) {
    auto transport = Current();
    if (!transport) {
      Complete(token, ClosedError());
      return;
    }
    transport->CallAsync(request.id, std::move(request.payload),
                         retry ? Transport::Retry::kIfBroken : Transport::Retry::kNever,
                         [this, token](client::Result<std::string> outcome) { Complete(token, std::move(outcome)); });
  }

  int completion_fd() const { return event_fd_; }

  // The calls finished since the last drain, as (token, Response or exception) tuples.
  py::list Drain() {
    uint64_t ignored = 0;
    // Reset the eventfd before taking the queue: a completion queued after the swap below finds
    // the queue empty and signals again, so none is left unseen.
    while (::read(event_fd_, &ignored, sizeof(ignored)) < 0 && errno == EINTR) {
    }
    std::vector<std::pair<uint64_t, client::Result<std::string>>> finished;
    {
      std::lock_guard lock(done_mu_);
      finished.swap(done_);
    }
    py::list out(finished.size());
    for (size_t i = 0; i < finished.size(); ++i) {
      auto& [token, outcome] = finished[i];
      py::object value = outcome.ok() ? py::cast(Response{std::move(outcome).value()}) : ErrorObject(outcome.error());
      out[i] = py::make_tuple(token, std::move(value));
    }
    return out;
  }

 private:
  std::shared_ptr<Transport> Current() {
    std::lock_guard lock(ptr_mu_);
    return transport_;
  }
  bool is_closed() {
    std::lock_guard lock(ptr_mu_);
    return closed_;
  }

  void ReleaseTransport() {
    std::shared_ptr<Transport> transport;
    {
      std::lock_guard lock(ptr_mu_);
      closed_ = true;
      transport = std::move(transport_);
    }
    transport.reset();  // joins the I/O thread; pending asynchronous calls complete meanwhile
  }

  // On the transport's I/O thread (or the caller's, for a closed transport).
  void Complete(uint64_t token, client::Result<std::string> outcome) {
    bool first = false;
    {
      std::lock_guard lock(done_mu_);
      first = done_.empty();
      done_.emplace_back(token, std::move(outcome));
    }
    if (first) {
      const uint64_t one = 1;
      while (::write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
      }
    }
  }

  const client::ClientOptions options_;
  std::mutex open_mu_;  // serializes Open(); held while connecting, never with the GIL
  std::mutex ptr_mu_;   // guards the two below; held only briefly
  std::shared_ptr<Transport> transport_;  // GUARDED_BY(ptr_mu_)
  bool closed_ = false;                   // GUARDED_BY(ptr_mu_)
  uint64_t fallback_ids_ = 1;             // ids before the pool is open (never sent)
  int event_fd_ = -1;
  std::mutex done_mu_;
  std::vector<std::pair<uint64_t, client::Result<std::string>>> done_;  // GUARDED_BY(done_mu_)
};

client::ClientOptions OptionsOf(const std::string& host, uint16_t port, const std::string& api_key,
                                const std::string& client_name, int pool_size, double request_timeout,
                                double connect_timeout, uint32_t max_frame_bytes, bool direct_calls) {
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
  return options;
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
      .def("__len__", [](const Request& r) { return r.payload.size(); });
  py::class_<Response>(m, "Response")
      .def_static("from_bytes",
                  [](const py::bytes& data) {
                    Response response{std::string(data)};
                    std::string why;
                    if (mnemo::protocol::VerifyResponse(response.payload, &why) == nullptr) {
                      Raise(mnemo::client::Error{mnemo::client::Code::kInternalError, "malformed response: " + why, ""});
                    }
                    return response;
                  },
                  "A verified Response from payload bytes (tests and tools).")
      .def_property_readonly("payload", [](const Response& r) { return py::bytes(r.payload); });

  py::class_<PyTransport>(m, "Transport")
      .def(py::init(
               [](const std::string& host, uint16_t port, const std::string& api_key, const std::string& client_name,
                  int pool_size, double request_timeout, double connect_timeout, uint32_t max_frame_bytes,
                  bool direct_calls) {
                 return std::make_unique<PyTransport>(OptionsOf(host, port, api_key, client_name, pool_size,
                                                                request_timeout, connect_timeout, max_frame_bytes,
                                                                direct_calls));
               }),
           py::arg("host"), py::arg("port"), py::arg("api_key"), py::arg("client_name"), py::arg("pool_size"),
           py::arg("request_timeout"), py::arg("connect_timeout"), py::arg("max_frame_bytes"),
           py::arg("direct_calls"))
      .def("open", &PyTransport::Open)
      .def("close", &PyTransport::Close)
      .def_property_readonly("is_open", &PyTransport::is_open)
      .def_property_readonly("server_info", &PyTransport::server_info)
      .def("next_id", &PyTransport::next_id)
      .def("call", &PyTransport::Call)
      .def("submit", &PyTransport::Submit)
      .def("completion_fd", &PyTransport::completion_fd)
      .def("drain", &PyTransport::Drain);

  py::module_ enc = m.def_submodule("enc", "Request encoders");
  DefineEncoders(enc);
  py::module_ dec = m.def_submodule("dec", "Response decoders");
  DefineDecoders(dec);
}


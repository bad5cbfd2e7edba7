// Python <-> C++ values for the native core of the Python client (mnemo._native): reading the
// arguments and input dataclasses callers pass (mnemo.inputs) into the C++ client's value types,
// and building the Python answers (mnemo.models dataclasses, uuid.UUID, aware UTC datetimes,
// decoded JSON) and typed errors (mnemo.errors) from them.
//
// Argument readers raise mnemo.ValidationError naming the field, as the pure-Python checks do
// (mnemo._convert: to_uuid, to_micros, to_json, vector_bytes are called for the conversions
// they own, so each rule has one home).  Everything here REQUIRES the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mnemo/client/error.h"
#include "mnemo/client/types.h"

namespace mnemo::python {

namespace py = pybind11;

// Imports the Python objects used below.  Call once, from the module's initialization.
void InitValues();

// ---- errors -------------------------------------------------------------------------------------

// The mnemo.errors exception for a client Error: the class of its code, RequestTimeoutError for
// an expired deadline, InternalError for a code outside the table.
py::object ErrorObject(const client::Error& error);
// Raises ErrorObject(error) / mnemo.ValidationError(message, field).
[[noreturn]] void Raise(const client::Error& error);
[[noreturn]] void RaiseValidation(const std::string& message, const std::string& field);

// ---- arguments ----------------------------------------------------------------------------------

std::string Text(py::handle value, const std::string& field);               // str
std::optional<std::string> OptText(py::handle value, const std::string& field);  // str or None
std::string Json(py::handle value, const std::string& field);               // any JSON value
std::optional<std::string> OptJson(py::handle value, const std::string& field);  // None: absent
client::Uuid Id(py::handle value, const std::string& field);                // UUID or its text
std::optional<client::Uuid> OptId(py::handle value, const std::string& field);
int64_t Int(py::handle value, const std::string& field);                    // int64, not bool
std::optional<int64_t> OptInt(py::handle value, const std::string& field);
std::optional<client::Timestamp> OptMicros(py::handle value, const std::string& field);

// mnemo._convert.vector_bytes(value, field): the little-endian float32 bytes of an embedding,
// a view of the caller's array when it already is one (ValidationError otherwise).
py::object ToVectorBytes(py::handle value, const std::string& field);

// The float32 values of an embedding, read in place: `value` is what mnemo._convert.vector_bytes
// returned (a little-endian float32 byte view of the caller's array when it already was one).
// Keeps the buffer exported while it lives.
class FloatView {
 public:
  explicit FloatView(py::handle bytes_view);
  ~FloatView();
  FloatView(FloatView&& other) noexcept;
  FloatView(const FloatView&) = delete;
  FloatView& operator=(const FloatView&) = delete;
  FloatView& operator=(FloatView&&) = delete;
  std::span<const float> floats() const { return floats_; }

 private:
  Py_buffer buffer_{};
  bool held_ = false;
  std::span<const float> floats_;
};

// ---- answers ------------------------------------------------------------------------------------

py::object PyText(const std::string& text);  // InternalError when it is not UTF-8
py::object PyOptText(const std::optional<std::string>& text);
py::object PyUuid(const client::Uuid& id);
py::object PyTime(client::Timestamp micros);
py::object PyOptTime(const std::optional<client::Timestamp>& micros);
py::object PyOptInt(const std::optional<int64_t>& value);
// JSON text as Python values: None when absent or empty / {} when empty.
py::object PyJson(const std::optional<std::string>& text);
py::object PyJsonObject(const std::string& text);

// An interned Python string, made once per use site: MNEMO_NAME("id").
PyObject* InternOnce(const char* text);
#define MNEMO_NAME(literal)                                                      \
  ([]() -> PyObject* {                                                           \
    static PyObject* const interned = ::mnemo::python::InternOnce(literal);     \
    return interned;                                                             \
  }())

// A mnemo.models class, looked up once per use site: MNEMO_MODEL("Conversation").
PyObject* ModelClassOnce(const char* name);
#define MNEMO_MODEL(literal)                                                     \
  ([]() -> PyObject* {                                                           \
    static PyObject* const cls = ::mnemo::python::ModelClassOnce(literal);      \
    return cls;                                                                  \
  }())

// A field of a mnemo.models dataclass (they use __slots__): its name, and where instances keep
// it (the slot's offset, or -1 to go through setattr), resolved once per use site:
// MNEMO_FIELD("Conversation", "id").
struct Field {
  PyObject* name;
  Py_ssize_t offset;
};
Field FieldOnce(const char* model, const char* attribute);
#define MNEMO_FIELD(model, attribute)                                                   \
  ([]() -> const ::mnemo::python::Field& {                                              \
    static const ::mnemo::python::Field field = ::mnemo::python::FieldOnce(model, attribute); \
    return field;                                                                        \
  }())

// An instance of a mnemo.models dataclass without running __init__ (its fields are set one by
// one): NewModel(MNEMO_MODEL("Conversation")), then Set(object, MNEMO_FIELD(...), value).
py::object NewModel(PyObject* cls);
void Set(py::handle object, const Field& field, py::object value);

}  // namespace mnemo::python

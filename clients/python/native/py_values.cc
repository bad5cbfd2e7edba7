#include "py_values.h"

#include <datetime.h>
#include <structmember.h>

#include <cstring>
#include <string_view>
#include <utility>

#include "timeouts.h"

namespace mnemo::python {
namespace {

// The Python objects this file uses, imported once when the module loads (InitValues) and kept
// for the life of the process (never released: interpreter shutdown must not run destructors
// that touch Python).
struct Refs {
  py::handle errors;        // mnemo.errors
  py::handle models;        // mnemo.models
  py::handle to_json;       // mnemo._convert.to_json
  py::handle to_uuid;       // mnemo._convert.to_uuid
  py::handle to_micros;     // mnemo._convert.to_micros
  py::handle vector_bytes;  // mnemo._convert.vector_bytes
  py::handle json_loads;    // json.loads
  py::handle uuid_class;    // uuid.UUID
  py::handle safe_unknown;  // uuid.SafeUUID.unknown
  py::handle int_name;      // "int"
  py::handle is_safe_name;  // "is_safe"
};

Refs& refs() {
  static Refs instance;
  return instance;
}

[[noreturn]] void Throw(py::handle exception) {
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
  throw py::error_already_set();
}

py::object CallRaising(py::handle fn, py::handle value, const std::string& field) {
  return fn(value, field);  // raises mnemo.ValidationError (as error_already_set) on bad input
}

std::string TypeName(py::handle value) { return Py_TYPE(value.ptr())->tp_name; }

}  // namespace

void InitValues() {
  Refs& r = refs();
  r.errors = py::module_::import("mnemo.errors").release();
  r.models = py::module_::import("mnemo.models").release();
  py::module_ convert = py::module_::import("mnemo._convert");
  r.to_json = py::object(convert.attr("to_json")).release();
  r.to_uuid = py::object(convert.attr("to_uuid")).release();
  r.to_micros = py::object(convert.attr("to_micros")).release();
  r.vector_bytes = py::object(convert.attr("vector_bytes")).release();
  r.json_loads = py::object(py::module_::import("json").attr("loads")).release();
  py::module_ uuid = py::module_::import("uuid");
  r.uuid_class = py::object(uuid.attr("UUID")).release();
  r.safe_unknown = py::object(uuid.attr("SafeUUID").attr("unknown")).release();
  r.int_name = py::str("int").release();
  r.is_safe_name = py::str("is_safe").release();
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
}

// ---- errors -------------------------------------------------------------------------------------

py::object ErrorObject(const client::Error& error) {
  const py::handle errors = refs().errors;
  if (client::internal::IsTimeout(error)) {
    return errors.attr("RequestTimeoutError")(error.message);
  }
  py::object field = error.field.empty() ? py::none() : py::object(py::str(error.field));
  py::object primary_address =
      error.primary_address.empty() ? py::none() : py::object(py::str(error.primary_address));
  return errors.attr("error_for_code")(static_cast<int>(error.code), error.message, field,
                                       primary_address, error.primary_epoch);
}

void Raise(const client::Error& error) { Throw(ErrorObject(error)); }

void RaiseValidation(const std::string& message, const std::string& field) {
  Throw(refs().errors.attr("ValidationError")(message, field));
}

// ---- arguments ----------------------------------------------------------------------------------

std::string Text(py::handle value, const std::string& field) {
  if (!PyUnicode_Check(value.ptr()))
    RaiseValidation("must be a string, got " + TypeName(value), field);
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    RaiseValidation("is not valid text (unpaired surrogates?)", field);
  }
  return std::string(data, static_cast<size_t>(size));
}

std::optional<std::string> OptText(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return Text(value, field);
}

std::string Json(py::handle value, const std::string& field) {
  return Text(CallRaising(refs().to_json, value, field), field);
}

std::optional<std::string> OptJson(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return Json(value, field);
}

client::Uuid Id(py::handle value, const std::string& field) {
  py::object uuid;
  if (Py_TYPE(value.ptr()) == reinterpret_cast<PyTypeObject*>(refs().uuid_class.ptr())) {
    uuid = py::reinterpret_borrow<py::object>(value);
  } else {
    uuid = CallRaising(refs().to_uuid, value, field);
  }
  const py::object number = uuid.attr(refs().int_name);
  const uint64_t lo = PyLong_AsUnsignedLongLongMask(number.ptr());
  const py::object high =
      py::reinterpret_steal<py::object>(PyNumber_Rshift(number.ptr(), py::int_(64).ptr()));
  if (!high) throw py::error_already_set();
  const uint64_t hi = PyLong_AsUnsignedLongLongMask(high.ptr());
  if (PyErr_Occurred()) throw py::error_already_set();
  return client::Uuid::FromHalves(hi, lo);
}

std::optional<client::Uuid> OptId(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return Id(value, field);
}

int64_t Int(py::handle value, const std::string& field) {
  PyObject* object = value.ptr();
  if (PyBool_Check(object))
    RaiseValidation("must be an integer, got " + py::repr(value).cast<std::string>(), field);
  py::object number;
  if (PyLong_Check(object)) {
    number = py::reinterpret_borrow<py::object>(value);
  } else {
    // numbers.Integral that is not an int (e.g. numpy.int64): its __index__.
    number = py::reinterpret_steal<py::object>(PyNumber_Index(object));
    if (!number) {
      PyErr_Clear();
      RaiseValidation("must be an integer, got " + py::repr(value).cast<std::string>(), field);
    }
  }
  int overflow = 0;
  const long long result = PyLong_AsLongLongAndOverflow(number.ptr(), &overflow);
  if (overflow != 0)
    RaiseValidation("is out of range: " + py::repr(number).cast<std::string>(), field);
  if (result == -1 && PyErr_Occurred()) throw py::error_already_set();
  return result;
}

std::optional<int64_t> OptInt(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return Int(value, field);
}

std::optional<client::Timestamp> OptMicros(py::handle value, const std::string& field) {
  if (value.is_none()) return std::nullopt;
  return Int(CallRaising(refs().to_micros, value, field), field);
}

py::object ToVectorBytes(py::handle value, const std::string& field) {
  return CallRaising(refs().vector_bytes, value, field);
}

FloatView::FloatView(py::handle bytes_view) {
  if (PyObject_GetBuffer(bytes_view.ptr(), &buffer_, PyBUF_SIMPLE) != 0)
    throw py::error_already_set();
  held_ = true;
  // vector_bytes guarantees a contiguous little-endian float32 byte view (the host is little
  // endian, or it swapped); the pointer keeps the caller's alignment (numpy and array('f')
  // allocate aligned storage; the encoder copies with memcpy either way).
  floats_ = std::span<const float>(static_cast<const float*>(buffer_.buf),
                                   static_cast<size_t>(buffer_.len) / sizeof(float));
}

FloatView::~FloatView() {
  if (held_) PyBuffer_Release(&buffer_);
}

FloatView::FloatView(FloatView&& other) noexcept
    : buffer_(other.buffer_), held_(std::exchange(other.held_, false)), floats_(other.floats_) {}

// ---- answers ------------------------------------------------------------------------------------

py::object PyText(const std::string& text) {
  PyObject* decoded =
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
  if (decoded == nullptr) {
    PyErr_Clear();
    Throw(refs().errors.attr("InternalError")(
        "malformed response from server: text that is not UTF-8"));
  }
  return py::reinterpret_steal<py::object>(decoded);
}

py::object PyOptText(const std::optional<std::string>& text) {
  if (!text) return py::none();
  return PyText(*text);
}

py::object PyUuid(const client::Uuid& id) {
  // What uuid.UUID(int=...) builds, without its argument checks (the id is 128 bits by type).
  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(refs().uuid_class.ptr());
  py::object uuid = py::reinterpret_steal<py::object>(type->tp_alloc(type, 0));
  if (!uuid) throw py::error_already_set();
  const std::string_view bytes = id.bytes();  // big-endian, as UUID.int reads them
  py::object number = py::reinterpret_steal<py::object>(_PyLong_FromByteArray(
      reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), /*little_endian=*/0,
      /*is_signed=*/0));
  if (!number) throw py::error_already_set();
  if (PyObject_GenericSetAttr(uuid.ptr(), refs().int_name.ptr(), number.ptr()) != 0 ||
      PyObject_GenericSetAttr(uuid.ptr(), refs().is_safe_name.ptr(), refs().safe_unknown.ptr()) !=
          0) {
    throw py::error_already_set();
  }
  return uuid;
}

py::object PyTime(client::Timestamp micros) {
  // Civil date of a day count since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
  constexpr int64_t kMicrosPerDay = int64_t{86'400'000'000};
  int64_t days = micros / kMicrosPerDay;
  int64_t rest = micros % kMicrosPerDay;
  if (rest < 0) {
    rest += kMicrosPerDay;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const int64_t second_of_day = rest / 1'000'000;
  PyObject* time = PyDateTimeAPI->DateTime_FromDateAndTime(
      static_cast<int>(year), static_cast<int>(month), static_cast<int>(day),
      static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
      static_cast<int>(second_of_day % 60), static_cast<int>(rest % 1'000'000),
      PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType);
  if (time == nullptr) throw py::error_already_set();  // outside datetime's years 1..9999
  return py::reinterpret_steal<py::object>(time);
}

py::object PyOptTime(const std::optional<client::Timestamp>& micros) {
  if (!micros) return py::none();
  return PyTime(*micros);
}

py::object PyOptInt(const std::optional<int64_t>& value) {
  if (!value) return py::none();
  return py::int_(*value);
}

py::object PyJson(const std::optional<std::string>& text) {
  if (!text || text->empty()) return py::none();
  return refs().json_loads(PyText(*text));
}

py::object PyJsonObject(const std::string& text) {
  if (text.empty() || text == "{}") return py::dict();
  return refs().json_loads(PyText(text));
}

PyObject* InternOnce(const char* text) {
  PyObject* interned = PyUnicode_InternFromString(text);  // kept for the life of the process
  if (interned == nullptr) throw py::error_already_set();
  return interned;
}

PyObject* ModelClassOnce(const char* name) {
  PyObject* cls = PyObject_GetAttrString(refs().models.ptr(), name);  // kept for the process
  if (cls == nullptr) throw py::error_already_set();
  return cls;
}

py::object NewModel(PyObject* cls) {
  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(cls);
  py::object object = py::reinterpret_steal<py::object>(type->tp_alloc(type, 0));
  if (!object) throw py::error_already_set();
  return object;
}

Field FieldOnce(const char* model, const char* attribute) {
  Field field{InternOnce(attribute), -1};
  PyTypeObject* type = reinterpret_cast<PyTypeObject*>(ModelClassOnce(model));
  // A __slots__ entry is a member descriptor holding a Python object at a fixed offset.
  PyObject* descriptor = _PyType_Lookup(type, field.name);  // borrowed
  if (descriptor != nullptr && Py_TYPE(descriptor) == &PyMemberDescr_Type) {
    const PyMemberDef* member = reinterpret_cast<PyMemberDescrObject*>(descriptor)->d_member;
    if (member->type == T_OBJECT_EX && (member->flags & READONLY) == 0)
      field.offset = member->offset;
  }
  return field;
}

void Set(py::handle object, const Field& field, py::object value) {
  if (field.offset < 0) {
    if (PyObject_SetAttr(object.ptr(), field.name, value.ptr()) != 0) throw py::error_already_set();
    return;
  }
  // What the member descriptor's setter does, without looking it up again.
  PyObject** slot =
      reinterpret_cast<PyObject**>(reinterpret_cast<char*>(object.ptr()) + field.offset);
  PyObject* previous = *slot;
  *slot = value.release().ptr();
  Py_XDECREF(previous);
}

}  // namespace mnemo::python

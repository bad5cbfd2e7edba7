// SSE4.2 (no FMA): built with -msse4.2 only (see CMakeLists.txt).  Nothing but the explicit
// instantiation belongs here: see distance_impl.h and STYLE §7.
#include "kernels/distance_impl.h"

namespace mnemo::kernels::internal {

template struct ArchKernels<Sse42Arch>;

}  // namespace mnemo::kernels::internal

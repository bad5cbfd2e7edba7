// AVX2 + FMA: built with -mavx2 -mfma only (see CMakeLists.txt).  Nothing but the explicit
// instantiation belongs here: see distance_impl.h and STYLE §7.
#include "kernels/distance_impl.h"

namespace mnemo::kernels::internal {

template struct ArchKernels<Avx2Arch>;

}  // namespace mnemo::kernels::internal

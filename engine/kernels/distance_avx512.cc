// AVX-512 (F/DQ/BW/VL) + FMA: built with its own flags only (see CMakeLists.txt).  Nothing but
// the explicit instantiation belongs here: see distance_impl.h and STYLE §7.
#include "kernels/distance_impl.h"

namespace mnemo::kernels::internal {

template struct ArchKernels<Avx512Arch>;

}  // namespace mnemo::kernels::internal

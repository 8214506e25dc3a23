// Every conv2d micro-kernel of every backend (each file compiles to nothing without its flags).
#pragma once

#include "lightq/conv/detail/kernels_scalar.hpp"
#include "lightq/conv/detail/float_kernel.hpp"
#include "lightq/conv/avx2/q8_igemm_6x16c2.hpp"
#include "lightq/conv/avx512/q8_igemm_8x32c4.hpp"
#include "lightq/conv/neon/q8_igemm_4x16.hpp"
#include "lightq/conv/neon/q8_igemm_4x16c4_dotprod.hpp"

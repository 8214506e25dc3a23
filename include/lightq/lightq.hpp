// lightq umbrella header: includes every public header.
#pragma once

#include "lightq/config.hpp"
#include "lightq/version.hpp"
#include "lightq/core/arch.hpp"
#include "lightq/core/cpu_features.hpp"
#include "lightq/core/error.hpp"
#include "lightq/core/aligned.hpp"
#include "lightq/core/half.hpp"
#include "lightq/tensor/tensor_view.hpp"
#include "lightq/tensor/tensor.hpp"
#include "lightq/quant/requantize.hpp"
#include "lightq/quant/convert.hpp"
#include "lightq/conv/conv2d.hpp"
#include "lightq/conv/reference.hpp"
#include "lightq/attention/attention.hpp"
#include "lightq/attention/kv_cache.hpp"
#include "lightq/attention/reference.hpp"

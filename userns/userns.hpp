#pragma once
// Umbrella header of the urun-userns library.
#include "userns/holder.hpp"
#include "userns/idmap_option.hpp"
#include "userns/map_writer.hpp"
#include "userns/mapping.hpp"
#include "userns/subid.hpp"

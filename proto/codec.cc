#include "proto/codec.h"

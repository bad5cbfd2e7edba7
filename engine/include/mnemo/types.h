// Basic value types shared by every engine component: ids (mnemo::Uuid) and timestamps
// (mnemo::Timestamp, ISO-8601 text, month numbers), both defined in mnemo_base.
//
// Thread-safety: value types.
#pragma once

#include "mnemo/base/time.h"
#include "mnemo/base/uuid.h"
